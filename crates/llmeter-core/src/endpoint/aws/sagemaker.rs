//! SageMaker InvokeEndpoint (`POST /endpoints/{name}/invocations`) and
//! InvokeEndpointWithResponseStream (`/invocations-response-stream`), as LLMeter's
//! `SageMakerEndpoint` / `SageMakerStreamEndpoint`, for TGI and LMI (DJL) containers.
//!
//! A stream is an event stream of `PayloadPart` events whose raw bytes, joined, are lines: TGI's
//! `data:{"token":{"text":…},…}` (server-sent-event style) or LMI's JSON lines
//! `{"token":{"text":…}}`. A line may be split across parts. Every token line is output (LLMeter
//! times the first token line whatever its text); output tokens are the final line's
//! `details.generated_tokens`, else the number of token lines; a line with `error` fails the
//! request with that text; lines that are not JSON are skipped (as LLMeter).
//!
//! Where LLMeter is wrong, this is right (docs/AWS.md): the non-streaming TTLT is the time to
//! the end of the body (LLMeter records a raw `perf_counter()` value), the id is the request id
//! (LLMeter generates one), and the prompt is read from the payload (`inputs`), so input tokens
//! are counted from it (LLMeter's prompt is always null, which its tokenizer counts as 1).

use super::{json_body, message_items, path_label, stream_error, AwsHead, AwsRequester, AwsTarget};
use crate::endpoint::http::{byte_snippet, payload_object};
use crate::endpoint::json_path::{count_of, text_of, JsonPath};
use crate::endpoint::payload::{count_at, json_object, json_type, object_at, str_at};
use crate::endpoint::stream::{FrameOutcome, Protocol, StreamParser};
use crate::endpoint::{
    Endpoint, EndpointError, EndpointInfo, ParseLimits, ParsedResponse, PreparedPayload,
    ResponseParser, UserMessage,
};
use crate::framing::json_lines::JsonLinesDecoder;
use crate::framing::{Frame, Framing, StreamEnd};
use crate::transport::{HttpRequest, ResponseHead};
use serde_json::{json, Map, Value};
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq)]
pub struct SageMakerConfig {
    pub target: AwsTarget,
    /// The SageMaker endpoint's name (in the path; LLMeter's `endpoint_name`).
    pub endpoint_name: String,
    /// Recorded as `model_id`.
    pub model: String,
    pub stream: bool,
    /// LLMeter's `generated_text_jmespath` (non-streaming text), default `generated_text`.
    pub generated_text: JsonPath,
    /// LLMeter's `input_text_jmespath`, default `inputs`.
    pub input_text: JsonPath,
    /// LLMeter's `token_count_jmespath` (non-streaming output tokens), default
    /// `details.generated_tokens`.
    pub token_count: Option<JsonPath>,
    /// Whether only visible text sets TTFT (`ttftVisibleTokensOnly`, default true). TGI and LMI
    /// lines carry no hidden reasoning, so this changes nothing today; every family takes it.
    pub ttft_visible_tokens_only: bool,
}

impl SageMakerConfig {
    pub fn default_paths() -> (JsonPath, JsonPath, JsonPath) {
        let parse = |p: &str| JsonPath::parse(p).unwrap_or_else(|e| unreachable!("{e}"));
        (
            parse("generated_text"),
            parse("inputs"),
            parse("details.generated_tokens"),
        )
    }
}

#[derive(Debug)]
pub struct SageMakerEndpoint {
    config: Rc<SageMakerConfig>,
    requester: AwsRequester,
}

impl SageMakerEndpoint {
    pub fn new(config: SageMakerConfig) -> Self {
        let operation = if config.stream {
            "invocations-response-stream"
        } else {
            "invocations"
        };
        let path = format!(
            "/endpoints/{}/{operation}",
            path_label(&config.endpoint_name)
        );
        let requester = AwsRequester::new(
            config.target.clone(),
            "sagemaker",
            "runtime.sagemaker",
            &path,
            &[("content-type", "application/json")],
        );
        SageMakerEndpoint {
            config: Rc::new(config),
            requester,
        }
    }
}

