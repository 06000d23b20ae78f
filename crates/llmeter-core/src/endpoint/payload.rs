//! Payload rules shared by endpoint families: Python truthiness (LLMeter tests payload keys
//! that way), JSON type names for errors, LLMeter's prompt extraction from chat messages, and
//! the one set of lenient readers (over serde_json's `Value`) for wire values whose type varies
//! between servers.

use serde_json::{Map, Value};
use std::borrow::Cow;

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

/// A JSON object read from bytes; `None` when they are not JSON or another type of value.
pub fn json_object(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .filter(Value::is_object)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_readers_accept_what_servers_send() {
        let v = json!({"content": "hi", "id": "x", "n": 3});
        assert!(matches!(
            content_at(&v, "content"),
            Some(Cow::Borrowed("hi"))
        ));
        assert!(matches!(str_at(&v, "id"), Some(Cow::Borrowed("x"))));
        assert_eq!(count_at(&v, "n"), Some(3));
        let v = json!({"content": ["a", {"type": "text", "text": "b"}, {"type": "image"}], "id": 5, "n": -1});
        assert_eq!(content_at(&v, "content").as_deref(), Some("ab"));
        assert_eq!((str_at(&v, "id"), count_at(&v, "n")), (None, None));
        let v = json!({"content": {"x": [1]}, "id": null, "n": 1.5});
        assert_eq!(
            (
                content_at(&v, "content"),
                str_at(&v, "id"),
                count_at(&v, "n")
            ),
            (None, None, None)
        );
        assert_eq!(
            content_at(&json!({"content": "a\nb"}), "content").as_deref(),
            Some("a\nb")
        );
        assert_eq!(content_at(&json!({"content": []}), "content"), None);
    }

    #[test]
    fn objects_where_a_reader_needs_one() {
        let v = json!({"o": {"a": 1}, "n": null, "s": "x", "l": [1]});
        assert_eq!(object_at(&v, "o"), Some(Some(&json!({"a": 1}))));
        assert_eq!(object_at(&v, "n"), Some(None));
        assert_eq!(object_at(&v, "absent"), Some(None));
        assert_eq!(object_at(&v, "s"), None);
        assert_eq!(object_at(&v, "l"), None);
        assert_eq!(json_object(br#"{"a": 1}"#), Some(json!({"a": 1})));
        for not_an_object in [&b"[1]"[..], b"\"x\"", b"3", b"null", b"{", b""] {
            assert_eq!(
                json_object(not_an_object),
                None,
                "{:?}",
                String::from_utf8_lossy(not_an_object)
            );
        }
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
