//! Clocks and timers behind one small trait, so the runner is driven by `performance.now()` and
//! `setTimeout` on the web and by a virtual clock in native tests.

use futures::future::LocalBoxFuture;

pub trait Clock {
    /// Monotonic milliseconds from an arbitrary origin (`performance.now()` on the web).
    fn now_ms(&self) -> f64;
    /// Wall-clock milliseconds since the Unix epoch (`Date.now()`), for LLMeter's timestamps.
    fn unix_ms(&self) -> f64;
    /// Resolves after `ms` milliseconds of this clock.
    fn sleep(&self, ms: f64) -> LocalBoxFuture<'static, ()>;
    /// Resolves at `deadline_ms` (this clock) as closely as the platform allows: open-loop
    /// arrivals use it, where a timer that fires a millisecond late is schedule lag. By default
    /// a `sleep`.
    fn sleep_until(&self, deadline_ms: f64) -> LocalBoxFuture<'static, ()> {
        self.sleep(deadline_ms - self.now_ms())
    }
    /// Resolves once the requests sent in this turn of the event loop have gone out (on the
    /// web: after their `fetch` calls, or in a later turn where they leave only when this one
    /// ends): the runner records responses then. By default a zero sleep.
    fn next_turn(&self) -> LocalBoxFuture<'static, ()> {
        self.sleep(0.0)
    }
}

/// Formats Unix milliseconds as LLMeter's UTC timestamp with millisecond precision,
/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (LLMeter parses 3-digit fractions on every Python it supports).
pub fn format_utc(unix_ms: f64) -> String {
    let total_ms = if unix_ms.is_finite() {
        unix_ms.floor() as i64
    } else {
        0
    };
    let ms = total_ms.rem_euclid(1000);
    let secs = total_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+00:00)` into Unix milliseconds (sub-ms digits are
/// kept as a fraction). Returns `None` for anything else; never panics.
pub fn parse_utc(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse::<i64>().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        // serde_json's exact float reader (core's `f64::from_str` would add a second one).
        frac = serde_json::from_str::<f64>(&format!("0.{}", &r[..digits])).ok()?;
        rest = &r[digits..];
    }
    let offset_min = match rest {
        "Z" | "" | "+00:00" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o.get(1..3)?.parse::<i64>().ok()? * 60 + o.get(4..6)?.parse::<i64>().ok()?)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_min * 60;
    Some(secs as f64 * 1000.0 + frac * 1000.0)
}

/// A timestamp as LLMeter re-writes it after loading: one with a UTC offset (`+02:00`) becomes
/// the same instant in UTC with a `Z` suffix, its fractional digits kept
/// (`2025-01-01T14:00:00.5+02:00` → `2025-01-01T12:00:00.5Z`); `+00:00` becomes `Z`. Anything
/// else (already `Z`, naive, unparseable) is returned unchanged.
pub fn normalize_utc(s: &str) -> String {
    let b = s.as_bytes();
    let has_offset =
        b.len() >= 25 && matches!(b[b.len() - 6], b'+' | b'-') && b[b.len() - 3] == b':';
    if !has_offset || parse_utc(s).is_none() {
        return s.to_string();
    }
    let (body, _) = s.split_at(s.len() - 6);
    let fraction = body.get(19..).unwrap_or("");
    let Some(whole) = parse_utc(&format!("{}{}", &body[..19], &s[s.len() - 6..])) else {
        return s.to_string();
    };
    let utc = format_utc(whole);
    format!("{}{fraction}Z", &utc[..19])
}

// Howard Hinnant's civil calendar algorithms (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0.0), "1970-01-01T00:00:00.000Z");
        // 2025-01-01T12:00:00Z = 1735732800 s
        assert_eq!(format_utc(1_735_732_800_123.9), "2025-01-01T12:00:00.123Z");
        assert_eq!(format_utc(951_782_400_000.0), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn parses_what_llmeter_writes() {
        assert_eq!(parse_utc("2025-01-01T12:00:00Z"), Some(1_735_732_800_000.0));
        assert_eq!(
            parse_utc("2025-01-01T12:00:00.5Z"),
            Some(1_735_732_800_500.0)
        );
        assert_eq!(
            parse_utc("2025-01-01T13:00:00+01:00"),
            Some(1_735_732_800_000.0)
        );
        assert_eq!(
            parse_utc("2025-01-01T12:00:00.123Z"),
            Some(1_735_732_800_123.0)
        );
        assert_eq!(parse_utc("not a date"), None);
        assert_eq!(parse_utc("2025-13-01T12:00:00Z"), None);
        assert_eq!(parse_utc("2025-01-01T12:00:00.Z"), None);
    }

    #[test]
    fn offsets_normalize_to_utc_z() {
        assert_eq!(
            normalize_utc("2025-01-01T14:00:00+02:00"),
            "2025-01-01T12:00:00Z"
        );
        assert_eq!(
            normalize_utc("2025-01-01T00:30:00.123456-01:00"),
            "2025-01-01T01:30:00.123456Z"
        );
        assert_eq!(
            normalize_utc("2025-01-01T12:00:00+00:00"),
            "2025-01-01T12:00:00Z"
        );
        assert_eq!(
            normalize_utc("2025-01-01T01:00:00+02:00"),
            "2024-12-31T23:00:00Z"
        );
        for same in [
            "2025-01-01T12:00:00Z",
            "2025-01-01T12:00:00.5Z",
            "2025-01-01T12:00:00",
            "nope",
        ] {
            assert_eq!(normalize_utc(same), same);
        }
    }

    #[test]
    fn round_trips() {
        for ms in [
            0.0,
            1.0,
            86_399_999.0,
            1_700_000_000_001.0,
            4_102_444_800_000.0,
        ] {
            assert_eq!(parse_utc(&format_utc(ms)), Some(ms));
        }
    }
}
