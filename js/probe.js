// @ts-check
/**
 * llmeter-wasm/probe.js — real-user sampling in production pages. A tiny entry (no tokenizer,
 * no store; the engine and its wasm are loaded only when a page view is sampled) that measures
 * a few requests from a sample of a web app's users and sends each page view's measurements as
 * one compact shard, for a collector to merge (`Result.merge` in Node, with per-label and
 * per-runtime breakdowns). See docs/SCALE.md for its privacy defaults and measured cost.
 *
 * It measures only when the page is visible and idle (`requestIdleCallback`), never on a hidden
 * tab (a probe the tab is hidden during is dropped, not sent), within a budget of requests per
 * page view and per day (kept in IndexedDB by its worker, so reloads do not reset it). Prompts, payloads
 * and response texts are left out of what it sends unless `keepText` is set.
 *
 * ```js
 * import { Probe } from "llmeter-wasm/probe.js";
 * new Probe({
 *   testId: "prod-latency", label: "eu-west", sampleRate: 0.01, requestsPerView: 1, requestsPerDay: 3,
 *   endpoint: { kind: "openai", baseUrl: "https://llm.example.com/v1", model: "m" },
 *   payload: { messages: [{ role: "user", content: "ping" }], max_tokens: 8 },
 *   beaconUrl: "https://collector.example.com/probe",
 * }).start();
 * ```
 */

/** @typedef {{ kind: "openai", [option: string]: unknown }} EndpointOptions */

/**
 * @typedef {Object} ProbeOptions
 * @property {string} testId names the collection (a folder name); shards of one test are merged
 * @property {EndpointOptions | (() => unknown)} endpoint `{kind: "openai", baseUrl, model, …}`
 *   (the class's options), or a function returning any llmeter-wasm endpoint (called lazily)
 * @property {Record<string, unknown> | Record<string, unknown>[]} payload what to send
 * @property {number} [sampleRate] share of page views that measure, 0…1 (default 0.01)
 * @property {number} [requestsPerView] requests a sampled page view sends (default 1)
 * @property {number} [requestsPerDay] requests this browser sends per UTC day, over every page
 *   view and reload (default 3)
 * @property {string} [label] region, cohort, release: the merged result breaks every metric down by it
 * @property {string} [beaconUrl] where `navigator.sendBeacon` posts the shard (text/plain JSON)
 * @property {() => Promise<string> | string} [presignedPut] or: a presigned PUT URL for this shard
 * @property {boolean} [keepText] send prompts, payloads and response texts too (default false)
 * @property {number} [idleTimeoutMs] longest wait for an idle moment once visible (default 10000);
 *   past it the probe gives up for this page view
 * @property {number} [timeout] per-request seconds (default 30)
 * @property {boolean} [serviceWorker] measure in the service worker that controls the page, which
 *   calls `serveProbes()` from `llmeter-wasm/probe-sw.js` (default false; `endpoint` must be
 *   options). The page then starts no worker: its main thread posts one message and handles one
 *   answer, the cheapest mode. While no service worker controls the page (a first visit), the probe
 *   measures as `inWorker` says; one that does not answer within the requests' timeouts and
 *   10 s fails the probe
 * @property {boolean} [inWorker] measure in a dedicated module worker (default true where
 *   `Worker` exists and `endpoint` is options, not a function): the page's main thread then
 *   only decides and sends (a page whose CSP forbids workers: set false)
 * @property {Storage} [storage] where the daily budget is kept, read on the page (default: IndexedDB,
 *   in the probe's worker; `localStorage` when measuring on the page)
 * @property {() => number} [random] the sampling draw (default `Math.random`)
 */

/**
 * @typedef {Object} ProbeOutcome
 * @property {boolean} sent
 * @property {string} reason `sent`, `not sampled`, `over the daily budget`, `over the page view's
 *   budget`, `hidden`, `no idle time`, `failed: …`
 * @property {number} [requests] requests measured
 * @property {number} [bytes] size of the shard sent
 * @property {"service worker" | "worker" | "page"} [measuredIn] where the requests were measured
 */

import { spendFromStorage, randomId, PROBE_MESSAGE } from "./probe-rules.js";

