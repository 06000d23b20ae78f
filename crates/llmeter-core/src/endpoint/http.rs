//! What every HTTP endpoint shares: how a non-2xx answer becomes an error message, how much of
//! a body is kept, and how excerpts are quoted.

use super::payload::json_type;
use super::{EndpointError, PreparedPayload};
use crate::transport::HttpRequest;
use serde_json::{Map, Value};
use std::rc::Rc;

/// The response headers every JSON API's parser reads.
pub fn standard_response_headers() -> Rc<[String]> {
    Rc::from(["content-type".to_string(), "retry-after".to_string()])
}

/// Request headers of a JSON API: `content-type`, the credential header when there is a key,
/// the endpoint's own, then the user's (a same-named user header replaces a default: fetch
/// would join duplicates into one value).
pub fn json_headers(
    credential: Option<(&str, String)>,
    own: &[(&str, &str)],
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some((name, value)) = credential {
        headers.push((name.to_string(), value));
    }
    headers.extend(own.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    merge_headers(headers, extra)
}

/// The secrets of a JSON API endpoint: its key and every extra header value (a header may carry
/// a credential under any name).
pub fn key_and_header_secrets(
    api_key: &Option<String>,
    extra_headers: &[(String, String)],
) -> Vec<String> {
    let mut secrets: Vec<String> = api_key.iter().cloned().collect();
    secrets.extend(extra_headers.iter().map(|(_, v)| v.clone()));
    secrets
}

/// `defaults` with the user's headers added; a same-named user header replaces a default (fetch
/// would join duplicates into one value).
pub fn merge_headers(
    mut defaults: Vec<(String, String)>,
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    for (name, value) in extra {
        defaults.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        defaults.push((name.clone(), value.clone()));
    }
    defaults
}

/// A copy of a payload object, or the per-request error naming the request `what` expects.
pub fn payload_object(payload: &Value, what: &str) -> Result<Map<String, Value>, EndpointError> {
    match payload {
        Value::Object(fields) => Ok(fields.clone()),
        other => Err(EndpointError::Payload(format!(
            "payload must be a JSON object ({what}), got {}",
            json_type(other)
        ))),
    }
}

/// A JSON body made ready to send: serialised once, recorded as sent, with its prompt.
pub fn prepared_json(
    body: Map<String, Value>,
    prompt: fn(&Value) -> String,
) -> Result<PreparedPayload, EndpointError> {
    let body = Value::Object(body);
    let text = crate::json::to_compact(&body)
        .map_err(|e| EndpointError::Payload(format!("payload cannot be serialised: {e}")))?;
    Ok(PreparedPayload {
        body: text.into_bytes().into(),
        input_prompt: Some(prompt(&body).into()),
        input_payload: Rc::new(body),
    })
}

/// `POST url` with a prepared body.
pub fn post(
    url: &str,
    headers: &[(String, String)],
    prepared: &PreparedPayload,
    response_headers: &Rc<[String]>,
) -> HttpRequest {
    HttpRequest {
        url: url.to_owned(),
        method: "POST",
        headers: headers.to_vec(),
        body: Some(prepared.body.clone()),
        response_headers: response_headers.clone(),
    }
}

/// Kept of a non-2xx body: enough for any API error JSON.
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Kept of a streaming body until its first event, to explain a body that is not a stream.
pub const STREAM_PREFIX_LIMIT: usize = 1024;
/// Characters of a body or event quoted in an error message.
pub const SNIPPET_CHARS: usize = 200;

/// `true` for `application/json` and `*/*+json` media types.
pub fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() >= 5
            && essence.is_char_boundary(essence.len() - 5)
            && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"))
}

/// `HTTP 429 Too Many Requests: <detail> (retry-after: 20)`.
pub fn http_error_message(
    status: u16,
    retry_after: Option<&str>,
    detail: Option<String>,
) -> String {
    let mut message = format!("HTTP {status}");
    if let Some(reason) = reason_phrase(status) {
        message.push(' ');
        message.push_str(reason);
    }
    if let Some(detail) = detail {
        message.push_str(": ");
        message.push_str(&detail);
    }
    if let Some(retry_after) = retry_after.filter(|v| !v.is_empty()) {
        message.push_str(&format!(" (retry-after: {retry_after})"));
    }
    message
}

/// The message of a JSON error body (`{"error":{"message":…}}`, `{"error": "…"}`, or the
/// `message` / `Message` / `detail` keys other servers use), else an excerpt of the body.
pub fn error_body_detail(body: &[u8]) -> Option<String> {
    let parsed = std::str::from_utf8(body)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(t).ok());
    if let Some(Value::Object(obj)) = parsed {
        let message = match obj.get("error") {
            Some(Value::Object(e)) => e.get("message").and_then(Value::as_str),
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        }
        .or_else(|| obj.get("message").and_then(Value::as_str))
        .or_else(|| obj.get("Message").and_then(Value::as_str))
        .or_else(|| obj.get("detail").and_then(Value::as_str));
        if let Some(m) = message {
            return Some(snippet(m));
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty()).then(|| snippet(text))
}

/// The message of an `error` value: `{"message": …}`, a string, or its JSON.
pub fn api_error_message(error: &Value) -> String {
    match error {
        Value::String(s) => snippet(s),
        Value::Object(o) => match o.get("message").and_then(Value::as_str) {
            Some(m) => snippet(m),
            None => snippet(&crate::json::text(error)),
        },
        other => snippet(&crate::json::text(other)),
    }
}

/// The first [`SNIPPET_CHARS`] characters, with `…` when cut.
pub fn snippet(text: &str) -> String {
    match text.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A byte excerpt, decoded lossily.
pub fn byte_snippet(bytes: &[u8]) -> String {
    snippet(&String::from_utf8_lossy(bytes))
}

pub fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        424 => "Failed Dependency",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Site Overloaded",
        _ => return None,
    })
}

/// A byte buffer that keeps at most `limit` bytes and remembers whether more arrived.
#[derive(Debug, Default)]
pub struct BoundedBody {
    pub bytes: Vec<u8>,
    pub overflowed: bool,
}

impl BoundedBody {
    pub fn push(&mut self, chunk: &[u8], limit: usize) {
        let room = limit.saturating_sub(self.bytes.len());
        if chunk.len() > room {
            self.overflowed = true;
        }
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_status_reason_detail_and_retry_after() {
        assert_eq!(
            http_error_message(
                429,
                Some("20"),
                error_body_detail(br#"{"error":{"message":"slow down"}}"#)
            ),
            "HTTP 429 Too Many Requests: slow down (retry-after: 20)"
        );
        assert_eq!(http_error_message(599, None, None), "HTTP 599");
        assert_eq!(
            error_body_detail(br#"{"Message":"The security token is invalid."}"#).as_deref(),
            Some("The security token is invalid.")
        );
        assert_eq!(error_body_detail(b"  plain  ").as_deref(), Some("plain"));
        assert_eq!(error_body_detail(b""), None);
    }

    #[test]
    fn snippets_cut_on_characters() {
        let long = "é".repeat(SNIPPET_CHARS + 5);
        let s = snippet(&long);
        assert!(s.ends_with('…'));
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
    }

    #[test]
    fn bounded_body_keeps_the_limit() {
        let mut b = BoundedBody::default();
        b.push(b"12345", 8);
        b.push(b"6789", 8);
        assert_eq!(b.bytes, b"12345678");
        assert!(b.overflowed);
    }
}
