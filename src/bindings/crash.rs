//! When the engine itself fails. A Rust panic (a bug: external data is handled without
//! panicking) aborts the wasm instance; the hook first hands its message to JS, which rejects
//! the pending runs with it and re-creates the instance (`js/crash.js`). Traps that are not
//! panics (out of memory, stack overflow) are caught where JS calls in, with the same outcome.

use js_sys::Function;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    static REPORTER: RefCell<Option<Function>> = const { RefCell::new(None) };
}

#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = format!("llmeter-wasm engine panicked: {info}");
        // `try_with`/`try_borrow`: the hook must not panic itself.
        let reporter = REPORTER
            .try_with(|r| r.try_borrow().ok().and_then(|f| f.clone()))
            .ok()
            .flatten();
        if let Some(f) = reporter {
            let _ = f.call1(&JsValue::NULL, &JsValue::from_str(&message));
        }
    }));
}

/// Registers the function told about a panic (its message), before the instance aborts.
#[wasm_bindgen(js_name = setCrashReporter)]
pub fn set_crash_reporter(reporter: Function) {
    REPORTER.with(|r| *r.borrow_mut() = Some(reporter));
}

/// A deliberate panic, for the tests of crash recovery: in the engine's task queue, where a
/// run's work happens — at once (`"now"`), or after one more turn (`"later"`).
#[wasm_bindgen(js_name = __crashForTests)]
pub async fn crash_for_tests(when: String) {
    if when == "later" {
        let _ =
            wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL)).await;
    }
    panic!("deliberate panic for a crash-recovery test ({when})");
}
