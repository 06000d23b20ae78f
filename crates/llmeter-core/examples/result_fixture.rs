//! Writes realistic run folders for the Python cross-check (`tests/python/test_llmeter_results.py`),
//! and loads folders written by Python LLMeter.
//!
//! ```text
//! result_fixture DIR           write DIR/run, DIR/interrupted, DIR/no_summary and the LoadTest
//!                              folder DIR/loadtest/{00001-clients,00004-clients}
//! result_fixture --load DIR    load DIR with RunResult::from_files and print
//!                              {"summary": …, "stats": …, "responses": n} as JSON
//! result_fixture --stats P,P…  read {"floats": [[…]…], "ints": [[…]…]} on stdin and print
//!                              summary_stats of each list for those percentiles
//! ```

use llmeter_core::response::{InvocationResponse, ResponseTimings};
use llmeter_core::result::{load_test_run_name, RunInfo, RunResult, Summary};
use llmeter_core::stats::{summary_stats, Samples};
use llmeter_core::time::format_utc;
use serde_json::{json, Map, Value};
use std::path::Path;
use std::process::ExitCode;

/// 2025-01-01T12:00:00Z in Unix milliseconds.
const T0_MS: f64 = 1_735_732_800_000.0;

/// Deterministic numbers without a dependency (64-bit LCG, top bits).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
    fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + (self.next() * (hi - lo + 1) as f64) as u64 % (hi - lo + 1)
    }
}

enum Outcome {
    Ok,
    /// Rejected before any byte (e.g. HTTP 429): no times, no tokens.
    Rejected,
    /// The stream broke after its first token: TTFT and partial text, no tokens.
    BrokeAfterFirstToken,
}

/// One request as the runner would record it, with LLMeter's TPOT formula.
fn request(
    rng: &mut Lcg,
    id: String,
    sent_ms: f64,
    outcome: Outcome,
    cached: Option<u64>,
    reasoning: Option<u64>,
) -> (InvocationResponse, ResponseTimings) {
    let ttft = rng.between(0.12, 0.9);
    let itl = rng.between(0.004, 0.03);
    let output = rng.int(20, 300);
    let input = rng.int(40, 600);
    let first_chunk = ttft - rng.between(0.001, 0.02);
    let payload = json!({"model": "sim-model", "messages": [{"role": "user", "content": format!("question {id}")}], "stream": true});
    let mut response = InvocationResponse {
        response_text: None,
        input_payload: Some(payload.into()),
        id: Some(id.clone()),
        input_prompt: Some(format!("question {id}").into()),
        request_time: Some(format_utc(sent_ms)),
        ..Default::default()
    };
    let mut timings = ResponseTimings {
        id,
        time_to_headers: Some(first_chunk * 0.9),
        status: Some(200),
        ..Default::default()
    };
    match outcome {
        Outcome::Ok => {
            let offsets: Vec<f64> = (0..output)
                .map(|k| ttft + k as f64 * itl * rng.between(0.8, 1.2))
                .collect();
            let ttlt = offsets.last().copied().unwrap_or(ttft) + rng.between(0.0005, 0.003);
            response.response_text = Some(format!("Réponse de {output} jetons"));
            response.time_to_first_token = Some(ttft);
            response.time_to_last_token = Some(ttlt);
            response.num_tokens_input = Some(input);
            response.num_tokens_output = Some(output);
            response.num_tokens_input_cached = cached;
            response.num_tokens_output_reasoning = reasoning;
            response.time_per_output_token =
                (output > 1).then(|| (ttlt - ttft) / (output - 1) as f64);
            timings.time_to_first_chunk = Some(first_chunk);
            timings.num_chunks = output as u32 + 2;
            timings.num_events = output as u32 + 2;
            timings.content_chunk_offsets = offsets;
        }
        Outcome::Rejected => {
            response.error = Some("HTTP 429: rate limited".into());
            timings.status = Some(429);
            timings.time_to_headers = Some(rng.between(0.01, 0.05));
        }
        Outcome::BrokeAfterFirstToken => {
            response.response_text = Some("Ré".into());
            response.time_to_first_token = Some(ttft);
            response.error = Some("stream ended before [DONE]".into());
            timings.time_to_first_chunk = Some(first_chunk);
            timings.num_chunks = 2;
            timings.num_events = 1;
            timings.content_chunk_offsets = vec![ttft];
        }
    }
    (response, timings)
}

