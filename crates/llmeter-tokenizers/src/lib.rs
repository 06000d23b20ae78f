//! Hugging Face tokenizers (`tokenizer.json`) for llmeter-wasm, built as a wasm module of its
//! own so that the core package stays small and only users of real tokenizers download it.
//!
//! [`HfTokenizer`] is plain Rust (tested natively); `wasm` is the thin wasm-bindgen layer.

mod fast_bpe;
mod hf_tokenizer;
mod split_regex;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use hf_tokenizer::{HfTokenizer, LoadError, TokenizeError};
