//! Load models on the virtual clock: open-loop arrivals (exact constant schedules, Poisson
//! inter-arrival times against the exponential), schedule lag when the clock stalls or every
//! slot is busy, warm-up and cool-down phases, SLO goodput, and LLMeter's callbacks in order.

mod common;

use common::{stream_script, ChunkEndpoint, ScriptedTransport, VirtualClock, UNIX_ORIGIN_MS};
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use llmeter_core::callbacks::cache_buster::CacheBuster;
use llmeter_core::callbacks::cost::CostModel;
use llmeter_core::callbacks::{after_run_all, Callback, HookFuture};
use llmeter_core::response::{InvocationResponse, ResponseTimings};
use llmeter_core::result::RunResult;
use llmeter_core::runner::{
    Arrival, CancelToken, LoadModel, Phase, Progress, RunError, RunObserver, RunOptions, Runner,
    Slo,
};
use llmeter_core::time::Clock;
use llmeter_core::tokenizer::WhitespaceTokenizer;
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tokio::time::{sleep, Duration, Instant};

fn payloads(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"prompt": format!("p{i} word"), "i": i}))
        .collect()
}

fn open(rate: f64, arrival: Arrival, max_concurrency: u32, n: u32) -> RunOptions {
    RunOptions {
        clients: max_concurrency,
        load: LoadModel::Open { rate, arrival },
        n_requests: Some(n),
        payloads: payloads(3),
        seed: 11,
        ..Default::default()
    }
}

struct Recorder {
    starts: Vec<Map<String, Value>>,
    responses: u64,
    hidden: Option<bool>,
}

impl RunObserver for Recorder {
    fn on_response(&mut self, _: &InvocationResponse, _: &ResponseTimings, _: Progress) {
        self.responses += 1;
    }
    fn on_start(&mut self, run_config: &Map<String, Value>) {
        self.starts.push(run_config.clone());
    }
    fn page_hidden(&self) -> Option<bool> {
        self.hidden
    }
}

async fn run_on(
    clock: &dyn Clock,
    transport: &ScriptedTransport,
    o: &RunOptions,
    callbacks: &[&dyn Callback],
) -> (Result<RunResult, RunError>, Recorder) {
    let mut rec = Recorder {
        starts: Vec::new(),
        responses: 0,
        hidden: None,
    };
    let runner = Runner {
        endpoint: &ChunkEndpoint,
        transport,
        clock,
        tokenizer: &WhitespaceTokenizer,
    };
    let r = runner
        .run_with_callbacks(o, &CancelToken::new(), &mut rec, callbacks)
        .await;
    (r, rec)
}

/// `(scheduled_at, sent_at)` of every measured request, in schedule order.
fn schedule(result: &RunResult) -> Vec<(f64, f64)> {
    let mut s: Vec<(f64, f64)> = result
        .timings
        .iter()
        .map(|t| (t.scheduled_at.unwrap(), t.sent_at.unwrap()))
        .collect();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    s
}

#[tokio::test(start_paused = true)]
async fn constant_rate_schedules_are_exact() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| stream_script(5.0, &[(20.0, "x")]));
    let (result, _) = run_on(&clock, &transport, &open(4.0, Arrival::Constant, 8, 9), &[]).await;
    let result = result.unwrap();
    let s = schedule(&result);
    let due: Vec<f64> = s.iter().map(|x| x.0).collect();
    assert_eq!(due, vec![0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]);
    // Nothing late on a clock that never stalls: each request left exactly when due.
    assert!(s.iter().all(|(d, sent)| d == sent), "{s:?}");
    assert_eq!(result.stats["schedule_lag-p99"], json!(0.0));
    assert_eq!(result.summary.clients, 8);
    assert_eq!(result.summary.total_requests, Some(9));
    // The run lasts until the last arrival's answer: 2 s + 25 ms.
    assert!((result.summary.total_test_time.unwrap() - 2.025).abs() < 1e-9);
    assert!(
        result.info.warnings.is_empty(),
        "{:?}",
        result.info.warnings
    );
    let load = result.info.load.as_ref().unwrap();
    assert_eq!(
        (load.model.as_str(), load.rate, load.arrival.as_deref()),
        ("open", Some(4.0), Some("constant"))
    );
    // In flight at once: 25 ms answers every 250 ms never overlap.
    assert_eq!(transport.traffic.max_in_flight.get(), 1);
}

