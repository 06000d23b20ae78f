//! The wasm-bindgen layer over `files` and the core's fleet rules; `js/fleet.js` wraps it.

use crate::files::Merger;
use js_sys::{Object, Reflect};
use llmeter_core::endpoint::EndpointInfo;
use llmeter_core::fleet::lost::{lost_shard, LostShard};
use llmeter_core::fleet::plan::{parse_shard_key, plan_key, shard_prefix};
use llmeter_core::fleet::{ClockOffset, FleetPlan, PlanError, ShardSpec};
use llmeter_core::live::LiveStats;
use llmeter_core::response::InvocationResponse;
use llmeter_core::result::{response_from_json, timing_from_json, MergeOptions};
use llmeter_core::tokenizer::WhitespaceTokenizer;
use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

fn error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

fn plan_error(e: PlanError) -> JsValue {
    if e.is_range {
        js_sys::RangeError::new(&e.message).into()
    } else {
        type_error(&e.message)
    }
}

/// A JS value as JSON (through `JSON.stringify`, which refuses cycles; serde stops at 128
/// levels), errors naming `what`.
fn to_json(v: &JsValue, what: &str) -> Result<Value, JsValue> {
    let text = js_sys::JSON::stringify(v)
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| type_error(&format!("{what} is not JSON-serialisable")))?;
    serde_json::from_str(&text).map_err(|e| type_error(&format!("{what}: {e}")))
}

fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| error(&e.to_string()))
}

fn files_to_js(files: Vec<(String, String)>) -> Result<JsValue, JsValue> {
    let o = Object::new();
    for (name, content) in files {
        Reflect::set(&o, &JsValue::from_str(&name), &JsValue::from_str(&content))?;
    }
    Ok(o.into())
}

fn files_from_js(files: JsValue) -> Result<Vec<(String, String)>, JsValue> {
    let map: std::collections::BTreeMap<String, String> = serde_wasm_bindgen::from_value(files)
        .map_err(|e| type_error(&format!("files must map names to text: {e}")))?;
    Ok(map.into_iter().collect())
}

/// Shards collected one by one (run folders or compact shard texts), merged at the end.
#[wasm_bindgen]
pub struct FleetMerger {
    inner: Option<Merger>,
}

#[wasm_bindgen]
impl FleetMerger {
    #[wasm_bindgen(constructor)]
    pub fn new() -> FleetMerger {
        FleetMerger {
            inner: Some(Merger::default()),
        }
    }

    fn merger(&mut self) -> Result<&mut Merger, JsValue> {
        self.inner
            .as_mut()
            .ok_or_else(|| error("this merger has already finished"))
    }

    /// A run folder `{fileName: text}`.
    #[wasm_bindgen(js_name = addFiles)]
    pub fn add_files(&mut self, files: JsValue) -> Result<(), JsValue> {
        let files = files_from_js(files)?;
        self.merger()?.add_files(&files).map_err(|e| error(&e))
    }

    /// A compact shard text (a probe's beacon).
    #[wasm_bindgen(js_name = addCompact)]
    pub fn add_compact(&mut self, text: &str) -> Result<(), JsValue> {
        self.merger()?.add_compact(text).map_err(|e| error(&e))
    }

    pub fn count(&self) -> usize {
        self.inner.as_ref().map_or(0, Merger::len)
    }

    /// `{runName?, runDescription?, plan?}` → the merged run folder `{fileName: text}`.
    pub fn finish(&mut self, options: JsValue) -> Result<JsValue, JsValue> {
        let mut merge_options = MergeOptions::default();
        if options.is_object() {
            let o = to_json(&options, "merge options")?;
            let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
            merge_options.run_name = text("runName");
            merge_options.run_description = text("runDescription");
            if let Some(Value::Array(notes)) = o.get("notes") {
                merge_options.notes = notes
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect();
            }
            if let Some(plan) = o.get("plan").filter(|p| !p.is_null()) {
                merge_options.plan = Some(FleetPlan::from_value(plan).map_err(plan_error)?);
            }
        }
        let merger = self
            .inner
            .take()
            .ok_or_else(|| error("this merger has already finished"))?;
        files_to_js(merger.finish(&merge_options).map_err(|e| error(&e))?)
    }
}

impl Default for FleetMerger {
    fn default() -> Self {
        FleetMerger::new()
    }
}

/// A plan from camelCase options or `plan.json`'s object → `plan.json`'s object (snake_case).
#[wasm_bindgen(js_name = fleetPlan)]
pub fn fleet_plan(options: JsValue) -> Result<JsValue, JsValue> {
    let plan = FleetPlan::from_value(&to_json(&options, "plan")?).map_err(plan_error)?;
    to_js(&plan.to_value())
}

