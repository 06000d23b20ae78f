//! Loads a run folder in pieces, so a caller on a UI thread can yield between them: the small
//! files first, then `responses.jsonl` / `chunk_timings.jsonl` as any number of text pieces,
//! then [`RunResultBuilder::finish`]. The result (and any error) is exactly
//! [`RunResult::from_files`]'s, which is this builder fed each file in one piece.
//!
//! LLMeter's `Result.load` rules, to the letter where a difference was listed: a corrupt
//! `stats.json` or `run_config.json` next to valid responses is a warning (stats recomputed,
//! config left empty), not an error; `total_requests: null` stays null; timestamps with a UTC
//! offset come back in UTC with `Z`; `"id": null` and `annotations` are kept. With
//! `load_responses: false` only the summary and `stats.json` are read (LLMeter's
//! `load_responses=False`), so a large run's metadata loads at once.

use crate::response::{InvocationResponse, ResponseTimings};
use crate::result::{
    join_timings, llmeter_run_config, parse_lines, parse_object, parse_summary, recover_summary,
    response_from_value, strip_secrets, timing_from_value, RunInfo, RunResult, Summary,
    CHUNK_TIMINGS_FILE, EXCLUDED_RESPONSES_FILE, PAYLOAD_FILE, RESPONSES_FILE, RUN_CONFIG_FILE,
    RUN_INFO_FILE, STATS_FILE, SUMMARY_FILE,
};
use crate::stats::{compute_stats_for, load_path_stats};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The files a load reads: every file of a run folder, or with `load_responses: false` only
/// the small ones (LLMeter's `Result.load(load_responses=False)`; `responses.jsonl` is still
/// needed when `summary.json` is missing, to recover the run's metadata).
pub fn files_to_read(load_responses: bool) -> &'static [&'static str] {
    if load_responses {
        &[
            SUMMARY_FILE,
            STATS_FILE,
            RESPONSES_FILE,
            RUN_CONFIG_FILE,
            PAYLOAD_FILE,
            CHUNK_TIMINGS_FILE,
            RUN_INFO_FILE,
            EXCLUDED_RESPONSES_FILE,
        ]
    } else {
        &[SUMMARY_FILE, STATS_FILE, RUN_CONFIG_FILE, RUN_INFO_FILE]
    }
}

/// A run folder being loaded. Pieces of a JSON-lines file may end anywhere (inside a line
/// too): the unfinished line waits for the next piece. Line numbers in errors count from the
/// start of the whole file.
#[derive(Debug)]
pub struct RunResultBuilder {
    load_responses: bool,
    stats_present: bool,
    saved_stats: Option<Map<String, Value>>,
    run_config: Map<String, Value>,
    summary: Option<Summary>,
    info: RunInfo,
    payloads: Vec<Value>,
    responses: Vec<InvocationResponse>,
    responses_lines: JsonLines,
    excluded: Vec<InvocationResponse>,
    timings: Vec<ResponseTimings>,
    timings_lines: JsonLines,
    warnings: Vec<String>,
    output_path: Option<String>,
}

impl RunResultBuilder {
    /// Starts from `(file name, content)` pairs (names may carry a folder prefix; only the last
    /// path component counts). Usually the small files; JSON-lines files given here count as
    /// their first piece. Errors on a malformed `summary.json` (or other small file) at once.
    pub fn new(files: &[(String, String)]) -> Result<RunResultBuilder, String> {
        Self::with_options(files, true)
    }

