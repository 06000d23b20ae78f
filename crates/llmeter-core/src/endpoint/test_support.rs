//! What the endpoint families' parser tests share: response heads, feeding chunks to a parser,
//! a request as the tests inspect it, and the every-byte-boundary check.

use super::{Endpoint, ParseLimits, ParsedResponse};
use crate::transport::ResponseHead;
use serde_json::Value;

pub fn head(status: u16, headers: &[(&str, &str)]) -> ResponseHead {
    ResponseHead {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        arrival_ms: 5.0,
        sent_ms: None,
    }
}

pub fn sse_head() -> ResponseHead {
    head(200, &[("content-type", "text/event-stream; charset=utf-8")])
}

pub fn json_head() -> ResponseHead {
    head(200, &[("content-type", "application/json")])
}

/// Runs the endpoint's parser over `(arrival_ms, bytes)` chunks.
pub fn parse(
    endpoint: &dyn Endpoint,
    head: ResponseHead,
    chunks: &[(f64, &[u8])],
    end_ms: f64,
    failure: Option<&str>,
) -> ParsedResponse {
    let mut parser = endpoint.parser(ParseLimits::default());
    parser.on_head(&head);
    for (at, bytes) in chunks {
        parser.on_chunk(bytes, *at);
    }
    parser.finish(end_ms, failure.map(str::to_owned))
}

/// One SSE event with an `event:` line (as Anthropic and the Responses API send them).
pub fn named_event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// The request one send makes, as the tests inspect it.
#[derive(Debug)]
pub struct Sent {
    pub url: String,
    pub method: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub input_payload: Value,
    pub input_prompt: Option<String>,
}

pub fn send(endpoint: &dyn Endpoint, payload: &Value) -> Result<Sent, String> {
    let prepared = endpoint.prepare(payload).map_err(|e| e.to_string())?;
    let http = endpoint
        .request(&prepared, 0.0)
        .map_err(|e| e.to_string())?;
    Ok(Sent {
        url: http.url,
        method: http.method,
        headers: http.headers,
        body: http
            .body
            .map(|b| String::from_utf8(b.to_vec()).expect("utf-8 body"))
            .unwrap_or_default(),
        input_payload: (*prepared.input_payload).clone(),
        input_prompt: prepared.input_prompt.map(|p| p.to_string()),
    })
}

/// Feeding `bytes` in two pieces split at every offset gives the response of one piece:
/// framing state, UTF-8 and partial events carry over chunks. Returns the one-piece response.
pub fn assert_every_byte_boundary(
    endpoint: &dyn Endpoint,
    head: fn() -> ResponseHead,
    bytes: &[u8],
) -> ParsedResponse {
    let reference = parse(endpoint, head(), &[(50.0, bytes)], 60.0, None);
    for cut in 0..=bytes.len() {
        let (a, b) = bytes.split_at(cut);
        let mut r = parse(endpoint, head(), &[(50.0, a), (50.0, b)], 60.0, None);
        assert_eq!(r.num_chunks, 2);
        // Content on both sides of the cut is timed once per chunk (same instant here).
        assert!(
            r.content_chunk_ms.iter().all(|&t| t == 50.0),
            "cut {cut}: {:?}",
            r.content_chunk_ms
        );
        r.content_chunk_ms.dedup();
        r.num_chunks = reference.num_chunks;
        assert_eq!(r, reference, "cut at {cut}");
    }
    reference
}
