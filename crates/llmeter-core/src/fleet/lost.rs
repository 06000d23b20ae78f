//! The result of a shard whose worker died (crashed, ran out of memory, was terminated): what it
//! finished before is kept, and every request it still owed becomes a response with an error —
//! so a failed worker fails only its own clients' requests, each visibly.

use super::manifest::ShardManifest;
use crate::endpoint::EndpointInfo;
use crate::response::{InvocationResponse, ResponseTimings};
use crate::result::{RunInfo, RunResult, Summary};
use crate::rng::SplitMix64;
use crate::runner::fill_token_counts;
use crate::time::format_utc;
use crate::tokenizer::Tokenizer;
use serde_json::{Map, Value};

pub struct LostShard {
    pub clients: u32,
    /// Requests the shard was to send (count-bound), or `None` (time-bound: each client had
    /// one request in flight).
    pub expected_requests: Option<u64>,
    /// Responses the shard reported before it died, with their timings.
    pub received: Vec<InvocationResponse>,
    pub timings: Vec<ResponseTimings>,
    /// Why it died, as the platform said.
    pub error: String,
    pub start_unix_ms: f64,
    pub end_unix_ms: f64,
    pub run_name: Option<String>,
    pub endpoint: EndpointInfo,
    pub manifest: Option<ShardManifest>,
    pub seed: u64,
}

/// Builds the dead shard's result (see the module docs). Token counts of the received
/// responses are filled as the runner does, with `tokenizer`.
pub fn lost_shard(lost: LostShard, tokenizer: &dyn Tokenizer) -> RunResult {
    let LostShard {
        clients,
        expected_requests,
        mut received,
        timings,
        error,
        start_unix_ms,
        end_unix_ms,
        run_name,
        endpoint,
        manifest,
        seed,
    } = lost;
    let owed = match expected_requests {
        Some(n) => n.saturating_sub(received.len() as u64),
        None => clients as u64,
    };
    let mut ids = SplitMix64::new(seed ^ (end_unix_ms as u64).rotate_left(23));
    let message = format!("worker failed: {error}");
    for r in received.iter_mut() {
        let _ = fill_token_counts(r, Some(tokenizer));
    }
    let mut timings = timings;
    for _ in 0..owed {
        let id = ids.hex_id();
        received.push(InvocationResponse {
            id: Some(id.clone()),
            error: Some(message.clone()),
            request_time: Some(format_utc(end_unix_ms)),
            ..InvocationResponse::default()
        });
        timings.push(ResponseTimings {
            id,
            ..ResponseTimings::default()
        });
    }
    let total = received.len() as u64;
    let shard_name = manifest
        .as_ref()
        .map_or("a worker", |m| m.shard_id.as_str());
    let info = RunInfo {
        warnings: vec![format!(
            "{shard_name} failed ({error}): its {owed} unfinished requests are recorded as errors"
        )],
        shard: manifest.as_ref().map(ShardManifest::to_value),
        ..RunInfo::default()
    };
    let summary = Summary {
        total_requests: Some(total),
        clients,
        n_requests: Summary::n_requests_per_client(
            expected_requests.map(|n| n / clients.max(1) as u64),
            total,
            clients,
            false,
        ),
        total_test_time: Some(((end_unix_ms - start_unix_ms) / 1000.0).max(0.0)),
        model_id: endpoint.model_id,
        output_path: None,
        endpoint_name: endpoint.endpoint_name,
        provider: endpoint.provider,
        run_name,
        run_description: None,
        start_time: Some(format_utc(start_unix_ms)),
        first_request_time: None,
        last_request_time: None,
        end_time: Some(format_utc(end_unix_ms)),
    };
    RunResult::new(
        summary,
        received,
        timings,
        info,
        Map::<String, Value>::new(),
        Vec::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::WhitespaceTokenizer;

    fn lost(expected: Option<u64>, received: usize) -> RunResult {
        let received: Vec<InvocationResponse> = (0..received)
            .map(|i| InvocationResponse {
                id: Some(format!("ok{i}")),
                response_text: Some("two words".into()),
                time_to_first_token: Some(0.1),
                time_to_last_token: Some(0.2),
                request_time: Some(format_utc(1_735_732_800_000.0)),
                ..InvocationResponse::default()
            })
            .collect();
        let timings = received
            .iter()
            .map(|r| ResponseTimings {
                id: r.id.clone().unwrap(),
                ..ResponseTimings::default()
            })
            .collect();
        lost_shard(
            LostShard {
                clients: 4,
                expected_requests: expected,
                received,
                timings,
                error: "Worker terminated".into(),
                start_unix_ms: 1_735_732_800_000.0,
                end_unix_ms: 1_735_732_802_500.0,
                run_name: Some("r".into()),
                endpoint: EndpointInfo {
                    endpoint_name: Some("e".into()),
                    model_id: Some("m".into()),
                    provider: Some("p".into()),
                    endpoint_type: "X".into(),
                },
                manifest: None,
                seed: 1,
            },
            &WhitespaceTokenizer,
        )
    }

    #[test]
    fn owed_requests_become_errors_and_finished_ones_stay() {
        let r = lost(Some(12), 5);
        assert_eq!(r.summary.total_requests, Some(12));
        assert_eq!(r.summary.n_requests, Some(3));
        assert_eq!(r.stats["failed_requests"], serde_json::json!(7));
        assert!(r.responses[5..]
            .iter()
            .all(|x| x.error.as_deref() == Some("worker failed: Worker terminated")));
        assert_eq!(
            r.responses[0].num_tokens_output,
            Some(2),
            "token fallback ran"
        );
        assert_eq!(r.summary.total_test_time, Some(2.5));
        assert!(r.info.warnings[0].contains("its 7 unfinished requests"));
        let ids: std::collections::HashSet<_> = r.responses.iter().map(|x| x.id.clone()).collect();
        assert_eq!(ids.len(), 12);
        // Time-bound: one in-flight request per client.
        assert_eq!(lost(None, 3).stats["failed_requests"], serde_json::json!(4));
    }
}
