//! OpenAI Responses API (`POST {base}/responses`), streaming or not, as LLMeter's
//! `OpenAIResponseStreamEndpoint` / `OpenAIResponseEndpoint`.
//!
//! Streaming timing (LLMeter's rule): output is every `response.output_text.delta`; with
//! `ttft_visible_tokens_only: false`, `response.reasoning_summary_text.delta` and
//! `response.reasoning_text.delta` count for TTFT too. `response.failed` is a TTLT point and
//! the request's error (`"<code>: <message>"`). Usage comes from `response.completed` — and,
//! where LLMeter reads nothing, from `response.incomplete` (the event that ends a response cut
//! at `max_output_tokens`), so such responses keep the provider's counts.
//!
//! Events are read with borrowed strings and only the fields the rule needs (`type`, `delta`,
//! and the `response` object of the lifecycle events).

#[cfg(test)]
mod tests;

use super::{merge_headers, OpenAIConfig};
use crate::endpoint::http::{api_error_message, byte_snippet, snippet};
use crate::endpoint::payload::{is_truthy, json_type, lenient_count, lenient_str};
use crate::endpoint::stream::{FrameOutcome, Protocol, StreamParser};
use crate::endpoint::{
    Endpoint, EndpointError, EndpointInfo, ParseLimits, ParsedResponse, PreparedPayload,
    ResponseParser, UserMessage,
};
use crate::framing::{Frame, Framing, StreamEnd};
use crate::transport::HttpRequest;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;

/// LLMeter's default `endpoint_name` of each class.
pub const STREAM_NAME: &str = "openai-response-stream";
pub const NON_STREAM_NAME: &str = "openai-response";

#[derive(Clone)]
pub struct OpenAIResponsesEndpoint {
    config: OpenAIConfig,
    ttft_visible_tokens_only: bool,
    url: String,
    headers: Vec<(String, String)>,
    response_headers: Rc<[String]>,
}

/// Shows the (redacted) config, never the built headers, which hold the key.
impl fmt::Debug for OpenAIResponsesEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAIResponsesEndpoint")
            .field("config", &self.config)
            .field("ttft_visible_tokens_only", &self.ttft_visible_tokens_only)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl OpenAIResponsesEndpoint {
    /// `config.endpoint_name` `None` takes LLMeter's default for the stream or non-stream class.
    pub fn new(mut config: OpenAIConfig, ttft_visible_tokens_only: bool) -> Self {
        let url = format!("{}/responses", config.base_url.trim_end_matches('/'));
        if config.endpoint_name.is_none() {
            let name = if config.stream {
                STREAM_NAME
            } else {
                NON_STREAM_NAME
            };
            config.endpoint_name = Some(name.into());
        }
        let mut defaults = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(key) = config.api_key.as_deref().filter(|k| !k.is_empty()) {
            defaults.push(("authorization".into(), format!("Bearer {key}")));
        }
        let headers = merge_headers(defaults, &config.extra_headers);
        OpenAIResponsesEndpoint {
            config,
            ttft_visible_tokens_only,
            url,
            headers,
            response_headers: Rc::from(["content-type".to_string(), "retry-after".to_string()]),
        }
    }
}

impl Endpoint for OpenAIResponsesEndpoint {
    fn info(&self) -> EndpointInfo {
        let endpoint_type = if self.config.stream {
            "OpenAIResponseStreamEndpoint"
        } else {
            "OpenAIResponseEndpoint"
        };
        EndpointInfo {
            endpoint_name: self.config.endpoint_name.clone(),
            model_id: Some(self.config.model.clone()),
            provider: self.config.provider.clone(),
            endpoint_type: endpoint_type.into(),
        }
    }

    fn prepare(&self, payload: &Value) -> Result<PreparedPayload, EndpointError> {
        let Value::Object(fields) = payload else {
            return Err(EndpointError::Payload(format!(
                "payload must be a JSON object (OpenAI Responses request), got {}",
                json_type(payload)
            )));
        };
        let mut body: Map<String, Value> = fields.clone();
        body.insert("model".into(), Value::String(self.config.model.clone()));
        if !self.config.stream {
            body.insert("stream".into(), Value::Bool(false));
        } else if !body.get("stream").is_some_and(is_truthy) {
            // LLMeter's prepare_payload, option included.
            body.insert("stream".into(), Value::Bool(true));
            body.insert("stream_options".into(), json!({ "include_usage": true }));
        }
        let body = Value::Object(body);
        let bytes = serde_json::to_vec(&body)
            .map_err(|e| EndpointError::Payload(format!("payload cannot be serialised: {e}")))?;
        Ok(PreparedPayload {
            body: bytes.into(),
            input_prompt: Some(input_prompt(&body).into()),
            input_payload: Rc::new(body),
        })
    }

