//! An endpoint whose request body and event reading are the user's own functions (the JS API's
//! `CustomEndpoint`): any HTTP API with any streaming format the framing module reads (SSE,
//! JSON lines, raw bytes). The engine keeps everything else: it stamps every arrival before the
//! user's code runs, applies the TTFT/TTLT rule per network chunk, bounds buffers, turns HTTP
//! failures into errors and keeps secrets (every header value) out of what it records.
//!
//! The user's functions come in through [`CustomHooks`] (implemented over JS functions by the
//! wasm bindings; natively by tests). What a reading function returns for one event is a
//! [`Reading`], checked here with errors that name the bad key.

use super::openai::chat_payload;
use super::payload::{json_type, messages_prompt};
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

/// The framings a custom endpoint can name (`framing` option), and how each is written.
pub const FRAMINGS: [(&str, Framing); 3] = [
    ("sse", Framing::Sse),
    ("json-lines", Framing::JsonLines),
    ("bytes", Framing::Raw),
];

/// The HTTP methods a custom endpoint can use.
pub const METHODS: [&str; 4] = ["POST", "PUT", "PATCH", "GET"];

#[derive(Clone, PartialEq)]
pub struct CustomConfig {
    pub url: String,
    pub method: &'static str,
    /// Every header sent; all values are treated as secrets (never recorded).
    pub headers: Vec<(String, String)>,
    pub stream: bool,
    pub framing: Framing,
    pub ttft_visible_tokens_only: bool,
    /// A stream is complete only once a reading said `done` (else: when the body ends).
    pub require_done: bool,
    pub info: EndpointInfo,
}

impl fmt::Debug for CustomConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("CustomConfig")
            .field("url", &self.url)
            .field("method", &self.method)
            .field("headers", &header_names)
            .field("stream", &self.stream)
            .field("framing", &self.framing)
            .field("ttft_visible_tokens_only", &self.ttft_visible_tokens_only)
            .field("require_done", &self.require_done)
            .field("info", &self.info)
            .finish()
    }
}

/// One message of a response, as handed to the user's reading function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CustomEvent<'a> {
    /// An SSE event: its `event` field (empty for the default), data and last event id.
    Sse {
        event: &'a str,
        data: &'a str,
        id: &'a str,
    },
    /// One line of a JSON-lines body (without its terminator).
    Line(&'a [u8]),
    /// One network chunk of a `bytes` body.
    Bytes(&'a [u8]),
    /// The whole body of a non-streaming response.
    Body(&'a [u8]),
}

/// Token counts a reading reports; each one given replaces the previous value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadingUsage {
    pub input: Option<u64>,
    pub output: Option<u64>,
    pub input_cached: Option<u64>,
    pub output_reasoning: Option<u64>,
}

/// What one event carried, as the user's function says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// Visible output text: a TTFT/TTLT point when non-empty.
    pub text: Option<String>,
    /// Hidden output (reasoning): a TTFT point only with `ttftVisibleTokensOnly: false`.
    pub reasoning: bool,
    /// The response id (the first one given is kept).
    pub id: Option<String>,
    pub usage: ReadingUsage,
    /// The request failed with this message.
    pub error: Option<String>,
    /// The response is complete.
    pub done: bool,
}

const READING_KEYS: &str = "text, reasoning, id, usage, error, done";
const USAGE_KEYS: &str = "input, output, inputCached, outputReasoning";

