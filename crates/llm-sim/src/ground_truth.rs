//! Server-side ground truth: a monotonic clock and one live record per chat completion,
//! updated as frames are handed to hyper and served by `GET /sim/requests`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde::Serialize;

use crate::faults::FaultKind;
use crate::openai::FinishReason;

/// Microseconds since server start on the monotonic clock.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    pub fn new() -> Self {
        Clock {
            start: Instant::now(),
        }
    }

    pub fn now_us(&self) -> u64 {
        self.us_at(Instant::now())
    }

    pub fn us_at(&self, instant: Instant) -> u64 {
        instant.saturating_duration_since(self.start).as_micros() as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

/// How a request ended, from the server's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    InProgress,
    /// The whole response was handed to hyper.
    Completed,
    /// An injected fault cut the connection (reset, disconnect).
    AbortedByFault,
    /// The response was dropped before it finished: the client went away.
    ClientDisconnected,
}

impl Outcome {
    fn from_u8(value: u8) -> Self {
        match value {
            1 => Outcome::Completed,
            2 => Outcome::AbortedByFault,
            3 => Outcome::ClientDisconnected,
            _ => Outcome::InProgress,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            Outcome::InProgress => 0,
            Outcome::Completed => 1,
            Outcome::AbortedByFault => 2,
            Outcome::ClientDisconnected => 3,
        }
    }
}

const UNSET: u64 = u64::MAX;

/// One request's record. Plan fields are fixed at creation; times and counters are atomics
/// written by the response body as it is polled (no lock on the per-token path).
#[derive(Debug)]
pub struct RequestRecord {
    pub plan: RecordPlan,
    status: AtomicU32,
    headers_sent_us: AtomicU64,
    first_chunk_sent_us: AtomicU64,
    first_token_sent_us: AtomicU64,
    last_token_sent_us: AtomicU64,
    done_us: AtomicU64,
    output_tokens: AtomicU32,
    outcome: AtomicU8,
}

/// What the plan says about a request before any byte is sent.
#[derive(Debug)]
pub struct RecordPlan {
    pub id: String,
    pub model: String,
    pub stream: bool,
    pub include_usage: bool,
    pub input_tokens: u32,
    pub planned_output_tokens: u32,
    pub planned_ttft_us: u64,
    pub finish_reason: FinishReason,
    pub fault: Option<FaultKind>,
    pub received_us: u64,
}

impl RequestRecord {
    pub fn new(plan: RecordPlan) -> Self {
        RequestRecord {
            plan,
            status: AtomicU32::new(0),
            headers_sent_us: AtomicU64::new(UNSET),
            first_chunk_sent_us: AtomicU64::new(UNSET),
            first_token_sent_us: AtomicU64::new(UNSET),
            last_token_sent_us: AtomicU64::new(UNSET),
            done_us: AtomicU64::new(UNSET),
            output_tokens: AtomicU32::new(0),
            outcome: AtomicU8::new(0),
        }
    }

    pub fn mark_headers_sent(&self, status: u16, at_us: u64) {
        self.status.store(status as u32, Ordering::Relaxed);
        self.headers_sent_us.store(at_us, Ordering::Relaxed);
    }

    pub fn mark_first_chunk(&self, at_us: u64) {
        self.first_chunk_sent_us.store(at_us, Ordering::Relaxed);
    }

