//! Anthropic's Messages API: `POST /v1/messages` with `messages`, `system` and the required
//! `max_tokens`. Streams the real event sequence: `message_start` (id, input usage) with the
//! first `content_block_start` and a `ping` at once, `thinking_delta`s and a `signature_delta`
//! (when reasoning is asked for), `text_delta`s, `content_block_stop`, `message_delta` (stop
//! reason, output usage), `message_stop`. Errors use Anthropic's shape
//! (`{"type": "error", "error": {"type", "message"}}`); the `error-event` fault is
//! `event: error` with an `overloaded_error` mid-stream (without a stream: HTTP 529).

use bytes::Bytes;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{count_texts, visible_text, Answer, ApiRequest, EventApi, EventWriter};
use crate::frame_stream::FrameWriter;
use crate::openai::{token_text, ApiError, ChatRequest, FinishReason};
use crate::timing::MAX_OUTPUT_TOKENS;

pub struct AnthropicApi;

pub const OVERLOADED_MESSAGE: &str = "Overloaded (mid-stream failure simulated by llm-sim)";

#[derive(Deserialize)]
struct RawRequest {
    model: Option<String>,
    messages: Option<Vec<RawMessage>>,
    system: Option<RawContent>,
    max_tokens: Option<i64>,
    stream: Option<bool>,
}

#[derive(Deserialize)]
struct RawMessage {
    content: Option<RawContent>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawContent {
    Text(String),
    Blocks(Vec<RawBlock>),
}

#[derive(Deserialize)]
struct RawBlock {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
}

fn content_texts(content: Option<RawContent>, texts: &mut Vec<String>) {
    match content {
        Some(RawContent::Text(t)) => texts.push(t),
        Some(RawContent::Blocks(blocks)) => texts.extend(
            blocks
                .into_iter()
                .filter(|b| b.kind.as_deref() == Some("text"))
                .filter_map(|b| b.text),
        ),
        None => {}
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid_request(message, None, None)
}

/// Anthropic's error type for a status.
fn error_type(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 413 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        _ => "api_error",
    }
}

fn error_json(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

impl AnthropicApi {
    fn stop_reason(answer: &Answer) -> &'static str {
        match answer.finish {
            FinishReason::Length => "max_tokens",
            FinishReason::Stop => "end_turn",
        }
    }

    fn message(
        answer: &Answer,
        content: Vec<Value>,
        stop: Option<&str>,
        output_tokens: u32,
    ) -> Value {
        json!({
            "id": answer.id, "type": "message", "role": "assistant", "model": answer.model,
            "content": content, "stop_reason": stop, "stop_sequence": null,
            "usage": {"input_tokens": answer.input_tokens, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0, "output_tokens": output_tokens, "service_tier": "standard"},
        })
    }
}

fn thinking_text(answer: &Answer) -> String {
    (0..answer.reasoning_tokens).map(token_text).collect()
}

fn signature(answer: &Answer) -> String {
    format!("llmsim-{}", answer.id.trim_start_matches("msg_"))
}

impl EventApi for AnthropicApi {
    fn parse(&self, body: &[u8]) -> Result<ApiRequest, ApiError> {
        let raw: RawRequest = serde_json::from_slice(body)
            .map_err(|e| invalid(format!("invalid request body: {e}")))?;
        let Some(model) = raw.model else {
            return Err(invalid("model: Field required"));
        };
        let Some(messages) = raw.messages.filter(|m| !m.is_empty()) else {
            return Err(invalid("messages: Field required (at least one message)"));
        };
        let max_tokens = match raw.max_tokens {
            None => return Err(invalid("max_tokens: Field required")),
            Some(v) if v < 1 => {
                return Err(invalid(format!(
                    "max_tokens: Input should be greater than or equal to 1, got {v}"
                )))
            }
            Some(v) => v.min(MAX_OUTPUT_TOKENS as i64) as u32,
        };
        let mut texts = Vec::new();
        content_texts(raw.system, &mut texts);
        for message in messages {
            content_texts(message.content, &mut texts);
        }
        Ok(ApiRequest {
            chat: ChatRequest {
                model,
                stream: raw.stream.unwrap_or(false),
                include_usage: true,
                max_tokens: Some(max_tokens),
                input_tokens: count_texts(texts.iter().map(String::as_str)),
            },
            ndjson: false,
        })
    }

    fn response_id(&self, request_id: &str) -> String {
        format!("msg_{request_id}")
    }

