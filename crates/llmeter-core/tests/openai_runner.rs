//! The runner with the real OpenAI Chat Completions endpoint over a scripted transport: request
//! building, SSE parsing, the timing rule and the response fields, end to end on a virtual clock.

mod common;

use common::{run_with, Script, ScriptedTransport, VirtualClock};
use llmeter_core::endpoint::openai::{OpenAIConfig, OpenAIEndpoint};
use llmeter_core::runner::{CancelToken, RunOptions};
use llmeter_core::tokenizer::WhitespaceTokenizer;
use serde_json::json;

fn endpoint(stream: bool) -> OpenAIEndpoint {
    OpenAIEndpoint::new(OpenAIConfig {
        base_url: "http://127.0.0.1:9/v1".into(),
        model: "sim-model".into(),
        api_key: Some("sk-test-secret".into()),
        stream,
        ..Default::default()
    })
}

fn event(v: serde_json::Value) -> Vec<u8> {
    format!("data: {v}\n\n").into_bytes()
}

fn sse_script() -> Script {
    let chunk = |text: &str| {
        event(
            json!({"id": "chatcmpl-7", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]}),
        )
    };
    Script {
        sent_after_ms: None,
        connect_failure: None,
        head_after_ms: 5.0,
        status: 200,
        headers: vec![("content-type".into(), "text/event-stream".into())],
        chunks: vec![
            (
                10.0,
                event(
                    json!({"id": "chatcmpl-7", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
                ),
            ),
            (40.0, chunk("Hello")),
            (5.0, chunk(" there")),
            (
                5.0,
                [
                    chunk(" friend"),
                    event(
                        json!({"id": "chatcmpl-7", "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 2}}}),
                    ),
                    b"data: [DONE]\n\n".to_vec(),
                ]
                .concat(),
            ),
        ],
        ending: common::Ending::Complete(1.0),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[tokio::test(start_paused = true)]
async fn streams_are_timed_and_read_end_to_end() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| sse_script());
    let opts = RunOptions {
        clients: 2,
        n_requests: Some(2),
        payloads: vec![
            json!({"messages": [{"role": "user", "content": "hi there"}], "max_tokens": 8}),
        ],
        max_start_jitter_ms: 0.0,
        ..Default::default()
    };
    let (result, _) = run_with(
        &endpoint(true),
        &transport,
        &clock,
        &WhitespaceTokenizer,
        &opts,
        &CancelToken::new(),
    )
    .await;
    assert_eq!(result.responses.len(), 4);
    for r in &result.responses {
        assert_eq!(r.error, None);
        assert_eq!(r.id.as_deref(), Some("chatcmpl-7"));
        assert_eq!(r.response_text.as_deref(), Some("Hello there friend"));
        // Head at 5 ms, role chunk at 15, first content at 55, last at 65.
        assert!(close(r.time_to_first_token.unwrap(), 0.055));
        assert!(close(r.time_to_last_token.unwrap(), 0.065));
        assert_eq!(
            (r.num_tokens_input, r.num_tokens_output),
            (Some(11), Some(3))
        );
        assert_eq!(r.num_tokens_input_cached, Some(2));
        assert!(close(r.time_per_output_token.unwrap(), 0.005));
        assert_eq!(r.input_prompt.as_deref(), Some("hi there"));
        assert_eq!(
            r.input_payload.as_deref(),
            Some(
                &json!({"messages": [{"role": "user", "content": "hi there"}], "max_tokens": 8, "model": "sim-model", "stream": true, "stream_options": {"include_usage": true}})
            )
        );
    }
    let t = &result.timings[0];
    assert_eq!((t.num_chunks, t.num_events), (4, 6));
    assert!(close(t.time_to_first_chunk.unwrap(), 0.015));
    assert_eq!(t.status, Some(200));
    // One prepared body for all four requests, with the key only in a header.
    let sent = transport.traffic.sent.borrow();
    assert_eq!(sent.len(), 4);
    assert!(sent
        .iter()
        .all(|r| std::ptr::eq(r.body.as_deref().unwrap(), sent[0].body.as_deref().unwrap())));
    assert_eq!(sent[0].url, "http://127.0.0.1:9/v1/chat/completions");
    assert!(sent[0]
        .headers
        .contains(&("authorization".into(), "Bearer sk-test-secret".into())));
    assert!(!String::from_utf8_lossy(sent[0].body.as_deref().unwrap()).contains("sk-test"));
    assert_eq!(
        result.run_config["endpoint"]["endpoint_type"],
        json!("OpenAICompletionStreamEndpoint")
    );
}

#[tokio::test(start_paused = true)]
async fn http_errors_use_the_headers_the_endpoint_asked_for() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |req| {
        assert_eq!(&*req.response_headers, ["content-type", "retry-after"]);
        Script {
            status: 429,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("retry-after".into(), "3".into()),
            ],
            chunks: vec![(1.0, br#"{"error": {"message": "slow down"}}"#.to_vec())],
            ..common::stream_script(2.0, &[])
        }
    });
    let opts = RunOptions {
        payloads: vec![json!({"messages": []})],
        max_start_jitter_ms: 0.0,
        ..Default::default()
    };
    let (result, _) = run_with(
        &endpoint(false),
        &transport,
        &clock,
        &WhitespaceTokenizer,
        &opts,
        &CancelToken::new(),
    )
    .await;
    let r = &result.responses[0];
    assert_eq!(
        r.error.as_deref(),
        Some("HTTP 429 Too Many Requests: slow down (retry-after: 3)")
    );
    assert_eq!(r.time_to_first_token, None);
    assert_eq!(
        result.run_config["endpoint"]["endpoint_type"],
        json!("OpenAICompletionEndpoint")
    );
}

#[tokio::test(start_paused = true)]
async fn non_streaming_completion_times_the_whole_body() {
    let clock = VirtualClock::new();
    let body = br#"{"id": "cmpl-1", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole answer"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 4, "completion_tokens": 2}}"#;
    let transport = ScriptedTransport::new(&clock, move |_| Script {
        headers: vec![("content-type".into(), "application/json".into())],
        chunks: vec![(20.0, body[..30].to_vec()), (5.0, body[30..].to_vec())],
        ..common::stream_script(10.0, &[])
    });
    let opts = RunOptions {
        payloads: vec![json!({"messages": [{"role": "user", "content": "q"}]})],
        max_start_jitter_ms: 0.0,
        ..Default::default()
    };
    let (result, _) = run_with(
        &endpoint(false),
        &transport,
        &clock,
        &WhitespaceTokenizer,
        &opts,
        &CancelToken::new(),
    )
    .await;
    let r = &result.responses[0];
    assert_eq!(r.error, None);
    assert_eq!(r.response_text.as_deref(), Some("whole answer"));
    assert_eq!(r.time_to_first_token, None);
    assert!(close(r.time_to_last_token.unwrap(), 0.035));
    assert_eq!(r.id.as_deref(), Some("cmpl-1"));
}
