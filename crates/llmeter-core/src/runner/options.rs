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

/// How requests are started: LLMeter's closed loop, or arrivals on a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum LoadModel {
    /// `clients` loops, each sending its next request when the previous one has completed
    /// (LLMeter's model): when the server slows down, so does the load.
    #[default]
    Closed,
    /// Requests start on a schedule of `rate` per second whatever the answers do, with at most
    /// `clients` in flight (`maxConcurrency`). A request that cannot start on time (every slot
    /// busy, or the event loop late) records how late it started: its schedule lag.
    Open { rate: f64, arrival: Arrival },
}

/// Inter-arrival times of an open loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrival {
    /// Exactly `1 / rate` seconds apart.
    #[default]
    Constant,
    /// Exponentially distributed gaps of mean `1 / rate` (a Poisson process), from the run's
    /// seed.
    Poisson,
}

impl Arrival {
    pub fn name(self) -> &'static str {
        match self {
            Arrival::Constant => "constant",
            Arrival::Poisson => "poisson",
        }
    }
}

/// A warm-up or cool-down phase: the first (or extra last) requests, by count or by time.
/// Their responses are saved apart (flagged with their phase) and left out of the stats.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Phase {
    #[default]
    None,
    Requests(u64),
    Seconds(f64),
}

impl Phase {
    pub fn is_none(&self) -> bool {
        *self == Phase::None
    }
}

/// Latency objectives in seconds: a request meets them when it succeeded and each given metric
/// is at most its objective (vLLM's `--goodput`, DistServe's SLO attainment).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Slo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttlt: Option<f64>,
}

impl Slo {
    pub fn is_empty(&self) -> bool {
        self.ttft.is_none() && self.tpot.is_none() && self.ttlt.is_none()
    }
}

