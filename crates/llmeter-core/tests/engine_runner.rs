//! The run engine on a virtual clock: tokio's paused time advances only when every task waits,
//! so these tests of concurrency, deadlines, timeouts and cancellation are exact and take
//! milliseconds of real time.

mod common;

use common::{
    run_with, stream_script, ChunkEndpoint, Ending, Script, ScriptedTransport, VirtualClock,
};
use llmeter_core::runner::{CancelToken, Progress, RunOptions};
use llmeter_core::tokenizer::WhitespaceTokenizer;
use llmeter_core::transport::HttpRequest;
use serde_json::{json, Value};
use tokio::time::{sleep, Duration};

// ---------- helpers ----------

fn payloads(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"prompt": format!("p{i} word"), "i": i}))
        .collect()
}

fn opts(clients: u32, n_requests: Option<u32>, payload_count: usize) -> RunOptions {
    RunOptions {
        clients,
        n_requests,
        payloads: payloads(payload_count),
        max_start_jitter_ms: 0.0,
        seed: 7,
        ..Default::default()
    }
}

struct Harness {
    clock: VirtualClock,
    transport: ScriptedTransport,
}

impl Harness {
    fn new(script: impl Fn(&HttpRequest) -> Script + 'static) -> Self {
        let clock = VirtualClock::new();
        let transport = ScriptedTransport::new(&clock, script);
        Harness { clock, transport }
    }

    async fn run(
        &self,
        o: &RunOptions,
        cancel: &CancelToken,
    ) -> (llmeter_core::result::RunResult, Vec<Progress>) {
        run_with(
            &ChunkEndpoint,
            &self.transport,
            &self.clock,
            &WhitespaceTokenizer,
            o,
            cancel,
        )
        .await
    }

