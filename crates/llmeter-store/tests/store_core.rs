//! Native tests of the store module's platform-free parts.
use llmeter_store::batch::{Decision, GroupCommit};
use llmeter_store::layout::{content_type, detect_layout, normalize_path, scrub_run_config};
use llmeter_store::schema::{upgrade_steps, SCHEMA_VERSION};
use llmeter_store::upload::{backoff_ms, s3_error_detail, Next, Outcome, RetryPolicy, UploadPlan};
use llmeter_store::zip::{dos_date_time, read_zip, write_zip};
use std::collections::BTreeSet;

fn files() -> Vec<(String, Vec<u8>)> {
    vec![
        (
            "t/00001-clients/summary.json".into(),
            b"{\"clients\": 1}".to_vec(),
        ),
        (
            "t/00001-clients/responses.jsonl".into(),
            "{\"response_text\": \"h\u{e9}llo \u{1f600}\"}\n"
                .repeat(500)
                .into_bytes(),
        ),
        ("t/00002-clients/empty.txt".into(), Vec::new()),
        ("t/bin".into(), (0..=255u8).collect()),
    ]
}

#[test]
fn zip_round_trip_deflate_and_stored() {
    for level in [0u8, 6, 10] {
        let zip = write_zip(&files(), 1_764_460_800_000.0, level).unwrap();
        assert_eq!(read_zip(&zip).unwrap(), files(), "level {level}");
        if level > 0 {
            assert!(zip.len() < 3000, "deflated: {} bytes", zip.len());
        }
    }
}

#[test]
fn zip_rejects_bad_input_without_panicking() {
    let zip = write_zip(&files(), 0.0, 6).unwrap();
    assert!(read_zip(b"").unwrap_err().contains("not a zip"));
    assert!(read_zip(b"PK\x05\x06").is_err());
    // Every truncation and every single-byte corruption is an error or a checked success.
    for cut in 0..zip.len() {
        let _ = read_zip(&zip[..cut]);
    }
    for i in 0..zip.len() {
        let mut bad = zip.clone();
        bad[i] ^= 0x5a;
        if let Ok(out) = read_zip(&bad) {
            // Only bytes the reader ignores (times, attributes) can change without an error.
            assert_eq!(out.len(), files().len());
        }
    }
    let mut crc_broken = zip.clone();
    crc_broken[14] ^= 1; // first local header's CRC is not read; the central one is
    let cd = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    crc_broken[cd + 16] ^= 1;
    assert!(read_zip(&crc_broken).unwrap_err().contains("CRC"));
}

#[test]
fn zip_dos_time() {
    // 2025-11-30T12:34:56Z
    let (t, d) = dos_date_time(1_764_506_096_000.0);
    assert_eq!((t >> 11, (t >> 5) & 63, (t & 31) * 2), (12, 34, 56));
    assert_eq!(((d >> 9) + 1980, (d >> 5) & 15, d & 31), (2025, 11, 30));
    assert_eq!(dos_date_time(0.0), (0, 33));
}

#[test]
fn layout_detects_runs_and_load_tests() {
    let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let run = detect_layout(&p(&[
        "my-run/summary.json",
        "my-run/responses.jsonl",
        "my-run/stats.json",
    ]))
    .unwrap();
    assert_eq!(
        (run.kind, run.root.as_str(), run.runs.clone()),
        ("run", "my-run", vec![String::new()])
    );
    assert_eq!(run.paths[0].as_deref(), Some("summary.json"));
    let lt = detect_layout(&p(&[
        "test/00002-clients/summary.json",
        "test/00001-clients/summary.json",
        "test/00001-clients/responses.jsonl",
        ".DS_Store",
    ]))
    .unwrap();
    assert_eq!(lt.kind, "loadTest");
    assert_eq!(lt.root, "test");
    assert_eq!(lt.runs, vec!["00001-clients", "00002-clients"]);
    assert_eq!(lt.paths[0].as_deref(), Some("00002-clients/summary.json"));
    assert_eq!(lt.paths[3], None);
    let flat = detect_layout(&p(&[
        "00001-clients/stats.json",
        "00002-clients/stats.json",
    ]))
    .unwrap();
    assert_eq!((flat.kind, flat.root.as_str()), ("loadTest", ""));
    assert!(detect_layout(&p(&["a/readme.md"]))
        .unwrap_err()
        .contains("no run folder"));
    assert!(detect_layout(&p(&["a/summary.json", "a/b/summary.json"])).is_err());
}

