//! `Transport` over the global `fetch` with a streamed body.
//!
//! Every arrival is stamped with `performance.now()` inside the promise's own reaction, so the
//! stamp is taken before the Rust task is even polled — other clients' work queued in the same
//! microtask checkpoint cannot delay it. Dropping a request or its body aborts it.

use super::clock::performance_now;
use crate::core::runtime_facts::{is_opaque_network_failure, NETWORK_FAILURE_HINT};
use crate::core::transport::{
    BodyEvent, BodyStream, HttpRequest, ResponseHead, SendResult, Transport, TransportError,
};
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Poll, Waker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, ReadableStreamDefaultReader, ReadableStreamReadResult, RequestInit,
    Response,
};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &RequestInit) -> Promise;
    /// A promise seen through plain `then(onFulfilled, onRejected)` with untyped functions.
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_fns(
        this: &Thenable,
        on_fulfilled: &js_sys::Function,
        on_rejected: &js_sys::Function,
    ) -> JsValue;
}

/// Response headers the parsers and the result need; reading all headers costs per request.
const KEPT_HEADERS: [&str; 4] = [
    "content-type",
    "retry-after",
    "x-request-id",
    "x-sim-request-id",
];

#[derive(Debug, Default, Clone, Copy)]
pub struct FetchTransport;

/// Aborts the request when dropped before it finished (timeouts, cancellation).
struct AbortOnDrop {
    controller: Option<AbortController>,
}

impl AbortOnDrop {
    fn disarm(&mut self) {
        self.controller = None;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.controller.take() {
            c.abort();
        }
    }
}

/// Awaits `promise` and returns its value with the `performance.now()` of its settlement, taken
/// in a reaction registered before the awaiting future's own — so the stamp comes first, before
/// any Rust code runs for this or any other settled read.
async fn await_stamped(promise: Promise) -> Result<(JsValue, f64), JsValue> {
    let at = Rc::new(Cell::new(f64::NAN));
    let cell = at.clone();
    // Self-freeing after its one call; a settled promise (aborted requests reject) always calls
    // it, so nothing leaks, and a dropped request can never call a freed closure.
    let stamp = Closure::once_into_js(move |_: JsValue| cell.set(performance_now()));
    let stamp: &js_sys::Function = stamp.unchecked_ref();
    // Both arms stamp; handling the rejection here also keeps the derived promise from
    // becoming an unhandled rejection (fatal in Node).
    let _ = promise.unchecked_ref::<Thenable>().then_fns(stamp, stamp);
    let value = JsFuture::from(promise).await;
    let t = at.get();
    value.map(|v| (v, if t.is_nan() { performance_now() } else { t }))
}

fn js_error_text(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        let name = String::from(err.name());
        let msg = String::from(err.message());
        // Browsers hide a CORS rejection behind a bare TypeError: say what it usually means.
        if is_opaque_network_failure(&name, &msg) {
            let cause = Reflect::get(err, &"cause".into())
                .ok()
                .filter(|c| !c.is_undefined())
                .map(|c| js_error_text(&c));
            return match cause {
                Some(c) => format!("{name}: {msg} ({c})"),
                None => format!("{name}: {msg} ({NETWORK_FAILURE_HINT})"),
            };
        }
        return format!("{name}: {msg}");
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

impl Transport for FetchTransport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'static, SendResult> {
        async move {
            let controller =
                AbortController::new().map_err(|e| TransportError::Network(js_error_text(&e)))?;
            let mut guard = AbortOnDrop {
                controller: Some(controller.clone()),
            };
            let headers = Headers::new().map_err(|e| TransportError::Network(js_error_text(&e)))?;
            for (k, v) in &request.headers {
                headers.append(k, v).map_err(|e| {
                    TransportError::Network(format!("header {k}: {}", js_error_text(&e)))
                })?;
            }
            let init = RequestInit::new();
            init.set_method(&request.method);
            init.set_headers(&headers);
            if let Some(body) = &request.body {
                init.set_body(&JsValue::from_str(body));
            }
            init.set_signal(Some(&controller.signal()));
            let sent_ms = performance_now();
            let (value, head_ms) = await_stamped(global_fetch(&request.url, &init))
                .await
                .map_err(|e| TransportError::Network(js_error_text(&e)))?;
            let response: Response = value.unchecked_into();
            let mut kept = Vec::new();
            let resp_headers = response.headers();
            for name in KEPT_HEADERS {
                if let Ok(Some(v)) = resp_headers.get(name) {
                    kept.push((name.to_string(), v));
                }
            }
            let head = ResponseHead {
                status: response.status(),
                headers: kept,
                arrival_ms: head_ms,
                sent_ms: Some(sent_ms),
            };
            let pump = response.body().map(|stream| {
                Pump::start(
                    stream
                        .get_reader()
                        .unchecked_into::<ReadableStreamDefaultReader>(),
                )
            });
            guard.controller = Some(controller);
            let body: Box<dyn BodyStream> = Box::new(FetchBody { pump, guard });
            Ok((head, body))
        }
        .boxed_local()
    }
}

