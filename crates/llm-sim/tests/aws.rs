//! The Bedrock and SageMaker routes over real sockets: SigV4 and API-key authorization (AWS's
//! refusals), event-stream answers decoded with the engine's decoder, per-family bodies, ground
//! truth, and the faults. botocore reads the same answers in tests/python/test_aws_sim.py.

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use common::{fetch, start, Reply};
use hyper::Method;
use llmeter_core::framing::event_stream::EventStreamDecoder;
use llmeter_core::sigv4::{self, Credentials, SigningOptions, SigningRequest};
use serde_json::{json, Value};

const KEY_ID: &str = "AKIDSIMTEST";
const SECRET: &str = "sim-test-secret";

fn auth_flags() -> Vec<&'static str> {
    vec![
        "--aws-access-key-id",
        KEY_ID,
        "--aws-secret-access-key",
        SECRET,
        "--bedrock-api-key",
        "sim-bedrock-key",
        "--ttft-ms",
        "30",
        "--itl-ms",
        "2",
        "--seed",
        "3",
    ]
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

/// Headers of a request signed for `service` at `at_ms` with `secret`.
fn signed_headers(
    addr: SocketAddr,
    path: &str,
    body: &str,
    service: &str,
    secret: &str,
    at_ms: f64,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let url = format!("http://{addr}{path}");
    let added = sigv4::sign(
        &SigningRequest {
            method: "POST",
            url: &url,
            headers: &headers,
            payload_hash: &sigv4::payload_hash(body.as_bytes()),
        },
        &Credentials {
            access_key_id: KEY_ID.into(),
            secret_access_key: secret.into(),
            session_token: None,
        },
        "us-east-1",
        service,
        SigningOptions::default(),
        at_ms,
    )
    .unwrap();
    headers.extend(added);
    headers.retain(|(k, _)| k != "content-type"); // `fetch` sets it for a body
    headers
}

async fn post(addr: SocketAddr, path: &str, headers: &[(String, String)], body: &str) -> Reply {
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    fetch(addr, Method::POST, path, &refs, body)
        .await
        .expect("a complete answer")
}

async fn signed_post(addr: SocketAddr, path: &str, body: &str, extra: &[(&str, &str)]) -> Reply {
    let service = if path.starts_with("/endpoints/") {
        "sagemaker"
    } else {
        "bedrock"
    };
    let headers = signed_headers(addr, path, body, service, SECRET, now_ms(), extra);
    post(addr, path, &headers, body).await
}

