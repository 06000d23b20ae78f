//! Chat Completions: request building and response reading against hand-written wire bytes.

use super::*;
use crate::endpoint::ParsedResponse;
use crate::transport::ResponseHead;

/// A request as the tests inspect it: the prepared payload and the HTTP request of one send.
#[derive(Debug)]
struct Req {
    http: ReqHttp,
    input_payload: Value,
    input_prompt: Option<String>,
}

#[derive(Debug)]
struct ReqHttp {
    url: String,
    method: &'static str,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

trait PrepareForTest {
    fn prepare_req(&self, payload: &Value) -> Result<Req, String>;
}

impl PrepareForTest for OpenAIEndpoint {
    fn prepare_req(&self, payload: &Value) -> Result<Req, String> {
        let prepared = self.prepare(payload).map_err(|e| e.to_string())?;
        let http = self.request(&prepared, 0.0).map_err(|e| e.to_string())?;
        Ok(Req {
            http: ReqHttp {
                url: http.url,
                method: http.method,
                headers: http.headers,
                body: http
                    .body
                    .map(|b| String::from_utf8(b.to_vec()).expect("utf-8 body")),
            },
            input_payload: (*prepared.input_payload).clone(),
            input_prompt: prepared.input_prompt.map(|p| p.to_string()),
        })
    }
}

const BASE: &str = "http://127.0.0.1:8000/v1";

fn endpoint(stream: bool) -> OpenAIEndpoint {
    OpenAIEndpoint::new(OpenAIConfig {
        base_url: format!("{BASE}/"),
        model: "gpt-test".into(),
        api_key: Some("sk-secret".into()),
        stream,
        ..Default::default()
    })
}

fn head(status: u16, headers: &[(&str, &str)]) -> ResponseHead {
    ResponseHead {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        arrival_ms: 5.0,
        sent_ms: None,
    }
}

fn sse_head() -> ResponseHead {
    head(200, &[("content-type", "text/event-stream; charset=utf-8")])
}

/// Runs a parser over `(arrival_ms, bytes)` chunks.
fn parse(
    stream: bool,
    head: ResponseHead,
    chunks: &[(f64, &[u8])],
    end_ms: f64,
    failure: Option<&str>,
) -> ParsedResponse {
    let mut parser = endpoint(stream).parser(ParseLimits::default());
    parser.on_head(&head);
    for (at, bytes) in chunks {
        parser.on_chunk(bytes, *at);
    }
    parser.finish(end_ms, failure.map(str::to_owned))
}

fn data(json: Value) -> String {
    format!("data: {json}\n\n")
}

fn content_chunk(text: &str) -> String {
    data(
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}], "usage": null}),
    )
}

