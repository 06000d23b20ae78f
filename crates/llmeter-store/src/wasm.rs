//! The wasm-bindgen layer over the platform-free modules; `js/store.js` wraps it.

use crate::batch::{Decision, GroupCommit};
use crate::layout;
use crate::schema;
use crate::upload::{self, Next, Outcome, RetryPolicy, UploadPlan};
use crate::zip;
use js_sys::{Array, Object, Reflect, Uint8Array};
use std::collections::BTreeSet;
use wasm_bindgen::prelude::*;

fn err(msg: impl AsRef<str>) -> JsValue {
    js_sys::Error::new(msg.as_ref()).into()
}

fn set(o: &Object, k: &str, v: JsValue) {
    let _ = Reflect::set(o, &k.into(), &v);
}

fn strings(v: Vec<String>) -> Array {
    v.into_iter().map(|s| JsValue::from_str(&s)).collect()
}

/// Builds a `.zip` from entries added one by one (content as bytes).
#[wasm_bindgen]
pub struct ZipBuilder {
    inner: Option<zip::ZipWriter>,
}

#[wasm_bindgen]
impl ZipBuilder {
    #[wasm_bindgen(constructor)]
    pub fn new(unix_ms: f64, level: u8) -> ZipBuilder {
        ZipBuilder {
            inner: Some(zip::ZipWriter::new(unix_ms, level)),
        }
    }
    pub fn add(&mut self, name: &str, data: &[u8]) -> Result<(), JsValue> {
        self.inner
            .as_mut()
            .ok_or_else(|| err("zip already finished"))?
            .add(name, data)
            .map_err(err)
    }
    pub fn finish(&mut self) -> Result<Vec<u8>, JsValue> {
        self.inner
            .take()
            .ok_or_else(|| err("zip already finished"))?
            .finish()
            .map_err(err)
    }
}

/// `[[name, Uint8Array], …]` of every file in a `.zip`.
#[wasm_bindgen(js_name = readZip)]
pub fn read_zip(data: &[u8]) -> Result<Array, JsValue> {
    let files = zip::read_zip(data).map_err(|e| err(format!("cannot read zip: {e}")))?;
    Ok(files
        .into_iter()
        .map(|(name, bytes)| {
            let pair = Array::new();
            pair.push(&JsValue::from_str(&name));
            pair.push(&Uint8Array::from(bytes.as_slice()));
            JsValue::from(pair)
        })
        .collect())
}

#[wasm_bindgen(js_name = normalizePath)]
pub fn normalize_path(path: &str) -> Result<String, JsValue> {
    layout::normalize_path(path).map_err(|e| js_sys::TypeError::new(&e).into())
}

/// `{kind, root, runs, paths}` for normalised paths (see `layout::detect_layout`).
#[wasm_bindgen(js_name = detectLayout)]
pub fn detect_layout(paths: Vec<String>) -> Result<JsValue, JsValue> {
    let l = layout::detect_layout(&paths).map_err(err)?;
    let o = Object::new();
    set(&o, "kind", l.kind.into());
    set(&o, "root", l.root.into());
    set(&o, "runs", strings(l.runs).into());
    let paths: Array = l
        .paths
        .into_iter()
        .map(|p| p.map(JsValue::from).unwrap_or(JsValue::NULL))
        .collect();
    set(&o, "paths", paths.into());
    Ok(o.into())
}

#[wasm_bindgen(js_name = contentType)]
pub fn content_type(path: &str) -> String {
    layout::content_type(path).to_string()
}

#[wasm_bindgen(js_name = isTextFile)]
pub fn is_text_file(path: &str) -> bool {
    layout::is_text(path)
}

/// The scrubbed text of a `run_config.json` if it held secrets, else `undefined`.
#[wasm_bindgen(js_name = scrubFile)]
pub fn scrub_file(path: &str, text: &str) -> Option<String> {
    if !layout::is_run_config(path) {
        return None;
    }
    layout::scrub_run_config(text).map(|(t, _)| t)
}

/// LLMeter's default run name for a run starting at `unix_ms` (the core's rule, so a run saved
/// by the store is named as the engine would name it).
#[wasm_bindgen(js_name = defaultRunName)]
pub fn default_run_name(unix_ms: f64) -> String {
    llmeter_core::result::default_run_name(unix_ms)
}

