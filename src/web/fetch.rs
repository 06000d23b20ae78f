//! `Transport` over the platform's `fetch`, driven by the JavaScript pump (`js/pump.js`).
//!
//! The pump stamps every arrival with `performance.now()` before anything else runs for it,
//! copies the bytes into a scratch buffer in wasm memory and calls [`exchange_chunk`] — one
//! wasm call per chunk, which feeds the engine's parser right there. In browsers it stamps each
//! arrival and hands the chunks over in batches instead ([`exchange_chunks`]), from a task posted
//! after the network's, each chunk with its own stamp. The runner's future for an exchange wakes
//! once, at the end. Dropping that future aborts the fetch.

use futures::future::LocalBoxFuture;
use js_sys::{Array, Uint8Array};
use llmeter_core::transport::{
    describe_network_error, HttpRequest, ResponseHead, ResponseSink, Transport, TransportError,
};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// The platform side of the engine (`js/pump.js`): fetch exchanges and the one timer,
    /// registered once per instance by `setPlatform`.
    pub type JsPump;
    #[wasm_bindgen(method, js_name = armTimer)]
    pub fn arm_timer(this: &JsPump, ms: f64);
    #[wasm_bindgen(method, js_name = clearTimer)]
    pub fn clear_timer(this: &JsPump);
    /// A promise resolved by event-loop turns once `performance.now()` reaches the deadline
    /// (`true`), or where the clock stands still between turns (`false`); `undefined` where
    /// there are no turns to wait on.
    #[wasm_bindgen(method, js_name = turnsUntil)]
    pub fn turns_until(this: &JsPump, deadline_ms: f64) -> JsValue;
    /// A promise resolved in a later macrotask: where sends leave only when the turn ends
    /// (workerd), after this turn's requests have gone out (see `Clock::next_turn`).
    #[wasm_bindgen(method, js_name = laterTurn)]
    pub fn later_turn(this: &JsPump) -> js_sys::Promise;
    #[wasm_bindgen(method)]
    fn send(
        this: &JsPump,
        id: u32,
        url: &JsValue,
        method: &str,
        headers: &JsValue,
        body: &JsValue,
        wanted: &JsValue,
        via_fetch: bool,
    );
    #[wasm_bindgen(method)]
    fn abort(this: &JsPump, id: u32);
}

struct Slot {
    generation: u32,
    sink: Option<Rc<dyn ResponseSink>>,
    /// The response headers asked for, in the order the pump reports their values.
    wanted: Rc<[String]>,
    done: bool,
    waker: Option<Waker>,
}

/// Exchanges in flight, by slot index; an id packs index and generation so a late callback for
/// an aborted exchange never reaches a newer one in the same slot.
#[derive(Default)]
struct Registry {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

const INDEX_BITS: u32 = 20;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;

thread_local! {
    static PLATFORM: RefCell<Option<JsPump>> = const { RefCell::new(None) };
    static REGISTRY: RefCell<Registry> = RefCell::new(Registry::default());
    /// Where the pump copies each chunk (grown, never shrunk).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// A batch's arrivals, `[id, len, arrival_ms]` per chunk, their bytes back to back in
    /// `SCRATCH` (grown, never shrunk).
    static ARRIVALS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl Registry {
    fn insert(&mut self, sink: Rc<dyn ResponseSink>, wanted: Rc<[String]>) -> u32 {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    sink: None,
                    wanted: Rc::from([]),
                    done: false,
                    waker: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.generation = slot.generation.wrapping_add(1) & (u32::MAX >> INDEX_BITS);
        slot.sink = Some(sink);
        slot.wanted = wanted;
        slot.done = false;
        slot.waker = None;
        (slot.generation << INDEX_BITS) | index
    }

    fn get(&mut self, id: u32) -> Option<&mut Slot> {
        let slot = self.slots.get_mut((id & INDEX_MASK) as usize)?;
        (slot.sink.is_some() && slot.generation == id >> INDEX_BITS).then_some(slot)
    }

    fn remove(&mut self, id: u32) {
        if self.get(id).is_some() {
            let index = id & INDEX_MASK;
            let slot = &mut self.slots[index as usize];
            slot.sink = None;
            slot.waker = None;
            self.free.push(index);
        }
    }
}

/// The sink of a live exchange (cloned out, so the registry is not borrowed while it runs).
fn live_sink(id: u32) -> Option<Rc<dyn ResponseSink>> {
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let slot = r.get(id)?;
        (!slot.done).then(|| slot.sink.clone()).flatten()
    })
}

/// Marks an exchange finished and wakes the runner's future.
fn settle(id: u32) {
    let waker = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let slot = r.get(id)?;
        slot.done = true;
        slot.waker.take()
    });
    if let Some(w) = waker {
        w.wake();
    }
}