/// `(event type or exception type, payload JSON)` of each message, with arrival times.
fn messages(reply: &Reply) -> Vec<(String, Value, Instant)> {
    let mut decoder = EventStreamDecoder::default();
    let mut out = Vec::new();
    for (at, frame) in &reply.frames {
        decoder
            .feed(frame, &mut |m| {
                let kind = m
                    .event_type()
                    .or(m.exception_type())
                    .unwrap_or("?")
                    .to_string();
                let payload = serde_json::from_slice(m.payload).unwrap_or(Value::Null);
                out.push((kind, payload, *at));
            })
            .expect("valid event stream");
    }
    out
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let (mut acc, mut bits, mut out) = (0u32, 0, Vec::new());
    for c in text.bytes().filter(|&c| c != b'=') {
        acc = (acc << 6) | value(c) as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

async fn record(addr: SocketAddr, id: &str) -> Value {
    let reply = fetch(
        addr,
        Method::GET,
        &format!("/sim/requests?id={id}"),
        &[],
        "",
    )
    .await
    .unwrap();
    let records = reply.json()["requests"].clone();
    assert_eq!(records.as_array().unwrap().len(), 1, "{records}");
    records[0].clone()
}

fn request_id(reply: &Reply) -> String {
    reply.headers["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string()
}

const CONVERSE: &str = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream";

fn converse_body(text: &str, max_tokens: u32) -> String {
    json!({"messages": [{"role": "user", "content": [{"text": text}]}], "system": [{"text": "be brief"}], "inferenceConfig": {"maxTokens": max_tokens}}).to_string()
}

#[tokio::test]
async fn converse_stream_is_signed_timed_and_counted() {
    let server = start(&auth_flags()).await;
    let addr = server.http_addr;
    let reply = signed_post(addr, CONVERSE, &converse_body("one two three", 5), &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.headers["content-type"],
        "application/vnd.amazon.eventstream"
    );
    let events = messages(&reply);
    let kinds: Vec<&str> = events.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
    let text: String = events
        .iter()
        .filter_map(|(_, p, _)| p["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, " The quick brown fox jumps");
    let usage = &events[8].1["usage"];
    let truth = record(addr, &request_id(&reply)).await;
    assert_eq!(usage["inputTokens"], truth["input_tokens"]);
    assert_eq!(truth["input_tokens"], 5, "system and message words");
    assert_eq!(usage["outputTokens"], 5);
    assert_eq!(truth["output_tokens"], 5);
    assert_eq!(truth["outcome"], "completed");
    assert_eq!(events[7].1["stopReason"], "max_tokens");
    // The first text goes out at TTFT (30 ms), not with the headers.
    let first_text = events[1].2.duration_since(reply.sent_at).as_millis();
    assert!(first_text >= 30, "first text after {first_text} ms");
    // Hidden reasoning tokens come first, in their own block.
    let reasoned = signed_post(
        addr,
        CONVERSE,
        &converse_body("x", 4),
        &[("x-sim-reasoning-tokens", "2")],
    )
    .await;
    let events = messages(&reasoned);
    assert!(events[1].1["delta"]["reasoningContent"]["text"].is_string());
    assert_eq!(events[3].0, "contentBlockStop");
    assert_eq!(events[4].1["contentBlockIndex"], 1);
    assert_eq!(events.last().unwrap().1["usage"]["outputTokens"], 4);
    server.shutdown().await;
}

#[tokio::test]
async fn refusals_are_aws_answers_and_not_recorded() {
    let server = start(&auth_flags()).await;
    let addr = server.http_addr;
    let body = converse_body("hi", 2);
    let wrong = signed_headers(
        addr,
        CONVERSE,
        &body,
        "bedrock",
        "not-the-secret",
        now_ms(),
        &[],
    );
    let reply = post(addr, CONVERSE, &wrong, &body).await;
    assert_eq!(reply.status, 403);
    assert!(reply.headers["x-amzn-errortype"]
        .to_str()
        .unwrap()
        .starts_with("InvalidSignatureException:"));
    assert_eq!(
        reply.json()["message"],
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
    let old = signed_headers(
        addr,
        CONVERSE,
        &body,
        "bedrock",
        SECRET,
        now_ms() - 600_000.0,
        &[],
    );
    let reply = post(addr, CONVERSE, &old, &body).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Signature expired: "),
        "{}",
        reply.text()
    );
    // A body changed after signing.
    let signed = signed_headers(addr, CONVERSE, &body, "bedrock", SECRET, now_ms(), &[]);
    let reply = post(addr, CONVERSE, &signed, &converse_body("tampered", 2)).await;
    assert_eq!(reply.status, 403);
    let reply = post(addr, CONVERSE, &[], &body).await;
    assert_eq!(
        (
            reply.status.as_u16(),
            reply.json()["message"].as_str().unwrap()
        ),
        (403, "Missing Authentication Token")
    );
    // Bedrock API keys: accepted on Bedrock, not on SageMaker.
    let key = vec![(
        "authorization".to_string(),
        "Bearer sim-bedrock-key".to_string(),
    )];
    assert_eq!(post(addr, CONVERSE, &key, &body).await.status, 200);
    let bad_key = vec![("authorization".to_string(), "Bearer nope".to_string())];
    assert_eq!(post(addr, CONVERSE, &bad_key, &body).await.status, 403);
    let sm = post(addr, "/endpoints/e/invocations", &key, r#"{"inputs":"x"}"#).await;
    assert_eq!(sm.status, 403);
    // SigV4 for the wrong service.
    let sm_body = r#"{"inputs":"x"}"#;
    let wrong_service = signed_headers(
        addr,
        "/endpoints/e/invocations",
        sm_body,
        "bedrock",
        SECRET,
        now_ms(),
        &[],
    );
    let reply = post(addr, "/endpoints/e/invocations", &wrong_service, sm_body).await;
    assert_eq!(
        reply.json()["message"],
        "Credential should be scoped to correct service: 'sagemaker'. "
    );
    let records = fetch(addr, Method::GET, "/sim/requests", &[], "")
        .await
        .unwrap()
        .json();
    assert_eq!(
        records["requests"].as_array().unwrap().len(),
        1,
        "only the API-key request was served"
    );
    server.shutdown().await;
}

/// The model JSON of every `chunk` event.
fn chunks(reply: &Reply) -> Vec<Value> {
    messages(reply)
        .into_iter()
        .filter(|(k, _, _)| k == "chunk")
        .map(|(_, p, _)| {
            serde_json::from_slice(&base64_decode(p["bytes"].as_str().unwrap())).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn invoke_streams_speak_each_model_family() {
    let server = start(&auth_flags()).await;
    let addr = server.http_addr;
    let cases = [
        (
            "anthropic.claude-3-haiku-20240307-v1:0",
            json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 3, "messages": [{"role": "user", "content": [{"type": "text", "text": "a b"}]}]}),
            "/delta/text",
        ),
        (
            "meta.llama3-8b-instruct-v1:0",
            json!({"prompt": "a b", "max_gen_len": 3}),
            "/generation",
        ),
        (
            "amazon.nova-lite-v1:0",
            json!({"schemaVersion": "messages-v1", "messages": [{"role": "user", "content": [{"text": "a b"}]}], "inferenceConfig": {"maxTokens": 3}}),
            "/contentBlockDelta/delta/text",
        ),
        (
            "amazon.titan-text-express-v1",
            json!({"inputText": "a b", "textGenerationConfig": {"maxTokenCount": 3}}),
            "/outputText",
        ),
        (
            "openai.gpt-oss-20b-1:0",
            json!({"messages": [{"role": "user", "content": [{"text": "a b", "type": "text"}]}], "max_tokens": 3}),
            "/choices/0/delta/content",
        ),
    ];
    for (model, body, text_path) in cases {
        let path = format!(
            "/model/{}/invoke-with-response-stream",
            model.replace(':', "%3A")
        );
        let reply = signed_post(addr, &path, &body.to_string(), &[]).await;
        assert_eq!(reply.status, 200, "{model}: {}", reply.text());
        let chunks = chunks(&reply);
        let text: String = chunks
            .iter()
            .filter_map(|c| c.pointer(text_path).and_then(Value::as_str))
            .collect();
        assert_eq!(text, " The quick brown", "{model}");
        let metrics = &chunks.last().unwrap()["amazon-bedrock-invocationMetrics"];
        assert_eq!(
            (
                metrics["inputTokenCount"].as_u64(),
                metrics["outputTokenCount"].as_u64()
            ),
            (Some(2), Some(3)),
            "{model}"
        );
        let truth = record(addr, &request_id(&reply)).await;
        assert_eq!(
            (
                truth["input_tokens"].as_u64(),
                truth["output_tokens"].as_u64()
            ),
            (Some(2), Some(3)),
            "{model}"
        );
        // The whole body of InvokeModel.
        let whole = signed_post(
            addr,
            &path.replace("invoke-with-response-stream", "invoke"),
            &body.to_string(),
            &[],
        )
        .await;
        assert_eq!(whole.status, 200);
        assert_eq!(whole.headers["x-amzn-bedrock-output-token-count"], "3");
        assert!(
            whole.text().contains("quick brown"),
            "{model}: {}",
            whole.text()
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn sagemaker_streams_tgi_and_lmi_lines() {
    let server = start(&auth_flags()).await;
    let addr = server.http_addr;
    let path = "/endpoints/my-tgi/invocations-response-stream";
    let body = json!({"inputs": "one two", "parameters": {"max_new_tokens": 3, "details": true}, "stream": true}).to_string();
    for (format, prefix) in [("tgi", "data:"), ("lmi", "")] {
        let reply = signed_post(addr, path, &body, &[("x-sim-line-format", format)]).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let mut decoder = EventStreamDecoder::default();
        let mut joined = Vec::new();
        let mut parts = 0;
        decoder
            .feed(&reply.body, &mut |m| {
                assert_eq!(m.event_type(), Some("PayloadPart"));
                joined.extend_from_slice(m.payload);
                parts += 1;
            })
            .unwrap();
        assert_eq!(parts, 6, "two parts per token line");
        let text = String::from_utf8(joined).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(l.strip_prefix(prefix).unwrap()).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        let tokens: String = lines
            .iter()
            .map(|l| l["token"]["text"].as_str().unwrap())
            .collect();
        assert_eq!(tokens, " The quick brown");
        assert_eq!(lines[2]["details"]["generated_tokens"], 3, "{format}");
        assert_eq!(lines[2]["generated_text"], " The quick brown");
        let truth = record(addr, &request_id(&reply)).await;
        assert_eq!(truth["input_tokens"], 2);
    }
    let whole = signed_post(addr, "/endpoints/my-tgi/invocations", &body, &[]).await;
    assert_eq!(
        whole.json(),
        json!({"generated_text": " The quick brown", "details": {"finish_reason": "length", "generated_tokens": 3, "seed": null}})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn faults_in_aws_shapes() {
    let server = start(&auth_flags()).await;
    let addr = server.http_addr;
    let body = converse_body("x", 6);
    let throttled = signed_post(addr, CONVERSE, &body, &[("x-sim-fault", "429")]).await;
    assert_eq!(throttled.status, 429);
    assert!(throttled.headers["x-amzn-errortype"]
        .to_str()
        .unwrap()
        .starts_with("ThrottlingException:"));
    assert_eq!(throttled.headers["retry-after"], "1");
    let errored = signed_post(
        addr,
        CONVERSE,
        &body,
        &[
            ("x-sim-fault", "error-event"),
            ("x-sim-fault-after-tokens", "2"),
        ],
    )
    .await;
    let events = messages(&errored);
    let kinds: Vec<&str> = events.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "modelStreamErrorException"
        ]
    );
    assert_eq!(
        record(addr, &request_id(&errored)).await["outcome"],
        "aborted_by_fault"
    );
    let failed_whole = signed_post(
        addr,
        &CONVERSE.replace("converse-stream", "converse"),
        &body,
        &[("x-sim-fault", "error-event")],
    )
    .await;
    assert_eq!(failed_whole.status, 424);
    let garbled = signed_post(addr, CONVERSE, &body, &[("x-sim-fault", "malformed-sse")]).await;
    let mut decoder = EventStreamDecoder::default();
    let error = decoder.feed(&garbled.body, &mut |_| {}).unwrap_err();
    assert_eq!(
        error.to_string(),
        "malformed stream: event-stream message checksum mismatch"
    );
    let headers = signed_headers(
        addr,
        CONVERSE,
        &body,
        "bedrock",
        SECRET,
        now_ms(),
        &[("x-sim-fault", "disconnect")],
    );
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let cut = fetch(addr, Method::POST, CONVERSE, &refs, &body)
        .await
        .unwrap_err();
    assert!(!cut.received.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn without_configured_credentials_every_request_is_served() {
    let server = start(&[]).await;
    let reply = post(server.http_addr, CONVERSE, &[], &converse_body("x", 1)).await;
    assert_eq!(reply.status, 200);
    let bad = post(server.http_addr, CONVERSE, &[], "{not json").await;
    assert_eq!(bad.status, 400);
    assert!(bad.headers["x-amzn-errortype"]
        .to_str()
        .unwrap()
        .starts_with("ValidationException:"));
    server.shutdown().await;
}
