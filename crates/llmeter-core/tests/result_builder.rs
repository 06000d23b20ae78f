//! Loading a run folder in pieces (`RunResultBuilder`) gives exactly `RunResult::from_files`:
//! same stats, responses, timings, and the same line-numbered errors, for any piece size and
//! for pieces that end inside a line.

use llmeter_core::response::{InvocationResponse, ResponseTimings};
use llmeter_core::result::{RunInfo, RunResult, RunResultBuilder, Summary};
use serde_json::{json, Map, Value};

const JSONL: [&str; 2] = ["responses.jsonl", "chunk_timings.jsonl"];

/// A 2,500-response run with failures, missing values, non-ASCII text, and timings whose order
/// differs from the responses' (they are joined on id).
fn big_run() -> RunResult {
    let mut responses = Vec::new();
    let mut timings = Vec::new();
    for i in 0..2500u64 {
        let failed = i % 37 == 0;
        let ttft = 0.05 + (i % 97) as f64 / 1000.0;
        let ttlt = ttft + 0.2 + (i % 89) as f64 / 500.0;
        responses.push(InvocationResponse {
            response_text: (!failed).then(|| format!("réponse {i} ✓ \"q\"")),
            input_payload: Some(
                json!({"messages": [{"role": "user", "content": format!("q{}", i % 50)}]}).into(),
            ),
            id: Some(format!("r{i}")),
            input_prompt: Some(format!("q{}", i % 50).into()),
            time_to_first_token: (!failed).then_some(ttft),
            time_to_last_token: (!failed).then_some(ttlt),
            num_tokens_input: Some(12),
            num_tokens_output: (!failed && i % 5 != 0).then_some(64 + i % 7),
            time_per_output_token: (!failed).then_some((ttlt - ttft) / 63.0),
            error: failed.then(|| "HTTP 500".to_string()),
            request_time: Some(format!(
                "2026-11-30T00:{:02}:{:02}.{:03}Z",
                i / 6000,
                (i / 100) % 60,
                i % 1000
            )),
            ..Default::default()
        });
        timings.push(ResponseTimings {
            id: format!("r{i}"),
            time_to_first_chunk: Some(ttft * 0.9),
            time_to_headers: Some(ttft * 0.5),
            content_chunk_offsets: vec![ttft, (ttft + ttlt) / 2.0, ttlt],
            num_chunks: 3,
            num_events: 4,
            status: Some(if failed { 500 } else { 200 }),
            payload_index: Some((i % 50) as u32),
            ..Default::default()
        });
    }
    timings.reverse();
    let summary = Summary {
        total_requests: Some(2500),
        clients: 5,
        n_requests: Some(500),
        total_test_time: Some(25.0),
        model_id: Some("m".into()),
        run_name: Some("big".into()),
        ..Default::default()
    };
    let mut config = Map::new();
    config.insert("clients".into(), json!(5));
    config.insert("n_requests".into(), json!(500));
    RunResult::new(
        summary,
        responses,
        timings,
        RunInfo::default(),
        config,
        vec![json!({"messages": []})],
    )
}

/// The folder's small files, and its JSON-lines files split every `lines_per_piece` lines.
fn load_in_pieces(files: &[(String, String)], lines_per_piece: usize) -> Result<RunResult, String> {
    let small: Vec<(String, String)> = files
        .iter()
        .filter(|(n, _)| !JSONL.contains(&n.as_str()))
        .cloned()
        .collect();
    let mut builder = RunResultBuilder::new(&small)?;
    for (name, text) in files.iter().filter(|(n, _)| JSONL.contains(&n.as_str())) {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for piece in lines.chunks(lines_per_piece) {
            let piece = piece.concat();
            if name == "responses.jsonl" {
                builder.push_responses(&piece)?;
            } else {
                builder.push_timings(&piece)?;
            }
        }
    }
    builder.finish()
}

/// Same, but cut every `bytes` bytes (at char boundaries), so most pieces end inside a line.
fn load_in_byte_pieces(files: &[(String, String)], bytes: usize) -> Result<RunResult, String> {
    let small: Vec<(String, String)> = files
        .iter()
        .filter(|(n, _)| !JSONL.contains(&n.as_str()))
        .cloned()
        .collect();
    let mut builder = RunResultBuilder::new(&small)?;
    for (name, text) in files.iter().filter(|(n, _)| JSONL.contains(&n.as_str())) {
        let mut start = 0;
        while start < text.len() {
            let mut end = (start + bytes).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            if name == "responses.jsonl" {
                builder.push_responses(&text[start..end])?;
            } else {
                builder.push_timings(&text[start..end])?;
            }
            start = end;
        }
    }
    builder.finish()
}

fn replace(files: &[(String, String)], name: &str, content: String) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(n, c)| {
            (
                n.clone(),
                if n == name {
                    content.clone()
                } else {
                    c.clone()
                },
            )
        })
        .collect()
}

#[test]
fn pieces_of_1_7_and_1000_lines_give_the_same_result() {
    let files = big_run().to_files();
    let whole = RunResult::from_files(&files).expect("loads");
    assert_eq!(whole.responses.len(), 2500);
    assert_eq!(whole.timings.len(), 2500);
    assert_eq!(
        whole.timings[0].id, "r0",
        "timings joined in response order"
    );
    assert_eq!(whole.stats["total_requests"], json!(2500));
    assert_eq!(whole.stats["failed_requests"], json!(68));
    for lines in [1, 7, 1000] {
        let pieces = load_in_pieces(&files, lines).expect("loads in pieces");
        assert_eq!(
            Value::Object(pieces.stats.clone()),
            Value::Object(whole.stats.clone()),
            "stats, {lines} lines per piece"
        );
        assert_eq!(pieces, whole, "{lines} lines per piece");
    }
}