    /// [`RunResultBuilder::new`]; with `load_responses: false` the responses are not kept
    /// (only read to recover a run without `summary.json`) and the stats are `stats.json`'s.
    pub fn with_options(
        files: &[(String, String)],
        load_responses: bool,
    ) -> Result<RunResultBuilder, String> {
        let mut by_name: HashMap<&str, &str> = HashMap::new();
        for (name, content) in files {
            let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
            if by_name.insert(base, content.as_str()).is_some() {
                return Err(format!("two files named {base}"));
            }
        }
        let mut builder = RunResultBuilder {
            load_responses,
            stats_present: by_name.contains_key(STATS_FILE),
            saved_stats: None,
            run_config: Map::new(),
            summary: None,
            info: RunInfo::default(),
            payloads: Vec::new(),
            responses: Vec::new(),
            responses_lines: JsonLines::default(),
            excluded: Vec::new(),
            timings: Vec::new(),
            timings_lines: JsonLines::default(),
            warnings: Vec::new(),
            output_path: None,
        };
        if let Some(t) = by_name.get(STATS_FILE) {
            match parse_object(STATS_FILE, t) {
                Ok(stats) => builder.saved_stats = Some(stats),
                // LLMeter: "Could not load stats.json", and the stats are recomputed.
                Err(e) => builder.warnings.push(format!(
                    "{e}: ignored, the stats are computed from the responses"
                )),
            }
        }
        if let Some(t) = by_name.get(RUN_CONFIG_FILE) {
            match parse_object(RUN_CONFIG_FILE, t) {
                Ok(mut run_config) => {
                    strip_secrets(&mut run_config);
                    if !run_config.is_empty() {
                        run_config = llmeter_run_config(&run_config);
                    }
                    builder.run_config = run_config;
                }
                // LLMeter: "Could not parse run_config.json", and defaults are used.
                Err(e) => builder
                    .warnings
                    .push(format!("{e}: ignored, its settings take their defaults")),
            }
        }
        if let Some(t) = by_name.get(SUMMARY_FILE) {
            builder.summary = Some(parse_summary(&parse_object(SUMMARY_FILE, t)?)?);
        }
        if let Some(t) = by_name.get(RUN_INFO_FILE) {
            let object = parse_object(RUN_INFO_FILE, t)?;
            let mut info = RunInfo::from_json(object.clone())?;
            info.read_fleet_fields(&object);
            builder.info = info;
        }
        if let Some(t) = by_name.get(crate::fleet::SHARD_FILE) {
            // Kept as saved; a merge reads and checks it (`ShardManifest::of`).
            builder.info.shard = Some(Value::Object(parse_object(crate::fleet::SHARD_FILE, t)?));
        }
        if load_responses {
            if let Some(t) = by_name.get(EXCLUDED_RESPONSES_FILE) {
                for (line, value) in parse_lines(EXCLUDED_RESPONSES_FILE, t)? {
                    builder.excluded.push(
                        response_from_value(line, value)
                            .map_err(|e| e.replacen(RESPONSES_FILE, EXCLUDED_RESPONSES_FILE, 1))?,
                    );
                }
            }
            if let Some(t) = by_name.get(PAYLOAD_FILE) {
                builder.payloads = parse_lines(PAYLOAD_FILE, t)?
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect();
            }
        }
        // The JSON-lines files last, as when the small files come first and these in pieces:
        // whichever way a folder is fed, the first error reported is the same.
        if let Some(t) = by_name.get(RESPONSES_FILE) {
            builder.push_responses(t)?;
        }
        if load_responses {
            if let Some(t) = by_name.get(CHUNK_TIMINGS_FILE) {
                builder.push_timings(t)?;
            }
        }
        Ok(builder)
    }

    /// The folder the run is loaded from, used as `output_path` when `summary.json` has none
    /// (as LLMeter does).
    pub fn set_output_path(&mut self, path: &str) {
        self.output_path = Some(path.to_string());
    }

    /// Adds the next piece of `responses.jsonl` (an empty piece still marks the file present).
    pub fn push_responses(&mut self, piece: &str) -> Result<(), String> {
        let responses = &mut self.responses;
        self.responses_lines
            .push(RESPONSES_FILE, piece, &mut |line, value| {
                responses.push(response_from_value(line, value)?);
                Ok(())
            })
    }

    /// Adds the next piece of `chunk_timings.jsonl`.
    pub fn push_timings(&mut self, piece: &str) -> Result<(), String> {
        if !self.load_responses {
            return Ok(());
        }
        let timings = &mut self.timings;
        self.timings_lines
            .push(CHUNK_TIMINGS_FILE, piece, &mut |line, value| {
                timings.push(timing_from_value(line, value)?);
                Ok(())
            })
    }

