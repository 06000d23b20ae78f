//! Reading Chat Completions responses: the stream's `chat.completion.chunk` events and a whole
//! `chat.completion` body.
//!
//! Streaming timing: output is non-empty `choices[0].delta.content` (LLMeter's rule) or, our
//! extension, a tool-call delta with a name or arguments. Reasoning deltas (`reasoning_content`,
//! `reasoning`) and role-only chunks do not count.
//!
//! Events are read with borrowed strings and only the fields the rule needs; ignored fields are
//! skipped without being built, and `choices` is walked in place — no allocation per event
//! unless a text carries escapes. The common event (text, role, `finish_reason`, usage) is
//! read by a byte scanner ([`crate::json_scan`]); anything else by serde_json, which the scanner
//! must always agree with (`chunk_views`, checked by the `sse_openai` fuzz target).

use crate::endpoint::http::{api_error_message, byte_snippet, snippet};
use crate::endpoint::payload::{content_at, count_at, object_at, str_at};
use crate::endpoint::stream::{FrameOutcome, Protocol};
use crate::endpoint::ParsedResponse;
use crate::framing::{Frame, Framing, StreamEnd};
use crate::json_scan::{JsonStr, Scan};
use serde_json::Value;
use std::borrow::Cow;

pub struct ChatProtocol {
    stream: bool,
    /// A choice reported its `finish_reason`: the answer is complete even if `[DONE]` never
    /// comes (the openai SDK and LLMeter accept such streams).
    finished: bool,
}

impl ChatProtocol {
    pub fn new(stream: bool) -> Self {
        ChatProtocol {
            stream,
            finished: false,
        }
    }
}

#[derive(Default)]
struct StreamChunk<'a> {
    id: Option<Cow<'a, str>>,
    choices: Option<Choices<'a>>,
    usage: Option<Usage>,
    error: Option<&'a Value>,
    /// `"error"` in the unwrapped error objects some servers (older vLLM) stream.
    object: Option<Cow<'a, str>>,
    message: Option<Cow<'a, str>>,
}

/// What the rule needs of `choices`, gathered while walking the array.
#[derive(Default)]
struct Choices<'a> {
    /// `choices[0].delta.content` (LLMeter reads text from the first choice only).
    content: Option<JsonStr<'a>>,
    tool_output: bool,
    finished: bool,
}

/// An event as serde_json reads it, for what the scanner leaves (the rule: the scanner may only
/// agree with it). Text fields are lenient (another type reads as absent); `choices` must be an
/// array of objects, `delta`, `usage` and its details objects, or the event is malformed.
fn chunk_from_value(v: &Value) -> Option<StreamChunk<'_>> {
    if !v.is_object() {
        return None;
    }
    let choices = match v.get("choices") {
        None | Some(Value::Null) => None,
        Some(Value::Array(choices)) => Some(choices_from_values(choices)?),
        Some(_) => return None,
    };
    Some(StreamChunk {
        id: str_at(v, "id"),
        choices,
        usage: match object_at(v, "usage")? {
            Some(usage) => Some(Usage::from_value(usage)?),
            None => None,
        },
        error: v.get("error").filter(|e| !e.is_null()),
        object: str_at(v, "object"),
        message: str_at(v, "message"),
    })
}

fn choices_from_values(choices: &[Value]) -> Option<Choices<'_>> {
    let mut out = Choices::default();
    for (index, choice) in choices.iter().enumerate() {
        if !choice.is_object() {
            return None;
        }
        out.finished |= str_at(choice, "finish_reason").is_some();
        if let Some(delta) = object_at(choice, "delta")? {
            if index == 0 {
                out.content = content_at(delta, "content").map(JsonStr::decoded);
            }
            out.tool_output |= delta.get("tool_calls").is_some_and(tool_calls_carry_output);
        }
    }
    Some(out)
}

/// The common event read without serde: `None` leaves it to serde_json (see the module docs).
/// Only what serde would read the same way is accepted: each known key once, `error`,
/// `message` and `tool_calls` only as `null`, usage counts as plain digits, text fields as strings or `null`, choices and
/// deltas as objects.
fn scan_chunk(data: &str) -> Option<StreamChunk<'_>> {
    let mut scan = Scan::new(data);
    let mut chunk = StreamChunk::default();
    const FIELDS: [&str; 6] = ["id", "choices", "object", "usage", "error", "message"];
    scan.fields(&FIELDS, |field, s| {
        match field {
            0 => chunk.id = s.string_or_null()?,
            1 => {
                chunk.choices = if s.null()? {
                    None
                } else {
                    Some(scan_choices(s)?)
                }
            }
            2 => chunk.object = s.string_or_null()?,
            3 => {
                chunk.usage = if s.null()? {
                    None
                } else {
                    Some(scan_usage(s)?)
                }
            }
            _ => s.null()?.then_some(())?,
        }
        Some(())
    })?;
    scan.end()?;
    Some(chunk)
}