/// Kolmogorov–Smirnov distance between the sample and the exponential CDF of `rate`.
fn ks_exponential(mut gaps: Vec<f64>, rate: f64) -> f64 {
    gaps.sort_by(f64::total_cmp);
    let n = gaps.len() as f64;
    gaps.iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = 1.0 - (-rate * x).exp();
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max)
}

#[tokio::test(start_paused = true)]
async fn poisson_inter_arrivals_pass_a_ks_test_against_the_exponential() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| stream_script(1.0, &[(2.0, "x")]));
    let n = 1000;
    let (result, _) = run_on(
        &clock,
        &transport,
        &open(50.0, Arrival::Poisson, 64, n),
        &[],
    )
    .await;
    let s = schedule(&result.unwrap());
    let gaps: Vec<f64> = s.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let d = ks_exponential(gaps.clone(), 50.0);
    // Critical value at α = 0.01: 1.628 / √n.
    let critical = 1.628 / ((n - 1) as f64).sqrt();
    assert!(d < critical, "KS distance {d} >= {critical}");
    // The same test rejects a wrong rate (the test has power at this n).
    assert!(ks_exponential(gaps.clone(), 40.0) > critical);
    // Mean gap 1/rate within a few standard errors.
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!(
        (mean - 0.02).abs() < 4.0 * 0.02 / (gaps.len() as f64).sqrt(),
        "{mean}"
    );
    // Each left when due, to the virtual timer's resolution (tokio's timers tick in whole ms).
    let worst = s.iter().map(|(d, sent)| sent - d).fold(0.0, f64::max);
    assert!((0.0..=0.001).contains(&worst), "{worst}");
}

#[tokio::test(start_paused = true)]
async fn poisson_arrivals_are_seeded() {
    let run = |seed: u64| async move {
        let clock = VirtualClock::new();
        let transport = ScriptedTransport::new(&clock, |_| stream_script(1.0, &[(2.0, "x")]));
        let o = RunOptions {
            seed,
            ..open(20.0, Arrival::Poisson, 8, 30)
        };
        let (r, _) = run_on(&clock, &transport, &o, &[]).await;
        schedule(&r.unwrap())
    };
    assert_eq!(run(3).await, run(3).await);
    assert_ne!(run(3).await, run(4).await);
}

/// A clock whose timers stall: a sleep that would end inside `[from, to)` ms ends at `to`
/// (a throttled background tab, a busy event loop).
struct StallingClock {
    inner: VirtualClock,
    from: f64,
    to: f64,
}

impl Clock for StallingClock {
    fn now_ms(&self) -> f64 {
        self.inner.now_ms()
    }
    fn unix_ms(&self) -> f64 {
        self.inner.unix_ms()
    }
    fn sleep(&self, ms: f64) -> LocalBoxFuture<'static, ()> {
        let now = self.inner.now_ms();
        let end = now + ms.max(0.0);
        let end = if end >= self.from && end < self.to {
            self.to
        } else {
            end
        };
        sleep(Duration::from_secs_f64((end - now) / 1000.0)).boxed_local()
    }
}

#[tokio::test(start_paused = true)]
async fn schedule_lag_is_measured_when_the_clock_stalls() {
    let inner = VirtualClock::new();
    let clock = StallingClock {
        inner,
        from: 1000.0,
        to: 1500.0,
    };
    let transport = ScriptedTransport::new(&inner, |_| stream_script(1.0, &[(2.0, "x")]));
    // Enough slots that the stall alone delays requests.
    let (result, _) = run_on(
        &clock,
        &transport,
        &open(10.0, Arrival::Constant, 8, 30),
        &[],
    )
    .await;
    let result = result.unwrap();
    let s = schedule(&result);
    // Arrivals due at 1.0 … 1.4 s all left at 1.5 s: lags 0.5 … 0.1 s; the rest on time.
    for (due, sent) in &s {
        let expected = if (1.0..1.5).contains(due) { 1.5 } else { *due };
        assert!((sent - expected).abs() < 1e-9, "due {due} sent {sent}");
    }
    let p99 = result.stats["schedule_lag-p99"].as_f64().unwrap();
    assert!(p99 > 0.4, "{p99}");
    assert!(result.stats["schedule_lag-p50"].as_f64().unwrap() < 1e-9);
    let w = result.info.warnings.join(" ");
    assert!(w.contains("fell behind its schedule"), "{w}");
    assert!(w.contains("event loop or timers"), "{w}");
}

