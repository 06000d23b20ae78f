//! Bedrock InvokeModel / InvokeModelWithResponseStream, each body format.

use super::*;
use crate::endpoint::UserMessage;
use serde_json::{json, Map, Value};

fn endpoint_with(
    format: InvokeBodyFormat,
    stream: bool,
    visible_only: bool,
) -> BedrockInvokeEndpoint {
    BedrockInvokeEndpoint::new(InvokeConfig {
        target: sigv4_target(),
        model: "meta.llama3-8b-instruct-v1:0".into(),
        stream,
        body_format: format,
        paths: InvokePaths::defaults(format, stream),
        ttft_visible_tokens_only: visible_only,
        endpoint_name: Some("my bedrock".into()),
    })
}

fn endpoint(format: InvokeBodyFormat, stream: bool) -> BedrockInvokeEndpoint {
    endpoint_with(format, stream, true)
}

/// A `chunk` event carrying `model_json` (base64 inside JSON, as Bedrock sends it).
fn chunk(model_json: Value) -> Vec<u8> {
    let encoded = standard_base64(model_json.to_string().as_bytes());
    event("chunk", json!({ "bytes": encoded, "p": "abcdefgh" }))
}

fn standard_base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const METRICS: &str = "amazon-bedrock-invocationMetrics";

fn metrics(input: u64, output: u64) -> Value {
    json!({"inputTokenCount": input, "outputTokenCount": output, "invocationLatency": 100, "firstByteLatency": 20})
}

#[test]
fn create_payload_per_format() {
    let parts = UserMessage::Parts(vec!["a".into(), "b".into()]);
    let text = UserMessage::Text("hi".into());
    let mut extra = Map::new();
    extra.insert("temperature".into(), json!(0.2));
    let payload = |f, m: &UserMessage, e: &Map<String, Value>| {
        endpoint(f, true)
            .create_payload(m, 16, e)
            .unwrap()
            .to_string()
    };
    // LLMeter's BedrockInvoke.create_payload: one user message per text.
    assert_eq!(
        payload(InvokeBodyFormat::OpenAI, &parts, &extra),
        r#"{"messages":[{"role":"user","content":[{"text":"a","type":"text"}]},{"role":"user","content":[{"text":"b","type":"text"}]}],"max_tokens":16,"temperature":0.2}"#
    );
    assert_eq!(
        payload(InvokeBodyFormat::Anthropic, &parts, &Map::new()),
        r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":16,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}"#
    );
    assert_eq!(
        payload(InvokeBodyFormat::Llama, &parts, &extra),
        r#"{"prompt":"a\nb","max_gen_len":16,"temperature":0.2}"#
    );
    let mut nova_extra = Map::new();
    nova_extra.insert("inferenceConfig".into(), json!({"topP": 0.9}));
    assert_eq!(
        payload(InvokeBodyFormat::Nova, &text, &nova_extra),
        r#"{"schemaVersion":"messages-v1","messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"topP":0.9,"maxTokens":16}}"#
    );
    assert_eq!(
        payload(InvokeBodyFormat::Titan, &text, &Map::new()),
        r#"{"inputText":"hi","textGenerationConfig":{"maxTokenCount":16}}"#
    );
    assert!(endpoint(InvokeBodyFormat::OpenAI, true)
        .create_payload(&UserMessage::Parts(vec![]), 16, &Map::new())
        .is_err());
}

#[test]
fn prepare_sends_the_payload_as_is_with_accept_headers() {
    let ep = endpoint(InvokeBodyFormat::OpenAI, true);
    let payload = json!({"messages": [{"role": "user", "content": [{"text": "a", "type": "text"}]}, {"role": "user", "content": [{"text": "b", "type": "text"}]}], "max_tokens": 3});
    let prepared = ep.prepare(&payload).unwrap();
    assert_eq!(*prepared.input_payload, payload);
    assert_eq!(
        serde_json::from_slice::<Value>(&prepared.body).unwrap(),
        payload
    );
    assert_eq!(prepared.input_prompt.as_deref(), Some("a\nb"));
    let request = ep.request(&prepared, 0.0).unwrap();
    assert_eq!(
        request.url,
        "http://127.0.0.1:9000/model/meta.llama3-8b-instruct-v1%3A0/invoke-with-response-stream"
    );
    assert_eq!(
        header(&request.headers, "x-amzn-bedrock-accept"),
        Some("application/json")
    );
    let plain = endpoint(InvokeBodyFormat::Llama, false);
    let prepared = plain
        .prepare(&json!({"prompt": "p q", "max_gen_len": 3}))
        .unwrap();
    assert_eq!(prepared.input_prompt.as_deref(), Some("p q"));
    let request = plain.request(&prepared, 0.0).unwrap();
    assert!(request.url.ends_with("/invoke"));
    assert_eq!(header(&request.headers, "accept"), Some("application/json"));
    // A prompt path that finds nothing gives no prompt.
    assert_eq!(plain.prepare(&json!({"x": 1})).unwrap().input_prompt, None);
    assert_eq!(ep.info().endpoint_type, "BedrockInvokeStream");
    assert_eq!(plain.info().endpoint_type, "BedrockInvoke");
    assert_eq!(plain.info().endpoint_name.as_deref(), Some("my bedrock"));
}

