//! Anthropic Messages: request building and response reading against hand-written wire bytes
//! in the shape the real API sends (message_start, blocks, ping, message_delta, message_stop).

use super::*;
use crate::endpoint::test_support::{
    assert_every_byte_boundary, head, json_head, named_event, parse, send, sse_head,
};
use serde_json::json;

const BASE: &str = "http://127.0.0.1:8000/v1";

fn config(stream: bool) -> AnthropicConfig {
    AnthropicConfig {
        base_url: BASE.into(),
        model: "claude-test".into(),
        api_key: Some("sk-ant-secret".into()),
        stream,
        ..Default::default()
    }
}

fn endpoint(stream: bool) -> AnthropicEndpoint {
    AnthropicEndpoint::new(config(stream))
}

fn counting_thinking() -> AnthropicEndpoint {
    AnthropicEndpoint::new(AnthropicConfig {
        ttft_visible_tokens_only: false,
        ..config(true)
    })
}

fn ev(data: Value) -> String {
    let name = data["type"].as_str().unwrap().to_string();
    named_event(&name, &data)
}

fn start() -> String {
    ev(
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "claude-test", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "cache_creation_input_tokens": 3, "cache_read_input_tokens": 5, "output_tokens": 1}}}),
    )
}

fn block_start(index: u32, kind: &str) -> String {
    let block = match kind {
        "thinking" => json!({"type": "thinking", "thinking": "", "signature": ""}),
        _ => json!({"type": "text", "text": ""}),
    };
    ev(json!({"type": "content_block_start", "index": index, "content_block": block}))
}

fn delta(index: u32, delta: Value) -> String {
    ev(json!({"type": "content_block_delta", "index": index, "delta": delta}))
}

fn text(t: &str) -> String {
    delta(1, json!({"type": "text_delta", "text": t}))
}

fn end(output_tokens: u64) -> String {
    [
        ev(json!({"type": "content_block_stop", "index": 1})),
        ev(
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": output_tokens}}),
        ),
        ev(json!({"type": "message_stop"})),
    ]
    .concat()
}

fn thinking_stream() -> Vec<(f64, String)> {
    let hello = text("Hello");
    let (a, b) = hello.split_at(25);
    vec![
        (100.0, format!("{}{}", start(), block_start(0, "thinking"))),
        (
            110.0,
            format!("event: ping\ndata: {}\n\n", json!({"type": "ping"})),
        ),
        (
            120.0,
            delta(
                0,
                json!({"type": "thinking_delta", "thinking": "Let me see"}),
            ),
        ),
        (
            130.0,
            delta(
                0,
                json!({"type": "signature_delta", "signature": "EqQBCgIYAhIM"}),
            ),
        ),
        (
            140.0,
            format!(
                "{}{}{a}",
                ev(json!({"type": "content_block_stop", "index": 0})),
                block_start(1, "text")
            ),
        ),
        (150.0, b.to_string()),
        (160.0, text(" wörld")),
        (170.0, text("")),
        (180.0, end(15)),
    ]
}

fn slices(chunks: &[(f64, String)]) -> Vec<(f64, &[u8])> {
    chunks.iter().map(|(t, s)| (*t, s.as_bytes())).collect()
}

// ---------- requests ----------

#[test]
fn prepare_adds_model_and_stream_as_llmeter() {
    let sent = send(
        &endpoint(true),
        &json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, "model": "x"}),
    )
    .unwrap();
    assert_eq!(sent.url, "http://127.0.0.1:8000/v1/messages");
    assert_eq!(
        sent.body,
        r#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":8,"model":"claude-test","stream":true}"#
    );
    assert_eq!(sent.input_prompt.as_deref(), Some("hi"));
    // The non-stream class only sets the model.
    let sent = send(&endpoint(false), &json!({"messages": [], "stream": false})).unwrap();
    assert_eq!(
        sent.input_payload,
        json!({"messages": [], "stream": false, "model": "claude-test"})
    );
    let err = send(&endpoint(true), &json!("x")).unwrap_err();
    assert_eq!(
        err,
        "payload must be a JSON object (Anthropic Messages request), got a string"
    );
}

