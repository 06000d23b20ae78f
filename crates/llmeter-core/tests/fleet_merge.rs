//! Shards merged exactly: k random splits of one response set give the stats of the whole set
//! bit for bit (k = 1…8), per-label breakdowns are the stats of each label's responses, and
//! clock offsets estimated from `Date` headers on a virtual clock put skewed shards back on the
//! reference timeline.

mod common;

use common::{
    run_with, stream_script, ChunkEndpoint, ScriptedTransport, VirtualClock, UNIX_ORIGIN_MS,
};
use futures::future::LocalBoxFuture;
use llmeter_core::fleet::{format_http_date, FleetPlan, ShardSpec};
use llmeter_core::response::{InvocationResponse, ResponseTimings};
use llmeter_core::result::{merge, FleetInfo, MergeOptions, RunInfo, RunResult, Summary};
use llmeter_core::rng::{shuffled_indices, SplitMix64};
use llmeter_core::runner::{CancelToken, RunOptions};
use llmeter_core::stats::compute_stats;
use llmeter_core::time::{format_utc, parse_utc, Clock};
use llmeter_core::tokenizer::WhitespaceTokenizer;
use serde_json::{json, Map, Value};

const START_MS: f64 = 1_735_732_800_123.0;
const TOTAL_TEST_TIME: f64 = 12.345_678_901_234;
const CLIENTS: u32 = 24;

/// A varied response set: failures (some with a first token), cached and reasoning tokens,
/// missing values, timings with chunk offsets.
fn responses(n: usize, rng: &mut SplitMix64) -> (Vec<InvocationResponse>, Vec<ResponseTimings>) {
    let mut rs = Vec::new();
    let mut ts = Vec::new();
    for i in 0..n {
        let failed = rng.below(7) == 0;
        let ttft = 0.05 + rng.next_f64() * 0.4;
        let out = 1 + rng.below(300) as u64;
        let ttlt = ttft + rng.next_f64() * 3.0;
        let id = format!("r{i}");
        let sent_at = START_MS + rng.next_f64() * TOTAL_TEST_TIME * 900.0;
        rs.push(InvocationResponse {
            response_text: (!failed).then(|| "text".into()),
            id: Some(id.clone()),
            input_prompt: Some("p".into()),
            time_to_first_token: (!failed || rng.below(2) == 0).then_some(ttft),
            time_to_last_token: (!failed).then_some(ttlt),
            num_tokens_input: (!failed).then(|| 5 + rng.below(2000) as u64),
            num_tokens_output: (!failed).then_some(out),
            num_tokens_input_cached: (rng.below(3) == 0).then(|| rng.below(100) as u64),
            num_tokens_output_reasoning: (rng.below(4) == 0).then(|| rng.below(50) as u64),
            time_per_output_token: (!failed && out > 1).then(|| (ttlt - ttft) / (out - 1) as f64),
            error: failed.then(|| "HTTP 500".into()),
            request_time: Some(format_utc(sent_at)),
            ..Default::default()
        });
        let chunks = rng.below(6);
        let mut at = ttft;
        let offsets: Vec<f64> = (0..chunks)
            .map(|_| {
                at += rng.next_f64() * 0.05;
                at
            })
            .collect();
        ts.push(ResponseTimings {
            id,
            time_to_first_chunk: Some(ttft * 0.9),
            time_to_headers: Some(ttft * 0.5),
            content_chunk_offsets: offsets,
            num_chunks: chunks as u32 + 1,
            num_events: chunks as u32 + 2,
            status: Some(if failed { 500 } else { 200 }),
            payload_index: Some(rng.below(3) as u32),
            ..Default::default()
        });
    }
    (rs, ts)
}

fn summary(total: u64, clients: u32, n_requests: Option<u64>) -> Summary {
    Summary {
        total_requests: Some(total),
        clients,
        n_requests,
        total_test_time: Some(TOTAL_TEST_TIME),
        model_id: Some("m".into()),
        endpoint_name: Some("e".into()),
        provider: Some("p".into()),
        run_name: Some("fleet-test".into()),
        start_time: Some(format_utc(START_MS)),
        end_time: Some(format_utc(START_MS + TOTAL_TEST_TIME * 1000.0)),
        ..Summary::default()
    }
}

fn payloads() -> Vec<Value> {
    vec![
        json!({"prompt": "a"}),
        json!({"prompt": "b"}),
        json!({"prompt": "c"}),
    ]
}

