use super::*;

/// Pre-tokenizer patterns of real tokenizer.json files.
pub(crate) const PATTERNS: [(&str, &str); 5] = [
    (
        "GPT-2 (ByteLevel use_regex)",
        r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
    ),
    (
        "Llama 3",
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ),
    (
        "Qwen 2",
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ),
    (
        "DeepSeek V3 (third split)",
        r"[!-/:-~‘-‟　-。]+|\s*[\r\n]+|\s+(?!\S)|\s+|[\p{L}\p{N}]+| ?[^\s\p{L}\p{N}]+[\r\n]*",
    ),
    (
        "o200k / gpt-oss",
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ),
];

/// What `tokenizers` does with the pattern: `fancy-regex` matches, and the stretches between.
pub(crate) fn reference_pieces(regex: &fancy_regex::Regex, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut previous = 0;
    for found in regex.find_iter(text) {
        let found = found.expect("no backtrack limit on these inputs");
        if previous != found.start() {
            out.push(text[previous..found.start()].to_string());
        }
        out.push(found.as_str().to_string());
        previous = found.end();
    }
    if previous != text.len() {
        out.push(text[previous..].to_string());
    }
    out
}

pub(crate) fn fast_pieces(regex: &SplitRegex, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    regex
        .for_each_piece(text, &mut |piece| {
            out.push(piece.to_string());
            Ok::<(), ()>(())
        })
        .expect("no error");
    out
}

/// Characters each alternative of the patterns above treats apart: whitespace of every kind,
/// line ends, contractions, letters by case and script, marks, digits of several scripts,
/// punctuation, symbols, emoji and joiners.
pub(crate) const ALPHABET: [&str; 40] = [
    " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\u{a0}", "\u{3000}", "\u{2028}", "\u{85}", "\u{b}",
    "'s", "'S", "'ll", "'", "a", "Z", "é", "ß", "Ж", "字", "ひ", "ア", "\u{301}", "\u{94d}", "1",
    "234", "٣", "²", ".", "!", "/", "‘", "。", "$", "😀", "\u{200d}", "\u{fe0f}", "_",
];

/// Deterministic texts: `count` strings of up to `max_parts` alphabet entries.
pub(crate) fn random_texts(count: usize, max_parts: usize, seed: u64) -> Vec<String> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let parts = next() as usize % (max_parts + 1);
            (0..parts)
                .map(|_| ALPHABET[next() as usize % ALPHABET.len()])
                .collect()
        })
        .collect()
}

#[test]
fn real_patterns_are_taken_and_cut_text_exactly_as_fancy_regex() {
    let fixed = [
        "",
        " ",
        "  ",
        "a  ",
        "a  b",
        "a \n b",
        "  \n\n  x\r\n\r\n",
        "Hello world, it's 12345 o'clock!!\n\n    fn main() {}\n",
        "tabs\t\tand\u{3000}ideographic\u{a0}spaces   ",
        "don'T I'LL we've",
        "😀😀 \u{200d} e\u{301}",
    ];
    for (name, pattern) in PATTERNS {
        let regex = SplitRegex::new(pattern).unwrap_or_else(|| panic!("{name} is taken"));
        let reference = fancy_regex::Regex::new(pattern).expect("valid pattern");
        for text in fixed
            .iter()
            .map(|t| t.to_string())
            .chain(random_texts(3000, 24, 7))
        {
            assert_eq!(
                fast_pieces(&regex, &text),
                reference_pieces(&reference, &text),
                "{name} on {text:?}"
            );
        }
    }
}

#[test]
fn whitespace_before_text_leaves_its_last_character_but_not_at_the_end() {
    let regex = SplitRegex::new(PATTERNS[0].1).expect("GPT-2 pattern");
    assert_eq!(fast_pieces(&regex, "a   b"), ["a", "  ", " b"]);
    assert_eq!(fast_pieces(&regex, "a   "), ["a", "   "]);
    assert_eq!(fast_pieces(&regex, "a b"), ["a", " b"]);
}

#[test]
fn patterns_that_might_match_differently_are_left_to_fancy_regex() {
    for pattern in [
        r"[^\r\n\p{L}\p{N}]?+\p{L}+|\s+",  // possessive (tiktoken's cl100k)
        r" ?[^\s\p{L}\p{N}]++[\r\n]*|\s+", // possessive
        r"a{2}+|b",                        // possessive counted repetition
        r"(?i)ab|cd",                      // flags that run past the `|`
        r"\s+(?=\S)|\s+",                  // other look-ahead
        r"(?<=a)b|c",                      // look-behind
        r"(a)\1|b",                        // back-reference
        r"a||b",                           // an alternative matching the empty string
        r"a*|b",                           // same
        r"(a|b",                           // malformed
        r"[a|b",                           // malformed
    ] {
        assert!(SplitRegex::new(pattern).is_none(), "{pattern}");
    }
    // `|` inside groups and classes, escapes with braces, lazy quantifiers: kept.
    for pattern in [r"(?:a|b)+|[|]+", r"\p{N}{1,3}|\x{1F600}+", r"a+?b|c{2,3}?"] {
        let regex = SplitRegex::new(pattern).unwrap_or_else(|| panic!("{pattern} is taken"));
        let reference = fancy_regex::Regex::new(pattern).expect("valid pattern");
        for text in ["ab|ba||x", "12345😀😀", "aab ccc cc"] {
            assert_eq!(
                fast_pieces(&regex, text),
                reference_pieces(&reference, text),
                "{pattern} on {text:?}"
            );
        }
    }
}

#[test]
fn top_level_alternatives_skip_groups_classes_and_escapes() {
    assert_eq!(
        top_level_alternatives(r"(?i:'s|'t)|[^|\]]+|\||\p{L}+|x").expect("cut"),
        [r"(?i:'s|'t)", r"[^|\]]+", r"\|", r"\p{L}+", "x"]
    );
    assert_eq!(
        top_level_alternatives(r"[]|]|a").expect("cut"),
        ["[]|]", "a"]
    );
}
