//! Shards in, merged result out, as run folders (`{file name: text}`): the form results cross
//! between wasm modules, are uploaded, and are read back from a store.

use llmeter_core::fleet::compact::from_compact;
use llmeter_core::result::{merge, MergeOptions, RunResult};

/// Shards collected one by one (each a run folder or a compact shard text), merged at the end.
#[derive(Default)]
pub struct Merger {
    shards: Vec<RunResult>,
}

impl Merger {
    /// A run folder (`(file name, content)` pairs, as `RunResult::from_files` reads them).
    pub fn add_files(&mut self, files: &[(String, String)]) -> Result<(), String> {
        self.shards.push(RunResult::from_files(files)?);
        Ok(())
    }

    /// A compact shard text (a probe's beacon).
    pub fn add_compact(&mut self, text: &str) -> Result<(), String> {
        self.shards.push(from_compact(text)?);
        Ok(())
    }

    pub fn add(&mut self, shard: RunResult) {
        self.shards.push(shard);
    }

    pub fn len(&self) -> usize {
        self.shards.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// The merged run folder.
    pub fn finish(self, options: &MergeOptions) -> Result<Vec<(String, String)>, String> {
        Ok(merge(self.shards, options)?.to_files())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmeter_core::fleet::compact::to_compact;
    use llmeter_core::fleet::ShardSpec;
    use llmeter_core::response::{InvocationResponse, ResponseTimings};
    use llmeter_core::result::{RunInfo, Summary};
    use serde_json::{json, Map};

    fn shard(id: &str, label: &str, ttfts: &[f64]) -> RunResult {
        let responses: Vec<InvocationResponse> = ttfts
            .iter()
            .enumerate()
            .map(|(i, &t)| InvocationResponse {
                id: Some(format!("{id}-{i}")),
                response_text: Some("a b c".into()),
                time_to_first_token: Some(t),
                time_to_last_token: Some(t * 3.0),
                num_tokens_output: Some(3),
                request_time: Some("2025-01-01T12:00:01.000Z".into()),
                ..Default::default()
            })
            .collect();
        let timings = responses
            .iter()
            .map(|r| ResponseTimings {
                id: r.id.clone().unwrap(),
                content_chunk_offsets: vec![0.1, 0.15, 0.3],
                ..Default::default()
            })
            .collect();
        let info = RunInfo {
            shard: Some(
                ShardSpec::new(
                    "t".into(),
                    id.into(),
                    Some(label.into()),
                    Some(json!({"clients": 1})),
                )
                .unwrap()
                .manifest(Some("node 20".into()), "test", None)
                .to_value(),
            ),
            ..RunInfo::default()
        };
        RunResult::new(
            Summary {
                total_requests: Some(ttfts.len() as u64),
                clients: 1,
                total_test_time: Some(2.0),
                start_time: Some("2025-01-01T12:00:00.000Z".into()),
                end_time: Some("2025-01-01T12:00:02.000Z".into()),
                ..Summary::default()
            },
            responses,
            timings,
            info,
            Map::new(),
            vec![json!({"prompt": "x"})],
        )
    }

    #[test]
    fn folders_and_compact_texts_merge_like_the_results_themselves() {
        let a = shard("a", "eu", &[0.1, 0.2, 0.3]);
        let b = shard("b", "us", &[0.4, 0.5]);
        let direct = merge(vec![a.clone(), b.clone()], &MergeOptions::default()).unwrap();
        let mut m = Merger::default();
        m.add_files(&a.to_files()).unwrap();
        m.add_compact(&to_compact(&b, false)).unwrap();
        assert_eq!(m.len(), 2);
        let files = m.finish(&MergeOptions::default()).unwrap();
        assert!(files.iter().any(|(n, _)| n == "run_info.json"));
        let loaded = RunResult::from_files(&files).unwrap();
        assert_eq!(loaded.stats, direct.stats);
        assert_eq!(loaded.info.fleet, direct.info.fleet);
        assert_eq!(loaded.stats["by_label"]["us"]["total_requests"], json!(2));
        // A shard's files keep its manifest (shard.json).
        let a_back = RunResult::from_files(&a.to_files()).unwrap();
        assert_eq!(a_back.info.shard, a.info.shard);
    }

    #[test]
    fn errors_name_the_shard_problem() {
        let mut m = Merger::default();
        assert!(m.add_files(&[]).unwrap_err().contains("nothing to load"));
        assert!(m.add_compact("{}").unwrap_err().contains("format"));
        assert!(m
            .finish(&MergeOptions::default())
            .unwrap_err()
            .contains("no shards"));
    }
}
