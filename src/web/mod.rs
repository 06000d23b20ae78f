//! The thin web layer: the platform's `fetch`, `performance.now()` and `setTimeout`, bound as
//! globals (not through `window`) so the same module runs in pages, workers, Node, Deno and
//! workerd.

pub mod clock;
pub mod fetch;
pub mod platform;
pub mod resource_timing;
