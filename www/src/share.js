// Share links: the public configuration (never an API key, AWS credentials or header values) in the URL's
// fragment, which browsers do not send to the server hosting the page.

const PREFIX = "config=";
const ALLOWED = ["endpointType", "familyOptions", "baseUrl", "model", "headerNames", "payload", "clients", "load", "rates", "arrival", "maxConcurrency", "sweep", "warmup", "slo", "prices", "mode", "amount", "timeout", "runName", "experiment", "heatmap"];

/** @param {Record<string, unknown>} config */
export function encodeShare(config) {
  const clean = Object.fromEntries(ALLOWED.filter((k) => config[k] !== undefined && config[k] !== "").map((k) => [k, config[k]]));
  const bytes = new TextEncoder().encode(JSON.stringify(clean));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return PREFIX + btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** @param {string} fragment @returns {Record<string, unknown> | null} */
export function decodeShare(fragment) {
  if (!fragment.startsWith(PREFIX)) return null;
  try {
    const b64 = fragment.slice(PREFIX.length).replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64);
    const obj = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
    return obj && typeof obj === "object" ? Object.fromEntries(ALLOWED.filter((k) => k in obj).map((k) => [k, obj[k]])) : null;
  } catch {
    return null;
  }
}
