//! Responses API: request building and response reading against hand-written wire bytes in
//! the shape the real API sends (every lifecycle event, `event:` lines, sequence numbers).

use super::*;
use crate::endpoint::test_support::{
    assert_every_byte_boundary, head, json_head, named_event, parse, send, sse_head,
};

const BASE: &str = "http://127.0.0.1:8000/v1";

fn endpoint_with(stream: bool, visible_only: bool) -> OpenAIResponsesEndpoint {
    OpenAIResponsesEndpoint::new(
        OpenAIConfig {
            base_url: format!("{BASE}/"),
            model: "gpt-test".into(),
            api_key: Some("sk-resp-secret".into()),
            extra_headers: vec![("X-Team".into(), "hdr-secret".into())],
            stream,
            endpoint_name: None,
            ..Default::default()
        },
        visible_only,
    )
}

fn endpoint(stream: bool) -> OpenAIResponsesEndpoint {
    endpoint_with(stream, true)
}

fn ev(data: Value) -> String {
    let name = data["type"].as_str().unwrap().to_string();
    named_event(&name, &data)
}

fn created() -> String {
    ev(
        json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1", "object": "response", "created_at": 1, "status": "in_progress", "model": "gpt-test", "output": [], "usage": null, "error": null}}),
    )
}

fn preamble() -> String {
    [
        created(),
        ev(
            json!({"type": "response.in_progress", "sequence_number": 1, "response": {"id": "resp_1", "status": "in_progress", "output": [], "usage": null}}),
        ),
        ev(
            json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0, "item": {"id": "msg_1", "type": "message", "status": "in_progress", "role": "assistant", "content": []}}),
        ),
        ev(
            json!({"type": "response.content_part.added", "sequence_number": 3, "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
        ),
    ]
    .concat()
}

fn delta(text: &str) -> String {
    ev(
        json!({"type": "response.output_text.delta", "sequence_number": 4, "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": text, "logprobs": []}),
    )
}

fn reasoning(text: &str) -> String {
    ev(
        json!({"type": "response.reasoning_summary_text.delta", "sequence_number": 4, "item_id": "rs_1", "output_index": 0, "summary_index": 0, "delta": text}),
    )
}

fn usage_json() -> Value {
    json!({"input_tokens": 12, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 9, "output_tokens_details": {"reasoning_tokens": 7}, "total_tokens": 21})
}

fn epilogue(kind: &str) -> String {
    [
        ev(
            json!({"type": "response.output_text.done", "sequence_number": 7, "item_id": "msg_1", "output_index": 0, "content_index": 0, "text": "Hello wörld"}),
        ),
        ev(
            json!({"type": "response.content_part.done", "sequence_number": 8, "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": "Hello wörld", "annotations": []}}),
        ),
        ev(
            json!({"type": "response.output_item.done", "sequence_number": 9, "output_index": 0, "item": {"id": "msg_1", "type": "message", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "Hello wörld", "annotations": []}]}}),
        ),
        ev(
            json!({"type": kind, "sequence_number": 10, "response": {"id": "resp_1", "status": kind.trim_start_matches("response."), "output": [{"id": "msg_1", "type": "message", "content": [{"type": "output_text", "text": "Hello wörld"}]}], "usage": usage_json(), "error": null}}),
        ),
    ]
    .concat()
}

fn realistic() -> Vec<(f64, String)> {
    let world = delta(" wörld");
    let (a, b) = world.split_at(30);
    vec![
        (100.0, preamble()),
        (150.0, delta("Hello")),
        (170.0, a.to_string()),
        (180.0, b.to_string()),
        (190.0, epilogue("response.completed")),
    ]
}

fn slices(chunks: &[(f64, String)]) -> Vec<(f64, &[u8])> {
    chunks.iter().map(|(t, s)| (*t, s.as_bytes())).collect()
}

// ---------- requests ----------

#[test]
fn prepare_stream_adds_model_stream_and_usage_option_as_llmeter() {
    let sent = send(
        &endpoint(true),
        &json!({"model": "x", "input": "hi", "max_output_tokens": 8}),
    )
    .unwrap();
    assert_eq!(sent.url, "http://127.0.0.1:8000/v1/responses");
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.body,
        r#"{"model":"gpt-test","input":"hi","max_output_tokens":8,"stream":true,"stream_options":{"include_usage":true}}"#
    );
    assert_eq!(sent.input_prompt.as_deref(), Some("hi"));
    // A truthy `stream` is kept as it is, without adding the option (LLMeter's rule).
    let kept = send(&endpoint(true), &json!({"input": "hi", "stream": 1})).unwrap();
    assert_eq!(
        kept.input_payload,
        json!({"input": "hi", "stream": 1, "model": "gpt-test"})
    );
}

