//! The runner with the Responses, Anthropic and custom endpoints over a scripted transport, on a
//! virtual clock: the response fields LLMeter records, end to end (TTFT/TTLT, ids, tokens and
//! the tokenizer's fallback, errors with their timings, LLMeter's class names, no secret kept).

mod common;

use common::{run_with, Script, ScriptedTransport, VirtualClock};
use llmeter_core::endpoint::anthropic::{AnthropicConfig, AnthropicEndpoint};
use llmeter_core::endpoint::custom::{
    CustomConfig, CustomEndpoint, CustomEvent, CustomHooks, Reading,
};
use llmeter_core::endpoint::openai::responses::OpenAIResponsesEndpoint;
use llmeter_core::endpoint::openai::OpenAIConfig;
use llmeter_core::endpoint::{Endpoint, EndpointInfo};
use llmeter_core::framing::Framing;
use llmeter_core::result::RunResult;
use llmeter_core::runner::{CancelToken, RunOptions};
use llmeter_core::tokenizer::WhitespaceTokenizer;
use serde_json::{json, Value};
use std::rc::Rc;

const KEY: &str = "sk-runner-secret";

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

fn named(data: Value) -> Vec<u8> {
    format!(
        "event: {}\ndata: {data}\n\n",
        data["type"].as_str().unwrap()
    )
    .into_bytes()
}

fn sse(chunks: Vec<(f64, Vec<u8>)>) -> Script {
    Script {
        headers: vec![("content-type".into(), "text/event-stream".into())],
        chunks,
        ..common::stream_script(5.0, &[])
    }
}

async fn run(
    endpoint: &dyn Endpoint,
    script: impl Fn() -> Script + 'static,
    payload: Value,
) -> RunResult {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, move |_| script());
    let opts = RunOptions {
        clients: 1,
        n_requests: Some(2),
        payloads: vec![payload],
        max_start_jitter_ms: 0.0,
        ..Default::default()
    };
    let (result, _) = run_with(
        endpoint,
        &transport,
        &clock,
        &WhitespaceTokenizer,
        &opts,
        &CancelToken::new(),
    )
    .await;
    assert!(!serde_json::to_string(&result.run_config)
        .unwrap()
        .contains(KEY));
    assert!(!serde_json::to_string(&result.responses)
        .unwrap()
        .contains(KEY));
    result
}

fn responses(stream: bool) -> OpenAIResponsesEndpoint {
    OpenAIResponsesEndpoint::new(
        OpenAIConfig {
            base_url: "http://127.0.0.1:9/v1".into(),
            model: "sim-model".into(),
            api_key: Some(KEY.into()),
            stream,
            endpoint_name: None,
            ..Default::default()
        },
        true,
    )
}

fn delta(text: &str) -> Vec<u8> {
    named(json!({"type": "response.output_text.delta", "delta": text}))
}

#[tokio::test(start_paused = true)]
async fn responses_stream_end_to_end_and_response_failed_as_the_last_token() {
    let completed = || {
        sse(vec![
            (
                10.0,
                named(json!({"type": "response.created", "response": {"id": "resp_9"}})),
            ),
            (40.0, delta("Hello")),
            (5.0, delta(" there")),
            (
                5.0,
                named(
                    json!({"type": "response.completed", "response": {"id": "resp_9", "usage": {"input_tokens": 4, "output_tokens": 2, "input_tokens_details": {"cached_tokens": 1}, "output_tokens_details": {"reasoning_tokens": 0}}}}),
                ),
            ),
        ])
    };
    let result = run(
        &responses(true),
        completed,
        json!({"input": "hi there", "max_output_tokens": 16}),
    )
    .await;
    for r in &result.responses {
        assert_eq!(
            (r.error.as_deref(), r.id.as_deref()),
            (None, Some("resp_9"))
        );
        assert_eq!(r.response_text.as_deref(), Some("Hello there"));
        // Head at 5 ms, created at 15, first delta at 55, last at 60.
        assert!(
            close(r.time_to_first_token, 0.055) && close(r.time_to_last_token, 0.060),
            "{r:?}"
        );
        assert_eq!(
            (
                r.num_tokens_input,
                r.num_tokens_output,
                r.num_tokens_input_cached
            ),
            (Some(4), Some(2), Some(1))
        );
        assert_eq!(r.input_prompt.as_deref(), Some("hi there"));
    }
    assert_eq!(
        result.run_config["endpoint"]["endpoint_type"],
        json!("OpenAIResponseStreamEndpoint")
    );
    assert_eq!(
        result.run_config["endpoint"]["endpoint_name"],
        json!("openai-response-stream")
    );

    let failing = || {
        sse(vec![
            (
                10.0,
                named(json!({"type": "response.created", "response": {"id": "resp_f"}})),
            ),
            (40.0, delta("partial")),
            (
                30.0,
                named(
                    json!({"type": "response.failed", "response": {"id": "resp_f", "error": {"code": "server_error", "message": "boom"}}}),
                ),
            ),
        ])
    };
    let result = run(&responses(true), failing, json!({"input": "x"})).await;
    let r = &result.responses[0];
    assert_eq!(r.error.as_deref(), Some("server_error: boom"));
    assert_eq!(r.response_text.as_deref(), Some("partial"));
    // LLMeter sets TTLT at the response.failed event (85 ms), after the last text (55 ms).
    assert!(
        close(r.time_to_first_token, 0.055) && close(r.time_to_last_token, 0.085),
        "{r:?}"
    );
    assert_eq!(r.num_tokens_output, None, "no counts for a failed request");
}

