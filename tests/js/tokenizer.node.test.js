// The Hugging Face tokenizer module (pkg/tokenizer.js + its own wasm) in Node 20: token ids and
// counts equal Python `tokenizers` on real tokenizer.json files (Llama 3 BPE, BERT WordPiece)
// over a multilingual corpus, all three loaders, prefixes, errors, laziness, and use in a Runner.
// Needs `bash scripts/build.sh && bash scripts/build-tokenizers.sh` and the Python .venv.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, LLAMA3_TOKENIZER_PATH, CORPUS, bertBaseUncasedTokenizerJson, pythonReference } from "./tokenizer-fixtures.js";
import { startSim } from "./sim.js";

const PKG = path.join(ROOT, "pkg");

/** A minimal complete tokenizer.json: words split on whitespace, "hello" known, the rest [UNK]. */
const TINY_WORD_LEVEL_JSON = JSON.stringify({
  version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
  pre_tokenizer: { type: "WhitespaceSplit" }, post_processor: null, decoder: null,
  model: { type: "WordLevel", vocab: { "[UNK]": 0, hello: 1 }, unk_token: "[UNK]" },
});

/** A paragraph for prefix checks: several languages and emoji. */
const PARAGRAPH =
  "Benchmarks measure latency. Tokens are counted exactly: Grüße aus München, 你好世界, " +
  "Привет мир, and emoji 👍🏽 too. The end.";

