//! A run's result as JavaScript sees it, shared by the wasm modules that hold results: the
//! engines (`llmeter-wasm`, where runs make them) and the fleet module (where folders are loaded
//! and shards merged). One class, so a `Result` behaves the same whichever module holds it; every
//! rule is `llmeter_core`'s.

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::*;
