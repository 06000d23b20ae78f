//! What the platform does to a measurement: which runtime this is, which HTTP protocol the
//! requests used, and whether the page was hidden (timer throttling) during a run.

use js_sys::{Array, Function, Reflect};
use llmeter_core::limits::RuntimeKind;
use llmeter_core::runtime_facts::browser_runtime_name;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

fn global() -> JsValue {
    js_sys::global().into()
}

fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    if obj.is_undefined() || obj.is_null() {
        return None;
    }
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn get_path(path: &[&str]) -> Option<JsValue> {
    let mut v = global();
    for k in path {
        v = get(&v, k)?;
    }
    Some(v)
}

/// `deno 2.1.4`, `node 20.20.2`, `workerd`, or the browser engine with its version and brand
/// (`Blink 156.0.0.0 (HeadlessChrome/156.0.0.0)`, `Gecko 153.0 (Firefox/153.0)`, `WebKit (…)`),
/// plus `(worker)` inside a Web Worker, `(service worker)` inside a service worker.
pub fn runtime_name() -> String {
    if let Some(v) = get_path(&["Deno", "version", "deno"]).and_then(|v| v.as_string()) {
        return format!("deno {v}");
    }
    let ua = get_path(&["navigator", "userAgent"])
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    if ua.contains("Cloudflare-Workers") {
        return "workerd".into();
    }
    if let Some(v) = get_path(&["process", "versions", "node"]).and_then(|v| v.as_string()) {
        return format!("node {v}");
    }
    let product = browser_runtime_name(&ua).unwrap_or_else(|| "unknown runtime".into());
    let g = global();
    let in_worker = get(&g, "document").is_none() && get(&g, "importScripts").is_some();
    // A service worker's global scope is the only one with `registration` and `clients`.
    let in_service_worker =
        in_worker && get(&g, "registration").is_some() && get(&g, "clients").is_some();
    if in_service_worker {
        format!("{product} (service worker)")
    } else if in_worker {
        format!("{product} (worker)")
    } else {
        product
    }
}

/// Which runtime this is, from the globals each one defines (checked in this order because
/// Deno and workerd define some of Node's and the browsers' globals too).
pub fn runtime_kind() -> RuntimeKind {
    if get_path(&["Deno", "version"]).is_some() {
        return RuntimeKind::Deno;
    }
    let ua = get_path(&["navigator", "userAgent"])
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    if ua.contains("Cloudflare-Workers") {
        return RuntimeKind::Workerd;
    }
    if get_path(&["process", "versions", "node"]).is_some() {
        return RuntimeKind::Node;
    }
    if get(&global(), "document").is_some() {
        return RuntimeKind::BrowserPage;
    }
    if get(&global(), "importScripts").is_some() {
        return RuntimeKind::BrowserWorker;
    }
    RuntimeKind::Unknown
}

/// Whether this runtime sends a `fetch` only when the JS turn that called it ends
/// ([`RuntimeKind::sends_at_turn_end`]), looked up once: the globals do not change.
pub fn sends_at_turn_end() -> bool {
    thread_local! {
        static TURN_END: std::cell::OnceCell<bool> = const { std::cell::OnceCell::new() };
    }
    TURN_END.with(|t| *t.get_or_init(|| runtime_kind().sends_at_turn_end()))
}

/// `nextHopProtocol` of the latest Resource Timing entry for `url_prefix` (`http/1.1`, `h2`),
/// when the runtime records one.
pub fn next_hop_protocol(url_prefix: &str) -> Option<String> {
    let perf = get(&global(), "performance")?;
    let f: Function = get(&perf, "getEntriesByType")?.dyn_into().ok()?;
    let entries: Array = f
        .call1(&perf, &JsValue::from_str("resource"))
        .ok()?
        .dyn_into()
        .ok()?;
    for i in (0..entries.length()).rev() {
        let e = entries.get(i);
        let name = get(&e, "name")
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        if name.starts_with(url_prefix) {
            if let Some(p) = get(&e, "nextHopProtocol")
                .and_then(|p| p.as_string())
                .filter(|p| !p.is_empty())
            {
                return Some(p);
            }
        }
    }
    None
}

/// Watches `document.visibilityState` for the duration of a run.
pub struct VisibilityWatch {
    hidden_seen: Rc<Cell<bool>>,
    listener: Option<(JsValue, Closure<dyn FnMut()>)>,
}

impl VisibilityWatch {
    pub fn start() -> Self {
        let hidden_seen = Rc::new(Cell::new(false));
        let Some(doc) = get(&global(), "document") else {
            return VisibilityWatch {
                hidden_seen,
                listener: None,
            };
        };
        let is_hidden = {
            let doc = doc.clone();
            move || {
                get(&doc, "visibilityState")
                    .and_then(|v| v.as_string())
                    .as_deref()
                    == Some("hidden")
            }
        };
        hidden_seen.set(is_hidden());
        let flag = hidden_seen.clone();
        let closure = Closure::<dyn FnMut()>::new(move || {
            if is_hidden() {
                flag.set(true);
            }
        });
        if let Some(add) = get(&doc, "addEventListener").and_then(|f| f.dyn_into::<Function>().ok())
        {
            let _ = add.call2(&doc, &"visibilitychange".into(), closure.as_ref());
        }
        VisibilityWatch {
            hidden_seen,
            listener: Some((doc, closure)),
        }
    }

    pub fn hidden_seen(&self) -> bool {
        self.hidden_seen.get()
    }

    /// Whether the page was hidden during the run, or `None` where there is no page
    /// (workers, Node, Deno, workerd).
    pub fn hidden(&self) -> Option<bool> {
        self.listener.as_ref().map(|_| self.hidden_seen.get())
    }
}

impl Drop for VisibilityWatch {
    fn drop(&mut self) {
        if let Some((doc, closure)) = self.listener.take() {
            if let Some(remove) =
                get(&doc, "removeEventListener").and_then(|f| f.dyn_into::<Function>().ok())
            {
                let _ = remove.call2(&doc, &"visibilitychange".into(), closure.as_ref());
            }
        }
    }
}