#[tokio::test(start_paused = true)]
async fn a_server_slower_than_the_rate_fills_every_slot_and_the_warning_says_so() {
    let clock = VirtualClock::new();
    // 400 ms answers at 5 requests/s with 1 slot: each request waits for the previous one.
    let transport = ScriptedTransport::new(&clock, |_| stream_script(100.0, &[(300.0, "x")]));
    let (result, mut rec) = {
        let mut rec = Recorder {
            starts: Vec::new(),
            responses: 0,
            hidden: Some(true),
        };
        let runner = Runner {
            endpoint: &ChunkEndpoint,
            transport: &transport,
            clock: &clock,
            tokenizer: &WhitespaceTokenizer,
        };
        let o = open(5.0, Arrival::Constant, 1, 6);
        let r = runner
            .run_with_callbacks(&o, &CancelToken::new(), &mut rec, &[])
            .await;
        (r.unwrap(), std::mem::take(&mut rec.starts))
    };
    let s = schedule(&result);
    let lags: Vec<f64> = s.iter().map(|(d, sent)| sent - d).collect();
    // Request k leaves at 0.4 k s instead of 0.2 k s.
    for (k, lag) in lags.iter().enumerate() {
        assert!((lag - 0.2 * k as f64).abs() < 1e-9, "{lags:?}");
    }
    assert_eq!(transport.traffic.max_in_flight.get(), 1);
    let w = result.info.warnings.join(" ");
    // Every arrival after the first found the one slot busy.
    assert!(w.contains("5 requests found all 1 slots busy"), "{w}");
    assert!(w.contains("page was hidden"), "{w}");
    assert_eq!(rec.len(), 1);
    rec.clear();
}

#[tokio::test(start_paused = true)]
async fn time_bound_open_loop_schedules_arrivals_within_the_duration() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| stream_script(1.0, &[(2.0, "x")]));
    let o = RunOptions {
        n_requests: None,
        run_duration_s: Some(1.0),
        ..open(10.0, Arrival::Constant, 4, 0)
    };
    let (result, _) = run_on(&clock, &transport, &o, &[]).await;
    let result = result.unwrap();
    assert_eq!(result.responses.len(), 10); // 0.0 … 0.9 s
    assert_eq!(result.summary.n_requests, Some(2)); // 10 // 4 slots, LLMeter's time-bound rule
}

#[tokio::test(start_paused = true)]
async fn warmup_and_cooldown_are_saved_apart_and_left_out_of_stats() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| stream_script(0.0, &[(100.0, "x y")]));
    let o = RunOptions {
        clients: 2,
        n_requests: Some(3),
        warmup: Phase::Requests(2),
        cooldown: Phase::Seconds(0.25),
        payloads: payloads(3),
        max_start_jitter_ms: 0.0,
        ..Default::default()
    };
    let (result, rec) = run_on(&clock, &transport, &o, &[]).await;
    let result = result.unwrap();
    // 2 warm-up (one per client at 0 ms), 6 measured (started at 100, 200, 300 ms); the
    // measured phase ends when every client has finished its share (400 ms), and the load goes
    // on for 250 ms more: cool-down requests start at 400, 500 and 600 ms.
    assert_eq!(result.responses.len(), 6);
    assert_eq!(result.summary.total_requests, Some(6));
    assert_eq!(result.stats["total_requests"], json!(6));
    let phases: Vec<&str> = result
        .excluded
        .iter()
        .map(|r| r.load_phase().unwrap())
        .collect();
    assert_eq!(
        phases,
        [
            "warmup", "warmup", "cooldown", "cooldown", "cooldown", "cooldown", "cooldown",
            "cooldown"
        ]
    );
    assert_eq!(rec.responses, 14);
    // The measured window: from the first measured start (100 ms) to the last measured answer (400 ms).
    assert!((result.summary.total_test_time.unwrap() - 0.3).abs() < 1e-9);
    assert_eq!(
        result.summary.start_time.as_deref(),
        Some("2025-01-01T12:00:00.100Z")
    );
    assert!(result.responses.iter().all(|r| r.load_phase().is_none()));
    assert_eq!(result.info.load.as_ref().unwrap().excluded_responses, 8);
    // Saved: LLMeter's files hold the measured responses only; ours the others, flagged.
    let files = result.to_files();
    let file = |n: &str| {
        files
            .iter()
            .find(|(name, _)| name == n)
            .map(|(_, c)| c.clone())
    };
    assert_eq!(file("responses.jsonl").unwrap().lines().count(), 6);
    let excluded = file("warmup_cooldown.jsonl").unwrap();
    assert_eq!(excluded.lines().count(), 8);
    assert!(excluded.lines().all(|l| l.contains("\"load_phase\": \"")));
    let loaded = RunResult::from_files(&files).unwrap();
    assert_eq!(loaded.stats, result.stats);
    assert_eq!(loaded.excluded, result.excluded);
    // The platform-clock start and end (for pairing with Resource Timing) are never saved.
    let saved = |ts: &[ResponseTimings]| -> Vec<ResponseTimings> {
        ts.iter()
            .cloned()
            .map(|mut t| {
                t.start_ms = None;
                t.end_ms = None;
                t
            })
            .collect()
    };
    assert_eq!(loaded.excluded_timings, saved(&result.excluded_timings));
    assert_eq!(loaded.timings, saved(&result.timings));
}

