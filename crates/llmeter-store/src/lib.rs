//! Results that survive, for llmeter-wasm, as a wasm module of its own (loaded on first use):
//! `.zip` export/import of LLMeter's folder layout, the presigned-URL upload state machine, and
//! the result store's batching and schema rules. The IndexedDB and `fetch` calls live in
//! `js/store.js`; everything here is platform-free and tested natively, except `wasm`.

pub mod batch;
pub mod layout;
pub mod schema;
pub mod upload;
#[cfg(target_arch = "wasm32")]
mod wasm;
pub mod zip;
