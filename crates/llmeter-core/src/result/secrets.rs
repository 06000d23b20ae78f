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
