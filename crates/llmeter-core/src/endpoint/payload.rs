//! Payload rules shared by endpoint families: Python truthiness (LLMeter tests payload keys
//! that way), JSON type names for errors, LLMeter's prompt extraction from chat messages, and
//! lenient readers for wire values whose type varies between servers.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// Python truthiness, as LLMeter tests e.g. `payload.get("stream_options")`.
pub fn is_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An extra key left out of a payload when its value passes the test.
pub type SkipKey<'a> = (&'a str, fn(&Value) -> bool);

/// A `create_payload` result: `{<first key>: first, <limit key>: max_tokens, **extra}`, where
/// an extra `skip` key is left out when `skip`'s test says so (LLMeter adds some optional
/// arguments only when set).
pub fn user_payload(
    first: (&str, Value),
    limit_key: &str,
    max_tokens: u64,
    extra: &Map<String, Value>,
    skip: Option<SkipKey>,
) -> Value {
    let mut out = Map::new();
    out.insert(first.0.into(), first.1);
    out.insert(limit_key.into(), Value::from(max_tokens));
    for (k, v) in extra {
        if skip.is_some_and(|(key, test)| k == key && test(v)) {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// LLMeter's prompt extraction for chat-style bodies: [`message_texts`] of `messages` (`""`
/// without messages, as LLMeter).
pub fn messages_prompt(body: &Value) -> String {
    message_texts(body.get("messages"))
}

/// LLMeter's prompt extraction over a list of messages (Chat Completions, the Responses API's
/// `input`, Anthropic's `messages`): every non-empty string content, and each part of a list
/// content that is a string or has a string `text`, joined by `\n`.
pub fn message_texts(messages: Option<&Value>) -> String {
    let mut texts: Vec<&str> = Vec::new();
    for message in messages.and_then(Value::as_array).into_iter().flatten() {
        match message.get("content") {
            Some(Value::String(s)) if !s.is_empty() => texts.push(s),
            Some(Value::Array(parts)) => texts.extend(parts.iter().filter_map(|p| match p {
                Value::String(s) => Some(s.as_str()),
                other => other.get("text").and_then(Value::as_str),
            })),
            _ => {}
        }
    }
    texts.join("\n")
}

/// The text of a `{"type": "text", "text": …}` content part.
pub fn text_part(part: &Value) -> Option<&str> {
    (part.get("type").and_then(Value::as_str) == Some("text"))
        .then(|| part.get("text").and_then(Value::as_str))
        .flatten()
}

/// Text of a `content` value: a string, or (some compatible servers) an array of text parts.
pub fn content_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let mut text = String::new();
            let mut any = false;
            for part in parts {
                let piece = match part {
                    Value::String(s) => Some(s.as_str()),
                    other => text_part(other),
                };
                if let Some(p) = piece {
                    text.push_str(p);
                    any = true;
                }
            }
            any.then_some(text)
        }
        _ => None,
    }
}

/// A string at `key`, read leniently: any other JSON type, or none, reads as `None` (servers
/// differ in what they put there).
pub fn str_at<'v>(v: &'v Value, key: &str) -> Option<Cow<'v, str>> {
    v.get(key).and_then(Value::as_str).map(Cow::Borrowed)
}

/// A count at `key`: non-negative integers only, anything else is `None`.
pub fn count_at(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// A `content` at `key`: a string, or an array of strings / text parts (joined); else `None`.
pub fn content_at<'v>(v: &'v Value, key: &str) -> Option<Cow<'v, str>> {
    match v.get(key)? {
        Value::String(s) => Some(Cow::Borrowed(s)),
        other => content_text(other).map(Cow::Owned),
    }
}

/// An object at `key`, where a reader needs one: `Some(None)` when absent or null, `None` (the
/// event is malformed) for any other type.
pub fn object_at<'v>(v: &'v Value, key: &str) -> Option<Option<&'v Value>> {
    match v.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(o @ Value::Object(_)) => Some(Some(o)),
        Some(_) => None,
    }
}

/// A string field read leniently and without copying when it has no escapes: any other JSON
/// type reads as `None` (servers differ in what they put there).
pub fn lenient_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    d.deserialize_any(LenientText { parts: false })
}

/// A `content` field: a string, or an array of strings / text parts (joined); else `None`.
pub fn lenient_content<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    d.deserialize_any(LenientText { parts: true })
}

/// A count read leniently: non-negative integers only, anything else is `None`.
pub fn lenient_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match <Value as serde::Deserialize>::deserialize(d)? {
        Value::Number(n) => n.as_u64(),
        _ => None,
    })
}

struct LenientText {
    /// Also accept an array of text parts.
    parts: bool,
}

impl<'de> Visitor<'de> for LenientText {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !self.parts {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(None);
        }
        let mut text = String::new();
        let mut any = false;
        while let Some(part) = seq.next_element::<Value>()? {
            let piece = match &part {
                Value::String(s) => Some(s.as_str()),
                other => text_part(other),
            };
            if let Some(p) = piece {
                text.push_str(p);
                any = true;
            }
        }
        Ok(any.then_some(Cow::Owned(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(default, borrow, deserialize_with = "lenient_content")]
        content: Option<Cow<'a, str>>,
        #[serde(default, borrow, deserialize_with = "lenient_str")]
        id: Option<Cow<'a, str>>,
        #[serde(default, deserialize_with = "lenient_count")]
        n: Option<u64>,
    }

    #[test]
    fn lenient_readers_accept_what_servers_send() {
        let p: Probe = serde_json::from_str(r#"{"content": "hi", "id": "x", "n": 3}"#).unwrap();
        assert!(matches!(p.content, Some(Cow::Borrowed("hi"))));
        assert!(matches!(p.id, Some(Cow::Borrowed("x"))));
        assert_eq!(p.n, Some(3));
        let p: Probe = serde_json::from_str(
            r#"{"content": ["a", {"type": "text", "text": "b"}, {"type": "image"}], "id": 5, "n": -1}"#,
        )
        .unwrap();
        assert_eq!(p.content.as_deref(), Some("ab"));
        assert_eq!(p.id, None);
        assert_eq!(p.n, None);
        let p: Probe =
            serde_json::from_str(r#"{"content": {"x": [1]}, "id": null, "n": 1.5}"#).unwrap();
        assert_eq!((p.content, p.id, p.n), (None, None, None));
        let p: Probe = serde_json::from_str(r#"{"content": "a\nb"}"#).unwrap();
        assert_eq!(p.content.as_deref(), Some("a\nb"));
    }

    #[test]
    fn prompt_joins_strings_and_text_parts() {
        let body = json!({"messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}, {"type": "text", "text": "b"}]},
        ]});
        assert_eq!(messages_prompt(&body), "sys\na\nb");
        assert_eq!(messages_prompt(&json!({"input": "x"})), "");
    }
}
