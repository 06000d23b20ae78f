// The configuration form: presets, the payload editor, remembered settings, and turning the form
// into the worker's start message (or showing what is wrong, field by field).
import { parsePayloadText, parseHeaders } from "./payload.js";
import { FAMILIES, familyOf, presetsOf, presetAsText } from "./families.js";
import { encodeShare } from "./share.js";
import { $, showProblem } from "./dom.js";

const KEY_STORAGE = "llmeter.apiKey";
const FORM_STORAGE = "llmeter.form";
const CHECKED_FIELDS = ["base-url", "model", "clients", "amount", "timeout", "aws-region", "aws-endpoint-url", "aws-access-key-id", "aws-secret-access-key"];

/** The chosen endpoint family (an entry of `FAMILIES`). */
const familyName = () => $("endpoint-type").value;

/** The chosen experiment: a run or load test, or the latency heatmap (when the package has it). */
export const experiment = () => (document.querySelector('input[name="experiment"]:checked')?.value === "heatmap" && !$("experiment-choice").hidden ? "heatmap" : "load");
const mode = () => /** @type {HTMLInputElement} */ (document.querySelector('input[name="mode"]:checked')).value;

/** The configuration without secrets: what share links, history and exports carry. */
export function publicConfig() {
  const headers = parseHeaders($("headers").value);
  // Region and AWS credentials are not here: they stay in memory only.
  return {
    endpointType: familyName(),
    baseUrl: $("base-url").value.trim(),
    awsEndpointUrl: $("aws-endpoint-url").value.trim(),
    stream: $("aws-stream").checked,
    ttftVisibleTokensOnly: $("ttft-visible").checked,
    bodyFormat: $("body-format").value,
    model: $("model").value.trim(),
    headerNames: headers.ok ? Object.keys(headers.headers) : [],
    payload: $("payload").value,
    clients: $("clients").value.trim(),
    mode: mode(),
    amount: Number($("amount").value),
    timeout: Number($("timeout").value),
    runName: $("run-name").value.trim(),
    experiment: experiment(),
    heatmap: { source: $("hm-source").value, inputs: $("hm-inputs").value, outputs: $("hm-outputs").value, perCell: $("hm-per-cell").value, clients: $("hm-clients").value, tokenizer: $("hm-tokenizer").value, tokenizerUrl: $("hm-tok-url").value },
  };
}

/** The family and body format whose fields and presets the form shows. */
let shown = { family: "openai", bodyFormat: "openai" };

/** The editor text of a preset of the chosen family. @param {string} name */
const familyPresetText = (name) => {
  const p = presetsOf(familyName(), $("body-format").value)[name];
  return p ? presetAsText(p) : null;
};

/**
 * Shows the chosen family's fields and presets. When the editor held one of the previously shown
 * family's presets, untouched, it gets the new family's first preset.
 */
export function updateFamily() {
  const family = familyOf(familyName());
  const before = Object.values(presetsOf(shown.family, shown.bodyFormat)).map(presetAsText);
  const switchPayload = before.includes($("payload").value);
  shown = { family: familyName(), bodyFormat: $("body-format").value };
  for (const el of document.querySelectorAll("[data-field]")) el.hidden = !family.fields.includes(/** @type {HTMLElement} */ (el).dataset.field ?? "");
  $("model-label").textContent = family.modelLabel;
  $("model").placeholder = family.modelPlaceholder;
  const select = $("preset");
  while (select.options.length > 1) select.remove(1);
  for (const [value, p] of Object.entries(presetsOf(shown.family, shown.bodyFormat))) select.append(new Option(p.label, value));
  if (switchPayload) {
    $("payload").value = familyPresetText("short") ?? $("payload").value;
    validatePayload();
  }
}

