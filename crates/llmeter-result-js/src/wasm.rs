//! The wasm-bindgen side (wasm32 only).

use js_sys::{Object, Reflect};
use llmeter_core::callbacks::cost::CostModel;
use llmeter_core::callbacks::mlflow;
use llmeter_core::result::RunResult;
use llmeter_core::runner::OptionError;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub fn type_error(msg: &str) -> JsValue {
    js_sys::TypeError::new(msg).into()
}

pub fn range_error(msg: &str) -> JsValue {
    js_sys::RangeError::new(msg).into()
}

pub fn option_error(e: &OptionError) -> JsValue {
    if e.is_range {
        range_error(&e.to_string())
    } else {
        type_error(&e.to_string())
    }
}

/// A JS value as JSON, through `JSON.stringify` (which rejects circular values and runs on the
/// JS stack) and serde_json's reader (which stops at 128 levels of nesting): neither recursion
/// can overflow the wasm stack. Errors are `TypeError`s naming `what`.
pub fn to_json(v: &JsValue, what: &str) -> Result<Value, JsValue> {
    let text = js_sys::JSON::stringify(v).map_err(|e| {
        let reason = e
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "not serialisable".into());
        type_error(&format!("{what} is not JSON-serialisable: {reason}"))
    })?;
    let Some(text) = text.as_string() else {
        return Err(type_error(&format!("{what} is not JSON-serialisable")));
    };
    serde_json::from_str(&text).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            type_error(&format!(
                "{what} is nested more than 128 levels deep (a payload must be JSON of reasonable depth)"
            ))
        } else {
            type_error(&format!("{what} is not JSON-serialisable: {e}"))
        }
    })
}

/// A value as a plain JS object, through JSON text: one string crosses, `JSON.parse` builds the
/// object (faster than many small crossings, and one serializer — serde_json's — in the module).
pub fn to_js<T: Serialize + ?Sized>(v: &T) -> Result<JsValue, JsValue> {
    let text = llmeter_core::json::to_compact(v)
        .map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))?;
    js_sys::JSON::parse(&text)
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

    /// Warm-up and cool-down responses (flagged in `annotations.load_phase`), not in the stats.
    #[wasm_bindgen(getter)]
    pub fn excluded(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.excluded)
    }
    #[wasm_bindgen(getter, js_name = excludedTimings)]
    pub fn excluded_timings(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.excluded_timings)
    }

    /// LLMeter's `Result._update_contributed_stats`: numbers (or booleans) merged into the
    /// stats and `stats.json`. Throws a `TypeError` naming the keys that are not numbers (the
    /// others are added).
    #[wasm_bindgen(js_name = contributeStats)]
    pub fn contribute_stats(&mut self, stats: JsValue) -> Result<(), JsValue> {
        let Value::Object(map) = to_json(&stats, "stats")? else {
            return Err(type_error("stats must be an object of numbers"));
        };
        self.inner.contribute_stats(map).map_err(|e| type_error(&e))
    }

    /// Adds a warning to `info.warnings` (kept in `run_info.json`).
    #[wasm_bindgen(js_name = addWarning)]
    pub fn add_warning(&mut self, warning: String) {
        self.inner.info.warnings.push(warning);
    }

    /// A `CostModel`'s `afterRun` on this result: its `cost_*` stats from the responses'
    /// annotations and the run's time, contributed to the stats.
    #[wasm_bindgen(js_name = costAfterRun)]
    pub fn cost_after_run(&mut self, config: JsValue) -> Result<(), JsValue> {
        let model = CostModel::from_config(&to_json(&config, "CostModel")?)
            .map_err(|e| option_error(&e))?;
        let stats = model.run_stats(&self.inner);
        self.inner
            .contribute_stats(stats)
            .map_err(|e| type_error(&e))
    }

    /// The body of MLflow's `runs/log-batch` for this result (LLMeter's `MlflowCallback`
    /// params and metrics).
    #[wasm_bindgen(js_name = mlflowLogBatch)]
    pub fn mlflow_log_batch(
        &self,
        step: Option<f64>,
        timestamp_ms: f64,
    ) -> Result<JsValue, JsValue> {
        to_js(&mlflow::log_batch(
            &self.inner.summary,
            &self.inner.stats,
            step.map(|s| s as i64),
            timestamp_ms as i64,
        ))
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
    let bad = |what: String| {
        JsValue::from(js_sys::TypeError::new(&format!(
            "files must map names to text: {what}"
        )))
    };
    if !files.is_object() {
        return Err(bad("not an object".into()));
    }
    let mut out = Vec::new();
    for entry in js_sys::Object::entries(files.unchecked_ref()).iter() {
        let pair: js_sys::Array = entry.unchecked_into();
        let name = pair.get(0).as_string().unwrap_or_default();
        let Some(text) = pair.get(1).as_string() else {
            return Err(bad(format!("{name} is not a string")));
        };
        out.push((name, text));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
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
