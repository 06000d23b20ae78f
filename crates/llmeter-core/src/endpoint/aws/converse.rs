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
use crate::endpoint::payload::{json_type, lenient_count, lenient_str};
use crate::endpoint::stream::{FrameOutcome, Protocol, StreamParser};
use crate::endpoint::{
    Endpoint, EndpointError, EndpointInfo, ParseLimits, ParsedResponse, PreparedPayload,
    ResponseParser, UserMessage,
};
use crate::framing::{Frame, Framing, StreamEnd};
use crate::transport::{HttpRequest, ResponseHead};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
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

#[derive(Deserialize)]
struct DeltaEvent<'a> {
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    text: Option<Cow<'a, str>>,
    #[serde(default, rename = "reasoningContent")]
    reasoning_content: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
struct Usage {
    #[serde(default, rename = "inputTokens", deserialize_with = "lenient_count")]
    input: Option<u64>,
    #[serde(default, rename = "outputTokens", deserialize_with = "lenient_count")]
    output: Option<u64>,
    #[serde(
        default,
        rename = "cacheReadInputTokens",
        deserialize_with = "lenient_count"
    )]
    cache_read: Option<u64>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    usage: Option<Usage>,
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
                let Ok(event) = serde_json::from_slice::<DeltaEvent>(message.payload) else {
                    return malformed(message.payload);
                };
                let Some(delta) = event.delta else {
                    return FrameOutcome::Ignored;
                };
                if delta.reasoning_content.is_some() {
                    FrameOutcome::Hidden
                } else {
                    match delta.text.filter(|t| !t.is_empty()) {
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
                let Ok(metadata) = serde_json::from_slice::<Metadata>(message.payload) else {
                    return malformed(message.payload);
                };
                let usage = metadata.usage.unwrap_or_default();
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
        if let Some(usage) = parsed.get("usage").and_then(|u| Usage::deserialize(u).ok()) {
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
