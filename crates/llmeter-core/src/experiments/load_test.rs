//! LoadTest: one run per concurrency level, LLMeter's requests-per-client rule, and the
//! `{test_name}/{NNNNN-clients}/` folder layout that LLMeter's `LoadTestResult.load` reads
//! (LLMeter's own LoadTest writes every level into one folder; we write the documented layout).

use crate::result::{
    load_test_rate_run_name, load_test_run_name, RunResult, RESPONSES_FILE, STATS_FILE,
    SUMMARY_FILE,
};
use crate::runner::{OptionError, MAX_RATE};
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

/// One request-rate level of a load test (an open-loop run).
#[derive(Debug, Clone, PartialEq)]
pub struct RateLevel {
    /// Requests per second offered.
    pub rate: f64,
    /// Requests in all (count-bound levels).
    pub n_requests: Option<u32>,
    /// Seconds of arrivals (time-bound levels).
    pub run_duration_s: Option<f64>,
    /// `NNNNN.NNN-rps`, also the level's folder name.
    pub run_name: String,
}

/// The rate levels of a load test (`sequenceOfRates`), in the given order. Each count-bound
/// level sends `min_requests_per_run` requests (at least 1); a time-bound one schedules
/// arrivals for `run_duration_s`. Rates must be positive and name distinct folders.
pub fn plan_rate_levels(
    rates: &[f64],
    min_requests_per_run: u32,
    run_duration_s: Option<f64>,
) -> Result<Vec<RateLevel>, OptionError> {
    if rates.is_empty() {
        return Err(range_err("sequenceOfRates", "give at least one rate"));
    }
    if let Some(d) = run_duration_s {
        if !(d.is_finite() && d > 0.0) {
            return Err(range_err(
                "runDuration",
                "must be a positive number of seconds",
            ));
        }
    }
    let mut seen: Vec<String> = Vec::new();
    rates
        .iter()
        .map(|&rate| {
            if !(rate.is_finite() && rate > 0.0 && rate <= MAX_RATE) {
                return Err(range_err(
                    "sequenceOfRates",
                    format!(
                        "rates must be positive requests per second (at most {}), got {}",
                        crate::json::num(MAX_RATE),
                        crate::json::num(rate)
                    ),
                ));
            }
            let run_name = load_test_rate_run_name(rate);
            if seen.contains(&run_name) {
                return Err(range_err(
                    "sequenceOfRates",
                    format!(
                        "{} requests/s appears twice (each level is one folder, {run_name})",
                        crate::json::num(rate)
                    ),
                ));
            }
            seen.push(run_name.clone());
            Ok(RateLevel {
                rate,
                n_requests: run_duration_s
                    .is_none()
                    .then_some(min_requests_per_run.max(1)),
                run_duration_s,
                run_name,
            })
        })
        .collect()
}

/// GuideLLM's sweep: after a synchronous run (one client) and a throughput run (many clients),
/// `size − 2` rates evenly spaced from the synchronous rate to the throughput rate, the first
/// (the synchronous rate itself) left out: `linspace(sync, throughput, size − 1)[1:]`.
/// Rates that are not positive are dropped (GuideLLM stops at them).
pub fn sweep_rates(synchronous_rate: f64, throughput_rate: f64, size: u32) -> Vec<f64> {
    let points = size.saturating_sub(1) as usize;
    if points < 2 {
        return Vec::new();
    }
    let step = (throughput_rate - synchronous_rate) / (points - 1) as f64;
    (1..points)
        .map(|i| {
            if i == points - 1 {
                throughput_rate
            } else {
                synchronous_rate + step * i as f64
            }
        })
        .filter(|r| r.is_finite() && *r > 0.0)
        .collect()
}

/// Successful requests per second of a run (over its `total_test_time`): the rate GuideLLM's
/// sweep reads from its synchronous and throughput runs.
pub fn successful_rate(run: &RunResult) -> Option<f64> {
    let t = run
        .summary
        .total_test_time
        .filter(|t| t.is_finite() && *t > 0.0)?;
    let ok = run.responses.iter().filter(|r| r.error.is_none()).count();
    Some(ok as f64 / t)
}

/// Requests a load test plans in all, for a runtime's subrequest budget (time-bound levels
/// count 0: they stop at the budget themselves).
pub fn planned_requests(levels: &[Level], rate_levels: &[RateLevel]) -> u64 {
    let closed: u64 = levels
        .iter()
        .map(|l| l.n_requests.unwrap_or(0) as u64 * l.clients as u64)
        .sum();
    let open: u64 = rate_levels
        .iter()
        .map(|l| l.n_requests.unwrap_or(0) as u64)
        .sum();
    closed + open
}

