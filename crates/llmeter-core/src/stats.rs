//! LLMeter's statistics, reproduced bit for bit (reference: `llmeter.md` §4).
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

use crate::response::{InvocationResponse, ResponseTimings};
use crate::result::Summary;
use crate::runner::Slo;
use serde_json::{Map, Value};
use std::cmp::Ordering;
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

/// One metric's values. Python keeps `int` and `float` apart and the JSON type of a mean,
/// an odd-N median or a single-value percentile follows the input type, so we do too.
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    Ints(Vec<u64>),
    Floats(Vec<f64>),
}

impl Samples {
    /// Floats with non-finite values dropped (LLMeter drops NaN; infinities cannot come back
    /// from our files, where they are written as `null`).
    pub fn floats(values: impl IntoIterator<Item = f64>) -> Samples {
        Samples::Floats(values.into_iter().filter(|v| v.is_finite()).collect())
    }

    pub fn ints(values: impl IntoIterator<Item = u64>) -> Samples {
        Samples::Ints(values.into_iter().collect())
    }

    pub fn len(&self) -> usize {
        match self {
            Samples::Ints(v) => v.len(),
            Samples::Floats(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sorted copy; stable, so equal values (`0.0`, `-0.0`) keep their order as in Python.
    fn sorted(&self) -> Samples {
        match self {
            Samples::Ints(v) => {
                let mut v = v.clone();
                v.sort_unstable();
                Samples::Ints(v)
            }
            Samples::Floats(v) => Samples::Floats(sorted_floats(v)),
        }
    }
}

/// The finite values sorted as Python's stable `sorted` leaves them: the only equal values with
/// different bits are `0.0` and `-0.0`, which keep their order. Sorted as `u64` keys, so the
/// module has one sort (the integers' and network phases' too) instead of one per type.
fn sorted_floats(values: &[f64]) -> Vec<f64> {
    // Order-preserving keys: negatives flipped whole, positives with the sign bit set; both
    // zeros get +0.0's key (they are equal to a sort).
    let key = |x: f64| {
        let bits = if x == 0.0 { 0 } else { x.to_bits() };
        if bits >> 63 == 1 {
            !bits
        } else {
            bits | (1 << 63)
        }
    };
    let mut keys: Vec<u64> = values
        .iter()
        .filter(|x| x.is_finite())
        .map(|&x| key(x))
        .collect();
    keys.sort_unstable();
    // The zeros, in their original order and signs.
    let mut zeros = values.iter().filter(|x| **x == 0.0);
    keys.into_iter()
        .map(|k| {
            let bits = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
            match bits {
                0 => zeros.next().copied().unwrap_or(0.0),
                _ => f64::from_bits(bits),
            }
        })
        .collect()
}

/// A float as JSON, `null` when not finite.
pub fn float_value(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// `statistics.mean`: the exact sum divided by N, rounded once. An int when all inputs are ints
/// and the mean is whole. `None` for no values.
pub fn mean(samples: &Samples) -> Option<Value> {
    match samples {
        Samples::Ints(v) if !v.is_empty() => {
            let sum: u128 = v.iter().map(|&x| x as u128).sum();
            let (quotient, remainder) = div_rem(sum, v.len() as u64);
            if remainder == 0 {
                // The mean of u64 values is at most the largest of them.
                Some(Value::from(quotient as u64))
            } else {
                let mut acc = ExactSum::default();
                acc.add_int(sum as i128);
                Some(float_value(acc.div_round(v.len() as u64)))
            }
        }
        Samples::Floats(v) => exact_mean(v).map(float_value),
        Samples::Ints(_) => None,
    }
}

/// Correctly rounded mean of the finite values (Python's `statistics.mean` on floats), e.g.
/// the mean of 0.1, 0.2, 0.3 is exactly `0.2` where a running sum gives `0.20000000000000004`.
pub fn exact_mean(values: &[f64]) -> Option<f64> {
    let mut acc = ExactSum::default();
    let mut n: u64 = 0;
    for &x in values.iter().filter(|x| x.is_finite()) {
        acc.add_f64(x);
        n += 1;
    }
    (n > 0).then(|| acc.div_round(n))
}

/// `statistics.median`: the middle value for odd N (type kept), `(a + b) / 2` for even N
/// (always a float).
pub fn median(samples: &Samples) -> Option<Value> {
    median_sorted(&samples.sorted())
}

fn median_sorted(sorted: &Samples) -> Option<Value> {
    match sorted {
        Samples::Ints(v) if !v.is_empty() => {
            let n = v.len();
            if n % 2 == 1 {
                Some(Value::from(v[n / 2]))
            } else {
                // Python's int true division is correctly rounded; so is rounding the exact sum
                // and halving it.
                let sum = v[n / 2 - 1] as u128 + v[n / 2] as u128;
                Some(float_value(sum as f64 / 2.0))
            }
        }
        Samples::Floats(v) if !v.is_empty() => {
            let n = v.len();
            if n % 2 == 1 {
                Some(float_value(v[n / 2]))
            } else {
                Some(float_value((v[n / 2 - 1] + v[n / 2]) / 2.0))
            }
        }
        _ => None,
    }
}

/// LLMeter's percentile `p` (1..=99) of the values, as `summary_stats_from_list` computes it:
/// one value → that value; p50 → median; otherwise the exclusive-method quantile. `None` for no
/// values or `p` outside 1..=99.
pub fn percentile_value(samples: &Samples, p: u32) -> Option<Value> {
    percentile_sorted(&samples.sorted(), p)
}

fn percentile_sorted(sorted: &Samples, p: u32) -> Option<Value> {
    if !(1..=99).contains(&p) {
        return None;
    }
    match sorted {
        Samples::Ints(v) if v.len() == 1 => Some(Value::from(v[0])),
        Samples::Floats(v) if v.len() == 1 => Some(float_value(v[0])),
        _ if sorted.is_empty() => None,
        _ if p == 50 => median_sorted(sorted),
        Samples::Ints(v) => {
            let (j, delta, base) = exclusive_position(v.len(), p);
            // Python: exact integer numerator, then one correctly rounded int / int division.
            let numerator =
                v[j - 1] as i128 * (base - delta) as i128 + v[j] as i128 * delta as i128;
            let mut acc = ExactSum::default();
            acc.add_int(numerator);
            Some(float_value(acc.div_round(base as u64)))
        }
        Samples::Floats(v) => {
            let (j, delta, base) = exclusive_position(v.len(), p);
            let value = (v[j - 1] * (base - delta) as f64 + v[j] * delta as f64) / base as f64;
            Some(float_value(value))
        }
    }
}

/// [`percentile_value`] for floats: any integer percentile 1..=99 with LLMeter's rule (so p99 of
/// fewer than 99 values may exceed the maximum). Non-finite values are ignored.
pub fn percentile(values: &[f64], p: u32) -> Option<f64> {
    percentile_value(&Samples::floats(values.iter().copied()), p).and_then(|v| v.as_f64())
}

/// `statistics.quantiles(data, n=B, method="exclusive")[i - 1]` position for percentile `p`:
/// returns 1-based `j` (clamped to 1..=N-1), the integer `delta` and the base `B`.
/// Needs N >= 2.
fn exclusive_position(n: usize, p: u32) -> (usize, i64, i64) {
    // The first base of 4, 10, 100 of which p is a multiple of 100 / B (as LLMeter picks it).
    let base: i64 = if p.is_multiple_of(25) {
        4
    } else if p.is_multiple_of(10) {
        10
    } else {
        100
    };
    let i = p as i64 * base / 100;
    let m = n as i64 + 1;
    let j = (i * m).div_euclid(base).clamp(1, n as i64 - 1);
    let delta = i * m - j * base;
    (j as usize, delta, base)
}

/// `summary_stats_from_list(values, percentiles)`: `average`, then `p{p}` for each percentile,
/// as `(suffix, value)` pairs; empty when there are no values (LLMeter then writes no keys).
pub fn summary_stats(samples: &Samples, percentiles: &[u32]) -> Vec<(String, Value)> {
    let Some(average) = mean(samples) else {
        return Vec::new();
    };
    let mut out = vec![("average".to_string(), average)];
    let sorted = samples.sorted();
    for &p in percentiles {
        if let Some(v) = percentile_sorted(&sorted, p) {
            out.push((format!("p{p}"), v));
        }
    }
    out
}

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
fn per_minute(total: f64, total_test_time: Option<f64>) -> Value {
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

/// Whether a response meets each objective: `(ttft, tpot, ttlt)`, `None` for an objective not
/// set. A failed request meets none. A metric that is missing does not meet its objective,
/// except TPOT for a response of at most one output token, which has no time per output token
/// and counts as meeting it (vLLM's benchmark counts its TPOT as 0).
pub fn slo_outcome(
    r: &InvocationResponse,
    slo: &Slo,
) -> (Option<bool>, Option<bool>, Option<bool>) {
    let ok = r.error.is_none();
    let within = |v: Option<f64>, limit: f64| ok && v.is_some_and(|v| v <= limit);
    let tpot = |limit: f64| {
        ok && match r.time_per_output_token {
            Some(v) => v <= limit,
            None => r.num_tokens_output.is_some_and(|n| n <= 1),
        }
    };
    (
        slo.ttft.map(|l| within(r.time_to_first_token, l)),
        slo.tpot.map(tpot),
        slo.ttlt.map(|l| within(r.time_to_last_token, l)),
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
        insert_slo_stats(&mut stats, summary, responses, slo);
    }
    if interrupted {
        stats.insert("interrupted".into(), Value::Bool(true));
    }
    stats
}

fn insert_slo_stats(
    stats: &mut Map<String, Value>,
    summary: &Summary,
    responses: &[InvocationResponse],
    slo: &Slo,
) {
    let n = responses.len();
    let mut met = [0u64; 3];
    let mut good = 0u64;
    for r in responses {
        let (a, b, c) = slo_outcome(r, slo);
        for (i, m) in [a, b, c].into_iter().enumerate() {
            if m == Some(true) {
                met[i] += 1;
            }
        }
        if [a, b, c].iter().all(|m| *m != Some(false)) {
            good += 1;
        }
    }
    let share = |k: u64| {
        if n == 0 {
            Value::Null
        } else {
            float_value(k as f64 / n as f64)
        }
    };
    let given = [slo.ttft, slo.tpot, slo.ttlt];
    for (i, metric) in [
        "time_to_first_token",
        "time_per_output_token",
        "time_to_last_token",
    ]
    .iter()
    .enumerate()
    {
        if given[i].is_some() {
            stats.insert(format!("slo_attainment-{metric}"), share(met[i]));
        }
    }
    stats.insert("slo_attainment".into(), share(good));
    stats.insert(
        "goodput".into(),
        per_minute(good as f64, summary.total_test_time),
    );
}

/// An exact sum of finite doubles and integers: a big fixed-point integer in units of 2^-1075
/// (one bit below the smallest subnormal, so rounding a tiny result still has its round bit).
/// Positive and negative parts are kept apart and subtracted at the end.
#[derive(Debug, Default, Clone)]
struct ExactSum {
    positive: Vec<u64>,
    negative: Vec<u64>,
}

const UNIT_SHIFT: u32 = 1075;

impl ExactSum {
    fn add_f64(&mut self, x: f64) {
        if !x.is_finite() || x == 0.0 {
            return;
        }
        let bits = x.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as u32;
        let fraction = bits & ((1u64 << 52) - 1);
        // x = mantissa * 2^(exponent - 1075) for normals, fraction * 2^-1074 for subnormals.
        let (mantissa, shift) = if exponent == 0 {
            (fraction, 1)
        } else {
            (fraction | (1u64 << 52), exponent)
        };
        let limbs = if x < 0.0 {
            &mut self.negative
        } else {
            &mut self.positive
        };
        add_shifted(limbs, mantissa as u128, shift);
    }

    fn add_int(&mut self, x: i128) {
        let limbs = if x < 0 {
            &mut self.negative
        } else {
            &mut self.positive
        };
        add_shifted(limbs, x.unsigned_abs(), UNIT_SHIFT);
    }

    /// The sum divided by `n`, rounded once to the nearest double (ties to even).
    fn div_round(&self, n: u64) -> f64 {
        if n == 0 {
            return f64::NAN;
        }
        let (negative, magnitude) = match compare(&self.positive, &self.negative) {
            Ordering::Less => (true, subtract(&self.negative, &self.positive)),
            _ => (false, subtract(&self.positive, &self.negative)),
        };
        let mut quotient = vec![0u64; magnitude.len()];
        let mut remainder: u64 = 0;
        for i in (0..magnitude.len()).rev() {
            let (q, r) = div_rem(((remainder as u128) << 64) | magnitude[i] as u128, n);
            quotient[i] = q as u64;
            remainder = r;
        }
        let bit_len = bit_length(&quotient);
        // Keep 53 significant bits, or fewer in the subnormal range (units of 2^-1074 = 2 of ours).
        let dropped = if bit_len > 54 { bit_len - 53 } else { 1 };
        let mut kept = bits_at(&quotient, dropped, bit_len.saturating_sub(dropped));
        let round_bit = bit_at(&quotient, dropped - 1);
        let sticky = remainder != 0 || any_bits_below(&quotient, dropped - 1);
        if round_bit && (sticky || kept & 1 == 1) {
            kept += 1;
        }
        // kept * 2^(dropped - 1075): adding the biased exponent works for subnormals and for a
        // rounding carry into the next binade alike.
        let bits = ((dropped as u64 - 1) << 52).saturating_add(kept);
        let magnitude = if bits >= 0x7ff0_0000_0000_0000 {
            f64::INFINITY
        } else {
            f64::from_bits(bits)
        };
        if negative {
            -magnitude
        } else {
            magnitude
        }
    }
}

/// `a / d` and `a % d` with 64-bit operations only: a `u128` division would link the
/// compiler's 128-bit division routines into the wasm module for these two uses. Counts of
/// samples fit in 32 bits, where two 64-bit divisions per word do it; larger divisors take
/// the bit-by-bit path.
fn div_rem(a: u128, d: u64) -> (u128, u64) {
    let (hi, lo) = ((a >> 64) as u64, a as u64);
    let (q_hi, mut r) = (hi / d, hi % d);
    let mut q_lo = 0u64;
    if d <= u32::MAX as u64 {
        // r < d < 2^32: each step divides a number below 2^64.
        for half in [lo >> 32, lo & 0xffff_ffff] {
            let current = (r << 32) | half;
            q_lo = (q_lo << 32) | (current / d);
            r = current % d;
        }
    } else {
        for bit in (0..64).rev() {
            // r < d: r * 2 + 1 may not fit in 64 bits, so compare before doubling.
            let carry = r >> 63 == 1;
            r = (r << 1) | ((lo >> bit) & 1);
            q_lo <<= 1;
            if carry || r >= d {
                r = r.wrapping_sub(d);
                q_lo |= 1;
            }
        }
    }
    (((q_hi as u128) << 64) | q_lo as u128, r)
}

fn add_shifted(limbs: &mut Vec<u64>, value: u128, shift: u32) {
    let index = (shift / 64) as usize;
    let offset = shift % 64;
    let (lo, hi) = (value as u64, (value >> 64) as u64);
    let words = if offset == 0 {
        [lo, hi, 0]
    } else {
        [
            lo << offset,
            (hi << offset) | (lo >> (64 - offset)),
            hi >> (64 - offset),
        ]
    };
    if limbs.len() < index + 3 {
        limbs.resize(index + 3, 0);
    }
    let mut carry = 0u64;
    for (k, word) in words.iter().enumerate() {
        let (s1, c1) = limbs[index + k].overflowing_add(*word);
        let (s2, c2) = s1.overflowing_add(carry);
        limbs[index + k] = s2;
        carry = (c1 as u64) + (c2 as u64);
    }
    let mut k = index + 3;
    while carry != 0 {
        if k == limbs.len() {
            limbs.push(0);
        }
        let (s, c) = limbs[k].overflowing_add(carry);
        limbs[k] = s;
        carry = c as u64;
        k += 1;
    }
}

fn significant_len(a: &[u64]) -> usize {
    a.iter().rposition(|&w| w != 0).map_or(0, |i| i + 1)
}

fn compare(a: &[u64], b: &[u64]) -> Ordering {
    let (la, lb) = (significant_len(a), significant_len(b));
    if la != lb {
        return la.cmp(&lb);
    }
    for i in (0..la).rev() {
        match a[i].cmp(&b[i]) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    Ordering::Equal
}

/// `a - b` for `a >= b`.
fn subtract(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = a.to_vec();
    let mut borrow = 0u64;
    for (i, word) in out.iter_mut().enumerate() {
        let sub = b.get(i).copied().unwrap_or(0);
        let (d1, b1) = word.overflowing_sub(sub);
        let (d2, b2) = d1.overflowing_sub(borrow);
        *word = d2;
        borrow = (b1 as u64) + (b2 as u64);
    }
    out
}

fn bit_length(a: &[u64]) -> u32 {
    match significant_len(a) {
        0 => 0,
        n => (n as u32 - 1) * 64 + (64 - a[n - 1].leading_zeros()),
    }
}

fn bit_at(a: &[u64], position: u32) -> bool {
    a.get((position / 64) as usize)
        .is_some_and(|w| (w >> (position % 64)) & 1 == 1)
}

/// `count` (<= 64) bits of `a` starting at bit `from`.
fn bits_at(a: &[u64], from: u32, count: u32) -> u64 {
    (0..count).fold(0u64, |acc, k| acc | ((bit_at(a, from + k) as u64) << k))
}

fn any_bits_below(a: &[u64], position: u32) -> bool {
    let full = (position / 64) as usize;
    if a.iter().take(full).any(|&w| w != 0) {
        return true;
    }
    let rest = position % 64;
    rest != 0 && a.get(full).is_some_and(|&w| w & ((1u64 << rest) - 1) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_sort_as_python_sorted() {
        let values = [
            3.5,
            -0.0,
            f64::NAN,
            0.0,
            -2.25,
            1e-310,
            -0.0,
            f64::INFINITY,
            -1e300,
            0.0,
            3.5,
            -1e-310,
        ];
        let mut expected: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let got = sorted_floats(&values);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&expected));
        let mut state = 0x853C_49E6_748F_EA9Bu64;
        for n in [0usize, 1, 2, 17, 1000] {
            let v: Vec<f64> = (0..n)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    match i % 5 {
                        0 => 0.0,
                        1 => -0.0,
                        2 => f64::from_bits(state),
                        _ => (state % 100) as f64 - 50.0,
                    }
                })
                .collect();
            let mut expected: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
            assert_eq!(bits(&sorted_floats(&v)), bits(&expected));
        }
    }

    #[test]
    fn div_rem_is_u128_division() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in 0..100_000u32 {
            let a = ((next() as u128) << 64) | next() as u128;
            let a = a >> (i % 128);
            let d = match i % 4 {
                0 => next() >> (i % 64),
                1 => next() | (1 << 63),
                2 => (next() % 1000) + 1,
                _ => u32::MAX as u64 + (next() % 3),
            }
            .max(1);
            assert_eq!(
                div_rem(a, d),
                (a / d as u128, (a % d as u128) as u64),
                "{a} / {d}"
            );
        }
    }
    use serde_json::json;

    fn p(values: &[f64], pct: u32) -> f64 {
        percentile(values, pct).expect("has values")
    }

    #[test]
    fn exclusive_percentiles_extrapolate_like_python() {
        let one_to = |n: u32| (1..=n).map(f64::from).collect::<Vec<_>>();
        assert_eq!(p(&one_to(5), 90), 5.4);
        assert_eq!(p(&one_to(5), 99), 5.94);
        assert_eq!(p(&one_to(5), 10), 0.6);
        assert_eq!(p(&one_to(8), 90), 8.1);
        assert_eq!(p(&one_to(9), 90), 9.0);
        assert_eq!(p(&one_to(98), 99), 98.01);
        assert_eq!(p(&one_to(99), 99), 99.0);
        assert_eq!(p(&[0.2, 0.25, 0.3, 0.4], 90), 0.45);
        assert_eq!(p(&[0.4, 0.2, 0.3, 0.25], 99), 0.495);
        assert_eq!(p(&[0.005; 5], 99), 0.004999999999999999);
        assert_eq!(p(&[0.005; 6], 99), 0.004999999999999999);
    }

    #[test]
    fn percentile_rejects_out_of_range_and_empty() {
        assert_eq!(percentile(&[1.0, 2.0], 0), None);
        assert_eq!(percentile(&[1.0, 2.0], 100), None);
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[f64::NAN], 50), None);
        assert_eq!(percentile(&[3.0], 37), Some(3.0));
    }

