//! The AWS event-stream binary framing (`application/vnd.amazon.eventstream`), as Bedrock's
//! ConverseStream / InvokeModelWithResponseStream and SageMaker's
//! InvokeEndpointWithResponseStream answer.
//!
//! A message is: a 12-byte prelude (total length, headers length, both u32 big-endian, then
//! the CRC32 of those 8 bytes), the headers, the payload, and the CRC32 of everything before
//! it. A header is a 1-byte name length, the name, a 1-byte value type and the value (bool,
//! i8, i16, i32, i64, byte array and string with a u16 length, timestamp as i64 ms, UUID).
//!
//! Sans-IO: bytes are fed in pieces split anywhere. Messages complete inside one chunk are
//! checked and handed out in place; only a message split across chunks is copied, into a buffer
//! sized once from its prelude. A prelude is checked as soon as its 12 bytes are there, so a
//! bad checksum or an oversized message is refused before anything is buffered. After an error
//! the decoder ignores the rest of the stream (AWS clients drop the connection).

use super::{FrameError, StreamEnd, DEFAULT_MAX_EVENT_BYTES};
use crc::{Crc, NoTable, CRC_32_ISO_HDLC};

const PRELUDE_LEN: usize = 12;
/// Prelude plus the trailing message checksum: the smallest message.
const MIN_MESSAGE_LEN: usize = PRELUDE_LEN + 4;

/// CRC-32 (ISO-HDLC, the zlib one), bitwise: no table in the module (messages are small; a
/// 1 KiB table costs the core module 1 KB gzipped for a few µs per stream).
const CRC32: Crc<u32, NoTable> = Crc::<u32, NoTable>::new(&CRC_32_ISO_HDLC);

/// One header value, borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(&'a [u8]),
    String(&'a str),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid(&'a [u8; 16]),
}

impl<'a> HeaderValue<'a> {
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            HeaderValue::String(s) => Some(s),
            _ => None,
        }
    }

    fn type_byte(&self) -> u8 {
        match self {
            HeaderValue::Bool(true) => 0,
            HeaderValue::Bool(false) => 1,
            HeaderValue::Byte(_) => 2,
            HeaderValue::Short(_) => 3,
            HeaderValue::Int(_) => 4,
            HeaderValue::Long(_) => 5,
            HeaderValue::Bytes(_) => 6,
            HeaderValue::String(_) => 7,
            HeaderValue::Timestamp(_) => 8,
            HeaderValue::Uuid(_) => 9,
        }
    }
}

/// One decoded message: its (already validated) header block and its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventMessage<'a> {
    headers: &'a [u8],
    pub payload: &'a [u8],
}

impl<'a> EventMessage<'a> {
    /// The headers in wire order.
    pub fn headers(&self) -> Headers<'a> {
        Headers { rest: self.headers }
    }

    /// The first header called `name` (names are case-sensitive, as AWS sends them).
    pub fn header(&self, name: &str) -> Option<HeaderValue<'a>> {
        self.headers().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// A string header's value.
    pub fn header_str(&self, name: &str) -> Option<&'a str> {
        self.header(name).and_then(|v| v.as_str())
    }

    /// `:message-type`: `event`, `exception` or `error`.
    pub fn message_type(&self) -> Option<&'a str> {
        self.header_str(":message-type")
    }

    /// `:event-type` of an event message, e.g. `contentBlockDelta`, `chunk`, `PayloadPart`.
    pub fn event_type(&self) -> Option<&'a str> {
        self.header_str(":event-type")
    }

    /// `:exception-type` of an exception message, e.g. `modelStreamErrorException`.
    pub fn exception_type(&self) -> Option<&'a str> {
        self.header_str(":exception-type")
    }
}

/// Iterator over a validated header block.
#[derive(Debug, Clone)]
pub struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, HeaderValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        // The block was validated when the message was decoded: a failure here cannot happen,
        // but ends the iteration rather than panicking.
        match read_header(self.rest) {
            Ok(Some((name, value, rest))) => {
                self.rest = rest;
                Some((name, value))
            }
            _ => {
                self.rest = &[];
                None
            }
        }
    }
}

fn take(bytes: &[u8], n: usize) -> Result<(&[u8], &[u8]), &'static str> {
    if bytes.len() < n {
        Err("header runs past the header block")
    } else {
        Ok(bytes.split_at(n))
    }
}

fn be_u16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_i64(b: &[u8]) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    i64::from_be_bytes(a)
}

