//! Custom endpoints with native hooks standing in for the user's JS functions: the same reading
//! results the JS API hands over (as JSON), over SSE, JSON lines, AWS event-stream and raw bytes.

use super::*;
use crate::endpoint::test_support::{assert_every_byte_boundary, head, parse, send, sse_head};
use serde_json::json;

/// A reading as the JS API hands it over (already checked there).
fn reading(v: Value) -> Reading {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let usage = v.get("usage").cloned().unwrap_or(Value::Null);
    let n = |k: &str| usage.get(k).and_then(Value::as_u64);
    Reading {
        text: text("text"),
        reasoning: v.get("reasoning").and_then(Value::as_bool).unwrap_or(false),
        id: text("id"),
        usage: ReadingUsage {
            input: n("input"),
            output: n("output"),
            input_cached: n("inputCached"),
            output_reasoning: n("outputReasoning"),
        },
        error: text("error"),
        done: v.get("done").and_then(Value::as_bool).unwrap_or(false),
    }
}

/// A reading function as a user writes one, for the made-up format of the examples:
/// `event: start {id}`, `event: delta {text}` / `{thinking}`, `event: usage {in, out}`,
/// `event: end`, `event: fail {reason}` — or the same objects as JSON lines (`type` key).
fn read_made_up(event: CustomEvent<'_>) -> Result<Reading, String> {
    let (kind, data): (String, Value) = match event {
        CustomEvent::Sse { event, data, .. } => (
            event.to_string(),
            serde_json::from_str(data).map_err(|e| e.to_string())?,
        ),
        CustomEvent::Event {
            event_type,
            payload,
            ..
        } => (
            event_type.to_string(),
            serde_json::from_slice(payload).map_err(|e| e.to_string())?,
        ),
        CustomEvent::Line(l) | CustomEvent::Body(l) => {
            let v: Value = serde_json::from_slice(l).map_err(|e| e.to_string())?;
            (v["type"].as_str().unwrap_or("body").to_string(), v)
        }
        CustomEvent::Bytes(b) => {
            return Ok(Reading {
                text: Some(String::from_utf8_lossy(b).into_owned()),
                ..Default::default()
            })
        }
    };
    let reading_json = match kind.as_str() {
        "start" => json!({"id": data["id"]}),
        "delta" if data.get("thinking").is_some() => json!({"reasoning": true}),
        "delta" => json!({"text": data["text"]}),
        "usage" => json!({"usage": {"input": data["in"], "output": data["out"]}}),
        "end" => json!({"done": true}),
        "fail" => json!({"error": data["reason"]}),
        "body" => {
            json!({"id": data["id"], "text": data["text"], "usage": {"input": data["in"], "output": data["out"]}})
        }
        _ => Value::Null,
    };
    Ok(reading(reading_json))
}

type BodyFn = fn(&Value) -> Result<Vec<u8>, String>;

struct Hooks {
    read: fn(CustomEvent<'_>) -> Result<Reading, String>,
    body: Option<BodyFn>,
}

impl CustomHooks for Hooks {
    fn body(&self, payload: &Value) -> Result<Option<Vec<u8>>, String> {
        self.body.map(|f| f(payload)).transpose()
    }
    fn read(&self, event: CustomEvent<'_>) -> Result<Reading, String> {
        (self.read)(event)
    }
}

fn config(framing: Framing, stream: bool) -> CustomConfig {
    CustomConfig {
        url: "http://127.0.0.1:8000/v1/generate".into(),
        method: "POST",
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-team-key".into(), "team-secret".into()),
        ],
        stream,
        framing,
        ttft_visible_tokens_only: true,
        require_done: false,
        payload_template: None,
        info: EndpointInfo {
            endpoint_name: Some("custom".into()),
            model_id: Some("made-up".into()),
            provider: Some("custom".into()),
            endpoint_type: "MadeUpEndpoint".into(),
        },
    }
}

fn endpoint_with(config: CustomConfig) -> CustomEndpoint {
    CustomEndpoint::new(
        config,
        Rc::new(Hooks {
            read: read_made_up,
            body: None,
        }),
    )
}