    #[test]
    fn quartile_and_decile_bases_match_python_quantiles() {
        // statistics.quantiles([1,2,3,4,5,6,7], n=4) == [2.0, 4.0, 6.0]; n=10 → p30 = 2.4
        let v: Vec<f64> = (1..=7).map(f64::from).collect();
        assert_eq!(p(&v, 25), 2.0);
        assert_eq!(p(&v, 75), 6.0);
        assert_eq!(p(&v, 30), 2.4);
        // quantiles(range(1,8), n=100)[36] == 2.96
        assert_eq!(p(&v, 37), 2.96);
    }

    #[test]
    fn mean_is_correctly_rounded() {
        assert_eq!(exact_mean(&[0.1, 0.2, 0.3]), Some(0.2));
        // Python: statistics.mean([1e50, 1, -1e50] * 1000) == 0.3333333333333333
        let cancel: Vec<f64> = [1e50, 1.0, -1e50].repeat(1000);
        assert_eq!(exact_mean(&cancel), Some(0.3333333333333333));
        // statistics.mean([5e-324, 5e-324, 0.0]) == 5e-324 (2/3 of the smallest subnormal)
        assert_eq!(exact_mean(&[5e-324, 5e-324, 0.0]), Some(5e-324));
        // statistics.mean([5e-324, 0.0, 0.0]) == 0.0 (1/3 of it rounds down)
        assert_eq!(exact_mean(&[5e-324, 0.0, 0.0]), Some(0.0));
        assert_eq!(exact_mean(&[f64::MAX, f64::MAX]), Some(f64::MAX));
        assert_eq!(exact_mean(&[-1.5, -2.5]), Some(-2.0));
        assert_eq!(exact_mean(&[]), None);
        // statistics.mean([0.1]*10) == 0.1 ; sum([0.1]*10)/10 == 0.09999999999999999
        assert_eq!(exact_mean(&[0.1; 10]), Some(0.1));
        // Python: statistics.mean([1.0, 2.0**-60, 3.0]) == 1.3333333333333333
        assert_eq!(
            exact_mean(&[1.0, 2f64.powi(-60), 3.0]),
            Some(1.3333333333333333)
        );
        // Python: statistics.mean([0.7, 0.1, 1e-17]) == 0.26666666666666666
        assert_eq!(exact_mean(&[0.7, 0.1, 1e-17]), Some(0.26666666666666666));
    }