#[test]
fn prepare_non_stream_sets_stream_false() {
    let sent = send(&endpoint(false), &json!({"input": "hi", "stream": true})).unwrap();
    assert_eq!(
        sent.input_payload,
        json!({"input": "hi", "stream": false, "model": "gpt-test"})
    );
    let err = send(&endpoint(false), &json!([1])).unwrap_err();
    assert_eq!(
        err,
        "payload must be a JSON object (OpenAI Responses request), got an array"
    );
}

#[test]
fn key_and_headers_only_in_headers_and_listed_as_secrets() {
    let ep = endpoint(true);
    let sent = send(&ep, &json!({"input": "x"})).unwrap();
    assert_eq!(
        sent.headers,
        vec![
            ("content-type".to_string(), "application/json".to_string()),
            (
                "authorization".to_string(),
                "Bearer sk-resp-secret".to_string()
            ),
            ("X-Team".to_string(), "hdr-secret".to_string()),
        ]
    );
    assert!(!sent.body.contains("secret"));
    assert!(!format!("{ep:?}").contains("secret"), "{ep:?}");
    assert_eq!(ep.secrets(), vec!["sk-resp-secret", "hdr-secret"]);
}

#[test]
fn input_prompt_is_the_input_string_or_joined_message_texts() {
    let sent = send(
        &endpoint(true),
        &json!({"input": [
            {"role": "user", "content": "a"},
            {"role": "user", "content": [{"type": "input_text", "text": "b"}, {"type": "input_image", "image_url": "x"}]},
            {"role": "assistant", "content": ""},
        ]}),
    )
    .unwrap();
    assert_eq!(sent.input_prompt.as_deref(), Some("a\nb"));
    let none = send(&endpoint(true), &json!({"messages": []})).unwrap();
    assert_eq!(none.input_prompt.as_deref(), Some(""));
}

#[test]
fn create_payload_matches_llmeter() {
    let ep = endpoint(true);
    let none = Map::new();
    let p = ep
        .create_payload(&UserMessage::Text("Tell me".into()), 64, &none)
        .unwrap();
    assert_eq!(
        p.to_string(),
        r#"{"input":"Tell me","max_output_tokens":64}"#
    );
    let mut extra = Map::new();
    extra.insert("instructions".into(), json!("Be brief"));
    extra.insert("temperature".into(), json!(0.2));
    let p = ep
        .create_payload(&UserMessage::Parts(vec!["a".into(), "b".into()]), 8, &extra)
        .unwrap();
    assert_eq!(
        p.to_string(),
        r#"{"input":[{"role":"user","content":"a"},{"role":"user","content":"b"}],"max_output_tokens":8,"instructions":"Be brief","temperature":0.2}"#
    );
    // LLMeter adds instructions only when truthy.
    let mut empty = Map::new();
    empty.insert("instructions".into(), json!(""));
    let p = ep
        .create_payload(&UserMessage::Text("x".into()), 1, &empty)
        .unwrap();
    assert_eq!(p, json!({"input": "x", "max_output_tokens": 1}));
}

#[test]
fn info_names_the_llmeter_classes_and_default_names() {
    let info = endpoint(true).info();
    assert_eq!(
        info,
        EndpointInfo {
            endpoint_name: Some("openai-response-stream".into()),
            model_id: Some("gpt-test".into()),
            provider: Some("openai".into()),
            endpoint_type: "OpenAIResponseStreamEndpoint".into(),
        }
    );
    let info = endpoint(false).info();
    assert_eq!(info.endpoint_type, "OpenAIResponseEndpoint");
    assert_eq!(info.endpoint_name.as_deref(), Some("openai-response"));
}

// ---------- streaming ----------

#[test]
fn realistic_stream() {
    let r = parse(
        &endpoint(true),
        sse_head(),
        &slices(&realistic()),
        200.0,
        None,
    );
    assert_eq!(
        r,
        ParsedResponse {
            id: Some("resp_1".into()),
            text: Some("Hello wörld".into()),
            first_chunk_ms: Some(100.0),
            first_content_ms: Some(150.0),
            last_content_ms: Some(180.0),
            content_chunk_ms: vec![150.0, 180.0],
            end_ms: Some(200.0),
            tokens_input: Some(12),
            tokens_output: Some(9),
            tokens_input_cached: Some(4),
            tokens_output_reasoning: Some(7),
            error: None,
            num_chunks: 5,
            num_events: 10,
        }
    );
}

