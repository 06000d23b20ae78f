//! Bedrock Converse / ConverseStream.

use super::*;
use crate::endpoint::UserMessage;
use crate::sigv4::parse_authorization;
use serde_json::{json, Map, Value};

const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

fn endpoint_with(stream: bool, visible_only: bool, target: AwsTarget) -> BedrockConverseEndpoint {
    BedrockConverseEndpoint::new(ConverseConfig {
        target,
        model: MODEL.into(),
        stream,
        inference_config: Some(json!({"temperature": 0.5}).as_object().unwrap().clone()),
        ttft_visible_tokens_only: visible_only,
        endpoint_name: None,
    })
}

fn endpoint(stream: bool) -> BedrockConverseEndpoint {
    endpoint_with(stream, true, sigv4_target())
}

fn delta_text(text: &str) -> Vec<u8> {
    event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": text}, "p": "abc"}),
    )
}

/// A stream with a reasoning block then a text block, as Claude with thinking sends it.
fn reasoning_stream() -> Vec<Vec<u8>> {
    vec![
        event("messageStart", json!({"role": "assistant", "p": "ab"})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Let me think"}}}),
        ),
        event("contentBlockStop", json!({"contentBlockIndex": 0})),
        delta_text("Hello"),
        delta_text(""),
        delta_text(" wörld"),
        event("contentBlockStop", json!({"contentBlockIndex": 1})),
        event("messageStop", json!({"stopReason": "end_turn"})),
        event(
            "metadata",
            json!({"usage": {"inputTokens": 12, "outputTokens": 30, "totalTokens": 42, "cacheReadInputTokens": 4}, "metrics": {"latencyMs": 300}}),
        ),
    ]
}

