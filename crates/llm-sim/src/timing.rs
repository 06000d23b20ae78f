//! Value specifications (`50`, `normal:50,5`, `lognormal:mu,sigma`, `uniform:a,b`) and the
//! conversions the timing model needs (milliseconds to `Duration`, token counts).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;
use rand_distr::{Distribution, LogNormal, Normal, Uniform};

/// Longest delay a spec may produce. Caps absurd header values so `Instant + Duration` can
/// never overflow (and a typo cannot park a connection for years).
pub const MAX_DELAY_MS: f64 = 24.0 * 3600.0 * 1000.0;

/// Largest output length a spec or request may ask for; tokens are generated lazily, so this
/// only bounds how long a single response can run.
pub const MAX_OUTPUT_TOKENS: u32 = 1_000_000;

/// A number that is either fixed or drawn from a distribution on every use.
/// Samples are clamped to `>= 0` because delays and token counts cannot be negative.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueSpec {
    Fixed(f64),
    Normal { mean: f64, std_dev: f64 },
    LogNormal { mu: f64, sigma: f64 },
    Uniform { low: f64, high: f64 },
}

impl ValueSpec {
    pub const ZERO: ValueSpec = ValueSpec::Fixed(0.0);

    /// True when every sample is exactly zero, so callers can skip timers entirely.
    pub fn is_always_zero(&self) -> bool {
        matches!(self, ValueSpec::Fixed(v) if *v == 0.0)
    }

    /// The distribution's mean before clamping at zero (documentation and tests).
    pub fn mean(&self) -> f64 {
        match *self {
            ValueSpec::Fixed(v) => v,
            ValueSpec::Normal { mean, .. } => mean,
            ValueSpec::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            ValueSpec::Uniform { low, high } => (low + high) / 2.0,
        }
    }

    /// One draw, clamped to `[0, cap]`; never NaN.
    pub fn sample_clamped<R: Rng + ?Sized>(&self, rng: &mut R, cap: f64) -> f64 {
        // Parameters were validated by `from_str`, so the constructors cannot fail here;
        // falling back to the mean keeps this path panic-free regardless.
        let raw = match *self {
            ValueSpec::Fixed(v) => v,
            ValueSpec::Normal { mean, std_dev } => Normal::new(mean, std_dev)
                .map(|d| d.sample(rng))
                .unwrap_or(mean),
            ValueSpec::LogNormal { mu, sigma } => LogNormal::new(mu, sigma)
                .map(|d| d.sample(rng))
                .unwrap_or_else(|_| self.mean()),
            ValueSpec::Uniform { low, high } => Uniform::new_inclusive(low, high)
                .map(|d| d.sample(rng))
                .unwrap_or(low),
        };
        if raw.is_nan() {
            0.0
        } else {
            raw.clamp(0.0, cap)
        }
    }

    /// Draw a delay, interpreting the spec in milliseconds.
    pub fn sample_delay_ms<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        if self.is_always_zero() {
            return Duration::ZERO;
        }
        millis_to_duration(self.sample_clamped(rng, MAX_DELAY_MS))
    }

    /// Draw a token count (rounded to the nearest integer).
    pub fn sample_tokens<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        self.sample_clamped(rng, MAX_OUTPUT_TOKENS as f64).round() as u32
    }
}

/// Milliseconds (already clamped to `[0, MAX_DELAY_MS]`) to a `Duration` with µs precision.
pub fn millis_to_duration(ms: f64) -> Duration {
    Duration::from_nanos((ms.clamp(0.0, MAX_DELAY_MS) * 1_000_000.0).round() as u64)
}

fn parse_number(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{}' is not a number", text.trim()))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!("'{}' is not a finite number", text.trim()))
    }
}

fn parse_pair(args: &str, kind: &str) -> Result<(f64, f64), String> {
    let mut parts = args.split(',');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), None) => Ok((parse_number(a)?, parse_number(b)?)),
        _ => Err(format!(
            "{kind} needs two comma-separated numbers, e.g. {kind}:50,5"
        )),
    }
}

