//! `Clock` on the platform's monotonic and wall clocks; every sleep of a run shares one
//! `setTimeout` through a timer queue.

use super::fetch::with_platform;
use futures::future::LocalBoxFuture;
use llmeter_core::time::Clock;
use llmeter_core::timers::{Arm, TimerId, TimerQueue};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
}

// All of the run's sleeps on one platform timer (see `llmeter_core::timers`). The timer is
// the JS pump's (`armTimer`/`clearTimer` → `timerFired`), so JS owns its handle and can clear
// it if the engine crashes; no Rust closure is left behind for a timer to call.
thread_local! {
    static TIMERS: RefCell<TimerQueue> = const { RefCell::new(TimerQueue::new_const()) };
}

fn apply(arm: Arm) {
    match arm {
        Arm::Keep => {}
        Arm::Clear => with_platform(|p| p.clear_timer()),
        Arm::In(ms) => with_platform(|p| p.arm_timer(ms.ceil())),
    }
}

/// The platform timer fired.
#[wasm_bindgen(js_name = timerFired)]
pub fn timer_fired() {
    let (woken, arm) = TIMERS.with(|t| t.borrow_mut().fire(performance_now()));
    apply(arm);
    for w in woken {
        w.wake();
    }
}

struct Sleep(TimerId);

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let fired = TIMERS.with(|t| t.borrow_mut().poll(self.0, cx.waker()));
        if fired {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        let arm = TIMERS.with(|t| t.borrow_mut().remove(self.0));
        apply(arm);
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &js_sys::Function);
}

/// Microtasks the engine queued (`queueMicrotask`, one JS function made once) and how many have
/// run, with the futures waiting for theirs. Microtasks run in the order they were queued.
#[derive(Default)]
struct Microtasks {
    queued: u64,
    ran: u64,
    waiting: Vec<(u64, std::task::Waker)>,
    callback: Option<Closure<dyn FnMut()>>,
}

thread_local! {
    static MICROTASKS: RefCell<Microtasks> = RefCell::new(Microtasks::default());
}

/// Each microtask is one wait's (the `queued`-th): it wakes that one, if it is still waiting.
fn microtask_ran() {
    let woken = MICROTASKS.with(|m| {
        let mut m = m.borrow_mut();
        m.ran += 1;
        let ran = m.ran;
        let i = m.waiting.iter().position(|(turn, _)| *turn == ran)?;
        Some(m.waiting.swap_remove(i).1)
    });
    if let Some(w) = woken {
        w.wake();
    }
}

/// Resolves in a microtask queued when it is first polled: after the microtasks already queued
/// (the pump's `startQueued`, queued by this poll's sends). A waker woken while wasm-bindgen's
/// task queue runs could poll the engine again before those.
struct NextMicrotask(Option<u64>);

impl Future for NextMicrotask {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        MICROTASKS.with(|m| {
            let mut m = m.borrow_mut();
            let turn = match self.0 {
                Some(turn) if m.ran >= turn => return Poll::Ready(()),
                Some(turn) => turn,
                None => {
                    m.queued += 1;
                    let turn = m.queued;
                    let callback = m
                        .callback
                        .get_or_insert_with(|| Closure::new(microtask_ran));
                    queue_microtask(callback.as_ref().unchecked_ref());
                    self.0 = Some(turn);
                    turn
                }
            };
            match m.waiting.iter_mut().find(|(t, _)| *t == turn) {
                Some((_, w)) if w.will_wake(cx.waker()) => {}
                Some((_, w)) => w.clone_from(cx.waker()),
                None => m.waiting.push((turn, cx.waker().clone())),
            }
            Poll::Pending
        })
    }
}

/// Event-loop turns (macrotasks) until `performance.now()` reaches `deadline_ms`, without a
/// timer's millisecond granularity: the pump's `turnsUntil`, spun in JS (`setImmediate`, or one
/// reused `MessageChannel`; no wasm call per turn). `None` where there are no turns.
fn turns_until(deadline_ms: f64) -> Option<js_sys::Promise> {
    let mut turns = None;
    with_platform(|p| {
        turns = p
            .turns_until(deadline_ms)
            .dyn_into::<js_sys::Promise>()
            .ok()
    });
    turns
}

