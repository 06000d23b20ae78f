//! JSON text the way LLMeter writes and reads it.
//!
//! Writing: `*.jsonl` lines use Python's default separators (`", "`, `": "`), the `*.json`
//! files use `indent=4`; whitespace does not matter to loaders, but matching it keeps our files
//! diffable against LLMeter's. Non-finite floats never reach the text: `serde_json` writes them
//! as `null`.
//!
//! Reading: Python's `json` writes NaN and infinities as bare `NaN` / `Infinity` / `-Infinity`,
//! which standard JSON rejects; [`parse_lenient`] reads them as `null` (LLMeter itself skips NaN
//! in every statistic, and `null` is skipped everywhere).

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};
use serde_json::Value;
use std::io;

/// How a JSON text is laid out: every writer in the module goes through this one formatter, so
/// each `Serialize` impl is compiled once (a formatter type per layout would compile them all
/// once per layout).
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// `serde_json::to_string`'s: no spaces.
    Compact,
    /// Python's `json.dumps` default separators: `", "` between items and `": "` after keys.
    Python,
    /// Python's `json.dump(obj, indent=4)` (serde_json's `PrettyFormatter` with 4 spaces).
    Pretty,
}

struct Style {
    layout: Layout,
    depth: usize,
    has_value: bool,
}

impl Style {
    fn open<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.layout == Layout::Pretty && self.has_value {
            self.newline(writer)?;
        }
        writer.write_all(bracket)
    }

    fn newline<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"\n")?;
        for _ in 0..self.depth {
            writer.write_all(b"    ")?;
        }
        Ok(())
    }

    /// Before an array item or an object key.
    fn item<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        match (self.layout, first) {
            (Layout::Pretty, true) => self.newline(writer),
            (Layout::Pretty, false) => {
                writer.write_all(b",")?;
                self.newline(writer)
            }
            (_, true) => Ok(()),
            (Layout::Compact, false) => writer.write_all(b","),
            (Layout::Python, false) => writer.write_all(b", "),
        }
    }
}

impl Formatter for Style {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(if self.layout == Layout::Compact {
            b":"
        } else {
            b": "
        })
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

fn write<T: Serialize + ?Sized>(value: &T, layout: Layout) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    let style = Style {
        layout,
        depth: 0,
        has_value: false,
    };
    value.serialize(&mut Serializer::with_formatter(&mut out, style))?;
    // serde_json only writes valid UTF-8.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// `serde_json::to_string`: the same text, through the module's one serializer.
pub fn to_compact<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    write(value, Layout::Compact)
}

/// A JSON value's compact text (`Value`'s `Display`, without its own serializer).
pub fn text(value: &Value) -> String {
    to_compact(value).unwrap_or_default()
}

/// One `*.jsonl` line (without the newline), as Python's `json.dumps(obj)` spaces it.
pub fn to_line<T: Serialize + ?Sized>(value: &T) -> String {
    write(value, Layout::Python).unwrap_or_else(|_| "null".to_string())
}

/// A whole `*.json` file body as Python's `json.dump(obj, indent=4)` lays it out (no trailing
/// newline, like Python).
pub fn to_pretty<T: Serialize + ?Sized>(value: &T) -> String {
    write(value, Layout::Pretty).unwrap_or_else(|_| "null".to_string())
}

/// Parses JSON that may contain Python's bare `NaN`, `Infinity` and `-Infinity` tokens, which
/// become `null`. Errors carry serde_json's line and column.
pub fn parse_lenient(text: &str) -> Result<Value, serde_json::Error> {
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(strict_err) => match replace_non_finite_tokens(text) {
            Some(cleaned) => serde_json::from_str(&cleaned),
            None => Err(strict_err),
        },
    }
}

