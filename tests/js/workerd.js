// A real workerd (npm `workerd`) running scripts/bench/workerd/worker.js — the package imported
// as workerd users do (the .wasm as a module, initSync) — driven over HTTP: POST a loop spec
// ({kind: "engine"|"bare", base, clients, perClient, maxTokens}), get its samples back.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "./sim.js";
import { stopProcess } from "./process.js";

const MODULES = [
  ["worker.js", "scripts/bench/workerd/worker.js", "esModule"],
  ["scripts/bench/pages/loops.js", "scripts/bench/pages/loops.js", "esModule"],
  ["tests/js/bare.js", "tests/js/bare.js", "esModule"],
  ["pkg/index.js", "pkg/index.js", "esModule"],
  ["pkg/loader.js", "pkg/loader.js", "esModule"],
  ["pkg/core.js", "pkg/core.js", "esModule"],
  ["pkg/crash.js", "pkg/crash.js", "esModule"],
  ["pkg/engines.js", "pkg/engines.js", "esModule"],
  ["pkg/pump.js", "pkg/pump.js", "esModule"],
  ["pkg/node-http.js", "pkg/node-http.js", "esModule"],
  ...readdirSync(path.join(ROOT, "pkg/endpoints")).filter((f) => f.endsWith(".js")).map((f) => [`pkg/endpoints/${f}`, `pkg/endpoints/${f}`, "esModule"]),
  ["pkg/experiments.js", "pkg/experiments.js", "esModule"],
  ["pkg/result-loader.js", "pkg/result-loader.js", "esModule"],
  ["pkg/report.js", "pkg/report.js", "esModule"],
  ["pkg/callbacks.js", "pkg/callbacks.js", "esModule"],
  ["pkg/output.js", "pkg/output.js", "esModule"],
  ["pkg/llmeter_wasm.js", "pkg/llmeter_wasm.js", "esModule"],
  ["pkg/llmeter_wasm_bg.wasm", "pkg/llmeter_wasm_bg.wasm", "wasm"],
];

/** @returns {Promise<{run: (spec: object) => Promise<any>, stop: () => Promise<void>, version: string}>} */
export async function startWorkerd() {
  const bin = createRequire(import.meta.url)("workerd").default;
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-workerd-"));
  const modules = MODULES.map(([name, file, type]) => `(name = "${name}", ${type} = embed "${path.relative(dir, path.join(ROOT, file))}")`).join(",\n      ");
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = (
      modules = [
      ${modules}
      ],
      compatibilityDate = "2026-11-01",
      globalOutbound = "internet",
    )),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
`;
  writeFileSync(path.join(dir, "config.capnp"), config);
  const proc = spawn(bin, ["serve", path.join(dir, "config.capnp"), "--socket-addr", "http=127.0.0.1:0", "--control-fd", "3"], { stdio: ["ignore", "ignore", "inherit", "pipe"] });
  const killOnExit = () => proc.kill();
  process.on("exit", killOnExit);
  const lines = createInterface({ input: proc.stdio[3] });
  const port = await new Promise((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`workerd exited with ${code}`)));
    lines.on("line", (l) => {
      const ev = JSON.parse(l);
      if (ev.event === "listen" && ev.socket === "http") resolve(ev.port);
    });
  });
  const version = await new Promise((resolve) => {
    const v = spawn(bin, ["--version"]);
    let s = "";
    v.stdout.on("data", (d) => (s += d));
    v.on("exit", () => resolve(s.trim()));
  });
  return {
    version,
    async run(spec) {
      const r = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: JSON.stringify(spec) });
      if (!r.ok) throw new Error(`workerd: ${r.status} ${await r.text()}`);
      return r.json();
    },
    async stop() {
      process.off("exit", killOnExit);
      await stopProcess(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
