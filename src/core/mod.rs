//! The platform-free core: no I/O, no JS. Everything here runs under native `cargo test`.

pub mod endpoint;
pub mod experiments;
pub mod json;
pub mod limits;
pub mod live;
pub mod network_phases;
pub mod response;
pub mod result;
pub mod result_builder;
pub mod runner;
pub mod runtime_facts;
pub mod sse;
pub mod stats;
pub mod time;
pub mod tokenizer;
pub mod transport;
