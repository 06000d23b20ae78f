//! A pre-tokenizer regex run on `regex-automata` (a lazy DFA) instead of `fancy-regex` (a
//! backtracking VM), with the same matches.
//!
//! The byte-level BPE patterns (GPT-2, Llama 3, Qwen, DeepSeek, …) need a backtracking engine
//! for one alternative only, `\s+(?!\S)`: a run of whitespace, less its last character when a
//! non-space follows. At a position where the alternatives before it fail, it matches exactly
//! where `\s+\z` (the run ends the text: all of it) or `\s+\s` (two or more: all but the last
//! character, dropped after the match) does. The pattern is cut at its top-level `|` into
//! alternatives, that one is replaced by those two, and all are searched as one multi-pattern
//! regex whose leftmost-first order is the alternation's. Any other look-around, back-reference,
//! or construct `regex-automata` rejects leaves the pattern to `fancy-regex` (see
//! [`SplitRegex::new`]).

use regex_automata::meta::Regex;
use regex_automata::Input;

/// `\s+(?!\S)` as written in tokenizer.json patterns.
const WHITESPACE_NOT_BEFORE_TEXT: &str = r"\s+(?!\S)";

#[derive(Debug)]
pub struct SplitRegex {
    regex: Regex,
    /// Per pattern id: a match of this pattern gives back its last character.
    drops_last_char: Vec<bool>,
}

impl SplitRegex {
    /// `None` when the pattern cannot be run here with certainty of the same matches: any
    /// look-around other than `\s+(?!\S)` as a whole alternative, a flag group without a colon
    /// (`(?i)` would also cover later alternatives), an alternative that can match the empty
    /// string, or a pattern `regex-automata` does not accept (possessive quantifiers, …).
    pub fn new(pattern: &str) -> Option<SplitRegex> {
        let mut patterns = Vec::new();
        let mut drops_last_char = Vec::new();
        for alternative in top_level_alternatives(pattern)? {
            if alternative == WHITESPACE_NOT_BEFORE_TEXT {
                patterns.extend([r"\s+\z".to_string(), r"\s+\s".to_string()]);
                drops_last_char.extend([false, true]);
            } else {
                let hir = regex_syntax::parse(alternative).ok()?;
                if hir.properties().minimum_len().is_none_or(|n| n == 0) {
                    return None;
                }
                patterns.push(alternative.to_string());
                drops_last_char.push(false);
            }
        }
        let regex = Regex::new_many(&patterns).ok()?;
        Some(SplitRegex {
            regex,
            drops_last_char,
        })
    }

    /// Calls `piece` with each piece of `text` in order, as `Split` with behavior `Isolated`
    /// cuts it: every match, and every stretch between matches.
    pub fn for_each_piece<E>(
        &self,
        text: &str,
        piece: &mut impl FnMut(&str) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut gap_start = 0;
        let mut at = 0;
        while at < text.len() {
            let Some(found) = self.regex.search(&Input::new(text).range(at..)) else {
                break;
            };
            let mut end = found.end();
            if self.drops_last_char[found.pattern().as_usize()] {
                // `\s+\s` matched at least two characters: one is left.
                end -= text[..end].chars().next_back().map_or(0, char::len_utf8);
            }
            if gap_start < found.start() {
                piece(&text[gap_start..found.start()])?;
            }
            piece(&text[found.start()..end])?;
            gap_start = end;
            at = end;
        }
        if gap_start < text.len() {
            piece(&text[gap_start..])?;
        }
        Ok(())
    }
}

/// The pattern cut at each `|` outside groups, character classes and escapes; `None` for a
/// construct whose meaning would change when cut, or a malformed pattern.
fn top_level_alternatives(pattern: &str) -> Option<Vec<&str>> {
    let bytes = pattern.as_bytes();
    let mut alternatives = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i = escape_end(bytes, i),
            b'[' => i = class_end(bytes, i)?,
            // `x?+`, `x*+`, `x++`, `x{2}+` are possessive to fancy-regex and nested repetitions
            // to regex-automata: leave such patterns to fancy-regex.
            b'?' | b'*' | b'+' | b'}' if matches!(bytes.get(i + 1), Some(b'+' | b'*' | b'{')) => {
                return None
            }
            b'(' => {
                if bytes.get(i + 1) == Some(&b'?') {
                    let rest = &bytes[i + 2..];
                    let flags = rest
                        .iter()
                        .take_while(|b| b.is_ascii_alphabetic() || **b == b'-')
                        .count();
                    if rest.get(flags) == Some(&b')') {
                        return None; // `(?i)`: its flags run on past the next `|`
                    }
                }
                depth += 1;
            }
            b')' => depth = depth.checked_sub(1)?,
            b'|' if depth == 0 => {
                alternatives.push(&pattern[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return None;
    }
    alternatives.push(&pattern[start..]);
    Some(alternatives)
}

/// Index of the last byte of the escape at `at` (`\\s`, `\\p{L}`, `\\x{1F600}`, …). A multi-byte
/// escaped character ends at its first byte: the others are never special.
fn escape_end(bytes: &[u8], at: usize) -> usize {
    match (bytes.get(at + 1), bytes.get(at + 2)) {
        (Some(b'p' | b'P' | b'x' | b'u' | b'U'), Some(b'{')) => bytes[at + 2..]
            .iter()
            .position(|&b| b == b'}')
            .map_or(bytes.len(), |close| at + 2 + close),
        _ => at + 1,
    }
}

/// Index of the `]` closing the class opened at `open` (nested classes and escapes inside; a
/// `]` first in the class, after an optional `^`, is a literal).
fn class_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    if bytes.get(i) == Some(&b'^') {
        i += 1;
    }
    if bytes.get(i) == Some(&b']') {
        i += 1;
    }
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i = escape_end(bytes, i),
            b'[' => i = class_end(bytes, i)?,
            b']' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
pub(crate) mod tests;
