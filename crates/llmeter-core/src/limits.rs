//! What the runtime does to a run, decided before and after it: which kind of clock it has
//! (and so how fine TTFT can be), and its limits on connections and subrequests — checked here
//! so that a run the platform would cut short fails early with a `RangeError`, and a run the
//! platform would silently queue carries a warning in its result.
//!
//! Platform-free: the web layer observes the facts (runtime, timer steps, protocol) and hands
//! them in; everything decided from them lives here and is tested natively.

use crate::runner::{OptionError, RunOptions};
use serde::{Deserialize, Serialize};

/// Where the engine runs. Detected by the web layer from the globals each runtime defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// A page with a `document` (browsers).
    BrowserPage,
    /// A dedicated or shared Web Worker (browsers).
    BrowserWorker,
    Node,
    Deno,
    /// Cloudflare's workerd (Workers, `wrangler dev`, miniflare).
    Workerd,
    Unknown,
}

impl RuntimeKind {
    /// Whether a `fetch` leaves only once the JavaScript turn that called it has ended. workerd
    /// runs its I/O when the isolate yields: a request stamped at its `fetch` call waits for the
    /// rest of that turn (measured at 64 clients: 50 µs of work after each send in a burst
    /// added 2.5 ms to the TTFT error). There the pump stamps a turn's sends after the last one.
    pub fn sends_at_turn_end(self) -> bool {
        self == RuntimeKind::Workerd
    }
}

/// Browsers open at most this many HTTP/1.1 connections per host (pages and workers share
/// them); more requests queue inside the browser and their TTFT includes that wait.
pub const BROWSER_H1_CONNECTIONS_PER_HOST: u32 = 6;

/// Cloudflare Workers: at most this many outgoing connections per invocation may wait for
/// response headers at once; a seventh waits until one of them gets its headers. Local
/// workerd does not enforce it, so a run that is fine locally would queue when deployed.
pub const WORKERD_SIMULTANEOUS_CONNECTIONS: u32 = 6;

/// Cloudflare Workers' subrequest budget per invocation on the Free plan (Paid: 10,000). Used
/// in workerd when `subrequestLimit` is not given: the lowest plan's limit errs on the side of
/// failing before the run rather than on the 51st request.
pub const WORKERD_DEFAULT_SUBREQUEST_LIMIT: u32 = 50;

/// How the runtime's monotonic clock behaves, which bounds how fine any timing can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockKind {
    /// Advances in steps of at most [`FINE_CLOCK_MAX_STEP_MS`] (Node, Deno): the clock adds
    /// nothing measurable to a timing.
    Fine,
    /// Advances, but in coarse steps (browsers: 100 µs, 5 µs when cross-origin isolated;
    /// local workerd: whole milliseconds): each timestamp is off by up to one step.
    Coarsened,
    /// Did not advance at all during a busy loop: time moves only when I/O completes
    /// (deployed Cloudflare Workers, as a Spectre mitigation; local workerd's clock does move). Chunk arrivals are I/O, so their stamps are right;
    /// a request's start stamp is the time of the last I/O before it, so CPU work between
    /// that I/O and the send is counted into TTFT.
    FrozenBetweenIo,
}

/// Largest step of a clock still called fine: 1 µs, far below any network timing.
pub const FINE_CLOCK_MAX_STEP_MS: f64 = 0.001;

/// A measured clock step as the step it is: the difference of two `performance.now()` readings
/// carries floating-point error (WebKit workers measure their 1 ms step as
/// 0.9999999999998863), so steps are read to the nearest nanosecond — finer than any runtime's
/// clock — before they are compared with a threshold.
pub fn nominal_step_ms(measured_ms: f64) -> f64 {
    (measured_ms * 1e6).round() / 1e6
}

/// Classifies a clock from the smallest non-zero step seen in a busy loop (`None`: it never
/// advanced).
pub fn classify_clock(smallest_step_ms: Option<f64>) -> ClockKind {
    match smallest_step_ms.map(nominal_step_ms) {
        None => ClockKind::FrozenBetweenIo,
        Some(s) if s.is_finite() && s <= FINE_CLOCK_MAX_STEP_MS => ClockKind::Fine,
        Some(_) => ClockKind::Coarsened,
    }
}

/// A warning for clocks that limit accuracy beyond what is negligible (steps of 1 ms or more,
/// as local workerd's, or frozen between I/O, as deployed Workers'); `None` for fine clocks and
/// the browsers' sub-millisecond coarsening.
pub fn clock_warning(kind: ClockKind, smallest_step_ms: Option<f64>) -> Option<String> {
    match (kind, smallest_step_ms.map(nominal_step_ms)) {
        (ClockKind::FrozenBetweenIo, _) => Some(
            "Clock frozen between I/O (as in deployed Cloudflare Workers): performance.now() advances only when I/O completes. Chunk arrivals are I/O, so TTFT/TTLT stay accurate to the I/O event; CPU work between the last I/O and a request's send is counted into its TTFT."
                .into(),
        ),
        (ClockKind::Coarsened, Some(step)) if step >= 1.0 => Some(format!(
            "Coarse timer: performance.now() advances in steps of {} ms here, so every timing is off by up to that much.",
            crate::json::fixed(step, 3)
        )),
        _ => None,
    }
}