let tmp;
let bertPath;
let tokenizerModule;
/** @type {Record<string, {ids: number[], decoded: string}[]>} */
let reference;
let server;
let serverOrigin;

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), "llmeter-tokenizers-"));
  bertPath = path.join(tmp, "bert-base-uncased.tokenizer.json");
  writeFileSync(bertPath, bertBaseUncasedTokenizerJson());
  const parsed = pythonReference([LLAMA3_TOKENIZER_PATH, bertPath], CORPUS);
  console.log(`reference: Python tokenizers ${parsed.version}`);
  reference = parsed.results;
  tokenizerModule = await import(pathToFileURL(path.join(PKG, "tokenizer.js")).href);

  // A tiny static server for fromUrl: /llama3.json, /bert.json, anything else 404. No
  // keep-alive: after seconds of blocking wasm work, a reused idle socket can race its close.
  const files = { "/llama3.json": LLAMA3_TOKENIZER_PATH, "/bert.json": bertPath };
  server = createServer((req, res) => {
    const file = files[new URL(req.url, "http://x").pathname];
    if (!file) return res.writeHead(404, { "content-type": "text/plain", connection: "close" }).end("not found");
    res.writeHead(200, { "content-type": "application/json", connection: "close" }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  serverOrigin = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Loads the tokenizer at `file` by each loader: fromBytes, fromJSON, fromUrl (HTTP). */
async function loadAllWays(file, urlPath, name) {
  const { Tokenizer } = tokenizerModule;
  const bytes = readFileSync(file);
  const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return {
    fromBytes: await Tokenizer.fromBytes(new Uint8Array(bytes), name),
    fromArrayBuffer: await Tokenizer.fromBytes(arrayBuffer, name),
    fromJSON: await Tokenizer.fromJSON(bytes.toString("utf8"), name),
    fromUrl: await Tokenizer.fromUrl(`${serverOrigin}${urlPath}`),
  };
}

for (const [label, fileOf, urlPath, modelType] of [
  ["Llama 3 (byte-level BPE)", () => LLAMA3_TOKENIZER_PATH, "/llama3.json", "BPE"],
  ["BERT base uncased (WordPiece)", () => bertPath, "/bert.json", "WordPiece"],
]) {
  test(`${label}: ids, counts and decoded text equal Python tokenizers for every loader`, async () => {
    const file = fileOf();
    const expected = reference[file];
    assert.equal(expected.length, CORPUS.length);
    const loaded = await loadAllWays(file, urlPath, "my-tokenizer");
    for (const [loader, tokenizer] of Object.entries(loaded)) {
      assert.equal(tokenizer.modelType, modelType, loader);
      CORPUS.forEach((text, i) => {
        const ids = tokenizer.encode(text);
        assert.ok(ids instanceof Uint32Array, `${loader}: encode returns a Uint32Array`);
        assert.deepEqual(Array.from(ids), expected[i].ids, `${loader} ids of ${JSON.stringify(text)}`);
        assert.equal(tokenizer.countTokens(text), expected[i].ids.length, `${loader} count of ${JSON.stringify(text)}`);
        assert.equal(tokenizer.decode(ids), expected[i].decoded, `${loader} decode of ${JSON.stringify(text)}`);
      });
    }
    assert.equal(loaded.fromBytes.name, "my-tokenizer");
    assert.equal(loaded.fromUrl.name, `${serverOrigin}${urlPath}`, "fromUrl names the tokenizer by its URL by default");
    const total = expected.reduce((sum, row) => sum + row.ids.length, 0);
    console.log(`${label}: ${CORPUS.length} texts, ${total} tokens, identical to Python`);
  });
}

test("known ids: Llama 3 and BERT on short texts (sanity of the reference itself)", async () => {
  const { Tokenizer } = tokenizerModule;
  const llama3 = await Tokenizer.fromBytes(readFileSync(LLAMA3_TOKENIZER_PATH));
  const bert = await Tokenizer.fromJSON(readFileSync(bertPath, "utf8"));
  assert.deepEqual(Array.from(llama3.encode("Hello world")), [9906, 1917]);
  assert.deepEqual(Array.from(llama3.encode("<|begin_of_text|>Hi")), [128000, 13347], "special token text is one token, no BOS added");
  assert.deepEqual(Array.from(bert.encode("I have a new GPU!")), [1045, 2031, 1037, 2047, 14246, 2226, 999]);
  assert.deepEqual(Array.from(bert.encode("hello world")), [7592, 2088], "no [CLS]/[SEP] added");
  assert.equal(bert.name, "tokenizer.json (WordPiece)");
  assert.deepEqual(JSON.parse(JSON.stringify(llama3)), { name: "tokenizer.json (BPE)", modelType: "BPE" });
});

test("a prefix of the ids decodes to text of exactly that many tokens", async () => {
  const { Tokenizer } = tokenizerModule;
  const llama3 = await Tokenizer.fromBytes(readFileSync(LLAMA3_TOKENIZER_PATH));
  const bert = await Tokenizer.fromBytes(readFileSync(bertPath));
  for (const [tokenizer, name] of [[llama3, "llama3"], [bert, "bert"]]) {
    const ids = tokenizer.encode(PARAGRAPH);
    let checked = 0;
    for (const n of [1, 2, 3, 5, 8, 13, 21, ids.length - 1]) {
      const prefix = tokenizer.decode(ids.slice(0, n));
      if (prefix.includes("\uFFFD")) continue; // cut inside a character: not a text prefix
      assert.equal(tokenizer.countTokens(prefix), n, `${name}: first ${n} tokens decode to ${JSON.stringify(prefix)}`);
      assert.equal(tokenizer.truncate(PARAGRAPH, n), prefix, `${name}: truncate(text, ${n})`);
      checked++;
    }
    assert.ok(checked >= 6, `${name}: ${checked} prefixes checked`);
    // Llama 3 decodes losslessly, so its prefixes are prefixes of the text itself.
    if (tokenizer === llama3) {
      for (const n of [1, 5, 13]) assert.ok(PARAGRAPH.startsWith(llama3.decode(ids.slice(0, n))));
    }
    assert.equal(tokenizer.truncate(PARAGRAPH, ids.length), PARAGRAPH, "text that fits is returned unchanged");
    assert.equal(tokenizer.truncate(PARAGRAPH, 0), "");
  }
});

test("Llama 3: truncating inside an emoji backs off to the character boundary", async () => {
  const { Tokenizer } = tokenizerModule;
  const llama3 = await Tokenizer.fromBytes(readFileSync(LLAMA3_TOKENIZER_PATH));
  const text = "ok 👩🏽‍💻 done";
  const ids = llama3.encode(text);
  let brokenCuts = 0;
  for (let n = 1; n < ids.length; n++) {
    const raw = llama3.decode(ids.slice(0, n));
    const truncated = llama3.truncate(text, n);
    assert.ok(!truncated.includes("\uFFFD"), `truncate(text, ${n}) = ${JSON.stringify(truncated)}`);
    assert.ok(text.startsWith(truncated), `truncate(text, ${n}) is a prefix`);
    assert.ok(llama3.countTokens(truncated) <= n);
    if (raw.includes("\uFFFD")) brokenCuts++;
    else assert.equal(truncated, raw);
  }
  assert.ok(brokenCuts >= 3, `the emoji is split into bytes (${brokenCuts} cuts inside characters)`);
});

test("errors are JS exceptions with clear messages, never crashes", async () => {
  const { Tokenizer } = tokenizerModule;
  await assert.rejects(Tokenizer.fromJSON("{\"model\": "), { message: "tokenizer.json is not valid JSON: EOF while parsing a value at line 1 column 10" });
  await assert.rejects(Tokenizer.fromBytes(new Uint8Array([0xff, 0xfe])), /^Error: tokenizer.json is not valid JSON/);
  await assert.rejects(
    Tokenizer.fromJSON(JSON.stringify({ model: { type: "Tiktoken", vocab: {} } })),
    { message: 'unsupported tokenizer model type "Tiktoken" (supported: BPE, WordPiece, WordLevel, Unigram)' },
  );
  await assert.rejects(Tokenizer.fromJSON("[]"), { message: "not a usable Hugging Face tokenizer.json: the top level is not a JSON object" });
  await assert.rejects(Tokenizer.fromUrl(`${serverOrigin}/missing.json`), { message: `fetching ${serverOrigin}/missing.json failed: HTTP 404 Not Found` });
  await assert.rejects(Tokenizer.fromJSON(42), TypeError);
  await assert.rejects(Tokenizer.fromBytes("not bytes"), TypeError);
  await assert.rejects(Tokenizer.fromUrl(42), TypeError);
  assert.throws(() => new Tokenizer(), TypeError);

  const bert = await Tokenizer.fromBytes(readFileSync(bertPath));
  assert.throws(() => bert.encode(undefined), TypeError);
  assert.throws(() => bert.decode([1, -1]), { name: "RangeError", message: "token id at index 1 is not an integer from 0 to 2^32-1: -1" });
  assert.throws(() => bert.decode([1.5]), RangeError);
  assert.throws(() => bert.truncate("text", -1), RangeError);
  assert.equal(bert.decode([7592, 4_000_000, 2088]), "hello world", "ids outside the vocabulary are skipped");
  assert.equal(bert.decode([7592, 2088]), "hello world", "a plain array works");
  // The module still works after all of these.
  assert.equal(bert.countTokens("hello world"), 2);
});

test("fromUrl reads file: URLs in Node", async () => {
  const { Tokenizer } = tokenizerModule;
  const tokenizer = await Tokenizer.fromUrl(pathToFileURL(LLAMA3_TOKENIZER_PATH), "llama3");
  assert.equal(tokenizer.countTokens("Hello world"), 2);
  assert.equal(tokenizer.name, "llama3");
});

test("importing pkg/index.js and running it never loads the tokenizer module or its wasm", () => {
  // A fresh process that logs every module it loads (a loader hook) and every file it reads or
  // fetches (patched fs and fetch), first with index.js alone, then importing tokenizer.js.
  const moduleLog = path.join(tmp, "loaded-modules.txt");
  const hooksFile = path.join(tmp, "log-modules-hooks.mjs");
  const registerFile = path.join(tmp, "register-log-modules.mjs");
  const childFile = path.join(tmp, "child.mjs");
  writeFileSync(moduleLog, "");
  writeFileSync(hooksFile, `import { appendFileSync } from "node:fs";
export async function load(url, context, next) { appendFileSync(${JSON.stringify(moduleLog)}, url + "\\n"); return next(url, context); }`);
  writeFileSync(registerFile, `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hooksFile).href)});`);
  writeFileSync(childFile, `import { syncBuiltinESMExports } from "node:module";
import fs from "node:fs";
const touched = [];
for (const [owner, key] of [[fs.promises, "readFile"], [fs, "readFileSync"], [fs, "readFile"], [globalThis, "fetch"]]) {
  const original = owner[key];
  owner[key] = function (target, ...rest) { touched.push(String(target?.url ?? target)); return original.call(this, target, ...rest); };
}
syncBuiltinESMExports();
const index = await import(${JSON.stringify(pathToFileURL(path.join(PKG, "index.js")).href)});
await index.init();
new index.Runner({ endpoint: new index.OpenAIEndpoint({ baseUrl: "http://127.0.0.1:9/v1", model: "m" }) });
const beforeTokenizerImport = touched.slice();
const tokenizerModule = await import(${JSON.stringify(pathToFileURL(path.join(PKG, "tokenizer.js")).href)});
const afterImport = { initialized: tokenizerModule.tokenizersInitialized(), touched: touched.slice() };
const tokenizer = await tokenizerModule.Tokenizer.fromJSON(${JSON.stringify(TINY_WORD_LEVEL_JSON)});
console.log(JSON.stringify({ beforeTokenizerImport, afterImport, afterUse: touched, initialized: tokenizerModule.tokenizersInitialized(), count: tokenizer.countTokens("hello big world") }));
`);
  const child = spawnSync(process.execPath, ["--import", pathToFileURL(registerFile).href, childFile], { cwd: ROOT, encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  const seen = JSON.parse(child.stdout.trim().split("\n").pop());
  const loadedModules = readFileSync(moduleLog, "utf8").split("\n").filter(Boolean);

  const tokenizerFiles = (/** @type {string[]} */ list) => list.filter((entry) => /^(tokenizer\.js|llmeter_tokenizers)/.test(path.basename(entry)));
  const tokenizerImportAt = loadedModules.findIndex((url) => url.endsWith("/pkg/tokenizer.js"));
  assert.ok(tokenizerImportAt > 0, "the hook saw tokenizer.js load");
  const modulesBeforeTokenizerImport = loadedModules.slice(0, tokenizerImportAt);
  assert.ok(modulesBeforeTokenizerImport.some((url) => url.endsWith("/pkg/index.js")), "the hook saw index.js load");
  assert.deepEqual(tokenizerFiles(modulesBeforeTokenizerImport), [], "index.js imports nothing of the tokenizer module");
  assert.ok(seen.beforeTokenizerImport.some((file) => file.endsWith("/pkg/llmeter_wasm_bg.wasm")), "the core wasm was read");
  assert.deepEqual(tokenizerFiles(seen.beforeTokenizerImport), [], "no tokenizer file read or fetched by the core");
  // Importing tokenizer.js loads only its JS glue; the wasm waits for first use.
  assert.equal(seen.afterImport.initialized, false);
  assert.deepEqual(tokenizerFiles(seen.afterImport.touched), []);
  assert.equal(seen.initialized, true);
  assert.deepEqual(tokenizerFiles(seen.afterUse).map((file) => path.basename(file)), ["llmeter_tokenizers_bg.wasm"]);
  assert.equal(seen.count, 3);
});

test("initTokenizersSync (as in workerd) after a failed initTokenizers, in a fresh process", () => {
  const childFile = path.join(tmp, "sync-init-child.mjs");
  writeFileSync(childFile, `import { readFileSync } from "node:fs";
import { initTokenizers, initTokenizersSync, tokenizersInitialized, Tokenizer } from ${JSON.stringify(pathToFileURL(path.join(PKG, "tokenizer.js")).href)};
const failure = await initTokenizers(new Uint8Array([0, 97, 115, 109])).then(() => "no error", (error) => error.name);
const initializedAfterFailure = tokenizersInitialized();
initTokenizersSync(readFileSync(${JSON.stringify(path.join(PKG, "llmeter_tokenizers_bg.wasm"))}));
const tokenizer = await Tokenizer.fromJSON(${JSON.stringify(TINY_WORD_LEVEL_JSON)});
console.log(JSON.stringify({ failure, initializedAfterFailure, initialized: tokenizersInitialized(), ids: Array.from(tokenizer.encode("hello x hello")) }));
`);
  const child = spawnSync(process.execPath, [childFile], { cwd: ROOT, encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout), { failure: "CompileError", initializedAfterFailure: false, initialized: true, ids: [1, 0, 1] });
});

test("a Runner counts tokens with it when the API reports no usage (against llm-sim)", async () => {
  const { OpenAIEndpoint, Runner } = await import(pathToFileURL(path.join(PKG, "index.js")).href);
  const { Tokenizer } = tokenizerModule;
  const tokenizer = await Tokenizer.fromUrl(`${serverOrigin}/llama3.json`, "llama3");
  const sim = await startSim(["--ttft-ms", "5", "--itl-ms", "1", "--seed", "3"]);
  try {
    const runner = new Runner({ endpoint: new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model" }), tokenizer });
    const prompt = "Grüße aus München, 你好世界 👍🏽";
    // include_usage false: the simulator sends no usage, so counts fall back to the tokenizer.
    const payload = { messages: [{ role: "user", content: prompt }], max_tokens: 12, stream_options: { include_usage: false } };
    const result = await runner.run({ clients: 1, nRequests: 2, payload });
    assert.equal(result.stats.failed_requests, 0);
    for (const response of result.responses) {
      assert.ok(response.input_prompt.includes(prompt), response.input_prompt);
      assert.equal(response.num_tokens_input, tokenizer.countTokens(response.input_prompt));
      assert.ok(response.response_text.length > 0);
      assert.equal(response.num_tokens_output, tokenizer.countTokens(response.response_text));
    }
    assert.notEqual(result.responses[0].num_tokens_input, prompt.split(/\s+/).length, "not the whitespace fallback");
    // LLMeter's run-config loader rejects unknown tokenizer modules: run_config.json says null
    // (LLMeter's default) and run_info.json describes the JS tokenizer.
    assert.equal(result.runConfig.tokenizer, null);
    assert.deepEqual(result.info.tokenizer, { tokenizer_module: "javascript", name: "llama3" });
  } finally {
    await sim.stop();
  }
});
