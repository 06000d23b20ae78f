//! Shards of one test merged into one result, exactly: the merged stats are the stats of the
//! union of the shards' responses — the same numbers one run of those responses gives — with
//! throughput over the union of the shards' wall-clock windows, each corrected by its clock
//! offset. Used for fleets (many machines, browsers, edge invocations) and for `workers: N`
//! (the shards of one run on one machine). Every metric is also broken down per label and,
//! when shards ran in different runtimes, per runtime (`by_label`, `by_runtime` in the stats).

use super::{RunInfo, RunResult, Summary};
use crate::fleet::{ClockOffset, FleetPlan, ShardManifest};
use crate::limits::ClockKind;
use crate::response::{InvocationResponse, ResponseTimings};
use crate::stats::{compute_stats, SUMMARY_KEYS};
use crate::time::{format_utc, parse_utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

/// What a merged result records about its shards (`run_info.json` → `fleet`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetInfo {
    pub test_id: Option<String>,
    /// The shards in the order of their responses: shard `i` owns the `responses` responses
    /// after those of shards `0..i`.
    pub shards: Vec<ShardEntry>,
    /// Shards the plan lists that did not come.
    pub missing: Vec<String>,
    /// Shards that started more than the plan's `late_after_s` after its start.
    pub late: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShardEntry {
    pub shard_id: Option<String>,
    pub label: Option<String>,
    pub runtime: Option<String>,
    pub engine: Option<String>,
    pub responses: u64,
    pub clients: u32,
    /// On the reference clock (offset applied).
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub clock_offset: Option<ClockOffset>,
    pub interrupted: bool,
}

#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// The merged run's name (default: the test id, else the first shard's run name).
    pub run_name: Option<String>,
    pub run_description: Option<String>,
    /// The fleet's plan: shards it lists but that are absent are reported missing, shards that
    /// started late are reported late, and shards of another test are refused.
    pub plan: Option<FleetPlan>,
    /// What the caller found before merging (an incomplete upload, an unreadable shard), kept
    /// in the merged result's warnings.
    pub notes: Vec<String>,
}

/// A shard's wall-clock window on the reference clock: its start (ms) and its length (s) as
/// the shard measured it, so an undisturbed window keeps its exact length.
#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: f64,
    duration_s: f64,
}

impl Window {
    fn end_ms(&self) -> f64 {
        self.start_ms + self.duration_s * 1000.0
    }
}

fn window(summary: &Summary, offset_ms: f64) -> Option<Window> {
    let start = parse_utc(summary.start_time.as_deref()?)?;
    let duration_s = match summary.total_test_time {
        Some(t) if t.is_finite() && t >= 0.0 => t,
        _ => (parse_utc(summary.end_time.as_deref()?)? - start).max(0.0) / 1000.0,
    };
    Some(Window {
        start_ms: start + offset_ms,
        duration_s,
    })
}

/// Seconds covered by the union of the windows. A stretch covered by one window (or by
/// windows that start together) is that window's own length, bit for bit.
fn union_seconds(windows: &[Window]) -> Option<f64> {
    let mut sorted: Vec<Window> = windows.to_vec();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    let stretch =
        |first: &Window, last: &Window| (last.start_ms - first.start_ms) / 1000.0 + last.duration_s;
    let mut total = 0.0;
    let mut first = sorted[0];
    let mut last = sorted[0];
    for w in &sorted[1..] {
        if w.start_ms <= last.end_ms() {
            if w.end_ms() > last.end_ms() {
                last = *w;
            }
        } else {
            total += stretch(&first, &last);
            first = *w;
            last = *w;
        }
    }
    Some(total + stretch(&first, &last))
}

/// The shared value of every shard's field, when they agree.
fn common<T: PartialEq + Clone>(values: impl Iterator<Item = Option<T>>) -> Option<T> {
    let mut out: Option<Option<T>> = None;
    for v in values {
        match &out {
            None => out = Some(v),
            Some(prev) if *prev == v => {}
            Some(_) => return None,
        }
    }
    out.flatten()
}

/// `chromium` (Blink), `firefox` (Gecko), `webkit`, `node`, `deno`, `workerd` (versions, `(worker)` and `(service worker)` set
/// aside), for the per-runtime breakdown of many users' browsers.
pub fn runtime_family(runtime: &str) -> String {
    let product = runtime
        .split([' ', '/'])
        .next()
        .unwrap_or(runtime)
        .to_ascii_lowercase();
    match product.as_str() {
        // `Blink 141 (HeadlessChrome/…)` (runtime_facts), or a bare user-agent product.
        "blink" | "chrome" | "headlesschrome" | "chromium" => "chromium".into(),
        "gecko" | "firefox" => "firefox".into(),
        "webkitgtk" | "safari" => "webkit".into(),
        other => other.to_string(),
    }
}