#[tokio::test(start_paused = true)]
async fn open_loop_warmup_seconds_and_cooldown_requests() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| stream_script(1.0, &[(2.0, "x")]));
    let o = RunOptions {
        warmup: Phase::Seconds(0.5),
        cooldown: Phase::Requests(3),
        ..open(10.0, Arrival::Constant, 4, 4)
    };
    let (result, _) = run_on(&clock, &transport, &o, &[]).await;
    let result = result.unwrap();
    let due: Vec<f64> = schedule(&result).iter().map(|x| x.0).collect();
    assert_eq!(due, vec![0.5, 0.6, 0.7, 0.8]);
    let mut excluded: Vec<(f64, &str)> = result
        .excluded
        .iter()
        .zip(&result.excluded_timings)
        .map(|(r, t)| (t.scheduled_at.unwrap(), r.load_phase().unwrap()))
        .collect();
    excluded.sort_by(|a, b| a.0.total_cmp(&b.0));
    let expected: Vec<(f64, &str)> = vec![
        (0.0, "warmup"),
        (0.1, "warmup"),
        (0.2, "warmup"),
        (0.30000000000000004, "warmup"),
        (0.4, "warmup"),
        (0.9, "cooldown"),
        (1.0, "cooldown"),
        (1.1, "cooldown"),
    ];
    for ((a, pa), (b, pb)) in excluded.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-9 && pa == pb, "{excluded:?}");
    }
    assert_eq!(excluded.len(), expected.len());
    // Measured window: the warm-up's end (0.5 s) to the last measured answer (0.803 s).
    assert!((result.summary.total_test_time.unwrap() - 0.303).abs() < 1e-9);
}

#[tokio::test(start_paused = true)]
async fn slo_goodput_and_attainment() {
    let clock = VirtualClock::new();
    // TTFT 100 ms for even payloads, 300 ms for odd ones; 3 chunks 10 ms apart.
    let transport = ScriptedTransport::new(&clock, |req| {
        let body: Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
        let slow = body["i"].as_u64().unwrap() % 2 == 1;
        stream_script(
            0.0,
            &[
                (if slow { 300.0 } else { 100.0 }, "a "),
                (10.0, "b "),
                (10.0, "c"),
            ],
        )
    });
    let o = RunOptions {
        clients: 1,
        n_requests: Some(4),
        payloads: (0..4).map(|i| json!({"prompt": "x", "i": i})).collect(),
        slo: Some(Slo {
            ttft: Some(0.2),
            tpot: Some(0.02),
            ttlt: None,
        }),
        max_start_jitter_ms: 0.0,
        ..Default::default()
    };
    let (result, _) = run_on(&clock, &transport, &o, &[]).await;
    let result = result.unwrap();
    let s = &result.stats;
    assert_eq!(s["slo_attainment-time_to_first_token"], json!(0.5));
    assert_eq!(s["slo_attainment-time_per_output_token"], json!(1.0));
    assert!(s.get("slo_attainment-time_to_last_token").is_none());
    assert_eq!(s["slo_attainment"], json!(0.5));
    // 2 good requests over 2 × 120 + 2 × 320 ms = 0.88 s.
    let t = result.summary.total_test_time.unwrap();
    assert_eq!(s["goodput"].as_f64().unwrap(), 2.0 / t * 60.0);
    // The SLO is saved with the run, so the stats come back the same from the files.
    assert_eq!(
        RunResult::from_files(&result.to_files()).unwrap().stats,
        result.stats
    );
}

