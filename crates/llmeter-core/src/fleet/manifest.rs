//! A shard's manifest (`shard.json`, beside LLMeter's files in the run folder): which test and
//! shard the run was, where and how it ran, the plan it ran, and its wall-clock offset against
//! the reference clock — what a merge needs beyond LLMeter's files.

use super::offset::ClockOffset;
use super::plan::{check_id, check_label, PlanError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const SHARD_FILE: &str = "shard.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    pub test_id: String,
    pub shard_id: String,
    /// The user's label (region, network, cohort): the merged result breaks every metric down
    /// by it.
    #[serde(default)]
    pub label: Option<String>,
    /// Runtime name and version (`HeadlessChrome/141.0… (worker)`, `node 20.20.2`, `workerd`).
    #[serde(default)]
    pub runtime: Option<String>,
    /// The measuring engine and its version (`llmeter-wasm 0.1.0`).
    #[serde(default)]
    pub engine: Option<String>,
    /// The plan the shard ran (its load and the test's start), as given.
    #[serde(default)]
    pub plan: Option<Value>,
    /// `reference = local + offset`; `None` when no `Date` header was readable.
    #[serde(default)]
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
    /// Reads `shard.json`; errors name the file.
    pub fn from_json(text: &str) -> Result<ShardManifest, String> {
        let m: ShardManifest =
            serde_json::from_str(text).map_err(|e| format!("{SHARD_FILE}: {e}"))?;
        check_id("test_id", &m.test_id).map_err(|e| format!("{SHARD_FILE}: {e}"))?;
        check_id("shard_id", &m.shard_id).map_err(|e| format!("{SHARD_FILE}: {e}"))?;
        if let Some(o) = &m.clock_offset {
            if !(o.offset_ms.is_finite() && o.uncertainty_ms.is_finite() && o.uncertainty_ms >= 0.0)
            {
                return Err(format!(
                    "{SHARD_FILE}: clock_offset must hold finite numbers (uncertainty ≥ 0)"
                ));
            }
        }
        Ok(m)
    }
}
