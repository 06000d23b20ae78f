//! A shard's manifest (`shard.json`, beside LLMeter's files in the run folder): which test and
//! shard the run was, where and how it ran, the plan it ran, and its wall-clock offset against
//! the reference clock — what a merge needs beyond LLMeter's files.

use super::offset::ClockOffset;
use super::plan::{check_id, check_label, PlanError};
use serde_json::{Map, Value};

pub const SHARD_FILE: &str = "shard.json";

/// (Read and written through `serde_json::Value`, whose code the core module has anyway.)
#[derive(Debug, Clone, PartialEq)]
pub struct ShardManifest {
    pub test_id: String,
    pub shard_id: String,
    /// The user's label (region, network, cohort): the merged result breaks every metric down
    /// by it.
    pub label: Option<String>,
    /// Runtime name and version (`HeadlessChrome/141.0… (worker)`, `node 20.20.2`, `workerd`).
    pub runtime: Option<String>,
    /// The measuring engine and its version (`llmeter-wasm 0.1.0`).
    pub engine: Option<String>,
    /// The plan the shard ran (its load and the test's start), as given.
    pub plan: Option<Value>,
    /// `reference = local + offset`; `None` when no `Date` header was readable.
    pub clock_offset: Option<ClockOffset>,
}

/// What the caller says about a shard before it runs (`shard: {testId, shardId, label, plan}`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShardSpec {
    pub test_id: String,
    pub shard_id: String,
    pub label: Option<String>,
    pub plan: Option<Value>,
}

impl ShardSpec {
    /// Checks the ids (they name folders) and the label.
    pub fn new(
        test_id: String,
        shard_id: String,
        label: Option<String>,
        plan: Option<Value>,
    ) -> Result<ShardSpec, PlanError> {
        check_id("shard.testId", &test_id)?;
        check_id("shard.shardId", &shard_id)?;
        if let Some(l) = &label {
            check_label("shard.label", l)?;
        }
        Ok(ShardSpec {
            test_id,
            shard_id,
            label,
            plan,
        })
    }

    /// The manifest once the run is over.
    pub fn manifest(
        &self,
        runtime: Option<String>,
        engine: &str,
        clock_offset: Option<ClockOffset>,
    ) -> ShardManifest {
        ShardManifest {
            test_id: self.test_id.clone(),
            shard_id: self.shard_id.clone(),
            label: self.label.clone(),
            runtime,
            engine: Some(engine.to_string()),
            plan: self.plan.clone(),
            clock_offset,
        }
    }
}

impl ShardManifest {
    /// `shard.json`'s object, keys in this order.
    pub fn to_value(&self) -> Value {
        let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::from);
        let mut m = Map::new();
        m.insert("test_id".into(), Value::from(self.test_id.clone()));
        m.insert("shard_id".into(), Value::from(self.shard_id.clone()));
        m.insert("label".into(), text(&self.label));
        m.insert("runtime".into(), text(&self.runtime));
        m.insert("engine".into(), text(&self.engine));
        m.insert("plan".into(), self.plan.clone().unwrap_or(Value::Null));
        m.insert(
            "clock_offset".into(),
            self.clock_offset
                .as_ref()
                .map_or(Value::Null, ClockOffset::to_value),
        );
        Value::Object(m)
    }

    /// The manifest a run carries (`info.shard`, kept as saved), checked: `Ok(None)` for a run
    /// that is not a shard.
    pub fn of(info: &crate::result::RunInfo) -> Result<Option<ShardManifest>, String> {
        info.shard
            .as_ref()
            .map(ShardManifest::from_value)
            .transpose()
    }

    /// Reads `shard.json`; errors name the file and the field.
    pub fn from_json(text: &str) -> Result<ShardManifest, String> {
        let v: Value =
            crate::json::parse_lenient(text).map_err(|e| format!("{SHARD_FILE}: {e}"))?;
        ShardManifest::from_value(&v)
    }

    pub fn from_value(v: &Value) -> Result<ShardManifest, String> {
        let err = |what: String| format!("{SHARD_FILE}: {what}");
        if !v.is_object() {
            return Err(err("expected a JSON object".into()));
        }
        let text = |k: &str| -> Result<Option<String>, String> {
            match v.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(err(format!("`{k}` must be a string"))),
            }
        };
        let id = |k: &'static str| -> Result<String, String> {
            let id = text(k)?.ok_or_else(|| err(format!("`{k}` is required")))?;
            check_id(k, &id).map_err(|e| err(e.to_string()))?;
            Ok(id)
        };
        let clock_offset = match v.get("clock_offset") {
            None | Some(Value::Null) => None,
            Some(o) => Some(ClockOffset::from_value(o).ok_or_else(|| {
                err("clock_offset must hold finite numbers (uncertainty ≥ 0)".into())
            })?),
        };
        Ok(ShardManifest {
            test_id: id("test_id")?,
            shard_id: id("shard_id")?,
            label: text("label")?,
            runtime: text("runtime")?,
            engine: text("engine")?,
            plan: v.get("plan").filter(|p| !p.is_null()).cloned(),
            clock_offset,
        })
    }
}
