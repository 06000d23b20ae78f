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

use super::{bearer, OpenAIConfig};
use crate::endpoint::api_event::{event_value, TextEvent};
use crate::endpoint::http::{api_error_message, byte_snippet, snippet};
use crate::endpoint::http::{
    json_headers, payload_object, post, prepared_json, standard_response_headers,
};
use crate::endpoint::payload::{count_at, is_truthy, message_texts, user_payload};
use crate::endpoint::stream::{FrameOutcome, Protocol, StreamParser};
use crate::endpoint::{
    Endpoint, EndpointError, EndpointInfo, ParseLimits, ParsedResponse, PreparedPayload,
    ResponseParser, UserMessage,
};
use crate::framing::{Frame, Framing};
use crate::transport::HttpRequest;
use serde_json::{json, Map, Value};
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
        let headers = json_headers(bearer(&config), &[], &config.extra_headers);
        OpenAIResponsesEndpoint {
            config,
            ttft_visible_tokens_only,
            url,
            headers,
            response_headers: standard_response_headers(),
        }
    }
}

impl Endpoint for OpenAIResponsesEndpoint {
    fn info(&self) -> EndpointInfo {
        let c = &self.config;
        EndpointInfo::of_family(
            ("OpenAIResponseStreamEndpoint", "OpenAIResponseEndpoint"),
            c.stream,
            &c.endpoint_name,
            &c.model,
            &c.provider,
        )
    }

    fn prepare(&self, payload: &Value) -> Result<PreparedPayload, EndpointError> {
        let mut body = payload_object(payload, "OpenAI Responses request")?;
        body.insert("model".into(), Value::String(self.config.model.clone()));
        if !self.config.stream {
            body.insert("stream".into(), Value::Bool(false));
        } else if !body.get("stream").is_some_and(is_truthy) {
            // LLMeter's prepare_payload, option included.
            body.insert("stream".into(), Value::Bool(true));
            body.insert("stream_options".into(), json!({ "include_usage": true }));
        }
        prepared_json(body, input_prompt)
    }

    fn request(
        &self,
        prepared: &PreparedPayload,
        _now_unix_ms: f64,
    ) -> Result<HttpRequest, EndpointError> {
        Ok(post(
            &self.url,
            &self.headers,
            prepared,
            &self.response_headers,
        ))
    }

    fn parser(&self, limits: ParseLimits) -> Box<dyn ResponseParser> {
        Box::new(StreamParser::new(
            Box::new(ResponsesProtocol {
                stream: self.config.stream,
            }),
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
        crate::endpoint::http::key_and_header_secrets(
            &self.config.api_key,
            &self.config.extra_headers,
        )
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
    // LLMeter adds `instructions` only when truthy.
    let falsy: fn(&Value) -> bool = |v| !is_truthy(v);
    user_payload(
        ("input", input),
        "max_output_tokens",
        max_tokens,
        extra,
        Some(("instructions", falsy)),
    )
}

/// LLMeter's prompt extraction: the `input` string, or the texts of its messages.
pub fn input_prompt(body: &Value) -> String {
    match body.get("input") {
        Some(Value::String(s)) => s.clone(),
        other => message_texts(other),
    }
}

pub struct ResponsesProtocol {
    stream: bool,
}

/// Copies the counts of a Responses `usage` object into `out` (LLMeter's fields).
fn apply_usage(usage: &Value, out: &mut ParsedResponse) {
    out.tokens_input = count_at(usage, "input_tokens");
    out.tokens_output = count_at(usage, "output_tokens");
    out.tokens_input_cached = usage
        .get("input_tokens_details")
        .and_then(|d| count_at(d, "cached_tokens"));
    out.tokens_output_reasoning = usage
        .get("output_tokens_details")
        .and_then(|d| count_at(d, "reasoning_tokens"));
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
    match error.get("code").and_then(Value::as_str) {
        Some(code) if !code.is_empty() => format!("{code}: {message}"),
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
        let mut value = None;
        let Some((parsed, parsed_value)) = TextEvent::read(data, &mut value) else {
            return FrameOutcome::Error(format!("malformed SSE event: {}", snippet(data)));
        };
        let kind = parsed.kind.as_deref().unwrap_or("");
        match kind {
            "response.output_text.delta" => {
                if let Some(text) = parsed.delta {
                    out.push_text(&text);
                }
                return FrameOutcome::Output;
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                return FrameOutcome::Hidden;
            }
            ""
            | "error"
            | "response.created"
            | "response.completed"
            | "response.incomplete"
            | "response.failed" => {}
            _ => return FrameOutcome::Ignored,
        }
        let event = event_value(data, parsed_value);
        // `{"error": …}` at the top level: what the openai SDK raises as an API error.
        if let Some(error) = event.get("error").filter(|e| is_truthy(e)) {
            return FrameOutcome::Error(format!(
                "API error mid-stream: {}",
                api_error_message(error)
            ));
        }
        let response = event.get("response");
        match kind {
            "response.created" => {
                if let Some(id) = response.and_then(|r| r.get("id")).and_then(Value::as_str) {
                    out.id = Some(id.to_owned());
                }
                FrameOutcome::Ignored
            }
            "response.completed" | "response.incomplete" => {
                if let Some(usage) = response.and_then(|r| r.get("usage")) {
                    apply_usage(usage, out);
                }
                FrameOutcome::Done
            }
            "response.failed" => {
                FrameOutcome::TimedError(failure_message(response.and_then(|r| r.get("error"))))
            }
            // Not read by LLMeter (the SDK hands it over as an event); a stream that carries it
            // has failed, so it is the request's error here.
            "error" => {
                let text = |key| {
                    event
                        .get(key)
                        .and_then(Value::as_str)
                        .filter(|t| !t.is_empty())
                };
                let message = text("message")
                    .map(snippet)
                    .unwrap_or_else(|| "(no details)".into());
                FrameOutcome::Error(match text("code") {
                    Some(code) => format!("API error mid-stream: {code}: {message}"),
                    None => format!("API error mid-stream: {message}"),
                })
            }
            _ => FrameOutcome::Ignored,
        }
    }

    fn on_body(&mut self, body: &[u8], out: &mut ParsedResponse) -> Result<(), String> {
        // One JSON reader in the module (text, as for streamed events): bytes are checked first.
        let value: Value = std::str::from_utf8(body)
            .ok()
            .and_then(|text| serde_json::from_str(text).ok())
            .ok_or_else(|| format!("invalid JSON response body: {}", byte_snippet(body)))?;
        let status = value.get("status").and_then(Value::as_str);
        if status.is_none() {
            if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
                return Err(format!("API error: {}", api_error_message(error)));
            }
        }
        if status == Some("failed") {
            // LLMeter records the error and nothing else (TTLT stays null).
            return Err(failure_message(value.get("error")));
        }
        out.id = value.get("id").and_then(Value::as_str).map(str::to_owned);
        if let Some(usage) = value.get("usage").filter(|u| !u.is_null()) {
            apply_usage(usage, out);
        }
        out.text = Some(output_text(&value));
        Ok(())
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