#[test]
fn headers_carry_key_version_and_browser_opt_in_only_when_asked() {
    let ep = AnthropicEndpoint::new(AnthropicConfig {
        direct_browser_access: true,
        extra_headers: vec![
            ("anthropic-beta".into(), "hdr-secret".into()),
            ("anthropic-version".into(), "2024-01-01".into()),
        ],
        ..config(true)
    });
    let sent = send(&ep, &json!({"messages": []})).unwrap();
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        sent.headers,
        pairs(&[
            ("content-type", "application/json"),
            ("x-api-key", "sk-ant-secret"),
            ("anthropic-dangerous-direct-browser-access", "true"),
            ("anthropic-beta", "hdr-secret"),
            ("anthropic-version", "2024-01-01"),
        ])
    );
    assert_eq!(
        ep.secrets(),
        vec!["sk-ant-secret", "hdr-secret", "2024-01-01"]
    );
    assert!(!format!("{ep:?}").contains("secret"), "{ep:?}");
    assert!(!sent.body.contains("secret"));
    let plain = send(&endpoint(true), &json!({"messages": []})).unwrap();
    assert_eq!(
        plain.headers,
        pairs(&[
            ("content-type", "application/json"),
            ("x-api-key", "sk-ant-secret"),
            ("anthropic-version", "2023-06-01"),
        ])
    );
}

#[test]
fn input_prompt_joins_message_texts_without_system() {
    let sent = send(
        &endpoint(true),
        &json!({"system": "be terse", "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": [{"type": "text", "text": "b"}, {"type": "image", "source": {}}, "c"]},
            {"role": "user", "content": ""},
        ]}),
    )
    .unwrap();
    assert_eq!(sent.input_prompt.as_deref(), Some("a\nb\nc"));
}

#[test]
fn create_payload_matches_llmeter_and_takes_lists_as_text_blocks() {
    let ep = endpoint(true);
    let mut extra = Map::new();
    extra.insert(
        "thinking".into(),
        json!({"type": "enabled", "budget_tokens": 1024}),
    );
    extra.insert("system".into(), json!("You are terse."));
    let p = ep
        .create_payload(&UserMessage::Text("Hello".into()), 2048, &extra)
        .unwrap();
    assert_eq!(
        p.to_string(),
        r#"{"messages":[{"role":"user","content":"Hello"}],"max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"system":"You are terse."}"#
    );
    let mut null_thinking = Map::new();
    null_thinking.insert("thinking".into(), Value::Null);
    let p = ep
        .create_payload(
            &UserMessage::Parts(vec!["a".into(), "b".into()]),
            5,
            &null_thinking,
        )
        .unwrap();
    assert_eq!(
        p,
        json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}], "max_tokens": 5})
    );
}

#[test]
fn info_names_the_llmeter_classes() {
    assert_eq!(
        endpoint(true).info(),
        EndpointInfo {
            endpoint_name: Some("anthropic-messages".into()),
            model_id: Some("claude-test".into()),
            provider: Some("anthropic".into()),
            endpoint_type: "AnthropicMessagesStream".into(),
        }
    );
    assert_eq!(endpoint(false).info().endpoint_type, "AnthropicMessages");
}

// ---------- streaming ----------

#[test]
fn realistic_stream_with_thinking() {
    let chunks = thinking_stream();
    let r = parse(&endpoint(true), sse_head(), &slices(&chunks), 200.0, None);
    assert_eq!(
        r,
        ParsedResponse {
            id: Some("msg_1".into()),
            text: Some("Hello wörld".into()),
            first_chunk_ms: Some(100.0),
            // The text delta completed in the chunk at 150, not the one at 140.
            first_content_ms: Some(150.0),
            last_content_ms: Some(160.0),
            content_chunk_ms: vec![150.0, 160.0],
            end_ms: Some(200.0),
            tokens_input: Some(25),
            tokens_output: Some(15),
            tokens_input_cached: Some(5),
            tokens_output_reasoning: None,
            error: None,
            num_chunks: 9,
            num_events: 13,
        }
    );
    // Counting thinking: the first thinking delta is the TTFT point.
    let all = parse(
        &counting_thinking(),
        sse_head(),
        &slices(&chunks),
        200.0,
        None,
    );
    assert_eq!(
        (all.first_content_ms, all.last_content_ms),
        (Some(120.0), Some(160.0))
    );
    assert_eq!(all.text.as_deref(), Some("Hello wörld"));
}

