//! Python's `statistics` as LLMeter calls it (`summary_stats_from_list`), reproduced bit for bit:
//! `mean` (an exact sum rounded once; an `int` when all inputs are ints and the mean is whole),
//! `median`, and `quantiles(method="exclusive")`, which extrapolates linearly beyond the data.

use super::exact_sum::{div_rem, ExactSum};
use serde_json::Value;

/// One metric's values. Python keeps `int` and `float` apart and the JSON type of a mean,
/// an odd-N median or a single-value percentile follows the input type, so we do too.
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    Ints(Vec<u64>),
    Floats(Vec<f64>),
}

impl Samples {
    /// Floats with non-finite values dropped (LLMeter drops NaN; infinities cannot come back
    /// from our files, where they are written as `null`).
    pub fn floats(values: impl IntoIterator<Item = f64>) -> Samples {
        Samples::Floats(values.into_iter().filter(|v| v.is_finite()).collect())
    }

    pub fn ints(values: impl IntoIterator<Item = u64>) -> Samples {
        Samples::Ints(values.into_iter().collect())
    }

    pub fn len(&self) -> usize {
        match self {
            Samples::Ints(v) => v.len(),
            Samples::Floats(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sorted copy; stable, so equal values (`0.0`, `-0.0`) keep their order as in Python.
    fn sorted(&self) -> Samples {
        match self {
            Samples::Ints(v) => {
                let mut v = v.clone();
                v.sort_unstable();
                Samples::Ints(v)
            }
            Samples::Floats(v) => Samples::Floats(sorted_floats(v)),
        }
    }
}

/// The finite values sorted as Python's stable `sorted` leaves them: the only equal values with
/// different bits are `0.0` and `-0.0`, which keep their order. Sorted as `u64` keys, so the
/// module has one sort (the integers' and network phases' too) instead of one per type.
fn sorted_floats(values: &[f64]) -> Vec<f64> {
    // Order-preserving keys: negatives flipped whole, positives with the sign bit set; both
    // zeros get +0.0's key (they are equal to a sort).
    let key = |x: f64| {
        let bits = if x == 0.0 { 0 } else { x.to_bits() };
        if bits >> 63 == 1 {
            !bits
        } else {
            bits | (1 << 63)
        }
    };
    let mut keys: Vec<u64> = values
        .iter()
        .filter(|x| x.is_finite())
        .map(|&x| key(x))
        .collect();
    keys.sort_unstable();
    // The zeros, in their original order and signs.
    let mut zeros = values.iter().filter(|x| **x == 0.0);
    keys.into_iter()
        .map(|k| {
            let bits = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
            match bits {
                0 => zeros.next().copied().unwrap_or(0.0),
                _ => f64::from_bits(bits),
            }
        })
        .collect()
}

/// A float as JSON, `null` when not finite.
pub fn float_value(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// `statistics.mean`: the exact sum divided by N, rounded once. An int when all inputs are ints
/// and the mean is whole. `None` for no values.
pub fn mean(samples: &Samples) -> Option<Value> {
    match samples {
        Samples::Ints(v) if !v.is_empty() => {
            let sum: u128 = v.iter().map(|&x| x as u128).sum();
            let (quotient, remainder) = div_rem(sum, v.len() as u64);
            if remainder == 0 {
                // The mean of u64 values is at most the largest of them.
                Some(Value::from(quotient as u64))
            } else {
                let mut acc = ExactSum::default();
                acc.add_int(sum as i128);
                Some(float_value(acc.div_round(v.len() as u64)))
            }
        }
        Samples::Floats(v) => exact_mean(v).map(float_value),
        Samples::Ints(_) => None,
    }
}

/// Correctly rounded mean of the finite values (Python's `statistics.mean` on floats), e.g.
/// the mean of 0.1, 0.2, 0.3 is exactly `0.2` where a running sum gives `0.20000000000000004`.
pub fn exact_mean(values: &[f64]) -> Option<f64> {
    let mut acc = ExactSum::default();
    let mut n: u64 = 0;
    for &x in values.iter().filter(|x| x.is_finite()) {
        acc.add_f64(x);
        n += 1;
    }
    (n > 0).then(|| acc.div_round(n))
}

/// `statistics.median`: the middle value for odd N (type kept), `(a + b) / 2` for even N
/// (always a float).
pub fn median(samples: &Samples) -> Option<Value> {
    median_sorted(&samples.sorted())
}

fn median_sorted(sorted: &Samples) -> Option<Value> {
    match sorted {
        Samples::Ints(v) if !v.is_empty() => {
            let n = v.len();
            if n % 2 == 1 {
                Some(Value::from(v[n / 2]))
            } else {
                // Python's int true division is correctly rounded; so is rounding the exact sum
                // and halving it.
                let sum = v[n / 2 - 1] as u128 + v[n / 2] as u128;
                Some(float_value(sum as f64 / 2.0))
            }
        }
        Samples::Floats(v) if !v.is_empty() => {
            let n = v.len();
            if n % 2 == 1 {
                Some(float_value(v[n / 2]))
            } else {
                Some(float_value((v[n / 2 - 1] + v[n / 2]) / 2.0))
            }
        }
        _ => None,
    }
}

/// LLMeter's percentile `p` (1..=99) of the values, as `summary_stats_from_list` computes it:
/// one value → that value; p50 → median; otherwise the exclusive-method quantile. `None` for no
/// values or `p` outside 1..=99.
pub fn percentile_value(samples: &Samples, p: u32) -> Option<Value> {
    percentile_sorted(&samples.sorted(), p)
}

fn percentile_sorted(sorted: &Samples, p: u32) -> Option<Value> {
    if !(1..=99).contains(&p) {
        return None;
    }
    match sorted {
        Samples::Ints(v) if v.len() == 1 => Some(Value::from(v[0])),
        Samples::Floats(v) if v.len() == 1 => Some(float_value(v[0])),
        _ if sorted.is_empty() => None,
        _ if p == 50 => median_sorted(sorted),
        Samples::Ints(v) => {
            let (j, delta, base) = exclusive_position(v.len(), p);
            // Python: exact integer numerator, then one correctly rounded int / int division.
            let numerator =
                v[j - 1] as i128 * (base - delta) as i128 + v[j] as i128 * delta as i128;
            let mut acc = ExactSum::default();
            acc.add_int(numerator);
            Some(float_value(acc.div_round(base as u64)))
        }
        Samples::Floats(v) => {
            let (j, delta, base) = exclusive_position(v.len(), p);
            let value = (v[j - 1] * (base - delta) as f64 + v[j] * delta as f64) / base as f64;
            Some(float_value(value))
        }
    }
}

/// [`percentile_value`] for floats: any integer percentile 1..=99 with LLMeter's rule (so p99 of
/// fewer than 99 values may exceed the maximum). Non-finite values are ignored.
pub fn percentile(values: &[f64], p: u32) -> Option<f64> {
    percentile_value(&Samples::floats(values.iter().copied()), p).and_then(|v| v.as_f64())
}

/// `statistics.quantiles(data, n=B, method="exclusive")[i - 1]` position for percentile `p`:
/// returns 1-based `j` (clamped to 1..=N-1), the integer `delta` and the base `B`.
/// Needs N >= 2.
fn exclusive_position(n: usize, p: u32) -> (usize, i64, i64) {
    // The first base of 4, 10, 100 of which p is a multiple of 100 / B (as LLMeter picks it).
    let base: i64 = if p.is_multiple_of(25) {
        4
    } else if p.is_multiple_of(10) {
        10
    } else {
        100
    };
    let i = p as i64 * base / 100;
    let m = n as i64 + 1;
    let j = (i * m).div_euclid(base).clamp(1, n as i64 - 1);
    let delta = i * m - j * base;
    (j as usize, delta, base)
}

/// `summary_stats_from_list(values, percentiles)`: `average`, then `p{p}` for each percentile,
/// as `(suffix, value)` pairs; empty when there are no values (LLMeter then writes no keys).
pub fn summary_stats(samples: &Samples, percentiles: &[u32]) -> Vec<(String, Value)> {
    let Some(average) = mean(samples) else {
        return Vec::new();
    };
    let mut out = vec![("average".to_string(), average)];
    let sorted = samples.sorted();
    for &p in percentiles {
        if let Some(v) = percentile_sorted(&sorted, p) {
            out.push((format!("p{p}"), v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::DEFAULT_PERCENTILES;
    use serde_json::json;

    #[test]
    fn floats_sort_as_python_sorted() {
        let values = [
            3.5,
            -0.0,
            f64::NAN,
            0.0,
            -2.25,
            1e-310,
            -0.0,
            f64::INFINITY,
            -1e300,
            0.0,
            3.5,
            -1e-310,
        ];
        let mut expected: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let got = sorted_floats(&values);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&expected));
        let mut state = 0x853C_49E6_748F_EA9Bu64;
        for n in [0usize, 1, 2, 17, 1000] {
            let v: Vec<f64> = (0..n)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    match i % 5 {
                        0 => 0.0,
                        1 => -0.0,
                        2 => f64::from_bits(state),
                        _ => (state % 100) as f64 - 50.0,
                    }
                })
                .collect();
            let mut expected: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
            assert_eq!(bits(&sorted_floats(&v)), bits(&expected));
        }
    }

    fn p(values: &[f64], pct: u32) -> f64 {
        percentile(values, pct).expect("has values")
    }

    #[test]
    fn exclusive_percentiles_extrapolate_like_python() {
        let one_to = |n: u32| (1..=n).map(f64::from).collect::<Vec<_>>();
        assert_eq!(p(&one_to(5), 90), 5.4);
        assert_eq!(p(&one_to(5), 99), 5.94);
        assert_eq!(p(&one_to(5), 10), 0.6);
        assert_eq!(p(&one_to(8), 90), 8.1);
        assert_eq!(p(&one_to(9), 90), 9.0);
        assert_eq!(p(&one_to(98), 99), 98.01);
        assert_eq!(p(&one_to(99), 99), 99.0);
        assert_eq!(p(&[0.2, 0.25, 0.3, 0.4], 90), 0.45);
        assert_eq!(p(&[0.4, 0.2, 0.3, 0.25], 99), 0.495);
        assert_eq!(p(&[0.005; 5], 99), 0.004999999999999999);
        assert_eq!(p(&[0.005; 6], 99), 0.004999999999999999);
    }

    #[test]
    fn percentile_rejects_out_of_range_and_empty() {
        assert_eq!(percentile(&[1.0, 2.0], 0), None);
        assert_eq!(percentile(&[1.0, 2.0], 100), None);
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[f64::NAN], 50), None);
        assert_eq!(percentile(&[3.0], 37), Some(3.0));
    }

    #[test]
    fn quartile_and_decile_bases_match_python_quantiles() {
        // statistics.quantiles([1,2,3,4,5,6,7], n=4) == [2.0, 4.0, 6.0]; n=10 → p30 = 2.4
        let v: Vec<f64> = (1..=7).map(f64::from).collect();
        assert_eq!(p(&v, 25), 2.0);
        assert_eq!(p(&v, 75), 6.0);
        assert_eq!(p(&v, 30), 2.4);
        // quantiles(range(1,8), n=100)[36] == 2.96
        assert_eq!(p(&v, 37), 2.96);
    }

    #[test]
    fn mean_is_correctly_rounded() {
        assert_eq!(exact_mean(&[0.1, 0.2, 0.3]), Some(0.2));
        // Python: statistics.mean([1e50, 1, -1e50] * 1000) == 0.3333333333333333
        let cancel: Vec<f64> = [1e50, 1.0, -1e50].repeat(1000);
        assert_eq!(exact_mean(&cancel), Some(0.3333333333333333));
        // statistics.mean([5e-324, 5e-324, 0.0]) == 5e-324 (2/3 of the smallest subnormal)
        assert_eq!(exact_mean(&[5e-324, 5e-324, 0.0]), Some(5e-324));
        // statistics.mean([5e-324, 0.0, 0.0]) == 0.0 (1/3 of it rounds down)
        assert_eq!(exact_mean(&[5e-324, 0.0, 0.0]), Some(0.0));
        assert_eq!(exact_mean(&[f64::MAX, f64::MAX]), Some(f64::MAX));
        assert_eq!(exact_mean(&[-1.5, -2.5]), Some(-2.0));
        assert_eq!(exact_mean(&[]), None);
        // statistics.mean([0.1]*10) == 0.1 ; sum([0.1]*10)/10 == 0.09999999999999999
        assert_eq!(exact_mean(&[0.1; 10]), Some(0.1));
        // Python: statistics.mean([1.0, 2.0**-60, 3.0]) == 1.3333333333333333
        assert_eq!(
            exact_mean(&[1.0, 2f64.powi(-60), 3.0]),
            Some(1.3333333333333333)
        );
        // Python: statistics.mean([0.7, 0.1, 1e-17]) == 0.26666666666666666
        assert_eq!(exact_mean(&[0.7, 0.1, 1e-17]), Some(0.26666666666666666));
    }

    #[test]
    fn int_results_keep_python_types() {
        let ints = Samples::ints([3, 1, 2]);
        assert_eq!(mean(&ints), Some(json!(2)));
        assert_eq!(median(&ints), Some(json!(2)));
        assert_eq!(mean(&Samples::ints([1, 2])), Some(json!(1.5)));
        assert_eq!(median(&Samples::ints([1, 2, 3, 4])), Some(json!(2.5)));
        assert_eq!(median(&Samples::ints([2, 4])), Some(json!(3.0)));
        // mean([1, 2, 2]) == 1.6666666666666667
        assert_eq!(
            mean(&Samples::ints([1, 2, 2])),
            Some(json!(1.6666666666666667))
        );
        // A single int: every percentile is that int.
        assert_eq!(
            summary_stats(&Samples::ints([5]), &DEFAULT_PERCENTILES),
            vec![
                ("average".to_string(), json!(5)),
                ("p50".to_string(), json!(5)),
                ("p90".to_string(), json!(5)),
                ("p99".to_string(), json!(5)),
            ]
        );
        // Quantiles of ints are floats even when whole: quantiles([50,80,100,120], n=10)[8] == 130.0
        assert_eq!(
            percentile_value(&Samples::ints([50, 100, 80, 120]), 90),
            Some(json!(130.0))
        );
        assert!(summary_stats(&Samples::ints([]), &DEFAULT_PERCENTILES).is_empty());
        // A single float stays a float.
        assert_eq!(
            percentile_value(&Samples::floats([2.0]), 99),
            Some(json!(2.0))
        );
    }

    #[test]
    fn float_values_serialize_with_decimal_point() {
        assert_eq!(
            serde_json::to_string(&float_value(6.0)).ok().as_deref(),
            Some("6.0")
        );
        assert_eq!(float_value(f64::NAN), Value::Null);
        assert_eq!(float_value(f64::INFINITY), Value::Null);
    }

    #[test]
    fn large_int_quantile_numerators_are_rounded_once() {
        // quantiles([2**60+1, 2**60+3], n=10)[8] == 1.152921504606847e+18 (Python int/int division)
        let big = 1u64 << 60;
        let v = percentile_value(&Samples::ints([big + 1, big + 3]), 90).and_then(|v| v.as_f64());
        assert_eq!(v, Some(1.152921504606847e18));
    }
}