/// A realistic stream: role chunk, two content chunks (the second event split across two
/// network chunks), finish chunk, usage chunk, [DONE].
fn realistic_chunks() -> Vec<(f64, String)> {
    let role = data(
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-test", "system_fingerprint": "fp", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null, "finish_reason": null}], "usage": null}),
    );
    let hello = content_chunk("Hello");
    let world = content_chunk(" wörld");
    let (world_a, world_b) = world.split_at(20);
    let finish = data(
        json!({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": null}),
    );
    let usage = data(
        json!({"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14, "prompt_tokens_details": {"cached_tokens": 4}, "completion_tokens_details": {"reasoning_tokens": 0}}}),
    );
    vec![
        (100.0, role),
        (150.0, hello),
        (170.0, world_a.to_string()),
        (180.0, format!("{world_b}{finish}")),
        (190.0, format!("{usage}data: [DONE]\n\n")),
    ]
}

fn as_slices(chunks: &[(f64, String)]) -> Vec<(f64, &[u8])> {
    chunks.iter().map(|(t, s)| (*t, s.as_bytes())).collect()
}

// ---------- prepare ----------

#[test]
fn prepare_adds_model_stream_and_usage_option() {
    let ep = endpoint(true);
    let payload = json!({"model": "ignored", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8});
    let req = ep.prepare_req(&payload).unwrap();
    assert_eq!(
        req.input_payload,
        json!({"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8, "stream": true, "stream_options": {"include_usage": true}})
    );
    assert_eq!(req.http.url, "http://127.0.0.1:8000/v1/chat/completions");
    assert_eq!(req.http.method, "POST");
    // The body sent is exactly the recorded payload, keys in order.
    assert_eq!(
        req.http.body.as_deref(),
        Some(
            r#"{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"max_tokens":8,"stream":true,"stream_options":{"include_usage":true}}"#
        )
    );
    assert_eq!(req.input_prompt.as_deref(), Some("hi"));
}

#[test]
fn prepare_keeps_truthy_stream_options_and_replaces_falsy_ones() {
    let ep = endpoint(true);
    let kept = ep
        .prepare_req(&json!({"messages": [], "stream_options": {"include_usage": false}}))
        .unwrap();
    assert_eq!(
        kept.input_payload["stream_options"],
        json!({"include_usage": false})
    );
    for falsy in [json!(null), json!({}), json!(false), json!(0)] {
        let req = ep
            .prepare_req(&json!({"messages": [], "stream_options": falsy}))
            .unwrap();
        assert_eq!(
            req.input_payload["stream_options"],
            json!({"include_usage": true}),
            "for {falsy}"
        );
    }
}

#[test]
fn prepare_non_streaming_sets_stream_false_without_options() {
    let ep = endpoint(false);
    let req = ep
        .prepare_req(&json!({"messages": [{"role": "user", "content": "x"}], "stream": true}))
        .unwrap();
    assert_eq!(
        req.input_payload,
        json!({"messages": [{"role": "user", "content": "x"}], "stream": false, "model": "gpt-test"})
    );
}

#[test]
fn credentials_only_in_headers() {
    let ep = OpenAIEndpoint::new(OpenAIConfig {
        base_url: BASE.into(),
        model: "m".into(),
        api_key: Some("sk-secret".into()),
        extra_headers: vec![
            ("X-Org".into(), "acme".into()),
            (
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            ),
        ],
        ..Default::default()
    });
    let req = ep.prepare_req(&json!({"messages": []})).unwrap();
    assert_eq!(
        req.http.headers,
        vec![
            ("authorization".to_string(), "Bearer sk-secret".to_string()),
            ("X-Org".to_string(), "acme".to_string()),
            (
                "Content-Type".to_string(),
                "application/json; charset=utf-8".to_string()
            ),
        ]
    );
    assert!(!req.input_payload.to_string().contains("sk-secret"));
    assert!(!req.http.body.unwrap().contains("sk-secret"));
    assert!(!format!("{:?}", ep.config()).contains("sk-secret"));
    assert!(
        !format!("{ep:?}").contains("sk-secret"),
        "the endpoint's Debug shows no header value"
    );

    let anonymous = OpenAIEndpoint::new(OpenAIConfig {
        base_url: BASE.into(),
        model: "m".into(),
        ..Default::default()
    });
    let req = anonymous.prepare_req(&json!({"messages": []})).unwrap();
    assert_eq!(
        req.http.headers,
        vec![("content-type".to_string(), "application/json".to_string())]
    );
    assert_eq!(req.http.url, "http://127.0.0.1:8000/v1/chat/completions");
}

#[test]
fn input_prompt_joins_strings_and_text_parts() {
    let payload = json!({"messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [
            {"type": "text", "text": "look at"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "text", "text": "this"}
        ]},
        {"role": "assistant", "content": null},
        {"role": "user", "content": "ok?"}
    ]});
    let req = endpoint(true).prepare_req(&payload).unwrap();
    assert_eq!(
        req.input_prompt.as_deref(),
        Some("be brief\nlook at\nthis\nok?")
    );
    // LLMeter joins whatever messages there are: none gives "".
    assert_eq!(
        endpoint(true)
            .prepare_req(&json!({"prompt": "x"}))
            .unwrap()
            .input_prompt
            .as_deref(),
        Some("")
    );
    assert_eq!(
        endpoint(true)
            .prepare_req(
                &json!({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})
            )
            .unwrap()
            .input_prompt
            .as_deref(),
        Some("")
    );
}

#[test]
fn non_object_payload_is_a_per_request_error() {
    let err = endpoint(true)
        .prepare_req(&json!(["not", "an", "object"]))
        .unwrap_err();
    assert_eq!(
        err,
        "payload must be a JSON object (OpenAI chat completion request), got an array"
    );
    let err = endpoint(true).prepare_req(&json!("hello")).unwrap_err();
    assert!(err.ends_with("got a string"), "{err}");
}

#[test]
fn create_payload_matches_llmeter() {
    let none = Map::new();
    let p = endpoint(true)
        .create_payload(&UserMessage::Text("Tell me a story".into()), 64, &none)
        .unwrap();
    assert_eq!(
        p.to_string(),
        r#"{"messages":[{"role":"user","content":"Tell me a story"}],"max_tokens":64}"#
    );
    // A list of texts becomes text blocks; extra keys are merged in (LLMeter's **kwargs).
    let mut extra = Map::new();
    extra.insert("temperature".into(), json!(0.5));
    let p = endpoint(true)
        .create_payload(&UserMessage::Parts(vec!["a".into(), "b".into()]), 8, &extra)
        .unwrap();
    assert_eq!(
        p,
        json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}], "max_tokens": 8, "temperature": 0.5})
    );
    // A list of one text is that text, and an empty list is refused (as LLMeter).
    let p = endpoint(true)
        .create_payload(&UserMessage::Parts(vec!["a".into()]), 8, &none)
        .unwrap();
    assert_eq!(p["messages"][0]["content"], json!("a"));
    let err = endpoint(true)
        .create_payload(&UserMessage::Parts(vec![]), 8, &none)
        .unwrap_err();
    assert_eq!(err.to_string(), "user_message must not be empty");
}

