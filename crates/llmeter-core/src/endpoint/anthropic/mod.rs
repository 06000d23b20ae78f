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

use super::http::{api_error_message, byte_snippet, snippet};
use super::openai::merge_headers;
use super::payload::{is_truthy, json_type, lenient_count, lenient_str};
use super::stream::{FrameOutcome, Protocol, StreamParser};
use super::{
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
        let mut defaults = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(key) = config.api_key.as_deref().filter(|k| !k.is_empty()) {
            defaults.push(("x-api-key".into(), key.into()));
        }
        defaults.push(("anthropic-version".into(), config.version.clone()));
        if config.direct_browser_access {
            defaults.push((
                "anthropic-dangerous-direct-browser-access".into(),
                "true".into(),
            ));
        }
        let headers = merge_headers(defaults, &config.extra_headers);
        AnthropicEndpoint {
            config,
            url,
            headers,
            response_headers: Rc::from(["content-type".to_string(), "retry-after".to_string()]),
        }
    }

    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }
}

impl Endpoint for AnthropicEndpoint {
    fn info(&self) -> EndpointInfo {
        let endpoint_type = if self.config.stream {
            "AnthropicMessagesStream"
        } else {
            "AnthropicMessages"
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
                "payload must be a JSON object (Anthropic Messages request), got {}",
                json_type(payload)
            )));
        };
        // LLMeter's prepare_payload: the model, and `stream: true` for the stream class (the
        // non-stream class leaves `stream` as the payload has it).
        let mut body: Map<String, Value> = fields.clone();
        body.insert("model".into(), Value::String(self.config.model.clone()));
        if self.config.stream {
            body.insert("stream".into(), Value::Bool(true));
        }
        let body = Value::Object(body);
        let bytes = serde_json::to_vec(&body)
            .map_err(|e| EndpointError::Payload(format!("payload cannot be serialised: {e}")))?;
        Ok(PreparedPayload {
            body: bytes.into(),
            input_prompt: Some(messages_prompt(&body).into()),
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
            MessagesProtocol {
                stream: self.config.stream,
            },
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
        let mut s: Vec<String> = self.config.api_key.iter().cloned().collect();
        s.extend(self.config.extra_headers.iter().map(|(_, v)| v.clone()));
        s
    }
}

/// LLMeter's `create_payload`: `{messages: [{role: "user", content}], max_tokens, thinking?,
/// **extra}`. A list of texts becomes text blocks (LLMeter takes one string only).
pub fn messages_payload(
    message: &UserMessage,
    max_tokens: u64,
    extra: &Map<String, Value>,
) -> Value {
    let content = match message {
        UserMessage::Text(t) => Value::String(t.clone()),
        UserMessage::Parts(parts) => Value::Array(
            parts
                .iter()
                .map(|p| json!({"type": "text", "text": p}))
                .collect(),
        ),
    };
    let mut out = Map::new();
    out.insert(
        "messages".into(),
        json!([{ "role": "user", "content": content }]),
    );
    out.insert("max_tokens".into(), json!(max_tokens));
    for (k, v) in extra {
        // LLMeter adds `thinking` only when it is not None.
        if k == "thinking" && v.is_null() {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// LLMeter's prompt extraction: every message's string content, and the strings and `text`
/// blocks of list contents, joined by `\n` (`system` is not included, as LLMeter).
pub fn messages_prompt(body: &Value) -> String {
    let messages = body.get("messages").and_then(Value::as_array);
    let mut texts: Vec<&str> = Vec::new();
    for message in messages.into_iter().flatten() {
        match message.get("content") {
            Some(Value::String(s)) if !s.is_empty() => texts.push(s),
            Some(Value::Array(blocks)) => {
                for block in blocks {
                    match block {
                        Value::String(s) => texts.push(s),
                        Value::Object(o)
                            if o.get("type").and_then(Value::as_str) == Some("text") =>
                        {
                            texts.push(o.get("text").and_then(Value::as_str).unwrap_or(""))
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    texts.join("\n")
}

pub struct MessagesProtocol {
    stream: bool,
}

#[derive(Deserialize)]
struct StreamEvent<'a> {
    #[serde(default, rename = "type", borrow, deserialize_with = "lenient_str")]
    kind: Option<Cow<'a, str>>,
    /// `message_start`'s message.
    #[serde(default, borrow)]
    message: Option<MessageStart<'a>>,
    /// `content_block_delta`'s delta (the `message_delta` delta is not read).
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    /// `message_delta`'s usage.
    #[serde(default)]
    usage: Option<Usage>,
    /// An `error` event's error.
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct MessageStart<'a> {
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, rename = "type", borrow, deserialize_with = "lenient_str")]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    text: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    partial_json: Option<Cow<'a, str>>,
}

/// Anthropic's `usage`; counts that are not non-negative integers are ignored.
#[derive(Deserialize, Default)]
struct Usage {
    #[serde(default, deserialize_with = "lenient_count")]
    input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    output_tokens: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    cache_read_input_tokens: Option<u64>,
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
        let parsed: StreamEvent = match serde_json::from_str(data) {
            Ok(e) => e,
            Err(_) => {
                return FrameOutcome::Error(format!("malformed SSE event: {}", snippet(data)))
            }
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
                if let Some(message) = parsed.message {
                    if let Some(id) = message.id.filter(|id| !id.is_empty()) {
                        out.id = Some(id.into_owned());
                    }
                    if let Some(usage) = message.usage {
                        out.tokens_input = usage.input_tokens;
                        out.tokens_input_cached = usage.cache_read_input_tokens;
                    }
                }
                FrameOutcome::Ignored
            }
            "message_delta" => {
                if let Some(usage) = parsed.usage {
                    out.tokens_output = usage.output_tokens;
                }
                FrameOutcome::Ignored
            }
            "message_stop" => FrameOutcome::Done,
            "error" => FrameOutcome::Error(format!(
                "API error mid-stream: {}",
                parsed
                    .error
                    .as_ref()
                    .filter(|e| is_truthy(e))
                    .map(error_text)
                    .unwrap_or_else(|| "(no details)".into())
            )),
            _ => FrameOutcome::Ignored,
        }
    }

    fn on_body(&mut self, body: &[u8], out: &mut ParsedResponse) -> Result<(), String> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|_| format!("invalid JSON response body: {}", byte_snippet(body)))?;
        if value.get("type").and_then(Value::as_str) == Some("error") {
            let error = value.get("error").unwrap_or(&value);
            return Err(format!("API error: {}", error_text(error)));
        }
        out.id = value
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
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
            if let Ok(usage) = Usage::deserialize(usage) {
                out.tokens_input = usage.input_tokens;
                out.tokens_output = usage.output_tokens;
                out.tokens_input_cached = usage.cache_read_input_tokens;
            }
        }
        Ok(())
    }

    fn truncated_message(&self, end: StreamEnd) -> String {
        match end {
            StreamEnd::Clean => "stream ended before message_stop (truncated response)".into(),
            StreamEnd::Truncated => {
                "stream ended before message_stop (truncated response, last event incomplete)"
                    .into()
            }
        }
    }
}
