//! Runtime limits for the JS experiments: a load test checks its whole plan against the
//! subrequest limit before its first level, not at the level that would cross it.

use crate::web::platform::runtime_kind;
use llmeter_core::limits::{effective_subrequest_limit, LimitOptions};
use wasm_bindgen::prelude::*;

/// The subrequest limit in force in this runtime: `option` (the `subrequestLimit` run option)
/// when it is a positive integer, else the runtime's default (50 in workerd), else `undefined`.
/// An invalid option is left for `Runner.run` to reject with its named error.
#[wasm_bindgen(js_name = subrequestLimitInForce)]
pub fn subrequest_limit_in_force(option: Option<f64>) -> Option<u32> {
    let given = option.filter(|n| *n >= 1.0 && n.fract() == 0.0 && *n <= u32::MAX as f64);
    effective_subrequest_limit(
        runtime_kind(),
        &LimitOptions {
            subrequest_limit: given.map(|n| n as u32),
        },
    )
}
