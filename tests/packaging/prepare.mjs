// Packs pkg/ with `npm pack` (as `npm publish` would) and installs that tarball into
// tests/packaging/node_modules, next to the apps' pinned dependencies (`npm ci` by setup.sh).
// Run after `bash scripts/build.sh`; the *.test.js files here use what it installed.
//   node tests/packaging/prepare.mjs
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { HERE, OUT, PKG, TARBALL } from "./harness.js";

const npm = (args, cwd) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const [packed] = JSON.parse(npm(["pack", "--json", "--pack-destination", OUT, PKG], HERE));
if (path.join(OUT, packed.filename) !== TARBALL) throw new Error(`npm pack wrote ${packed.filename}, expected ${path.basename(TARBALL)}`);
console.log(`[packaging] ${packed.filename}: ${packed.entryCount} files, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked`);

// --no-save: the lock file pins the apps' dependencies; the tarball changes with every build.
npm(["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", TARBALL], HERE);
const installed = JSON.parse(readFileSync(path.join(HERE, "node_modules/llmeter-wasm/package.json"), "utf8"));
console.log(`[packaging] installed llmeter-wasm ${installed.version} into ${path.relative(process.cwd(), HERE)}/node_modules`);
