// Result.fromFiles parses responses.jsonl / chunk_timings.jsonl in steps with yields between
// them (a large run loads without freezing the page): same result for any step size and for
// pieces cut anywhere (inside a line, between a surrogate pair's halves), same errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startSim } from "./sim.js";
import { OpenAIEndpoint, Runner, Result } from "../../pkg/index.js";

let sim;
/** @type {Record<string, string>} */
let files;
before(async () => {
  sim = await startSim(["--ttft-ms", "5", "--itl-ms", "1", "--seed", "3"]);
  const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model" }) });
  const result = await runner.run({ clients: 3, nRequests: 20, payload: { messages: [{ role: "user", content: "hi" }], max_tokens: 6 }, runName: "pieces" });
  files = result.toFiles();
  // Non-BMP text, so cuts can fall between the halves of a surrogate pair.
  const lines = files["responses.jsonl"].split("\n");
  const first = JSON.parse(lines[0]);
  first.response_text = `😀 ${first.response_text} 𝄞`;
  lines[0] = JSON.stringify(first);
  files["responses.jsonl"] = lines.join("\n");
});
after(async () => sim?.stop());

/** @param {string} text @param {number} size */
function* cut(text, size) {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

test("any step size and any piece cuts give the same result as one step", async () => {
  const whole = (await Result.fromFiles(files, { yieldEvery: Infinity })).toJSON();
  assert.equal(whole.responses.length, 60);
  assert.equal(whole.timings.length, 60);
  assert.ok(whole.responses[0].response_text.startsWith("😀 "));
  assert.equal(whole.stats.total_requests, 60);
  for (const yieldEvery of [1, 7, 2000]) {
    assert.deepEqual((await Result.fromFiles(files, { yieldEvery })).toJSON(), whole, `yieldEvery ${yieldEvery}`);
  }
  for (const size of [1, 5, 333]) {
    const pieces = {
      ...files,
      "responses.jsonl": (async function* () { yield* cut(files["responses.jsonl"], size); })(),
      "chunk_timings.jsonl": cut(files["chunk_timings.jsonl"], size),
    };
    assert.deepEqual((await Result.fromFiles(pieces, { yieldEvery: 3 })).toJSON(), whole, `${size}-char pieces`);
  }
});

test("the event loop runs between steps", async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  try {
    await Result.fromFiles(files, { yieldEvery: 1 });
  } finally {
    clearInterval(timer);
  }
  assert.ok(ticks > 0, "no timer ran during the load");
});

test("a bad line gives the same line-numbered error in steps and in pieces", async () => {
  const lines = files["responses.jsonl"].split("\n");
  lines[41] = '{"response_text": 7}';
  const broken = { ...files, "responses.jsonl": lines.join("\n") };
  const message = "responses.jsonl line 42: `response_text` must be a string, found a number";
  await assert.rejects(Result.fromFiles(broken, { yieldEvery: Infinity }), { message });
  await assert.rejects(Result.fromFiles(broken, { yieldEvery: 5 }), { message });
  await assert.rejects(Result.fromFiles({ ...broken, "responses.jsonl": cut(broken["responses.jsonl"], 17) }), { message });
});

test("bad options and contents are named", async () => {
  for (const yieldEvery of [0, -1, 1.5, NaN, "10"]) {
    await assert.rejects(Result.fromFiles(files, /** @type {any} */ ({ yieldEvery })), RangeError);
  }
  await assert.rejects(Result.fromFiles({ ...files, "responses.jsonl": /** @type {any} */ (42) }), { name: "TypeError", message: /files\["responses.jsonl"\]/ });
  await assert.rejects(Result.fromFiles({ ...files, "responses.jsonl": /** @type {any} */ ([1, 2]) }), { name: "TypeError", message: /pieces must be strings/ });
});
