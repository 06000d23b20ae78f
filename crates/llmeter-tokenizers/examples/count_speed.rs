//! Native counting speed on a text file, in 2,000-character pieces (as `npm run bench` does in
//! wasm): `cargo run --release --example count_speed -- <tokenizer.json> <text file>`.
use llmeter_tokenizers::HfTokenizer;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tokenizer = HfTokenizer::from_json_bytes(&std::fs::read(&args[1]).expect("tokenizer.json"))
        .expect("loads");
    let text = std::fs::read_to_string(&args[2]).expect("text");
    let chars: Vec<char> = text.chars().collect();
    let pieces: Vec<String> = chars.chunks(2000).map(|c| c.iter().collect()).collect();
    for _ in 0..5 {
        let start = Instant::now();
        let tokens: usize = pieces
            .iter()
            .map(|p| tokenizer.count_tokens(p).expect("counts"))
            .sum();
        let seconds = start.elapsed().as_secs_f64();
        println!("{tokens} tokens, {:.0} tokens/s", tokens as f64 / seconds);
    }
}