/// Limits given by the user for this run (JS option `subrequestLimit`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LimitOptions {
    /// Subrequests this invocation may make. Default: [`WORKERD_DEFAULT_SUBREQUEST_LIMIT`] in
    /// workerd, none elsewhere.
    pub subrequest_limit: Option<u32>,
}

/// What the pre-run check decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LimitPlan {
    /// Stop starting requests after this many (time-bound runs under a subrequest limit).
    pub max_requests: Option<u64>,
    /// Warnings to record in the result.
    pub warnings: Vec<String>,
    /// Period of the run's thread-lag watch ([`lag_watch_period_ms`]).
    pub lag_period_ms: f64,
}

/// Period of the thread-lag watch (`runner::lag`) in a runtime. In workerd a timer's wake-up
/// costs the isolate far more CPU than elsewhere: at 17 ms, about 0.2 of the 1.9 ms of workerd's
/// CPU per request at 64 clients (process CPU time, the bench's truth run), which delays the
/// arrivals the watch is there to check. Its clock steps in whole milliseconds anyway, and
/// deployed Workers freeze it between I/O, so a sparser watch loses little there.
pub fn lag_watch_period_ms(runtime: RuntimeKind) -> f64 {
    match runtime {
        RuntimeKind::Workerd => crate::runner::lag::SPARSE_PERIOD_MS,
        _ => crate::runner::lag::PERIOD_MS,
    }
}

/// The subrequest limit in force: the option, else the runtime's default.
pub fn effective_subrequest_limit(runtime: RuntimeKind, limits: &LimitOptions) -> Option<u32> {
    limits.subrequest_limit.or(match runtime {
        RuntimeKind::Workerd => Some(WORKERD_DEFAULT_SUBREQUEST_LIMIT),
        _ => None,
    })
}

/// Checks a run against the runtime's limits before any request is sent. `already_sent` counts
/// subrequests this invocation made before (e.g. earlier levels of a load test).
///
/// * A count-bound run that would exceed the subrequest limit is a `RangeError` naming
///   `subrequestLimit`: the platform would kill the request midway otherwise.
/// * A time-bound run under a subrequest limit stops starting requests at the limit, and says so.
/// * More clients than workerd's simultaneous connections: a warning, as they queue.
pub fn check_run(
    runtime: RuntimeKind,
    opts: &RunOptions,
    limits: &LimitOptions,
    already_sent: u64,
) -> Result<LimitPlan, OptionError> {
    if limits.subrequest_limit == Some(0) {
        return Err(OptionError {
            option: "subrequestLimit",
            message: "must be a positive integer".into(),
            is_range: true,
        });
    }
    let mut plan = LimitPlan {
        lag_period_ms: lag_watch_period_ms(runtime),
        ..LimitPlan::default()
    };
    if let Some(limit) = effective_subrequest_limit(runtime, limits) {
        let left = (limit as u64).saturating_sub(already_sent);
        let where_ = if runtime == RuntimeKind::Workerd {
            format!("workerd allows {limit} subrequests per invocation (Cloudflare Workers: 50 on the Free plan, 10,000 on Paid; set subrequestLimit to your plan's)")
        } else {
            format!("subrequestLimit is {limit}")
        };
        match opts.expected_requests() {
            Some(planned) => {
                if planned > left {
                    let shape = match opts.requests_per_client() {
                        Some(per_client) => format!(" ({} clients × {per_client})", opts.clients),
                        None => String::new(),
                    };
                    return Err(OptionError {
                        option: "subrequestLimit",
                        message: format!(
                            "this run would send {planned} requests{shape}{}, but {where_}. Send fewer requests, raise subrequestLimit, or split the run across invocations.",
                            if already_sent > 0 { format!(" after {already_sent} already sent") } else { String::new() },
                        ),
                        is_range: true,
                    });
                }
            }
            None => {
                if left == 0 {
                    return Err(OptionError {
                        option: "subrequestLimit",
                        message: format!(
                            "no subrequests left ({already_sent} already sent): {where_}."
                        ),
                        is_range: true,
                    });
                }
                plan.max_requests = Some(left);
            }
        }
    }
    if runtime == RuntimeKind::Workerd && opts.clients > WORKERD_SIMULTANEOUS_CONNECTIONS {
        plan.warnings.push(format!(
            "{} clients in workerd: Cloudflare Workers let at most {} outgoing requests per invocation wait for response headers at once, so requests beyond that queue and their TTFT includes the wait (local workerd does not enforce this; deployed Workers do). Use at most {} clients per invocation and split higher concurrency across invocations.",
            opts.clients, WORKERD_SIMULTANEOUS_CONNECTIONS, WORKERD_SIMULTANEOUS_CONNECTIONS
        ));
    }
    Ok(plan)
}

