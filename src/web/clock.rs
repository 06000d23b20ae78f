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

#[wasm_bindgen]
extern "C" {
    type MessageChannel;
    #[wasm_bindgen(constructor, catch)]
    fn new() -> Result<MessageChannel, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn port1(this: &MessageChannel) -> MessagePort;
    #[wasm_bindgen(method, getter)]
    fn port2(this: &MessageChannel) -> MessagePort;
    type MessagePort;
    #[wasm_bindgen(method, setter)]
    fn set_onmessage(this: &MessagePort, handler: &Function);
    #[wasm_bindgen(method, js_name = postMessage)]
    fn post_message(this: &MessagePort, message: &JsValue);
    #[wasm_bindgen(method)]
    fn close(this: &MessagePort);
}

/// One turn of the event loop (a macrotask: I/O and other tasks run before it resolves),
/// without a timer's millisecond granularity. `None` where there is no `MessageChannel`.
fn next_turn() -> Option<js_sys::Promise> {
    let channel = MessageChannel::new().ok()?;
    let (port1, port2) = (channel.port1(), channel.port2());
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let close1 = port1.unchecked_ref::<JsValue>().clone();
        let close2 = port2.unchecked_ref::<JsValue>().clone();
        let handler = Closure::once_into_js(move || {
            // Closed ports keep no event loop alive.
            close1.unchecked_into::<MessagePort>().close();
            close2.unchecked_into::<MessagePort>().close();
            let _ = resolve.call0(&JsValue::NULL);
        });
        port1.set_onmessage(handler.unchecked_ref());
    });
    port2.post_message(&JsValue::UNDEFINED);
    Some(promise)
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
            let mut frozen_turns = 0;
            loop {
                let now = performance_now();
                if now >= deadline_ms {
                    return;
                }
                let Some(turn) = next_turn() else {
                    return WebClock.sleep(deadline_ms - now).await;
                };
                let _ = wasm_bindgen_futures::JsFuture::from(turn).await;
                if performance_now() == now {
                    frozen_turns += 1;
                    if frozen_turns > 8 {
                        return WebClock.sleep(deadline_ms - now).await;
                    }
                }
            }
        })
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
