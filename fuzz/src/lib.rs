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