#[test]
fn pieces_that_end_inside_lines_and_characters_give_the_same_result() {
    let files = big_run().to_files();
    let whole = RunResult::from_files(&files).expect("loads");
    for bytes in [1, 13, 4096] {
        assert_eq!(
            load_in_byte_pieces(&files, bytes).expect("loads"),
            whole,
            "{bytes}-byte pieces"
        );
    }
    // CRLF endings split between \r and \n, a last line without ending, blank lines.
    let responses = file(&files, "responses.jsonl").replace('\n', "\r\n\r\n");
    let responses = responses.trim_end().to_string();
    let crlf = replace(&files, "responses.jsonl", responses);
    let whole = RunResult::from_files(&crlf).expect("loads");
    assert_eq!(whole.responses.len(), 2500);
    for bytes in [1, 13] {
        assert_eq!(load_in_byte_pieces(&crlf, bytes).expect("loads"), whole);
    }
}

fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
    &files.iter().find(|(n, _)| n == name).expect("file").1
}

#[test]
fn bad_lines_give_the_same_line_numbered_errors() {
    let files = big_run().to_files();
    let responses = file(&files, "responses.jsonl");
    let timings = file(&files, "chunk_timings.jsonl");
    let mut lines: Vec<String> = responses.lines().map(str::to_string).collect();
    let cases = [
        (
            "responses.jsonl",
            1234,
            "{\"response_text\": 5}".to_string(),
            "responses.jsonl line 1235: `response_text` must be a string, found a number",
        ),
        (
            "responses.jsonl",
            2499,
            "{oops".to_string(),
            "responses.jsonl line 2500: ",
        ),
        (
            "responses.jsonl",
            6,
            "[1]".to_string(),
            "responses.jsonl line 7: expected a JSON object, found an array",
        ),
        (
            "chunk_timings.jsonl",
            1000,
            "{\"id\": \"r1\", \"status\": 70000}".to_string(),
            "chunk_timings.jsonl line 1001: `status` out of range: 70000",
        ),
    ];
    for (name, index, bad, expected) in cases {
        let source = if name == "responses.jsonl" {
            responses
        } else {
            timings
        };
        lines.clear();
        lines.extend(source.lines().map(str::to_string));
        lines[index] = bad;
        let broken = replace(&files, name, lines.join("\n") + "\n");
        let whole = RunResult::from_files(&broken).expect_err("bad line");
        assert!(whole.starts_with(expected), "{whole}");
        for n in [1, 7, 1000] {
            assert_eq!(load_in_pieces(&broken, n).expect_err("bad line"), whole);
        }
        for bytes in [5, 13] {
            assert_eq!(load_in_byte_pieces(&broken, bytes).expect_err("bad"), whole);
        }
    }
}

#[test]
fn recovers_a_run_without_summary_from_pieces() {
    let files: Vec<(String, String)> = big_run()
        .to_files()
        .into_iter()
        .filter(|(n, _)| n != "summary.json" && n != "stats.json")
        .collect();
    let whole = RunResult::from_files(&files).expect("loads");
    assert_eq!(whole.summary.total_requests, Some(2500));
    assert_eq!(whole.summary.clients, 5);
    assert_eq!(load_in_pieces(&files, 7).expect("loads"), whole);

    // Only the small files and no responses pushed: nothing to load, as from_files says.
    let config = vec![(
        "run_config.json".to_string(),
        file(&big_run().to_files(), "run_config.json").to_string(),
    )];
    let none = RunResultBuilder::new(&config)
        .expect("small files")
        .finish();
    assert_eq!(none, RunResult::from_files(&config));
    assert_eq!(
        none.expect_err("nothing"),
        "no summary.json, responses.jsonl or stats.json: nothing to load"
    );
    // An empty responses piece marks the file present (an interrupted run with no response).
    let mut empty = RunResultBuilder::new(&config).expect("small files");
    empty.push_responses("").expect("empty piece");
    let empty = empty.finish().expect("loads");
    let mut with_empty = config.clone();
    with_empty.push(("responses.jsonl".into(), String::new()));
    assert_eq!(empty, RunResult::from_files(&with_empty).expect("loads"));
    assert_eq!(empty.summary.total_requests, Some(0));
}

/// Found by the `result_files` fuzz target: with a bad line in `responses.jsonl` and a bad
/// `summary.json`, the whole folder reported the line and the pieces (small files first, as
/// `js/result-loader.js` feeds them) the summary.
#[test]
fn a_bad_small_file_and_a_bad_line_give_the_same_error_whole_and_in_pieces() {
    let files = big_run().to_files();
    let mut lines: Vec<&str> = file(&files, "responses.jsonl").lines().collect();
    lines[1] = "{oops";
    let broken = replace(&files, "responses.jsonl", lines.join("\n") + "\n");
    for (name, bad, expected) in [
        ("summary.json", "", "summary.json: EOF while parsing"),
        (
            "run_info.json",
            "5",
            "run_info.json: expected a JSON object, found a number",
        ),
        (
            "payload.jsonl",
            "{\"a\": 1}\nnope\n",
            "payload.jsonl line 2: ",
        ),
        // A corrupt stats.json is a warning (LLMeter recomputes the stats), not an error.
    ] {
        let broken = replace(&broken, name, bad.to_string());
        let whole = RunResult::from_files(&broken).expect_err("bad file");
        assert!(whole.starts_with(expected), "{name}: {whole}");
        assert_eq!(load_in_pieces(&broken, 7).expect_err("bad file"), whole);
        assert_eq!(load_in_byte_pieces(&broken, 13).expect_err("bad"), whole);
    }
}
