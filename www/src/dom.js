// Small DOM helpers shared by the page's views: element lookup, text-only cells, the problem box,
// warning lists and downloads. Everything from a run or a server goes in as text, never as HTML.

/** @param {string} id @returns {any} */
export const $ = (id) => document.getElementById(id);

/**
 * @param {string} tag
 * @param {string | number} text
 * @param {Record<string, string>} [attrs]
 */
export function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** @param {string} title @param {string[]} [lines] @param {string} [kind] */
export function showProblem(title, lines = [], kind = "error") {
  const box = $("problem");
  box.replaceChildren();
  box.dataset.kind = kind;
  box.append(el("strong", title));
  if (lines.length) {
    const ul = document.createElement("ul");
    for (const l of lines) ul.append(el("li", l.replace(/^• /, "")));
    box.append(ul);
  }
  box.hidden = false;
}

export function clearProblem() {
  $("problem").hidden = true;
  $("problem").replaceChildren();
}

/** @param {HTMLElement} box @param {string[] | undefined} warnings */
export function showWarnings(box, warnings) {
  box.replaceChildren();
  box.hidden = !warnings?.length;
  for (const w of warnings ?? []) box.append(el("p", `⚠ ${w}`));
}

/** A file name from a run name. @param {string} name */
export function safeName(name) {
  return name.replace(/[^\w.-]+/g, "_").slice(0, 80) || "run";
}

/** @param {Blob} blob @param {string} filename */
export function download(blob, filename) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