/// Reads one header; `Ok(None)` at the end of the block.
#[allow(clippy::type_complexity)]
fn read_header(block: &[u8]) -> Result<Option<(&str, HeaderValue<'_>, &[u8])>, &'static str> {
    let Some((&name_len, rest)) = block.split_first() else {
        return Ok(None);
    };
    if name_len == 0 {
        return Err("empty header name");
    }
    let (name, rest) = take(rest, name_len as usize)?;
    let name = std::str::from_utf8(name).map_err(|_| "header name is not UTF-8")?;
    let (ty, rest) = take(rest, 1)?;
    let (value, rest) = match ty[0] {
        0 => (HeaderValue::Bool(true), rest),
        1 => (HeaderValue::Bool(false), rest),
        2 => {
            let (v, r) = take(rest, 1)?;
            (HeaderValue::Byte(v[0] as i8), r)
        }
        3 => {
            let (v, r) = take(rest, 2)?;
            (HeaderValue::Short(be_u16(v) as i16), r)
        }
        4 => {
            let (v, r) = take(rest, 4)?;
            (HeaderValue::Int(be_u32(v) as i32), r)
        }
        5 | 8 => {
            let (v, r) = take(rest, 8)?;
            let n = be_i64(v);
            let value = if ty[0] == 5 {
                HeaderValue::Long(n)
            } else {
                HeaderValue::Timestamp(n)
            };
            (value, r)
        }
        6 | 7 => {
            let (len, r) = take(rest, 2)?;
            let (v, r) = take(r, be_u16(len) as usize)?;
            let value = if ty[0] == 6 {
                HeaderValue::Bytes(v)
            } else {
                HeaderValue::String(
                    std::str::from_utf8(v).map_err(|_| "string header is not UTF-8")?,
                )
            };
            (value, r)
        }
        9 => {
            let (v, r) = take(rest, 16)?;
            let uuid: &[u8; 16] = v.try_into().map_err(|_| "bad UUID header")?;
            (HeaderValue::Uuid(uuid), r)
        }
        _ => return Err("unknown header value type"),
    };
    Ok(Some((name, value, rest)))
}

/// Checks a prelude and returns the message's total length.
fn check_prelude(prelude: &[u8], max_message_bytes: usize) -> Result<usize, FrameError> {
    let total = be_u32(&prelude[0..4]) as usize;
    let headers_len = be_u32(&prelude[4..8]) as usize;
    if CRC32.checksum(&prelude[..8]) != be_u32(&prelude[8..12]) {
        return Err(FrameError::Malformed(
            "event-stream prelude checksum mismatch",
        ));
    }
    if total < MIN_MESSAGE_LEN || headers_len > total - MIN_MESSAGE_LEN {
        return Err(FrameError::Malformed(
            "event-stream message lengths invalid",
        ));
    }
    if total > max_message_bytes {
        return Err(FrameError::TooLarge {
            limit: max_message_bytes,
        });
    }
    Ok(total)
}

/// Checks a whole message (prelude already checked) and splits it.
fn parse_message(message: &[u8]) -> Result<EventMessage<'_>, FrameError> {
    let total = message.len();
    let (body, crc) = message.split_at(total - 4);
    if CRC32.checksum(body) != be_u32(crc) {
        return Err(FrameError::Malformed(
            "event-stream message checksum mismatch",
        ));
    }
    let headers_len = be_u32(&message[4..8]) as usize;
    let headers = &body[PRELUDE_LEN..PRELUDE_LEN + headers_len];
    let mut rest = headers;
    while let Some((_, _, r)) = read_header(rest).map_err(FrameError::Malformed)? {
        rest = r;
    }
    Ok(EventMessage {
        headers,
        payload: &body[PRELUDE_LEN + headers_len..],
    })
}

#[derive(Debug)]
pub struct EventStreamDecoder {
    /// A message split across chunks: its bytes so far (sized from its prelude).
    partial: Vec<u8>,
    max_message_bytes: usize,
    failed: bool,
}

