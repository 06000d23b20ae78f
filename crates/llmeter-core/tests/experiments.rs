//! Experiments in the core: the heatmap's request distribution through the real runner (virtual
//! clock, scripted transport whose latency varies per request so clients drift apart), the load
//! test's requests-per-client rule and folders, prompts of a target length.

mod common;

use common::{stream_script, ChunkEndpoint, ScriptedTransport, VirtualClock};
use llmeter_core::experiments::heatmap::{self, HeatmapPlan};
use llmeter_core::experiments::load_test::{
    plan_levels, plan_rate_levels, requests_per_client, sweep_rates, LoadTestResult,
};
use llmeter_core::experiments::prompts::prompt_of_length;
use llmeter_core::result::RunResult;
use llmeter_core::runner::{
    Arrival, CancelToken, LoadModel, PayloadAssignment, RunOptions, Runner,
};
use llmeter_core::tokenizer::{Tokenizer, WhitespaceTokenizer};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Answers each request after a delay that depends on its payload (3..=23 ms), one chunk, so
/// clients drift apart.
fn uneven_transport(clock: &VirtualClock) -> ScriptedTransport {
    ScriptedTransport::new(clock, |request| {
        let payload: Value = serde_json::from_slice(request.body.as_deref().unwrap()).unwrap();
        let k = payload["k"].as_u64().unwrap_or(0);
        stream_script(3.0 + ((k * 7919) % 21) as f64, &[(0.0, "a b")])
    })
}

fn plan_for(cells_in: usize, cells_out: usize, per_cell: u32, seed: u64) -> HeatmapPlan {
    let inputs: Vec<u32> = (1..=cells_in as u32).collect();
    let outputs: Vec<u32> = (1..=cells_out as u32).map(|o| o * 10).collect();
    heatmap::plan(
        "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10",
        &inputs,
        &outputs,
        per_cell,
        &WhitespaceTokenizer,
        seed,
    )
    .unwrap()
}

async fn run_plan(plan: &HeatmapPlan, clients: u32) -> (RunResult, Vec<Value>) {
    run_plan_named(plan, clients, None).await
}

async fn run_plan_named(
    plan: &HeatmapPlan,
    clients: u32,
    run_name: Option<String>,
) -> (RunResult, Vec<Value>) {
    let clock = VirtualClock::new();
    let transport = uneven_transport(&clock);
    let runner = Runner {
        endpoint: &ChunkEndpoint,
        transport: &transport,
        clock: &clock,
        tokenizer: &WhitespaceTokenizer,
    };
    let payloads = plan
        .requests
        .iter()
        .enumerate()
        .map(|(k, r)| json!({"prompt": plan.prompts[r.input as usize].text, "max_tokens": plan.output_lengths[r.output as usize], "k": k}))
        .collect();
    let opts = RunOptions {
        clients,
        payloads,
        payload_assignment: PayloadAssignment::EachOnce,
        max_start_jitter_ms: 10.0,
        seed: clients as u64,
        run_name,
        ..Default::default()
    };
    let result = runner
        .run(&opts, &CancelToken::new(), &mut |_: &_, _: &_, _| {})
        .await
        .unwrap();
    (result, transport.sent_bodies())
}