/**
 * A measurement under way: its reply, and how to stop it (the tab was hidden).
 * @typedef {{ reply: Promise<WorkerReply>, abort: () => void }} Measuring
 */

/**
 * What the measuring side reports: requests granted by the daily budget, and either the shard
 * (`text`) for the page to send or `sent` when the worker sent it.
 * @typedef {{ granted: number, interrupted: boolean, text: string | null, sent: boolean, bytes?: number }} WorkerReply
 */

/** How long past its requests' timeouts a service worker has to answer a probe (time to start
 * and load the engine) before the probe fails: it may lack `serveProbes`. */
const SERVICE_WORKER_GRACE_MS = 10_000;

/** Requests sent in this page view, per test (every Probe of the test on the page counts). */
const viewRequests = new Map();

/** @param {unknown} x @param {string} name */
function nonNegativeInt(x, name) {
  if (!(Number.isInteger(x) && /** @type {number} */ (x) >= 0)) throw new RangeError(`${name} must be a non-negative integer, got ${x}`);
  return /** @type {number} */ (x);
}

/** @type {Document | undefined} */
const doc = /** @type {any} */ (globalThis).document;
const hidden = () => doc?.visibilityState === "hidden";

export class Probe {
  /** @param {ProbeOptions} options */
  constructor(options) {
    if (!options || typeof options !== "object") throw new TypeError("Probe options must be an object");
    const o = options;
    if (typeof o.testId !== "string" || !/^[^/\\\u0000-\u001f]{1,200}$/.test(o.testId) || o.testId === "." || o.testId === "..") throw new TypeError("testId must be a folder name (1–200 characters, no slashes)");
    if (typeof o.endpoint !== "function" && (o.endpoint === null || typeof o.endpoint !== "object")) throw new TypeError("endpoint must be {kind, …options} or a function returning an endpoint");
    if (o.payload === null || typeof o.payload !== "object") throw new TypeError("payload must be an object or an array of objects");
    const sampleRate = o.sampleRate ?? 0.01;
    if (!(typeof sampleRate === "number" && sampleRate >= 0 && sampleRate <= 1)) throw new RangeError(`sampleRate must be between 0 and 1, got ${sampleRate}`);
    if (o.beaconUrl === undefined && typeof o.presignedPut !== "function") throw new TypeError("give beaconUrl or presignedPut: where the shard goes");
    if (o.serviceWorker !== undefined && typeof o.serviceWorker !== "boolean") throw new TypeError(`serviceWorker must be true or false, got ${o.serviceWorker}`);
    if (o.label !== undefined && (typeof o.label !== "string" || o.label.trim() === "" || o.label.length > 200)) throw new TypeError("label must be a string of 1–200 characters");
    /** @private */ this.o = o;
    /** @private */ this.sampleRate = sampleRate;
    /** @private */ this.perView = nonNegativeInt(o.requestsPerView ?? 1, "requestsPerView");
    /** @private */ this.perDay = nonNegativeInt(o.requestsPerDay ?? 3, "requestsPerDay");
    /** @private @type {Promise<ProbeOutcome> | null} */ this.started = null;
  }

  /**
   * Decides whether this page view measures, waits for a visible, idle moment, measures, sends.
   * Called again, it returns the same outcome. Never throws: failures are in the outcome.
   * @returns {Promise<ProbeOutcome>}
   */
  start() {
    this.started ??= this.run().catch((e) => ({ sent: false, reason: `failed: ${e?.name ?? "Error"}: ${e?.message ?? e}` }));
    return this.started;
  }

  /** @private @returns {Promise<ProbeOutcome>} */
  async run() {
    const { o } = this;
    if ((o.random ?? Math.random)() >= this.sampleRate) return { sent: false, reason: "not sampled" };
    if (hidden()) await this.visible();
    if (!(await this.idle())) return { sent: false, reason: "no idle time" };
    if (hidden()) return { sent: false, reason: "hidden" };
    const viewLeft = this.perView - (viewRequests.get(o.testId) ?? 0);
    if (viewLeft <= 0) return { sent: false, reason: "over the page view's budget" };
    // One method per place: V8 compiles a function on its first call, so the page pays only for
    // the code of the place it uses (each function ~20–150 µs of its thread, traced in Chromium).
    const options = typeof o.endpoint !== "function";
    const serviceWorker = options && o.serviceWorker === true ? serviceWorkerOfPage() : null;
    if (serviceWorker || (options && (o.inWorker ?? true) && typeof Worker === "function")) return this.measureAway(viewLeft, serviceWorker);
    return this.measureOnPage(viewLeft);
  }

