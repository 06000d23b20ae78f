//! Beyond one machine: a run as one shard of a test, its manifest and wall-clock offset, the
//! fleet's shared plan and object keys, and the compact form a probe sends. The exact merge of
//! shards is `crate::result::merge`.

pub mod compact;
pub mod lost;
pub mod manifest;
pub mod offset;
pub mod plan;

pub use manifest::{ShardManifest, ShardSpec, SHARD_FILE};
pub use offset::{format_http_date, parse_http_date, ClockOffset, OffsetEstimator};
pub use plan::{FleetPlan, PlanError, ShardLoad};
