//! Feeds arbitrary run folders to the result loader: `RunResult::from_files` (every file whole)
//! against `RunResultBuilder` fed the way `js/result-loader.js` feeds it (the small files first,
//! then `responses.jsonl` and `chunk_timings.jsonl` in pieces that may end anywhere, inside a
//! line or right after a `\r`). Checks: no panic, and the pieces give exactly the same result or
//! the same error as the whole files. A loaded result must also write itself back out.
//!
//! Input: one byte saying which files exist, one byte for the piece sizes, then the files'
//! contents in the order of `FILES`, separated by 0xFF (a byte UTF-8 never contains).
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmeter_core::result::{RunResult, RunResultBuilder};

const FILES: [&str; 7] = [
    "responses.jsonl",
    "chunk_timings.jsonl",
    "summary.json",
    "stats.json",
    "run_config.json",
    "run_info.json",
    "payload.jsonl",
];
const PIECEWISE: [&str; 2] = ["responses.jsonl", "chunk_timings.jsonl"];

/// Piece lengths: all equal (1 to 64 bytes), or varying from 0 to 63 bytes by a small generator
/// (an empty piece is allowed: it only marks the file present). Cuts move forward to the next
/// character boundary, as the JS loader's pieces are whole strings.
fn pieces(text: &str, control: u8) -> Vec<&str> {
    let mut out = Vec::new();
    let mut state = u32::from(control) | 1;
    let mut start = 0;
    while start < text.len() {
        let size = if control & 0x80 == 0 {
            usize::from(control & 0x3f) + 1
        } else {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state % 64) as usize
        };
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

fn in_pieces(files: &[(String, String)], control: u8) -> Result<RunResult, String> {
    let small: Vec<(String, String)> = files
        .iter()
        .filter(|(name, _)| !PIECEWISE.contains(&name.as_str()))
        .cloned()
        .collect();
    let mut builder = RunResultBuilder::new(&small)?;
    for (name, text) in files.iter().filter(|(name, _)| PIECEWISE.contains(&name.as_str())) {
        // The JS loader marks a file present with an empty piece before its first one.
        let mut push = |piece: &str| {
            if name == PIECEWISE[0] {
                builder.push_responses(piece)
            } else {
                builder.push_timings(piece)
            }
        };
        push("")?;
        for piece in pieces(text, control) {
            push(piece)?;
        }
    }
    builder.finish()
}

fuzz_target!(|input: &[u8]| {
    let [present, control, rest @ ..] = input else { return };
    let mut contents = rest.split(|&b| b == 0xff);
    let mut files = Vec::new();
    for (i, name) in FILES.iter().enumerate() {
        if present & (1 << i) == 0 {
            continue;
        }
        let text = String::from_utf8_lossy(contents.next().unwrap_or_default()).into_owned();
        // Bit 7: a folder prefix, which only the last path component of a name ignores.
        let name = if present & 0x80 != 0 { format!("run/{name}") } else { name.to_string() };
        files.push((name, text));
    }

    let whole = RunResult::from_files(&files);
    let pieces = in_pieces(&files, *control);
    assert_eq!(whole, pieces);
    if let Ok(result) = whole {
        let _ = result.to_files();
    }
});