/// A count-bound run of `clients` × `per_client` requests, sent back to back by each client.
fn run(
    seed: u64,
    name: &str,
    clients: u32,
    per_client: u64,
    with_failures: bool,
    interrupted: bool,
) -> RunResult {
    let mut rng = Lcg(seed);
    let mut responses = Vec::new();
    let mut timings = Vec::new();
    let mut end_ms: f64 = 0.0;
    for client in 0..clients {
        let mut clock_ms = rng.between(0.0, 10.0);
        for k in 0..per_client {
            let index = client as u64 * per_client + k;
            let outcome = match index {
                3 if with_failures => Outcome::Rejected,
                17 if with_failures => Outcome::BrokeAfterFirstToken,
                31 if with_failures => Outcome::Rejected,
                _ => Outcome::Ok,
            };
            let cached = match index {
                5 => Some(128),
                6 => Some(0), // falsy: skipped by LLMeter's total, but still a sample of the metric
                _ => None,
            };
            let reasoning = (index % 9 == 4).then(|| rng.int(5, 60));
            let (response, timing) = request(
                &mut rng,
                format!("{name}-{client}-{k:02}"),
                T0_MS + clock_ms,
                outcome,
                cached,
                reasoning,
            );
            clock_ms += response
                .time_to_last_token
                .or(timing.time_to_headers)
                .unwrap_or(0.05)
                * 1000.0
                + rng.between(0.2, 2.0);
            end_ms = end_ms.max(clock_ms);
            responses.push(response);
            timings.push(timing);
        }
    }
    // The runner records responses in completion order, not request order.
    let mut order: Vec<usize> = (0..responses.len()).collect();
    order.sort_by(|&a, &b| {
        let done = |i: usize| -> f64 {
            let sent = responses[i]
                .request_time
                .as_deref()
                .and_then(llmeter_core::time::parse_utc)
                .unwrap_or(0.0);
            sent + responses[i].time_to_last_token.unwrap_or(0.05) * 1000.0
        };
        done(a).total_cmp(&done(b))
    });
    let responses: Vec<_> = order.iter().map(|&i| responses[i].clone()).collect();
    let timings: Vec<_> = order.iter().map(|&i| timings[i].clone()).collect();
    let total = responses.len() as u64;
    let summary = Summary {
        total_requests: Some(total),
        clients,
        n_requests: Summary::n_requests_per_client(Some(per_client), total, clients, interrupted),
        total_test_time: (!interrupted).then_some(end_ms / 1000.0 + 0.0123),
        model_id: Some("sim-model".into()),
        output_path: None,
        endpoint_name: Some("llm-sim".into()),
        provider: Some("openai".into()),
        run_name: Some(name.into()),
        run_description: Some("fixture for the Python cross-check".into()),
        start_time: Some(format_utc(T0_MS - 3.0)),
        first_request_time: None,
        last_request_time: None,
        end_time: Some(format_utc(T0_MS + end_ms + 12.3)),
    };
    let mut config = Map::new();
    config.insert(
        "endpoint".into(),
        json!({"endpoint_type": "OpenAICompletionStreamEndpoint", "endpoint_name": "llm-sim", "model_id": "sim-model", "provider": "openai", "base_url": "http://127.0.0.1:8080/v1", "api_key": "sk-must-not-be-written"}),
    );
    config.insert("tokenizer".into(), json!({"tokenizer_module": "llmeter"}));
    config.insert("clients".into(), json!(clients));
    config.insert("n_requests".into(), json!(per_client));
    config.insert("payload".into(), json!("payload.jsonl"));
    config.insert("run_name".into(), json!(name));
    config.insert(
        "run_description".into(),
        json!("fixture for the Python cross-check"),
    );
    config.insert("timeout".into(), json!(60.0));
    config.insert("low_memory".into(), json!(false));
    let payloads =
        vec![json!({"messages": [{"role": "user", "content": "question"}], "max_tokens": 256})];
    let info = RunInfo {
        interrupted,
        runtime: Some("fixture".into()),
        ..RunInfo::default()
    };
    RunResult::new(summary, responses, timings, info, config, payloads)
}

