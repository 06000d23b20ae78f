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

pub use builder::RunResultBuilder;
pub use files::{jsonl, llmeter_run_config, RUN_CONFIG_KEYS};
pub(crate) use load::*;
/// One response / timing object (as `onResponse` gives them) read like a `responses.jsonl` /
/// `chunk_timings.jsonl` line (1-based `line` for errors).
pub use load::{response_from_value as response_from_json, timing_from_value as timing_from_json};
pub use merge::{merge, FleetInfo, MergeOptions, ShardEntry};
pub use naming::{default_run_name, load_test_run_name};
pub use secrets::{is_secret_key, strip_secrets, Redactor};

use crate::json;
use crate::response::{InvocationResponse, ResponseTimings};
use crate::stats::compute_stats;
use crate::time::parse_utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// LLMeter's `summary.json`: exactly these 14 keys, in this order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    #[serde(default)]
    pub total_requests: u64,
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
        let stats = compute_stats(&summary, &responses, &timings, info.interrupted);
        RunResult {
            summary,
            responses,
            timings,
            stats,
            info,
            run_config,
            payloads,
        }
    }

    /// The run folder as `(file name, content)` pairs: LLMeter's `summary.json`, `stats.json`,
    /// `responses.jsonl`, `run_config.json`, `payload.jsonl`, and our `chunk_timings.jsonl`
    /// and `run_info.json` (and `shard.json` for a shard). Loadable by `llmeter.results.Result.load` (0.1.12 and 0.2.0).
    pub fn to_files(&self) -> Vec<(String, String)> {
        let mut config = self.run_config.clone();
        strip_secrets(&mut config);
        vec![
            (SUMMARY_FILE.into(), json::to_pretty(&self.summary)),
            (STATS_FILE.into(), json::to_pretty(&self.stats)),
            (RESPONSES_FILE.into(), jsonl(&self.responses)),
            (
                RUN_CONFIG_FILE.into(),
                json::to_pretty(&llmeter_run_config(&config)),
            ),
            (PAYLOAD_FILE.into(), jsonl(&self.payloads)),
            (CHUNK_TIMINGS_FILE.into(), jsonl(&self.timings)),
            (RUN_INFO_FILE.into(), json::to_pretty(&self.info)),
        ]
        .into_iter()
        .chain(
            self.info
                .shard
                .as_ref()
                .map(|m| (crate::fleet::SHARD_FILE.to_string(), json::to_pretty(m))),
        )
        .collect()
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
