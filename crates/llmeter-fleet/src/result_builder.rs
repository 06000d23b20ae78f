//! `RunResultBuilder` handed to JS, so `Result.fromFiles` can parse a large run in pieces and
//! yield to the event loop between them. Loading lives here, not in the core module: runs do
//! not need it, and it is a large part of the code (JSON-lines reading, LLMeter's recovery
//! rules, the stats' load path). The result is the same `WasmRunResult` class as a run's.

use js_sys::{Array, Object, Reflect};
use llmeter_core::experiments::load_test::group_run_folders;
use llmeter_core::result::{files_to_read, RunResultBuilder};
use llmeter_result_js::{files_from_js, reserve_heap, WasmRunResult, HEAP_PER_INPUT_CHAR};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct WasmResultBuilder {
    /// `None` once finished.
    inner: Option<RunResultBuilder>,
}

fn error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

#[wasm_bindgen]
impl WasmResultBuilder {
    /// Starts from `{ fileName: content }` (the small files; JSON-lines files count as their
    /// first piece). `loadResponses: false` (LLMeter's `load_responses=False`) keeps only the
    /// summary and `stats.json`.
    #[wasm_bindgen(constructor)]
    pub fn new(files: JsValue, load_responses: Option<bool>) -> Result<WasmResultBuilder, JsValue> {
        let inner =
            RunResultBuilder::with_options(&files_from_js(files)?, load_responses.unwrap_or(true))
                .map_err(|e| error(&e))?;
        Ok(WasmResultBuilder { inner: Some(inner) })
    }

    /// The folder loaded from: the result's `output_path` when `summary.json` has none.
    #[wasm_bindgen(js_name = setOutputPath)]
    pub fn set_output_path(&mut self, path: &str) -> Result<(), JsValue> {
        self.builder()?.set_output_path(path);
        Ok(())
    }

    /// Grows the heap once for `chars` characters of JSON lines still to come (best effort).
    pub fn reserve(&self, chars: usize) {
        reserve_heap(chars.saturating_mul(HEAP_PER_INPUT_CHAR));
    }

    fn builder(&mut self) -> Result<&mut RunResultBuilder, JsValue> {
        self.inner
            .as_mut()
            .ok_or_else(|| error("this result builder has already finished"))
    }

    /// Next piece of `responses.jsonl` (may end inside a line).
    #[wasm_bindgen(js_name = pushResponses)]
    pub fn push_responses(&mut self, piece: &str) -> Result<(), JsValue> {
        self.builder()?.push_responses(piece).map_err(|e| error(&e))
    }

    /// Next piece of `chunk_timings.jsonl` (may end inside a line).
    #[wasm_bindgen(js_name = pushTimings)]
    pub fn push_timings(&mut self, piece: &str) -> Result<(), JsValue> {
        self.builder()?.push_timings(piece).map_err(|e| error(&e))
    }

    pub fn finish(&mut self) -> Result<WasmRunResult, JsValue> {
        let inner = self
            .inner
            .take()
            .ok_or_else(|| error("this result builder has already finished"))?;
        inner
            .finish()
            .map(WasmRunResult::new)
            .map_err(|e| error(&e))
    }
}

/// The files `Result.load` reads from a run folder (`loadResponses: false`: the small ones).
#[wasm_bindgen(js_name = resultFileNames)]
pub fn result_file_names(load_responses: bool) -> Vec<String> {
    files_to_read(load_responses)
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The run folders of a load test given as file paths (LLMeter's rule: every folder is a run,
/// plain files beside them are ignored) → `{folders, testName}`.
#[wasm_bindgen(js_name = loadTestFolders)]
pub fn load_test_folders(paths: Vec<String>) -> Result<JsValue, JsValue> {
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let (folders, test_name) = group_run_folders(&refs).map_err(|e| error(&e))?;
    let o = Object::new();
    Reflect::set(
        &o,
        &"folders".into(),
        &folders.into_iter().map(JsValue::from).collect::<Array>(),
    )?;
    Reflect::set(
        &o,
        &"testName".into(),
        &test_name.map(JsValue::from).unwrap_or(JsValue::UNDEFINED),
    )?;
    Ok(o.into())
}
