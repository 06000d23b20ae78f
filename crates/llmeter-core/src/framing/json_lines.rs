//! Newline-delimited messages (JSON lines, TGI/LMI token lines): LF or CRLF terminated, blank
//! lines skipped, the last line may lack its terminator. Complete lines are handed out in place;
//! only a line split across chunks is copied.

use super::{FrameError, StreamEnd, DEFAULT_MAX_EVENT_BYTES};

#[derive(Debug)]
pub struct JsonLinesDecoder {
    line: Vec<u8>,
    max_line_bytes: usize,
    failed: bool,
}

impl Default for JsonLinesDecoder {
    fn default() -> Self {
        Self::with_limit(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl JsonLinesDecoder {
    pub fn with_limit(max_line_bytes: usize) -> Self {
        JsonLinesDecoder {
            line: Vec::new(),
            max_line_bytes,
            failed: false,
        }
    }

    pub fn feed(
        &mut self,
        mut bytes: &[u8],
        on_line: &mut dyn FnMut(&[u8]),
    ) -> Result<(), FrameError> {
        if self.failed {
            return Ok(());
        }
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            let (content, rest) = bytes.split_at(end);
            bytes = &rest[1..];
            if self.line.is_empty() {
                emit(content, on_line);
            } else {
                self.check(self.line.len() + content.len())?;
                self.line.extend_from_slice(content);
                emit(&self.line, on_line);
                self.line.clear();
            }
        }
        self.check(self.line.len() + bytes.len())?;
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    pub fn finish(&mut self, on_line: &mut dyn FnMut(&[u8])) -> StreamEnd {
        if !self.failed {
            emit(&self.line, on_line);
        }
        self.line.clear();
        self.failed = false;
        StreamEnd::Clean
    }

    fn check(&mut self, len: usize) -> Result<(), FrameError> {
        if len > self.max_line_bytes {
            self.failed = true;
            self.line = Vec::new();
            return Err(FrameError::TooLarge {
                limit: self.max_line_bytes,
            });
        }
        Ok(())
    }
}

fn emit(line: &[u8], on_line: &mut dyn FnMut(&[u8])) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if !line.iter().all(u8::is_ascii_whitespace) {
        on_line(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(pieces: &[&[u8]]) -> Vec<String> {
        let mut d = JsonLinesDecoder::default();
        let mut out = Vec::new();
        for p in pieces {
            d.feed(p, &mut |l| {
                out.push(String::from_utf8_lossy(l).into_owned())
            })
            .unwrap();
        }
        d.finish(&mut |l| out.push(String::from_utf8_lossy(l).into_owned()));
        out
    }

    #[test]
    fn lines_at_every_split() {
        let text: &[u8] = b"{\"a\":1}\r\n\n  \n{\"b\":\"\xc3\xa9\"}\n{\"c\":3}";
        let want = vec!["{\"a\":1}", "{\"b\":\"é\"}", "{\"c\":3}"];
        assert_eq!(decode(&[text]), want);
        for i in 0..=text.len() {
            assert_eq!(decode(&[&text[..i], &text[i..]]), want, "split at {i}");
        }
    }

    #[test]
    fn an_endless_line_is_an_error() {
        let mut d = JsonLinesDecoder::with_limit(8);
        assert!(d.feed(b"12345", &mut |_| {}).is_ok());
        assert_eq!(
            d.feed(b"6789", &mut |_| {}),
            Err(FrameError::TooLarge { limit: 8 })
        );
    }
}