#[wasm_bindgen(js_name = schemaUpgradeSteps)]
pub fn schema_upgrade_steps(old: u32, new: u32) -> Result<Vec<u32>, JsValue> {
    schema::upgrade_steps(old, new).map_err(err)
}

#[wasm_bindgen(js_name = schemaVersion)]
pub fn schema_version() -> u32 {
    schema::SCHEMA_VERSION
}

/// Group commit: `append(nowMs)` → `-1` flush now, `0` buffered, `t > 0` flush at time `t`.
#[wasm_bindgen]
pub struct Batcher {
    inner: GroupCommit,
}

#[wasm_bindgen]
impl Batcher {
    #[wasm_bindgen(constructor)]
    pub fn new(max_batch: u32, max_delay_ms: f64) -> Batcher {
        Batcher {
            inner: GroupCommit::new(max_batch, max_delay_ms),
        }
    }
    pub fn append(&mut self, now_ms: f64) -> f64 {
        match self.inner.append(now_ms) {
            Decision::FlushNow => -1.0,
            Decision::Buffered => 0.0,
            Decision::FlushAt(t) => t.max(f64::MIN_POSITIVE),
        }
    }
    pub fn flushed(&mut self) {
        self.inner.flushed()
    }
}

/// The upload state machine (see `upload::UploadPlan`).
#[wasm_bindgen]
pub struct Uploads {
    inner: UploadPlan,
}

#[wasm_bindgen]
impl Uploads {
    #[wasm_bindgen(constructor)]
    pub fn new(
        keys: Vec<String>,
        done: Vec<String>,
        max_attempts: u32,
        base_delay_ms: f64,
        max_delay_ms: f64,
    ) -> Uploads {
        let done: BTreeSet<String> = done.into_iter().collect();
        Uploads {
            inner: UploadPlan::new(
                keys,
                &done,
                RetryPolicy {
                    max_attempts,
                    base_delay_ms,
                    max_delay_ms,
                },
            ),
        }
    }
    /// `{start: index}`, `{wait: ms}`, `{idle: true}` or `{finished: true}`.
    pub fn next(&mut self, now_ms: f64) -> JsValue {
        let o = Object::new();
        match self.inner.next(now_ms) {
            Next::Start(i) => set(&o, "start", (i as u32).into()),
            Next::Wait(ms) => set(&o, "wait", ms.into()),
            Next::Idle => set(&o, "idle", true.into()),
            Next::Finished => set(&o, "finished", true.into()),
        }
        o.into()
    }
    /// `status` 0 = network error; returns the retry delay in ms, or -1 when final.
    pub fn report(&mut self, index: usize, status: u16, detail: &str, now_ms: f64) -> f64 {
        let outcome = match status {
            0 => Outcome::Network(detail.to_string()),
            200..=299 => Outcome::Ok,
            s => Outcome::Status(s, upload::s3_error_detail(detail)),
        };
        self.inner.report(index, outcome, now_ms).unwrap_or(-1.0)
    }
    /// Final, never retried (a refused redirect, no usable URL); returns -1.
    pub fn refuse(&mut self, index: usize, reason: &str, now_ms: f64) -> f64 {
        self.inner
            .report(index, Outcome::Refused(reason.to_string()), now_ms)
            .unwrap_or(-1.0)
    }
    /// No answer within `ms`: retried like a network error; returns the delay or -1.
    #[wasm_bindgen(js_name = timedOut)]
    pub fn timed_out(&mut self, index: usize, ms: f64, now_ms: f64) -> f64 {
        self.inner
            .report(index, Outcome::TimedOut(ms.round() as u64), now_ms)
            .unwrap_or(-1.0)
    }
    #[wasm_bindgen(js_name = doneKeys)]
    pub fn done_keys(&self) -> Array {
        strings(self.inner.done_keys())
    }
    #[wasm_bindgen(js_name = pendingKeys)]
    pub fn pending_keys(&self) -> Array {
        strings(self.inner.pending_keys())
    }
    /// `[[key, message], …]`
    pub fn failures(&self) -> Array {
        self.inner
            .failures()
            .into_iter()
            .map(|(k, m)| JsValue::from(strings(vec![k, m])))
            .collect()
    }
}