/// The run folders of a load test given as file paths, by LLMeter's `LoadTestResult.load`
/// rule: every folder that holds files and no sub-folder is a run and must hold a
/// `summary.json`, `stats.json` or `responses.jsonl` (an error names it otherwise); plain
/// files beside the run folders are ignored. Returns the run folders (in the order of their
/// first file) and the test name: the one folder above the runs, if there is one.
pub fn group_run_folders(paths: &[&str]) -> Result<(Vec<String>, Option<String>), String> {
    // (folder, holds a result file) and the folders that hold other folders.
    let mut leaves: Vec<(String, bool)> = Vec::new();
    let mut containers: Vec<String> = Vec::new();
    for path in paths {
        let parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
        if parts.len() < 2 {
            continue; // a plain file at the top (LLMeter ignores these)
        }
        for depth in 1..parts.len() - 1 {
            containers.push(parts[..depth].join("/"));
        }
        let marker = matches!(
            parts[parts.len() - 1],
            SUMMARY_FILE | STATS_FILE | RESPONSES_FILE
        );
        let folder = parts[..parts.len() - 1].join("/");
        // A folder holds results if any of its files is one (no sort: it costs code size).
        match leaves.iter_mut().find(|(f, _)| *f == folder) {
            Some(entry) => entry.1 |= marker,
            None => leaves.push((folder, marker)),
        }
    }
    let mut runs = Vec::new();
    let mut parents: Vec<Option<String>> = Vec::new();
    for (folder, has_results) in leaves {
        if containers.contains(&folder) {
            continue; // plain files next to run folders
        }
        if !has_results {
            return Err(format!(
                "{folder}: no {SUMMARY_FILE}, {STATS_FILE} or {RESPONSES_FILE} (every folder of a load test is a run, as in LLMeter's LoadTestResult.load)"
            ));
        }
        let parent = folder
            .rsplit_once('/')
            .map(|(p, _)| p.rsplit('/').next().unwrap_or(p).to_string());
        if !parents.contains(&parent) {
            parents.push(parent);
        }
        runs.push(folder);
    }
    if runs.is_empty() {
        return Err(format!(
            "no run folder (with {SUMMARY_FILE}, {STATS_FILE} or {RESPONSES_FILE}) found"
        ));
    }
    let test_name = match parents.len() {
        1 => parents.pop().flatten(),
        _ => None,
    };
    Ok((runs, test_name))
}

/// A load test's runs: closed-loop levels keyed by client count, rate levels by rate.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadTestResult {
    pub test_name: String,
    pub runs: BTreeMap<u32, RunResult>,
    /// Open-loop levels in ascending rate.
    pub rate_runs: Vec<(f64, RunResult)>,
}

impl LoadTestResult {
    /// The rate of a run that is an open-loop level (from its `run_info.json`).
    pub fn rate_of(run: &RunResult) -> Option<f64> {
        run.info.load.as_ref().filter(|l| l.is_open())?.rate
    }

    /// Adds a run as its level: by rate for an open loop, by clients otherwise. Errors on a
    /// second run of the same level.
    pub fn insert(&mut self, run: RunResult) -> Result<(), String> {
        match Self::rate_of(&run) {
            Some(rate) => {
                if self.rate_runs.iter().any(|(r, _)| *r == rate) {
                    return Err(format!(
                        "a second run at {} requests/s",
                        crate::json::num(rate)
                    ));
                }
                let at = self.rate_runs.partition_point(|(r, _)| *r < rate);
                self.rate_runs.insert(at, (rate, run));
            }
            None => {
                let clients = run.summary.clients;
                if self.runs.insert(clients, run).is_some() {
                    return Err(format!("a second run with {clients} clients"));
                }
            }
        }
        Ok(())
    }

    /// `{test_name}/{NNNNN-clients}/{file}` and `{test_name}/{NNNNN.NNN-rps}/{file}` for every
    /// level's run files.
    pub fn to_files(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let levels = self
            .runs
            .iter()
            .map(|(&c, run)| (load_test_run_name(c), run))
            .chain(
                self.rate_runs
                    .iter()
                    .map(|(rate, run)| (load_test_rate_run_name(*rate), run)),
            );
        for (folder, run) in levels {
            let dir = format!("{}/{folder}", self.test_name);
            for (name, content) in run.to_files() {
                out.push((format!("{dir}/{name}"), content));
            }
        }
        out
    }

    /// Reads what [`to_files`](Self::to_files) wrote, or a folder written by Python LLMeter:
    /// the run folders by [`group_run_folders`], each keyed by its `clients` (as LLMeter's
    /// `LoadTestResult.load`) or, for open-loop levels, by its rate. The test name is the
    /// folder above the runs, else `test_name`.
    pub fn from_files(
        files: &[(String, String)],
        test_name: Option<&str>,
    ) -> Result<LoadTestResult, String> {
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        let (folders, found_name) = group_run_folders(&paths)?;
        let mut result = LoadTestResult {
            test_name: test_name
                .map(str::to_string)
                .or(found_name)
                .unwrap_or_default(),
            ..Default::default()
        };
        for folder in folders {
            let prefix = format!("{folder}/");
            let run_files: Vec<(String, String)> = files
                .iter()
                .filter_map(|(p, c)| {
                    let normal = p.replace('\\', "/");
                    let rest = normal.trim_start_matches('/').strip_prefix(&prefix)?;
                    (!rest.contains('/')).then(|| (rest.to_string(), c.clone()))
                })
                .collect();
            let run = RunResult::from_files(&run_files).map_err(|e| format!("{folder}: {e}"))?;
            result.insert(run).map_err(|e| format!("{folder}: {e}"))?;
        }
        Ok(result)
    }
}
