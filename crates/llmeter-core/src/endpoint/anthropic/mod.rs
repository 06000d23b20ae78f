//! Anthropic Messages API (`POST {base}/messages`), streaming or not, as LLMeter's
//! `AnthropicMessagesStream` / `AnthropicMessages`.
//!
//! Streaming timing (LLMeter's rule): output is a non-empty `text_delta`; with
//! `ttft_visible_tokens_only: false`, `thinking_delta` and `signature_delta` count for TTFT
//! too. Our extension, as for Chat Completions' tool calls: a non-empty `input_json_delta`
//! (a tool call's arguments) is output as well. Input and cache-read tokens come from
//! `message_start`, output tokens from each `message_delta` (the last wins); `message_stop`
//! completes the stream and an `error` event fails the request.
//!
//! Requests carry the key as `x-api-key` and the API version as `anthropic-version`. A browser
//! page may call the API directly only when the request says
//! `anthropic-dangerous-direct-browser-access: true` (Anthropic's CORS opt-in): the key is then
//! in the page, readable by any script running there — see the README.

#[cfg(test)]
mod tests;

use super::api_event::{event_value, BlockEvent};
use super::http::{api_error_message, byte_snippet, snippet};
use super::http::{json_headers, payload_object, post, prepared_json, standard_response_headers};
use super::openai::user_messages;
use super::payload::{count_at, is_truthy, messages_prompt, user_payload};
use super::stream::{FrameOutcome, Protocol, StreamParser};
use super::{
    Endpoint, EndpointError, EndpointInfo, ParseLimits, ParsedResponse, PreparedPayload,
    ResponseParser, UserMessage,
};
use crate::framing::{Frame, Framing};
use crate::transport::HttpRequest;
use serde_json::{Map, Value};
use std::fmt;
use std::rc::Rc;

/// Where requests go when no base URL is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com/v1";
/// The API version sent when none is configured (the one Anthropic's SDKs send).
pub const DEFAULT_VERSION: &str = "2023-06-01";
/// LLMeter's default `endpoint_name` (both classes).
pub const DEFAULT_NAME: &str = "anthropic-messages";

#[derive(Clone, PartialEq)]
pub struct AnthropicConfig {
    /// Including the version path, e.g. `https://api.anthropic.com/v1`.
    pub base_url: String,
    pub model: String,
    /// Sent only as `x-api-key`; never recorded.
    pub api_key: Option<String>,
    /// `anthropic-version`.
    pub version: String,
    /// Sends `anthropic-dangerous-direct-browser-access: true` (needed from browser pages).
    pub direct_browser_access: bool,
    /// Sent after the defaults (a same-named one replaces a default); values are secrets.
    pub extra_headers: Vec<(String, String)>,
    pub stream: bool,
    pub ttft_visible_tokens_only: bool,
    pub endpoint_name: Option<String>,
    pub provider: Option<String>,
}

impl Default for AnthropicConfig {
    fn default() -> Self {
        AnthropicConfig {
            base_url: String::new(),
            model: String::new(),
            api_key: None,
            version: DEFAULT_VERSION.into(),
            direct_browser_access: false,
            extra_headers: Vec::new(),
            stream: true,
            ttft_visible_tokens_only: true,
            endpoint_name: Some(DEFAULT_NAME.into()),
            provider: Some("anthropic".into()),
        }
    }
}

/// Redacts the key and header values, so a config can be logged.
impl fmt::Debug for AnthropicConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.extra_headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("AnthropicConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("version", &self.version)
            .field("direct_browser_access", &self.direct_browser_access)
            .field("extra_headers", &header_names)
            .field("stream", &self.stream)
            .field("ttft_visible_tokens_only", &self.ttft_visible_tokens_only)
            .field("endpoint_name", &self.endpoint_name)
            .field("provider", &self.provider)
            .finish()
    }
}

#[derive(Clone)]
pub struct AnthropicEndpoint {
    config: AnthropicConfig,
    url: String,
    headers: Vec<(String, String)>,
    response_headers: Rc<[String]>,
}

/// Shows the (redacted) config, never the built headers, which hold the key.
impl fmt::Debug for AnthropicEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicEndpoint")
            .field("config", &self.config)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl AnthropicEndpoint {
    pub fn new(config: AnthropicConfig) -> Self {
        let url = format!("{}/messages", config.base_url.trim_end_matches('/'));
        let key = config.api_key.clone().filter(|k| !k.is_empty());
        let mut own = vec![("anthropic-version", config.version.as_str())];
        if config.direct_browser_access {
            own.push(("anthropic-dangerous-direct-browser-access", "true"));
        }
        let headers = json_headers(key.map(|k| ("x-api-key", k)), &own, &config.extra_headers);
        AnthropicEndpoint {
            config,
            url,
            headers,
            response_headers: standard_response_headers(),
        }
    }

    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }
}

impl Endpoint for AnthropicEndpoint {
    fn info(&self) -> EndpointInfo {
        let c = &self.config;
        EndpointInfo::of_family(
            ("AnthropicMessagesStream", "AnthropicMessages"),
            c.stream,
            &c.endpoint_name,
            &c.model,
            &c.provider,
        )
    }

