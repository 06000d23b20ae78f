//! LLMeter's statistics, reproduced bit for bit (reference: `llmeter.md` §4): here the keys of
//! `stats.json` and how each is computed; `python` the `statistics` functions they use (on
//! `exact_sum`'s correctly rounded sums); `slo` goodput and SLO attainment.
//!
//! * Per-metric aggregation is `llmeter.utils.summary_stats_from_list`: `average` is Python's
//!   `statistics.mean` (exact sum, one rounding; an `int` when all inputs are ints and the mean
//!   is whole), `p50` is `statistics.median`, other percentiles are
//!   `statistics.quantiles(method="exclusive")`, which extrapolates linearly beyond the data.
//! * [`load_path_stats`] is `Result._compute_stats`, i.e. what LLMeter shows after
//!   `Result.load`; [`compute_stats`] adds the keys LLMeter only carries over from `stats.json`
//!   (`time_per_output_token-*`, `output_tps`) and our own extras.
//!
//! Values are `serde_json::Value` so that ints stay JSON ints and floats stay floats (`6.0`).
//! Non-finite inputs are treated as missing (we write them as `null`, which LLMeter skips), and
//! a non-finite result is `null`, so no NaN/Infinity ever reaches a file.

mod exact_sum;
mod python;
mod slo;

pub use python::{
    exact_mean, float_value, mean, median, percentile, percentile_value, summary_stats, Samples,
};
pub use slo::slo_outcome;

use crate::response::{InvocationResponse, ResponseTimings};
use crate::result::Summary;
use crate::runner::Slo;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The percentiles LLMeter reports for every metric.
pub const DEFAULT_PERCENTILES: [u32; 3] = [50, 90, 99];

/// The 14 `summary.json` keys, in LLMeter's order.
pub const SUMMARY_KEYS: [&str; 14] = [
    "total_requests",
    "clients",
    "n_requests",
    "total_test_time",
    "model_id",
    "output_path",
    "endpoint_name",
    "provider",
    "run_name",
    "run_description",
    "start_time",
    "first_request_time",
    "last_request_time",
    "end_time",
];

fn insert_metric(stats: &mut Map<String, Value>, metric: &str, samples: &Samples) {
    for (suffix, value) in summary_stats(samples, &DEFAULT_PERCENTILES) {
        stats.insert(format!("{metric}-{suffix}"), value);
    }
}

fn float_metric(
    responses: &[InvocationResponse],
    field: fn(&InvocationResponse) -> Option<f64>,
) -> Samples {
    Samples::floats(responses.iter().filter_map(field))
}

fn int_metric(
    responses: &[InvocationResponse],
    field: fn(&InvocationResponse) -> Option<u64>,
) -> Samples {
    Samples::ints(responses.iter().filter_map(field))
}

/// `total / seconds * 60` with LLMeter's `total_test_time and …` pass-through: `null` for a
/// missing (or non-finite) time, the time itself (`0.0`) when it is zero.
pub(crate) fn per_minute(total: f64, total_test_time: Option<f64>) -> Value {
    match total_test_time {
        Some(t) if t.is_finite() && t != 0.0 => float_value(total / t * 60.0),
        Some(t) if t == 0.0 => float_value(t),
        _ => Value::Null,
    }
}