/// How early the platform timer is asked to fire before a precise deadline: `setTimeout`
/// counts whole milliseconds and usually fires up to a millisecond late.
const PRECISE_MARGIN_MS: f64 = 2.0;

#[derive(Debug, Clone, Copy, Default)]
pub struct WebClock;

impl Clock for WebClock {
    fn now_ms(&self) -> f64 {
        performance_now()
    }
    /// After this turn's `fetch` calls: a microtask queued behind the pump's `startQueued`
    /// (queued while this poll asked for the sends). In workerd, which sends a request only
    /// when the JS turn that started it ends, the pump's `laterTurn` (a later macrotask). The
    /// microtask is one `queueMicrotask` call with a function made once, not a JS promise: a
    /// promise awaited per response cost the page two new closures each time.
    fn next_turn(&self) -> LocalBoxFuture<'static, ()> {
        if !super::platform::sends_at_turn_end() {
            return Box::pin(NextMicrotask(None));
        }
        let mut turn = None;
        with_platform(|p| turn = Some(p.later_turn()));
        Box::pin(async move {
            if let Some(turn) = turn {
                let _ = wasm_bindgen_futures::JsFuture::from(turn).await;
            }
        })
    }
    fn unix_ms(&self) -> f64 {
        date_now()
    }
    /// The timer to about 2 ms before the deadline, then event-loop turns until it: a request
    /// due at t leaves within a turn (~0.05 ms in Node) of t instead of up to ~1.5 ms late.
    /// Where the clock does not move between turns (workerd between I/O), a plain timer.
    fn sleep_until(&self, deadline_ms: f64) -> LocalBoxFuture<'static, ()> {
        Box::pin(async move {
            let early = deadline_ms - performance_now() - PRECISE_MARGIN_MS;
            if early > 0.0 {
                WebClock.sleep(early).await;
            }
            if performance_now() >= deadline_ms {
                return;
            }
            let Some(turns) = turns_until(deadline_ms) else {
                return WebClock.sleep(deadline_ms - performance_now()).await;
            };
            // `false`: the clock stood still between turns (workerd between I/O).
            let reached = wasm_bindgen_futures::JsFuture::from(turns).await;
            if reached.ok().and_then(|v| v.as_bool()) != Some(true) {
                let left = deadline_ms - performance_now();
                if left > 0.0 {
                    WebClock.sleep(left).await;
                }
            }
        })
    }

    fn sleep(&self, ms: f64) -> LocalBoxFuture<'static, ()> {
        let now = performance_now();
        let (id, arm) = TIMERS.with(|t| t.borrow_mut().insert(now + ms.max(0.0), now));
        apply(arm);
        Box::pin(Sleep(id))
    }
}

/// Smallest non-zero step of `performance.now()` seen over a short busy loop: sub-µs in Node
/// and Deno, ~100 µs in browser pages, 1 ms in local workerd; `None` if it never advanced
/// (deployed Cloudflare Workers freeze time between I/O). Stops once a few steps are seen, so
/// it costs well under a millisecond where the clock moves, and a bounded ~50k reads where it
/// does not.
pub fn observe_timer_resolution_ms() -> Option<f64> {
    const MIN_READS: u32 = 2_000;
    const MAX_READS: u32 = 50_000;
    const STEPS_WANTED: u32 = 3;
    let mut smallest = f64::INFINITY;
    let mut steps = 0;
    let mut last = performance_now();
    for i in 0..MAX_READS {
        let now = performance_now();
        let step = now - last;
        if step > 0.0 {
            steps += 1;
            smallest = smallest.min(step);
        }
        last = now;
        if steps >= STEPS_WANTED && i >= MIN_READS {
            break;
        }
    }
    // Read as its nominal step: a difference of two readings carries floating-point error.
    smallest
        .is_finite()
        .then_some(llmeter_core::limits::nominal_step_ms(smallest))
}