fn shift_time(text: &Option<String>, offset_ms: f64) -> Option<String> {
    let t = text.as_deref()?;
    if offset_ms == 0.0 {
        return Some(t.to_string());
    }
    Some(parse_utc(t).map_or_else(|| t.to_string(), |ms| format_utc(ms + offset_ms)))
}

struct Part {
    manifest: Option<ShardManifest>,
    summary: Summary,
    window: Option<Window>,
    offset: Option<ClockOffset>,
    offset_ms: f64,
    runtime: Option<String>,
    protocol: Option<String>,
    interrupted: bool,
    responses: std::ops::Range<usize>,
    timings: std::ops::Range<usize>,
}

impl Part {
    fn runtime(&self) -> Option<&String> {
        self.manifest
            .as_ref()
            .and_then(|m| m.runtime.as_ref())
            .or(self.runtime.as_ref())
    }
}

/// Merges shards into one result (see the module docs). Errors: no shard, a shard of another
/// test (than the plan's or the first shard's), a shard id given twice.
pub fn merge(shards: Vec<RunResult>, options: &MergeOptions) -> Result<RunResult, String> {
    if shards.is_empty() {
        return Err("merge: no shards given".into());
    }
    // The manifests, checked (the core keeps them as saved).
    let mut shards: Vec<(RunResult, Option<ShardManifest>)> = shards
        .into_iter()
        .map(|s| ShardManifest::of(&s.info).map(|m| (s, m)))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("merge: {e}"))?;
    // A listing's order is not the fleet's: shards with ids go in id order.
    if shards.iter().all(|(_, m)| m.is_some()) {
        shards.sort_by(|a, b| shard_id(&a.1).cmp(shard_id(&b.1)));
    }
    let test_id = options
        .plan
        .as_ref()
        .map(|p| p.test_id.clone())
        .or_else(|| {
            shards
                .iter()
                .find_map(|(_, m)| m.as_ref().map(|m| m.test_id.clone()))
        });
    let mut seen = HashSet::new();
    for (_, m) in &shards {
        if let Some(m) = m {
            if Some(&m.test_id) != test_id.as_ref() {
                return Err(format!(
                    "merge: shard {:?} belongs to test {:?}, not {:?}",
                    m.shard_id,
                    m.test_id,
                    test_id.as_deref().unwrap_or("")
                ));
            }
            if !seen.insert(m.shard_id.clone()) {
                return Err(format!("merge: shard {:?} is given twice", m.shard_id));
            }
        }
    }

    let same_payloads = shards
        .windows(2)
        .all(|w| w[0].0.payloads == w[1].0.payloads);
    let interrupted_all = shards.iter().all(|(s, _)| s.info.interrupted);
    let (first_name, first_description, mut run_config) = (
        shards[0].0.summary.run_name.clone(),
        shards[0].0.summary.run_description.clone(),
        shards[0].0.run_config.clone(),
    );
    let mut parts: Vec<Part> = Vec::with_capacity(shards.len());
    let mut responses: Vec<InvocationResponse> = Vec::new();
    let mut timings: Vec<ResponseTimings> = Vec::new();
    let mut payloads: Vec<Value> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut info = RunInfo::default();
    for (k, (shard, manifest)) in shards.into_iter().enumerate() {
        let RunResult {
            summary,
            responses: shard_responses,
            timings: shard_timings,
            info: shard_info,
            payloads: shard_payloads,
            ..
        } = shard;
        let name = manifest
            .as_ref()
            .map(|m| m.shard_id.clone())
            .unwrap_or_else(|| format!("#{k}"));
        let offset = manifest
            .as_ref()
            .and_then(|m| m.clock_offset.clone())
            .or(shard_info.clock_offset);
        let offset_ms = offset.as_ref().map_or(0.0, |o| o.offset_ms);
        if manifest.is_some() && offset.is_none() {
            warnings.push(format!(
                "shard {name}: no clock offset (no readable Date header); its times are taken as they are"
            ));
        }
        if shard_info.interrupted && !interrupted_all {
            warnings.push(format!(
                "shard {name} was interrupted: its responses so far are included"
            ));
        }
        for w in &shard_info.warnings {
            let w = format!("shard {name}: {w}");
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        // Identical payload lists are kept once; otherwise they are concatenated and each
        // response's payload index moved along.
        let payload_base = if same_payloads {
            0
        } else {
            payloads.len() as u32
        };
        if k == 0 || !same_payloads {
            payloads.extend(shard_payloads);
        }
        let first_response = responses.len();
        responses.extend(shard_responses.into_iter().map(|mut r| {
            r.request_time = shift_time(&r.request_time, offset_ms);
            r
        }));
        let first_timing = timings.len();
        timings.extend(shard_timings.into_iter().map(|mut t| {
            t.payload_index = t.payload_index.map(|i| i + payload_base);
            t
        }));
        info.timer_resolution_ms = match (info.timer_resolution_ms, shard_info.timer_resolution_ms)
        {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        info.clock = match (info.clock, shard_info.clock) {
            (Some(a), Some(b)) => Some(coarser(a, b)),
            (a, b) => a.or(b),
        };
        parts.push(Part {
            window: window(&summary, offset_ms),
            summary,
            manifest,
            offset,
            offset_ms,
            runtime: shard_info.runtime,
            protocol: shard_info.protocol,
            interrupted: shard_info.interrupted,
            responses: first_response..responses.len(),
            timings: first_timing..timings.len(),
        });
    }

    let windows: Vec<Window> = parts.iter().filter_map(|p| p.window).collect();
    let clients: u32 = parts.iter().map(|p| p.summary.clients).sum();
    let total = responses.len() as u64;
    let configured = common(parts.iter().map(|p| p.summary.n_requests));
    let start_ms = windows.iter().map(|w| w.start_ms).reduce(f64::min);
    let end_ms = parts
        .iter()
        .filter_map(|p| {
            p.summary
                .end_time
                .as_deref()
                .and_then(parse_utc)
                .map(|t| t + p.offset_ms)
                .or_else(|| p.window.map(|w| w.end_ms()))
        })
        .reduce(f64::max);
    let field = |get: fn(&Summary) -> &Option<String>| {
        common(parts.iter().map(|p| get(&p.summary).clone()))
    };
    let summary = Summary {
        total_requests: Some(total),
        clients,
        n_requests: Summary::n_requests_per_client(configured, total, clients, interrupted_all),
        total_test_time: if interrupted_all {
            None
        } else {
            union_seconds(&windows)
        },
        model_id: field(|s| &s.model_id),
        output_path: None,
        endpoint_name: field(|s| &s.endpoint_name),
        provider: field(|s| &s.provider),
        run_name: options
            .run_name
            .clone()
            .or_else(|| test_id.clone())
            .or(first_name),
        run_description: options.run_description.clone().or(first_description),
        start_time: start_ms.map(format_utc),
        first_request_time: None,
        last_request_time: None,
        end_time: end_ms.map(format_utc),
    };
    for (key, get) in [
        (
            "model_id",
            (|s: &Summary| &s.model_id) as fn(&Summary) -> &Option<String>,
        ),
        ("endpoint_name", |s: &Summary| &s.endpoint_name),
    ] {
        let distinct: std::collections::BTreeSet<&String> = parts
            .iter()
            .filter_map(|p| get(&p.summary).as_ref())
            .collect();
        if distinct.len() > 1 {
            let names: Vec<&str> = distinct.iter().map(|s| s.as_str()).collect();
            warnings.push(format!(
                "the shards measured different {key}s: {}",
                names.join(", ")
            ));
        }
    }

    // The fleet's account of its shards: who came, who is missing, who was late.
    let mut fleet = FleetInfo {
        test_id: test_id.clone(),
        ..FleetInfo::default()
    };
    let plan_start = options.plan.as_ref().and_then(|p| p.start_unix_ms);
    let late_after_ms = options
        .plan
        .as_ref()
        .map_or(0.0, |p| p.late_after_s * 1000.0);
    for p in &parts {
        let m = p.manifest.as_ref();
        let start = p.window.map(|w| w.start_ms);
        let id = m.map(|m| m.shard_id.clone());
        if let (Some(plan_start), Some(start), Some(id)) = (plan_start, start, &id) {
            if start > plan_start + late_after_ms {
                fleet.late.push(id.clone());
                warnings.push(format!(
                    "shard {id} started {:.1} s after the plan's start (late)",
                    (start - plan_start) / 1000.0
                ));
            }
        }
        fleet.shards.push(ShardEntry {
            shard_id: id,
            label: m.and_then(|m| m.label.clone()),
            runtime: p.runtime().cloned(),
            engine: m.and_then(|m| m.engine.clone()),
            responses: p.responses.len() as u64,
            clients: p.summary.clients,
            start_time: start.map(format_utc),
            end_time: p
                .summary
                .end_time
                .as_deref()
                .and_then(parse_utc)
                .map(|t| format_utc(t + p.offset_ms)),
            clock_offset: p.offset.clone(),
            interrupted: p.interrupted,
        });
    }
    if let Some(plan) = &options.plan {
        for listed in &plan.shards {
            if !seen.contains(&listed.shard_id) {
                fleet.missing.push(listed.shard_id.clone());
                warnings.push(format!("shard {} of the plan is missing", listed.shard_id));
            }
        }
    }

    info.interrupted = interrupted_all;
    info.runtime = common(parts.iter().map(|p| p.runtime.clone()));
    info.protocol = common(parts.iter().map(|p| p.protocol.clone()));
    warnings.extend(options.notes.iter().cloned());
    info.warnings = warnings;
    info.fleet = serde_json::to_value(&fleet).ok();
    run_config.insert("clients".into(), Value::from(clients));
    run_config.insert(
        "n_requests".into(),
        summary.n_requests.map_or(Value::Null, Value::from),
    );
    run_config.insert(
        "run_name".into(),
        summary.run_name.clone().map_or(Value::Null, Value::from),
    );

    // Every metric per label, and per runtime family when shards ran in several.
    let mut labels: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut runtimes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, p) in parts.iter().enumerate() {
        if let Some(label) = p.manifest.as_ref().and_then(|m| m.label.clone()) {
            labels.entry(label).or_default().push(i);
        }
        if let Some(rt) = p.runtime() {
            runtimes.entry(runtime_family(rt)).or_default().push(i);
        }
    }
    let by_label = (!labels.is_empty())
        .then(|| breakdown(&labels, &parts, &responses, &timings, interrupted_all));
    let by_runtime = (runtimes.len() > 1)
        .then(|| breakdown(&runtimes, &parts, &responses, &timings, interrupted_all));

    let mut result = RunResult::new(summary, responses, timings, info, run_config, payloads);
    if let Some(v) = by_label {
        result.stats.insert("by_label".into(), v);
    }
    if let Some(v) = by_runtime {
        result.stats.insert("by_runtime".into(), v);
    }
    Ok(result)
}

