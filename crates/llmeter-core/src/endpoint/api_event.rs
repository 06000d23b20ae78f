//! A borrowed view of one JSON event of OpenAI's Responses API and Anthropic's Messages API,
//! for the per-token events: the `type` and the `delta`, read without allocating (other fields
//! are skipped unread). The few other events a family reads (a response's id and usage, a
//! message's usage, an error) are parsed again as JSON values by the family.
//!
//! `delta` is a string in one format ([`TextEvent`]) and an object in the other
//! ([`BlockEvent`]).

use super::payload::lenient_str;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// A Responses API event: its type and (text deltas) the delta text.
#[derive(Deserialize)]
pub(crate) struct TextEvent<'a> {
    #[serde(default, rename = "type", borrow, deserialize_with = "lenient_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    pub delta: Option<Cow<'a, str>>,
}

/// A Messages API event: its type and (block deltas) the delta object.
#[derive(Deserialize)]
pub(crate) struct BlockEvent<'a> {
    #[serde(default, rename = "type", borrow, deserialize_with = "lenient_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub delta: Option<BlockDelta<'a>>,
}

#[derive(Deserialize)]
pub(crate) struct BlockDelta<'a> {
    #[serde(default, rename = "type", borrow, deserialize_with = "lenient_str")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    pub text: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    pub partial_json: Option<Cow<'a, str>>,
}

/// The whole event as a JSON value, for the events whose other fields a family reads (the
/// data already parsed once, so it is valid JSON).
pub(crate) fn event_value(data: &str) -> Value {
    serde_json::from_str(data).unwrap_or(Value::Null)
}

/// A token count at `key` of a usage object: non-negative integers only.
pub(crate) fn count(usage: &Value, key: &str) -> Option<u64> {
    usage.get(key).and_then(Value::as_u64)
}
