//! When each request starts and which phase it belongs to — the one thing that differs between
//! load models. The client loop (`runner::Runner`) is the same for all: a worker asks its pacer
//! for the next ticket, waits until the ticket is due, sends, records.
//!
//! * Closed loop (LLMeter): every worker is a client; a ticket is due at once (the previous
//!   request has completed), and each client cycles through its own shuffled payload order.
//! * Open loop: arrivals at `rate` per second (constant gaps, or exponential gaps from the seed:
//!   a Poisson process); workers are the `maxConcurrency` slots and take the arrivals in order.
//!   An arrival taken after it was due waited for a free slot; one taken early is slept for.
//!
//! Phases: the first requests (or seconds) are warm-up, then the measured ones, then optional
//! cool-down requests that keep the load up while the last measured requests finish.

use super::options::{Arrival, LoadModel, Phase, RunOptions};
use crate::rng::{shuffled_indices, SplitMix64};

/// Which part of the run a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestPhase {
    Warmup,
    Measured,
    Cooldown,
}

impl RequestPhase {
    /// The flag written into a warm-up or cool-down response's `annotations` (under
    /// [`PHASE_ANNOTATION`]); `None` for measured requests.
    pub fn label(self) -> Option<&'static str> {
        match self {
            RequestPhase::Warmup => Some("warmup"),
            RequestPhase::Measured => None,
            RequestPhase::Cooldown => Some("cooldown"),
        }
    }
}

/// Annotation key that flags a warm-up or cool-down response (`"warmup"` / `"cooldown"`).
pub const PHASE_ANNOTATION: &str = "load_phase";

/// Offsets in seconds from the run's start of the first `n` arrivals: `k / rate` for constant
/// arrivals (computed from `k`, so they never drift), cumulative exponential gaps of mean
/// `1 / rate` for Poisson arrivals (the first arrival at 0).
pub fn arrival_offsets(rate: f64, arrival: Arrival, seed: u64, n: usize) -> Vec<f64> {
    let mut s = ArrivalSchedule::new(rate, arrival, seed);
    (0..n).map(|_| s.next().1).collect()
}

/// The open loop's arrival times, one at a time.
#[derive(Debug, Clone)]
pub(crate) struct ArrivalSchedule {
    rate: f64,
    arrival: Arrival,
    rng: SplitMix64,
    index: u64,
    offset_s: f64,
}

impl ArrivalSchedule {
    pub fn new(rate: f64, arrival: Arrival, seed: u64) -> Self {
        ArrivalSchedule {
            rate,
            arrival,
            // A stream of its own, so the arrivals do not change with the payload order.
            rng: SplitMix64::new(seed ^ 0xA5A5_5A5A_C3C3_3C3C),
            index: 0,
            offset_s: 0.0,
        }
    }

    /// `(index, offset in seconds)` of the next arrival.
    pub fn next(&mut self) -> (u64, f64) {
        let k = self.index;
        let t = match self.arrival {
            Arrival::Constant => k as f64 / self.rate,
            Arrival::Poisson => self.offset_s,
        };
        if self.arrival == Arrival::Poisson {
            // Inverse transform; 1 - U is in (0, 1], so the log is finite.
            let u = self.rng.next_f64();
            self.offset_s += -(1.0 - u).ln() / self.rate;
        }
        self.index += 1;
        (k, t)
    }
}

/// One request to send.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    pub payload_index: usize,
    pub phase: RequestPhase,
    /// When the request is due (open loop: its arrival, in clock ms), if scheduled.
    pub due_ms: Option<f64>,
}

/// Per-client state of a closed loop.
pub(crate) struct ClientPace {
    order: Vec<usize>,
    /// Requests this client started (all phases): its position in `order`.
    sent: u64,
    measured_sent: u64,
    measure_start_ms: Option<f64>,
    done_measuring: bool,
}

impl ClientPace {
    pub fn new(payloads: usize, rng: &mut SplitMix64) -> Self {
        ClientPace {
            order: shuffled_indices(payloads, rng),
            sent: 0,
            measured_sent: 0,
            measure_start_ms: None,
            done_measuring: false,
        }
    }
}

