//! How far this machine's wall clock is from a reference clock (the endpoint's or the upload
//! server's), estimated from HTTP `Date` headers, with an honest uncertainty.
//!
//! A `Date` header says the server's clock read `D` (whole seconds, truncated) at some instant
//! while it answered. That instant lies between our send and our receipt of the answer, so
//! `offset = server − local` lies in `(D − received, D + 1000 − sent)` (ms). Every sample is such
//! an interval; their intersection narrows as answers arrive at different phases of the
//! server's second (a run of a few seconds with a few dozen requests usually brings it close
//! to the round trip to the headers). The estimate is the middle, the uncertainty half the width.
//! Samples that do not intersect (two servers whose clocks disagree, our clock stepped) widen
//! the interval to their hull and are counted as conflicts rather than hidden.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A wall-clock offset: `reference = local + offset_ms`, known to ± `uncertainty_ms`.
/// (De)serialized through `serde_json::Value`, whose code the core module has anyway: derived
/// impls would add to every module that saves or loads a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockOffset {
    pub offset_ms: f64,
    pub uncertainty_ms: f64,
    /// `Date` headers the estimate rests on (0 for a clock known to be the reference, e.g. a
    /// worker of the same machine).
    pub samples: u32,
    /// Samples that contradicted the others (their hull was taken).
    pub conflicts: u32,
    /// What the reference is: `endpoint`, `store`, `same clock`, or the caller's word.
    pub source: Option<String>,
}

impl ClockOffset {
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "offset_ms".into(),
            crate::stats::float_value(self.offset_ms),
        );
        m.insert(
            "uncertainty_ms".into(),
            crate::stats::float_value(self.uncertainty_ms),
        );
        m.insert("samples".into(), Value::from(self.samples));
        m.insert("conflicts".into(), Value::from(self.conflicts));
        m.insert(
            "source".into(),
            self.source.clone().map_or(Value::Null, Value::from),
        );
        Value::Object(m)
    }

    /// The least correction of this machine's clock the estimate allows: none when the local
    /// clock already lies within the uncertainty (one `Date` header leaves ±500 ms, and taking
    /// its middle would move a well-synced clock by up to that), else the distance to the
    /// nearer edge. What a participant waits on for a plan's start.
    pub fn least_correction_ms(&self) -> f64 {
        let (lo, hi) = (
            self.offset_ms - self.uncertainty_ms,
            self.offset_ms + self.uncertainty_ms,
        );
        0.0f64.clamp(lo, hi)
    }

    /// Milliseconds from `now_unix_ms` (this machine's clock) until `start_unix_ms` on the
    /// reference clock, by the least correction; negative when the start has passed.
    pub fn until_ms(offset: Option<&ClockOffset>, start_unix_ms: f64, now_unix_ms: f64) -> f64 {
        start_unix_ms - (now_unix_ms + offset.map_or(0.0, ClockOffset::least_correction_ms))
    }

    /// `None` unless `offset_ms` and `uncertainty_ms` are finite numbers (uncertainty ≥ 0).
    pub fn from_value(v: &Value) -> Option<ClockOffset> {
        let num = |k: &str| v.get(k).and_then(Value::as_f64);
        let count = |k: &str| {
            v.get(k)
                .and_then(Value::as_u64)
                .map_or(0, |n| n.min(u32::MAX as u64) as u32)
        };
        let (offset_ms, uncertainty_ms) = (num("offset_ms")?, num("uncertainty_ms")?);
        (offset_ms.is_finite() && uncertainty_ms.is_finite() && uncertainty_ms >= 0.0).then(|| {
            ClockOffset {
                offset_ms,
                uncertainty_ms,
                samples: count("samples"),
                conflicts: count("conflicts"),
                source: v.get("source").and_then(Value::as_str).map(str::to_string),
            }
        })
    }
}

impl Serialize for ClockOffset {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ClockOffset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ClockOffset::from_value(&Value::deserialize(d)?).ok_or_else(|| {
            D::Error::custom(
                "clock_offset must be {offset_ms, uncertainty_ms ≥ 0, …} with finite numbers",
            )
        })
    }
}

impl ClockOffset {
    /// The reference clock itself (a shard on the machine that merges, a worker of a run).
    pub fn same_clock() -> ClockOffset {
        ClockOffset {
            offset_ms: 0.0,
            uncertainty_ms: 0.0,
            samples: 0,
            conflicts: 0,
            source: Some("same clock".into()),
        }
    }
}

