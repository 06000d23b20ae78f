//! `RunResult` handed to JS: the class and its conversions live in `llmeter-result-js`, shared
//! with the fleet module (which loads result folders).

pub use llmeter_result_js::{to_js, WasmRunResult};
