//! Bedrock Converse (`POST /model/{modelId}/converse`) and ConverseStream
//! (`/converse-stream`, an event stream), as LLMeter's `BedrockConverse` /
//! `BedrockConverseStream`.
//!
//! Stream timing (LLMeter's rule): output is a non-empty `contentBlockDelta.delta.text`;
//! `reasoningContent` deltas are hidden output (a TTFT point only with
//! `ttft_visible_tokens_only: false`); every `contentBlockStop` is a TTLT point. Usage comes
//! from `metadata` events (summed if several). The stream is complete once `messageStop`
//! arrived (its `metadata` follows). Ids are the request id (`x-amzn-RequestId`).

use super::{
    bedrock_info, json_body, message_items, path_label, stream_error, AwsHead, AwsRequester,
    AwsTarget,
};
use crate::endpoint::http::payload_object;
use crate::endpoint::payload::{count_at, json_object, json_type, object_at, str_at};
use crate::endpoint::stream::{FrameOutcome, Protocol, StreamParser};
use crate::endpoint::{
    Endpoint, EndpointError, EndpointInfo, ParseLimits, ParsedResponse, PreparedPayload,
    ResponseParser, UserMessage,
};
use crate::framing::{Frame, Framing, StreamEnd};
use crate::transport::{HttpRequest, ResponseHead};
use serde_json::{json, Map, Value};
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq)]
pub struct ConverseConfig {
    pub target: AwsTarget,
    /// Bedrock model id or ARN (`modelId`).
    pub model: String,
    pub stream: bool,
    /// Used when a payload has no `inferenceConfig` (LLMeter's `inference_config`).
    pub inference_config: Option<Map<String, Value>>,
    pub ttft_visible_tokens_only: bool,
    pub endpoint_name: Option<String>,
}

#[derive(Debug)]
pub struct BedrockConverseEndpoint {
    config: ConverseConfig,
    requester: AwsRequester,
}

impl BedrockConverseEndpoint {
    pub fn new(config: ConverseConfig) -> Self {
        let operation = if config.stream {
            "converse-stream"
        } else {
            "converse"
        };
        let path = format!("/model/{}/{operation}", path_label(&config.model));
        let requester = AwsRequester::new(
            config.target.clone(),
            "bedrock",
            "bedrock-runtime",
            &path,
            &[("content-type", "application/json")],
        );
        BedrockConverseEndpoint { config, requester }
    }
}

/// LLMeter's Converse prompt extraction: every `text` of every message's content (a list of
/// texts is spread), empty ones dropped, joined with `\n`.
fn converse_prompt(body: &Value) -> String {
    let mut texts: Vec<&str> = Vec::new();
    for message in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for block in message
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match block.get("text") {
                Some(Value::String(s)) => texts.push(s),
                Some(Value::Array(items)) => texts.extend(items.iter().filter_map(Value::as_str)),
                _ => {}
            }
        }
    }
    texts.retain(|t| !t.is_empty());
    texts.join("\n")
}

impl Endpoint for BedrockConverseEndpoint {
    fn info(&self) -> EndpointInfo {
        let c = &self.config;
        bedrock_info(
            ("BedrockConverseStream", "BedrockConverse"),
            c.stream,
            &c.endpoint_name,
            &c.model,
        )
    }

    fn prepare(&self, payload: &Value) -> Result<PreparedPayload, EndpointError> {
        let mut recorded = payload_object(payload, "Bedrock Converse request")?;
        if recorded.get("inferenceConfig").is_none_or(Value::is_null) {
            let default = self.config.inference_config.clone().unwrap_or_default();
            recorded.insert("inferenceConfig".into(), Value::Object(default));
        }
        // The model id travels in the path; the body is the rest (what botocore sends).
        let mut body = recorded.clone();
        body.remove("modelId");
        recorded.insert("modelId".into(), Value::String(self.config.model.clone()));
        let recorded = Value::Object(recorded);
        Ok(PreparedPayload {
            body: json_body(&Value::Object(body))?,
            input_prompt: Some(converse_prompt(&recorded).into()),
            input_payload: Rc::new(recorded),
        })
    }