fn summary_map(summary: &Summary) -> Map<String, Value> {
    match serde_json::to_value(summary) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Exactly what LLMeter's `Result._compute_stats` returns (the "load path", §4.3): the 14
/// summary keys, the run stats, then `average/p50/p90/p99` of `time_to_last_token`,
/// `time_to_first_token`, `num_tokens_output`, `num_tokens_input`, `num_tokens_input_cached`.
/// `Result.load` recomputes these keys from `summary.json` + `responses.jsonl`, so these are
/// the numbers a Python user sees for our files.
pub fn load_path_stats(summary: &Summary, responses: &[InvocationResponse]) -> Map<String, Value> {
    let mut stats = summary_map(summary);
    let failed = responses.iter().filter(|r| r.error.is_some()).count() as u64;
    stats.insert("failed_requests".into(), Value::from(failed));
    // Python's `total_requests and failed / total_requests`: a null or 0 passes through.
    let rate = match summary.total_requests {
        None => Value::Null,
        Some(0) => Value::from(0u64),
        Some(total) => float_value(failed as f64 / total as f64),
    };
    stats.insert("failed_requests_rate".into(), rate);
    let rpm = match summary.total_requests {
        Some(total) => per_minute(total as f64, summary.total_test_time),
        // LLMeter raises here when the time is set (None / t); null is what a reader can use.
        None => per_minute(0.0, summary.total_test_time.filter(|t| *t == 0.0)),
    };
    stats.insert("requests_per_minute".into(), rpm);
    let sum = |field: fn(&InvocationResponse) -> Option<u64>| -> u64 {
        responses
            .iter()
            .filter_map(field)
            .fold(0u64, |a, b| a.saturating_add(b))
    };
    let total_input = sum(|r| r.num_tokens_input);
    let total_output = sum(|r| r.num_tokens_output);
    stats.insert("total_input_tokens".into(), Value::from(total_input));
    stats.insert("total_output_tokens".into(), Value::from(total_output));
    // LLMeter sums only truthy values here; zeros add nothing either way.
    stats.insert(
        "total_cached_input_tokens".into(),
        Value::from(sum(|r| r.num_tokens_input_cached)),
    );
    stats.insert(
        "total_reasoning_output_tokens".into(),
        Value::from(sum(|r| r.num_tokens_output_reasoning)),
    );
    stats.insert(
        "average_input_tokens_per_minute".into(),
        per_minute(total_input as f64, summary.total_test_time),
    );
    stats.insert(
        "average_output_tokens_per_minute".into(),
        per_minute(total_output as f64, summary.total_test_time),
    );
    insert_metric(
        &mut stats,
        "time_to_last_token",
        &float_metric(responses, |r| r.time_to_last_token),
    );
    insert_metric(
        &mut stats,
        "time_to_first_token",
        &float_metric(responses, |r| r.time_to_first_token),
    );
    insert_metric(
        &mut stats,
        "num_tokens_output",
        &int_metric(responses, |r| r.num_tokens_output),
    );
    insert_metric(
        &mut stats,
        "num_tokens_input",
        &int_metric(responses, |r| r.num_tokens_input),
    );
    insert_metric(
        &mut stats,
        "num_tokens_input_cached",
        &int_metric(responses, |r| r.num_tokens_input_cached),
    );
    stats
}

/// The full `stats.json` of a run, in this key order:
///
/// 1. [`load_path_stats`] (the 14 summary keys, run stats, per-metric aggregates), with the
///    values LLMeter recomputes on `Result.load`;
/// 2. `time_per_output_token-{average,p50,p90,p99}` over every response's
///    `time_per_output_token` (LLMeter's runner-path metric; `Result.load` carries it over);
/// 3. `output_tps` = `total_output_tokens / total_test_time` (tokens per second over the whole
///    test; absent when `total_test_time` is null or 0). LLMeter's runner divides by
///    `end_time − first_request_time` instead; ours uses the same clock as the other rates;
/// 4. our extras, which LLMeter carries over unchanged: `time_to_first_chunk-*` (every timing
///    that has one), `inter_token_latency-*` (gaps between consecutive
///    `content_chunk_offsets` of each successful response, all gaps pooled), `num_chunks-average`
///    (successful responses);
/// 5. `interrupted: true`, only when `interrupted`.
///
/// `timings` are joined to `responses` by position when the ids agree, else by `id`.
pub fn compute_stats(
    summary: &Summary,
    responses: &[InvocationResponse],
    timings: &[ResponseTimings],
    interrupted: bool,
) -> Map<String, Value> {
    compute_stats_with(summary, responses, timings, interrupted, None)
}

/// [`compute_stats`] for a run described by `info`: its `interrupted` flag, and its SLO (see
/// [`compute_stats_with`]).
pub fn compute_stats_for(
    summary: &Summary,
    responses: &[InvocationResponse],
    timings: &[ResponseTimings],
    info: &crate::result::RunInfo,
) -> Map<String, Value> {
    compute_stats_with(
        summary,
        responses,
        timings,
        info.interrupted,
        info.slo.as_ref(),
    )
}

/// [`compute_stats`] plus, when `slo` is given, `goodput` and SLO attainment:
///
/// * `slo_attainment-time_to_first_token`, `-time_per_output_token`, `-time_to_last_token`: the
///   share of responses meeting that objective (one key per objective given);
/// * `slo_attainment`: the share meeting every objective given (DistServe's SLO attainment);
/// * `goodput`: responses meeting every objective per minute of `total_test_time` (vLLM's
///   request goodput, per minute like LLMeter's `requests_per_minute`; null or 0 passes
///   through as for the other rates).
///
/// Failed requests count in the denominators and never meet an objective ([`slo_outcome`]).
pub fn compute_stats_with(
    summary: &Summary,
    responses: &[InvocationResponse],
    timings: &[ResponseTimings],
    interrupted: bool,
    slo: Option<&Slo>,
) -> Map<String, Value> {
    let mut stats = load_path_stats(summary, responses);
    insert_metric(
        &mut stats,
        "time_per_output_token",
        &float_metric(responses, |r| r.time_per_output_token),
    );
    if let Some(t) = summary
        .total_test_time
        .filter(|t| t.is_finite() && *t != 0.0)
    {
        let total_output = responses
            .iter()
            .filter_map(|r| r.num_tokens_output)
            .fold(0u64, |a, b| a.saturating_add(b));
        let tps = float_value(total_output as f64 / t);
        if !tps.is_null() {
            stats.insert("output_tps".into(), tps);
        }
    }

    let by_id: HashMap<&str, &InvocationResponse> =
        responses.iter().map(|r| (r.id_str(), r)).collect();
    let succeeded = |index: usize, timing: &ResponseTimings| -> bool {
        let response = match responses.get(index) {
            Some(r) if r.id_str() == timing.id => Some(r),
            _ => by_id.get(timing.id.as_str()).copied(),
        };
        response.is_some_and(|r| r.error.is_none())
    };
    insert_metric(
        &mut stats,
        "time_to_first_chunk",
        &Samples::floats(timings.iter().filter_map(|t| t.time_to_first_chunk)),
    );
    let gaps = timings
        .iter()
        .enumerate()
        .filter(|(i, t)| succeeded(*i, t))
        .flat_map(|(_, t)| t.content_chunk_offsets.windows(2).map(|w| w[1] - w[0]));
    insert_metric(&mut stats, "inter_token_latency", &Samples::floats(gaps));
    let chunks = Samples::ints(
        timings
            .iter()
            .enumerate()
            .filter(|(i, t)| succeeded(*i, t))
            .map(|(_, t)| t.num_chunks as u64),
    );
    if let Some(average) = mean(&chunks) {
        stats.insert("num_chunks-average".into(), average);
    }
    // Open loops: how late each request started against its schedule.
    let lags = timings
        .iter()
        .filter_map(|t| Some(t.sent_at? - t.scheduled_at?));
    insert_metric(&mut stats, "schedule_lag", &Samples::floats(lags));
    if let Some(slo) = slo {
        slo::insert_slo_stats(&mut stats, summary, responses, slo);
    }
    if interrupted {
        stats.insert("interrupted".into(), Value::Bool(true));
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T0: &str = "2025-01-01T12:00:00Z";

    fn worked_example() -> (Summary, Vec<InvocationResponse>) {
        let ok =
            |id: &str, sec: u32, ttft: f64, ttlt: f64, inp: u64, out: u64, cached: Option<u64>| {
                let tpot = (ttlt - ttft) / (out - 1) as f64;
                InvocationResponse {
                    response_text: Some("a".into()),
                    id: Some(id.into()),
                    input_prompt: Some("p".into()),
                    time_to_first_token: Some(ttft),
                    time_to_last_token: Some(ttlt),
                    num_tokens_input: Some(inp),
                    num_tokens_output: Some(out),
                    num_tokens_input_cached: cached,
                    time_per_output_token: Some(tpot),
                    request_time: Some(format!("2025-01-01T12:00:0{sec}Z")),
                    ..Default::default()
                }
            };
        let responses = vec![
            ok("r1", 0, 0.2, 1.0, 10, 50, None),
            ok("r2", 1, 0.3, 1.5, 20, 100, None),
            ok("r3", 2, 0.25, 1.2, 15, 80, Some(5)),
            ok("r4", 3, 0.4, 2.0, 30, 120, None),
            InvocationResponse {
                id: Some("r5".into()),
                error: Some("timeout".into()),
                request_time: Some("2025-01-01T12:00:04Z".into()),
                ..Default::default()
            },
        ];
        let summary = Summary {
            total_requests: Some(5),
            clients: 1,
            n_requests: Some(5),
            total_test_time: Some(6.0),
            start_time: Some("2025-01-01T11:59:59Z".into()),
            first_request_time: Some(T0.into()),
            last_request_time: Some("2025-01-01T12:00:04Z".into()),
            end_time: Some("2025-01-01T12:00:06Z".into()),
            ..Default::default()
        };
        (summary, responses)
    }

    #[test]
    fn worked_example_matches_llmeter_table() {
        let (summary, responses) = worked_example();
        let stats = compute_stats(&summary, &responses, &[], false);
        let expected = json!({
            "failed_requests": 1,
            "failed_requests_rate": 0.2,
            "requests_per_minute": 50.0,
            "total_input_tokens": 75,
            "total_output_tokens": 350,
            "total_cached_input_tokens": 5,
            "total_reasoning_output_tokens": 0,
            "average_input_tokens_per_minute": 750.0,
            "average_output_tokens_per_minute": 3500.0,
            "time_to_last_token-average": 1.425,
            "time_to_last_token-p50": 1.35,
            "time_to_last_token-p90": 2.25,
            "time_to_last_token-p99": 2.475,
            "time_to_first_token-average": 0.2875,
            "time_to_first_token-p50": 0.275,
            "time_to_first_token-p90": 0.45,
            "time_to_first_token-p99": 0.495,
            "num_tokens_output-average": 87.5,
            "num_tokens_output-p50": 90.0,
            "num_tokens_output-p90": 130.0,
            "num_tokens_output-p99": 139.0,
            "num_tokens_input-average": 18.75,
            "num_tokens_input-p50": 17.5,
            "num_tokens_input-p90": 35.0,
            "num_tokens_input-p99": 39.5,
            "num_tokens_input_cached-average": 5,
            "num_tokens_input_cached-p50": 5,
            "num_tokens_input_cached-p90": 5,
            "num_tokens_input_cached-p99": 5,
            "time_per_output_token-average": 0.013479609335103431,
            "time_per_output_token-p50": 0.012783295136236314,
            "time_per_output_token-p90": 0.017767106842737097,
            "time_per_output_token-p99": 0.019063625450180074,
            "output_tps": 350.0 / 6.0,
        });
        let expected = expected.as_object().expect("object");
        for (key, value) in expected {
            // Exact equality, including int vs float (serde_json distinguishes 5 from 5.0).
            assert_eq!(stats.get(key), Some(value), "{key}");
        }
        let keys: Vec<&str> = stats.keys().map(String::as_str).collect();
        assert_eq!(&keys[..14], &SUMMARY_KEYS[..]);
        assert_eq!(keys.len(), 14 + expected.len(), "unexpected keys: {keys:?}");
        // LLMeter's order: run stats, per-metric aggregates, then our merged keys.
        assert_eq!(keys[14], "failed_requests");
        assert_eq!(keys[23], "time_to_last_token-average");
        assert_eq!(keys[43], "time_per_output_token-average");
        assert_eq!(keys[47], "output_tps");
        assert_eq!(stats["total_test_time"], json!(6.0));
        assert_eq!(stats["first_request_time"], json!(T0));
        // The TPOT inputs themselves match the runner formula from the table.
        assert_eq!(responses[0].time_per_output_token, Some(0.0163265306122449));
        assert_eq!(
            responses[2].time_per_output_token,
            Some(0.012025316455696202)
        );
    }

    #[test]
    fn rates_pass_zero_and_null_time_through() {
        let (mut summary, responses) = worked_example();
        summary.total_test_time = None;
        let stats = compute_stats(&summary, &responses, &[], true);
        assert_eq!(stats["requests_per_minute"], Value::Null);
        assert_eq!(stats["average_output_tokens_per_minute"], Value::Null);
        assert!(!stats.contains_key("output_tps"));
        assert_eq!(stats["interrupted"], json!(true));
        summary.total_test_time = Some(0.0);
        summary.total_requests = Some(0);
        let stats = compute_stats(&summary, &responses, &[], false);
        assert_eq!(stats["requests_per_minute"], json!(0.0));
        assert_eq!(stats["failed_requests_rate"], json!(0));
        assert!(!stats.contains_key("interrupted"));
    }

    #[test]
    fn extras_from_timings() {
        let (summary, responses) = worked_example();
        let timing = |id: &str, first: Option<f64>, offsets: &[f64], chunks: u32| ResponseTimings {
            id: id.into(),
            time_to_first_chunk: first,
            content_chunk_offsets: offsets.to_vec(),
            num_chunks: chunks,
            ..Default::default()
        };
        let timings = vec![
            timing("r1", Some(0.1), &[0.2, 0.25, 0.35], 4),
            timing("r2", Some(0.2), &[0.3, 0.5], 3),
            timing("r3", None, &[], 0),
            // r5 failed: its gaps and chunks are ignored, its first chunk still counts.
            timing("r5", Some(0.3), &[0.4, 1.4], 9),
        ];
        let stats = compute_stats(&summary, &responses, &timings, false);
        assert_eq!(stats["time_to_first_chunk-average"], json!(0.2));
        assert_eq!(stats["time_to_first_chunk-p50"], json!(0.2));
        let gaps = [0.25 - 0.2, 0.35 - 0.25, 0.5 - 0.3];
        assert_eq!(
            stats["inter_token_latency-average"],
            json!(exact_mean(&gaps).expect("gaps"))
        );
        assert_eq!(
            stats["inter_token_latency-p90"],
            json!(percentile(&gaps, 90).expect("gaps"))
        );
        // (4 + 3 + 0) / 3 is not whole → float.
        assert_eq!(stats["num_chunks-average"], json!(7.0 / 3.0));
        let keys: Vec<&str> = stats.keys().map(String::as_str).collect();
        let first_extra = keys
            .iter()
            .position(|k| *k == "time_to_first_chunk-average")
            .expect("key");
        assert_eq!(keys[first_extra - 1], "output_tps");
        assert_eq!(keys.last().copied(), Some("num_chunks-average"));
    }
}
