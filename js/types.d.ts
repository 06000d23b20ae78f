// The shapes of the data llmeter-wasm returns and accepts: LLMeter's files (summary, stats,
// responses, run config) and our extras (timings, run info). Hand-written because the values
// come from the wasm core; the JS modules refer to them with `import("./types.js")`.
//
// Written for every consumer's lib: no DOM-only or esnext-only names (these declarations
// compile with `lib: ["ES2022"]` plus `@types/node` as well as with the DOM lib).

// ─────────────────────────────── loading the wasm modules ───────────────────────────────

/**
 * A compiled `WebAssembly.Module`. Typed as `object` (which `WebAssembly.Module` is, an empty
 * interface) so that these declarations need no DOM lib.
 */
export type WasmModule = object;

/** Bytes of a `.wasm` file (`BufferSource`). */
export type WasmBytes = ArrayBuffer | ArrayBufferView;

/**
 * What `init()` accepts: the `.wasm` file's bytes, a compiled module, its URL, or a fetch
 * `Response` for it.
 */
export type WasmSource = WasmBytes | WasmModule | URL | string | Response;

// ─────────────────────────────── payloads and endpoints ───────────────────────────────

/** A request body sent as JSON (e.g. `{messages: […], max_tokens: 64}`). */
export type Payload = { [key: string]: unknown };

// ─────────────────────────────── summary.json ───────────────────────────────

/** LLMeter's `summary.json`: its 14 keys, in LLMeter's order. */
export interface Summary {
  /** Measured requests (warm-up and cool-down ones are not counted); null if a file says so. */
  total_requests: number | null;
  clients: number;
  /** Requests per client; null for a time-bound run. */
  n_requests: number | null;
  /** Seconds from the first request's start to the last response's end. */
  total_test_time: number | null;
  model_id: string | null;
  output_path: string | null;
  endpoint_name: string | null;
  provider: string | null;
  run_name: string | null;
  run_description: string | null;
  /** UTC timestamps, `YYYY-MM-DDTHH:MM:SS.mmmZ`. */
  start_time: string | null;
  first_request_time: string | null;
  last_request_time: string | null;
  end_time: string | null;
}

// ─────────────────────────────── stats.json ───────────────────────────────

/**
 * Per-response metrics aggregated in `stats`: LLMeter's (`time_to_first_token`, …,
 * `time_per_output_token`) and ours (`time_to_first_chunk`, `inter_token_latency`).
 */
export type Metric =
  /** `schedule_lag`: open loops only, seconds each request left after it was due. */
  | "time_to_first_token"
  | "time_to_last_token"
  | "time_per_output_token"
  | "num_tokens_input"
  | "num_tokens_output"
  | "num_tokens_input_cached"
  | "time_to_first_chunk"
  | "inter_token_latency"
  | "schedule_lag";

/** LLMeter's aggregates of each metric (`statistics.mean`, median, exclusive quantiles). */
export type Aggregate = "average" | "p50" | "p90" | "p99";

/** `"time_to_first_token-p50"` and every other metric × aggregate key. */
export type MetricKey = `${Metric}-${Aggregate}`;

/**
 * Each metric's aggregates. A key is absent when the metric has no values (e.g. no successful
 * response), as in LLMeter's files.
 */
export type MetricStats = { [K in MetricKey]?: number };

/** The run-level figures of `stats.json`. */
export interface RunStats {
  failed_requests: number;
  /** 0…1; null when `total_requests` is null. */
  failed_requests_rate: number | null;
  /** null when the run's time is unknown. */
  requests_per_minute: number | null;
  total_input_tokens: number;
  total_output_tokens: number;
  total_cached_input_tokens: number;
  total_reasoning_output_tokens: number;
  average_input_tokens_per_minute: number | null;
  average_output_tokens_per_minute: number | null;
  /** Output tokens per second over the whole run (absent when its time is unknown or 0). */
  output_tps?: number;
  /** Network chunks per successful response (ours; chunks are not tokens). */
  "num_chunks-average"?: number;
  /** Present (true) only for a run that was aborted or cut short. */
  interrupted?: true;
  /** A merged result's stats per label of its shards (each group as one run of its responses). */
  by_label?: Record<string, GroupStats>;
  /** A merged result's stats per runtime family (`chromium`, `node`, …), when shards ran in several. */
  by_runtime?: Record<string, GroupStats>;
  /**
   * With `slo`: requests per minute that succeeded and met every objective (vLLM's request
   * goodput, per minute like `requests_per_minute`).
   */
  goodput?: number | null;
  /** With `slo`: the share (0…1) of requests that met every objective (DistServe). */
  slo_attainment?: number | null;
  "slo_attainment-time_to_first_token"?: number | null;
  "slo_attainment-time_per_output_token"?: number | null;
  "slo_attainment-time_to_last_token"?: number | null;
  /** Keys contributed by callbacks (`cost_*` from a `CostModel`, …). */
  [contributed: `cost_${string}`]: number | undefined;
}

