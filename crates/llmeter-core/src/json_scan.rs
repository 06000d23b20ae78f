//! A lean reader for the small JSON events streaming APIs send, tried before `serde_json` on the
//! hot path (one event per token).
//!
//! It reads a strict subset of JSON and gives up (`None`) on anything outside it: an escape in a
//! key, a `\u` escape of a surrogate, a raw control character, a malformed number, more than
//! [`MAX_DEPTH`] levels, trailing text. A caller that gets `None` reads the event with
//! `serde_json`, whose reading stays the rule: the scanner may only ever agree with it. Each
//! caller checks that against serde in its tests and on every event the `sse_openai` fuzz target
//! makes.
//!
//! Why: `serde_json` in the size-optimised wasm build spends ~2 µs per event in calls that are
//! not inlined; a byte loop over the same event is several times faster (`npm run bench`).

use std::borrow::Cow;

/// Deeper events are left to serde_json (its own limit is 128).
pub const MAX_DEPTH: u32 = 64;

/// `key == want`, inlined: the length first, then the bytes (a `str` comparison is a call to
/// `memcmp` in the size-optimised build, for every key of every event).
#[inline(always)]
fn is(key: &str, want: &str) -> bool {
    let (k, w) = (key.as_bytes(), want.as_bytes());
    k.len() == w.len() && k.iter().zip(w).all(|(a, b)| a == b)
}

/// A JSON string's text: decoded (`escaped == false`), or as it stands between its quotes with
/// escapes the scanner has checked, decoded only where it is written out — so the common
/// escapes in generated text (`\n`, `\"`) cost no allocation per event.
#[derive(Debug, Clone)]
pub struct JsonStr<'a> {
    text: Cow<'a, str>,
    escaped: bool,
}

impl<'a> JsonStr<'a> {
    /// Text that is already decoded (as serde_json gives it).
    pub fn decoded(text: Cow<'a, str>) -> Self {
        JsonStr {
            text,
            escaped: false,
        }
    }

    /// No characters (an escape always decodes to at least one).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Appends the decoded text to `out`.
    pub fn push_to(&self, out: &mut String) {
        if !self.escaped {
            return out.push_str(&self.text);
        }
        let (text, b) = (&*self.text, self.text.as_bytes());
        let mut run = 0;
        let mut at = 0;
        while let Some(&c) = b.get(at) {
            if c != b'\\' {
                at += 1;
                continue;
            }
            out.push_str(text.get(run..at).unwrap_or_default());
            // Checked when scanned; a failure here would only stop the copy.
            let Some((decoded, next)) = escape_at(b, at) else {
                return;
            };
            out.push(decoded);
            at = next;
            run = at;
        }
        out.push_str(text.get(run..).unwrap_or_default());
    }

    /// The decoded text, borrowed when there was nothing to decode.
    pub fn into_cow(self) -> Cow<'a, str> {
        if !self.escaped {
            return self.text;
        }
        let mut text = String::with_capacity(self.text.len());
        self.push_to(&mut text);
        Cow::Owned(text)
    }
}

/// The escape whose backslash is at `at`: its character and the index after it. Surrogates
/// (pairs or lone) are left to serde_json.
fn escape_at(b: &[u8], at: usize) -> Option<(char, usize)> {
    let c = *b.get(at + 1)?;
    let decoded = match c {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let hex = b.get(at + 2..at + 6)?;
            let mut n = 0u32;
            for &h in hex {
                n = n * 16 + char::from(h).to_digit(16)?;
            }
            if (0xD800..=0xDFFF).contains(&n) {
                return None;
            }
            return Some((char::from_u32(n)?, at + 6));
        }
        _ => return None,
    };
    Some((decoded, at + 2))
}

/// A cursor over one JSON text. Every method returns `None` to give up. The small steps are
/// inlined by force: the wasm build optimises for size and would make each one a call.
pub struct Scan<'a> {
    src: &'a str,
    at: usize,
    depth: u32,
}

