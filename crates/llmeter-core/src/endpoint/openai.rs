//! OpenAI Chat Completions (`POST {base}/chat/completions`), streaming or not, as LLMeter's
//! `OpenAICompletionStreamEndpoint` / `OpenAICompletionEndpoint`.
//!
//! Streaming timing (LLMeter's rule, per network chunk): TTFT is the arrival of the first chunk
//! that completed an event with non-empty `choices[0].delta.content` — or, our extension, a
//! tool-call delta with a name or arguments. Reasoning deltas (`reasoning_content`,
//! `reasoning`) and role-only chunks do not count. TTLT is the last such chunk.
//!
//! Errors are per request and keep whatever text and timings arrived before them. After the
//! first error (API error event, malformed event) later events are counted but not read: the
//! request has failed, and content after a protocol error cannot be trusted. After `[DONE]`
//! the response is complete, so later events and a later transport failure are ignored.

use super::{Endpoint, EndpointInfo, ParsedResponse, PreparedRequest, ResponseParser};
use crate::sse::{SseDecoder, SseEnd, SseEvent};
use crate::transport::{HttpRequest, ResponseHead};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Map, Value};
use std::fmt;

/// Kept of a non-2xx body: enough for any API error JSON.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Largest non-streaming body accepted (a long completion is well under 1 MiB).
const COMPLETION_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Kept of a streaming body until its first event, to explain a body that is not SSE.
const STREAM_PREFIX_LIMIT: usize = 1024;
/// Characters of a body or event quoted in an error message.
const SNIPPET_CHARS: usize = 200;

#[derive(Clone, PartialEq)]
pub struct OpenAIConfig {
    /// As the openai SDK's `base_url`: includes `/v1`, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    pub model: String,
    /// Sent only as `authorization: Bearer …`; never recorded.
    pub api_key: Option<String>,
    /// Sent after the defaults; one with the same name replaces a default header.
    pub extra_headers: Vec<(String, String)>,
    pub stream: bool,
    pub endpoint_name: Option<String>,
    pub provider: Option<String>,
}

impl Default for OpenAIConfig {
    fn default() -> Self {
        OpenAIConfig {
            base_url: String::new(),
            model: String::new(),
            api_key: None,
            extra_headers: Vec::new(),
            stream: true,
            endpoint_name: Some("openai".into()),
            provider: Some("openai".into()),
        }
    }
}

/// Redacts the key and header values, so a config can be logged.
impl fmt::Debug for OpenAIConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.extra_headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OpenAIConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("extra_headers", &header_names)
            .field("stream", &self.stream)
            .field("endpoint_name", &self.endpoint_name)
            .field("provider", &self.provider)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct OpenAIEndpoint {
    config: OpenAIConfig,
    url: String,
}

impl OpenAIEndpoint {
    pub fn new(config: OpenAIConfig) -> Self {
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        OpenAIEndpoint { config, url }
    }

    pub fn config(&self) -> &OpenAIConfig {
        &self.config
    }

    fn headers(&self) -> Vec<(String, String)> {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(key) = self.config.api_key.as_deref().filter(|k| !k.is_empty()) {
            headers.push(("authorization".into(), format!("Bearer {key}")));
        }
        for (name, value) in &self.config.extra_headers {
            // Replace rather than duplicate: fetch would join duplicates into one value.
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
        headers
    }
}

impl Endpoint for OpenAIEndpoint {
    fn info(&self) -> EndpointInfo {
        let endpoint_type = if self.config.stream {
            "OpenAICompletionStreamEndpoint"
        } else {
            "OpenAICompletionEndpoint"
        };
        EndpointInfo {
            endpoint_name: self.config.endpoint_name.clone(),
            model_id: Some(self.config.model.clone()),
            provider: self.config.provider.clone(),
            endpoint_type: endpoint_type.into(),
        }
    }

    fn prepare(&self, payload: &Value) -> Result<PreparedRequest, String> {
        let Value::Object(fields) = payload else {
            return Err(format!(
                "payload must be a JSON object (OpenAI chat completion request), got {}",
                json_type(payload)
            ));
        };
        let mut body: Map<String, Value> = fields.clone();
        body.insert("model".into(), Value::String(self.config.model.clone()));
        body.insert("stream".into(), Value::Bool(self.config.stream));
        if self.config.stream && !body.get("stream_options").is_some_and(is_truthy) {
            body.insert("stream_options".into(), json!({ "include_usage": true }));
        }
        let body = Value::Object(body);
        let text = serde_json::to_string(&body)
            .map_err(|e| format!("payload cannot be serialised: {e}"))?;
        let input_prompt = prompt_text(&body);
        Ok(PreparedRequest {
            http: HttpRequest {
                url: self.url.clone(),
                method: "POST".into(),
                headers: self.headers(),
                body: Some(text),
            },
            input_payload: body,
            input_prompt,
        })
    }

    fn parser(&self) -> Box<dyn ResponseParser> {
        Box::new(OpenAIResponseParser::new(self.config.stream))
    }

