//! A run's result: LLMeter's `Result` (summary.json), its stats (stats.json), its responses
//! (responses.jsonl), plus our extras in files LLMeter ignores.

use crate::core::json;
use crate::core::response::{InvocationResponse, ResponseTimings};
pub use crate::core::result_builder::RunResultBuilder;
use crate::core::stats::compute_stats;
use crate::core::time::parse_utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};

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
    pub clock: Option<crate::core::limits::ClockKind>,
    /// Responses that could not be saved, with the reason (filled by stores).
    pub unsaved: Option<String>,
    /// Browsers: how many requests have Resource Timing phases (and how many were hidden for
    /// want of `Timing-Allow-Origin`), and the queueing inside the browser, reported apart from
    /// the endpoint's latency (see `core::network_phases`).
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub network_phases: Option<crate::core::network_phases::PhasesSummary>,
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

/// `run_config.json` top-level keys in LLMeter's order (§5.2).
pub const RUN_CONFIG_KEYS: [&str; 13] = [
    "endpoint",
    "output_path",
    "tokenizer",
    "clients",
    "n_requests",
    "run_duration",
    "payload",
    "run_name",
    "run_description",
    "timeout",
    "callbacks",
    "low_memory",
    "progress_bar_stats",
];

/// Name of a concurrency level's run folder inside a LoadTest folder, e.g. `00004-clients`.
pub fn load_test_run_name(clients: u32) -> String {
    format!("{clients:05}-clients")
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
    /// and `run_info.json`. Loadable by `llmeter.results.Result.load` (0.1.12 and 0.2.0).
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

fn jsonl<T: Serialize>(items: &[T]) -> String {
    let mut out = String::new();
    for item in items {
        out.push_str(&json::to_line(item));
        out.push('\n');
    }
    out
}

/// `run_config` in LLMeter's key order with missing standard keys as `null`, and the endpoint
/// in the flat 0.1.12 form (`endpoint_name`, `model_id`, `provider`, other attributes,
/// `endpoint_type`), which both 0.1.12 and 0.2.0 read. Non-standard keys follow, in their order.
pub fn llmeter_run_config(run_config: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for key in RUN_CONFIG_KEYS {
        let value = run_config.get(key).cloned().unwrap_or(Value::Null);
        let value = if key == "endpoint" {
            flat_endpoint(value)
        } else {
            value
        };
        out.insert(key.to_string(), value);
    }
    for (key, value) in run_config {
        if !out.contains_key(key) {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

fn flat_endpoint(endpoint: Value) -> Value {
    let Value::Object(mut fields) = endpoint else {
        return endpoint;
    };
    // A 0.2.0 envelope: its state holds the attributes, the class path names the type.
    if let Some(class) = fields
        .get("__llmeter_class__")
        .and_then(Value::as_str)
        .map(str::to_string)
    {
        let state = match fields.remove("__llmeter_state__") {
            Some(Value::Object(state)) => state,
            _ => Map::new(),
        };
        fields = state;
        fields
            .entry("endpoint_type")
            .or_insert_with(|| Value::from(class.rsplit('.').next().unwrap_or(&class)));
    }
    let mut out = Map::new();
    for key in ["endpoint_name", "model_id", "provider"] {
        out.insert(key.to_string(), fields.remove(key).unwrap_or(Value::Null));
    }
    let endpoint_type = fields.remove("endpoint_type").unwrap_or(Value::Null);
    out.extend(fields);
    out.insert("endpoint_type".to_string(), endpoint_type);
    Value::Object(out)
}

/// Whether a configuration key may hold a credential. Matched on the lower-cased name with `-`
/// read as `_`: anything containing `api_key`, `apikey`, `authorization`, `auth_token`, `secret`,
/// `password`, `credential`, `cookie`, `bearer` or `headers` (header maps can carry keys), and
/// names that are or end in `key` / `token` (`access_key`, `session_token`; not `max_tokens`).
pub fn is_secret_key(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('-', "_");
    const PARTS: [&str; 10] = [
        "api_key",
        "apikey",
        "authorization",
        "auth_token",
        "secret",
        "password",
        "credential",
        "cookie",
        "bearer",
        "headers",
    ];
    PARTS.iter().any(|p| n.contains(p))
        || n == "key"
        || n == "token"
        || n.ends_with("_key")
        || n.ends_with("_token")
}

/// Removes every key for which [`is_secret_key`] holds, at any depth (endpoint, tokenizer,
/// callbacks, …). Returns the removed keys as dotted paths, e.g. `endpoint.api_key`.
pub fn strip_secrets(map: &mut Map<String, Value>) -> Vec<String> {
    fn walk(value: &mut Value, path: &str, removed: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                let secret: Vec<String> =
                    map.keys().filter(|k| is_secret_key(k)).cloned().collect();
                for key in secret {
                    map.remove(&key);
                    removed.push(join_path(path, &key));
                }
                for (key, child) in map.iter_mut() {
                    walk(child, &join_path(path, key), removed);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    walk(child, &join_path(path, &i.to_string()), removed);
                }
            }
            _ => {}
        }
    }
    fn join_path(path: &str, key: &str) -> String {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    }
    let mut removed = Vec::new();
    let mut value = Value::Object(std::mem::take(map));
    walk(&mut value, "", &mut removed);
    if let Value::Object(m) = value {
        *map = m;
    }
    removed
}

pub(crate) fn parse_object(file: &str, text: &str) -> Result<Map<String, Value>, String> {
    match json::parse_lenient(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(format!(
            "{file}: expected a JSON object, found {}",
            kind(&other)
        )),
        Err(e) => Err(format!("{file}: {e}")),
    }
}

/// Non-blank lines of a JSON-lines file with their 1-based line numbers.
pub(crate) fn parse_lines(file: &str, text: &str) -> Result<Vec<(usize, Value)>, String> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value =
            json::parse_lenient(line).map_err(|e| format!("{file} line {}: {e}", index + 1))?;
        out.push((index + 1, value));
    }
    Ok(out)
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Typed field readers over a JSON object; errors name the field (the caller adds file/line).
pub(crate) struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str) -> Result<Option<String>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("`{key}` must be a string, found {}", kind(other))),
        }
    }

    /// A string, or any other JSON value as its JSON text (LLMeter allows e.g. an object as
    /// `input_prompt`; our field is a string).
    fn text(&self, key: &str) -> Option<String> {
        match self.get(key) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        }
    }

    fn number(&self, key: &str) -> Result<Option<f64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(format!("`{key}` must be a number, found {}", kind(other))),
        }
    }

    /// A non-negative integer; a whole float (`5.0`) is accepted as that integer.
    fn count(&self, key: &str) -> Result<Option<u64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
                (Some(v), _) => Ok(Some(v)),
                (None, Some(f)) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Ok(Some(f as u64)),
                _ => Err(format!("`{key}` must be a non-negative integer, found {n}")),
            },
            Some(other) => Err(format!(
                "`{key}` must be a non-negative integer, found {}",
                kind(other)
            )),
        }
    }
}