#[test]
fn info_names_the_llmeter_class() {
    let info = endpoint(true).info();
    assert_eq!(
        info,
        EndpointInfo {
            endpoint_name: Some("openai".into()),
            model_id: Some("gpt-test".into()),
            provider: Some("openai".into()),
            endpoint_type: "OpenAICompletionStreamEndpoint".into()
        }
    );
    assert_eq!(
        endpoint(false).info().endpoint_type,
        "OpenAICompletionEndpoint"
    );
}

// ---------- streaming ----------

#[test]
fn realistic_stream() {
    let chunks = realistic_chunks();
    let r = parse(true, sse_head(), &as_slices(&chunks), 200.0, None);
    assert_eq!(
        r,
        ParsedResponse {
            id: Some("chatcmpl-1".into()),
            text: Some("Hello wörld".into()),
            first_chunk_ms: Some(100.0),
            first_content_ms: Some(150.0),
            // The second content event completed in the chunk at 180, not the one at 170.
            last_content_ms: Some(180.0),
            content_chunk_ms: vec![150.0, 180.0],
            end_ms: Some(200.0),
            tokens_input: Some(12),
            tokens_output: Some(2),
            tokens_input_cached: Some(4),
            tokens_output_reasoning: Some(0),
            error: None,
            num_chunks: 5,
            num_events: 6,
        }
    );
}

#[test]
fn content_is_timed_once_per_network_chunk() {
    let both = format!("{}{}", content_chunk("a"), content_chunk("b"));
    let r = parse(
        true,
        sse_head(),
        &[(10.0, both.as_bytes()), (20.0, b"data: [DONE]\n\n")],
        30.0,
        None,
    );
    assert_eq!(r.text.as_deref(), Some("ab"));
    assert_eq!(r.content_chunk_ms, vec![10.0]);
    assert_eq!(
        (r.first_content_ms, r.last_content_ms),
        (Some(10.0), Some(10.0))
    );
    assert_eq!((r.num_events, r.num_chunks), (3, 2));
}