    fn create_payload(&self, prompt: &str, max_tokens: u64) -> Value {
        json!({ "messages": [{ "role": "user", "content": prompt }], "max_tokens": max_tokens })
    }
}

/// LLMeter's prompt extraction: every message's string content and text parts, joined by `\n`.
fn prompt_text(body: &Value) -> Option<String> {
    let mut texts: Vec<&str> = Vec::new();
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match message.get("content") {
            Some(Value::String(s)) => texts.push(s),
            Some(Value::Array(parts)) => {
                texts.extend(
                    parts
                        .iter()
                        .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                        .filter_map(|p| p.get("text").and_then(Value::as_str)),
                );
            }
            _ => {}
        }
    }
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// Python truthiness, as LLMeter tests `payload.get("stream_options")`.
fn is_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------- wire shapes of a streamed chunk ----------
//
// Typed so that serde skips unused fields without building them. Leaves whose type varies
// between OpenAI-compatible servers are read leniently; a wrong structure (e.g. `choices` not
// an array) makes the event malformed.

#[derive(Deserialize)]
struct StreamChunk {
    #[serde(default, deserialize_with = "lenient_string")]
    id: Option<String>,
    #[serde(default)]
    choices: Option<Vec<StreamChoice>>,
    #[serde(default)]
    usage: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
    /// `"error"` in the unwrapped error objects some servers (older vLLM) stream.
    #[serde(default, deserialize_with = "lenient_string")]
    object: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    message: Option<String>,
}

#[derive(Deserialize)]
struct StreamChoice {
    #[serde(default)]
    delta: Option<Delta>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default, deserialize_with = "lenient_content")]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Value>,
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

fn lenient_content<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(content_text(Value::deserialize(d)?))
}

/// Text of a `content` value: a string, or (some compatible servers) an array of text parts.
fn content_text(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Array(parts) => {
            let mut text = String::new();
            let mut any = false;
            for part in &parts {
                let piece = match part {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("text") => {
                        o.get("text").and_then(Value::as_str)
                    }
                    _ => None,
                };
                if let Some(p) = piece {
                    text.push_str(p);
                    any = true;
                }
            }
            any.then_some(text)
        }
        _ => None,
    }
}

/// A tool-call delta counts as output once it carries a function name or arguments.
fn tool_calls_carry_output(tool_calls: &Value) -> bool {
    let Some(calls) = tool_calls.as_array() else {
        return false;
    };
    calls.iter().any(|call| {
        let function = call.get("function");
        let name = function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty());
        let arguments = match function.and_then(|f| f.get("arguments")) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(_) => true,
        };
        name || arguments
    })
}

/// Copies the token counts an OpenAI `usage` object reports (non-negative integers only).
fn apply_usage(out: &mut ParsedResponse, usage: &Value) {
    let count = |path: &str| usage.pointer(path).and_then(Value::as_u64);
    if let Some(n) = count("/prompt_tokens") {
        out.tokens_input = Some(n);
    }
    if let Some(n) = count("/completion_tokens") {
        out.tokens_output = Some(n);
    }
    if let Some(n) = count("/prompt_tokens_details/cached_tokens") {
        out.tokens_input_cached = Some(n);
    }
    if let Some(n) = count("/completion_tokens_details/reasoning_tokens") {
        out.tokens_output_reasoning = Some(n);
    }
}

// ---------- response parser ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    AwaitingHead,
    /// 2xx `text/event-stream` (or anything not JSON) for a streaming request.
    Stream,
    /// 2xx JSON: a `chat.completion` object (also when a streaming request got one).
    Completion,
    /// Non-2xx: the body only explains the error.
    HttpError,
}

struct OpenAIResponseParser {
    stream_requested: bool,
    kind: BodyKind,
    status: u16,
    retry_after: Option<String>,
    /// Collected body (Completion, HttpError) or the stream's first bytes (Stream).
    body: Vec<u8>,
    body_overflowed: bool,
    sse: SseDecoder,
    /// Reused per chunk.
    events: Vec<SseEvent>,
    text: String,
    done: bool,
    stream_error: Option<String>,
    out: ParsedResponse,
}

impl OpenAIResponseParser {
    fn new(stream_requested: bool) -> Self {
        OpenAIResponseParser {
            stream_requested,
            kind: BodyKind::AwaitingHead,
            status: 0,
            retry_after: None,
            body: Vec::new(),
            body_overflowed: false,
            sse: SseDecoder::new(),
            events: Vec::new(),
            text: String::new(),
            done: false,
            stream_error: None,
            out: ParsedResponse::default(),
        }
    }

