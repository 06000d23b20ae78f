//! Reading Chat Completions responses: the stream's `chat.completion.chunk` events and a whole
//! `chat.completion` body.
//!
//! Streaming timing: output is non-empty `choices[0].delta.content` (LLMeter's rule) or, our
//! extension, a tool-call delta with a name or arguments. Reasoning deltas (`reasoning_content`,
//! `reasoning`) and role-only chunks do not count.
//!
//! Events are read with borrowed strings and only the fields the rule needs; ignored fields are
//! skipped without being built, and `choices` is walked in place — no allocation per event
//! unless a text carries escapes. The common event (text, role, `finish_reason`, null usage) is
//! read by a byte scanner ([`crate::json_scan`]); anything else by serde_json, which the scanner
//! must always agree with (`chunk_views`, checked by the `sse_openai` fuzz target).

use crate::endpoint::http::{api_error_message, byte_snippet, snippet};
use crate::endpoint::payload::{lenient_content, lenient_str};
use crate::endpoint::stream::{FrameOutcome, Protocol};
use crate::endpoint::ParsedResponse;
use crate::framing::{Frame, Framing, StreamEnd};
use crate::json_scan::{JsonStr, Scan};
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

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

#[derive(Deserialize, Default)]
struct StreamChunk<'a> {
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    choices: Option<Choices<'a>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
    /// `"error"` in the unwrapped error objects some servers (older vLLM) stream.
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    object: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient_str")]
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

#[derive(Deserialize)]
struct StreamChoice<'a> {
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow, deserialize_with = "lenient_content")]
    content: Option<Cow<'a, str>>,
    #[serde(default)]
    tool_calls: Option<Value>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Choices<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Walk<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Walk<'a> {
            type Value = Choices<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of choices")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Choices::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Choices::default();
                let mut index = 0;
                while let Some(choice) = seq.next_element::<StreamChoice<'de>>()? {
                    out.finished |= choice.finish_reason.is_some();
                    if let Some(delta) = choice.delta {
                        if index == 0 {
                            out.content = delta.content.map(JsonStr::decoded);
                        }
                        out.tool_output |= delta
                            .tool_calls
                            .as_ref()
                            .is_some_and(tool_calls_carry_output);
                    }
                    index += 1;
                }
                Ok(out)
            }
        }
        d.deserialize_any(Walk(std::marker::PhantomData))
    }
}

/// The common event read without serde: `None` leaves it to serde_json (see the module docs).
/// Only what serde would read the same way is accepted: each known key once, `usage`, `error`,
/// `message` and `tool_calls` only as `null`, text fields as strings or `null`, choices and
/// deltas as objects.
fn scan_chunk(data: &str) -> Option<StreamChunk<'_>> {
    let mut scan = Scan::new(data);
    let mut chunk = StreamChunk::default();
    const FIELDS: [&str; 6] = ["id", "choices", "object", "usage", "error", "message"];
    scan.fields(&FIELDS, |field, s| {
        match field {
            0 => chunk.id = nullable_string(s)?,
            1 => {
                chunk.choices = if s.null()? {
                    None
                } else {
                    Some(scan_choices(s)?)
                }
            }
            2 => chunk.object = nullable_string(s)?,
            _ => s.null()?.then_some(())?,
        }
        Some(())
    })?;
    scan.end()?;
    Some(chunk)
}

fn nullable_string<'a>(s: &mut Scan<'a>) -> Option<Option<Cow<'a, str>>> {
    match s.next_kind()? {
        b'"' => Some(Some(s.string()?)),
        _ => s.null()?.then_some(None),
    }
}

