//! Sans-IO Server-Sent Events decoder following the WHATWG "event stream interpretation" rules.
//!
//! Bytes can be fed in pieces split anywhere (inside a UTF-8 character, between `\r` and `\n`).
//! Lines are split on bytes — CR and LF never occur inside a multi-byte UTF-8 sequence — and
//! each complete line is decoded lossily, which gives the same text as decoding the whole stream
//! at once. Only the unfinished tail of a chunk is copied into the line buffer; complete lines
//! are parsed in place, and each byte is scanned once. Events are handed out as borrows of the
//! decoder's reused buffers: steady-state decoding allocates nothing.
//!
//! A line or an event larger than the configured limit is an error (a hostile or broken server
//! must not grow the buffers until the module runs out of memory).

use super::{FrameError, DEFAULT_MAX_EVENT_BYTES};
use std::borrow::Cow;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event, borrowed from the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The `event` field; empty means the default type, `message`.
    pub event: &'a str,
    /// `data` lines joined with `\n`.
    pub data: &'a str,
    /// The last event ID in effect when the event was dispatched (empty when none).
    pub id: &'a str,
}

impl SseEvent<'_> {
    /// The event type as `EventSource` reports it.
    pub fn event_type(&self) -> &str {
        if self.event.is_empty() {
            "message"
        } else {
            self.event
        }
    }
}

/// How the stream ended, as seen by [`SseDecoder::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseEnd {
    /// Every byte belonged to a dispatched event, a comment, or a blank line.
    Clean,
    /// An event was still being built (fields after the last blank line, or an unterminated
    /// line); per the spec it was discarded. Usually a truncated response.
    Truncated,
}