/// Records every hook with the time it ran and what it saw.
struct Tracer {
    log: Rc<RefCell<Vec<String>>>,
    sent: Rc<Cell<usize>>,
    fail_before_run: bool,
    fail_invoke_of: Option<u64>,
}

impl Callback for Tracer {
    fn before_run<'a>(&'a self, run_config: &'a mut Map<String, Value>) -> HookFuture<'a> {
        self.log
            .borrow_mut()
            .push(format!("before_run {}", run_config["run_name"]));
        run_config.insert("run_description".into(), json!("set by before_run"));
        let fail = self.fail_before_run;
        Box::pin(async move {
            sleep(Duration::from_millis(5)).await; // async hooks are awaited
            if fail {
                Err("no".into())
            } else {
                Ok(())
            }
        })
    }
    fn has_before_invoke(&self) -> bool {
        true
    }
    fn before_invoke<'a>(&'a self, payload: &'a mut Value) -> HookFuture<'a> {
        let i = payload["i"].as_u64().unwrap();
        self.log.borrow_mut().push(format!("before_invoke {i}"));
        payload["edited"] = json!(true);
        let fail = self.fail_invoke_of == Some(i);
        Box::pin(async move {
            if fail {
                Err("hook refused".into())
            } else {
                Ok(())
            }
        })
    }
    fn has_after_invoke(&self) -> bool {
        true
    }
    fn after_invoke<'a>(&'a self, response: &'a mut InvocationResponse) -> HookFuture<'a> {
        self.log.borrow_mut().push(format!(
            "after_invoke tokens={:?} sent_before={}",
            response.num_tokens_output,
            self.sent.get()
        ));
        response
            .annotations
            .get_or_insert_with(Map::new)
            .insert("traced".into(), json!(1));
        Box::pin(async { Ok(()) })
    }
    fn after_run<'a>(&'a self, result: &'a mut RunResult) -> HookFuture<'a> {
        self.log.borrow_mut().push("after_run".into());
        let mut m = Map::new();
        m.insert("traced_responses".into(), json!(result.responses.len()));
        Box::pin(futures::future::ready(result.contribute_stats(m)))
    }
    fn name(&self) -> String {
        "Tracer".into()
    }
}

