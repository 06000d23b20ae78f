// Opening a fleet: the shards of one test merged exactly by the package (llmeter-wasm/fleet.js)
// and shown as one result with its per-label (and per-runtime) breakdown. Shards come from a
// fleet link (a JSON document of presigned GET URLs, made by the merge step in Node: `fleetLink`),
// or from files the user picks: exported shard zips, shard folders, probes' compact shards.
import { $ } from "./dom.js";
import { showRecords } from "./results-view.js";
import { briefOf } from "./results.js";

/** Run folders in picked files: zips (each may hold several shard folders), folder picks, compact shards. */
async function shardsOf(files) {
  const { fromZip, fromFileList } = await import("./pkg/store.js");
  /** @type {(Record<string, string> | string)[]} */
  const shards = [];
  const loose = [];
  for (const file of files) {
    if (/\.zip$/i.test(file.name)) {
      const folder = await fromZip(await file.arrayBuffer());
      shards.push(...foldersOf(folder));
    } else if (/\.json$/i.test(file.name) && !file.webkitRelativePath) {
      const text = await file.text();
      if (text.includes('"llmeter-shard/1"')) shards.push(text); // a probe's compact shard
      else loose.push(file);
    } else loose.push(file);
  }
  if (loose.length) shards.push(...foldersOf(await fromFileList(loose)));
  return shards;
}

/** The run folders of an imported folder (one run, or a load-test-like layout of several). */
function foldersOf(folder) {
  if (folder.kind === "run") return [folder.files];
  /** @type {Map<string, Record<string, string>>} */
  const runs = new Map();
  for (const [p, text] of Object.entries(folder.files)) {
    const cut = p.lastIndexOf("/");
    const dir = cut < 0 ? "" : p.slice(0, cut);
    if (!runs.has(dir)) runs.set(dir, {});
    runs.get(dir)[p.slice(cut + 1)] = text;
  }
  return [...runs.values()].filter((f) => "summary.json" in f || "responses.jsonl" in f);
}

async function show(result, name) {
  const record = {
    id: null,
    name,
    group: "",
    clients: result.summary.clients,
    createdAt: Date.now(),
    status: "complete",
    brief: { ...briefOf(result), warnings: [...(result.info.warnings ?? [])] },
    config: { model: result.summary.model_id ?? undefined },
    result,
  };
  await showRecords([record]);
  const fleet = result.info.fleet;
  const labels = Object.keys(result.stats.by_label ?? {});
  $("fleet-status").textContent = `Merged ${fleet?.shards.length ?? 0} shards of “${name}”: ${result.summary.total_requests} requests${labels.length ? `, ${labels.length} label${labels.length > 1 ? "s" : ""}` : ""}${fleet?.missing.length ? `; missing: ${fleet.missing.join(", ")}` : ""}.`;
  $("results").scrollIntoView({ block: "start" });
}

async function openLink() {
  const url = $("fleet-link").value.trim();
  if (!url) return void ($("fleet-status").textContent = "Paste the URL of a fleet link first.");
  try {
    $("fleet-status").textContent = "Reading the fleet link…";
    const r = await fetch(url, { credentials: "omit", cache: "no-store" });
    if (!r.ok) throw new Error(`GET answered HTTP ${r.status}`);
    const link = await r.json();
    const { mergeFleetLink } = await import("./pkg/fleet.js");
    $("fleet-status").textContent = `Merging the shards of “${link.test_id}”…`;
    await show(await mergeFleetLink(link), link.test_id);
  } catch (e) {
    $("fleet-status").textContent = `Could not open the fleet: ${e?.message ?? e}${e instanceof TypeError ? " (network or CORS: the storage must allow this origin)" : ""}`;
  }
}

async function openFiles(input) {
  const files = [...input.files];
  input.value = "";
  if (!files.length) return;
  try {
    $("fleet-status").textContent = `Reading ${files.length} file${files.length > 1 ? "s" : ""}…`;
    const shards = await shardsOf(files);
    if (!shards.length) throw new Error("no shard found (a shard is a run folder with summary.json and responses.jsonl, or a probe's compact shard)");
    const { Result } = await import("./pkg/index.js");
    const merged = await Result.merge(shards);
    await show(merged, merged.info.fleet?.test_id ?? merged.summary.run_name ?? "fleet");
  } catch (e) {
    $("fleet-status").textContent = `Could not merge: ${e?.message ?? e}`;
  }
}

/** Wires the fleet controls. */
export function initFleet() {
  $("fleet-open-link").addEventListener("click", openLink);
  $("fleet-files").addEventListener("change", () => openFiles($("fleet-files")));
  $("fleet-folder").addEventListener("change", () => openFiles($("fleet-folder")));
}