    /// A frame carrying tokens went out; `tokens_so_far` is the running total.
    pub fn mark_tokens_sent(&self, tokens_so_far: u32, at_us: u64) {
        let _ = self.first_token_sent_us.compare_exchange(
            UNSET,
            at_us,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        self.last_token_sent_us.store(at_us, Ordering::Relaxed);
        self.output_tokens.store(tokens_so_far, Ordering::Relaxed);
    }

    /// Record the end once; later calls (e.g. the body's drop after completion) are ignored.
    pub fn finish(&self, outcome: Outcome, at_us: u64) {
        if self
            .outcome
            .compare_exchange(
                Outcome::InProgress.to_u8(),
                outcome.to_u8(),
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            self.done_us.store(at_us, Ordering::Release);
        }
    }

    pub fn outcome(&self) -> Outcome {
        Outcome::from_u8(self.outcome.load(Ordering::Acquire))
    }

    pub fn snapshot(&self) -> RecordSnapshot {
        let time = |cell: &AtomicU64| match cell.load(Ordering::Acquire) {
            UNSET => None,
            value => Some(value),
        };
        let status = self.status.load(Ordering::Relaxed);
        let plan = &self.plan;
        RecordSnapshot {
            id: plan.id.clone(),
            model: plan.model.clone(),
            stream: plan.stream,
            include_usage: plan.include_usage,
            status: (status != 0).then_some(status as u16),
            fault: plan.fault.map(FaultKind::as_str),
            outcome: self.outcome(),
            finish_reason: plan.finish_reason.as_str(),
            input_tokens: plan.input_tokens,
            output_tokens: self.output_tokens.load(Ordering::Relaxed),
            planned_output_tokens: plan.planned_output_tokens,
            planned_ttft_us: plan.planned_ttft_us,
            received_us: plan.received_us,
            headers_sent_us: time(&self.headers_sent_us),
            first_chunk_sent_us: time(&self.first_chunk_sent_us),
            first_token_sent_us: time(&self.first_token_sent_us),
            last_token_sent_us: time(&self.last_token_sent_us),
            done_us: time(&self.done_us),
        }
    }
}

/// The JSON form of a record (see sim/README.md for the meaning of every field).
#[derive(Clone, Debug, Serialize)]
pub struct RecordSnapshot {
    pub id: String,
    pub model: String,
    pub stream: bool,
    pub include_usage: bool,
    pub status: Option<u16>,
    pub fault: Option<&'static str>,
    pub outcome: Outcome,
    pub finish_reason: &'static str,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub planned_output_tokens: u32,
    pub planned_ttft_us: u64,
    pub received_us: u64,
    pub headers_sent_us: Option<u64>,
    pub first_chunk_sent_us: Option<u64>,
    pub first_token_sent_us: Option<u64>,
    pub last_token_sent_us: Option<u64>,
    pub done_us: Option<u64>,
}

/// Bounded store of records, oldest dropped first.
pub struct GroundTruthStore {
    records: Mutex<VecDeque<Arc<RequestRecord>>>,
    capacity: usize,
}

impl GroundTruthStore {
    pub fn new(capacity: usize) -> Self {
        GroundTruthStore {
            records: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Arc<RequestRecord>>> {
        // A poisoned lock only means another thread panicked mid-push; the deque is still valid.
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn insert(&self, record: Arc<RequestRecord>) {
        let mut records = self.lock();
        if records.len() >= self.capacity {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// Snapshots in arrival order; `id` matches with or without the prefix of the response id
    /// (`chatcmpl-`, `resp_`, `msg_`, `gen-`).
    pub fn snapshots(&self, id: Option<&str>) -> Vec<RecordSnapshot> {
        let wanted = id.map(|id| {
            ["chatcmpl-", "resp_", "msg_", "gen-"]
                .iter()
                .find_map(|p| id.strip_prefix(p))
                .unwrap_or(id)
        });
        let records = self.lock();
        records
            .iter()
            .filter(|r| wanted.is_none_or(|w| r.plan.id == w))
            .map(|r| r.snapshot())
            .collect()
    }

    pub fn clear(&self) -> usize {
        let mut records = self.lock();
        let removed = records.len();
        records.clear();
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> Arc<RequestRecord> {
        Arc::new(RequestRecord::new(RecordPlan {
            id: id.into(),
            model: "m".into(),
            stream: true,
            include_usage: false,
            input_tokens: 1,
            planned_output_tokens: 2,
            planned_ttft_us: 0,
            finish_reason: FinishReason::Stop,
            fault: None,
            received_us: 5,
        }))
    }

    #[test]
    fn store_filters_evicts_and_clears() {
        let store = GroundTruthStore::new(2);
        store.insert(record("a"));
        store.insert(record("b"));
        store.insert(record("c"));
        let ids: Vec<String> = store.snapshots(None).into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["b", "c"]);
        assert_eq!(store.snapshots(Some("chatcmpl-c")).len(), 1);
        assert_eq!(store.snapshots(Some("a")).len(), 0);
        assert_eq!(store.clear(), 2);
        assert!(store.snapshots(None).is_empty());
    }

    #[test]
    fn record_times_are_set_once_where_it_matters() {
        let r = record("x");
        r.mark_tokens_sent(1, 10);
        r.mark_tokens_sent(2, 20);
        r.finish(Outcome::Completed, 30);
        r.finish(Outcome::ClientDisconnected, 40);
        let s = r.snapshot();
        assert_eq!(
            (s.first_token_sent_us, s.last_token_sent_us, s.done_us),
            (Some(10), Some(20), Some(30))
        );
        assert_eq!((s.output_tokens, s.outcome), (2, Outcome::Completed));
        assert_eq!(s.headers_sent_us, None);
    }
}
