//! The upload state machine, free of I/O: which file to PUT next, whether a failure is retried
//! (network errors and 5xx only, with exponential backoff) or final, and which keys are done, so
//! that a re-upload after a partial failure sends only what is missing. The JS layer does the
//! `fetch` calls and the waiting.

use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq)]
enum State {
    Pending,
    InFlight,
    Done,
    Failed(String),
}

#[derive(Debug, Clone)]
struct File {
    key: String,
    state: State,
    attempts: u32,
    not_before_ms: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per file including the first (≥ 1).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles for each further one, up to `max_delay_ms`.
    pub base_delay_ms: f64,
    pub max_delay_ms: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay_ms: 250.0,
            max_delay_ms: 8000.0,
        }
    }
}

/// What the driver should do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// PUT this file (index into the plan's keys); it is now in flight.
    Start(usize),
    /// Nothing can start before this many ms (a retry is backing off).
    Wait(f64),
    /// Nothing to start now; wait for an in-flight upload to finish.
    Idle,
    /// Every file is done or failed for good.
    Finished,
}

/// How one PUT ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// 2xx.
    Ok,
    /// HTTP status (not 2xx) with a short detail, e.g. S3's `<Code>`.
    Status(u16, String),
    /// No HTTP response (connection refused/reset, DNS, CORS rejection).
    Network(String),
    /// No answer within the per-file time limit (whole ms; an integer keeps float formatting
    /// out of the module): retried like a network error.
    TimedOut(u64),
    /// Not sent, or its answer not followed, for good: a redirect (a presigned URL answers the
    /// PUT itself), a missing or unusable URL. Never retried; the text says why.
    Refused(String),
}

pub struct UploadPlan {
    files: Vec<File>,
    policy: RetryPolicy,
}

impl UploadPlan {
    /// `done`: keys uploaded by an earlier attempt (they are not sent again).
    pub fn new(keys: Vec<String>, done: &BTreeSet<String>, policy: RetryPolicy) -> UploadPlan {
        let files = keys
            .into_iter()
            .map(|key| File {
                state: if done.contains(&key) {
                    State::Done
                } else {
                    State::Pending
                },
                key,
                attempts: 0,
                not_before_ms: f64::NEG_INFINITY,
            })
            .collect();
        UploadPlan {
            files,
            policy: RetryPolicy {
                max_attempts: policy.max_attempts.max(1),
                ..policy
            },
        }
    }

    pub fn key(&self, index: usize) -> Option<&str> {
        self.files.get(index).map(|f| f.key.as_str())
    }

    pub fn next(&mut self, now_ms: f64) -> Next {
        let mut earliest = f64::INFINITY;
        let mut busy = false;
        for (i, f) in self.files.iter_mut().enumerate() {
            match f.state {
                State::Pending if f.not_before_ms <= now_ms => {
                    f.state = State::InFlight;
                    f.attempts += 1;
                    return Next::Start(i);
                }
                State::Pending => earliest = earliest.min(f.not_before_ms),
                State::InFlight => busy = true,
                _ => {}
            }
        }
        if earliest.is_finite() {
            Next::Wait(earliest - now_ms)
        } else if busy {
            Next::Idle
        } else {
            Next::Finished
        }
    }

    /// Records how the PUT of `index` ended. Returns the retry delay in ms when it will be
    /// retried, `None` when it is done or failed for good.
    pub fn report(&mut self, index: usize, outcome: Outcome, now_ms: f64) -> Option<f64> {
        let policy = self.policy;
        let f = self.files.get_mut(index)?;
        if f.state != State::InFlight {
            return None;
        }
        let (retryable, message) = match outcome {
            Outcome::Ok => {
                f.state = State::Done;
                return None;
            }
            Outcome::Status(status, detail) => (
                status >= 500,
                failure_message(&f.key, Some(status), &detail),
            ),
            Outcome::Network(detail) => (true, failure_message(&f.key, None, &detail)),
            Outcome::TimedOut(ms) => (
                true,
                format!("{}: no answer within {ms} ms (timeout)", f.key),
            ),
            Outcome::Refused(reason) => (false, format!("{}: {}", f.key, reason.trim())),
        };
        if retryable && f.attempts < policy.max_attempts {
            let delay = backoff_ms(&policy, f.attempts);
            f.state = State::Pending;
            f.not_before_ms = now_ms + delay;
            return Some(delay);
        }
        let message = if f.attempts > 1 {
            format!("{message} (after {} attempts)", f.attempts)
        } else {
            message
        };
        f.state = State::Failed(message);
        None
    }

    /// Keys uploaded so far (including those done before this plan).
    pub fn done_keys(&self) -> Vec<String> {
        self.keys_where(|s| *s == State::Done)
    }

    pub fn pending_keys(&self) -> Vec<String> {
        self.keys_where(|s| *s != State::Done)
    }

    /// Final failures as `(key, message)`.
    pub fn failures(&self) -> Vec<(String, String)> {
        self.files
            .iter()
            .filter_map(|f| match &f.state {
                State::Failed(m) => Some((f.key.clone(), m.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn counts(&self) -> (usize, usize, usize) {
        let done = self.files.iter().filter(|f| f.state == State::Done).count();
        let failed = self
            .files
            .iter()
            .filter(|f| matches!(f.state, State::Failed(_)))
            .count();
        (done, failed, self.files.len())
    }

    fn keys_where(&self, pred: impl Fn(&State) -> bool) -> Vec<String> {
        self.files
            .iter()
            .filter(|f| pred(&f.state))
            .map(|f| f.key.clone())
            .collect()
    }
}

/// Delay before retry number `attempts` (1 = first retry): base × 2^(attempts−1), capped.
pub fn backoff_ms(policy: &RetryPolicy, attempts: u32) -> f64 {
    let exp = attempts.saturating_sub(1).min(30) as i32;
    (policy.base_delay_ms * 2f64.powi(exp)).min(policy.max_delay_ms)
}

/// `"run/stats.json: HTTP 403 (SignatureDoesNotMatch: …)"` or `"…: network error (…)"`.
pub fn failure_message(key: &str, status: Option<u16>, detail: &str) -> String {
    let detail = detail.trim();
    match (status, detail.is_empty()) {
        (Some(s), true) => format!("{key}: HTTP {s}"),
        (Some(s), false) => format!("{key}: HTTP {s} ({detail})"),
        (None, true) => format!("{key}: network error"),
        (None, false) => format!("{key}: network error ({detail})"),
    }
}

/// The useful part of an S3 error body: `Code: Message` from its XML, else the first 200 chars.
pub fn s3_error_detail(body: &str) -> String {
    let tag = |name: &str| -> Option<&str> {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find("</")? + start;
        Some(body[start..end].trim())
    };
    match (tag("Code"), tag("Message")) {
        (Some(c), Some(m)) if !m.is_empty() => format!("{c}: {m}"),
        (Some(c), _) => c.to_string(),
        _ => body.trim().chars().take(200).collect(),
    }
}