  /**
   * In a worker (dedicated, or the page's service worker), which keeps the daily budget in
   * IndexedDB unless the app gives its own storage, draws the shard id and sends the shard to
   * `beaconUrl` itself.
   * @private @param {number} viewLeft @param {ServiceWorker | null} serviceWorker null: a dedicated worker
   * @returns {Promise<ProbeOutcome>}
   */
  async measureAway(viewLeft, serviceWorker) {
    const { o } = this;
    const budgetAway = o.storage === undefined;
    const granted = this.reserve(viewLeft, !budgetAway);
    if (granted <= 0) return { sent: false, reason: "over the daily budget" };
    // No shard id drawn here: a page's first `crypto` call costs its thread a quarter millisecond.
    const run = this.runOptions(granted, null);
    const budget = budgetAway ? { testId: o.testId, perDay: this.perDay, want: viewLeft } : null;
    const message = { endpoint: /** @type {EndpointOptions} */ (o.endpoint), timeout: o.timeout ?? 30, keepText: o.keepText === true, run, budget, beaconUrl: o.beaconUrl ?? null };
    return serviceWorker
      ? this.outcome(granted, "service worker", this.measureInServiceWorker(serviceWorker, message))
      : this.outcome(granted, "worker", this.measureInWorker(message));
  }

  /**
   * On the page's thread (no Worker, or an endpoint given as a function).
   * @private @param {number} viewLeft @returns {Promise<ProbeOutcome>}
   */
  async measureOnPage(viewLeft) {
    const granted = this.reserve(viewLeft, true);
    if (granted <= 0) return { sent: false, reason: "over the daily budget" };
    return this.outcome(granted, "page", this.measureHere(this.runOptions(granted, randomId()), granted));
  }

  /**
   * Spends the requests of this page view, and of the day when the page keeps that budget; the
   * budget is spent before measuring, so a reload while measuring cannot get it back.
   * @private @param {number} viewLeft @param {boolean} dayBudgetHere
   * @returns {number} the requests granted
   */
  reserve(viewLeft, dayBudgetHere) {
    const { o } = this;
    const granted = dayBudgetHere ? spendFromStorage(this.storage(), o.testId, this.perDay, viewLeft) : viewLeft;
    if (granted > 0) viewRequests.set(o.testId, (viewRequests.get(o.testId) ?? 0) + granted);
    return granted;
  }

  /**
   * The run of a page view's probe, as one shard of the test.
   * @private @param {number} granted @param {string | null} shardId null: drawn where it measures
   * @returns {any} `RunOptions` (without a shard id when null)
   */
  runOptions(granted, shardId) {
    const { o } = this;
    const shard = { testId: o.testId, ...(shardId !== null ? { shardId } : {}), ...(o.label !== undefined ? { label: o.label } : {}) };
    return { clients: 1, nRequests: granted, payload: o.payload, startJitterMs: 0, shard };
  }

  /**
   * Waits for a measurement while watching the tab (hidden, the measurement is aborted and
   * dropped), then makes the outcome, sending the shard from here if it was handed back.
   * @private @param {number} granted @param {"service worker" | "worker" | "page"} measuredIn
   * @param {Measuring} measuring
   * @returns {Promise<ProbeOutcome>}
   */
  async outcome(granted, measuredIn, measuring) {
    const { o } = this;
    let wasHidden = false;
    const onHide = () => { if (hidden()) { wasHidden = true; measuring.abort(); } };
    doc?.addEventListener("visibilitychange", onHide);
    /** @type {WorkerReply} */
    let reply;
    try {
      reply = await measuring.reply;
    } finally {
      doc?.removeEventListener("visibilitychange", onHide);
    }
    const n = reply.granted;
    // The worker may grant fewer than the page view asked for: give the rest back to the view.
    if (n < granted) viewRequests.set(o.testId, (viewRequests.get(o.testId) ?? 0) - (granted - n));
    if (n <= 0) return { sent: false, reason: "over the daily budget" };
    if (reply.sent) return { sent: true, reason: "sent", requests: n, bytes: reply.bytes, measuredIn };
    // Never a measurement from a hidden tab: its timers and network are throttled.
    if (wasHidden || reply.interrupted || reply.text === null) return { sent: false, reason: "hidden", requests: n, measuredIn };
    await this.send(reply.text);
    return { sent: true, reason: "sent", requests: n, bytes: reply.text.length, measuredIn };
  }