    fn collect(&mut self, bytes: &[u8], limit: usize) {
        let room = limit.saturating_sub(self.body.len());
        if bytes.len() > room {
            self.body_overflowed = true;
        }
        self.body.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn on_stream_bytes(&mut self, bytes: &[u8], arrival_ms: f64) {
        if self.out.num_events == 0 {
            self.collect(bytes, STREAM_PREFIX_LIMIT);
        }
        let mut events = std::mem::take(&mut self.events);
        self.sse.feed(bytes, &mut events);
        let mut carried_output = false;
        for event in &events {
            self.out.num_events = self.out.num_events.saturating_add(1);
            carried_output |= self.on_event(event);
        }
        events.clear();
        self.events = events;
        if carried_output {
            self.out.first_content_ms.get_or_insert(arrival_ms);
            self.out.last_content_ms = Some(arrival_ms);
            self.out.content_chunk_ms.push(arrival_ms);
        }
    }

    /// Reads one event; true when it carried output (text or a tool-call delta).
    fn on_event(&mut self, event: &SseEvent) -> bool {
        if self.done || self.stream_error.is_some() {
            return false;
        }
        let data = event.data.trim();
        if data == "[DONE]" {
            self.done = true;
            return false;
        }
        if event.event_type() == "error" {
            self.stream_error = Some(format!(
                "API error mid-stream: {}",
                error_event_message(data)
            ));
            return false;
        }
        if data.is_empty() {
            return false; // e.g. a bare `data:` keep-alive
        }
        let chunk: StreamChunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(_) => {
                self.stream_error = Some(format!("malformed SSE event: {}", snippet(data)));
                return false;
            }
        };
        if self.out.id.is_none() {
            self.out.id = chunk.id.filter(|id| !id.is_empty());
        }
        if let Some(error) = chunk.error.filter(|e| !e.is_null()) {
            self.stream_error = Some(format!(
                "API error mid-stream: {}",
                api_error_message(&error)
            ));
            return false;
        }
        if chunk.object.as_deref() == Some("error") {
            let message = chunk
                .message
                .as_deref()
                .map_or_else(|| snippet(data), snippet);
            self.stream_error = Some(format!("API error mid-stream: {message}"));
            return false;
        }
        if let Some(usage) = &chunk.usage {
            apply_usage(&mut self.out, usage);
        }
        let mut carried_output = false;
        for (index, choice) in chunk.choices.into_iter().flatten().enumerate() {
            let Some(delta) = choice.delta else { continue };
            // LLMeter reads text from choices[0] only.
            if index == 0 {
                if let Some(content) = delta.content.filter(|c| !c.is_empty()) {
                    self.text.push_str(&content);
                    carried_output = true;
                }
            }
            if delta
                .tool_calls
                .as_ref()
                .is_some_and(tool_calls_carry_output)
            {
                carried_output = true;
            }
        }
        carried_output
    }

    fn finish_stream(&mut self, failure: Option<String>) -> Option<String> {
        let end = self.sse.finish();
        if let Some(error) = self.stream_error.take() {
            return Some(error);
        }
        if self.done {
            return None; // complete: a break-off after [DONE] loses nothing
        }
        if let Some(failure) = failure {
            return Some(failure);
        }
        if self.out.num_events == 0 && !self.body.is_empty() {
            return Some(format!(
                "no SSE events in response body: {}",
                snippet(&String::from_utf8_lossy(&self.body))
            ));
        }
        Some(match end {
            SseEnd::Clean => "stream ended before [DONE] (truncated response)".into(),
            SseEnd::Truncated => {
                "stream ended before [DONE] (truncated response, last event incomplete)".into()
            }
        })
    }

    fn finish_completion(&mut self, failure: Option<String>) -> Option<String> {
        if let Some(failure) = failure {
            return Some(failure);
        }
        if self.body_overflowed {
            return Some(format!(
                "response body larger than {} MiB",
                COMPLETION_BODY_LIMIT / (1024 * 1024)
            ));
        }
        let body: Value = match serde_json::from_slice(&self.body) {
            Ok(v) => v,
            Err(_) => {
                return Some(format!(
                    "invalid JSON response body: {}",
                    snippet(&String::from_utf8_lossy(&self.body))
                ))
            }
        };
        if let Some(error) = body.get("error").filter(|e| !e.is_null()) {
            return Some(format!("API error: {}", api_error_message(error)));
        }
        self.out.id = body
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        if let Some(usage) = body.get("usage") {
            apply_usage(&mut self.out, usage);
        }
        let Some(choice) = body
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        else {
            return Some(format!(
                "response has no choices: {}",
                snippet(&String::from_utf8_lossy(&self.body))
            ));
        };
        self.out.text = choice
            .pointer("/message/content")
            .cloned()
            .and_then(content_text);
        None
    }
}

impl ResponseParser for OpenAIResponseParser {
    fn on_head(&mut self, head: &ResponseHead) {
        self.status = head.status;
        self.retry_after = head.header("retry-after").map(|v| v.trim().to_owned());
        self.kind = if !(200..300).contains(&head.status) {
            BodyKind::HttpError
        } else if !self.stream_requested
            || head.header("content-type").is_some_and(is_json_media_type)
        {
            BodyKind::Completion
        } else {
            BodyKind::Stream
        };
    }

    fn on_chunk(&mut self, bytes: &[u8], arrival_ms: f64) {
        self.out.num_chunks = self.out.num_chunks.saturating_add(1);
        if bytes.is_empty() {
            return;
        }
        self.out.first_chunk_ms.get_or_insert(arrival_ms);
        if self.kind == BodyKind::AwaitingHead {
            // Not expected from the runner; read the body as the request asked.
            self.status = 200;
            self.kind = if self.stream_requested {
                BodyKind::Stream
            } else {
                BodyKind::Completion
            };
        }
        match self.kind {
            BodyKind::Stream => self.on_stream_bytes(bytes, arrival_ms),
            BodyKind::Completion => self.collect(bytes, COMPLETION_BODY_LIMIT),
            BodyKind::HttpError => self.collect(bytes, ERROR_BODY_LIMIT),
            BodyKind::AwaitingHead => {}
        }
    }

    fn finish(mut self: Box<Self>, end_ms: f64, failure: Option<String>) -> ParsedResponse {
        self.out.end_ms = Some(end_ms);
        let error = match self.kind {
            BodyKind::AwaitingHead => {
                Some(failure.unwrap_or_else(|| "response ended before its headers".into()))
            }
            BodyKind::HttpError => Some(http_error_message(
                self.status,
                self.retry_after.as_deref(),
                &self.body,
            )),
            BodyKind::Completion => self.finish_completion(failure),
            BodyKind::Stream => {
                let error = self.finish_stream(failure);
                if !self.text.is_empty() {
                    self.out.text = Some(std::mem::take(&mut self.text));
                }
                error
            }
        };
        self.out.error = error;
        self.out
    }
}

fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// `HTTP 429 Too Many Requests: <API message or body excerpt> (retry-after: 20)`.
fn http_error_message(status: u16, retry_after: Option<&str>, body: &[u8]) -> String {
    let mut message = format!("HTTP {status}");
    if let Some(reason) = reason_phrase(status) {
        message.push(' ');
        message.push_str(reason);
    }
    if let Some(detail) = error_body_detail(body) {
        message.push_str(": ");
        message.push_str(&detail);
    }
    if let Some(retry_after) = retry_after.filter(|v| !v.is_empty()) {
        message.push_str(&format!(" (retry-after: {retry_after})"));
    }
    message
}

/// The message of an OpenAI-style error body (`{"error":{"message":…}}`, or the `message` /
/// `detail` keys other servers use), else an excerpt of the body.
fn error_body_detail(body: &[u8]) -> Option<String> {
    if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) {
        let message = match obj.get("error") {
            Some(Value::Object(e)) => e.get("message").and_then(Value::as_str),
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        }
        .or_else(|| obj.get("message").and_then(Value::as_str))
        .or_else(|| obj.get("detail").and_then(Value::as_str));
        if let Some(m) = message {
            return Some(snippet(m));
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty()).then(|| snippet(text))
}

/// The message of an `error` value: `{"message": …}`, a string, or its JSON.
fn api_error_message(error: &Value) -> String {
    match error {
        Value::String(s) => snippet(s),
        Value::Object(o) => match o.get("message").and_then(Value::as_str) {
            Some(m) => snippet(m),
            None => snippet(&error.to_string()),
        },
        other => snippet(&other.to_string()),
    }
}

/// The message of an `event: error` event's data (JSON with an error, or plain text).
fn error_event_message(data: &str) -> String {
    match serde_json::from_str::<Value>(data) {
        Ok(v) => api_error_message(v.get("error").filter(|e| !e.is_null()).unwrap_or(&v)),
        Err(_) if data.is_empty() => "(no details)".into(),
        Err(_) => snippet(data),
    }
}