fn run(
    summary: Summary,
    rs: Vec<InvocationResponse>,
    ts: Vec<ResponseTimings>,
    info: RunInfo,
) -> RunResult {
    let mut config = Map::new();
    config.insert("clients".into(), json!(summary.clients));
    RunResult::new(summary, rs, ts, info, config, payloads())
}

/// `k` shards of the responses, assigned at random (each shard non-empty), each shuffled, with
/// the clients split at random too.
fn split(
    rs: &[InvocationResponse],
    ts: &[ResponseTimings],
    k: usize,
    rng: &mut SplitMix64,
    labels: Option<&[&str]>,
) -> Vec<RunResult> {
    let order = shuffled_indices(rs.len(), rng);
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (n, &i) in order.iter().enumerate() {
        let g = if n < k { n } else { rng.below(k) };
        groups[g].push(i);
    }
    let mut clients = vec![1u32; k];
    for _ in k as u32..CLIENTS {
        clients[rng.below(k)] += 1;
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(s, members)| {
            let info = RunInfo {
                shard: labels.map(|l| {
                    ShardSpec::new(
                        "t1".into(),
                        format!("s{s}"),
                        Some(l[s % l.len()].to_string()),
                        None,
                    )
                    .unwrap()
                    .manifest(Some(format!("node {s}")), "llmeter-wasm test", None)
                    .to_value()
                }),
                ..RunInfo::default()
            };
            run(
                summary(members.len() as u64, clients[s], Some(5)),
                members.iter().map(|&i| rs[i].clone()).collect(),
                members.iter().map(|&i| ts[i].clone()).collect(),
                info,
            )
        })
        .collect()
}

fn keys(m: &Map<String, Value>) -> Vec<&str> {
    m.keys().map(String::as_str).collect()
}

#[test]
fn random_splits_merge_to_the_stats_of_the_whole() {
    let mut rng = SplitMix64::new(2026);
    for round in 0..6 {
        let n = 40 + round * 37;
        let (rs, ts) = responses(n, &mut rng);
        let whole = run(
            summary(n as u64, CLIENTS, Some(5)),
            rs.clone(),
            ts.clone(),
            RunInfo::default(),
        );
        for k in 1..=8 {
            let shards = split(&rs, &ts, k, &mut rng, None);
            let options = MergeOptions {
                run_name: Some("fleet-test".into()),
                ..MergeOptions::default()
            };
            let merged = merge(shards, &options).unwrap();
            // Bit for bit, every key, in the same order.
            assert_eq!(merged.stats, whole.stats, "n={n} k={k}");
            assert_eq!(keys(&merged.stats), keys(&whole.stats), "n={n} k={k}");
            assert_eq!(merged.summary, whole.summary, "n={n} k={k}");
            // The saved folder loads (LLMeter's load path) with the same stats.
            let loaded = RunResult::from_files(&merged.to_files()).unwrap();
            assert_eq!(loaded.stats, whole.stats, "n={n} k={k} (loaded)");
        }
    }
}

#[test]
fn a_shard_folder_holds_exactly_the_shard_files() {
    let mut rng = SplitMix64::new(1);
    let (rs, ts) = responses(3, &mut rng);
    let shard = &split(&rs, &ts, 1, &mut rng, Some(&["x"]))[0];
    let names: Vec<String> = shard.to_files().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, llmeter_core::fleet::plan::SHARD_FILES);
}