  /**
   * In a dedicated module worker: the engine never touches the page's main thread. The worker
   * spends the daily budget when given `budget`, and posts the shard to `beaconUrl` itself (the
   * page's thread then never handles the shard or the beacon).
   * @private @param {import("./probe-measure.js").RunMessage} message
   * @returns {Measuring}
   */
  measureInWorker(message) {
    // Written out in full: bundlers recognise exactly this form and bundle the worker.
    const worker = new Worker(new URL("./probe-worker.js", import.meta.url), { type: "module" });
    /** @type {Promise<WorkerReply>} */
    const reply = new Promise((resolve, reject) => {
      // The worker closes itself once it has answered; terminating it from here costs this thread.
      const done = () => { worker.onmessage = worker.onerror = null; };
      worker.onerror = (e) => { done(); worker.terminate(); reject(new Error(e.message || "the probe's worker failed")); };
      worker.onmessage = onAnswer(done, resolve, reject);
    });
    // Posted at once (the worker receives it when its module has loaded): no handshake, one
    // message fewer for this thread to handle.
    worker.postMessage({ type: "run", ...message });
    return { reply, abort: () => worker.postMessage({ type: "abort" }) };
  }

  /**
   * In the service worker that controls the page (probe-sw.js): as in a dedicated worker, with
   * no worker to start or end. The answer comes on a port of its own.
   * @private @param {ServiceWorker} serviceWorker @param {import("./probe-measure.js").RunMessage} message
   * @returns {Measuring}
   */
  measureInServiceWorker(serviceWorker, message) {
    const channel = new MessageChannel();
    const port = channel.port1;
    /** @type {Promise<WorkerReply>} */
    const reply = new Promise((resolve, reject) => {
      const end = () => { clearTimeout(unanswered); port.onmessage = null; port.close(); };
      // No acknowledgement (one message fewer for this thread): a service worker that does not
      // serve probes is found by its silence past the requests' own timeouts.
      const boundMs = message.timeout * 1000 * (message.run.nRequests ?? 1) + SERVICE_WORKER_GRACE_MS;
      const unanswered = setTimeout(() => {
        port.postMessage({ type: "abort" }); // a late service worker then spends and sends nothing
        end();
        reject(new Error(`the service worker did not answer the probe within ${boundMs / 1000} s (its requests' timeouts and ${SERVICE_WORKER_GRACE_MS / 1000} s): does it call serveProbes() from llmeter-wasm/probe-sw.js?`));
      }, boundMs);
      port.onmessage = onAnswer(end, resolve, reject);
    });
    serviceWorker.postMessage({ type: PROBE_MESSAGE, ...message }, [channel.port2]);
    return { reply, abort: () => port.postMessage({ type: "abort" }) };
  }

  /**
   * On the page's thread (no Worker, or an endpoint given as a function).
   * @private @param {import("./index.js").RunOptions} run @param {number} granted
   * @returns {Measuring}
   */
  measureHere(run, granted) {
    const { o } = this;
    const controller = new AbortController();
    const reply = (async () => {
      const mod = await import("./index.js");
      const endpoint = typeof o.endpoint === "function" ? await o.endpoint() : this.endpointOf(mod, o.endpoint);
      const result = await new mod.Runner({ endpoint: /** @type {any} */ (endpoint), timeout: o.timeout ?? 30 }).run({ ...run, signal: controller.signal });
      const interrupted = controller.signal.aborted || result.info.interrupted;
      const { toCompact } = await import("./llmeter_wasm.js");
      const text = interrupted ? null : toCompact(/** @type {any} */ (result)._h, o.keepText === true);
      return { granted, interrupted, text, sent: false };
    })();
    return { reply, abort: () => controller.abort() };
  }

