// Vite has no build step of its own for a service worker. Without a plugin (vite-plugin-pwa's
// `injectManifest` builds it in a Vite build of its own, an ES module by default), the usual way
// is a second input with a fixed name at the site's root, so that it may control every page (a
// service worker's scope is at most its own folder). Its output is an ES module sharing chunks
// with the page: a module service worker.
// The Probe itself needs nothing here. On the dev server, listing sw.js also makes Vite
// pre-bundle what it imports at start.
import { defineConfig } from "vite";

export default defineConfig({
  build: {
    rolldownOptions: {
      input: { main: "index.html", sw: "sw.js" },
      output: { entryFileNames: (chunk) => (chunk.name === "sw" ? "sw.js" : "assets/[name]-[hash].js") },
    },
  },
});