/// Warning for a time-bound run that stopped at the subrequest budget.
pub fn budget_warning(sent: u64) -> String {
    format!("Stopped starting requests after {sent}: the subrequest limit of this invocation was reached before runDuration ended.")
}

/// Warnings decided after the run, once the protocol is known: browsers queue HTTP/1.1
/// requests beyond 6 per host.
pub fn connection_warnings(
    runtime: RuntimeKind,
    clients: u32,
    protocol: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    let in_browser = matches!(
        runtime,
        RuntimeKind::BrowserPage | RuntimeKind::BrowserWorker
    );
    if in_browser && clients > BROWSER_H1_CONNECTIONS_PER_HOST {
        let proto = protocol.unwrap_or_default();
        if !proto.starts_with("h2") && !proto.starts_with("h3") {
            out.push(format!(
                "{} clients over {}: browsers open at most {} connections per host on HTTP/1.1, so requests beyond that queued inside the browser and their TTFT includes the wait. Use an HTTP/2 endpoint (https) for more concurrency.",
                clients,
                if proto.is_empty() { "HTTP/1.1 (protocol not visible)" } else { proto },
                BROWSER_H1_CONNECTIONS_PER_HOST
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(clients: u32, n: Option<u32>, duration: Option<f64>) -> RunOptions {
        RunOptions {
            clients,
            n_requests: n,
            run_duration_s: duration,
            payloads: vec![json!({"messages": []})],
            ..Default::default()
        }
    }

    #[test]
    fn clocks_are_classified_by_their_smallest_step() {
        assert_eq!(classify_clock(Some(0.00008)), ClockKind::Fine);
        assert_eq!(classify_clock(Some(0.001)), ClockKind::Fine);
        assert_eq!(classify_clock(Some(0.005)), ClockKind::Coarsened);
        assert_eq!(classify_clock(Some(0.1)), ClockKind::Coarsened);
        assert_eq!(classify_clock(None), ClockKind::FrozenBetweenIo);
        assert_eq!(classify_clock(Some(f64::NAN)), ClockKind::Coarsened);
        assert_eq!(
            serde_json::to_value(ClockKind::FrozenBetweenIo).unwrap(),
            json!("frozen-between-io")
        );
        assert!(clock_warning(ClockKind::Coarsened, Some(0.1)).is_none());
        assert!(clock_warning(ClockKind::Coarsened, Some(16.7))
            .unwrap()
            .contains("16.700 ms"));
        assert!(clock_warning(ClockKind::Coarsened, Some(1.0))
            .unwrap()
            .contains("1.000 ms"));
        assert!(clock_warning(ClockKind::FrozenBetweenIo, None)
            .unwrap()
            .contains("frozen between I/O"));
        assert!(clock_warning(ClockKind::Fine, Some(0.0001)).is_none());
    }

    #[test]
    fn measured_steps_with_floating_point_error_are_their_nominal_step() {
        // WebKit workers: the 1 ms step measured as the difference of two readings.
        let webkit = 0.9999999999998863;
        assert_eq!(nominal_step_ms(webkit), 1.0);
        assert_eq!(classify_clock(Some(webkit)), ClockKind::Coarsened);
        let w = clock_warning(ClockKind::Coarsened, Some(webkit)).expect("1 ms step warns");
        assert!(w.contains("steps of 1.000 ms"), "{w}");
        // A 1 µs step read a hair above is still fine; Node's 80 ns steps are kept.
        assert_eq!(classify_clock(Some(0.0010000000000331966)), ClockKind::Fine);
        assert_eq!(nominal_step_ms(0.00008), 0.00008);
        assert_eq!(nominal_step_ms(0.1000000000003638), 0.1);
        assert!(clock_warning(ClockKind::Coarsened, Some(0.1000000000003638)).is_none());
    }

    #[test]
    fn count_bound_runs_over_the_subrequest_limit_are_range_errors() {
        let none = LimitOptions::default();
        // workerd defaults to the Free plan's 50.
        assert!(check_run(RuntimeKind::Workerd, &opts(5, Some(10), None), &none, 0).is_ok());
        let e = check_run(RuntimeKind::Workerd, &opts(5, Some(11), None), &none, 0).unwrap_err();
        assert_eq!(e.option, "subrequestLimit");
        assert!(e.is_range);
        assert!(
            e.message.contains("55 requests (5 clients × 11)"),
            "{}",
            e.message
        );
        // Earlier subrequests of the same invocation count.
        let e = check_run(RuntimeKind::Workerd, &opts(5, Some(10), None), &none, 1).unwrap_err();
        assert!(e.message.contains("after 1 already sent"), "{}", e.message);
        // The option raises it (Paid plan), and applies in any runtime.
        let paid = LimitOptions {
            subrequest_limit: Some(10_000),
        };
        assert!(check_run(RuntimeKind::Workerd, &opts(5, Some(11), None), &paid, 0).is_ok());
        let tight = LimitOptions {
            subrequest_limit: Some(3),
        };
        assert!(check_run(RuntimeKind::Node, &opts(2, Some(2), None), &tight, 0).is_err());
        // No limit outside workerd unless given.
        assert!(check_run(RuntimeKind::Node, &opts(64, Some(1000), None), &none, 0).is_ok());
        let zero = LimitOptions {
            subrequest_limit: Some(0),
        };
        assert_eq!(
            check_run(RuntimeKind::Node, &opts(1, Some(1), None), &zero, 0)
                .unwrap_err()
                .option,
            "subrequestLimit"
        );
    }

    #[test]
    fn each_once_runs_count_their_payloads() {
        use crate::runner::PayloadAssignment;
        let o = RunOptions {
            clients: 3,
            payloads: vec![json!({}); 51],
            payload_assignment: PayloadAssignment::EachOnce,
            ..Default::default()
        };
        let e = check_run(RuntimeKind::Workerd, &o, &LimitOptions::default(), 0).unwrap_err();
        assert!(
            e.message
                .starts_with("this run would send 51 requests, but"),
            "{}",
            e.message
        );
        let o = RunOptions {
            payloads: vec![json!({}); 50],
            ..o
        };
        let plan = check_run(RuntimeKind::Workerd, &o, &LimitOptions::default(), 0).unwrap();
        assert_eq!(plan.max_requests, None);
    }

    #[test]
    fn time_bound_runs_get_a_request_budget() {
        let none = LimitOptions::default();
        let plan = check_run(RuntimeKind::Workerd, &opts(2, None, Some(5.0)), &none, 8).unwrap();
        assert_eq!(plan.max_requests, Some(42));
        let plan = check_run(RuntimeKind::Deno, &opts(2, None, Some(5.0)), &none, 0).unwrap();
        assert_eq!(plan.max_requests, None);
        assert!(check_run(RuntimeKind::Workerd, &opts(2, None, Some(5.0)), &none, 50).is_err());
    }

    #[test]
    fn more_than_six_clients_in_workerd_warn() {
        let none = LimitOptions::default();
        let plan = check_run(RuntimeKind::Workerd, &opts(6, Some(1), None), &none, 0).unwrap();
        assert!(plan.warnings.is_empty());
        let plan = check_run(RuntimeKind::Workerd, &opts(7, Some(1), None), &none, 0).unwrap();
        assert_eq!(plan.warnings.len(), 1);
        assert!(
            plan.warnings[0].starts_with("7 clients in workerd"),
            "{}",
            plan.warnings[0]
        );
        let plan = check_run(RuntimeKind::Node, &opts(64, Some(1), None), &none, 0).unwrap();
        assert!(plan.warnings.is_empty());
    }

    #[test]
    fn workerd_watches_its_thread_less_often() {
        let none = LimitOptions::default();
        let plan = |rt| check_run(rt, &opts(2, Some(1), None), &none, 0).unwrap();
        assert_eq!(plan(RuntimeKind::Workerd).lag_period_ms, 97.0);
        for rt in [
            RuntimeKind::Node,
            RuntimeKind::Deno,
            RuntimeKind::BrowserPage,
            RuntimeKind::BrowserWorker,
            RuntimeKind::Unknown,
        ] {
            assert_eq!(plan(rt).lag_period_ms, 17.0, "{rt:?}");
        }
    }

    #[test]
    fn browsers_warn_over_six_http1_clients_only() {
        assert!(connection_warnings(RuntimeKind::BrowserPage, 6, Some("http/1.1")).is_empty());
        let w = connection_warnings(RuntimeKind::BrowserWorker, 10, Some("http/1.1"));
        assert!(w[0].starts_with("10 clients over http/1.1"), "{w:?}");
        assert!(connection_warnings(RuntimeKind::BrowserPage, 32, Some("h2")).is_empty());
        assert!(connection_warnings(RuntimeKind::BrowserPage, 8, None)[0]
            .contains("protocol not visible"));
        assert!(connection_warnings(RuntimeKind::Node, 64, None).is_empty());
    }
}