  /** @private @param {any} mod the package @param {EndpointOptions} options */
  endpointOf(mod, options) {
    const { kind, ...rest } = options;
    const classes = { openai: mod.OpenAIEndpoint };
    const C = classes[/** @type {keyof typeof classes} */ (kind)];
    if (!C) throw new TypeError(`endpoint.kind ${JSON.stringify(kind)} is not known to the probe; pass a function returning the endpoint`);
    return new C(rest);
  }

  /** @private Resolves once the page is visible (at once where there is no document). */
  visible() {
    return new Promise((resolve) => {
      if (!hidden()) return resolve(undefined);
      const on = () => { if (!hidden()) { doc?.removeEventListener("visibilitychange", on); resolve(undefined); } };
      doc?.addEventListener("visibilitychange", on);
    });
  }

  /** @private @returns {Promise<boolean>} whether an idle moment came in time */
  idle() {
    const timeout = this.o.idleTimeoutMs ?? 10_000;
    const g = /** @type {any} */ (globalThis);
    return new Promise((resolve) => {
      if (typeof g.requestIdleCallback === "function") {
        g.requestIdleCallback((/** @type {{ didTimeout: boolean }} */ d) => resolve(!d.didTimeout), { timeout });
      } else {
        // WebKit has no requestIdleCallback: the next macrotask after load is the nearest thing.
        setTimeout(() => resolve(true), 0);
      }
    });
  }

  /** @private */
  storage() {
    try {
      return this.o.storage ?? globalThis.localStorage;
    } catch {
      return undefined; // storage blocked (privacy settings): no daily memory, so no probe
    }
  }

  /** @private @param {string} text */
  async send(text) {
    const { o } = this;
    if (o.beaconUrl !== undefined) {
      // A string body is sent as text/plain;charset=UTF-8: a simple request (no preflight) for
      // any collector origin. Not a Blob: making one costs the page's thread milliseconds.
      if (typeof navigator !== "undefined" && navigator.sendBeacon?.(o.beaconUrl, text)) return;
      const r = await fetch(o.beaconUrl, { method: "POST", body: text, headers: { "content-type": "text/plain;charset=UTF-8" }, keepalive: text.length < 60_000, credentials: "omit" });
      if (!r.ok) throw new Error(`beacon: HTTP ${r.status}`);
      return;
    }
    const url = await /** @type {() => Promise<string> | string} */ (o.presignedPut)();
    const r = await fetch(url, { method: "PUT", body: text, headers: { "content-type": "application/json" }, credentials: "omit", redirect: "manual" });
    if (!r.ok) throw new Error(`presigned PUT: HTTP ${r.status}`);
  }
}

/**
 * The page's handler of a measuring worker's messages (probe-measure.js writes them): on its
 * answer, `end`, then the reply, or the worker's error rebuilt; other messages are ignored.
 * @param {() => void} end @param {(reply: WorkerReply) => void} resolve @param {(error: Error) => void} reject
 * @returns {(e: MessageEvent) => void}
 */
function onAnswer(end, resolve, reject) {
  return (e) => {
    const m = e.data;
    if (m?.type !== "done" && m?.type !== "error") return;
    end();
    if (m.type === "done") resolve(m);
    else reject(Object.assign(new Error(m.message), { name: m.name }));
  };
}

/** The service worker that controls this page, if any. @returns {ServiceWorker | null} */
function serviceWorkerOfPage() {
  try {
    return /** @type {any} */ (globalThis).navigator?.serviceWorker?.controller ?? null;
  } catch {
    return null; // service workers blocked (privacy settings)
  }
}

/**
 * Requests the probes of a test have sent in this page view (for diagnostics).
 * @param {string} testId
 * @returns {number}
 */
export function probeRequestsThisView(testId) {
  return viewRequests.get(testId) ?? 0;
}