impl Reading {
    /// Reads a reading function's result (`null` means "nothing here"). Every key is checked,
    /// so a typo is an error naming it rather than a silently ignored value.
    pub fn from_json(value: &Value) -> Result<Reading, String> {
        let map = match value {
            Value::Null => return Ok(Reading::default()),
            Value::Object(m) => m,
            other => return Err(format!(
                "must return an object like {{text, usage, id, error, done}} or nothing, got {}",
                json_type(other)
            )),
        };
        let mut r = Reading::default();
        for (key, v) in map {
            if v.is_null() {
                continue;
            }
            match key.as_str() {
                "text" => match v {
                    Value::String(s) => r.text = Some(s.clone()),
                    other => {
                        return Err(format!(
                            "returned text as {}: must be a string",
                            json_type(other)
                        ))
                    }
                },
                "reasoning" => match v {
                    Value::Bool(b) => r.reasoning = *b,
                    Value::String(s) => r.reasoning = !s.is_empty(),
                    other => {
                        return Err(format!(
                            "returned reasoning as {}: must be a boolean or the reasoning text",
                            json_type(other)
                        ))
                    }
                },
                "id" => match v {
                    Value::String(s) => r.id = Some(s.clone()),
                    Value::Number(n) => r.id = Some(n.to_string()),
                    other => {
                        return Err(format!(
                            "returned id as {}: must be a string",
                            json_type(other)
                        ))
                    }
                },
                "error" => {
                    r.error = Some(match v {
                        Value::String(s) if !s.is_empty() => s.clone(),
                        Value::String(_) => "(empty error)".into(),
                        Value::Bool(false) => continue,
                        other => other.to_string(),
                    })
                }
                "done" => match v {
                    Value::Bool(b) => r.done = *b,
                    other => {
                        return Err(format!(
                            "returned done as {}: must be a boolean",
                            json_type(other)
                        ))
                    }
                },
                "usage" => r.usage = usage_from_json(v)?,
                other => {
                    return Err(format!(
                        "returned an unknown key {other:?} (known: {READING_KEYS})"
                    ))
                }
            }
        }
        Ok(r)
    }
}

fn usage_from_json(value: &Value) -> Result<ReadingUsage, String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "returned usage as {}: must be an object like {{input, output}}",
            json_type(value)
        ));
    };
    let mut u = ReadingUsage::default();
    for (key, v) in map {
        let slot = match key.as_str() {
            "input" => &mut u.input,
            "output" => &mut u.output,
            "inputCached" => &mut u.input_cached,
            "outputReasoning" => &mut u.output_reasoning,
            other => {
                return Err(format!(
                    "returned an unknown usage key {other:?} (known: {USAGE_KEYS})"
                ))
            }
        };
        *slot = match v {
            Value::Null => None,
            Value::Number(n) => match n.as_u64() {
                Some(n) => Some(n),
                None => {
                    return Err(format!(
                        "returned usage.{key} = {n}: must be a non-negative integer"
                    ))
                }
            },
            other => {
                return Err(format!(
                    "returned usage.{key} as {}: must be a non-negative integer",
                    json_type(other)
                ))
            }
        };
    }
    Ok(u)
}

/// The user's functions. Errors are messages; the endpoint says which function failed.
pub trait CustomHooks {
    /// The request body for a payload (`request` option; default: the payload as JSON).
    fn body(&self, payload: &Value) -> Result<Vec<u8>, String>;
    /// The human-readable prompt of a payload (`prompt` option; `None`: the default rule).
    fn prompt(&self, payload: &Value) -> Result<Option<String>, String>;
    /// What one event carried (`read` option).
    fn read(&self, event: CustomEvent<'_>) -> Result<Reading, String>;
    /// LLMeter-style `create_payload` (`createPayload` option; `None`: the default rule).
    fn create_payload(
        &self,
        message: &UserMessage,
        max_tokens: u64,
        extra: &Map<String, Value>,
    ) -> Result<Option<Value>, String>;
}

/// Shows the config (header names only), not the functions.
impl fmt::Debug for CustomEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomEndpoint")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

pub struct CustomEndpoint {
    config: CustomConfig,
    hooks: Rc<dyn CustomHooks>,
    response_headers: Rc<[String]>,
}

impl CustomEndpoint {
    pub fn new(config: CustomConfig, hooks: Rc<dyn CustomHooks>) -> Self {
        CustomEndpoint {
            config,
            hooks,
            response_headers: Rc::from(["content-type".to_string(), "retry-after".to_string()]),
        }
    }

    pub fn config(&self) -> &CustomConfig {
        &self.config
    }
}

/// The default prompt: chat `messages` (LLMeter's rule), else a `prompt`, `input` or `inputs`
/// string, else none.
pub fn default_prompt(payload: &Value) -> Option<String> {
    if payload.get("messages").is_some() {
        return Some(messages_prompt(payload));
    }
    ["prompt", "input", "inputs"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(Value::as_str))
        .map(str::to_owned)
}

impl Endpoint for CustomEndpoint {
    fn info(&self) -> EndpointInfo {
        self.config.info.clone()
    }