/// Intersects the intervals of `Date` samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OffsetEstimator {
    bounds: Option<(f64, f64)>,
    samples: u32,
    conflicts: u32,
}

impl OffsetEstimator {
    /// Adds one sample; returns `false` (and changes nothing) when the header is not an HTTP
    /// date or the local times are not in order.
    pub fn add(&mut self, sent_unix_ms: f64, received_unix_ms: f64, date: &str) -> bool {
        let Some(server_ms) = parse_http_date(date) else {
            return false;
        };
        if !(sent_unix_ms.is_finite()
            && received_unix_ms.is_finite()
            && sent_unix_ms <= received_unix_ms)
        {
            return false;
        }
        self.add_interval(
            server_ms - received_unix_ms,
            server_ms + 1000.0 - sent_unix_ms,
        );
        true
    }

    fn add_interval(&mut self, lo: f64, hi: f64) {
        self.samples += 1;
        self.bounds = Some(match self.bounds {
            None => (lo, hi),
            Some((a, b)) if lo.max(a) <= hi.min(b) => (lo.max(a), hi.min(b)),
            Some((a, b)) => {
                self.conflicts += 1;
                (lo.min(a), hi.max(b))
            }
        });
    }

    pub fn samples(&self) -> u32 {
        self.samples
    }