impl Default for EventStreamDecoder {
    fn default() -> Self {
        Self::with_limit(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl EventStreamDecoder {
    pub fn with_limit(max_message_bytes: usize) -> Self {
        EventStreamDecoder {
            partial: Vec::new(),
            // A message can never be smaller; a smaller limit would refuse every message.
            max_message_bytes: max_message_bytes.max(MIN_MESSAGE_LEN),
            failed: false,
        }
    }

    /// Decodes `bytes`, handing every completed message to `on_message`.
    pub fn feed(
        &mut self,
        bytes: &[u8],
        on_message: &mut dyn FnMut(EventMessage<'_>),
    ) -> Result<(), FrameError> {
        if self.failed {
            return Ok(());
        }
        let result = self.feed_inner(bytes, on_message);
        if result.is_err() {
            self.failed = true;
            self.partial = Vec::new();
        }
        result
    }

    fn feed_inner(
        &mut self,
        mut input: &[u8],
        on_message: &mut dyn FnMut(EventMessage<'_>),
    ) -> Result<(), FrameError> {
        if !self.partial.is_empty() {
            if self.partial.len() < PRELUDE_LEN {
                let n = (PRELUDE_LEN - self.partial.len()).min(input.len());
                self.partial.extend_from_slice(&input[..n]);
                input = &input[n..];
                if self.partial.len() < PRELUDE_LEN {
                    return Ok(());
                }
            }
            let total = check_prelude(&self.partial[..PRELUDE_LEN], self.max_message_bytes)?;
            self.partial.reserve_exact(total - self.partial.len());
            let n = (total - self.partial.len()).min(input.len());
            self.partial.extend_from_slice(&input[..n]);
            input = &input[n..];
            if self.partial.len() < total {
                return Ok(());
            }
            on_message(parse_message(&self.partial)?);
            self.partial.clear();
        }
        while !input.is_empty() {
            if input.len() < PRELUDE_LEN {
                self.partial.extend_from_slice(input);
                return Ok(());
            }
            let total = check_prelude(&input[..PRELUDE_LEN], self.max_message_bytes)?;
            if input.len() < total {
                self.partial.reserve_exact(total);
                self.partial.extend_from_slice(input);
                return Ok(());
            }
            let (message, rest) = input.split_at(total);
            on_message(parse_message(message)?);
            input = rest;
        }
        Ok(())
    }

    /// Ends the stream: `Truncated` when a message was cut off (it is discarded).
    pub fn finish(&mut self) -> StreamEnd {
        let truncated = !self.partial.is_empty();
        self.partial = Vec::new();
        self.failed = false;
        if truncated {
            StreamEnd::Truncated
        } else {
            StreamEnd::Clean
        }
    }
}

/// Encodes one message (for servers and tests: llm-sim answers with it).
pub fn encode_message(headers: &[(&str, HeaderValue<'_>)], payload: &[u8]) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(255)];
        block.push(name.len() as u8);
        block.extend_from_slice(name);
        block.push(value.type_byte());
        match *value {
            HeaderValue::Bool(_) => {}
            HeaderValue::Byte(v) => block.push(v as u8),
            HeaderValue::Short(v) => block.extend_from_slice(&v.to_be_bytes()),
            HeaderValue::Int(v) => block.extend_from_slice(&v.to_be_bytes()),
            HeaderValue::Long(v) | HeaderValue::Timestamp(v) => {
                block.extend_from_slice(&v.to_be_bytes())
            }
            HeaderValue::Bytes(v) => {
                let v = &v[..v.len().min(u16::MAX as usize)];
                block.extend_from_slice(&(v.len() as u16).to_be_bytes());
                block.extend_from_slice(v);
            }
            HeaderValue::String(v) => {
                let v = &v.as_bytes()[..v.len().min(u16::MAX as usize)];
                block.extend_from_slice(&(v.len() as u16).to_be_bytes());
                block.extend_from_slice(v);
            }
            HeaderValue::Uuid(v) => block.extend_from_slice(v),
        }
    }
    let total = MIN_MESSAGE_LEN + block.len() + payload.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(block.len() as u32).to_be_bytes());
    let prelude_crc = CRC32.checksum(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&block);
    out.extend_from_slice(payload);
    let crc = CRC32.checksum(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// An `event` message as AWS sends one: `:event-type`, `:content-type`, `:message-type`.
pub fn encode_event(event_type: &str, payload: &[u8]) -> Vec<u8> {
    encode_message(
        &[
            (":event-type", HeaderValue::String(event_type)),
            (":content-type", HeaderValue::String("application/json")),
            (":message-type", HeaderValue::String("event")),
        ],
        payload,
    )
}

/// An `exception` message as AWS sends one (payload `{"message": …}`).
pub fn encode_exception(exception_type: &str, payload: &[u8]) -> Vec<u8> {
    encode_message(
        &[
            (":exception-type", HeaderValue::String(exception_type)),
            (":content-type", HeaderValue::String("application/json")),
            (":message-type", HeaderValue::String("exception")),
        ],
        payload,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Owned {
        headers: Vec<(String, String)>,
        payload: Vec<u8>,
    }

    fn own(m: EventMessage<'_>) -> Owned {
        Owned {
            headers: m
                .headers()
                .map(|(n, v)| (n.to_string(), format!("{v:?}")))
                .collect(),
            payload: m.payload.to_vec(),
        }
    }

    fn decode(pieces: &[&[u8]], limit: usize) -> (Vec<Owned>, Result<(), FrameError>, StreamEnd) {
        let mut d = EventStreamDecoder::with_limit(limit);
        let mut out = Vec::new();
        let mut result = Ok(());
        for p in pieces {
            let r = d.feed(p, &mut |m| out.push(own(m)));
            if result.is_ok() {
                result = r;
            }
        }
        (out, result, d.finish())
    }

    fn sample_stream() -> Vec<u8> {
        let uuid = [7u8; 16];
        let mut s = encode_event("messageStart", br#"{"role":"assistant"}"#);
        s.extend(encode_message(
            &[
                ("b1", HeaderValue::Bool(true)),
                ("b0", HeaderValue::Bool(false)),
                ("i8", HeaderValue::Byte(-3)),
                ("i16", HeaderValue::Short(-300)),
                ("i32", HeaderValue::Int(70000)),
                ("i64", HeaderValue::Long(-5_000_000_000)),
                ("bytes", HeaderValue::Bytes(b"\x00\xff")),
                ("str", HeaderValue::String("héllo")),
                ("ts", HeaderValue::Timestamp(1_700_000_000_000)),
                ("uuid", HeaderValue::Uuid(&uuid)),
            ],
            b"",
        ));
        s.extend(encode_message(&[], b"no headers"));
        s.extend(encode_exception(
            "modelStreamErrorException",
            br#"{"message":"boom"}"#,
        ));
        s
    }

    #[test]
    fn a_known_message_decodes() {
        // Built by hand from the format description (not by our encoder): one string header
        // `:event-type: chunk`, payload `{}`.
        let mut m: Vec<u8> = Vec::new();
        let headers: Vec<u8> = [&[11u8][..], b":event-type", &[7, 0, 5], b"chunk"].concat();
        let total = 12 + headers.len() + 2 + 4;
        m.extend((total as u32).to_be_bytes());
        m.extend((headers.len() as u32).to_be_bytes());
        let crc = crc32_reference(&m);
        m.extend(crc.to_be_bytes());
        m.extend(&headers);
        m.extend(b"{}");
        let crc = crc32_reference(&m);
        m.extend(crc.to_be_bytes());
        assert_eq!(
            m,
            encode_message(&[(":event-type", HeaderValue::String("chunk"))], b"{}")
        );
        let (msgs, r, end) = decode(&[&m], 1 << 20);
        assert_eq!((r, end), (Ok(()), StreamEnd::Clean));
        assert_eq!(msgs[0].payload, b"{}");
        let mut d = EventStreamDecoder::default();
        d.feed(&m, &mut |msg| {
            assert_eq!(msg.event_type(), Some("chunk"));
            assert_eq!(msg.message_type(), None);
        })
        .unwrap();
    }

    /// Bitwise CRC-32 (reflected, polynomial 0xEDB88320), independent of the `crc` crate.
    fn crc32_reference(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn crc_is_the_zlib_crc32() {
        assert_eq!(CRC32.checksum(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32_reference(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn messages_at_every_split_and_in_single_bytes() {
        let s = sample_stream();
        let (want, r, end) = decode(&[&s], 1 << 20);
        assert_eq!((r, end), (Ok(()), StreamEnd::Clean));
        assert_eq!(want.len(), 4);
        assert_eq!(
            want[1].headers[7],
            ("str".to_string(), "String(\"héllo\")".to_string())
        );
        assert_eq!(want[2].payload, b"no headers");
        for i in 0..=s.len() {
            for j in i..=s.len() {
                let (got, r, end) = decode(&[&s[..i], &s[i..j], &s[j..]], 1 << 20);
                assert_eq!((r, end), (Ok(()), StreamEnd::Clean), "split {i},{j}");
                assert_eq!(got, want, "split {i},{j}");
            }
        }
        let bytes: Vec<&[u8]> = s.chunks(1).collect();
        assert_eq!(decode(&bytes, 1 << 20).0, want);
    }

    #[test]
    fn a_cut_stream_keeps_whole_messages_and_reports_the_cut() {
        let s = sample_stream();
        let whole = decode(&[&s], 1 << 20).0;
        // Message boundaries: the prefix lengths at which a cut loses nothing.
        let mut boundaries = vec![0usize];
        let mut at = 0;
        while at < s.len() {
            at += be_u32(&s[at..at + 4]) as usize;
            boundaries.push(at);
        }
        for cut in 0..=s.len() {
            let (got, r, end) = decode(&[&s[..cut]], 1 << 20);
            assert_eq!(r, Ok(()));
            let complete = boundaries.iter().filter(|&&b| b > 0 && b <= cut).count();
            assert_eq!(got, whole[..complete], "cut {cut}");
            let want = if boundaries.contains(&cut) {
                StreamEnd::Clean
            } else {
                StreamEnd::Truncated
            };
            assert_eq!(end, want, "cut {cut}");
        }
    }

    #[test]
    fn checksums_and_lengths_are_checked() {
        let good = encode_event("contentBlockDelta", br#"{"delta":{"text":"hi"}}"#);
        // A flipped payload bit: message checksum.
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 6] ^= 1;
        assert_eq!(
            decode(&[&bad], 1 << 20).1,
            Err(FrameError::Malformed(
                "event-stream message checksum mismatch"
            ))
        );
        // A flipped length bit: prelude checksum, refused before buffering.
        let mut bad = good.clone();
        bad[3] ^= 1;
        assert_eq!(
            decode(&[&bad[..12]], 1 << 20).1,
            Err(FrameError::Malformed(
                "event-stream prelude checksum mismatch"
            ))
        );
        // A consistent prelude that announces too little room for its headers.
        let mut m = Vec::new();
        m.extend(16u32.to_be_bytes());
        m.extend(1u32.to_be_bytes());
        let crc = CRC32.checksum(&m);
        m.extend(crc.to_be_bytes());
        assert_eq!(
            decode(&[&m], 1 << 20).1,
            Err(FrameError::Malformed(
                "event-stream message lengths invalid"
            ))
        );
        // Too large for the limit: refused from the prelude alone.
        assert_eq!(
            decode(&[&good[..12]], 20).1,
            Err(FrameError::TooLarge { limit: 20 })
        );
        // Nothing after an error is read.
        let mut after = bad.clone();
        after.extend(&good);
        let (msgs, r, _) = decode(&[&after], 1 << 20);
        assert!(r.is_err() && msgs.is_empty());
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        for headers in [
            &[0u8][..],                // empty name
            &[3, b'a', b'b'],          // name runs past the block
            &[1, b'a', 42],            // unknown type
            &[1, b'a', 7, 0, 9, b'x'], // string runs past the block
            &[1, b'a', 7, 0, 1, 0xff], // string not UTF-8
            &[1, 0xc3, 0],             // name not UTF-8
            &[1, b'a', 9, 1, 2, 3],    // short UUID
        ] {
            let mut m = Vec::new();
            let total = 16 + headers.len();
            m.extend((total as u32).to_be_bytes());
            m.extend((headers.len() as u32).to_be_bytes());
            let crc = CRC32.checksum(&m);
            m.extend(crc.to_be_bytes());
            m.extend(headers);
            let crc = CRC32.checksum(&m);
            m.extend(crc.to_be_bytes());
            assert!(
                matches!(decode(&[&m], 1 << 20).1, Err(FrameError::Malformed(_))),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn corrupted_streams_never_panic_and_decode_alike_however_split() {
        let mut rng = crate::rng::SplitMix64::new(7);
        let clean = sample_stream();
        for _ in 0..3000 {
            let mut bytes = clean.clone();
            // A few random byte changes (lengths, checksums, header types, payload).
            for _ in 0..rng.below(4) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next_u64() as u8;
            }
            bytes.truncate(rng.below(bytes.len() + 1));
            let whole = decode(&[&bytes], 1 << 20);
            let cut = rng.below(bytes.len() + 1);
            let split = decode(&[&bytes[..cut], &bytes[cut..]], 1 << 20);
            assert_eq!(split.0, whole.0, "cut {cut}");
            assert_eq!(split.1, whole.1, "cut {cut}");
        }
    }
}