#[test]
fn tool_call_deltas_count_as_output_but_not_text() {
    let start = data(
        json!({"id": "c", "choices": [{"index": 0, "delta": {"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "", "arguments": ""}}]}}]}),
    );
    let name = data(
        json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"name": "get_weather"}}]}}]}),
    );
    let args = data(
        json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}}]}),
    );
    let chunks = [
        (10.0, start.as_bytes()),
        (20.0, name.as_bytes()),
        (30.0, args.as_bytes()),
        (40.0, b"data: [DONE]\n\n".as_slice()),
    ];
    let r = parse(true, sse_head(), &chunks, 50.0, None);
    assert_eq!(
        r.first_content_ms,
        Some(20.0),
        "an empty tool-call stub carries no output"
    );
    assert_eq!(r.last_content_ms, Some(30.0));
    assert_eq!(r.content_chunk_ms, vec![20.0, 30.0]);
    assert_eq!(r.text, None);
    assert_eq!(r.error, None);
}

#[test]
fn reasoning_deltas_do_not_set_ttft() {
    let think1 = data(
        json!({"id": "r", "choices": [{"index": 0, "delta": {"reasoning_content": "Let me think", "content": null}}]}),
    );
    let think2 = data(
        json!({"id": "r", "choices": [{"index": 0, "delta": {"reasoning": "more", "content": ""}}]}),
    );
    let answer = content_chunk("42");
    let chunks = [
        (10.0, think1.as_bytes()),
        (20.0, think2.as_bytes()),
        (30.0, answer.as_bytes()),
        (40.0, b"data: [DONE]\n\n".as_slice()),
    ];
    let r = parse(true, sse_head(), &chunks, 50.0, None);
    assert_eq!(r.first_chunk_ms, Some(10.0));
    assert_eq!(r.first_content_ms, Some(30.0));
    assert_eq!(r.text.as_deref(), Some("42"));
}

#[test]
fn no_usage_leaves_tokens_unset() {
    let body = format!("{}data: [DONE]\n\n", content_chunk("hi"));
    let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 20.0, None);
    assert_eq!(
        (
            r.tokens_input,
            r.tokens_output,
            r.tokens_input_cached,
            r.tokens_output_reasoning
        ),
        (None, None, None, None)
    );
    assert_eq!(r.error, None);
    assert_eq!(r.text.as_deref(), Some("hi"));
}

#[test]
fn usage_counts_must_be_non_negative_integers() {
    let usage = data(
        json!({"choices": [], "usage": {"prompt_tokens": -1, "completion_tokens": 3.5, "prompt_tokens_details": {"cached_tokens": "7"}, "completion_tokens_details": {"reasoning_tokens": 9}}}),
    );
    let body = format!("{usage}data: [DONE]\n\n");
    let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 20.0, None);
    assert_eq!(
        (
            r.tokens_input,
            r.tokens_output,
            r.tokens_input_cached,
            r.tokens_output_reasoning
        ),
        (None, None, None, Some(9))
    );
}

#[test]
fn http_429_reports_status_api_message_and_retry_after() {
    let body = br#"{"error": {"message": "Rate limit reached for requests", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}"#;
    let h = head(
        429,
        &[("content-type", "application/json"), ("retry-after", "20")],
    );
    let r = parse(true, h, &[(10.0, body.as_slice())], 12.0, None);
    assert_eq!(
        r.error.as_deref(),
        Some("HTTP 429 Too Many Requests: Rate limit reached for requests (retry-after: 20)")
    );
    assert_eq!(
        (r.text, r.first_content_ms, r.first_chunk_ms, r.end_ms),
        (None, None, Some(10.0), Some(12.0))
    );
}

