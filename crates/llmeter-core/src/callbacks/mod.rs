//! LLMeter's callbacks (reference §6.7, §11): hooks a run calls in LLMeter's order —
//! `before_run(run_config)` once before anything is sent, `before_invoke(payload)` before each
//! request (it may edit the payload, which is then prepared for that request alone),
//! `after_invoke(response)` for each measured response once its token counts are filled, and
//! `after_run(result)` after the stats, before saving (which the caller runs: in the package,
//! `Runner.run` calls it on the JS `Result`).
//!
//! Built-ins implemented here, so their rules live in one place: [`cost::CostModel`] (LLMeter's
//! `cost_*` keys), [`cache_buster::CacheBuster`] (§11.4) and the selection of what
//! [`mlflow`] logs.

pub mod cache_buster;
pub mod cost;
pub mod mlflow;

use crate::response::InvocationResponse;
use crate::result::RunResult;
use futures::future::{ready, LocalBoxFuture};
use serde_json::{Map, Value};

/// The result of a hook: `Err` carries the error's message.
pub type HookFuture<'a> = LocalBoxFuture<'a, Result<(), String>>;

/// One callback. Every hook defaults to doing nothing; `has_*` say which per-request hooks are
/// real, so a run without them keeps its fast path (each payload prepared once, no per-response
/// work).
pub trait Callback {
    fn before_run<'a>(&'a self, _run_config: &'a mut Map<String, Value>) -> HookFuture<'a> {
        Box::pin(ready(Ok(())))
    }
    fn has_before_invoke(&self) -> bool {
        false
    }
    /// Edits the payload of one request in place (a copy: other requests are not affected).
    fn before_invoke<'a>(&'a self, _payload: &'a mut Value) -> HookFuture<'a> {
        Box::pin(ready(Ok(())))
    }
    fn has_after_invoke(&self) -> bool {
        false
    }
    /// Edits one measured response in place (e.g. its `annotations`).
    fn after_invoke<'a>(&'a self, _response: &'a mut InvocationResponse) -> HookFuture<'a> {
        Box::pin(ready(Ok(())))
    }
    /// Called by [`after_run_all`] (the package calls `afterRun` on the JS side instead).
    fn after_run<'a>(&'a self, _result: &'a mut RunResult) -> HookFuture<'a> {
        Box::pin(ready(Ok(())))
    }
    /// The callback as `run_config.json` records it: an LLMeter 0.2.0 envelope when LLMeter
    /// can load it back, `None` to leave it out (a JS callback LLMeter cannot rebuild).
    fn describe(&self) -> Option<Value> {
        None
    }
    /// A short name for warnings.
    fn name(&self) -> String {
        "callback".into()
    }
}

/// `after_run` of each callback in order, as LLMeter 0.2.0 does: a failing one adds a warning
/// to the result and the others still run.
pub async fn after_run_all(callbacks: &[&dyn Callback], result: &mut RunResult) {
    for cb in callbacks {
        if let Err(e) = cb.after_run(result).await {
            result
                .info
                .warnings
                .push(format!("callback {}: afterRun failed: {e}", cb.name()));
        }
    }
}

/// The `callbacks` entry of `run_config.json`: the envelopes of the callbacks LLMeter can load,
/// `null` when there are none (as LLMeter writes a run without callbacks).
pub fn run_config_callbacks(callbacks: &[&dyn Callback]) -> Value {
    let described: Vec<Value> = callbacks.iter().filter_map(|c| c.describe()).collect();
    if described.is_empty() {
        Value::Null
    } else {
        Value::Array(described)
    }
}
