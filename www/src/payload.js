// Payload parsing with messages that point at the exact line: one JSON object, a JSON array of
// objects, or JSONL (one object per line). Pure functions, no DOM.

/**
 * @typedef {{ok: true, payloads: Record<string, unknown>[], format: "json" | "jsonl", notes: string[]}
 *   | {ok: false, line: number, column: number | null, message: string}} PayloadCheck
 */

/**
 * What a family's payloads must have (see families.js): a key, and one of the output limits
 * (a key, or a dotted path such as `inferenceConfig.maxTokens`). Neither for an API the page
 * knows nothing of (the custom family): any JSON object.
 * @typedef {{ required?: string, requiredText?: string, limits: string[], limitRequired?: boolean }} PayloadRules
 */

/** Chat Completions' rules (the default). @type {PayloadRules} */
const CHAT_RULES = { required: "messages", requiredText: 'no "messages" array, which Chat Completions requires', limits: ["max_tokens", "max_completion_tokens"] };

/** @param {string} text @param {PayloadRules} [rules] @returns {PayloadCheck} */
export function parsePayloadText(text, rules = CHAT_RULES) {
  if (text.trim() === "") return fail(1, null, "The payload is empty: enter a JSON object, or pick a preset.");
  const whole = tryParse(text);
  if (whole.ok) return checkValues(Array.isArray(whole.value) ? whole.value : [whole.value], "json", (i) => (Array.isArray(whole.value) ? `Item ${i + 1}` : "The payload"), () => 1, rules);
  // Not one JSON value: JSONL if the first non-empty line is a JSON value on its own.
  const lines = text.split(/\r?\n/);
  const firstIdx = lines.findIndex((l) => l.trim() !== "");
  if (lines.filter((l) => l.trim() !== "").length > 1 && tryParse(lines[firstIdx]).ok) {
    const values = [], lineNos = [];
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === "") continue;
      const p = tryParse(lines[i]);
      if (!p.ok) return fail(i + 1, p.column, `Line ${i + 1} is not valid JSON (JSONL needs one complete object per line): ${p.message}`);
      values.push(p.value);
      lineNos.push(i + 1);
    }
    return checkValues(values, "jsonl", (i) => `Line ${lineNos[i]}`, (i) => lineNos[i], rules);
  }
  const { line, column } = whole.position != null ? lineCol(text, whole.position) : { line: whole.line ?? 1, column: whole.column ?? null };
  return fail(line, column, `Invalid JSON at line ${line}${column ? `, column ${column}` : ""}: ${whole.message}`);
}

/**
 * How deep a payload may nest. Real payloads (messages, tool schemas) stay far below; a payload
 * nested thousands deep cannot be handed to the engine's worker (the browser's structured clone
 * and the engine's conversion run out of stack), so it is refused here, before a run starts.
 */
export const MAX_PAYLOAD_DEPTH = 100;

/** Nesting depth of a JSON value (a scalar is 0), without recursion. @param {unknown} value */
export function depthOf(value) {
  let max = 0;
  /** @type {[unknown, number][]} */
  const stack = [[value, 0]];
  while (stack.length) {
    const [v, d] = /** @type {[unknown, number]} */ (stack.pop());
    if (v === null || typeof v !== "object") continue;
    if (d + 1 > max) max = d + 1;
    if (max > MAX_PAYLOAD_DEPTH) return max; // deep enough to refuse: stop walking
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** The value at a dotted path (`a.b`) of an object, or undefined. @param {unknown} v @param {string} path */
const valueAt = (v, path) => path.split(".").reduce((o, k) => (o && typeof o === "object" && !Array.isArray(o) ? o[k] : undefined), v);

/** A payload's outline for messages, e.g. `{"inputs": …, "parameters": {"max_new_tokens": 64}}`. @param {PayloadRules} rules */
function outline(rules) {
  if (!rules.required || !rules.limits.length) return "{…}";
  const keys = rules.limits[0].split(".");
  const limit = keys.reduceRight((inner, k) => `{"${k}": ${inner}}`, "64").slice(1, -1);
  return `{"${rules.required}": …, ${limit}}`;
}

/** @param {PayloadRules} rules */
function checkValues(values, format, label, lineOf, rules) {
  if (values.length === 0) return fail(1, null, "The array is empty: at least one payload is needed.");
  const notes = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!v || typeof v !== "object" || Array.isArray(v)) return fail(lineOf(i), null, `${label(i)} must be a JSON object like ${outline(rules)}.`);
    if (depthOf(v) > MAX_PAYLOAD_DEPTH) return fail(lineOf(i), null, `${label(i)} nests deeper than ${MAX_PAYLOAD_DEPTH} levels of objects and arrays, more than any real request: it cannot be sent.`);
    const required = rules.required ? v[rules.required] : v;
    if (required === undefined || (rules.required === "messages" && !Array.isArray(required))) return fail(lineOf(i), null, `${label(i)} has ${rules.requiredText}.`);
    if (rules.limits.length && !rules.limits.some((k) => valueAt(v, k) !== undefined)) {
      if (rules.limitRequired) return fail(lineOf(i), null, `${label(i)} sets no ${rules.limits[0]}, which this API requires.`);
      notes.push(`${label(i)} sets no ${rules.limits[0]}: output length is up to the server.`);
    }
  }
  return { ok: true, payloads: values, format, notes: notes.slice(0, 3) };
}

function fail(line, column, message) {
  return { ok: false, line, column, message };
}

/** JSON.parse with the error position extracted from the engine's message (V8, SpiderMonkey, JSC). */
function tryParse(text) {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const msg = String(e?.message ?? e);
    const lc = /line (\d+) column (\d+)/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    const clean = msg.replace(/^JSON\.parse: /, "").replace(/ in JSON at position \d+.*$/s, "").replace(/ at line \d+ column \d+ of the JSON data$/, "");
    if (pos) return { ok: false, position: Number(pos[1]), message: clean };
    if (lc) return { ok: false, line: Number(lc[1]), column: Number(lc[2]), message: clean };
    // No position given (e.g. "Unexpected end of JSON input"): the end of the text.
    return { ok: false, position: text.replace(/\s+$/, "").length, message: clean };
  }
}

/** @param {string} text @param {number} pos */
export function lineCol(text, pos) {
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  return { line, column: pos - before.lastIndexOf("\n") };
}

/**
 * "Name: value" lines → headers object, with the line of the first bad one.
 * @param {string} text
 * @returns {{ok: true, headers: Record<string, string>} | {ok: false, line: number, message: string}}
 */
export function parseHeaders(text) {
  const headers = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (!l) continue;
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:\s*(.*)$/.exec(l);
    if (!m) return { ok: false, line: i + 1, message: `Header line ${i + 1} must look like "Name: value".` };
    headers[m[1]] = m[2];
  }
  return { ok: true, headers };
}