#[test]
fn http_error_with_plain_body_quotes_an_excerpt() {
    let long = "x".repeat(300);
    let r = parse(true, head(502, &[]), &[(10.0, long.as_bytes())], 12.0, None);
    assert_eq!(
        r.error,
        Some(format!("HTTP 502 Bad Gateway: {}…", "x".repeat(200)))
    );
    let r = parse(false, head(418, &[]), &[], 12.0, None);
    assert_eq!(r.error.as_deref(), Some("HTTP 418"));
    let r = parse(
        false,
        head(422, &[]),
        &[(1.0, br#"{"detail": "bad field"}"#.as_slice())],
        12.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("HTTP 422 Unprocessable Entity: bad field")
    );
}

#[test]
fn http_error_body_is_bounded() {
    let mut parser = endpoint(true).parser(ParseLimits::default());
    parser.on_head(&head(500, &[]));
    let block = vec![b'e'; 1024 * 1024];
    for i in 0..4 {
        parser.on_chunk(&block, i as f64);
    }
    let r = parser.finish(10.0, None);
    assert_eq!(
        r.error,
        Some(format!(
            "HTTP 500 Internal Server Error: {}…",
            "e".repeat(200)
        ))
    );
    assert_eq!(r.num_chunks, 4);
}

#[test]
fn api_error_event_mid_stream_keeps_partial_text() {
    let err = data(
        json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error"}}),
    );
    let body2 = format!("{err}{}", content_chunk(" ignored"));
    let chunks = [
        (10.0, content_chunk("partial").into_bytes()),
        (20.0, body2.into_bytes()),
    ];
    let chunks: Vec<(f64, &[u8])> = chunks.iter().map(|(t, b)| (*t, b.as_slice())).collect();
    let r = parse(true, sse_head(), &chunks, 30.0, None);
    assert_eq!(
        r.error.as_deref(),
        Some("API error mid-stream: The server had an error while processing your request.")
    );
    assert_eq!(r.text.as_deref(), Some("partial"));
    assert_eq!(
        (r.first_content_ms, r.last_content_ms),
        (Some(10.0), Some(10.0))
    );
    assert_eq!(
        r.num_events, 3,
        "events after the error are counted, not read"
    );
}

#[test]
fn error_typed_event_is_an_api_error() {
    let body = format!(
        "{}event: error\ndata: {{\"message\": \"overloaded\"}}\n\n",
        content_chunk("a")
    );
    let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 30.0, None);
    assert_eq!(r.error.as_deref(), Some("API error mid-stream: overloaded"));
    assert_eq!(r.text.as_deref(), Some("a"));
}

#[test]
fn unwrapped_error_object_is_an_api_error() {
    let err = data(
        json!({"object": "error", "message": "context length exceeded", "type": "BadRequestError", "param": null, "code": 400}),
    );
    let body = format!("{}{err}", content_chunk("a"));
    let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 30.0, None);
    assert_eq!(
        r.error.as_deref(),
        Some("API error mid-stream: context length exceeded")
    );
    assert_eq!(r.text.as_deref(), Some("a"));
}

#[test]
fn malformed_event_stops_reading_but_keeps_partial_data() {
    let long_garbage = format!("data: {{not json {}\n\n", "z".repeat(300));
    let body = format!(
        "{}{long_garbage}{}data: [DONE]\n\n",
        content_chunk("ok"),
        content_chunk("late")
    );
    let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 30.0, None);
    let expected = format!(
        "malformed SSE event: {}…",
        &format!("{{not json {}", "z".repeat(300))[..200]
    );
    assert_eq!(r.error, Some(expected));
    assert_eq!(r.text.as_deref(), Some("ok"));
    assert_eq!(r.num_events, 4);
    // Valid JSON of the wrong shape is malformed too.
    let r = parse(
        true,
        sse_head(),
        &[(
            10.0,
            b"data: {\"choices\": 5}\n\ndata: [DONE]\n\n".as_slice(),
        )],
        30.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("malformed SSE event: {\"choices\": 5}")
    );
}

#[test]
fn stream_without_done_is_truncated() {
    let body = content_chunk("cut");
    let r = parse(true, sse_head(), &[(10.0, body.as_bytes())], 30.0, None);
    assert_eq!(
        r.error.as_deref(),
        Some("stream ended before [DONE] (truncated response)")
    );
    assert_eq!(r.text.as_deref(), Some("cut"));
    assert_eq!(r.last_content_ms, Some(10.0));
    let half = format!("{}data: {{\"id\":", content_chunk("cut"));
    let r = parse(true, sse_head(), &[(10.0, half.as_bytes())], 30.0, None);
    assert_eq!(
        r.error.as_deref(),
        Some("stream ended before [DONE] (truncated response, last event incomplete)")
    );
}

#[test]
fn transport_failure_mid_stream_keeps_partial_data() {
    let body = content_chunk("so far");
    let r = parse(
        true,
        sse_head(),
        &[(10.0, body.as_bytes())],
        60_000.0,
        Some("stream interrupted: connection reset"),
    );
    assert_eq!(
        r.error.as_deref(),
        Some("stream interrupted: connection reset")
    );
    assert_eq!(r.text.as_deref(), Some("so far"));
    assert_eq!((r.first_content_ms, r.end_ms), (Some(10.0), Some(60_000.0)));
}

