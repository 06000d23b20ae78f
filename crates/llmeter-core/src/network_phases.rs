//! What the browser added to each request, from its Resource Timing entry: waiting for a
//! connection (queueing), DNS, TCP connect, TLS, when the request went out and when the
//! response began — so a client's TTFT can be explained phase by phase. Browsers show these only
//! when the server allows the page's origin to see them (`Timing-Allow-Origin`); otherwise the
//! phases are recorded as hidden.
//!
//! Platform-free: the web layer hands in the raw entries (ms on the `performance.now()` clock)
//! and each response's send and end stamps; pairing and arithmetic live here, tested natively.

use crate::response::ResponseTimings;
use serde::{Deserialize, Serialize};

/// The fields of one `PerformanceResourceTiming` entry used here (ms; 0 where the browser
/// hides them from a cross-origin page without `Timing-Allow-Origin`, and
/// `secure_connection_start` 0 for plain HTTP).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResourceEntry {
    pub start_time: f64,
    pub domain_lookup_start: f64,
    pub domain_lookup_end: f64,
    pub connect_start: f64,
    pub secure_connection_start: f64,
    pub connect_end: f64,
    pub request_start: f64,
    pub response_start: f64,
    pub response_end: f64,
}

/// One request's phases in seconds, in `chunk_timings.jsonl` (`network`). Durations:
/// `queueing` (inside the browser before the request could go out: waiting for a free
/// connection — browsers open 6 per host on HTTP/1.1 — or for the network stack, not counting
/// DNS and connect), `dns`, `connect` (TCP), `tls`. Offsets from the request's start, like the
/// other timings: `request_sent` (the browser began sending it) and `response_start` (first byte
/// of the response head). All `None` with `visible: false` when the browser hid them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkPhases {
    pub visible: bool,
    pub queueing: Option<f64>,
    pub dns: Option<f64>,
    pub connect: Option<f64>,
    pub tls: Option<f64>,
    pub request_sent: Option<f64>,
    pub response_start: Option<f64>,
}

/// A request's phases from its entry; `start_ms` is the request's own start stamp (what its
/// TTFT is measured from, taken just before `fetch`) on the same clock. Queueing counts from
/// that stamp, not from the entry's `startTime`: WebKit starts an entry only when its network
/// process takes the request up (measured 30–45 ms after the `fetch` call for queued h2
/// requests), and that wait is the browser's too.
pub fn phases(e: &ResourceEntry, start_ms: f64) -> NetworkPhases {
    // Without Timing-Allow-Origin the browser zeroes every phase stamp.
    if e.request_start <= 0.0 && e.response_start <= 0.0 {
        return NetworkPhases::default();
    }
    let s = |ms: f64| (ms / 1000.0).max(0.0);
    let dns = e.domain_lookup_end - e.domain_lookup_start;
    let connect_all = e.connect_end - e.connect_start;
    let tls = if e.secure_connection_start > 0.0 {
        e.connect_end - e.secure_connection_start
    } else {
        0.0
    };
    NetworkPhases {
        visible: true,
        queueing: Some(s(e.request_start
            - start_ms.min(e.start_time)
            - dns
            - connect_all)),
        dns: Some(s(dns)),
        connect: Some(s(connect_all - tls)),
        tls: Some(s(tls)),
        // Never before the start: on a 1 ms clock a stamp can fall one step earlier.
        request_sent: Some(s(e.request_start - start_ms)),
        response_start: Some(s(e.response_start - start_ms)),
    }
}

/// Indices of `keys` (non-negative, in ms) in ascending order, ties by index. Sorts packed
/// `u64`s with `sort_unstable` — the instantiation `core::stats` already has — rather than
/// adding a comparator sort to the wasm module (each adds kilobytes); keys are kept to 1 µs.
fn ascending(keys: &[f64]) -> Vec<usize> {
    let index_bits = usize::BITS - keys.len().leading_zeros();
    let max_key = u64::MAX >> index_bits;
    let mut packed: Vec<u64> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            let k = (k * 1000.0).round();
            let k = if k.is_nan() || k <= 0.0 {
                0
            } else if k >= max_key as f64 {
                max_key
            } else {
                k as u64
            };
            (k << index_bits) | i as u64
        })
        .collect();
    packed.sort_unstable();
    let mask = (1u64 << index_bits) - 1;
    packed.into_iter().map(|p| (p & mask) as usize).collect()
}

