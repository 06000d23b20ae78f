//! A small subset of JMESPath, enough for the paths LLMeter's Bedrock InvokeModel and SageMaker
//! endpoints are configured with (`choices[0].delta.content`, `messages[].content[].text`,
//! `"amazon-bedrock-invocationMetrics".inputTokenCount`), and the paths a declarative custom
//! endpoint reads its events with (`read: {text: "delta.text", …}`, [`super::custom::paths`]):
//!
//! * `name` or `"quoted name"` — a key of an object (quoted names may hold any character; `\"`
//!   and `\\` escape), joined by `.`;
//! * `[N]`, `[-N]` — an array element (negative counts from the end);
//! * `[]` — flatten: the array's elements (arrays among them are spliced in), and everything
//!   after it applies to each element (a projection); `null` results are dropped.
//!
//! Anything missing gives `null`, as in JMESPath. Paths are parsed once, when the endpoint is
//! built; a path outside this subset is an option error that points at the offending character.

use serde_json::Value;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(i64),
    Flatten,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    source: String,
    steps: Vec<Step>,
}

impl JsonPath {
    pub fn parse(source: &str) -> Result<JsonPath, String> {
        // Read as bytes (what delimits steps is ASCII; keys keep any UTF-8 whole): smaller in the
        // wasm than a Vec<char>. Errors count characters.
        let b = source.as_bytes();
        let mut steps = Vec::new();
        let mut i = 0;
        let err = |at: usize, what: &str| {
            Err(format!(
                "{what} at character {} of {source:?} (supported: keys, \"quoted keys\", [N], [] joined by .)",
                source.get(..at).map_or(at, |s| s.chars().count()) + 1
            ))
        };
        // `expect_key`: a key must come next (start, or after a dot).
        let mut expect_key = true;
        while i < b.len() {
            let c = b[i];
            if c == b'[' {
                if expect_key && !steps.is_empty() {
                    return err(i, "'[' right after '.'");
                }
                let close = match b[i..].iter().position(|&c| c == b']') {
                    Some(p) => i + p,
                    None => return err(i, "unclosed '['"),
                };
                let inner = source[i + 1..close].trim();
                if inner.is_empty() {
                    steps.push(Step::Flatten);
                } else {
                    match inner.parse::<i64>() {
                        Ok(n) => steps.push(Step::Index(n)),
                        Err(_) => return err(i + 1, "expected an integer or nothing in [...]"),
                    }
                }
                i = close + 1;
                expect_key = false;
            } else if c == b'.' {
                if expect_key {
                    return err(i, "unexpected '.'");
                }
                i += 1;
                expect_key = true;
            } else if expect_key && c == b'"' {
                let mut key = Vec::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return err(i, "unclosed quoted key"),
                        Some(b'"') => break,
                        Some(b'\\') => match b.get(i + 1) {
                            Some(&e @ (b'"' | b'\\')) => {
                                key.push(e);
                                i += 2;
                            }
                            _ => return err(i, "unsupported escape"),
                        },
                        Some(&c) => {
                            key.push(c);
                            i += 1;
                        }
                    }
                }
                i += 1;
                // Whole characters of a `&str` minus ASCII escapes: still UTF-8.
                steps.push(Step::Key(String::from_utf8(key).unwrap_or_default()));
                expect_key = false;
            } else if expect_key && (c.is_ascii_alphabetic() || c == b'_') {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                steps.push(Step::Key(source[start..i].to_owned()));
                expect_key = false;
            } else {
                let c = source[i..].chars().next().unwrap_or('?');
                return err(i, &format!("unexpected {c:?}"));
            }
        }
        if expect_key {
            return err(b.len().saturating_sub(1), "path is empty or ends with '.'");
        }
        Ok(JsonPath {
            source: source.to_owned(),
            steps,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The value at this path (`null` when absent; an array after a `[]`).
    pub fn search<'a>(&self, root: &'a Value) -> Cow<'a, Value> {
        let mut current: Cow<'a, Value> = Cow::Borrowed(root);
        let mut projected: Option<Vec<Value>> = None;
        for step in &self.steps {
            if let Some(items) = projected.as_mut() {
                *items = match step {
                    Step::Flatten => flatten(items.iter()),
                    _ => items
                        .iter()
                        .filter_map(|v| apply(v, step).filter(|v| !v.is_null()).cloned())
                        .collect(),
                };
                continue;
            }
            match step {
                Step::Flatten => match current.as_ref() {
                    Value::Array(items) => projected = Some(flatten(items.iter())),
                    _ => return Cow::Owned(Value::Null),
                },
                _ => {
                    current = match current {
                        Cow::Borrowed(v) => match apply(v, step) {
                            Some(v) => Cow::Borrowed(v),
                            None => return Cow::Owned(Value::Null),
                        },
                        Cow::Owned(v) => match apply(&v, step) {
                            Some(v) => Cow::Owned(v.clone()),
                            None => return Cow::Owned(Value::Null),
                        },
                    }
                }
            }
        }
        match projected {
            Some(items) => Cow::Owned(Value::Array(items)),
            None => current,
        }
    }
}

