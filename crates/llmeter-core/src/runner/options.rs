//! How a run is shaped (LLMeter's `Runner.run` arguments), checked before any request is sent:
//! a wrong type is a `TypeError`, a value out of range a `RangeError`, each naming the option
//! and, for the upper bounds, why the bound exists.

use crate::endpoint::ParseLimits;
use crate::framing::DEFAULT_MAX_EVENT_BYTES;
use crate::json::num;
use serde_json::Value;

/// Most concurrent clients in one run: each is a loop on one thread, and past this the thread
/// spends more time scheduling than measuring (spread larger loads over workers or shards).
pub const MAX_CLIENTS: u32 = 10_000;
/// Most requests a count-bound run may plan: every response is kept in memory until the end.
pub const MAX_TOTAL_REQUESTS: u64 = 10_000_000;
/// Longest timeout or run duration: a week.
pub const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;
/// Longest start jitter: an hour.
pub const MAX_START_JITTER_MS: f64 = 3_600_000.0;
/// Bounds of `maxEventBytes`.
pub const MIN_EVENT_BYTES: usize = 1024;
pub const MAX_EVENT_BYTES: usize = 1024 * 1024 * 1024;

/// Which payload each request sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayloadAssignment {
    /// LLMeter's rule: every client cycles through its own shuffled copy of the payload list.
    #[default]
    Cycle,
    /// Every payload is sent exactly once overall, in list order: clients take the next unsent
    /// payload from one shared queue, so none is duplicated or skipped for any client count
    /// (what a heatmap needs; LLMeter's own heatmap loses cells here). `nRequests` and
    /// `runDuration` do not apply.
    EachOnce,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    pub clients: u32,
    /// Requests per client (count-bound). Defaults to the number of payloads, as LLMeter.
    pub n_requests: Option<u32>,
    /// Seconds each client keeps sending (time-bound). Exclusive with `n_requests`.
    pub run_duration_s: Option<f64>,
    /// Per-request limit in seconds; the request is aborted and recorded as a timeout error.
    pub timeout_s: f64,
    /// Stop starting requests after this many in all (a runtime's subrequest budget, see
    /// `crate::limits`); a run that stops here says so in its warnings.
    pub max_requests: Option<u64>,
    pub payloads: Vec<Value>,
    pub run_name: Option<String>,
    pub run_description: Option<String>,
    /// Seed for the per-client payload shuffles, start jitter and generated ids.
    pub seed: u64,
    /// Each client waits a random 0..this many ms before its first request (LLMeter: 10 ms).
    pub max_start_jitter_ms: f64,
    pub payload_assignment: PayloadAssignment,
    /// Largest stream message or body a response may have (`maxEventBytes`).
    pub max_event_bytes: usize,
    /// Read the endpoint's `Date` header of each answer (one header per request, nothing per
    /// chunk) and estimate this machine's wall-clock offset from it (`info.clock_offset`; a
    /// shard needs it to be merged with shards from other machines).
    pub reference_clock: bool,
    /// An offset estimated elsewhere (e.g. from the plan's download), used when the endpoint's
    /// answers carry no readable `Date`.
    pub fallback_offset: Option<crate::fleet::ClockOffset>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            clients: 1,
            n_requests: None,
            run_duration_s: None,
            timeout_s: 60.0,
            max_requests: None,
            payloads: Vec::new(),
            run_name: None,
            run_description: None,
            seed: 0,
            max_start_jitter_ms: 10.0,
            payload_assignment: PayloadAssignment::Cycle,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            reference_clock: false,
            fallback_offset: None,
        }
    }
}

/// An invalid option, named, so the JS layer can throw a `TypeError`/`RangeError` before any
/// request is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionError {
    pub option: &'static str,
    pub message: String,
    /// `true` for a value out of range (`RangeError`), `false` for a wrong type (`TypeError`).
    pub is_range: bool,
}

impl std::fmt::Display for OptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.option, self.message)
    }
}

impl std::error::Error for OptionError {}

pub fn range_err(option: &'static str, message: impl Into<String>) -> OptionError {
    OptionError {
        option,
        message: message.into(),
        is_range: true,
    }
}

pub fn type_err(option: &'static str, message: impl Into<String>) -> OptionError {
    OptionError {
        option,
        message: message.into(),
        is_range: false,
    }
}

fn seconds_in_range(option: &'static str, s: f64) -> Result<(), OptionError> {
    if !(s.is_finite() && s > 0.0) {
        return Err(range_err(option, "must be a positive number of seconds"));
    }
    if s > MAX_SECONDS {
        return Err(range_err(
            option,
            format!(
                "at most {} seconds (a week), got {}",
                num(MAX_SECONDS),
                num(s)
            ),
        ));
    }
    Ok(())
}

