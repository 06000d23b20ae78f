// The configuration form: presets, the payload editor, remembered settings, and turning the form
// into the worker's start message (or showing what is wrong, field by field).
import { parsePayloadText, parseHeaders } from "./payload.js";
import { FAMILIES, DEFAULT_FAMILY, familyOf, presetText, presetsOf, payloadRulesOf } from "./families.js";
import { encodeShare } from "./share.js";
import { $, showProblem } from "./dom.js";

const KEY_STORAGE = "llmeter.apiKey";
const FORM_STORAGE = "llmeter.form";
const CHECKED_FIELDS = ["base-url", "model", "clients", "rates", "sweep-size", "sweep-clients", "max-concurrency", "amount", "timeout", "warmup", "slo-ttft", "slo-tpot", "slo-ttlt", "price-in", "price-out", "price-hour"];
const SLO_FIELDS = [["ttft", "slo-ttft"], ["tpot", "slo-tpot"], ["ttlt", "slo-ttlt"]];
const PRICE_FIELDS = [["input", "price-in"], ["output", "price-out"], ["hour", "price-hour"]];

/** The chosen experiment: a run or load test, or the latency heatmap (when the package has it). */
export const experiment = () => (document.querySelector('input[name="experiment"]:checked')?.value === "heatmap" && !$("experiment-choice").hidden ? "heatmap" : "load");
const mode = () => /** @type {HTMLInputElement} */ (document.querySelector('input[name="mode"]:checked')).value;
/** How requests start: `clients` (closed loop), `rate` (open loop) or `sweep`. */
const loadKind = () => /** @type {HTMLInputElement} */ (document.querySelector('input[name="load"]:checked'))?.value ?? "clients";
/** The optional numeric fields of a group, as `{name: text}` (empty ones left out). @param {[string, string][]} fields */
const optionalFields = (fields) => Object.fromEntries(fields.map(([k, id]) => [k, $(id).value.trim()]).filter(([, v]) => v !== ""));

/** The chosen family's entry (families.js). */
const family = () => familyOf($("endpoint-type").value);

/** The inputs of the chosen family's own fields, by option name (a `json` field's is a text area). @returns {[import("./families.js").Field, HTMLInputElement][]} */
const familyInputs = () => family().fields.map((f) => [f, /** @type {HTMLInputElement} */ ($(`family-${f.option}`))]);

/**
 * The family fields' values; `secrets` chooses the secret ones (kept in memory only) or the
 * others. Empty text fields are left out: the class's default applies.
 */
function familyValues(secrets) {
  /** @type {Record<string, string | boolean>} */
  const values = {};
  for (const [f, input] of familyInputs()) {
    if (Boolean(f.secret) !== secrets) continue;
    const value = f.type === "checkbox" ? input.checked : input.value.trim();
    if (value !== "") values[f.option] = value;
  }
  return values;
}

/** The chosen family's presets, for its current field values. */
const presets = () => presetsOf(family(), familyValues(false));

/** Set while the family's fields are replaced. */
let rendering = false;

/** The editor texts of the presets offered now: a payload among them is one the user did not write. */
let offeredPresets = /** @type {string[]} */ ([]);

/** Lists the chosen family's presets; an untouched preset in the editor becomes the new short one. */
function refreshPresets() {
  const untouched = offeredPresets.includes($("payload").value);
  const offered = presets();
  offeredPresets = Object.values(offered).map(presetText);
  const preset = $("preset");
  preset.replaceChildren(new Option("Choose a preset…", ""));
  for (const [value, p] of Object.entries(offered)) preset.append(new Option(p.label, value));
  if (untouched) $("payload").value = presetText(Object.values(offered)[0]);
}

/**
 * One family field's input (a label around it; a checkbox's label after it).
 * @param {import("./families.js").Field} field
 * @param {unknown} given its value (a share link's, or what the previous family's same field held)
 */
