//! A fleet's shared plan (`plan.json` at the test's prefix): when to start, and what load each
//! shard runs. Participants read it, run their shard and upload it next to the plan; the merge
//! step reads it back to tell late and missing shards. Also the object keys of a fleet under a
//! prefix — one rule, used by every participant and by the merge.
//!
//! Options are read in either spelling (`test_id` as saved, `testId` as the JS API passes it);
//! errors name the field (`plan.shards[2].clients`).

use crate::result::naming::check_folder_name;
use crate::runner::{MAX_CLIENTS, MAX_SECONDS};
use crate::time::{format_utc, parse_utc};
use serde_json::{Map, Value};

pub const PLAN_FILE: &str = "plan.json";
/// Folder of the shards under a test's prefix: `{prefix}{test_id}/shards/{shard_id}/…`.
pub const SHARDS_FOLDER: &str = "shards";
/// Where a merge step may write the combined result: `{prefix}{test_id}/merged/…`.
pub const MERGED_FOLDER: &str = "merged";
/// A shard that starts later than this after `start_at` is reported late (default).
pub const DEFAULT_LATE_AFTER_S: f64 = 30.0;

/// A bad plan or shard option: the message names the field; `is_range` tells a value out of
/// range (`RangeError`) from a wrong type (`TypeError`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanError {
    pub message: String,
    pub is_range: bool,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn type_error(field: &str, why: &str) -> PlanError {
    PlanError {
        message: format!("{field} {why}"),
        is_range: false,
    }
}

fn range_error(field: &str, why: String) -> PlanError {
    PlanError {
        message: format!("{field} {why}"),
        is_range: true,
    }
}

/// One shard's load.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardLoad {
    /// Empty for the plan's `open` load (any shard id not listed).
    pub shard_id: String,
    pub label: Option<String>,
    pub clients: u32,
    /// Requests per client (count-bound), or
    pub n_requests: Option<u32>,
    /// seconds each client keeps sending (time-bound); neither: one request per payload.
    pub run_duration_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FleetPlan {
    pub test_id: String,
    /// When every shard starts (on the reference clock); `None`: as soon as it can.
    pub start_unix_ms: Option<f64>,
    pub late_after_s: f64,
    pub shards: Vec<ShardLoad>,
    /// The load of a shard whose id is not listed (open participation: real users, edge
    /// invocations numbered on the fly). Without it, only listed shards may join.
    pub open: Option<ShardLoad>,
    /// The payloads every shard sends, when the plan carries them.
    pub payload: Option<Vec<Value>>,
}

/// Reads a field given in either spelling.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Fields<'a> {
    fn new(v: &'a Value, path: &str) -> Result<Self, PlanError> {
        match v {
            Value::Object(map) => Ok(Fields {
                map,
                path: path.to_string(),
            }),
            _ => Err(type_error(path, "must be an object")),
        }
    }

    fn name(&self, snake: &str) -> String {
        format!("{}.{snake}", self.path)
    }

    fn get(&self, snake: &str, camel: &str) -> Option<&'a Value> {
        self.map
            .get(snake)
            .or_else(|| self.map.get(camel))
            .filter(|v| !v.is_null())
    }

    fn string(&self, snake: &str, camel: &str) -> Result<Option<String>, PlanError> {
        match self.get(snake, camel) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(type_error(&self.name(snake), "must be a string")),
        }
    }

    fn number(&self, snake: &str, camel: &str) -> Result<Option<f64>, PlanError> {
        match self.get(snake, camel) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(_) => Err(type_error(&self.name(snake), "must be a number")),
        }
    }

    fn positive_int(&self, snake: &str, camel: &str, max: u32) -> Result<Option<u32>, PlanError> {
        match self.number(snake, camel)? {
            None => Ok(None),
            Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= max as f64 => Ok(Some(n as u32)),
            Some(n) => Err(range_error(
                &self.name(snake),
                format!("must be a positive integer up to {max}, got {n}"),
            )),
        }
    }
}

/// A label (region, network, …): any text up to 200 characters, no control characters.
pub fn check_label(field: &str, label: &str) -> Result<(), PlanError> {
    if label.trim().is_empty() || label.chars().count() > 200 || label.chars().any(char::is_control)
    {
        return Err(range_error(
            field,
            format!("must be 1 to 200 characters without control characters, got {label:?}"),
        ));
    }
    Ok(())
}