impl RunOptions {
    pub fn validate(&self) -> Result<(), OptionError> {
        if self.clients == 0 {
            return Err(range_err("clients", "must be a positive integer"));
        }
        if self.clients > MAX_CLIENTS {
            return Err(range_err(
                "clients",
                format!(
                    "at most {MAX_CLIENTS} in one run, got {} (every client is a loop on one thread; spread larger loads over workers or shards)",
                    self.clients
                ),
            ));
        }
        if self.payloads.is_empty() {
            return Err(range_err("payload", "at least one payload is required"));
        }
        if self.payloads.iter().any(|p| !p.is_object()) {
            return Err(type_err("payload", "every payload must be a JSON object"));
        }
        if self.payload_assignment == PayloadAssignment::EachOnce
            && (self.n_requests.is_some() || self.run_duration_s.is_some())
        {
            return Err(range_err(
                "payloadAssignment",
                "\"eachOnce\" sends every payload once: do not give nRequests or runDuration",
            ));
        }
        match (self.n_requests, self.run_duration_s) {
            (Some(_), Some(_)) => {
                return Err(range_err(
                    "runDuration",
                    "give either nRequests or runDuration, not both",
                ))
            }
            (Some(0), None) => return Err(range_err("nRequests", "must be a positive integer")),
            (None, Some(d)) => seconds_in_range("runDuration", d)?,
            _ => {}
        }
        if let Some(total) = self.expected_requests() {
            if total > MAX_TOTAL_REQUESTS {
                return Err(range_err(
                    "nRequests",
                    format!("the run would send {total} requests; at most {MAX_TOTAL_REQUESTS} (every response is kept in memory until the run ends)"),
                ));
            }
        }
        seconds_in_range("timeout", self.timeout_s)?;
        if !(self.max_start_jitter_ms.is_finite() && self.max_start_jitter_ms >= 0.0) {
            return Err(range_err(
                "startJitterMs",
                "must be zero or a positive number",
            ));
        }
        if self.max_start_jitter_ms > MAX_START_JITTER_MS {
            return Err(range_err(
                "startJitterMs",
                format!(
                    "at most {} ms (an hour), got {}",
                    num(MAX_START_JITTER_MS),
                    num(self.max_start_jitter_ms)
                ),
            ));
        }
        if !(MIN_EVENT_BYTES..=MAX_EVENT_BYTES).contains(&self.max_event_bytes) {
            return Err(range_err(
                "maxEventBytes",
                format!(
                    "must be between {MIN_EVENT_BYTES} and {MAX_EVENT_BYTES} bytes, got {}",
                    self.max_event_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Requests per client for count-bound runs (`None` when it is not fixed per client).
    pub fn requests_per_client(&self) -> Option<u32> {
        match (self.payload_assignment, self.run_duration_s) {
            (PayloadAssignment::EachOnce, _) | (_, Some(_)) => None,
            _ => Some(self.n_requests.unwrap_or(self.payloads.len() as u32)),
        }
    }

    /// Total requests the run will send, when known in advance.
    pub fn expected_requests(&self) -> Option<u64> {
        match self.payload_assignment {
            PayloadAssignment::EachOnce => Some(self.payloads.len() as u64),
            PayloadAssignment::Cycle => self
                .requests_per_client()
                .map(|n| n as u64 * self.clients as u64),
        }
    }

    pub fn parse_limits(&self) -> ParseLimits {
        ParseLimits {
            max_event_bytes: self.max_event_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts() -> RunOptions {
        RunOptions {
            payloads: vec![json!({})],
            ..Default::default()
        }
    }

    #[test]
    fn upper_bounds_name_the_option_and_why() {
        let e = RunOptions {
            clients: u32::MAX,
            ..opts()
        }
        .validate()
        .unwrap_err();
        assert_eq!((e.option, e.is_range), ("clients", true));
        assert!(e.message.contains("at most 10000"), "{e}");
        let e = RunOptions {
            clients: 100,
            n_requests: Some(1_000_000),
            ..opts()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.option, "nRequests");
        let e = RunOptions {
            timeout_s: 3e6,
            ..opts()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.option, "timeout");
        assert!(e.message.contains("a week"), "{e}");
        let e = RunOptions {
            max_start_jitter_ms: 1e12,
            ..opts()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.option, "startJitterMs");
        let e = RunOptions {
            run_duration_s: Some(1e9),
            ..opts()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.option, "runDuration");
        let e = RunOptions {
            max_event_bytes: 10,
            ..opts()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.option, "maxEventBytes");
        assert!(RunOptions {
            clients: MAX_CLIENTS,
            timeout_s: MAX_SECONDS,
            ..opts()
        }
        .validate()
        .is_ok());
    }
}
