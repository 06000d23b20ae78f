//! llmeter-wasm: the wasm package of llmeter. The engine itself is the platform-free
//! `llmeter-core` crate (tested natively); this crate is the thin layer around it: `web` drives
//! the platform's `fetch`, clock and timers, `bindings` is the wasm-bindgen JavaScript API.

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod bindings;
