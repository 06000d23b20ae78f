//! LLMeter's folder layout for a files map `{ "path/inside/folder": content }`: a run folder holds
//! `summary.json`, `stats.json`, `responses.jsonl`, …; a load test holds one run folder per level
//! (`00004-clients/…`). Paths are normalised, the folder kind recognised, and the common root that
//! a zip or a picked folder adds (`my-test/00004-clients/summary.json`) removed.

use llmeter_core::result::{
    strip_secrets, RESPONSES_FILE, RUN_CONFIG_FILE, STATS_FILE, SUMMARY_FILE,
};
use serde::Serialize;
use serde_json::{Map, Value};

/// `a\b/./c` → `a/b/c`; rejects `..`, absolute and empty paths (a zip must not write outside).
pub fn normalize_path(path: &str) -> Result<String, String> {
    let mut parts = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => continue,
            ".." => return Err(format!("path {path:?} leaves its folder (..)")),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(format!("empty path {path:?}"));
    }
    if parts[0].ends_with(':') {
        return Err(format!("absolute path {path:?}"));
    }
    Ok(parts.join("/"))
}

/// What a set of files is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FolderLayout {
    /// `"run"` (one run folder) or `"loadTest"` (several run folders under one parent).
    pub kind: &'static str,
    /// Prefix removed from every path (the picked folder or the zip's top folder), e.g. `my-test`,
    /// or `""`.
    pub root: String,
    /// The run folders relative to the root, sorted (`""` for a single run at the root).
    pub runs: Vec<String>,
    /// Paths relative to the root, in the input order, same length as the input (`None` for
    /// files outside the root, which are dropped, e.g. `.DS_Store` next to the picked folder).
    pub paths: Vec<Option<String>>,
}

fn is_run_marker(file: &str) -> bool {
    file == SUMMARY_FILE || file == RESPONSES_FILE || file == STATS_FILE
}

fn split_dir(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

/// Recognises the run folders in `paths` (already normalised): folders holding `summary.json`,
/// `responses.jsonl` or `stats.json`. One → a run, rooted at it; several → a load test, rooted at
/// their deepest common parent.
pub fn detect_layout(paths: &[String]) -> Result<FolderLayout, String> {
    let mut runs: Vec<&str> = Vec::new();
    for p in paths {
        let (dir, file) = split_dir(p);
        if is_run_marker(file) && !runs.contains(&dir) {
            runs.push(dir);
        }
    }
    if runs.is_empty() {
        return Err(format!(
            "no run folder found: expected {SUMMARY_FILE}, {RESPONSES_FILE} or {STATS_FILE}"
        ));
    }
    runs.sort_unstable();
    let nested =
        |outer: &str, inner: &str| outer.is_empty() || inner.starts_with(&format!("{outer}/"));
    if runs
        .iter()
        .any(|a| runs.iter().any(|b| a != b && nested(a, b)))
    {
        return Err("a run folder contains another run folder: not a LLMeter layout".into());
    }
    let (kind, root) = if runs.len() == 1 {
        ("run", runs[0].to_string())
    } else {
        ("loadTest", common_parent(&runs))
    };
    let relative = |p: &str| -> Option<String> {
        if root.is_empty() {
            Some(p.to_string())
        } else {
            p.strip_prefix(root.as_str())
                .and_then(|r| r.strip_prefix('/'))
                .map(str::to_string)
        }
    };
    let runs: Vec<String> = if kind == "run" {
        vec![String::new()]
    } else {
        runs.iter()
            .map(|r| relative(r).unwrap_or_default())
            .collect()
    };
    Ok(FolderLayout {
        kind,
        paths: paths.iter().map(|p| relative(p)).collect(),
        root,
        runs,
    })
}

fn common_parent(dirs: &[&str]) -> String {
    let first: Vec<&str> = dirs[0].split('/').collect();
    let mut n = first.len();
    for d in &dirs[1..] {
        let parts: Vec<&str> = d.split('/').collect();
        n = n.min(first.iter().zip(&parts).take_while(|(a, b)| a == b).count());
    }
    // A folder is its own parent only if it is not itself a run folder.
    if dirs.iter().any(|d| d.split('/').count() == n) {
        n = n.saturating_sub(1);
    }
    first[..n].join("/")
}

/// Content type a file is uploaded (and signed) with.
pub fn content_type(path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    match ext {
        "json" => "application/json",
        "jsonl" => "application/x-ndjson",
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "csv" => "text/csv",
        "zip" => "application/zip",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// Whether a file holds text (decoded to a string on import).
pub fn is_text(path: &str) -> bool {
    !matches!(
        content_type(path),
        "application/octet-stream" | "application/zip" | "image/png"
    )
}

/// Removes credentials from a `run_config.json` before it is written anywhere. Returns the new
/// text and the removed keys, or `None` when nothing had to change (or the file is not a JSON
/// object: it is then left as is, since LLMeter would not load it either).
pub fn scrub_run_config(text: &str) -> Option<(String, Vec<String>)> {
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(text) else {
        return None;
    };
    let removed = strip_secrets(&mut map);
    if removed.is_empty() {
        return None;
    }
    Some((pretty(&map), removed))
}

fn pretty(map: &Map<String, Value>) -> String {
    llmeter_core::json::to_pretty(map)
}

/// Whether `path` is a file that [`scrub_run_config`] applies to.
pub fn is_run_config(path: &str) -> bool {
    split_dir(path).1 == RUN_CONFIG_FILE
}
