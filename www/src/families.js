// The endpoint families the playground offers, as data: which form fields each shows, which of
// the package's classes measures it (and in which engine module), its payload presets, and how
// its errors of reachability are explained. Pure data and functions (no DOM): the engine worker
// imports it too (to pick the class). Adding a family is one entry here.
import { PRESETS as CHAT_PRESETS } from "./payload.js";

/**
 * @typedef {Object} Preset
 * @property {string} label
 * @property {unknown} [payload] one payload
 * @property {unknown[]} [jsonl] several, as JSON lines
 */

/**
 * @typedef {Object} Family
 * @property {string} label
 * @property {string} className the package's endpoint class
 * @property {"core" | "aws"} engine the engine module it runs in (`aws`: `pkg/aws.js`)
 * @property {string[]} fields which `data-field` groups of the form it shows
 * @property {string} modelLabel what the model field holds
 * @property {string} modelPlaceholder
 * @property {Record<string, Preset>} presets
 * @property {string} requestPath the path of its requests, for CORS explanations
 * @property {string[]} requestHeaders the headers its requests send, for CORS explanations
 */

const AWS_FIELDS = ["aws", "aws-stream"];
const AWS_HEADERS = ["authorization", "content-type", "x-amz-date", "x-amz-security-token"];

const PROMPT = "In two sentences, what is time to first token?";
const LONG = "Write a detailed explanation of how HTTP/2 multiplexing affects latency under load.";

/** The three presets of every family: short, long and mixed, in its own body shape. */
function presets(make) {
  return {
    short: { label: "Short answer (64 tokens)", payload: make(PROMPT, 64) },
    long: { label: "Long answer (512 tokens)", payload: make(LONG, 512) },
    mixed: { label: "Mixed prompts (JSONL, 3 payloads)", jsonl: [make("Name three prime numbers.", 32), make("Summarise the plot of Moby-Dick in one paragraph.", 160), make("List ten uses for a paperclip, one per line.", 256)] },
  };
}

/** InvokeModel bodies per model family (what `createPayload` gives for each `bodyFormat`). */
const INVOKE_BODIES = {
  openai: (text, n) => ({ messages: [{ role: "user", content: [{ text, type: "text" }] }], max_tokens: n }),
  anthropic: (text, n) => ({ anthropic_version: "bedrock-2023-05-31", max_tokens: n, messages: [{ role: "user", content: [{ type: "text", text }] }] }),
  llama: (text, n) => ({ prompt: text, max_gen_len: n }),
  nova: (text, n) => ({ schemaVersion: "messages-v1", messages: [{ role: "user", content: [{ text }] }], inferenceConfig: { maxTokens: n } }),
  titan: (text, n) => ({ inputText: text, textGenerationConfig: { maxTokenCount: n } }),
};

/** @type {Record<string, Family>} */
export const FAMILIES = {
  openai: {
    label: "OpenAI-compatible (Chat Completions)",
    className: "OpenAIEndpoint",
    engine: "core",
    fields: ["base-url", "api-key"],
    modelLabel: "Model",
    modelPlaceholder: "gpt-4o-mini",
    presets: CHAT_PRESETS,
    requestPath: "/chat/completions",
    requestHeaders: ["authorization", "content-type"],
  },
  bedrockConverse: {
    label: "AWS Bedrock Converse",
    className: "BedrockConverseEndpoint",
    engine: "aws",
    fields: [...AWS_FIELDS, "bedrock-api-key", "ttft-visible"],
    modelLabel: "Model ID",
    modelPlaceholder: "amazon.nova-micro-v1:0",
    presets: presets((text, n) => ({ messages: [{ role: "user", content: [{ text }] }], inferenceConfig: { maxTokens: n } })),
    requestPath: "/model/{model}/converse-stream",
    requestHeaders: AWS_HEADERS,
  },
  bedrockInvoke: {
    label: "AWS Bedrock InvokeModel",
    className: "BedrockInvokeEndpoint",
    engine: "aws",
    fields: [...AWS_FIELDS, "bedrock-api-key", "ttft-visible", "body-format"],
    modelLabel: "Model ID",
    modelPlaceholder: "anthropic.claude-3-haiku-20240307-v1:0",
    presets: presets(INVOKE_BODIES.openai),
    requestPath: "/model/{model}/invoke-with-response-stream",
    requestHeaders: AWS_HEADERS,
  },
  sagemaker: {
    label: "AWS SageMaker endpoint (TGI / LMI)",
    className: "SageMakerEndpoint",
    engine: "aws",
    fields: AWS_FIELDS,
    modelLabel: "SageMaker endpoint name",
    modelPlaceholder: "my-tgi-endpoint",
    presets: presets((text, n) => ({ inputs: text, parameters: { max_new_tokens: n, details: true } })),
    requestPath: "/endpoints/{model}/invocations-response-stream",
    requestHeaders: AWS_HEADERS,
  },
};

/** The family of a name (unknown names: OpenAI). @param {string} name */
export const familyOf = (name) => FAMILIES[name] ?? FAMILIES.openai;

/**
 * A family's presets; InvokeModel's follow the chosen body format.
 * @param {string} name
 * @param {string} [bodyFormat]
 * @returns {Record<string, Preset>}
 */
export function presetsOf(name, bodyFormat) {
  if (name === "bedrockInvoke") return presets(INVOKE_BODIES[bodyFormat] ?? INVOKE_BODIES.openai);
  return familyOf(name).presets;
}

/** A preset as editor text. @param {Preset} p */
export const presetAsText = (p) => (p.jsonl ? p.jsonl.map((x) => JSON.stringify(x)).join("\n") : JSON.stringify(p.payload, null, 2));

/**
 * Where a family's requests go, for CORS explanations: `{base, path}`.
 * @param {string} name
 * @param {{baseUrl?: string, awsEndpointUrl?: string, region?: string, model?: string}} config
 */
export function requestTarget(name, config) {
  const family = familyOf(name);
  if (family.engine !== "aws") return { base: config.baseUrl ?? "", path: family.requestPath };
  const host = name === "sagemaker" ? "runtime.sagemaker" : "bedrock-runtime";
  const base = config.awsEndpointUrl || `https://${host}.${config.region || "us-east-1"}.amazonaws.com`;
  return { base, path: family.requestPath.replace("{model}", encodeURIComponent(config.model ?? "")) };
}
