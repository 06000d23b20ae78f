//! `Clock` on the platform's monotonic and wall clocks; every sleep of a run shares one
//! `setTimeout` through a timer queue.

use futures::future::LocalBoxFuture;
use js_sys::Function;
use llmeter_core::time::Clock;
use llmeter_core::timers::{Arm, TimerId, TimerQueue};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// All of the run's sleeps on one platform timer (see `llmeter_core::timers`).
struct Timers {
    queue: TimerQueue,
    handle: Option<JsValue>,
    callback: Option<Function>,
}

thread_local! {
    static TIMERS: RefCell<Timers> = const {
        RefCell::new(Timers { queue: TimerQueue::new_const(), handle: None, callback: None })
    };
}

fn apply(t: &mut Timers, arm: Arm) {
    match arm {
        Arm::Keep => {}
        Arm::Clear => {
            if let Some(h) = t.handle.take() {
                clear_timeout(&h);
            }
        }
        Arm::In(ms) => {
            if let Some(h) = t.handle.take() {
                clear_timeout(&h);
            }
            let callback = t.callback.get_or_insert_with(|| {
                Closure::<dyn FnMut()>::new(on_timer)
                    .into_js_value()
                    .unchecked_into()
            });
            t.handle = Some(set_timeout(callback, ms.ceil()));
        }
    }
}

fn on_timer() {
    let woken = TIMERS.with(|t| {
        let mut t = t.borrow_mut();
        t.handle = None;
        let (woken, arm) = t.queue.fire(performance_now());
        apply(&mut t, arm);
        woken
    });
    for w in woken {
        w.wake();
    }
}

struct Sleep(TimerId);

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let fired = TIMERS.with(|t| t.borrow_mut().queue.poll(self.0, cx.waker()));
        if fired {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        TIMERS.with(|t| {
            let mut t = t.borrow_mut();
            let arm = t.queue.remove(self.0);
            apply(&mut t, arm);
        });
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct WebClock;

impl Clock for WebClock {
    fn now_ms(&self) -> f64 {
        performance_now()
    }
    fn unix_ms(&self) -> f64 {
        date_now()
    }
    fn sleep(&self, ms: f64) -> LocalBoxFuture<'static, ()> {
        let now = performance_now();
        let id = TIMERS.with(|t| {
            let mut t = t.borrow_mut();
            let (id, arm) = t.queue.insert(now + ms.max(0.0), now);
            apply(&mut t, arm);
            id
        });
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
    smallest.is_finite().then_some(smallest)
}
