// @ts-check
/**
 * Result folders outside the engine: a path in Node and Deno (`outputPath`, `Result.load`,
 * `LoadTestResult.load`), a File System Access directory handle in browsers
 * (`outputDirectory`). A run writes its folder as it goes — `run_config.json` at the start,
 * responses in batches while requests complete — and its final files at the end, as LLMeter
 * does (the engine fills token counts after the last request, so the final `responses.jsonl`
 * replaces the one written during the run).
 *
 * No `import` of Node modules (bundlers would try to resolve them): Node's `fs` comes from
 * `process.getBuiltinModule`, Deno's API from `Deno`.
 * @internal
 */

/**
 * @typedef {Object} Folder A place to write a run's files.
 * @property {string | null} path its path (`null` for a directory handle)
 * @property {(name: string) => Promise<Folder>} sub a sub-folder, created
 * @property {(name: string, text: string) => Promise<void>} write
 * @property {(name: string, text: string) => Promise<void>} append
 */

/** @returns {any} */
function deno() { return /** @type {any} */ (globalThis).Deno; }

/** Node's `fs/promises`, or `undefined` outside Node. @returns {any} */
function nodeFs() {
  const proc = /** @type {any} */ (globalThis).process;
  return proc?.versions?.node && !deno() ? proc.getBuiltinModule?.("node:fs/promises") : undefined;
}

/** Whether this runtime has a filesystem the package can use (Node, Deno). */
export function hasFilesystem() {
  return !!(deno()?.readTextFile || nodeFs());
}

function requireFilesystem(/** @type {string} */ what) {
  if (!hasFilesystem()) throw new TypeError(`${what} needs a filesystem (Node or Deno); in browsers use Result.fromFiles, or outputDirectory (a File System Access directory handle) to write`);
}

/** @param {string} a @param {string} b */
export const joinPath = (a, b) => (a.endsWith("/") || a.endsWith("\\") ? `${a}${b}` : `${a}/${b}`);

/** @param {string} p */
export const baseName = (p) => p.replace(/[\\/]+$/, "").split(/[\\/]/).pop() ?? p;

/**
 * What is at `path`: `"dir"`, `"file"` or `null`.
 * @param {string} path
 * @returns {Promise<"dir" | "file" | null>}
 */
export async function pathKind(path) {
  requireFilesystem("reading a folder");
  try {
    const d = deno();
    const st = d ? await d.stat(path) : await nodeFs().stat(path);
    return (d ? st.isDirectory : st.isDirectory()) ? "dir" : "file";
  } catch {
    return null;
  }
}

/**
 * Entries of a folder: `[{ name, dir }]`, sorted by name.
 * @param {string} path
 * @returns {Promise<{ name: string, dir: boolean }[]>}
 */
