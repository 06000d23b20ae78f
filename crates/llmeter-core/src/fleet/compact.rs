//! A shard as one small JSON document — what a `Probe` sends from a user's page (by
//! `navigator.sendBeacon` or a presigned PUT) and what a collector merges by the thousand:
//! `{"format": "llmeter-shard/1", "files": {"summary.json": "…", "responses.jsonl": "…", …}}`,
//! the run folder's files that a merge reads. Prompts, payloads and response texts are left out
//! unless the app asks to keep them; token counts, timings and errors stay.
//!
//! Written and read through `serde_json::Value` and the run folder's own reader and writers, so
//! neither wasm module gains a serializer for it.

use crate::json;
use crate::result::{
    RunResult, CHUNK_TIMINGS_FILE, PAYLOAD_FILE, RESPONSES_FILE, RUN_CONFIG_FILE, RUN_INFO_FILE,
    SUMMARY_FILE,
};
use serde_json::{Map, Value};

/// The format marker and version of a compact shard.
pub const COMPACT_FORMAT: &str = "llmeter-shard/1";
/// Most responses a compact shard may carry (a collector reads shards from anyone).
pub const MAX_COMPACT_RESPONSES: usize = 10_000;
/// The response fields a compact shard leaves out unless texts are kept.
pub const TEXT_FIELDS: [&str; 3] = ["input_payload", "input_prompt", "response_text"];

/// The files a compact shard carries: what a merge reads (`stats.json` is recomputed), plus the
/// payloads and run configuration only when texts are kept.
fn carried(name: &str, keep_text: bool) -> bool {
    matches!(
        name,
        SUMMARY_FILE | RESPONSES_FILE | CHUNK_TIMINGS_FILE | RUN_INFO_FILE | super::SHARD_FILE
    ) || (keep_text && matches!(name, PAYLOAD_FILE | RUN_CONFIG_FILE))
}

/// `responses.jsonl` with [`TEXT_FIELDS`] set to null on every line (lines that are not JSON
/// objects are kept as they are; the reader will name them).
pub fn strip_texts(responses_jsonl: &str) -> String {
    let mut out = String::with_capacity(responses_jsonl.len() / 2);
    for line in responses_jsonl.lines().filter(|l| !l.trim().is_empty()) {
        match json::parse_lenient(line) {
            Ok(Value::Object(mut m)) => {
                for k in TEXT_FIELDS {
                    if let Some(v) = m.get_mut(k) {
                        *v = Value::Null;
                    }
                }
                out.push_str(&json::to_line(&Value::Object(m)));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The compact text of a run (with its manifest). With `keep_text` false, prompts, payloads and
/// response texts are left out.
pub fn to_compact(result: &RunResult, keep_text: bool) -> String {
    let mut files = Map::new();
    for (name, text) in result.to_files() {
        if !carried(&name, keep_text) {
            continue;
        }
        let text = if name == RESPONSES_FILE && !keep_text {
            strip_texts(&text)
        } else {
            text
        };
        files.insert(name, Value::String(text));
    }
    let mut doc = Map::new();
    doc.insert("format".into(), Value::from(COMPACT_FORMAT));
    doc.insert("files".into(), Value::Object(files));
    json::to_line(&Value::Object(doc))
}

/// Reads a compact shard back into a result (the run folder's reader: stats computed as for any
/// run, errors naming the file and line). Nothing in the text can make this panic.
pub fn from_compact(text: &str) -> Result<RunResult, String> {
    let doc = match json::parse_lenient(text) {
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
    let Some(Value::Object(files)) = doc.get("files") else {
        return Err("compact shard: files must be an object of file texts".into());
    };
    let mut out = Vec::with_capacity(files.len());
    for (name, text) in files {
        let Value::String(text) = text else {
            return Err(format!("compact shard: {name} must be a text"));
        };
        if name.contains(['/', '\\']) {
            return Err(format!("compact shard: {name:?} is not a file name"));
        }
        if name == RESPONSES_FILE && text.lines().count() > MAX_COMPACT_RESPONSES {
            return Err(format!(
                "compact shard: more than {MAX_COMPACT_RESPONSES} responses"
            ));
        }
        out.push((name.clone(), text.clone()));
    }
    if !out.iter().any(|(n, _)| n == super::SHARD_FILE) {
        return Err("compact shard: no shard.json (not a shard)".into());
    }
    RunResult::from_files(&out).map_err(|e| format!("compact shard: {e}"))
}
