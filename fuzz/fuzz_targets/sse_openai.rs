//! Feeds arbitrary bytes to the SSE decoder and the OpenAI parser, whole and in pieces.
//! Checks: no panic, splitting the body never changes the outcome (beyond how many chunks
//! there were and how many content arrivals were stamped), and wherever a byte scanner (chat
//! chunks, Responses and Messages events) reads an event's data, serde_json reads it the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmeter_core::endpoint::api_event;
use llmeter_core::endpoint::openai::{chat, OpenAIConfig, OpenAIEndpoint};
use llmeter_core::framing::sse::SseDecoder;
use llmeter_wasm_fuzz::{parse_chunks, TextShape};

fn decode(decoder: &mut SseDecoder, bytes: &[u8], out: &mut Vec<(String, String, String)>) {
    let _ = decoder.feed(bytes, &mut |e| {
        out.push((e.event.to_string(), e.data.to_string(), e.id.to_string()))
    });
}

fuzz_target!(|input: &[u8]| {
    // First byte: piece size and response shape; the rest is the body.
    let Some((&control, body)) = input.split_first() else {
        return;
    };
    let shape = TextShape::of(control);
    let piece = shape.piece;

    let mut whole = Vec::new();
    let mut decoder = SseDecoder::new();
    decode(&mut decoder, body, &mut whole);
    let whole_end = decoder.finish();
    let mut pieces = Vec::new();
    for chunk in body.chunks(piece) {
        decode(&mut decoder, chunk, &mut pieces);
    }
    assert_eq!(whole, pieces);
    assert_eq!(whole_end, decoder.finish());
    for (_, data, _) in &whole {
        let [chat, text, block] = {
            let [text, block] = api_event::event_views(data.trim());
            [chat::chunk_views(data.trim()), text, block]
        };
        for (scanned, serde) in [chat, text, block] {
            if scanned.is_some() {
                assert_eq!(
                    scanned, serde,
                    "scanner and serde_json disagree on {data:?}"
                );
            }
        }
    }

    let endpoint = OpenAIEndpoint::new(OpenAIConfig {
        base_url: "http://h/v1".into(),
        model: "m".into(),
        stream: shape.stream,
        ..Default::default()
    });
    let headers = [("content-type", shape.content_type), ("retry-after", "1")];
    let parse = |chunks: &mut dyn Iterator<Item = &[u8]>| {
        parse_chunks(
            &endpoint,
            shape.status,
            &headers,
            chunks,
            shape.failure.clone(),
        )
    };
    let a = parse(&mut std::iter::once(body));
    let b = parse(&mut body.chunks(piece));
    assert_eq!(a, b);
});