impl Endpoint for SageMakerEndpoint {
    fn info(&self) -> EndpointInfo {
        let c = &self.config;
        EndpointInfo::of_family(
            ("SageMakerStreamEndpoint", "SageMakerEndpoint"),
            c.stream,
            &Some(c.endpoint_name.clone()),
            &c.model,
            &Some("sagemaker".into()),
        )
    }

    fn prepare(&self, payload: &Value) -> Result<PreparedPayload, EndpointError> {
        let mut body = payload_object(payload, "the container's request body")?;
        if self.config.stream {
            // LLMeter's SageMakerStreamEndpoint.prepare_payload.
            if let Some(Value::Object(parameters)) = body.get_mut("parameters") {
                parameters.remove("decoder_input_details");
            }
            if !body.contains_key("stream") {
                body.insert("stream".into(), Value::Bool(true));
            }
        }
        let body = Value::Object(body);
        let prompt = text_of(&self.config.input_text.search(&body), "\n");
        Ok(PreparedPayload {
            body: json_body(&body)?,
            input_prompt: prompt.map(Rc::from),
            input_payload: Rc::new(body),
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
            Box::new(SageMakerProtocol {
                config: self.config.clone(),
                head: AwsHead::default(),
                lines: JsonLinesDecoder::with_limit(limits.max_event_bytes),
                token_lines: 0,
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
        sagemaker_payload(message, max_tokens, extra, self.config.stream)
    }

    fn secrets(&self) -> Vec<String> {
        self.requester.secrets()
    }
}

/// LLMeter's `SageMaker(Stream)Endpoint.create_payload`: `inputs` (one text, or text blocks),
/// `parameters` (`max_new_tokens`, `details: true`, then `extra.inference_parameters` — LLMeter's
/// `inference_parameters` argument), `"stream": true` for the stream class, then the other extra
/// keys.
pub fn sagemaker_payload(
    message: &UserMessage,
    max_tokens: u64,
    extra: &Map<String, Value>,
    stream: bool,
) -> Result<Value, EndpointError> {
    let items = message_items(message)?;
    let inputs = match items.as_slice() {
        [one] => json!(one),
        many => Value::Array(many.iter().map(|t| json!({ "text": t })).collect()),
    };
    let mut parameters = Map::new();
    parameters.insert("max_new_tokens".into(), json!(max_tokens));
    parameters.insert("details".into(), json!(true));
    match extra.get("inference_parameters") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => parameters.extend(p.clone()),
        Some(other) => {
            return Err(EndpointError::Payload(format!(
                "inference_parameters must be an object, got {}",
                json_type(other)
            )))
        }
    }
    let mut out = Map::new();
    out.insert("inputs".into(), inputs);
    out.insert("parameters".into(), Value::Object(parameters));
    if stream {
        out.insert("stream".into(), json!(true));
    }
    for (k, v) in extra {
        if k != "inference_parameters" {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(out))
}

struct SageMakerProtocol {
    config: Rc<SageMakerConfig>,
    head: AwsHead,
    /// The lines inside the payload parts.
    lines: JsonLinesDecoder,
    token_lines: u64,
}

impl SageMakerProtocol {
    fn operation(&self) -> &'static str {
        if self.config.stream {
            "InvokeEndpointWithResponseStream"
        } else {
            "InvokeEndpoint"
        }
    }
}

/// What one line of a payload stream said.
enum LineOutcome {
    Token,
    Error(String),
    Other,
}

fn read_line(line: &[u8], token_lines: &mut u64, out: &mut ParsedResponse) -> LineOutcome {
    let line = line.trim_ascii();
    let json = line.strip_prefix(b"data:").unwrap_or(line);
    // LLMeter skips lines that are not JSON objects, and so lines whose `token` or `details`
    // is not an object.
    let Some(parsed) = json_object(json) else {
        return LineOutcome::Other;
    };
    let (Some(token), Some(details)) = (object_at(&parsed, "token"), object_at(&parsed, "details"))
    else {
        return LineOutcome::Other;
    };
    if let Some(error) = parsed
        .get("error")
        .filter(|e| crate::endpoint::payload::is_truthy(e))
    {
        return LineOutcome::Error(match error {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    let Some(token) = token else {
        return LineOutcome::Other;
    };
    *token_lines += 1;
    if let Some(text) = str_at(token, "text") {
        out.push_text(&text);
    }
    // LLMeter keeps the last line's `details`: its `generated_tokens` (0 when absent), else
    // the number of token lines.
    out.tokens_output = Some(match details {
        Some(details) => count_at(details, "generated_tokens").unwrap_or(0),
        None => *token_lines,
    });
    LineOutcome::Token
}

impl Protocol for SageMakerProtocol {
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
        if message.event_type() != Some("PayloadPart") {
            return FrameOutcome::Ignored;
        }
        let Self {
            lines, token_lines, ..
        } = self;
        let mut outcome = FrameOutcome::Ignored;
        let fed = lines.feed(message.payload, &mut |line| {
            if matches!(outcome, FrameOutcome::Error(_)) {
                return;
            }
            match read_line(line, token_lines, out) {
                LineOutcome::Token => outcome = FrameOutcome::Output,
                LineOutcome::Error(e) => outcome = FrameOutcome::Error(e),
                LineOutcome::Other => {}
            }
        });
        if let Err(e) = fed {
            return FrameOutcome::Error(e.to_string());
        }
        outcome
    }

    fn on_body(&mut self, body: &[u8], out: &mut ParsedResponse) -> Result<(), String> {
        let parsed: Value = serde_json::from_slice(body)
            .map_err(|_| format!("invalid JSON response body: {}", byte_snippet(body)))?;
        out.text = text_of(&self.config.generated_text.search(&parsed), "\n");
        if let Some(path) = &self.config.token_count {
            out.tokens_output = count_of(&path.search(&parsed));
        }
        Ok(())
    }

    fn complete_at_end(&self, end: StreamEnd) -> bool {
        // No end marker: complete when the last event-stream message arrived whole (TGI and
        // LMI end every line with a newline; an unterminated last line is not read).
        end == StreamEnd::Clean
    }

    fn http_error(&self, status: u16, _retry_after: Option<&str>, body: &[u8]) -> String {
        self.head.http_error(status, body, self.operation())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lines_are_read_leniently_and_other_lines_skipped() {
        let (mut lines, mut out) = (0, ParsedResponse::default());
        macro_rules! read {
            ($line:expr) => {
                read_line($line.as_bytes(), &mut lines, &mut out)
            };
        }
        assert!(matches!(
            read!(r#"data:{"token":{"id":1,"text":"Hel","special":false}}"#),
            LineOutcome::Token
        ));
        assert!(matches!(
            read!(r#"{"token":{"text":"lo"}}"#),
            LineOutcome::Token
        ));
        // A token of another type of text still counts as a token line.
        assert!(matches!(
            read!(r#"{"token":{"text":7}}"#),
            LineOutcome::Token
        ));
        // Not JSON objects, or `token`/`details` not objects: skipped, as LLMeter.
        for skipped in [
            "data: not json",
            "[1]",
            r#""x""#,
            r#"{"token":"x"}"#,
            r#"{"token":{"text":"x"},"details":5}"#,
            r#"{"generated_text":"x"}"#,
        ] {
            assert!(matches!(read!(skipped), LineOutcome::Other), "{skipped}");
        }
        assert_eq!(lines, 3);
        assert_eq!(out.text.as_deref(), Some("Hello"));
        assert_eq!(
            out.tokens_output,
            Some(3),
            "no details: the number of token lines"
        );
        assert!(matches!(
            read!(r#"{"token":{"text":""},"details":{"generated_tokens":12}}"#),
            LineOutcome::Token
        ));
        assert_eq!(out.tokens_output, Some(12));
        assert!(matches!(
            read!(r#"{"token":{"text":""},"details":{"generated_tokens":"12"}}"#),
            LineOutcome::Token
        ));
        assert_eq!(
            out.tokens_output,
            Some(0),
            "details without a count: 0, as LLMeter"
        );
        // An error (truthy) fails the request with its text; a null or empty one does not.
        assert!(
            matches!(read!(r#"{"error":"overloaded"}"#), LineOutcome::Error(e) if e == "overloaded")
        );
        assert!(
            matches!(read!(r#"{"error":{"code":1}}"#), LineOutcome::Error(e) if e == r#"{"code":1}"#)
        );
        assert!(matches!(
            read!(r#"{"error":null,"token":{"text":"!"}}"#),
            LineOutcome::Token
        ));
        assert!(matches!(read!(r#"{"error":""}"#), LineOutcome::Other));
    }
}