    fn error_body(&self, error: &ApiError) -> Bytes {
        let message = match error.status.as_u16() {
            429 => "Number of requests has exceeded your rate limit (simulated by llm-sim).",
            500 => "Internal server error (simulated by llm-sim).",
            503 | 529 => "Overloaded (simulated by llm-sim).",
            _ => error.message.as_str(),
        };
        Bytes::from(error_json(error_type(error.status), message).to_string())
    }

    fn writer(&self, answer: Answer, _ndjson: bool) -> Box<dyn EventWriter> {
        Box::new(AnthropicWriter { answer })
    }

    fn whole_body(&self, answer: &Answer, failed: bool) -> (StatusCode, Bytes) {
        if failed {
            let status = StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let body = error_json("overloaded_error", OVERLOADED_MESSAGE);
            return (status, Bytes::from(body.to_string()));
        }
        let mut content = Vec::new();
        if answer.reasoning_tokens > 0 {
            content.push(json!({"type": "thinking", "thinking": thinking_text(answer), "signature": signature(answer)}));
        }
        content.push(json!({"type": "text", "text": visible_text(answer)}));
        let body = Self::message(
            answer,
            content,
            Some(Self::stop_reason(answer)),
            answer.output_tokens,
        );
        (StatusCode::OK, Bytes::from(body.to_string()))
    }
}

struct AnthropicWriter {
    answer: Answer,
}

fn event(out: &mut String, data: Value) {
    let kind = data["type"].as_str().unwrap_or("message").to_string();
    out.push_str("event: ");
    out.push_str(&kind);
    out.push_str("\ndata: ");
    out.push_str(&data.to_string());
    out.push_str("\n\n");
}

impl AnthropicWriter {
    /// The text block's index: after the thinking block when there is one.
    fn text_index(&self) -> u32 {
        u32::from(self.answer.reasoning_tokens > 0)
    }
}

impl EventWriter for AnthropicWriter {
    fn content_type(&self) -> &'static str {
        "text/event-stream; charset=utf-8"
    }
}

impl FrameWriter for AnthropicWriter {
    fn preamble(&mut self) -> Bytes {
        let mut out = String::new();
        let start = AnthropicApi::message(&self.answer, Vec::new(), None, 1);
        event(&mut out, json!({"type": "message_start", "message": start}));
        let block = if self.answer.reasoning_tokens > 0 {
            json!({"type": "thinking", "thinking": "", "signature": ""})
        } else {
            json!({"type": "text", "text": ""})
        };
        event(
            &mut out,
            json!({"type": "content_block_start", "index": 0, "content_block": block}),
        );
        event(&mut out, json!({"type": "ping"}));
        Bytes::from(out)
    }

    fn reasoning(&mut self, index: u32) -> Bytes {
        let mut out = String::new();
        event(
            &mut out,
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": token_text(index)}}),
        );
        Bytes::from(out)
    }

    fn text(&mut self, index: u32) -> Bytes {
        let mut out = String::new();
        let block = self.text_index();
        if index == 0 && self.answer.reasoning_tokens > 0 {
            event(
                &mut out,
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": signature(&self.answer)}}),
            );
            event(&mut out, json!({"type": "content_block_stop", "index": 0}));
            event(
                &mut out,
                json!({"type": "content_block_start", "index": block, "content_block": {"type": "text", "text": ""}}),
            );
        }
        event(
            &mut out,
            json!({"type": "content_block_delta", "index": block, "delta": {"type": "text_delta", "text": token_text(index)}}),
        );
        Bytes::from(out)
    }

    fn garbage(&mut self) -> Bytes {
        Bytes::from_static(b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\": <<llm-sim malformed-sse fault>>\n\n")
    }

    fn error_event(&mut self) -> Bytes {
        let mut out = String::new();
        event(&mut out, error_json("overloaded_error", OVERLOADED_MESSAGE));
        Bytes::from(out)
    }

    fn finish(&mut self) -> Bytes {
        let mut out = String::new();
        let last_block = if self.answer.visible_tokens() > 0 {
            self.text_index()
        } else {
            0
        };
        if self.answer.visible_tokens() == 0 && self.answer.reasoning_tokens > 0 {
            event(
                &mut out,
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": signature(&self.answer)}}),
            );
        }
        event(
            &mut out,
            json!({"type": "content_block_stop", "index": last_block}),
        );
        event(
            &mut out,
            json!({"type": "message_delta", "delta": {"stop_reason": AnthropicApi::stop_reason(&self.answer), "stop_sequence": null}, "usage": {"output_tokens": self.answer.output_tokens}}),
        );
        event(&mut out, json!({"type": "message_stop"}));
        Bytes::from(out)
    }
}
