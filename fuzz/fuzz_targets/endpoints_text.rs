//! Every endpoint that reads text (OpenAI Chat Completions and Responses, Anthropic Messages,
//! a custom endpoint read by paths over SSE, JSON lines or a whole body), built through the one
//! registry as the JS API builds them, on arbitrary response bodies, whole and in pieces.
//! Checks: no panic (a panic in wasm kills the module), and splitting the body never changes
//! the outcome (beyond how many chunks there were and how many content arrivals were stamped).
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmeter_core::endpoint::config::build;
use llmeter_core::endpoint::Endpoint;
use llmeter_wasm_fuzz::{parse_chunks, TextShape};
use serde_json::{json, Value};

/// The endpoints under test, by the second control byte (modulo their number).
fn config(which: u8, stream: bool) -> Value {
    let paths = json!({"text": "choices[0].delta.content", "id": "id", "inputTokens": "usage.prompt_tokens",
        "outputTokens": "usage.completion_tokens", "error": "error.message", "done": {"event": "end"}});
    match which % 6 {
        0 => json!({"kind": "openai", "baseUrl": "http://h/v1", "model": "m", "stream": stream}),
        1 => {
            json!({"kind": "openai-responses", "baseUrl": "http://h/v1", "model": "m", "stream": stream})
        }
        2 => json!({"kind": "anthropic", "baseUrl": "http://h/v1", "model": "m", "stream": stream}),
        3 => json!({"kind": "custom", "url": "http://h/x", "stream": stream, "read": paths}),
        4 => {
            json!({"kind": "custom", "url": "http://h/x", "stream": stream, "framing": "json-lines",
            "requireDone": true, "read": {"text": "response", "done": "done", "outputTokens": "eval_count",
            "inputTokens": "prompt_eval_count", "error": "error"}})
        }
        _ => {
            json!({"kind": "custom", "url": "http://h/x", "stream": stream, "framing": "event-stream",
            "read": {"text": {"event": "contentBlockDelta", "path": "delta.text"},
            "outputTokens": {"event": "metadata", "path": "usage.outputTokens"}}})
        }
    }
}

fuzz_target!(|input: &[u8]| {
    // Two control bytes, then the body. First: the response's shape (TextShape). Second: the
    // endpoint.
    let [control, which, body @ ..] = input else {
        return;
    };
    let TextShape {
        piece,
        stream,
        status,
        content_type,
        failure,
    } = TextShape::of(*control);
    let endpoint: Box<dyn Endpoint> =
        build(&config(*which, stream)).expect("the configs above are valid");
    let headers = [("content-type", content_type), ("retry-after", "1")];
    let parse = |chunks: &mut dyn Iterator<Item = &[u8]>| {
        parse_chunks(endpoint.as_ref(), status, &headers, chunks, failure.clone())
    };
    let whole = parse(&mut std::iter::once(body).filter(|b| !b.is_empty()));
    let pieces = parse(&mut body.chunks(piece));
    assert_eq!(whole, pieces, "whole and in pieces of {piece} bytes differ");
});
