//! How late the client's own thread ran while requests were in flight. Every arrival is stamped
//! by a task on the run's thread, so when that thread is busy (many clients on one page, other
//! work on it, a slow machine) a chunk waits in the task queue before its stamp, and TTFT and
//! TTLT read high. The watch sleeps a fixed period again and again and records how late each
//! wake-up came: a timer waits in the same queue, so its lateness is the wait an arrival saw.

use crate::time::Clock;
use std::cell::RefCell;

/// Period of the watch's timer: 50-odd wake-ups a second cost nothing measurable, and a run of
/// a second has enough samples for a p99. Prime, so that it does not lock onto a disturbance
/// with a round period (an app's 50 ms interval) and see only its busy or only its free phases.
pub const PERIOD_MS: f64 = 17.0;

/// Period where each wake-up is costly (workerd: see `limits::lag_watch_period_ms`); prime too.
pub const SPARSE_PERIOD_MS: f64 = 97.0;

/// Most wake-ups kept (1 MiB, 37 minutes of them): a longer run keeps its latest ones.
pub const MAX_SAMPLES: usize = 1 << 17;

/// Records, into `lags` (ms), how late each of its wake-ups, `period_ms` apart, came (the
/// latest [`MAX_SAMPLES`]).
/// Wake-ups are due on a fixed grid from its start (not a period after the last one, which
/// would lock onto whatever made that one late); the ones a late wake-up passed are skipped.
/// Never ends: the run drops it when its workers are done.
pub async fn watch(clock: &dyn Clock, lags: &RefCell<Vec<f64>>, period_ms: f64) {
    let mut due = clock.now_ms() + period_ms;
    let mut seen = 0usize;
    loop {
        // At least a millisecond: a sleep rounded to nothing could come back at once, forever.
        clock.sleep((due - clock.now_ms()).max(1.0)).await;
        let now = clock.now_ms();
        // A clock that stands still between I/O (deployed Workers) reads early: no lag seen.
        let late = if now > due { now - due } else { 0.0 };
        let mut kept = lags.borrow_mut();
        if kept.len() < MAX_SAMPLES {
            kept.push(late);
        } else {
            kept[seen % MAX_SAMPLES] = late;
        }
        seen += 1;
        while due <= now {
            due += period_ms;
        }
    }
}

/// The warning for a run whose thread was late by more than `threshold_s` at p99, more than
/// once: its timings may include that wait. None for a page hidden during the run (`hidden`,
/// when the platform knows): browsers throttle background tabs' timers, which makes the watch
/// late whatever the thread does, and that run has its own warning.
pub fn warning(
    lags_ms: &[f64],
    period_ms: f64,
    threshold_s: f64,
    hidden: Option<bool>,
) -> Option<String> {
    if lags_ms.is_empty() || hidden == Some(true) {
        return None;
    }
    // Lags are never negative, and such floats order as their bits: the module's one sort (of
    // `u64`s, see `stats`) serves.
    let mut sorted: Vec<u64> = lags_ms.iter().map(|x| x.to_bits()).collect();
    sorted.sort_unstable();
    // Nearest rank: a lateness that was seen, never one extrapolated past the largest.
    let n = sorted.len();
    let rank = |p: f64| f64::from_bits(sorted[((p * n as f64).ceil() as usize).clamp(1, n) - 1]);
    let p99 = rank(0.99);
    // One late wake-up is a single stall (a collection, say), not a busy thread: in a run short
    // enough that p99 is the largest, it alone would set the warning off.
    let threshold_ms = threshold_s * 1000.0;
    if p99 <= threshold_ms || n < 2 || f64::from_bits(sorted[n - 2]) <= threshold_ms {
        return None;
    }
    let ms = |v: f64| crate::json::fixed(v, 1);
    Some(format!(
        "The client's thread was busy while requests were in flight: a {} ms timer ran late by {} ms at p50, {} ms at p99 and {} ms at most (warning above {} ms at p99). Chunks wait in that queue before their stamp, so TTFT and TTLT may read up to that much high: use fewer clients per thread (in browsers, `workers: N`).",
        ms(period_ms),
        ms(rank(0.5)),
        ms(p99),
        ms(rank(1.0)),
        ms(threshold_ms)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_on_time_gets_no_warning() {
        let lags = vec![0.3; 200];
        assert_eq!(warning(&lags, PERIOD_MS, 0.01, None), None);
        assert_eq!(warning(&[], PERIOD_MS, 0.01, None), None);
    }

    #[test]
    fn a_late_thread_is_named_with_its_figures() {
        let mut lags = vec![1.0; 180];
        lags.extend([40.0; 19]);
        lags.push(87.5);
        let w = warning(&lags, PERIOD_MS, 0.01, Some(false)).unwrap();
        let figures = "a 17.0 ms timer ran late by 1.0 ms at p50, 40.0 ms at p99 and 87.5 ms at most (warning above 10.0 ms at p99)";
        assert!(w.contains(figures), "{w}");
        assert_eq!(warning(&lags, PERIOD_MS, 0.01, None), Some(w));
        assert_eq!(warning(&lags, PERIOD_MS, 0.05, None), None);
        // A hidden page's timers are throttled: its lateness says nothing of the thread.
        assert_eq!(warning(&lags, PERIOD_MS, 0.01, Some(true)), None);
        // Nearest rank: p99 of four samples is the largest, not beyond it.
        let short = warning(&[0.0, 1.0, 30.0, 20.0], PERIOD_MS, 0.01, None).unwrap();
        assert!(
            short.contains("30.0 ms at p99 and 30.0 ms at most"),
            "{short}"
        );
        // A single stall is not a busy thread.
        assert_eq!(warning(&[0.0, 1.0, 30.0, 2.0], PERIOD_MS, 0.01, None), None);
        // The timer named is the watch's own period.
        let sparse = warning(&lags, SPARSE_PERIOD_MS, 0.01, None).unwrap();
        assert!(
            sparse.contains("a 97.0 ms timer ran late by 1.0 ms"),
            "{sparse}"
        );
    }
}
