//! The AWS families against hand-built wire bytes: event-stream messages made with the framing's
//! encoder (itself checked against a hand-assembled message and, through llm-sim, botocore).

mod config;
mod converse;
mod invoke;
mod sagemaker;

use super::*;
use crate::endpoint::{Endpoint, ParseLimits, ParsedResponse};
use crate::framing::event_stream::{encode_event, encode_exception};
use crate::transport::ResponseHead;

pub(super) const SIM: &str = "http://127.0.0.1:9000";

pub(super) fn sigv4_target() -> AwsTarget {
    AwsTarget {
        region: "us-west-2".into(),
        endpoint_url: Some(SIM.into()),
        auth: AwsAuth::SigV4(Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret-key-value".into(),
            session_token: Some("session-token-value".into()),
        }),
        extra_headers: vec![("x-sim-ttft-ms".into(), "5".into())],
    }
}

pub(super) fn bearer_target() -> AwsTarget {
    AwsTarget {
        auth: AwsAuth::BearerToken("bedrock-api-key-value".into()),
        extra_headers: vec![],
        ..sigv4_target()
    }
}

pub(super) fn head(status: u16, headers: &[(&str, &str)]) -> ResponseHead {
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

pub(super) fn stream_head() -> ResponseHead {
    head(
        200,
        &[
            ("content-type", "application/vnd.amazon.eventstream"),
            ("x-amzn-requestid", "req-1"),
        ],
    )
}

pub(super) fn json_head() -> ResponseHead {
    head(
        200,
        &[
            ("content-type", "application/json"),
            ("x-amzn-requestid", "req-2"),
        ],
    )
}

/// Runs a parser over `(arrival_ms, bytes)` chunks.
pub(super) fn parse(
    endpoint: &dyn Endpoint,
    head: &ResponseHead,
    chunks: &[(f64, &[u8])],
    failure: Option<&str>,
) -> ParsedResponse {
    let mut parser = endpoint.parser(ParseLimits::default());
    parser.on_head(head);
    for (at, bytes) in chunks {
        parser.on_chunk(bytes, *at);
    }
    parser.finish(500.0, failure.map(str::to_owned))
}

/// The events of a body as `(arrival_ms, bytes)`, one chunk per event at 10 ms steps from 100.
pub(super) fn timed(events: &[Vec<u8>]) -> Vec<(f64, &[u8])> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| (100.0 + 10.0 * i as f64, e.as_slice()))
        .collect()
}

/// Every way of cutting `body` in two gives the same reading, with the times of the piece in
/// which each frame completed.
pub(super) fn same_at_every_split(endpoint: &dyn Endpoint, head: &ResponseHead, body: &[u8]) {
    let whole = parse(endpoint, head, &[(100.0, body)], None);
    for cut in 0..=body.len() {
        let got = parse(
            endpoint,
            head,
            &[(100.0, &body[..cut]), (200.0, &body[cut..])],
            None,
        );
        assert_eq!(got.text, whole.text, "cut {cut}");
        assert_eq!(got.error, whole.error, "cut {cut}");
        assert_eq!(got.id, whole.id, "cut {cut}");
        assert_eq!(
            (got.tokens_input, got.tokens_output, got.tokens_input_cached),
            (
                whole.tokens_input,
                whole.tokens_output,
                whole.tokens_input_cached
            ),
            "cut {cut}"
        );
        assert!(
            matches!(got.first_content_ms, Some(t) if t == 100.0 || t == 200.0)
                == whole.first_content_ms.is_some(),
            "cut {cut}"
        );
    }
}

/// Every way of cutting the concatenated `events` in two stamps the first and last content at
/// the piece that completed their events (the times a one-event-per-chunk reading gives, mapped
/// onto the two pieces).
pub(super) fn content_times_at_every_split(
    endpoint: &dyn Endpoint,
    head: &ResponseHead,
    events: &[Vec<u8>],
) {
    let per_event = parse(endpoint, head, &timed(events), None);
    let index = |t: Option<f64>| ((t.expect("content") - 100.0) / 10.0).round() as usize;
    let ends: Vec<usize> = events
        .iter()
        .scan(0, |end, e| {
            *end += e.len();
            Some(*end)
        })
        .collect();
    let (first_end, last_end) = (
        ends[index(per_event.first_content_ms)],
        ends[index(per_event.last_content_ms)],
    );
    let body = events.concat();
    for cut in 0..=body.len() {
        let got = parse(
            endpoint,
            head,
            &[(100.0, &body[..cut]), (200.0, &body[cut..])],
            None,
        );
        let at = |end: usize| Some(if cut >= end { 100.0 } else { 200.0 });
        assert_eq!(
            (got.first_content_ms, got.last_content_ms),
            (at(first_end), at(last_end)),
            "cut {cut}"
        );
        assert_eq!(got.text, per_event.text, "cut {cut}");
    }
}

pub(super) fn event(event_type: &str, payload: serde_json::Value) -> Vec<u8> {
    encode_event(event_type, payload.to_string().as_bytes())
}

pub(super) fn exception(exception_type: &str, message: &str) -> Vec<u8> {
    encode_exception(
        exception_type,
        serde_json::json!({ "message": message })
            .to_string()
            .as_bytes(),
    )
}

pub(super) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