/// Replaces the non-standard number tokens outside strings by `null`; `None` if there were none.
/// Newlines are kept, so line numbers in later errors stay right.
fn replace_non_finite_tokens(text: &str) -> Option<String> {
    const TOKENS: [&str; 3] = ["-Infinity", "Infinity", "NaN"];
    let mut out = String::with_capacity(text.len() + 16);
    let mut replaced = false;
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if let Some(token) = TOKENS.iter().find(|t| rest.starts_with(**t)) {
            out.push_str("null");
            rest = &rest[token.len()..];
            replaced = true;
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    replaced.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_use_python_separators() {
        let v = json!({"a": 1, "b": [1.0, null, "x"], "c": {}, "d": 6.0});
        assert_eq!(
            to_line(&v),
            r#"{"a": 1, "b": [1.0, null, "x"], "c": {}, "d": 6.0}"#
        );
    }

    #[test]
    fn pretty_uses_four_spaces() {
        let v = json!({"a": 1, "b": [2]});
        assert_eq!(
            to_pretty(&v),
            "{\n    \"a\": 1,\n    \"b\": [\n        2\n    ]\n}"
        );
    }

    #[test]
    fn type_errors_read_as_serde_writes_them() {
        // vendor/serde_json writes these itself (see its PATCHED.md): the same text as serde.
        fn err<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> String {
            serde_json::from_str::<T>(text).unwrap_err().to_string()
        }
        assert_eq!(
            err::<String>("true"),
            "invalid type: boolean `true`, expected a string at line 1 column 4"
        );
        assert_eq!(
            err::<String>("-3"),
            "invalid type: integer `-3`, expected a string at line 1 column 2"
        );
        assert_eq!(
            err::<String>("7"),
            "invalid type: integer `7`, expected a string at line 1 column 1"
        );
        assert_eq!(
            err::<String>("1.5"),
            "invalid type: floating point `1.5`, expected a string at line 1 column 3"
        );
        assert_eq!(
            err::<u8>("\"x\""),
            "invalid type: string \"x\", expected u8 at line 1 column 3"
        );
        assert_eq!(
            err::<String>("[1]"),
            "invalid type: sequence, expected a string at line 1 column 0"
        );
        assert_eq!(
            err::<String>("{}"),
            "invalid type: map, expected a string at line 1 column 0"
        );
        assert_eq!(
            err::<String>("null"),
            "invalid type: null, expected a string at line 1 column 4"
        );
        assert_eq!(
            err::<char>("\"ab\""),
            "invalid value: string \"ab\", expected a character at line 1 column 4"
        );
    }

    #[test]
    fn layouts_match_serde_json() {
        let v = json!({"a": [1, {"b": [], "c": {}}, [[2.5, "x\"y"]]], "d": null, "e": {"f": true}});
        assert_eq!(to_compact(&v).unwrap(), serde_json::to_string(&v).unwrap());
        assert_eq!(text(&v), v.to_string());
        let pretty = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut expected = Vec::new();
        v.serialize(&mut Serializer::with_formatter(&mut expected, pretty))
            .unwrap();
        assert_eq!(to_pretty(&v), String::from_utf8(expected).unwrap());
        assert_eq!(
            to_line(&v),
            r#"{"a": [1, {"b": [], "c": {}}, [[2.5, "x\"y"]]], "d": null, "e": {"f": true}}"#
        );
    }

    #[test]
    fn non_finite_floats_are_written_as_null() {
        #[derive(Serialize)]
        struct S {
            x: f64,
            y: f64,
        }
        assert_eq!(
            to_line(&S {
                x: f64::NAN,
                y: f64::INFINITY
            }),
            r#"{"x": null, "y": null}"#
        );
    }

    #[test]
    fn python_nan_tokens_read_as_null_but_not_inside_strings() {
        let v = parse_lenient(
            r#"{"a": NaN, "b": -Infinity, "c": [Infinity, 1], "s": "NaN \" Infinity"}"#,
        )
        .expect("parses");
        assert_eq!(
            v,
            json!({"a": null, "b": null, "c": [null, 1], "s": "NaN \" Infinity"})
        );
    }

    #[test]
    fn lenient_parse_still_rejects_garbage_with_position() {
        let err = parse_lenient("{\"a\": NaN,\n \"b\": nope}").expect_err("must fail");
        assert_eq!(err.line(), 2);
        assert!(parse_lenient("{\"a\": \"NaN\"").is_err());
    }
}

/// A number for a message, as JavaScript prints it (`3000000`, `0.5`, `1e+21`-free for common
/// values): shortest round-trip digits, no `.0` on whole numbers. Kept apart from `{}` on `f64`,
/// whose formatting code would otherwise be linked into the wasm module just for messages.
pub fn num(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        return (x as i64).to_string();
    }
    match serde_json::Number::from_f64(x) {
        Some(n) => n.to_string(),
        None if x.is_nan() => "NaN".into(),
        None if x > 0.0 => "Infinity".into(),
        None => "-Infinity".into(),
    }
}