impl<'a> Scan<'a> {
    pub fn new(src: &'a str) -> Self {
        Scan {
            src,
            at: 0,
            depth: 0,
        }
    }

    #[inline(always)]
    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    /// The next byte after whitespace, not consumed.
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.at) {
            if !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(c);
            }
            self.at += 1;
        }
        None
    }

    #[inline(always)]
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.peek()? == want).then(|| self.at += 1)
    }

    /// Nothing but whitespace is left.
    pub fn end(mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Walks an object: `entry(key, self)` is called at each value and must read or skip it.
    pub fn object(
        &mut self,
        mut entry: impl FnMut(&'a str, &mut Self) -> Option<()>,
    ) -> Option<()> {
        self.walk_object(&mut entry)
    }

    /// Walks an object the way serde's derive reads it into a struct: `entry(i, self)` reads the
    /// value of `fields[i]`, other keys are skipped, and a field given twice gives up (serde: a
    /// duplicate field). At most 32 fields.
    pub fn fields(
        &mut self,
        fields: &[&str],
        mut entry: impl FnMut(usize, &mut Self) -> Option<()>,
    ) -> Option<()> {
        debug_assert!(fields.len() <= 32);
        let mut seen = 0u32;
        self.object(|key, s| {
            let mut i = 0;
            while i < fields.len() && !is(key, fields[i]) {
                i += 1;
            }
            if i == fields.len() {
                return s.skip();
            }
            if seen & (1 << i) != 0 {
                return None;
            }
            seen |= 1 << i;
            entry(i, s)
        })
    }

    /// Walks an array: `element(index, self)` must read or skip each element.
    pub fn array(&mut self, mut element: impl FnMut(usize, &mut Self) -> Option<()>) -> Option<()> {
        self.walk_array(&mut element)
    }

    // `dyn` callbacks: one copy of the loop serves every caller (a smaller wasm).
    fn walk_object(
        &mut self,
        entry: &mut dyn FnMut(&'a str, &mut Self) -> Option<()>,
    ) -> Option<()> {
        self.walk(b'{', b'}', &mut |s| {
            let key = s.key()?;
            s.eat(b':')?;
            entry(key, s)
        })
    }

    fn walk_array(
        &mut self,
        element: &mut dyn FnMut(usize, &mut Self) -> Option<()>,
    ) -> Option<()> {
        let mut index = 0;
        self.walk(b'[', b']', &mut |s| {
            index += 1;
            element(index - 1, s)
        })
    }

    /// A container's comma-separated items between `open` and `close`; `item` reads one.
    fn walk(
        &mut self,
        open: u8,
        close: u8,
        item: &mut dyn FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(open)?;
        self.enter()?;
        if self.peek()? == close {
            self.at += 1;
        } else {
            loop {
                item(self)?;
                match self.peek()? {
                    b',' => self.at += 1,
                    c if c == close => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// A key without escapes.
    fn key(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let b = self.bytes();
        loop {
            match *b.get(self.at)? {
                b'"' => break,
                b'\\' => return None,
                c if c < 0x20 => return None,
                _ => self.at += 1,
            }
        }
        let key = &self.src[start..self.at];
        self.at += 1;
        Some(key)
    }

    /// What kind of value comes next: `b'"'`, `b'{'`, `b'['`, `b'n'` (null) and so on.
    pub fn next_kind(&mut self) -> Option<u8> {
        self.peek()
    }

    /// `null` is next: read it.
    pub fn null(&mut self) -> Option<bool> {
        if self.peek()? != b'n' {
            return Some(false);
        }
        self.literal(b"null")?;
        Some(true)
    }

    #[inline(always)]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes().get(self.at..end)? == word).then(|| self.at = end)
    }

    /// A string, borrowed when it has no escapes.
    pub fn string(&mut self) -> Option<Cow<'a, str>> {
        self.json_str().map(JsonStr::into_cow)
    }

    /// A string or `null` (`None`); anything else gives up.
    pub fn string_or_null(&mut self) -> Option<Option<Cow<'a, str>>> {
        match self.next_kind()? {
            b'"' => Some(Some(self.string()?)),
            _ => self.null()?.then_some(None),
        }
    }

    /// A count: plain digits that fit a `u64` (`Some(n)`), or `null` (`None`); anything else
    /// (a sign, a fraction, an exponent, a leading zero) gives up.
    pub fn count_or_null(&mut self) -> Option<Option<u64>> {
        if self.null()? {
            return Some(None);
        }
        let b = self.bytes();
        let (start, mut at, mut n) = (self.at, self.at, 0u64);
        while let Some(&c) = b.get(at).filter(|c| c.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            at += 1;
        }
        let leading_zero = b.get(start) == Some(&b'0') && at > start + 1;
        if at == start || leading_zero || matches!(b.get(at), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.at = at;
        Some(Some(n))
    }

    /// A string's text with its escapes checked but not decoded (see [`JsonStr`]).
    pub fn json_str(&mut self) -> Option<JsonStr<'a>> {
        self.eat(b'"')?;
        let b = self.bytes();
        let start = self.at;
        let mut escaped = false;
        loop {
            match *b.get(self.at)? {
                b'"' => break,
                b'\\' => {
                    self.at = escape_at(b, self.at)?.1;
                    escaped = true;
                }
                c if c < 0x20 => return None,
                _ => self.at += 1,
            }
        }
        let text = Cow::Borrowed(&self.src[start..self.at]);
        self.at += 1;
        Some(JsonStr { text, escaped })
    }

    /// Skips any value.
    pub fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(|_, s| s.skip()),
            b'[' => self.array(|_, s| s.skip()),
            b'"' => self.string().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// A number as JSON writes it: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, within f64's range.
    fn number(&mut self) -> Option<()> {
        let b = self.bytes();
        let digits = |at: &mut usize| {
            let start = *at;
            while b.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at > start
        };
        let mut at = self.at;
        if b.get(at) == Some(&b'-') {
            at += 1;
        }
        let integer = at;
        match b.get(at)? {
            b'0' => {
                at += 1;
                if b.get(at).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
            }
            b'1'..=b'9' => {
                digits(&mut at);
            }
            _ => return None,
        }
        // serde_json refuses a number past f64's range (~1.8e308): leave any that could be to
        // it (at most 200 integer digits and a two-digit exponent stay below 1e300).
        if at - integer > 200 {
            return None;
        }
        if b.get(at) == Some(&b'.') {
            at += 1;
            if !digits(&mut at) {
                return None;
            }
        }
        if matches!(b.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(b.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let exponent = at;
            if !digits(&mut at) || at - exponent > 2 {
                return None;
            }
        }
        self.at = at;
        Some(())
    }
}

/// Every event with each byte dropped, doubled, or replaced by a JSON-significant byte (those
/// that stay UTF-8): what the scanner-versus-serde tests check.
#[cfg(test)]
pub(crate) fn mutations<'e>(events: impl Iterator<Item = &'e &'e str>) -> Vec<String> {
    let replacements = b"{}[]\":,\\ n0-e.tu";
    let mut out = Vec::new();
    for data in events {
        let bytes = data.as_bytes();
        for i in 0..bytes.len() {
            let dropped = [&bytes[..i], &bytes[i + 1..]].concat();
            let doubled = [&bytes[..=i], &bytes[i..]].concat();
            let replaced = replacements
                .iter()
                .map(|&r| [&bytes[..i], &[r], &bytes[i + 1..]].concat());
            out.extend(
                [dropped, doubled]
                    .into_iter()
                    .chain(replaced)
                    .filter_map(|v| String::from_utf8(v).ok()),
            );
        }
    }
    out
}

/// Whether the scanner read an event (`scanned` is its view), asserting that serde_json's view
/// is then the same.
#[cfg(test)]
pub(crate) fn agrees(data: &str, (scanned, serde): (Option<String>, Option<String>)) -> bool {
    if let Some(view) = &scanned {
        assert_eq!(
            Some(view),
            serde.as_ref(),
            "scanner and serde_json disagree on {data:?}"
        );
    }
    scanned.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Skips the whole text as one value; `Some` only where serde_json reads it too.
    fn skims(text: &str) -> bool {
        let mut s = Scan::new(text);
        let read = s.skip().and_then(|()| s.end()).is_some();
        if read {
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_ok(),
                "scanned what serde_json rejects: {text}"
            );
        }
        read
    }

    #[test]
    fn reads_valid_json_of_every_kind() {
        for text in [
            r#"{"a":[1,-2.5e+3,0,0.25,1E9,true,false,null,"x"],"b":{},"c":[]}"#,
            " { \"k\" : \"v\" , \"n\" :\t-0 }\r\n",
            r#""\" \\ \/ \b \f \n \r \t é \u00e9 \u20AC""#,
            "[[[[[]]]]]",
        ] {
            assert!(skims(text), "{text}");
        }
    }

    #[test]
    fn gives_up_on_what_serde_rejects_or_what_it_leaves_to_serde() {
        for text in [
            "",
            "{",
            r#"{"a":1,}"#,
            r#"[1,]"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            "01",
            "1.",
            "1e",
            "-",
            "+1",
            ".5",
            "tru",
            "nul",
            "\"raw\u{1}control\"",
            "\"tab\there\"",
            r#""\x""#,
            r#""\u12""#,
            r#""\ud83d\ude00""#,
            r#""\udc00""#,
            r#"{"k\u0065y":1}"#,
            "{} {}",
            "[1] x",
            "1e400",
            "6666666666E66666666666666666666666",
            "1e100",
        ] {
            assert!(!skims(text), "{text:?} should be left to serde_json");
        }
        // Past f64's range serde_json refuses a number (Python reads `inf`); the scanner leaves
        // every number that might be to it.
        assert!(serde_json::from_str::<serde_json::Value>("1e400").is_err());
        assert!(!skims(&"9".repeat(201)) && skims(&"9".repeat(200)));
        for text in [
            "1.5e-05",
            "-2E+99",
            "0.000000000000000000000000000001",
            "12345678901234567890",
        ] {
            assert!(skims(text), "{text:?}");
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let mut s = Scan::new(r#""plain""#);
        assert!(matches!(s.string(), Some(Cow::Borrowed("plain"))));
        let mut s = Scan::new(r#""a\nb\u00e9\"""#);
        assert_eq!(s.string().as_deref(), Some("a\nb\u{e9}\""));
    }

    #[test]
    fn escaped_text_is_decoded_where_it_is_written_as_serde_decodes_it() {
        for json in [
            r#""plain""#,
            r#""line\nbreak""#,
            r#""\"quoted\" \\ \/ \b\f\r\t""#,
            r#""caf\u00e9 \u4e2d""#,
            r#""\n""#,
            r#""ends with \\""#,
            "\"caf\u{e9} \\u00e9\"",
        ] {
            let want: String = serde_json::from_str(json).unwrap();
            let text = Scan::new(json).json_str().unwrap();
            assert_eq!(text.is_empty(), want.is_empty(), "{json}");
            let mut out = String::from("before:");
            text.push_to(&mut out);
            assert_eq!(out, format!("before:{want}"), "{json}");
            assert_eq!(text.into_cow(), want, "{json}");
        }
        // Checked when scanned: what serde rejects or leaves to serde is not a string here.
        for json in [r#""\x""#, r#""\u12""#, r#""\ud83d\ude00""#, "\"a\u{1}\""] {
            assert!(Scan::new(json).json_str().is_none(), "{json}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH as usize + 1) + &"]".repeat(MAX_DEPTH as usize + 1);
        assert!(!skims(&deep));
        let ok = "[".repeat(MAX_DEPTH as usize) + &"]".repeat(MAX_DEPTH as usize);
        assert!(skims(&ok));
    }
}
