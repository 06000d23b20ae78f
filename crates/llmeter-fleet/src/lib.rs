//! Fleets for llmeter-wasm as a wasm module of its own, loaded on first use (`js/fleet.js`), so
//! the core module does not grow: merging shards (`Result.merge`, `workers: N`, fleet and probe
//! collectors), plans and object keys, the result of a worker that died, live stats over
//! workers, and loading result folders (`Result.fromFiles`, `result_builder`: a loaded result
//! is `llmeter-result-js`'s `WasmRunResult`, the class a run's result has in the engines). Shards cross from the core module as their files (text); the merged result goes
//! back the same way. Every rule is `llmeter_core`'s (`fleet`, `result::merge`); `files` is the
//! only logic here, and it is tested natively.

pub mod files;
#[cfg(target_arch = "wasm32")]
mod result_builder;
#[cfg(target_arch = "wasm32")]
mod wasm;