export async function listFolder(path) {
  const d = deno();
  /** @type {{ name: string, dir: boolean }[]} */
  const out = [];
  if (d) {
    for await (const e of d.readDir(path)) out.push({ name: e.name, dir: e.isDirectory });
  } else {
    for (const e of await nodeFs().readdir(path, { withFileTypes: true })) out.push({ name: e.name, dir: e.isDirectory() });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** @param {string} path @returns {Promise<string>} */
export function readText(path) {
  const d = deno();
  return d ? d.readTextFile(path) : nodeFs().readFile(path, "utf8");
}

/**
 * A folder at a path (created with its parents).
 * @param {string} path
 * @returns {Promise<Folder>}
 */
export async function pathFolder(path) {
  requireFilesystem("outputPath");
  const d = deno();
  if (d) await d.mkdir(path, { recursive: true });
  else await nodeFs().mkdir(path, { recursive: true });
  return {
    path,
    sub: (name) => pathFolder(joinPath(path, name)),
    write: (name, text) => (d ? d.writeTextFile(joinPath(path, name), text) : nodeFs().writeFile(joinPath(path, name), text)),
    append: (name, text) => (d ? d.writeTextFile(joinPath(path, name), text, { append: true }) : nodeFs().appendFile(joinPath(path, name), text)),
  };
}

/**
 * A folder from a File System Access directory handle (browsers; the origin-private file
 * system's `navigator.storage.getDirectory()` too).
 * @param {any} handle a `FileSystemDirectoryHandle`
 * @returns {Folder}
 */
export function handleFolder(handle) {
  if (!handle || typeof handle.getFileHandle !== "function" || typeof handle.getDirectoryHandle !== "function") {
    throw new TypeError("outputDirectory must be a FileSystemDirectoryHandle (showDirectoryPicker() or navigator.storage.getDirectory())");
  }
  /** @param {string} name @param {string} text @param {boolean} append */
  const put = async (name, text, append) => {
    const file = await handle.getFileHandle(name, { create: true });
    const w = await file.createWritable({ keepExistingData: append });
    if (append) await w.seek((await file.getFile()).size);
    await w.write(text);
    await w.close();
  };
  return {
    path: null,
    sub: async (name) => handleFolder(await handle.getDirectoryHandle(name, { create: true })),
    write: (name, text) => put(name, text, false),
    append: (name, text) => put(name, text, true),
  };
}

/** Responses per written batch, and the longest wait before a batch is written. */
const BATCH = 200;
const BATCH_DELAY_MS = 250;

/**
 * The sink `Runner.run` feeds when it has an output folder: the run's folder is known at the
 * start (the engine's `run_config.json` says its name and `output_path`), responses are
 * appended in batches (never one write per response while requests are in flight), and the
 * final files replace them at the end. A failed write never stops the run: it is reported in
 * `info.warnings` and `info.unsaved`.
 */
export class FolderRecorder {
  /**
   * @param {Folder} base where the run's folder goes
   * @param {boolean} nested write into `base/{run_name}` (a Runner's `outputPath`) or `base` itself
   */
  constructor(base, nested) {
    /** @private */ this._base = base;
    /** @private */ this._nested = nested;
    /** @private @type {Promise<Folder> | null} */ this._folder = null;
    /** @private @type {Promise<void>} */ this._writes = Promise.resolve();
    /** @private @type {string[]} */ this._responses = [];
    /** @private @type {string[]} */ this._timings = [];
    /** @private @type {ReturnType<typeof setTimeout> | undefined} */ this._timer = undefined;
    /** @private @type {unknown} */ this._failure = null;
    this.onStart = this._start.bind(this);
    this.onResponse = this._collect.bind(this);
  }

  /** @private @param {Record<string, any>} runConfig */
  _start(runConfig) {
    this._folder = this._nested ? this._base.sub(String(runConfig.run_name)) : Promise.resolve(this._base);
    const text = JSON.stringify(runConfig, null, 4);
    this._queue(async (f) => { await f.write("run_config.json", text); await f.write("responses.jsonl", ""); await f.write("chunk_timings.jsonl", ""); });
  }

  /** @private @param {(folder: Folder) => Promise<void>} job */
  _queue(job) {
    this._writes = this._writes.then(async () => {
      if (this._failure || !this._folder) return;
      try { await job(await this._folder); } catch (e) { this._failure = e; }
    });
  }

  /** @private @param {any} response @param {any} timings */
  _collect(response, timings) {
    this._responses.push(JSON.stringify(response) + "\n");
    this._timings.push(JSON.stringify(timings) + "\n");
    if (this._responses.length >= BATCH) this._flush();
    else if (this._timer === undefined) this._timer = setTimeout(() => this._flush(), BATCH_DELAY_MS);
  }

  /** @private */
  _flush() {
    clearTimeout(this._timer);
    this._timer = undefined;
    if (!this._responses.length) return;
    const responses = this._responses.join(""), timings = this._timings.join("");
    this._responses = [];
    this._timings = [];
    this._queue(async (f) => { await f.append("responses.jsonl", responses); await f.append("chunk_timings.jsonl", timings); });
  }

  /**
   * The final files (LLMeter's and ours) replace what was written during the run.
   * @template {{ info: any, toFiles(): Record<string, string> }} R
   * @param {R} result
   * @returns {Promise<R>}
   */
  async finish(result) {
    this._flush();
    this._folder ??= Promise.resolve(this._base);
    for (const [name, text] of Object.entries(result.toFiles())) this._queue((f) => f.write(name, text));
    await this._writes;
    if (this._failure) {
      const msg = `the output folder could not be written: ${/** @type {Error} */ (this._failure)?.message ?? this._failure}`;
      result.info.unsaved = msg;
      result.info.warnings.push(msg);
    }
    return result;
  }

  /** The run failed before producing a result: what was written stays. */
  async abort() {
    this._flush();
    await this._writes;
  }
}
