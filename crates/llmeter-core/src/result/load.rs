//! Reading a run folder: typed field readers whose errors name the file, line and field, and
//! LLMeter's recovery rules for missing or partial files.

use super::{Summary, CHUNK_TIMINGS_FILE, RESPONSES_FILE, SUMMARY_FILE};
use crate::json;
use crate::response::{InvocationResponse, ResponseTimings};
use crate::time::normalize_utc;
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

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
            Some(other) => Some(json::text(other)),
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
        total_requests: f.count("total_requests").map_err(err)?,
        clients,
        n_requests: f.count("n_requests").map_err(err)?,
        total_test_time: f.number("total_test_time").map_err(err)?,
        model_id: f.string("model_id").map_err(err)?,
        output_path: f.string("output_path").map_err(err)?,
        endpoint_name: f.string("endpoint_name").map_err(err)?,
        provider: f.string("provider").map_err(err)?,
        run_name: f.string("run_name").map_err(err)?,
        run_description: f.string("run_description").map_err(err)?,
        start_time: f
            .string("start_time")
            .map_err(err)?
            .map(|t| normalize_utc(&t)),
        first_request_time: f
            .string("first_request_time")
            .map_err(err)?
            .map(|t| normalize_utc(&t)),
        last_request_time: f
            .string("last_request_time")
            .map_err(err)?
            .map(|t| normalize_utc(&t)),
        end_time: f
            .string("end_time")
            .map_err(err)?
            .map(|t| normalize_utc(&t)),
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
        total_requests: Some(responses.len() as u64),
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
pub fn response_from_value(line: usize, value: Value) -> Result<InvocationResponse, String> {
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
        input_payload: f.get("input_payload").cloned().map(Rc::new),
        // `"id": null` stays null, as LLMeter keeps it.
        id: f.text("id"),
        input_prompt: f.text("input_prompt").map(Rc::from),
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
        // LLMeter re-writes an offset as the same instant in UTC (`Z`).
        request_time: f
            .string("request_time")
            .map_err(err)?
            .map(|t| normalize_utc(&t)),
        annotations: match f.get("annotations") {
            Some(Value::Object(a)) => Some(a.clone()),
            _ => None,
        },
    })
}

/// One `chunk_timings.jsonl` line (1-based `line`) as [`ResponseTimings`].
pub fn timing_from_value(line: usize, value: Value) -> Result<ResponseTimings, String> {
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
                Some(crate::network_phases::NetworkPhases {
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
        scheduled_at: f.number("scheduled_at").map_err(err)?,
        sent_at: f.number("sent_at").map_err(err)?,
    })
}

/// Puts timings in response order, matched on `id` (each timing used once), for the measured
/// responses and then for the excluded (warm-up, cool-down) ones; timings without a response
/// are dropped, responses without a timing simply have none.
pub(crate) fn join_timings(
    timings: Vec<ResponseTimings>,
    responses: &[InvocationResponse],
    excluded: &[InvocationResponse],
) -> (Vec<ResponseTimings>, Vec<ResponseTimings>) {
    let mut pending: HashMap<String, VecDeque<ResponseTimings>> = HashMap::new();
    for t in timings {
        pending.entry(t.id.clone()).or_default().push_back(t);
    }
    let mut take = |rs: &[InvocationResponse]| -> Vec<ResponseTimings> {
        rs.iter()
            .filter_map(|r| pending.get_mut(r.id_str()).and_then(VecDeque::pop_front))
            .collect()
    };
    let measured = take(responses);
    (measured, take(excluded))
}

impl InvocationResponse {
    /// One response from its JSON object (a `responses.jsonl` line), with LLMeter's loading
    /// rules (null `id` kept, offsets normalised to UTC, `annotations` kept).
    pub fn from_json_value(value: Value) -> Result<InvocationResponse, String> {
        response_from_value(1, value).map_err(|e| {
            e.strip_prefix("responses.jsonl line 1: ")
                .map(str::to_string)
                .unwrap_or(e)
        })
    }

    /// The warm-up / cool-down flag of a response (`annotations.load_phase`), if any.
    pub fn load_phase(&self) -> Option<&str> {
        self.annotations
            .as_ref()?
            .get(crate::runner::PHASE_ANNOTATION)?
            .as_str()
    }
}