/// `{group: stats}`: each group's stats as one run of its shards' responses would have them
/// (its own window union and clients), without the summary's names and times.
fn breakdown(
    groups: &BTreeMap<String, Vec<usize>>,
    parts: &[Part],
    responses: &[InvocationResponse],
    timings: &[ResponseTimings],
    interrupted: bool,
) -> Value {
    let mut out = Map::new();
    for (key, members) in groups {
        let mut rs = Vec::new();
        let mut ts = Vec::new();
        for &i in members {
            rs.extend_from_slice(&responses[parts[i].responses.clone()]);
            ts.extend_from_slice(&timings[parts[i].timings.clone()]);
        }
        let windows: Vec<Window> = members.iter().filter_map(|&i| parts[i].window).collect();
        let sub = Summary {
            total_requests: Some(rs.len() as u64),
            clients: members.iter().map(|&i| parts[i].summary.clients).sum(),
            total_test_time: if interrupted {
                None
            } else {
                union_seconds(&windows)
            },
            ..Summary::default()
        };
        let mut stats = compute_stats(&sub, &rs, &ts, false);
        for k in SUMMARY_KEYS {
            if !matches!(k, "total_requests" | "clients" | "total_test_time") {
                stats.shift_remove(k);
            }
        }
        stats.insert("shards".into(), Value::from(members.len()));
        out.insert(key.clone(), Value::Object(stats));
    }
    Value::Object(out)
}

/// The clock that bounds accuracy more.
fn coarser(a: ClockKind, b: ClockKind) -> ClockKind {
    let rank = |k: ClockKind| match k {
        ClockKind::Fine => 0,
        ClockKind::Coarsened => 1,
        ClockKind::FrozenBetweenIo => 2,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

impl FleetInfo {
    /// A merged result's fleet record (`info.fleet`), if it has a readable one.
    pub fn of(info: &RunInfo) -> Option<FleetInfo> {
        serde_json::from_value(info.fleet.clone()?).ok()
    }
}

fn shard_id(m: &Option<ShardManifest>) -> &str {
    m.as_ref().map_or("", |m| m.shard_id.as_str())
}