/// Registers the platform side (the JS pump module).
#[wasm_bindgen(js_name = setPlatform)]
pub fn set_platform(pump: JsPump) {
    PLATFORM.with(|p| *p.borrow_mut() = Some(pump));
}

/// Calls `f` with the registered platform (none registered: nothing to do).
pub(crate) fn with_platform(f: impl FnOnce(&JsPump)) {
    let pump = PLATFORM.with(|p| {
        p.borrow().as_ref().map(|p| {
            let v: &JsValue = p;
            v.clone().unchecked_into::<JsPump>()
        })
    });
    if let Some(pump) = pump {
        f(&pump);
    }
}

/// Address of a scratch buffer of at least `len` bytes for the pump to copy a chunk into.
#[wasm_bindgen(js_name = exchangeScratch)]
pub fn exchange_scratch(len: usize) -> *const u8 {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        if s.len() < len {
            s.resize(len, 0);
        }
        s.as_ptr()
    })
}

/// Whether this runtime sends a `fetch` only when the turn that called it ends
/// ([`llmeter_core::limits::RuntimeKind::sends_at_turn_end`]): the pump then stamps a turn's
/// sends after the last of them.
#[wasm_bindgen(js_name = exchangeSendsAtTurnEnd)]
pub fn exchange_sends_at_turn_end() -> bool {
    super::platform::sends_at_turn_end()
}

/// The wasm memory, for the pump's view of the scratch buffer.
#[wasm_bindgen(js_name = exchangeMemory)]
pub fn exchange_memory() -> JsValue {
    wasm_bindgen::memory()
}

#[wasm_bindgen(js_name = exchangeHead)]
pub fn exchange_head(id: u32, status: u16, values: Array, sent_ms: f64, arrival_ms: f64) {
    let Some((sink, wanted)) = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        let slot = r.get(id)?;
        Some((slot.sink.clone()?, slot.wanted.clone()))
    }) else {
        return;
    };
    let headers = wanted
        .iter()
        .enumerate()
        .filter_map(|(i, name)| Some((name.clone(), values.get(i as u32).as_string()?)))
        .collect();
    sink.head(ResponseHead {
        status,
        headers,
        arrival_ms,
        sent_ms: Some(sent_ms),
    });
}

/// One body chunk of `len` bytes, already in the scratch buffer, stamped `arrival_ms`.
#[wasm_bindgen(js_name = exchangeChunk)]
pub fn exchange_chunk(id: u32, len: usize, arrival_ms: f64) {
    let Some(sink) = live_sink(id) else { return };
    SCRATCH.with(|s| {
        if let Some(bytes) = s.borrow().get(..len) {
            sink.chunk(bytes, arrival_ms);
        }
    });
}

/// Address of a table of at least `count` arrivals for a batch (`[id, len, arrival_ms]` each).
#[wasm_bindgen(js_name = exchangeArrivals)]
pub fn exchange_arrivals(count: usize) -> *const f64 {
    ARRIVALS.with(|a| {
        let mut a = a.borrow_mut();
        if a.len() < count * 3 {
            a.resize(count * 3, 0.0);
        }
        a.as_ptr()
    })
}

/// A batch of `count` body chunks, in the order they arrived (possibly of several exchanges):
/// their stamps and lengths in the arrivals table, their bytes back to back in the scratch
/// buffer. Chunks of exchanges that ended or were aborted meanwhile are skipped.
#[wasm_bindgen(js_name = exchangeChunks)]
pub fn exchange_chunks(count: usize) {
    ARRIVALS.with(|a| {
        SCRATCH.with(|s| {
            let (a, s) = (a.borrow(), s.borrow());
            let mut offset = 0usize;
            for arrival in a.chunks_exact(3).take(count) {
                let (id, len) = (arrival[0] as u32, arrival[1] as usize);
                let bytes = s.get(offset..offset.saturating_add(len));
                offset = offset.saturating_add(len);
                if let (Some(sink), Some(bytes)) = (live_sink(id), bytes) {
                    sink.chunk(bytes, arrival[2]);
                }
            }
        })
    });
}

#[wasm_bindgen(js_name = exchangeEnd)]
pub fn exchange_end(id: u32, arrival_ms: f64) {
    let Some(sink) = live_sink(id) else { return };
    sink.end(arrival_ms);
    settle(id);
}

/// The request failed before the head (`in_body` false) or while reading the body.
#[wasm_bindgen(js_name = exchangeFail)]
pub fn exchange_fail(id: u32, in_body: bool, name: &str, message: &str, cause: &str, at_ms: f64) {
    let Some(sink) = live_sink(id) else { return };
    let text = describe_network_error(name, message, cause);
    sink.fail(
        if in_body {
            TransportError::Body(text)
        } else {
            TransportError::Network(text)
        },
        at_ms,
    );
    settle(id);
}