/// Default warning threshold for schedule lag p99: past this an open loop's latencies
/// understate what a user arriving on schedule would see.
pub const DEFAULT_MAX_SCHEDULE_LAG_S: f64 = 0.01;
/// Most requests per second an open loop may schedule.
pub const MAX_RATE: f64 = 1_000_000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Concurrent clients (closed loop), or the most requests in flight (open loop's
    /// `maxConcurrency`).
    pub clients: u32,
    /// Closed loop (default) or open-loop arrivals.
    pub load: LoadModel,
    /// Requests before the measured ones, saved apart and left out of the stats.
    pub warmup: Phase,
    /// Requests after the measured ones (the load kept up while the last measured requests
    /// finish), saved apart and left out of the stats.
    pub cooldown: Phase,
    /// Latency objectives for `goodput` and SLO attainment in the stats.
    pub slo: Option<Slo>,
    /// Schedule lag p99 above which the result warns (open loops), in seconds.
    pub max_schedule_lag_s: f64,
    /// Requests per client (count-bound; in an open loop: requests in all). Defaults to the
    /// number of payloads, as LLMeter.
    pub n_requests: Option<u32>,
    /// Seconds each client keeps sending (time-bound; in an open loop: seconds of arrivals).
    /// Exclusive with `n_requests`.
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
    /// Where the run's files are written (`outputPath`), recorded as LLMeter's `output_path`
    /// in `summary.json` and `run_config.json`: this folder, or with `output_nested` a folder
    /// named after the run inside it (LLMeter's `Runner(output_path=…)`).
    pub output_path: Option<String>,
    pub output_nested: bool,
    /// Period of the thread-lag watch in ms: [`crate::runner::lag::PERIOD_MS`], or where the
    /// runtime's timers are costly what `limits::check_run` decides.
    pub lag_period_ms: f64,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            clients: 1,
            load: LoadModel::Closed,
            warmup: Phase::None,
            cooldown: Phase::None,
            slo: None,
            max_schedule_lag_s: DEFAULT_MAX_SCHEDULE_LAG_S,
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
            output_path: None,
            output_nested: false,
            lag_period_ms: super::lag::PERIOD_MS,
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
        self.validate_load()?;
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

    fn validate_load(&self) -> Result<(), OptionError> {
        if let LoadModel::Open { rate, .. } = self.load {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(range_err(
                    "rate",
                    "must be a positive number of requests per second",
                ));
            }
            if rate > MAX_RATE {
                return Err(range_err(
                    "rate",
                    format!(
                        "at most {} requests per second, got {}",
                        num(MAX_RATE),
                        num(rate)
                    ),
                ));
            }
            if self.payload_assignment == PayloadAssignment::EachOnce {
                return Err(range_err(
                    "payloadAssignment",
                    "\"eachOnce\" is for closed loops (clients); an open loop (rate) cycles through the payloads",
                ));
            }
        }
        for (option, phase) in [("warmup", self.warmup), ("cooldown", self.cooldown)] {
            match phase {
                Phase::None => {}
                Phase::Requests(0) => {
                    return Err(range_err(option, "requests must be a positive integer"))
                }
                Phase::Requests(n) if n > MAX_TOTAL_REQUESTS => {
                    return Err(range_err(
                        option,
                        format!("at most {MAX_TOTAL_REQUESTS} requests, got {n}"),
                    ))
                }
                Phase::Requests(_) => {}
                Phase::Seconds(s) => seconds_in_range(option, s)?,
            }
            if !phase.is_none() && self.payload_assignment == PayloadAssignment::EachOnce {
                return Err(range_err(
                    option,
                    "not with payloadAssignment \"eachOnce\" (every payload is sent once, all measured)",
                ));
            }
        }
        if let Some(slo) = &self.slo {
            for (option, v) in [
                ("slo.ttft", slo.ttft),
                ("slo.tpot", slo.tpot),
                ("slo.ttlt", slo.ttlt),
            ] {
                if let Some(v) = v {
                    if !(v.is_finite() && v > 0.0) {
                        return Err(range_err(option, "must be a positive number of seconds"));
                    }
                }
            }
            if slo.is_empty() {
                return Err(range_err(
                    "slo",
                    "give at least one of ttft, tpot, ttlt (seconds)",
                ));
            }
        }
        if !(self.max_schedule_lag_s.is_finite() && self.max_schedule_lag_s > 0.0) {
            return Err(range_err(
                "maxScheduleLag",
                "must be a positive number of seconds",
            ));
        }
        Ok(())
    }

    /// Whether requests start on a schedule (an open loop).
    pub fn is_open_loop(&self) -> bool {
        matches!(self.load, LoadModel::Open { .. })
    }

    /// Measured requests per client for count-bound closed loops (`None` when it is not fixed
    /// per client: time-bound runs, each-once runs, open loops).
    pub fn requests_per_client(&self) -> Option<u32> {
        match (self.payload_assignment, self.run_duration_s, self.load) {
            (PayloadAssignment::EachOnce, _, _)
            | (_, Some(_), _)
            | (_, _, LoadModel::Open { .. }) => None,
            _ => Some(self.n_requests.unwrap_or(self.payloads.len() as u32)),
        }
    }

    /// Measured requests of a count-bound open loop, in all.
    pub fn open_loop_requests(&self) -> Option<u64> {
        match (self.load, self.run_duration_s) {
            (LoadModel::Open { .. }, None) => {
                Some(self.n_requests.unwrap_or(self.payloads.len() as u32) as u64)
            }
            _ => None,
        }
    }

    /// Total requests the run will send, when known in advance (warm-up and cool-down
    /// requests included when they are counts; `None` when a phase is timed).
    pub fn expected_requests(&self) -> Option<u64> {
        let measured = match (self.payload_assignment, self.load) {
            (PayloadAssignment::EachOnce, _) => Some(self.payloads.len() as u64),
            (_, LoadModel::Open { .. }) => self.open_loop_requests(),
            (PayloadAssignment::Cycle, LoadModel::Closed) => self
                .requests_per_client()
                .map(|n| n as u64 * self.clients as u64),
        }?;
        let extra = |p: Phase| match p {
            Phase::None => Some(0),
            Phase::Requests(n) => Some(n),
            Phase::Seconds(_) => None,
        };
        // A closed loop's cool-down also lasts while other clients still measure: not known.
        if self.load == LoadModel::Closed && !self.cooldown.is_none() {
            return None;
        }
        Some(measured + extra(self.warmup)? + extra(self.cooldown)?)
    }

    /// Measured requests known in advance (progress displays count only these).
    pub fn expected_measured_requests(&self) -> Option<u64> {
        match (self.payload_assignment, self.load) {
            (PayloadAssignment::EachOnce, _) => Some(self.payloads.len() as u64),
            (_, LoadModel::Open { .. }) => self.open_loop_requests(),
            (PayloadAssignment::Cycle, LoadModel::Closed) => self
                .requests_per_client()
                .map(|n| n as u64 * self.clients as u64),
        }
    }

    /// Default `maxConcurrency` of an open loop: enough slots that none is missing while every
    /// request takes up to `timeout` (rate × timeout), at most [`MAX_CLIENTS`].
    pub fn default_max_concurrency(rate: f64, timeout_s: f64) -> u32 {
        let n = (rate * timeout_s).ceil();
        if n.is_finite() && n >= 1.0 {
            (n as u64).min(MAX_CLIENTS as u64) as u32
        } else {
            1
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
