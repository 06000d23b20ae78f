// The endpoint families the playground offers, as data: the package class that measures each
// (and the engine module it runs in), its base URL (or none), its form fields beyond the common
// ones (model, base URL, API key, extra headers), how a payload is checked, its presets, and
// where its requests go (for the CORS explanations). Adding a family is one entry here; the form
// renders its fields, the worker builds its class by name. No DOM here (the worker imports it too).
//
// A field: `{ option, label, type: "text" | "url" | "checkbox" | "password" | "select" | "json",
// value?, choices?, placeholder?, help?, secret?, required? }`. `option` is the class's option
// name; a `secret` field is kept in memory only, like the API key: never in share links, history
// or saved settings. An empty text field is left out of the options (the class's default
// applies); a `json` field (a text area) is parsed, and its option is the parsed value.

/** @typedef {{ option: string, label: string, type: "text" | "url" | "checkbox" | "password" | "select" | "json", value?: string | boolean, choices?: [string, string][], placeholder?: string, help?: string, secret?: boolean, required?: boolean }} Field */
/** @typedef {{ label: string, payload?: Record<string, unknown>, jsonl?: Record<string, unknown>[] }} Preset */
/** @typedef {import("./payload.js").PayloadRules} PayloadRules */
/**
 * The public configuration a family's request is derived from (form.js `publicConfig()`).
 * @typedef {{ baseUrl?: string, model?: string, familyOptions?: Record<string, unknown> }} PublicConfig
 */
/**
 * @typedef {Object} Family
 * @property {string} label
 * @property {string} className the package's endpoint class
 * @property {"aws"} [engine] the engine module the class runs in, when not the core one
 *   (`aws`: `pkg/aws.js`, loaded by the worker only for these families)
 * @property {{ value?: string, placeholder: string, help: string, required?: boolean } | null} baseUrl
 *   the `baseUrl` option's field (null: the family has none, e.g. a region field instead)
 * @property {string} [modelOption] the option the model field fills (default `model`)
 * @property {string} [modelLabel] the model field's label (default "Model")
 * @property {string} [modelPlaceholder]
 * @property {false} [keyField] false: the family takes no key in the common API key field (the
 *   AWS families have their own credential fields), which is hidden
 * @property {string} [keyPlaceholder]
 * @property {string} [headersPlaceholder]
 * @property {string} [note] shown under the fields (what the family means for this page)
 * @property {Field[]} fields
 * @property {PayloadRules | ((values: Record<string, unknown>) => PayloadRules)} payload what a
 *   payload must have (a function: it depends on the family's field values, e.g. a body format)
 * @property {Record<string, Preset> | ((values: Record<string, unknown>) => Record<string, Preset>)} presets
 * @property {(config: PublicConfig) => { base: string, path: string, headers: string[], exposed?: string[] }} request
 *   where its requests go and which headers they send, for CORS explanations (`exposed`: the
 *   response headers the engine reads beyond the safelisted ones)
 * @property {string} corsHelp how servers of this family are made to allow a page
 * @property {string} [probePath] a path under the base answered without credentials (default "/")
 */

const TTFT_VISIBLE = /** @type {Field} */ ({
  option: "ttftVisibleTokensOnly",
  label: "TTFT at the first visible text (not reasoning)",
  type: "checkbox",
  value: true,
  help: "Unticked, the first reasoning or thinking delta counts as the first token (LLMeter's ttft_visible_tokens_only=False).",
});

const PROXY_HELP = "Many servers have a switch for this (vLLM: --allowed-origins; Ollama: OLLAMA_ORIGINS), or put a reverse proxy in front that adds the headers.";
/** A URL family's requests: `{base URL}{path}`. @param {string} path @param {string[]} headers */
const underBase = (path, headers) => (/** @type {PublicConfig} */ c) => ({ base: c.baseUrl ?? "", path, headers });

// ---- AWS (Bedrock, SageMaker): the AWS engine module, SigV4 signing in the page ----

