//! LoadTest: one run per concurrency level, LLMeter's requests-per-client rule, and the
//! `{test_name}/{NNNNN-clients}/` folder layout that LLMeter's `LoadTestResult.load` reads
//! (LLMeter's own LoadTest writes every level into one folder; we write the documented layout).

use crate::result::{load_test_run_name, RunResult, RESPONSES_FILE, STATS_FILE, SUMMARY_FILE};
use crate::runner::OptionError;
use std::collections::BTreeMap;

/// LLMeter's rule for a count-bound level with `clients` clients: enough requests per client
/// that the level sends at least `min_requests_per_run` in total, and at least
/// `min_requests_per_client` each. Defaults (1, 10): 1 → 10, 3 → 4, 4 → 3, 20 → 1.
pub fn requests_per_client(
    clients: u32,
    min_requests_per_client: u32,
    min_requests_per_run: u32,
) -> u32 {
    let clients = clients.max(1) as u64;
    if clients * (min_requests_per_client as u64) < min_requests_per_run as u64 {
        (min_requests_per_run as u64).div_ceil(clients) as u32
    } else {
        min_requests_per_client
    }
}

/// One concurrency level of a load test: what its run is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub clients: u32,
    /// Requests per client (count-bound levels).
    pub n_requests: Option<u32>,
    /// Seconds per client (time-bound levels; the `min_*` settings do not apply).
    pub run_duration_s: Option<f64>,
    /// `NNNNN-clients`, also the level's folder name.
    pub run_name: String,
}

fn range_err(option: &'static str, message: impl Into<String>) -> OptionError {
    OptionError {
        option,
        message: message.into(),
        is_range: true,
    }
}

/// The levels of a load test, in the given order. Clients must be positive and distinct (each
/// level is a folder named by its client count).
pub fn plan_levels(
    sequence_of_clients: &[u32],
    min_requests_per_client: u32,
    min_requests_per_run: u32,
    run_duration_s: Option<f64>,
) -> Result<Vec<Level>, OptionError> {
    if sequence_of_clients.is_empty() {
        return Err(range_err(
            "sequenceOfClients",
            "give at least one client count",
        ));
    }
    if min_requests_per_client == 0 {
        return Err(range_err(
            "minRequestsPerClient",
            "must be a positive integer",
        ));
    }
    if let Some(d) = run_duration_s {
        if !(d.is_finite() && d > 0.0) {
            return Err(range_err(
                "runDuration",
                "must be a positive number of seconds",
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    sequence_of_clients
        .iter()
        .map(|&clients| {
            if clients == 0 {
                return Err(range_err(
                    "sequenceOfClients",
                    "client counts must be positive integers",
                ));
            }
            if !seen.insert(clients) {
                return Err(range_err(
                    "sequenceOfClients",
                    format!("{clients} clients appears twice (each level is one folder)"),
                ));
            }
            Ok(Level {
                clients,
                n_requests: match run_duration_s {
                    Some(_) => None,
                    None => Some(requests_per_client(
                        clients,
                        min_requests_per_client,
                        min_requests_per_run,
                    )),
                },
                run_duration_s,
                run_name: load_test_run_name(clients),
            })
        })
        .collect()
}

/// A load test's runs keyed by client count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadTestResult {
    pub test_name: String,
    pub runs: BTreeMap<u32, RunResult>,
}

impl LoadTestResult {
    /// `{test_name}/{NNNNN-clients}/{file}` for every level's run files.
    pub fn to_files(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (&clients, run) in &self.runs {
            let dir = format!("{}/{}", self.test_name, load_test_run_name(clients));
            for (name, content) in run.to_files() {
                out.push((format!("{dir}/{name}"), content));
            }
        }
        out
    }

    /// Reads what [`to_files`](Self::to_files) wrote, or a folder written by Python LLMeter:
    /// files are grouped by their parent folder, each folder holding a `summary.json`,
    /// `stats.json` or `responses.jsonl` is one run, keyed by its `clients` (as LLMeter's
    /// `LoadTestResult.load`). The test name is the folder above the runs, else `test_name`.
    pub fn from_files(
        files: &[(String, String)],
        test_name: Option<&str>,
    ) -> Result<LoadTestResult, String> {
        let mut folders: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        let mut parents = std::collections::BTreeSet::new();
        for (path, content) in files {
            let parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
            if parts.len() < 2 {
                continue; // a plain file next to the run folders (LLMeter ignores these)
            }
            let folder = parts[..parts.len() - 1].join("/");
            folders
                .entry(folder)
                .or_default()
                .push((parts[parts.len() - 1].to_string(), content.clone()));
        }
        let mut runs = BTreeMap::new();
        for (folder, files) in folders {
            let is_run = files
                .iter()
                .any(|(n, _)| n == SUMMARY_FILE || n == STATS_FILE || n == RESPONSES_FILE);
            if !is_run {
                continue;
            }
            let run = RunResult::from_files(&files).map_err(|e| format!("{folder}: {e}"))?;
            let clients = run.summary.clients;
            if runs.insert(clients, run).is_some() {
                return Err(format!("{folder}: a second run with {clients} clients"));
            }
            if let Some((parent, _)) = folder.rsplit_once('/') {
                parents.insert(parent.rsplit('/').next().unwrap_or(parent).to_string());
            }
        }
        if runs.is_empty() {
            return Err(
                "no run folder (with summary.json, stats.json or responses.jsonl) found".into(),
            );
        }
        let test_name = match (parents.len(), test_name) {
            (_, Some(name)) => name.to_string(),
            (1, None) => parents.into_iter().next().unwrap_or_default(),
            _ => String::new(),
        };
        Ok(LoadTestResult { test_name, runs })
    }
}
