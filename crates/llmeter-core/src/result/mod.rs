//! A run's result: LLMeter's `Result` (summary.json), its stats (stats.json), its responses
//! (responses.jsonl), plus our extras in files LLMeter ignores.

mod builder;
mod files;
mod load;
pub mod merge;
pub mod naming;
pub mod run_config;
pub mod secrets;
#[cfg(test)]
mod tests;

pub use builder::{files_to_read, RunResultBuilder};
pub use files::{jsonl, llmeter_run_config, RUN_CONFIG_KEYS};
pub(crate) use load::*;
/// One response / timing object (as `onResponse` gives them) read like a `responses.jsonl` /
/// `chunk_timings.jsonl` line (1-based `line` for errors).
pub use load::{response_from_value as response_from_json, timing_from_value as timing_from_json};
pub use merge::{merge, FleetInfo, MergeOptions, ShardEntry};
pub use naming::{default_run_name, load_test_rate_run_name, load_test_run_name};
pub use secrets::{is_secret_key, strip_secrets, Redactor};

use crate::json;
use crate::response::{InvocationResponse, ResponseTimings};
use crate::stats::compute_stats_for;
use crate::time::parse_utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// LLMeter's `summary.json`: exactly these 14 keys, in this order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// `null` is kept as null (LLMeter's default), not read as 0.
    #[serde(default)]
    pub total_requests: Option<u64>,
    #[serde(default = "one")]
    pub clients: u32,
    #[serde(default)]
    pub n_requests: Option<u64>,
    #[serde(default)]
    pub total_test_time: Option<f64>,
    #[serde(default)]
    pub model_id: Option<String>,
    #[serde(default)]
    pub output_path: Option<String>,
    #[serde(default)]
    pub endpoint_name: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub run_name: Option<String>,
    #[serde(default)]
    pub run_description: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub first_request_time: Option<String>,
    #[serde(default)]
    pub last_request_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
}

fn one() -> u32 {
    1
}

/// Facts about how and where the run was measured (not part of LLMeter's files; saved in
/// `run_info.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunInfo {
    pub interrupted: bool,
    /// Human-readable warnings about platform distortions (connection limits, hidden tab, …).
    pub warnings: Vec<String>,
    /// Runtime name and version, e.g. `chromium 156`, `node 20.20.2`.
    pub runtime: Option<String>,
    /// HTTP protocol seen (`http/1.1`, `h2`), when the platform exposes it.
    pub protocol: Option<String>,
    /// The HTTP client the requests went through: `fetch`, or `node:http` (Node's own client).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// Smallest non-zero step of the monotonic clock observed, in ms.
    pub timer_resolution_ms: Option<f64>,
    /// How the clock behaves (`fine`, `coarsened`, `frozen-between-io`): what bounds the
    /// accuracy of every timing in this run (see `core::limits::ClockKind`).
    pub clock: Option<crate::limits::ClockKind>,
    /// Responses that could not be saved, with the reason (filled by stores).
    pub unsaved: Option<String>,
    /// This machine's wall-clock offset against the endpoint's `Date` headers, when the run
    /// read them (shards do; see `crate::fleet::offset`). Read by [`RunInfo::read_fleet_fields`].
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub clock_offset: Option<crate::fleet::ClockOffset>,
    /// The run as a shard of a test: its manifest, saved as `shard.json` (not in
    /// `run_info.json`), kept here as JSON; `ShardManifest::of` reads and checks it (a merge
    /// does), so the core module carries no reader for it.
    #[serde(skip)]
    pub shard: Option<Value>,
    /// A merged result's shards, and the plan's missing and late ones: a [`FleetInfo`], kept
    /// as JSON here so the core module carries no code for it (only merges write it). Read by
    /// [`RunInfo::read_fleet_fields`].
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub fleet: Option<Value>,
    /// Browsers: how many requests have Resource Timing phases (and how many were hidden for
    /// want of `Timing-Allow-Origin`), and the queueing inside the browser, reported apart from
    /// the endpoint's latency (see `crate::network_phases`).
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub network_phases: Option<crate::network_phases::PhasesSummary>,
    /// How the requests were started (closed loop or open-loop arrivals) and the warm-up and
    /// cool-down phases; `None` for runs saved before this existed (closed loops). Read by
    /// [`RunInfo::from_json`] (no derived reader: it keeps the wasm module small).
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub load: Option<LoadInfo>,
    /// Latency objectives the stats' `goodput` and `slo_attainment*` keys are computed for.
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub slo: Option<crate::runner::Slo>,
    /// The tokenizer when `run_config.json` cannot name it in a form LLMeter loads (a custom
    /// JS tokenizer: `run_config.json` then says `null`, LLMeter's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<Value>,
}

