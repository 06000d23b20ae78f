// The endpoint families the playground offers, as data: the package class that measures each,
// its base URL (or none), its form fields beyond the common ones (model, base URL, API key,
// extra headers), how a payload is checked, and its presets. Adding a family is one entry here;
// the form renders its fields, the worker builds its class by name. No DOM here (the worker
// imports it too).
//
// A field: `{ option, label, type: "text" | "url" | "checkbox" | "password", value?, placeholder?,
// help?, secret? }`. `option` is the class's option name; a `secret` field is kept in memory
// only, like the API key: never in share links, history or saved settings.

/** @typedef {{ option: string, label: string, type: "text" | "url" | "checkbox" | "password", value?: string | boolean, placeholder?: string, help?: string, secret?: boolean, required?: boolean }} Field */
/** @typedef {{ label: string, payload?: Record<string, unknown>, jsonl?: Record<string, unknown>[] }} Preset */
/**
 * @typedef {Object} Family
 * @property {string} label
 * @property {string} className the package's endpoint class
 * @property {{ value?: string, placeholder: string, help: string, required?: boolean } | null} baseUrl
 *   the `baseUrl` option's field (null: the family has none, e.g. a region field instead)
 * @property {string} [keyPlaceholder]
 * @property {string} [headersPlaceholder]
 * @property {string} [note] shown under the fields (what the family means for this page)
 * @property {Field[]} fields
 * @property {{ required: string, requiredText: string, limits: string[], limitRequired?: boolean }} payload
 * @property {Record<string, Preset>} presets
 */

const TTFT_VISIBLE = /** @type {Field} */ ({
  option: "ttftVisibleTokensOnly",
  label: "TTFT at the first visible text (not reasoning)",
  type: "checkbox",
  value: true,
  help: "Unticked, the first reasoning or thinking delta counts as the first token (LLMeter's ttft_visible_tokens_only=False).",
});

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
    presets: {
      short: { label: "Short chat (64 tokens)", payload: { messages: [{ role: "user", content: "In two sentences, what is time to first token?" }], max_tokens: 64 } },
      system: { label: "With a system prompt (512 tokens)", payload: { system: "You are a concise technical writer.", messages: [{ role: "user", content: "Explain how HTTP/2 multiplexing affects latency under load." }], max_tokens: 512 } },
      thinking: { label: "Extended thinking (budget 1024)", payload: { messages: [{ role: "user", content: "How many prime numbers are there below 50?" }], max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 1024 } } },
    },
  },
};

export const DEFAULT_FAMILY = "openai";

/** The family of a name (unknown names: the default). @param {unknown} name */
export const familyOf = (name) => FAMILIES[/** @type {string} */ (name)] ?? FAMILIES[DEFAULT_FAMILY];

/** A preset's editor text. @param {Preset} preset */
export function presetText(preset) {
  return preset.jsonl ? preset.jsonl.map((x) => JSON.stringify(x)).join("\n") : JSON.stringify(preset.payload, null, 2);
}
