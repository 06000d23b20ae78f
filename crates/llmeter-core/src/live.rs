//! Live statistics during a run, for progress displays: cheap to update per response, computed
//! on the caller's (throttled) schedule. Percentiles use the same rule as the final stats.

use crate::response::InvocationResponse;
use crate::stats::percentile;
use serde::Serialize;

#[derive(Debug, Default, Clone)]
pub struct LiveStats {
    ttft: Vec<f64>,
    ttlt: Vec<f64>,
    output_tokens: u64,
    completed: u64,
    failed: u64,
}

/// What a progress display shows (LLMeter's live table: rpm, output tokens/s, TTFT/TTLT
/// p50/p90, failures). Times in seconds; `None` until there is data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveSnapshot {
    pub completed: u64,
    pub failed: u64,
    pub ttft_p50: Option<f64>,
    pub ttft_p90: Option<f64>,
    pub ttlt_p50: Option<f64>,
    pub ttlt_p90: Option<f64>,
    pub requests_per_minute: Option<f64>,
    /// Output tokens reported by the API (tokenizer fallbacks run only after the run).
    pub output_tokens_per_second: Option<f64>,
}

impl LiveStats {
    pub fn push(&mut self, r: &InvocationResponse) {
        self.completed += 1;
        if r.error.is_some() {
            self.failed += 1;
        }
        if let Some(t) = r.time_to_first_token {
            self.ttft.push(t);
        }
        if let Some(t) = r.time_to_last_token {
            self.ttlt.push(t);
        }
        self.output_tokens += r.num_tokens_output.unwrap_or(0);
    }

    pub fn snapshot(&self, elapsed_s: f64) -> LiveSnapshot {
        let rate = |x: f64| (elapsed_s > 0.0).then(|| x / elapsed_s);
        LiveSnapshot {
            completed: self.completed,
            failed: self.failed,
            ttft_p50: percentile(&self.ttft, 50),
            ttft_p90: percentile(&self.ttft, 90),
            ttlt_p50: percentile(&self.ttlt, 50),
            ttlt_p90: percentile(&self.ttlt, 90),
            requests_per_minute: rate(self.completed as f64 * 60.0),
            output_tokens_per_second: rate(self.output_tokens as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(ttft: f64, ttlt: f64, out: u64) -> InvocationResponse {
        InvocationResponse {
            time_to_first_token: Some(ttft),
            time_to_last_token: Some(ttlt),
            num_tokens_output: Some(out),
            ..Default::default()
        }
    }

    #[test]
    fn snapshot_uses_llmeter_percentiles_and_rates() {
        let mut live = LiveStats::default();
        for (i, x) in [0.2, 0.25, 0.3, 0.4].iter().enumerate() {
            live.push(&ok(*x, 1.0 + i as f64, 10));
        }
        live.push(&InvocationResponse {
            error: Some("boom".into()),
            ..Default::default()
        });
        let s = live.snapshot(2.0);
        assert_eq!(s.completed, 5);
        assert_eq!(s.failed, 1);
        assert_eq!(s.ttft_p50, Some(0.275));
        assert_eq!(s.ttft_p90, Some(0.45)); // exclusive method extrapolates, as LLMeter
        assert_eq!(s.requests_per_minute, Some(150.0));
        assert_eq!(s.output_tokens_per_second, Some(20.0));
        assert_eq!(LiveStats::default().snapshot(0.0).ttft_p50, None);
    }
}
