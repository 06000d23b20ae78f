// Runs llmeter-wasm's engine (the built pkg/) with the settings a Python test gives and writes
// the run's LLMeter files into a folder, so the test can load them with Python llmeter.
// Usage: node engine_run.mjs '<spec JSON>' <run folder>
//   spec: {"family": "openai" | "openai-responses" | "anthropic", "options": {...endpoint
//   options}, "run": {...Runner.run options}}
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { init, OpenAIEndpoint, OpenAIResponsesEndpoint, AnthropicEndpoint, Runner } from "../../pkg/index.js";

const CLASSES = { openai: OpenAIEndpoint, "openai-responses": OpenAIResponsesEndpoint, anthropic: AnthropicEndpoint };
const [specText, folder] = process.argv.slice(2);
const spec = JSON.parse(specText);
await init();
const endpoint = new CLASSES[spec.family](spec.options);
const result = await new Runner({ endpoint }).run(spec.run);
mkdirSync(folder, { recursive: true });
for (const [name, content] of Object.entries(result.toFiles())) writeFileSync(path.join(folder, name), content);
console.log(JSON.stringify({ responses: result.responses.length, failed: result.stats.failed_requests }));