/** Region, endpoint URL and SigV4 credentials: every AWS family's fields. */
const AWS_FIELDS = /** @type {Field[]} */ ([
  { option: "region", label: "Region", type: "text", placeholder: "us-east-1", required: true },
  { option: "endpointUrl", label: "Endpoint URL (optional)", type: "url", placeholder: "regional endpoint", help: "Replaces the regional endpoint: a VPC endpoint, a proxy of your own, or llm-sim." },
  { option: "accessKeyId", label: "Access key ID", type: "password", placeholder: "AKIA…", secret: true },
  { option: "secretAccessKey", label: "Secret access key", type: "password", secret: true },
  { option: "sessionToken", label: "Session token (temporary credentials)", type: "password", secret: true },
]);
const BEDROCK_KEY = /** @type {Field} */ ({ option: "apiKey", label: "Bedrock API key (instead of access keys)", type: "password", placeholder: "ABSK…", secret: true });
const AWS_STREAM = /** @type {Field} */ ({ option: "stream", label: "Stream the response", type: "checkbox", value: true, help: "Unticked, the whole answer comes at once: no time to first token." });
const AWS_NOTE =
  "Requests are signed in this page (SigV4) with the keys you type, which stay in memory only: never saved, shared or exported, gone when the page closes. Keys in a page are readable by any script running in it (and by extensions): use short-lived credentials (STS) allowed only to invoke the model you measure.";
/** SigV4's headers (`x-amz-security-token` with a session token) and the JSON body's. */
const AWS_HEADERS = ["authorization", "content-type", "x-amz-date", "x-amz-security-token"];
/** The response headers the AWS engine reads: the request id (the response's id) and AWS's error code. */
const AWS_EXPOSED = ["x-amzn-requestid", "x-amzn-errortype"];
const AWS_CORS_HELP =
  "AWS's regional endpoints answer cross-origin requests themselves. A proxy or VPC endpoint in between (Endpoint URL) must add these headers, and pass requests on unchanged: the signature covers the host name and the headers (a Bedrock API key has no such constraint).";

/**
 * An AWS family's requests: the endpoint URL, else the regional endpoint of `host`.
 * @param {string} host e.g. `bedrock-runtime` @param {(name: string, stream: boolean, values: Record<string, unknown>) => { path: string, headers?: string[] }} route
 */
const awsRequest = (host, route) => (/** @type {PublicConfig} */ c) => {
  const v = c.familyOptions ?? {};
  const base = typeof v.endpointUrl === "string" && v.endpointUrl ? v.endpointUrl : `https://${host}.${typeof v.region === "string" && v.region ? v.region : "us-east-1"}.amazonaws.com`;
  // The engine sends a model id URI-encoded (`a:0` as `a%3A0`).
  const r = route(encodeURIComponent(c.model ?? ""), v.stream !== false, v);
  return { base, path: r.path, headers: [...AWS_HEADERS, ...(r.headers ?? [])], exposed: AWS_EXPOSED };
};

// ---- Your own API: CustomEndpoint in its declarative form (this page runs no typed-in code) ----

/** llm-sim's made-up generation API (`POST /v1/generate`, SSE): the custom family's defaults. */
const GENERATE_TEMPLATE = { prompt: "{{prompt}}", max_new_tokens: "{{maxTokens}}", stream: true };
const GENERATE_READ = {
  text: { event: "token", path: "text" },
  reasoning: { event: "think", path: "text" },
  id: "id",
  inputTokens: "prompt_tokens",
  outputTokens: "generated_tokens",
  error: "reason",
  done: { event: "end" },
};
const CUSTOM_NOTE =
  "Each run sends the payloads below as they are, to the URL. Each event is read with the paths: a.b, \"quoted key\", [0], [-1] or [] into its JSON data; {\"event\": …, \"path\": …} reads events of one type only (the SSE event name or the event stream's :event-type), and {\"event\": …} alone the event's raw data. Put credentials in Extra headers: their values are secrets, never saved or shared. The fields start filled for llm-sim's made-up generation API (POST /v1/generate).";

const PROMPT = "In two sentences, what is time to first token?";
const LONG = "Write a detailed explanation of how HTTP/2 multiplexing affects latency under load.";
/**
 * A short, a long and a mixed preset in one body shape (`make(text, maxTokens)`).
 * @param {(text: string, n: number) => Record<string, unknown>} make
 * @returns {Record<string, Preset>}
 */
const presetsOf3 = (make) => ({
  short: { label: "Short answer (64 tokens)", payload: make(PROMPT, 64) },
  long: { label: "Long answer (512 tokens)", payload: make(LONG, 512) },
  mixed: { label: "Mixed prompts (JSONL, 3 payloads)", jsonl: [make("Name three prime numbers.", 32), make("Summarise the plot of Moby-Dick in one paragraph.", 160), make("List ten uses for a paperclip, one per line.", 256)] },
});