#[test]
fn signature_delta_alone_counts_when_thinking_is_omitted() {
    // `display: "omitted"`: no thinking deltas, only the signature.
    let chunks = vec![
        (10.0, format!("{}{}", start(), block_start(0, "thinking"))),
        (
            20.0,
            delta(0, json!({"type": "signature_delta", "signature": "sig"})),
        ),
        (30.0, format!("{}{}", block_start(1, "text"), text("x"))),
        (40.0, end(2)),
    ];
    let r = parse(
        &counting_thinking(),
        sse_head(),
        &slices(&chunks),
        50.0,
        None,
    );
    assert_eq!(r.first_content_ms, Some(20.0));
    let r = parse(&endpoint(true), sse_head(), &slices(&chunks), 50.0, None);
    assert_eq!(r.first_content_ms, Some(30.0));
}

#[test]
fn every_byte_boundary_gives_the_same_response() {
    let whole: String = thinking_stream().into_iter().map(|(_, s)| s).collect();
    for ep in [endpoint(true), counting_thinking()] {
        let r = assert_every_byte_boundary(&ep, sse_head, whole.as_bytes());
        assert_eq!(r.text.as_deref(), Some("Hello wörld"));
        assert_eq!(
            (r.tokens_input, r.tokens_output, r.error),
            (Some(25), Some(15), None)
        );
    }
}

#[test]
fn output_tokens_take_the_last_message_delta() {
    let body = format!(
        "{}{}{}{}{}",
        start(),
        text("a"),
        ev(json!({"type": "message_delta", "delta": {}, "usage": {"output_tokens": 3}})),
        ev(
            json!({"type": "message_delta", "delta": {}, "usage": {"output_tokens": 7, "input_tokens": 99}})
        ),
        ev(json!({"type": "message_stop"}))
    );
    let r = parse(
        &endpoint(true),
        sse_head(),
        &[(5.0, body.as_bytes())],
        9.0,
        None,
    );
    assert_eq!((r.tokens_input, r.tokens_output), (Some(25), Some(7)));
}

#[test]
fn tool_use_arguments_are_output_but_not_text() {
    let stub = format!(
        "{}{}{}",
        start(),
        ev(
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t", "name": "get_weather", "input": {}}})
        ),
        delta(0, json!({"type": "input_json_delta", "partial_json": ""}))
    );
    let args = delta(
        0,
        json!({"type": "input_json_delta", "partial_json": "{\"city\":"}),
    );
    let chunks = vec![(5.0, stub), (6.0, args), (7.0, end(4))];
    let r = parse(&endpoint(true), sse_head(), &slices(&chunks), 9.0, None);
    assert_eq!(r.text, None);
    assert_eq!(
        (r.first_content_ms, r.last_content_ms),
        (Some(6.0), Some(6.0)),
        "an empty arguments delta carries no output"
    );
    assert_eq!(r.error, None);
}

