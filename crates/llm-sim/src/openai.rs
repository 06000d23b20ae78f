//! OpenAI Chat Completions wire format: request parsing, the input-token rule, pre-serialised
//! stream chunks, the non-streaming response and the error body shape.

use std::fmt::Write as _;

use bytes::Bytes;
use hyper::StatusCode;
use serde::Deserialize;

use crate::timing::MAX_OUTPUT_TOKENS;

/// Output words, cycled. Each token is one word with a leading space, so a whitespace
/// tokenizer (Python `str.split()`) counts exactly `completion_tokens` words. All are plain
/// ASCII letters: they never need JSON escaping and can be spliced into chunks as they are.
pub const WORDS: [&str; 16] = [
    " The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", " while", " a",
    " curious", " cat", " watches", " from", " afar",
];

/// The text of token `index` (0-based) of every response.
pub fn token_text(index: u32) -> &'static str {
    WORDS[index as usize % WORDS.len()]
}

/// The full output text of `tokens` tokens.
pub fn output_text(tokens: u32) -> String {
    let mut text = String::with_capacity(tokens as usize * 7);
    (0..tokens).for_each(|i| text.push_str(token_text(i)));
    text
}

/// Python's `str.split()` whitespace: Unicode White_Space plus the ASCII information
/// separators U+001C..U+001F, which Python also splits on but Rust's `is_whitespace` does not.
fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Number of whitespace-separated words, identical to `len(text.split())` in Python.
pub fn count_words(text: &str) -> usize {
    text.split(is_python_whitespace)
        .filter(|w| !w.is_empty())
        .count()
}

#[derive(Deserialize)]
struct RawChatRequest {
    model: Option<String>,
    messages: Option<Vec<RawMessage>>,
    stream: Option<bool>,
    stream_options: Option<RawStreamOptions>,
    max_tokens: Option<i64>,
    max_completion_tokens: Option<i64>,
}