#[test]
fn create_payload_matches_llmeter() {
    let ep = endpoint(true);
    let p = ep
        .create_payload(&UserMessage::Text("Tell me".into()), 64, &Map::new())
        .unwrap();
    assert_eq!(
        p.to_string(),
        r#"{"messages":[{"role":"user","content":[{"text":"Tell me"}]}],"inferenceConfig":{"maxTokens":64}}"#
    );
    // Parts become text blocks; a given inferenceConfig keeps its position and gets maxTokens.
    let extra: Map<String, Value> = serde_json::from_str(
        r#"{"inferenceConfig": {"maxTokens": 1, "topP": 0.9}, "system": [{"text": "s"}]}"#,
    )
    .unwrap();
    let p = ep
        .create_payload(&UserMessage::Parts(vec!["a".into(), "b".into()]), 8, &extra)
        .unwrap();
    assert_eq!(
        p.to_string(),
        r#"{"messages":[{"role":"user","content":[{"text":"a"},{"text":"b"}]}],"inferenceConfig":{"maxTokens":8,"topP":0.9},"system":[{"text":"s"}]}"#
    );
    let null_config: Map<String, Value> =
        serde_json::from_str(r#"{"inferenceConfig": null}"#).unwrap();
    assert_eq!(
        ep.create_payload(&UserMessage::Text("x".into()), 3, &null_config)
            .unwrap()["inferenceConfig"],
        json!({"maxTokens": 3})
    );
    assert!(ep
        .create_payload(&UserMessage::Parts(vec![]), 3, &Map::new())
        .is_err());
    let bad: Map<String, Value> = serde_json::from_str(r#"{"inferenceConfig": 5}"#).unwrap();
    assert!(ep
        .create_payload(&UserMessage::Text("x".into()), 3, &bad)
        .is_err());
}

#[test]
fn prepare_records_model_id_and_default_inference_config_and_signs() {
    let ep = endpoint(true);
    let payload = json!({"messages": [
        {"role": "user", "content": [{"text": "one"}, {"image": {"format": "png"}}, {"text": ""}]},
        {"role": "assistant", "content": [{"text": "two"}]},
    ], "modelId": "ignored"});
    let prepared = ep.prepare(&payload).unwrap();
    assert_eq!(
        *prepared.input_payload,
        json!({"messages": payload["messages"], "modelId": MODEL, "inferenceConfig": {"temperature": 0.5}})
    );
    assert_eq!(prepared.input_prompt.as_deref(), Some("one\ntwo"));
    let body: Value = serde_json::from_slice(&prepared.body).unwrap();
    assert_eq!(
        body,
        json!({"messages": payload["messages"], "inferenceConfig": {"temperature": 0.5}})
    );
    // A payload's own inferenceConfig wins.
    let own = ep
        .prepare(&json!({"messages": [], "inferenceConfig": {"maxTokens": 5}}))
        .unwrap();
    assert_eq!(
        own.input_payload["inferenceConfig"],
        json!({"maxTokens": 5})
    );

    let request = ep.request(&prepared, 1_440_938_160_000.0).unwrap();
    assert_eq!(
        request.url,
        "http://127.0.0.1:9000/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
    );
    assert_eq!(
        header(&request.headers, "x-amz-date"),
        Some("20150830T123600Z")
    );
    assert_eq!(
        header(&request.headers, "x-amz-security-token"),
        Some("session-token-value")
    );
    assert_eq!(header(&request.headers, "x-sim-ttft-ms"), Some("5"));
    let auth = parse_authorization(header(&request.headers, "authorization").unwrap()).unwrap();
    assert_eq!(
        (auth.access_key_id, auth.region, auth.service),
        ("AKIDEXAMPLE", "us-west-2", "bedrock")
    );
    assert_eq!(
        auth.signed_headers,
        "content-type;host;x-amz-date;x-amz-security-token;x-sim-ttft-ms"
    );
    // Signed at the time given: another second, another signature.
    let later = ep.request(&prepared, 1_440_938_161_000.0).unwrap();
    assert_ne!(
        header(&later.headers, "authorization"),
        header(&request.headers, "authorization")
    );
    assert!(!String::from_utf8_lossy(&prepared.body).contains("secret"));
    assert!(!prepared.input_payload.to_string().contains("secret"));
    assert_eq!(
        ep.secrets(),
        vec![
            "secret-key-value".to_string(),
            "AKIDEXAMPLE".into(),
            "session-token-value".into(),
            "5".into()
        ]
    );
    assert!(!format!("{ep:?}").contains("secret-key-value"));
    assert!(!format!("{ep:?}").contains("session-token-value"));

    let keyed = endpoint_with(false, true, bearer_target());
    let request = keyed
        .request(&keyed.prepare(&payload).unwrap(), 0.0)
        .unwrap();
    assert!(request.url.ends_with("%3A0/converse"));
    assert_eq!(
        header(&request.headers, "authorization"),
        Some("Bearer bedrock-api-key-value")
    );
    assert_eq!(header(&request.headers, "x-amz-date"), None);
    assert_eq!(keyed.secrets(), vec!["bedrock-api-key-value".to_string()]);
    assert!(!format!("{keyed:?}").contains("bedrock-api-key-value"));
    assert_eq!(
        ep.prepare(&json!([1])).unwrap_err().to_string(),
        "payload must be a JSON object (Bedrock Converse request), got an array"
    );
}

#[test]
fn stream_text_timing_usage_and_id() {
    let events = reasoning_stream();
    let chunks = timed(&events);
    let got = parse(&endpoint(true), &stream_head(), &chunks, None);
    assert_eq!(got.error, None);
    assert_eq!(got.id.as_deref(), Some("req-1"));
    assert_eq!(got.text.as_deref(), Some("Hello wörld"));
    // First text at 130; TTLT is the last contentBlockStop (160), after the last text (150).
    assert_eq!(got.first_content_ms, Some(130.0));
    assert_eq!(got.last_content_ms, Some(160.0));
    assert_eq!(got.content_chunk_ms, vec![130.0, 150.0]);
    assert_eq!(
        (got.tokens_input, got.tokens_output, got.tokens_input_cached),
        (Some(12), Some(30), Some(4))
    );
    assert_eq!(got.tokens_output_reasoning, None);
    assert_eq!(got.num_events, 9);
    // Reasoning counts for TTFT when told to.
    let hidden = parse(
        &endpoint_with(true, false, sigv4_target()),
        &stream_head(),
        &chunks,
        None,
    );
    assert_eq!(hidden.first_content_ms, Some(110.0));
    assert_eq!(hidden.text.as_deref(), Some("Hello wörld"));
    same_at_every_split(&endpoint(true), &stream_head(), &events.concat());
}

#[test]
fn several_metadata_events_are_summed() {
    let events = vec![
        delta_text("a"),
        event("messageStop", json!({})),
        event(
            "metadata",
            json!({"usage": {"inputTokens": 1, "outputTokens": 2}}),
        ),
        event(
            "metadata",
            json!({"usage": {"inputTokens": 10, "outputTokens": 20, "cacheReadInputTokens": 3}}),
        ),
    ];
    let got = parse(&endpoint(true), &stream_head(), &timed(&events), None);
    assert_eq!(
        (got.tokens_input, got.tokens_output, got.tokens_input_cached),
        (Some(11), Some(22), Some(3))
    );
}

#[test]
fn stream_exceptions_read_as_botocore_errors() {
    let mut events = reasoning_stream()[..5].to_vec();
    events.push(exception(
        "modelStreamErrorException",
        "Model stream failed (simulated)",
    ));
    events.push(delta_text(" ignored"));
    let got = parse(&endpoint(true), &stream_head(), &timed(&events), None);
    assert_eq!(
        got.error.as_deref(),
        Some("An error occurred (modelStreamErrorException) when calling the ConverseStream operation: Model stream failed (simulated)")
    );
    // What arrived before the error is kept, TTLT included (as LLMeter: its last text delta).
    assert_eq!(got.text.as_deref(), Some("Hello"));
    assert_eq!(got.last_content_ms, Some(130.0));
    // An `error` message uses its headers.
    let error = crate::framing::event_stream::encode_message(
        &[
            (
                ":message-type",
                crate::framing::event_stream::HeaderValue::String("error"),
            ),
            (
                ":error-code",
                crate::framing::event_stream::HeaderValue::String("InternalFailure"),
            ),
            (
                ":error-message",
                crate::framing::event_stream::HeaderValue::String("oops"),
            ),
        ],
        b"",
    );
    let got = parse(&endpoint(true), &stream_head(), &[(1.0, &error)], None);
    assert_eq!(
        got.error.as_deref(),
        Some("An error occurred (InternalFailure) when calling the ConverseStream operation: oops")
    );
}

#[test]
fn incomplete_streams_are_errors() {
    let events = reasoning_stream();
    // No messageStop: truncated.
    let got = parse(&endpoint(true), &stream_head(), &timed(&events[..7]), None);
    assert_eq!(
        got.error.as_deref(),
        Some("stream ended before messageStop (truncated response)")
    );
    assert_eq!(got.text.as_deref(), Some("Hello wörld"));
    let body = events.concat();
    let cut = parse(
        &endpoint(true),
        &stream_head(),
        &[(1.0, &body[..body.len() - 3])],
        None,
    );
    assert_eq!(
        cut.error.as_deref(),
        Some("stream ended in the middle of a message after messageStop (truncated response, last message incomplete)")
    );
    // A transport failure before completion is the error.
    let broken = parse(
        &endpoint(true),
        &stream_head(),
        &timed(&events[..4]),
        Some("stream interrupted: reset"),
    );
    assert_eq!(broken.error.as_deref(), Some("stream interrupted: reset"));
    // A corrupted message is an error naming the framing.
    let mut bad = body.clone();
    bad[20] ^= 0xff;
    let got = parse(&endpoint(true), &stream_head(), &[(1.0, &bad)], None);
    assert!(
        got.error
            .as_deref()
            .unwrap()
            .starts_with("malformed stream: event-stream"),
        "{:?}",
        got.error
    );
    // A body that is not an event stream at all.
    let html = parse(
        &endpoint(true),
        &head(200, &[("content-type", "text/html")]),
        &[(1.0, b"<html>hello there</html>")],
        None,
    );
    assert!(html.error.is_some());
}

#[test]
fn non_stream_body() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "Hi"}, {"toolUse": {}}, {"text": " there"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7},
        "metrics": {"latencyMs": 10}
    })
    .to_string();
    let (a, b) = body.as_bytes().split_at(10);
    let got = parse(
        &endpoint(false),
        &json_head(),
        &[(100.0, a), (150.0, b)],
        None,
    );
    assert_eq!(got.error, None);
    assert_eq!(got.text.as_deref(), Some("Hi there"));
    assert_eq!((got.tokens_input, got.tokens_output), (Some(5), Some(2)));
    assert_eq!(got.tokens_input_cached, None);
    assert_eq!(got.id.as_deref(), Some("req-2"));
    assert_eq!((got.first_content_ms, got.end_ms), (None, Some(500.0)));
    // No text parts: "" as LLMeter.
    let empty = json!({"output": {"message": {"content": []}}}).to_string();
    let got = parse(
        &endpoint(false),
        &json_head(),
        &[(1.0, empty.as_bytes())],
        None,
    );
    assert_eq!(got.text.as_deref(), Some(""));
    let got = parse(&endpoint(false), &json_head(), &[(1.0, b"{}")], None);
    assert_eq!(
        got.error.as_deref(),
        Some("response has no output.message.content: {}")
    );
}

