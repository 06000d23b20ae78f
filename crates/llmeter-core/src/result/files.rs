//! Writing a run folder the way LLMeter lays it out: JSON lines, and `run_config.json` in
//! LLMeter's key order and endpoint form.

use crate::json;
use serde::Serialize;
use serde_json::{Map, Value};

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

pub fn jsonl<T: Serialize>(items: &[T]) -> String {
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
