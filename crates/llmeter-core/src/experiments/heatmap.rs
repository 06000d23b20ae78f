//! LatencyHeatmap's plan: one prompt per input length, every (input, output) cell repeated
//! `requests_per_combination` times in a seeded shuffled order. The run sends that list with
//! `PayloadAssignment::EachOnce`, so each cell gets exactly its requests for any client count
//! (LLMeter's floor division and shared client order leave most cells empty), and each
//! response's `payload_index` maps it back to its cell.

use super::prompts::{prompt_of_length, Prompt};
use crate::response::ResponseTimings;
use crate::rng::{shuffled_indices, SplitMix64};
use crate::runner::{type_err, OptionError};
use crate::tokenizer::Tokenizer;
use serde::{Deserialize, Serialize};

/// One request of the plan: indices into `input_lengths` and `output_lengths`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellRequest {
    pub input: u32,
    pub output: u32,
}

/// Saved as `heatmap.json` next to the run's files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatmapPlan {
    pub input_lengths: Vec<u32>,
    pub output_lengths: Vec<u32>,
    pub requests_per_combination: u32,
    /// `prompts[i]` is the prompt for `input_lengths[i]`.
    pub prompts: Vec<Prompt>,
    /// Payload order: `requests[k]` is what payload `k` asks.
    pub requests: Vec<CellRequest>,
}

pub const HEATMAP_FILE: &str = "heatmap.json";

fn range_err(option: &'static str, message: impl Into<String>) -> OptionError {
    OptionError {
        option,
        message: message.into(),
        is_range: true,
    }
}

/// Upper bound on a heatmap's requests, so a typo cannot plan millions of payloads.
pub const MAX_HEATMAP_REQUESTS: u64 = 1_000_000;

pub fn plan(
    source: &str,
    input_lengths: &[u32],
    output_lengths: &[u32],
    requests_per_combination: u32,
    tokenizer: &dyn Tokenizer,
    seed: u64,
) -> Result<HeatmapPlan, OptionError> {
    if input_lengths.is_empty() || input_lengths.contains(&0) {
        return Err(range_err(
            "inputLengths",
            "give at least one positive token count",
        ));
    }
    if output_lengths.is_empty() || output_lengths.contains(&0) {
        return Err(range_err(
            "outputLengths",
            "give at least one positive token count",
        ));
    }
    if requests_per_combination == 0 {
        return Err(range_err(
            "requestsPerCombination",
            "must be a positive integer",
        ));
    }
    let total =
        input_lengths.len() as u64 * output_lengths.len() as u64 * requests_per_combination as u64;
    if total > MAX_HEATMAP_REQUESTS {
        return Err(range_err(
            "requestsPerCombination",
            format!("{total} requests is more than {MAX_HEATMAP_REQUESTS}"),
        ));
    }
    if tokenizer.count_tokens(source) == 0 {
        return Err(range_err(
            "sourceText",
            "has no tokens to build prompts from",
        ));
    }
    let prompts: Vec<Prompt> = input_lengths
        .iter()
        .map(|&n| prompt_of_length(source, n, tokenizer))
        .collect();
    if let Some(e) = tokenizer.failure() {
        return Err(type_err("tokenizer", format!("failed: {e}")));
    }
    // A prompt can only be as long as the source: asking for more is a mistake, not a
    // shorter prompt measured as if it were the length asked for.
    if prompts.iter().any(|p| p.tokens < p.target_tokens) {
        let available = tokenizer.count_tokens(source) as u32;
        if let Some(&longest) = input_lengths.iter().filter(|&&n| n > available).max() {
            return Err(range_err(
                "inputLengths",
                format!(
                    "{longest} tokens is longer than sourceText ({available} tokens with this tokenizer): give a longer text or shorter inputLengths"
                ),
            ));
        }
    }
    let mut cells = Vec::with_capacity(total as usize);
    for _ in 0..requests_per_combination {
        for input in 0..input_lengths.len() as u32 {
            for output in 0..output_lengths.len() as u32 {
                cells.push(CellRequest { input, output });
            }
        }
    }
    let order = shuffled_indices(cells.len(), &mut SplitMix64::new(seed));
    let requests = order.into_iter().map(|i| cells[i]).collect();
    Ok(HeatmapPlan {
        input_lengths: input_lengths.to_vec(),
        output_lengths: output_lengths.to_vec(),
        requests_per_combination,
        prompts,
        requests,
    })
}

impl HeatmapPlan {
    /// Response indices per cell, `cells[input * output_lengths.len() + output]`, from the
    /// `payload_index` of each response's timings (responses without one are left out).
    pub fn responses_by_cell(&self, timings: &[ResponseTimings]) -> Vec<Vec<usize>> {
        let mut cells = vec![Vec::new(); self.input_lengths.len() * self.output_lengths.len()];
        for (i, t) in timings.iter().enumerate() {
            if let Some(cell) = t.payload_index.and_then(|k| self.cell_of(k)) {
                cells[cell].push(i);
            }
        }
        cells
    }

    /// The cell (`input * output_lengths.len() + output`) of the request sent with payload
    /// `payload_index`, if the plan has it.
    pub fn cell_of(&self, payload_index: u32) -> Option<usize> {
        let req = self.requests.get(payload_index as usize)?;
        let cell = req.input as usize * self.output_lengths.len() + req.output as usize;
        (cell < self.input_lengths.len() * self.output_lengths.len()).then_some(cell)
    }
}