    #[test]
    fn int_results_keep_python_types() {
        let ints = Samples::ints([3, 1, 2]);
        assert_eq!(mean(&ints), Some(json!(2)));
        assert_eq!(median(&ints), Some(json!(2)));
        assert_eq!(mean(&Samples::ints([1, 2])), Some(json!(1.5)));
        assert_eq!(median(&Samples::ints([1, 2, 3, 4])), Some(json!(2.5)));
        assert_eq!(median(&Samples::ints([2, 4])), Some(json!(3.0)));
        // mean([1, 2, 2]) == 1.6666666666666667
        assert_eq!(
            mean(&Samples::ints([1, 2, 2])),
            Some(json!(1.6666666666666667))
        );
        // A single int: every percentile is that int.
        assert_eq!(
            summary_stats(&Samples::ints([5]), &DEFAULT_PERCENTILES),
            vec![
                ("average".to_string(), json!(5)),
                ("p50".to_string(), json!(5)),
                ("p90".to_string(), json!(5)),
                ("p99".to_string(), json!(5)),
            ]
        );
        // Quantiles of ints are floats even when whole: quantiles([50,80,100,120], n=10)[8] == 130.0
        assert_eq!(
            percentile_value(&Samples::ints([50, 100, 80, 120]), 90),
            Some(json!(130.0))
        );
        assert!(summary_stats(&Samples::ints([]), &DEFAULT_PERCENTILES).is_empty());
        // A single float stays a float.
        assert_eq!(
            percentile_value(&Samples::floats([2.0]), 99),
            Some(json!(2.0))
        );
    }

    #[test]
    fn float_values_serialize_with_decimal_point() {
        assert_eq!(
            serde_json::to_string(&float_value(6.0)).ok().as_deref(),
            Some("6.0")
        );
        assert_eq!(float_value(f64::NAN), Value::Null);
        assert_eq!(float_value(f64::INFINITY), Value::Null);
    }

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

    #[test]
    fn large_int_quantile_numerators_are_rounded_once() {
        // quantiles([2**60+1, 2**60+3], n=10)[8] == 1.152921504606847e+18 (Python int/int division)
        let big = 1u64 << 60;
        let v = percentile_value(&Samples::ints([big + 1, big + 3]), 90).and_then(|v| v.as_f64());
        assert_eq!(v, Some(1.152921504606847e18));
    }
}
