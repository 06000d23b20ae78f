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

#[tokio::test(start_paused = true)]
async fn secrets_echoed_by_the_server_are_never_kept() {
    let clock = VirtualClock::new();
    let key = "sk-test-secret";
    let header_secret = "hdr-secret-value-42";
    let endpoint = OpenAIEndpoint::new(OpenAIConfig {
        base_url: "http://127.0.0.1:9/v1".into(),
        model: "m".into(),
        api_key: Some(key.into()),
        extra_headers: vec![("x-team-token".into(), header_secret.into())],
        ..Default::default()
    });
    let transport = ScriptedTransport::new(&clock, move |req| {
        let body: serde_json::Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
        let case = body["messages"][0]["content"].as_str().unwrap().to_string();
        let sse = |v: serde_json::Value| format!("data: {v}\n\n").into_bytes();
        match case.as_str() {
            // A proxy's 401 quoting the key in full.
            "status" => Script {
                status: 401,
                headers: vec![("content-type".into(), "application/json".into())],
                chunks: vec![(1.0, format!(r#"{{"error": {{"message": "Incorrect API key provided: {key}"}}}}"#).into_bytes())],
                ..common::stream_script(1.0, &[])
            },
            // An SSE error event quoting the header value, and an id made of it.
            "event" => Script {
                headers: vec![("content-type".into(), "text/event-stream".into())],
                chunks: vec![
                    (1.0, sse(json!({"id": header_secret, "choices": [{"index": 0, "delta": {"content": "x"}}]}))),
                    (1.0, format!("event: error\ndata: {{\"error\": {{\"message\": \"bad token {header_secret}\"}}}}\n\n").into_bytes()),
                ],
                ..common::stream_script(1.0, &[])
            },
            // A long plain-text body cut into an excerpt in the middle of the key.
            "cut" => Script {
                status: 500,
                chunks: vec![(1.0, format!("{}{key}", "e".repeat(192)).into_bytes())],
                ..common::stream_script(1.0, &[])
            },
            // The model "echoes" the key in its text: kept, with a warning.
            _ => Script {
                headers: vec![("content-type".into(), "text/event-stream".into())],
                chunks: vec![(1.0, [sse(json!({"id": "c1", "choices": [{"index": 0, "delta": {"content": format!("your key is {key}")}}]})), b"data: [DONE]\n\n".to_vec()].concat())],
                ..common::stream_script(1.0, &[])
            },
        }
    });
    let payload = |c: &str| json!({"messages": [{"role": "user", "content": c}]});
    let opts = RunOptions {
        payloads: vec![
            payload("status"),
            payload("event"),
            payload("cut"),
            payload("content"),
        ],
        payload_assignment: llmeter_core::runner::PayloadAssignment::EachOnce,
        max_start_jitter_ms: 0.0,
        ..Default::default()
    };
    let (result, _) = run_with(
        &endpoint,
        &transport,
        &clock,
        &WhitespaceTokenizer,
        &opts,
        &CancelToken::new(),
    )
    .await;
    let files = result.to_files();
    let all: String = files.iter().map(|(_, c)| c.as_str()).collect();
    let errors: Vec<&str> = result
        .responses
        .iter()
        .filter_map(|r| r.error.as_deref())
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors.contains(&"HTTP 401 Unauthorized: Incorrect API key provided: [redacted]"),
        "{errors:?}"
    );
    assert!(
        errors.contains(&"API error mid-stream: bad token [redacted]"),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("HTTP 500") && e.ends_with("[redacted]…")),
        "{errors:?}"
    );
    assert!(!all.contains(header_secret), "a header secret was saved");
    // The key appears once: in the text the model produced (kept, with a warning).
    assert_eq!(
        all.matches("sk-test-s").count(),
        1,
        "a key (or the start of one) was saved"
    );
    let echoed = result
        .responses
        .iter()
        .filter(|r| r.error.is_none())
        .find_map(|r| r.response_text.as_deref())
        .unwrap();
    assert_eq!(echoed, "your key is sk-test-secret");
    assert_eq!(result.info.warnings.len(), 1, "{:?}", result.info.warnings);
    assert!(
        result.info.warnings[0].contains("1 response(s) contain one of this run's secret values")
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_response_stops_reading_a_server_that_keeps_sending() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |req| {
        let body: serde_json::Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
        let sse = |v: serde_json::Value| format!("data: {v}\n\n").into_bytes();
        let first = sse(json!({"id": "c", "choices": [{"index": 0, "delta": {"content": "hi"}}]}));
        let chunks = if body["messages"][0]["content"] == "done" {
            // [DONE], then the connection stays open and idle.
            vec![(1.0, first), (1.0, b"data: [DONE]\n\n".to_vec())]
        } else {
            // A line that never ends, 1 KiB every millisecond.
            let mut c = vec![(1.0, first), (1.0, b"data: {\"choices\": [".to_vec())];
            c.extend((0..100).map(|_| (1.0, vec![b'x'; 1024])));
            c
        };
        Script {
            headers: vec![("content-type".into(), "text/event-stream".into())],
            chunks,
            ending: common::Ending::Hang,
            ..common::stream_script(1.0, &[])
        }
    });
    let opts = RunOptions {
        payloads: vec![
            json!({"messages": [{"role": "user", "content": "done"}]}),
            json!({"messages": [{"role": "user", "content": "endless"}]}),
        ],
        payload_assignment: llmeter_core::runner::PayloadAssignment::EachOnce,
        max_event_bytes: 16 * 1024,
        timeout_s: 60.0,
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
    // Complete at [DONE]: the body is still read to its end (here: the timeout), and that late
    // end changes nothing — the response succeeded, timed at its content.
    let done = result.responses.iter().find(|r| r.error.is_none()).unwrap();
    assert_eq!(done.response_text.as_deref(), Some("hi"));
    assert!(close(done.time_to_last_token.unwrap(), 0.002));
    let endless = result.responses.iter().find(|r| r.error.is_some()).unwrap();
    assert_eq!(
        endless.error.as_deref(),
        Some("stream message larger than the 16 KiB limit (maxEventBytes)")
    );
    // The failed one ended at the limit, within milliseconds, its transfer aborted; the complete
    // one was read until the timeout.
    let failed = result
        .responses
        .iter()
        .position(|r| r.error.is_some())
        .unwrap();
    assert!(
        result.timings[failed].num_chunks < 30,
        "{:?}",
        result.timings[failed]
    );
    let total = result.summary.total_test_time.unwrap();
    assert!((60.0..60.1).contains(&total), "{total}");
    assert_eq!(transport.traffic.aborted.get(), 2);
}