#[test]
fn labels_break_every_metric_down() {
    let mut rng = SplitMix64::new(7);
    let (rs, ts) = responses(150, &mut rng);
    let whole = run(
        summary(150, CLIENTS, Some(5)),
        rs.clone(),
        ts.clone(),
        RunInfo::default(),
    );
    for k in 2..=8 {
        let shards = split(&rs, &ts, k, &mut rng, Some(&["eu", "us", "ap"]));
        let expected_groups: Vec<(String, Vec<RunResult>)> = ["ap", "eu", "us"]
            .iter()
            .map(|l| {
                (
                    l.to_string(),
                    shards
                        .iter()
                        .filter(|s| s.info.shard.as_ref().unwrap()["label"] == json!(l))
                        .cloned()
                        .collect::<Vec<_>>(),
                )
            })
            .filter(|(_, g)| !g.is_empty())
            .collect();
        let merged = merge(shards, &MergeOptions::default()).unwrap();
        let mut stats = merged.stats.clone();
        let by_label = stats.shift_remove("by_label").expect("by_label");
        let by_runtime = stats.shift_remove("by_runtime");
        assert!(
            by_runtime.is_none(),
            "one runtime family (node): no per-runtime breakdown"
        );
        let mut whole_stats = whole.stats.clone();
        whole_stats.insert("run_name".into(), merged.stats["run_name"].clone());
        assert_eq!(stats, whole_stats, "k={k}");
        assert_eq!(merged.summary.run_name.as_deref(), Some("t1"));
        let by_label = by_label.as_object().unwrap();
        assert_eq!(by_label.len(), expected_groups.len());
        for (label, group) in &expected_groups {
            let rs: Vec<InvocationResponse> =
                group.iter().flat_map(|s| s.responses.clone()).collect();
            let ts: Vec<ResponseTimings> = group.iter().flat_map(|s| s.timings.clone()).collect();
            let sub = Summary {
                total_requests: Some(rs.len() as u64),
                clients: group.iter().map(|s| s.summary.clients).sum(),
                total_test_time: Some(TOTAL_TEST_TIME),
                ..Summary::default()
            };
            let expected = compute_stats(&sub, &rs, &ts, false);
            let got = by_label[label].as_object().unwrap();
            for (key, value) in &expected {
                if matches!(
                    key.as_str(),
                    "total_requests" | "clients" | "total_test_time"
                ) || !value.is_null()
                    && !llmeter_core::stats::SUMMARY_KEYS.contains(&key.as_str())
                {
                    assert_eq!(got.get(key), Some(value), "{label} {key}");
                }
            }
            assert_eq!(got["shards"], json!(group.len()));
        }
        let fleet = FleetInfo::of(&merged.info).unwrap();
        assert_eq!(fleet.test_id.as_deref(), Some("t1"));
        assert_eq!(fleet.shards.iter().map(|s| s.responses).sum::<u64>(), 150);
        // Shards in id order, their responses contiguous in that order.
        let ids: Vec<String> = fleet
            .shards
            .iter()
            .map(|s| s.shard_id.clone().unwrap())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        // Saved and loaded, the breakdown and the shard list come back.
        let loaded = RunResult::from_files(&merged.to_files()).unwrap();
        assert_eq!(loaded.stats["by_label"], merged.stats["by_label"]);
        assert_eq!(loaded.info.fleet, merged.info.fleet);
    }
}

#[test]
fn runtimes_break_down_by_family() {
    let mut rng = SplitMix64::new(11);
    let (rs, ts) = responses(60, &mut rng);
    let mut shards = split(&rs, &ts, 3, &mut rng, Some(&["x"]));
    let runtimes = [
        "HeadlessChrome/141.0.0.0 (worker)",
        "HeadlessChrome/141.0.0.0",
        "workerd",
    ];
    for (s, rt) in shards.iter_mut().zip(runtimes) {
        s.info.shard.as_mut().unwrap()["runtime"] = json!(rt);
    }
    let merged = merge(shards, &MergeOptions::default()).unwrap();
    let by_runtime = merged.stats["by_runtime"].as_object().unwrap();
    assert_eq!(keys(by_runtime), ["chromium", "workerd"]);
    assert_eq!(by_runtime["chromium"]["shards"], json!(2));
    assert_eq!(
        by_runtime["chromium"]["total_requests"].as_u64().unwrap()
            + by_runtime["workerd"]["total_requests"].as_u64().unwrap(),
        60
    );
    assert_eq!(
        merged.info.runtime, None,
        "mixed runtimes have no single name"
    );
}

