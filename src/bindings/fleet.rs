//! Shards and fleets for JS: merging results (`Result.merge`, `workers: N`, fleet and probe
//! collectors), the fleet's plan and object keys, and compact shards. Rules live in
//! `llmeter_core::{fleet, result::merge}`; this file only converts.

use super::options::{range_error, to_json, type_error};
use super::result::{to_js, WasmRunResult};
use llmeter_core::fleet::compact::{from_compact, to_compact};
use llmeter_core::fleet::plan::{parse_shard_key, plan_key, shard_prefix};
use llmeter_core::fleet::{FleetPlan, PlanError};
use llmeter_core::result::{merge, MergeOptions, RunResult};
use wasm_bindgen::prelude::*;

fn plan_error(e: PlanError) -> JsValue {
    if e.is_range {
        range_error(&e.message)
    } else {
        type_error(&e.message)
    }
}

fn error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// Collects shards (results, or compact shard texts) and merges them into one result.
#[wasm_bindgen]
pub struct ShardMerger {
    shards: Vec<RunResult>,
}

#[wasm_bindgen]
impl ShardMerger {
    #[wasm_bindgen(constructor)]
    pub fn new() -> ShardMerger {
        ShardMerger { shards: Vec::new() }
    }

    /// Adds a copy of a result.
    pub fn add(&mut self, shard: &WasmRunResult) {
        self.shards.push(shard.inner().clone());
    }

    /// Adds a compact shard (a probe's beacon); errors name what is wrong with it.
    #[wasm_bindgen(js_name = addCompact)]
    pub fn add_compact(&mut self, text: &str) -> Result<(), JsValue> {
        self.shards.push(from_compact(text).map_err(|e| error(&e))?);
        Ok(())
    }

    pub fn count(&self) -> usize {
        self.shards.len()
    }

    /// `{runName?, runDescription?, plan?}` → the merged result.
    pub fn finish(&mut self, options: JsValue) -> Result<WasmRunResult, JsValue> {
        let mut merge_options = MergeOptions::default();
        if options.is_object() {
            let o = to_json(&options, "merge options")?;
            let text = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_string);
            merge_options.run_name = text("runName");
            merge_options.run_description = text("runDescription");
            if let Some(plan) = o.get("plan").filter(|p| !p.is_null()) {
                merge_options.plan = Some(FleetPlan::from_value(plan).map_err(plan_error)?);
            }
        }
        let shards = std::mem::take(&mut self.shards);
        merge(shards, &merge_options)
            .map(WasmRunResult::new)
            .map_err(|e| error(&e))
    }
}

impl Default for ShardMerger {
    fn default() -> Self {
        ShardMerger::new()
    }
}

/// A plan from camelCase options or `plan.json`'s object → `plan.json`'s object (snake_case).
#[wasm_bindgen(js_name = fleetPlan)]
pub fn fleet_plan(options: JsValue) -> Result<JsValue, JsValue> {
    let plan = FleetPlan::from_value(&to_json(&options, "plan")?).map_err(plan_error)?;
    to_js(&plan.to_value())
}

/// `(plan, shardId)` → `{clients, nRequests?, runDuration?, label?, startUnixMs?, plan}`:
/// what the shard runs, and what its manifest records as its plan.
#[wasm_bindgen(js_name = fleetShardLoad)]
pub fn fleet_shard_load(plan: JsValue, shard_id: &str) -> Result<JsValue, JsValue> {
    let plan = FleetPlan::from_value(&to_json(&plan, "plan")?).map_err(plan_error)?;
    let load = plan.shard_load(shard_id).map_err(plan_error)?;
    let mut out = serde_json::Map::new();
    out.insert("testId".into(), plan.test_id.clone().into());
    out.insert("shardId".into(), load.shard_id.clone().into());
    out.insert("clients".into(), load.clients.into());
    if let Some(n) = load.n_requests {
        out.insert("nRequests".into(), n.into());
    }
    if let Some(d) = load.run_duration_s {
        out.insert("runDuration".into(), d.into());
    }
    if let Some(l) = &load.label {
        out.insert("label".into(), l.clone().into());
    }
    if let Some(t) = plan.start_unix_ms {
        out.insert("startUnixMs".into(), t.into());
    }
    if let Some(p) = &plan.payload {
        out.insert("payload".into(), serde_json::Value::Array(p.clone()));
    }
    out.insert("plan".into(), plan.shard_plan_json(&load));
    to_js(&out)
}

#[wasm_bindgen(js_name = fleetPlanKey)]
pub fn fleet_plan_key(prefix: &str, test_id: &str) -> String {
    plan_key(prefix, test_id)
}