/// A test or shard id: it names a folder.
pub fn check_id(field: &'static str, id: &str) -> Result<(), PlanError> {
    check_folder_name(field, id).map_err(|e| PlanError {
        message: e.to_string(),
        is_range: e.is_range,
    })
}

fn read_load(v: &Value, path: &str, listed: bool) -> Result<ShardLoad, PlanError> {
    let f = Fields::new(v, path)?;
    let shard_id = if listed {
        let id = f
            .string("shard_id", "shardId")?
            .ok_or_else(|| type_error(&f.name("shard_id"), "is required (a string)"))?;
        check_folder_name("shardId", &id).map_err(|e| PlanError {
            message: format!("{}: {}", f.name("shard_id"), e.message),
            is_range: true,
        })?;
        id
    } else {
        String::new()
    };
    let label = f.string("label", "label")?;
    if let Some(l) = &label {
        check_label(&f.name("label"), l)?;
    }
    let clients = f
        .positive_int("clients", "clients", MAX_CLIENTS)?
        .unwrap_or(1);
    let n_requests = f.positive_int("n_requests", "nRequests", u32::MAX)?;
    let run_duration_s = f.number("run_duration", "runDuration")?;
    if let Some(d) = run_duration_s {
        if !(d.is_finite() && d > 0.0 && d <= MAX_SECONDS) {
            return Err(range_error(
                &f.name("run_duration"),
                format!("must be a positive number of seconds up to a week, got {d}"),
            ));
        }
        if n_requests.is_some() {
            return Err(range_error(
                &f.name("run_duration"),
                "and n_requests exclude each other: give one".into(),
            ));
        }
    }
    Ok(ShardLoad {
        shard_id,
        label,
        clients,
        n_requests,
        run_duration_s,
    })
}

fn load_json(load: &ShardLoad, with_id: bool) -> Value {
    let mut m = Map::new();
    if with_id {
        m.insert("shard_id".into(), Value::from(load.shard_id.clone()));
    }
    if let Some(l) = &load.label {
        m.insert("label".into(), Value::from(l.clone()));
    }
    m.insert("clients".into(), Value::from(load.clients));
    if let Some(n) = load.n_requests {
        m.insert("n_requests".into(), Value::from(n));
    }
    if let Some(d) = load.run_duration_s {
        m.insert("run_duration".into(), Value::from(d));
    }
    Value::Object(m)
}