#[derive(Debug)]
pub struct SseDecoder {
    /// Bytes of the current, not yet terminated line.
    line: Vec<u8>,
    /// The previous chunk ended with `\r`: a `\n` at the start of the next one is its pair.
    skip_lf: bool,
    /// The next line is the first of the stream (where a BOM is stripped).
    started: bool,
    data: String,
    event_type: String,
    last_id_buffer: String,
    last_event_id: String,
    retry_ms: Option<u64>,
    /// A field line arrived since the last blank line.
    pending_fields: bool,
    max_event_bytes: usize,
    /// Set after a limit was exceeded: the rest of the stream is ignored.
    failed: bool,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::with_limit(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder that rejects any line or event longer than `max_event_bytes`.
    pub fn with_limit(max_event_bytes: usize) -> Self {
        SseDecoder {
            line: Vec::new(),
            skip_lf: false,
            started: false,
            data: String::new(),
            event_type: String::new(),
            last_id_buffer: String::new(),
            last_event_id: String::new(),
            retry_ms: None,
            pending_fields: false,
            max_event_bytes,
            failed: false,
        }
    }

    /// The reconnection time set by the latest valid `retry` field.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// Decodes `bytes`, handing every event they complete to `on_event`. After an error the
    /// decoder ignores the rest of the stream.
    pub fn feed(
        &mut self,
        mut bytes: &[u8],
        on_event: &mut dyn FnMut(SseEvent<'_>),
    ) -> Result<(), FrameError> {
        if bytes.is_empty() || self.failed {
            return Ok(());
        }
        if self.skip_lf {
            self.skip_lf = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while let Some(end) = find_line_end(bytes) {
            let (content, rest) = bytes.split_at(end);
            if self.line.is_empty() && self.started && self.data.is_empty() {
                if let Some((data, after)) = single_data_event(content, rest) {
                    // The common event, one `data` line and its blank line whole in this
                    // chunk: handed out as a borrow of the chunk, not copied.
                    self.check_size(content.len())?;
                    self.dispatch_data(data, on_event);
                    bytes = after;
                    continue;
                }
            }
            if self.line.is_empty() {
                self.process_line(content, on_event)?;
            } else {
                self.check_size(self.line.len() + content.len())?;
                self.line.extend_from_slice(content);
                let line = std::mem::take(&mut self.line);
                let processed = self.process_line(&line, on_event);
                self.line = line; // keep the capacity
                self.line.clear();
                processed?;
            }
            let terminator = rest.first().copied();
            bytes = rest.get(1..).unwrap_or_default();
            if terminator == Some(b'\r') {
                match bytes.first() {
                    Some(b'\n') => bytes = bytes.get(1..).unwrap_or_default(),
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
        }
        self.check_size(self.line.len() + bytes.len())?;
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// Ends the stream. An unfinished event is discarded (the spec's end-of-stream rule) and
    /// reported as [`SseEnd::Truncated`]. The decoder is reset for reuse (same limit).
    pub fn finish(&mut self) -> SseEnd {
        let mut partial_line: &[u8] = &self.line;
        if !self.started {
            partial_line = partial_line.strip_prefix(BOM).unwrap_or(partial_line);
        }
        let end = if self.pending_fields || !partial_line.is_empty() {
            SseEnd::Truncated
        } else {
            SseEnd::Clean
        };
        *self = Self::with_limit(self.max_event_bytes);
        end
    }

    fn check_size(&mut self, len: usize) -> Result<(), FrameError> {
        if len > self.max_event_bytes {
            self.failed = true;
            self.line = Vec::new();
            self.data = String::new();
            return Err(FrameError::TooLarge {
                limit: self.max_event_bytes,
            });
        }
        Ok(())
    }

    fn process_line(
        &mut self,
        mut line: &[u8],
        on_event: &mut dyn FnMut(SseEvent<'_>),
    ) -> Result<(), FrameError> {
        // Lines handled in place are held to the same limit as buffered ones.
        self.check_size(line.len())?;
        if !self.started {
            self.started = true;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(on_event);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // comment
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        self.pending_fields = true;
        match name {
            b"data" => {
                self.check_size(self.data.len() + value.len() + 1)?;
                self.data.push_str(&lossy(value));
                self.data.push('\n');
            }
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&lossy(value));
            }
            b"id" if !value.contains(&0) => {
                self.last_id_buffer.clear();
                self.last_id_buffer.push_str(&lossy(value));
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All-digit values that overflow are still "valid": saturate.
                let ms = value.iter().fold(0u64, |acc, &d| {
                    acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
                self.retry_ms = Some(ms);
            }
            _ => {} // unknown fields, an id with NUL, a non-numeric retry: ignored
        }
        Ok(())
    }

    /// Dispatches an event whose only data is `data` (the buffered `data` is empty).
    fn dispatch_data(&mut self, data: &str, on_event: &mut dyn FnMut(SseEvent<'_>)) {
        self.pending_fields = false;
        if self.last_event_id != self.last_id_buffer {
            self.last_event_id.clone_from(&self.last_id_buffer);
        }
        on_event(SseEvent {
            event: &self.event_type,
            data,
            id: &self.last_event_id,
        });
        self.event_type.clear();
    }

    fn dispatch(&mut self, on_event: &mut dyn FnMut(SseEvent<'_>)) {
        self.pending_fields = false;
        if self.last_event_id != self.last_id_buffer {
            self.last_event_id.clone_from(&self.last_id_buffer);
        }
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        on_event(SseEvent {
            event: &self.event_type,
            data: &self.data,
            id: &self.last_event_id,
        });
        // Cleared, not dropped: the buffers keep their grown capacity.
        self.data.clear();
        self.event_type.clear();
    }
}

fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    // Valid UTF-8 (nearly always) is checked by the fast validator; only broken text takes the
    // slower replacing path.
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// `line` is a `data` field in valid UTF-8 and `rest` (from the line's terminator) starts with
/// the blank line that ends its event: the field's value and the bytes after the blank line.
fn single_data_event<'a>(line: &'a [u8], rest: &'a [u8]) -> Option<(&'a str, &'a [u8])> {
    let value = line.strip_prefix(b"data:")?;
    let value = value.strip_prefix(b" ").unwrap_or(value);
    let after = rest
        .strip_prefix(b"\n\n")
        .or_else(|| rest.strip_prefix(b"\r\n\r\n"))?;
    Some((std::str::from_utf8(value).ok()?, after))
}

/// Index of the first `\r` or `\n`, eight bytes at a time: a word with neither (`w ^ LF`
/// and `w ^ CR` have no zero byte) is skipped whole.
fn find_line_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let mut start = 0;
    for word in bytes.chunks_exact(8) {
        let Ok(word) = <[u8; 8]>::try_from(word) else {
            break;
        };
        let w = u64::from_le_bytes(word);
        if has_zero_byte(w ^ (ONES * u64::from(b'\n')))
            || has_zero_byte(w ^ (ONES * u64::from(b'\r')))
        {
            break;
        }
        start += 8;
    }
    let tail = bytes.get(start..)?;
    tail.iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map(|i| start + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An owned copy of an event, for comparisons.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Owned {
        event: Option<String>,
        data: String,
        id: String,
    }

    impl Owned {
        fn event_type(&self) -> &str {
            self.event.as_deref().unwrap_or("message")
        }
    }

    use Owned as SseEvent;

    fn ev(data: &str) -> Owned {
        Owned {
            event: None,
            data: data.into(),
            id: String::new(),
        }
    }

    fn feed_into(d: &mut SseDecoder, bytes: &[u8], out: &mut Vec<Owned>) {
        d.feed(bytes, &mut |e| {
            out.push(Owned {
                event: (!e.event.is_empty()).then(|| e.event.to_string()),
                data: e.data.to_string(),
                id: e.id.to_string(),
            })
        })
        .unwrap();
    }

    fn decode_pieces(pieces: &[&[u8]]) -> (Vec<Owned>, SseEnd) {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for p in pieces {
            feed_into(&mut d, p, &mut out);
        }
        let end = d.finish();
        (out, end)
    }

    fn decode(s: &[u8]) -> (Vec<SseEvent>, SseEnd) {
        decode_pieces(&[s])
    }

    #[test]
    fn spec_example_stock_ticker_multiline_data() {
        let (events, end) = decode(b"data: YHOO\ndata: +2\ndata: 10\n\n");
        assert_eq!(events, vec![ev("YHOO\n+2\n10")]);
        assert_eq!(end, SseEnd::Clean);
    }

    #[test]
    fn spec_example_comment_ids_and_leading_space() {
        let stream = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n";
        let (events, end) = decode(stream);
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: None,
                    data: "first event".into(),
                    id: "1".into()
                },
                SseEvent {
                    event: None,
                    data: "second event".into(),
                    id: "".into()
                },
                SseEvent {
                    event: None,
                    data: " third event".into(),
                    id: "".into()
                },
            ]
        );
        assert_eq!(end, SseEnd::Clean);
    }

    #[test]
    fn spec_example_empty_data_and_undispatched_last_block() {
        let (events, end) = decode(b"data\n\ndata\ndata\n\ndata:");
        assert_eq!(events, vec![ev(""), ev("\n")]);
        assert_eq!(end, SseEnd::Truncated);
    }

    #[test]
    fn spec_example_space_after_colon_is_optional() {
        let (events, _) = decode(b"data:test\n\ndata: test\n\n");
        assert_eq!(events, vec![ev("test"), ev("test")]);
    }

    #[test]
    fn spec_example_event_types() {
        let (events, _) = decode(b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n");
        let got: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e.event_type(), e.data.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![("add", "73857293"), ("remove", "2153"), ("add", "113411")]
        );
    }

    #[test]
    fn only_one_leading_space_is_stripped_and_colons_in_values_are_kept() {
        let (events, _) = decode(b"data:   a: b:c \n\n");
        assert_eq!(events, vec![ev("  a: b:c ")]);
    }

    #[test]
    fn last_event_id_persists_until_changed() {
        let (events, _) =
            decode(b"id: 7\ndata: a\n\ndata: b\n\nid: 8\n\ndata: c\n\nid: x\0y\ndata: d\n\n");
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        // A blank event still updates the id; an id containing NUL is ignored.
        assert_eq!(ids, vec!["7", "7", "8", "8"]);
    }

    #[test]
    fn event_type_resets_after_dispatch_and_empty_event_resets_type() {
        let (events, _) =
            decode(b"event: x\n\ndata: a\n\nevent: y\ndata: b\n\ndata: c\n\nevent:\ndata: d\n\n");
        let types: Vec<&str> = events.iter().map(Owned::event_type).collect();
        assert_eq!(types, vec!["message", "y", "message", "message"]);
    }

    #[test]
    fn retry_accepts_only_digits() {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        feed_into(&mut d, b"retry: 1500\n", &mut out);
        assert_eq!(d.retry_ms(), Some(1500));
        feed_into(&mut d, b"retry: 12a\nretry:\nretry: -5\n", &mut out);
        assert_eq!(d.retry_ms(), Some(1500));
        feed_into(&mut d, b"retry: 99999999999999999999999\n\n", &mut out);
        assert_eq!(d.retry_ms(), Some(u64::MAX));
        assert!(out.is_empty());
    }

    #[test]
    fn unknown_fields_and_comments_are_ignored() {
        let (events, end) = decode(b":ping\nfoo: bar\ndata: x\nDATA: y\n:\n\n: keep-alive\n");
        assert_eq!(events, vec![ev("x")]);
        assert_eq!(end, SseEnd::Clean, "a trailing comment is not an event");
    }

    #[test]
    fn all_line_endings() {
        let (events, _) = decode(b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\rdata: e\n\n");
        assert_eq!(events, vec![ev("a\nb\nc"), ev("d"), ev("e")]);
    }

    #[test]
    fn bom_is_stripped_once_at_stream_start() {
        let (events, _) = decode(b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n");
        // The second BOM makes the field name "\u{feff}data", an unknown field.
        assert_eq!(events, vec![ev("a")]);
        let (events, _) = decode_pieces(&[b"\xEF", b"\xBB", b"\xBF", b"data: a\n\n"]);
        assert_eq!(events, vec![ev("a")]);
        assert_eq!(decode(b"\xEF\xBB\xBF").1, SseEnd::Clean);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let (events, _) = decode(b"data: a\xFFb\xE2\x82\n\n");
        assert_eq!(events, vec![ev("a\u{FFFD}b\u{FFFD}")]);
    }

    #[test]
    fn truncation_is_reported() {
        assert_eq!(decode(b"data: a\n\ndata: b\n").1, SseEnd::Truncated);
        assert_eq!(decode(b"data: a\n\ndata: b").1, SseEnd::Truncated);
        assert_eq!(decode(b"data: a\n\n").1, SseEnd::Clean);
        assert_eq!(decode(b"").1, SseEnd::Clean);
    }

    #[test]
    fn finish_resets_the_decoder() {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        feed_into(&mut d, b"id: 1\ndata: partial", &mut out);
        assert_eq!(d.finish(), SseEnd::Truncated);
        feed_into(&mut d, b"data: fresh\n\n", &mut out);
        assert_eq!(out, vec![ev("fresh")]);
    }

    #[test]
    fn crlf_split_between_cr_and_lf() {
        let (events, _) =
            decode_pieces(&[b"data: a\r", b"\ndata: b\r\n\r", b"\n", b"data: c\r\n\r\n"]);
        assert_eq!(events, vec![ev("a\nb"), ev("c")]);
        // A lone CR at a chunk end followed by a non-LF byte is a line end on its own.
        let (events, _) = decode_pieces(&[b"data: a\r", b"\r", b"data: b\n\n"]);
        assert_eq!(events, vec![ev("a"), ev("b")]);
        // An empty chunk between CR and LF must not forget the pending CR.
        let (events, _) = decode_pieces(&[b"data: a\r", b"", b"\n\n"]);
        assert_eq!(events, vec![ev("a")]);
    }

    /// Exercises every feature: BOM, comments, CR/LF/CRLF, multi-byte UTF-8, ids, types.
    const MIXED: &[u8] = "\u{feff}: hi\r\ndata: h\u{e9}llo \u{1F600}\r\ndata:w\u{f6}rld\r\n\r\nevent: x\rid: 9\rdata\r\rdata: \u{4e2d}\u{6587}\n\n:c\ndata: [DONE]\n\n".as_bytes();

    fn mixed_expected() -> Vec<SseEvent> {
        vec![
            ev("h\u{e9}llo \u{1F600}\nw\u{f6}rld"),
            SseEvent {
                event: Some("x".into()),
                data: "".into(),
                id: "9".into(),
            },
            SseEvent {
                event: None,
                data: "\u{4e2d}\u{6587}".into(),
                id: "9".into(),
            },
            SseEvent {
                event: None,
                data: "[DONE]".into(),
                id: "9".into(),
            },
        ]
    }

    #[test]
    fn split_at_every_byte_boundary() {
        assert_eq!(decode(MIXED), (mixed_expected(), SseEnd::Clean));
        for i in 0..=MIXED.len() {
            let (a, b) = MIXED.split_at(i);
            assert_eq!(
                decode_pieces(&[a, b]),
                (mixed_expected(), SseEnd::Clean),
                "split at {i}"
            );
        }
    }

    #[test]
    fn split_in_three_at_every_pair_of_boundaries() {
        for i in 0..=MIXED.len() {
            for j in i..=MIXED.len() {
                let pieces = [&MIXED[..i], &MIXED[i..j], &MIXED[j..]];
                assert_eq!(
                    decode_pieces(&pieces),
                    (mixed_expected(), SseEnd::Clean),
                    "split at {i},{j}"
                );
            }
        }
    }

    #[test]
    fn byte_by_byte() {
        let pieces: Vec<&[u8]> = MIXED.chunks(1).collect();
        assert_eq!(decode_pieces(&pieces), (mixed_expected(), SseEnd::Clean));
    }

    /// xorshift64*: deterministic, dependency-free.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Whole chunks take the borrowed path for single-`data` events; single bytes never can.
    /// Random streams of every field, ending and broken text must decode alike both ways.
    #[test]
    fn the_borrowed_path_and_the_buffered_path_agree_on_random_streams() {
        let lines: &[&[u8]] = &[
            b"data: {\"a\":1}",
            b"data:x",
            b"data: ",
            b"data",
            b"data:  two spaces",
            b"datax: not data",
            b"event: delta",
            b"id: 7",
            b"id",
            b": keep-alive",
            b"retry: 5",
            b"data: caf\xC3\xA9",
            b"data: \xFF\xFE",
            b"data: \xE4\xB8",
            b"\xEF\xBB\xBF",
            b"",
        ];
        let ends: &[&[u8]] = &[b"\n", b"\r\n", b"\r", b"\n\n", b"\r\n\r\n", b"\n\r\n"];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut events = 0;
        for _ in 0..20_000 {
            let mut stream = Vec::new();
            for _ in 0..=rng.below(8) {
                stream.extend_from_slice(lines[rng.below(lines.len() as u64) as usize]);
                stream.extend_from_slice(ends[rng.below(ends.len() as u64) as usize]);
            }
            let whole = decode(&stream);
            let single: Vec<&[u8]> = stream.chunks(1).collect();
            assert_eq!(
                whole,
                decode_pieces(&single),
                "{:?}",
                String::from_utf8_lossy(&stream)
            );
            events += whole.0.len();
        }
        assert!(events > 20_000, "the streams dispatch events: {events}");
    }

    #[test]
    fn line_ends_are_found_at_every_offset_of_a_word() {
        for len in 0..40 {
            for at in 0..len {
                for end in [b'\n', b'\r'] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = end;
                    assert_eq!(find_line_end(&bytes), Some(at), "len {len} at {at}");
                    // Bytes one off from CR and LF are not line ends.
                    bytes[at] = end + 1;
                    assert_eq!(find_line_end(&bytes), None);
                    bytes[at] = 0x80 | end;
                    assert_eq!(find_line_end(&bytes), None);
                }
            }
        }
    }

    #[test]
    fn random_chunking_of_a_long_stream() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let endings: [&str; 3] = ["\n", "\r\n", "\r"];
        let words = ["a", "\u{e9}t\u{e9}", "\u{1F680}", "x:y", " sp", "\u{4e2d}"];
        let mut stream = String::from("\u{feff}");
        let mut expected = Vec::new();
        for n in 0..400 {
            let nl = endings[rng.below(3) as usize];
            if rng.below(4) == 0 {
                stream.push_str(&format!(":comment {n}{nl}"));
            }
            let lines = 1 + rng.below(3);
            let mut data = Vec::new();
            for _ in 0..lines {
                let w = words[rng.below(words.len() as u64) as usize];
                let value = format!("{w}{n}");
                stream.push_str(&format!("data: {value}{nl}"));
                data.push(value);
            }
            stream.push_str(nl);
            expected.push(ev(&data.join("\n")));
        }
        let bytes = stream.as_bytes();
        for round in 0..50 {
            let mut d = SseDecoder::new();
            let mut out = Vec::new();
            let mut at = 0;
            while at < bytes.len() {
                let max = if round % 2 == 0 { 8 } else { 200 };
                let len = (rng.below(max) as usize).min(bytes.len() - at);
                feed_into(&mut d, &bytes[at..at + len], &mut out);
                at += len;
            }
            assert_eq!(d.finish(), SseEnd::Clean, "round {round}");
            assert_eq!(out, expected, "round {round}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut rng = Rng(42);
        for _ in 0..2000 {
            let len = rng.below(64) as usize;
            let alphabet = b"data:event\r\n :id\xEF\xBB\xBF\xFF\x00retry9";
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                .collect();
            let whole = decode(&bytes);
            let cut = rng.below(len as u64 + 1) as usize;
            assert_eq!(
                decode_pieces(&[&bytes[..cut], &bytes[cut..]]),
                whole,
                "{bytes:?} cut at {cut}"
            );
        }
    }

    #[test]
    fn a_line_over_the_limit_is_an_error_and_the_rest_is_ignored() {
        let mut d = SseDecoder::with_limit(16);
        let mut out = Vec::new();
        feed_into(&mut d, b"data: ok\n\n", &mut out);
        // An endless line arriving in pieces: the buffer never grows past the limit.
        assert!(d.feed(b"data: 0123456", &mut |_| {}).is_ok());
        assert_eq!(
            d.feed(b"789abcdef", &mut |_| {}),
            Err(FrameError::TooLarge { limit: 16 })
        );
        assert!(d.line.capacity() <= 16);
        assert!(d
            .feed(b"\n\ndata: later\n\n", &mut |_| panic!("ignored"))
            .is_ok());
        assert_eq!(out, vec![ev("ok")]);
    }

    #[test]
    fn an_event_of_many_small_lines_over_the_limit_is_an_error() {
        let mut d = SseDecoder::with_limit(32);
        let many = "data: 0123456789\n".repeat(4);
        assert_eq!(
            d.feed(many.as_bytes(), &mut |_| {}),
            Err(FrameError::TooLarge { limit: 32 })
        );
    }
}
