// The package's TypeScript declarations as a consumer compiles them, from the installed
// tarball, with skipLibCheck false, strict, exactOptionalPropertyTypes and
// noUncheckedIndexedAccess, under TypeScript 7 (latest) and 5.9: a typical use compiles under a
// web lib (ES2022 + DOM) and a Node-only lib (ES2022 + @types/node), and every deliberate
// mistake in types/mistakes.ts fails with the error it marks, and nothing else does. The data
// types are hand-written (the values come from the wasm core), so real values from llm-sim runs
// are written out as literals of those types and must compile too: no key the core writes is
// missing from the declarations, none declared is missing from the data, no type differs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startSim } from "../js/sim.js";
import { HERE, execFileAsync, requireInstalled, SIM_ARGS } from "./harness.js";

const TYPES = path.join(HERE, "types");
const COMPILERS = {
  "TypeScript 7": path.join(HERE, "node_modules/typescript/bin/tsc"),
  "TypeScript 5.9": path.join(HERE, "node_modules/typescript-5/bin/tsc"),
};

/** Runs tsc on a project; resolves with its exit code and diagnostics (`file(line,col): error TSn`). */
async function tsc(compiler, project) {
  requireInstalled();
  try {
    await execFileAsync(process.execPath, [compiler, "-p", project, "--pretty", "false"], { cwd: TYPES });
    return { code: 0, errors: [] };
  } catch (e) {
    const errors = [...e.message.matchAll(/^(\S+)\((\d+),\d+\): error (TS\d+): (.*)$/gm)].map(([, file, line, code, text]) => ({ file, line: Number(line), code, text }));
    return { code: 1, errors, output: e.message };
  }
}

let sim;
before(async () => { sim = await startSim([...SIM_ARGS, "--fault-rate", "0.4", "--faults", "500,malformed-sse"]); });
after(async () => { await sim?.stop(); });

test("real results (a run with failures, a heatmap, a zip round trip) are values of the declared types", async () => {
  requireInstalled();
  const { init, OpenAIEndpoint, Runner, LatencyHeatmap } = await import("llmeter-wasm");
  const { toZip, fromZip } = await import("llmeter-wasm/store.js");
  await init();
  const endpoint = new OpenAIEndpoint({ baseUrl: sim.base, model: "sim-model" });
  const progress = [];
  const result = await new Runner({ endpoint, timeout: 10 }).run({ clients: 2, nRequests: 6, payload: endpoint.createPayload("typed", 4), progressIntervalMs: 0, onProgress: (p) => progress.push(p) });
  assert.ok(result.stats.failed_requests > 0 && result.stats.failed_requests < 12, "some requests failed, some succeeded");
  const hm = await new LatencyHeatmap({ endpoint, sourceText: "one two three four five six ".repeat(10), clients: 1, inputLengths: [3], outputLengths: [2] }).run();
  const folder = await fromZip(await toZip(result));
  const values = {
    Summary: result.summary, Stats: result.stats, "InvocationResponse[]": result.responses, "ResponseTimings[]": result.timings,
    RunInfo: result.info, RunConfig: result.runConfig, "Progress[]": progress.slice(0, 3), HeatmapPlan: hm.plan, ImportedFolder: folder,
  };
  const file = path.join(TYPES, ".real-values.ts"); // written here so "llmeter-wasm" resolves; git-ignored
  writeFileSync(file, [
    `// Written by types.test.js from real runs against llm-sim.`,
    `import type { ${Object.keys(values).filter((t) => t !== "ImportedFolder").map((t) => t.replace("[]", "")).join(", ")} } from "llmeter-wasm";`,
    `import type { ImportedFolder } from "llmeter-wasm/store.js";`,
    ...Object.entries(values).map(([type, value], i) => `export const v${i}: ${type} = ${JSON.stringify(value, null, 1)};`),
  ].join("\n"));
  for (const compiler of Object.values(COMPILERS)) {
    const { code, output } = await tsc(compiler, "tsconfig.real.json");
    assert.equal(code, 0, output);
  }
});

for (const [name, compiler] of Object.entries(COMPILERS)) {
  for (const [lib, project] of [["ES2022 + DOM", "tsconfig.dom.json"], ["ES2022 + @types/node, no DOM", "tsconfig.node.json"]]) {
    test(`${name}, ${lib}: a typical use of every entry point compiles (skipLibCheck false, strictest flags)`, async () => {
      const { code, output } = await tsc(compiler, project);
      assert.equal(code, 0, output);
    });
  }

  test(`${name}: every declaration file the package ships compiles, also those no entry point reaches`, async () => {
    const { code, output } = await tsc(compiler, "tsconfig.all.json");
    assert.equal(code, 0, output);
  });

  test(`${name}: each deliberate mistake in types/mistakes.ts is an error, with the code it marks`, async () => {
    const source = readFileSync(path.join(TYPES, "mistakes.ts"), "utf8").split("\n");
    const expected = source.flatMap((line, i) => {
      const m = / \/\/ expect (TS\d+)$/.exec(line);
      return m ? [`mistakes.ts:${i + 1} ${m[1]}`] : [];
    });
    assert.ok(expected.length >= 20, "the mistakes are marked");
    const { code, errors, output } = await tsc(compiler, "tsconfig.mistakes.json");
    assert.equal(code, 1, "tsc must fail");
    assert.ok(errors.length > 0, output);
    const got = errors.map((e) => `${e.file}:${e.line} ${e.code}`);
    assert.deepEqual(got, expected, `every marked line fails as marked and no other line fails:\n${errors.map((e) => `${e.file}:${e.line} ${e.code} ${e.text}`).join("\n")}`);
  });
}
