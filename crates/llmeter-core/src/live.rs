//! Live statistics during a run, for progress displays: cheap to update per response, computed
//! on the caller's (throttled) schedule. Percentiles use the same rule as the final stats.

use crate::response::InvocationResponse;
use crate::stats::percentile;
use crate::time::parse_utc;
use serde::Serialize;

#[derive(Debug, Default, Clone)]
pub struct LiveStats {
    ttft: Vec<f64>,
    ttlt: Vec<f64>,
    output_tokens: u64,
    completed: u64,
    failed: u64,
    /// Earliest and latest `request_time` seen, Unix ms.
    first_request_ms: Option<f64>,
    last_request_ms: Option<f64>,
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
    /// LLMeter's live figure: requests × 60 / seconds between the first and the last request
    /// sent (`None` until two distinct send times).
    pub requests_per_minute: Option<f64>,
    /// Output tokens reported by the API (tokenizer fallbacks run only after the run) per
    /// second since the first request was sent (LLMeter's live `output_tps`).
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
        if let Some(t) = r.request_time.as_deref().and_then(parse_utc) {
            self.first_request_ms = Some(self.first_request_ms.map_or(t, |f| f.min(t)));
            self.last_request_ms = Some(self.last_request_ms.map_or(t, |l| l.max(t)));
        }
    }

    /// The figures at `now_unix_ms`, computed as LLMeter's live display does (its runner-path
    /// `RunningStats` with "now" as the end time).
    pub fn snapshot(&self, now_unix_ms: f64) -> LiveSnapshot {
        let send_window_s = match (self.first_request_ms, self.last_request_ms) {
            (Some(f), Some(l)) if l > f => Some((l - f) / 1000.0),
            _ => None,
        };
        let since_first_s = self
            .first_request_ms
            .map(|f| (now_unix_ms - f) / 1000.0)
            .filter(|s| *s > 0.0);
        LiveSnapshot {
            completed: self.completed,
            failed: self.failed,
            ttft_p50: percentile(&self.ttft, 50),
            ttft_p90: percentile(&self.ttft, 90),
            ttlt_p50: percentile(&self.ttlt, 50),
            ttlt_p90: percentile(&self.ttlt, 90),
            requests_per_minute: send_window_s.map(|w| self.completed as f64 * 60.0 / w),
            output_tokens_per_second: since_first_s.map(|s| self.output_tokens as f64 / s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(ttft: f64, ttlt: f64, out: u64, sent_s: u32) -> InvocationResponse {
        InvocationResponse {
            time_to_first_token: Some(ttft),
            time_to_last_token: Some(ttlt),
            num_tokens_output: Some(out),
            request_time: Some(format!("2025-01-01T12:00:0{sent_s}Z")),
            ..Default::default()
        }
    }

    #[test]
    fn snapshot_uses_llmeter_percentiles_and_rates() {
        let mut live = LiveStats::default();
        for (i, x) in [0.2, 0.25, 0.3, 0.4].iter().enumerate() {
            live.push(&ok(*x, 1.0 + i as f64, 10, i as u32));
        }
        live.push(&InvocationResponse {
            error: Some("boom".into()),
            request_time: Some("2025-01-01T12:00:04Z".into()),
            ..Default::default()
        });
        let t0 = 1_735_732_800_000.0;
        let s = live.snapshot(t0 + 8000.0);
        assert_eq!(s.completed, 5);
        assert_eq!(s.failed, 1);
        assert_eq!(s.ttft_p50, Some(0.275));
        assert_eq!(s.ttft_p90, Some(0.45)); // exclusive method extrapolates, as LLMeter
                                            // LLMeter's live rpm: 5 requests sent over 4 s (first to last send), not the elapsed time.
        assert_eq!(s.requests_per_minute, Some(75.0));
        assert_eq!(s.output_tokens_per_second, Some(5.0)); // 40 tokens over 8 s since the first send
        assert_eq!(LiveStats::default().snapshot(t0).ttft_p50, None);
        let mut one = LiveStats::default();
        one.push(&ok(0.1, 0.2, 3, 0));
        assert_eq!(one.snapshot(t0).requests_per_minute, None);
    }
}
