//! The browser's Resource Timing entries for a run's requests, collected by a
//! `PerformanceObserver` while the run goes on (it sees every entry, whatever the size of the
//! page's timeline buffer) and read once the run is over, so nothing is read while requests are
//! in flight: the observer's callback only keeps the entry objects.

use js_sys::{Array, Function, Object, Reflect};
use llmeter_core::network_phases::ResourceEntry;
use llmeter_core::time::Clock;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// The entries of a `PerformanceObserverEntryList` (or an array of entries) appended to `into`
/// as they are: nothing is read while the run goes on.
fn keep(list: &JsValue, into: &Array) {
    let entries = if Array::is_array(list) {
        Some(list.clone())
    } else {
        get(list, "getEntries")
            .and_then(|f| f.dyn_into::<Function>().ok())
            .and_then(|f| f.call0(list).ok())
    };
    if let Some(entries) = entries.filter(Array::is_array) {
        for e in entries.unchecked_into::<Array>().iter() {
            into.push(&e);
        }
    }
}

/// The kept entries that are `fetch`es of a URL under `prefix` started since `since_ms`, read
/// in one go through their JSON form (`PerformanceResourceTiming.toJSON`), and the HTTP
/// protocol of the last one that names it (`nextHopProtocol`).
fn read(kept: &Array, prefix: &str, since_ms: f64) -> (Vec<ResourceEntry>, Option<String>) {
    let text = js_sys::JSON::stringify(kept)
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&text) else {
        return (Vec::new(), None);
    };
    let n = |e: &Value, k: &str| e.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let ours = |e: &Value| {
        let name = e.get("name").and_then(Value::as_str).unwrap_or_default();
        let initiator = e.get("initiatorType").and_then(Value::as_str);
        // An earlier run's last entries can reach this observer after it started.
        name.starts_with(prefix)
            && initiator.is_none_or(|i| i == "fetch")
            && n(e, "startTime") >= since_ms
    };
    let protocol = items
        .iter()
        .filter(|e| ours(e))
        .filter_map(|e| e.get("nextHopProtocol").and_then(Value::as_str))
        .rfind(|p| !p.is_empty())
        .map(str::to_string);
    let entries = items
        .iter()
        .filter(|e| ours(e))
        .map(|e| ResourceEntry {
            start_time: n(e, "startTime"),
            domain_lookup_start: n(e, "domainLookupStart"),
            domain_lookup_end: n(e, "domainLookupEnd"),
            connect_start: n(e, "connectStart"),
            secure_connection_start: n(e, "secureConnectionStart"),
            connect_end: n(e, "connectEnd"),
            request_start: n(e, "requestStart"),
            response_start: n(e, "responseStart"),
            response_end: n(e, "responseEnd"),
        })
        .collect();
    (entries, protocol)
}

/// The observer and the callback it calls (kept alive as long as it observes).
type Observer = (JsValue, Closure<dyn FnMut(JsValue)>);

/// Observes `resource` entries for URLs under `prefix` from `start` until `finish`.
pub struct ResourceTimingWatch {
    prefix: String,
    /// When observing began, less a millisecond of clock coarsening.
    since_ms: f64,
    kept: Array,
    observer: Option<Observer>,
}

impl ResourceTimingWatch {
    /// Starts observing; without `PerformanceObserver` (or `resource` entries) it records nothing.
    pub fn start(prefix: &str) -> Self {
        let mut watch = ResourceTimingWatch {
            prefix: prefix.to_string(),
            since_ms: super::clock::performance_now() - 1.0,
            kept: Array::new(),
            observer: None,
        };
        let Some(ctor) = get(&js_sys::global(), "PerformanceObserver")
            .and_then(|c| c.dyn_into::<Function>().ok())
        else {
            return watch;
        };
        let kept = watch.kept.clone();
        let closure = Closure::<dyn FnMut(JsValue)>::new(move |list: JsValue| keep(&list, &kept));
        let Ok(observer) = Reflect::construct(&ctor, &Array::of1(closure.as_ref())) else {
            return watch;
        };
        let options = Object::new();
        let _ = Reflect::set(&options, &"type".into(), &"resource".into());
        let observed = get(&observer, "observe")
            .and_then(|f| f.dyn_into::<Function>().ok())
            .map(|f| f.call1(&observer, &options).is_ok())
            .unwrap_or(false);
        if observed {
            watch.observer = Some((observer, closure));
        }
        watch
    }

    /// Takes the entries the observer has not delivered yet, until there are `expected` (the
    /// requests that got a response) or 10 short waits have passed — the browser adds an entry
    /// once its response has ended, which can be a task or more after the body's last read —
    /// then stops observing and returns the entries and the protocol they name. (Unlike
    /// `performance.getEntriesByType`, whose buffer stops at 250 entries in a long-lived page.)
    pub async fn finish(mut self, expected: usize) -> (Vec<ResourceEntry>, Option<String>) {
        let Some((observer, closure)) = self.observer.take() else {
            return (Vec::new(), None);
        };
        let call = |name: &str| {
            get(&observer, name)
                .and_then(|f| f.dyn_into::<Function>().ok())
                .and_then(|f| f.call0(&observer).ok())
        };
        let mut entries = (Vec::new(), None);
        for wait in 0..10 {
            super::clock::WebClock
                .sleep(if wait == 0 { 0.0 } else { 5.0 })
                .await;
            if let Some(records) = call("takeRecords") {
                keep(&records, &self.kept);
            }
            if self.kept.length() as usize >= expected {
                entries = read(&self.kept, &self.prefix, self.since_ms);
                if entries.0.len() >= expected {
                    break;
                }
            }
        }
        call("disconnect");
        drop(closure);
        if entries.0.len() < expected {
            entries = read(&self.kept, &self.prefix, self.since_ms);
        }
        entries
    }
}

impl Drop for ResourceTimingWatch {
    fn drop(&mut self) {
        // Dropped without `finish` (the run failed): stop the observer before its closure goes.
        if let Some((observer, _closure)) = self.observer.take() {
            if let Some(f) =
                get(&observer, "disconnect").and_then(|f| f.dyn_into::<Function>().ok())
            {
                let _ = f.call0(&observer);
            }
        }
    }
}
