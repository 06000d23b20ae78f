//! The Responses, Messages and made-up generation APIs, observed from a real client: their
//! event sequences, usage against ground truth, timing, reasoning, faults and error shapes.

mod common;

use common::*;
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

/// `(event name, data)` of every event of an SSE body with `event:` lines.
fn named_events(body: &[u8]) -> Vec<(String, Value)> {
    let text = std::str::from_utf8(body).expect("utf-8 stream");
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|event| {
            let mut name = String::new();
            let mut data = String::new();
            for line in event.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = d.to_string();
                }
            }
            let value = serde_json::from_str(&data)
                .unwrap_or_else(|e| panic!("bad event data ({e}): {event:?}"));
            (name, value)
        })
        .collect()
}

async fn post(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> Result<Reply, Broken> {
    fetch(addr, Method::POST, path, headers, &body.to_string()).await
}

async fn truth(addr: std::net::SocketAddr, id: &str) -> Value {
    let reply = fetch(
        addr,
        Method::GET,
        &format!("/sim/requests?id={id}"),
        &[],
        "",
    )
    .await
    .unwrap();
    reply.json()["requests"][0].clone()
}

fn responses_body(stream: bool, max: u32) -> Value {
    json!({"model": "gpt-sim", "input": [{"role": "user", "content": "one two three"}],
        "instructions": "be brief", "max_output_tokens": max, "stream": stream})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_stream_has_the_real_event_sequence_and_usage() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    // Natural length 20 under a limit of 32: completed.
    let reply = post(
        addr,
        "/v1/responses",
        &[("x-sim-output-tokens", "20")],
        &responses_body(true, 32),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let id = reply.request_id();
    let events = named_events(&reply.body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(
        &names[names.len() - 4..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    for (i, (name, data)) in events.iter().enumerate() {
        assert_eq!(&data["type"], name, "the data's type is the event name");
        assert_eq!(data["sequence_number"], i, "sequence numbers count up");
    }
    assert_eq!(events[0].1["response"]["id"], format!("resp_{id}"));
    let deltas: String = events
        .iter()
        .filter(|(n, _)| n == "response.output_text.delta")
        .map(|(_, d)| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas.split_whitespace().count(), 20);
    let done = &events.last().unwrap().1["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["output"][0]["content"][0]["text"], deltas);
    let usage = &done["usage"];
    let record = truth(addr, &format!("resp_{id}")).await;
    assert_eq!(
        usage["input_tokens"], 5,
        "instructions and input are counted"
    );
    assert_eq!(usage["input_tokens"], record["input_tokens"]);
    assert_eq!(usage["output_tokens"], 20);
    assert_eq!(usage["output_tokens"], record["output_tokens"]);
    assert_eq!(usage["output_tokens_details"]["reasoning_tokens"], 0);
    assert_eq!(record["outcome"], "completed");
    assert_eq!(record["stream"], true);

    // Cut at max_output_tokens: the stream ends with response.incomplete, as the real API.
    let reply = post(addr, "/v1/responses", &[], &responses_body(true, 16))
        .await
        .unwrap();
    let (name, last) = named_events(&reply.body).pop().unwrap();
    assert_eq!(name, "response.incomplete");
    assert_eq!(
        last["response"]["incomplete_details"]["reason"],
        "max_output_tokens"
    );
    assert_eq!(last["response"]["usage"]["output_tokens"], 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_reasoning_and_whole_bodies() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let headers = [
        ("x-sim-output-tokens", "10"),
        ("x-sim-reasoning-tokens", "4"),
    ];
    let reply = post(addr, "/v1/responses", &headers, &responses_body(true, 32))
        .await
        .unwrap();
    let events = named_events(&reply.body);
    let reasoning = events
        .iter()
        .filter(|(n, _)| n == "response.reasoning_summary_text.delta")
        .count();
    let text: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "response.output_text.delta")
        .map(|(_, d)| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!((reasoning, text.len()), (4, 6));
    let first_reasoning = events
        .iter()
        .position(|(n, _)| n == "response.reasoning_summary_text.delta")
        .unwrap();
    let first_text = events
        .iter()
        .position(|(n, _)| n == "response.output_text.delta")
        .unwrap();
    assert!(first_reasoning < first_text);
    let usage = &events.last().unwrap().1["response"]["usage"];
    assert_eq!(
        (
            usage["output_tokens"].as_u64(),
            usage["output_tokens_details"]["reasoning_tokens"].as_u64()
        ),
        (Some(10), Some(4))
    );

    // Without streaming: the whole response object, text and usage included.
    let reply = post(addr, "/v1/responses", &headers, &responses_body(false, 32))
        .await
        .unwrap();
    assert_eq!(reply.headers["content-type"], "application/json");
    let body = reply.json();
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["output"][0]["type"], "reasoning");
    let text = body["output"][1]["content"][0]["text"].as_str().unwrap();
    assert_eq!(text.split_whitespace().count(), 6);
    assert_eq!(body["usage"]["output_tokens"], 10);
    // error-event without a stream: a failed response (HTTP 200), as the API answers.
    let reply = post(
        addr,
        "/v1/responses",
        &[("x-sim-fault", "error-event")],
        &responses_body(false, 32),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["status"], "failed");
    assert_eq!(body["error"]["code"], "server_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_faults_use_openai_shapes_and_response_failed() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let reply = post(
        addr,
        "/v1/responses",
        &[("x-sim-fault", "429")],
        &responses_body(true, 32),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.json()["error"]["code"], "rate_limit_exceeded");
    assert_eq!(reply.headers["retry-after"], "1");
    let reply = post(
        addr,
        "/v1/responses",
        &[
            ("x-sim-fault", "error-event"),
            ("x-sim-fault-after-tokens", "3"),
        ],
        &responses_body(true, 32),
    )
    .await
    .unwrap();
    let events = named_events(&reply.body);
    let (name, last) = events.last().unwrap();
    assert_eq!(name, "response.failed");
    assert_eq!(last["response"]["status"], "failed");
    assert_eq!(last["response"]["error"]["code"], "server_error");
    assert_eq!(
        events
            .iter()
            .filter(|(n, _)| n == "response.output_text.delta")
            .count(),
        3
    );
    let record = truth(addr, &reply.request_id()).await;
    assert_eq!(
        (record["fault"].as_str(), record["outcome"].as_str()),
        (Some("error-event"), Some("aborted_by_fault"))
    );
    // Bad requests get the API's 400.
    let reply = post(addr, "/v1/responses", &[], &json!({"model": "m"}))
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["param"], "input");
}

fn messages_body(stream: bool, max: u32) -> Value {
    json!({"model": "claude-sim", "system": "be brief", "max_tokens": max, "stream": stream,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "one two three"}]}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_stream_has_the_real_event_sequence_and_usage() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let headers = [
        ("x-sim-output-tokens", "12"),
        ("x-sim-reasoning-tokens", "3"),
    ];
    let reply = post(addr, "/v1/messages", &headers, &messages_body(true, 64))
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    let id = reply.request_id();
    let events = named_events(&reply.body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[..3],
        ["message_start", "content_block_start", "ping"]
    );
    assert_eq!(
        &names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    for (name, data) in &events {
        assert_eq!(&data["type"], name);
    }
    let start = &events[0].1["message"];
    assert_eq!(start["id"], format!("msg_{id}"));
    assert_eq!(
        start["usage"]["input_tokens"], 5,
        "system and messages are counted"
    );
    let deltas: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "content_block_delta")
        .map(|(_, d)| &d["delta"])
        .collect();
    let kinds: Vec<&str> = deltas.iter().map(|d| d["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "thinking_delta").count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == "signature_delta").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "text_delta").count(), 9);
    assert_eq!(
        kinds[3], "signature_delta",
        "the signature closes the thinking block"
    );
    let message_delta = &events[events.len() - 2].1;
    assert_eq!(message_delta["usage"]["output_tokens"], 12);
    assert_eq!(message_delta["delta"]["stop_reason"], "end_turn");
    let record = truth(addr, &format!("msg_{id}")).await;
    assert_eq!(
        (
            record["input_tokens"].as_u64(),
            record["output_tokens"].as_u64()
        ),
        (Some(5), Some(12))
    );
    assert_eq!(record["outcome"], "completed");

    // Without streaming: a message with the thinking and text blocks; max_tokens stops it.
    let reply = post(addr, "/v1/messages", &[], &messages_body(false, 7))
        .await
        .unwrap();
    let body = reply.json();
    assert_eq!(
        (body["type"].as_str(), body["stop_reason"].as_str()),
        (Some("message"), Some("max_tokens"))
    );
    assert_eq!(
        body["content"][0]["text"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .count(),
        7
    );
    assert_eq!(body["usage"]["output_tokens"], 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_errors_use_anthropics_shape() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let reply = post(
        addr,
        "/v1/messages",
        &[("x-sim-fault", "429")],
        &messages_body(true, 8),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    let body = reply.json();
    assert_eq!(
        (body["type"].as_str(), body["error"]["type"].as_str()),
        (Some("error"), Some("rate_limit_error"))
    );
    let reply = post(
        addr,
        "/v1/messages",
        &[
            ("x-sim-fault", "error-event"),
            ("x-sim-fault-after-tokens", "2"),
        ],
        &messages_body(true, 8),
    )
    .await
    .unwrap();
    let events = named_events(&reply.body);
    let (name, error) = events.last().unwrap();
    assert_eq!(name, "error");
    assert_eq!(error["error"]["type"], "overloaded_error");
    assert_eq!(
        events
            .iter()
            .filter(|(n, _)| n == "content_block_delta")
            .count(),
        2
    );
    let reply = post(
        addr,
        "/v1/messages",
        &[("x-sim-fault", "error-event")],
        &messages_body(false, 8),
    )
    .await
    .unwrap();
    assert_eq!(reply.status.as_u16(), 529);
    assert_eq!(reply.json()["error"]["type"], "overloaded_error");
    // max_tokens is required, as the real API.
    let reply = post(
        addr,
        "/v1/messages",
        &[],
        &json!({"model": "c", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let body = reply.json();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("max_tokens"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_events_go_out_with_the_headers_and_text_at_ttft() {
    let server = start(&["--ttft-ms", "80", "--itl-ms", "10"]).await;
    let addr = server.http_addr;
    for path in ["/v1/messages", "/v1/responses"] {
        let body = if path == "/v1/messages" {
            messages_body(true, 20)
        } else {
            responses_body(true, 20)
        };
        let reply = post(addr, path, &[("x-sim-output-tokens", "5")], &body)
            .await
            .unwrap();
        let record = truth(addr, &reply.request_id()).await;
        let ms = |key: &str| {
            (record[key].as_u64().unwrap() - record["received_us"].as_u64().unwrap()) as f64
                / 1000.0
        };
        assert!(
            ms("first_chunk_sent_us") < 20.0,
            "{path}: opening events at once ({} ms)",
            ms("first_chunk_sent_us")
        );
        assert!(
            ms("first_token_sent_us") >= 80.0,
            "{path}: first token at TTFT"
        );
        assert!(
            ms("last_token_sent_us") >= 80.0 + 4.0 * 10.0,
            "{path}: four ITLs later"
        );
        // The client saw the opening events well before the first token.
        let first = reply.frames[0].0 - reply.sent_at;
        assert!(
            first.as_millis() < 60,
            "{path}: first frame after {first:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_speaks_sse_json_lines_and_whole_bodies() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let request = |format: &str, stream: bool| json!({"prompt": "one two three four", "max_new_tokens": 6, "stream": stream, "format": format});
    let reply = post(
        addr,
        "/v1/generate",
        &[("x-sim-reasoning-tokens", "2")],
        &request("sse", true),
    )
    .await
    .unwrap();
    let id = reply.request_id();
    let events = named_events(&reply.body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["start", "think", "think", "token", "token", "token", "token", "stats", "end"]
    );
    assert_eq!(events[0].1["id"], format!("gen-{id}"));
    assert_eq!(
        events[7].1,
        json!({"prompt_tokens": 4, "generated_tokens": 6, "reasoning_tokens": 2, "finish": "length"})
    );

    let reply = post(addr, "/v1/generate", &[], &request("ndjson", true))
        .await
        .unwrap();
    assert_eq!(reply.headers["content-type"], "application/x-ndjson");
    let lines: Vec<Value> = reply
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["start", "token", "token", "token", "token", "token", "token", "stats", "end"]
    );

    let reply = post(addr, "/v1/generate", &[], &request("sse", false))
        .await
        .unwrap();
    let body = reply.json();
    assert_eq!(body["text"].as_str().unwrap().split_whitespace().count(), 6);
    assert_eq!(
        (
            body["prompt_tokens"].as_u64(),
            body["generated_tokens"].as_u64()
        ),
        (Some(4), Some(6))
    );

    let reply = post(
        addr,
        "/v1/generate",
        &[
            ("x-sim-fault", "error-event"),
            ("x-sim-fault-after-tokens", "1"),
        ],
        &request("sse", true),
    )
    .await
    .unwrap();
    let (name, fail) = named_events(&reply.body).pop().unwrap();
    assert_eq!(name, "fail");
    assert!(fail["reason"]
        .as_str()
        .unwrap()
        .contains("mid-stream failure simulated"));
    let reply = post(
        addr,
        "/v1/generate",
        &[("x-sim-fault", "503")],
        &request("sse", true),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.json()["error"].is_string());
    let reply = post(addr, "/v1/generate", &[], &json!({"max_new_tokens": 2}))
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json(), json!({"error": "prompt is required"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_faults_cut_stall_and_garble_every_api() {
    let server = start(&["--itl-ms", "1"]).await;
    let addr = server.http_addr;
    for (path, body, token_event) in [
        (
            "/v1/responses",
            responses_body(true, 32),
            "event: response.output_text.delta\n",
        ),
        (
            "/v1/messages",
            messages_body(true, 32),
            "event: content_block_delta\n",
        ),
    ] {
        let broken = post(
            addr,
            path,
            &[
                ("x-sim-fault", "disconnect"),
                ("x-sim-fault-after-tokens", "4"),
            ],
            &body,
        )
        .await
        .unwrap_err();
        assert_eq!(broken.status, Some(StatusCode::OK), "{path}");
        let received = String::from_utf8_lossy(&broken.received);
        assert_eq!(
            received.matches(token_event).count(),
            4,
            "{path}: {received}"
        );
        let reply = post(
            addr,
            path,
            &[
                ("x-sim-fault", "malformed-sse"),
                ("x-sim-fault-after-tokens", "1"),
            ],
            &body,
        )
        .await
        .unwrap();
        assert!(
            reply.text().contains("<<llm-sim malformed-sse fault>>"),
            "{path}"
        );
        let reply = post(addr, path, &[("x-sim-fault", "non-json")], &body)
            .await
            .unwrap();
        assert!(reply.text().starts_with("<html>"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_error_event_ends_the_stream_with_an_error_chunk() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let reply = post_chat(
        addr,
        &[
            ("x-sim-fault", "error-event"),
            ("x-sim-fault-after-tokens", "2"),
        ],
        &chat_body("hi", true, Some(8)),
    )
    .await
    .unwrap();
    let events = sse_events(&reply.body);
    let last = events.last().unwrap();
    assert_eq!(last["error"]["type"], "server_error");
    assert_eq!(content_deltas(&events).len(), 2);
    let reply = post_chat(
        addr,
        &[("x-sim-fault", "error-event")],
        &chat_body("hi", false, Some(8)),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_allow_the_new_apis_headers() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let reply = fetch(
        addr,
        Method::OPTIONS,
        "/v1/messages",
        &[
            ("origin", "http://page.test"),
            ("access-control-request-method", "POST"),
        ],
        "",
    )
    .await
    .unwrap();
    let allowed = reply.headers["access-control-allow-headers"]
        .to_str()
        .unwrap();
    for header in [
        "x-api-key",
        "anthropic-version",
        "anthropic-dangerous-direct-browser-access",
        "authorization",
        "x-sim-reasoning-tokens",
    ] {
        assert!(allowed.contains(header), "{header} in {allowed}");
    }
}
