// Prints the bundle sizes the packaging tests recorded (out/packaging/sizes/*.json) as tables,
// and writes them to out/packaging/sizes.md: one line per app with its initial JS and every wasm
// module it carries (gzipped), then every file measured.
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { OUT, WASM_MODULES, kb } from "./harness.js";

// The apps the suite records: one missing means its test did not get that far.
const APPS = ["vite", "webpack", "esbuild", "next-turbopack", "next-webpack", "node", "node-esbuild", "deno", "workerd"];

const dir = path.join(OUT, "sizes");
const records = new Map(existsSync(dir) ? readdirSync(dir).map((f) => [f.replace(/\.json$/, ""), JSON.parse(readFileSync(path.join(dir, f), "utf8"))]) : []);
const apps = [...APPS, ...[...records.keys()].filter((a) => !APPS.includes(a)).sort()];
const modules = WASM_MODULES.filter((m) => [...records.values()].some((r) => r.wasm.some((w) => w.module === m)));

/** "a; b ×2": equal entries once, with their count. */
const joinCounted = (items) => [...items.reduce((m, i) => m.set(i, (m.get(i) ?? 0) + 1), new Map())].map(([i, n]) => (n > 1 ? `${i} ×${n}` : i)).join("; ");
const wasmCell = (rows) => joinCounted(rows.map((w) => {
  const notes = [w.how === "inlined base64" ? "base64 in JS" : "", w.loaded === false ? "not loaded" : ""].filter(Boolean);
  return [w.where, kb(w.gzip), notes.length ? `(${notes.join(", ")})` : ""].filter(Boolean).join(" ");
}));

const summary = [
  `| app | initial JS | ${modules.join(" | ")} |`,
  `| --- | --- | ${modules.map(() => "---").join(" | ")} |`,
  ...apps.map((app) => {
    const r = records.get(app);
    if (!r) return `| ${app} | not recorded (its test did not finish) | ${modules.map(() => "").join(" | ")} |`;
    const initial = r.initial.map((i) => `${i.what} ${kb(i.gzip)} (${i.files.length} file${i.files.length > 1 ? "s" : ""})`).join("; ");
    return `| ${app} | ${initial} | ${modules.map((m) => wasmCell(r.wasm.filter((w) => w.module === m)) || "–").join(" | ")} |`;
  }),
].join("\n");

const details = [
  "| app | what | file | raw | gzipped |",
  "| --- | --- | --- | --- | --- |",
  ...apps.flatMap((app) => {
    const r = records.get(app);
    if (!r) return [];
    return [
      ...r.initial.map((i) => `| ${app} | initial JS (${i.what}) | ${i.files.map((f) => `\`${f}\``).join(" + ")} | ${kb(i.raw)} | ${kb(i.gzip)} |`),
      ...r.wasm.map((w) => `| ${app} | ${w.module} (${[w.where, w.how, w.loaded === false ? "not loaded" : ""].filter(Boolean).join(", ")}) | \`${w.file}\` | ${kb(w.raw)} | ${kb(w.gzip)} |`),
      ...r.other.map((o) => `| ${app} | ${o.what} | \`${o.file}\` | ${kb(o.raw)} | ${kb(o.gzip)} |`),
    ];
  }),
].join("\n");

const legend = [
  "Gzipped with zlib at level 9, each file on its own (1 KB = 1024 bytes). Initial JS: the entry",
  "scripts of a page or worker and every module they import statically (what loads before it",
  "runs; `import()` chunks load on demand). Wasm by module, told by content: `base64 in JS` is a",
  "copy inlined in a JS file (that file's size counts in its JS too); `not loaded`: emitted, but",
  "this app never fetched it. Node and Deno load the package unbundled: their initial JS is the",
  "package's modules the app imports.",
].join("\n");
const text = `${summary}\n\n${legend}\n\nEvery file measured:\n\n${details}\n`;
writeFileSync(path.join(OUT, "sizes.md"), text);
console.log(`\nBundle sizes, also in ${path.relative(process.cwd(), path.join(OUT, "sizes.md"))}:\n\n${text}`);