/** One group of a merged result (`stats.by_label[label]`): its run figures and every metric. */
export type GroupStats = Pick<Summary, "total_requests" | "clients" | "total_test_time"> &
  RunStats &
  MetricStats & {
    /** Shards in the group. */
    shards: number;
  };

/**
 * A run's statistics, as in its `stats.json`: the summary's keys, the run-level figures, and
 * `${Metric}-${Aggregate}` for every metric (seconds for times, counts for tokens).
 */
export interface Stats extends Summary, RunStats, MetricStats {}

/** The stats kept with each run in a `ResultStore` listing (`StoredRun.stats`). */
export type ListStats = Pick<
  Stats,
  | "total_requests"
  | "failed_requests"
  | "failed_requests_rate"
  | "requests_per_minute"
  | "time_to_first_token-p50"
  | "time_to_first_token-p90"
  | "time_to_last_token-p50"
  | "time_to_last_token-p90"
  | "num_tokens_output-average"
  | "interrupted"
>;

// ─────────────────────────────── responses.jsonl ───────────────────────────────

/** LLMeter's `InvocationResponse`, field for field (one line of `responses.jsonl`). */
export interface InvocationResponse {
  /** The generated text; null for a failed request. */
  response_text: string | null;
  input_payload: Payload | null;
  /** The provider's id or a generated one; null only when a loaded file said null (kept, as LLMeter). */
  id: string | null;
  input_prompt: string | null;
  /** Seconds from just before the request to the first chunk with content. */
  time_to_first_token: number | null;
  /** Seconds to the last chunk with content (non-streaming: the end of the body). */
  time_to_last_token: number | null;
  num_tokens_input: number | null;
  num_tokens_output: number | null;
  num_tokens_input_cached: number | null;
  num_tokens_output_reasoning: number | null;
  /** `(TTLT − TTFT) / (output tokens − 1)`, seconds. */
  time_per_output_token: number | null;
  /** Why the request failed; null for a success. */
  error: string | null;
  retries: number | null;
  /** UTC timestamp of the request's start, `YYYY-MM-DDTHH:MM:SS.mmmZ`. */
  request_time: string | null;
  /**
   * Per-response data from callbacks (LLMeter 0.2.0), e.g. a `CostModel`'s `cost_*`; warm-up
   * and cool-down responses carry `load_phase`. Written only when present.
   */
  annotations?: { [key: string]: unknown };
}

/** Our timing extras for one response (`chunk_timings.jsonl`, joined on `id`). */
export interface ResponseTimings {
  id: string;
  /** Seconds to the first body chunk of any kind (role-only, usage, …). */
  time_to_first_chunk: number | null;
  /** Seconds to the response headers. */
  time_to_headers: number | null;
  /** Arrival (seconds from the request's start) of every chunk that carried content. */
  content_chunk_offsets: number[];
  /** Network reads; not a token count. */
  num_chunks: number;
  /** Server-sent events. */
  num_events: number;
  /** HTTP status, when a response arrived. */
  status: number | null;
  /** Index of the payload sent (into the run's payload list). */
  payload_index: number | null;
  /** Open loops: seconds from the run's start to when the request was due. */
  scheduled_at?: number;
  /** Seconds from the run's start to when the request was sent (`sent_at − scheduled_at` is its lag). */
  sent_at?: number;
}

// ─────────────────────────────── run_info.json ───────────────────────────────

/**
 * How the clock behaves, which bounds the accuracy of every timing: `fine` (Node, Deno),
 * `coarsened` (browsers: 100 µs steps; local workerd: 1 ms), `frozen-between-io` (deployed
 * Cloudflare Workers: time moves only when I/O completes).
 */
export type ClockKind = "fine" | "coarsened" | "frozen-between-io";

/** Where and how a run was measured (`run_info.json`; not one of LLMeter's files). */
export interface RunInfo {
  /** Aborted, or cut short (a closed tab, a subrequest limit). */
  interrupted: boolean;
  /** Platform distortions: connection limits, a hidden tab, a coarse or frozen clock. */
  warnings: string[];
  /** e.g. `node 20.20.2`, `deno 2.9.6`, `workerd`, `HeadlessChrome/156.0.0.0 (worker)`. */
  runtime: string | null;
  /** HTTP protocol seen (`http/1.1`, `h2`), when the platform exposes it. */
  protocol: string | null;
  /** The HTTP client: `fetch`, or `node:http` (Node's own client, the default in Node). */
  transport?: "fetch" | "node:http";
  /** Smallest non-zero step of the clock observed, in ms. */
  timer_resolution_ms: number | null;
  clock: ClockKind | null;
  /** What a store could not save, if anything. */
  unsaved: string | null;
  /** This machine's wall-clock offset against the endpoint's `Date` headers (shards). */
  clock_offset?: ClockOffset;
  /** A merged result's shards, in the order of their responses, and the plan's missing and late ones. */
  fleet?: FleetInfo;
  /** How requests were started: a closed loop (clients) or an open loop (arrivals at a rate). */
  load?: LoadInfo;
  /** The latency objectives (seconds) of `goodput` and `slo_attainment`. */
  slo?: { ttft?: number; tpot?: number; ttlt?: number };
  /** A custom tokenizer's description (`run_config.json` then says null, LLMeter's default). */
  tokenizer?: unknown;
}