#[test]
fn refuses_foreign_and_duplicate_shards_and_reports_missing_and_late() {
    let mut rng = SplitMix64::new(3);
    let (rs, ts) = responses(30, &mut rng);
    let shards = split(&rs, &ts, 3, &mut rng, Some(&["a"]));
    let mut dup = shards.clone();
    dup[1].info.shard.as_mut().unwrap()["shard_id"] = json!("s0");
    assert!(merge(dup, &MergeOptions::default())
        .unwrap_err()
        .contains("\"s0\" is given twice"));
    let mut foreign = shards.clone();
    foreign[2].info.shard.as_mut().unwrap()["test_id"] = json!("other");
    assert!(merge(foreign, &MergeOptions::default())
        .unwrap_err()
        .contains("belongs to test \"other\""));
    assert!(merge(Vec::new(), &MergeOptions::default()).is_err());

    // The plan started 20 s before the shards: with late_after_s = 5 every shard is late; s3
    // never came.
    let plan = FleetPlan::from_value(&json!({
        "test_id": "t1", "start_at": START_MS - 20_000.0, "late_after_s": 5,
        "shards": [{"shard_id": "s0"}, {"shard_id": "s1"}, {"shard_id": "s2"}, {"shard_id": "s3"}],
    }))
    .unwrap();
    let merged = merge(
        shards.clone(),
        &MergeOptions {
            plan: Some(plan),
            ..MergeOptions::default()
        },
    )
    .unwrap();
    let fleet = FleetInfo::of(&merged.info).unwrap();
    assert_eq!(fleet.missing, ["s3"]);
    assert_eq!(fleet.late, ["s0", "s1", "s2"]);
    assert!(merged
        .info
        .warnings
        .iter()
        .any(|w| w == "shard s3 of the plan is missing"));
    assert!(merged
        .info
        .warnings
        .iter()
        .any(|w| w.contains("s1 started 20.0 s after")));
    let plan = FleetPlan::from_value(
        &json!({"test_id": "t1", "start_at": START_MS, "shards": [{"shard_id": "s0"}]}),
    )
    .unwrap();
    let merged = merge(
        shards,
        &MergeOptions {
            plan: Some(plan),
            ..MergeOptions::default()
        },
    )
    .unwrap();
    assert!(FleetInfo::of(&merged.info).unwrap().late.is_empty());
}

#[test]
fn windows_union_and_different_payload_lists() {
    // Two shards, the second starting 5 s after the first and running 10 s: the union is 15 s
    // (not 20, not the 2 × 10 s of work).
    let mut rng = SplitMix64::new(5);
    let (rs, ts) = responses(20, &mut rng);
    let mut a = run(
        summary(10, 2, Some(5)),
        rs[..10].to_vec(),
        ts[..10].to_vec(),
        RunInfo::default(),
    );
    let mut b = run(
        summary(10, 2, Some(5)),
        rs[10..].to_vec(),
        ts[10..].to_vec(),
        RunInfo::default(),
    );
    for (r, start) in [(&mut a, START_MS), (&mut b, START_MS + 5000.0)] {
        r.summary.total_test_time = Some(10.0);
        r.summary.start_time = Some(format_utc(start));
        r.summary.end_time = Some(format_utc(start + 10_000.0));
    }
    b.payloads = vec![json!({"prompt": "z"})];
    for t in b.timings.iter_mut() {
        t.payload_index = Some(0);
    }
    let merged = merge(vec![a.clone(), b.clone()], &MergeOptions::default()).unwrap();
    assert_eq!(merged.summary.total_test_time, Some(15.0));
    assert_eq!(
        merged.summary.end_time.as_deref(),
        Some(format_utc(START_MS + 15_000.0).as_str())
    );
    assert_eq!(merged.payloads.len(), 4);
    assert!(merged.timings[10..]
        .iter()
        .all(|t| t.payload_index == Some(3)));
    // Disjoint windows: the gap does not count.
    b.summary.start_time = Some(format_utc(START_MS + 60_000.0));
    b.summary.end_time = Some(format_utc(START_MS + 70_000.0));
    let merged = merge(vec![a, b], &MergeOptions::default()).unwrap();
    assert_eq!(merged.summary.total_test_time, Some(20.0));
}

// ---------- clock offsets on a virtual clock ----------

/// The virtual clock, with a wall clock `skew_ms` off the true time.
#[derive(Clone, Copy)]
struct SkewedClock {
    inner: VirtualClock,
    skew_ms: f64,
}

impl Clock for SkewedClock {
    fn now_ms(&self) -> f64 {
        self.inner.now_ms()
    }
    fn unix_ms(&self) -> f64 {
        self.inner.unix_ms() + self.skew_ms
    }
    fn sleep(&self, ms: f64) -> LocalBoxFuture<'static, ()> {
        self.inner.sleep(ms)
    }
}

