//! Keeping credentials out of everything a run saves.

use serde_json::{Map, Value};

/// Whether a configuration key may hold a credential. Matched on the lower-cased name with `-`
/// read as `_`: anything containing `api_key`, `apikey`, `authorization`, `auth_token`, `secret`,
/// `password`, `credential`, `cookie`, `bearer` or `headers` (header maps can carry keys), AWS
/// credential names (`access_key`, `accessKeyId`, `sessionToken`), and names that are or end in
/// `key` / `token` (`session_token`; not `max_tokens`).
pub fn is_secret_key(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('-', "_");
    const PARTS: [&str; 13] = [
        "api_key",
        "apikey",
        "access_key",
        "accesskey",
        "sessiontoken",
        "authorization",
        "auth_token",
        "secret",
        "password",
        "credential",
        "cookie",
        "bearer",
        "headers",
    ];
    PARTS.iter().any(|p| n.contains(p))
        || n == "key"
        || n == "token"
        || n.ends_with("_key")
        || n.ends_with("_token")
}

/// Removes every key for which [`is_secret_key`] holds, at any depth (endpoint, tokenizer,
/// callbacks, …). Returns the removed keys as dotted paths, e.g. `endpoint.api_key`.
pub fn strip_secrets(map: &mut Map<String, Value>) -> Vec<String> {
    fn walk(value: &mut Value, path: &str, removed: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                let secret: Vec<String> =
                    map.keys().filter(|k| is_secret_key(k)).cloned().collect();
                for key in secret {
                    map.remove(&key);
                    removed.push(join_path(path, &key));
                }
                for (key, child) in map.iter_mut() {
                    walk(child, &join_path(path, key), removed);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    walk(child, &join_path(path, &i.to_string()), removed);
                }
            }
            _ => {}
        }
    }
    fn join_path(path: &str, key: &str) -> String {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    }
    let mut removed = Vec::new();
    let mut value = Value::Object(std::mem::take(map));
    walk(&mut value, "", &mut removed);
    if let Value::Object(m) = value {
        *map = m;
    }
    removed
}

/// Shortest value treated as a secret: redacting one- or two-letter values would garble every
/// message while protecting nothing.
pub const MIN_SECRET_LEN: usize = 6;
/// Replaces a secret in kept text.
pub const REDACTED: &str = "[redacted]";

/// The secret values of a run (API keys, tokens, secret header values): every error text and
/// every string the run keeps passes through [`Redactor::redact`] first, so no secret reaches a
/// result, store, export, upload, log or UI — also when an endpoint echoes it back.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is replaced whole.
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| s.chars().count() >= MIN_SECRET_LEN)
            .collect();
        // Stable insertion sort (a few secrets; no sort routine of its own in the wasm).
        for i in 1..secrets.len() {
            let mut j = i;
            while j > 0 && secrets[j - 1].len() < secrets[j].len() {
                secrets.swap(j - 1, j);
                j -= 1;
            }
        }
        secrets.dedup();
        Redactor { secrets }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Whether `text` holds a secret (whole, or cut off at its end as an excerpt would be).
    pub fn finds(&self, text: &str) -> bool {
        self.secrets
            .iter()
            .any(|s| text.contains(s.as_str()) || cut_secret_at_end(text, s).is_some())
    }

    /// `text` with every secret replaced by [`REDACTED`] — also one cut off by an excerpt's
    /// end (`sk-abc…`), of at least [`MIN_SECRET_LEN`] characters.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        for s in &self.secrets {
            if let Some(start) = cut_secret_at_end(&out, s) {
                let tail = if out.ends_with('…') { "…" } else { "" };
                out.truncate(start);
                out.push_str(REDACTED);
                out.push_str(tail);
            }
        }
        out
    }

    /// Redacts in place; true when something was replaced.
    pub fn redact_in_place(&self, text: &mut String) -> bool {
        if self.secrets.is_empty() || !self.finds(text) {
            return false;
        }
        *text = self.redact(text);
        true
    }
}

/// Where a prefix (≥ [`MIN_SECRET_LEN`] chars) of `secret` ends `text` (optionally followed by
/// the excerpt mark `…`).
fn cut_secret_at_end(text: &str, secret: &str) -> Option<usize> {
    let body = text.strip_suffix('…').unwrap_or(text);
    let mut best = None;
    for (i, _) in secret.char_indices().skip(MIN_SECRET_LEN) {
        if body.ends_with(&secret[..i]) {
            best = Some(body.len() - i);
        }
    }
    best
}

#[cfg(test)]
mod redaction_tests {
    use super::*;

    #[test]
    fn whole_and_cut_secrets_are_redacted() {
        let r = Redactor::new(["sk-live-1234567890".to_string(), "x".to_string()]);
        assert_eq!(
            r.redact("HTTP 401: invalid key sk-live-1234567890 (Bearer sk-live-1234567890)"),
            "HTTP 401: invalid key [redacted] (Bearer [redacted])"
        );
        // An excerpt cut inside the key.
        assert_eq!(r.redact("bad key: sk-live-12345…"), "bad key: [redacted]…");
        assert_eq!(r.redact("ends with sk-live"), "ends with [redacted]");
        // Short prefixes and short secrets are left alone.
        assert_eq!(r.redact("the word sk-l and x"), "the word sk-l and x");
        assert!(!r.finds("nothing here"));
        let mut s = "sk-live-1234567890".to_string();
        assert!(r.redact_in_place(&mut s));
        assert_eq!(s, "[redacted]");
    }

    #[test]
    fn a_secret_containing_another_goes_whole() {
        let r = Redactor::new(["abcdef".to_string(), "abcdefghij".to_string()]);
        assert_eq!(r.redact("k=abcdefghij"), "k=[redacted]");
    }
}
