//! llmeter-core: the platform-free engine. No I/O, no JS, no clock of its own: callers pass time
//! and bytes in. Everything here runs under native `cargo test`.

pub mod endpoint;
pub mod experiments;
pub mod json;
pub mod limits;
pub mod live;
pub mod response;
pub mod result;
pub mod result_builder;
pub mod runner;
pub mod sse;
pub mod stats;
pub mod time;
pub mod tokenizer;
pub mod transport;