/// The runner's side of one web exchange: resolves when the pump reported the end; dropping it
/// before then aborts the fetch.
struct WebExchange {
    id: u32,
    pump: JsPump,
}

impl Future for WebExchange {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            match r.get(self.id) {
                Some(slot) if slot.done => Poll::Ready(()),
                Some(slot) => {
                    match &slot.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => slot.waker = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                }
                None => Poll::Ready(()),
            }
        })
    }
}

impl Drop for WebExchange {
    fn drop(&mut self) {
        let unfinished = REGISTRY.with(|r| {
            let mut r = r.borrow_mut();
            let unfinished = r.get(self.id).is_some_and(|s| !s.done);
            r.remove(self.id);
            unfinished
        });
        if unfinished {
            self.pump.abort(self.id);
        }
    }
}

pub struct FetchTransport {
    pump: JsPump,
    /// `fetch` even where the platform has a leaner client (Node's `node:http`).
    via_fetch: bool,
    /// The JS values of the last request sent: consecutive requests usually share their URL,
    /// headers, body and wanted headers, so each is converted once, not per request.
    last: RefCell<Option<Converted>>,
}

struct Converted {
    url: String,
    url_js: JsValue,
    headers: Vec<(String, String)>,
    headers_js: JsValue,
    body: Option<Rc<[u8]>>,
    body_js: JsValue,
    wanted: Rc<[String]>,
    wanted_js: JsValue,
}

/// Headers as `[[name, value], …]` (a `HeadersInit`).
fn headers_to_js(headers: &[(String, String)]) -> JsValue {
    let out = Array::new_with_length(headers.len() as u32);
    for (i, (k, v)) in headers.iter().enumerate() {
        out.set(
            i as u32,
            Array::of2(&JsValue::from_str(k), &JsValue::from_str(v)).into(),
        );
    }
    out.into()
}

/// A body as text when it is UTF-8 (what every fetch sends fastest), else bytes.
fn body_to_js(body: Option<&[u8]>) -> JsValue {
    match body {
        None => JsValue::UNDEFINED,
        Some(b) => match std::str::from_utf8(b) {
            Ok(text) => JsValue::from_str(text),
            Err(_) => Uint8Array::from(b).into(),
        },
    }
}

impl FetchTransport {
    /// The transport over the registered platform, if `setPlatform` was called; `via_fetch`
    /// keeps to `fetch` where the pump has a leaner client (Node).
    pub fn new(via_fetch: bool) -> Option<Self> {
        let pump = PLATFORM.with(|p| {
            p.borrow().as_ref().map(|p| {
                let v: &JsValue = p;
                v.clone().unchecked_into::<JsPump>()
            })
        })?;
        Some(FetchTransport {
            pump,
            via_fetch,
            last: RefCell::new(None),
        })
    }

    /// Updates the converted values that changed since the last request.
    fn convert(&self, request: &HttpRequest) {
        let mut last = self.last.borrow_mut();
        let c = last.get_or_insert_with(|| Converted {
            url: request.url.clone(),
            url_js: JsValue::from_str(&request.url),
            headers: request.headers.clone(),
            headers_js: headers_to_js(&request.headers),
            body: request.body.clone(),
            body_js: body_to_js(request.body.as_deref()),
            wanted: request.response_headers.clone(),
            wanted_js: JsValue::from_str(&request.response_headers.join(",")),
        });
        if c.url != request.url {
            c.url.clone_from(&request.url);
            c.url_js = JsValue::from_str(&request.url);
        }
        if c.headers != request.headers {
            c.headers.clone_from(&request.headers);
            c.headers_js = headers_to_js(&request.headers);
        }
        let same_body = match (&c.body, &request.body) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b) || a == b,
            (None, None) => true,
            _ => false,
        };
        if !same_body {
            c.body = request.body.clone();
            c.body_js = body_to_js(request.body.as_deref());
        }
        if !Rc::ptr_eq(&c.wanted, &request.response_headers) {
            c.wanted = request.response_headers.clone();
            c.wanted_js = JsValue::from_str(&request.response_headers.join(","));
        }
    }
}

impl Transport for FetchTransport {
    fn exchange(
        &self,
        request: HttpRequest,
        sink: Rc<dyn ResponseSink>,
    ) -> LocalBoxFuture<'static, ()> {
        let id = REGISTRY.with(|r| {
            r.borrow_mut()
                .insert(sink, request.response_headers.clone())
        });
        self.convert(&request);
        if let Some(c) = self.last.borrow().as_ref() {
            self.pump.send(
                id,
                &c.url_js,
                request.method,
                &c.headers_js,
                &c.body_js,
                &c.wanted_js,
                self.via_fetch,
            );
        }
        Box::pin(WebExchange {
            id,
            pump: self.pump.clone().unchecked_into(),
        })
    }
}