    /// Parses the last unfinished lines, then the stats (LLMeter's `Result.load` rules; see
    /// [`RunResult::from_files`]).
    pub fn finish(mut self) -> Result<RunResult, String> {
        let responses = &mut self.responses;
        self.responses_lines
            .finish(RESPONSES_FILE, &mut |line, value| {
                responses.push(response_from_value(line, value)?);
                Ok(())
            })?;
        let timings = &mut self.timings;
        self.timings_lines
            .finish(CHUNK_TIMINGS_FILE, &mut |line, value| {
                timings.push(timing_from_value(line, value)?);
                Ok(())
            })?;
        let RunResultBuilder {
            load_responses,
            saved_stats,
            run_config,
            summary,
            mut info,
            payloads,
            responses: all_responses,
            mut excluded,
            timings,
            warnings,
            output_path,
            ..
        } = self;
        // Responses saved during a run (a store's batches) carry their warm-up / cool-down flag.
        let (mut responses, flagged): (Vec<_>, Vec<_>) = all_responses
            .into_iter()
            .partition(|r| r.load_phase().is_none());
        excluded.extend(flagged);
        let mut summary = match summary {
            Some(summary) => summary,
            None if self.responses_lines.present || self.stats_present => {
                recover_summary(&run_config, &responses)
            }
            None => {
                return Err(format!(
                    "no {SUMMARY_FILE}, {RESPONSES_FILE} or {STATS_FILE}: nothing to load"
                ))
            }
        };
        if summary.output_path.is_none() {
            summary.output_path = output_path;
        }
        if !load_responses {
            responses.clear();
            excluded.clear();
        }
        let (timings, excluded_timings) = if self.timings_lines.present {
            join_timings(timings, &responses, &excluded)
        } else {
            (Vec::new(), Vec::new())
        };
        // Derived from the timings, as after a run (never read from run_info.json).
        info.network_phases = crate::network_phases::summarize(&timings);
        if saved_stats.as_ref().and_then(|s| s.get("interrupted")) == Some(&Value::Bool(true)) {
            info.interrupted = true;
        }
        info.warnings.extend(warnings);
        let stats = match saved_stats {
            Some(saved) if responses.is_empty() => saved,
            saved => {
                let mut stats = load_path_stats(&summary, &responses);
                for (key, value) in saved.into_iter().flatten() {
                    stats.entry(key).or_insert(value);
                }
                for (key, value) in compute_stats_for(&summary, &responses, &timings, &info) {
                    stats.entry(key).or_insert(value);
                }
                stats
            }
        };
        Ok(RunResult {
            summary,
            responses,
            timings,
            stats,
            info,
            run_config,
            payloads,
            excluded,
            excluded_timings,
            contributed_stats: Map::new(),
        })
    }
}

/// Splits JSON-lines text given in pieces into numbered, parsed, non-blank lines, exactly as
/// `str::lines` over the whole text would (`\n` or `\r\n` endings, last ending optional).
#[derive(Debug, Default)]
struct JsonLines {
    /// Any piece was pushed (an empty file is still a file).
    present: bool,
    /// Text after the last `\n` seen: the start of an unfinished line.
    pending: String,
    /// Lines consumed so far, blank ones included.
    line: usize,
}

type LineSink<'a> = dyn FnMut(usize, Value) -> Result<(), String> + 'a;

impl JsonLines {
    fn push(&mut self, file: &str, piece: &str, sink: &mut LineSink) -> Result<(), String> {
        self.present = true;
        let Some(last_newline) = piece.rfind('\n') else {
            self.pending.push_str(piece);
            return Ok(());
        };
        let (complete, rest) = piece.split_at(last_newline + 1);
        if self.pending.is_empty() {
            self.parse(file, complete, sink)?;
        } else {
            // The piece's first line finishes the pending one.
            let first_end = complete.find('\n').map_or(complete.len(), |i| i + 1);
            let mut joined = std::mem::take(&mut self.pending);
            joined.push_str(&complete[..first_end]);
            self.parse(file, &joined, sink)?;
            self.parse(file, &complete[first_end..], sink)?;
        }
        self.pending.push_str(rest);
        Ok(())
    }

    fn finish(&mut self, file: &str, sink: &mut LineSink) -> Result<(), String> {
        let rest = std::mem::take(&mut self.pending);
        self.parse(file, &rest, sink)
    }

    /// `text` is whole lines (it ends with `\n`, or is the file's last line).
    fn parse(&mut self, file: &str, text: &str, sink: &mut LineSink) -> Result<(), String> {
        for line in text.lines() {
            self.line += 1;
            if line.trim().is_empty() {
                continue;
            }
            let value = crate::json::parse_lenient(line)
                .map_err(|e| format!("{file} line {}: {e}", self.line))?;
            sink(self.line, value)?;
        }
        Ok(())
    }
}