/// `usage` with counts as plain digits or `null`, its details objects or `null`.
fn scan_usage(s: &mut Scan<'_>) -> Option<Usage> {
    let mut usage = Usage::default();
    const FIELDS: [&str; 4] = [
        "prompt_tokens",
        "completion_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
    ];
    s.fields(&FIELDS, |field, s| {
        let (count, detail) = match field {
            0 => (&mut usage.prompt_tokens, None),
            1 => (&mut usage.completion_tokens, None),
            2 => (&mut usage.cached_tokens, Some("cached_tokens")),
            _ => (&mut usage.reasoning_tokens, Some("reasoning_tokens")),
        };
        match detail {
            None => *count = s.count_or_null()?,
            Some(key) if !s.null()? => s.fields(&[key], |_, s| {
                *count = s.count_or_null()?;
                Some(())
            })?,
            Some(_) => {}
        }
        Some(())
    })?;
    Some(usage)
}

fn scan_choices<'a>(s: &mut Scan<'a>) -> Option<Choices<'a>> {
    let mut out = Choices::default();
    s.array(|index, s| {
        s.fields(&["delta", "finish_reason"], |field, s| {
            if field == 1 {
                out.finished |= s.string_or_null()?.is_some();
                return Some(());
            }
            if s.null()? {
                return Some(());
            }
            s.fields(&["content", "tool_calls"], |field, s| {
                if field == 1 {
                    return s.null()?.then_some(());
                }
                let content = match s.next_kind()? {
                    b'"' => Some(s.json_str()?),
                    _ => s.null()?.then_some(None)?,
                };
                if index == 0 {
                    out.content = content;
                }
                Some(())
            })
        })
    })?;
    Some(out)
}

/// What an event means to the rule, read by the scanner (`None`: left to serde_json) and by
/// serde_json (`None`: malformed). Where the scanner reads an event, the two must be equal.
#[doc(hidden)]
pub fn chunk_views(data: &str) -> (Option<String>, Option<String>) {
    let view = |c: StreamChunk| {
        let choices = c
            .choices
            .map(|c| (c.content.map(JsonStr::into_cow), c.tool_output, c.finished));
        let usage = c.usage.map(|u| {
            (
                u.prompt_tokens,
                u.completion_tokens,
                u.cached_tokens,
                u.reasoning_tokens,
            )
        });
        format!("{:?}", (c.id, choices, usage, c.error, c.object, c.message))
    };
    (
        scan_chunk(data).map(view),
        serde_json::from_str::<Value>(data)
            .ok()
            .and_then(|v| chunk_from_value(&v).map(view)),
    )
}

/// OpenAI's `usage`; counts that are not non-negative integers are ignored.
#[derive(Default)]
pub(crate) struct Usage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    /// `prompt_tokens_details.cached_tokens`
    cached_tokens: Option<u64>,
    /// `completion_tokens_details.reasoning_tokens`
    reasoning_tokens: Option<u64>,
}

impl Usage {
    /// `None` when it or one of its details is not an object.
    fn from_value(usage: &Value) -> Option<Usage> {
        let details = |key, count| Some(object_at(usage, key)?.and_then(|d| count_at(d, count)));
        Some(Usage {
            prompt_tokens: count_at(usage, "prompt_tokens"),
            completion_tokens: count_at(usage, "completion_tokens"),
            cached_tokens: details("prompt_tokens_details", "cached_tokens")?,
            reasoning_tokens: details("completion_tokens_details", "reasoning_tokens")?,
        })
    }

