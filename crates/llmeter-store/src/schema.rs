//! The IndexedDB schema's versions and the upgrade path between them. The JS layer owns one
//! function per step; this decides which steps run, and refuses a database newer than the code.
//!
//! * v1: object stores `runs` (key `id`, index `startedAt`) and `batches` (key `[runId, seq]`).
//! * v2: runs carry `group` (the load test's name, `""` for a lone run) with an index `group`;
//!   v1 runs are back-filled with `""`.

pub const SCHEMA_VERSION: u32 = 2;

/// The steps to run in `onupgradeneeded` going from `old` (0 = new database) to `new`.
pub fn upgrade_steps(old: u32, new: u32) -> Result<Vec<u32>, String> {
    if new > SCHEMA_VERSION {
        return Err(format!(
            "schema v{new} is unknown to this version of llmeter-wasm (it knows up to v{SCHEMA_VERSION})"
        ));
    }
    if old > new {
        return Err(format!(
            "the result database has schema v{old}, newer than this version of llmeter-wasm (v{new}); update the page or package"
        ));
    }
    Ok((old + 1..=new).collect())
}