#[wasm_bindgen(js_name = fleetShardPrefix)]
pub fn fleet_shard_prefix(prefix: &str, test_id: &str, shard_id: &str) -> String {
    shard_prefix(prefix, test_id, shard_id)
}

/// `[shardId, file]` of a listed key, or `undefined` for keys that are not a shard's file.
#[wasm_bindgen(js_name = fleetParseKey)]
pub fn fleet_parse_key(prefix: &str, test_id: &str, key: &str) -> Option<Vec<String>> {
    parse_shard_key(prefix, test_id, key).map(|(s, f)| vec![s.to_string(), f.to_string()])
}

/// The compact text of a result (a probe's beacon); texts and payloads only if `keepText`.
#[wasm_bindgen(js_name = toCompact)]
pub fn to_compact_text(result: &WasmRunResult, keep_text: bool) -> String {
    to_compact(result.inner(), keep_text)
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

/// The result of a worker that died: `{clients, expectedRequests?, responses, timings, error,
/// startUnixMs, endUnixMs, runName?, endpoint, shard}` (responses as `onResponse` gave them).
#[wasm_bindgen(js_name = lostShard)]
pub fn lost_shard(spec: JsValue) -> Result<WasmRunResult, JsValue> {
    use llmeter_core::fleet::lost::{lost_shard, LostShard};
    use llmeter_core::result::{response_from_json, timing_from_json};
    let reader = super::options::OptionReader::new(&spec)?;
    let endpoint = super::endpoints::from_js(
        &reader
            .object("endpoint")?
            .ok_or_else(|| type_error("endpoint is required"))?,
    )?;
    let shard = read_shard(&reader)?.map(|(spec, _)| {
        spec.manifest(
            None,
            ENGINE,
            Some(llmeter_core::fleet::ClockOffset::same_clock()),
        )
    });
    let list = |key: &str| -> Result<Vec<serde_json::Value>, JsValue> {
        match reader.value(key) {
            None => Ok(Vec::new()),
            Some(v) => match to_json(&v, key)? {
                serde_json::Value::Array(items) => Ok(items),
                _ => Err(type_error(&format!("{key} must be an array"))),
            },
        }
    };
    let received = list("responses")?
        .into_iter()
        .enumerate()
        .map(|(i, v)| response_from_json(i + 1, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(&e))?;
    let timings = list("timings")?
        .into_iter()
        .enumerate()
        .map(|(i, v)| timing_from_json(i + 1, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(&e))?;
    let tokenizer = super::tokenizer::from_option(reader.value("tokenizer"))?;
    let now = js_sys::Date::now();
    let result = lost_shard(
        LostShard {
            clients: reader.positive_int("clients")?.unwrap_or(1),
            expected_requests: reader.f64("expectedRequests")?.map(|n| n as u64),
            received,
            timings,
            error: reader
                .string("error")?
                .unwrap_or_else(|| "the worker stopped".into()),
            start_unix_ms: reader.f64("startUnixMs")?.unwrap_or(now),
            end_unix_ms: reader.f64("endUnixMs")?.unwrap_or(now),
            run_name: reader.string("runName")?,
            endpoint: endpoint.info(),
            manifest: shard,
            seed: reader.f64("seed")?.unwrap_or(0.0) as u64,
        },
        tokenizer.as_ref(),
    );
    Ok(WasmRunResult::new(result))
}

/// Live stats for a run spread over workers: the page feeds each response's numbers as they
/// come back (no JSON), and takes a snapshot on its own schedule.
#[wasm_bindgen]
pub struct LiveTracker {
    inner: llmeter_core::live::LiveStats,
}

#[wasm_bindgen]
impl LiveTracker {
    #[wasm_bindgen(constructor)]
    pub fn new() -> LiveTracker {
        LiveTracker {
            inner: Default::default(),
        }
    }

    /// One response: TTFT and TTLT in seconds (`undefined` when missing), output tokens,
    /// failed or not.
    pub fn push(
        &mut self,
        ttft: Option<f64>,
        ttlt: Option<f64>,
        output_tokens: Option<f64>,
        failed: bool,
    ) {
        self.inner
            .push(&llmeter_core::response::InvocationResponse {
                time_to_first_token: ttft,
                time_to_last_token: ttlt,
                num_tokens_output: output_tokens.map(|n| n as u64),
                error: failed.then(String::new),
                ..Default::default()
            });
    }

    pub fn snapshot(&self, elapsed_s: f64) -> Result<JsValue, JsValue> {
        to_js(&self.inner.snapshot(elapsed_s))
    }
}

impl Default for LiveTracker {
    fn default() -> Self {
        LiveTracker::new()
    }
}
