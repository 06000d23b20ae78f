//! Thin wasm-bindgen layer over [`HfTokenizer`]: Rust errors become JS `Error`s.

use crate::HfTokenizer;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct WasmTokenizer {
    inner: HfTokenizer,
}

fn js_error(error: impl std::fmt::Display) -> JsError {
    JsError::new(&error.to_string())
}

#[wasm_bindgen]
impl WasmTokenizer {
    /// Loads a `tokenizer.json` given as text (wasm-bindgen copies it straight into wasm memory).
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(json: &str) -> Result<WasmTokenizer, JsError> {
        HfTokenizer::from_json_bytes(json.as_bytes())
            .map(|inner| WasmTokenizer { inner })
            .map_err(js_error)
    }

    /// Loads a `tokenizer.json` given as UTF-8 bytes.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(json: &[u8]) -> Result<WasmTokenizer, JsError> {
        HfTokenizer::from_json_bytes(json)
            .map(|inner| WasmTokenizer { inner })
            .map_err(js_error)
    }

    #[wasm_bindgen(getter, js_name = modelType)]
    pub fn model_type(&self) -> String {
        self.inner.model_type().to_owned()
    }

    /// Token ids without special tokens, as a `Uint32Array`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, JsError> {
        self.inner.encode(text).map_err(js_error)
    }

    #[wasm_bindgen(js_name = countTokens)]
    pub fn count_tokens(&self, text: &str) -> Result<u32, JsError> {
        let count = self.inner.count_tokens(text).map_err(js_error)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String, JsError> {
        self.inner.decode(ids).map_err(js_error)
    }

    pub fn truncate(&self, text: &str, max_tokens: u32) -> Result<String, JsError> {
        self.inner
            .truncate(text, max_tokens as usize)
            .map_err(js_error)
    }
}
