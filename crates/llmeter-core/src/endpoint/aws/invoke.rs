//! Bedrock InvokeModel (`POST /model/{modelId}/invoke`) and InvokeModelWithResponseStream
//! (`/invoke-with-response-stream`), as LLMeter's `BedrockInvoke` / `BedrockInvokeStream`.
//!
//! The bodies are the model's own, so where the text and the token counts are is configured
//! with paths ([`crate::endpoint::json_path`], LLMeter's `*_jmespath` options). A body format picks the
//! defaults: `openai` (LLMeter's defaults, for the OpenAI-compatible models), `anthropic`
//! (Claude's Messages body), `llama` (Meta's), `nova` (Amazon Nova's messages-v1), `titan`
//! (Amazon Titan Text). Each stream chunk is an event-stream `chunk` event whose payload is
//! `{"bytes": "<base64 of the model's JSON>"}`.
//!
//! Stream timing (LLMeter's rule): output is a chunk whose text path gives non-empty text; an
//! optional reasoning path gives hidden output. Ids: the request id, replaced by any chunk's
//! `id` (non-streaming: the body's `id`, else the request id). Token counts: the last non-null
//! value over the chunks (default: Bedrock's `amazon-bedrock-invocationMetrics`, which the
//! last chunk carries; its arrival also marks the stream complete).

use super::base64;
use super::{
    bedrock_info, json_body, message_items, path_label, stream_error, AwsHead, AwsRequester,
    AwsTarget,
};
use crate::endpoint::http::{byte_snippet, payload_object};
use crate::endpoint::json_path::{count_of, text_of, JsonPath};
use crate::endpoint::payload::json_type;
use crate::endpoint::stream::{FrameOutcome, Protocol, StreamParser};
use crate::endpoint::{
    Endpoint, EndpointError, EndpointInfo, ParseLimits, ParsedResponse, PreparedPayload,
    ResponseParser, UserMessage,
};
use crate::framing::{Frame, Framing, StreamEnd};
use crate::transport::{HttpRequest, ResponseHead};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::rc::Rc;

/// The model body shape whose default paths (and `create_payload`) an endpoint uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokeBodyFormat {
    /// OpenAI Chat Completions shape (LLMeter's defaults).
    OpenAI,
    /// Anthropic Claude on Bedrock (Messages API body, `anthropic_version`).
    Anthropic,
    /// Meta Llama (`prompt`, `max_gen_len`; `generation`).
    Llama,
    /// Amazon Nova (`schemaVersion: messages-v1`).
    Nova,
    /// Amazon Titan Text (`inputText`, `textGenerationConfig`).
    Titan,
}

impl InvokeBodyFormat {
    pub const NAMES: [&'static str; 5] = ["openai", "anthropic", "llama", "nova", "titan"];

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "openai" => InvokeBodyFormat::OpenAI,
            "anthropic" => InvokeBodyFormat::Anthropic,
            "llama" => InvokeBodyFormat::Llama,
            "nova" => InvokeBodyFormat::Nova,
            "titan" => InvokeBodyFormat::Titan,
            _ => return None,
        })
    }

    /// Default paths: `(text, input text, output tokens, input tokens, reasoning text)`.
    fn default_paths(
        self,
        stream: bool,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    ) {
        const METRICS_OUT: &str = "\"amazon-bedrock-invocationMetrics\".outputTokenCount";
        const METRICS_IN: &str = "\"amazon-bedrock-invocationMetrics\".inputTokenCount";
        const MESSAGES_TEXT: &str = "messages[].content[].text";
        use InvokeBodyFormat::*;
        match (self, stream) {
            (OpenAI, false) => (
                "choices[0].message.content",
                MESSAGES_TEXT,
                "usage.completion_tokens",
                "usage.prompt_tokens",
                None,
            ),
            (OpenAI, true) => (
                "choices[0].delta.content",
                MESSAGES_TEXT,
                METRICS_OUT,
                METRICS_IN,
                None,
            ),
            (Anthropic, false) => (
                "content[].text",
                MESSAGES_TEXT,
                "usage.output_tokens",
                "usage.input_tokens",
                None,
            ),
            (Anthropic, true) => (
                "delta.text",
                MESSAGES_TEXT,
                METRICS_OUT,
                METRICS_IN,
                Some("delta.thinking"),
            ),
            (Llama, false) => (
                "generation",
                "prompt",
                "generation_token_count",
                "prompt_token_count",
                None,
            ),
            (Llama, true) => ("generation", "prompt", METRICS_OUT, METRICS_IN, None),
            (Nova, false) => (
                "output.message.content[].text",
                MESSAGES_TEXT,
                "usage.outputTokens",
                "usage.inputTokens",
                None,
            ),
            (Nova, true) => (
                "contentBlockDelta.delta.text",
                MESSAGES_TEXT,
                METRICS_OUT,
                METRICS_IN,
                Some("contentBlockDelta.delta.reasoningContent.text"),
            ),
            (Titan, false) => (
                "results[0].outputText",
                "inputText",
                "results[0].tokenCount",
                "inputTextTokenCount",
                None,
            ),
            (Titan, true) => ("outputText", "inputText", METRICS_OUT, METRICS_IN, None),
        }
    }
}