/// The run-wide part of the pacing (shared by every worker).
pub(crate) struct Pacer {
    start_ms: f64,
    warmup: Phase,
    cooldown: Phase,
    per_client: Option<u64>,
    duration_s: Option<f64>,
    clients: u32,
    kind: PacerKind,
    warm_started: u64,
    cool_started: u64,
    /// Closed loop: clients that finished their measured requests, and when the last did.
    clients_done: u32,
    measured_end_ms: Option<f64>,
}

enum PacerKind {
    Closed,
    Open(OpenPace),
}

struct OpenPace {
    schedule: ArrivalSchedule,
    order: Vec<usize>,
    measured_count: Option<u64>,
    measured_taken: u64,
    /// Offset (s) where the measured arrivals begin and end, once known.
    measure_start_s: Option<f64>,
    measure_end_s: Option<f64>,
    /// Arrivals are exhausted (the schedule ended).
    finished: bool,
}

impl Pacer {
    pub fn new(opts: &RunOptions, start_ms: f64) -> Pacer {
        let kind = match opts.load {
            LoadModel::Closed => PacerKind::Closed,
            LoadModel::Open { rate, arrival } => {
                let mut rng = SplitMix64::new(opts.seed);
                PacerKind::Open(OpenPace {
                    schedule: ArrivalSchedule::new(rate, arrival, opts.seed),
                    order: shuffled_indices(opts.payloads.len(), &mut rng),
                    measured_count: opts.open_loop_requests(),
                    measured_taken: 0,
                    measure_start_s: None,
                    measure_end_s: None,
                    finished: false,
                })
            }
        };
        Pacer {
            start_ms,
            warmup: opts.warmup,
            cooldown: opts.cooldown,
            per_client: opts.requests_per_client().map(u64::from),
            duration_s: opts.run_duration_s,
            clients: opts.clients,
            kind,
            warm_started: 0,
            cool_started: 0,
            clients_done: 0,
            measured_end_ms: None,
        }
    }

    /// The next ticket of a closed-loop client at `now_ms`, or `None` when it is done.
    pub fn next_closed(&mut self, client: &mut ClientPace, now_ms: f64) -> Option<Ticket> {
        let phase = self.closed_phase(client, now_ms)?;
        let payload_index = client.order[(client.sent as usize) % client.order.len()];
        client.sent += 1;
        Some(Ticket {
            payload_index,
            phase,
            due_ms: None,
        })
    }

    fn closed_phase(&mut self, client: &mut ClientPace, now_ms: f64) -> Option<RequestPhase> {
        match self.warmup {
            Phase::Requests(w) if self.warm_started < w => {
                self.warm_started += 1;
                return Some(RequestPhase::Warmup);
            }
            Phase::Seconds(s) if now_ms - self.start_ms < s * 1000.0 => {
                return Some(RequestPhase::Warmup)
            }
            _ => {}
        }
        if !client.done_measuring {
            let more = match (self.per_client, self.duration_s) {
                (Some(n), _) => client.measured_sent < n,
                (None, Some(d)) => client
                    .measure_start_ms
                    .is_none_or(|s| now_ms - s < d * 1000.0),
                (None, None) => false,
            };
            if more {
                client.measured_sent += 1;
                client.measure_start_ms.get_or_insert(now_ms);
                return Some(RequestPhase::Measured);
            }
            client.done_measuring = true;
            self.clients_done += 1;
            if self.clients_done >= self.clients {
                self.measured_end_ms = Some(now_ms);
            }
        }
        if self.cooldown.is_none() {
            return None;
        }
        // Clients that finished early keep the load up while the others still measure.
        let Some(end) = self.measured_end_ms else {
            return Some(RequestPhase::Cooldown);
        };
        match self.cooldown {
            Phase::Requests(c) if self.cool_started < c => {
                self.cool_started += 1;
                Some(RequestPhase::Cooldown)
            }
            Phase::Seconds(s) if now_ms - end < s * 1000.0 => Some(RequestPhase::Cooldown),
            _ => None,
        }
    }

