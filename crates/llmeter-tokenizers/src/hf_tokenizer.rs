//! A `tokenizer.json` loaded with the `tokenizers` crate: encode to ids, count, decode, and
//! truncate text to its first N tokens. Every failure is an error value, never a panic.

use crate::fast_bpe::FastBpe;
use std::fmt;
use tokenizers::models::ModelWrapper;
use tokenizers::Tokenizer;

/// Model types the `tokenizers` crate can load (the `model.type` field of `tokenizer.json`).
const SUPPORTED_MODEL_TYPES: [&str; 4] = ["BPE", "WordPiece", "WordLevel", "Unigram"];

/// A longest UTF-8 character spans four byte-level tokens, so a cut inside one is healed by
/// dropping at most three tokens.
const MAX_TOKENS_INSIDE_ONE_CHAR: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The bytes are not JSON at all (or not UTF-8).
    InvalidJson(String),
    /// `model.type` names a model the `tokenizers` crate does not implement.
    UnsupportedModel(String),
    /// Valid JSON, but not a `tokenizer.json` the crate understands.
    InvalidTokenizer(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::InvalidJson(detail) => {
                write!(f, "tokenizer.json is not valid JSON: {detail}")
            }
            LoadError::UnsupportedModel(model_type) => write!(
                f,
                "unsupported tokenizer model type {model_type:?} (supported: {})",
                SUPPORTED_MODEL_TYPES.join(", ")
            ),
            LoadError::InvalidTokenizer(detail) => {
                write!(f, "not a usable Hugging Face tokenizer.json: {detail}")
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// Encoding or decoding failed inside the tokenizer (e.g. a WordPiece model without its unknown
/// token meeting an unknown word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizeError(pub String);

impl fmt::Display for TokenizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tokenizer failed: {}", self.0)
    }
}

impl std::error::Error for TokenizeError {}

pub struct HfTokenizer {
    inner: Tokenizer,
    /// The same ids, faster, for byte-level BPE tokenizers (see `fast_bpe`).
    fast: Option<FastBpe>,
}

impl HfTokenizer {
    /// Loads the contents of a `tokenizer.json` file.
    pub fn from_json_bytes(json: &[u8]) -> Result<Self, LoadError> {
        match Tokenizer::from_bytes(json) {
            Ok(inner) => Ok(HfTokenizer::from_tokenizer(inner)),
            // Only on failure: parse again, generically, to say what is wrong in plain words.
            Err(load_error) => Err(diagnose_load_error(json, &load_error.to_string())),
        }
    }

    /// `BPE`, `WordPiece`, `WordLevel` or `Unigram`.
    pub fn model_type(&self) -> &'static str {
        match self.inner.get_model() {
            ModelWrapper::BPE(_) => "BPE",
            ModelWrapper::WordPiece(_) => "WordPiece",
            ModelWrapper::WordLevel(_) => "WordLevel",
            ModelWrapper::Unigram(_) => "Unigram",
        }
    }

    pub(crate) fn from_tokenizer(inner: Tokenizer) -> Self {
        HfTokenizer {
            fast: FastBpe::new(&inner),
            inner,
        }
    }

    /// Token ids of `text` without special tokens (no BOS/CLS/SEP added): Python's
    /// `tokenizer.encode(text, add_special_tokens=False).ids`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizeError> {
        let Some(fast) = &self.fast else {
            return self.encode_by_pipeline(text);
        };
        let mut out = Vec::new();
        fast.encode_with(&self.inner, text, &mut |ids| out.extend_from_slice(ids))
            .map_err(|e| TokenizeError(e.to_string()))?;
        Ok(out)
    }

    pub fn count_tokens(&self, text: &str) -> Result<usize, TokenizeError> {
        let Some(fast) = &self.fast else {
            return Ok(self.encode_by_pipeline(text)?.len());
        };
        let mut count = 0;
        fast.encode_with(&self.inner, text, &mut |ids| count += ids.len())
            .map_err(|e| TokenizeError(e.to_string()))?;
        Ok(count)
    }

    /// The ids by the `tokenizers` pipeline itself, whatever the tokenizer: what
    /// [`HfTokenizer::encode`] must always equal (tests and the fuzz target compare them).
    pub fn encode_by_pipeline(&self, text: &str) -> Result<Vec<u32>, TokenizeError> {
        // encode_fast skips offset tracking, which the ids do not depend on.
        let encoding = self
            .inner
            .encode_fast(text, false)
            .map_err(|e| TokenizeError(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Whether [`HfTokenizer::encode`] takes the fast road for this tokenizer.
    pub fn has_fast_path(&self) -> bool {
        self.fast.is_some()
    }

    /// Text of `ids`, special tokens kept (Python's `decode(ids, skip_special_tokens=False)`),
    /// so that a prefix of `encode(text)` decodes to a prefix of the text. Unknown ids are skipped.
    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizeError> {
        self.inner
            .decode(ids, false)
            .map_err(|e| TokenizeError(e.to_string()))
    }

    /// The first `max_tokens` tokens of `text` as text. Text that already fits is returned
    /// unchanged; otherwise the head is decoded, backing off a token or three when the cut falls
    /// inside a character (byte-level tokens) rather than ending in a replacement character.
    pub fn truncate(&self, text: &str, max_tokens: usize) -> Result<String, TokenizeError> {
        let ids = self.encode(text)?;
        if ids.len() <= max_tokens {
            return Ok(text.to_owned());
        }
        let mut head = self.decode(&ids[..max_tokens])?;
        let source_has_replacement_char = text.contains(char::REPLACEMENT_CHARACTER);
        for end in (max_tokens.saturating_sub(MAX_TOKENS_INSIDE_ONE_CHAR)..max_tokens).rev() {
            if source_has_replacement_char || !head.ends_with(char::REPLACEMENT_CHARACTER) {
                break;
            }
            head = self.decode(&ids[..end])?;
        }
        Ok(head)
    }
}

fn diagnose_load_error(json: &[u8], load_error: &str) -> LoadError {
    let value: serde_json::Value = match serde_json::from_slice(json) {
        Ok(value) => value,
        Err(syntax_error) => return LoadError::InvalidJson(syntax_error.to_string()),
    };
    let Some(root) = value.as_object() else {
        return LoadError::InvalidTokenizer("the top level is not a JSON object".into());
    };
    let Some(model) = root.get("model").and_then(|m| m.as_object()) else {
        return LoadError::InvalidTokenizer("it has no \"model\" object".into());
    };
    match model.get("type").and_then(|t| t.as_str()) {
        Some(model_type) if !SUPPORTED_MODEL_TYPES.contains(&model_type) => {
            LoadError::UnsupportedModel(model_type.to_owned())
        }
        _ => LoadError::InvalidTokenizer(load_error.to_owned()),
    }
}

#[cfg(test)]
mod tests;