/// `x` with `decimals` digits after the point, exactly as `format!("{x:.decimals$}")` (and
/// Python's `f"{x:.{decimals}f}"`) writes it: the exact binary value rounded half to even.
/// Kept apart from `{:.N}` on `f64` for the same reason as [`num`]. Exact for `|x| < 2^100`
/// and `decimals <= 6` (what names and messages use); larger values fall back to [`num`].
pub fn fixed(x: f64, decimals: u32) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x.is_infinite() {
        return format!("{sign}inf");
    }
    let bits = x.abs().to_bits();
    let (biased, fraction) = ((bits >> 52) as i32, bits & ((1 << 52) - 1));
    let (mantissa, exp) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    let decimals = decimals.min(6);
    // mantissa · 10^decimals < 2^73: exact in u128, as is its shift left by up to 54.
    let scaled = mantissa as u128 * 10u128.pow(decimals);
    let units = if exp >= 0 {
        if exp > 54 {
            return num(x);
        }
        scaled << exp
    } else if exp <= -75 {
        0 // below half a unit of the last place
    } else {
        let shift = (-exp) as u32;
        let (q, r) = (scaled >> shift, scaled & ((1u128 << shift) - 1));
        let half = 1u128 << (shift - 1);
        q + u128::from(r > half || (r == half && q & 1 == 1))
    };
    let digits = units.to_string();
    let d = decimals as usize;
    let digits = if digits.len() <= d {
        format!("{}{digits}", "0".repeat(d + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = digits.split_at(digits.len() - d);
    if d == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

#[cfg(test)]
mod fixed_tests {
    use super::fixed;

    #[test]
    fn fixed_point_text_is_rusts_and_pythons() {
        // Ties on the exact binary value go to even, like `{:.N}` and Python's `:.Nf`.
        assert_eq!(fixed(0.125, 2), "0.12");
        assert_eq!(fixed(0.375, 2), "0.38");
        assert_eq!(fixed(2.5, 0), "2");
        assert_eq!(fixed(2.0005, 3), "2.001");
        assert_eq!(fixed(-0.0, 3), "-0.000");
        assert_eq!(fixed(f64::NAN, 3), "NaN");
        assert_eq!(fixed(f64::NEG_INFINITY, 1), "-inf");
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..200_000u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let x = match i % 4 {
                0 => f64::from_bits(state >> 2),                   // any magnitude
                1 => (state >> 11) as f64 / (1u64 << 30) as f64,   // 0 … 2^23, fine steps
                2 => (state % 2_000_000) as f64 / 1000.0 + 0.0005, // near ties of 3 decimals
                _ => -((state % 100_000) as f64) / 8.0,            // exact ties
            };
            // NaN and huge values are skipped (NaN fails every comparison).
            if x.is_nan() || x.abs() >= 1e30 {
                continue;
            }
            for d in 0..=6usize {
                assert_eq!(
                    fixed(x, d as u32),
                    format!("{x:.d$}"),
                    "{x:e} with {d} decimals"
                );
            }
        }
    }
}

#[cfg(test)]
mod num_tests {
    use super::num;

    #[test]
    fn numbers_print_as_in_javascript() {
        assert_eq!(num(3e6), "3000000");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(-2.0), "-2");
        assert_eq!(num(1.25e-7), "1.25e-7");
        assert_eq!(num(f64::NAN), "NaN");
        assert_eq!(num(f64::NEG_INFINITY), "-Infinity");
    }
}
