//! The wasm-bindgen layer: JS options in, core calls, JS values out. No rules of its own beyond
//! reading options; the public JavaScript API (`js/index.js`) wraps these exports.

mod callbacks;
mod crash;
mod custom;
mod endpoints;
mod experiments;
mod fleet;
mod options;
mod result;
mod run;
mod runtime_limits;
mod tokenizer;

pub use result::WasmRunResult;