    fn request(
        &self,
        prepared: &PreparedPayload,
        now_unix_ms: f64,
    ) -> Result<HttpRequest, EndpointError> {
        self.requester.request(prepared, now_unix_ms)
    }

    fn parser(&self, limits: ParseLimits) -> Box<dyn ResponseParser> {
        Box::new(StreamParser::new(
            Box::new(ConverseProtocol {
                stream: self.config.stream,
                head: AwsHead::default(),
                message_stopped: false,
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
        converse_payload(message, max_tokens, extra)
    }

    fn secrets(&self) -> Vec<String> {
        self.requester.secrets()
    }
}

/// LLMeter's `BedrockConverse.create_payload`: text blocks, the extra keys, then
/// `inferenceConfig` with `maxTokens` set (keeping the position of a given `inferenceConfig`).
pub fn converse_payload(
    message: &UserMessage,
    max_tokens: u64,
    extra: &Map<String, Value>,
) -> Result<Value, EndpointError> {
    let blocks: Vec<Value> = message_items(message)?
        .into_iter()
        .map(|t| json!({ "text": t }))
        .collect();
    let mut out = Map::new();
    out.insert(
        "messages".into(),
        json!([{ "role": "user", "content": blocks }]),
    );
    for (k, v) in extra {
        out.insert(k.clone(), v.clone());
    }
    let mut config = match out.get("inferenceConfig") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            return Err(EndpointError::Payload(format!(
                "inferenceConfig must be an object, got {}",
                json_type(other)
            )))
        }
    };
    config.insert("maxTokens".into(), json!(max_tokens));
    out.insert("inferenceConfig".into(), Value::Object(config));
    Ok(Value::Object(out))
}

pub(crate) struct ConverseProtocol {
    stream: bool,
    head: AwsHead,
    message_stopped: bool,
}

impl ConverseProtocol {
    fn operation(&self) -> &'static str {
        if self.stream {
            "ConverseStream"
        } else {
            "Converse"
        }
    }
}

/// A `usage` object's counts (each lenient: another type reads as absent).
#[derive(Default)]
struct Usage {
    input: Option<u64>,
    output: Option<u64>,
    cache_read: Option<u64>,
}

impl Usage {
    fn from_value(usage: &Value) -> Usage {
        Usage {
            input: count_at(usage, "inputTokens"),
            output: count_at(usage, "outputTokens"),
            cache_read: count_at(usage, "cacheReadInputTokens"),
        }
    }
}

fn add(total: &mut Option<u64>, n: Option<u64>) {
    if let Some(n) = n {
        *total = Some(total.unwrap_or(0).saturating_add(n));
    }
}

impl Protocol for ConverseProtocol {
    fn framing(&self) -> Framing {
        Framing::EventStream
    }

    fn streaming(&self) -> bool {
        self.stream
    }

    fn on_head(&mut self, head: &ResponseHead, out: &mut ParsedResponse) {
        self.head.read(head, out);
    }

