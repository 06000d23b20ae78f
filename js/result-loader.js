// @ts-check
/**
 * Loads a run folder piece by piece (`Result.fromFiles`), yielding to the event loop between
 * pieces so a page stays responsive while a large run (100k responses) is parsed. The result is
 * the same as parsing everything in one call.
 *
 * Loading runs in the fleet's wasm module (loaded on first use), not in the core engine: runs
 * do not need it, and the core module stays within its size budget. A loaded result is that
 * module's `WasmRunResult`, the same class (same Rust code) as a run's.
 * @internal
 */

/** The JSON-lines files parsed in pieces, in the order they are read. */
const PIECEWISE = ["responses.jsonl", "chunk_timings.jsonl"];

/** Default lines parsed between two yields: ~10–50 ms of work, so the page does not visibly freeze. */
export const DEFAULT_YIELD_EVERY = 2000;

/**
 * Lets other tasks (input, rendering, the page's own timers) run, with a macrotask. Not
 * `scheduler.yield()`: its continuation runs ahead of queued timers, so a page's timers would
 * still stall for the whole load (measured: 1.2 s vs 0.2 s longest gap in `npm run bench:store`).
 * @returns {Promise<void>}
 */
export function yieldToEventLoop() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** @typedef {import("./types.js").FileContent} FileContent */

/**
 * The fleet module's exports, once it is instantiated (in workerd: after `initFleetSync`).
 * @returns {Promise<typeof import("./llmeter_fleet.js")>}
 */
async function fleetModule() {
  const [{ initFleet }, glue] = await Promise.all([import("./fleet/init.js"), import("./llmeter_fleet.js")]);
  await initFleet();
  return glue;
}

/**
 * The run folders of a load test given as file paths (LLMeter's rule), and its test name.
 * @param {string[]} paths
 * @returns {Promise<{ folders: string[], testName?: string }>}
 */
export async function loadTestFolders(paths) {
  return (await fleetModule()).loadTestFolders(paths);
}

/**
 * The files `Result.load` reads from a run folder (`loadResponses: false`: the small ones).
 * @param {boolean} loadResponses
 * @returns {Promise<string[]>}
 */
export async function resultFiles(loadResponses) {
  return (await fleetModule()).resultFileNames(loadResponses);
}

/**
 * Parses a run folder with the fleet module's builder, at most `yieldEvery` JSON lines per step.
 * `loadResponses: false` passes only the files the core reads then (summary, stats; the
 * responses too when there is no summary, to recover its metadata).
 * @param {Record<string, FileContent>} files
 * @param {number} yieldEvery
 * @param {{ loadResponses?: boolean, outputPath?: string }} [options]
 * @returns {Promise<any>} the result handle
 */
export async function buildResult(files, yieldEvery, options = {}) {
  if (!files || typeof files !== "object") throw new TypeError("files must map names to text");
  const { loadResponses = true, outputPath } = options;
  const { WasmResultBuilder, resultFileNames } = await fleetModule();
  const baseOf = (/** @type {string} */ name) => name.split(/[/\\]/).pop() ?? name;
  if (!loadResponses) {
    const wanted = new Set(resultFileNames(false));
    if (!Object.keys(files).some((n) => baseOf(n) === "summary.json")) wanted.add("responses.jsonl");
    files = Object.fromEntries(Object.entries(files).filter(([n]) => wanted.has(baseOf(n))));
  }
  /** @type {Record<string, unknown>} */ const small = {};
  /** @type {Map<string, FileContent>} */ const piecewise = new Map();
  for (const [name, content] of Object.entries(files)) {
    const base = baseOf(name);
    const streamed = PIECEWISE.includes(base) && (typeof content !== "string" || content.length > 0);
    if (!streamed) small[name] = content;
    else if (piecewise.has(base)) throw new Error(`two files named ${base}`);
    else piecewise.set(base, content);
  }
  const builder = new WasmResultBuilder(small, loadResponses);
  if (outputPath !== undefined) builder.setOutputPath(outputPath);
  // Grow the wasm memory once for what is known up front (many small grows each copy it).
  let knownChars = 0;
  for (const content of piecewise.values()) if (typeof content === "string") knownChars += content.length;
  builder.reserve(knownChars);
  try {
    const budget = { left: yieldEvery };
    for (const file of PIECEWISE) {
      const content = piecewise.get(file);
      if (content === undefined) continue;
      /** @type {(piece: string) => void} */
      const push = file === "responses.jsonl" ? (piece) => builder.pushResponses(piece) : (piece) => builder.pushTimings(piece);
      if (typeof content === "string") {
        await feed(push, content, budget, yieldEvery);
        continue;
      }
      if (typeof content !== "object" || content === null || !(Symbol.asyncIterator in content || Symbol.iterator in content)) {
        throw new TypeError(`files["${file}"] must be a string or an iterable of strings`);
      }
      push(""); // present even if the iterable yields nothing
      let carry = "";
      for await (const piece of content) {
        if (typeof piece !== "string") throw new TypeError(`files["${file}"] pieces must be strings`);
        let text = carry + piece;
        // A piece cut between the two halves of a surrogate pair: keep the first half for the next.
        const last = text.charCodeAt(text.length - 1);
        carry = last >= 0xd800 && last <= 0xdbff ? text.slice(-1) : "";
        if (carry) text = text.slice(0, -1);
        await feed(push, text, budget, yieldEvery);
      }
      if (carry) push(carry);
    }
    return builder.finish();
  } finally {
    builder.free();
  }
}

/**
 * Pushes `text` in pieces that end after a `\n`, yielding each time `yieldEvery` lines have
 * been pushed (the count carries over between calls in `budget`).
 * @param {(piece: string) => void} push
 * @param {string} text
 * @param {{ left: number }} budget
 * @param {number} yieldEvery
 */
async function feed(push, text, budget, yieldEvery) {
  if (yieldEvery === Infinity) return push(text);
  let start = 0;
  while (start < text.length) {
    let end = start;
    let lines = 0;
    while (lines < budget.left) {
      const newline = text.indexOf("\n", end);
      if (newline < 0) { end = text.length; break; }
      end = newline + 1;
      lines++;
    }
    push(text.slice(start, end));
    start = end;
    budget.left -= lines;
    if (budget.left <= 0) {
      await yieldToEventLoop();
      budget.left = yieldEvery;
    }
  }
}
