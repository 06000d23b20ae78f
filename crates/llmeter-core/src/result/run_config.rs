//! LLMeter's `run_config.json` for a run, built in one place from the run's options (no
//! secrets: keys live only in request headers).

use crate::endpoint::EndpointInfo;
use crate::runner::{LoadModel, PayloadAssignment, RunOptions};
use crate::tokenizer::Tokenizer;
use serde_json::{json, Map, Value};

/// Tokenizer modules LLMeter's run-config loader rebuilds (`Tokenizer.load`).
const LLMETER_TOKENIZER_MODULES: [&str; 3] = ["llmeter", "transformers", "tiktoken"];

/// The tokenizer as `run_config.json` may name it: LLMeter's flat form when LLMeter can load
/// it back, else `None` (the file then says `null`, which LLMeter reads as its default
/// DummyTokenizer, and the real description goes to `run_info.json`).
pub fn llmeter_tokenizer(description: &Value) -> Option<Value> {
    let module = description
        .get("tokenizer_module")
        .and_then(Value::as_str)?;
    LLMETER_TOKENIZER_MODULES
        .contains(&module)
        .then(|| description.clone())
}

/// `run_config.json` of a run named `run_name`; `callbacks` as
/// [`crate::callbacks::run_config_callbacks`] gives it.
pub fn run_config_json(
    opts: &RunOptions,
    info: &EndpointInfo,
    tokenizer: &dyn Tokenizer,
    run_name: &str,
    callbacks: Value,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "endpoint".into(),
        json!({
            "endpoint_name": info.endpoint_name,
            "model_id": info.model_id,
            "provider": info.provider,
            "endpoint_type": info.endpoint_type,
        }),
    );
    m.insert("output_path".into(), Value::Null);
    m.insert(
        "tokenizer".into(),
        llmeter_tokenizer(&tokenizer.describe()).unwrap_or(Value::Null),
    );
    m.insert("clients".into(), json!(opts.clients));
    // Time-bound: 0, as LLMeter (§5.2). Each-once: LLMeter's heatmap value, total // clients.
    // Count-bound open loops: requests per slot, rounded up (LLMeter's loader requires a
    // positive count when there is no run_duration).
    let n_requests = match (opts.payload_assignment, opts.load) {
        (PayloadAssignment::EachOnce, _) => opts.payloads.len() as u32 / opts.clients.max(1),
        (_, LoadModel::Open { .. }) => opts
            .open_loop_requests()
            .map_or(0, |n| n.div_ceil(opts.clients.max(1) as u64) as u32),
        (PayloadAssignment::Cycle, LoadModel::Closed) => opts.requests_per_client().unwrap_or(0),
    };
    m.insert("n_requests".into(), json!(n_requests));
    m.insert("run_duration".into(), json!(opts.run_duration_s));
    m.insert("payload".into(), json!("payload.jsonl"));
    m.insert("run_name".into(), json!(run_name));
    m.insert("run_description".into(), json!(opts.run_description));
    m.insert("timeout".into(), json!(opts.timeout_s));
    m.insert("callbacks".into(), callbacks);
    m.insert("low_memory".into(), json!(false));
    m
}