pub(crate) fn parse_summary(object: &Map<String, Value>) -> Result<Summary, String> {
    let f = Fields(object);
    let err = |e: String| format!("{SUMMARY_FILE}: {e}");
    let clients = match f.count("clients").map_err(err)? {
        Some(c) => u32::try_from(c).map_err(|_| err(format!("`clients` is too large: {c}")))?,
        None => 1,
    };
    Ok(Summary {
        total_requests: f.count("total_requests").map_err(err)?.unwrap_or(0),
        clients,
        n_requests: f.count("n_requests").map_err(err)?,
        total_test_time: f.number("total_test_time").map_err(err)?,
        model_id: f.string("model_id").map_err(err)?,
        output_path: f.string("output_path").map_err(err)?,
        endpoint_name: f.string("endpoint_name").map_err(err)?,
        provider: f.string("provider").map_err(err)?,
        run_name: f.string("run_name").map_err(err)?,
        run_description: f.string("run_description").map_err(err)?,
        start_time: f.string("start_time").map_err(err)?,
        first_request_time: f.string("first_request_time").map_err(err)?,
        last_request_time: f.string("last_request_time").map_err(err)?,
        end_time: f.string("end_time").map_err(err)?,
    })
}

/// LLMeter's interrupted-run recovery (§3.4): metadata from `run_config.json`, request count
/// and time bounds from the responses, no `total_test_time`.
pub(crate) fn recover_summary(
    run_config: &Map<String, Value>,
    responses: &[InvocationResponse],
) -> Summary {
    let config = Fields(run_config);
    let endpoint = match run_config.get("endpoint") {
        Some(Value::Object(e)) => match e.get("__llmeter_state__") {
            Some(Value::Object(state)) if e.contains_key("__llmeter_class__") => state.clone(),
            _ => e.clone(),
        },
        _ => Map::new(),
    };
    let endpoint = Fields(&endpoint);
    let (first, last) = Summary::request_time_bounds(responses);
    Summary {
        total_requests: responses.len() as u64,
        clients: config
            .count("clients")
            .ok()
            .flatten()
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(1),
        n_requests: config.count("n_requests").ok().flatten(),
        total_test_time: None,
        model_id: endpoint.string("model_id").ok().flatten(),
        output_path: None,
        endpoint_name: endpoint.string("endpoint_name").ok().flatten(),
        provider: endpoint.string("provider").ok().flatten(),
        run_name: config.string("run_name").ok().flatten(),
        run_description: config.string("run_description").ok().flatten(),
        start_time: first.clone(),
        first_request_time: first,
        last_request_time: last.clone(),
        end_time: last,
    }
}

