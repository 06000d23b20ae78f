//! `Clock` on the platform's monotonic and wall clocks, with `setTimeout` sleeps.

use crate::core::time::Clock;
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
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
        let ms = ms.clamp(0.0, u32::MAX as f64).ceil() as u32;
        gloo_timers::future::TimeoutFuture::new(ms).boxed_local()
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
        .then_some(crate::core::limits::nominal_step_ms(smallest))
}