fn scan_choices<'a>(s: &mut Scan<'a>) -> Option<Choices<'a>> {
    let mut out = Choices::default();
    s.array(|index, s| {
        s.fields(&["delta", "finish_reason"], |field, s| {
            if field == 1 {
                out.finished |= nullable_string(s)?.is_some();
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

/// What an event means to the rule, read by the scanner (`None`: left to serde) and by
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
                u.prompt_tokens_details
                    .map(|d| (d.cached_tokens, d.reasoning_tokens)),
                u.completion_tokens_details
                    .map(|d| (d.cached_tokens, d.reasoning_tokens)),
            )
        });
        format!("{:?}", (c.id, choices, usage, c.error, c.object, c.message))
    };
    (
        scan_chunk(data).map(view),
        serde_json::from_str::<StreamChunk>(data).ok().map(view),
    )
}

/// A whole `chat.completion` body: what the rule needs, read like the stream's chunks.
#[derive(Deserialize)]
struct Completion<'a> {
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default, borrow)]
    choices: Option<CompletionChoices<'a>>,
}

/// `choices[0].message` of a completion, if there is a first choice.
struct CompletionChoices<'a> {
    first_message: Option<CompletionMessage<'a>>,
}

#[derive(Deserialize, Default)]
struct CompletionMessage<'a> {
    #[serde(default, borrow, deserialize_with = "lenient_content")]
    content: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CompletionChoice<'a> {
    #[serde(default, borrow)]
    message: Option<CompletionMessage<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for CompletionChoices<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Walk<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Walk<'a> {
            type Value = CompletionChoices<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of choices")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let first = seq.next_element::<CompletionChoice<'de>>()?;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(CompletionChoices {
                    first_message: first.map(|c| c.message.unwrap_or_default()),
                })
            }
        }
        d.deserialize_seq(Walk(std::marker::PhantomData))
    }
}

/// OpenAI's `usage`; counts that are not non-negative integers are ignored.
#[derive(Deserialize, Default)]
pub(crate) struct Usage {
    #[serde(default, deserialize_with = "crate::endpoint::payload::lenient_count")]
    prompt_tokens: Option<u64>,
    #[serde(default, deserialize_with = "crate::endpoint::payload::lenient_count")]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<Details>,
    #[serde(default)]
    completion_tokens_details: Option<Details>,
}

#[derive(Deserialize, Default)]
struct Details {
    #[serde(default, deserialize_with = "crate::endpoint::payload::lenient_count")]
    cached_tokens: Option<u64>,
    #[serde(default, deserialize_with = "crate::endpoint::payload::lenient_count")]
    reasoning_tokens: Option<u64>,
}

impl Usage {
    /// Copies the counts it reports into `out`.
    pub(crate) fn apply(&self, out: &mut ParsedResponse) {
        if let Some(n) = self.prompt_tokens {
            out.tokens_input = Some(n);
        }
        if let Some(n) = self.completion_tokens {
            out.tokens_output = Some(n);
        }
        if let Some(n) = self
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
        {
            out.tokens_input_cached = Some(n);
        }
        if let Some(n) = self
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
        {
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
        let chunk = match scan_chunk(data).map_or_else(|| serde_json::from_str(data), Ok) {
            Ok(chunk) => chunk,
            Err(_) => {
                return FrameOutcome::Error(format!("malformed SSE event: {}", snippet(data)))
            }
        };
        if out.id.is_none() {
            out.id = chunk.id.filter(|id| !id.is_empty()).map(Cow::into_owned);
        }
        if let Some(error) = chunk.error.filter(|e| !e.is_null()) {
            return FrameOutcome::Error(format!(
                "API error mid-stream: {}",
                api_error_message(&error)
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
        let text = std::str::from_utf8(body).map_err(|_| invalid())?;
        let completion: Completion = serde_json::from_str(text).map_err(|_| invalid())?;
        if let Some(error) = completion.error.filter(|e| !e.is_null()) {
            return Err(format!("API error: {}", api_error_message(&error)));
        }
        out.id = completion
            .id
            .filter(|id| !id.is_empty())
            .map(Cow::into_owned);
        if let Some(usage) = &completion.usage {
            usage.apply(out);
        }
        let Some(message) = completion.choices.and_then(|c| c.first_message) else {
            return Err(format!("response has no choices: {}", byte_snippet(body)));
        };
        out.text = message.content.map(Cow::into_owned);
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