#[derive(Deserialize)]
struct RawMessage {
    content: Option<RawContent>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawContent {
    Text(String),
    Parts(Vec<RawContentPart>),
}

#[derive(Deserialize)]
struct RawContentPart {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct RawStreamOptions {
    include_usage: Option<bool>,
}

/// The parts of a chat completion request the simulator acts on.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub stream: bool,
    pub include_usage: bool,
    /// `max_completion_tokens` if given, else `max_tokens`.
    pub max_tokens: Option<u32>,
    /// Input tokens by the documented rule (see `count_input_tokens`).
    pub input_tokens: u32,
}

/// Input-token rule: every message text — string contents and the `text` of
/// `{"type":"text"}` parts — joined with "\n", then split on whitespace like Python's
/// `str.split()`. Because "\n" is whitespace, that equals the sum of per-text word counts.
fn count_input_tokens(messages: &[RawMessage]) -> u32 {
    let mut words = 0usize;
    for message in messages {
        match &message.content {
            Some(RawContent::Text(text)) => words += count_words(text),
            Some(RawContent::Parts(parts)) => {
                for part in parts {
                    if part.kind.as_deref() == Some("text") {
                        words += part.text.as_deref().map_or(0, count_words);
                    }
                }
            }
            None => {}
        }
    }
    u32::try_from(words).unwrap_or(u32::MAX)
}

/// Parse and validate a request body, answering like the real API on bad input.
pub fn parse_chat_request(body: &[u8]) -> Result<ChatRequest, ApiError> {
    let raw: RawChatRequest = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::invalid_request(format!("Invalid request body: {e}"), None, None)
        } else {
            ApiError::invalid_request(
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
                None,
                None,
            )
        }
    })?;
    let Some(model) = raw.model else {
        return Err(ApiError::invalid_request(
            "you must provide a model parameter",
            None,
            None,
        ));
    };
    let Some(messages) = raw.messages else {
        return Err(ApiError::invalid_request(
            "Missing required parameter: 'messages'.",
            Some("messages"),
            Some("missing_required_parameter"),
        ));
    };
    if messages.is_empty() {
        return Err(ApiError::invalid_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            Some("messages"),
            Some("empty_array"),
        ));
    }
    let (limit_name, limit) = match (raw.max_completion_tokens, raw.max_tokens) {
        (Some(v), _) => ("max_completion_tokens", Some(v)),
        (None, v) => ("max_tokens", v),
    };
    let max_tokens = match limit {
        Some(v) if v < 1 => {
            return Err(ApiError::invalid_request(
                format!("Invalid '{limit_name}': integer below minimum value. Expected a value >= 1, but got {v} instead."),
                Some(limit_name),
                Some("integer_below_min_value"),
            ))
        }
        Some(v) => Some(v.min(MAX_OUTPUT_TOKENS as i64) as u32),
        None => None,
    };
    let stream = raw.stream.unwrap_or(false);
    Ok(ChatRequest {
        model,
        stream,
        include_usage: stream
            && raw
                .stream_options
                .and_then(|o| o.include_usage)
                .unwrap_or(false),
        max_tokens,
        input_tokens: count_input_tokens(&messages),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
    Stop,
    Length,
}

impl FinishReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

impl Usage {
    fn write_json(&self, out: &mut String) {
        let _ = write!(
            out,
            r#"{{"prompt_tokens":{},"completion_tokens":{},"total_tokens":{},"prompt_tokens_details":{{"cached_tokens":0,"audio_tokens":0}},"completion_tokens_details":{{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}}"#,
            self.prompt_tokens,
            self.completion_tokens,
            self.prompt_tokens as u64 + self.completion_tokens as u64,
        );
    }
}

/// The fields every chunk and response starts with, up to (not including) `"choices":`.
fn write_envelope(out: &mut String, id: &str, object: &str, created: u64, model: &str) {
    // The model name comes from the client: serde_json escapes it.
    let model_json = serde_json::to_string(model).unwrap_or_else(|_| "\"\"".into());
    let _ = write!(
        out,
        r#"{{"id":"chatcmpl-{id}","object":"{object}","created":{created},"model":{model_json},"service_tier":"default","system_fingerprint":"fp_llm_sim","#
    );
}

const TOKEN_DELTA_OPEN: &str = r#"{"index":0,"delta":{"content":""#;
const TOKEN_DELTA_CLOSE: &str = "\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
const TOKEN_DELTA_CLOSE_WITH_USAGE: &str =
    "\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n";

pub const SSE_DONE: &[u8] = b"data: [DONE]\n\n";

/// The garbage line of the `malformed-sse` fault: a `data:` event whose payload is not JSON.
pub const SSE_GARBAGE: &[u8] = b"data: {\"id\":\"chatcmpl-garbage\",\"choices\":[{\"delta\":{\"content\": <<llm-sim malformed-sse fault>>\n\n";

/// The `error-event` fault's chunk: an error object where a completion chunk was expected, as
/// OpenAI and vLLM send when generation fails mid-stream.
pub const SSE_ERROR_EVENT: &[u8] = b"data: {\"error\":{\"message\":\"The server had an error while processing your request. (mid-stream failure simulated by llm-sim)\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n";

/// Pre-serialised SSE pieces of one streaming response. A token event is three buffers —
/// the shared prefix (reference-counted), the static word and a static suffix — so sending a
/// token allocates nothing.
pub struct ChunkTemplate {
    /// `data: {envelope,"choices":[{"index":0,"delta":{"content":"`; its first `envelope_len`
    /// bytes are the envelope alone, reused by the role/finish/usage events.
    token_prefix: Bytes,
    envelope_len: usize,
    include_usage: bool,
}

impl ChunkTemplate {
    pub fn new(id: &str, created: u64, model: &str, include_usage: bool) -> Self {
        let mut text = String::with_capacity(256 + model.len());
        text.push_str("data: ");
        write_envelope(&mut text, id, "chat.completion.chunk", created, model);
        text.push_str(r#""choices":["#);
        let envelope_len = text.len();
        text.push_str(TOKEN_DELTA_OPEN);
        ChunkTemplate {
            token_prefix: Bytes::from(text),
            envelope_len,
            include_usage,
        }
    }

    fn envelope(&self) -> &[u8] {
        &self.token_prefix[..self.envelope_len]
    }

    fn with_choices(&self, choices_and_rest: &str) -> Bytes {
        let tail: &str = if self.include_usage {
            r#","usage":null}"#
        } else {
            "}"
        };
        let mut out =
            Vec::with_capacity(self.envelope_len + choices_and_rest.len() + tail.len() + 2);
        out.extend_from_slice(self.envelope());
        out.extend_from_slice(choices_and_rest.as_bytes());
        out.extend_from_slice(tail.as_bytes());
        out.extend_from_slice(b"\n\n");
        Bytes::from(out)
    }

    /// First event: `delta.role = "assistant"` with empty content, as the real API sends.
    pub fn role_event(&self) -> Bytes {
        self.with_choices(
            r#"{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]"#,
        )
    }

    /// The three buffers of the event carrying token `index`.
    pub fn token_event(&self, index: u32) -> [Bytes; 3] {
        let close = if self.include_usage {
            TOKEN_DELTA_CLOSE_WITH_USAGE
        } else {
            TOKEN_DELTA_CLOSE
        };
        [
            self.token_prefix.clone(),
            Bytes::from_static(token_text(index).as_bytes()),
            Bytes::from_static(close.as_bytes()),
        ]
    }

    pub fn finish_event(&self, reason: FinishReason) -> Bytes {
        let choices = format!(
            r#"{{"index":0,"delta":{{}},"logprobs":null,"finish_reason":"{}"}}]"#,
            reason.as_str()
        );
        self.with_choices(&choices)
    }

    /// The `include_usage` event: empty choices and the usage object.
    pub fn usage_event(&self, usage: Usage) -> Bytes {
        let mut text = String::with_capacity(self.envelope_len + 320);
        // The envelope is ASCII we wrote ourselves plus JSON-escaped model text: valid UTF-8.
        text.push_str(std::str::from_utf8(self.envelope()).unwrap_or(""));
        text.push_str(r#"],"usage":"#);
        usage.write_json(&mut text);
        text.push_str("}\n\n");
        Bytes::from(text)
    }
}

/// The non-streaming `chat.completion` object.
pub fn completion_body(
    id: &str,
    created: u64,
    model: &str,
    finish: FinishReason,
    usage: Usage,
) -> Bytes {
    let content = output_text(usage.completion_tokens);
    let mut text = String::with_capacity(512 + content.len() + model.len());
    write_envelope(&mut text, id, "chat.completion", created, model);
    let _ = write!(
        text,
        r#""choices":[{{"index":0,"message":{{"role":"assistant","content":"{content}","refusal":null,"annotations":[]}},"logprobs":null,"finish_reason":"{}"}}],"usage":"#,
        finish.as_str()
    );
    usage.write_json(&mut text);
    text.push('}');
    Bytes::from(text)
}

/// `GET /v1/models`.
pub fn models_body(models: &[String], created: u64) -> Bytes {
    let mut text = String::from(r#"{"object":"list","data":["#);
    for (i, id) in models.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        let id_json = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".into());
        let _ = write!(
            text,
            r#"{{"id":{id_json},"object":"model","created":{created},"owned_by":"llm-sim"}}"#
        );
    }
    text.push_str("]}");
    Bytes::from(text)
}

/// An error answered with the real API's shape:
/// `{"error":{"message":..,"type":..,"param":..,"code":..}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub error_type: &'static str,
    pub param: Option<&'static str>,
    pub code: Option<&'static str>,
}

impl ApiError {
    pub fn invalid_request(
        message: impl Into<String>,
        param: Option<&'static str>,
        code: Option<&'static str>,
    ) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            error_type: "invalid_request_error",
            param,
            code,
        }
    }

    pub fn not_found(method: &str, path: &str) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: format!("Invalid URL ({method} {path})"),
            error_type: "invalid_request_error",
            param: None,
            code: None,
        }
    }

    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        ApiError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: format!("Invalid method for URL ({method} {path})"),
            error_type: "invalid_request_error",
            param: None,
            code: None,
        }
    }

    pub fn body_too_large(limit: usize) -> Self {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("Request body is larger than {limit} bytes."),
            error_type: "invalid_request_error",
            param: None,
            code: None,
        }
    }

    /// Serialised with the real API's key order: message, type, param, code.
    pub fn to_json(&self) -> Bytes {
        let quoted = |text: &str| serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into());
        let optional = |value: Option<&str>| value.map_or_else(|| "null".to_string(), quoted);
        Bytes::from(format!(
            r#"{{"error":{{"message":{},"type":{},"param":{},"code":{}}}}}"#,
            quoted(&self.message),
            quoted(self.error_type),
            optional(self.param),
            optional(self.code),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Buf;

    #[test]
    fn counts_words_like_python_str_split() {
        assert_eq!(count_words(""), 0);
        assert_eq!(count_words("  hello   world \n"), 2);
        assert_eq!(count_words("a\u{1c}b\u{1f}c"), 3); // Python splits on these, Rust alone does not
        assert_eq!(count_words("a\u{a0}b\u{3000}c"), 3);
        assert_eq!(count_words("don't stop-me"), 2);
    }

    #[test]
    fn input_tokens_cover_strings_and_text_parts_only() {
        let body = br#"{"model":"m","messages":[
            {"role":"system","content":"You are terse."},
            {"role":"user","content":[{"type":"text","text":"two words"},{"type":"image_url","image_url":{"url":"x y z"}}]},
            {"role":"assistant","content":null}]}"#;
        let request = parse_chat_request(body).unwrap();
        assert_eq!(request.input_tokens, 5);
        assert!(!request.stream);
        assert_eq!(request.max_tokens, None);
    }

    #[test]
    fn limits_and_stream_options() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,
            "stream_options":{"include_usage":true},"max_tokens":9,"max_completion_tokens":7}"#;
        let request = parse_chat_request(body).unwrap();
        assert_eq!(
            (request.stream, request.include_usage, request.max_tokens),
            (true, true, Some(7))
        );
    }

    #[test]
    fn bad_requests_get_api_errors() {
        let cases: [(&[u8], Option<&str>); 6] = [
            (b"{not json", None),
            (b"[1,2]", None),
            (br#"{"model":"m"}"#, Some("missing_required_parameter")),
            (br#"{"model":"m","messages":[]}"#, Some("empty_array")),
            (br#"{"messages":[{"role":"user","content":"x"}]}"#, None),
            (
                br#"{"model":"m","messages":[{"content":"x"}],"max_tokens":0}"#,
                Some("integer_below_min_value"),
            ),
        ];
        for (body, code) in cases {
            let err = parse_chat_request(body).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert_eq!(err.code, code, "{}", String::from_utf8_lossy(body));
            let json: serde_json::Value = serde_json::from_slice(&err.to_json()).unwrap();
            assert_eq!(json["error"]["type"], "invalid_request_error");
            assert!(json["error"].as_object().unwrap().contains_key("param"));
        }
    }

    fn event_json(event: &[u8]) -> serde_json::Value {
        let text = std::str::from_utf8(event).unwrap();
        let payload = text
            .strip_prefix("data: ")
            .unwrap()
            .strip_suffix("\n\n")
            .unwrap();
        serde_json::from_str(payload).unwrap()
    }

    #[test]
    fn stream_events_are_valid_chunks() {
        for include_usage in [false, true] {
            let template = ChunkTemplate::new("abc", 1700000000, "we\"ird", include_usage);
            let role = event_json(&template.role_event());
            assert_eq!(role["id"], "chatcmpl-abc");
            assert_eq!(role["model"], "we\"ird");
            assert_eq!(role["choices"][0]["delta"]["role"], "assistant");
            assert_eq!(role["choices"][0]["delta"]["content"], "");
            let parts = template.token_event(17);
            let mut token = Vec::new();
            for part in parts {
                token.extend_from_slice(part.chunk());
            }
            let token = event_json(&token);
            assert_eq!(token["choices"][0]["delta"]["content"], " quick");
            assert_eq!(token["object"], "chat.completion.chunk");
            let finish = event_json(&template.finish_event(FinishReason::Length));
            assert_eq!(finish["choices"][0]["finish_reason"], "length");
            if include_usage {
                assert!(
                    token["usage"].is_null() && token.as_object().unwrap().contains_key("usage")
                );
                let usage = event_json(&template.usage_event(Usage {
                    prompt_tokens: 3,
                    completion_tokens: 4,
                }));
                assert_eq!(usage["choices"], serde_json::json!([]));
                assert_eq!(usage["usage"]["total_tokens"], 7);
                assert_eq!(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
                assert_eq!(
                    usage["usage"]["completion_tokens_details"]["reasoning_tokens"],
                    0
                );
            } else {
                assert!(!token.as_object().unwrap().contains_key("usage"));
            }
        }
    }

    #[test]
    fn completion_body_matches_usage() {
        let body = completion_body(
            "x",
            1,
            "m",
            FinishReason::Stop,
            Usage {
                prompt_tokens: 2,
                completion_tokens: 20,
            },
        );
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let content = json["choices"][0]["message"]["content"].as_str().unwrap();
        assert_eq!(count_words(content), 20);
        assert_eq!(json["usage"]["completion_tokens"], 20);
        assert_eq!(json["choices"][0]["finish_reason"], "stop");
    }
}