#[test]
fn failure_after_done_is_ignored() {
    let body = format!("{}data: [DONE]\n\n", content_chunk("all"));
    let r = parse(
        true,
        sse_head(),
        &[(10.0, body.as_bytes())],
        30.0,
        Some("stream interrupted: reset"),
    );
    assert_eq!(r.error, None);
    assert_eq!(r.text.as_deref(), Some("all"));
}

#[test]
fn failure_before_head_is_the_error() {
    let parser = endpoint(true).parser(ParseLimits::default());
    let r = parser.finish(7.0, Some("network error: connection refused".into()));
    assert_eq!(
        r.error.as_deref(),
        Some("network error: connection refused")
    );
    assert_eq!(
        (r.first_chunk_ms, r.end_ms, r.num_chunks),
        (None, Some(7.0), 0)
    );
}

#[test]
fn non_sse_body_on_a_stream_is_explained() {
    let r = parse(
        true,
        head(200, &[("content-type", "text/html")]),
        &[(10.0, b"<html>hello</html>".as_slice())],
        20.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("no SSE events in response body: <html>hello</html>")
    );
}

#[test]
fn every_byte_boundary_gives_the_same_response() {
    let whole: String = realistic_chunks().into_iter().map(|(_, s)| s).collect();
    let bytes = whole.as_bytes();
    let reference = parse(true, sse_head(), &[(50.0, bytes)], 60.0, None);
    assert_eq!(reference.text.as_deref(), Some("Hello wörld"));
    assert_eq!(reference.error, None);
    for cut in 0..=bytes.len() {
        let (a, b) = bytes.split_at(cut);
        let mut r = parse(true, sse_head(), &[(50.0, a), (50.0, b)], 60.0, None);
        assert_eq!(r.num_chunks, 2);
        // Content on both sides of the cut is timed once per chunk (same instant here).
        assert!(
            r.content_chunk_ms.iter().all(|&t| t == 50.0) && !r.content_chunk_ms.is_empty(),
            "cut {cut}"
        );
        r.content_chunk_ms.truncate(1);
        r.num_chunks = reference.num_chunks;
        assert_eq!(r, reference, "cut at {cut}");
    }
}

