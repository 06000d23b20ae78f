// The app's service worker: it measures the Probes of the pages it controls.
import { serveProbes } from "llmeter-wasm/probe-sw.js";

serveProbes();