impl RunInfo {
    /// `run_info.json`'s object.
    pub fn from_json(object: Map<String, Value>) -> Result<RunInfo, String> {
        let load = object.get("load").and_then(Value::as_object).map(|l| {
            let f = |k: &str| l.get(k).and_then(Value::as_f64);
            let text = |k: &str| l.get(k).and_then(Value::as_str).map(str::to_string);
            let phase = |k: &str| l.get(k).filter(|v| v.is_object()).cloned();
            LoadInfo {
                model: text("model").unwrap_or_else(|| "closed".into()),
                rate: f("rate"),
                arrival: text("arrival"),
                max_concurrency: l
                    .get("max_concurrency")
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok()),
                seed: l.get("seed").and_then(Value::as_u64),
                warmup: phase("warmup"),
                cooldown: phase("cooldown"),
                excluded_responses: l
                    .get("excluded_responses")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
            }
        });
        let slo = object.get("slo").and_then(Value::as_object).map(|s| {
            let f = |k: &str| s.get(k).and_then(Value::as_f64);
            crate::runner::Slo {
                ttft: f("ttft"),
                tpot: f("tpot"),
                ttlt: f("ttlt"),
            }
        });
        let mut info: RunInfo = serde_json::from_value(Value::Object(object))
            .map_err(|e| format!("{RUN_INFO_FILE}: {e}"))?;
        info.load = load;
        info.slo = slo.filter(|s| !s.is_empty());
        Ok(info)
    }
}

/// The load model of a run, as saved in `run_info.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LoadInfo {
    /// `"closed"` (clients) or `"open"` (arrivals at `rate`).
    pub model: String,
    /// Requests per second offered (open loop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// `"constant"` or `"poisson"` (open loop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival: Option<String>,
    /// Most requests in flight (open loop; `clients` in `summary.json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Seed of the arrival times and payload order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `{requests: n}` or `{seconds: s}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<Value>,
    /// Warm-up and cool-down responses (saved in `warmup_cooldown.jsonl`, not in the stats).
    pub excluded_responses: u64,
}