    fn on_frame(&mut self, frame: Frame<'_>, out: &mut ParsedResponse) -> FrameOutcome {
        let Frame::Event(message) = frame else {
            return FrameOutcome::Ignored;
        };
        if let Some(error) = stream_error(&message, self.operation()) {
            return FrameOutcome::Error(error);
        }
        match message.event_type() {
            Some("contentBlockDelta") => {
                // An event that is not an object, or whose `delta` is not one, is malformed.
                let Some(event) = json_object(message.payload) else {
                    return malformed(message.payload);
                };
                let Some(delta) = object_at(&event, "delta") else {
                    return malformed(message.payload);
                };
                let Some(delta) = delta else {
                    return FrameOutcome::Ignored;
                };
                if delta.get("reasoningContent").is_some_and(|r| !r.is_null()) {
                    FrameOutcome::Hidden
                } else {
                    match str_at(delta, "text").filter(|t| !t.is_empty()) {
                        Some(text) => {
                            out.push_text(&text);
                            FrameOutcome::Output
                        }
                        None => FrameOutcome::Ignored,
                    }
                }
            }
            Some("contentBlockStop") => FrameOutcome::LastTokenMark,
            Some("messageStop") => {
                self.message_stopped = true;
                FrameOutcome::Ignored
            }
            Some("metadata") => {
                let Some(event) = json_object(message.payload) else {
                    return malformed(message.payload);
                };
                let Some(usage) = object_at(&event, "usage") else {
                    return malformed(message.payload);
                };
                let usage = usage.map(Usage::from_value).unwrap_or_default();
                add(&mut out.tokens_input, usage.input);
                add(&mut out.tokens_output, usage.output);
                add(&mut out.tokens_input_cached, usage.cache_read);
                FrameOutcome::Ignored
            }
            _ => FrameOutcome::Ignored, // messageStart, contentBlockStart, unknown events
        }
    }

    fn on_body(&mut self, body: &[u8], out: &mut ParsedResponse) -> Result<(), String> {
        let parsed: Value = serde_json::from_slice(body).map_err(|_| {
            format!(
                "invalid JSON response body: {}",
                crate::endpoint::http::byte_snippet(body)
            )
        })?;
        let Some(content) = parsed
            .pointer("/output/message/content")
            .and_then(Value::as_array)
        else {
            return Err(format!(
                "response has no output.message.content: {}",
                crate::endpoint::http::byte_snippet(body)
            ));
        };
        // LLMeter joins the text parts with no separator (`""` when there are none).
        out.text = Some(
            content
                .iter()
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect(),
        );
        if let Some(Some(usage)) = object_at(&parsed, "usage").map(|u| u.map(Usage::from_value)) {
            out.tokens_input = usage.input;
            out.tokens_output = usage.output;
            out.tokens_input_cached = usage.cache_read;
        }
        Ok(())
    }

    fn complete_at_end(&self, end: StreamEnd) -> bool {
        // `metadata` (the usage) follows `messageStop`: a cut-off message after it loses data.
        self.message_stopped && end == StreamEnd::Clean
    }

    fn truncated_message(&self, end: StreamEnd) -> String {
        let what = match end {
            StreamEnd::Clean => "",
            StreamEnd::Truncated => ", last message incomplete",
        };
        if self.message_stopped {
            format!("stream ended in the middle of a message after messageStop (truncated response{what})")
        } else {
            format!("stream ended before messageStop (truncated response{what})")
        }
    }

