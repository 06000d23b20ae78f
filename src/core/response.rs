//! One request's outcome: LLMeter's `InvocationResponse` (14 fields, same JSON keys and order)
//! plus our own measurements, kept apart so LLMeter's loader never sees unknown keys.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// LLMeter's `InvocationResponse`, field for field. Times are seconds (f64), `request_time`
/// is a UTC timestamp string `YYYY-MM-DDTHH:MM:SS.mmmZ` (LLMeter parses fractional seconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvocationResponse {
    pub response_text: Option<String>,
    #[serde(default)]
    pub input_payload: Option<Value>,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub input_prompt: Option<String>,
    #[serde(default)]
    pub time_to_first_token: Option<f64>,
    #[serde(default)]
    pub time_to_last_token: Option<f64>,
    #[serde(default)]
    pub num_tokens_input: Option<u64>,
    #[serde(default)]
    pub num_tokens_output: Option<u64>,
    #[serde(default)]
    pub num_tokens_input_cached: Option<u64>,
    #[serde(default)]
    pub num_tokens_output_reasoning: Option<u64>,
    #[serde(default)]
    pub time_per_output_token: Option<f64>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub retries: Option<u64>,
    #[serde(default)]
    pub request_time: Option<String>,
}

/// Measurements beyond LLMeter's fields, written to `chunk_timings.jsonl` (one line per
/// response, joined on `id`) so that LLMeter's strict loader is untouched.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseTimings {
    pub id: String,
    /// Seconds from request start to the first body chunk of any kind (role-only, usage, …).
    pub time_to_first_chunk: Option<f64>,
    /// Seconds from request start to response headers.
    pub time_to_headers: Option<f64>,
    /// Arrival offset (seconds from request start) of every body chunk that carried content.
    pub content_chunk_offsets: Vec<f64>,
    /// Number of network chunks (reads) and of SSE events; neither is a token count.
    pub num_chunks: u32,
    pub num_events: u32,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Index of the payload sent (into the run's payload list / `payload.jsonl`), so each
    /// response maps back to what was asked (e.g. a heatmap cell).
    #[serde(default)]
    pub payload_index: Option<u32>,
    /// What the browser added to this request (queueing, DNS, connect, TLS, send, first byte),
    /// from its Resource Timing entry, in browsers (see `core::network_phases`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<crate::core::network_phases::NetworkPhases>,
    /// The request's start and end on the platform clock (ms), to pair it with its Resource
    /// Timing entry after the run; not saved.
    #[serde(skip)]
    pub start_ms: Option<f64>,
    #[serde(skip)]
    pub end_ms: Option<f64>,
}

impl InvocationResponse {
    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }
}