/// Slack (ms) beyond one clock step when comparing a request's stamps with its entry's.
const SLACK_MS: f64 = 1.0;
/// An entry's `responseEnd` may come after the request's last read: Chromium's renderer can
/// see the body end before the network service's completion that stamps it.
const END_SLACK_MS: f64 = 50.0;

/// Pairs each response (by its start and end stamps, `ResponseTimings::start_ms` and `end_ms`)
/// with the entry of the same request and records its phases; returns how many were paired.
/// Requests to one URL differ only in time. An entry can belong to a request only if it starts
/// no earlier than the request's `fetch` call (within one clock step, `step_ms`, plus
/// [`SLACK_MS`]) and ends by its last read (plus [`END_SLACK_MS`]); among those, pairs are made
/// closest first, by how far the entry's start and end lie from the request's.
pub fn assign(timings: &mut [ResponseTimings], entries: &[ResourceEntry], step_ms: f64) -> usize {
    let tol = step_ms.max(0.0) + SLACK_MS;
    let starts: Vec<f64> = entries.iter().map(|e| e.start_time).collect();
    let sorted: Vec<&ResourceEntry> = ascending(&starts)
        .into_iter()
        .map(|j| &entries[j])
        .collect();
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, t) in timings.iter().enumerate() {
        let (Some(start), Some(end)) = (t.start_ms, t.end_ms) else {
            continue;
        };
        let from = sorted.partition_point(|e| e.start_time < start - tol);
        for (j, e) in sorted.iter().enumerate().skip(from) {
            if e.start_time > end + tol {
                break;
            }
            if e.response_end <= end + tol + END_SLACK_MS {
                let cost = (e.start_time - start).abs() + (end - e.response_end).abs();
                pairs.push((cost, i, j));
            }
        }
    }
    // Closest pairs first; then, for a request left without an entry because a neighbour took
    // the one it could have had, move that neighbour to another entry it can have (an
    // augmenting path, as in Kuhn's matching), so every request with a possible entry gets one.
    let costs: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let mut options: Vec<Vec<usize>> = vec![Vec::new(); timings.len()];
    let mut entry_of: Vec<Option<usize>> = vec![None; timings.len()];
    let mut request_of: Vec<Option<usize>> = vec![None; sorted.len()];
    for (_, i, j) in ascending(&costs).into_iter().map(|k| pairs[k]) {
        options[i].push(j);
        if entry_of[i].is_none() && request_of[j].is_none() {
            entry_of[i] = Some(j);
            request_of[j] = Some(i);
        }
    }
    for i in 0..timings.len() {
        if entry_of[i].is_none() && !options[i].is_empty() {
            let mut seen = vec![false; sorted.len()];
            augment(i, &options, &mut entry_of, &mut request_of, &mut seen, 0);
        }
    }
    let mut paired = 0;
    for (i, j) in entry_of.iter().enumerate() {
        if let Some(j) = *j {
            let start = timings[i].start_ms.unwrap_or(sorted[j].start_time);
            timings[i].network = Some(phases(sorted[j], start));
            paired += 1;
        }
    }
    paired
}

/// Gives request `i` an entry, moving the requests along the way to their other options;
/// bounded depth (paths are short: only requests that overlapped in time compete).
fn augment(
    i: usize,
    options: &[Vec<usize>],
    entry_of: &mut [Option<usize>],
    request_of: &mut [Option<usize>],
    seen: &mut [bool],
    depth: u32,
) -> bool {
    if depth > 32 {
        return false;
    }
    for &j in &options[i] {
        if seen[j] {
            continue;
        }
        seen[j] = true;
        let free = match request_of[j] {
            None => true,
            Some(other) => augment(other, options, entry_of, request_of, seen, depth + 1),
        };
        if free {
            entry_of[i] = Some(j);
            request_of[j] = Some(i);
            return true;
        }
    }
    false
}