/// Where the text and token counts are (LLMeter's four `*_jmespath` settings, plus hidden
/// reasoning text for `ttft_visible_tokens_only`). `None` token paths are not read.
#[derive(Debug, Clone, PartialEq)]
pub struct InvokePaths {
    pub generated_text: JsonPath,
    pub input_text: JsonPath,
    pub generated_token_count: Option<JsonPath>,
    pub input_token_count: Option<JsonPath>,
    pub reasoning_text: Option<JsonPath>,
}

impl InvokePaths {
    /// The format's defaults.
    pub fn defaults(format: InvokeBodyFormat, stream: bool) -> InvokePaths {
        let (text, input, out, inp, reasoning) = format.default_paths(stream);
        let parse = |p: &str| JsonPath::parse(p).unwrap_or_else(|e| unreachable!("{e}"));
        InvokePaths {
            generated_text: parse(text),
            input_text: parse(input),
            generated_token_count: Some(parse(out)),
            input_token_count: Some(parse(inp)),
            reasoning_text: reasoning.map(parse),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InvokeConfig {
    pub target: AwsTarget,
    pub model: String,
    pub stream: bool,
    pub body_format: InvokeBodyFormat,
    pub paths: InvokePaths,
    pub ttft_visible_tokens_only: bool,
    pub endpoint_name: Option<String>,
}

#[derive(Debug)]
pub struct BedrockInvokeEndpoint {
    config: Rc<InvokeConfig>,
    requester: AwsRequester,
}

impl BedrockInvokeEndpoint {
    pub fn new(config: InvokeConfig) -> Self {
        let (operation, accept) = if config.stream {
            ("invoke-with-response-stream", "x-amzn-bedrock-accept")
        } else {
            ("invoke", "accept")
        };
        let path = format!("/model/{}/{operation}", path_label(&config.model));
        let requester = AwsRequester::new(
            config.target.clone(),
            "bedrock",
            "bedrock-runtime",
            &path,
            &[
                ("content-type", "application/json"),
                (accept, "application/json"),
            ],
        );
        BedrockInvokeEndpoint {
            config: Rc::new(config),
            requester,
        }
    }
}

impl Endpoint for BedrockInvokeEndpoint {
    fn info(&self) -> EndpointInfo {
        let c = &self.config;
        bedrock_info(
            ("BedrockInvokeStream", "BedrockInvoke"),
            c.stream,
            &c.endpoint_name,
            &c.model,
        )
    }

    fn prepare(&self, payload: &Value) -> Result<PreparedPayload, EndpointError> {
        payload_object(payload, "the model's InvokeModel body")?;
        let prompt = text_of(&self.config.paths.input_text.search(payload), "\n");
        Ok(PreparedPayload {
            body: json_body(payload)?,
            input_prompt: prompt.map(Rc::from),
            input_payload: Rc::new(payload.clone()),
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
            Box::new(InvokeProtocol {
                config: self.config.clone(),
                head: AwsHead::default(),
                decoded: Vec::new(),
                complete: false,
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
        invoke_payload(self.config.body_format, message, max_tokens, extra)
    }

    fn secrets(&self) -> Vec<String> {
        self.requester.secrets()
    }
}

/// `create_payload` per body format. `openai` is LLMeter's `BedrockInvoke.create_payload`
/// (one user message per text, `max_tokens`, extra keys); the others build the model's body.
pub fn invoke_payload(
    format: InvokeBodyFormat,
    message: &UserMessage,
    max_tokens: u64,
    extra: &Map<String, Value>,
) -> Result<Value, EndpointError> {
    let items = message_items(message)?;
    let mut out = Map::new();
    // (key of the nested config that takes the limit, the limit's name inside it)
    let mut nested_limit: Option<(&str, &str)> = None;
    match format {
        InvokeBodyFormat::OpenAI => {
            let messages: Vec<Value> = items
                .iter()
                .map(|t| json!({"role": "user", "content": [{"text": t, "type": "text"}]}))
                .collect();
            out.insert("messages".into(), Value::Array(messages));
            out.insert("max_tokens".into(), json!(max_tokens));
        }
        InvokeBodyFormat::Anthropic => {
            let blocks: Vec<Value> = items
                .iter()
                .map(|t| json!({"type": "text", "text": t}))
                .collect();
            out.insert("anthropic_version".into(), json!("bedrock-2023-05-31"));
            out.insert("max_tokens".into(), json!(max_tokens));
            out.insert(
                "messages".into(),
                json!([{"role": "user", "content": blocks}]),
            );
        }
        InvokeBodyFormat::Llama => {
            out.insert("prompt".into(), json!(items.join("\n")));
            out.insert("max_gen_len".into(), json!(max_tokens));
        }
        InvokeBodyFormat::Nova => {
            let blocks: Vec<Value> = items.iter().map(|t| json!({ "text": t })).collect();
            out.insert("schemaVersion".into(), json!("messages-v1"));
            out.insert(
                "messages".into(),
                json!([{"role": "user", "content": blocks}]),
            );
            out.insert("inferenceConfig".into(), Value::Object(Map::new()));
            nested_limit = Some(("inferenceConfig", "maxTokens"));
        }
        InvokeBodyFormat::Titan => {
            out.insert("inputText".into(), json!(items.join("\n")));
            out.insert("textGenerationConfig".into(), Value::Object(Map::new()));
            nested_limit = Some(("textGenerationConfig", "maxTokenCount"));
        }
    }
    for (k, v) in extra {
        out.insert(k.clone(), v.clone());
    }
    if let Some((key, limit)) = nested_limit {
        let mut nested = match out.get(key) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                return Err(EndpointError::Payload(format!(
                    "{key} must be an object, got {}",
                    json_type(other)
                )))
            }
        };
        nested.insert(limit.into(), json!(max_tokens));
        out.insert(key.into(), Value::Object(nested));
    }
    Ok(Value::Object(out))
}

struct InvokeProtocol {
    config: Rc<InvokeConfig>,
    head: AwsHead,
    /// The current chunk's decoded bytes (reused).
    decoded: Vec<u8>,
    /// Bedrock's invocation metrics arrived (they come with the last chunk).
    complete: bool,
}

impl InvokeProtocol {
    fn operation(&self) -> &'static str {
        if self.config.stream {
            "InvokeModelWithResponseStream"
        } else {
            "InvokeModel"
        }
    }
}

#[derive(Deserialize)]
struct ChunkEvent<'a> {
    #[serde(borrow)]
    bytes: Cow<'a, str>,
}

fn read_counts(paths: &InvokePaths, value: &Value, out: &mut ParsedResponse) {
    if let Some(p) = &paths.input_token_count {
        if let Some(n) = count_of(&p.search(value)) {
            out.tokens_input = Some(n);
        }
    }
    if let Some(p) = &paths.generated_token_count {
        if let Some(n) = count_of(&p.search(value)) {
            out.tokens_output = Some(n);
        }
    }
}

impl Protocol for InvokeProtocol {
    fn framing(&self) -> Framing {
        Framing::EventStream
    }

    fn streaming(&self) -> bool {
        self.config.stream
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
        if message.event_type() != Some("chunk") {
            return FrameOutcome::Ignored;
        }
        let Ok(event) = serde_json::from_slice::<ChunkEvent>(message.payload) else {
            return FrameOutcome::Error(format!(
                "malformed chunk event: {}",
                byte_snippet(message.payload)
            ));
        };
        if base64::decode_into(event.bytes.as_bytes(), &mut self.decoded).is_err() {
            return FrameOutcome::Error(format!(
                "chunk bytes are not base64: {}",
                byte_snippet(event.bytes.as_bytes())
            ));
        }
        let Ok(chunk) = serde_json::from_slice::<Value>(&self.decoded) else {
            return FrameOutcome::Error(format!(
                "chunk is not JSON: {}",
                byte_snippet(&self.decoded)
            ));
        };
        if let Some(id) = chunk.get("id").and_then(Value::as_str) {
            out.id = Some(id.to_owned());
        }
        let paths = &self.config.paths;
        read_counts(paths, &chunk, out);
        if chunk.get("amazon-bedrock-invocationMetrics").is_some() {
            self.complete = true;
        }
        if let Some(text) =
            text_of(&paths.generated_text.search(&chunk), "").filter(|t| !t.is_empty())
        {
            out.push_text(&text);
            return FrameOutcome::Output;
        }
        let hidden = paths
            .reasoning_text
            .as_ref()
            .is_some_and(|p| text_of(&p.search(&chunk), "").is_some_and(|t| !t.is_empty()));
        if hidden {
            FrameOutcome::Hidden
        } else {
            FrameOutcome::Ignored
        }
    }

    fn on_body(&mut self, body: &[u8], out: &mut ParsedResponse) -> Result<(), String> {
        let parsed: Value = serde_json::from_slice(body)
            .map_err(|_| format!("invalid JSON response body: {}", byte_snippet(body)))?;
        if let Some(id) = parsed
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            out.id = Some(id.to_owned());
        }
        let paths = &self.config.paths;
        out.text = text_of(&paths.generated_text.search(&parsed), "\n");
        read_counts(paths, &parsed, out);
        Ok(())
    }

    fn complete_at_end(&self, end: StreamEnd) -> bool {
        self.complete && end == StreamEnd::Clean
    }

    fn truncated_message(&self, end: StreamEnd) -> String {
        let what = match end {
            StreamEnd::Clean => "",
            StreamEnd::Truncated => ", last message incomplete",
        };
        format!(
            "stream ended before the chunk with amazon-bedrock-invocationMetrics (truncated response{what})"
        )
    }

    fn http_error(&self, status: u16, _retry_after: Option<&str>, body: &[u8]) -> String {
        self.head.http_error(status, body, self.operation())
    }
}