/// One `responses.jsonl` line (1-based `line`) as an [`InvocationResponse`].
pub(crate) fn response_from_value(line: usize, value: Value) -> Result<InvocationResponse, String> {
    let err = |e: String| format!("{RESPONSES_FILE} line {line}: {e}");
    let Value::Object(object) = &value else {
        return Err(err(format!(
            "expected a JSON object, found {}",
            kind(&value)
        )));
    };
    let f = Fields(object);
    Ok(InvocationResponse {
        response_text: f.string("response_text").map_err(err)?,
        input_payload: f.get("input_payload").cloned(),
        id: f.text("id").unwrap_or_default(),
        input_prompt: f.text("input_prompt"),
        time_to_first_token: f.number("time_to_first_token").map_err(err)?,
        time_to_last_token: f.number("time_to_last_token").map_err(err)?,
        num_tokens_input: f.count("num_tokens_input").map_err(err)?,
        num_tokens_output: f.count("num_tokens_output").map_err(err)?,
        num_tokens_input_cached: f.count("num_tokens_input_cached").map_err(err)?,
        num_tokens_output_reasoning: f.count("num_tokens_output_reasoning").map_err(err)?,
        time_per_output_token: f.number("time_per_output_token").map_err(err)?,
        // Any non-null error marks a failure; keep non-string ones as their JSON text.
        error: f.text("error"),
        retries: f.count("retries").map_err(err)?,
        request_time: f.string("request_time").map_err(err)?,
    })
}

/// One `chunk_timings.jsonl` line (1-based `line`) as [`ResponseTimings`].
pub(crate) fn timing_from_value(line: usize, value: Value) -> Result<ResponseTimings, String> {
    let err = |e: String| format!("{CHUNK_TIMINGS_FILE} line {line}: {e}");
    let Value::Object(object) = &value else {
        return Err(err(format!(
            "expected a JSON object, found {}",
            kind(&value)
        )));
    };
    let f = Fields(object);
    let offsets = match f.get("content_chunk_offsets") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_f64).collect(),
        Some(other) => {
            return Err(err(format!(
                "`content_chunk_offsets` must be an array, found {}",
                kind(other)
            )))
        }
    };
    let small = |key: &str| -> Result<Option<u32>, String> {
        f.count(key)?
            .map(|v| u32::try_from(v).map_err(|_| format!("`{key}` is too large: {v}")))
            .transpose()
    };
    Ok(ResponseTimings {
        id: f.text("id").unwrap_or_default(),
        time_to_first_chunk: f.number("time_to_first_chunk").map_err(err)?,
        time_to_headers: f.number("time_to_headers").map_err(err)?,
        content_chunk_offsets: offsets,
        num_chunks: small("num_chunks").map_err(err)?.unwrap_or(0),
        num_events: small("num_events").map_err(err)?.unwrap_or(0),
        status: small("status")
            .map_err(err)?
            .map(|s| u16::try_from(s).map_err(|_| err(format!("`status` out of range: {s}"))))
            .transpose()?,
        payload_index: small("payload_index").map_err(err)?,
        network: match f.get("network") {
            None => None,
            Some(Value::Object(n)) => {
                let n = Fields(n);
                let num = |k: &str| n.number(k).map_err(|e| err(format!("`network`: {e}")));
                Some(crate::core::network_phases::NetworkPhases {
                    visible: matches!(n.get("visible"), Some(Value::Bool(true))),
                    queueing: num("queueing")?,
                    dns: num("dns")?,
                    connect: num("connect")?,
                    tls: num("tls")?,
                    request_sent: num("request_sent")?,
                    response_start: num("response_start")?,
                })
            }
            Some(other) => {
                return Err(err(format!(
                    "`network` must be an object, found {}",
                    kind(other)
                )))
            }
        },
        start_ms: None,
        end_ms: None,
    })
}

