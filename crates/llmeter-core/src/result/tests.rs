use super::*;
use serde_json::json;

fn response(
    id: &str,
    sec: u32,
    ttft: Option<f64>,
    ttlt: Option<f64>,
    tokens: Option<(u64, u64)>,
    error: Option<&str>,
) -> InvocationResponse {
    InvocationResponse {
        response_text: error.is_none().then(|| "hé \"quoted\"".to_string()),
        input_payload: Some(
            json!({"messages": [{"role": "user", "content": "hi"}], "stream": true}).into(),
        ),
        id: Some(id.into()),
        input_prompt: Some("hi".into()),
        time_to_first_token: ttft,
        time_to_last_token: ttlt,
        num_tokens_input: tokens.map(|t| t.0),
        num_tokens_output: tokens.map(|t| t.1),
        time_per_output_token: match (ttft, ttlt, tokens) {
            (Some(a), Some(b), Some((_, out))) if out > 1 => Some((b - a) / (out - 1) as f64),
            _ => None,
        },
        error: error.map(str::to_string),
        request_time: Some(format!("2025-01-01T12:00:0{sec}.250Z")),
        ..Default::default()
    }
}

fn sample_run() -> RunResult {
    let responses = vec![
        response("a", 1, Some(0.2), Some(1.0), Some((10, 50)), None),
        response("b", 0, Some(0.3), Some(1.5), Some((20, 100)), None),
        response("c", 2, Some(0.25), None, None, Some("stream broke")),
    ];
    let timings = vec![
        ResponseTimings {
            id: "a".into(),
            time_to_first_chunk: Some(0.1),
            content_chunk_offsets: vec![0.2, 0.3, 0.45],
            num_chunks: 5,
            num_events: 6,
            status: Some(200),
            ..Default::default()
        },
        ResponseTimings {
            id: "b".into(),
            time_to_first_chunk: Some(0.2),
            content_chunk_offsets: vec![0.3, 0.4],
            num_chunks: 3,
            num_events: 3,
            status: Some(200),
            ..Default::default()
        },
        ResponseTimings {
            id: "c".into(),
            time_to_first_chunk: Some(0.2),
            content_chunk_offsets: vec![0.25],
            num_chunks: 1,
            num_events: 1,
            status: Some(200),
            ..Default::default()
        },
    ];
    let summary = Summary {
        total_requests: Some(3),
        clients: 1,
        n_requests: Some(3),
        total_test_time: Some(2.0),
        model_id: Some("m".into()),
        endpoint_name: Some("openai".into()),
        provider: Some("openai".into()),
        run_name: Some("run".into()),
        start_time: Some("2025-01-01T12:00:00.000Z".into()),
        end_time: Some("2025-01-01T12:00:04.000Z".into()),
        ..Default::default()
    };
    let mut config = Map::new();
    config.insert("timeout".into(), json!(60.0));
    config.insert("clients".into(), json!(1));
    config.insert(
        "endpoint".into(),
        json!({"endpoint_type": "OpenAICompletionStreamEndpoint", "model_id": "m", "base_url": "http://x", "api_key": "sk-123", "default_headers": {"Authorization": "Bearer sk"}, "endpoint_name": "openai", "provider": "openai"}),
    );
    config.insert("n_requests".into(), json!(3));
    RunResult::new(
        summary,
        responses,
        timings,
        RunInfo::default(),
        config,
        vec![json!({"prompt": "hi"}), json!({"prompt": "hé"})],
    )
}

fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
    files
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, c)| c.as_str())
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn new_fills_request_times_and_strips_secrets() {
    let run = sample_run();
    assert_eq!(
        run.summary.first_request_time.as_deref(),
        Some("2025-01-01T12:00:00.250Z")
    );
    assert_eq!(
        run.summary.last_request_time.as_deref(),
        Some("2025-01-01T12:00:02.250Z")
    );
    let endpoint = run.run_config["endpoint"].as_object().expect("endpoint");
    assert!(!endpoint.contains_key("api_key") && !endpoint.contains_key("default_headers"));
    assert_eq!(
        run.info.warnings,
        vec![
            "run_config: removed secret-looking keys endpoint.api_key, endpoint.default_headers"
                .to_string()
        ]
    );
    assert_eq!(run.stats["failed_requests"], json!(1));
    // The failed stream's TTFT counts, as in LLMeter.
    assert_eq!(run.stats["time_to_first_token-average"], json!(0.25));
    assert_eq!(
        run.stats["inter_token_latency-average"],
        json!(crate::stats::exact_mean(&[0.3 - 0.2, 0.45 - 0.3, 0.4 - 0.3]).expect("gaps"))
    );
    assert_eq!(run.stats["num_chunks-average"], json!(4));
}