impl FleetPlan {
    /// Reads a plan (`plan.json`, or the JS API's camelCase options). `start_at` is an ISO-8601
    /// UTC time or Unix milliseconds.
    pub fn from_value(v: &Value) -> Result<FleetPlan, PlanError> {
        let f = Fields::new(v, "plan")?;
        let test_id = f
            .string("test_id", "testId")?
            .ok_or_else(|| type_error("plan.test_id", "is required (a string)"))?;
        check_id("testId", &test_id)?;
        let start_unix_ms = match f.get("start_at", "startAt") {
            None => None,
            Some(Value::String(s)) => Some(parse_utc(s).ok_or_else(|| {
                range_error(
                    "plan.start_at",
                    format!("must be a UTC time like 2026-01-01T12:00:00Z, got {s:?}"),
                )
            })?),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(ms) if ms.is_finite() && ms >= 0.0 => Some(ms),
                _ => return Err(range_error("plan.start_at", format!("is not a time: {n}"))),
            },
            Some(_) => {
                return Err(type_error(
                    "plan.start_at",
                    "must be a UTC time string or Unix milliseconds",
                ))
            }
        };
        let late_after_s = f
            .number("late_after_s", "lateAfterS")?
            .unwrap_or(DEFAULT_LATE_AFTER_S);
        if !(late_after_s.is_finite() && late_after_s >= 0.0) {
            return Err(range_error(
                "plan.late_after_s",
                format!("must be zero or a positive number of seconds, got {late_after_s}"),
            ));
        }
        let shards = match f.get("shards", "shards") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, s)| read_load(s, &format!("plan.shards[{i}]"), true))
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(type_error("plan.shards", "must be an array")),
        };
        let mut seen = std::collections::HashSet::new();
        for s in &shards {
            if !seen.insert(s.shard_id.as_str()) {
                return Err(range_error(
                    "plan.shards",
                    format!("lists shard {:?} twice", s.shard_id),
                ));
            }
        }
        let open = f
            .get("open", "open")
            .map(|v| read_load(v, "plan.open", false))
            .transpose()?;
        if shards.is_empty() && open.is_none() {
            return Err(range_error(
                "plan.shards",
                "is empty and there is no open load: no shard could join".into(),
            ));
        }
        let payload = match f.get("payload", "payload") {
            None => None,
            Some(Value::Array(items))
                if !items.is_empty() && items.iter().all(Value::is_object) =>
            {
                Some(items.clone())
            }
            Some(one @ Value::Object(_)) => Some(vec![one.clone()]),
            Some(_) => {
                return Err(type_error(
                    "plan.payload",
                    "must be an object or a non-empty array of objects",
                ))
            }
        };
        Ok(FleetPlan {
            test_id,
            start_unix_ms,
            late_after_s,
            shards,
            open,
            payload,
        })
    }

    /// `plan.json`, snake_case as saved.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("test_id".into(), Value::from(self.test_id.clone()));
        m.insert(
            "start_at".into(),
            self.start_unix_ms
                .map(|t| Value::from(format_utc(t)))
                .unwrap_or(Value::Null),
        );
        m.insert(
            "late_after_s".into(),
            crate::stats::float_value(self.late_after_s),
        );
        m.insert(
            "shards".into(),
            Value::Array(self.shards.iter().map(|s| load_json(s, true)).collect()),
        );
        if let Some(open) = &self.open {
            m.insert("open".into(), load_json(open, false));
        }
        if let Some(p) = &self.payload {
            m.insert("payload".into(), Value::Array(p.clone()));
        }
        Value::Object(m)
    }

    /// The load shard `shard_id` runs: its listed load, else the open load.
    pub fn shard_load(&self, shard_id: &str) -> Result<ShardLoad, PlanError> {
        check_id("shardId", shard_id)?;
        if let Some(s) = self.shards.iter().find(|s| s.shard_id == shard_id) {
            return Ok(s.clone());
        }
        match &self.open {
            Some(open) => Ok(ShardLoad {
                shard_id: shard_id.to_string(),
                ..open.clone()
            }),
            None => Err(range_error(
                "shardId",
                format!(
                    "{shard_id:?} is not in the plan of test {:?} (listed: {}), and the plan has no open load",
                    self.test_id,
                    self.shards.iter().map(|s| s.shard_id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    /// What a shard's manifest records as "the plan it ran": the test's start and its load.
    pub fn shard_plan_json(&self, load: &ShardLoad) -> Value {
        let mut v = load_json(load, true);
        if let Value::Object(m) = &mut v {
            m.insert(
                "start_at".into(),
                self.start_unix_ms
                    .map(|t| Value::from(format_utc(t)))
                    .unwrap_or(Value::Null),
            );
        }
        v
    }
}

/// The files of a shard's folder, as `RunResult::to_files` writes them for a shard: what a
/// driver presigns for a participant that cannot sign (an edge invocation).
pub const SHARD_FILES: [&str; 8] = [
    crate::result::SUMMARY_FILE,
    crate::result::STATS_FILE,
    crate::result::RESPONSES_FILE,
    crate::result::RUN_CONFIG_FILE,
    crate::result::PAYLOAD_FILE,
    crate::result::CHUNK_TIMINGS_FILE,
    crate::result::RUN_INFO_FILE,
    super::SHARD_FILE,
];

/// `{prefix}{test_id}/plan.json`.
pub fn plan_key(prefix: &str, test_id: &str) -> String {
    format!("{prefix}{test_id}/{PLAN_FILE}")
}

/// `{prefix}{test_id}/shards/{shard_id}/` — the shard's files go under it.
pub fn shard_prefix(prefix: &str, test_id: &str, shard_id: &str) -> String {
    format!("{prefix}{test_id}/{SHARDS_FOLDER}/{shard_id}/")
}

/// `(shard_id, file)` of a listed key under the test's prefix, or `None` for other keys
/// (the plan, a merged result, anything nested deeper).
pub fn parse_shard_key<'k>(
    prefix: &str,
    test_id: &str,
    key: &'k str,
) -> Option<(&'k str, &'k str)> {
    let rest = key
        .strip_prefix(prefix)?
        .strip_prefix(test_id)?
        .strip_prefix('/')?
        .strip_prefix(SHARDS_FOLDER)?
        .strip_prefix('/')?;
    let (shard, file) = rest.split_once('/')?;
    (!shard.is_empty() && !file.is_empty() && !file.contains('/')).then_some((shard, file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_both_spellings_and_round_trips() {
        let camel = json!({
            "testId": "t1", "startAt": "2025-01-01T12:00:00Z", "lateAfterS": 5,
            "shards": [{"shardId": "eu-1", "label": "eu", "clients": 4, "nRequests": 3},
                       {"shardId": "us-1", "label": "us", "runDuration": 2.5}],
            "open": {"clients": 2, "nRequests": 1},
            "payload": {"prompt": "hi"},
        });
        let plan = FleetPlan::from_value(&camel).unwrap();
        assert_eq!(plan.start_unix_ms, Some(1_735_732_800_000.0));
        assert_eq!(plan.shards[1].run_duration_s, Some(2.5));
        assert_eq!(plan.shards[1].clients, 1);
        assert_eq!(plan.payload.as_ref().unwrap().len(), 1);
        let saved = plan.to_value();
        assert_eq!(saved["start_at"], json!("2025-01-01T12:00:00.000Z"));
        assert_eq!(saved["shards"][0]["n_requests"], json!(3));
        assert_eq!(FleetPlan::from_value(&saved).unwrap(), plan);
        let load = plan.shard_load("edge-17").unwrap();
        assert_eq!(
            (load.shard_id.as_str(), load.clients, load.n_requests),
            ("edge-17", 2, Some(1))
        );
        assert_eq!(
            plan.shard_load("eu-1").unwrap().label.as_deref(),
            Some("eu")
        );
    }

    #[test]
    fn errors_name_the_field() {
        let err = |v: Value| FleetPlan::from_value(&v).unwrap_err();
        assert!(err(json!({"shards": []})).message.contains("plan.test_id"));
        let e = err(json!({"testId": "t", "shards": [{"shardId": "a", "clients": 0}]}));
        assert!(
            e.is_range && e.message.contains("plan.shards[0].clients"),
            "{e}"
        );
        let e = err(json!({"testId": "t", "shards": [{"shardId": "a/b"}]}));
        assert!(e.message.contains("plan.shards[0].shard_id"), "{e}");
        let e = err(json!({"testId": "t", "shards": [{"shardId": "a"}, {"shardId": "a"}]}));
        assert!(e.message.contains("twice"), "{e}");
        let e = err(
            json!({"testId": "t", "shards": [{"shardId": "a", "nRequests": 2, "runDuration": 1}]}),
        );
        assert!(e.message.contains("exclude"), "{e}");
        let e = err(json!({"testId": "t", "startAt": "soon", "shards": [{"shardId": "a"}]}));
        assert!(e.message.contains("plan.start_at"), "{e}");
        assert!(err(json!({"testId": "t"}))
            .message
            .contains("no shard could join"));
        let plan =
            FleetPlan::from_value(&json!({"testId": "t", "shards": [{"shardId": "a"}]})).unwrap();
        let e = plan.shard_load("b").unwrap_err();
        assert!(
            e.message.contains("not in the plan") && e.message.contains("a"),
            "{e}"
        );
    }

    #[test]
    fn keys() {
        assert_eq!(plan_key("runs/", "t1"), "runs/t1/plan.json");
        assert_eq!(shard_prefix("runs/", "t1", "eu-1"), "runs/t1/shards/eu-1/");
        assert_eq!(
            parse_shard_key("runs/", "t1", "runs/t1/shards/eu-1/summary.json"),
            Some(("eu-1", "summary.json"))
        );
        for other in [
            "runs/t1/plan.json",
            "runs/t1/merged/summary.json",
            "runs/t2/shards/a/x",
            "runs/t1/shards/a/b/c",
        ] {
            assert_eq!(parse_shard_key("runs/", "t1", other), None, "{other}");
        }
    }
}