/** Shows the fields of the chosen experiment and of the chosen source/tokenizer. */
export function updateExperiment() {
  const heatmap = experiment() === "heatmap";
  $("heatmap-fields").hidden = !heatmap;
  $("load-fields").hidden = heatmap;
  $("payload-section").hidden = heatmap; // the heatmap makes its own prompts
  $("run-step").textContent = heatmap ? "2" : "3";
  $("hm-file-label").hidden = $("hm-source").value !== "file";
  $("hm-tok-url-label").hidden = $("hm-tokenizer").value !== "url";
  $("hm-tok-file-label").hidden = $("hm-tokenizer").value !== "file";
}

function updateMode() {
  $("amount-label").textContent = mode() === "duration" ? "Seconds per client" : "Requests per client";
}

/** Fills the form from a share link or remembered settings (text fields as text only). */
function applyConfig(c) {
  if (!c || typeof c !== "object") return;
  const set = (id, v) => v !== undefined && v !== null && typeof v !== "object" && ($(id).value = String(v));
  if (typeof c.endpointType === "string" && c.endpointType in FAMILIES) set("endpoint-type", c.endpointType);
  set("base-url", c.baseUrl);
  set("aws-endpoint-url", c.awsEndpointUrl);
  if (["openai", "anthropic", "llama", "nova", "titan"].includes(c.bodyFormat)) set("body-format", c.bodyFormat);
  if (typeof c.stream === "boolean") $("aws-stream").checked = c.stream;
  if (typeof c.ttftVisibleTokensOnly === "boolean") $("ttft-visible").checked = c.ttftVisibleTokensOnly;
  updateFamily();
  set("model", c.model);
  set("payload", c.payload);
  set("clients", c.clients);
  set("amount", c.amount);
  set("timeout", c.timeout);
  set("run-name", c.runName);
  if (Array.isArray(c.headerNames) && c.headerNames.length && !$("headers").value) $("headers").value = c.headerNames.filter((h) => typeof h === "string").map((h) => `${h}: `).join("\n");
  if (c.mode === "duration" || c.mode === "requests") document.querySelector(`input[name="mode"][value="${c.mode}"]`).checked = true;
  const h = c.heatmap;
  if (h && typeof h === "object") {
    if (["bundled", "file"].includes(h.source)) $("hm-source").value = h.source;
    if (["whitespace", "url", "file"].includes(h.tokenizer)) $("hm-tokenizer").value = h.tokenizer;
    set("hm-inputs", h.inputs);
    set("hm-outputs", h.outputs);
    set("hm-per-cell", h.perCell);
    set("hm-clients", h.clients);
    set("hm-tok-url", h.tokenizerUrl);
  }
  if (c.experiment === "heatmap") document.querySelector('input[name="experiment"][value="heatmap"]').checked = true;
  updateExperiment();
  updateMode();
  validatePayload();
}

