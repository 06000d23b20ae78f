//! The timing model measured against the server's own ground truth (and the client's clock).

mod common;

use std::time::Duration;

use common::*;
use hyper::Method;

/// Tokio timers fire on the first millisecond tick at or after the deadline, never before;
/// scheduling on a busy 2-core machine adds a little more.
const LATE_MS: f64 = 6.0;

/// Timing tests run one at a time so they do not steal each other's CPU (cargo runs the
/// tests of one binary in parallel).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn ms_between(later: &serde_json::Value, earlier: &serde_json::Value) -> f64 {
    (us(later) - us(earlier)) as f64 / 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttft_and_itl_match_the_configuration() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let server = start(&["--ttft-ms", "50", "--itl-ms", "5"]).await;
    let addr = server.http_addr;
    let reply = post_chat(addr, &[], &chat_body("hello", true, Some(20)))
        .await
        .unwrap();
    let truth = record(addr, &reply.request_id()).await;
    assert_eq!(truth["output_tokens"], 20);
    assert_eq!(truth["planned_ttft_us"], 50_000);

    let ttft = ms_between(&truth["first_token_sent_us"], &truth["received_us"]);
    assert!((49.999..50.0 + LATE_MS).contains(&ttft), "ttft {ttft} ms");
    // 19 gaps of 5 ms on an absolute schedule: lateness does not add up.
    let decode = ms_between(&truth["last_token_sent_us"], &truth["first_token_sent_us"]);
    assert!(
        (95.0 - LATE_MS..95.0 + LATE_MS).contains(&decode),
        "first→last {decode} ms"
    );

    // Headers go out right away; the role chunk waits for the first token.
    assert!(ms_between(&truth["headers_sent_us"], &truth["received_us"]) < 5.0);
    assert!(ms_between(&truth["first_token_sent_us"], &truth["first_chunk_sent_us"]) < 1.0);

    // The client sees the first content no earlier than the server sent it, and the
    // spacing of token frames it observes matches the configured ITL.
    let token_frames: Vec<_> = reply
        .frames
        .iter()
        .filter(|(_, data)| std::str::from_utf8(data).is_ok_and(|t| t.contains("\"content\":\" ")))
        .collect();
    assert_eq!(token_frames.len(), 20);
    let client_ttft = token_frames[0]
        .0
        .duration_since(reply.sent_at)
        .as_secs_f64()
        * 1000.0;
    assert!(
        client_ttft >= ttft,
        "client {client_ttft} ms vs server {ttft} ms"
    );
    let client_decode = token_frames[19]
        .0
        .duration_since(token_frames[0].0)
        .as_secs_f64()
        * 1000.0;
    assert!(
        (client_decode - decode).abs() < LATE_MS,
        "client {client_decode} vs server {decode}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_override_the_configuration_per_request() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let server = start(&["--ttft-ms", "500", "--itl-ms", "100"]).await;
    let addr = server.http_addr;
    let headers = [
        ("x-sim-ttft-ms", "20"),
        ("x-sim-itl-ms", "2"),
        ("x-sim-output-tokens", "6"),
    ];
    let reply = post_chat(addr, &headers, &chat_body("x", true, None))
        .await
        .unwrap();
    let truth = record(addr, &reply.request_id()).await;
    assert_eq!(truth["output_tokens"], 6);
    assert_eq!(truth["finish_reason"], "stop");
    let ttft = ms_between(&truth["first_token_sent_us"], &truth["received_us"]);
    assert!((20.0..20.0 + LATE_MS).contains(&ttft), "ttft {ttft}");
    let decode = ms_between(&truth["last_token_sent_us"], &truth["first_token_sent_us"]);
    assert!(
        (10.0 - LATE_MS..10.0 + LATE_MS).contains(&decode),
        "decode {decode}"
    );

    // Output tokens from the header are still capped by max_tokens.
    let capped = post_chat(addr, &headers, &chat_body("x", false, Some(4)))
        .await
        .unwrap();
    assert_eq!(capped.json()["usage"]["completion_tokens"], 4);
    assert_eq!(capped.json()["choices"][0]["finish_reason"], "length");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_streaming_answers_when_generation_would_end() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let server = start(&["--ttft-ms", "30", "--itl-ms", "4"]).await;
    let addr = server.http_addr;
    let reply = post_chat(addr, &[], &chat_body("x", false, Some(11)))
        .await
        .unwrap();
    let truth = record(addr, &reply.request_id()).await;
    // ttft + 10 gaps; headers, body and tokens all go out together.
    let total = ms_between(&truth["headers_sent_us"], &truth["received_us"]);
    assert!((70.0..70.0 + LATE_MS).contains(&total), "total {total}");
    assert_eq!(truth["first_token_sent_us"], truth["last_token_sent_us"]);
    assert!(us(&truth["done_us"]) >= us(&truth["headers_sent_us"]));
    let client_total = reply.frames[0]
        .0
        .duration_since(reply.sent_at)
        .as_secs_f64()
        * 1000.0;
    assert!(client_total >= total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefill_cost_grows_ttft_with_prompt_length() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let server = start(&["--ttft-ms", "10", "--prefill-us-per-token", "100"]).await;
    let addr = server.http_addr;
    let mut ttfts = Vec::new();
    for words in [10usize, 200, 400] {
        let prompt = vec!["word"; words].join(" ");
        let reply = post_chat(addr, &[], &chat_body(&prompt, true, Some(2)))
            .await
            .unwrap();
        let truth = record(addr, &reply.request_id()).await;
        assert_eq!(truth["input_tokens"], words as u64);
        assert_eq!(us(&truth["planned_ttft_us"]), 10_000 + 100 * words as i64);
        ttfts.push(ms_between(
            &truth["first_token_sent_us"],
            &truth["received_us"],
        ));
    }
    for (ttft, expected) in ttfts.iter().zip([11.0, 30.0, 50.0]) {
        assert!(
            (expected..expected + LATE_MS).contains(ttft),
            "ttft {ttft} vs {expected}"
        );
    }
    // Per request, the header overrides the per-token cost.
    let prompt = vec!["w"; 100].join(" ");
    let reply = post_chat(
        addr,
        &[("x-sim-prefill-us-per-token", "1000")],
        &chat_body(&prompt, true, Some(1)),
    )
    .await
    .unwrap();
    assert_eq!(
        us(&record(addr, &reply.request_id()).await["planned_ttft_us"]),
        110_000
    );
}

async fn planned_ttfts(seed: &str, requests: usize) -> Vec<i64> {
    let server = start(&[
        "--seed",
        seed,
        "--ttft-ms",
        "normal:40,8",
        "--output-tokens",
        "uniform:1,9",
    ])
    .await;
    let mut planned = Vec::new();
    for _ in 0..requests {
        let reply = post_chat(server.http_addr, &[], &chat_body("x", false, None)).await;
        let truth = record(server.http_addr, &reply.unwrap().request_id()).await;
        planned.push(us(&truth["planned_ttft_us"]));
        planned.push(truth["planned_output_tokens"].as_i64().unwrap());
    }
    planned
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_distributions_are_reproducible_across_runs() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let first = planned_ttfts("42", 5).await;
    assert_eq!(first, planned_ttfts("42", 5).await, "same seed, same draws");
    assert_ne!(
        first,
        planned_ttfts("43", 5).await,
        "another seed, other draws"
    );
    assert!(first.chunks(2).all(|pair| (1..=9).contains(&pair[1])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drawn_ttft_has_the_configured_mean_and_spread() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let server = start(&["--seed", "7", "--ttft-ms", "normal:3,1"]).await;
    let addr = server.http_addr;
    let n = 200;
    for _ in 0..n {
        let reply = post_chat(addr, &[], &chat_body("x", true, Some(1)))
            .await
            .unwrap();
        assert_eq!(reply.status, 200);
    }
    let all = fetch(addr, Method::GET, "/sim/requests", &[], "")
        .await
        .unwrap()
        .json();
    let records = all["requests"].as_array().unwrap();
    assert_eq!(records.len(), n);
    let planned: Vec<f64> = records
        .iter()
        .map(|r| us(&r["planned_ttft_us"]) as f64 / 1000.0)
        .collect();
    let mean = planned.iter().sum::<f64>() / n as f64;
    let sd = (planned.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    assert!((mean - 3.0).abs() < 0.25, "mean {mean}");
    assert!((sd - 1.0).abs() < 0.25, "sd {sd}");
    // And the server honoured each draw: never early, typically within a timer tick (single
    // outliers come from the OS scheduler when the 2 cores are busy).
    let mut lateness: Vec<f64> = records
        .iter()
        .map(|r| {
            let actual = (us(&r["first_token_sent_us"]) - us(&r["received_us"])) as f64 / 1000.0;
            actual - us(&r["planned_ttft_us"]) as f64 / 1000.0
        })
        .collect();
    lateness.sort_by(f64::total_cmp);
    assert!(
        lateness[0] >= -0.001,
        "a token went out early: {} ms",
        lateness[0]
    );
    let median = lateness[n / 2];
    assert!(median < 2.0, "median lateness {median} ms");
    let p90 = lateness[n * 9 / 10];
    assert!(p90 < LATE_MS, "p90 lateness {p90} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_delays_do_not_wait() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let server = start(&[]).await;
    let addr = server.http_addr;
    let started = std::time::Instant::now();
    let reply = post_chat(addr, &[], &chat_body("x", true, Some(500)))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_millis(500));
    let truth = record(addr, &reply.request_id()).await;
    assert_eq!(truth["output_tokens"], 500);
    assert!(
        ms_between(&truth["done_us"], &truth["received_us"]) < 50.0,
        "{truth}"
    );
}
