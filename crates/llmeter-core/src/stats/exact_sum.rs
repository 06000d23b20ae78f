//! Exact sums for Python's correctly rounded `statistics.mean` and int / int divisions.

use std::cmp::Ordering;

/// An exact sum of finite doubles and integers: a big fixed-point integer in units of 2^-1075
/// (one bit below the smallest subnormal, so rounding a tiny result still has its round bit).
/// Positive and negative parts are kept apart and subtracted at the end.
#[derive(Debug, Default, Clone)]
pub(super) struct ExactSum {
    positive: Vec<u64>,
    negative: Vec<u64>,
}

const UNIT_SHIFT: u32 = 1075;

impl ExactSum {
    pub(super) fn add_f64(&mut self, x: f64) {
        if !x.is_finite() || x == 0.0 {
            return;
        }
        let bits = x.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as u32;
        let fraction = bits & ((1u64 << 52) - 1);
        // x = mantissa * 2^(exponent - 1075) for normals, fraction * 2^-1074 for subnormals.
        let (mantissa, shift) = if exponent == 0 {
            (fraction, 1)
        } else {
            (fraction | (1u64 << 52), exponent)
        };
        let limbs = if x < 0.0 {
            &mut self.negative
        } else {
            &mut self.positive
        };
        add_shifted(limbs, mantissa as u128, shift);
    }

    pub(super) fn add_int(&mut self, x: i128) {
        let limbs = if x < 0 {
            &mut self.negative
        } else {
            &mut self.positive
        };
        add_shifted(limbs, x.unsigned_abs(), UNIT_SHIFT);
    }

    /// The sum divided by `n`, rounded once to the nearest double (ties to even).
    pub(super) fn div_round(&self, n: u64) -> f64 {
        if n == 0 {
            return f64::NAN;
        }
        let (negative, magnitude) = match compare(&self.positive, &self.negative) {
            Ordering::Less => (true, subtract(&self.negative, &self.positive)),
            _ => (false, subtract(&self.positive, &self.negative)),
        };
        let mut quotient = vec![0u64; magnitude.len()];
        let mut remainder: u64 = 0;
        for i in (0..magnitude.len()).rev() {
            let (q, r) = div_rem(((remainder as u128) << 64) | magnitude[i] as u128, n);
            quotient[i] = q as u64;
            remainder = r;
        }
        let bit_len = bit_length(&quotient);
        // Keep 53 significant bits, or fewer in the subnormal range (units of 2^-1074 = 2 of ours).
        let dropped = if bit_len > 54 { bit_len - 53 } else { 1 };
        let mut kept = bits_at(&quotient, dropped, bit_len.saturating_sub(dropped));
        let round_bit = bit_at(&quotient, dropped - 1);
        let sticky = remainder != 0 || any_bits_below(&quotient, dropped - 1);
        if round_bit && (sticky || kept & 1 == 1) {
            kept += 1;
        }
        // kept * 2^(dropped - 1075): adding the biased exponent works for subnormals and for a
        // rounding carry into the next binade alike.
        let bits = ((dropped as u64 - 1) << 52).saturating_add(kept);
        let magnitude = if bits >= 0x7ff0_0000_0000_0000 {
            f64::INFINITY
        } else {
            f64::from_bits(bits)
        };
        if negative {
            -magnitude
        } else {
            magnitude
        }
    }
}

/// `a / d` and `a % d` with 64-bit operations only: a `u128` division would link the
/// compiler's 128-bit division routines into the wasm module for these two uses. Counts of
/// samples fit in 32 bits, where two 64-bit divisions per word do it; larger divisors take
/// the bit-by-bit path.
pub(super) fn div_rem(a: u128, d: u64) -> (u128, u64) {
    let (hi, lo) = ((a >> 64) as u64, a as u64);
    let (q_hi, mut r) = (hi / d, hi % d);
    let mut q_lo = 0u64;
    if d <= u32::MAX as u64 {
        // r < d < 2^32: each step divides a number below 2^64.
        for half in [lo >> 32, lo & 0xffff_ffff] {
            let current = (r << 32) | half;
            q_lo = (q_lo << 32) | (current / d);
            r = current % d;
        }
    } else {
        for bit in (0..64).rev() {
            // r < d: r * 2 + 1 may not fit in 64 bits, so compare before doubling.
            let carry = r >> 63 == 1;
            r = (r << 1) | ((lo >> bit) & 1);
            q_lo <<= 1;
            if carry || r >= d {
                r = r.wrapping_sub(d);
                q_lo |= 1;
            }
        }
    }
    (((q_hi as u128) << 64) | q_lo as u128, r)
}

