//! The declarative custom endpoint, built from options alone as the JS API and the playground
//! pass them: the same responses as the function-based reading, over SSE, JSON lines, AWS
//! event-stream and whole bodies, at every byte boundary.

use crate::endpoint::config::build;
use crate::endpoint::test_support::{
    assert_every_byte_boundary, head, json_head, parse, send, sse_head,
};
use crate::endpoint::{Endpoint, UserMessage};
use crate::framing::event_stream::{encode_event, encode_exception};
use serde_json::{json, Map, Value};

/// llm-sim's made-up generation API (`/v1/generate`), as the playground's preset reads it.
fn generate_read() -> Value {
    json!({
        "text": {"event": "token", "path": "text"},
        "reasoning": {"event": "think", "path": "text"},
        "id": "id",
        "inputTokens": "prompt_tokens",
        "outputTokens": "generated_tokens",
        "error": "reason",
        "done": {"event": "end"},
    })
}

fn endpoint(extra: Value) -> Box<dyn Endpoint> {
    let mut config = json!({"kind": "custom", "url": "http://127.0.0.1:8000/v1/generate",
        "headers": {"authorization": "Bearer k"}, "read": generate_read(),
        "payloadTemplate": {"prompt": "{{prompt}}", "max_new_tokens": "{{maxTokens}}", "stream": true}});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        config[k] = v;
    }
    build(&config).unwrap_or_else(|e| panic!("{e}"))
}

fn generate_sse() -> String {
    [
        "event: start\ndata: {\"id\":\"gen-1\",\"model\":\"m\"}\n\n",
        "event: think\ndata: {\"text\":\"hmm \"}\n\n",
        "event: token\ndata: {\"text\":\"Hello \"}\n\n",
        "event: token\ndata: {\"text\":\"wörld \"}\n\n",
        "event: stats\ndata: {\"prompt_tokens\":7,\"generated_tokens\":3,\"reasoning_tokens\":1,\"finish\":\"length\"}\n\n",
        "event: end\ndata: {}\n\n",
    ]
    .concat()
}

#[test]
fn sse_events_read_by_paths_at_every_byte_boundary() {
    let ep = endpoint(json!({}));
    let r = assert_every_byte_boundary(ep.as_ref(), sse_head, generate_sse().as_bytes());
    assert_eq!(
        (
            r.id.as_deref(),
            r.text.as_deref(),
            r.tokens_input,
            r.tokens_output,
            r.error,
            r.num_events
        ),
        (
            Some("gen-1"),
            Some("Hello wörld "),
            Some(7),
            Some(3),
            None,
            6
        ),
        "think's text is reasoning, not text"
    );
    // One event per chunk: TTFT at the first token, or at the thinking when hidden tokens count.
    let body = generate_sse();
    let chunks: Vec<(f64, &[u8])> = body
        .split_inclusive("\n\n")
        .enumerate()
        .map(|(i, e)| (10.0 * (i + 1) as f64, e.as_bytes()))
        .collect();
    let r = parse(ep.as_ref(), sse_head(), &chunks, 99.0, None);
    assert_eq!(
        (r.first_content_ms, r.last_content_ms),
        (Some(30.0), Some(40.0))
    );
    let counting = endpoint(json!({"ttftVisibleTokensOnly": false}));
    let r = parse(counting.as_ref(), sse_head(), &chunks, 99.0, None);
    assert_eq!(r.first_content_ms, Some(20.0));
    // `done` is the `end` event: required, a stream without it is truncated.
    let strict = endpoint(json!({"requireDone": true}));
    let r = parse(strict.as_ref(), sse_head(), &chunks, 99.0, None);
    assert_eq!(r.error, None);
    let r = parse(strict.as_ref(), sse_head(), &chunks[..5], 99.0, None);
    assert_eq!(
        r.error.as_deref(),
        Some("stream ended before it was complete (truncated response)")
    );
}

