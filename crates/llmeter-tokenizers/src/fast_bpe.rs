//! A faster road to the same ids for the common LLM tokenizer shape — BPE after regex splits
//! and the byte-level mapping (GPT-2, Llama 3, Qwen, DeepSeek, Mistral's Tekken, …) — which
//! counting tokens in a benchmark spends all its time on.
//!
//! The `tokenizers` pipeline builds a `NormalizedString` with per-byte alignments for every
//! piece, a `String` per token and an `Encoding` per call, and its `fancy-regex` splits
//! backtrack. Here: added tokens are split out by the library (only when one can occur), the
//! rest is cut by [`SplitRegex`], and each piece's ids come from a cache keyed by the piece,
//! filled by the BPE model itself. Python `tokenizers` caches words the same way.
//!
//! Only tokenizers whose every step is one of those are taken ([`FastBpe::new`]); the ids are
//! those of `Tokenizer::encode_fast(text, false)`, which the tests and the `tokenizer_fast_path`
//! fuzz target check.

use crate::split_regex::SplitRegex;
use ahash::AHashMap;
use aho_corasick::AhoCorasick;
use std::cell::RefCell;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::split::SplitPattern;
use tokenizers::{
    Model, ModelWrapper, OffsetReferential, OffsetType, PreTokenizerWrapper,
    SplitDelimiterBehavior, Tokenizer,
};

/// `ByteLevel`'s own split when `use_regex` is true (tokenizers' `byte_level.rs`).
const GPT2_PATTERN: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// Pieces longer than this are not cached (as the BPE model's own cache, `MAX_LENGTH`).
const MAX_CACHED_PIECE_BYTES: usize = 256;
/// Memory the piece cache may take; past it, new pieces are encoded every time. Prose and code
/// repeat few distinct pieces (tens of thousands fit), and random bytes cannot grow a tab's
/// memory without bound.
const CACHE_BUDGET_BYTES: usize = 4 << 20;
/// What one entry costs besides its piece and ids: the two boxes' pointers and lengths, and
/// the hash table's slot and control byte, rounded up.
const CACHE_ENTRY_OVERHEAD_BYTES: usize = 48;

pub struct FastBpe {
    /// Every added token's content: text without any of them needs no added-token split.
    added_tokens: Option<AhoCorasick>,
    /// Applied in order, each to every piece of the one before.
    splits: Vec<SplitRegex>,
    /// Pieces are mapped byte by byte to GPT-2's printable characters before BPE.
    byte_level: bool,
    cache: RefCell<PieceCache>,
}

#[derive(Default)]
struct PieceCache {
    ids: AHashMap<Box<str>, Box<[u32]>>,
    bytes: usize,
    budget: usize,
}

impl FastBpe {
    /// `None` unless the tokenizer is: no normalizer, no truncation or padding, a BPE model
    /// without dropout, and a pre-tokenizer made of regex `Split`s (behavior `Isolated`, not
    /// inverted) and at most one `ByteLevel` (no prefix space), last. The post-processor adds
    /// nothing without special tokens, and the decoder is not used to encode.
    pub fn new(tokenizer: &Tokenizer) -> Option<FastBpe> {
        if tokenizer.get_normalizer().is_some()
            || tokenizer.get_truncation().is_some()
            || tokenizer.get_padding().is_some()
        {
            return None;
        }
        let ModelWrapper::BPE(bpe) = tokenizer.get_model() else {
            return None;
        };
        if bpe.dropout.is_some_and(|p| p != 0.0) {
            return None;
        }
        let mut fast = FastBpe {
            added_tokens: None,
            splits: Vec::new(),
            byte_level: false,
            cache: RefCell::new(PieceCache {
                budget: CACHE_BUDGET_BYTES,
                ..PieceCache::default()
            }),
        };
        fast.add_steps(tokenizer.get_pre_tokenizer()?)?;
        let added: Vec<String> = tokenizer
            .get_added_tokens_decoder()
            .into_values()
            .map(|t| t.content)
            .collect();
        if !added.is_empty() {
            if added.iter().any(String::is_empty) {
                return None;
            }
            fast.added_tokens = Some(AhoCorasick::new(&added).ok()?);
        }
        Some(fast)
    }