/** `reference time = local time + offset_ms`, known to ± `uncertainty_ms`. */
export interface ClockOffset {
  offset_ms: number;
  uncertainty_ms: number;
  /** `Date` headers it rests on (0 for the same clock). */
  samples: number;
  /** Samples that contradicted the others. */
  conflicts: number;
  /** `endpoint`, `store`, `same clock`. */
  source: string | null;
}

/** A shard's manifest (`shard.json`). */
export interface ShardManifest {
  test_id: string;
  shard_id: string;
  label: string | null;
  /** e.g. `HeadlessChrome/141.0.0.0 (worker)`, `node 20.20.2`, `workerd`. */
  runtime: string | null;
  /** e.g. `llmeter-wasm 0.1.0`. */
  engine: string | null;
  /** The plan it ran. */
  plan: Record<string, unknown> | null;
  clock_offset: ClockOffset | null;
}

/** What a merged result records about its shards (`info.fleet`). */
export interface FleetInfo {
  test_id: string | null;
  /** Shard `i` owns the `responses` responses after those of the shards before it. */
  shards: ShardEntry[];
  /** Shards the plan lists that did not come. */
  missing: string[];
  /** Shards that started more than the plan's `late_after_s` after its start. */
  late: string[];
}

export interface ShardEntry {
  shard_id: string | null;
  label: string | null;
  runtime: string | null;
  engine: string | null;
  responses: number;
  clients: number;
  /** On the reference clock. */
  start_time: string | null;
  end_time: string | null;
  clock_offset: ClockOffset | null;
  interrupted: boolean;
}

/** The load model of a run (`run_info.json`). */
export interface LoadInfo {
  model: "closed" | "open";
  /** Open loop: requests per second offered. */
  rate?: number;
  arrival?: "constant" | "poisson";
  /** Open loop: most requests in flight (also `clients` in `summary.json`). */
  max_concurrency?: number;
  seed?: number;
  warmup?: { requests: number } | { seconds: number };
  cooldown?: { requests: number } | { seconds: number };
  /** Warm-up and cool-down responses (in `warmup_cooldown.jsonl`, not in the stats). */
  excluded_responses: number;
}

// ─────────────────────────────── run_config.json ───────────────────────────────

/** The endpoint as LLMeter's `run_config.json` describes it (never any secret). */
export interface RunConfigEndpoint {
  endpoint_name?: string | null;
  model_id?: string | null;
  provider?: string | null;
  base_url?: string | null;
  /** LLMeter's endpoint class name, e.g. `OpenAICompletionStreamEndpoint`. */
  endpoint_type?: string | null;
}

/**
 * LLMeter's `run_config.json` (secrets removed). Files written by other tools may carry
 * more keys; these are the ones LLMeter defines.
 */
export interface RunConfig {
  endpoint: RunConfigEndpoint | null;
  output_path: string | null;
  tokenizer: unknown;
  clients: number | null;
  n_requests: number | null;
  run_duration: number | null;
  payload: unknown;
  run_name: string | null;
  run_description: string | null;
  timeout: number | null;
  callbacks: unknown;
  low_memory: boolean | null;
  progress_bar_stats: unknown;
}

/**
 * Text of a run folder's file (`Result.fromFiles`); a JSON-lines file (`responses.jsonl`,
 * `chunk_timings.jsonl`) may also be given as text pieces (cut anywhere, even inside a line),
 * e.g. pages read from storage.
 */
export type FileContent = string | Iterable<string> | AsyncIterable<string>;

// ─────────────────────────────── progress ───────────────────────────────

/** Live statistics during a run (seconds; null until there is data). */
export interface LiveStats {
  completed: number;
  failed: number;
  ttft_p50: number | null;
  ttft_p90: number | null;
  ttlt_p50: number | null;
  ttlt_p90: number | null;
  requests_per_minute: number | null;
  output_tokens_per_second: number | null;
}

/** What `onProgress` receives during a run (throttled to `progressIntervalMs`). */
export interface Progress {
  completed: number;
  failed: number;
  /** Requests the run will send; null for a time-bound run. */
  expected: number | null;
  elapsedS: number;
  inFlight: number;
  stats: LiveStats;
}

// ─────────────────────────────── figures ───────────────────────────────

/** A Plotly figure: `Plotly.newPlot(div, figure.data, figure.layout)`. */
export interface Figure {
  data: Array<{ [key: string]: unknown }>;
  layout: { [key: string]: unknown };
}