    fn request(
        &self,
        prepared: &PreparedPayload,
        _now_unix_ms: f64,
    ) -> Result<HttpRequest, EndpointError> {
        Ok(HttpRequest {
            url: self.url.clone(),
            method: "POST",
            headers: self.headers.clone(),
            body: Some(prepared.body.clone()),
            response_headers: self.response_headers.clone(),
        })
    }

    fn parser(&self, limits: ParseLimits) -> Box<dyn ResponseParser> {
        Box::new(StreamParser::new(
            ResponsesProtocol {
                stream: self.config.stream,
            },
            limits,
            self.ttft_visible_tokens_only,
        ))
    }

    fn create_payload(
        &self,
        message: &UserMessage,
        max_tokens: u64,
        extra: &Map<String, Value>,
    ) -> Result<Value, EndpointError> {
        Ok(responses_payload(message, max_tokens, extra))
    }

    fn secrets(&self) -> Vec<String> {
        let mut s: Vec<String> = self.config.api_key.iter().cloned().collect();
        s.extend(self.config.extra_headers.iter().map(|(_, v)| v.clone()));
        s
    }
}

/// LLMeter's `create_payload`: `{input, max_output_tokens, **extra}` where `input` is the text,
/// or one user message per text of a list. (`instructions` is one of the extra keys.)
pub fn responses_payload(
    message: &UserMessage,
    max_tokens: u64,
    extra: &Map<String, Value>,
) -> Value {
    let input = match message {
        UserMessage::Text(t) => Value::String(t.clone()),
        UserMessage::Parts(parts) => Value::Array(
            parts
                .iter()
                .map(|p| json!({"role": "user", "content": p}))
                .collect(),
        ),
    };
    let mut out = Map::new();
    out.insert("input".into(), input);
    out.insert("max_output_tokens".into(), json!(max_tokens));
    for (k, v) in extra {
        // LLMeter adds `instructions` only when truthy.
        if k == "instructions" && !is_truthy(v) {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// LLMeter's prompt extraction: the `input` string, or every message's string content and
/// the `text` of its parts, joined by `\n`.
pub fn input_prompt(body: &Value) -> String {
    match body.get("input") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(messages)) => {
            let mut texts: Vec<&str> = Vec::new();
            for message in messages {
                match message.get("content") {
                    Some(Value::String(s)) if !s.is_empty() => texts.push(s),
                    Some(Value::Array(parts)) => texts.extend(
                        parts
                            .iter()
                            .filter_map(|p| p.get("text").and_then(Value::as_str)),
                    ),
                    _ => {}
                }
            }
            texts.join("\n")
        }
        _ => String::new(),
    }
}

pub struct ResponsesProtocol {
    stream: bool,
}

#[derive(Deserialize)]
struct StreamEvent<'a> {
    #[serde(default, rename = "type", borrow, deserialize_with = "lenient_str")]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    delta: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    response: Option<ResponseObject<'a>>,
    /// `{"error": …}` at the top level: what the openai SDK raises as an API error.
    #[serde(default)]
    error: Option<Value>,
    /// The `error` event's own fields.
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    code: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    message: Option<Cow<'a, str>>,
}

/// The `response` object of lifecycle events (and the whole non-streamed body): the fields
/// LLMeter reads. The output is skipped unread on the stream (the deltas carried it).
#[derive(Deserialize)]
struct ResponseObject<'a> {
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    status: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

/// The Responses API's `usage`; counts that are not non-negative integers are ignored.
#[derive(Deserialize, Default)]
struct Usage {
    #[serde(default, deserialize_with = "lenient_count")]
    input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    output_tokens: Option<u64>,
    #[serde(default)]
    input_tokens_details: Option<Details>,
    #[serde(default)]
    output_tokens_details: Option<Details>,
}

#[derive(Deserialize, Default)]
struct Details {
    #[serde(default, deserialize_with = "lenient_count")]
    cached_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    reasoning_tokens: Option<u64>,
}

impl Usage {
    fn apply(&self, out: &mut ParsedResponse) {
        out.tokens_input = self.input_tokens;
        out.tokens_output = self.output_tokens;
        out.tokens_input_cached = self
            .input_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens);
        out.tokens_output_reasoning = self
            .output_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens);
    }
}

