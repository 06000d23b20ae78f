//! llmeter-wasm: LLM latency and throughput benchmarking for browsers and edge runtimes.
//!
//! `core` is platform-free (tested natively); `web` is the thin layer over the platform's
//! `fetch`, clock and timers; `bindings` is the wasm-bindgen JavaScript API.

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(all(target_arch = "wasm32", feature = "bindings"))]
pub mod bindings;
