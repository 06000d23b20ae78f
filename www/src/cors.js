// Turning the browser's opaque "TypeError: Failed to fetch" into an explanation. A browser hides
// why a cross-origin request failed, so we probe: a no-cors request reaches a live server even
// when CORS forbids reading its answer. Reachable + unreadable = CORS; unreachable = network.
import { probeFromServiceWorker } from "./isolation.js";

const NETWORK_ERROR = /failed to fetch|networkerror|load failed|network error|fetch failed|cors|typeerror/i;

/** @param {string[]} errors per-request error strings */
export function looksLikeNetworkFailure(errors) {
  return errors.length > 0 && errors.every((e) => NETWORK_ERROR.test(e));
}

/**
 * @param {string} baseUrl
 * @param {string[]} headerNames extra header names the run sent
 * @param {{ path: string, headers: string[], probe?: string }} [request] the family's request
 *   path and headers (default: Chat Completions, probed at `{base}/models`)
 * @returns {Promise<{kind: "cors" | "mixed" | "unreachable", title: string, lines: string[]}>}
 */
export async function diagnose(baseUrl, headerNames, request = { path: "/chat/completions", headers: ["authorization", "content-type"], probe: "/models" }) {
  const target = new URL(baseUrl);
  if (location.protocol === "https:" && target.protocol === "http:" && !["localhost", "127.0.0.1", "[::1]"].includes(target.hostname)) {
    return {
      kind: "mixed",
      title: "The browser blocked a plain-HTTP endpoint from this HTTPS page.",
      lines: ["Browsers do not let HTTPS pages call http:// servers (mixed content).", `Use an https:// URL for ${target.origin}, or open this page over http:// locally.`],
    };
  }
  const probe = `${baseUrl.replace(/\/+$/, "")}${request.probe ?? "/"}`;
  // Cross-origin isolated (COEP require-corp), the page's own no-cors request is blocked
  // whatever the server does; the service worker sends it instead.
  const reachable = globalThis.crossOriginIsolated ? await probeFromServiceWorker(probe) : await probeHere(probe);
  if (reachable === null) {
    return {
      kind: "cors",
      title: `The endpoint ${target.origin} could not be reached, or it does not allow cross-origin requests (CORS).`,
      lines: [
        "This page cannot tell which: check that the server is running and reachable from this computer, and that it allows this page's origin.",
        ...corsLines(target, headerNames, request),
      ],
    };
  }
  if (!reachable) {
    return {
      kind: "unreachable",
      title: `The endpoint ${target.origin} could not be reached.`,
      lines: [
        "Check the base URL and that the server is running and reachable from this computer.",
        "A self-signed HTTPS certificate must be trusted first: open the base URL in a tab and accept it.",
      ],
    };
  }
  return {
    kind: "cors",
    title: "The server answered, but your browser blocked the response: the server does not allow cross-origin requests (CORS).",
    lines: corsLines(target, headerNames, request),
  };
}

/** @param {string} url @returns {Promise<boolean>} whether a no-cors request got an answer */
async function probeHere(url) {
  try {
    await fetch(url, { mode: "no-cors", cache: "no-store" });
    return true;
  } catch {
    return false;
  }
}

/**
 * What the server must send for this page to read its answers.
 * @param {URL} target @param {string[]} headerNames @param {{ path: string, headers: string[] }} request
 */
function corsLines(target, headerNames, request) {
  const allowHeaders = [...request.headers, ...headerNames.map((h) => h.toLowerCase())].join(", ");
  return [
    `This page (origin ${location.origin}) calls ${target.origin} from your browser, so the server must allow it. It must:`,
    `• answer the preflight OPTIONS request to ${target.pathname.replace(/\/+$/, "")}${request.path} with a 2xx status;`,
    `• send Access-Control-Allow-Origin: ${location.origin} (or *) on the preflight and on the response;`,
    `• send Access-Control-Allow-Headers: ${allowHeaders} and Access-Control-Allow-Methods: POST on the preflight.`,
    "Optional: Timing-Allow-Origin: * lets the browser report connection timings.",
    "Many servers have a switch for this (vLLM: --allowed-origins; Ollama: OLLAMA_ORIGINS), or put a reverse proxy in front that adds the headers.",
  ];
}