impl LoadInfo {
    pub fn is_open(&self) -> bool {
        self.model == "open"
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunResult {
    pub summary: Summary,
    pub responses: Vec<InvocationResponse>,
    /// Same order as `responses`.
    pub timings: Vec<ResponseTimings>,
    pub stats: Map<String, Value>,
    pub info: RunInfo,
    /// The run's configuration as LLMeter's `run_config.json` (no secrets).
    pub run_config: Map<String, Value>,
    /// The payload list in its original order (`payload.jsonl`).
    pub payloads: Vec<Value>,
    /// Warm-up and cool-down responses, flagged in their `annotations` (`load_phase`), saved in
    /// `warmup_cooldown.jsonl` and left out of the stats; `excluded_timings[i]` is theirs.
    pub excluded: Vec<InvocationResponse>,
    pub excluded_timings: Vec<ResponseTimings>,
    /// Keys callbacks contributed to the stats (kept when the stats are recomputed).
    pub contributed_stats: Map<String, Value>,
}

/// File names of a run folder. The first five are LLMeter's; the last two are ours (LLMeter
/// ignores unknown files).
pub const SUMMARY_FILE: &str = "summary.json";
pub const STATS_FILE: &str = "stats.json";
pub const RESPONSES_FILE: &str = "responses.jsonl";
pub const RUN_CONFIG_FILE: &str = "run_config.json";
pub const PAYLOAD_FILE: &str = "payload.jsonl";
pub const CHUNK_TIMINGS_FILE: &str = "chunk_timings.jsonl";
pub const RUN_INFO_FILE: &str = "run_info.json";
/// Our file of warm-up and cool-down responses (LLMeter's format, LLMeter does not read it).
pub const EXCLUDED_RESPONSES_FILE: &str = "warmup_cooldown.jsonl";

impl RunInfo {
    /// Reads `clock_offset` and `fleet` from `run_info.json`'s object. They are not in the
    /// derived reader: a `Value` field there would build a second JSON value parser into every
    /// module that loads a run, for fields only shards and merges have.
    pub fn read_fleet_fields(&mut self, object: &Map<String, Value>) {
        self.clock_offset = object
            .get("clock_offset")
            .and_then(crate::fleet::ClockOffset::from_value);
        self.fleet = object.get("fleet").filter(|f| !f.is_null()).cloned();
    }
}

impl Summary {
    /// Earliest and latest `request_time` of the responses (LLMeter's `first_request_time` and
    /// `last_request_time`), compared as instants; unparseable timestamps are skipped.
    pub fn request_time_bounds(
        responses: &[InvocationResponse],
    ) -> (Option<String>, Option<String>) {
        let mut first: Option<(f64, &str)> = None;
        let mut last: Option<(f64, &str)> = None;
        for text in responses.iter().filter_map(|r| r.request_time.as_deref()) {
            let Some(t) = parse_utc(text) else { continue };
            if first.is_none_or(|(f, _)| t < f) {
                first = Some((t, text));
            }
            if last.is_none_or(|(l, _)| t > l) {
                last = Some((t, text));
            }
        }
        (
            first.map(|(_, s)| s.to_string()),
            last.map(|(_, s)| s.to_string()),
        )
    }

    /// LLMeter's `n_requests` (requests per client, §1 item 10): the configured count for a
    /// count-bound run that completed, otherwise `total_requests // clients` (time-bound or
    /// interrupted runs).
    pub fn n_requests_per_client(
        configured_per_client: Option<u64>,
        total_requests: u64,
        clients: u32,
        interrupted: bool,
    ) -> Option<u64> {
        match configured_per_client {
            Some(n) if !interrupted => Some(n),
            _ if clients == 0 => None,
            _ => Some(total_requests / clients as u64),
        }
    }
}

impl RunResult {
    /// Assembles a finished (or interrupted) run and computes its stats.
    ///
    /// * `summary`: the 14 `summary.json` fields as the runner knows them. Missing
    ///   `first_request_time` / `last_request_time` are filled from the responses
    ///   ([`Summary::request_time_bounds`]); use [`Summary::n_requests_per_client`] for
    ///   `n_requests`. `total_test_time` must be `None` for interrupted runs (as in LLMeter).
    /// * `responses` / `timings`: in processing order; `timings[i]` belongs to `responses[i]`
    ///   (joined on `id` otherwise).
    /// * `info.interrupted` adds `"interrupted": true` to the stats.
    /// * `run_config`: LLMeter's run configuration (any key order); secret-looking keys are
    ///   removed ([`strip_secrets`]) and a warning naming them is added to `info.warnings`; then
    ///   it is put in `run_config.json` form ([`llmeter_run_config`]).
    /// * `payloads`: the payload list in its original order.
    ///
    /// Stats are [`compute_stats`]: exactly what LLMeter recomputes on `Result.load`, plus
    /// `time_per_output_token-*`, `output_tps` and our extras.
    pub fn new(
        mut summary: Summary,
        responses: Vec<InvocationResponse>,
        timings: Vec<ResponseTimings>,
        mut info: RunInfo,
        mut run_config: Map<String, Value>,
        payloads: Vec<Value>,
    ) -> RunResult {
        if summary.first_request_time.is_none() || summary.last_request_time.is_none() {
            let (first, last) = Summary::request_time_bounds(&responses);
            summary.first_request_time = summary.first_request_time.or(first);
            summary.last_request_time = summary.last_request_time.or(last);
        }
        let removed = strip_secrets(&mut run_config);
        if !removed.is_empty() {
            info.warnings.push(format!(
                "run_config: removed secret-looking keys {}",
                removed.join(", ")
            ));
        }
        let run_config = llmeter_run_config(&run_config);
        let stats = compute_stats_for(&summary, &responses, &timings, &info);
        RunResult {
            summary,
            responses,
            timings,
            stats,
            info,
            run_config,
            payloads,
            excluded: Vec::new(),
            excluded_timings: Vec::new(),
            contributed_stats: Map::new(),
        }
    }

    /// Adds warm-up and cool-down responses (kept apart from the stats).
    pub fn with_excluded(
        mut self,
        excluded: Vec<InvocationResponse>,
        excluded_timings: Vec<ResponseTimings>,
    ) -> RunResult {
        if let Some(load) = self.info.load.as_mut() {
            load.excluded_responses = excluded.len() as u64;
        }
        self.excluded = excluded;
        self.excluded_timings = excluded_timings;
        self
    }

    /// LLMeter's `Result._update_contributed_stats`: numbers (or booleans) only, merged into
    /// `stats` (and so `stats.json`), replacing computed keys of the same name. Other values
    /// are skipped and named in the returned error.
    pub fn contribute_stats(&mut self, stats: Map<String, Value>) -> Result<(), String> {
        let mut rejected = Vec::new();
        for (key, value) in stats {
            if matches!(value, Value::Number(_) | Value::Bool(_)) {
                self.stats.insert(key.clone(), value.clone());
                self.contributed_stats.insert(key, value);
            } else {
                rejected.push(key);
            }
        }
        if rejected.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "contributed stats must be numbers; not added: {}",
                rejected.join(", ")
            ))
        }
    }

    /// The run folder as `(file name, content)` pairs: LLMeter's `summary.json`, `stats.json`,
    /// `responses.jsonl`, `run_config.json`, `payload.jsonl`, and our `chunk_timings.jsonl`
    /// and `run_info.json` (and `warmup_cooldown.jsonl` when there are warm-up or cool-down
    /// responses, `shard.json` for a shard). Loadable by `llmeter.results.Result.load` (0.1.12
    /// and 0.2.0).
    pub fn to_files(&self) -> Vec<(String, String)> {
        let mut config = self.run_config.clone();
        strip_secrets(&mut config);
        let mut files = vec![
            (SUMMARY_FILE.into(), json::to_pretty(&self.summary)),
            (STATS_FILE.into(), json::to_pretty(&self.stats)),
            (RESPONSES_FILE.into(), jsonl(&self.responses)),
            (
                RUN_CONFIG_FILE.into(),
                json::to_pretty(&llmeter_run_config(&config)),
            ),
            (PAYLOAD_FILE.into(), jsonl(&self.payloads)),
            (
                CHUNK_TIMINGS_FILE.into(),
                jsonl(&self.timings) + &jsonl(&self.excluded_timings),
            ),
            (RUN_INFO_FILE.into(), json::to_pretty(&self.info)),
        ];
        if !self.excluded.is_empty() {
            files.push((EXCLUDED_RESPONSES_FILE.into(), jsonl(&self.excluded)));
        }
        if let Some(shard) = self.info.shard.as_ref() {
            files.push((crate::fleet::SHARD_FILE.to_string(), json::to_pretty(shard)));
        }
        files
    }

    /// Loads a run folder given as `(file name, content)` pairs (names may carry a folder
    /// prefix; only the last path component counts): ours, or one written by Python LLMeter
    /// 0.1.12 / 0.2.0 (bare `NaN`/`Infinity` read as null, `annotations` and unknown keys
    /// ignored). Without `summary.json` the metadata is recovered like LLMeter does for an
    /// interrupted run (from `run_config.json` and the responses' request times).
    ///
    /// Stats follow `Result.load`: the load-path keys are recomputed from the summary and the
    /// responses; every other key of `stats.json` is kept as saved; keys that [`compute_stats`]
    /// produces and `stats.json` lacks are added. Without responses, `stats.json` is used as is.
    ///
    /// Parses everything in one call; [`RunResultBuilder`] does the same work in pieces.
    pub fn from_files(files: &[(String, String)]) -> Result<RunResult, String> {
        RunResultBuilder::new(files)?.finish()
    }
}