fn sse(framing_config: impl FnOnce(&mut CustomConfig)) -> CustomEndpoint {
    let mut c = config(Framing::Sse, true);
    framing_config(&mut c);
    endpoint_with(c)
}

fn made_up_sse() -> String {
    [
        "event: start\ndata: {\"id\": \"gen-1\"}\n\n",
        "event: delta\ndata: {\"thinking\": \"hmm\"}\n\n",
        "event: delta\ndata: {\"text\": \"Hello\"}\n\n",
        "event: delta\ndata: {\"text\": \" wörld\"}\n\n",
        "event: usage\ndata: {\"in\": 7, \"out\": 3}\n\n",
        "event: end\ndata: {}\n\n",
    ]
    .concat()
}

fn slices(chunks: &[(f64, String)]) -> Vec<(f64, &[u8])> {
    chunks.iter().map(|(t, s)| (*t, s.as_bytes())).collect()
}

#[test]
fn requests_use_the_url_headers_and_the_users_body_and_prompt() {
    let ep = CustomEndpoint::new(
        config(Framing::Sse, true),
        Rc::new(Hooks {
            read: read_made_up,
            body: Some(|p| Ok(format!("Q={}", p["question"].as_str().unwrap_or("")).into_bytes())),
        }),
    );
    let sent = send(&ep, &json!({"question": "why?"})).unwrap();
    assert_eq!(sent.url, "http://127.0.0.1:8000/v1/generate");
    assert_eq!((sent.method, sent.body.as_str()), ("POST", "Q=why?"));
    assert_eq!(sent.input_payload, json!({"question": "why?"}));
    assert_eq!(
        sent.input_prompt, None,
        "no messages, prompt or input: no prompt"
    );
    assert_eq!(
        ep.secrets(),
        vec!["team-secret"],
        "media types are not secrets"
    );
    assert!(!format!("{ep:?}").contains("team-secret"), "{ep:?}");
    assert_eq!(ep.info().endpoint_type, "MadeUpEndpoint");
    // A failing request function fails that payload's requests, naming the function.
    let failing = CustomEndpoint::new(
        config(Framing::Sse, true),
        Rc::new(Hooks {
            read: read_made_up,
            body: Some(|_| Err("TypeError: payload.prompt is undefined".into())),
        }),
    );
    assert_eq!(
        send(&failing, &json!({})).unwrap_err(),
        "custom endpoint request(): TypeError: payload.prompt is undefined"
    );
}

#[test]
fn default_prompt_reads_messages_or_a_prompt_string() {
    assert_eq!(
        default_prompt(&json!({"messages": [{"role": "user", "content": "a"}]})).as_deref(),
        Some("a")
    );
    assert_eq!(
        default_prompt(&json!({"inputs": "b"})).as_deref(),
        Some("b")
    );
    assert_eq!(default_prompt(&json!({"x": 1})), None);
}

#[test]
fn create_payload_defaults_to_the_chat_shape() {
    let p = sse(|_| {})
        .create_payload(&UserMessage::Text("hi".into()), 4, &Map::new())
        .unwrap();
    assert_eq!(
        p,
        json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
    );
    // The chat shape's rules, as the OpenAI endpoint applies them: one text of a list is that
    // text, and an empty list is refused.
    let one = sse(|_| {})
        .create_payload(&UserMessage::Parts(vec!["x".into()]), 4, &Map::new())
        .unwrap();
    assert_eq!(one["messages"][0]["content"], json!("x"));
    let empty = sse(|_| {}).create_payload(&UserMessage::Parts(vec![]), 4, &Map::new());
    assert_eq!(
        empty.unwrap_err().to_string(),
        "user_message must not be empty"
    );
}