    fn add_steps(&mut self, step: &PreTokenizerWrapper) -> Option<()> {
        if self.byte_level {
            return None; // a step after the byte-level mapping would see mapped text
        }
        match step {
            PreTokenizerWrapper::Sequence(steps) => {
                for step in steps.as_ref() {
                    self.add_steps(step)?;
                }
            }
            PreTokenizerWrapper::Split(split) => {
                if split.invert || split.behavior != SplitDelimiterBehavior::Isolated {
                    return None;
                }
                let SplitPattern::Regex(pattern) = &split.pattern else {
                    return None;
                };
                self.splits.push(SplitRegex::new(pattern)?);
            }
            PreTokenizerWrapper::ByteLevel(byte_level) => {
                if byte_level.add_prefix_space {
                    return None;
                }
                if byte_level.use_regex {
                    self.splits.push(SplitRegex::new(GPT2_PATTERN)?);
                }
                self.byte_level = true;
            }
            _ => return None,
        }
        Some(())
    }

    /// Calls `ids` with the ids of `text`, in order, a piece at a time.
    pub fn encode_with(
        &self,
        tokenizer: &Tokenizer,
        text: &str,
        ids: &mut impl FnMut(&[u32]),
    ) -> tokenizers::Result<()> {
        let may_hold_added_token = self
            .added_tokens
            .as_ref()
            .is_some_and(|tokens| tokens.is_match(text));
        if !may_hold_added_token {
            return self.split(tokenizer, 0, text, ids);
        }
        let pretokenized = tokenizer
            .get_added_vocabulary()
            .extract_and_normalize(None::<&NormalizerWrapper>, text);
        for (segment, _, tokens) in
            pretokenized.get_splits(OffsetReferential::Normalized, OffsetType::None)
        {
            match tokens {
                Some(tokens) => ids(&tokens.iter().map(|t| t.id).collect::<Vec<_>>()),
                None => self.split(tokenizer, 0, segment, ids)?,
            }
        }
        Ok(())
    }

    /// Cuts `text` by the split steps from `step` on, then encodes each last piece.
    fn split(
        &self,
        tokenizer: &Tokenizer,
        step: usize,
        text: &str,
        ids: &mut impl FnMut(&[u32]),
    ) -> tokenizers::Result<()> {
        match self.splits.get(step) {
            Some(regex) => regex.for_each_piece(text, &mut |piece| {
                self.split(tokenizer, step + 1, piece, ids)
            }),
            None => self.encode_piece(tokenizer, text, ids),
        }
    }

    fn encode_piece(
        &self,
        tokenizer: &Tokenizer,
        piece: &str,
        ids: &mut impl FnMut(&[u32]),
    ) -> tokenizers::Result<()> {
        if let Some(cached) = self.cache.borrow().ids.get(piece) {
            ids(cached);
            return Ok(());
        }
        let tokens = if self.byte_level {
            let mapped: String = piece.bytes().map(byte_level_char).collect();
            tokenizer.get_model().tokenize(&mapped)?
        } else {
            tokenizer.get_model().tokenize(piece)?
        };
        let piece_ids: Box<[u32]> = tokens.iter().map(|t| t.id).collect();
        ids(&piece_ids);
        let mut cache = self.cache.borrow_mut();
        let entry_bytes = piece.len() + 4 * piece_ids.len() + CACHE_ENTRY_OVERHEAD_BYTES;
        if piece.len() <= MAX_CACHED_PIECE_BYTES && cache.bytes + entry_bytes <= cache.budget {
            cache.bytes += entry_bytes;
            cache.ids.insert(piece.into(), piece_ids);
        }
        Ok(())
    }

    /// Bytes the piece cache takes by [`CACHE_ENTRY_OVERHEAD_BYTES`]'s measure (for tests).
    #[cfg(test)]
    fn cache_bytes(&self) -> usize {
        self.cache.borrow().bytes
    }

    #[cfg(test)]
    fn set_cache_budget(&self, bytes: usize) {
        self.cache.borrow_mut().budget = bytes;
    }
}

/// GPT-2's byte-to-character map (`bytes_to_unicode`): printable Latin-1 bytes stand for
/// themselves; the other 68 bytes, in order, become U+0100 onwards.
const BYTE_LEVEL_CHARS: [char; 256] = {
    let mut out = ['\0'; 256];
    let mut shifted = 0;
    let mut byte = 0;
    while byte < 256 {
        out[byte] = if matches!(byte as u8, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF) {
            byte as u8 as char
        } else {
            shifted += 1;
            match char::from_u32(255 + shifted) {
                Some(c) => c,
                None => '\0',
            }
        };
        byte += 1;
    }
    out
};

fn byte_level_char(byte: u8) -> char {
    BYTE_LEVEL_CHARS[usize::from(byte)]
}

#[cfg(test)]
mod tests;
