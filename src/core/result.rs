//! A run's result: LLMeter's `Result` (summary.json), its stats (stats.json), its responses
//! (responses.jsonl), plus our extras in files LLMeter ignores.

use crate::core::response::{InvocationResponse, ResponseTimings};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// LLMeter's `summary.json`: exactly these 14 keys, in this order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    #[serde(default)]
    pub total_requests: u64,
    #[serde(default = "one")]
    pub clients: u32,
    #[serde(default)]
    pub n_requests: Option<u64>,
    #[serde(default)]
    pub total_test_time: Option<f64>,
    #[serde(default)]
    pub model_id: Option<String>,
    #[serde(default)]
    pub output_path: Option<String>,
    #[serde(default)]
    pub endpoint_name: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub run_name: Option<String>,
    #[serde(default)]
    pub run_description: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub first_request_time: Option<String>,
    #[serde(default)]
    pub last_request_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
}

fn one() -> u32 {
    1
}

/// Facts about how and where the run was measured (not part of LLMeter's files; saved in
/// `run_info.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub interrupted: bool,
    /// Human-readable warnings about platform distortions (connection limits, hidden tab, …).
    pub warnings: Vec<String>,
    /// Runtime name and version, e.g. `chromium 156`, `node 20.20.2`.
    pub runtime: Option<String>,
    /// HTTP protocol seen (`http/1.1`, `h2`), when the platform exposes it.
    pub protocol: Option<String>,
    /// Smallest non-zero step of the monotonic clock observed, in ms.
    pub timer_resolution_ms: Option<f64>,
    /// Responses that could not be saved, with the reason (filled by stores).
    pub unsaved: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunResult {
    pub summary: Summary,
    pub responses: Vec<InvocationResponse>,
    /// Same order as `responses`.
    pub timings: Vec<ResponseTimings>,
    pub stats: Map<String, Value>,
    pub info: RunInfo,
    /// The run's configuration as LLMeter's `run_config.json` (no secrets).
    pub run_config: Map<String, Value>,
    /// The payload list in its original order (`payload.jsonl`).
    pub payloads: Vec<Value>,
}