/**
 * InvokeModel's bodies per `bodyFormat` (the body `createPayload` builds for each, docs/AWS.md)
 * and what each must have.
 * @type {Record<string, { label: string, make: (text: string, n: number) => Record<string, unknown>, rules: PayloadRules }>}
 */
const INVOKE_FORMATS = {
  openai: {
    label: "OpenAI Chat Completions (LLMeter's default)",
    make: (text, n) => ({ messages: [{ role: "user", content: [{ text, type: "text" }] }], max_tokens: n }),
    rules: { required: "messages", requiredText: 'no "messages" array, which this body format requires', limits: ["max_tokens", "max_completion_tokens"] },
  },
  anthropic: {
    label: "Anthropic Claude",
    make: (text, n) => ({ anthropic_version: "bedrock-2023-05-31", max_tokens: n, messages: [{ role: "user", content: [{ type: "text", text }] }] }),
    rules: { required: "messages", requiredText: 'no "messages" array, which Claude requires', limits: ["max_tokens"], limitRequired: true },
  },
  llama: {
    label: "Meta Llama",
    make: (text, n) => ({ prompt: text, max_gen_len: n }),
    rules: { required: "prompt", requiredText: 'no "prompt", which Llama requires', limits: ["max_gen_len"] },
  },
  nova: {
    label: "Amazon Nova",
    make: (text, n) => ({ schemaVersion: "messages-v1", messages: [{ role: "user", content: [{ text }] }], inferenceConfig: { maxTokens: n } }),
    rules: { required: "messages", requiredText: 'no "messages" array, which Nova requires', limits: ["inferenceConfig.maxTokens"] },
  },
  titan: {
    label: "Amazon Titan Text",
    make: (text, n) => ({ inputText: text, textGenerationConfig: { maxTokenCount: n } }),
    rules: { required: "inputText", requiredText: 'no "inputText", which Titan Text requires', limits: ["textGenerationConfig.maxTokenCount"] },
  },
};
/** The chosen body format's entry (unknown: LLMeter's default). @param {Record<string, unknown>} values */
const invokeFormat = (values) => INVOKE_FORMATS[/** @type {string} */ (values.bodyFormat)] ?? INVOKE_FORMATS.openai;