/// `(plan, shardId)` → `{testId, shardId, clients, nRequests?, runDuration?, label?,
/// startUnixMs?, payload?, plan}`: what the shard runs, and what its manifest records.
#[wasm_bindgen(js_name = fleetShardLoad)]
pub fn fleet_shard_load(plan: JsValue, shard_id: &str) -> Result<JsValue, JsValue> {
    let plan = FleetPlan::from_value(&to_json(&plan, "plan")?).map_err(plan_error)?;
    let load = plan.shard_load(shard_id).map_err(plan_error)?;
    let mut out = Map::new();
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
        out.insert("payload".into(), Value::Array(p.clone()));
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

/// The files of a shard's folder (what a driver presigns for a participant that cannot sign).
#[wasm_bindgen(js_name = fleetShardFiles)]
pub fn fleet_shard_files() -> Vec<String> {
    llmeter_core::fleet::plan::SHARD_FILES
        .iter()
        .map(|f| f.to_string())
        .collect()
}

/// `[shardId, file]` of a listed key, or `undefined` for keys that are not a shard's file.
#[wasm_bindgen(js_name = fleetParseKey)]
pub fn fleet_parse_key(prefix: &str, test_id: &str, key: &str) -> Option<Vec<String>> {
    parse_shard_key(prefix, test_id, key).map(|(s, f)| vec![s.to_string(), f.to_string()])
}

/// The run folder of a worker that died: `{clients, expectedRequests?, responses, timings,
/// error, startUnixMs, endUnixMs, runName?, endpointInfo, shard: {testId, shardId}, seed?}`
/// (responses as `onResponse` gave them).
#[wasm_bindgen(js_name = lostShard)]
pub fn lost_shard_files(spec: JsValue) -> Result<JsValue, JsValue> {
    let o = to_json(&spec, "lostShard")?;
    let num = |k: &str| o.get(k).and_then(Value::as_f64);
    let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
    let list = |k: &str| match o.get(k) {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let received = list("responses")
        .into_iter()
        .enumerate()
        .map(|(i, v)| response_from_json(i + 1, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(&e))?;
    let timings = list("timings")
        .into_iter()
        .enumerate()
        .map(|(i, v)| timing_from_json(i + 1, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(&e))?;
    let info = o.get("endpointInfo");
    let info_text = |k: &str| {
        info.and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let shard = match o.get("shard") {
        Some(s) => {
            let id = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            Some(
                ShardSpec::new(id("testId"), id("shardId"), None, None)
                    .map_err(plan_error)?
                    .manifest(None, "llmeter-wasm", Some(ClockOffset::same_clock())),
            )
        }
        None => None,
    };
    let now = js_sys::Date::now();
    let result = lost_shard(
        LostShard {
            clients: num("clients").unwrap_or(1.0).max(1.0) as u32,
            expected_requests: num("expectedRequests").map(|n| n as u64),
            received,
            timings,
            error: text("error").unwrap_or_else(|| "the worker stopped".into()),
            start_unix_ms: num("startUnixMs").unwrap_or(now),
            end_unix_ms: num("endUnixMs").unwrap_or(now),
            run_name: text("runName"),
            endpoint: EndpointInfo {
                endpoint_name: info_text("endpoint_name"),
                model_id: info_text("model_id"),
                provider: info_text("provider"),
                endpoint_type: info_text("endpoint_type").unwrap_or_default(),
            },
            manifest: shard,
            seed: num("seed").unwrap_or(0.0) as u64,
        },
        &WhitespaceTokenizer,
    );
    files_to_js(result.to_files())
}

/// `[{sentUnixMs, receivedUnixMs, date}]` → this machine's clock offset against the server
/// that sent the `Date` headers (`{offset_ms, uncertainty_ms, …}`), or `undefined` without a
/// usable sample.
#[wasm_bindgen(js_name = clockOffset)]
pub fn clock_offset(samples: JsValue, source: &str) -> Result<JsValue, JsValue> {
    let Value::Array(items) = to_json(&samples, "samples")? else {
        return Err(type_error("samples must be an array"));
    };
    let mut estimator = llmeter_core::fleet::OffsetEstimator::default();
    for s in &items {
        let num = |k: &str| s.get(k).and_then(Value::as_f64);
        if let (Some(sent), Some(received), Some(date)) = (
            num("sentUnixMs"),
            num("receivedUnixMs"),
            s.get("date").and_then(Value::as_str),
        ) {
            estimator.add(sent, received, date);
        }
    }
    match estimator.estimate(source) {
        Some(o) => to_js(&o),
        None => Ok(JsValue::UNDEFINED),
    }
}

/// Milliseconds from `nowUnixMs` (this machine's clock) until a plan's `startUnixMs` on the
/// reference clock, correcting ours by the least the offset estimate allows (none when ours is
/// within its uncertainty); negative once the start has passed.
#[wasm_bindgen(js_name = untilStartMs)]
pub fn until_start_ms(
    start_unix_ms: f64,
    now_unix_ms: f64,
    offset: JsValue,
) -> Result<f64, JsValue> {
    let offset = if offset.is_undefined() || offset.is_null() {
        None
    } else {
        let value = to_json(&offset, "offset")?;
        Some(
            llmeter_core::fleet::ClockOffset::from_value(&value)
                .ok_or_else(|| type_error("offset must be {offset_ms, uncertainty_ms ≥ 0, …}"))?,
        )
    };
    Ok(llmeter_core::fleet::ClockOffset::until_ms(
        offset.as_ref(),
        start_unix_ms,
        now_unix_ms,
    ))
}

/// Live stats for a run spread over workers: the page feeds each response's numbers as they
/// come back (no JSON), and takes a snapshot on its own schedule.
#[wasm_bindgen]
pub struct LiveTracker {
    inner: LiveStats,
}

#[wasm_bindgen]
impl LiveTracker {
    #[wasm_bindgen(constructor)]
    pub fn new() -> LiveTracker {
        LiveTracker {
            inner: LiveStats::default(),
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
        self.inner.push(&InvocationResponse {
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
