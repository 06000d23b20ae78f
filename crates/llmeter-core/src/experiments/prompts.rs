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

use crate::tokenizer::Tokenizer;
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
    let empty = || Prompt {
        target_tokens: target,
        tokens: 0,
        text: String::new(),
    };
    if source.is_empty() || target == 0 {
        return empty();
    }
    let count = |end: usize| tokenizer.count_tokens(&source[..end]) as u32;
    // Only the start of a long source matters: grow a window (in characters) until it holds
    // more than `target` tokens or the whole source, so a book-sized source costs no more than
    // a few prompt-sized tokenizations.
    let byte_after = |chars: usize| {
        source
            .char_indices()
            .nth(chars)
            .map_or(source.len(), |(i, _)| i)
    };
    let mut window = (target as usize).saturating_mul(8).max(64);
    let mut end = byte_after(window);
    while end < source.len() && count(end) <= target {
        window = window.saturating_mul(2);
        end = byte_after(window);
    }
    // Cut points: after each character of the window.
    let boundaries: Vec<usize> = source[..end]
        .char_indices()
        .map(|(i, _)| i)
        .skip(1)
        .chain(std::iter::once(end))
        .collect();
    let last = boundaries.len() - 1;
    // Bisection for count(lo) <= target < count(hi).
    let mut best = if count(boundaries[last]) <= target {
        last
    } else {
        if count(boundaries[0]) > target {
            // Even the first character is over (a target smaller than one character's tokens).
            return empty();
        }
        let (mut lo, mut hi) = (0usize, last);
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
        let mut ahead = boundaries
            .iter()
            .enumerate()
            .skip(best + 1)
            .take(EXACT_SEARCH_CHARS);
        if let Some((i, _)) = ahead.find(|(_, &end)| count(end) == target) {
            best = i;
            tokens = target;
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
    use crate::tokenizer::WhitespaceTokenizer;

    #[test]
    fn whitespace_prefix() {
        let p = prompt_of_length("one two  three\nfour five", 3, &WhitespaceTokenizer);
        assert_eq!(p.text, "one two  three");
        assert_eq!(p.tokens, 3);
        let p = prompt_of_length("one two", 5, &WhitespaceTokenizer);
        assert_eq!((p.text.as_str(), p.tokens), ("one two", 2));
    }
}