    /// The estimate, or `None` without any sample.
    pub fn estimate(&self, source: &str) -> Option<ClockOffset> {
        let (lo, hi) = self.bounds?;
        Some(ClockOffset {
            offset_ms: (lo + hi) / 2.0,
            uncertainty_ms: (hi - lo) / 2.0,
            samples: self.samples,
            conflicts: self.conflicts,
            source: Some(source.to_string()),
        })
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses an HTTP date in the one form servers must send (RFC 9110 IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`) into Unix milliseconds. `None` for anything else.
pub fn parse_http_date(s: &str) -> Option<f64> {
    let s = s.trim();
    let (_, rest) = s.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day = parts.next()?;
    let month = parts.next()?;
    let year = parts.next()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    if day.len() != 2 || year.len() != 4 || time.len() != 8 {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    crate::time::parse_utc(&format!("{year}-{month:02}-{day}T{time}Z"))
}

/// Formats Unix milliseconds as an IMF-fixdate (whole seconds, truncated), as a server writes
/// its `Date` header.
pub fn format_http_date(unix_ms: f64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let iso = crate::time::format_utc(unix_ms);
    let day_index = (unix_ms / 86_400_000.0).floor() as i64;
    let weekday = DAYS[day_index.rem_euclid(7) as usize];
    let month = MONTHS[iso[5..7].parse::<usize>().unwrap_or(1) - 1];
    format!(
        "{weekday}, {} {month} {} {} GMT",
        &iso[8..10],
        &iso[0..4],
        &iso[11..19]
    )
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_start_waits_on_the_least_correction_the_estimate_allows() {
        let at = |offset_ms: f64, uncertainty_ms: f64| ClockOffset {
            offset_ms,
            uncertainty_ms,
            samples: 1,
            conflicts: 0,
            source: None,
        };
        // One Date header on a synced clock: [-96, 904] holds 0, so no correction.
        assert_eq!(at(404.0, 500.0).least_correction_ms(), 0.0);
        assert_eq!(at(-404.0, 500.0).least_correction_ms(), 0.0);
        // A clock 3 s behind, known to ±200 ms: moved to the near edge.
        assert_eq!(at(3000.0, 200.0).least_correction_ms(), 2800.0);
        assert_eq!(at(-3000.0, 200.0).least_correction_ms(), -2800.0);
        assert_eq!(at(12.5, 0.0).least_correction_ms(), 12.5);
        let o = at(3000.0, 200.0);
        assert_eq!(ClockOffset::until_ms(Some(&o), 10_000.0, 5_000.0), 2_200.0);
        assert_eq!(ClockOffset::until_ms(None, 10_000.0, 5_000.0), 5_000.0);
        assert_eq!(
            ClockOffset::until_ms(Some(&at(404.0, 500.0)), 10_000.0, 11_000.0),
            -1_000.0
        );
    }

    use super::*;

    const T0: f64 = 1_735_732_800_000.0; // 2025-01-01T12:00:00Z, a Wednesday

    #[test]
    fn parses_imf_fixdate_only() {
        assert_eq!(parse_http_date("Wed, 01 Jan 2025 12:00:00 GMT"), Some(T0));
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000.0)
        );
        for bad in [
            "",
            "Wed, 1 Jan 2025 12:00:00 GMT",
            "Wed, 01 Foo 2025 12:00:00 GMT",
            "Wed, 01 Jan 2025 12:00:00 UTC",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Wed, 01 Jan 2025 25:00:00 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn one_sample_bounds_the_offset_by_the_second_and_the_round_trip() {
        let mut e = OffsetEstimator::default();
        // Local clock 2.3 s behind the server: sent at local T0-2300+100, answered 40 ms later.
        let sent = T0 - 2300.0 + 100.0;
        assert!(e.add(sent, sent + 40.0, "Wed, 01 Jan 2025 12:00:00 GMT"));
        let o = e.estimate("endpoint").unwrap();
        let (lo, hi) = (
            o.offset_ms - o.uncertainty_ms,
            o.offset_ms + o.uncertainty_ms,
        );
        assert!(lo <= 2300.0 && 2300.0 <= hi, "{o:?}");
        assert_eq!(hi - lo, 1040.0);
        assert_eq!(o.samples, 1);
    }

    #[test]
    fn samples_at_different_phases_narrow_the_interval() {
        let true_offset = -1234.5;
        let mut e = OffsetEstimator::default();
        // 50 requests, 10 ms round trip, the server answering mid-way, spread over 5 s.
        for k in 0..50 {
            let sent = T0 + k as f64 * 103.0;
            let server = sent + 5.0 + true_offset;
            let date = format_http_date(server);
            assert!(e.add(sent, sent + 10.0, &date));
        }
        let o = e.estimate("endpoint").unwrap();
        assert!(
            (o.offset_ms - true_offset).abs() <= o.uncertainty_ms,
            "{o:?}"
        );
        // From ±520 ms for one sample down to about the round trip (the phases of 103 ms steps
        // come within a few ms of every second boundary).
        assert!(o.uncertainty_ms < 15.0, "{o:?}");
        assert_eq!(o.conflicts, 0);
    }

    #[test]
    fn contradicting_samples_widen_and_are_counted() {
        let mut e = OffsetEstimator::default();
        assert!(e.add(T0, T0 + 10.0, "Wed, 01 Jan 2025 12:00:00 GMT"));
        // A second server 5 s ahead.
        assert!(e.add(T0, T0 + 10.0, "Wed, 01 Jan 2025 12:00:05 GMT"));
        let o = e.estimate("endpoint").unwrap();
        assert_eq!(o.conflicts, 1);
        assert_eq!(o.offset_ms - o.uncertainty_ms, -10.0);
        assert_eq!(o.offset_ms + o.uncertainty_ms, 6000.0);
    }

    #[test]
    fn bad_samples_are_ignored() {
        let mut e = OffsetEstimator::default();
        assert!(!e.add(T0, T0 + 1.0, "yesterday"));
        assert!(!e.add(T0 + 5.0, T0, "Wed, 01 Jan 2025 12:00:00 GMT"));
        assert_eq!(e.estimate("endpoint"), None);
        assert!(e.add(T0, T0 + 20.0, "Wed, 01 Jan 2025 12:00:00 GMT"));
        assert_eq!(
            e.estimate("store").unwrap().source.as_deref(),
            Some("store")
        );
    }

    #[test]
    fn offsets_round_trip_through_json_and_bad_ones_are_refused() {
        let o = ClockOffset {
            offset_ms: -12.5,
            uncertainty_ms: 3.25,
            samples: 40,
            conflicts: 1,
            source: Some("endpoint".into()),
        };
        assert_eq!(ClockOffset::from_value(&o.to_value()), Some(o.clone()));
        let text = serde_json::to_string(&o).unwrap();
        assert_eq!(serde_json::from_str::<ClockOffset>(&text).unwrap(), o);
        for bad in [
            serde_json::json!({"offset_ms": 1.0}),
            serde_json::json!({"offset_ms": 1.0, "uncertainty_ms": -1.0}),
            serde_json::json!({"offset_ms": "1", "uncertainty_ms": 1.0}),
        ] {
            assert_eq!(ClockOffset::from_value(&bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_what_it_parses() {
        assert_eq!(
            format_http_date(T0 + 999.0),
            "Wed, 01 Jan 2025 12:00:00 GMT"
        );
        assert_eq!(
            format_http_date(784_111_777_000.0),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        for ms in [0.0, 951_782_400_000.0, T0 + 86_400_000.0 * 3.0 + 7_000.0] {
            assert_eq!(parse_http_date(&format_http_date(ms)), Some(ms));
        }
    }
}