function fieldInput(field, given) {
  const label = document.createElement("label");
  /** @type {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} */
  let input;
  if (field.type === "json") {
    const area = document.createElement("textarea");
    area.rows = Math.min(10, String(field.value ?? "").split("\n").length + 1);
    area.spellcheck = false;
    area.value = typeof given === "string" ? given : String(field.value ?? "");
    input = /** @type {any} */ (area);
  } else if (field.type === "select") {
    const select = document.createElement("select");
    for (const [value, text] of field.choices ?? []) select.append(new Option(text, value));
    const choices = (field.choices ?? []).map(([v]) => v);
    select.value = typeof given === "string" && choices.includes(given) ? given : String(field.value ?? choices[0] ?? "");
    input = select;
  } else {
    const box = document.createElement("input");
    box.type = field.type;
    box.autocomplete = "off";
    box.spellcheck = false;
    if (field.type === "checkbox") box.checked = typeof given === "boolean" ? given : field.value === true;
    else box.value = typeof given === "string" ? given : String(field.value ?? "");
    if (field.placeholder) box.placeholder = field.placeholder;
    if (field.required) box.required = true;
    input = box;
  }
  input.id = `family-${field.option}`;
  if (field.type === "checkbox") {
    label.className = "check";
    label.append(input, ` ${field.label}`);
  } else {
    label.append(field.label, input);
  }
  if (!field.help) return [label];
  const help = document.createElement("small");
  help.className = "help";
  help.textContent = field.help;
  // A checkbox's help goes under its line; a text field's inside its label, under the input.
  if (field.type === "checkbox") return [label, help];
  label.append(help);
  return [label];
}

/**
 * Shows the chosen family's fields: the model's and base URL's texts, the API key field, its own
 * fields (rendered from families.js), its note and its presets. `values` fills the family fields
 * (a share link's, never for a secret field); otherwise a field keeps what the same field of the
 * previous family held (secrets too: in memory, on this page).
 * @param {Record<string, unknown>} [values]
 */
export function applyFamily(values = {}) {
  const f = family();
  $("model-label").textContent = f.modelLabel ?? "Model";
  $("model").placeholder = f.modelPlaceholder ?? "gpt-4o-mini";
  $("api-key-row").hidden = $("api-key-help").hidden = f.keyField === false;
  const base = f.baseUrl;
  $("base-url-label").hidden = !base;
  if (base) {
    $("base-url").placeholder = base.placeholder;
    $("base-url").required = Boolean(base.required);
    $("base-url-help").textContent = base.help;
    // A family's default URL replaces another family's default (never the user's own URL).
    const defaults = Object.values(FAMILIES).map((x) => x.baseUrl?.value).filter(Boolean);
    if (base.value && (!$("base-url").value || defaults.includes($("base-url").value))) $("base-url").value = base.value;
  }
  $("api-key").placeholder = f.keyPlaceholder ?? "";
  $("headers").placeholder = f.headersPlaceholder ?? "";
  /** @type {Record<string, string | boolean>} */
  const current = {};
  for (const input of /** @type {NodeListOf<HTMLInputElement>} */ (document.querySelectorAll("#family-fields input, #family-fields select, #family-fields textarea"))) {
    current[input.id.slice("family-".length)] = input.type === "checkbox" ? input.checked : input.value;
  }
  const box = $("family-fields");
  // Removing a focused, edited field fires its change event: not a change of this family's values.
  rendering = true;
  box.replaceChildren();
  rendering = false;
  // Text fields two by two, then the JSON areas (full width), then the checkboxes.
  const grid = document.createElement("div");
  grid.className = "grid2";
  const areas = [], checks = [];
  for (const field of f.fields) {
    const given = field.secret ? current[field.option] : values[field.option] ?? current[field.option];
    const parts = fieldInput(field, given);
    if (field.type === "checkbox") checks.push(...parts);
    else if (field.type === "json") areas.push(...parts);
    else grid.append(...parts);
  }
  if (grid.childElementCount) box.append(grid);
  box.append(...areas, ...checks);
  $("family-note").hidden = !f.note;
  $("family-note").textContent = f.note ?? "";
  refreshPresets();
}

