// The playground's service worker, for two jobs a page cannot do itself (see www/README.md):
//
// 1. Cross-origin isolation on static hosts that cannot set headers (registered as
//    `sw.js?isolate=1` by isolation.js): it re-serves this site's own files with COOP
//    `same-origin`, COEP `require-corp` and `frame-ancestors 'none'` added, which gives the
//    engine a fine clock. Requests to other origins (the endpoint being measured, presign and
//    storage URLs) are routed straight to the network by the static routing API where the browser
//    has it (Chromium), so a measured request never waits for this worker; elsewhere its fetch
//    handler returns at once for them, which costs a dispatch per request.
// 2. The CORS diagnosis (cors.js): a page under COEP `require-corp` cannot send the no-cors probe
//    that tells "server reachable, CORS missing" from "unreachable"; this worker can, as long as
//    sw.js itself is served without COEP.
const ISOLATE = new URL(self.location.href).searchParams.has("isolate");

self.addEventListener("install", (event) => {
  if (ISOLATE && typeof event.addRoutes === "function") {
    const here = new URL(self.location.href);
    // First match wins: this site's files go to the fetch handler, everything else to the network.
    event.waitUntil(event.addRoutes([
      { condition: { urlPattern: new URLPattern({ protocol: here.protocol.slice(0, -1), hostname: here.hostname, port: here.port }) }, source: "fetch-event" },
      { condition: { urlPattern: new URLPattern({}) }, source: "network" },
    ]).catch(() => {}));
  }
  self.skipWaiting();
});
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

if (ISOLATE) {
  self.addEventListener("fetch", (event) => {
    const request = event.request;
    if (new URL(request.url).origin !== self.location.origin || request.method !== "GET") return;
    event.respondWith(isolated(request));
  });
}

/** @param {Request} request */
async function isolated(request) {
  const response = await fetch(request);
  if (response.status === 0 || response.type === "opaqueredirect") return response;
  const headers = new Headers(response.headers);
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Embedder-Policy", "require-corp");
  headers.set("Cross-Origin-Resource-Policy", "same-origin");
  // The rest of the policy is in index.html's <meta>; frame-ancestors only works as a header.
  if ((headers.get("content-type") ?? "").startsWith("text/html")) headers.append("Content-Security-Policy", "frame-ancestors 'none'");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

// {type: "probe", url} on a MessageChannel port → {reachable: boolean}: a no-cors request gets
// through to a live server whatever its CORS headers (its answer stays unreadable).
self.addEventListener("message", (event) => {
  const { data } = event;
  const port = event.ports[0];
  if (data?.type !== "probe" || !port || typeof data.url !== "string") return;
  event.waitUntil((async () => {
    try {
      await fetch(data.url, { mode: "no-cors", cache: "no-store", credentials: "omit" });
      port.postMessage({ reachable: true });
    } catch {
      port.postMessage({ reachable: false });
    }
  })());
});