/// The body reader, pumped from JS: each `read()` settles into one of two callbacks created once
/// per request (not per chunk), which stamp the arrival, queue the bytes, re-arm the next read
/// and wake the runner. Per chunk this costs one `read()` promise and one wasm call — about
/// what a bare JavaScript read loop pays.
struct FetchBody {
    pump: Option<Rc<Pump>>,
    guard: AbortOnDrop,
}

#[derive(Default)]
struct Pump {
    queue: RefCell<VecDeque<Result<BodyEvent, TransportError>>>,
    waker: RefCell<Option<Waker>>,
    /// `read()` and the two callbacks, kept until the stream settles for good; cleared then,
    /// which breaks the callback → pump → callback cycle so the JS GC can free them.
    rearm: RefCell<Option<(ReadableStreamDefaultReader, Function, Function)>>,
}

impl Pump {
    fn start(reader: ReadableStreamDefaultReader) -> Rc<Pump> {
        let pump = Rc::new(Pump::default());
        let on_read = {
            let pump = pump.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |result: JsValue| {
                let t = performance_now();
                let result: ReadableStreamReadResult = result.unchecked_into();
                if result.get_done().unwrap_or(true) {
                    pump.settle(Ok(BodyEvent::End { arrival_ms: t }));
                    return;
                }
                let bytes = result
                    .get_value()
                    .dyn_into::<Uint8Array>()
                    .map(|a| a.to_vec())
                    .unwrap_or_default();
                pump.push(Ok(BodyEvent::Chunk {
                    bytes,
                    arrival_ms: t,
                }));
                pump.read_next();
            })
        };
        let on_error = {
            let pump = pump.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                pump.settle(Err(TransportError::Body(js_error_text(&e))))
            })
        };
        // Handed to the JS GC: a settled read may call them after the Rust side is gone.
        let on_read: Function = on_read.into_js_value().unchecked_into();
        let on_error: Function = on_error.into_js_value().unchecked_into();
        *pump.rearm.borrow_mut() = Some((reader, on_read, on_error));
        pump.read_next();
        pump
    }

    fn read_next(&self) {
        if let Some((reader, on_read, on_error)) = self.rearm.borrow().as_ref() {
            let _ = reader
                .read()
                .unchecked_ref::<Thenable>()
                .then_fns(on_read, on_error);
        }
    }

    fn push(&self, event: Result<BodyEvent, TransportError>) {
        self.queue.borrow_mut().push_back(event);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    fn settle(&self, event: Result<BodyEvent, TransportError>) {
        self.rearm.borrow_mut().take();
        self.push(event);
    }
}

impl BodyStream for FetchBody {
    fn next(&mut self) -> LocalBoxFuture<'_, Result<BodyEvent, TransportError>> {
        let Some(pump) = self.pump.clone() else {
            self.guard.disarm();
            return futures::future::ready(Ok(BodyEvent::End {
                arrival_ms: performance_now(),
            }))
            .boxed_local();
        };
        let guard = &mut self.guard;
        std::future::poll_fn(move |cx| {
            let next = pump.queue.borrow_mut().pop_front();
            match next {
                Some(event) => {
                    if matches!(event, Ok(BodyEvent::End { .. }) | Err(_)) {
                        guard.disarm();
                    }
                    Poll::Ready(event)
                }
                None if pump.rearm.borrow().is_none() => Poll::Ready(Ok(BodyEvent::End {
                    arrival_ms: performance_now(),
                })),
                None => {
                    *pump.waker.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .boxed_local()
    }
}