    fn sent_indices(&self) -> Vec<u64> {
        self.transport
            .sent_bodies()
            .iter()
            .map(|b| b["i"].as_u64().unwrap())
            .collect()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

// ---------- tests ----------

#[tokio::test(start_paused = true)]
async fn times_each_request_from_chunk_arrivals() {
    let h =
        Harness::new(|_| stream_script(10.0, &[(40.0, "alpha "), (5.0, "beta "), (5.0, "gamma")]));
    let (result, _) = h.run(&opts(1, Some(1), 1), &CancelToken::new()).await;
    let r = &result.responses[0];
    assert_eq!(r.error, None);
    assert!(
        close(r.time_to_first_token.unwrap(), 0.050),
        "{:?}",
        r.time_to_first_token
    );
    assert!(close(r.time_to_last_token.unwrap(), 0.060));
    assert_eq!(r.response_text.as_deref(), Some("alpha beta gamma"));
    // No usage in the stream: counted by the whitespace tokenizer after the run.
    assert_eq!(r.num_tokens_output, Some(3));
    assert_eq!(r.num_tokens_input, Some(2));
    assert!(close(r.time_per_output_token.unwrap(), 0.005));
    let t = &result.timings[0];
    assert!(close(t.time_to_headers.unwrap(), 0.010));
    assert_eq!(t.num_chunks, 3);
    assert_eq!(t.content_chunk_offsets.len(), 3);
    assert!(close(t.content_chunk_offsets[1], 0.055));
    assert_eq!(r.request_time.as_deref(), Some("2025-01-01T12:00:00.000Z"));
}

#[tokio::test(start_paused = true)]
async fn measures_from_the_platform_send_when_the_transport_reports_it() {
    let h = Harness::new(|_| Script {
        sent_after_ms: Some(3.0),
        ..stream_script(10.0, &[(40.0, "alpha "), (5.0, "beta")])
    });
    let (result, _) = h.run(&opts(1, Some(1), 1), &CancelToken::new()).await;
    let r = &result.responses[0];
    assert!(
        close(r.time_to_first_token.unwrap(), 0.047),
        "{:?}",
        r.time_to_first_token
    );
    assert!(close(r.time_to_last_token.unwrap(), 0.052));
    assert!(close(result.timings[0].time_to_headers.unwrap(), 0.007));
}

#[tokio::test(start_paused = true)]
async fn count_bound_sends_n_per_client_concurrently() {
    let h = Harness::new(|_| stream_script(0.0, &[(100.0, "x")]));
    let (result, progress) = h.run(&opts(4, Some(3), 5), &CancelToken::new()).await;
    assert_eq!(result.responses.len(), 12);
    assert_eq!(result.summary.total_requests, Some(12));
    assert_eq!(result.summary.n_requests, Some(3));
    assert_eq!(result.summary.clients, 4);
    assert_eq!(h.transport.traffic.max_in_flight.get(), 4);
    // Four clients in parallel, three sequential 100 ms requests each.
    assert!(
        close(result.summary.total_test_time.unwrap(), 0.3),
        "{:?}",
        result.summary.total_test_time
    );
    assert_eq!(progress.len(), 12);
    assert_eq!(progress.last().unwrap().completed, 12);
    assert_eq!(progress.last().unwrap().expected, Some(12));
}

#[tokio::test(start_paused = true)]
async fn payload_order_is_a_distinct_seeded_shuffle_per_client() {
    // Sequential clients (one at a time would hide order): 2 clients, 6 payloads, 6 each.
    let h = Harness::new(|_| stream_script(0.0, &[(10.0, "x")]));
    let (_, _) = h.run(&opts(2, Some(6), 6), &CancelToken::new()).await;
    let sent = h.sent_indices();
    assert_eq!(sent.len(), 12);
    // Requests alternate between the two clients (same latency, no jitter).
    let a: Vec<u64> = sent.iter().step_by(2).copied().collect();
    let b: Vec<u64> = sent.iter().skip(1).step_by(2).copied().collect();
    let mut sa = a.clone();
    sa.sort();
    let mut sb = b.clone();
    sb.sort();
    assert_eq!(
        sa,
        vec![0, 1, 2, 3, 4, 5],
        "each client sends every payload once per cycle"
    );
    assert_eq!(sb, vec![0, 1, 2, 3, 4, 5]);
    assert_ne!(
        a, b,
        "clients must not replay the same order (LLMeter's bug)"
    );

    // Same seed, same orders.
    let h2 = Harness::new(|_| stream_script(0.0, &[(10.0, "x")]));
    h2.run(&opts(2, Some(6), 6), &CancelToken::new()).await;
    assert_eq!(h2.sent_indices(), sent);
}

#[tokio::test(start_paused = true)]
async fn payloads_cycle_when_more_requests_than_payloads() {
    let h = Harness::new(|_| stream_script(0.0, &[(1.0, "x")]));
    h.run(&opts(1, Some(7), 3), &CancelToken::new()).await;
    let sent = h.sent_indices();
    assert_eq!(sent.len(), 7);
    assert_eq!(&sent[0..3], &sent[3..6]);
    assert_eq!(sent[6], sent[0]);
}

#[tokio::test(start_paused = true)]
async fn time_bound_stops_sending_at_the_deadline() {
    let h = Harness::new(|_| stream_script(0.0, &[(300.0, "x")]));
    let o = RunOptions {
        n_requests: None,
        run_duration_s: Some(1.0),
        ..opts(2, None, 2)
    };
    let (result, _) = h.run(&o, &CancelToken::new()).await;
    // Sends at 0, 300, 600, 900 ms (before the 1 s deadline); the last finishes at 1.2 s.
    assert_eq!(result.responses.len(), 8);
    assert_eq!(result.summary.n_requests, Some(4));
    assert!(close(result.summary.total_test_time.unwrap(), 1.2));
    assert!(!result.info.interrupted);
}

#[tokio::test(start_paused = true)]
async fn time_bound_run_stops_at_the_subrequest_budget_and_says_so() {
    let h = Harness::new(|_| stream_script(0.0, &[(100.0, "x")]));
    let o = RunOptions {
        n_requests: None,
        run_duration_s: Some(10.0),
        max_requests: Some(5),
        ..opts(2, None, 2)
    };
    let (result, _) = h.run(&o, &CancelToken::new()).await;
    // Two clients, 100 ms each: the fifth request starts at 200 ms and the budget ends the run
    // long before the 10 s deadline.
    assert_eq!(result.responses.len(), 5);
    assert!(close(result.summary.total_test_time.unwrap(), 0.3));
    assert_eq!(result.info.warnings.len(), 1, "{:?}", result.info.warnings);
    assert!(result.info.warnings[0].contains("after 5"));
}

#[tokio::test(start_paused = true)]
async fn timeout_aborts_the_request_and_keeps_partial_data() {
    let h = Harness::new(|_| Script {
        chunks: vec![(20.0, b"partial ".to_vec())],
        ending: Ending::Hang,
        ..stream_script(5.0, &[])
    });
    let o = RunOptions {
        timeout_s: 0.5,
        ..opts(1, Some(2), 1)
    };
    let (result, _) = h.run(&o, &CancelToken::new()).await;
    assert_eq!(result.responses.len(), 2);
    for r in &result.responses {
        let err = r.error.as_deref().unwrap();
        assert!(err.contains("timeout") && err.contains("0.5"), "{err}");
        assert_eq!(r.response_text.as_deref(), Some("partial "));
        assert!(close(r.time_to_first_token.unwrap(), 0.025));
        // Failed responses get no tokenizer fallback.
        assert_eq!(r.num_tokens_output, None);
    }
    assert_eq!(
        h.transport.traffic.aborted.get(),
        2,
        "both hung requests were aborted"
    );
    assert!(close(result.summary.total_test_time.unwrap(), 1.0));
}

#[tokio::test(start_paused = true)]
async fn cancellation_returns_partial_result_marked_interrupted() {
    let h = Harness::new(|_| stream_script(0.0, &[(100.0, "x")]));
    let cancel = CancelToken::new();
    let o = opts(3, Some(10), 2);
    let canceller = {
        let cancel = cancel.clone();
        async move {
            sleep(Duration::from_millis(250)).await;
            cancel.cancel();
        }
    };
    let ((result, _), ()) = futures::join!(h.run(&o, &cancel), canceller);
    // Each client finished 2 requests (at 100 and 200 ms); the third was in flight.
    assert_eq!(result.responses.len(), 6);
    assert!(result.info.interrupted);
    assert_eq!(result.summary.total_test_time, None);
    assert_eq!(result.summary.n_requests, Some(2));
    assert_eq!(
        h.transport.traffic.aborted.get(),
        3,
        "in-flight requests were aborted"
    );
    assert_eq!(result.stats.get("interrupted"), Some(&json!(true)));
}

#[tokio::test(start_paused = true)]
async fn error_paths_become_per_request_errors() {
    let h = Harness::new(|req| {
        let body = String::from_utf8(req.body.as_deref().unwrap_or_default().to_vec()).unwrap();
        if body.contains("\"i\":0") {
            Script {
                connect_failure: Some("connection refused".into()),
                ..stream_script(1.0, &[])
            }
        } else if body.contains("\"i\":1") {
            Script {
                ending: Ending::Fail(5.0, "reset by peer"),
                ..stream_script(1.0, &[(2.0, "half ")])
            }
        } else {
            Script {
                status: 503,
                ..stream_script(1.0, &[])
            }
        }
    });
    let mut o = opts(1, Some(4), 3);
    o.payloads.push(json!({"bad": true, "i": 3}));
    let (result, progress) = h.run(&o, &CancelToken::new()).await;
    assert_eq!(result.responses.len(), 4);
    let by_prompt = |i: u64| {
        result
            .responses
            .iter()
            .find(|r| r.input_payload.as_ref().unwrap()["i"] == i)
            .unwrap()
    };
    assert_eq!(
        by_prompt(0).error.as_deref(),
        Some("network error: connection refused")
    );
    assert_eq!(
        by_prompt(1).error.as_deref(),
        Some("stream interrupted: reset by peer")
    );
    assert_eq!(by_prompt(1).response_text.as_deref(), Some("half "));
    assert_eq!(by_prompt(2).error.as_deref(), Some("HTTP 503"));
    assert_eq!(
        by_prompt(3).error.as_deref(),
        Some("payload rejected by endpoint")
    );
    assert_eq!(progress.last().unwrap().failed, 4);
    assert_eq!(result.stats.get("failed_requests"), Some(&json!(4)));
}

#[tokio::test(start_paused = true)]
async fn start_jitter_is_bounded() {
    let h = Harness::new(|_| stream_script(0.0, &[(0.0, "x")]));
    let o = RunOptions {
        max_start_jitter_ms: 10.0,
        ..opts(8, Some(1), 1)
    };
    let (result, _) = h.run(&o, &CancelToken::new()).await;
    let t = result.summary.total_test_time.unwrap();
    assert!(t > 0.0 && t <= 0.010, "{t}");
}

#[test]
fn invalid_options_are_named() {
    let cases: Vec<(RunOptions, &str)> = vec![
        (
            RunOptions {
                clients: 0,
                ..opts(1, Some(1), 1)
            },
            "clients",
        ),
        (
            RunOptions {
                n_requests: Some(0),
                ..opts(1, None, 1)
            },
            "nRequests",
        ),
        (
            RunOptions {
                run_duration_s: Some(1.0),
                ..opts(1, Some(1), 1)
            },
            "runDuration",
        ),
        (
            RunOptions {
                n_requests: None,
                run_duration_s: Some(-1.0),
                ..opts(1, None, 1)
            },
            "runDuration",
        ),
        (
            RunOptions {
                timeout_s: 0.0,
                ..opts(1, Some(1), 1)
            },
            "timeout",
        ),
        (
            RunOptions {
                payloads: vec![],
                ..opts(1, Some(1), 1)
            },
            "payload",
        ),
        (
            RunOptions {
                payloads: vec![json!(3)],
                ..opts(1, Some(1), 1)
            },
            "payload",
        ),
    ];
    for (o, name) in cases {
        assert_eq!(o.validate().unwrap_err().option, name);
    }
}

/// The run's clock with timers that fire `late_ms` after their deadline, as on a thread busy
/// with other tasks (arrivals here still come on time: only the watch's timer is late).
struct LateClock {
    inner: VirtualClock,
    late_ms: f64,
}

impl llmeter_core::time::Clock for LateClock {
    fn now_ms(&self) -> f64 {
        self.inner.now_ms()
    }
    fn unix_ms(&self) -> f64 {
        self.inner.unix_ms()
    }
    fn sleep(&self, ms: f64) -> futures::future::LocalBoxFuture<'static, ()> {
        self.inner.sleep(ms + self.late_ms)
    }
}

#[tokio::test(start_paused = true)]
async fn a_busy_thread_is_named_in_the_warnings_and_a_free_one_is_not() {
    // 4 clients × 2 requests of 20 chunks 10 ms apart: ~400 ms with requests in flight.
    let h = Harness::new(|_| {
        let chunks: Vec<(f64, &str)> = (0..20).map(|_| (10.0, "tok ")).collect();
        stream_script(5.0, &chunks)
    });
    let busy = |w: &&String| w.contains("client's thread was busy");
    let (on_time, _) = h.run(&opts(4, Some(2), 2), &CancelToken::new()).await;
    assert_eq!(on_time.responses.len(), 8);
    assert_eq!(on_time.info.warnings.iter().find(busy), None);

    let late = LateClock {
        inner: h.clock,
        late_ms: 30.0,
    };
    let runner = llmeter_core::runner::Runner {
        endpoint: &common::ChunkEndpoint,
        transport: &h.transport,
        clock: &late,
        tokenizer: &WhitespaceTokenizer,
    };
    let mut observer = |_: &_, _: &_, _: Progress| {};
    let result = runner
        .run(&opts(4, Some(2), 2), &CancelToken::new(), &mut observer)
        .await
        .unwrap();
    assert_eq!(result.responses.len(), 8);
    let w = result
        .info
        .warnings
        .iter()
        .find(busy)
        .expect("a warning for the busy thread");
    assert!(
        w.contains(
            "a 17.0 ms timer ran late by 30.0 ms at p50, 30.0 ms at p99 and 30.0 ms at most (warning above 10.0 ms at p99)"
        ),
        "{w}"
    );
    // The threshold is the run's `maxScheduleLag`.
    let relaxed = RunOptions {
        max_schedule_lag_s: 0.05,
        ..opts(4, Some(2), 2)
    };
    let result = runner
        .run(&relaxed, &CancelToken::new(), &mut observer)
        .await
        .unwrap();
    assert_eq!(result.info.warnings.iter().find(busy), None);
}

#[tokio::test(start_paused = true)]
async fn the_thread_watch_keeps_its_latest_samples_only() {
    use llmeter_core::runner::lag::{watch, MAX_SAMPLES, PERIOD_MS};
    let clock = VirtualClock::new();
    let lags = std::cell::RefCell::new(Vec::new());
    // Ten periods more than it keeps, on time: the vector stops growing at the cap.
    let long = Duration::from_secs_f64((MAX_SAMPLES as f64 + 10.5) * PERIOD_MS / 1000.0);
    futures::future::select(
        Box::pin(watch(&clock, &lags, PERIOD_MS)),
        Box::pin(sleep(long)),
    )
    .await;
    let lags = lags.into_inner();
    assert_eq!(lags.len(), MAX_SAMPLES);
    assert!(
        lags.iter().all(|&l| l < 2.0),
        "a virtual clock is late by its 1 ms rounding at most"
    );
}

/// A client sends its next request before its last response is recorded (built, reported to
/// the observer, kept): where a request leaves only when the platform's turn ends (workerd),
/// that bookkeeping would otherwise be counted into the next request's times. The run's time
/// still ends with the last response, not with its recording.
#[tokio::test(start_paused = true)]
async fn the_next_request_leaves_before_the_last_response_is_recorded() {
    let h = Harness::new(|_| stream_script(10.0, &[(40.0, "alpha")]));
    let sent_at_each_response = std::cell::RefCell::new(Vec::new());
    let traffic = h.transport.traffic.clone();
    let mut observer = |_: &_, _: &_, _: Progress| {
        sent_at_each_response
            .borrow_mut()
            .push(traffic.sent.borrow().len())
    };
    let runner = llmeter_core::runner::Runner {
        endpoint: &ChunkEndpoint,
        transport: &h.transport,
        clock: &h.clock,
        tokenizer: &WhitespaceTokenizer,
    };
    let result = runner
        .run(&opts(1, Some(3), 1), &CancelToken::new(), &mut observer)
        .await
        .expect("valid options");
    assert_eq!(result.responses.len(), 3);
    // Responses 1 and 2 were recorded once requests 2 and 3 were out; the last at the end.
    assert_eq!(*sent_at_each_response.borrow(), vec![2, 3, 3]);
    // Three sequential 50 ms exchanges: the run is 150 ms, recording included.
    assert!(
        close(result.summary.total_test_time.unwrap(), 0.150),
        "{:?}",
        result.summary.total_test_time
    );
    assert!(result.responses.iter().all(|r| r.error.is_none()));
}
