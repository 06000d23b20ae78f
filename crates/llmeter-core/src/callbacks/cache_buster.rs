//! The cache buster of LLMeter's user guide (reference §11.4): `before_invoke` prefixes the
//! first message's text with a unique tag, `[req-<uuid4>] `, so that implicit prompt caching
//! cannot serve a payload that is sent many times. String content gets the prefix; a list of
//! content blocks gets it on the first block that has a `text`. Payloads without `messages`
//! (the Responses API's `input`, a plain `prompt` or `inputs`) get it on that string, or on the
//! first message's text inside `input`.
//!
//! The tags come from a seeded generator (the run's seed): unique within a run, reproducible
//! across runs with the same seed — and no crypto RNG in the module.

use super::{Callback, HookFuture};
use crate::rng::SplitMix64;
use serde_json::Value;
use std::cell::RefCell;

pub struct CacheBuster {
    rng: RefCell<SplitMix64>,
}

impl CacheBuster {
    pub fn new(seed: u64) -> Self {
        CacheBuster {
            rng: RefCell::new(SplitMix64::new(seed ^ 0x00C4_C4E0_B057_E500)),
        }
    }

    /// A UUID version 4 in its canonical text form.
    fn uuid4(&self) -> String {
        let mut rng = self.rng.borrow_mut();
        let (a, b) = (rng.next_u64(), rng.next_u64());
        let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000; // version 4
        let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000; // RFC 4122 variant
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFFF,
            b >> 48,
            b & 0xFFFF_FFFF_FFFF
        )
    }

    /// Prefixes the payload's first text with a fresh tag; `false` if it has no text to tag.
    pub fn bust(&self, payload: &mut Value) -> bool {
        let Some(text) = first_text(payload) else {
            return false;
        };
        let tag = format!("[req-{}] ", self.uuid4());
        text.insert_str(0, &tag);
        true
    }
}

/// The string to prefix: the first message's content (or its first block with `text`).
fn first_text(payload: &mut Value) -> Option<&mut String> {
    let obj = payload.as_object_mut()?;
    if obj.get("messages").is_some_and(Value::is_array) {
        let first = obj.get_mut("messages")?.as_array_mut()?.first_mut()?;
        return content_text(first.get_mut("content")?);
    }
    let key = ["input", "prompt", "inputs"]
        .into_iter()
        .find(|k| matches!(obj.get(*k), Some(Value::String(_) | Value::Array(_))))?;
    match obj.get_mut(key)? {
        Value::String(s) => Some(s),
        Value::Array(messages) => content_text(messages.first_mut()?.get_mut("content")?),
        _ => None,
    }
}

fn content_text(content: &mut Value) -> Option<&mut String> {
    match content {
        Value::String(s) => Some(s),
        Value::Array(blocks) => blocks.iter_mut().find_map(|b| match b.get_mut("text") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }),
        _ => None,
    }
}

impl Callback for CacheBuster {
    fn has_before_invoke(&self) -> bool {
        true
    }
    fn before_invoke<'a>(&'a self, payload: &'a mut Value) -> HookFuture<'a> {
        self.bust(payload);
        Box::pin(futures::future::ready(Ok(())))
    }
    fn name(&self) -> String {
        "CacheBuster".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tag_of(s: &str) -> &str {
        &s[..s.find("] ").unwrap() + 2]
    }

    #[test]
    fn prefixes_the_first_text() {
        let b = CacheBuster::new(1);
        let mut p = json!({"messages": [{"role": "user", "content": "hello"}, {"role": "user", "content": "x"}]});
        assert!(b.bust(&mut p));
        let text = p["messages"][0]["content"].as_str().unwrap();
        assert!(
            text.ends_with("] hello") && text.starts_with("[req-"),
            "{text}"
        );
        let uuid = &text[5..41];
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert!("89ab".contains(&uuid[19..20]));
        assert_eq!(p["messages"][1]["content"], json!("x"));

        let mut blocks = json!({"messages": [{"role": "user", "content": [{"image": {}}, {"text": "a"}, {"text": "b"}]}]});
        assert!(b.bust(&mut blocks));
        assert!(blocks["messages"][0]["content"][1]["text"]
            .as_str()
            .unwrap()
            .ends_with("] a"));
        assert_eq!(blocks["messages"][0]["content"][2]["text"], json!("b"));

        let mut input = json!({"input": "q"});
        assert!(b.bust(&mut input));
        let mut none = json!({"max_tokens": 3});
        assert!(!b.bust(&mut none));
    }

    #[test]
    fn tags_are_unique_and_seeded() {
        let (a, b) = (CacheBuster::new(5), CacheBuster::new(5));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let mut p = json!({"prompt": "x"});
            a.bust(&mut p);
            let mut q = json!({"prompt": "x"});
            b.bust(&mut q);
            assert_eq!(p, q);
            assert!(seen.insert(tag_of(p["prompt"].as_str().unwrap()).to_string()));
        }
    }
}