#[test]
fn every_byte_boundary_gives_the_same_response() {
    let whole: String = realistic().into_iter().map(|(_, s)| s).collect();
    let r = assert_every_byte_boundary(&endpoint(true), sse_head, whole.as_bytes());
    assert_eq!(r.text.as_deref(), Some("Hello wörld"));
    assert_eq!((r.tokens_output, r.error), (Some(9), None));
    // With reasoning counted, a reasoning-first stream is the same at every cut too.
    let thinking = format!(
        "{}{}{}{}",
        preamble(),
        reasoning("hmm"),
        delta("ok"),
        epilogue("response.completed")
    );
    let r = assert_every_byte_boundary(&endpoint_with(true, false), sse_head, thinking.as_bytes());
    assert_eq!(r.text.as_deref(), Some("ok"));
}

#[test]
fn reasoning_deltas_count_for_ttft_only_when_asked() {
    let chunks = vec![
        (10.0, preamble()),
        (20.0, reasoning("Let me think")),
        (30.0, reasoning(" more")),
        (40.0, delta("42")),
        (50.0, epilogue("response.completed")),
    ];
    let visible = parse(&endpoint(true), sse_head(), &slices(&chunks), 60.0, None);
    assert_eq!(
        (visible.first_content_ms, visible.last_content_ms),
        (Some(40.0), Some(40.0))
    );
    assert_eq!(visible.text.as_deref(), Some("42"), "reasoning is not text");
    let all = parse(
        &endpoint_with(true, false),
        sse_head(),
        &slices(&chunks),
        60.0,
        None,
    );
    assert_eq!(
        (all.first_content_ms, all.last_content_ms),
        (Some(20.0), Some(40.0))
    );
    assert_eq!(all.text.as_deref(), Some("42"));
    // `response.reasoning_text.delta` too.
    let raw = ev(
        json!({"type": "response.reasoning_text.delta", "sequence_number": 4, "item_id": "rs", "output_index": 0, "content_index": 0, "delta": "x"}),
    );
    let chunks = vec![
        (10.0, raw),
        (20.0, delta("y")),
        (30.0, epilogue("response.completed")),
    ];
    let r = parse(
        &endpoint_with(true, false),
        sse_head(),
        &slices(&chunks),
        40.0,
        None,
    );
    assert_eq!(r.first_content_ms, Some(10.0));
}

#[test]
fn response_failed_is_a_ttlt_point_and_an_error_in_llmeters_format() {
    let failed = ev(
        json!({"type": "response.failed", "sequence_number": 6, "response": {"id": "resp_1", "status": "failed", "error": {"code": "server_error", "message": "The model crashed"}, "usage": null}}),
    );
    let chunks = vec![
        (10.0, created()),
        (20.0, delta("partial")),
        (35.0, failed),
        (40.0, delta(" ignored")),
    ];
    let r = parse(&endpoint(true), sse_head(), &slices(&chunks), 50.0, None);
    assert_eq!(r.error.as_deref(), Some("server_error: The model crashed"));
    assert_eq!(r.text.as_deref(), Some("partial"));
    assert_eq!(
        (r.first_content_ms, r.last_content_ms),
        (Some(20.0), Some(35.0))
    );
    assert_eq!(r.content_chunk_ms, vec![20.0], "the failure is not content");
    assert_eq!(r.num_events, 4);
    // Without a code: the message; without an error object: LLMeter's fixed text.
    for (error, want) in [
        (json!({"message": "bad"}), "bad"),
        (json!(null), "Response API request failed"),
    ] {
        let failed = ev(
            json!({"type": "response.failed", "sequence_number": 1, "response": {"id": "r", "status": "failed", "error": error}}),
        );
        let r = parse(
            &endpoint(true),
            sse_head(),
            &[(5.0, failed.as_bytes())],
            9.0,
            None,
        );
        assert_eq!(r.error.as_deref(), Some(want));
        assert_eq!(r.last_content_ms, Some(5.0));
    }
}

#[test]
fn error_events_and_top_level_errors_fail_the_request() {
    let error = ev(
        json!({"type": "error", "sequence_number": 2, "code": "rate_limit_exceeded", "message": "Slow down", "param": null}),
    );
    let body = format!("{}{}{error}", created(), delta("a"));
    let r = parse(
        &endpoint(true),
        sse_head(),
        &[(5.0, body.as_bytes())],
        9.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("API error mid-stream: rate_limit_exceeded: Slow down")
    );
    assert_eq!(r.text.as_deref(), Some("a"));
    let top = format!(
        "{}data: {}\n\n",
        created(),
        json!({"error": {"message": "boom", "type": "server_error"}})
    );
    let r = parse(
        &endpoint(true),
        sse_head(),
        &[(5.0, top.as_bytes())],
        9.0,
        None,
    );
    assert_eq!(r.error.as_deref(), Some("API error mid-stream: boom"));
    let garbage = format!("{}data: {{nope\n\n", created());
    let r = parse(
        &endpoint(true),
        sse_head(),
        &[(5.0, garbage.as_bytes())],
        9.0,
        None,
    );
    assert_eq!(r.error.as_deref(), Some("malformed SSE event: {nope"));
}

