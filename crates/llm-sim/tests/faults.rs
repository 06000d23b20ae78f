//! Every fault mode, observed from a real client, and its ground-truth record.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hyper::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_error_faults_have_retry_after_and_the_openai_shape() {
    let server = start(&["--retry-after-s", "3"]).await;
    let addr = server.http_addr;
    for (fault, status, error_type, code) in [
        ("429", 429, "requests", Some("rate_limit_exceeded")),
        ("500", 500, "server_error", None),
        ("503", 503, "server_error", None),
    ] {
        for stream in [true, false] {
            let reply = post_chat(
                addr,
                &[("x-sim-fault", fault)],
                &chat_body("x", stream, Some(4)),
            )
            .await
            .unwrap();
            assert_eq!(reply.status.as_u16(), status);
            assert_eq!(reply.headers["retry-after"], "3");
            assert_eq!(reply.headers["content-type"], "application/json");
            let json = reply.json();
            assert!(json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()));
            assert_eq!(json["error"]["type"], error_type);
            assert!(json["error"]["param"].is_null());
            assert_eq!(json["error"]["code"].as_str(), code);
            let truth = record(addr, &reply.request_id()).await;
            assert_eq!(truth["fault"], fault);
            assert_eq!(truth["status"], status);
            assert_eq!(truth["output_tokens"], 0);
            assert!(truth["first_token_sent_us"].is_null());
            assert_eq!(truth["outcome"], "completed");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_closes_the_connection_before_any_header() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let error = post_chat(
        addr,
        &[("x-sim-fault", "reset")],
        &chat_body("x", true, Some(4)),
    )
    .await
    .unwrap_err();
    assert_eq!(error.status, None, "no response head: {error:?}");

    // On the wire: not a single byte comes back before the close.
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let body = chat_body("x", false, Some(4));
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-sim-fault: reset\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(2), socket.read_to_end(&mut received)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "connection closed: {read:?}"
    );
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );

    let all = fetch(addr, Method::GET, "/sim/requests", &[], "")
        .await
        .unwrap()
        .json();
    assert_eq!(all["requests"].as_array().unwrap().len(), 2);
    for record in all["requests"].as_array().unwrap() {
        assert_eq!(record["fault"], "reset");
        assert_eq!(record["outcome"], "aborted_by_fault");
        assert!(record["status"].is_null() && record["headers_sent_us"].is_null());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_cuts_the_stream_after_some_tokens() {
    let server = start(&["--itl-ms", "1"]).await;
    let addr = server.http_addr;
    let headers = [
        ("x-sim-fault", "disconnect"),
        ("x-sim-fault-after-tokens", "3"),
    ];
    let broken = post_chat(addr, &headers, &chat_body("x", true, Some(10)))
        .await
        .unwrap_err();
    assert_eq!(broken.status, Some(StatusCode::OK));
    let text = String::from_utf8_lossy(&broken.received).into_owned();
    assert!(!text.contains("[DONE]"), "{text}");
    let events = sse_events(&broken.received);
    assert_eq!(
        content_deltas(&events),
        [" The", " quick", " brown"],
        "three tokens, then the cut"
    );
    let id = events[0]["id"]
        .as_str()
        .unwrap()
        .trim_start_matches("chatcmpl-")
        .to_string();
    let truth = record(addr, &id).await;
    assert_eq!(truth["fault"], "disconnect");
    assert_eq!(truth["outcome"], "aborted_by_fault");
    assert_eq!(truth["output_tokens"], 3);
    assert_eq!(truth["planned_output_tokens"], 10);

    // Default: half the output.
    let broken = post_chat(
        addr,
        &[("x-sim-fault", "disconnect")],
        &chat_body("x", true, Some(8)),
    )
    .await
    .unwrap_err();
    assert_eq!(content_deltas(&sse_events(&broken.received)).len(), 4);

    // Non-streaming: a truncated body under a full Content-Length.
    let broken = post_chat(
        addr,
        &[("x-sim-fault", "disconnect")],
        &chat_body("x", false, Some(8)),
    )
    .await
    .unwrap_err();
    assert_eq!(broken.status, Some(StatusCode::OK));
    assert!(!broken.received.is_empty());
    assert!(serde_json::from_slice::<serde_json::Value>(&broken.received).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_outlasts_a_client_timeout() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let headers = [("x-sim-fault", "stall"), ("x-sim-fault-after-tokens", "2")];
    let sent_at = Instant::now();
    let response = send(
        addr,
        Method::POST,
        "/v1/chat/completions",
        &headers,
        &chat_body("x", true, Some(6)),
    )
    .await
    .unwrap();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let timed_out = read_reply(response, sent_at, Some(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert_eq!(timed_out.error, "timeout");
    assert_eq!(
        content_deltas(&sse_events(&timed_out.received)),
        [" The", " quick"]
    );
    drop(timed_out); // the client gives up and closes its connection
    let truth = record_when(addr, &id, |r| r["outcome"] == "client_disconnected").await;
    assert_eq!(
        truth["outcome"], "client_disconnected",
        "the server noticed the client leave: {truth}"
    );
    assert_eq!(truth["fault"], "stall");
    assert_eq!(truth["output_tokens"], 2);
    let silent_ms = (us(&truth["done_us"]) - us(&truth["last_token_sent_us"])) as f64 / 1000.0;
    assert!(
        silent_ms >= 300.0,
        "nothing was sent while the client waited: {silent_ms} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_stall_then_the_stream_resumes() {
    let server = start(&["--stall-ms", "150"]).await;
    let addr = server.http_addr;
    let headers = [("x-sim-fault", "stall"), ("x-sim-fault-after-tokens", "3")];
    let reply = post_chat(addr, &headers, &chat_body("x", true, Some(6)))
        .await
        .unwrap();
    assert_eq!(content_deltas(&sse_events(&reply.body)).len(), 6);
    let truth = record(addr, &reply.request_id()).await;
    assert_eq!(truth["outcome"], "completed");
    let gap_ms =
        (us(&truth["last_token_sent_us"]) - us(&truth["first_token_sent_us"])) as f64 / 1000.0;
    assert!(
        (150.0..160.0).contains(&gap_ms),
        "the stall sits between token 3 and 4: {gap_ms} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_sse_puts_garbage_mid_stream() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let headers = [
        ("x-sim-fault", "malformed-sse"),
        ("x-sim-fault-after-tokens", "2"),
    ];
    let reply = post_chat(addr, &headers, &chat_body("x", true, Some(4)))
        .await
        .unwrap();
    let text = reply.text();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    // role, 2 tokens, garbage, 2 tokens, finish, usage, [DONE]
    assert_eq!(events.len(), 9, "{text}");
    assert!(events[3].starts_with("data: "));
    assert!(serde_json::from_str::<serde_json::Value>(&events[3]["data: ".len()..]).is_err());
    for (i, event) in events
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 8)
    {
        assert!(
            serde_json::from_str::<serde_json::Value>(&event["data: ".len()..]).is_ok(),
            "event {i}"
        );
    }
    assert_eq!(events[8], "data: [DONE]");
    assert_eq!(
        record(addr, &reply.request_id()).await["fault"],
        "malformed-sse"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_json_claims_json_but_is_not() {
    let server = start(&[]).await;
    for stream in [false, true] {
        let reply = post_chat(
            server.http_addr,
            &[("x-sim-fault", "non-json")],
            &chat_body("x", stream, Some(3)),
        )
        .await
        .unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.headers["content-type"], "application/json");
        assert!(!reply.body.is_empty());
        assert!(serde_json::from_slice::<serde_json::Value>(&reply.body).is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_rate_is_seeded_and_can_be_suppressed() {
    async fn faults_seen(seed: &str) -> Vec<Option<String>> {
        let server = start(&["--seed", seed, "--fault-rate", "0.3", "--faults", "429,503"]).await;
        let mut seen = Vec::new();
        for _ in 0..60 {
            let reply = post_chat(server.http_addr, &[], &chat_body("x", false, Some(1)))
                .await
                .unwrap();
            let truth = record(server.http_addr, &reply.request_id()).await;
            assert_eq!(truth["status"], reply.status.as_u16());
            seen.push(truth["fault"].as_str().map(str::to_string));
        }
        let suppressed = post_chat(
            server.http_addr,
            &[("x-sim-fault", "none")],
            &chat_body("x", false, Some(1)),
        )
        .await;
        assert_eq!(suppressed.unwrap().status, StatusCode::OK);
        seen
    }
    let first = faults_seen("11").await;
    assert_eq!(first, faults_seen("11").await);
    let faulted = first.iter().filter(|f| f.is_some()).count();
    assert!((6..=32).contains(&faulted), "about 30% of 60: {faulted}");
    assert!(first.iter().flatten().all(|f| f == "429" || f == "503"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_faults_lists_every_kind_and_each_one_is_injected() {
    let server = start(&["--stall-ms", "1", "--fault-after-tokens", "1"]).await;
    let addr = server.http_addr;
    let listed = fetch(addr, Method::GET, "/sim/faults", &[], "")
        .await
        .unwrap()
        .json();
    let faults = listed["faults"].as_array().expect("faults array");
    let names: Vec<&str> = faults.iter().map(|f| f["name"].as_str().unwrap()).collect();
    let all: Vec<&str> = llm_sim::faults::FaultKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(names, all, "every kind this build knows");
    assert!(names.contains(&"error-event"), "{listed}");
    let streams_only: Vec<&str> = faults
        .iter()
        .filter(|f| f["streams_only"] == true)
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(streams_only, ["malformed-sse"]);

    // Each listed name is one the header accepts, applied as the list says.
    let mut expected = Vec::new();
    for fault in faults {
        let name = fault["name"].as_str().unwrap();
        for stream in [true, false] {
            let _ = post_chat(
                addr,
                &[("x-sim-fault", name)],
                &chat_body("x", stream, Some(3)),
            )
            .await;
            let applies = stream || fault["streams_only"] == false;
            expected.push((name.to_string(), stream, applies.then(|| name.to_string())));
        }
    }
    let records = fetch(addr, Method::GET, "/sim/requests", &[], "")
        .await
        .unwrap()
        .json();
    let records = records["requests"].as_array().unwrap();
    assert_eq!(records.len(), expected.len(), "one record per request");
    let seen: Vec<(String, bool, Option<String>)> = records
        .iter()
        .zip(&expected)
        .map(|(r, (name, _, _))| {
            (
                name.clone(),
                r["stream"].as_bool().unwrap(),
                r["fault"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(seen, expected);

    let wrong = fetch(addr, Method::POST, "/sim/faults", &[], "")
        .await
        .unwrap();
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
}
