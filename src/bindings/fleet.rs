//! A run as one shard of a test: the `shard` and `clockSamples` run options, and the compact
//! form a probe sends. Merging, plans and the rest of the fleet live in their own wasm module
//! (`crates/llmeter-fleet`), so the core module stays small.

use super::options::{range_error, to_json, type_error};
use super::result::WasmRunResult;
use llmeter_core::fleet::PlanError;
use wasm_bindgen::prelude::*;

fn plan_error(e: PlanError) -> JsValue {
    if e.is_range {
        range_error(&e.message)
    } else {
        type_error(&e.message)
    }
}

/// The compact text of a result (a probe's beacon); texts and payloads only if `keepText`.
#[wasm_bindgen(js_name = toCompact)]
pub fn to_compact_text(result: &WasmRunResult, keep_text: bool) -> String {
    llmeter_core::fleet::compact::to_compact(result.inner(), keep_text)
}

/// The engine's name and version, as shard manifests record it.
pub const ENGINE: &str = concat!("llmeter-wasm ", env!("CARGO_PKG_VERSION"));

/// The run option `shard: {testId, shardId, label?, plan?, sameClock?}`: the spec, and whether
/// the shard shares the merging machine's clock (a worker of a run: no offset to estimate).
pub fn read_shard(
    reader: &super::options::OptionReader,
) -> Result<Option<(llmeter_core::fleet::ShardSpec, bool)>, JsValue> {
    let Some(v) = reader.object("shard")? else {
        return Ok(None);
    };
    let o = to_json(&v, "shard")?;
    let text = |k: &str| -> Result<Option<String>, JsValue> {
        match o.get(k) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(type_error(&format!("shard.{k} must be a string"))),
        }
    };
    let test_id = text("testId")?.ok_or_else(|| type_error("shard.testId is required"))?;
    let shard_id = text("shardId")?.ok_or_else(|| type_error("shard.shardId is required"))?;
    let spec = llmeter_core::fleet::ShardSpec::new(
        test_id,
        shard_id,
        text("label")?,
        o.get("plan").filter(|p| !p.is_null()).cloned(),
    )
    .map_err(plan_error)?;
    let same_clock = o
        .get("sameClock")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    Ok(Some((spec, same_clock)))
}

/// The run option `clockSamples: [{sentUnixMs, receivedUnixMs, date}]`: `Date` headers seen
/// elsewhere (the plan's download), used when the endpoint's answers carry none.
pub fn read_clock_samples(
    reader: &super::options::OptionReader,
) -> Result<Vec<llmeter_core::fleet::DateSample>, JsValue> {
    let Some(v) = reader.value("clockSamples") else {
        return Ok(Vec::new());
    };
    let serde_json::Value::Array(items) = to_json(&v, "clockSamples")? else {
        return Err(type_error("clockSamples must be an array"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let num = |k: &str| s.get(k).and_then(serde_json::Value::as_f64);
            match (
                num("sentUnixMs"),
                num("receivedUnixMs"),
                s.get("date").and_then(|d| d.as_str()),
            ) {
                (Some(sent), Some(received), Some(date)) => Ok(llmeter_core::fleet::DateSample {
                    sent_unix_ms: sent,
                    received_unix_ms: received,
                    date: date.to_string(),
                }),
                _ => Err(type_error(&format!(
                    "clockSamples[{i}] must be {{sentUnixMs, receivedUnixMs, date}}"
                ))),
            }
        })
        .collect()
}
