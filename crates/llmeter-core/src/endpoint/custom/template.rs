//! A custom endpoint's payload template (`payloadTemplate`): the JSON body `createPayload`
//! builds, with every string that is exactly `"{{prompt}}"` replaced by the prompt and every
//! `"{{maxTokens}}"` by the number. Declarative, so the playground (which cannot run typed-in
//! code) and experiments that make their own prompts can build payloads. (Whole values only:
//! the core module's size budget has no room for a text-template engine.)

use crate::endpoint::UserMessage;
use crate::runner::{range_err, OptionError};
use serde_json::{Map, Value};

pub const PROMPT: &str = "{{prompt}}";
pub const MAX_TOKENS: &str = "{{maxTokens}}";

/// Checks a template: a JSON object with the prompt's placeholder somewhere in it.
pub fn check(template: &Value) -> Result<(), OptionError> {
    let text = match template {
        Value::Object(_) => crate::json::to_compact(template).unwrap_or_default(),
        _ => return Err(range_err("payloadTemplate", "must be a JSON object")),
    };
    if !text.contains("\"{{prompt}}\"") {
        return Err(range_err(
            "payloadTemplate",
            "has no \"{{prompt}}\" value: the prompt would not be sent",
        ));
    }
    Ok(())
}

/// The payload of a template for `message` (a list of strings joined by newlines), with `extra`
/// merged in at the top level.
pub fn fill(
    template: &Value,
    message: &UserMessage,
    max_tokens: u64,
    extra: &Map<String, Value>,
) -> Value {
    let prompt = match message {
        UserMessage::Text(t) => t.clone(),
        UserMessage::Parts(parts) => parts.join("\n"),
    };
    let mut out = template.clone();
    substitute(&mut out, &prompt, max_tokens);
    if let Value::Object(m) = &mut out {
        for (k, v) in extra {
            m.insert(k.clone(), v.clone());
        }
    }
    out
}

fn substitute(v: &mut Value, prompt: &str, max_tokens: u64) {
    match v {
        Value::String(s) if s == MAX_TOKENS => *v = Value::from(max_tokens),
        Value::String(s) if s == PROMPT => *s = prompt.to_owned(),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|x| substitute(x, prompt, max_tokens)),
        Value::Object(m) => m
            .values_mut()
            .for_each(|x| substitute(x, prompt, max_tokens)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_the_prompt_and_the_limit_as_a_number() {
        let t = json!({"prompt": "{{prompt}}", "max_new_tokens": "{{maxTokens}}", "stream": true,
            "messages": [{"content": "{{prompt}}"}], "note": "{{maxTokens}} tokens, {{prompt}}"});
        let mut extra = Map::new();
        extra.insert("format".into(), json!("ndjson"));
        let p = fill(&t, &UserMessage::Text("hi \"you\"".into()), 16, &extra);
        assert_eq!(
            p,
            json!({"prompt": "hi \"you\"", "max_new_tokens": 16, "stream": true,
                "messages": [{"content": "hi \"you\""}], "note": "{{maxTokens}} tokens, {{prompt}}",
                "format": "ndjson"}),
            "whole values only"
        );
        let parts = UserMessage::Parts(vec!["a".into(), "b".into()]);
        assert_eq!(fill(&t, &parts, 1, &Map::new())["prompt"], json!("a\nb"));
    }

    #[test]
    fn a_template_must_be_an_object_with_the_prompt() {
        assert!(check(&json!({"q": ["x", {"y": "{{prompt}}"}]})).is_ok());
        let e = check(&json!({"q": "{{maxTokens}}", "p": "Q: {{prompt}}"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "payloadTemplate: has no \"{{prompt}}\" value: the prompt would not be sent"
        );
        assert_eq!(
            check(&json!("{{prompt}}")).unwrap_err().to_string(),
            "payloadTemplate: must be a JSON object"
        );
    }
}
