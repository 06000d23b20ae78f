//! The declarative reading of a custom endpoint (`read: {text: "delta.text", …}`): instead of a
//! function, paths into each event's JSON data ([`crate::endpoint::json_path`], the subset of
//! JMESPath Bedrock InvokeModel's paths use; feature `json-paths`, so the AWS engine build: the
//! core module has no room for it). A path may be limited to one event type (the SSE
//! `event` field, or an event-stream message's `:event-type`) as `{event, path}`; an event type
//! alone (`{event: "end"}`) selects the event's raw data. JSON lines have no type (only untyped
//! paths read them); a whole body (`stream: false`) is read by every path, whatever its type.
//!
//! What each field makes of its value: `text` and `reasoning` a string (or strings, joined);
//! `id` a string or number; `inputTokens`, `outputTokens` a non-negative integer; `error` any
//! value but `null`, `false` and `""` fails the request (a string as it is, else its JSON);
//! `done` any value but `null` and `false` marks the response complete. Data that is not JSON
//! fails the request, except `[DONE]` (OpenAI-style streams), which marks it complete.

use super::{CustomEvent, CustomHooks, Reading};
use crate::endpoint::http::byte_snippet;
use crate::endpoint::json_path::{count_of, text_of, JsonPath};
use crate::runner::{range_err, type_err, OptionError};
use serde_json::Value;
use std::rc::Rc;

/// The fields of `read`, in [`ReadPaths::selectors`] order.
pub const FIELDS: [&str; 7] = [
    "text",
    "reasoning",
    "id",
    "inputTokens",
    "outputTokens",
    "error",
    "done",
];
const TEXT: usize = 0;

/// Where one field is read: events of one type (or all), a path (or the raw data).
#[derive(Debug, Clone, PartialEq)]
struct Selector {
    event: Option<String>,
    path: Option<JsonPath>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReadPaths {
    selectors: [Option<Selector>; 7],
}

impl ReadPaths {
    /// The `read` option's object; errors name the field (`read: text: …`).
    pub fn from_config(read: &Value) -> Result<ReadPaths, OptionError> {
        let Value::Object(map) = read else {
            return Err(type_err(
                "read",
                "must be a function, or an object of paths like {text: \"delta.text\"}",
            ));
        };
        let mut selectors: [Option<Selector>; 7] = Default::default();
        for (key, value) in map {
            let Some(slot) = FIELDS.iter().position(|f| f == key) else {
                return Err(range_err("read", format!("unknown field {key:?} (known: text, reasoning, id, inputTokens, outputTokens, error, done)")));
            };
            selectors[slot] =
                selector(value).map_err(|e| range_err("read", format!("{key}: {e}")))?;
        }
        if selectors[TEXT].is_none() {
            return Err(type_err(
                "read",
                "text: is required (the path of the output text)",
            ));
        }
        Ok(ReadPaths { selectors })
    }