/// Puts timings in response order, matched on `id` (each timing used once); timings without a
/// response are dropped, responses without a timing simply have none.
pub(crate) fn join_timings(
    timings: Vec<ResponseTimings>,
    responses: &[InvocationResponse],
) -> Vec<ResponseTimings> {
    let mut pending: HashMap<String, VecDeque<ResponseTimings>> = HashMap::new();
    for t in timings {
        pending.entry(t.id.clone()).or_default().push_back(t);
    }
    responses
        .iter()
        .filter_map(|r| pending.get_mut(&r.id).and_then(VecDeque::pop_front))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(
        id: &str,
        sec: u32,
        ttft: Option<f64>,
        ttlt: Option<f64>,
        tokens: Option<(u64, u64)>,
        error: Option<&str>,
    ) -> InvocationResponse {
        InvocationResponse {
            response_text: error.is_none().then(|| "hé \"quoted\"".to_string()),
            input_payload: Some(
                json!({"messages": [{"role": "user", "content": "hi"}], "stream": true}),
            ),
            id: id.into(),
            input_prompt: Some("hi".into()),
            time_to_first_token: ttft,
            time_to_last_token: ttlt,
            num_tokens_input: tokens.map(|t| t.0),
            num_tokens_output: tokens.map(|t| t.1),
            time_per_output_token: match (ttft, ttlt, tokens) {
                (Some(a), Some(b), Some((_, out))) if out > 1 => Some((b - a) / (out - 1) as f64),
                _ => None,
            },
            error: error.map(str::to_string),
            request_time: Some(format!("2025-01-01T12:00:0{sec}.250Z")),
            ..Default::default()
        }
    }

    fn sample_run() -> RunResult {
        let responses = vec![
            response("a", 1, Some(0.2), Some(1.0), Some((10, 50)), None),
            response("b", 0, Some(0.3), Some(1.5), Some((20, 100)), None),
            response("c", 2, Some(0.25), None, None, Some("stream broke")),
        ];
        let timings = vec![
            ResponseTimings {
                id: "a".into(),
                time_to_first_chunk: Some(0.1),
                content_chunk_offsets: vec![0.2, 0.3, 0.45],
                num_chunks: 5,
                num_events: 6,
                status: Some(200),
                ..Default::default()
            },
            ResponseTimings {
                id: "b".into(),
                time_to_first_chunk: Some(0.2),
                content_chunk_offsets: vec![0.3, 0.4],
                num_chunks: 3,
                num_events: 3,
                status: Some(200),
                ..Default::default()
            },
            ResponseTimings {
                id: "c".into(),
                time_to_first_chunk: Some(0.2),
                content_chunk_offsets: vec![0.25],
                num_chunks: 1,
                num_events: 1,
                status: Some(200),
                ..Default::default()
            },
        ];
        let summary = Summary {
            total_requests: 3,
            clients: 1,
            n_requests: Some(3),
            total_test_time: Some(2.0),
            model_id: Some("m".into()),
            endpoint_name: Some("openai".into()),
            provider: Some("openai".into()),
            run_name: Some("run".into()),
            start_time: Some("2025-01-01T12:00:00.000Z".into()),
            end_time: Some("2025-01-01T12:00:04.000Z".into()),
            ..Default::default()
        };
        let mut config = Map::new();
        config.insert("timeout".into(), json!(60.0));
        config.insert("clients".into(), json!(1));
        config.insert(
            "endpoint".into(),
            json!({"endpoint_type": "OpenAICompletionStreamEndpoint", "model_id": "m", "base_url": "http://x", "api_key": "sk-123", "default_headers": {"Authorization": "Bearer sk"}, "endpoint_name": "openai", "provider": "openai"}),
        );
        config.insert("n_requests".into(), json!(3));
        RunResult::new(
            summary,
            responses,
            timings,
            RunInfo::default(),
            config,
            vec![json!({"prompt": "hi"}), json!({"prompt": "hé"})],
        )
    }

    fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.as_str())
            .unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn new_fills_request_times_and_strips_secrets() {
        let run = sample_run();
        assert_eq!(
            run.summary.first_request_time.as_deref(),
            Some("2025-01-01T12:00:00.250Z")
        );
        assert_eq!(
            run.summary.last_request_time.as_deref(),
            Some("2025-01-01T12:00:02.250Z")
        );
        let endpoint = run.run_config["endpoint"].as_object().expect("endpoint");
        assert!(!endpoint.contains_key("api_key") && !endpoint.contains_key("default_headers"));
        assert_eq!(
            run.info.warnings,
            vec!["run_config: removed secret-looking keys endpoint.api_key, endpoint.default_headers".to_string()]
        );
        assert_eq!(run.stats["failed_requests"], json!(1));
        // The failed stream's TTFT counts, as in LLMeter.
        assert_eq!(run.stats["time_to_first_token-average"], json!(0.25));
        assert_eq!(
            run.stats["inter_token_latency-average"],
            json!(
                crate::core::stats::exact_mean(&[0.3 - 0.2, 0.45 - 0.3, 0.4 - 0.3]).expect("gaps")
            )
        );
        assert_eq!(run.stats["num_chunks-average"], json!(4));
    }

    #[test]
    fn summary_json_has_exactly_llmeters_keys_and_layout() {
        let files = sample_run().to_files();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "summary.json",
                "stats.json",
                "responses.jsonl",
                "run_config.json",
                "payload.jsonl",
                "chunk_timings.jsonl",
                "run_info.json"
            ]
        );
        let summary = file(&files, SUMMARY_FILE);
        assert!(summary.starts_with("{\n    \"total_requests\": 3,\n    \"clients\": 1,\n    \"n_requests\": 3,\n    \"total_test_time\": 2.0,\n"), "{summary}");
        assert!(summary.contains("\n    \"output_path\": null,\n"));
        let parsed: Map<String, Value> = serde_json::from_str(summary).expect("valid JSON");
        assert_eq!(
            parsed.keys().map(String::as_str).collect::<Vec<_>>(),
            crate::core::stats::SUMMARY_KEYS
        );
    }

    #[test]
    fn responses_jsonl_is_one_object_per_line_with_the_14_keys() {
        let files = sample_run().to_files();
        let text = file(&files, RESPONSES_FILE);
        assert!(text.ends_with("}\n") && !text.contains("\n\n"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with(r#"{"response_text": "hé \"quoted\"", "input_payload": {"messages": [{"role": "user", "content": "hi"}], "stream": true}, "id": "a", "#), "{}", lines[0]);
        let keys: Vec<String> = serde_json::from_str::<Map<String, Value>>(lines[2])
            .expect("json")
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            keys,
            [
                "response_text",
                "input_payload",
                "id",
                "input_prompt",
                "time_to_first_token",
                "time_to_last_token",
                "num_tokens_input",
                "num_tokens_output",
                "num_tokens_input_cached",
                "num_tokens_output_reasoning",
                "time_per_output_token",
                "error",
                "retries",
                "request_time"
            ]
        );
        assert!(
            lines[2].contains(r#""time_to_last_token": null"#)
                && lines[2].contains(r#""error": "stream broke""#)
        );
        assert_eq!(
            file(&files, PAYLOAD_FILE),
            "{\"prompt\": \"hi\"}\n{\"prompt\": \"hé\"}\n"
        );
    }

    #[test]
    fn run_config_is_in_llmeter_order_with_flat_endpoint_and_no_secrets() {
        let files = sample_run().to_files();
        let text = file(&files, RUN_CONFIG_FILE);
        let config: Map<String, Value> = serde_json::from_str(text).expect("json");
        assert_eq!(
            config.keys().map(String::as_str).collect::<Vec<_>>(),
            RUN_CONFIG_KEYS
        );
        assert_eq!(config["timeout"], json!(60.0));
        assert_eq!(config["run_duration"], Value::Null);
        let endpoint: Vec<&str> = config["endpoint"]
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            endpoint,
            [
                "endpoint_name",
                "model_id",
                "provider",
                "base_url",
                "endpoint_type"
            ]
        );
        assert!(!text.contains("sk-") && !text.to_lowercase().contains("authorization"));
    }

    #[test]
    fn envelope_endpoint_is_flattened() {
        let mut config = Map::new();
        config.insert("endpoint".into(), json!({"__llmeter_class__": "llmeter.endpoints.openai.OpenAICompletionEndpoint", "__llmeter_state__": {"model_id": "m", "endpoint_name": "e", "provider": "p", "max_retries": 2}}));
        let out = llmeter_run_config(&config);
        assert_eq!(
            out["endpoint"],
            json!({"endpoint_name": "e", "model_id": "m", "provider": "p", "max_retries": 2, "endpoint_type": "OpenAICompletionEndpoint"})
        );
        assert_eq!(
            serde_json::to_string(&out["endpoint"]).ok().as_deref(),
            Some(
                r#"{"endpoint_name":"e","model_id":"m","provider":"p","max_retries":2,"endpoint_type":"OpenAICompletionEndpoint"}"#
            )
        );
    }

    #[test]
    fn secret_key_names() {
        for secret in [
            "api_key",
            "API-Key",
            "apiKey",
            "x-api-key",
            "Authorization",
            "headers",
            "default_headers",
            "aws_secret_access_key",
            "session_token",
            "token",
            "password",
            "access_key",
        ] {
            assert!(is_secret_key(secret), "{secret}");
        }
        for fine in [
            "max_tokens",
            "tokenizer",
            "tokenizer_module",
            "model_id",
            "ttft_visible_tokens_only",
            "keys_count",
            "num_tokens_input",
        ] {
            assert!(!is_secret_key(fine), "{fine}");
        }
        let mut m = json!({"callbacks": [{"api_key": "x", "name": "c"}], "keep": 1})
            .as_object()
            .cloned()
            .expect("object");
        assert_eq!(
            strip_secrets(&mut m),
            vec!["callbacks.0.api_key".to_string()]
        );
        assert_eq!(
            Value::Object(m),
            json!({"callbacks": [{"name": "c"}], "keep": 1})
        );
    }

    #[test]
    fn our_files_round_trip() {
        let run = sample_run();
        let loaded = RunResult::from_files(&run.to_files()).expect("loads");
        assert_eq!(loaded, run);
        // Key order survives too (PartialEq on maps ignores it).
        assert_eq!(
            loaded.stats.keys().collect::<Vec<_>>(),
            run.stats.keys().collect::<Vec<_>>()
        );
        let mut interrupted = run.clone();
        interrupted.info.interrupted = true;
        interrupted.summary.total_test_time = None;
        let interrupted = RunResult::new(
            interrupted.summary,
            interrupted.responses,
            interrupted.timings,
            interrupted.info,
            interrupted.run_config,
            interrupted.payloads,
        );
        let loaded = RunResult::from_files(&interrupted.to_files()).expect("loads");
        assert_eq!(loaded.stats["interrupted"], json!(true));
        assert_eq!(loaded.stats["requests_per_minute"], Value::Null);
        assert_eq!(loaded, interrupted);
    }

    /// As LLMeter 0.2.0 writes a folder (bare NaN, `annotations`, second-resolution times,
    /// runner-path keys in stats.json).
    fn python_folder() -> Vec<(String, String)> {
        let summary = r#"{"total_requests": 3, "clients": 1, "n_requests": 3, "total_test_time": 3.0, "model_id": "m", "output_path": "/tmp/out/run", "endpoint_name": "e", "provider": "p", "run_name": "run", "run_description": null, "start_time": "2025-01-01T11:59:59Z", "first_request_time": "2025-01-01T12:00:00Z", "last_request_time": "2025-01-01T12:00:02Z", "end_time": "2025-01-01T12:00:04Z"}"#;
        let responses = [
            r#"{"response_text": "a", "input_payload": null, "id": "r1", "input_prompt": "p", "time_to_first_token": 0.2, "time_to_last_token": 1.0, "num_tokens_input": 10, "num_tokens_output": 50, "num_tokens_input_cached": null, "num_tokens_output_reasoning": null, "time_per_output_token": 0.0163265306122449, "error": null, "retries": null, "request_time": "2025-01-01T12:00:00Z", "annotations": {"cost": 1}}"#,
            r#"{"response_text": "b", "input_payload": {"__llmeter_bytes__": "aGk="}, "id": "r2", "input_prompt": {"parts": ["x"]}, "time_to_first_token": NaN, "time_to_last_token": 1.5, "num_tokens_input": 20, "num_tokens_output": 100, "num_tokens_input_cached": 5, "num_tokens_output_reasoning": 7, "time_per_output_token": null, "error": null, "retries": 0, "request_time": "2025-01-01T12:00:02Z", "cost_extra": 3}"#,
            r#"{"response_text": null, "id": "r3", "error": "boom", "request_time": "2025-01-01T12:00:01Z"}"#,
        ];
        let stats = r#"{"total_requests": 3, "failed_requests": 1, "requests_per_minute": 90.0, "output_tps": 37.5, "time_per_output_token-average": 0.0163265306122449, "cost_total": 1.5, "weird": NaN}"#;
        vec![
            ("run/summary.json".to_string(), summary.to_string()),
            ("run/responses.jsonl".to_string(), responses.join("\n")),
            ("run/stats.json".to_string(), stats.to_string()),
        ]
    }

    #[test]
    fn loads_python_written_folder() {
        let run = RunResult::from_files(&python_folder()).expect("loads");
        assert_eq!(run.responses.len(), 3);
        assert_eq!(run.responses[1].time_to_first_token, None);
        assert_eq!(
            run.responses[1].input_prompt.as_deref(),
            Some(r#"{"parts":["x"]}"#)
        );
        assert_eq!(run.responses[1].retries, Some(0));
        assert_eq!(run.responses[2].error.as_deref(), Some("boom"));
        assert_eq!(run.summary.output_path.as_deref(), Some("/tmp/out/run"));
        let s = &run.stats;
        // Recomputed load-path keys win over stats.json ...
        assert_eq!(s["requests_per_minute"], json!(60.0));
        assert_eq!(s["total_input_tokens"], json!(30));
        assert_eq!(s["total_cached_input_tokens"], json!(5));
        assert_eq!(s["total_reasoning_output_tokens"], json!(7));
        assert_eq!(s["time_to_first_token-average"], json!(0.2));
        // ... other saved keys are kept (NaN read as null), then our missing keys are added.
        assert_eq!(s["output_tps"], json!(37.5));
        assert_eq!(s["cost_total"], json!(1.5));
        assert_eq!(s["weird"], Value::Null);
        assert_eq!(s["time_per_output_token-p50"], json!(0.0163265306122449));
        let keys: Vec<&str> = s.keys().map(String::as_str).collect();
        let at = |k: &str| keys.iter().position(|x| *x == k).expect(k);
        assert!(
            at("num_tokens_input_cached-p99") < at("output_tps")
                && at("cost_total") < at("weird")
                && at("weird") < at("time_per_output_token-p50")
        );
    }

    #[test]
    fn recovers_interrupted_run_without_summary() {
        let mut files = python_folder();
        files.retain(|(n, _)| !n.ends_with("summary.json"));
        files.push(("run_config.json".into(), r#"{"endpoint": {"__llmeter_class__": "x.Y", "__llmeter_state__": {"model_id": "m2", "endpoint_name": "e2"}}, "clients": 2, "n_requests": 4, "run_name": "r", "run_description": "d"}"#.into()));
        let run = RunResult::from_files(&files).expect("loads");
        let expected = Summary {
            total_requests: 3,
            clients: 2,
            n_requests: Some(4),
            total_test_time: None,
            model_id: Some("m2".into()),
            endpoint_name: Some("e2".into()),
            run_name: Some("r".into()),
            run_description: Some("d".into()),
            start_time: Some("2025-01-01T12:00:00Z".into()),
            first_request_time: Some("2025-01-01T12:00:00Z".into()),
            last_request_time: Some("2025-01-01T12:00:02Z".into()),
            end_time: Some("2025-01-01T12:00:02Z".into()),
            ..Default::default()
        };
        assert_eq!(run.summary, expected);
        assert_eq!(run.stats["requests_per_minute"], Value::Null);
        // Flat (0.1.12) endpoint form.
        files.retain(|(n, _)| n != "run_config.json");
        files.push((
            "run_config.json".into(),
            r#"{"endpoint": {"endpoint_name": "e3", "model_id": "m3", "provider": "p3", "endpoint_type": "T"}}"#.into(),
        ));
        let run = RunResult::from_files(&files).expect("loads");
        assert_eq!(
            (
                run.summary.model_id.as_deref(),
                run.summary.provider.as_deref(),
                run.summary.clients
            ),
            (Some("m3"), Some("p3"), 1)
        );
    }

    #[test]
    fn stats_json_is_used_verbatim_without_responses() {
        let files = vec![
            (
                "summary.json".to_string(),
                "{\"total_requests\": 2}".to_string(),
            ),
            ("stats.json".to_string(), "{\"custom\": 1}".to_string()),
        ];
        let run = RunResult::from_files(&files).expect("loads");
        assert_eq!(Value::Object(run.stats), json!({"custom": 1}));
    }

    #[test]
    fn malformed_input_gives_file_and_line() {
        let with = |name: &str, content: &str| vec![(name.to_string(), content.to_string())];
        let err = RunResult::from_files(&with(
            "responses.jsonl",
            "{\"response_text\": null}\n\n{\"response_text\": 5}\n",
        ))
        .expect_err("bad type");
        assert_eq!(
            err,
            "responses.jsonl line 3: `response_text` must be a string, found a number"
        );
        let err = RunResult::from_files(&with(
            "responses.jsonl",
            "{\"response_text\": null}\n{oops\n",
        ))
        .expect_err("bad json");
        assert!(err.starts_with("responses.jsonl line 2: "), "{err}");
        let err = RunResult::from_files(&with(
            "responses.jsonl",
            "{\"response_text\": null, \"num_tokens_input\": -3}",
        ))
        .expect_err("negative");
        assert_eq!(
            err,
            "responses.jsonl line 1: `num_tokens_input` must be a non-negative integer, found -3"
        );
        let err = RunResult::from_files(&with("summary.json", "[1]")).expect_err("not an object");
        assert_eq!(err, "summary.json: expected a JSON object, found an array");
        let err = RunResult::from_files(&with("summary.json", "{\"clients\": \"two\"}"))
            .expect_err("bad clients");
        assert_eq!(
            err,
            "summary.json: `clients` must be a non-negative integer, found a string"
        );
        let err = RunResult::from_files(&with("stats.json", "{\n\"a\": }")).expect_err("bad stats");
        assert!(
            err.starts_with("stats.json: ") && err.contains("line 2"),
            "{err}"
        );
        let err = RunResult::from_files(&with("payload.jsonl", "{}")).expect_err("nothing");
        assert_eq!(
            err,
            "no summary.json, responses.jsonl or stats.json: nothing to load"
        );
        let err = RunResult::from_files(&[
            ("a/stats.json".into(), "{}".into()),
            ("b/stats.json".into(), "{}".into()),
        ])
        .expect_err("dup");
        assert_eq!(err, "two files named stats.json");
    }

    #[test]
    fn never_panics_on_mangled_files() {
        let files = sample_run().to_files();
        // Every prefix cut of every file, and a few byte-level corruptions.
        for (index, (_, content)) in files.iter().enumerate() {
            let cuts: Vec<usize> = (0..content.len())
                .step_by(7)
                .filter(|&i| content.is_char_boundary(i))
                .collect();
            for cut in cuts {
                let mut mangled = files.clone();
                mangled[index].1 = content[..cut].to_string();
                let _ = RunResult::from_files(&mangled);
                mangled[index].1 = content[..cut]
                    .replace(['1', '"'], "N")
                    .replace(':', "Infinity");
                let _ = RunResult::from_files(&mangled);
            }
        }
    }

    #[test]
    fn request_time_bounds_compare_instants_not_strings() {
        let at = |t: &str| InvocationResponse {
            request_time: Some(t.into()),
            ..Default::default()
        };
        let responses = [
            at("2025-01-01T12:00:01Z"),
            at("2025-01-01T12:00:00.900Z"),
            at("garbage"),
            at("2025-01-01T13:00:00+02:00"),
        ];
        let (first, last) = Summary::request_time_bounds(&responses);
        assert_eq!(first.as_deref(), Some("2025-01-01T13:00:00+02:00"));
        assert_eq!(last.as_deref(), Some("2025-01-01T12:00:01Z"));
        assert_eq!(Summary::request_time_bounds(&[]), (None, None));
    }

    #[test]
    fn n_requests_rules() {
        assert_eq!(
            Summary::n_requests_per_client(Some(5), 10, 2, false),
            Some(5)
        );
        assert_eq!(Summary::n_requests_per_client(Some(5), 7, 2, true), Some(3));
        assert_eq!(Summary::n_requests_per_client(None, 9, 4, false), Some(2));
        assert_eq!(Summary::n_requests_per_client(None, 9, 0, false), None);
        assert_eq!(load_test_run_name(4), "00004-clients");
    }
}