#[tokio::test(start_paused = true)]
async fn heatmap_every_cell_gets_exactly_its_requests_for_any_client_count() {
    for clients in 1..=9u32 {
        for cells in 1..=16usize {
            // cells = inputs × outputs; use a 1 × cells or 2 × cells/2 grid alternately.
            let (ins, outs) = if cells % 2 == 0 && clients % 2 == 0 {
                (2, cells / 2)
            } else {
                (1, cells)
            };
            for per_cell in [1u32, 2, 3] {
                let plan = plan_for(ins, outs, per_cell, cells as u64);
                let (result, sent) = run_plan(&plan, clients).await;
                let expected = cells * per_cell as usize;
                assert_eq!(
                    result.responses.len(),
                    expected,
                    "clients {clients} cells {cells}"
                );
                assert_eq!(result.summary.total_requests, Some(expected as u64));
                // No payload sent twice, none skipped.
                let mut ks: Vec<u64> = sent.iter().map(|p| p["k"].as_u64().unwrap()).collect();
                ks.sort();
                assert_eq!(ks, (0..expected as u64).collect::<Vec<_>>());
                // Every cell exactly per_cell responses, each response's payload is its cell's.
                let by_cell = plan.responses_by_cell(&result.timings);
                assert_eq!(by_cell.len(), cells);
                for (c, members) in by_cell.iter().enumerate() {
                    assert_eq!(
                        members.len(),
                        per_cell as usize,
                        "clients {clients} cells {cells} cell {c}"
                    );
                    let (i, o) = (c / outs, c % outs);
                    for &m in members {
                        let payload = result.responses[m].input_payload.as_ref().unwrap();
                        assert_eq!(payload["max_tokens"], json!(plan.output_lengths[o]));
                        assert_eq!(payload["prompt"], json!(plan.prompts[i].text));
                    }
                }
                assert_eq!(
                    result.summary.n_requests,
                    Some(expected as u64 / clients as u64)
                );
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn each_once_uses_all_clients_concurrently() {
    let plan = plan_for(4, 4, 2, 3);
    let (result, _) = run_plan(&plan, 8).await;
    // 32 requests of 3..23 ms over 8 clients: well under the serial sum.
    let serial: f64 = result
        .responses
        .iter()
        .map(|r| r.time_to_last_token.unwrap())
        .sum();
    assert!(result.summary.total_test_time.unwrap() < serial / 4.0);
}

#[test]
fn each_once_rejects_count_options() {
    let opts = RunOptions {
        payloads: vec![json!({})],
        payload_assignment: PayloadAssignment::EachOnce,
        n_requests: Some(3),
        ..Default::default()
    };
    assert_eq!(opts.validate().unwrap_err().option, "payloadAssignment");
}

#[test]
fn heatmap_plan_rejects_bad_options() {
    let t = &WhitespaceTokenizer;
    assert_eq!(
        heatmap::plan("a b", &[], &[1], 1, t, 0).unwrap_err().option,
        "inputLengths"
    );
    assert_eq!(
        heatmap::plan("a b", &[1], &[0], 1, t, 0)
            .unwrap_err()
            .option,
        "outputLengths"
    );
    assert_eq!(
        heatmap::plan("a b", &[1], &[1], 0, t, 0)
            .unwrap_err()
            .option,
        "requestsPerCombination"
    );
    assert_eq!(
        heatmap::plan("   ", &[1], &[1], 1, t, 0)
            .unwrap_err()
            .option,
        "sourceText"
    );
    // An input length the source cannot give is an error, not a shorter prompt.
    let e = heatmap::plan("a b c", &[2, 5, 4], &[1], 1, t, 0).unwrap_err();
    assert_eq!((e.option, e.is_range), ("inputLengths", true));
    assert!(
        e.message
            .contains("5 tokens is longer than sourceText (3 tokens"),
        "{e}"
    );
    assert!(heatmap::plan("a b c", &[1, 3], &[1], 1, t, 0).is_ok());
}

/// A tokenizer that fails the way a user's JS tokenizer can (throws, returns no array).
struct FailingTokenizer(std::cell::Cell<bool>);

impl Tokenizer for FailingTokenizer {
    fn count_tokens(&self, text: &str) -> usize {
        self.0.set(true);
        WhitespaceTokenizer.count_tokens(text)
    }
    fn truncate(&self, text: &str, n: usize) -> String {
        WhitespaceTokenizer.truncate(text, n)
    }
    fn describe(&self) -> Value {
        json!({})
    }
    fn failure(&self) -> Option<String> {
        self.0
            .get()
            .then(|| "encode() threw Error: boom".to_string())
    }
}

#[test]
fn a_failing_tokenizer_is_named_in_the_plan_error() {
    let e = heatmap::plan(
        "a b c",
        &[1],
        &[1],
        1,
        &FailingTokenizer(Default::default()),
        0,
    )
    .unwrap_err();
    assert_eq!(e.option, "tokenizer");
    assert!(e.message.contains("boom"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn a_failing_tokenizer_leaves_counts_empty_with_a_warning() {
    let clock = VirtualClock::new();
    let transport = ScriptedTransport::new(&clock, |_| stream_script(1.0, &[(1.0, "a b")]));
    let opts = RunOptions {
        clients: 1,
        n_requests: Some(2),
        payloads: vec![json!({"prompt": "one two"})],
        max_start_jitter_ms: 0.0,
        ..Default::default()
    };
    let tokenizer = FailingTokenizer(Default::default());
    let (result, _) = common::run_with(
        &ChunkEndpoint,
        &transport,
        &clock,
        &tokenizer,
        &opts,
        &CancelToken::new(),
    )
    .await;
    assert!(result
        .responses
        .iter()
        .all(|r| r.num_tokens_input.is_none() && r.num_tokens_output.is_none()));
    assert_eq!(result.info.warnings.len(), 1);
    assert!(result.info.warnings[0].contains("The tokenizer failed (encode() threw Error: boom)"));
}

#[test]
fn requests_per_client_follows_llmeter() {
    // LLMeter's defaults (min 1 per client, 10 per run).
    let got: Vec<u32> = [1, 2, 3, 4, 5, 9, 10, 11, 20]
        .iter()
        .map(|&c| requests_per_client(c, 1, 10))
        .collect();
    assert_eq!(got, vec![10, 5, 4, 3, 2, 2, 1, 1, 1]);
    // The per-client minimum wins once clients × it reaches the run minimum.
    assert_eq!(requests_per_client(4, 3, 10), 3);
    assert_eq!(requests_per_client(3, 3, 10), 4);
    assert_eq!(requests_per_client(7, 2, 0), 2);
    let levels = plan_levels(&[1, 3, 20], 1, 10, None).unwrap();
    let shape: Vec<(u32, Option<u32>, &str)> = levels
        .iter()
        .map(|l| (l.clients, l.n_requests, l.run_name.as_str()))
        .collect();
    assert_eq!(
        shape,
        vec![
            (1, Some(10), "00001-clients"),
            (3, Some(4), "00003-clients"),
            (20, Some(1), "00020-clients")
        ]
    );
    let timed = plan_levels(&[2, 4], 1, 10, Some(5.0)).unwrap();
    assert!(timed
        .iter()
        .all(|l| l.n_requests.is_none() && l.run_duration_s == Some(5.0)));
    assert_eq!(
        plan_levels(&[], 1, 10, None).unwrap_err().option,
        "sequenceOfClients"
    );
    assert_eq!(
        plan_levels(&[2, 2], 1, 10, None).unwrap_err().option,
        "sequenceOfClients"
    );
    assert_eq!(
        plan_levels(&[0], 1, 10, None).unwrap_err().option,
        "sequenceOfClients"
    );
    assert_eq!(
        plan_levels(&[1], 0, 10, None).unwrap_err().option,
        "minRequestsPerClient"
    );
    assert_eq!(
        plan_levels(&[1], 1, 10, Some(-1.0)).unwrap_err().option,
        "runDuration"
    );
}

#[tokio::test(start_paused = true)]
async fn load_test_folders_round_trip() {
    let mut runs = BTreeMap::new();
    for clients in [1u32, 2, 5] {
        let plan = plan_for(1, clients as usize, 1, 1);
        let (result, _) =
            run_plan_named(&plan, clients, Some(format!("{clients:05}-clients"))).await;
        runs.insert(clients, result);
    }
    let test = LoadTestResult {
        test_name: "sweep".into(),
        runs,
        rate_runs: Vec::new(),
    };
    let files = test.to_files();
    assert!(files
        .iter()
        .any(|(p, _)| p == "sweep/00005-clients/summary.json"));
    assert!(files
        .iter()
        .any(|(p, _)| p == "sweep/00001-clients/responses.jsonl"));
    assert!(files.iter().all(|(p, _)| p.split('/').count() == 3));
    let back = LoadTestResult::from_files(&files, None).unwrap();
    assert_eq!(back.test_name, "sweep");
    assert_eq!(back.runs.keys().copied().collect::<Vec<_>>(), vec![1, 2, 5]);
    for (c, run) in &back.runs {
        assert_eq!(run.summary, test.runs[c].summary);
        assert_eq!(run.stats, test.runs[c].stats);
        assert_eq!(run.responses, test.runs[c].responses);
    }
    // A plain file next to the levels is ignored, like LLMeter; an empty set is an error.
    let mut with_plot = files.clone();
    with_plot.push(("sweep/report.html".into(), "<html>".into()));
    assert_eq!(
        LoadTestResult::from_files(&with_plot, None)
            .unwrap()
            .runs
            .len(),
        3
    );
    assert!(LoadTestResult::from_files(&[], None).is_err());
    // Every folder of a load test is a run (LLMeter's LoadTestResult.load raises otherwise).
    let mut with_stray = files.clone();
    with_stray.push(("sweep/notes/todo.txt".into(), "x".into()));
    let err = LoadTestResult::from_files(&with_stray, None).unwrap_err();
    assert!(err.starts_with("sweep/notes: no summary.json"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn rate_levels_are_saved_and_loaded_beside_client_levels() {
    let levels = plan_rate_levels(&[2.5, 10.0], 6, None).unwrap();
    assert_eq!(levels[0].run_name, "00002.500-rps");
    assert_eq!(levels[1].n_requests, Some(6));
    let mut test = LoadTestResult {
        test_name: "rates".into(),
        ..Default::default()
    };
    for level in &levels {
        let clock = VirtualClock::new();
        let transport = uneven_transport(&clock);
        let runner = Runner {
            endpoint: &ChunkEndpoint,
            transport: &transport,
            clock: &clock,
            tokenizer: &WhitespaceTokenizer,
        };
        let opts = RunOptions {
            clients: 4,
            load: LoadModel::Open {
                rate: level.rate,
                arrival: Arrival::Poisson,
            },
            n_requests: level.n_requests,
            payloads: vec![json!({"prompt": "a b", "k": 1})],
            run_name: Some(level.run_name.clone()),
            ..Default::default()
        };
        let result = runner
            .run(&opts, &CancelToken::new(), &mut |_: &_, _: &_, _| {})
            .await
            .unwrap();
        test.insert(result).unwrap();
    }
    let (closed, _) = run_plan_named(&plan_for(1, 2, 1, 1), 1, Some("00001-clients".into())).await;
    test.insert(closed).unwrap();
    let files = test.to_files();
    assert!(files
        .iter()
        .any(|(p, _)| p == "rates/00010.000-rps/run_info.json"));
    assert!(files
        .iter()
        .any(|(p, _)| p == "rates/00001-clients/summary.json"));
    let back = LoadTestResult::from_files(&files, None).unwrap();
    assert_eq!(back.test_name, "rates");
    assert_eq!(
        back.rate_runs.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
        vec![2.5, 10.0]
    );
    assert_eq!(back.runs.keys().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(back.rate_runs[1].1.stats, test.rate_runs[1].1.stats);
    assert!(back.rate_runs[1].1.stats.contains_key("schedule_lag-p99"));
    // A second run of the same level is refused.
    let mut twice = files.clone();
    for (p, c) in files
        .iter()
        .filter(|(p, _)| p.starts_with("rates/00010.000-rps/"))
    {
        twice.push((p.replace("00010.000-rps", "again"), c.clone()));
    }
    let err = LoadTestResult::from_files(&twice, None).unwrap_err();
    assert!(err.contains("a second run at 10 requests/s"), "{err}");
    assert!(plan_rate_levels(&[1.0, 1.0001], 1, None)
        .unwrap_err()
        .message
        .contains("twice"));
    assert_eq!(
        plan_rate_levels(&[0.0], 1, None).unwrap_err().option,
        "sequenceOfRates"
    );
}

#[test]
fn sweep_rates_follow_guidellm() {
    // linspace(1, 9, 9)[1:] for the default size 10.
    assert_eq!(
        sweep_rates(1.0, 9.0, 10),
        vec![2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    );
    assert_eq!(sweep_rates(2.0, 5.0, 4), vec![3.5, 5.0]);
    assert!(sweep_rates(2.0, 5.0, 2).is_empty());
}

fn natural_text() -> String {
    let base = "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness. \
        Grüße aus München — naïve café, 東京は日本の首都です。 Numbers 3.14159 and 2,718; emoji 🎉 done!\n\n";
    base.repeat(40)
}

/// Prompt-length checks shared with the HF tokenizer test (crates/llmeter-tokenizers/tests).
pub fn assert_prompt_lengths(tokenizer: &dyn Tokenizer, source: &str, targets: &[u32]) {
    for &target in targets {
        let p = prompt_of_length(source, target, tokenizer);
        assert_eq!(
            p.tokens, target,
            "target {target}: got {} tokens: {:?}",
            p.tokens, p.text
        );
        assert_eq!(tokenizer.count_tokens(&p.text) as u32, target);
        assert!(
            source.starts_with(&p.text),
            "contiguous prefix of the source"
        );
    }
}

#[test]
fn prompts_have_the_target_whitespace_token_count() {
    let source = natural_text();
    assert_prompt_lengths(
        &WhitespaceTokenizer,
        &source,
        &[1, 2, 10, 50, 200, 500, 1000],
    );
    // Shorter source: the whole text, with its real count.
    let p = prompt_of_length("only three words", 10, &WhitespaceTokenizer);
    assert_eq!((p.tokens, p.text.as_str()), (3, "only three words"));
    // The heatmap plan records each prompt's measured length.
    let plan = heatmap::plan(&source, &[10, 50, 200], &[5], 1, &WhitespaceTokenizer, 0).unwrap();
    assert_eq!(
        plan.prompts.iter().map(|p| p.tokens).collect::<Vec<_>>(),
        vec![10, 50, 200]
    );
}

/// Counts how much text the prompt builder tokenizes.
struct MeteredTokenizer(std::cell::Cell<usize>);

impl Tokenizer for MeteredTokenizer {
    fn count_tokens(&self, text: &str) -> usize {
        self.0.set(self.0.get() + text.len());
        WhitespaceTokenizer.count_tokens(text)
    }
    fn truncate(&self, text: &str, n: usize) -> String {
        WhitespaceTokenizer.truncate(text, n)
    }
    fn describe(&self) -> serde_json::Value {
        json!({"tokenizer_module": "metered"})
    }
}

#[test]
fn a_book_sized_source_costs_only_a_prompt_sized_window() {
    let source = natural_text().repeat(50); // ~1 MB
    let t = MeteredTokenizer(std::cell::Cell::new(0));
    let p = prompt_of_length(&source, 200, &t);
    assert_eq!(p.tokens, 200);
    assert!(
        t.0.get() < 40 * p.text.len(),
        "tokenized {} bytes for a {}-byte prompt",
        t.0.get(),
        p.text.len()
    );
}