    /// What one event (or a whole body) carried.
    pub fn read(&self, event: CustomEvent<'_>) -> Reading {
        // The event's type and data. A whole body has no type: its paths all apply, and the
        // selectors of an event type alone do not; JSON lines have none: untyped paths apply.
        let (kind, data, body): (Option<&str>, &[u8], bool) = match event {
            CustomEvent::Sse { event, data, .. } => (
                Some(if event.is_empty() { "message" } else { event }),
                data.as_bytes(),
                false,
            ),
            CustomEvent::Event {
                event_type,
                payload,
                ..
            } => (Some(event_type), payload, false),
            CustomEvent::Line(l) => (None, l, false),
            CustomEvent::Body(b) => (None, b, true),
            // Refused with the options (raw chunks are not events).
            CustomEvent::Bytes(_) => return Reading::default(),
        };
        let mut parsed: Option<Value> = None;
        let mut values: [Option<Value>; 7] = Default::default();
        for (slot, s) in self.selectors.iter().enumerate() {
            let Some(s) = s else { continue };
            let applies = match body {
                true => s.path.is_some(),
                false => s.event.is_none() || s.event.as_deref() == kind,
            };
            if !applies {
                continue;
            }
            values[slot] = Some(match &s.path {
                None => Value::String(String::from_utf8_lossy(data).into_owned()),
                Some(path) => {
                    let root = match &parsed {
                        Some(root) => root,
                        None => match parse_data(data) {
                            Ok(v) => parsed.insert(v),
                            // `[DONE]` (no error), or data no path can read.
                            Err(error) => {
                                return Reading {
                                    done: error.is_none(),
                                    error,
                                    ..Default::default()
                                }
                            }
                        },
                    };
                    path.search(root).into_owned()
                }
            });
        }
        let [text, reasoning, id, input, output, error, done] =
            values.map(|v| v.filter(|v| !v.is_null()));
        let mut r = Reading {
            text: text.and_then(|v| text_of(&v, "")),
            reasoning: reasoning
                .and_then(|v| text_of(&v, ""))
                .is_some_and(|t| !t.is_empty()),
            id: id.and_then(|v| match v {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
            error: error.and_then(|v| match v {
                Value::String(s) => (!s.is_empty()).then_some(s),
                Value::Bool(false) => None,
                other => crate::json::to_compact(&other).ok(),
            }),
            done: done.is_some_and(|v| v != Value::Bool(false)),
            ..Default::default()
        };
        r.usage.input = input.as_ref().and_then(count_of);
        r.usage.output = output.as_ref().and_then(count_of);
        r
    }
}

/// An event's data as JSON (blank data: `null`); else the request's error, or none for
/// `[DONE]`.
fn parse_data(data: &[u8]) -> Result<Value, Option<String>> {
    let trimmed = data.trim_ascii();
    if trimmed.is_empty() {
        return Ok(Value::Null);
    }
    // From text: the core's one JSON-to-Value parser reads `&str` (a byte-slice reader would add
    // a second copy of it to the wasm).
    let parsed = std::str::from_utf8(trimmed)
        .ok()
        .and_then(|t| serde_json::from_str(t).ok());
    parsed.ok_or_else(|| {
        (trimmed != b"[DONE]").then(|| format!("event data is not JSON: {}", byte_snippet(trimmed)))
    })
}

/// One field's selector: a path (`""`: not read), or `{event, path}` (either may be left out).
fn selector(value: &Value) -> Result<Option<Selector>, String> {
    let mut s = Selector {
        event: None,
        path: None,
    };
    match value {
        Value::Null => return Ok(None),
        Value::String(p) if p.is_empty() => return Ok(None),
        Value::String(p) => s.path = Some(JsonPath::parse(p)?),
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("event", Value::String(e)) if !e.is_empty() => s.event = Some(e.clone()),
                    ("path", Value::String(p)) if !p.is_empty() => {
                        s.path = Some(JsonPath::parse(p)?)
                    }
                    _ => return Err(SELECTOR.into()),
                }
            }
            if s.event.is_none() && s.path.is_none() {
                return Err(SELECTOR.into());
            }
        }
        _ => return Err(SELECTOR.into()),
    }
    Ok(Some(s))
}

const SELECTOR: &str =
    "must be a path (a string) or {event, path} (non-empty strings, at least one of them)";

/// The reading of a declarative custom endpoint: its paths, and the user's `request` function
/// when there is one.
pub struct PathReader {
    paths: ReadPaths,
    request: Option<Rc<dyn CustomHooks>>,
}

impl PathReader {
    pub fn new(paths: ReadPaths, request: Option<Rc<dyn CustomHooks>>) -> Self {
        PathReader { paths, request }
    }
}

impl CustomHooks for PathReader {
    fn body(&self, payload: &Value) -> Result<Option<Vec<u8>>, String> {
        match &self.request {
            Some(hooks) => hooks.body(payload),
            None => Ok(None),
        }
    }

    fn read(&self, event: CustomEvent<'_>) -> Result<Reading, String> {
        Ok(self.paths.read(event))
    }
}

#[cfg(test)]
mod tests;
