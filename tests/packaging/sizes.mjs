// Prints the bundle sizes the packaging tests recorded (out/packaging/sizes/*.json) as one
// table, and writes it to out/packaging/sizes.md.
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { OUT, kb } from "./harness.js";

const dir = path.join(OUT, "sizes");
const rows = existsSync(dir) ? readdirSync(dir).sort().flatMap((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")).map((r) => ({ app: f.replace(/\.json$/, ""), ...r }))) : [];
const table = ["| app | what | file | raw | gzipped |", "| --- | --- | --- | --- | --- |", ...rows.map((r) => `| ${r.app} | ${r.what} | \`${r.file}\` | ${kb(r.raw)} | ${kb(r.gzip)} |`)].join("\n");
writeFileSync(path.join(OUT, "sizes.md"), `${table}\n`);
console.log(`\nBundle sizes (gzip -9), also in ${path.relative(process.cwd(), path.join(OUT, "sizes.md"))}:\n${table}`);