#[test]
fn incomplete_response_keeps_its_usage_and_is_complete() {
    let body = format!(
        "{}{}{}",
        preamble(),
        delta("cut short"),
        epilogue("response.incomplete")
    );
    let r = parse(
        &endpoint(true),
        sse_head(),
        &[(5.0, body.as_bytes())],
        9.0,
        None,
    );
    assert_eq!(r.error, None);
    assert_eq!((r.tokens_input, r.tokens_output), (Some(12), Some(9)));
}

#[test]
fn stream_without_a_terminal_event_is_truncated() {
    let body = format!("{}{}", preamble(), delta("so far"));
    let r = parse(
        &endpoint(true),
        sse_head(),
        &[(5.0, body.as_bytes())],
        9.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("stream ended before it was complete (truncated response)")
    );
    assert_eq!(r.text.as_deref(), Some("so far"));
    let r = parse(
        &endpoint(true),
        sse_head(),
        &[(5.0, body.as_bytes())],
        9.0,
        Some("stream interrupted: reset"),
    );
    assert_eq!(r.error.as_deref(), Some("stream interrupted: reset"));
    // A failure after completion loses nothing.
    let full = format!("{body}{}", epilogue("response.completed"));
    let r = parse(
        &endpoint(true),
        sse_head(),
        &[(5.0, full.as_bytes())],
        9.0,
        Some("stream interrupted: reset"),
    );
    assert_eq!(r.error, None);
}

#[test]
fn http_errors_carry_the_api_message() {
    let body = br#"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}"#;
    let r = parse(
        &endpoint(true),
        head(401, &[("content-type", "application/json")]),
        &[(5.0, body.as_slice())],
        9.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("HTTP 401 Unauthorized: Incorrect API key provided")
    );
}

// ---------- non-streaming ----------

fn whole_response(status: &str, error: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "resp_9", "object": "response", "created_at": 1, "status": status, "error": error,
        "model": "gpt-test",
        "output": [
            {"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": "thinking"}]},
            {"id": "msg_1", "type": "message", "role": "assistant", "content": [
                {"type": "output_text", "text": "Hi ", "annotations": []},
                {"type": "refusal", "refusal": "no"},
                {"type": "output_text", "text": "there", "annotations": []}
            ]}
        ],
        "usage": usage_json()
    }))
    .unwrap()
}

#[test]
fn non_streaming_success_reads_output_text_and_usage() {
    let body = whole_response("completed", Value::Null);
    let (a, b) = body.split_at(40);
    let r = parse(
        &endpoint(false),
        json_head(),
        &[(10.0, a), (12.0, b)],
        13.0,
        None,
    );
    assert_eq!(r.id.as_deref(), Some("resp_9"));
    assert_eq!(r.text.as_deref(), Some("Hi there"));
    assert_eq!(
        (
            r.tokens_input,
            r.tokens_output,
            r.tokens_input_cached,
            r.tokens_output_reasoning
        ),
        (Some(12), Some(9), Some(4), Some(7))
    );
    assert_eq!(
        (r.first_content_ms, r.end_ms, r.error),
        (None, Some(13.0), None)
    );
}

#[test]
fn non_streaming_failed_status_is_the_error() {
    let body = whole_response(
        "failed",
        json!({"code": "server_error", "message": "The model crashed"}),
    );
    let r = parse(
        &endpoint(false),
        json_head(),
        &[(10.0, body.as_slice())],
        13.0,
        None,
    );
    assert_eq!(r.error.as_deref(), Some("server_error: The model crashed"));
    assert_eq!(r.last_content_ms, None, "LLMeter leaves TTLT null");
    let r = parse(
        &endpoint(false),
        json_head(),
        &[(10.0, b"{\"error\": {\"message\": \"nope\"}}".as_slice())],
        13.0,
        None,
    );
    assert_eq!(r.error.as_deref(), Some("API error: nope"));
    let r = parse(
        &endpoint(false),
        json_head(),
        &[(10.0, b"<html>".as_slice())],
        13.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("invalid JSON response body: <html>")
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: &[u8] = b"event: response.output_text.delta\ndata: {\"type\":\"response.failed\",\"delta\":\"x\",\"response\":{\"error\":null}}[]\n\r\xFF";
    for i in 0..400 {
        let mut parser = endpoint_with(i % 2 == 0, i % 3 == 0).parser(ParseLimits::default());
        let status = [200, 200, 500][(next() % 3) as usize];
        parser.on_head(&head(status, &[("content-type", "text/event-stream")]));
        for t in 0..(next() % 8) {
            let bytes: Vec<u8> = (0..next() % 48)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            parser.on_chunk(&bytes, t as f64);
        }
        assert_eq!(parser.finish(99.0, None).end_ms, Some(99.0));
    }
}
