//! llmeter-core: the platform-free engine of llmeter-wasm. No I/O, no JS, no clock of its own:
//! callers pass time and bytes in through the [`transport::Transport`] and [`time::Clock`]
//! traits. Everything here runs under native `cargo test`; Cargo keeps wasm out (this crate has
//! no wasm dependency).
//!
//! Layers, bottom up: `framing` (SSE, JSON lines, AWS event-stream) → `endpoint` (requests and response parsing
//! per API family) → `runner` (the scheduler) → `result` (LLMeter's files) and `stats`;
//! `experiments` and `limits` plan runs; `live` summarises a run in progress; `fleet` makes a run
//! one shard of a test (manifest, clock offset, plan), merged exactly by `result::merge`.

pub mod callbacks;
pub mod endpoint;
pub mod experiments;
pub mod fleet;
pub mod framing;
pub mod json;
pub mod json_scan;
pub mod limits;
pub mod live;
pub mod network_phases;
pub mod response;
pub mod result;
pub mod rng;
pub mod runner;
pub mod runtime_facts;
#[cfg(feature = "sigv4")]
pub mod sigv4;
pub mod stats;
pub mod time;
pub mod timers;
pub mod tokenizer;
pub mod transport;
