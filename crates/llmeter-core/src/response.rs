//! One request's outcome: LLMeter's `InvocationResponse` (14 fields, same JSON keys and order)
//! plus our own measurements, kept apart so LLMeter's loader never sees unknown keys.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::rc::Rc;

/// LLMeter's `InvocationResponse`, field for field. Times are seconds (f64), `request_time`
/// is a UTC timestamp string `YYYY-MM-DDTHH:MM:SS.mmmZ` (LLMeter parses fractional seconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvocationResponse {
    pub response_text: Option<String>,
    /// Shared by every response that sent the same payload (built once per payload).
    #[serde(default)]
    pub input_payload: Option<Rc<Value>>,
    /// `None` only for responses loaded from a file that had `"id": null` (kept, as LLMeter).
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub input_prompt: Option<Rc<str>>,
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
    /// Per-response data from callbacks (LLMeter 0.2.0, e.g. costs); written only when present,
    /// so files without it stay loadable by LLMeter 0.1.12 (which rejects unknown keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map<String, Value>>,
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
    pub network: Option<crate::network_phases::NetworkPhases>,
    /// The request's start and end on the platform clock (ms), to pair it with its Resource
    /// Timing entry after the run; not saved.
    #[serde(skip)]
    pub start_ms: Option<f64>,
    #[serde(skip)]
    pub end_ms: Option<f64>,
    /// Seconds from the run's start to when this request was due (open loops: its arrival).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<f64>,
    /// Seconds from the run's start to when it was sent (the start of its TTFT and TTLT);
    /// `sent_at − scheduled_at` is its schedule lag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<f64>,
}

impl InvocationResponse {
    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }

    /// The id as a join key (`""` when null).
    pub fn id_str(&self) -> &str {
        self.id.as_deref().unwrap_or("")
    }
}
