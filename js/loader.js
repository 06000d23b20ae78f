// @ts-check
/**
 * One way to load each of the package's wasm modules (the core engine and the optional,
 * lazily loaded ones), in every runtime: browsers and Deno fetch the `.wasm` file, Node reads
 * it from disk, workerd passes the imported module to the sync initialiser.
 *
 * Each module finds its `.wasm` with a literal `new URL("./x_bg.wasm", import.meta.url)` written
 * in its own file (index.js, tokenizer.js, store.js) and handed here as a function. Bundlers
 * (webpack, Vite, Turbopack, Parcel, Rollup with a URL plugin) recognise exactly that form: they
 * emit the file with the bundle and rewrite the URL to the emitted copy. A URL computed
 * anywhere else would point at the build machine's node_modules.
 *
 * Server bundles do not always leave a readable file behind that URL (webpack gives Next.js
 * route handlers a URL relative to the site; esbuild and ncc leave the URL pointing next to the
 * bundle, where nothing was copied). There, in Node only, the module's bytes come from the
 * package's base64 copy instead: `#inline/x_bg.wasm`, which resolves to that copy only under the
 * `node` condition, so browser bundles never carry it.
 * @internal
 */

/** @typedef {import("./types.js").WasmSource} WasmSource */
/** @typedef {import("./types.js").WasmBytes} WasmBytes */
/** @typedef {import("./types.js").WasmModule} WasmModule */

/**
 * @typedef {Object} WasmLoader
 * @property {(source?: WasmSource) => Promise<void>} init
 *   Instantiates the module once; concurrent and repeated calls share one load; a failed load can be retried.
 * @property {(module: WasmBytes | WasmModule) => void} initSync
 * @property {() => boolean} initialized
 */

/**
 * @typedef {Object} WasmFiles How one wasm module is found.
 * @property {(input?: any) => Promise<unknown>} init the wasm-bindgen default export
 * @property {(input: any) => unknown} initSync the wasm-bindgen `initSync`
 * @property {() => URL} url `() => new URL("./x_bg.wasm", import.meta.url)`, written literally in
 *   the calling module; throws where modules have no URL (workerd)
 * @property {() => Promise<{ default?: Uint8Array }>} inlined `() => import("#inline/x_bg.wasm")`:
 *   the bytes in Node, nothing elsewhere
 * @property {string} syncName the module's sync initialiser, named in errors (`initSync`, …)
 */

/**
 * @param {WasmFiles} files
 * @returns {WasmLoader}
 */
export function wasmLoader(files) {
  /** @type {Promise<void> | null} */
  let ready = null;
  let done = false;
  return {
    init(source) {
      if (!ready) {
        ready = (async () => {
          /** @type {WasmSource} */
          let input = source ?? (isNode() ? await nodeDefault(files) : defaultUrl(files));
          // Node's fetch has no file: URLs: read the file.
          if (isNode() && (input instanceof URL || (typeof input === "string" && input.startsWith("file:")))) {
            const url = new URL(input);
            if (url.protocol === "file:") input = await readFileBytes(url);
          }
          await files.init({ module_or_path: input });
          done = true;
        })();
        ready.catch(() => { ready = null; });
      }
      return ready;
    },
    initSync(module) {
      files.initSync({ module });
      done = true;
      ready = Promise.resolve();
    },
    initialized: () => done,
  };
}

/**
 * @param {WasmFiles} files
 * @returns {URL}
 */
function defaultUrl(files) {
  try {
    return files.url();
  } catch {
    throw new TypeError(`this runtime gives modules no URL to find the .wasm by (workerd): import the .wasm as a module and call ${files.syncName}(module), or pass the .wasm's bytes, module or URL to init`);
  }
}

/**
 * The `.wasm` beside the module (or the copy a bundler emitted), else the inlined bytes.
 * @param {WasmFiles} files
 * @returns {Promise<URL | Uint8Array>}
 */
async function nodeDefault(files) {
  /** @type {URL | undefined} */
  let url;
  try { url = files.url(); } catch { /* a CommonJS bundle: no import.meta.url */ }
  if (url?.protocol === "http:" || url?.protocol === "https:") return url;
  if (url?.protocol === "file:") {
    try {
      return await readFileBytes(url);
    } catch (e) {
      if (/** @type {{code?: string}} */ (e)?.code !== "ENOENT") throw e;
    }
  }
  const { default: bytes } = await files.inlined();
  if (!(bytes instanceof Uint8Array)) throw new Error(`llmeter-wasm: no .wasm at ${url ?? "(no URL)"} and no inlined copy: pass the .wasm's bytes or URL to init`);
  return bytes;
}

/**
 * @param {URL} url a `file:` URL
 * @returns {Promise<Uint8Array>}
 */
export async function readFileBytes(url) {
  // A computed specifier keeps bundlers for the web from trying to resolve node:fs.
  const fsModule = "node:fs/promises";
  const { readFile } = await import(/* @vite-ignore */ /* webpackIgnore: true */ fsModule);
  return new Uint8Array(await readFile(url));
}

/** Node (not Deno, which also defines `process`). */
export function isNode() {
  const g = /** @type {any} */ (globalThis);
  return typeof g.process === "object" && !!g.process.versions?.node && typeof g.Deno === "undefined";
}