#[tokio::test(start_paused = true)]
async fn a_response_without_usage_is_counted_by_the_tokenizer() {
    let no_usage = || {
        sse(vec![
            (10.0, delta("one two three")),
            (
                1.0,
                named(json!({"type": "response.completed", "response": {"id": "r"}})),
            ),
        ])
    };
    let result = run(
        &responses(true),
        no_usage,
        json!({"input": "four words of input"}),
    )
    .await;
    let r = &result.responses[0];
    assert_eq!(
        (r.num_tokens_input, r.num_tokens_output),
        (Some(4), Some(3))
    );
}

#[tokio::test(start_paused = true)]
async fn anthropic_stream_end_to_end() {
    let endpoint = AnthropicEndpoint::new(AnthropicConfig {
        base_url: "http://127.0.0.1:9/v1".into(),
        model: "claude-sim".into(),
        api_key: Some(KEY.into()),
        ..Default::default()
    });
    let stream = || {
        sse(vec![
            (
                10.0,
                named(json!({"type": "message_start", "message": {"id": "msg_3", "usage": {"input_tokens": 6, "cache_read_input_tokens": 2, "output_tokens": 1}}})),
            ),
            (30.0, named(json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}))),
            (20.0, named(json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Yes"}}))),
            (4.0, named(json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": " indeed"}}))),
            (
                2.0,
                [named(json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}})), named(json!({"type": "message_stop"}))].concat(),
            ),
        ])
    };
    let result = run(
        &endpoint,
        stream,
        json!({"messages": [{"role": "user", "content": "Sure?"}], "max_tokens": 32}),
    )
    .await;
    for r in &result.responses {
        assert_eq!((r.error.as_deref(), r.id.as_deref()), (None, Some("msg_3")));
        assert_eq!(r.response_text.as_deref(), Some("Yes indeed"));
        // Thinking at 45 ms is not visible: TTFT at the first text (65 ms), TTLT at 69 ms.
        assert!(
            close(r.time_to_first_token, 0.065) && close(r.time_to_last_token, 0.069),
            "{r:?}"
        );
        assert_eq!(
            (
                r.num_tokens_input,
                r.num_tokens_output,
                r.num_tokens_input_cached,
                r.num_tokens_output_reasoning
            ),
            (Some(6), Some(9), Some(2), None)
        );
    }
    assert_eq!(
        result.run_config["endpoint"]["endpoint_type"],
        json!("AnthropicMessagesStream")
    );
    assert_eq!(
        result.run_config["endpoint"]["provider"],
        json!("anthropic")
    );
}

struct Lines;

impl CustomHooks for Lines {
    fn body(&self, payload: &Value) -> Result<Option<Vec<u8>>, String> {
        Ok(Some(
            payload["prompt"].as_str().unwrap_or("").as_bytes().to_vec(),
        ))
    }
    fn read(&self, event: CustomEvent<'_>) -> Result<Reading, String> {
        let CustomEvent::Line(line) = event else {
            return Err("lines only".into());
        };
        let line = std::str::from_utf8(line).map_err(|e| e.to_string())?;
        Ok(match line.split_once(' ') {
            Some(("T", text)) => Reading {
                text: Some(text.into()),
                ..Default::default()
            },
            Some(("ID", id)) => Reading {
                id: Some(id.into()),
                ..Default::default()
            },
            Some(("ERR", e)) => Reading {
                error: Some(e.into()),
                ..Default::default()
            },
            _ => Reading::default(),
        })
    }
}

#[tokio::test(start_paused = true)]
async fn custom_endpoint_end_to_end_with_its_own_body_and_class_name() {
    let endpoint = CustomEndpoint::new(
        CustomConfig {
            url: "http://127.0.0.1:9/gen".into(),
            method: "POST",
            headers: vec![("authorization".into(), format!("Bearer {KEY}"))],
            stream: true,
            framing: Framing::JsonLines,
            ttft_visible_tokens_only: true,
            require_done: false,
            payload_template: None,
            info: EndpointInfo {
                endpoint_name: Some("mine".into()),
                model_id: Some("m".into()),
                provider: Some("acme".into()),
                endpoint_type: "AcmeEndpoint".into(),
            },
        },
        Rc::new(Lines),
    );
    let lines = || {
        sse(vec![
            (10.0, b"ID g-1\n".to_vec()),
            (20.0, b"T one\nT ".to_vec()),
            (5.0, b"two\n".to_vec()),
        ])
    };
    let result = run(&endpoint, lines, json!({"prompt": "count to two"})).await;
    let r = &result.responses[0];
    assert_eq!(
        (
            r.error.as_deref(),
            r.id.as_deref(),
            r.response_text.as_deref()
        ),
        (None, Some("g-1"), Some("onetwo"))
    );
    assert!(
        close(r.time_to_first_token, 0.035) && close(r.time_to_last_token, 0.040),
        "{r:?}"
    );
    // No usage from this API: the tokenizer counts the prompt and the text.
    assert_eq!(
        (r.num_tokens_input, r.num_tokens_output),
        (Some(3), Some(1))
    );
    assert_eq!(
        result.run_config["endpoint"]["endpoint_type"],
        json!("AcmeEndpoint")
    );
    assert_eq!(result.summary.provider.as_deref(), Some("acme"));
    let failing = || {
        sse(vec![(
            10.0,
            b"T so far\nERR quota exceeded\nT late\n".to_vec(),
        )])
    };
    let result = run(&endpoint, failing, json!({"prompt": "x"})).await;
    let r = &result.responses[0];
    assert_eq!(
        (r.error.as_deref(), r.response_text.as_deref()),
        (Some("quota exceeded"), Some("so far"))
    );
}
