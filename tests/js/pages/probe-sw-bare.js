// An app's service worker that does not serve Probes (it forgot serveProbes()).
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
