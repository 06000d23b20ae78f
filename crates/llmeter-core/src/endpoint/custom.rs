//! An endpoint whose request body and event reading are the user's own (the JS API's
//! `CustomEndpoint`): any HTTP API with any streaming format the framing module reads (SSE,
//! JSON lines, AWS event-stream, raw bytes). The engine keeps everything else: it stamps every
//! arrival before the user's code runs, applies the TTFT/TTLT rule per network chunk, bounds
//! buffers, turns HTTP failures (and event-stream exceptions) into errors and keeps secrets
//! (every header value) out of what it records.
//!
//! The user's functions come in through [`CustomHooks`] (implemented over JS functions by the
//! wasm bindings; natively by tests). What a reading function returns for one event is a
//! [`Reading`], checked here with errors that name the bad key. The declarative form needs no
//! function (the playground cannot run typed-in code): a payload template ([`template`]) and
//! paths into each event's JSON ([`paths`]).

use super::http::standard_response_headers;
use super::openai::checked_chat_payload;
use super::payload::messages_prompt;
#[cfg(feature = "event-stream")]
use super::stream::event_stream_failure;
use super::stream::{FrameOutcome, Protocol, StreamParser};
use super::{
    Endpoint, EndpointError, EndpointInfo, ParseLimits, ParsedResponse, PreparedPayload,
    ResponseParser, UserMessage,
};
use crate::framing::{Frame, Framing, StreamEnd};
use crate::transport::HttpRequest;
use serde_json::{Map, Value};
use std::fmt;
use std::rc::Rc;

/// The framings a custom endpoint can name (`framing` option).
pub const FRAMINGS: [(&str, Framing); 4] = [
    ("sse", Framing::Sse),
    ("json-lines", Framing::JsonLines),
    ("event-stream", Framing::EventStream),
    ("bytes", Framing::Raw),
];

/// The framing a (checked) `framing` name stands for.
pub fn framing_named(name: &str) -> Framing {
    FRAMINGS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(Framing::Sse, |(_, f)| *f)
}

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
    /// What `create_payload` builds (`payloadTemplate`), placeholders filled in.
    pub payload_template: Option<Value>,
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
            .field("payload_template", &self.payload_template)
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
    /// One AWS event-stream `event` message: its `:event-type` and `:message-type` headers and
    /// payload (exception messages never get here: they fail the request).
    Event {
        event_type: &'a str,
        message_type: &'a str,
        payload: &'a [u8],
    },
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

/// What one event carried, as the user's function says (checked by the JS API, which names
/// any bad key).
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

/// The user's functions. Errors are messages; the endpoint says which function failed.
pub trait CustomHooks {
    /// The request body for a payload (`request` option; `None`: the payload as JSON).
    fn body(&self, payload: &Value) -> Result<Option<Vec<u8>>, String>;
    /// What one event carried (`read` option).
    fn read(&self, event: CustomEvent<'_>) -> Result<Reading, String>;
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
            response_headers: standard_response_headers(),
        }
    }

    pub fn config(&self) -> &CustomConfig {
        &self.config
    }
}

/// The prompt of a payload (for input-token counts when the API reports none): chat
/// `messages` (LLMeter's rule), else a `prompt`, `input` or `inputs` string, else none.
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
        let body = match self
            .hooks
            .body(payload)
            .map_err(|e| EndpointError::Payload(format!("custom endpoint request(): {e}")))?
        {
            Some(body) => body,
            None => crate::json::to_compact(payload)
                .map_err(|e| EndpointError::Payload(format!("payload cannot be serialised: {e}")))?
                .into_bytes(),
        };
        Ok(PreparedPayload {
            body: body.into(),
            input_payload: Rc::new(payload.clone()),
            input_prompt: default_prompt(payload).map(Rc::from),
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
            Box::new(CustomProtocol {
                hooks: self.hooks.clone(),
                stream: self.config.stream,
                framing: self.config.framing,
                require_done: self.config.require_done,
                done_seen: false,
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
        // A user's own `createPayload` runs in the JS API; else the template, else the chat shape.
        match &self.config.payload_template {
            Some(t) => Ok(template::fill(t, message, max_tokens, extra)),
            None => checked_chat_payload(message, max_tokens, extra),
        }
    }

    /// Every header value but the media types (`content-type`, `accept`): redacting
    /// `application/json` from a run's texts would hide nothing and garble them.
    fn secrets(&self) -> Vec<String> {
        let media = |name: &str| {
            ["content-type", "accept"]
                .iter()
                .any(|m| name.eq_ignore_ascii_case(m))
        };
        self.config
            .headers
            .iter()
            .filter(|(name, _)| !media(name))
            .map(|(_, v)| v.clone())
            .collect()
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
            #[cfg(feature = "event-stream")]
            Frame::Event(m) => {
                // As the AWS endpoints: an exception message fails the request, in AWS's words.
                if let Some((code, text)) = event_stream_failure(&m) {
                    return FrameOutcome::Error(match (code.is_empty(), text.is_empty()) {
                        (false, false) => format!("{code}: {text}"),
                        (true, _) => text,
                        (false, true) => code.to_owned(),
                    });
                }
                CustomEvent::Event {
                    event_type: m.event_type().unwrap_or(""),
                    message_type: m.message_type().unwrap_or(""),
                    payload: m.payload,
                }
            }
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

    /// An event stream has no end marker: a message cut off at the end is a truncation.
    fn complete_at_end(&self, end: StreamEnd) -> bool {
        (end == StreamEnd::Clean || self.framing != Framing::EventStream)
            && self.complete_without_done()
    }
}

#[cfg(feature = "json-paths")]
pub mod paths;
pub mod template;
#[cfg(test)]
mod tests;