/// Runs one shard on a clock `skew_ms` off, `delay_ms` after the common origin, against a server
/// that stamps every answer's `Date` with the true time (it answers 30 ms after the request).
async fn skewed_shard(
    clock: VirtualClock,
    skew_ms: f64,
    delay_ms: f64,
    shard_id: &str,
    label: &str,
) -> RunResult {
    tokio::time::sleep(std::time::Duration::from_secs_f64(delay_ms / 1000.0)).await;
    let origin = clock.origin;
    let transport = ScriptedTransport::new(&clock, move |_| {
        let true_now = UNIX_ORIGIN_MS + VirtualClock::ms_since(origin);
        let mut s = stream_script(30.0, &[(20.0, "a b"), (20.0, "c")]);
        s.headers = vec![("date".into(), format_http_date(true_now + 15.0))];
        s
    });
    let skewed = SkewedClock {
        inner: clock,
        skew_ms,
    };
    let opts = RunOptions {
        clients: 3,
        run_duration_s: Some(6.0),
        payloads: vec![json!({"prompt": "x"})],
        max_start_jitter_ms: 37.0,
        reference_clock: true,
        seed: 1,
        ..RunOptions::default()
    };
    let runner = llmeter_core::runner::Runner {
        endpoint: &ChunkEndpoint,
        transport: &transport,
        clock: &skewed,
        tokenizer: &WhitespaceTokenizer,
    };
    let mut observer = |_: &_, _: &_, _: llmeter_core::runner::Progress| {};
    let mut result = runner
        .run(&opts, &CancelToken::new(), &mut observer)
        .await
        .unwrap();
    // The server asked only for what the parser wants plus `date`.
    let sent = transport.traffic.sent.borrow();
    assert!(sent
        .iter()
        .all(|r| r.response_headers.iter().any(|h| h == "date")));
    let offset = result.info.clock_offset.clone();
    result.info.shard = Some(
        ShardSpec::new(
            "t-offsets".into(),
            shard_id.into(),
            Some(label.into()),
            None,
        )
        .unwrap()
        .manifest(Some("node 20".into()), "llmeter-wasm test", offset)
        .to_value(),
    );
    result
}

#[tokio::test(start_paused = true)]
async fn offsets_from_date_headers_put_skewed_shards_on_the_reference_timeline() {
    let clock = VirtualClock::new();
    // Shard a: wall clock 3.2 s fast, starts at true +0. Shard b: 1.7 s slow, starts at true +2.5 s.
    let (a, b) = futures::join!(
        skewed_shard(clock, 3200.0, 0.0, "a", "eu"),
        skewed_shard(clock, -1700.0, 2500.0, "b", "us"),
    );
    for (shard, skew) in [(&a, 3200.0), (&b, -1700.0)] {
        let o = shard.info.clock_offset.as_ref().expect("offset");
        // reference = local + offset, so the offset is minus the skew.
        assert!(
            (o.offset_ms + skew).abs() <= o.uncertainty_ms,
            "{o:?} vs skew {skew}"
        );
        assert!(o.uncertainty_ms < 60.0, "the interval narrowed: {o:?}");
        assert!(o.samples > 100, "{o:?}");
        assert_eq!(o.conflicts, 0);
        assert_eq!(o.source.as_deref(), Some("endpoint"));
    }
    let (ua, ub) = (
        a.info.clock_offset.as_ref().unwrap().uncertainty_ms,
        b.info.clock_offset.as_ref().unwrap().uncertainty_ms,
    );
    // Uncorrected, the windows would look 4.9 s apart in the wrong direction; corrected, shard a
    // starts first and b 2.5 s later.
    let a_local = parse_utc(a.summary.start_time.as_deref().unwrap()).unwrap();
    let b_local = parse_utc(b.summary.start_time.as_deref().unwrap()).unwrap();
    assert!(a_local > b_local);
    let merged = merge(vec![a.clone(), b.clone()], &MergeOptions::default()).unwrap();
    let start = parse_utc(merged.summary.start_time.as_deref().unwrap()).unwrap();
    assert!(
        (start - UNIX_ORIGIN_MS).abs() <= ua + 1.0,
        "merged start {start} vs true {UNIX_ORIGIN_MS}"
    );
    let fleet = FleetInfo::of(&merged.info).unwrap();
    let b_start = parse_utc(fleet.shards[1].start_time.as_deref().unwrap()).unwrap();
    assert!((b_start - UNIX_ORIGIN_MS - 2500.0).abs() <= ub + 1.0);
    // The union of the true windows: a [0, ~6.x s], b [2.5 s, ~8.x s].
    let a_len = a.summary.total_test_time.unwrap();
    let b_len = b.summary.total_test_time.unwrap();
    let true_union = (2.5 + b_len).max(a_len);
    let union = merged.summary.total_test_time.unwrap();
    assert!(
        (union - true_union).abs() * 1000.0 <= ua + ub + 1.0,
        "{union} vs {true_union}"
    );
    // Request times moved onto the reference clock too: every one within the true span.
    for r in &merged.responses {
        let t = parse_utc(r.request_time.as_deref().unwrap()).unwrap();
        assert!(
            t >= UNIX_ORIGIN_MS - ua - 1.0 && t <= UNIX_ORIGIN_MS + true_union * 1000.0 + ub + 1.0,
            "{t}"
        );
    }
    assert_eq!(merged.stats["by_label"].as_object().unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_run_without_reference_clock_reads_no_date() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| stream_script(10.0, &[(5.0, "a")]));
    let opts = RunOptions {
        clients: 1,
        n_requests: Some(2),
        payloads: vec![json!({"prompt": "x"})],
        ..RunOptions::default()
    };
    let (result, _) = run_with(
        &ChunkEndpoint,
        &transport,
        &clock,
        &WhitespaceTokenizer,
        &opts,
        &CancelToken::new(),
    )
    .await;
    assert_eq!(result.info.clock_offset, None);
    assert!(transport
        .traffic
        .sent
        .borrow()
        .iter()
        .all(|r| r.response_headers.is_empty()));
}