/** Remembers the public configuration (and the key in this tab only, when asked). */
export function saveForm() {
  try {
    localStorage.setItem(FORM_STORAGE, JSON.stringify(publicConfig()));
  } catch {}
  if ($("remember-key").checked) sessionStorage.setItem(KEY_STORAGE, $("api-key").value);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** Checks the payload editor and marks the line of the first problem. */
export function validatePayload() {
  const text = $("payload").value;
  const check = parsePayloadText(text);
  const status = $("payload-status");
  const lines = text.split("\n").length;
  const gutter = [];
  for (let i = 1; i <= Math.max(lines, 1); i++) gutter.push(!check.ok && check.line === i ? `▶${i}` : String(i));
  $("payload-gutter").textContent = gutter.join("\n");
  $("payload").setAttribute("aria-invalid", String(!check.ok));
  status.classList.toggle("error", !check.ok);
  if (check.ok) {
    const n = check.payloads.length;
    status.textContent = `✓ ${n} payload${n === 1 ? "" : "s"} (${check.format === "jsonl" ? "JSONL" : "JSON"}). ${check.notes.join(" ")}`;
  } else {
    status.textContent = check.message;
  }
  return check;
}

/** Lengths like "10, 50, 200". @returns {number[] | null} */
function parseLengths(text) {
  const xs = String(text).split(/[\s,;]+/).filter(Boolean).map(Number);
  return xs.length && xs.length <= 12 && xs.every((n) => Number.isInteger(n) && n >= 1 && n <= 100000) ? xs : null;
}

/** "4" → [4]; "1, 2, 4" → a load test's levels. @returns {number[] | null} */
function parseLevels(text) {
  const levels = String(text).split(/[\s,;]+/).filter(Boolean).map(Number);
  if (!levels.length || levels.length > 20 || !levels.every((n) => Number.isInteger(n) && n >= 1 && n <= 1000)) return null;
  return levels;
}

/** The heatmap's part of the worker message; problems are pushed as [field id, message]. */
async function buildHeatmap(problems) {
  const inputLengths = parseLengths($("hm-inputs").value), outputLengths = parseLengths($("hm-outputs").value);
  if (!inputLengths) problems.push(["hm-inputs", "Input lengths must be whole numbers of tokens, e.g. 10, 50, 200, 500."]);
  if (!outputLengths) problems.push(["hm-outputs", "Output lengths must be whole numbers of tokens, e.g. 16, 64, 256."]);
  const perCell = Number($("hm-per-cell").value), clients = Number($("hm-clients").value);
  if (!(Number.isInteger(perCell) && perCell >= 1)) problems.push(["hm-per-cell", "Requests per cell must be a whole number ≥ 1."]);
  if (!(Number.isInteger(clients) && clients >= 1 && clients <= 1000)) problems.push(["hm-clients", "Clients must be a whole number from 1 to 1000."]);
  let sourceText = "";
  if ($("hm-source").value === "file") {
    const f = $("hm-file").files[0];
    if (!f) problems.push(["hm-file", "Choose a text file for the prompts, or use the bundled text."]);
    else sourceText = await f.text();
  } else {
    const res = await fetch(new URL("./texts/lighthouse.txt", import.meta.url));
    sourceText = res.ok ? await res.text() : "";
    if (!sourceText) problems.push(["hm-source", "The bundled text could not be loaded."]);
  }
  let tokenizer = { kind: "whitespace" };
  if ($("hm-tokenizer").value === "url") {
    const url = $("hm-tok-url").value.trim();
    if (!/^https?:\/\//.test(url)) problems.push(["hm-tok-url", "The tokenizer URL must be an http(s) URL of a tokenizer.json."]);
    tokenizer = { kind: "url", url };
  } else if ($("hm-tokenizer").value === "file") {
    const f = $("hm-tok-file").files[0];
    if (!f) problems.push(["hm-tok-file", "Choose a tokenizer.json file."]);
    else tokenizer = { kind: "json", json: await f.text(), name: f.name };
  }
  return { heatmap: { sourceText, inputLengths, outputLengths, requestsPerCombination: perCell, clients }, tokenizer };
}

/**
 * @typedef {Object} BuiltRun
 * @property {any} message the worker's start message
 * @property {string} runName the name asked for, or "" (the engine names it)
 * @property {number[]} levels clients per level
 * @property {number | null} durationS seconds per client of a time-bound run
 */

/**
 * Reads and checks the whole form. Every check runs before anything starts, so a bad value
 * (a share link's payload included) never leaves a half-started run behind.
 * @returns {Promise<BuiltRun | null>} null after showing what is wrong
 */
/** @param {string} url */
const isHttpUrl = (url) => {
  try {
    return /^https?:$/.test(new URL(url).protocol);
  } catch {
    return false;
  }
};

/**
 * The endpoint options of the chosen family; problems are pushed as [field id, message].
 * @param {Array<[string, string]>} problems
 * @param {Record<string, string>} headers
 */
function endpointOptions(problems, headers) {
  const name = familyName();
  const family = familyOf(name);
  const model = $("model").value.trim();
  if (!model) problems.push(["model", `${family.modelLabel} is required.`]);
  if (family.engine !== "aws") {
    const baseUrl = $("base-url").value.trim();
    if (!isHttpUrl(baseUrl)) problems.push(["base-url", "Base URL must be an http:// or https:// URL, e.g. https://api.openai.com/v1."]);
    return { baseUrl, model, apiKey: $("api-key").value || undefined, headers };
  }
  const region = $("aws-region").value.trim();
  if (!/^[a-z0-9-]+$/.test(region)) problems.push(["aws-region", "Region must be an AWS region name, e.g. us-east-1."]);
  const endpointUrl = $("aws-endpoint-url").value.trim();
  if (endpointUrl && !isHttpUrl(endpointUrl)) problems.push(["aws-endpoint-url", "Endpoint URL must be an http:// or https:// URL (or empty for the regional endpoint)."]);
  const accessKeyId = $("aws-access-key-id").value.trim(), secretAccessKey = $("aws-secret-access-key").value;
  const sessionToken = $("aws-session-token").value.trim(), apiKey = family.fields.includes("bedrock-api-key") ? $("bedrock-api-key").value.trim() : "";
  if (apiKey && (accessKeyId || secretAccessKey)) problems.push(["aws-access-key-id", "Give either access keys or a Bedrock API key, not both."]);
  else if (!apiKey && !(accessKeyId && secretAccessKey)) problems.push([accessKeyId ? "aws-secret-access-key" : "aws-access-key-id", family.fields.includes("bedrock-api-key") ? "Give an access key ID and secret access key, or a Bedrock API key." : "Give an access key ID and secret access key."]);
  const options = {
    region,
    endpointUrl: endpointUrl || undefined,
    accessKeyId: accessKeyId || undefined,
    secretAccessKey: secretAccessKey || undefined,
    sessionToken: sessionToken || undefined,
    apiKey: apiKey || undefined,
    headers,
    stream: $("aws-stream").checked,
  };
  if (name === "sagemaker") return { ...options, endpointName: model };
  const bedrock = { ...options, model, ttftVisibleTokensOnly: $("ttft-visible").checked };
  return name === "bedrockInvoke" ? { ...bedrock, bodyFormat: $("body-format").value } : bedrock;
}

export async function buildRun() {
  const problems = [];
  const headers = parseHeaders($("headers").value);
  $("headers-error").hidden = headers.ok;
  if (!headers.ok) {
    $("headers-error").textContent = headers.message;
    $("headers").closest("details").open = true;
    problems.push(["headers", headers.message]);
  }
  const timeout = Number($("timeout").value);
  if (!(timeout > 0)) problems.push(["timeout", "Timeout must be a positive number of seconds."]);
  const runName = $("run-name").value.trim();
  const family = familyName();
  const endpoint = endpointOptions(problems, headers.ok ? headers.headers : {});
  if (experiment() === "heatmap") {
    const hm = await buildHeatmap(problems);
    if (problems.length) return reject(problems);
    // A heatmap is one run in its test's folder: the name is the test's (slashes would nest it).
    if (runName) hm.heatmap.testName = runName.replace(/[\/\\]/g, "-");
    return { message: { type: "start", experiment: "heatmap", family, endpoint, ...hm, timeout }, runName: hm.heatmap.testName ?? "", levels: [hm.heatmap.clients], durationS: null };
  }
  const payload = validatePayload();
  if (!payload.ok) problems.push(["payload", payload.message]);
  const levels = parseLevels($("clients").value);
  if (!levels) problems.push(["clients", "Concurrent clients must be a whole number from 1 to 1000, or a list of them for a load test (e.g. 1, 2, 4, 8)."]);
  const amount = Number($("amount").value);
  const byRequests = mode() === "requests";
  if (!(amount > 0) || (byRequests && !Number.isInteger(amount))) problems.push(["amount", byRequests ? "Requests per client must be a whole number ≥ 1." : "Seconds per client must be a positive number."]);
  markInvalid(problems);
  if (problems.length) return reject(problems);
  const run = { payload: payload.payloads.length === 1 ? payload.payloads[0] : payload.payloads };
  if (runName) run.runName = runName;
  if (byRequests) run.nRequests = amount;
  else run.runDuration = amount;
  return { message: { type: "start", family, endpoint, run, levels, timeout }, runName, levels, durationS: byRequests ? null : amount };
}

function markInvalid(problems) {
  for (const id of CHECKED_FIELDS) $(id).setAttribute("aria-invalid", String(problems.some((p) => p[0] === id)));
}

function reject(problems) {
  markInvalid(problems);
  showProblem("Please fix the configuration:", problems.map((p) => p[1]));
  $(problems[0][0]).focus();
  return null;
}

/** The heatmap needs the package's experiments (js/experiments.js); offered only when present. */
async function detectExperiments(config) {
  try {
    const pkg = await import("./pkg/index.js");
    if (typeof pkg.LatencyHeatmap !== "function") return;
    $("experiment-choice").hidden = false;
    if (config?.experiment === "heatmap") document.querySelector('input[name="experiment"][value="heatmap"]').checked = true;
    updateExperiment();
  } catch {}
}

/** Puts a link with the public configuration (no key, no header values) in the address bar and clipboard. */
async function share() {
  const url = `${location.origin}${location.pathname}#${encodeShare(publicConfig())}`;
  history.replaceState(null, "", url);
  try {
    await navigator.clipboard.writeText(url);
    $("share-status").textContent = "Link copied (no API key or header values in it).";
  } catch {
    $("share-status").textContent = "Link is in the address bar (no API key or header values in it).";
  }
}

/**
 * Fills the form (share link first, then remembered settings) and wires its controls.
 * @param {Record<string, unknown> | null} fromHash a decoded share link
 */
export function initForm(fromHash) {
  const types = $("endpoint-type");
  while (types.options.length) types.remove(0);
  for (const [value, f] of Object.entries(FAMILIES)) types.append(new Option(f.label, value));
  updateFamily();
  let stored = null;
  try {
    stored = JSON.parse(localStorage.getItem(FORM_STORAGE) ?? "null");
  } catch {}
  $("payload").value = familyPresetText("short") ?? "";
  applyConfig(fromHash ?? stored);
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key !== null) {
    $("api-key").value = key;
    $("remember-key").checked = true;
  }
  validatePayload();
  $("share").addEventListener("click", share);
  $("payload").addEventListener("input", () => {
    $("preset").value = "";
    validatePayload();
  });
  $("payload").addEventListener("scroll", () => ($("payload-gutter").scrollTop = $("payload").scrollTop));
  $("preset").addEventListener("change", () => {
    if (!$("preset").value) return;
    $("payload").value = familyPresetText($("preset").value) ?? $("payload").value;
    validatePayload();
  });
  // A new family (or InvokeModel body format) brings its fields and presets.
  for (const id of ["endpoint-type", "body-format"]) $(id).addEventListener("change", () => updateFamily());
  $("payload-file").addEventListener("change", async () => {
    const f = $("payload-file").files[0];
    if (!f) return;
    $("payload").value = await f.text();
    validatePayload();
    $("payload-file").value = "";
  });
  $("remember-key").addEventListener("change", saveForm);
  $("api-key").addEventListener("input", () => $("remember-key").checked && sessionStorage.setItem(KEY_STORAGE, $("api-key").value));
  for (const input of document.querySelectorAll('input[name="mode"]')) input.addEventListener("change", updateMode);
  for (const input of document.querySelectorAll('input[name="experiment"]')) input.addEventListener("change", updateExperiment);
  for (const id of ["hm-source", "hm-tokenizer"]) $(id).addEventListener("change", updateExperiment);
  detectExperiments(fromHash ?? stored);
}
