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

/// Smallest non-zero step of `performance.now()` seen over a short busy loop (coarsened to
/// 100 µs in non-isolated browser pages; frozen between I/O in workerd, where it reports 0).
pub fn observe_timer_resolution_ms() -> Option<f64> {
    let mut smallest = f64::INFINITY;
    let mut last = performance_now();
    for _ in 0..20_000 {
        let now = performance_now();
        let step = now - last;
        if step > 0.0 && step < smallest {
            smallest = step;
        }
        last = now;
    }
    smallest.is_finite().then_some(smallest)
}