/// The first `SNIPPET_CHARS` characters, with `…` when cut.
fn snippet(text: &str) -> String {
    match text.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Site Overloaded",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:8000/v1";

    fn endpoint(stream: bool) -> OpenAIEndpoint {
        OpenAIEndpoint::new(OpenAIConfig {
            base_url: format!("{BASE}/"),
            model: "gpt-test".into(),
            api_key: Some("sk-secret".into()),
            stream,
            ..Default::default()
        })
    }

    fn head(status: u16, headers: &[(&str, &str)]) -> ResponseHead {
        ResponseHead {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            arrival_ms: 5.0,
            sent_ms: None,
        }
    }

    fn sse_head() -> ResponseHead {
        head(200, &[("content-type", "text/event-stream; charset=utf-8")])
    }

    /// Runs a parser over `(arrival_ms, bytes)` chunks.
    fn parse(
        stream: bool,
        head: ResponseHead,
        chunks: &[(f64, &[u8])],
        end_ms: f64,
        failure: Option<&str>,
    ) -> ParsedResponse {
        let mut parser = endpoint(stream).parser();
        parser.on_head(&head);
        for (at, bytes) in chunks {
            parser.on_chunk(bytes, *at);
        }
        parser.finish(end_ms, failure.map(str::to_owned))
    }

    fn data(json: Value) -> String {
        format!("data: {json}\n\n")
    }

    fn content_chunk(text: &str) -> String {
        data(
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}], "usage": null}),
        )
    }

    /// A realistic stream: role chunk, two content chunks (the second event split across two
    /// network chunks), finish chunk, usage chunk, [DONE].
    fn realistic_chunks() -> Vec<(f64, String)> {
        let role = data(
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-test", "system_fingerprint": "fp", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}], "usage": null}),
        );
        let hello = content_chunk("Hello");
        let world = content_chunk(" wörld");
        let (world_a, world_b) = world.split_at(20);
        let finish = data(
            json!({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": null}),
        );
        let usage = data(
            json!({"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14, "prompt_tokens_details": {"cached_tokens": 4}, "completion_tokens_details": {"reasoning_tokens": 0}}}),
        );
        vec![
            (100.0, role),
            (150.0, hello),
            (170.0, world_a.to_string()),
            (180.0, format!("{world_b}{finish}")),
            (190.0, format!("{usage}data: [DONE]\n\n")),
        ]
    }

    fn as_slices(chunks: &[(f64, String)]) -> Vec<(f64, &[u8])> {
        chunks.iter().map(|(t, s)| (*t, s.as_bytes())).collect()
    }

    // ---------- prepare ----------

    #[test]
    fn prepare_adds_model_stream_and_usage_option() {
        let ep = endpoint(true);
        let payload = json!({"model": "ignored", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8});
        let req = ep.prepare(&payload).unwrap();
        assert_eq!(
            req.input_payload,
            json!({"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, "stream": true, "stream_options": {"include_usage": true}})
        );
        assert_eq!(req.http.url, "http://127.0.0.1:8000/v1/chat/completions");
        assert_eq!(req.http.method, "POST");
        // The body sent is exactly the recorded payload, keys in order.
        assert_eq!(
            req.http.body.as_deref(),
            Some(
                r#"{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"max_tokens":8,"stream":true,"stream_options":{"include_usage":true}}"#
            )
        );
        assert_eq!(req.input_prompt.as_deref(), Some("hi"));
    }

    #[test]
    fn prepare_keeps_truthy_stream_options_and_replaces_falsy_ones() {
        let ep = endpoint(true);
        let kept = ep
            .prepare(&json!({"messages": [], "stream_options": {"include_usage": false}}))
            .unwrap();
        assert_eq!(
            kept.input_payload["stream_options"],
            json!({"include_usage": false})
        );
        for falsy in [json!(null), json!({}), json!(false), json!(0)] {
            let req = ep
                .prepare(&json!({"messages": [], "stream_options": falsy}))
                .unwrap();
            assert_eq!(
                req.input_payload["stream_options"],
                json!({"include_usage": true}),
                "for {falsy}"
            );
        }
    }

    #[test]
    fn prepare_non_streaming_sets_stream_false_without_options() {
        let ep = endpoint(false);
        let req = ep
            .prepare(&json!({"messages": [{"role": "user", "content": "x"}], "stream": true}))
            .unwrap();
        assert_eq!(
            req.input_payload,
            json!({"messages": [{"role": "user", "content": "x"}], "stream": false, "model": "gpt-test"})
        );
    }

    #[test]
    fn credentials_only_in_headers() {
        let ep = OpenAIEndpoint::new(OpenAIConfig {
            base_url: BASE.into(),
            model: "m".into(),
            api_key: Some("sk-secret".into()),
            extra_headers: vec![
                ("X-Org".into(), "acme".into()),
                (
                    "Content-Type".into(),
                    "application/json; charset=utf-8".into(),
                ),
            ],
            ..Default::default()
        });
        let req = ep.prepare(&json!({"messages": []})).unwrap();
        assert_eq!(
            req.http.headers,
            vec![
                ("authorization".to_string(), "Bearer sk-secret".to_string()),
                ("X-Org".to_string(), "acme".to_string()),
                (
                    "Content-Type".to_string(),
                    "application/json; charset=utf-8".to_string()
                ),
            ]
        );
        assert!(!req.input_payload.to_string().contains("sk-secret"));
        assert!(!req.http.body.unwrap().contains("sk-secret"));
        assert!(!format!("{:?}", ep.config()).contains("sk-secret"));

        let anonymous = OpenAIEndpoint::new(OpenAIConfig {
            base_url: BASE.into(),
            model: "m".into(),
            ..Default::default()
        });
        let req = anonymous.prepare(&json!({"messages": []})).unwrap();
        assert_eq!(
            req.http.headers,
            vec![("content-type".to_string(), "application/json".to_string())]
        );
        assert_eq!(req.http.url, "http://127.0.0.1:8000/v1/chat/completions");
    }

    #[test]
    fn input_prompt_joins_strings_and_text_parts() {
        let payload = json!({"messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [
                {"type": "text", "text": "look at"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "text", "text": "this"}
            ]},
            {"role": "assistant", "content": null},
            {"role": "user", "content": "ok?"}
        ]});
        let req = endpoint(true).prepare(&payload).unwrap();
        assert_eq!(
            req.input_prompt.as_deref(),
            Some("be brief\nlook at\nthis\nok?")
        );
        assert_eq!(
            endpoint(true)
                .prepare(&json!({"prompt": "x"}))
                .unwrap()
                .input_prompt,
            None
        );
        assert_eq!(
            endpoint(true)
                .prepare(
                    &json!({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})
                )
                .unwrap()
                .input_prompt,
            None
        );
    }

    #[test]
    fn non_object_payload_is_a_per_request_error() {
        let err = endpoint(true)
            .prepare(&json!(["not", "an", "object"]))
            .unwrap_err();
        assert_eq!(
            err,
            "payload must be a JSON object (OpenAI chat completion request), got an array"
        );
        let err = endpoint(true).prepare(&json!("hello")).unwrap_err();
        assert!(err.ends_with("got a string"), "{err}");
    }

    #[test]
    fn create_payload_matches_llmeter() {
        let p = endpoint(true).create_payload("Tell me a story", 64);
        assert_eq!(
            p.to_string(),
            r#"{"messages":[{"role":"user","content":"Tell me a story"}],"max_tokens":64}"#
        );
    }

    #[test]
    fn info_names_the_llmeter_class() {
        let info = endpoint(true).info();
        assert_eq!(
            info,
            EndpointInfo {
                endpoint_name: Some("openai".into()),
                model_id: Some("gpt-test".into()),
                provider: Some("openai".into()),
                endpoint_type: "OpenAICompletionStreamEndpoint".into()
            }
        );
        assert_eq!(
            endpoint(false).info().endpoint_type,
            "OpenAICompletionEndpoint"
        );
    }

    // ---------- streaming ----------

    #[test]
    fn realistic_stream() {
        let chunks = realistic_chunks();
        let r = parse(true, sse_head(), &as_slices(&chunks), 200.0, None);
        assert_eq!(
            r,
            ParsedResponse {
                id: Some("chatcmpl-1".into()),
                text: Some("Hello wörld".into()),
                first_chunk_ms: Some(100.0),
                first_content_ms: Some(150.0),
                // The second content event completed in the chunk at 180, not the one at 170.
                last_content_ms: Some(180.0),
                content_chunk_ms: vec![150.0, 180.0],
                end_ms: Some(200.0),
                tokens_input: Some(12),
                tokens_output: Some(2),
                tokens_input_cached: Some(4),
                tokens_output_reasoning: Some(0),
                error: None,
                num_chunks: 5,
                num_events: 6,
            }
        );
    }

    #[test]
    fn content_is_timed_once_per_network_chunk() {
        let both = format!("{}{}", content_chunk("a"), content_chunk("b"));
        let r = parse(
            true,
            sse_head(),
            &[(10.0, both.as_bytes()), (20.0, b"data: [DONE]\n\n")],
            30.0,
            None,
        );
        assert_eq!(r.text.as_deref(), Some("ab"));
        assert_eq!(r.content_chunk_ms, vec![10.0]);
        assert_eq!(
            (r.first_content_ms, r.last_content_ms),
            (Some(10.0), Some(10.0))
        );
        assert_eq!((r.num_events, r.num_chunks), (3, 2));
    }

    #[test]
    fn tool_call_deltas_count_as_output_but_not_text() {
        let start = data(
            json!({"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "", "arguments": ""}}]}}]}),
        );
        let name = data(
            json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"name": "get_weather"}}]}}]}),
        );
        let args = data(
            json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}}]}),
        );
        let chunks = [
            (10.0, start.as_bytes()),
            (20.0, name.as_bytes()),
            (30.0, args.as_bytes()),
            (40.0, b"data: [DONE]\n\n".as_slice()),
        ];
        let r = parse(true, sse_head(), &chunks, 50.0, None);
        assert_eq!(
            r.first_content_ms,
            Some(20.0),
            "an empty tool-call stub carries no output"
        );
        assert_eq!(r.last_content_ms, Some(30.0));
        assert_eq!(r.content_chunk_ms, vec![20.0, 30.0]);
        assert_eq!(r.text, None);
        assert_eq!(r.error, None);
    }

    #[test]
    fn reasoning_deltas_do_not_set_ttft() {
        let think1 = data(
            json!({"id": "r", "choices": [{"index": 0, "delta": {"reasoning_content": "Let me think", "content": null}}]}),
        );
        let think2 = data(
            json!({"id": "r", "choices": [{"index": 0, "delta": {"reasoning": "more", "content": ""}}]}),
        );
        let answer = content_chunk("42");
        let chunks = [
            (10.0, think1.as_bytes()),
            (20.0, think2.as_bytes()),
            (30.0, answer.as_bytes()),
            (40.0, b"data: [DONE]\n\n".as_slice()),
        ];
        let r = parse(true, sse_head(), &chunks, 50.0, None);
        assert_eq!(r.first_chunk_ms, Some(10.0));
        assert_eq!(r.first_content_ms, Some(30.0));
        assert_eq!(r.text.as_deref(), Some("42"));
    }

    #[test]
    fn no_usage_leaves_tokens_unset() {
        let body = format!("{}data: [DONE]\n\n", content_chunk("hi"));
        let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 20.0, None);
        assert_eq!(
            (
                r.tokens_input,
                r.tokens_output,
                r.tokens_input_cached,
                r.tokens_output_reasoning
            ),
            (None, None, None, None)
        );
        assert_eq!(r.error, None);
        assert_eq!(r.text.as_deref(), Some("hi"));
    }

    #[test]
    fn usage_counts_must_be_non_negative_integers() {
        let usage = data(
            json!({"choices": [], "usage": {"prompt_tokens": -1, "completion_tokens": 3.5, "prompt_tokens_details": {"cached_tokens": "7"}, "completion_tokens_details": {"reasoning_tokens": 9}}}),
        );
        let body = format!("{usage}data: [DONE]\n\n");
        let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 20.0, None);
        assert_eq!(
            (
                r.tokens_input,
                r.tokens_output,
                r.tokens_input_cached,
                r.tokens_output_reasoning
            ),
            (None, None, None, Some(9))
        );
    }

    #[test]
    fn http_429_reports_status_api_message_and_retry_after() {
        let body = br#"{"error": {"message": "Rate limit reached for requests", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}"#;
        let h = head(
            429,
            &[("content-type", "application/json"), ("retry-after", "20")],
        );
        let r = parse(true, h, &[(10.0, body.as_slice())], 12.0, None);
        assert_eq!(
            r.error.as_deref(),
            Some("HTTP 429 Too Many Requests: Rate limit reached for requests (retry-after: 20)")
        );
        assert_eq!(
            (r.text, r.first_content_ms, r.first_chunk_ms, r.end_ms),
            (None, None, Some(10.0), Some(12.0))
        );
    }

    #[test]
    fn http_error_with_plain_body_quotes_an_excerpt() {
        let long = "x".repeat(300);
        let r = parse(true, head(502, &[]), &[(10.0, long.as_bytes())], 12.0, None);
        assert_eq!(
            r.error,
            Some(format!("HTTP 502 Bad Gateway: {}…", "x".repeat(200)))
        );
        let r = parse(false, head(418, &[]), &[], 12.0, None);
        assert_eq!(r.error.as_deref(), Some("HTTP 418"));
        let r = parse(
            false,
            head(422, &[]),
            &[(1.0, br#"{"detail": "bad field"}"#.as_slice())],
            12.0,
            None,
        );
        assert_eq!(
            r.error.as_deref(),
            Some("HTTP 422 Unprocessable Entity: bad field")
        );
    }

    #[test]
    fn http_error_body_is_bounded() {
        let mut parser = endpoint(true).parser();
        parser.on_head(&head(500, &[]));
        let block = vec![b'e'; 1024 * 1024];
        for i in 0..4 {
            parser.on_chunk(&block, i as f64);
        }
        let r = parser.finish(10.0, None);
        assert_eq!(
            r.error,
            Some(format!(
                "HTTP 500 Internal Server Error: {}…",
                "e".repeat(200)
            ))
        );
        assert_eq!(r.num_chunks, 4);
    }

    #[test]
    fn api_error_event_mid_stream_keeps_partial_text() {
        let err = data(
            json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error"}}),
        );
        let body2 = format!("{err}{}", content_chunk(" ignored"));
        let chunks = [
            (10.0, content_chunk("partial").into_bytes()),
            (20.0, body2.into_bytes()),
        ];
        let chunks: Vec<(f64, &[u8])> = chunks.iter().map(|(t, b)| (*t, b.as_slice())).collect();
        let r = parse(true, sse_head(), &chunks, 30.0, None);
        assert_eq!(
            r.error.as_deref(),
            Some("API error mid-stream: The server had an error while processing your request.")
        );
        assert_eq!(r.text.as_deref(), Some("partial"));
        assert_eq!(
            (r.first_content_ms, r.last_content_ms),
            (Some(10.0), Some(10.0))
        );
        assert_eq!(
            r.num_events, 3,
            "events after the error are counted, not read"
        );
    }

    #[test]
    fn error_typed_event_is_an_api_error() {
        let body = format!(
            "{}event: error\ndata: {{\"message\": \"overloaded\"}}\n\n",
            content_chunk("a")
        );
        let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 30.0, None);
        assert_eq!(r.error.as_deref(), Some("API error mid-stream: overloaded"));
        assert_eq!(r.text.as_deref(), Some("a"));
    }

    #[test]
    fn unwrapped_error_object_is_an_api_error() {
        let err = data(
            json!({"object": "error", "message": "context length exceeded", "type": "BadRequestError", "param": null, "code": 400}),
        );
        let body = format!("{}{err}", content_chunk("a"));
        let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 30.0, None);
        assert_eq!(
            r.error.as_deref(),
            Some("API error mid-stream: context length exceeded")
        );
        assert_eq!(r.text.as_deref(), Some("a"));
    }

    #[test]
    fn malformed_event_stops_reading_but_keeps_partial_data() {
        let long_garbage = format!("data: {{not json {}\n\n", "z".repeat(300));
        let body = format!(
            "{}{long_garbage}{}data: [DONE]\n\n",
            content_chunk("ok"),
            content_chunk("late")
        );
        let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 30.0, None);
        let expected = format!(
            "malformed SSE event: {}…",
            &format!("{{not json {}", "z".repeat(300))[..200]
        );
        assert_eq!(r.error, Some(expected));
        assert_eq!(r.text.as_deref(), Some("ok"));
        assert_eq!(r.num_events, 4);
        // Valid JSON of the wrong shape is malformed too.
        let r = parse(
            true,
            sse_head(),
            &[(
                10.0,
                b"data: {\"choices\": 5}\n\ndata: [DONE]\n\n".as_slice(),
            )],
            30.0,
            None,
        );
        assert_eq!(
            r.error.as_deref(),
            Some("malformed SSE event: {\"choices\": 5}")
        );
    }

    #[test]
    fn stream_without_done_is_truncated() {
        let body = content_chunk("cut");
        let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 30.0, None);
        assert_eq!(
            r.error.as_deref(),
            Some("stream ended before [DONE] (truncated response)")
        );
        assert_eq!(r.text.as_deref(), Some("cut"));
        assert_eq!(r.last_content_ms, Some(10.0));
        let half = format!("{}data: {{\"id\":", content_chunk("cut"));
        let r = parse(true, sse_head(), &[(10.0, half.as_bytes())], 30.0, None);
        assert_eq!(
            r.error.as_deref(),
            Some("stream ended before [DONE] (truncated response, last event incomplete)")
        );
    }

    #[test]
    fn transport_failure_mid_stream_keeps_partial_data() {
        let body = content_chunk("so far");
        let r = parse(
            true,
            sse_head(),
            &[(10.0, body.as_bytes())],
            60_000.0,
            Some("stream interrupted: connection reset"),
        );
        assert_eq!(
            r.error.as_deref(),
            Some("stream interrupted: connection reset")
        );
        assert_eq!(r.text.as_deref(), Some("so far"));
        assert_eq!((r.first_content_ms, r.end_ms), (Some(10.0), Some(60_000.0)));
    }

    #[test]
    fn failure_after_done_is_ignored() {
        let body = format!("{}data: [DONE]\n\n", content_chunk("all"));
        let r = parse(
            true,
            sse_head(),
            &[(10.0, body.as_bytes())],
            30.0,
            Some("stream interrupted: reset"),
        );
        assert_eq!(r.error, None);
        assert_eq!(r.text.as_deref(), Some("all"));
    }

    #[test]
    fn failure_before_head_is_the_error() {
        let parser = endpoint(true).parser();
        let r = parser.finish(7.0, Some("network error: connection refused".into()));
        assert_eq!(
            r.error.as_deref(),
            Some("network error: connection refused")
        );
        assert_eq!(
            (r.first_chunk_ms, r.end_ms, r.num_chunks),
            (None, Some(7.0), 0)
        );
    }

    #[test]
    fn non_sse_body_on_a_stream_is_explained() {
        let r = parse(
            true,
            head(200, &[("content-type", "text/html")]),
            &[(10.0, b"<html>hello</html>".as_slice())],
            20.0,
            None,
        );
        assert_eq!(
            r.error.as_deref(),
            Some("no SSE events in response body: <html>hello</html>")
        );
    }

    #[test]
    fn every_byte_boundary_gives_the_same_response() {
        let whole: String = realistic_chunks().into_iter().map(|(_, s)| s).collect();
        let bytes = whole.as_bytes();
        let reference = parse(true, sse_head(), &[(50.0, bytes)], 60.0, None);
        assert_eq!(reference.text.as_deref(), Some("Hello wörld"));
        assert_eq!(reference.error, None);
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            let mut r = parse(true, sse_head(), &[(50.0, a), (50.0, b)], 60.0, None);
            assert_eq!(r.num_chunks, 2);
            // Content on both sides of the cut is timed once per chunk (same instant here).
            assert!(
                r.content_chunk_ms.iter().all(|&t| t == 50.0) && !r.content_chunk_ms.is_empty(),
                "cut {cut}"
            );
            r.content_chunk_ms.truncate(1);
            r.num_chunks = reference.num_chunks;
            assert_eq!(r, reference, "cut at {cut}");
        }
    }

    #[test]
    fn streaming_request_answered_with_json_is_parsed_as_a_completion() {
        let body = br#"{"id": "cmpl-9", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}"#;
        let r = parse(
            true,
            head(200, &[("content-type", "application/json")]),
            &[(10.0, body.as_slice())],
            15.0,
            None,
        );
        assert_eq!(r.text.as_deref(), Some("whole"));
        assert_eq!(
            (r.first_content_ms, r.end_ms, r.error),
            (None, Some(15.0), None)
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet: &[u8] =
            b"data: [DONE]{}\"choices\":[{\"delta\":{\"content\":\"x\"}}]error\n\r\xFF\xE2";
        for i in 0..500 {
            let mut parser = endpoint(i % 2 == 0).parser();
            let status = [200, 200, 429, 500][(next() % 4) as usize];
            parser.on_head(&head(
                status,
                &[(
                    "content-type",
                    if i % 3 == 0 {
                        "application/json"
                    } else {
                        "text/event-stream"
                    },
                )],
            ));
            for t in 0..(next() % 8) {
                let bytes: Vec<u8> = (0..next() % 40)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                parser.on_chunk(&bytes, t as f64);
            }
            let r = parser.finish(99.0, None);
            assert_eq!(r.end_ms, Some(99.0));
        }
    }

    // ---------- non-streaming ----------

    #[test]
    fn non_streaming_success() {
        let body = br#"{"id": "chatcmpl-abc", "object": "chat.completion", "created": 1, "model": "gpt-test", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there", "refusal": null}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11, "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}}"#;
        let (a, b) = body.split_at(40);
        let r = parse(
            false,
            head(200, &[("content-type", "application/json")]),
            &[(10.0, a), (12.0, b)],
            13.0,
            None,
        );
        assert_eq!(
            r,
            ParsedResponse {
                id: Some("chatcmpl-abc".into()),
                text: Some("Hi there".into()),
                first_chunk_ms: Some(10.0),
                first_content_ms: None,
                last_content_ms: None,
                content_chunk_ms: vec![],
                end_ms: Some(13.0),
                tokens_input: Some(9),
                tokens_output: Some(2),
                tokens_input_cached: Some(0),
                tokens_output_reasoning: Some(0),
                error: None,
                num_chunks: 2,
                num_events: 0,
            }
        );
    }

    #[test]
    fn non_streaming_invalid_json() {
        let r = parse(
            false,
            head(200, &[]),
            &[(10.0, b"<html>oops".as_slice())],
            13.0,
            None,
        );
        assert_eq!(
            r.error.as_deref(),
            Some("invalid JSON response body: <html>oops")
        );
        assert_eq!(r.text, None);
        let r = parse(
            false,
            head(200, &[]),
            &[(10.0, br#"{"id": "x", "choices": []}"#.as_slice())],
            13.0,
            None,
        );
        assert_eq!(
            r.error.as_deref(),
            Some(r#"response has no choices: {"id": "x", "choices": []}"#)
        );
        let r = parse(
            false,
            head(200, &[]),
            &[(10.0, br#"{"error": {"message": "nope"}}"#.as_slice())],
            13.0,
            None,
        );
        assert_eq!(r.error.as_deref(), Some("API error: nope"));
    }

    #[test]
    fn non_streaming_failure_and_oversized_body() {
        let r = parse(
            false,
            head(200, &[]),
            &[(10.0, b"{\"id\":".as_slice())],
            30_000.0,
            Some("timeout after 30 s"),
        );
        assert_eq!(r.error.as_deref(), Some("timeout after 30 s"));
        let mut parser = endpoint(false).parser();
        parser.on_head(&head(200, &[]));
        let block = vec![b' '; 1024 * 1024];
        for t in 0..17 {
            parser.on_chunk(&block, t as f64);
        }
        assert_eq!(
            parser.finish(20.0, None).error.as_deref(),
            Some("response body larger than 16 MiB")
        );
    }
}