/** The configuration without secrets: what share links, history and exports carry. */
export function publicConfig() {
  const headers = parseHeaders($("headers").value);
  return {
    endpointType: $("endpoint-type").value,
    familyOptions: familyValues(false),
    baseUrl: $("base-url").value.trim(),
    model: $("model").value.trim(),
    headerNames: headers.ok ? Object.keys(headers.headers) : [],
    payload: $("payload").value,
    clients: $("clients").value.trim(),
    load: loadKind(),
    rates: $("rates").value.trim(),
    arrival: $("arrival").value,
    maxConcurrency: $("max-concurrency").value.trim(),
    sweep: { size: $("sweep-size").value.trim(), clients: $("sweep-clients").value.trim() },
    warmup: $("warmup").value.trim(),
    slo: optionalFields(SLO_FIELDS),
    prices: optionalFields(PRICE_FIELDS),
    mode: mode(),
    amount: Number($("amount").value),
    timeout: Number($("timeout").value),
    runName: $("run-name").value.trim(),
    experiment: experiment(),
    heatmap: { source: $("hm-source").value, inputs: $("hm-inputs").value, outputs: $("hm-outputs").value, perCell: $("hm-per-cell").value, clients: $("hm-clients").value, tokenizer: $("hm-tokenizer").value, tokenizerUrl: $("hm-tok-url").value },
  };
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
  const kind = loadKind(), duration = mode() === "duration";
  $("amount-label").textContent = kind === "rate" ? (duration ? "Seconds of arrivals" : "Requests in all") : kind === "sweep" ? (duration ? "Seconds per level" : "Requests per client and level") : duration ? "Seconds per client" : "Requests per client";
  $("mode-legend").textContent = kind === "clients" ? "Each client sends" : "Each level sends";
}

/** Shows the fields of the chosen load: clients, rates or a sweep. */
function updateLoad() {
  const kind = loadKind();
  $("clients-label").hidden = $("clients-help").hidden = kind !== "clients";
  $("rates-label").hidden = kind !== "rate";
  $("sweep-size-label").hidden = $("sweep-clients-label").hidden = $("sweep-help").hidden = kind !== "sweep";
  $("rate-fields").hidden = kind === "clients";
  $("rates-help").hidden = kind !== "rate";
  updateMode();
}