/// LLMeter's message for a failed response: `"<code>: <message>"`, the message alone, or
/// `"Response API request failed"` without an error object.
fn failure_message(error: Option<&Value>) -> String {
    let Some(error) = error.filter(|e| !e.is_null()) else {
        return "Response API request failed".into();
    };
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(snippet)
        .unwrap_or_else(|| api_error_message(error));
    match error.get("code") {
        Some(Value::String(code)) if !code.is_empty() => format!("{code}: {message}"),
        Some(Value::Number(code)) => format!("{code}: {message}"),
        _ => message,
    }
}

impl Protocol for ResponsesProtocol {
    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn streaming(&self) -> bool {
        self.stream
    }

    fn on_frame(&mut self, frame: Frame<'_>, out: &mut ParsedResponse) -> FrameOutcome {
        let Frame::Sse(event) = frame else {
            return FrameOutcome::Ignored;
        };
        let data = event.data.trim();
        if data == "[DONE]" {
            return FrameOutcome::Done;
        }
        if data.is_empty() {
            return FrameOutcome::Ignored;
        }
        let parsed: StreamEvent = match serde_json::from_str(data) {
            Ok(e) => e,
            Err(_) => {
                return FrameOutcome::Error(format!("malformed SSE event: {}", snippet(data)))
            }
        };
        if let Some(error) = parsed.error.as_ref().filter(|e| is_truthy(e)) {
            return FrameOutcome::Error(format!(
                "API error mid-stream: {}",
                api_error_message(error)
            ));
        }
        match parsed.kind.as_deref().unwrap_or("") {
            "response.output_text.delta" => {
                if let Some(delta) = parsed.delta {
                    out.push_text(&delta);
                }
                FrameOutcome::Output
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                FrameOutcome::Hidden
            }
            "response.created" => {
                if let Some(id) = parsed.response.and_then(|r| r.id) {
                    out.id = Some(id.into_owned());
                }
                FrameOutcome::Ignored
            }
            "response.completed" | "response.incomplete" => {
                if let Some(usage) = parsed.response.and_then(|r| r.usage) {
                    usage.apply(out);
                }
                FrameOutcome::Done
            }
            "response.failed" => FrameOutcome::TimedError(failure_message(
                parsed.response.as_ref().and_then(|r| r.error.as_ref()),
            )),
            // Not read by LLMeter (the SDK hands it over as an event); a stream that carries it
            // has failed, so it is the request's error here.
            "error" => {
                let message = parsed
                    .message
                    .as_deref()
                    .filter(|m| !m.is_empty())
                    .map(snippet)
                    .unwrap_or_else(|| "(no details)".into());
                FrameOutcome::Error(match parsed.code.as_deref().filter(|c| !c.is_empty()) {
                    Some(code) => format!("API error mid-stream: {code}: {message}"),
                    None => format!("API error mid-stream: {message}"),
                })
            }
            _ => FrameOutcome::Ignored,
        }
    }

    fn on_body(&mut self, body: &[u8], out: &mut ParsedResponse) -> Result<(), String> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| format!("invalid JSON response body: {}", byte_snippet(body)))?;
        if value.get("status").is_none() {
            if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
                return Err(format!("API error: {}", api_error_message(error)));
            }
        }
        let response = ResponseObject::deserialize(&value)
            .map_err(|_| format!("malformed response body: {}", byte_snippet(body)))?;
        if response.status.as_deref() == Some("failed") {
            // LLMeter records the error and nothing else (TTLT stays null).
            return Err(failure_message(response.error.as_ref()));
        }
        out.id = response.id.map(Cow::into_owned);
        if let Some(usage) = response.usage {
            usage.apply(out);
        }
        out.text = Some(output_text(&value));
        Ok(())
    }

    fn truncated_message(&self, end: StreamEnd) -> String {
        match end {
            StreamEnd::Clean => {
                "stream ended before response.completed (truncated response)".into()
            }
            StreamEnd::Truncated => {
                "stream ended before response.completed (truncated response, last event incomplete)"
                    .into()
            }
        }
    }
}

/// The SDK's `output_text`: every `output_text` part of every message item, concatenated.
fn output_text(body: &Value) -> String {
    let mut text = String::new();
    let items = body.get("output").and_then(Value::as_array);
    for item in items.into_iter().flatten() {
        if item.get("type").and_then(Value::as_str) != Some("message") {
            continue;
        }
        let parts = item.get("content").and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if part.get("type").and_then(Value::as_str) == Some("output_text") {
                if let Some(t) = part.get("text").and_then(Value::as_str) {
                    text.push_str(t);
                }
            }
        }
    }
    text
}