fn anthropic_stream() -> Vec<Vec<u8>> {
    vec![
        chunk(
            json!({"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 9, "output_tokens": 1}}}),
        ),
        chunk(
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
        ),
        chunk(
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}),
        ),
        chunk(
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hello"}}),
        ),
        chunk(
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": " there"}}),
        ),
        chunk(
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 6}}),
        ),
        chunk(json!({"type": "message_stop", METRICS: metrics(9, 6)})),
    ]
}

#[test]
fn anthropic_stream_with_thinking() {
    let events = anthropic_stream();
    let got = parse(
        &endpoint(InvokeBodyFormat::Anthropic, true),
        &stream_head(),
        &timed(&events),
        None,
    );
    assert_eq!(got.error, None);
    assert_eq!(got.text.as_deref(), Some("Hello there"));
    assert_eq!(
        got.id.as_deref(),
        Some("req-1"),
        "Anthropic chunks have no top-level id"
    );
    assert_eq!(
        (got.first_content_ms, got.last_content_ms),
        (Some(130.0), Some(140.0))
    );
    assert_eq!((got.tokens_input, got.tokens_output), (Some(9), Some(6)));
    assert_eq!(got.tokens_input_cached, None);
    let hidden = parse(
        &endpoint_with(InvokeBodyFormat::Anthropic, true, false),
        &stream_head(),
        &timed(&events),
        None,
    );
    assert_eq!(hidden.first_content_ms, Some(120.0));
    same_at_every_split(
        &endpoint(InvokeBodyFormat::Anthropic, true),
        &stream_head(),
        &events.concat(),
    );
    content_times_at_every_split(
        &endpoint(InvokeBodyFormat::Anthropic, true),
        &stream_head(),
        &events,
    );
}

#[test]
fn openai_shape_stream_takes_chunk_ids_and_metrics() {
    let events = vec![
        chunk(
            json!({"id": "chatcmpl-1", "choices": [{"delta": {"role": "assistant", "content": ""}}]}),
        ),
        chunk(json!({"id": "chatcmpl-1", "choices": [{"delta": {"content": "Hi"}}]})),
        chunk(
            json!({"id": "chatcmpl-1", "choices": [{"delta": {}, "finish_reason": "stop"}], METRICS: metrics(3, 1)}),
        ),
    ];
    let got = parse(
        &endpoint(InvokeBodyFormat::OpenAI, true),
        &stream_head(),
        &timed(&events),
        None,
    );
    assert_eq!(got.error, None);
    assert_eq!(got.id.as_deref(), Some("chatcmpl-1"));
    assert_eq!(got.text.as_deref(), Some("Hi"));
    assert_eq!((got.tokens_input, got.tokens_output), (Some(3), Some(1)));
    assert_eq!(got.first_content_ms, Some(110.0));
    let openai = endpoint(InvokeBodyFormat::OpenAI, true);
    same_at_every_split(&openai, &stream_head(), &events.concat());
    content_times_at_every_split(&openai, &stream_head(), &events);
    // Without the metrics chunk the stream is incomplete.
    let cut = parse(
        &endpoint(InvokeBodyFormat::OpenAI, true),
        &stream_head(),
        &timed(&events[..2]),
        None,
    );
    assert!(cut
        .error
        .as_deref()
        .unwrap()
        .starts_with("stream ended before the chunk with amazon-bedrock-invocationMetrics"));
}

