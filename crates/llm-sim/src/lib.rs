//! llm-sim: an OpenAI-compatible (and Bedrock / SageMaker) LLM endpoint simulator with a configurable timing model,
//! fault injection and server-side ground truth. See sim/README.md.

pub mod aws;
pub mod body;
pub mod chat;
pub mod config;
pub mod cors;
pub mod faults;
pub mod frame_stream;
pub mod ground_truth;
pub mod openai;
pub mod overrides;
pub mod router;
pub mod server;
pub mod sse_apis;
pub mod state;
pub mod timing;
pub mod tls;

pub use config::Config;
pub use server::{start, RunningServer};