/** Fills the form from a share link or remembered settings (text fields as text only). */
function applyConfig(c) {
  if (!c || typeof c !== "object") return;
  const set = (id, v) => v !== undefined && v !== null && typeof v !== "object" && ($(id).value = String(v));
  if (typeof c.endpointType === "string" && c.endpointType in FAMILIES) $("endpoint-type").value = c.endpointType;
  applyFamily(c.familyOptions && typeof c.familyOptions === "object" ? c.familyOptions : {});
  set("base-url", c.baseUrl);
  set("model", c.model);
  set("payload", c.payload);
  set("clients", c.clients);
  set("amount", c.amount);
  set("timeout", c.timeout);
  set("run-name", c.runName);
  set("rates", c.rates);
  set("max-concurrency", c.maxConcurrency);
  set("warmup", c.warmup);
  if (c.arrival === "constant" || c.arrival === "poisson") $("arrival").value = c.arrival;
  if (c.sweep && typeof c.sweep === "object") { set("sweep-size", c.sweep.size); set("sweep-clients", c.sweep.clients); }
  for (const [group, fields] of [[c.slo, SLO_FIELDS], [c.prices, PRICE_FIELDS]]) {
    if (group && typeof group === "object") for (const [k, id] of fields) set(id, group[k]);
  }
  if (["clients", "rate", "sweep"].includes(c.load)) document.querySelector(`input[name="load"][value="${c.load}"]`).checked = true;
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
  updateLoad();
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
  const check = parsePayloadText(text, payloadRulesOf(family(), familyValues(false)));
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

/** "2, 5.5, 10" → rates (requests per second). @returns {number[] | null} */
function parseRates(text) {
  const rates = String(text).split(/[\s,;]+/).filter(Boolean).map(Number);
  if (!rates.length || rates.length > 20 || !rates.every((r) => Number.isFinite(r) && r > 0 && r <= 10000)) return null;
  return rates;
}

/**
 * Warm-up, SLOs and cost model: the run options every load shares. SLOs are typed in ms, the
 * engine takes seconds. Problems are pushed as [field id, message].
 */
function buildExtras(problems) {
  const extras = {};
  const warmup = $("warmup").value.trim();
  if (warmup !== "" && Number(warmup) !== 0) {
    if (!(Number.isInteger(Number(warmup)) && Number(warmup) >= 1)) problems.push(["warmup", "Warm-up requests must be a whole number (0 for none)."]);
    else extras.warmup = Number(warmup);
  }
  const slo = {};
  for (const [k, id] of SLO_FIELDS) {
    const v = $(id).value.trim();
    if (v === "") continue;
    if (!(Number(v) > 0)) problems.push([id, "An SLO must be a positive number of milliseconds (or empty)."]);
    else slo[k] = Number(v) / 1000;
  }
  if (Object.keys(slo).length) extras.slo = slo;
  const prices = {};
  for (const [k, id] of PRICE_FIELDS) {
    const v = $(id).value.trim();
    if (v === "") continue;
    if (!(Number(v) >= 0)) problems.push([id, "A price must be a number ≥ 0 (or empty)."]);
    else prices[k] = Number(v);
  }
  if (Object.keys(prices).length) extras.prices = prices;
  return extras;
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
 * @property {number[]} levels clients (or requests per second) per level; a sweep's count of levels
 * @property {number | null} durationS seconds per client of a time-bound run
 */

/** @param {string} url */
function isHttpUrl(url) {
  try {
    return /^https?:$/.test(new URL(url).protocol);
  } catch {
    return false;
  }
}

/**
 * Reads and checks the whole form. Every check runs before anything starts, so a bad value
 * (a share link's payload included) never leaves a half-started run behind.
 * @returns {Promise<BuiltRun | null>} null after showing what is wrong
 */
export async function buildRun() {
  const problems = [];
  const fam = family();
  const baseUrl = $("base-url").value.trim();
  const model = $("model").value.trim();
  const urlOk = isHttpUrl(baseUrl);
  if (fam.baseUrl && !urlOk && (fam.baseUrl.required || baseUrl)) problems.push(["base-url", `Base URL must be an http:// or https:// URL, e.g. ${fam.baseUrl.placeholder}.`]);
  /** @type {Record<string, unknown>} the `json` fields' values, parsed */
  const parsed = {};
  for (const [f, input] of familyInputs()) {
    const value = f.type === "checkbox" ? "" : input.value.trim();
    if (f.required && f.type !== "checkbox" && !value) problems.push([input.id, `${f.label} is required.`]);
    if (f.type === "url" && value && !isHttpUrl(value)) problems.push([input.id, `${f.label} must be an http:// or https:// URL.`]);
    if (f.type === "json" && value) {
      try {
        parsed[f.option] = JSON.parse(value);
      } catch (e) {
        problems.push([input.id, `${f.label} is not valid JSON: ${/** @type {Error} */ (e).message}`]);
      }
    }
  }
  if (!model) problems.push(["model", `${fam.modelLabel ?? "Model"} is required.`]);
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
  // The worker builds the family's class (families.js) from these options.
  /** @type {Record<string, unknown>} */
  const options = { ...familyValues(false), ...familyValues(true), ...parsed, [fam.modelOption ?? "model"]: model, headers: headers.ok ? headers.headers : {} };
  if (fam.keyField !== false && $("api-key").value) options.apiKey = $("api-key").value;
  if (fam.baseUrl && baseUrl) options.baseUrl = baseUrl;
  const endpoint = { family: $("endpoint-type").value, options, baseUrl, model };
  if (experiment() === "heatmap") {
    const hm = await buildHeatmap(problems);
    if (problems.length) return reject(problems);
    // A heatmap is one run in its test's folder: the name is the test's (slashes would nest it).
    if (runName) hm.heatmap.testName = runName.replace(/[\/\\]/g, "-");
    return { message: { type: "start", experiment: "heatmap", endpoint, ...hm, timeout }, runName: hm.heatmap.testName ?? "", levels: [hm.heatmap.clients], durationS: null };
  }
  const payload = validatePayload();
  if (!payload.ok) problems.push(["payload", payload.message]);
  const kind = loadKind();
  let levels = null;
  /** @type {Record<string, any>} */
  const load = { kind };
  if (kind === "clients") {
    levels = parseLevels($("clients").value);
    if (!levels) problems.push(["clients", "Concurrent clients must be a whole number from 1 to 1000, or a list of them for a load test (e.g. 1, 2, 4, 8)."]);
  } else {
    load.arrival = $("arrival").value;
    const max = $("max-concurrency").value.trim();
    if (max !== "") {
      if (!(Number.isInteger(Number(max)) && Number(max) >= 1 && Number(max) <= 10000)) problems.push(["max-concurrency", "Most in flight must be a whole number from 1 to 10000 (or empty)."]);
      else load.maxConcurrency = Number(max);
    }
  }
  if (kind === "rate") {
    levels = parseRates($("rates").value);
    if (!levels) problems.push(["rates", "Requests per second must be a positive number (at most 10000), or a list of them for a load test (e.g. 2, 5, 10)."]);
    load.rates = levels;
  }
  if (kind === "sweep") {
    const size = Number($("sweep-size").value), clients = Number($("sweep-clients").value);
    if (!(Number.isInteger(size) && size >= 2 && size <= 12)) problems.push(["sweep-size", "A sweep has 2 to 12 levels."]);
    if (!(Number.isInteger(clients) && clients >= 1 && clients <= 1000)) problems.push(["sweep-clients", "Throughput level clients must be a whole number from 1 to 1000."]);
    load.sweep = { size, throughputClients: clients };
    levels = Array.from({ length: size }, (_, i) => i);
  }
  const amount = Number($("amount").value);
  const byRequests = mode() === "requests";
  if (!(amount > 0) || (byRequests && !Number.isInteger(amount))) problems.push(["amount", byRequests ? "The number of requests must be a whole number ≥ 1." : "Seconds must be a positive number."]);
  const extras = buildExtras(problems);
  markInvalid(problems);
  if (problems.length) return reject(problems);
  const run = { payload: payload.payloads.length === 1 ? payload.payloads[0] : payload.payloads };
  if (runName) run.runName = runName;
  if (byRequests) run.nRequests = amount;
  else run.runDuration = amount;
  return { message: { type: "start", endpoint, run, levels, load, extras, timeout }, runName, levels, durationS: byRequests ? null : amount };
}

function markInvalid(problems) {
  const ids = [...CHECKED_FIELDS, ...familyInputs().map(([, input]) => input.id)];
  for (const id of ids) $(id).setAttribute("aria-invalid", String(problems.some((p) => p[0] === id)));
}

/**
 * The engine refused the endpoint's options (its message names the option first, as
 * "secretAccessKey: is required: …"): marks and focuses that field of the chosen family.
 * @param {string} message
 */
export function markRefusedOption(message) {
  const named = familyInputs().find(([f]) => new RegExp(`\\b${f.option}: `).test(message));
  if (!named) return;
  markInvalid([[named[1].id, message]]);
  named[1].focus();
}

function reject(problems) {
  markInvalid(problems);
  showProblem("Please fix the configuration:", problems.map((p) => p[1]));
  const first = $(problems[0][0]);
  const folded = first.closest("details");
  if (folded) folded.open = true;
  first.focus();
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
    $("share-status").textContent = "Link copied (no keys, credentials or header values in it).";
  } catch {
    $("share-status").textContent = "Link is in the address bar (no keys, credentials or header values in it).";
  }
}

/**
 * Fills the form (share link first, then remembered settings) and wires its controls.
 * @param {Record<string, unknown> | null} fromHash a decoded share link
 */
export function initForm(fromHash) {
  for (const [value, f] of Object.entries(FAMILIES)) $("endpoint-type").append(new Option(f.label, value));
  $("endpoint-type").value = DEFAULT_FAMILY;
  applyFamily();
  let stored = null;
  try {
    stored = JSON.parse(localStorage.getItem(FORM_STORAGE) ?? "null");
  } catch {}
  $("payload").value = offeredPresets[0] ?? "";
  applyConfig(fromHash ?? stored);
  updateLoad();
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
    const preset = presets()[$("preset").value];
    if (!preset) return;
    $("payload").value = presetText(preset);
    validatePayload();
  });
  // A payload the user did not write (a preset's) follows the family, and InvokeModel's body format.
  $("endpoint-type").addEventListener("change", () => {
    applyFamily();
    validatePayload();
  });
  $("family-fields").addEventListener("change", () => {
    if (rendering) return;
    refreshPresets();
    validatePayload();
  });
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
  for (const input of document.querySelectorAll('input[name="load"]')) input.addEventListener("change", updateLoad);
  for (const input of document.querySelectorAll('input[name="experiment"]')) input.addEventListener("change", updateExperiment);
  for (const id of ["hm-source", "hm-tokenizer"]) $(id).addEventListener("change", updateExperiment);
  detectExperiments(fromHash ?? stored);
}