    /// The next open-loop arrival, or `None` when the schedule is over.
    pub fn next_open(&mut self) -> Option<Ticket> {
        let start_ms = self.start_ms;
        let (warmup, cooldown, duration_s) = (self.warmup, self.cooldown, self.duration_s);
        let PacerKind::Open(open) = &mut self.kind else {
            return None;
        };
        if open.finished {
            return None;
        }
        let (k, t) = open.schedule.next();
        let phase = 'phase: {
            match warmup {
                Phase::Requests(w) if k < w => break 'phase Some(RequestPhase::Warmup),
                Phase::Seconds(s) if t < s => break 'phase Some(RequestPhase::Warmup),
                _ => {}
            }
            let measure_start = *open.measure_start_s.get_or_insert(match warmup {
                Phase::Seconds(s) => s,
                _ => t,
            });
            if open.measure_end_s.is_none() {
                let measured = match (open.measured_count, duration_s) {
                    (Some(n), _) => open.measured_taken < n,
                    (None, Some(d)) => t < measure_start + d,
                    (None, None) => false,
                };
                if measured {
                    open.measured_taken += 1;
                    break 'phase Some(RequestPhase::Measured);
                }
                open.measure_end_s = Some(match duration_s {
                    Some(d) if open.measured_count.is_none() => measure_start + d,
                    _ => t,
                });
            }
            let end = open.measure_end_s.unwrap_or(t);
            match cooldown {
                Phase::Requests(c) if self.cool_started < c => {
                    self.cool_started += 1;
                    Some(RequestPhase::Cooldown)
                }
                Phase::Seconds(s) if t < end + s => Some(RequestPhase::Cooldown),
                _ => None,
            }
        };
        let Some(phase) = phase else {
            open.finished = true;
            return None;
        };
        Some(Ticket {
            payload_index: open.order[(k as usize) % open.order.len()],
            phase,
            due_ms: Some(start_ms + t * 1000.0),
        })
    }
}

/// The warning for an open loop that could not keep to its schedule: latencies are measured
/// from the actual send, so they understate what a user arriving on schedule would have seen
/// (coordinated omission). `slot_waits`: requests that found every slot busy at their due time.
/// `hidden`: whether the page was hidden during the run (browsers throttle timers there), when
/// the platform knows.
pub fn schedule_lag_warning(
    lag_p99_s: f64,
    threshold_s: f64,
    slot_waits: u64,
    max_concurrency: u32,
    hidden: Option<bool>,
) -> Option<String> {
    if lag_p99_s.partial_cmp(&threshold_s) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let mut w = format!(
        "The open loop fell behind its schedule: schedule lag p99 {} ms (warning above {} ms). Latencies are measured from each request's actual send, so they understate what users arriving on schedule would see (coordinated omission).",
        crate::json::fixed(lag_p99_s * 1000.0, 1),
        crate::json::fixed(threshold_s * 1000.0, 1)
    );
    if slot_waits > 0 {
        w.push_str(&format!(
            " {slot_waits} requests found all {max_concurrency} slots busy when due: the server is slower than the offered rate, or maxConcurrency is too low."
        ));
    } else {
        w.push_str(" No request waited for a free slot: the client itself (its event loop or timers) was late.");
    }
    match hidden {
        Some(true) => w.push_str(" The page was hidden during the run: browsers throttle timers in background tabs, which delays scheduled requests; keep the tab visible or run in a dedicated worker."),
        Some(false) => w.push_str(" The page stayed visible (no background-tab timer throttling)."),
        None => {}
    }
    Some(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_offsets_are_exact_multiples() {
        let t = arrival_offsets(4.0, Arrival::Constant, 1, 5);
        assert_eq!(t, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        let t = arrival_offsets(3.0, Arrival::Constant, 1, 301);
        assert_eq!(t[300], 100.0); // computed from k, no accumulated rounding
    }

    #[test]
    fn poisson_offsets_are_seeded() {
        let a = arrival_offsets(10.0, Arrival::Poisson, 7, 50);
        assert_eq!(a, arrival_offsets(10.0, Arrival::Poisson, 7, 50));
        assert_ne!(a, arrival_offsets(10.0, Arrival::Poisson, 8, 50));
        assert_eq!(a[0], 0.0);
        assert!(a.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn warning_says_why() {
        assert_eq!(schedule_lag_warning(0.005, 0.01, 0, 4, None), None);
        let w = schedule_lag_warning(0.5, 0.01, 12, 4, Some(false)).unwrap();
        assert!(w.contains("500.0 ms") && w.contains("12 requests found all 4 slots busy"));
        assert!(w.contains("stayed visible"));
        let w = schedule_lag_warning(0.05, 0.01, 0, 4, Some(true)).unwrap();
        assert!(w.contains("event loop") && w.contains("hidden"));
    }
}
