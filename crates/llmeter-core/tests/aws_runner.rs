//! The runner with the AWS endpoints over a scripted transport: requests signed at the run's
//! wall-clock time, event streams timed per chunk, SageMaker's input tokens counted from the
//! prompt, and no credential in anything the run keeps.

mod common;

use common::{run_with, Ending, Script, ScriptedTransport, VirtualClock, UNIX_ORIGIN_MS};
use llmeter_core::endpoint::config::build;
use llmeter_core::framing::event_stream::encode_event;
use llmeter_core::runner::{CancelToken, RunOptions};
use llmeter_core::sigv4;
use llmeter_core::tokenizer::WhitespaceTokenizer;
use serde_json::{json, Value};

fn event(kind: &str, payload: Value) -> Vec<u8> {
    encode_event(kind, payload.to_string().as_bytes())
}

fn converse_script() -> Script {
    let delta = |t: &str| {
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": t}}),
        )
    };
    Script {
        sent_after_ms: None,
        connect_failure: None,
        head_after_ms: 1000.0,
        status: 200,
        headers: vec![
            ("content-type".into(), "application/vnd.amazon.eventstream".into()),
            ("x-amzn-requestid".into(), "11111111-2222-3333-4444-555555555555".into()),
        ],
        chunks: vec![
            (10.0, event("messageStart", json!({"role": "assistant"}))),
            (40.0, delta("Hello")),
            (5.0, delta(" there")),
            (
                5.0,
                [
                    delta(" friend"),
                    event("contentBlockStop", json!({"contentBlockIndex": 0})),
                ]
                .concat(),
            ),
            (
                3.0,
                [
                    event("messageStop", json!({"stopReason": "max_tokens"})),
                    event("metadata", json!({"usage": {"inputTokens": 2, "outputTokens": 3, "totalTokens": 5}, "metrics": {"latencyMs": 68}})),
                ]
                .concat(),
            ),
        ],
        ending: Ending::Complete(1.0),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    &headers.iter().find(|(k, _)| k == name).unwrap().1
}

#[tokio::test(start_paused = true)]
async fn converse_stream_is_signed_timed_and_kept_without_secrets() {
    let endpoint = build(&json!({
        "kind": "bedrockConverse", "region": "us-west-2", "model": "sim-model",
        "endpointUrl": "http://127.0.0.1:9", "accessKeyId": "AKIDRUNNER",
        "secretAccessKey": "runner-secret-key", "sessionToken": "runner-session-token",
    }))
    .unwrap();
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| converse_script());
    let opts = RunOptions {
        clients: 2,
        n_requests: Some(2),
        payloads: vec![
            json!({"messages": [{"role": "user", "content": [{"text": "hi there"}]}], "inferenceConfig": {"maxTokens": 3}}),
        ],
        max_start_jitter_ms: 0.0,
        ..Default::default()
    };
    let (result, _) = run_with(
        &*endpoint,
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
        assert_eq!(
            r.id.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        assert_eq!(r.response_text.as_deref(), Some("Hello there friend"));
        // Head at 1 s, first text 50 ms later, last text and contentBlockStop at +60 ms.
        assert!(close(r.time_to_first_token.unwrap(), 1.050));
        assert!(close(r.time_to_last_token.unwrap(), 1.060));
        assert_eq!(
            (r.num_tokens_input, r.num_tokens_output),
            (Some(2), Some(3))
        );
        assert_eq!(r.input_prompt.as_deref(), Some("hi there"));
        assert_eq!(
            r.input_payload.as_deref().unwrap()["modelId"],
            json!("sim-model")
        );
    }
    // Each request is signed at the wall-clock time it is sent: the second of each client goes
    // out 1.064 s after the first, in the next second.
    let sent = transport.traffic.sent.borrow();
    assert_eq!(sent.len(), 4);
    let dates: Vec<&str> = sent
        .iter()
        .map(|r| header(&r.headers, "x-amz-date"))
        .collect();
    assert_eq!(
        dates,
        [
            "20250101T120000Z",
            "20250101T120000Z",
            "20250101T120001Z",
            "20250101T120001Z"
        ]
    );
    assert_eq!(dates[0], sigv4::amz_date(UNIX_ORIGIN_MS));
    assert_ne!(
        header(&sent[0].headers, "authorization"),
        header(&sent[2].headers, "authorization")
    );
    assert_eq!(
        sent[0].url,
        "http://127.0.0.1:9/model/sim-model/converse-stream"
    );
    assert_eq!(
        result.run_config["endpoint"],
        json!({"endpoint_name": "amazon bedrock", "model_id": "sim-model", "provider": "bedrock", "endpoint_type": "BedrockConverseStream"})
    );
    let files: String = result
        .to_files()
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    for secret in endpoint.secrets() {
        assert!(!files.contains(&secret), "{secret} leaked into the files");
    }
    assert!(!files.contains("runner-secret-key") && !files.contains("runner-session-token"));
}

#[tokio::test(start_paused = true)]
async fn sagemaker_non_stream_ttlt_is_a_duration_and_input_tokens_come_from_the_prompt() {
    let endpoint = build(&json!({
        "kind": "sagemaker", "region": "eu-west-1", "endpointName": "tgi", "stream": false,
        "endpointUrl": "http://127.0.0.1:9", "accessKeyId": "AKID", "secretAccessKey": "sm-secret",
    }))
    .unwrap();
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| Script {
        sent_after_ms: None,
        connect_failure: None,
        head_after_ms: 80.0,
        status: 200,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-amzn-requestid".into(), "sm-request-1".into()),
        ],
        chunks: vec![(
            2.0,
            json!({"generated_text": " The quick", "details": {"generated_tokens": 2}})
                .to_string()
                .into_bytes(),
        )],
        ending: Ending::Complete(3.0),
    });
    let opts = RunOptions {
        clients: 1,
        n_requests: Some(1),
        payloads: vec![
            json!({"inputs": "count these four words", "parameters": {"max_new_tokens": 2}}),
        ],
        max_start_jitter_ms: 0.0,
        ..Default::default()
    };
    let (result, _) = run_with(
        &*endpoint,
        &transport,
        &clock,
        &WhitespaceTokenizer,
        &opts,
        &CancelToken::new(),
    )
    .await;
    let r = &result.responses[0];
    assert_eq!(r.error, None);
    assert_eq!(r.id.as_deref(), Some("sm-request-1"));
    assert_eq!(r.time_to_first_token, None);
    assert!(
        close(r.time_to_last_token.unwrap(), 0.085),
        "{:?}",
        r.time_to_last_token
    );
    assert_eq!(
        (r.num_tokens_input, r.num_tokens_output),
        (Some(4), Some(2))
    );
    assert_eq!(
        result.run_config["endpoint"]["endpoint_type"],
        json!("SageMakerEndpoint")
    );
}
