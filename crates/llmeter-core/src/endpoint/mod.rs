//! Endpoints turn a user payload into HTTP requests and read the response bytes into an
//! outcome, with no I/O of their own (sans-IO): the runner feeds them chunks as they arrive.
//!
//! Adding an endpoint family means one module here that implements [`Endpoint`] — usually with
//! a [`stream::Protocol`] that reads the family's frames, which [`stream::StreamParser`] wraps
//! with the rules every endpoint shares (HTTP errors, body limits, the TTFT/TTLT rule) — and
//! one arm in [`config::build`], which reads the family's options.

pub mod anthropic;
#[doc(hidden)]
pub mod api_event;
#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
pub mod custom;
pub mod http;
#[cfg(feature = "json-paths")]
pub mod json_path;
pub mod openai;
pub mod payload;
pub mod stream;
#[cfg(test)]
pub(crate) mod test_support;

use crate::transport::{HttpRequest, ResponseHead};
use serde_json::{Map, Value};
use std::rc::Rc;

/// A payload made ready to send: built once per distinct payload of a run, shared by every
/// request that sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedPayload {
    /// The bytes sent (the request body).
    pub body: Rc<[u8]>,
    /// The body as LLMeter records it (`input_payload`); never holds credentials.
    pub input_payload: Rc<Value>,
    /// Human-readable prompt (LLMeter's `input_prompt`), used for input-token fallback counts.
    pub input_prompt: Option<Rc<str>>,
}

/// Why a payload or a request could not be built (recorded as that request's error).
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointError {
    /// The payload does not have the shape this endpoint needs.
    Payload(String),
    /// The request could not be built or signed.
    Request(String),
}

impl std::fmt::Display for EndpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndpointError::Payload(m) | EndpointError::Request(m) => f.write_str(m),
        }
    }
}

/// Limits on what a parser buffers, from the run's options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParseLimits {
    /// Largest line, event or message of a stream, and largest non-streamed body.
    pub max_event_bytes: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_event_bytes: crate::framing::DEFAULT_MAX_EVENT_BYTES,
        }
    }
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
    /// First chunk that carried counted output: LLMeter's TTFT point.
    pub first_content_ms: Option<f64>,
    /// Last chunk that carried output (or a last-token mark): LLMeter's TTLT point for streams.
    pub last_content_ms: Option<f64>,
    /// Arrival of every chunk that carried output (for inter-token latency percentiles).
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

impl ParsedResponse {
    /// Appends generated text (non-empty pieces only: no text stays `None`).
    pub fn push_text(&mut self, piece: &str) {
        if !piece.is_empty() {
            self.text.get_or_insert_with(String::new).push_str(piece);
        }
    }

    /// [`Self::push_text`] for text as the JSON scanner read it: escapes are decoded on the way.
    pub fn push_json_text(&mut self, piece: &crate::json_scan::JsonStr) {
        if !piece.is_empty() {
            piece.push_to(self.text.get_or_insert_with(String::new));
        }
    }
}

/// Incremental response parser: fed the head, then each body chunk, then the end (or failure).
/// Must never panic on any bytes.
pub trait ResponseParser {
    fn on_head(&mut self, head: &ResponseHead);
    fn on_chunk(&mut self, bytes: &[u8], arrival_ms: f64);
    /// `failure` is `Some(message)` when the body broke off (reset, timeout, abort).
    fn finish(self: Box<Self>, end_ms: f64, failure: Option<String>) -> ParsedResponse;
    /// The response failed for good (a protocol error, a message over the size limit): nothing
    /// more the body could send would change the outcome, so the runner stops reading and
    /// aborts the transfer — a server that keeps sending cannot hold the request until its
    /// timeout. (A complete response is read to its end, keeping its connection reusable.)
    fn is_settled(&self) -> bool {
        false
    }
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

impl EndpointInfo {
    /// The identity of a family with LLMeter's streaming and non-streaming classes
    /// (`classes.0` when `stream`, else `classes.1`).
    pub fn of_family(
        classes: (&str, &str),
        stream: bool,
        endpoint_name: &Option<String>,
        model: &str,
        provider: &Option<String>,
    ) -> EndpointInfo {
        EndpointInfo {
            endpoint_name: endpoint_name.clone(),
            model_id: Some(model.to_string()),
            provider: provider.clone(),
            endpoint_type: (if stream { classes.0 } else { classes.1 }).into(),
        }
    }
}

/// LLMeter's `user_message` argument of `create_payload`: one text, or a list of texts that
/// becomes one content block per text.
#[derive(Debug, Clone, PartialEq)]
pub enum UserMessage {
    Text(String),
    Parts(Vec<String>),
}

impl UserMessage {
    /// All the text, parts joined with `\n` (LLMeter's prompt extraction).
    pub fn joined(&self) -> String {
        match self {
            UserMessage::Text(t) => t.clone(),
            UserMessage::Parts(p) => p.join("\n"),
        }
    }
}

pub trait Endpoint {
    fn info(&self) -> EndpointInfo;
    /// Builds what is sent for one payload; called once per distinct payload of a run.
    /// Errors are per request (a payload of the wrong shape fails only its requests).
    fn prepare(&self, payload: &Value) -> Result<PreparedPayload, EndpointError>;
    /// The HTTP request that sends `prepared`, at wall-clock `now_unix_ms` (request signing
    /// needs the time). Called once per request, so it should do little beyond signing.
    fn request(
        &self,
        prepared: &PreparedPayload,
        now_unix_ms: f64,
    ) -> Result<HttpRequest, EndpointError>;
    fn parser(&self, limits: ParseLimits) -> Box<dyn ResponseParser>;
    /// LLMeter's `create_payload`: a payload for a user message and an output-token limit;
    /// `extra` is merged in (LLMeter's `**kwargs`).
    fn create_payload(
        &self,
        message: &UserMessage,
        max_tokens: u64,
        extra: &Map<String, Value>,
    ) -> Result<Value, EndpointError>;
    /// Every secret value this endpoint sends (API keys, tokens, secret header values): the
    /// run redacts them from anything it keeps.
    fn secrets(&self) -> Vec<String>;
}