#[test]
fn error_event_fails_the_request_and_keeps_what_came_before() {
    let error = format!(
        "event: error\ndata: {}\n\n",
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    let chunks = vec![
        (10.0, format!("{}{}", start(), block_start(1, "text"))),
        (20.0, text("partial")),
        (30.0, format!("{error}{}", text(" ignored"))),
    ];
    let r = parse(&endpoint(true), sse_head(), &slices(&chunks), 40.0, None);
    assert_eq!(
        r.error.as_deref(),
        Some("API error mid-stream: overloaded_error: Overloaded")
    );
    assert_eq!(r.text.as_deref(), Some("partial"));
    assert_eq!(
        (r.first_content_ms, r.last_content_ms),
        (Some(20.0), Some(20.0))
    );
    assert_eq!((r.tokens_input, r.id.as_deref()), (Some(25), Some("msg_1")));
    // Malformed data and a stream cut before message_stop.
    let garbage = format!("{}event: content_block_delta\ndata: {{x\n\n", start());
    let r = parse(
        &endpoint(true),
        sse_head(),
        &[(5.0, garbage.as_bytes())],
        9.0,
        None,
    );
    assert_eq!(r.error.as_deref(), Some("malformed SSE event: {x"));
    let cut = format!("{}{}", start(), text("so far"));
    let r = parse(
        &endpoint(true),
        sse_head(),
        &[(5.0, cut.as_bytes())],
        9.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("stream ended before it was complete (truncated response)")
    );
    assert_eq!(r.text.as_deref(), Some("so far"));
}

#[test]
fn http_errors_carry_anthropics_message() {
    let body = br#"{"type": "error", "error": {"type": "rate_limit_error", "message": "Number of request tokens has exceeded your per-minute rate limit"}}"#;
    let r = parse(
        &endpoint(true),
        head(
            429,
            &[("content-type", "application/json"), ("retry-after", "3")],
        ),
        &[(5.0, body.as_slice())],
        9.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("HTTP 429 Too Many Requests: Number of request tokens has exceeded your per-minute rate limit (retry-after: 3)")
    );
    let r = parse(
        &endpoint(true),
        head(529, &[]),
        &[(
            5.0,
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
                .as_slice(),
        )],
        9.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("HTTP 529 Site Overloaded: Overloaded")
    );
}

// ---------- non-streaming ----------

#[test]
fn non_streaming_reads_text_blocks_and_usage() {
    let body = serde_json::to_vec(&json!({
        "id": "msg_9", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "text", "text": "Hi "},
            {"type": "tool_use", "id": "t", "name": "n", "input": {}},
            {"type": "text", "text": "there"}
        ],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 11, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2, "output_tokens": 30}
    }))
    .unwrap();
    let (a, b) = body.split_at(33);
    let r = parse(
        &endpoint(false),
        json_head(),
        &[(10.0, a), (12.0, b)],
        13.0,
        None,
    );
    assert_eq!(r.id.as_deref(), Some("msg_9"));
    assert_eq!(r.text.as_deref(), Some("Hi there"));
    assert_eq!(
        (
            r.tokens_input,
            r.tokens_output,
            r.tokens_input_cached,
            r.tokens_output_reasoning
        ),
        (Some(11), Some(30), Some(2), None)
    );
    assert_eq!(
        (r.first_content_ms, r.end_ms, r.error),
        (None, Some(13.0), None)
    );
    // No text block: "" as LLMeter.
    let r = parse(
        &endpoint(false),
        json_head(),
        &[(
            10.0,
            br#"{"id": "m", "content": [], "usage": {"input_tokens": 1, "output_tokens": 0}}"#
                .as_slice(),
        )],
        13.0,
        None,
    );
    assert_eq!(r.text.as_deref(), Some(""));
    let r = parse(
        &endpoint(false),
        json_head(),
        &[(
            10.0,
            br#"{"type": "error", "error": {"type": "api_error", "message": "boom"}}"#.as_slice(),
        )],
        13.0,
        None,
    );
    assert_eq!(r.error.as_deref(), Some("API error: api_error: boom"));
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: &[u8] = b"event: content_block_delta\nerror\ndata: {\"type\":\"text_delta\",\"delta\":{\"text\":\"x\"},\"usage\":{}}[]\n\r\xFF";
    for i in 0..400 {
        let ep = if i % 3 == 0 {
            counting_thinking()
        } else {
            endpoint(i % 2 == 0)
        };
        let mut parser = ep.parser(ParseLimits::default());
        let status = [200, 200, 529][(next() % 3) as usize];
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