#[test]
fn an_error_path_fails_the_request_and_keeps_the_text() {
    let ep = endpoint(json!({}));
    let body = "event: token\ndata: {\"text\":\"a \"}\n\nevent: fail\ndata: {\"reason\":\"generation failed\"}\n\n";
    let r = parse(
        ep.as_ref(),
        sse_head(),
        &[(5.0, body.as_bytes())],
        9.0,
        None,
    );
    assert_eq!(
        (r.error.as_deref(), r.text.as_deref()),
        (Some("generation failed"), Some("a "))
    );
    // Data that is not JSON fails the request (a path cannot read it).
    let garbled = "event: token\ndata: {\"text\": <<garbled>>\n\n";
    let r = parse(
        ep.as_ref(),
        sse_head(),
        &[(5.0, garbled.as_bytes())],
        9.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("event data is not JSON: {\"text\": <<garbled>>")
    );
    // An error that is not a string is recorded as its JSON; null, false and "" are no error.
    let ep = build(
        &json!({"kind": "custom", "url": "http://h/x", "read": {"text": "t", "error": "error"}}),
    )
    .unwrap();
    for (data, error) in [
        (r#"{"error": {"code": 5}}"#, Some(r#"{"code":5}"#)),
        (r#"{"error": null, "t": "x"}"#, None),
        (r#"{"error": false}"#, None),
        (r#"{"error": ""}"#, None),
    ] {
        let body = format!("data: {data}\n\n");
        let r = parse(
            ep.as_ref(),
            sse_head(),
            &[(5.0, body.as_bytes())],
            9.0,
            None,
        );
        assert_eq!(r.error.as_deref(), error, "{data}");
    }
}

#[test]
fn openai_chat_chunks_and_done() {
    // Untyped paths over unnamed SSE events; `[DONE]` is not JSON but marks the end.
    let ep = build(&json!({"kind": "custom", "url": "http://h/v1/chat/completions", "requireDone": true,
        "read": {"text": "choices[0].delta.content", "id": "id", "inputTokens": "usage.prompt_tokens",
            "outputTokens": "usage.completion_tokens", "error": "error.message"}}))
    .unwrap();
    let body = [
        r#"data: {"id":"c1","choices":[{"delta":{"role":"assistant"}}]}"#,
        r#"data: {"id":"c1","choices":[{"delta":{"content":"Hi"}}]}"#,
        r#"data: {"id":"c1","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":1}}"#,
        "data: [DONE]",
    ]
    .map(|l| format!("{l}\n\n"))
    .concat();
    let r = assert_every_byte_boundary(ep.as_ref(), sse_head, body.as_bytes());
    assert_eq!(
        (
            r.id.as_deref(),
            r.text.as_deref(),
            r.tokens_input,
            r.tokens_output,
            r.error
        ),
        (Some("c1"), Some("Hi"), Some(4), Some(1), None),
        "[DONE] satisfied requireDone"
    );
}

#[test]
fn json_lines_have_no_event_type() {
    // Untyped paths read every line; a type-limited path never matches a line.
    let ep = endpoint(json!({"framing": "json-lines",
        "read": {"text": "text", "id": "id", "outputTokens": "generated_tokens", "done": {"event": "end"}}}));
    let lines = "{\"type\":\"start\",\"id\":\"gen-2\"}\n{\"type\":\"token\",\"text\":\"a \"}\n{\"type\":\"token\",\"text\":\"b\"}\n{\"type\":\"stats\",\"generated_tokens\":2}\n{\"type\":\"end\"}\n";
    let r = assert_every_byte_boundary(
        ep.as_ref(),
        || head(200, &[("content-type", "application/x-ndjson")]),
        lines.as_bytes(),
    );
    assert_eq!(
        (r.id.as_deref(), r.text.as_deref(), r.tokens_output, r.error),
        (Some("gen-2"), Some("a b"), Some(2), None)
    );
}

#[test]
fn event_stream_messages_by_event_type() {
    // Bedrock ConverseStream's events, read with paths (as llm-sim's converse-stream sends them).
    let ep = build(&json!({"kind": "custom", "url": "http://h/model/m/converse-stream", "framing": "event-stream",
        "read": {"text": {"event": "contentBlockDelta", "path": "delta.text"},
            "reasoning": "delta.reasoningContent.text",
            "inputTokens": {"event": "metadata", "path": "usage.inputTokens"},
            "outputTokens": {"event": "metadata", "path": "usage.outputTokens"}}}))
    .unwrap();
    let mut body = Vec::new();
    for (kind, data) in [
        ("messageStart", r#"{"role":"assistant"}"#),
        (
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"hm"}}}"#,
        ),
        (
            "contentBlockDelta",
            r#"{"contentBlockIndex":1,"delta":{"text":"Hello"}}"#,
        ),
        ("contentBlockStop", r#"{"contentBlockIndex":1}"#),
        (
            "metadata",
            r#"{"usage":{"inputTokens":7,"outputTokens":2}}"#,
        ),
    ] {
        body.extend(encode_event(kind, data.as_bytes()));
    }
    let es_head = || {
        head(
            200,
            &[("content-type", "application/vnd.amazon.eventstream")],
        )
    };
    let r = assert_every_byte_boundary(ep.as_ref(), es_head, &body);
    assert_eq!(
        (
            r.text.as_deref(),
            r.tokens_input,
            r.tokens_output,
            r.error,
            r.num_events
        ),
        (Some("Hello"), Some(7), Some(2), None, 5)
    );
    body.extend(encode_exception(
        "throttlingException",
        br#"{"message":"slow down"}"#,
    ));
    let r = parse(ep.as_ref(), es_head(), &[(5.0, &body)], 9.0, None);
    assert_eq!(r.error.as_deref(), Some("throttlingException: slow down"));
}

#[test]
fn a_whole_body_is_read_by_every_path() {
    let ep = endpoint(json!({"stream": false}));
    let body = br#"{"id":"gen-3","model":"m","text":"whole answer","prompt_tokens":2,"generated_tokens":2,"finish":"stop"}"#;
    let r = parse(
        ep.as_ref(),
        json_head(),
        &[(5.0, &body[..9]), (6.0, &body[9..])],
        9.0,
        None,
    );
    assert_eq!(
        (r.id.as_deref(), r.text.as_deref(), r.tokens_input, r.tokens_output, r.error),
        (Some("gen-3"), Some("whole answer"), Some(2), Some(2), None),
        "the token path's event type does not apply to a body; `done`'s event alone does not read it"
    );
}

#[test]
fn the_template_builds_payloads_and_the_body_is_the_payload() {
    let ep = endpoint(json!({}));
    let payload = ep
        .create_payload(&UserMessage::Text("Why?".into()), 16, &Map::new())
        .unwrap();
    assert_eq!(
        payload,
        json!({"prompt": "Why?", "max_new_tokens": 16, "stream": true})
    );
    let sent = send(ep.as_ref(), &payload).unwrap();
    assert_eq!(
        sent.body,
        r#"{"prompt":"Why?","max_new_tokens":16,"stream":true}"#
    );
    assert_eq!(sent.input_prompt.as_deref(), Some("Why?"));
    assert_eq!(ep.secrets(), vec!["Bearer k"]);
}

#[test]
fn bad_read_options_name_the_field() {
    let err = |read: Value| {
        build(&json!({"kind": "custom", "url": "http://h/x", "read": read}))
            .err()
            .map(|e| (e.to_string(), e.is_range))
            .unwrap()
    };
    assert_eq!(
        err(json!({"text": "a..b"})),
        ("read: text: unexpected '.' at character 3 of \"a..b\" (supported: keys, \"quoted keys\", [N], [] joined by .)".into(), true)
    );
    assert_eq!(
        err(json!({"text": "t", "txt": "x"})).0,
        "read: unknown field \"txt\" (known: text, reasoning, id, inputTokens, outputTokens, error, done)"
    );
    assert_eq!(
        err(json!({"id": "id"})),
        (
            "read: text: is required (the path of the output text)".into(),
            false
        )
    );
    for bad in [
        json!({"evnt": "token"}),
        json!({"event": 1}),
        json!({}),
        json!(5),
    ] {
        assert_eq!(
            err(json!({"text": bad})),
            ("read: text: must be a path (a string) or {event, path} (non-empty strings, at least one of them)".into(), true),
            "{bad}"
        );
    }
    assert_eq!(
        err(json!("text")).0,
        "read: must be a function, or an object of paths like {text: \"delta.text\"}"
    );
    let bytes = build(
        &json!({"kind": "custom", "url": "http://h/x", "framing": "bytes", "read": {"text": "t"}}),
    )
    .err()
    .unwrap();
    assert_eq!(bytes.option, "read");
    let none = build(&json!({"kind": "custom", "url": "http://h/x"}))
        .err()
        .unwrap();
    assert_eq!(
        none.to_string(),
        "read: is required (a function, or an object of paths)"
    );
    let template = build(&json!({"kind": "custom", "url": "http://h/x", "read": {"text": "t"}, "payloadTemplate": {"q": 1}}))
        .err()
        .unwrap();
    assert_eq!(template.option, "payloadTemplate");
}
