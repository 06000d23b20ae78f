//! LLMeter's `run_config.json` for a run, built in one place from the run's options (no
//! secrets: keys live only in request headers).

use crate::endpoint::EndpointInfo;
use crate::runner::{PayloadAssignment, RunOptions};
use crate::tokenizer::Tokenizer;
use serde_json::{json, Map, Value};

pub fn run_config_json(
    opts: &RunOptions,
    info: &EndpointInfo,
    tokenizer: &dyn Tokenizer,
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
    m.insert("tokenizer".into(), tokenizer.describe());
    m.insert("clients".into(), json!(opts.clients));
    // Time-bound: 0, as LLMeter (§5.2). Each-once: LLMeter's heatmap value, total // clients.
    let n_requests = match opts.payload_assignment {
        PayloadAssignment::EachOnce => opts.payloads.len() as u32 / opts.clients.max(1),
        PayloadAssignment::Cycle => opts.requests_per_client().unwrap_or(0),
    };
    m.insert("n_requests".into(), json!(n_requests));
    m.insert("run_duration".into(), json!(opts.run_duration_s));
    m.insert("payload".into(), json!("payload.jsonl"));
    m.insert("run_name".into(), json!(opts.run_name));
    m.insert("run_description".into(), json!(opts.run_description));
    m.insert("timeout".into(), json!(opts.timeout_s));
    m.insert("callbacks".into(), Value::Null);
    m.insert("low_memory".into(), json!(false));
    m
}
