//! Wire format, error shapes, CORS and the ground-truth API, observed from a real client.

mod common;

use common::*;
use hyper::{Method, StatusCode};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_chunks_follow_the_openai_format() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let reply = post_chat(addr, &[], &chat_body("one two three four", true, Some(5)))
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let id = reply.request_id();
    let events = sse_events(&reply.body);

    // role chunk, 5 tokens, finish chunk, usage chunk, [DONE]
    assert_eq!(events.len(), 9, "{}", reply.text());
    let role = &events[0];
    assert_eq!(role["id"], format!("chatcmpl-{id}"));
    assert_eq!(role["object"], "chat.completion.chunk");
    assert_eq!(role["model"], "test-model");
    assert_eq!(role["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(role["choices"][0]["delta"]["content"], "");
    for chunk in &events[..8] {
        assert_eq!(
            chunk["id"],
            format!("chatcmpl-{id}"),
            "every chunk carries the id"
        );
        assert!(chunk.as_object().unwrap().contains_key("usage"));
    }
    for chunk in &events[..7] {
        assert!(
            chunk["usage"].is_null(),
            "usage is null until the last chunk"
        );
        assert_eq!(chunk["choices"].as_array().unwrap().len(), 1);
    }
    let deltas = content_deltas(&events);
    assert_eq!(deltas, [" The", " quick", " brown", " fox", " jumps"]);
    assert_eq!(
        events[6]["choices"][0]["finish_reason"], "length",
        "stopped by max_tokens"
    );
    assert_eq!(events[6]["choices"][0]["delta"], serde_json::json!({}));
    let usage = &events[7]["usage"];
    assert_eq!(events[7]["choices"], serde_json::json!([]));
    assert_eq!(usage["prompt_tokens"], 4);
    assert_eq!(usage["completion_tokens"], 5);
    assert_eq!(usage["total_tokens"], 9);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 0);
    assert_eq!(events[8], "[DONE]");

    let truth = record(addr, &id).await;
    assert_eq!(truth["input_tokens"], 4);
    assert_eq!(truth["output_tokens"], 5);
    assert_eq!(truth["status"], 200);
    assert_eq!(truth["stream"], true);
    assert_eq!(truth["outcome"], "completed");
    assert_eq!(truth["finish_reason"], "length");
    let (received, headers, first_chunk, first, last, done) = (
        us(&truth["received_us"]),
        us(&truth["headers_sent_us"]),
        us(&truth["first_chunk_sent_us"]),
        us(&truth["first_token_sent_us"]),
        us(&truth["last_token_sent_us"]),
        us(&truth["done_us"]),
    );
    assert!(
        received <= headers
            && headers <= first_chunk
            && first_chunk <= first
            && first <= last
            && last <= done,
        "{truth}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_without_usage_and_with_stop() {
    let server = start(&["--output-tokens", "3"]).await;
    let body = serde_json::json!({
        "model": "m", "stream": true, "max_completion_tokens": 10,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "a b"}, {"type": "image_url", "image_url": {"url": "data:x"}}]}],
    })
    .to_string();
    let reply = post_chat(server.http_addr, &[], &body).await.unwrap();
    let events = sse_events(&reply.body);
    assert_eq!(
        events.len(),
        6,
        "role, 3 tokens, finish, [DONE]: {}",
        reply.text()
    );
    assert!(events[..5]
        .iter()
        .all(|e| !e.as_object().unwrap().contains_key("usage")));
    assert_eq!(
        events[4]["choices"][0]["finish_reason"], "stop",
        "natural length below the limit"
    );
    let truth = record(server.http_addr, &reply.request_id()).await;
    assert_eq!(
        (
            truth["input_tokens"].as_u64(),
            truth["output_tokens"].as_u64()
        ),
        (Some(2), Some(3))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_streaming_completion_and_models() {
    let server = start(&[
        "--model",
        "alpha",
        "--model",
        "beta",
        "--default-output-tokens",
        "7",
    ])
    .await;
    let addr = server.http_addr;
    let reply = post_chat(
        addr,
        &[],
        &chat_body("count   these\nfive words  please", false, None),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(
        reply.headers["content-length"],
        reply.body.len().to_string().as_str()
    );
    let json = reply.json();
    assert_eq!(json["object"], "chat.completion");
    assert_eq!(json["id"], format!("chatcmpl-{}", reply.request_id()));
    assert_eq!(json["choices"][0]["message"]["role"], "assistant");
    let content = json["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(content.split_whitespace().count(), 7);
    assert_eq!(json["choices"][0]["finish_reason"], "stop");
    assert_eq!(json["usage"]["prompt_tokens"], 5);
    assert_eq!(json["usage"]["completion_tokens"], 7);
    assert_eq!(json["usage"]["total_tokens"], 12);
    let truth = record(addr, &reply.request_id()).await;
    assert_eq!(truth["stream"], false);
    assert_eq!(truth["output_tokens"], 7);

    let models = fetch(addr, Method::GET, "/v1/models", &[], "")
        .await
        .unwrap()
        .json();
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alpha", "beta"]);
    assert_eq!(models["data"][0]["object"], "model");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_200_with_an_empty_body_like_vllm() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let reply = fetch(addr, Method::GET, "/health", &[], "").await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty(), "{}", reply.text());
    assert!(!reply.request_id().is_empty());

    let wrong = fetch(addr, Method::POST, "/health", &[], "{}")
        .await
        .unwrap();
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.headers["allow"], "GET, OPTIONS");
    let records = fetch(addr, Method::GET, "/sim/requests", &[], "")
        .await
        .unwrap()
        .json();
    assert_eq!(
        records["requests"],
        serde_json::json!([]),
        "health checks are not chat requests"
    );
}

fn assert_error_shape(json: &Value, error_type: &str) {
    let error = json["error"]
        .as_object()
        .unwrap_or_else(|| panic!("no error object: {json}"));
    let keys: Vec<&str> = error.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 4, "{json}");
    for key in ["message", "type", "param", "code"] {
        assert!(error.contains_key(key), "{key} missing in {json}");
    }
    assert!(!error["message"].as_str().unwrap().is_empty());
    assert_eq!(error["type"], error_type);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_openai_error_shapes() {
    let server = start(&[]).await;
    let addr = server.http_addr;

    let cases: [(&str, Option<&str>, Option<&str>); 4] = [
        ("{\"model\": ", None, None),
        (
            r#"{"model":"m"}"#,
            Some("messages"),
            Some("missing_required_parameter"),
        ),
        (r#"{"model":"m","messages":"hi"}"#, None, None),
        (
            r#"{"model":"m","messages":[{"content":"x"}],"max_tokens":0}"#,
            Some("max_tokens"),
            Some("integer_below_min_value"),
        ),
    ];
    for (body, param, code) in cases {
        let reply = post_chat(addr, &[], body).await.unwrap();
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(reply.headers.contains_key("x-request-id"));
        let json = reply.json();
        assert_error_shape(&json, "invalid_request_error");
        assert_eq!(json["error"]["param"].as_str(), param, "{body}");
        assert_eq!(json["error"]["code"].as_str(), code, "{body}");
    }

    let bad_header = post_chat(
        addr,
        &[("x-sim-ttft-ms", "soon")],
        &chat_body("x", false, None),
    )
    .await
    .unwrap();
    assert_eq!(bad_header.status, StatusCode::BAD_REQUEST);
    assert!(bad_header.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("x-sim-ttft-ms"));

    let wrong_method = fetch(addr, Method::GET, "/v1/chat/completions", &[], "")
        .await
        .unwrap();
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.headers["allow"], "POST, OPTIONS");
    assert_error_shape(&wrong_method.json(), "invalid_request_error");

    let unknown = fetch(addr, Method::POST, "/v1/completions-typo", &[], "{}")
        .await
        .unwrap();
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let json = unknown.json();
    assert_error_shape(&json, "invalid_request_error");
    assert_eq!(
        json["error"]["message"],
        "Invalid URL (POST /v1/completions-typo)"
    );

    let too_big = start(&["--max-body-bytes", "64"]).await;
    let reply = post_chat(
        too_big.http_addr,
        &[],
        &chat_body(&"word ".repeat(50), false, None),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error_shape(&reply.json(), "invalid_request_error");

    // Nothing above was a valid chat request: no ground truth was recorded.
    let all = fetch(addr, Method::GET, "/sim/requests", &[], "")
        .await
        .unwrap()
        .json();
    assert_eq!(all["requests"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_and_response_headers() {
    let server = start(&["--cors-max-age-s", "600"]).await;
    let addr = server.http_addr;
    let origin = "http://localhost:8765";
    let preflight = fetch(
        addr,
        Method::OPTIONS,
        "/v1/chat/completions",
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type, x-sim-ttft-ms",
            ),
        ],
        "",
    )
    .await
    .unwrap();
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    let h = &preflight.headers;
    assert_eq!(h["access-control-allow-origin"], origin);
    assert_eq!(
        h["access-control-allow-methods"],
        "GET, POST, DELETE, OPTIONS"
    );
    assert_eq!(
        h["access-control-allow-headers"],
        "authorization, content-type, x-sim-ttft-ms"
    );
    assert_eq!(h["access-control-max-age"], "600");
    assert!(preflight.body.is_empty());

    // Without Access-Control-Request-Headers the default list names every x-sim-* header.
    let bare = fetch(addr, Method::OPTIONS, "/v1/models", &[], "")
        .await
        .unwrap();
    assert_eq!(bare.status, StatusCode::NO_CONTENT);
    assert_eq!(bare.headers["access-control-allow-origin"], "*");
    let allowed = bare.headers["access-control-allow-headers"]
        .to_str()
        .unwrap();
    for name in [
        "authorization",
        "content-type",
        "x-sim-ttft-ms",
        "x-sim-itl-ms",
        "x-sim-fault",
        "x-sim-output-tokens",
    ] {
        assert!(allowed.contains(name), "{name} not in {allowed}");
    }

    let reply = post_chat(addr, &[("origin", origin)], &chat_body("hi", true, Some(2)))
        .await
        .unwrap();
    assert_eq!(reply.headers["access-control-allow-origin"], origin);
    assert!(reply.headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("x-request-id"));
    assert_eq!(reply.headers["timing-allow-origin"], "*");
    assert!(reply.headers.get_all("vary").iter().any(|v| v == "Origin"));
    let error = fetch(addr, Method::GET, "/nope", &[("origin", origin)], "")
        .await
        .unwrap();
    assert_eq!(
        error.headers["access-control-allow-origin"], origin,
        "errors carry CORS too"
    );

    let misconfigured = start(&["--no-cors"]).await;
    let preflight = fetch(
        misconfigured.http_addr,
        Method::OPTIONS,
        "/v1/chat/completions",
        &[("origin", origin)],
        "",
    )
    .await
    .unwrap();
    assert_eq!(preflight.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(!preflight
        .headers
        .contains_key("access-control-allow-origin"));
    let reply = post_chat(
        misconfigured.http_addr,
        &[("origin", origin)],
        &chat_body("hi", false, Some(1)),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.headers.contains_key("access-control-allow-origin"));
    assert!(!reply.headers.contains_key("timing-allow-origin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ground_truth_filtering_clearing_and_clock() {
    let server = start(&[]).await;
    let addr = server.http_addr;
    let clock_before = us(&fetch(addr, Method::GET, "/sim/clock", &[], "")
        .await
        .unwrap()
        .json()["now_us"]);
    let mut ids = Vec::new();
    for words in ["a", "a b", "a b c"] {
        ids.push(
            post_chat(addr, &[], &chat_body(words, false, Some(1)))
                .await
                .unwrap()
                .request_id(),
        );
    }
    let clock_after = us(&fetch(addr, Method::GET, "/sim/clock", &[], "")
        .await
        .unwrap()
        .json()["now_us"]);
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 3, "request ids are unique");

    let all = fetch(addr, Method::GET, "/sim/requests", &[], "")
        .await
        .unwrap()
        .json();
    let records = all["requests"].as_array().unwrap();
    let recorded: Vec<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        recorded,
        ids.iter().map(String::as_str).collect::<Vec<_>>(),
        "arrival order"
    );
    for record in records {
        let received = us(&record["received_us"]);
        assert!(clock_before <= received && us(&record["done_us"]) <= clock_after);
    }
    assert!(us(&all["now_us"]) >= clock_after);

    let second = record(addr, &ids[1]).await;
    assert_eq!(second["input_tokens"], 2);
    let by_chunk_id = record(addr, &format!("chatcmpl-{}", ids[2])).await;
    assert_eq!(by_chunk_id["input_tokens"], 3);
    let none = fetch(addr, Method::GET, "/sim/requests?id=ffff", &[], "")
        .await
        .unwrap()
        .json();
    assert_eq!(none["requests"], serde_json::json!([]));

    let cleared = fetch(addr, Method::DELETE, "/sim/requests", &[], "")
        .await
        .unwrap()
        .json();
    assert_eq!(cleared["cleared"], 3);
    let after = fetch(addr, Method::GET, "/sim/requests", &[], "")
        .await
        .unwrap()
        .json();
    assert_eq!(after["requests"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ground_truth_keeps_only_the_newest_records() {
    let server = start(&["--max-records", "2"]).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            post_chat(server.http_addr, &[], &chat_body("x", false, Some(1)))
                .await
                .unwrap()
                .request_id(),
        );
    }
    let all = fetch(server.http_addr, Method::GET, "/sim/requests", &[], "")
        .await
        .unwrap()
        .json();
    let kept: Vec<&str> = all["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(kept, [ids[1].as_str(), ids[2].as_str()]);
}