/** @type {Record<string, Family>} */
export const FAMILIES = {
  openai: {
    label: "OpenAI-compatible (Chat Completions)",
    className: "OpenAIEndpoint",
    keyPlaceholder: "sk-…",
    headersPlaceholder: "OpenAI-Organization: org-…",
    baseUrl: { required: true, placeholder: "https://api.openai.com/v1", help: "Including the version path; requests go to {base URL}/chat/completions." },
    fields: [],
    payload: { required: "messages", requiredText: 'no "messages" array, which Chat Completions requires', limits: ["max_tokens", "max_completion_tokens"] },
    request: underBase("/chat/completions", ["authorization", "content-type"]),
    corsHelp: PROXY_HELP,
    probePath: "/models",
    presets: {
      short: { label: "Short chat (64 tokens)", payload: { messages: [{ role: "user", content: "In two sentences, what is time to first token?" }], max_tokens: 64 } },
      long: {
        label: "Long answer (512 tokens)",
        payload: { messages: [{ role: "system", content: "You are a concise technical writer." }, { role: "user", content: "Write a detailed explanation of how HTTP/2 multiplexing affects latency under load." }], max_tokens: 512 },
      },
      mixed: {
        label: "Mixed prompts (JSONL, 3 payloads)",
        jsonl: [
          { messages: [{ role: "user", content: "Name three prime numbers." }], max_tokens: 32 },
          { messages: [{ role: "user", content: "Summarise the plot of Moby-Dick in one paragraph." }], max_tokens: 160 },
          { messages: [{ role: "user", content: "List ten uses for a paperclip, one per line." }], max_tokens: 256 },
        ],
      },
    },
  },
  "openai-responses": {
    label: "OpenAI Responses API",
    className: "OpenAIResponsesEndpoint",
    keyPlaceholder: "sk-…",
    headersPlaceholder: "OpenAI-Organization: org-…",
    baseUrl: { required: true, placeholder: "https://api.openai.com/v1", help: "Including the version path; requests go to {base URL}/responses." },
    fields: [TTFT_VISIBLE],
    payload: { required: "input", requiredText: 'no "input", which the Responses API requires', limits: ["max_output_tokens"] },
    request: underBase("/responses", ["authorization", "content-type"]),
    corsHelp: PROXY_HELP,
    probePath: "/models",
    presets: {
      short: { label: "Short answer (64 tokens)", payload: { input: "In two sentences, what is time to first token?", max_output_tokens: 64 } },
      instructions: { label: "With instructions (256 tokens)", payload: { instructions: "You are a concise technical writer.", input: "Explain how HTTP/2 multiplexing affects latency under load.", max_output_tokens: 256 } },
      reasoning: { label: "Reasoning model (effort low, summary)", payload: { input: "How many prime numbers are there below 50?", reasoning: { effort: "low", summary: "auto" }, max_output_tokens: 1024 } },
    },
  },
  anthropic: {
    label: "Anthropic Messages API",
    className: "AnthropicEndpoint",
    keyPlaceholder: "sk-ant-…",
    headersPlaceholder: "anthropic-beta: …",
    note: "Anthropic answers a browser page only when the request says anthropic-dangerous-direct-browser-access: true, which this page sends. It means your key is in this page: any script running here could read it. Use a key you can revoke, limited to this use.",
    baseUrl: { value: "https://api.anthropic.com/v1", placeholder: "https://api.anthropic.com/v1", help: "Including the version path; requests go to {base URL}/messages." },
    fields: [{ option: "anthropicVersion", label: "anthropic-version", type: "text", value: "2023-06-01" }, TTFT_VISIBLE],
    payload: { required: "messages", requiredText: 'no "messages" array, which the Messages API requires', limits: ["max_tokens"], limitRequired: true },
    request: underBase("/messages", ["x-api-key", "anthropic-version", "anthropic-dangerous-direct-browser-access", "content-type"]),
    corsHelp: "Anthropic's API allows pages whose requests carry anthropic-dangerous-direct-browser-access: true, which this page sends. A proxy in front of it must let these headers through, or add the ones above itself.",
    presets: {
      short: { label: "Short chat (64 tokens)", payload: { messages: [{ role: "user", content: "In two sentences, what is time to first token?" }], max_tokens: 64 } },
      system: { label: "With a system prompt (512 tokens)", payload: { system: "You are a concise technical writer.", messages: [{ role: "user", content: "Explain how HTTP/2 multiplexing affects latency under load." }], max_tokens: 512 } },
      thinking: { label: "Extended thinking (budget 1024)", payload: { messages: [{ role: "user", content: "How many prime numbers are there below 50?" }], max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 1024 } } },
    },
  },
  bedrockConverse: {
    label: "Amazon Bedrock Converse",
    className: "BedrockConverseEndpoint",
    engine: "aws",
    baseUrl: null,
    modelLabel: "Model ID",
    modelPlaceholder: "amazon.nova-micro-v1:0",
    keyField: false,
    note: AWS_NOTE,
    fields: [...AWS_FIELDS, BEDROCK_KEY, AWS_STREAM, TTFT_VISIBLE],
    payload: { required: "messages", requiredText: 'no "messages" array, which Converse requires', limits: ["inferenceConfig.maxTokens"] },
    presets: presetsOf3((text, n) => ({ messages: [{ role: "user", content: [{ text }] }], inferenceConfig: { maxTokens: n } })),
    request: awsRequest("bedrock-runtime", (model, stream) => ({ path: `/model/${model}/${stream ? "converse-stream" : "converse"}` })),
    corsHelp: AWS_CORS_HELP,
  },
  bedrockInvoke: {
    label: "Amazon Bedrock InvokeModel",
    className: "BedrockInvokeEndpoint",
    engine: "aws",
    baseUrl: null,
    modelLabel: "Model ID",
    modelPlaceholder: "anthropic.claude-3-haiku-20240307-v1:0",
    keyField: false,
    note: AWS_NOTE,
    fields: [
      ...AWS_FIELDS,
      BEDROCK_KEY,
      {
        option: "bodyFormat",
        label: "Body format",
        type: "select",
        value: "openai",
        choices: Object.entries(INVOKE_FORMATS).map(([value, f]) => [value, f.label]),
        help: "The model family's request body: it decides where the text and token counts are read, and the presets' shape.",
      },
      AWS_STREAM,
      TTFT_VISIBLE,
    ],
    payload: (values) => invokeFormat(values).rules,
    presets: (values) => presetsOf3(invokeFormat(values).make),
    // The stream's content type is asked for with x-amzn-bedrock-accept (InvokeModel: accept, safelisted).
    request: awsRequest("bedrock-runtime", (model, stream) => (stream ? { path: `/model/${model}/invoke-with-response-stream`, headers: ["x-amzn-bedrock-accept"] } : { path: `/model/${model}/invoke` })),
    corsHelp: AWS_CORS_HELP,
  },
  sagemaker: {
    label: "Amazon SageMaker endpoint (TGI / LMI)",
    className: "SageMakerEndpoint",
    engine: "aws",
    baseUrl: null,
    modelOption: "endpointName",
    modelLabel: "SageMaker endpoint name",
    modelPlaceholder: "my-tgi-endpoint",
    keyField: false,
    note: AWS_NOTE,
    fields: [...AWS_FIELDS, AWS_STREAM],
    payload: { required: "inputs", requiredText: 'no "inputs", which TGI and LMI containers require', limits: ["parameters.max_new_tokens"] },
    presets: presetsOf3((text, n) => ({ inputs: text, parameters: { max_new_tokens: n, details: true } })),
    request: awsRequest("runtime.sagemaker", (name, stream) => ({ path: `/endpoints/${name}/${stream ? "invocations-response-stream" : "invocations"}` })),
    corsHelp: AWS_CORS_HELP,
  },
  // Read paths run in the AWS engine module (the core module has no room for the path language).
  custom: {
    label: "Your own API (custom endpoint)",
    className: "CustomEndpoint",
    engine: "aws",
    baseUrl: null,
    modelLabel: "Model (recorded in results)",
    modelPlaceholder: "my-model",
    keyField: false,
    headersPlaceholder: "Authorization: Bearer …",
    note: CUSTOM_NOTE,
    fields: [
      { option: "url", label: "URL", type: "url", required: true, placeholder: "http://127.0.0.1:8000/v1/generate" },
      {
        option: "framing",
        label: "Framing",
        type: "select",
        value: "sse",
        choices: [
          ["sse", "Server-sent events"],
          ["json-lines", "JSON lines"],
          ["event-stream", "AWS event stream"],
        ],
      },
      { option: "read", label: "Read paths (JSON)", type: "json", value: JSON.stringify(GENERATE_READ, null, 2), help: "text (required), reasoning, id, inputTokens, outputTokens, error, done: where each event carries them." },
      { option: "payloadTemplate", label: "Body template (JSON)", type: "json", value: JSON.stringify(GENERATE_TEMPLATE, null, 2), help: 'The heatmap\'s payloads: "{{prompt}}" and "{{maxTokens}}" values are filled in.' },
      { option: "stream", label: "Stream the response", type: "checkbox", value: true, help: "Unticked, the whole body is read at once: no time to first token." },
      TTFT_VISIBLE,
    ],
    payload: { limits: [] },
    presets: presetsOf3((text, n) => ({ prompt: text, max_new_tokens: n, stream: true })),
    // The URL is where requests go; the probe asks it directly.
    request: (c) => ({ base: String(c.familyOptions?.url ?? ""), path: "", headers: [] }),
    corsHelp: PROXY_HELP,
    probePath: "",
  },
};

export const DEFAULT_FAMILY = "openai";

/** The family of a name (unknown names: the default). @param {unknown} name */
export const familyOf = (name) => FAMILIES[/** @type {string} */ (name)] ?? FAMILIES[DEFAULT_FAMILY];

/** A preset's editor text. @param {Preset} preset */
export function presetText(preset) {
  return preset.jsonl ? preset.jsonl.map((x) => JSON.stringify(x)).join("\n") : JSON.stringify(preset.payload, null, 2);
}

/**
 * A family's presets for its current field values (InvokeModel's follow the body format).
 * @param {Family} family @param {Record<string, unknown>} values
 */
export const presetsOf = (family, values) => (typeof family.presets === "function" ? family.presets(values) : family.presets);

/** What a family's payloads must have, for its current field values. @param {Family} family @param {Record<string, unknown>} values */
export const payloadRulesOf = (family, values) => (typeof family.payload === "function" ? family.payload(values) : family.payload);