fn apply<'v>(value: &'v Value, step: &Step) -> Option<&'v Value> {
    match (step, value) {
        (Step::Key(k), Value::Object(m)) => m.get(k),
        (Step::Index(i), Value::Array(a)) => {
            let i = if *i < 0 { a.len() as i64 + i } else { *i };
            usize::try_from(i).ok().and_then(|i| a.get(i))
        }
        _ => None,
    }
}

/// One level of flattening, nulls dropped.
fn flatten<'v>(items: impl Iterator<Item = &'v Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::Array(inner) => out.extend(inner.iter().filter(|v| !v.is_null()).cloned()),
            Value::Null => {}
            other => out.push(other.clone()),
        }
    }
    out
}

/// Text of a path result: a string, or the strings of an array (and the `text` of objects in
/// it, for content blocks) joined with `separator`; `None` for anything else.
pub fn text_of(value: &Value, separator: &str) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let texts: Vec<&str> = items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.as_str()),
                    Value::Object(o) => o.get("text").and_then(Value::as_str),
                    _ => None,
                })
                .collect();
            (!texts.is_empty() || items.is_empty()).then(|| texts.join(separator))
        }
        _ => None,
    }
}

/// A token count at a path: a non-negative integer, else `None`.
pub fn count_of(value: &Value) -> Option<u64> {
    value.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn search(path: &str, v: &Value) -> Value {
        JsonPath::parse(path).unwrap().search(v).into_owned()
    }

    #[test]
    fn llmeters_default_paths() {
        let chunk = json!({"choices": [{"delta": {"content": "hi"}}], "amazon-bedrock-invocationMetrics": {"inputTokenCount": 7, "outputTokenCount": 3}});
        assert_eq!(search("choices[0].delta.content", &chunk), json!("hi"));
        assert_eq!(
            search(
                "\"amazon-bedrock-invocationMetrics\".inputTokenCount",
                &chunk
            ),
            json!(7)
        );
        let payload = json!({"messages": [
            {"role": "user", "content": [{"text": "a", "type": "text"}, {"type": "image"}]},
            {"role": "user", "content": [{"text": "b", "type": "text"}]},
        ]});
        assert_eq!(
            search("messages[].content[].text", &payload),
            json!(["a", "b"])
        );
        assert_eq!(search("messages[-1].content[0].text", &payload), json!("b"));
        assert_eq!(search("messages[5].content", &payload), Value::Null);
        assert_eq!(search("inputs", &json!({"inputs": "x"})), json!("x"));
        assert_eq!(
            search("a[]", &json!({"a": [[1, 2], null, 3]})),
            json!([1, 2, 3])
        );
        assert_eq!(
            search("a[][]", &json!({"a": [[[1], [2]], [[3]]]})),
            json!([1, 2, 3])
        );
        assert_eq!(search("a[].b", &json!({"a": 5})), Value::Null);
        assert_eq!(search("\"q\\\"k\"", &json!({"q\"k": 1})), json!(1));
        assert_eq!(search("\"é\".x[0]", &json!({"é": {"x": [2]}})), json!(2));
    }

    #[test]
    fn bad_paths_name_the_character() {
        for (bad, at) in [
            ("", "character 1"),
            ("a.", "character 2"),
            ("a..b", "character 3"),
            ("a[x]", "character 3"),
            ("a[0", "character 2"),
            ("a|b", "character 2"),
            ("\"open", "character 6"),
            ("a.[0]", "character 3"),
            ("1a", "character 1"),
            ("\"é\".ü", "character 5"),
        ] {
            let e = JsonPath::parse(bad).unwrap_err();
            assert!(e.contains(at), "{bad:?}: {e}");
        }
    }

    #[test]
    fn texts_and_counts() {
        assert_eq!(text_of(&json!("a"), "\n").as_deref(), Some("a"));
        assert_eq!(text_of(&json!(["a", "b"]), "\n").as_deref(), Some("a\nb"));
        assert_eq!(
            text_of(&json!([{"text": "a"}, {"image": 1}, "b"]), "").as_deref(),
            Some("ab")
        );
        assert_eq!(text_of(&json!([]), "").as_deref(), Some(""));
        assert_eq!(text_of(&json!([1]), ""), None);
        assert_eq!(text_of(&json!(3), ""), None);
        assert_eq!(count_of(&json!(3)), Some(3));
        assert_eq!(count_of(&json!(-1)), None);
        assert_eq!(count_of(&json!("3")), None);
    }
}