#[test]
fn streaming_request_answered_with_json_is_parsed_as_a_completion() {
    let body = br#"{"id": "cmpl-9", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}"#;
    let r = parse(
        true,
        head(200, &[("content-type", "application/json")]),
        &[(10.0, body.as_slice())],
        15.0,
        None,
    );
    assert_eq!(r.text.as_deref(), Some("whole"));
    assert_eq!(
        (r.first_content_ms, r.end_ms, r.error),
        (None, Some(15.0), None)
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: &[u8] =
        b"data: [DONE]{}\"choices\":[{\"delta\":{\"content\":\"x\"}}]error\n\r\xFF\xE2";
    for i in 0..500 {
        let mut parser = endpoint(i % 2 == 0).parser(ParseLimits::default());
        let status = [200, 200, 429, 500][(next() % 4) as usize];
        parser.on_head(&head(
            status,
            &[(
                "content-type",
                if i % 3 == 0 {
                    "application/json"
                } else {
                    "text/event-stream"
                },
            )],
        ));
        for t in 0..(next() % 8) {
            let bytes: Vec<u8> = (0..next() % 40)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            parser.on_chunk(&bytes, t as f64);
        }
        let r = parser.finish(99.0, None);
        assert_eq!(r.end_ms, Some(99.0));
    }
}

// ---------- non-streaming ----------

#[test]
fn non_streaming_success() {
    let body = br#"{"id": "chatcmpl-abc", "object": "chat.completion", "created": 1, "model": "gpt-test", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there", "refusal": null}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11, "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}}"#;
    let (a, b) = body.split_at(40);
    let r = parse(
        false,
        head(200, &[("content-type", "application/json")]),
        &[(10.0, a), (12.0, b)],
        13.0,
        None,
    );
    assert_eq!(
        r,
        ParsedResponse {
            id: Some("chatcmpl-abc".into()),
            text: Some("Hi there".into()),
            first_chunk_ms: Some(10.0),
            first_content_ms: None,
            last_content_ms: None,
            content_chunk_ms: vec![],
            end_ms: Some(13.0),
            tokens_input: Some(9),
            tokens_output: Some(2),
            tokens_input_cached: Some(0),
            tokens_output_reasoning: Some(0),
            error: None,
            num_chunks: 2,
            num_events: 0,
        }
    );
}

#[test]
fn non_streaming_invalid_json() {
    let r = parse(
        false,
        head(200, &[]),
        &[(10.0, b"<html>oops".as_slice())],
        13.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some("invalid JSON response body: <html>oops")
    );
    assert_eq!(r.text, None);
    let r = parse(
        false,
        head(200, &[]),
        &[(10.0, br#"{"id": "x", "choices": []}"#.as_slice())],
        13.0,
        None,
    );
    assert_eq!(
        r.error.as_deref(),
        Some(r#"response has no choices: {"id": "x", "choices": []}"#)
    );
    let r = parse(
        false,
        head(200, &[]),
        &[(10.0, br#"{"error": {"message": "nope"}}"#.as_slice())],
        13.0,
        None,
    );
    assert_eq!(r.error.as_deref(), Some("API error: nope"));
}

#[test]
fn non_streaming_failure_and_oversized_body() {
    let r = parse(
        false,
        head(200, &[]),
        &[(10.0, b"{\"id\":".as_slice())],
        30_000.0,
        Some("timeout after 30 s"),
    );
    assert_eq!(r.error.as_deref(), Some("timeout after 30 s"));
    let mut parser = endpoint(false).parser(ParseLimits::default());
    parser.on_head(&head(200, &[]));
    let block = vec![b' '; 1024 * 1024];
    for t in 0..17 {
        parser.on_chunk(&block, t as f64);
    }
    assert_eq!(
        parser.finish(20.0, None).error.as_deref(),
        Some("response body larger than the 16 MiB limit (maxEventBytes)")
    );
}

#[test]
fn finish_reason_without_done_is_complete_as_the_sdk_and_llmeter_accept() {
    // Decision (issue 18): the openai SDK and LLMeter accept a stream that ends cleanly after
    // a choice's finish_reason without `[DONE]`; so do we. Without a finish_reason it is
    // still a truncated response.
    let finished = format!(
        "{}{}",
        content_chunk("Hi"),
        data(
            json!({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        )
    );
    let r = parse(true, sse_head(), &[(10.0, finished.as_bytes())], 20.0, None);
    assert_eq!(r.error, None);
    assert_eq!(r.text.as_deref(), Some("Hi"));
    let cut = content_chunk("Hi");
    let r = parse(true, sse_head(), &[(10.0, cut.as_bytes())], 20.0, None);
    assert_eq!(
        r.error.as_deref(),
        Some("stream ended before [DONE] (truncated response)")
    );
    // A transport failure after the finish_reason but before [DONE] is still that failure.
    let r = parse(
        true,
        sse_head(),
        &[(10.0, finished.as_bytes())],
        20.0,
        Some("stream interrupted: reset"),
    );
    assert_eq!(r.error.as_deref(), Some("stream interrupted: reset"));
}

#[test]
fn an_endless_event_is_a_per_request_error_naming_the_limit() {
    let mut parser = endpoint(true).parser(ParseLimits {
        max_event_bytes: 64 * 1024,
    });
    parser.on_head(&sse_head());
    let hello = content_chunk("Hello");
    parser.on_chunk(hello.as_bytes(), 1.0);
    parser.on_chunk(b"data: {\"choices\": [", 2.0);
    let block = vec![b'x'; 16 * 1024];
    for t in 0..8 {
        parser.on_chunk(&block, 3.0 + t as f64);
    }
    let r = parser.finish(20.0, None);
    assert_eq!(
        r.error.as_deref(),
        Some("stream message larger than the 64 KiB limit (maxEventBytes)")
    );
    assert_eq!(
        r.text.as_deref(),
        Some("Hello"),
        "text before the error is kept"
    );
    assert_eq!(r.first_content_ms, Some(1.0));
}

/// Events as servers send them (OpenAI, vLLM, llm-sim, Ollama-style), and the odd ones.
const SCANNED_EVENTS: &[&str] = &[
    r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}"#,
    r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
    r#"{"id":"cmpl-2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" line\nbreak \"quoted\" \u00e9\u20ac \/ \\"},"logprobs":{"content":[{"token":"x","logprob":-0.25,"bytes":[120],"top_logprobs":[]}]},"finish_reason":null}]}"#,
    r#"{"id":"x","choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"},"finish_reason":"length"}]}"#,
    r#"{"id":"x","choices":[{"index":0,"delta":{"reasoning_content":"think","content":null}}]}"#,
    r#"{"id":"x","choices":[]}"#,
    r#"{"id":"x","choices":null,"usage":null,"error":null,"message":null}"#,
    r#"{"id":null,"object":"error"}"#,
    r#" { "id" : "spaced" , "choices" : [ { "delta" : { "content" : "t" } } ] } "#,
    r#"{}"#,
    r#"{"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#,
    r#"{"choices":[],"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":null,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},"completion_tokens_details":null}}"#,
    r#"{"usage":{"prompt_tokens":0,"completion_tokens_details":{"reasoning_tokens":4}}}"#,
];

/// Events the scanner leaves to serde_json (which reads some of them, rejects others).
const SERDE_EVENTS: &[&str] = &[
    r#"{"usage":{"prompt_tokens":-1}}"#,
    r#"{"usage":{"prompt_tokens":5.0}}"#,
    r#"{"usage":{"prompt_tokens":18446744073709551616}}"#,
    r#"{"usage":{"prompt_tokens_details":[]}}"#,
    r#"{"usage":"x"}"#,
    r#"{"error":{"message":"overloaded","type":"server_error"}}"#,
    r#"{"object":"error","message":"bad","code":400}"#,
    r#"{"id":"x","choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":""}}]}}]}"#,
    r#"{"id":"x","choices":[{"delta":{"content":[{"type":"text","text":"part"}]}}]}"#,
    r#"{"id":7,"choices":[{"delta":{"content":5},"finish_reason":false}]}"#,
    r#"{"id":"x","id":"y"}"#,
    r#"{"choices":[{"delta":{"content":"a","content":"b"}}]}"#,
    r#"{"choices":[{"delta":{"content":"\ud83d\ude00"}}]}"#,
    r#"{"ch\u006fices":[]}"#,
    r#"{"choices":{}}"#,
    r#"{"choices":[null]}"#,
    r#"["x",[]]"#,
    r#"{"id":"x"} trailing"#,
    r#"{"id":"x",}"#,
    r#"{"created":01}"#,
    r#"{"created":1e400,"choices":[]}"#,
    r#"{"id":"raw	tab"}"#,
];

fn agree(data: &str) -> bool {
    crate::json_scan::agrees(data, chat::chunk_views(data))
}

#[test]
fn the_scanner_reads_the_common_events_as_serde_json_does() {
    for data in SCANNED_EVENTS {
        assert!(agree(data), "the scanner should read {data}");
    }
    for data in SERDE_EVENTS {
        assert!(
            !agree(data),
            "the scanner should leave {data} to serde_json"
        );
    }
    // The simulator's own events are scanned (the bench path).
    let body: String = realistic_chunks().into_iter().map(|(_, c)| c).collect();
    let mut scanned = 0;
    for line in body.lines().filter_map(|l| l.strip_prefix("data: ")) {
        if line != "[DONE]" {
            assert!(agree(line), "{line}");
            scanned += 1;
        }
    }
    assert!(scanned > 3, "{scanned}");
}

#[test]
fn the_scanner_never_disagrees_with_serde_json_on_mutated_events() {
    let variants = crate::json_scan::mutations(SCANNED_EVENTS.iter().chain(SERDE_EVENTS));
    for v in &variants {
        let _ = agree(v);
    }
    assert!(variants.len() > 20_000, "{}", variants.len());
}
