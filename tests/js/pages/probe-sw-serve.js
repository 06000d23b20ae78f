// An app's service worker that serves Probes (module service worker).
import { serveProbes } from "/pkg/probe-sw.js";
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
serveProbes();
