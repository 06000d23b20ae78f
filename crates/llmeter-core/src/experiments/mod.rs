//! LLMeter's experiments, platform-free: the load test's levels and folders, the latency
//! heatmap's prompts and request plan. Runs themselves go through `runner::Runner` like any run.

pub mod heatmap;
pub mod load_test;
pub mod prompts;
