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
 * Why a run's requests to its endpoint failed, in plain words for its family.
 * @param {import("./families.js").Family} family
 * @param {import("./families.js").PublicConfig & { headerNames?: string[] }} config the run's
 *   public configuration (form.js `publicConfig()`)
 * @returns {Promise<{kind: "cors" | "mixed" | "unreachable", title: string, lines: string[]}>}
 */
export async function diagnose(family, config) {
  const request = family.request(config);
  const headerNames = config.headerNames ?? [];
  const baseUrl = request.base;
  const target = new URL(baseUrl);
  if (location.protocol === "https:" && target.protocol === "http:" && !["localhost", "127.0.0.1", "[::1]"].includes(target.hostname)) {
    return {
      kind: "mixed",
      title: "The browser blocked a plain-HTTP endpoint from this HTTPS page.",
      lines: ["Browsers do not let HTTPS pages call http:// servers (mixed content).", `Use an https:// URL for ${target.origin}, or open this page over http:// locally.`],
    };
  }
  const probe = `${baseUrl.replace(/\/+$/, "")}${family.probePath ?? "/"}`;
  // Cross-origin isolated (COEP require-corp), the page's own no-cors request is blocked
  // whatever the server does; the service worker sends it instead.
  const reachable = globalThis.crossOriginIsolated ? await probeFromServiceWorker(probe) : await probeHere(probe);
  if (reachable === null) {
    return {
      kind: "cors",
      title: `The endpoint ${target.origin} could not be reached, or it does not allow cross-origin requests (CORS).`,
      lines: [
        "This page cannot tell which: check that the server is running and reachable from this computer, and that it allows this page's origin.",
        ...corsLines(target, headerNames, request, family.corsHelp),
      ],
    };
  }
  if (!reachable) {
    return {
      kind: "unreachable",
      title: `The endpoint ${target.origin} could not be reached.`,
      lines: [
        `Check the ${family.baseUrl ? "base URL" : "region and endpoint URL"} and that the server is running and reachable from this computer.`,
        `A self-signed HTTPS certificate must be trusted first: open ${target.origin} in a tab and accept it.`,
      ],
    };
  }
  return {
    kind: "cors",
    title: "The server answered, but your browser blocked the response: the server does not allow cross-origin requests (CORS).",
    lines: corsLines(target, headerNames, request, family.corsHelp),
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
 * What the server must send for this page to read its answers: for the family's request (its
 * path, the headers it sends and the response headers it reads).
 * @param {URL} target @param {string[]} headerNames
 * @param {{ path: string, headers: string[], exposed?: string[] }} request
 * @param {string} help how this family's servers are made to allow it
 */
function corsLines(target, headerNames, request, help) {
  const allowHeaders = [...new Set([...request.headers, ...headerNames.map((h) => h.toLowerCase())])].join(", ");
  return [
    `This page (origin ${location.origin}) calls ${target.origin} from your browser, so the server must allow it. It must:`,
    `• answer the preflight OPTIONS request to ${target.pathname.replace(/\/+$/, "")}${request.path} with a 2xx status;`,
    `• send Access-Control-Allow-Origin: ${location.origin} (or *) on the preflight and on the response;`,
    `• send Access-Control-Allow-Headers: ${allowHeaders} and Access-Control-Allow-Methods: POST on the preflight.`,
    "Optional: Timing-Allow-Origin: * lets the browser report connection timings.",
    ...(request.exposed ? [`Also on the response: Access-Control-Expose-Headers: ${request.exposed.join(", ")} lets the page read the request id (each response's id) and the error code.`] : []),
    help,
  ];
}
