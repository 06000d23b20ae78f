//! What LLMeter's `MlflowCallback` logs (reference §11.3), as the body of MLflow's REST
//! `runs/log-batch`: params are the result attributes `total_requests`, `clients`,
//! `n_requests`, `model_id`, `output_path`, `endpoint_name`, `provider`, `run_name`,
//! `run_description` (as Python's `str()`: `None` for null); metrics are every stats entry whose
//! value is a number or a boolean (Python's bools are ints) and whose key is not a param name.
//! The HTTP calls are the JS `MlflowCallback`'s (`js/callbacks.js`).

use crate::result::Summary;
use serde_json::{json, Map, Value};

pub const PARAM_NAMES: [&str; 9] = [
    "total_requests",
    "clients",
    "n_requests",
    "model_id",
    "output_path",
    "endpoint_name",
    "provider",
    "run_name",
    "run_description",
];

/// Python's `str()` of a JSON value as MLflow logs a param.
fn python_str(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // Python's repr of a float always shows it is one.
                let s = crate::json::to_compact(&n).unwrap_or_default();
                if f.is_finite() && f.fract() == 0.0 && !s.contains(['e', 'E', '.']) {
                    format!("{s}.0")
                } else {
                    s
                }
            } else {
                n.to_string()
            }
        }
        other => crate::json::text(other),
    }
}

/// `{params: [{key, value}], metrics: [{key, value, timestamp, step}]}` for one run, `timestamp`
/// in Unix ms, `step` 0 when not given (MLflow's default).
pub fn log_batch(
    summary: &Summary,
    stats: &Map<String, Value>,
    step: Option<i64>,
    timestamp_ms: i64,
) -> Value {
    let summary = match serde_json::to_value(summary) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let params: Vec<Value> = PARAM_NAMES
        .iter()
        .map(|k| json!({"key": k, "value": python_str(summary.get(*k).unwrap_or(&Value::Null))}))
        .collect();
    let metrics: Vec<Value> = stats
        .iter()
        .filter(|(k, _)| !PARAM_NAMES.contains(&k.as_str()))
        .filter_map(|(k, v)| {
            let value = match v {
                Value::Number(n) => n.as_f64()?,
                Value::Bool(b) => f64::from(u8::from(*b)),
                _ => return None,
            };
            Some(json!({"key": k, "value": value, "timestamp": timestamp_ms, "step": step.unwrap_or(0)}))
        })
        .collect();
    json!({"params": params, "metrics": metrics})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_metrics_as_llmeter_logs_them() {
        let summary = Summary {
            total_requests: Some(4),
            clients: 2,
            total_test_time: Some(1.5),
            run_name: Some("r".into()),
            ..Default::default()
        };
        let stats = json!({"total_requests": 4, "clients": 2, "total_test_time": 1.5, "start_time": "2025-01-01T00:00:00Z",
            "failed_requests": 0, "requests_per_minute": null, "interrupted": true, "cost_total": 0.5}).as_object().unwrap().clone();
        let b = log_batch(&summary, &stats, Some(3), 1000);
        let params: Vec<(String, String)> = b["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["key"].as_str().unwrap().into(),
                    p["value"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(params[0], ("total_requests".into(), "4".into()));
        assert_eq!(params[2], ("n_requests".into(), "None".into()));
        assert_eq!(params[7], ("run_name".into(), "r".into()));
        let keys: Vec<&str> = b["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["key"].as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "total_test_time",
                "failed_requests",
                "interrupted",
                "cost_total"
            ]
        );
        assert_eq!(b["metrics"][2]["value"], json!(1.0));
        assert_eq!(b["metrics"][0]["step"], json!(3));
        assert_eq!(python_str(&json!(2.0)), "2.0");
    }
}