    /// Copies the counts it reports into `out`.
    pub(crate) fn apply(&self, out: &mut ParsedResponse) {
        if let Some(n) = self.prompt_tokens {
            out.tokens_input = Some(n);
        }
        if let Some(n) = self.completion_tokens {
            out.tokens_output = Some(n);
        }
        if let Some(n) = self.cached_tokens {
            out.tokens_input_cached = Some(n);
        }
        if let Some(n) = self.reasoning_tokens {
            out.tokens_output_reasoning = Some(n);
        }
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

/// The message of an `event: error` event's data (JSON with an error, or plain text).
pub(crate) fn error_event_message(data: &str) -> String {
    match serde_json::from_str::<Value>(data) {
        Ok(v) => api_error_message(v.get("error").filter(|e| !e.is_null()).unwrap_or(&v)),
        Err(_) if data.is_empty() => "(no details)".into(),
        Err(_) => snippet(data),
    }
}

impl Protocol for ChatProtocol {
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
        if data == "[DONE]" {
            return FrameOutcome::Done;
        }
        if event.event_type() == "error" {
            return FrameOutcome::Error(format!(
                "API error mid-stream: {}",
                error_event_message(data)
            ));
        }
        if data.is_empty() {
            return FrameOutcome::Ignored; // e.g. a bare `data:` keep-alive
        }
        let value: Value;
        let chunk = match scan_chunk(data) {
            Some(chunk) => Some(chunk),
            None => match serde_json::from_str(data) {
                Ok(v) => {
                    value = v;
                    chunk_from_value(&value)
                }
                Err(_) => None,
            },
        };
        let Some(chunk) = chunk else {
            return FrameOutcome::Error(format!("malformed SSE event: {}", snippet(data)));
        };
        if out.id.is_none() {
            out.id = chunk.id.filter(|id| !id.is_empty()).map(Cow::into_owned);
        }
        if let Some(error) = chunk.error.filter(|e| !e.is_null()) {
            return FrameOutcome::Error(format!(
                "API error mid-stream: {}",
                api_error_message(error)
            ));
        }
        if chunk.object.as_deref() == Some("error") {
            let message = chunk
                .message
                .as_deref()
                .map_or_else(|| snippet(data), snippet);
            return FrameOutcome::Error(format!("API error mid-stream: {message}"));
        }
        if let Some(usage) = &chunk.usage {
            usage.apply(out);
        }
        let Some(choices) = chunk.choices else {
            return FrameOutcome::Ignored;
        };
        self.finished |= choices.finished;
        let mut output = choices.tool_output;
        if let Some(content) = choices.content.filter(|c| !c.is_empty()) {
            out.push_json_text(&content);
            output = true;
        }
        if output {
            FrameOutcome::Output
        } else {
            FrameOutcome::Ignored
        }
    }

    fn on_body(&mut self, body: &[u8], out: &mut ParsedResponse) -> Result<(), String> {
        let invalid = || format!("invalid JSON response body: {}", byte_snippet(body));
        let completion: Value = std::str::from_utf8(body)
            .ok()
            .and_then(|text| serde_json::from_str(text).ok())
            .filter(Value::is_object)
            .ok_or_else(invalid)?;
        // `choices[0].message.content`; `choices` an array whose first element is an object,
        // `message` an object, or the body is not a completion.
        let first_message = match completion.get("choices") {
            None | Some(Value::Null) => None,
            Some(Value::Array(choices)) => match choices.first() {
                Some(choice) if !choice.is_object() => return Err(invalid()),
                Some(choice) => Some(object_at(choice, "message").ok_or_else(invalid)?),
                None => None,
            },
            Some(_) => return Err(invalid()),
        };
        let usage = match object_at(&completion, "usage").ok_or_else(invalid)? {
            Some(usage) => Some(Usage::from_value(usage).ok_or_else(invalid)?),
            None => None,
        };
        if let Some(error) = completion.get("error").filter(|e| !e.is_null()) {
            return Err(format!("API error: {}", api_error_message(error)));
        }
        out.id = str_at(&completion, "id")
            .filter(|id| !id.is_empty())
            .map(Cow::into_owned);
        if let Some(usage) = &usage {
            usage.apply(out);
        }
        let Some(message) = first_message else {
            return Err(format!("response has no choices: {}", byte_snippet(body)));
        };
        out.text = message
            .and_then(|m| content_at(m, "content"))
            .map(Cow::into_owned);
        Ok(())
    }

    fn complete_without_done(&self) -> bool {
        self.finished
    }

    fn truncated_message(&self, end: StreamEnd) -> String {
        match end {
            StreamEnd::Clean => "stream ended before [DONE] (truncated response)".into(),
            StreamEnd::Truncated => {
                "stream ended before [DONE] (truncated response, last event incomplete)".into()
            }
        }
    }
}
