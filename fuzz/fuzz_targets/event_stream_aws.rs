//! The AWS event-stream decoder and the Bedrock / SageMaker response parsers, on arbitrary
//! input, whole and in pieces. Checks: no panic, and splitting the body never changes the
//! outcome (beyond how many chunks there were and how many content arrivals were stamped).
//!
//! Random bytes almost never pass the CRC checks, so most inputs are read as a list of
//! messages to build (`[kind][len][payload…]`…): valid frames whose payloads, headers and
//! message types the fuzzer chooses, sometimes with a byte flipped afterwards. The control
//! byte's top bit sends the input raw instead.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmeter_core::endpoint::config::build;
use llmeter_core::endpoint::Endpoint;
use llmeter_core::framing::event_stream::{encode_message, EventStreamDecoder, HeaderValue};
use llmeter_wasm_fuzz::parse_chunks;
use serde_json::json;

const EVENT_TYPES: [&str; 8] = [
    "contentBlockDelta",
    "contentBlockStop",
    "messageStop",
    "metadata",
    "chunk",
    "PayloadPart",
    "messageStart",
    "unknownEvent",
];

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= group.len() {
                A[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// Messages built from `[kind][len][payload]` records.
fn build_stream(mut input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let [kind, len, rest @ ..] = input {
        let n = (*len as usize).min(rest.len());
        let (payload, tail) = rest.split_at(n);
        input = tail;
        let event_type = EVENT_TYPES[(kind & 7) as usize];
        let mut message = match kind >> 3 & 3 {
            // An event whose payload is the bytes as they are.
            0 => encode_message(
                &[
                    (":event-type", HeaderValue::String(event_type)),
                    (":message-type", HeaderValue::String("event")),
                ],
                payload,
            ),
            // A Bedrock chunk carrying the bytes base64-encoded.
            1 => encode_message(
                &[
                    (":event-type", HeaderValue::String("chunk")),
                    (":message-type", HeaderValue::String("event")),
                ],
                json!({"bytes": base64(payload)}).to_string().as_bytes(),
            ),
            // An exception.
            2 => encode_message(
                &[
                    (":exception-type", HeaderValue::String(event_type)),
                    (":message-type", HeaderValue::String("exception")),
                ],
                payload,
            ),
            // An error message, or headers of other types.
            _ => encode_message(
                &[
                    (
                        ":message-type",
                        HeaderValue::String(if kind & 0x80 == 0 { "error" } else { "event" }),
                    ),
                    (":error-code", HeaderValue::Bytes(payload)),
                    ("n", HeaderValue::Long(n as i64)),
                    ("t", HeaderValue::Timestamp(-1)),
                    ("b", HeaderValue::Bool(kind & 1 == 0)),
                ],
                payload,
            ),
        };
        if kind & 0x20 != 0 && !message.is_empty() {
            let at = usize::from(*len) % message.len();
            message[at] ^= kind | 1;
        }
        out.extend(message);
    }
    out
}

fn decode(
    decoder: &mut EventStreamDecoder,
    bytes: &[u8],
    out: &mut Vec<(Vec<(String, String)>, Vec<u8>)>,
) -> bool {
    decoder
        .feed(bytes, &mut |m| {
            let headers = m
                .headers()
                .map(|(n, v)| (n.to_string(), format!("{v:?}")))
                .collect();
            out.push((headers, m.payload.to_vec()));
        })
        .is_err()
}

const CONFIGS: [&str; 4] = [
    r#"{"kind":"bedrockConverse","region":"us-east-1","model":"m","apiKey":"k","ttftVisibleTokensOnly":false}"#,
    r#"{"kind":"bedrockInvoke","region":"us-east-1","model":"m","apiKey":"k","bodyFormat":"anthropic"}"#,
    r#"{"kind":"bedrockInvoke","region":"us-east-1","model":"m","apiKey":"k","generatedTextPath":"a[].b[-1]","inputTokenCountPath":"\"x-y\".n"}"#,
    r#"{"kind":"sagemaker","region":"us-east-1","endpointName":"e","accessKeyId":"a","secretAccessKey":"s"}"#,
];

thread_local! {
    /// Built once: the parsers are what is fuzzed, not the configuration.
    static ENDPOINTS: Vec<Box<dyn Endpoint>> = CONFIGS
        .iter()
        .map(|c| build(&serde_json::from_str(c).unwrap()).unwrap())
        .collect();
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, rest)) = input.split_first() else {
        return;
    };
    let body = if control & 0x80 != 0 {
        rest.to_vec()
    } else {
        build_stream(rest)
    };
    let piece = usize::from(control & 0x0f) + 1;

    // The decoder: whole and in pieces, the same messages and the same verdict.
    let mut whole = Vec::new();
    let mut d = EventStreamDecoder::with_limit(4096);
    let whole_failed = decode(&mut d, &body, &mut whole);
    let whole_end = d.finish();
    let mut pieces = Vec::new();
    let mut d = EventStreamDecoder::with_limit(4096);
    let mut pieces_failed = false;
    for chunk in body.chunks(piece) {
        pieces_failed |= decode(&mut d, chunk, &mut pieces);
    }
    assert_eq!(whole, pieces);
    assert_eq!(whole_failed, pieces_failed);
    if !whole_failed {
        assert_eq!(whole_end, d.finish());
    }

    // Each AWS parser.
    ENDPOINTS.with(|endpoints| {
        check_parser(
            &*endpoints[(control >> 4 & 3) as usize],
            control,
            &body,
            piece,
        )
    });
});

fn check_parser(endpoint: &dyn Endpoint, control: u8, body: &[u8], piece: usize) {
    let status = if control & 0x40 == 0 { 200 } else { 403 };
    let headers = [
        ("content-type", "application/vnd.amazon.eventstream"),
        ("x-amzn-requestid", "r"),
        ("x-amzn-errortype", "X:y"),
    ];
    let parse = |chunks: &mut dyn Iterator<Item = &[u8]>| {
        parse_chunks(endpoint, status, &headers, chunks, None)
    };
    let a = parse(&mut std::iter::once(body));
    let b = parse(&mut body.chunks(piece));
    assert_eq!(a, b);
}