/// Queueing longer than this (10 ms) counts a request as queued: far above the browsers' own
/// dispatch cost (well under a millisecond), far below a connection wait (a whole response).
pub const QUEUED_THRESHOLD_S: f64 = 0.010;

/// The run's view of the phases (`run_info.json`, `network_phases`): how many requests have
/// them and how many were hidden (no `Timing-Allow-Origin`), and the queueing inside the
/// browser (seconds), reported apart from the endpoint's latency. Computed from the timings,
/// after a run and when a run is loaded, so it is never read from a file (a derived
/// `Deserialize` would cost the wasm module kilobytes).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PhasesSummary {
    pub recorded: u32,
    pub hidden: u32,
    /// Requests that waited more than [`QUEUED_THRESHOLD_S`] before going out.
    pub queued: u32,
    pub queueing_p50: Option<f64>,
    pub queueing_p90: Option<f64>,
    pub queueing_max: Option<f64>,
}

pub fn summarize(timings: &[ResponseTimings]) -> Option<PhasesSummary> {
    let phases: Vec<&NetworkPhases> = timings.iter().filter_map(|t| t.network.as_ref()).collect();
    if phases.is_empty() {
        return None;
    }
    let q: Vec<f64> = phases.iter().filter_map(|p| p.queueing).collect();
    let q: Vec<f64> = ascending(&q.iter().map(|s| s * 1000.0).collect::<Vec<_>>())
        .into_iter()
        .map(|i| q[i])
        .collect();
    // Nearest rank, as the bench's percentiles.
    let pct = |p: f64| {
        (!q.is_empty())
            .then(|| q[((p / 100.0 * q.len() as f64).ceil() as usize).clamp(1, q.len()) - 1])
    };
    Some(PhasesSummary {
        recorded: phases.len() as u32,
        hidden: phases.iter().filter(|p| !p.visible).count() as u32,
        queued: q.iter().filter(|&&x| x > QUEUED_THRESHOLD_S).count() as u32,
        queueing_p50: pct(50.0),
        queueing_p90: pct(90.0),
        queueing_max: q.last().copied(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry as Chromium records a request on a reused HTTP/1.1 connection.
    fn reused(start: f64, request: f64, response: f64, end: f64) -> ResourceEntry {
        ResourceEntry {
            start_time: start,
            domain_lookup_start: start,
            domain_lookup_end: start,
            connect_start: start,
            connect_end: start,
            request_start: request,
            response_start: response,
            response_end: end,
            ..Default::default()
        }
    }

    fn timing(start: f64, end: f64) -> ResponseTimings {
        ResponseTimings {
            start_ms: Some(start),
            end_ms: Some(end),
            ..Default::default()
        }
    }

    #[test]
    fn phases_of_a_new_tls_connection_and_of_a_request_that_waited_for_one() {
        let fresh = ResourceEntry {
            start_time: 100.0,
            domain_lookup_start: 101.0,
            domain_lookup_end: 103.0,
            connect_start: 103.0,
            secure_connection_start: 104.0,
            connect_end: 110.0,
            request_start: 110.5,
            response_start: 161.0,
            response_end: 240.0,
        };
        let p = phases(&fresh, 100.0);
        let ms = |x: Option<f64>| (x.unwrap() * 1e6).round() / 1e3;
        assert!(p.visible);
        assert_eq!(ms(p.dns), 2.0);
        assert_eq!(ms(p.connect), 1.0);
        assert_eq!(ms(p.tls), 6.0);
        assert_eq!(ms(p.queueing), 1.5); // before DNS (1 ms) and before sending (0.5 ms)
        assert_eq!(ms(p.request_sent), 10.5);
        assert_eq!(ms(p.response_start), 61.0);
        // WebKit: the entry starts when the network process takes the request up, 40 ms after
        // the fetch call; that wait is queueing too.
        let late = phases(&reused(140.0, 140.5, 191.0, 270.0), 100.0);
        assert_eq!(ms(late.queueing), 40.5);
        // A 1 ms clock can put the send one step before the start stamp: read as 0.
        let coarse = phases(&reused(100.0, 99.0, 100.0, 160.0), 100.0);
        assert_eq!(
            (
                ms(coarse.request_sent),
                ms(coarse.queueing),
                ms(coarse.response_start)
            ),
            (0.0, 0.0, 0.0)
        );
        // The 7th request over HTTP/1.1 waits for one of the 6 connections, then reuses it.
        let waited = phases(&reused(100.0, 230.0, 281.0, 360.0), 100.0);
        assert_eq!(ms(waited.queueing), 130.0);
        assert_eq!(
            (ms(waited.dns), ms(waited.connect), ms(waited.tls)),
            (0.0, 0.0, 0.0)
        );
        assert_eq!(ms(waited.request_sent), 130.0);
    }

    #[test]
    fn without_timing_allow_origin_the_phases_are_hidden() {
        let hidden = ResourceEntry {
            start_time: 100.0,
            response_end: 240.0,
            ..Default::default()
        };
        assert_eq!(phases(&hidden, 100.0), NetworkPhases::default());
        assert!(!phases(&hidden, 100.0).visible);
    }

    #[test]
    fn entries_pair_with_their_requests_by_start_then_end() {
        // Three requests started in the same 1 ms step (a coarse clock), ending at different
        // times; a fourth much later; an entry of some other request in between.
        let mut t = vec![
            timing(10.0, 300.0),
            timing(10.0, 150.0),
            timing(10.0, 450.0),
            timing(500.0, 640.0),
        ];
        let entries = vec![
            reused(10.2, 10.4, 60.0, 150.3),
            reused(500.1, 500.3, 550.0, 640.2),
            reused(10.3, 150.6, 200.0, 300.4),
            reused(10.1, 300.6, 350.0, 450.2),
            reused(250.0, 250.1, 260.0, 270.0), // no request started then
        ];
        assert_eq!(assign(&mut t, &entries, 1.0), 4);
        let queued: Vec<f64> = t
            .iter()
            .map(|x| (x.network.unwrap().queueing.unwrap() * 1e4).round() / 10.0)
            .collect();
        assert_eq!(queued, vec![140.6, 0.4, 290.6, 0.3]);
        // No entry for a request (e.g. one that failed before any response): left without phases.
        let mut lone = vec![timing(10.0, 151.0), timing(900.0, 950.0)];
        assert_eq!(assign(&mut lone, &entries[..1], 1.0), 1);
        assert!(lone[1].network.is_none());
        // An entry may start late (WebKit) but never before the fetch call or after the last read.
        let mut late = vec![timing(100.0, 300.0)];
        assert_eq!(
            assign(&mut late, &[reused(140.0, 141.0, 190.0, 299.5)], 1.0),
            1
        );
        // A's closest entry is the only one B can have (A's own started before B's fetch): B
        // gets it, A its other.
        let mut ab = vec![timing(0.0, 200.0), timing(5.0, 160.0)];
        let only_for_b = reused(5.2, 5.3, 60.0, 199.0);
        let only_for_a = reused(0.3, 0.4, 50.0, 150.0);
        assert_eq!(assign(&mut ab, &[only_for_b, only_for_a], 0.1), 2);
        let q: Vec<f64> = ab
            .iter()
            .map(|x| (x.network.unwrap().queueing.unwrap() * 1e4).round() / 10.0)
            .collect();
        assert_eq!(q, vec![0.4, 0.3]);
        let mut early = vec![timing(100.0, 300.0)];
        let wrong = [
            reused(95.0, 96.0, 150.0, 299.5),
            reused(101.0, 102.0, 150.0, 360.0),
        ];
        assert_eq!(assign(&mut early, &wrong, 1.0), 0);
    }

    #[test]
    fn ascending_orders_by_key_then_index() {
        assert_eq!(ascending(&[3.0, 1.0, 2.0, 1.0]), vec![1, 3, 2, 0]);
        assert_eq!(ascending(&[]), Vec::<usize>::new());
        // Kept to 1 µs: 0.4 µs, NaN and negatives are 0, tied and so in index order.
        assert_eq!(
            ascending(&[0.0005, 0.0004, f64::NAN, -1.0]),
            vec![1, 2, 3, 0]
        );
        assert_eq!(ascending(&[5e20, 1.0]), vec![1, 0]);
    }

    #[test]
    fn phases_are_saved_in_chunk_timings_and_read_back() {
        let mut t = vec![timing(100.0, 240.0)];
        assign(&mut t, &[reused(100.0, 230.0, 281.0, 240.0)], 1.0);
        let line = serde_json::to_value(&t[0]).unwrap();
        assert_eq!(line["network"]["queueing"], serde_json::json!(0.13));
        assert!(
            line.get("start_ms").is_none(),
            "the pairing stamps are not saved"
        );
        let back = crate::result::timing_from_value(1, line).unwrap();
        assert_eq!(back.network, t[0].network);
        // Lines without phases (Node, older files) stay as they were.
        let plain = serde_json::to_value(ResponseTimings::default()).unwrap();
        assert!(plain.get("network").is_none());
        assert_eq!(
            crate::result::timing_from_value(1, plain).unwrap().network,
            None
        );
    }

    #[test]
    fn a_saved_run_loads_with_its_phases_and_their_summary() {
        use crate::result::RunResult;
        let mut timings = vec![timing(0.0, 130.0), timing(0.0, 260.0)];
        timings[0].id = "a".into();
        timings[1].id = "b".into();
        assign(
            &mut timings,
            &[
                reused(0.0, 0.2, 50.0, 130.0),
                reused(0.0, 130.1, 180.0, 260.0),
            ],
            0.1,
        );
        let responses = ["a", "b"]
            .map(|id| crate::response::InvocationResponse {
                id: Some(id.into()),
                ..Default::default()
            })
            .to_vec();
        let mut run = RunResult {
            responses,
            timings,
            ..Default::default()
        };
        run.info.network_phases = summarize(&run.timings);
        let files = run.to_files();
        let info = &files.iter().find(|(n, _)| n == "run_info.json").unwrap().1;
        assert!(info.contains("\"network_phases\""), "{info}");
        let back = RunResult::from_files(&files).unwrap();
        assert_eq!(
            back.timings.iter().map(|t| t.network).collect::<Vec<_>>(),
            run.timings.iter().map(|t| t.network).collect::<Vec<_>>()
        );
        assert_eq!(back.info.network_phases, run.info.network_phases);
    }

    #[test]
    fn the_summary_reports_queueing_separately() {
        let mut t = vec![timing(0.0, 130.0), timing(0.0, 260.0), timing(0.0, 131.0)];
        let entries = vec![
            reused(0.0, 0.2, 50.0, 130.0),
            reused(0.0, 130.1, 180.0, 260.0),
            reused(0.0, 0.3, 51.0, 131.0),
        ];
        assign(&mut t, &entries, 0.1);
        let s = summarize(&t).unwrap();
        assert_eq!((s.recorded, s.hidden, s.queued), (3, 0, 1));
        assert!((s.queueing_max.unwrap() - 0.1301).abs() < 1e-9);
        assert!((s.queueing_p50.unwrap() - 0.0003).abs() < 1e-9);
        assert!(summarize(&[timing(0.0, 1.0)]).is_none());
        // A hidden entry counts as recorded and hidden, with no queueing.
        let mut h = vec![timing(0.0, 130.0)];
        let hidden = ResourceEntry {
            start_time: 0.0,
            response_end: 130.0,
            ..Default::default()
        };
        assign(&mut h, &[hidden], 0.1);
        assert_eq!(
            serde_json::to_value(summarize(&h).unwrap()).unwrap(),
            serde_json::json!({"recorded": 1, "hidden": 1, "queued": 0, "queueing_p50": null, "queueing_p90": null, "queueing_max": null})
        );
    }
}
