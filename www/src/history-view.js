// The History section: the runs stored in this browser, opening and comparing them, load-test
// groups, delete, zip export and import, upload through the user's presign endpoint.
import { $, el, download, safeName } from "./dom.js";
import { fmtMs } from "./results.js";
import { getRun, storedRun, deleteRun, listRuns, groupZip, importZip, uploadRun } from "./history.js";
import { showRecords, shownRecords, hideResults, exportZip } from "./results-view.js";

export async function refreshHistory() {
  let runs = [];
  try {
    runs = await listRuns();
  } catch (e) {
    $("history-status").textContent = `History is unavailable: ${e?.message ?? e}`;
    return;
  }
  const body = $("history-table").tBodies[0];
  body.replaceChildren();
  $("history-status").textContent = runs.length ? `${runs.length} run${runs.length === 1 ? "" : "s"} saved in this browser.` : "No runs yet. Finished and stopped runs are saved here, in this browser only.";
  const groupsSeen = new Set();
  for (const r of runs) body.append(historyRow(r, runs, groupsSeen));
  updateCompare();
}

function historyRow(r, runs, groupsSeen) {
  const tr = document.createElement("tr");
  tr.dataset.id = r.id;
  tr.dataset.status = r.status;
  const running = r.status === "running";
  const pick = document.createElement("input");
  pick.type = "checkbox";
  pick.className = "pick";
  pick.disabled = running;
  pick.setAttribute("aria-label", `Select “${r.name}” to compare`);
  pick.addEventListener("change", updateCompare);
  const c0 = document.createElement("td");
  c0.append(pick);
  const name = document.createElement("td");
  const open = el("button", r.name, { type: "button", class: "link", "aria-label": `Open run “${r.name}”` });
  open.disabled = running;
  open.addEventListener("click", () => openRecords([r.id]));
  name.append(open);
  const levels = r.group && !groupsSeen.has(r.group) ? runs.filter((x) => x.group === r.group && x.status !== "running").sort((a, b) => (a.clients ?? 0) - (b.clients ?? 0)) : [];
  if (levels.length >= 2) {
    groupsSeen.add(r.group);
    const g = el("button", `Open load test (${levels.length} levels)`, { type: "button", class: "link small-link", "aria-label": `Open load test (${levels.length} levels) “${r.group}”` });
    g.addEventListener("click", () => openRecords(levels.map((x) => x.id), r.group));
    const z = el("button", "Zip load test", { type: "button", class: "link small-link", "aria-label": `Zip load test “${r.group}”` });
    z.addEventListener("click", async () => download(await groupZip(r.group), `${safeName(r.group)}.zip`));
    name.append(document.createElement("br"), g, " · ", z);
  }
  const status = el("td", "");
  const badge = el("span", r.status, { class: `badge ${r.status}` });
  if (r.note) badge.title = r.note;
  status.append(badge);
  const b = r.brief;
  const actions = document.createElement("td");
  actions.className = "row-actions";
  const action = (label, aria, fn) => {
    const btn = el("button", label, { type: "button", class: "small secondary", "aria-label": aria });
    btn.disabled = running;
    btn.addEventListener("click", fn);
    actions.append(btn);
  };
  action("Zip", `Export “${r.name}” as zip`, () => exportZip(storedRun(r.id, r.name)));
  action("Upload", `Upload “${r.name}” via the presign endpoint`, () => upload(storedRun(r.id, r.name)));
  action("Delete", `Delete “${r.name}”`, () => removeRun(r));
  tr.append(c0, name, el("td", new Date(r.createdAt).toLocaleString()), status, el("td", b ? `${b.completed} ok${b.failed ? ` · ${b.failed} failed` : ""}` : "–"), el("td", fmtMs(b?.ttftP50)), el("td", fmtMs(b?.ttltP50)), actions);
  return tr;
}

/** Opens stored runs in Results (one, several to compare, or a load test's levels). */
async function openRecords(ids, group = "") {
  const records = (await Promise.all(ids.map(getRun))).filter(Boolean);
  if (!records.length) return;
  await showRecords(records, group);
  $("results").scrollIntoView({ behavior: "smooth" });
}

function updateCompare() {
  const n = document.querySelectorAll("#history-table .pick:checked").length;
  $("compare").disabled = n < 2;
  $("compare").textContent = n >= 2 ? `Compare ${n} runs` : "Compare selected";
}

async function compareSelected() {
  const ids = [...document.querySelectorAll("#history-table .pick:checked")].map((e) => e.closest("tr").dataset.id);
  if (ids.length >= 2) await openRecords(ids);
}

async function removeRun(r) {
  if (!confirm(`Delete the run “${r.name}” from this browser?`)) return;
  await deleteRun(r.id);
  if (shownRecords().some((s) => s.id === r.id)) hideResults();
  await refreshHistory();
  $("history-status").textContent = `Deleted “${r.name}”.`;
}

async function importFile(file) {
  try {
    const n = await importZip(file);
    await refreshHistory();
    $("history-status").textContent = `Imported ${n} run${n === 1 ? "" : "s"} from ${file.name}.`;
  } catch (e) {
    $("history-status").textContent = `Could not import ${file.name}: ${e?.message ?? e}`;
  }
}

async function upload(record) {
  if (!record) return;
  const endpoint = $("presign-url").value.trim();
  if (!endpoint) {
    $("presign-url").closest("details").open = true;
    $("presign-url").focus();
    $("history-status").textContent = "Enter a presign endpoint first (under “Upload to your storage”).";
    return;
  }
  try {
    $("history-status").textContent = `Uploading “${record.name}”…`;
    const done = await uploadRun(record, endpoint, `${record.name}/`);
    $("history-status").textContent = `Uploaded “${record.name}”: ${done.uploaded.length} files under ${record.name}/.`;
  } catch (e) {
    $("history-status").textContent = `Upload failed: ${e?.message ?? e}${e instanceof TypeError ? " (network or CORS: the presign endpoint and the storage must allow this origin)" : ""}`;
  }
}

/** Wires the History section's controls. */
export function initHistory() {
  $("compare").addEventListener("click", compareSelected);
  $("import-zip").addEventListener("change", async () => {
    const f = $("import-zip").files[0];
    if (f) await importFile(f);
    $("import-zip").value = "";
  });
  return refreshHistory();
}