    fn http_error(&self, status: u16, _retry_after: Option<&str>, body: &[u8]) -> String {
        self.head.http_error(status, body, self.operation())
    }
}

fn malformed(payload: &[u8]) -> FrameOutcome {
    FrameOutcome::Error(format!(
        "malformed event: {}",
        crate::endpoint::http::byte_snippet(payload)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::event_stream::{encode_event, EventStreamDecoder};

    fn protocol(stream: bool) -> ConverseProtocol {
        ConverseProtocol {
            stream,
            head: AwsHead::default(),
            message_stopped: false,
        }
    }

    /// What `on_frame` makes of one event, and the response so far.
    fn frame(
        protocol: &mut ConverseProtocol,
        kind: &str,
        payload: &str,
        out: &mut ParsedResponse,
    ) -> FrameOutcome {
        let mut outcome = None;
        EventStreamDecoder::with_limit(1 << 20)
            .feed(&encode_event(kind, payload.as_bytes()), &mut |m| {
                outcome = Some(protocol.on_frame(Frame::Event(m), out))
            })
            .unwrap();
        outcome.unwrap()
    }

    #[test]
    fn deltas_and_usage_are_read_leniently_and_wrong_objects_are_malformed() {
        let mut p = protocol(true);
        let mut out = ParsedResponse::default();
        let delta = |p: &mut ConverseProtocol, out: &mut ParsedResponse, payload: &str| {
            frame(p, "contentBlockDelta", payload, out)
        };
        assert_eq!(
            delta(
                &mut p,
                &mut out,
                r#"{"contentBlockIndex":0,"delta":{"text":"Hel"}}"#
            ),
            FrameOutcome::Output
        );
        assert_eq!(
            delta(
                &mut p,
                &mut out,
                r#"{"delta":{"text":"lo\n"},"delta":{"text":"lo"}}"#
            ),
            FrameOutcome::Output
        );
        assert_eq!(
            out.text.as_deref(),
            Some("Hello"),
            "a repeated key: the last wins"
        );
        // Reasoning is hidden output; a null one is not there.
        assert_eq!(
            delta(
                &mut p,
                &mut out,
                r#"{"delta":{"reasoningContent":{"text":"hmm"}}}"#
            ),
            FrameOutcome::Hidden
        );
        assert_eq!(
            delta(
                &mut p,
                &mut out,
                r#"{"delta":{"reasoningContent":null,"text":"!"}}"#
            ),
            FrameOutcome::Output
        );
        // Text of another type, empty text, no delta: nothing.
        for ignored in [
            r#"{"delta":{"text":5}}"#,
            r#"{"delta":{"text":""}}"#,
            r#"{"delta":null}"#,
            "{}",
        ] {
            assert_eq!(
                delta(&mut p, &mut out, ignored),
                FrameOutcome::Ignored,
                "{ignored}"
            );
        }
        assert_eq!(out.text.as_deref(), Some("Hello!"));
        // Not an object where one is needed: the request fails.
        for bad in [
            r#"{"delta":"Hel"}"#,
            r#"{"delta":["x"]}"#,
            r#"["x",{}]"#,
            r#""x""#,
            "{",
        ] {
            assert!(
                matches!(delta(&mut p, &mut out, bad), FrameOutcome::Error(e) if e.starts_with("malformed event")),
                "{bad}"
            );
        }
        // Usage: summed over metadata events, counts of another type left out.
        let meta = r#"{"usage":{"inputTokens":7,"outputTokens":3,"cacheReadInputTokens":2},"metrics":{"latencyMs":1}}"#;
        assert_eq!(
            frame(&mut p, "metadata", meta, &mut out),
            FrameOutcome::Ignored
        );
        frame(
            &mut p,
            "metadata",
            r#"{"usage":{"inputTokens":"1","outputTokens":2.5,"cacheReadInputTokens":-1}}"#,
            &mut out,
        );
        frame(
            &mut p,
            "metadata",
            r#"{"usage":{"outputTokens":1}}"#,
            &mut out,
        );
        assert_eq!(
            (out.tokens_input, out.tokens_output, out.tokens_input_cached),
            (Some(7), Some(4), Some(2))
        );
        assert!(matches!(
            frame(&mut p, "metadata", r#"{"usage":3}"#, &mut out),
            FrameOutcome::Error(_)
        ));
        assert_eq!(
            frame(&mut p, "metadata", r#"{"usage":null}"#, &mut out),
            FrameOutcome::Ignored
        );
    }

    #[test]
    fn a_whole_body_reads_text_parts_and_usage() {
        let mut p = protocol(false);
        let mut out = ParsedResponse::default();
        let body = br#"{"output":{"message":{"content":[{"text":"a"},{"image":{}},{"text":"b"}]}},"usage":{"inputTokens":4,"outputTokens":"2"}}"#;
        p.on_body(body, &mut out).unwrap();
        assert_eq!(
            (out.text.as_deref(), out.tokens_input, out.tokens_output),
            (Some("ab"), Some(4), None)
        );
        let mut out = ParsedResponse::default();
        p.on_body(
            br#"{"output":{"message":{"content":[]}},"usage":"x"}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!((out.text.as_deref(), out.tokens_input), (Some(""), None));
    }
}
