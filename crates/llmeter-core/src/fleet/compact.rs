//! A shard as one small JSON document — what a `Probe` sends from a user's page (by
//! `navigator.sendBeacon` or a presigned PUT) and what a collector merges by the thousand.
//! Prompts, payloads and response texts are left out unless the app asks to keep them; token
//! counts, timings and errors stay.

use super::manifest::ShardManifest;
use crate::response::{InvocationResponse, ResponseTimings};
use crate::result::{response_from_value, timing_from_value, RunInfo, RunResult, Summary};
use serde::Serialize;
use serde_json::{Map, Value};

/// The format marker and version of a compact shard.
pub const COMPACT_FORMAT: &str = "llmeter-shard/1";
/// Most responses a compact shard may carry (a collector reads shards from anyone).
pub const MAX_COMPACT_RESPONSES: usize = 10_000;

#[derive(Serialize)]
struct Compact<'a> {
    format: &'static str,
    shard: Option<&'a ShardManifest>,
    summary: &'a Summary,
    info: &'a RunInfo,
    responses: Vec<InvocationResponse>,
    timings: &'a [ResponseTimings],
}

/// The compact text of a run (with its manifest). With `keep_text` false, `input_payload`,
/// `input_prompt` and `response_text` are left out.
pub fn to_compact(result: &RunResult, keep_text: bool) -> String {
    let responses = result
        .responses
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if !keep_text {
                r.input_payload = None;
                r.input_prompt = None;
                r.response_text = None;
            }
            r
        })
        .collect();
    let doc = Compact {
        format: COMPACT_FORMAT,
        shard: result.info.shard.as_ref(),
        summary: &result.summary,
        info: &result.info,
        responses,
        timings: &result.timings,
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

/// Reads a compact shard back into a result (stats computed as for any run). Errors name what
/// is wrong; nothing in the text can make this panic.
pub fn from_compact(text: &str) -> Result<RunResult, String> {
    let doc: Map<String, Value> = match crate::json::parse_lenient(text) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err("compact shard: expected a JSON object".into()),
        Err(e) => return Err(format!("compact shard: {e}")),
    };
    match doc.get("format").and_then(Value::as_str) {
        Some(COMPACT_FORMAT) => {}
        other => {
            return Err(format!(
                "compact shard: format must be {COMPACT_FORMAT:?}, found {other:?}"
            ))
        }
    }
    let shard = match doc.get("shard") {
        None | Some(Value::Null) => None,
        Some(v) => Some(ShardManifest::from_json(&v.to_string())?),
    };
    let summary = crate::result::parse_summary(match doc.get("summary") {
        Some(Value::Object(m)) => m,
        _ => return Err("compact shard: summary must be an object".into()),
    })?;
    let mut info: RunInfo = match doc.get("info") {
        None | Some(Value::Null) => RunInfo::default(),
        Some(v) => {
            serde_json::from_value(v.clone()).map_err(|e| format!("compact shard: info: {e}"))?
        }
    };
    info.shard = shard;
    let list = |key: &str| -> Result<Vec<Value>, String> {
        match doc.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) if items.len() <= MAX_COMPACT_RESPONSES => Ok(items.clone()),
            Some(Value::Array(items)) => Err(format!(
                "compact shard: {} {key}, at most {MAX_COMPACT_RESPONSES}",
                items.len()
            )),
            Some(_) => Err(format!("compact shard: {key} must be an array")),
        }
    };
    let responses = list("responses")?
        .into_iter()
        .enumerate()
        .map(|(i, v)| response_from_value(i + 1, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("compact shard: {e}"))?;
    let timings = list("timings")?
        .into_iter()
        .enumerate()
        .map(|(i, v)| timing_from_value(i + 1, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("compact shard: {e}"))?;
    let timings = crate::result::join_timings(timings, &responses);
    if summary.total_requests != responses.len() as u64 {
        return Err(format!(
            "compact shard: summary says {} requests but {} responses are given",
            summary.total_requests,
            responses.len()
        ));
    }
    Ok(RunResult::new(
        summary,
        responses,
        timings,
        info,
        Map::new(),
        Vec::new(),
    ))
}