fn write(dir: &Path, result: &RunResult, skip: &[&str]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, content) in result.to_files() {
        if !skip.contains(&name.as_str()) {
            std::fs::write(dir.join(name), content)?;
        }
    }
    println!("{}", dir.display());
    Ok(())
}

fn write_all(out: &Path) -> std::io::Result<()> {
    write(&out.join("run"), &run(1, "run", 2, 25, true, false), &[])?;
    write(
        &out.join("interrupted"),
        &run(2, "interrupted", 3, 4, true, true),
        &[],
    )?;
    write(
        &out.join("no_summary"),
        &run(3, "no_summary", 2, 5, true, true),
        &["summary.json"],
    )?;
    let loadtest = out.join("loadtest");
    write(
        &loadtest.join(load_test_run_name(1)),
        &run(4, &load_test_run_name(1), 1, 10, false, false),
        &[],
    )?;
    write(
        &loadtest.join(load_test_run_name(4)),
        &run(5, &load_test_run_name(4), 4, 6, true, false),
        &[],
    )?;
    Ok(())
}

fn load(dir: &Path) -> Result<Value, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_file() {
            let content =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            files.push((
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                content,
            ));
        }
    }
    let result = RunResult::from_files(&files)?;
    Ok(
        json!({"summary": result.summary, "stats": result.stats, "responses": result.responses.len(), "interrupted": result.info.interrupted}),
    )
}

/// `summary_stats` of every list on stdin, for cross-checking the arithmetic against Python.
fn stats_of_stdin(percentiles: &str) -> Result<(), String> {
    let percentiles: Vec<u32> = percentiles
        .split(',')
        .map(|p| {
            p.trim()
                .parse()
                .map_err(|e| format!("percentile {p:?}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input).map_err(|e| e.to_string())?;
    let input: Value = serde_json::from_str(&input).map_err(|e| format!("stdin: {e}"))?;
    let lists = |key: &str| {
        input
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let summarize = |samples: Samples| -> Value {
        Value::Object(summary_stats(&samples, &percentiles).into_iter().collect())
    };
    let floats: Vec<Value> = lists("floats")
        .iter()
        .map(|l| {
            summarize(Samples::floats(
                l.as_array().into_iter().flatten().filter_map(Value::as_f64),
            ))
        })
        .collect();
    let ints: Vec<Value> = lists("ints")
        .iter()
        .map(|l| {
            summarize(Samples::ints(
                l.as_array().into_iter().flatten().filter_map(Value::as_u64),
            ))
        })
        .collect();
    println!("{}", json!({"floats": floats, "ints": ints}));
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.as_slice() {
        [flag, dir] if flag == "--load" => load(Path::new(dir)).map(|v| println!("{v}")),
        [flag, percentiles] if flag == "--stats" => stats_of_stdin(percentiles),
        [dir] if !dir.starts_with('-') => write_all(Path::new(dir)).map_err(|e| e.to_string()),
        _ => Err(
            "usage: result_fixture DIR | result_fixture --load DIR | result_fixture --stats P,P…"
                .to_string(),
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("result_fixture: {e}");
            ExitCode::FAILURE
        }
    }
}