impl FromStr for ValueSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let Some((kind, args)) = text.split_once(':') else {
            let value = parse_number(text)?;
            if value < 0.0 {
                return Err(format!("'{text}' must not be negative"));
            }
            return Ok(ValueSpec::Fixed(value));
        };
        match kind.trim().to_ascii_lowercase().as_str() {
            "fixed" => parse_number(args).and_then(|v| {
                if v < 0.0 {
                    Err(format!("'{text}' must not be negative"))
                } else {
                    Ok(ValueSpec::Fixed(v))
                }
            }),
            "normal" => {
                let (mean, std_dev) = parse_pair(args, "normal")?;
                if std_dev < 0.0 {
                    return Err(format!("normal:{args}: the standard deviation must not be negative"));
                }
                Normal::new(mean, std_dev).map_err(|e| format!("normal:{args}: {e}"))?;
                Ok(ValueSpec::Normal { mean, std_dev })
            }
            "lognormal" => {
                let (mu, sigma) = parse_pair(args, "lognormal")?;
                if sigma < 0.0 {
                    return Err(format!("lognormal:{args}: sigma must not be negative"));
                }
                LogNormal::new(mu, sigma).map_err(|e| format!("lognormal:{args}: {e}"))?;
                Ok(ValueSpec::LogNormal { mu, sigma })
            }
            "uniform" => {
                let (low, high) = parse_pair(args, "uniform")?;
                if low < 0.0 || high < low {
                    return Err(format!("uniform:{args}: need 0 <= a <= b"));
                }
                Ok(ValueSpec::Uniform { low, high })
            }
            other => Err(format!(
                "unknown distribution '{other}' (use a number, normal:mean,sd, lognormal:mu,sigma or uniform:a,b)"
            )),
        }
    }
}

impl fmt::Display for ValueSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ValueSpec::Fixed(v) => write!(f, "{v}"),
            ValueSpec::Normal { mean, std_dev } => write!(f, "normal:{mean},{std_dev}"),
            ValueSpec::LogNormal { mu, sigma } => write!(f, "lognormal:{mu},{sigma}"),
            ValueSpec::Uniform { low, high } => write!(f, "uniform:{low},{high}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn parses_every_syntax() {
        assert_eq!("50".parse::<ValueSpec>(), Ok(ValueSpec::Fixed(50.0)));
        assert_eq!("0.5".parse::<ValueSpec>(), Ok(ValueSpec::Fixed(0.5)));
        assert_eq!(
            "normal:50,5".parse::<ValueSpec>(),
            Ok(ValueSpec::Normal {
                mean: 50.0,
                std_dev: 5.0
            })
        );
        assert_eq!(
            "lognormal:3.9,0.2".parse::<ValueSpec>(),
            Ok(ValueSpec::LogNormal {
                mu: 3.9,
                sigma: 0.2
            })
        );
        assert_eq!(
            "uniform:10,20".parse::<ValueSpec>(),
            Ok(ValueSpec::Uniform {
                low: 10.0,
                high: 20.0
            })
        );
        for bad in [
            "",
            "-1",
            "abc",
            "normal:1",
            "normal:1,-2",
            "uniform:5,1",
            "gamma:1,2",
            "inf",
            "NaN",
        ] {
            assert!(
                bad.parse::<ValueSpec>().is_err(),
                "{bad} should be rejected"
            );
        }
    }

    fn mean_of(spec: ValueSpec, seed: u64, n: usize) -> f64 {
        let mut rng = SmallRng::seed_from_u64(seed);
        (0..n)
            .map(|_| spec.sample_clamped(&mut rng, f64::MAX))
            .sum::<f64>()
            / n as f64
    }

    #[test]
    fn seeded_draws_are_reproducible_and_have_the_right_mean() {
        let specs = [
            ("normal:50,5", 50.0, 0.2),
            ("uniform:10,30", 20.0, 0.2),
            (
                "lognormal:3.9,0.25",
                (3.9f64 + 0.25 * 0.25 / 2.0).exp(),
                0.5,
            ),
        ];
        for (text, expected_mean, tolerance) in specs {
            let spec: ValueSpec = text.parse().unwrap();
            assert!((spec.mean() - expected_mean).abs() < 1e-9);
            let a = mean_of(spec, 7, 50_000);
            let b = mean_of(spec, 7, 50_000);
            assert_eq!(a, b, "{text}: same seed must give the same draws");
            assert!(
                (a - expected_mean).abs() < tolerance,
                "{text}: mean {a} vs {expected_mean}"
            );
            assert_ne!(a, mean_of(spec, 8, 50_000), "{text}: another seed differs");
        }
    }

    #[test]
    fn samples_are_clamped_and_converted() {
        let mut rng = SmallRng::seed_from_u64(1);
        let wide = ValueSpec::Normal {
            mean: 0.0,
            std_dev: 100.0,
        };
        assert!((0..1000).all(|_| wide.sample_clamped(&mut rng, 10.0) <= 10.0));
        assert!((0..1000).all(|_| wide.sample_clamped(&mut rng, 10.0) >= 0.0));
        assert_eq!(millis_to_duration(1.5), Duration::from_micros(1500));
        assert_eq!(ValueSpec::Fixed(12.4).sample_tokens(&mut rng), 12);
        assert_eq!(ValueSpec::ZERO.sample_delay_ms(&mut rng), Duration::ZERO);
    }
}