#[test]
fn http_errors_read_as_botocore_errors() {
    let ep = endpoint(true);
    let sig = parse(
        &ep,
        &head(
            403,
            &[
                ("x-amzn-errortype", "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/"),
                ("x-amzn-requestid", "req-9"),
            ],
        ),
        &[(1.0, br#"{"message":"The request signature we calculated does not match the signature you provided."}"#)],
        None,
    );
    assert_eq!(
        sig.error.as_deref(),
        Some("An error occurred (InvalidSignatureException) when calling the ConverseStream operation: The request signature we calculated does not match the signature you provided.")
    );
    assert_eq!(sig.id.as_deref(), Some("req-9"));
    let cases: [(u16, &[u8], &str); 5] = [
        (
            429,
            br#"{"message":"Too many requests"}"#,
            "(429) when calling the ConverseStream operation: Too many requests",
        ),
        (
            400,
            br#"{"__type":"com.amazon#ValidationException","Message":"bad"}"#,
            "(ValidationException) when calling the ConverseStream operation: bad",
        ),
        (
            400,
            br#"{"code":"X","message":"m"}"#,
            "(X) when calling the ConverseStream operation: m",
        ),
        (
            500,
            b"<html>gateway</html>",
            "(500) when calling the ConverseStream operation: Internal Server Error",
        ),
        (
            404,
            b"not json",
            "(404) when calling the ConverseStream operation: not json",
        ),
    ];
    for (status, body, want) in cases {
        let got = parse(&ep, &head(status, &[]), &[(1.0, body)], None);
        assert_eq!(
            got.error.as_deref(),
            Some(format!("An error occurred {want}").as_str())
        );
    }
    let got = parse(&endpoint(false), &head(503, &[]), &[], None);
    assert_eq!(
        got.error.as_deref(),
        Some("An error occurred (503) when calling the Converse operation: Service Unavailable")
    );
}