#[test]
fn sse_stream_read_by_the_users_function() {
    let body = made_up_sse();
    let parts: Vec<&str> = body.split_inclusive("\n\n").collect();
    let chunks: Vec<(f64, String)> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| (10.0 * (i + 1) as f64, p.to_string()))
        .collect();
    let r = parse(&sse(|_| {}), sse_head(), &slices(&chunks), 99.0, None);
    assert_eq!(
        r,
        ParsedResponse {
            id: Some("gen-1".into()),
            text: Some("Hello wörld".into()),
            first_chunk_ms: Some(10.0),
            first_content_ms: Some(30.0),
            last_content_ms: Some(40.0),
            content_chunk_ms: vec![30.0, 40.0],
            end_ms: Some(99.0),
            tokens_input: Some(7),
            tokens_output: Some(3),
            tokens_input_cached: None,
            tokens_output_reasoning: None,
            error: None,
            num_chunks: 6,
            num_events: 6,
        }
    );
    let counting = sse(|c| c.ttft_visible_tokens_only = false);
    let r = parse(&counting, sse_head(), &slices(&chunks), 99.0, None);
    assert_eq!(r.first_content_ms, Some(20.0), "reasoning counted");
}

#[test]
fn every_byte_boundary_gives_the_same_response() {
    let r = assert_every_byte_boundary(&sse(|_| {}), sse_head, made_up_sse().as_bytes());
    assert_eq!(r.text.as_deref(), Some("Hello wörld"));
    let lines = json_lines();
    let r = assert_every_byte_boundary(
        &endpoint_with(config(Framing::JsonLines, true)),
        || head(200, &[("content-type", "application/x-ndjson")]),
        lines.as_bytes(),
    );
    assert_eq!(
        (r.text.as_deref(), r.tokens_output),
        (Some("Hello wörld"), Some(3))
    );
}

fn json_lines() -> String {
    [
        r#"{"type": "start", "id": "gen-2"}"#,
        r#"{"type": "delta", "text": "Hello"}"#,
        r#"{"type": "delta", "text": " wörld"}"#,
        r#"{"type": "usage", "in": 7, "out": 3}"#,
        r#"{"type": "end"}"#,
    ]
    .join("\r\n")
}

#[test]
fn json_lines_are_read_whatever_the_content_type() {
    let ep = endpoint_with(config(Framing::JsonLines, true));
    let r = parse(
        &ep,
        head(200, &[("content-type", "application/json")]),
        &[(5.0, json_lines().as_bytes())],
        9.0,
        None,
    );
    assert_eq!(r.id.as_deref(), Some("gen-2"));
    assert_eq!(r.text.as_deref(), Some("Hello wörld"));
    assert_eq!((r.num_events, r.error), (5, None));
}

#[test]
fn raw_bytes_are_one_event_per_network_chunk() {
    let ep = endpoint_with(config(Framing::Raw, true));
    let r = parse(
        &ep,
        head(200, &[("content-type", "text/plain")]),
        &[
            (5.0, b"Hel".as_slice()),
            (6.0, b"".as_slice()),
            (7.0, b"lo".as_slice()),
        ],
        9.0,
        None,
    );
    assert_eq!(r.text.as_deref(), Some("Hello"));
    assert_eq!(r.content_chunk_ms, vec![5.0, 7.0]);
    assert_eq!((r.num_events, r.num_chunks), (2, 3));
}

#[test]
fn errors_from_the_stream_and_from_the_users_function() {
    let chunks = vec![
        (
            5.0,
            "event: delta\ndata: {\"text\": \"part\"}\n\n".to_string(),
        ),
        (
            6.0,
            "event: fail\ndata: {\"reason\": \"model overloaded\"}\n\n".to_string(),
        ),
    ];
    let r = parse(&sse(|_| {}), sse_head(), &slices(&chunks), 9.0, None);
    assert_eq!(r.error.as_deref(), Some("model overloaded"));
    assert_eq!(r.text.as_deref(), Some("part"));
    // The function threw (here: the data is not JSON).
    let r = parse(
        &sse(|_| {}),
        sse_head(),
        &[(5.0, b"event: delta\ndata: {oops\n\n".as_slice())],
        9.0,
        None,
    );
    assert!(
        r.error
            .as_deref()
            .unwrap()
            .starts_with("custom endpoint read(): key must be a string"),
        "{:?}",
        r.error
    );
}