#[test]
fn compact_shards_merge_to_the_same_stats_without_texts() {
    use llmeter_core::fleet::compact::{from_compact, to_compact};
    let mut rng = SplitMix64::new(99);
    let (rs, ts) = responses(80, &mut rng);
    let whole = run(
        summary(80, CLIENTS, Some(5)),
        rs.clone(),
        ts.clone(),
        RunInfo::default(),
    );
    let shards = split(&rs, &ts, 5, &mut rng, Some(&["eu", "us"]));
    let texts: Vec<String> = shards.iter().map(|s| to_compact(s, false)).collect();
    for t in &texts {
        let doc: Value = serde_json::from_str(t).unwrap();
        let files = doc["files"].as_object().unwrap();
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "summary.json",
                "responses.jsonl",
                "chunk_timings.jsonl",
                "run_info.json",
                "shard.json"
            ]
        );
        for line in files["responses.jsonl"].as_str().unwrap().lines() {
            let r: Value = serde_json::from_str(line).unwrap();
            assert_eq!(
                (&r["response_text"], &r["input_prompt"], &r["input_payload"]),
                (&Value::Null, &Value::Null, &Value::Null)
            );
        }
    }
    let back: Vec<RunResult> = texts.iter().map(|t| from_compact(t).unwrap()).collect();
    let mut merged = merge(
        back,
        &MergeOptions {
            run_name: Some("fleet-test".into()),
            ..MergeOptions::default()
        },
    )
    .unwrap();
    assert!(merged.stats.shift_remove("by_label").is_some());
    assert_eq!(merged.stats, whole.stats);
    // With texts kept, they come back (and the payloads with them).
    let kept = from_compact(&to_compact(&shards[0], true)).unwrap();
    assert!(kept.responses.iter().any(|r| r.response_text.is_some()));
    assert_eq!(kept.payloads, shards[0].payloads);
    // Bad input is an error naming the problem, never a panic.
    let doc = |files: Value| json!({"format": "llmeter-shard/1", "files": files}).to_string();
    for (bad, why) in [
        ("[]".to_string(), "expected a JSON object"),
        (json!({"format": "x"}).to_string(), "format must be"),
        (
            json!({"format": "llmeter-shard/1"}).to_string(),
            "files must be an object",
        ),
        (
            doc(json!({"summary.json": 3})),
            "summary.json must be a text",
        ),
        (doc(json!({"../summary.json": "{}"})), "not a file name"),
        (doc(json!({"summary.json": "{}"})), "no shard.json"),
        (
            doc(json!({"shard.json": "{}", "responses.jsonl": "{\"time_to_first_token\": \"x\"}"})),
            "must be a number",
        ),
    ] {
        let e = from_compact(&bad).unwrap_err();
        assert!(e.contains(why), "{bad}: {e}");
    }
    // A bad manifest is found when merging.
    let shard = from_compact(&doc(json!({
        "shard.json": "{\"test_id\": \"../x\", \"shard_id\": \"a\"}",
        "responses.jsonl": "",
    })))
    .unwrap();
    assert!(merge(vec![shard], &MergeOptions::default())
        .unwrap_err()
        .contains("shard.json"));
}