#[test]
fn paths_normalised_and_escapes_refused() {
    assert_eq!(normalize_path("./a\\b//c.json").unwrap(), "a/b/c.json");
    assert!(normalize_path("a/../../etc/passwd").is_err());
    assert!(normalize_path("C:/x").is_err());
    assert!(normalize_path("/").is_err());
    assert_eq!(content_type("x/stats.json"), "application/json");
    assert_eq!(content_type("responses.jsonl"), "application/x-ndjson");
}

#[test]
fn run_config_secrets_removed() {
    let text = r#"{"endpoint": {"model_id": "m", "api_key": "sk-1", "headers": {"Authorization": "Bearer x"}}, "clients": 2}"#;
    let (clean, removed) = scrub_run_config(text).unwrap();
    assert!(
        !clean.contains("sk-1") && !clean.contains("Bearer"),
        "{clean}"
    );
    assert!(clean.contains("\"model_id\": \"m\""));
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert!(scrub_run_config(r#"{"clients": 2}"#).is_none());
    assert!(scrub_run_config("not json").is_none());
}

#[test]
fn upload_retries_5xx_and_network_not_4xx() {
    let keys = vec!["a".to_string(), "b".to_string(), "c".to_string()];
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay_ms: 100.0,
        max_delay_ms: 150.0,
    };
    let mut plan = UploadPlan::new(keys, &BTreeSet::new(), policy);
    assert_eq!(plan.next(0.0), Next::Start(0));
    assert_eq!(plan.next(0.0), Next::Start(1));
    assert_eq!(plan.next(0.0), Next::Start(2));
    assert_eq!(plan.next(0.0), Next::Idle);
    assert_eq!(
        plan.report(0, Outcome::Status(503, "SlowDown".into()), 10.0),
        Some(100.0)
    );
    assert_eq!(
        plan.report(1, Outcome::Status(403, "AccessDenied".into()), 10.0),
        None
    );
    assert_eq!(plan.report(2, Outcome::Ok, 10.0), None);
    assert_eq!(plan.next(50.0), Next::Wait(60.0));
    assert_eq!(plan.next(110.0), Next::Start(0));
    assert_eq!(
        plan.report(0, Outcome::Network("reset".into()), 120.0),
        Some(150.0)
    ); // capped
    assert_eq!(plan.next(270.0), Next::Start(0));
    assert_eq!(
        plan.report(0, Outcome::Network("reset".into()), 280.0),
        None
    ); // 3 attempts
    assert_eq!(plan.next(300.0), Next::Finished);
    assert_eq!(plan.done_keys(), vec!["c"]);
    assert_eq!(plan.pending_keys(), vec!["a", "b"]);
    let failures = plan.failures();
    assert_eq!(
        failures[0],
        (
            "a".into(),
            "a: network error (reset) (after 3 attempts)".into()
        )
    );
    assert_eq!(
        failures[1],
        ("b".into(), "b: HTTP 403 (AccessDenied)".into())
    );
    assert_eq!(plan.counts(), (1, 2, 3));
    // Resuming with the done keys sends only what is missing.
    let done: BTreeSet<String> = plan.done_keys().into_iter().collect();
    let mut again = UploadPlan::new(vec!["a".into(), "b".into(), "c".into()], &done, policy);
    assert_eq!(again.next(0.0), Next::Start(0));
    assert_eq!(again.next(0.0), Next::Start(1));
    assert_eq!(again.next(0.0), Next::Idle);
}

#[test]
fn upload_refused_is_final_and_timeout_retried() {
    let policy = RetryPolicy {
        max_attempts: 2,
        base_delay_ms: 100.0,
        max_delay_ms: 1000.0,
    };
    let mut plan = UploadPlan::new(vec!["r".into(), "t".into()], &BTreeSet::new(), policy);
    assert_eq!(plan.next(0.0), Next::Start(0));
    assert_eq!(plan.next(0.0), Next::Start(1));
    // A redirect is not retried, whatever the attempts left.
    assert_eq!(
        plan.report(
            0,
            Outcome::Refused("redirect refused (HTTP 307)".into()),
            5.0
        ),
        None
    );
    // No answer in time: retried like a network error, then final with the limit named.
    assert_eq!(plan.report(1, Outcome::TimedOut(200), 5.0), Some(100.0));
    assert_eq!(plan.next(105.0), Next::Start(1));
    assert_eq!(plan.report(1, Outcome::TimedOut(200), 310.0), None);
    assert_eq!(plan.next(310.0), Next::Finished);
    assert_eq!(
        plan.failures(),
        vec![
            ("r".into(), "r: redirect refused (HTTP 307)".into()),
            (
                "t".into(),
                "t: no answer within 200 ms (timeout) (after 2 attempts)".into()
            ),
        ]
    );
}

#[test]
fn backoff_doubles_and_caps() {
    let p = RetryPolicy::default();
    let d: Vec<f64> = (1..=7).map(|a| backoff_ms(&p, a)).collect();
    assert_eq!(
        d,
        vec![250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 8000.0]
    );
}

#[test]
fn s3_error_body_is_summarised() {
    let body = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error>";
    assert_eq!(
        s3_error_detail(body),
        "SignatureDoesNotMatch: The request signature we calculated does not match"
    );
    assert_eq!(
        s3_error_detail("<Error><Code>AccessDenied</Code></Error>"),
        "AccessDenied"
    );
    assert_eq!(s3_error_detail(" plain "), "plain");
}

#[test]
fn group_commit_flushes_when_full_or_due() {
    let mut g = GroupCommit::new(3, 200.0);
    assert_eq!(g.append(10.0), Decision::FlushAt(210.0));
    assert_eq!(g.append(20.0), Decision::Buffered);
    assert_eq!(g.append(30.0), Decision::FlushNow);
    assert_eq!(g.pending(), 0);
    assert_eq!(g.append(40.0), Decision::FlushAt(240.0));
    g.flushed();
    assert_eq!(g.append(300.0), Decision::FlushAt(500.0));
    assert_eq!(
        GroupCommit::new(0, f64::NAN).append(1.0),
        Decision::FlushNow
    );
}

#[test]
fn schema_upgrade_path() {
    assert_eq!(SCHEMA_VERSION, 2);
    assert_eq!(upgrade_steps(0, 2).unwrap(), vec![1, 2]);
    assert_eq!(upgrade_steps(1, 2).unwrap(), vec![2]);
    assert_eq!(upgrade_steps(2, 2).unwrap(), Vec::<u32>::new());
    assert!(upgrade_steps(3, 2).unwrap_err().contains("newer"));
    assert!(upgrade_steps(0, 3).is_err());
}

#[test]
fn run_folder_through_zip_keeps_identical_stats() {
    use llmeter_core::result::RunResult;
    let mut lines = String::new();
    for i in 0..50 {
        let ttft = 0.05 + i as f64 / 1000.0;
        let error = if i % 11 == 3 { "\"boom\"" } else { "null" };
        lines.push_str(&format!(
            "{{\"response_text\": \"t\", \"input_payload\": null, \"id\": \"r{i}\", \"input_prompt\": \"p\", \"time_to_first_token\": {ttft}, \"time_to_last_token\": {}, \"num_tokens_input\": {}, \"num_tokens_output\": {}, \"num_tokens_input_cached\": null, \"num_tokens_output_reasoning\": null, \"time_per_output_token\": null, \"error\": {error}, \"retries\": null, \"request_time\": \"2026-11-30T00:00:{:02}Z\"}}\n",
            ttft + 0.3, 10 + i, 20 + i % 7, i % 60
        ));
    }
    let summary = r#"{"total_requests": 50, "clients": 5, "n_requests": 10, "total_test_time": 12.5, "run_name": "zip-run"}"#;
    let original = RunResult::from_files(&[
        ("summary.json".into(), summary.into()),
        ("responses.jsonl".into(), lines),
    ])
    .unwrap();
    let files: Vec<(String, Vec<u8>)> = original
        .to_files()
        .into_iter()
        .map(|(n, c)| (format!("zip-run/{n}"), c.into_bytes()))
        .collect();
    let zip = write_zip(&files, 0.0, 6).unwrap();
    let back: Vec<(String, String)> = read_zip(&zip)
        .unwrap()
        .into_iter()
        .map(|(n, b)| (n, String::from_utf8(b).unwrap()))
        .collect();
    let paths: Vec<String> = back.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(detect_layout(&paths).unwrap().root, "zip-run");
    let loaded = RunResult::from_files(&back).unwrap();
    assert_eq!(loaded.stats, original.stats);
    assert_eq!(loaded.responses, original.responses);
    assert_eq!(loaded.summary, original.summary);
}