#[test]
fn nova_llama_and_titan_streams() {
    let nova = vec![
        chunk(json!({"messageStart": {"role": "assistant"}})),
        chunk(json!({"contentBlockDelta": {"delta": {"text": "Hey"}, "contentBlockIndex": 0}})),
        chunk(json!({"contentBlockStop": {"contentBlockIndex": 0}})),
        chunk(json!({"messageStop": {"stopReason": "end_turn"}})),
        chunk(
            json!({"metadata": {"usage": {"inputTokens": 4, "outputTokens": 1}}, METRICS: metrics(4, 1)}),
        ),
    ];
    let llama = vec![
        chunk(
            json!({"generation": "Hey", "prompt_token_count": 4, "generation_token_count": 1, "stop_reason": null}),
        ),
        chunk(
            json!({"generation": "", "prompt_token_count": null, "generation_token_count": 1, "stop_reason": "stop", METRICS: metrics(4, 1)}),
        ),
    ];
    let titan = vec![
        chunk(
            json!({"outputText": "Hey", "index": 0, "totalOutputTextTokenCount": 1, "completionReason": null, "inputTextTokenCount": 4}),
        ),
        chunk(
            json!({"outputText": "", "index": 0, "totalOutputTextTokenCount": 1, "completionReason": "FINISH", METRICS: metrics(4, 1)}),
        ),
    ];
    for (format, events) in [
        (InvokeBodyFormat::Nova, nova),
        (InvokeBodyFormat::Llama, llama),
        (InvokeBodyFormat::Titan, titan),
    ] {
        let got = parse(
            &endpoint(format, true),
            &stream_head(),
            &timed(&events),
            None,
        );
        assert_eq!(got.error, None, "{format:?}");
        assert_eq!(got.text.as_deref(), Some("Hey"), "{format:?}");
        assert_eq!(
            (got.tokens_input, got.tokens_output),
            (Some(4), Some(1)),
            "{format:?}"
        );
    }
}

/// Nova, Llama and Titan streams of several text chunks, cut at every byte: the same reading,
/// and TTFT/TTLT at the piece that completed the first and last text chunk.
#[test]
fn nova_llama_and_titan_streams_at_every_split() {
    let words = ["Hey", " you", " there"];
    let nova: Vec<Vec<u8>> = std::iter::once(chunk(json!({"messageStart": {"role": "assistant"}})))
        .chain(words.iter().map(|w| {
            chunk(json!({"contentBlockDelta": {"delta": {"text": w}, "contentBlockIndex": 0}}))
        }))
        .chain([
            chunk(json!({"contentBlockStop": {"contentBlockIndex": 0}})),
            chunk(json!({"messageStop": {"stopReason": "end_turn"}})),
            chunk(
                json!({"metadata": {"usage": {"inputTokens": 4, "outputTokens": 3}}, METRICS: metrics(4, 3)}),
            ),
        ])
        .collect();
    let llama: Vec<Vec<u8>> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            chunk(
                json!({"generation": w, "prompt_token_count": if i == 0 { json!(4) } else { Value::Null }, "generation_token_count": i + 1, "stop_reason": null}),
            )
        })
        .chain(std::iter::once(chunk(
            json!({"generation": "", "prompt_token_count": null, "generation_token_count": 3, "stop_reason": "stop", METRICS: metrics(4, 3)}),
        )))
        .collect();
    let titan: Vec<Vec<u8>> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            chunk(
                json!({"outputText": w, "index": 0, "totalOutputTextTokenCount": i + 1, "completionReason": null, "inputTextTokenCount": 4}),
            )
        })
        .chain(std::iter::once(chunk(
            json!({"outputText": "", "index": 0, "totalOutputTextTokenCount": 3, "completionReason": "FINISH", METRICS: metrics(4, 3)}),
        )))
        .collect();
    for (format, events) in [
        (InvokeBodyFormat::Nova, nova),
        (InvokeBodyFormat::Llama, llama),
        (InvokeBodyFormat::Titan, titan),
    ] {
        let ep = endpoint(format, true);
        let got = parse(&ep, &stream_head(), &timed(&events), None);
        assert_eq!(got.error, None, "{format:?}");
        assert_eq!(got.text.as_deref(), Some("Hey you there"), "{format:?}");
        assert_eq!(
            (got.tokens_input, got.tokens_output),
            (Some(4), Some(3)),
            "{format:?}"
        );
        same_at_every_split(&ep, &stream_head(), &events.concat());
        content_times_at_every_split(&ep, &stream_head(), &events);
    }
}

