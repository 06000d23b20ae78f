//! A run as one shard of a test: the `shard` run option, and the compact
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

/// The run option `shard: {testId, shardId, label?, plan?, sameClock?, clockOffset?}`: the spec,
/// whether the shard shares the merging machine's clock (a worker of a run: no offset to
/// estimate), and an offset estimated elsewhere, used when the endpoint's answers carry no
/// readable `Date` (e.g. from the plan's download).
pub fn read_shard(reader: &super::options::OptionReader) -> Result<Option<ShardOption>, JsValue> {
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
    let fallback = match o.get("clockOffset") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            llmeter_core::fleet::ClockOffset::from_value(v).ok_or_else(|| {
                type_error("shard.clockOffset must be {offset_ms, uncertainty_ms ≥ 0, …}")
            })?,
        ),
    };
    Ok(Some(ShardOption {
        spec,
        same_clock,
        fallback,
    }))
}

pub struct ShardOption {
    pub spec: llmeter_core::fleet::ShardSpec,
    pub same_clock: bool,
    pub fallback: Option<llmeter_core::fleet::ClockOffset>,
}