fn add_shifted(limbs: &mut Vec<u64>, value: u128, shift: u32) {
    let index = (shift / 64) as usize;
    let offset = shift % 64;
    let (lo, hi) = (value as u64, (value >> 64) as u64);
    let words = if offset == 0 {
        [lo, hi, 0]
    } else {
        [
            lo << offset,
            (hi << offset) | (lo >> (64 - offset)),
            hi >> (64 - offset),
        ]
    };
    if limbs.len() < index + 3 {
        limbs.resize(index + 3, 0);
    }
    let mut carry = 0u64;
    for (k, word) in words.iter().enumerate() {
        let (s1, c1) = limbs[index + k].overflowing_add(*word);
        let (s2, c2) = s1.overflowing_add(carry);
        limbs[index + k] = s2;
        carry = (c1 as u64) + (c2 as u64);
    }
    let mut k = index + 3;
    while carry != 0 {
        if k == limbs.len() {
            limbs.push(0);
        }
        let (s, c) = limbs[k].overflowing_add(carry);
        limbs[k] = s;
        carry = c as u64;
        k += 1;
    }
}

fn significant_len(a: &[u64]) -> usize {
    a.iter().rposition(|&w| w != 0).map_or(0, |i| i + 1)
}

fn compare(a: &[u64], b: &[u64]) -> Ordering {
    let (la, lb) = (significant_len(a), significant_len(b));
    if la != lb {
        return la.cmp(&lb);
    }
    for i in (0..la).rev() {
        match a[i].cmp(&b[i]) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    Ordering::Equal
}

/// `a - b` for `a >= b`.
fn subtract(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = a.to_vec();
    let mut borrow = 0u64;
    for (i, word) in out.iter_mut().enumerate() {
        let sub = b.get(i).copied().unwrap_or(0);
        let (d1, b1) = word.overflowing_sub(sub);
        let (d2, b2) = d1.overflowing_sub(borrow);
        *word = d2;
        borrow = (b1 as u64) + (b2 as u64);
    }
    out
}

fn bit_length(a: &[u64]) -> u32 {
    match significant_len(a) {
        0 => 0,
        n => (n as u32 - 1) * 64 + (64 - a[n - 1].leading_zeros()),
    }
}

fn bit_at(a: &[u64], position: u32) -> bool {
    a.get((position / 64) as usize)
        .is_some_and(|w| (w >> (position % 64)) & 1 == 1)
}

/// `count` (<= 64) bits of `a` starting at bit `from`.
fn bits_at(a: &[u64], from: u32, count: u32) -> u64 {
    (0..count).fold(0u64, |acc, k| acc | ((bit_at(a, from + k) as u64) << k))
}

fn any_bits_below(a: &[u64], position: u32) -> bool {
    let full = (position / 64) as usize;
    if a.iter().take(full).any(|&w| w != 0) {
        return true;
    }
    let rest = position % 64;
    rest != 0 && a.get(full).is_some_and(|&w| w & ((1u64 << rest) - 1) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn div_rem_is_u128_division() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in 0..100_000u32 {
            let a = ((next() as u128) << 64) | next() as u128;
            let a = a >> (i % 128);
            let d = match i % 4 {
                0 => next() >> (i % 64),
                1 => next() | (1 << 63),
                2 => (next() % 1000) + 1,
                _ => u32::MAX as u64 + (next() % 3),
            }
            .max(1);
            assert_eq!(
                div_rem(a, d),
                (a / d as u128, (a % d as u128) as u64),
                "{a} / {d}"
            );
        }
    }
}
