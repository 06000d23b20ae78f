//! Endpoints turn a user payload into an HTTP request and parse the response bytes into an
//! outcome, with no I/O of their own (sans-IO): the runner feeds them chunks as they arrive.

pub mod openai;

use crate::transport::{HttpRequest, ResponseHead};
use serde_json::Value;

/// A request ready to send, plus what LLMeter records about its input.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRequest {
    pub http: HttpRequest,
    /// The body actually sent (LLMeter's `input_payload`); never holds credentials.
    pub input_payload: Value,
    /// Human-readable prompt (LLMeter's `input_prompt`), used for input-token fallback counts.
    pub input_prompt: Option<String>,
}

/// What an endpoint parser extracted from one response. Times are monotonic ms as passed to
/// the parser (absolute, same clock as the runner's start stamp).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedResponse {
    pub id: Option<String>,
    /// Visible generated text (reasoning excluded); `None` when no content arrived.
    pub text: Option<String>,
    /// First body chunk of any kind.
    pub first_chunk_ms: Option<f64>,
    /// First chunk that carried content (text or a tool-call delta): LLMeter's TTFT point.
    pub first_content_ms: Option<f64>,
    /// Last chunk that carried content: LLMeter's TTLT point for streams.
    pub last_content_ms: Option<f64>,
    /// Arrival of every chunk that carried content (for inter-token latency percentiles).
    pub content_chunk_ms: Vec<f64>,
    /// End of the body (non-streaming TTLT point).
    pub end_ms: Option<f64>,
    pub tokens_input: Option<u64>,
    pub tokens_output: Option<u64>,
    pub tokens_input_cached: Option<u64>,
    pub tokens_output_reasoning: Option<u64>,
    /// Per-request error (HTTP status, API error body, malformed event, broken stream).
    pub error: Option<String>,
    pub num_chunks: u32,
    pub num_events: u32,
}

/// Incremental response parser: fed the head, then each body chunk, then the end (or failure).
/// Must never panic on any bytes.
pub trait ResponseParser {
    fn on_head(&mut self, head: &ResponseHead);
    fn on_chunk(&mut self, bytes: &[u8], arrival_ms: f64);
    /// `failure` is `Some(message)` when the body broke off (reset, timeout, abort).
    fn finish(self: Box<Self>, end_ms: f64, failure: Option<String>) -> ParsedResponse;
}

/// Identity recorded in LLMeter's summary and run_config (never a key or header value).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct EndpointInfo {
    pub endpoint_name: Option<String>,
    pub model_id: Option<String>,
    pub provider: Option<String>,
    /// LLMeter's class name, e.g. `OpenAICompletionStreamEndpoint`.
    pub endpoint_type: String,
}

pub trait Endpoint {
    fn info(&self) -> EndpointInfo;
    /// Builds the request for one payload. Errors are per-request (bad payload shape).
    fn prepare(&self, payload: &Value) -> Result<PreparedRequest, String>;
    fn parser(&self) -> Box<dyn ResponseParser>;
    /// LLMeter's `create_payload`: a payload for a prompt text and an output-token limit.
    fn create_payload(&self, prompt: &str, max_tokens: u64) -> Value;
}