#[test]
fn summary_json_has_exactly_llmeters_keys_and_layout() {
    let files = sample_run().to_files();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "summary.json",
            "stats.json",
            "responses.jsonl",
            "run_config.json",
            "payload.jsonl",
            "chunk_timings.jsonl",
            "run_info.json"
        ]
    );
    let summary = file(&files, SUMMARY_FILE);
    assert!(summary.starts_with("{\n    \"total_requests\": 3,\n    \"clients\": 1,\n    \"n_requests\": 3,\n    \"total_test_time\": 2.0,\n"), "{summary}");
    assert!(summary.contains("\n    \"output_path\": null,\n"));
    let parsed: Map<String, Value> = serde_json::from_str(summary).expect("valid JSON");
    assert_eq!(
        parsed.keys().map(String::as_str).collect::<Vec<_>>(),
        crate::stats::SUMMARY_KEYS
    );
}

#[test]
fn responses_jsonl_is_one_object_per_line_with_the_14_keys() {
    let files = sample_run().to_files();
    let text = file(&files, RESPONSES_FILE);
    assert!(text.ends_with("}\n") && !text.contains("\n\n"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with(r#"{"response_text": "hé \"quoted\"", "input_payload": {"messages": [{"role": "user", "content": "hi"}], "stream": true}, "id": "a", "#), "{}", lines[0]);
    let keys: Vec<String> = serde_json::from_str::<Map<String, Value>>(lines[2])
        .expect("json")
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        [
            "response_text",
            "input_payload",
            "id",
            "input_prompt",
            "time_to_first_token",
            "time_to_last_token",
            "num_tokens_input",
            "num_tokens_output",
            "num_tokens_input_cached",
            "num_tokens_output_reasoning",
            "time_per_output_token",
            "error",
            "retries",
            "request_time"
        ]
    );
    assert!(
        lines[2].contains(r#""time_to_last_token": null"#)
            && lines[2].contains(r#""error": "stream broke""#)
    );
    assert_eq!(
        file(&files, PAYLOAD_FILE),
        "{\"prompt\": \"hi\"}\n{\"prompt\": \"hé\"}\n"
    );
}

#[test]
fn run_config_is_in_llmeter_order_with_flat_endpoint_and_no_secrets() {
    let files = sample_run().to_files();
    let text = file(&files, RUN_CONFIG_FILE);
    let config: Map<String, Value> = serde_json::from_str(text).expect("json");
    assert_eq!(
        config.keys().map(String::as_str).collect::<Vec<_>>(),
        RUN_CONFIG_KEYS
    );
    assert_eq!(config["timeout"], json!(60.0));
    assert_eq!(config["run_duration"], Value::Null);
    let endpoint: Vec<&str> = config["endpoint"]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        endpoint,
        [
            "endpoint_name",
            "model_id",
            "provider",
            "base_url",
            "endpoint_type"
        ]
    );
    assert!(!text.contains("sk-") && !text.to_lowercase().contains("authorization"));
}

#[test]
fn envelope_endpoint_is_flattened() {
    let mut config = Map::new();
    config.insert("endpoint".into(), json!({"__llmeter_class__": "llmeter.endpoints.openai.OpenAICompletionEndpoint", "__llmeter_state__": {"model_id": "m", "endpoint_name": "e", "provider": "p", "max_retries": 2}}));
    let out = llmeter_run_config(&config);
    assert_eq!(
        out["endpoint"],
        json!({"endpoint_name": "e", "model_id": "m", "provider": "p", "max_retries": 2, "endpoint_type": "OpenAICompletionEndpoint"})
    );
    assert_eq!(
        serde_json::to_string(&out["endpoint"]).ok().as_deref(),
        Some(
            r#"{"endpoint_name":"e","model_id":"m","provider":"p","max_retries":2,"endpoint_type":"OpenAICompletionEndpoint"}"#
        )
    );
}

#[test]
fn secret_key_names() {
    for secret in [
        "api_key",
        "API-Key",
        "apiKey",
        "x-api-key",
        "Authorization",
        "headers",
        "default_headers",
        "aws_secret_access_key",
        "session_token",
        "token",
        "password",
        "access_key",
        "aws_access_key_id",
        "accessKeyId",
        "secretAccessKey",
        "sessionToken",
        "x-amz-security-token",
    ] {
        assert!(is_secret_key(secret), "{secret}");
    }
    for fine in [
        "max_tokens",
        "tokenizer",
        "tokenizer_module",
        "model_id",
        "ttft_visible_tokens_only",
        "keys_count",
        "num_tokens_input",
    ] {
        assert!(!is_secret_key(fine), "{fine}");
    }
    let mut m = json!({"callbacks": [{"api_key": "x", "name": "c"}], "keep": 1})
        .as_object()
        .cloned()
        .expect("object");
    assert_eq!(
        strip_secrets(&mut m),
        vec!["callbacks.0.api_key".to_string()]
    );
    assert_eq!(
        Value::Object(m),
        json!({"callbacks": [{"name": "c"}], "keep": 1})
    );
}

#[test]
fn our_files_round_trip() {
    let run = sample_run();
    let loaded = RunResult::from_files(&run.to_files()).expect("loads");
    assert_eq!(loaded, run);
    // Key order survives too (PartialEq on maps ignores it).
    assert_eq!(
        loaded.stats.keys().collect::<Vec<_>>(),
        run.stats.keys().collect::<Vec<_>>()
    );
    let mut interrupted = run.clone();
    interrupted.info.interrupted = true;
    interrupted.summary.total_test_time = None;
    let interrupted = RunResult::new(
        interrupted.summary,
        interrupted.responses,
        interrupted.timings,
        interrupted.info,
        interrupted.run_config,
        interrupted.payloads,
    );
    let loaded = RunResult::from_files(&interrupted.to_files()).expect("loads");
    assert_eq!(loaded.stats["interrupted"], json!(true));
    assert_eq!(loaded.stats["requests_per_minute"], Value::Null);
    assert_eq!(loaded, interrupted);
}

/// As LLMeter 0.2.0 writes a folder (bare NaN, `annotations`, second-resolution times,
/// runner-path keys in stats.json).
fn python_folder() -> Vec<(String, String)> {
    let summary = r#"{"total_requests": 3, "clients": 1, "n_requests": 3, "total_test_time": 3.0, "model_id": "m", "output_path": "/tmp/out/run", "endpoint_name": "e", "provider": "p", "run_name": "run", "run_description": null, "start_time": "2025-01-01T11:59:59Z", "first_request_time": "2025-01-01T12:00:00Z", "last_request_time": "2025-01-01T12:00:02Z", "end_time": "2025-01-01T12:00:04Z"}"#;
    let responses = [
        r#"{"response_text": "a", "input_payload": null, "id": "r1", "input_prompt": "p", "time_to_first_token": 0.2, "time_to_last_token": 1.0, "num_tokens_input": 10, "num_tokens_output": 50, "num_tokens_input_cached": null, "num_tokens_output_reasoning": null, "time_per_output_token": 0.0163265306122449, "error": null, "retries": null, "request_time": "2025-01-01T12:00:00Z", "annotations": {"cost": 1}}"#,
        r#"{"response_text": "b", "input_payload": {"__llmeter_bytes__": "aGk="}, "id": "r2", "input_prompt": {"parts": ["x"]}, "time_to_first_token": NaN, "time_to_last_token": 1.5, "num_tokens_input": 20, "num_tokens_output": 100, "num_tokens_input_cached": 5, "num_tokens_output_reasoning": 7, "time_per_output_token": null, "error": null, "retries": 0, "request_time": "2025-01-01T12:00:02Z", "cost_extra": 3}"#,
        r#"{"response_text": null, "id": "r3", "error": "boom", "request_time": "2025-01-01T12:00:01Z"}"#,
    ];
    let stats = r#"{"total_requests": 3, "failed_requests": 1, "requests_per_minute": 90.0, "output_tps": 37.5, "time_per_output_token-average": 0.0163265306122449, "cost_total": 1.5, "weird": NaN}"#;
    vec![
        ("run/summary.json".to_string(), summary.to_string()),
        ("run/responses.jsonl".to_string(), responses.join("\n")),
        ("run/stats.json".to_string(), stats.to_string()),
    ]
}

#[test]
fn loads_python_written_folder() {
    let run = RunResult::from_files(&python_folder()).expect("loads");
    assert_eq!(run.responses.len(), 3);
    assert_eq!(run.responses[1].time_to_first_token, None);
    assert_eq!(
        run.responses[1].input_prompt.as_deref(),
        Some(r#"{"parts":["x"]}"#)
    );
    assert_eq!(run.responses[1].retries, Some(0));
    assert_eq!(run.responses[2].error.as_deref(), Some("boom"));
    assert_eq!(run.summary.output_path.as_deref(), Some("/tmp/out/run"));
    let s = &run.stats;
    // Recomputed load-path keys win over stats.json ...
    assert_eq!(s["requests_per_minute"], json!(60.0));
    assert_eq!(s["total_input_tokens"], json!(30));
    assert_eq!(s["total_cached_input_tokens"], json!(5));
    assert_eq!(s["total_reasoning_output_tokens"], json!(7));
    assert_eq!(s["time_to_first_token-average"], json!(0.2));
    // ... other saved keys are kept (NaN read as null), then our missing keys are added.
    assert_eq!(s["output_tps"], json!(37.5));
    assert_eq!(s["cost_total"], json!(1.5));
    assert_eq!(s["weird"], Value::Null);
    assert_eq!(s["time_per_output_token-p50"], json!(0.0163265306122449));
    let keys: Vec<&str> = s.keys().map(String::as_str).collect();
    let at = |k: &str| keys.iter().position(|x| *x == k).expect(k);
    assert!(
        at("num_tokens_input_cached-p99") < at("output_tps")
            && at("cost_total") < at("weird")
            && at("weird") < at("time_per_output_token-p50")
    );
}

#[test]
fn recovers_interrupted_run_without_summary() {
    let mut files = python_folder();
    files.retain(|(n, _)| !n.ends_with("summary.json"));
    files.push(("run_config.json".into(), r#"{"endpoint": {"__llmeter_class__": "x.Y", "__llmeter_state__": {"model_id": "m2", "endpoint_name": "e2"}}, "clients": 2, "n_requests": 4, "run_name": "r", "run_description": "d"}"#.into()));
    let run = RunResult::from_files(&files).expect("loads");
    let expected = Summary {
        total_requests: Some(3),
        clients: 2,
        n_requests: Some(4),
        total_test_time: None,
        model_id: Some("m2".into()),
        endpoint_name: Some("e2".into()),
        run_name: Some("r".into()),
        run_description: Some("d".into()),
        start_time: Some("2025-01-01T12:00:00Z".into()),
        first_request_time: Some("2025-01-01T12:00:00Z".into()),
        last_request_time: Some("2025-01-01T12:00:02Z".into()),
        end_time: Some("2025-01-01T12:00:02Z".into()),
        ..Default::default()
    };
    assert_eq!(run.summary, expected);
    assert_eq!(run.stats["requests_per_minute"], Value::Null);
    // Flat (0.1.12) endpoint form.
    files.retain(|(n, _)| n != "run_config.json");
    files.push((
        "run_config.json".into(),
        r#"{"endpoint": {"endpoint_name": "e3", "model_id": "m3", "provider": "p3", "endpoint_type": "T"}}"#.into(),
    ));
    let run = RunResult::from_files(&files).expect("loads");
    assert_eq!(
        (
            run.summary.model_id.as_deref(),
            run.summary.provider.as_deref(),
            run.summary.clients
        ),
        (Some("m3"), Some("p3"), 1)
    );
}

#[test]
fn stats_json_is_used_verbatim_without_responses() {
    let files = vec![
        (
            "summary.json".to_string(),
            "{\"total_requests\": 2}".to_string(),
        ),
        ("stats.json".to_string(), "{\"custom\": 1}".to_string()),
    ];
    let run = RunResult::from_files(&files).expect("loads");
    assert_eq!(Value::Object(run.stats), json!({"custom": 1}));
}

#[test]
fn malformed_input_gives_file_and_line() {
    let with = |name: &str, content: &str| vec![(name.to_string(), content.to_string())];
    let err = RunResult::from_files(&with(
        "responses.jsonl",
        "{\"response_text\": null}\n\n{\"response_text\": 5}\n",
    ))
    .expect_err("bad type");
    assert_eq!(
        err,
        "responses.jsonl line 3: `response_text` must be a string, found a number"
    );
    let err = RunResult::from_files(&with(
        "responses.jsonl",
        "{\"response_text\": null}\n{oops\n",
    ))
    .expect_err("bad json");
    assert!(err.starts_with("responses.jsonl line 2: "), "{err}");
    let err = RunResult::from_files(&with(
        "responses.jsonl",
        "{\"response_text\": null, \"num_tokens_input\": -3}",
    ))
    .expect_err("negative");
    assert_eq!(
        err,
        "responses.jsonl line 1: `num_tokens_input` must be a non-negative integer, found -3"
    );
    let err = RunResult::from_files(&with("summary.json", "[1]")).expect_err("not an object");
    assert_eq!(err, "summary.json: expected a JSON object, found an array");
    let err = RunResult::from_files(&with("summary.json", "{\"clients\": \"two\"}"))
        .expect_err("bad clients");
    assert_eq!(
        err,
        "summary.json: `clients` must be a non-negative integer, found a string"
    );
    // A corrupt stats.json is LLMeter's warning, not an error: the stats are recomputed.
    let loaded = RunResult::from_files(&with("stats.json", "{\n\"a\": }")).expect("recomputed");
    let warning = &loaded.info.warnings[0];
    assert!(
        warning.starts_with("stats.json: ") && warning.contains("line 2"),
        "{warning}"
    );
    let err = RunResult::from_files(&with("payload.jsonl", "{}")).expect_err("nothing");
    assert_eq!(
        err,
        "no summary.json, responses.jsonl or stats.json: nothing to load"
    );
    let err = RunResult::from_files(&[
        ("a/stats.json".into(), "{}".into()),
        ("b/stats.json".into(), "{}".into()),
    ])
    .expect_err("dup");
    assert_eq!(err, "two files named stats.json");
}

#[test]
fn never_panics_on_mangled_files() {
    let files = sample_run().to_files();
    // Every prefix cut of every file, and a few byte-level corruptions.
    for (index, (_, content)) in files.iter().enumerate() {
        let cuts: Vec<usize> = (0..content.len())
            .step_by(7)
            .filter(|&i| content.is_char_boundary(i))
            .collect();
        for cut in cuts {
            let mut mangled = files.clone();
            mangled[index].1 = content[..cut].to_string();
            let _ = RunResult::from_files(&mangled);
            mangled[index].1 = content[..cut]
                .replace(['1', '"'], "N")
                .replace(':', "Infinity");
            let _ = RunResult::from_files(&mangled);
        }
    }
}

#[test]
fn request_time_bounds_compare_instants_not_strings() {
    let at = |t: &str| InvocationResponse {
        request_time: Some(t.into()),
        ..Default::default()
    };
    let responses = [
        at("2025-01-01T12:00:01Z"),
        at("2025-01-01T12:00:00.900Z"),
        at("garbage"),
        at("2025-01-01T13:00:00+02:00"),
    ];
    let (first, last) = Summary::request_time_bounds(&responses);
    assert_eq!(first.as_deref(), Some("2025-01-01T13:00:00+02:00"));
    assert_eq!(last.as_deref(), Some("2025-01-01T12:00:01Z"));
    assert_eq!(Summary::request_time_bounds(&[]), (None, None));
}

#[test]
fn n_requests_rules() {
    assert_eq!(
        Summary::n_requests_per_client(Some(5), 10, 2, false),
        Some(5)
    );
    assert_eq!(Summary::n_requests_per_client(Some(5), 7, 2, true), Some(3));
    assert_eq!(Summary::n_requests_per_client(None, 9, 4, false), Some(2));
    assert_eq!(Summary::n_requests_per_client(None, 9, 0, false), None);
    assert_eq!(load_test_run_name(4), "00004-clients");
}

#[test]
fn llmeters_loading_rules_to_the_letter() {
    let line = |id: &str, time: &str| {
        format!(
            "{{\"response_text\": \"a\", \"id\": {id}, \"time_to_last_token\": 1.0, \"num_tokens_output\": 2, \"request_time\": \"{time}\", \"annotations\": {{\"cost_total\": 0.5, \"note\": [1, 2]}}}}\n"
        )
    };
    let responses =
        line("null", "2025-01-01T14:00:00.250+02:00") + &line("\"x\"", "2025-01-01T12:00:01Z");
    let files = vec![
        ("summary.json".to_string(), "{\"total_requests\": null, \"total_test_time\": 2.0, \"start_time\": \"2025-01-01T13:00:00+01:00\"}".to_string()),
        ("responses.jsonl".to_string(), responses.clone()),
        ("run_config.json".to_string(), "{\"clients\": 2,".to_string()),
    ];
    let r = RunResult::from_files(&files).expect("loads");
    // Offsets come back in UTC with Z, fractions kept.
    assert_eq!(
        r.responses[0].request_time.as_deref(),
        Some("2025-01-01T12:00:00.250Z")
    );
    assert_eq!(
        r.summary.start_time.as_deref(),
        Some("2025-01-01T12:00:00Z")
    );
    // "id": null stays null, and is written back as null.
    assert_eq!(r.responses[0].id, None);
    let written = r.to_files();
    let text = |n: &str| {
        written
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert!(text("responses.jsonl")
        .lines()
        .next()
        .unwrap()
        .contains("\"id\": null"));
    // total_requests null stays null; the rates that need it are null (LLMeter: None / raises).
    assert_eq!(r.summary.total_requests, None);
    assert_eq!(r.stats["total_requests"], Value::Null);
    assert_eq!(r.stats["failed_requests_rate"], Value::Null);
    assert_eq!(r.stats["requests_per_minute"], Value::Null);
    assert!(text("summary.json").contains("\"total_requests\": null"));
    // annotations survive a write and a re-load.
    let again = RunResult::from_files(&written).expect("reloads");
    assert_eq!(again.responses[1].annotations, r.responses[1].annotations);
    assert_eq!(
        again.responses[1].annotations.as_ref().unwrap()["note"],
        json!([1, 2])
    );
    // A corrupt run_config.json is a warning (LLMeter: "Could not parse run_config.json").
    assert!(
        r.info
            .warnings
            .iter()
            .any(|w| w.starts_with("run_config.json: ")),
        "{:?}",
        r.info.warnings
    );
    assert!(r.run_config.is_empty());
}

#[test]
fn load_responses_false_reads_only_summary_and_stats() {
    let run = sample_run();
    let files = run.to_files();
    let small: Vec<(String, String)> = files
        .iter()
        .filter(|(n, _)| crate::result::files_to_read(false).contains(&n.as_str()))
        .cloned()
        .collect();
    assert_eq!(small.len(), 4);
    let mut b = RunResultBuilder::with_options(&small, false).expect("small files");
    b.set_output_path("/data/run");
    let r = b.finish().expect("loads");
    assert!(r.responses.is_empty() && r.timings.is_empty());
    // The saved stats as they are (LLMeter's load_responses=False), the summary, the folder.
    let saved: Map<String, Value> = serde_json::from_str(&files[1].1).unwrap();
    assert_eq!(r.stats, saved);
    assert_eq!(r.summary.total_requests, run.summary.total_requests);
    assert_eq!(r.summary.output_path.as_deref(), Some("/data/run"));
    // Given everything but told not to load responses: the same.
    let r2 = RunResultBuilder::with_options(&files, false)
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(r2.stats, saved);
    assert!(r2.responses.is_empty());
}
