//! What the fuzz targets share: feeding one response to an endpoint's parser, so that the same
//! bytes whole and in pieces can be compared.

use llmeter_core::endpoint::{Endpoint, ParseLimits, ParsedResponse};
use llmeter_core::transport::ResponseHead;

/// Feeds `chunks` to a fresh parser of `endpoint` after a head with `status` and `headers`, and
/// finishes it with `failure`. What depends on where the chunks were cut (their count, and one
/// content stamp per chunk rather than per event) is normalised, so the same bytes must give the
/// same result however they were split.
pub fn parse_chunks(
    endpoint: &dyn Endpoint,
    status: u16,
    headers: &[(&str, &str)],
    chunks: &mut dyn Iterator<Item = &[u8]>,
    failure: Option<String>,
) -> ParsedResponse {
    let mut parser = endpoint.parser(ParseLimits {
        max_event_bytes: 4096,
    });
    parser.on_head(&ResponseHead {
        status,
        headers: headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        arrival_ms: 1.0,
        sent_ms: None,
    });
    for chunk in chunks {
        // Fed on after it is settled, too (the runner stops there): no bytes may panic it.
        parser.on_chunk(chunk, 2.0);
    }
    let mut parsed = parser.finish(3.0, failure);
    parsed.num_chunks = 0;
    parsed.content_chunk_ms.dedup();
    parsed
}

/// The response a text target's control byte asks for: bits 0-3 the piece size - 1; 0x10 not
/// streaming; 0x20 HTTP 429; 0x40 `application/json` (else `text/event-stream`); 0x80 the
/// transport failed at the end.
pub struct TextShape {
    pub piece: usize,
    pub stream: bool,
    pub status: u16,
    pub content_type: &'static str,
    pub failure: Option<String>,
}

impl TextShape {
    pub fn of(control: u8) -> Self {
        TextShape {
            piece: usize::from(control & 0x0f) + 1,
            stream: control & 0x10 == 0,
            status: if control & 0x20 == 0 { 200 } else { 429 },
            content_type: if control & 0x40 == 0 {
                "text/event-stream"
            } else {
                "application/json"
            },
            failure: (control & 0x80 != 0).then(|| "stream interrupted: fuzz".to_string()),
        }
    }
}