#[test]
fn non_stream_bodies_per_format() {
    let cases = [
        (
            InvokeBodyFormat::OpenAI,
            json!({"id": "chatcmpl-9", "choices": [{"message": {"content": "Hey"}}], "usage": {"prompt_tokens": 4, "completion_tokens": 1}}),
            Some("chatcmpl-9"),
        ),
        (
            InvokeBodyFormat::Anthropic,
            json!({"id": "msg_9", "type": "message", "content": [{"type": "text", "text": "Hey"}], "usage": {"input_tokens": 4, "output_tokens": 1}}),
            Some("msg_9"),
        ),
        (
            InvokeBodyFormat::Llama,
            json!({"generation": "Hey", "prompt_token_count": 4, "generation_token_count": 1}),
            None,
        ),
        (
            InvokeBodyFormat::Nova,
            json!({"output": {"message": {"content": [{"text": "Hey"}]}}, "usage": {"inputTokens": 4, "outputTokens": 1}}),
            None,
        ),
        (
            InvokeBodyFormat::Titan,
            json!({"inputTextTokenCount": 4, "results": [{"tokenCount": 1, "outputText": "Hey"}]}),
            None,
        ),
    ];
    for (format, body, id) in cases {
        let body = body.to_string();
        let got = parse(
            &endpoint(format, false),
            &json_head(),
            &[(1.0, body.as_bytes())],
            None,
        );
        assert_eq!(got.error, None, "{format:?}");
        assert_eq!(got.text.as_deref(), Some("Hey"), "{format:?}");
        assert_eq!(
            (got.tokens_input, got.tokens_output),
            (Some(4), Some(1)),
            "{format:?}"
        );
        assert_eq!(got.id.as_deref(), Some(id.unwrap_or("req-2")), "{format:?}");
    }
    // LLMeter joins a list of texts with newlines.
    let two = json!({"content": [{"text": "a"}, {"text": "b"}], "usage": {}}).to_string();
    let got = parse(
        &endpoint(InvokeBodyFormat::Anthropic, false),
        &json_head(),
        &[(1.0, two.as_bytes())],
        None,
    );
    assert_eq!(got.text.as_deref(), Some("a\nb"));
}

#[test]
fn bad_chunks_and_exceptions() {
    let ep = endpoint(InvokeBodyFormat::OpenAI, true);
    let not_b64 = event("chunk", json!({"bytes": "!!!"}));
    let got = parse(&ep, &stream_head(), &[(1.0, &not_b64)], None);
    assert_eq!(
        got.error.as_deref(),
        Some("chunk bytes are not base64: !!!")
    );
    let not_json = event("chunk", json!({"bytes": standard_base64(b"nope")}));
    let got = parse(&ep, &stream_head(), &[(1.0, &not_json)], None);
    assert_eq!(got.error.as_deref(), Some("chunk is not JSON: nope"));
    let events = [
        chunk(json!({"choices": [{"delta": {"content": "Hi"}}]})),
        exception("throttlingException", "Too many tokens"),
    ];
    let got = parse(&ep, &stream_head(), &timed(&events), None);
    assert_eq!(
        got.error.as_deref(),
        Some("An error occurred (throttlingException) when calling the InvokeModelWithResponseStream operation: Too many tokens")
    );
    assert_eq!(
        (got.text.as_deref(), got.last_content_ms),
        (Some("Hi"), Some(100.0))
    );
}

#[test]
fn custom_paths_and_disabled_token_paths() {
    let ep = BedrockInvokeEndpoint::new(InvokeConfig {
        target: sigv4_target(),
        model: "custom".into(),
        stream: false,
        body_format: InvokeBodyFormat::OpenAI,
        paths: InvokePaths {
            generated_text: crate::endpoint::json_path::JsonPath::parse("out[].t").unwrap(),
            input_text: crate::endpoint::json_path::JsonPath::parse("q").unwrap(),
            generated_token_count: None,
            input_token_count: Some(
                crate::endpoint::json_path::JsonPath::parse("\"n-in\"").unwrap(),
            ),
            reasoning_text: None,
        },
        ttft_visible_tokens_only: true,
        endpoint_name: None,
    });
    let body =
        json!({"out": [{"t": "x"}, {"t": "y"}], "n-in": 2, "usage": {"completion_tokens": 9}})
            .to_string();
    let got = parse(&ep, &json_head(), &[(1.0, body.as_bytes())], None);
    assert_eq!(got.text.as_deref(), Some("x\ny"));
    assert_eq!((got.tokens_input, got.tokens_output), (Some(2), None));
    assert_eq!(ep.info().endpoint_name.as_deref(), Some("amazon bedrock"));
}
