// The bench's reference service worker (fetch-reference.html?where=sw): it sends the request it
// is given, reads the streamed body to its end and answers on the port — no tool at all.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("message", (e) => {
  const port = e.ports[0];
  e.waitUntil((async () => {
    const r = await fetch(e.data.url, { method: "POST", headers: { "content-type": "application/json" }, body: e.data.body });
    const reader = r.body.getReader();
    while (!(await reader.read()).done);
    port.postMessage("done");
  })());
});