    fn prepare(&self, payload: &Value) -> Result<PreparedPayload, EndpointError> {
        // LLMeter's prepare_payload: the model, and `stream: true` for the stream class (the
        // non-stream class leaves `stream` as the payload has it).
        let mut body = payload_object(payload, "Anthropic Messages request")?;
        body.insert("model".into(), Value::String(self.config.model.clone()));
        if self.config.stream {
            body.insert("stream".into(), Value::Bool(true));
        }
        prepared_json(body, messages_prompt)
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
            Box::new(MessagesProtocol {
                stream: self.config.stream,
            }),
            limits,
            self.config.ttft_visible_tokens_only,
        ))
    }

    fn create_payload(
        &self,
        message: &UserMessage,
        max_tokens: u64,
        extra: &Map<String, Value>,
    ) -> Result<Value, EndpointError> {
        Ok(messages_payload(message, max_tokens, extra))
    }

    fn secrets(&self) -> Vec<String> {
        crate::endpoint::http::key_and_header_secrets(
            &self.config.api_key,
            &self.config.extra_headers,
        )
    }
}

/// LLMeter's `create_payload`: `{messages: [{role: "user", content}], max_tokens, thinking?,
/// **extra}` — the chat shape, without a null `thinking`. A list of texts becomes text blocks
/// (LLMeter takes one string only).
pub fn messages_payload(
    message: &UserMessage,
    max_tokens: u64,
    extra: &Map<String, Value>,
) -> Value {
    user_payload(
        ("messages", user_messages(message)),
        "max_tokens",
        max_tokens,
        extra,
        Some(("thinking", Value::is_null)),
    )
}

pub struct MessagesProtocol {
    stream: bool,
}

/// `"<type>: <message>"` of an Anthropic error object (`{"type", "message"}`).
fn error_text(error: &Value) -> String {
    let message = api_error_message(error);
    match error.get("type").and_then(Value::as_str) {
        Some(kind) if !kind.is_empty() => format!("{kind}: {message}"),
        _ => message,
    }
}

impl Protocol for MessagesProtocol {
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
        if event.event == "error" {
            let detail = match serde_json::from_str::<Value>(data) {
                Ok(v) => error_text(v.get("error").filter(|e| !e.is_null()).unwrap_or(&v)),
                Err(_) if data.is_empty() => "(no details)".into(),
                Err(_) => snippet(data),
            };
            return FrameOutcome::Error(format!("API error mid-stream: {detail}"));
        }
        if data.is_empty() || event.event == "ping" {
            return FrameOutcome::Ignored;
        }
        let mut value = None;
        let Some((parsed, parsed_value)) = BlockEvent::read(data, &mut value) else {
            return FrameOutcome::Error(format!("malformed SSE event: {}", snippet(data)));
        };
        let kind = match parsed.kind.as_deref() {
            Some(k) => k,
            None => event.event,
        };
        match kind {
            "content_block_delta" => {
                let Some(delta) = parsed.delta else {
                    return FrameOutcome::Ignored;
                };
                match delta.kind.as_deref().unwrap_or("") {
                    "text_delta" => match delta.text.filter(|t| !t.is_empty()) {
                        Some(text) => {
                            out.push_text(&text);
                            FrameOutcome::Output
                        }
                        None => FrameOutcome::Ignored,
                    },
                    "thinking_delta" | "signature_delta" => FrameOutcome::Hidden,
                    "input_json_delta" if delta.partial_json.is_some_and(|j| !j.is_empty()) => {
                        FrameOutcome::Output
                    }
                    _ => FrameOutcome::Ignored,
                }
            }
            "message_start" => {
                let event = event_value(data, parsed_value);
                if let Some(message) = event.get("message") {
                    if let Some(id) = message.get("id").and_then(Value::as_str) {
                        out.id = Some(id.to_owned());
                    }
                    if let Some(usage) = message.get("usage") {
                        out.tokens_input = count_at(usage, "input_tokens");
                        out.tokens_input_cached = count_at(usage, "cache_read_input_tokens");
                    }
                }
                FrameOutcome::Ignored
            }
            "message_delta" => {
                let event = event_value(data, parsed_value);
                if let Some(usage) = event.get("usage").filter(|u| is_truthy(u)) {
                    out.tokens_output = count_at(usage, "output_tokens");
                }
                FrameOutcome::Ignored
            }
            "message_stop" => FrameOutcome::Done,
            "error" => {
                let event = event_value(data, parsed_value);
                FrameOutcome::Error(format!(
                    "API error mid-stream: {}",
                    event
                        .get("error")
                        .filter(|e| is_truthy(e))
                        .map(error_text)
                        .unwrap_or_else(|| "(no details)".into())
                ))
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
        if value.get("type").and_then(Value::as_str) == Some("error") {
            let error = value.get("error").unwrap_or(&value);
            return Err(format!("API error: {}", error_text(error)));
        }
        out.id = value.get("id").and_then(Value::as_str).map(str::to_owned);
        // LLMeter: the text blocks concatenated ("" without any; thinking blocks skipped).
        let mut text = String::new();
        let blocks = value.get("content").and_then(Value::as_array);
        for block in blocks.into_iter().flatten() {
            if block.get("type").and_then(Value::as_str) == Some("text") {
                text.push_str(block.get("text").and_then(Value::as_str).unwrap_or(""));
            }
        }
        out.text = Some(text);
        if let Some(usage) = value.get("usage").filter(|u| is_truthy(u)) {
            out.tokens_input = count_at(usage, "input_tokens");
            out.tokens_output = count_at(usage, "output_tokens");
            out.tokens_input_cached = count_at(usage, "cache_read_input_tokens");
        }
        Ok(())
    }
}
