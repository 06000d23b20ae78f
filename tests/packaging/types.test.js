// The package's TypeScript declarations as a consumer compiles them, from the installed
// tarball, with skipLibCheck false, strict, exactOptionalPropertyTypes and
// noUncheckedIndexedAccess, under TypeScript 7 (latest) and 5.9: a typical use compiles under a
// web lib (ES2022 + DOM) and a Node-only lib (ES2022 + @types/node), and every deliberate
// mistake in types/mistakes.ts fails with the error it marks, and nothing else does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { HERE, execFileAsync, requireInstalled } from "./harness.js";

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

for (const [name, compiler] of Object.entries(COMPILERS)) {
  for (const [lib, project] of [["ES2022 + DOM", "tsconfig.dom.json"], ["ES2022 + @types/node, no DOM", "tsconfig.node.json"]]) {
    test(`${name}, ${lib}: a typical use of every entry point compiles (skipLibCheck false, strictest flags)`, async () => {
      const { code, output } = await tsc(compiler, project);
      assert.equal(code, 0, output);
    });
  }

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