#[test]
fn completeness_is_the_clean_end_unless_done_is_required() {
    let cut = "event: delta\ndata: {\"text\": \"a\"}\n\n";
    let r = parse(
        &sse(|_| {}),
        sse_head(),
        &[(5.0, cut.as_bytes())],
        9.0,
        None,
    );
    assert_eq!(r.error, None);
    let strict = sse(|c| c.require_done = true);
    let r = parse(&strict, sse_head(), &[(5.0, cut.as_bytes())], 9.0, None);
    assert_eq!(
        r.error.as_deref(),
        Some("stream ended before it was complete (truncated response)")
    );
    let r = parse(
        &strict,
        sse_head(),
        &[(5.0, made_up_sse().as_bytes())],
        9.0,
        None,
    );
    assert_eq!(r.error, None);
    // A transport failure is an error either way.
    let r = parse(
        &sse(|_| {}),
        sse_head(),
        &[(5.0, cut.as_bytes())],
        9.0,
        Some("stream interrupted: reset"),
    );
    assert_eq!(r.error.as_deref(), Some("stream interrupted: reset"));
}

#[test]
fn non_streaming_body_is_one_reading() {
    let ep = endpoint_with(config(Framing::Sse, false));
    let body = br#"{"id": "gen-3", "text": "whole", "in": 2, "out": 1}"#;
    let r = parse(
        &ep,
        head(200, &[("content-type", "application/json")]),
        &[(5.0, &body[..10]), (6.0, &body[10..])],
        9.0,
        None,
    );
    assert_eq!(
        (
            r.id.as_deref(),
            r.text.as_deref(),
            r.tokens_input,
            r.tokens_output
        ),
        (Some("gen-3"), Some("whole"), Some(2), Some(1))
    );
    assert_eq!(
        (r.first_content_ms, r.end_ms, r.error),
        (None, Some(9.0), None)
    );
    let r = parse(
        &ep,
        head(503, &[("content-type", "application/json")]),
        &[(5.0, br#"{"message": "busy"}"#.as_slice())],
        9.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("HTTP 503 Service Unavailable: busy")
    );
}

#[test]
fn a_body_without_any_event_is_an_error_even_without_a_terminal_event() {
    let r = parse(
        &sse(|_| {}),
        head(200, &[("content-type", "application/json")]),
        &[(
            5.0,
            b"<html><body>502 Bad Gateway</body></html>\n".as_slice(),
        )],
        9.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("no SSE events in response body: <html><body>502 Bad Gateway</body></html>\n")
    );
}

/// AWS event-stream framing: in builds with the decoder (the `event-stream` feature).
#[cfg(feature = "event-stream")]
mod event_stream {
    use super::*;

    /// The made-up stream as AWS event-stream messages (`:event-type` = the SSE event's name).
    fn made_up_event_stream() -> Vec<u8> {
        [
            ("start", r#"{"id": "gen-4"}"#),
            ("delta", r#"{"thinking": "hmm"}"#),
            ("delta", r#"{"text": "Hello"}"#),
            ("delta", r#"{"text": " wörld"}"#),
            ("usage", r#"{"in": 7, "out": 3}"#),
            ("end", "{}"),
        ]
        .iter()
        .flat_map(|(kind, data)| encode_event(kind, data.as_bytes()))
        .collect()
    }

    fn event_stream_head() -> crate::transport::ResponseHead {
        head(
            200,
            &[("content-type", "application/vnd.amazon.eventstream")],
        )
    }

    use crate::framing::event_stream::{
        encode_event, encode_exception, encode_message, HeaderValue,
    };

    #[test]
    fn event_stream_messages_are_read_at_every_byte_boundary() {
        let ep = endpoint_with(config(Framing::EventStream, true));
        let r = assert_every_byte_boundary(&ep, event_stream_head, &made_up_event_stream());
        assert_eq!(
            (
                r.id.as_deref(),
                r.text.as_deref(),
                r.tokens_input,
                r.tokens_output,
                r.num_events,
                r.error
            ),
            (
                Some("gen-4"),
                Some("Hello wörld"),
                Some(7),
                Some(3),
                6,
                None
            )
        );
        // Timing per network chunk, as every framing: the first text's message completes at 30 ms.
        let messages: Vec<Vec<u8>> = [
            encode_event("start", br#"{"id": "gen-4"}"#),
            encode_event("delta", br#"{"thinking": "hmm"}"#),
            encode_event("delta", br#"{"text": "Hi"}"#),
        ]
        .to_vec();
        let chunks: Vec<(f64, &[u8])> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| (10.0 * (i + 1) as f64, m.as_slice()))
            .collect();
        let r = parse(&ep, event_stream_head(), &chunks, 50.0, None);
        assert_eq!(
            (r.first_content_ms, r.text.as_deref()),
            (Some(30.0), Some("Hi"))
        );
        let counting = endpoint_with(CustomConfig {
            ttft_visible_tokens_only: false,
            ..config(Framing::EventStream, true)
        });
        let r = parse(&counting, event_stream_head(), &chunks, 50.0, None);
        assert_eq!(r.first_content_ms, Some(20.0), "reasoning counted");
    }

    #[test]
    fn the_users_function_gets_the_event_stream_headers_and_payload() {
        fn read(event: CustomEvent<'_>) -> Result<Reading, String> {
            match event {
                CustomEvent::Event {
                    event_type,
                    message_type,
                    payload,
                } => Ok(Reading {
                    text: Some(format!("[{event_type}|{message_type}|{payload:?}]")),
                    ..Default::default()
                }),
                _ => Err("not an event".into()),
            }
        }
        let ep = CustomEndpoint::new(
            config(Framing::EventStream, true),
            Rc::new(Hooks { read, body: None }),
        );
        let bytes = encode_message(
            &[
                (":message-type", HeaderValue::String("event")),
                (":event-type", HeaderValue::String("PayloadPart")),
                (":content-type", HeaderValue::String("application/json")),
            ],
            b"\xffraw",
        );
        let r = parse(&ep, event_stream_head(), &[(5.0, &bytes)], 9.0, None);
        assert_eq!(
            r.text.as_deref(),
            Some("[PayloadPart|event|[255, 114, 97, 119]]"),
            "the payload's bytes as they came"
        );
    }

    #[test]
    fn event_stream_exceptions_fail_the_request_as_the_aws_endpoints_do() {
        let ep = endpoint_with(config(Framing::EventStream, true));
        let mut body = encode_event("delta", br#"{"text": "part"}"#);
        body.extend(encode_exception(
            "modelStreamErrorException",
            br#"{"message": "The model stream failed."}"#,
        ));
        body.extend(encode_event("delta", br#"{"text": " ignored"}"#));
        let r = assert_every_byte_boundary(&ep, event_stream_head, &body);
        assert_eq!(
            r.error.as_deref(),
            Some("modelStreamErrorException: The model stream failed.")
        );
        assert_eq!(
            r.text.as_deref(),
            Some("part"),
            "text before the error is kept"
        );
        // An `error` message: its code and message headers.
        let error = encode_message(
            &[
                (":message-type", HeaderValue::String("error")),
                (":error-code", HeaderValue::String("InternalFailure")),
                (":error-message", HeaderValue::String("try again")),
            ],
            b"",
        );
        let r = parse(&ep, event_stream_head(), &[(5.0, &error)], 9.0, None);
        assert_eq!(r.error.as_deref(), Some("InternalFailure: try again"));
        // A corrupt message is the framing's error; a message cut off at the end is a truncation,
        // even without `requireDone`.
        let mut corrupt = encode_event("delta", br#"{"text": "a"}"#);
        let last = corrupt.len() - 1;
        corrupt[last] ^= 1;
        let r = parse(&ep, event_stream_head(), &[(5.0, &corrupt)], 9.0, None);
        assert!(
            r.error.as_deref().unwrap().contains("checksum"),
            "{:?}",
            r.error
        );
        let whole = made_up_event_stream();
        let r = parse(
            &ep,
            event_stream_head(),
            &[(5.0, &whole[..whole.len() - 3])],
            9.0,
            None,
        );
        assert_eq!(
            r.error.as_deref(),
            Some(
                "stream ended before it was complete (truncated response, last message incomplete)"
            )
        );
    }
}
