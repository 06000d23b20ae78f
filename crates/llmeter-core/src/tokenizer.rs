//! Token counting as an interface: the default is LLMeter's `DummyTokenizer` rule (Python
//! `str.split()`); HF tokenizers and JS objects with `encode(text)` plug in through the trait.

pub trait Tokenizer {
    fn count_tokens(&self, text: &str) -> usize;
    /// First `n` tokens of `text` decoded back to text (for prompts of a target length).
    fn truncate(&self, text: &str, n: usize) -> String;
    /// Serialized description for `run_config.json` (LLMeter's flat `tokenizer_module` form).
    fn describe(&self) -> serde_json::Value;
    /// The first failure of a tokenizer that can fail (a user's JS tokenizer that threw or
    /// returned no array): counts since then are not to be trusted.
    fn failure(&self) -> Option<String> {
        None
    }
}

/// LLMeter's `DummyTokenizer`: tokens are runs of non-whitespace (Unicode whitespace, as
/// Python's `str.split()` with no argument).
#[derive(Debug, Clone, Copy, Default)]
pub struct WhitespaceTokenizer;

impl Tokenizer for WhitespaceTokenizer {
    fn count_tokens(&self, text: &str) -> usize {
        text.split(is_py_whitespace)
            .filter(|w| !w.is_empty())
            .count()
    }

    fn truncate(&self, text: &str, n: usize) -> String {
        let words: Vec<&str> = text
            .split(is_py_whitespace)
            .filter(|w| !w.is_empty())
            .take(n)
            .collect();
        words.join(" ")
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "tokenizer_module": "llmeter" })
    }
}

/// Python's `str.isspace()` set used by `str.split()`: Unicode White_Space plus the ASCII
/// information separators 0x1C–0x1F.
fn is_py_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_python_split() {
        let t = WhitespaceTokenizer;
        assert_eq!(t.count_tokens("  a\tb\n c  "), 3);
        assert_eq!(t.count_tokens(""), 0);
        assert_eq!(t.count_tokens(" \n\t "), 0);
        assert_eq!(t.count_tokens("None"), 1);
        assert_eq!(t.count_tokens("a\u{3000}b\u{a0}c\u{1f}d"), 4);
        assert_eq!(t.count_tokens("héllo wörld 🎉"), 3);
    }

    #[test]
    fn truncates_to_first_words() {
        let t = WhitespaceTokenizer;
        assert_eq!(t.truncate("one  two\nthree four", 3), "one two three");
        assert_eq!(t.truncate("one", 5), "one");
    }
}