#[tokio::test(start_paused = true)]
async fn callbacks_run_in_llmeters_order_and_edit_payloads_per_request() {
    let clock = VirtualClock::new();
    let sent = Rc::new(Cell::new(0usize));
    let counted = sent.clone();
    let transport = ScriptedTransport::new(&clock, move |_| {
        counted.set(counted.get() + 1);
        stream_script(0.0, &[(10.0, "one two three")])
    });
    let log = Rc::new(RefCell::new(Vec::new()));
    let tracer = Tracer {
        log: log.clone(),
        sent: sent.clone(),
        fail_before_run: false,
        fail_invoke_of: Some(2),
    };
    let o = RunOptions {
        clients: 1,
        n_requests: Some(3),
        payloads: payloads(3),
        run_name: Some("traced".into()),
        max_start_jitter_ms: 0.0,
        ..Default::default()
    };
    let (result, rec) = run_on(&clock, &transport, &o, &[&tracer]).await;
    let mut result = result.unwrap();
    after_run_all(&[&tracer], &mut result).await;
    let log = log.borrow().clone();
    assert_eq!(log[0], "before_run \"traced\"");
    assert_eq!(
        log.iter()
            .filter(|l| l.starts_with("before_invoke"))
            .count(),
        3
    );
    // after_invoke: after the last request, with token counts filled, for each measured response.
    let after: Vec<&String> = log
        .iter()
        .filter(|l| l.starts_with("after_invoke"))
        .collect();
    assert_eq!(after.len(), 3);
    assert!(
        after
            .iter()
            .any(|l| l.contains("tokens=Some(3) sent_before=2")),
        "{after:?}"
    );
    assert_eq!(log.last().unwrap(), "after_run");
    // before_run's edit is what the start hears and what is saved.
    assert_eq!(rec.starts.len(), 1);
    assert_eq!(rec.starts[0]["run_description"], json!("set by before_run"));
    assert_eq!(
        result.run_config["run_description"],
        json!("set by before_run")
    );
    // Each payload was edited and prepared for its own request.
    assert!(transport
        .sent_bodies()
        .iter()
        .all(|b| b["edited"] == json!(true)));
    let ok: Vec<&InvocationResponse> = result
        .responses
        .iter()
        .filter(|r| r.error.is_none())
        .collect();
    assert_eq!(ok.len(), 2);
    assert!(ok
        .iter()
        .all(|r| r.input_payload.as_ref().unwrap()["edited"] == json!(true)));
    // A failing before_invoke gives LLMeter's error response: id and error, nothing else.
    let failed = result.responses.iter().find(|r| r.error.is_some()).unwrap();
    assert_eq!(failed.error.as_deref(), Some("hook refused"));
    assert_eq!(
        (failed.request_time.as_ref(), failed.input_payload.as_ref()),
        (None, None)
    );
    assert_eq!(failed.id.as_ref().map(String::len), Some(32));
    assert!(result
        .responses
        .iter()
        .all(|r| r.annotations.as_ref().unwrap()["traced"] == json!(1)));
    assert_eq!(result.stats["traced_responses"], json!(3));
    // Contributed stats are saved in stats.json and survive a reload.
    let loaded = RunResult::from_files(&result.to_files()).unwrap();
    assert_eq!(loaded.stats["traced_responses"], json!(3));
    assert_eq!(
        loaded.responses[0].annotations,
        result.responses[0].annotations
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_before_run_sends_nothing() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| stream_script(0.0, &[(10.0, "x")]));
    let tracer = Tracer {
        log: Rc::default(),
        sent: Rc::default(),
        fail_before_run: true,
        fail_invoke_of: None,
    };
    let o = RunOptions {
        payloads: payloads(2),
        ..Default::default()
    };
    let (result, rec) = run_on(&clock, &transport, &o, &[&tracer]).await;
    assert_eq!(
        result.unwrap_err(),
        RunError::BeforeRun {
            callback: "Tracer".into(),
            message: "no".into()
        }
    );
    assert!(transport.traffic.sent.borrow().is_empty());
    assert!(rec.starts.is_empty());
}

#[tokio::test(start_paused = true)]
async fn cost_model_and_cache_buster_as_callbacks() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| stream_script(0.0, &[(10.0, "a b c")]));
    let cost = CostModel::from_config(&json!({
        "requestDims": [{"kind": "InputTokens", "pricePerMillion": 3}, {"kind": "OutputTokens", "pricePerMillion": 15}],
        "runDims": {"endpoint": {"kind": "EndpointTime", "pricePerHour": 36}},
    }))
    .unwrap();
    let buster = CacheBuster::new(1);
    let o = RunOptions {
        clients: 2,
        n_requests: Some(2),
        payloads: vec![json!({"prompt": "same words here", "i": 0})],
        ..Default::default()
    };
    let (result, rec) = run_on(&clock, &transport, &o, &[&buster, &cost]).await;
    let mut result = result.unwrap();
    after_run_all(&[&buster, &cost], &mut result).await;
    let prompts: std::collections::HashSet<String> = transport
        .sent_bodies()
        .iter()
        .map(|b| b["prompt"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        prompts.len(),
        4,
        "every request got its own tag: {prompts:?}"
    );
    assert!(prompts
        .iter()
        .all(|p| p.starts_with("[req-") && p.ends_with("] same words here")));
    // The CostModel is saved as LLMeter's envelope; the cache buster is not an LLMeter class.
    let callbacks = rec.starts[0]["callbacks"].as_array().unwrap().clone();
    assert_eq!(callbacks.len(), 1);
    assert_eq!(
        callbacks[0]["__llmeter_class__"],
        json!("llmeter.callbacks.cost.model.CostModel")
    );
    // 3 output tokens, 4 input words (tag + 3) each.
    let a = result.responses[0].annotations.as_ref().unwrap();
    assert_eq!(a["cost_OutputTokens"], json!(4.5e-05));
    assert_eq!(a["cost_InputTokens"], json!(4.0 * 3.0 / 1e6));
    assert_eq!(result.stats["cost_endpoint"], json!(0.01));
    assert!(result.stats.contains_key("cost_total"));
    let _ = UNIX_ORIGIN_MS;
    let _ = Instant::now();
}
