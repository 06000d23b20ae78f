//! `RunResult` handed to JS: plain-object getters and LLMeter's files.

use js_sys::{Object, Reflect};
use llmeter_core::result::RunResult;
use serde::Serialize;
use wasm_bindgen::prelude::*;

pub fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))
}

#[wasm_bindgen]
pub struct WasmRunResult {
    inner: RunResult,
}

impl WasmRunResult {
    pub fn new(inner: RunResult) -> Self {
        WasmRunResult { inner }
    }

    pub fn inner(&self) -> &RunResult {
        &self.inner
    }
}

#[wasm_bindgen]
impl WasmRunResult {
    #[wasm_bindgen(getter)]
    pub fn summary(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.summary)
    }
    #[wasm_bindgen(getter)]
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.stats)
    }
    #[wasm_bindgen(getter)]
    pub fn responses(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.responses)
    }
    #[wasm_bindgen(getter)]
    pub fn timings(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.timings)
    }
    #[wasm_bindgen(getter)]
    pub fn info(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.info)
    }
    /// The shard manifest (`shard.json`) of a run that was a shard, else `undefined`.
    #[wasm_bindgen(getter)]
    pub fn shard(&self) -> Result<JsValue, JsValue> {
        match &self.inner.info.shard {
            Some(m) => to_js(m),
            None => Ok(JsValue::UNDEFINED),
        }
    }
    #[wasm_bindgen(getter, js_name = runConfig)]
    pub fn run_config(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.run_config)
    }

    /// LLMeter's run folder as `{ fileName: content }`.
    #[wasm_bindgen(js_name = toFiles)]
    pub fn to_files(&self) -> Result<JsValue, JsValue> {
        let o = Object::new();
        for (name, content) in self.inner.to_files() {
            Reflect::set(&o, &JsValue::from_str(&name), &JsValue::from_str(&content))?;
        }
        Ok(o.into())
    }
}

/// `{ fileName: content }` as `(name, content)` pairs.
pub fn files_from_js(files: JsValue) -> Result<Vec<(String, String)>, JsValue> {
    let map: std::collections::BTreeMap<String, String> = serde_wasm_bindgen::from_value(files)
        .map_err(|e| {
            JsValue::from(js_sys::TypeError::new(&format!(
                "files must map names to text: {e}"
            )))
        })?;
    Ok(map.into_iter().collect())
}

/// Heap bytes a loaded run needs per character of its files (input copy, parsed responses,
/// stats work): measured ~6.5 for a 100k-response folder.
pub const HEAP_PER_INPUT_CHAR: usize = 6;

/// Grows the wasm memory once by `bytes` (and hands it to the allocator's free pool) instead of
/// in many small steps while parsing: in V8 each `memory.grow` can copy the whole memory, which
/// made loading 100k responses take 34 s instead of 4. Best effort: a failed reservation is
/// ignored (the allocator grows on demand as before).
pub fn reserve_heap(bytes: usize) {
    let mut reservation: Vec<u8> = Vec::new();
    let _ = reservation.try_reserve_exact(bytes.min(1 << 31));
}
