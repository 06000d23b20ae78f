// @ts-check
/**
 * One way to load each of the package's wasm modules (the core engine and the optional,
 * lazily loaded ones), in every runtime: browsers and Deno fetch the `.wasm` next to the JS file,
 * Node reads it from disk, workerd passes the imported module to the sync initialiser.
 * @internal
 */

/**
 * @typedef {Object} WasmLoader
 * @property {(source?: BufferSource | WebAssembly.Module | URL | string | Response) => Promise<void>} init
 *   Instantiates the module once; concurrent and repeated calls share one load; a failed load can be retried.
 * @property {(module: BufferSource | WebAssembly.Module) => void} initSync
 * @property {() => boolean} initialized
 */

/**
 * @param {(input?: any) => Promise<unknown>} wasmInit the wasm-bindgen default export
 * @param {(input: any) => unknown} wasmInitSync the wasm-bindgen `initSync`
 * @param {URL | undefined} wasmUrl where the `.wasm` file lies (`besideModule("./x_bg.wasm",
 *   import.meta.url)`); undefined where modules have no URL (workerd), where only `initSync` or
 *   an explicit source works
 * @returns {WasmLoader}
 */
export function wasmLoader(wasmInit, wasmInitSync, wasmUrl) {
  /** @type {Promise<void> | null} */
  let ready = null;
  let done = false;
  return {
    init(source) {
      if (!ready) {
        ready = (async () => {
          let input = source;
          if (input === undefined && wasmUrl === undefined) {
            throw new TypeError("this runtime gives modules no URL to find the .wasm by (workerd): import the .wasm as a module and call initSync(module), or pass the .wasm to init()");
          }
          if (input === undefined && isNode()) {
            // A computed specifier keeps bundlers for the web from trying to resolve node:fs.
            const fsModule = "node:fs/promises";
            const { readFile } = await import(/* @vite-ignore */ /* webpackIgnore: true */ fsModule);
            input = await readFile(/** @type {URL} */ (wasmUrl));
          }
          await (input === undefined ? wasmInit() : wasmInit({ module_or_path: input }));
          done = true;
        })();
        ready.catch(() => { ready = null; });
      }
      return ready;
    },
    initSync(module) {
      wasmInitSync({ module });
      done = true;
      ready = Promise.resolve();
    },
    initialized: () => done,
  };
}

/**
 * `new URL(file, moduleUrl)`, or undefined where modules have no URL (workerd has no
 * `import.meta.url`), so that importing the package never throws there.
 * @param {string} file
 * @param {string | undefined} moduleUrl the caller's `import.meta.url`
 * @returns {URL | undefined}
 */
export function besideModule(file, moduleUrl) {
  try {
    return new URL(file, moduleUrl);
  } catch {
    return undefined;
  }
}

/** Node (not Deno, which also defines `process`). */
export function isNode() {
  const g = /** @type {any} */ (globalThis);
  return typeof g.process === "object" && !!g.process.versions?.node && typeof g.Deno === "undefined";
}
