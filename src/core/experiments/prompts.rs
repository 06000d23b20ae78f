//! Prompts of a target token length, LLMeter's `CreatePromptCollection` idea: contiguous text
//! from the start of a source, measured with the tokenizer the endpoint is judged by.
//!
//! Exactness: the prompt is the longest prefix of the source (cut at a character boundary, then
//! trailing whitespace dropped when that keeps the count) whose token count is at most the
//! target; for a tokenizer whose count grows by one token at a time along the text (whitespace
//! words; BPE/WordPiece on ordinary text) that count equals the target exactly. It is below the
//! target only when the source is shorter than the target, or when one character adds several
//! tokens at the cut (then the count is at most a few tokens short). `tokens` always holds the
//! measured count.

use crate::core::tokenizer::Tokenizer;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// The requested length.
    pub target_tokens: u32,
    /// The prompt's token count under the tokenizer.
    pub tokens: u32,
    pub text: String,
}

/// How far past a short prefix to look for one with exactly the target count, in characters.
const EXACT_SEARCH_CHARS: usize = 64;

pub fn prompt_of_length(source: &str, target: u32, tokenizer: &dyn Tokenizer) -> Prompt {
    let count = |end: usize| tokenizer.count_tokens(&source[..end]) as u32;
    let boundaries: Vec<usize> = source
        .char_indices()
        .map(|(i, _)| i)
        .skip(1)
        .chain(std::iter::once(source.len()))
        .collect();
    if boundaries.is_empty() || target == 0 {
        return Prompt {
            target_tokens: target,
            tokens: 0,
            text: String::new(),
        };
    }
    // Smallest window [lo, hi) of boundary indices with count(lo) <= target < count(hi), found by
    // doubling then bisection, so the text tokenized stays O(prompt length · log).
    let last = boundaries.len() - 1;
    let mut hi = (target as usize * 4).clamp(1, last);
    while hi < last && count(boundaries[hi]) <= target {
        hi = (hi * 2).min(last);
    }
    let mut best = if count(boundaries[hi]) <= target {
        hi
    } else {
        let mut lo = 0usize;
        if count(boundaries[lo]) > target {
            // Even the first character is over (a target smaller than one character's tokens).
            return Prompt {
                target_tokens: target,
                tokens: 0,
                text: String::new(),
            };
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if count(boundaries[mid]) <= target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let mut tokens = count(boundaries[best]);
    if tokens < target {
        for i in best + 1..(best + 1 + EXACT_SEARCH_CHARS).min(boundaries.len()) {
            if count(boundaries[i]) == target {
                best = i;
                tokens = target;
                break;
            }
        }
    }
    let text = &source[..boundaries[best]];
    let trimmed = text.trim_end();
    let text = if trimmed.len() < text.len() && count(trimmed.len()) == tokens {
        trimmed
    } else {
        text
    };
    Prompt {
        target_tokens: target,
        tokens,
        text: text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::tokenizer::WhitespaceTokenizer;

    #[test]
    fn whitespace_prefix() {
        let p = prompt_of_length("one two  three\nfour five", 3, &WhitespaceTokenizer);
        assert_eq!(p.text, "one two  three");
        assert_eq!(p.tokens, 3);
        let p = prompt_of_length("one two", 5, &WhitespaceTokenizer);
        assert_eq!((p.text.as_str(), p.tokens), ("one two", 2));
    }
}
