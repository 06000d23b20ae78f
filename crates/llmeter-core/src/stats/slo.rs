//! Goodput and SLO attainment over a run's responses (the `slo` option).

use super::{float_value, per_minute};
use crate::response::InvocationResponse;
use crate::result::Summary;
use crate::runner::Slo;
use serde_json::{Map, Value};

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

/// The SLO keys of `stats.json` (see [`super::compute_stats_with`]).
pub(super) fn insert_slo_stats(
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
