//! Names of runs, tests and their folders — computed here once; the JS API and the stores call
//! these rather than keeping copies.

use crate::runner::OptionError;
use crate::time::format_utc;

/// LLMeter's default run (and test) name, `YYYYMMDD-HHMM` (UTC here: a browser's local zone is
/// not something a shared result should depend on).
pub fn default_run_name(unix_ms: f64) -> String {
    let s = format_utc(unix_ms);
    format!(
        "{}{}{}-{}{}",
        &s[0..4],
        &s[5..7],
        &s[8..10],
        &s[11..13],
        &s[14..16]
    )
}

/// Name of a concurrency level's run folder inside a LoadTest folder, e.g. `00004-clients`.
pub fn load_test_run_name(clients: u32) -> String {
    format!("{clients:05}-clients")
}

/// Name of a request-rate level's run folder, e.g. `00002.500-rps` for 2.5 requests per second
/// (zero-padded like the client levels, so folders sort by rate; three decimals).
pub fn load_test_rate_run_name(rate: f64) -> String {
    // `{rate:09.3}`, without `{}` of `f64` (see `json::fixed`): zero-padded to 9 characters.
    let text = crate::json::fixed(rate, 3);
    let (sign, digits) = match text.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", text.as_str()),
    };
    let width = 9usize.saturating_sub(sign.len());
    format!("{sign}{digits:0>width$}-rps")
}

/// The folder a run's files go to: `base` itself, or `base/{run_name}` when `nested` (LLMeter's
/// `Runner(output_path=base)`), joined with `/` unless `base` already ends with a separator.
pub fn run_folder_path(base: &str, run_name: &str, nested: bool) -> String {
    if !nested {
        base.to_string()
    } else if base.ends_with(['/', '\\']) {
        format!("{base}{run_name}")
    } else {
        format!("{base}/{run_name}")
    }
}

/// Checks a run or test name that becomes a folder name: not empty (LLMeter rejects it), not
/// `.` or `..`, no path separators or control characters, at most 200 characters.
pub fn check_folder_name(option: &'static str, name: &str) -> Result<(), OptionError> {
    let bad = |why: &str| OptionError {
        option,
        message: format!("{why}, got {name:?}"),
        is_range: true,
    };
    if name.trim().is_empty() {
        return Err(bad("must not be empty"));
    }
    if name == "." || name == ".." {
        return Err(bad("must not be . or .. (it names a folder)"));
    }
    if name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        return Err(bad(
            "must not contain / or \\ or control characters (it names a folder)",
        ));
    }
    if name.chars().count() > 200 {
        return Err(bad("must be at most 200 characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(default_run_name(1_735_732_800_123.0), "20250101-1200");
        assert_eq!(load_test_run_name(4), "00004-clients");
        assert_eq!(load_test_run_name(123_456), "123456-clients");
        assert_eq!(load_test_rate_run_name(2.5), "00002.500-rps");
        assert_eq!(run_folder_path("out", "r1", true), "out/r1");
        assert_eq!(run_folder_path("out/", "r1", true), "out/r1");
        assert_eq!(run_folder_path("out/x", "r1", false), "out/x");
        assert_eq!(load_test_rate_run_name(0.1), "00000.100-rps");
        assert_eq!(load_test_rate_run_name(12345.6789), "12345.679-rps");
    }

    #[test]
    fn folder_names_are_checked() {
        assert!(check_folder_name("runName", "my run 1").is_ok());
        for bad in ["", "  ", ".", "..", "a/b", "a\\b", "x\ny"] {
            let e = check_folder_name("testName", bad).unwrap_err();
            assert_eq!(e.option, "testName");
            assert!(e.is_range);
        }
    }
}