    fn prepare(&self, payload: &Value) -> Result<PreparedPayload, EndpointError> {
        let body = self
            .hooks
            .body(payload)
            .map_err(|e| EndpointError::Payload(format!("custom endpoint request(): {e}")))?;
        let prompt = match self
            .hooks
            .prompt(payload)
            .map_err(|e| EndpointError::Payload(format!("custom endpoint prompt(): {e}")))?
        {
            Some(p) => Some(p),
            None => default_prompt(payload),
        };
        Ok(PreparedPayload {
            body: body.into(),
            input_payload: Rc::new(payload.clone()),
            input_prompt: prompt.map(Rc::from),
        })
    }

    fn request(
        &self,
        prepared: &PreparedPayload,
        _now_unix_ms: f64,
    ) -> Result<HttpRequest, EndpointError> {
        Ok(HttpRequest {
            url: self.config.url.clone(),
            method: self.config.method,
            headers: self.config.headers.clone(),
            body: (self.config.method != "GET").then(|| prepared.body.clone()),
            response_headers: self.response_headers.clone(),
        })
    }

    fn parser(&self, limits: ParseLimits) -> Box<dyn ResponseParser> {
        Box::new(StreamParser::new(
            CustomProtocol {
                hooks: self.hooks.clone(),
                stream: self.config.stream,
                framing: self.config.framing,
                require_done: self.config.require_done,
                done_seen: false,
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
        match self.hooks.create_payload(message, max_tokens, extra) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Ok(chat_payload(message, max_tokens, extra)),
            Err(e) => Err(EndpointError::Payload(format!(
                "custom endpoint createPayload(): {e}"
            ))),
        }
    }

    fn secrets(&self) -> Vec<String> {
        self.config.headers.iter().map(|(_, v)| v.clone()).collect()
    }
}

struct CustomProtocol {
    hooks: Rc<dyn CustomHooks>,
    stream: bool,
    framing: Framing,
    require_done: bool,
    done_seen: bool,
}

impl CustomProtocol {
    /// Applies a reading's id and usage; returns its error, if any.
    fn apply(reading: &mut Reading, out: &mut ParsedResponse) -> Option<String> {
        if out.id.is_none() {
            out.id = reading.id.take().filter(|id| !id.is_empty());
        }
        let u = &reading.usage;
        for (slot, value) in [
            (&mut out.tokens_input, u.input),
            (&mut out.tokens_output, u.output),
            (&mut out.tokens_input_cached, u.input_cached),
            (&mut out.tokens_output_reasoning, u.output_reasoning),
        ] {
            if value.is_some() {
                *slot = value;
            }
        }
        reading.error.take()
    }
}

impl Protocol for CustomProtocol {
    fn framing(&self) -> Framing {
        self.framing
    }

    fn streaming(&self) -> bool {
        self.stream
    }

    /// A custom stream is read as the framing says whatever its content type (an API may
    /// stream JSON lines as `application/json`).
    fn is_whole_body(&self, _content_type: Option<&str>) -> bool {
        !self.stream
    }

    fn on_frame(&mut self, frame: Frame<'_>, out: &mut ParsedResponse) -> FrameOutcome {
        let event = match frame {
            Frame::Sse(e) => CustomEvent::Sse {
                event: e.event,
                data: e.data,
                id: e.id,
            },
            Frame::Line(l) => CustomEvent::Line(l),
            Frame::Bytes(b) => CustomEvent::Bytes(b),
        };
        let mut reading = match self.hooks.read(event) {
            Ok(r) => r,
            Err(e) => return FrameOutcome::Error(format!("custom endpoint read(): {e}")),
        };
        if let Some(error) = Self::apply(&mut reading, out) {
            return FrameOutcome::Error(error);
        }
        self.done_seen |= reading.done;
        if let Some(text) = reading.text.filter(|t| !t.is_empty()) {
            out.push_text(&text);
            FrameOutcome::Output
        } else if reading.reasoning {
            FrameOutcome::Hidden
        } else if reading.done {
            FrameOutcome::Done
        } else {
            FrameOutcome::Ignored
        }
    }

    fn on_body(&mut self, body: &[u8], out: &mut ParsedResponse) -> Result<(), String> {
        let mut reading = self
            .hooks
            .read(CustomEvent::Body(body))
            .map_err(|e| format!("custom endpoint read(): {e}"))?;
        if let Some(error) = Self::apply(&mut reading, out) {
            return Err(error);
        }
        out.text = reading.text;
        Ok(())
    }

    fn complete_without_done(&self) -> bool {
        !self.require_done || self.done_seen
    }
}

#[cfg(test)]
mod tests;
