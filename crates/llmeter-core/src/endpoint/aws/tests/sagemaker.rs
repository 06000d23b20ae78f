//! SageMaker InvokeEndpoint / InvokeEndpointWithResponseStream (TGI and LMI lines).

use super::*;
use crate::endpoint::UserMessage;
use crate::framing::event_stream::encode_event;
use serde_json::{json, Map, Value};

fn endpoint(stream: bool) -> SageMakerEndpoint {
    let (text, input, count) = SageMakerConfig::default_paths();
    SageMakerEndpoint::new(SageMakerConfig {
        target: sigv4_target(),
        endpoint_name: "my-tgi-endpoint".into(),
        model: "mistral-7b".into(),
        stream,
        generated_text: text,
        input_text: input,
        token_count: Some(count),
        ttft_visible_tokens_only: true,
    })
}

fn part(bytes: &str) -> Vec<u8> {
    // SageMaker's PayloadPart: the raw bytes are the event's payload.
    encode_event("PayloadPart", bytes.as_bytes())
}

fn tgi_line(i: u32, text: &str, last: Option<u32>) -> String {
    let details = match last {
        Some(n) => json!({"finish_reason": "length", "generated_tokens": n, "seed": null}),
        None => Value::Null,
    };
    let generated = if last.is_some() {
        json!("all")
    } else {
        Value::Null
    };
    format!(
        "data:{}\n\n",
        json!({"index": i, "token": {"id": i, "text": text, "logprob": -0.1, "special": false}, "generated_text": generated, "details": details})
    )
}

#[test]
fn create_payload_matches_llmeter() {
    let none = Map::new();
    assert_eq!(
        endpoint(false)
            .create_payload(&UserMessage::Text("Hi".into()), 32, &none)
            .unwrap()
            .to_string(),
        r#"{"inputs":"Hi","parameters":{"max_new_tokens":32,"details":true}}"#
    );
    let extra: Map<String, Value> = serde_json::from_str(
        r#"{"inference_parameters": {"temperature": 0.1, "details": false}, "custom": 1}"#,
    )
    .unwrap();
    assert_eq!(
        endpoint(true)
            .create_payload(&UserMessage::Parts(vec!["a".into(), "b".into()]), 8, &extra)
            .unwrap()
            .to_string(),
        r#"{"inputs":[{"text":"a"},{"text":"b"}],"parameters":{"max_new_tokens":8,"details":false,"temperature":0.1},"stream":true,"custom":1}"#
    );
    // One part is the text shortcut, as LLMeter.
    assert_eq!(
        endpoint(true)
            .create_payload(&UserMessage::Parts(vec!["a".into()]), 8, &none)
            .unwrap()["inputs"],
        json!("a")
    );
}

#[test]
fn prepare_for_streams_and_requests() {
    let stream = endpoint(true);
    let prepared = stream
        .prepare(&json!({"inputs": "one two", "parameters": {"max_new_tokens": 4, "decoder_input_details": true}}))
        .unwrap();
    assert_eq!(
        *prepared.input_payload,
        json!({"inputs": "one two", "parameters": {"max_new_tokens": 4}, "stream": true})
    );
    // The prompt is read from `inputs` (LLMeter records none: see docs/AWS.md).
    assert_eq!(prepared.input_prompt.as_deref(), Some("one two"));
    let blocks = stream
        .prepare(&json!({"inputs": [{"text": "a"}, {"image": {}}, {"text": "b"}], "stream": false}))
        .unwrap();
    assert_eq!(blocks.input_prompt.as_deref(), Some("a\nb"));
    assert_eq!(blocks.input_payload["stream"], json!(false));
    let request = stream.request(&prepared, 0.0).unwrap();
    assert_eq!(
        request.url,
        "http://127.0.0.1:9000/endpoints/my-tgi-endpoint/invocations-response-stream"
    );
    let auth =
        crate::sigv4::parse_authorization(header(&request.headers, "authorization").unwrap())
            .unwrap();
    assert_eq!(auth.service, "sagemaker");
    let plain = endpoint(false);
    let p = plain.prepare(&json!({"inputs": "x"})).unwrap();
    assert_eq!(*p.input_payload, json!({"inputs": "x"}));
    assert!(plain
        .request(&p, 0.0)
        .unwrap()
        .url
        .ends_with("/my-tgi-endpoint/invocations"));
    let info = plain.info();
    assert_eq!(
        (
            info.endpoint_name.as_deref(),
            info.model_id.as_deref(),
            info.provider.as_deref(),
            info.endpoint_type.as_str()
        ),
        (
            Some("my-tgi-endpoint"),
            Some("mistral-7b"),
            Some("sagemaker"),
            "SageMakerEndpoint"
        )
    );
    assert_eq!(stream.info().endpoint_type, "SageMakerStreamEndpoint");
}

#[test]
fn tgi_lines_split_across_parts() {
    let body = [
        tgi_line(1, " The", None),
        tgi_line(2, " quick", None),
        tgi_line(3, " fox", Some(3)),
    ]
    .concat();
    // Parts cut the lines anywhere (SageMaker does not align them).
    let (a, rest) = body.split_at(30);
    let (b, c) = rest.split_at(100);
    let events = vec![part(a), part(b), part(c)];
    let got = parse(&endpoint(true), &stream_head(), &timed(&events), None);
    assert_eq!(got.error, None);
    assert_eq!(got.text.as_deref(), Some(" The quick fox"));
    assert_eq!(got.id.as_deref(), Some("req-1"));
    assert_eq!(got.tokens_output, Some(3));
    // The first line completes in the second part, the last in the third.
    assert_eq!(
        (got.first_content_ms, got.last_content_ms),
        (Some(110.0), Some(120.0))
    );
    same_at_every_split(&endpoint(true), &stream_head(), &events.concat());
    content_times_at_every_split(&endpoint(true), &stream_head(), &events);
}

#[test]
fn lmi_json_lines_without_details_count_token_lines() {
    let lines: String = [" a", " b", " c", " d"]
        .iter()
        .map(|t| {
            format!(
                "{}\n",
                json!({"token": {"id": [1], "text": t, "log_prob": -0.5}})
            )
        })
        .collect();
    let events = vec![part(&lines[..20]), part(&lines[20..])];
    let got = parse(&endpoint(true), &stream_head(), &timed(&events), None);
    assert_eq!(got.error, None);
    assert_eq!(got.text.as_deref(), Some(" a b c d"));
    assert_eq!(got.tokens_output, Some(4));
    // Non-JSON lines are skipped (as LLMeter); a line without a token is not output.
    let mixed = part("garbage\n{\"generated_text\": \"x\"}\n{\"token\":{\"text\":\"z\"}}\n");
    let got = parse(&endpoint(true), &stream_head(), &[(7.0, &mixed)], None);
    assert_eq!(
        (got.text.as_deref(), got.tokens_output, got.error),
        (Some("z"), Some(1), None)
    );
}

/// LMI JSON lines (as llm-sim's `x-sim-line-format: lmi`: the last line with `generated_text`
/// and, when asked, `details`) cut into two `PayloadPart`s at every byte, and the event-stream
/// bytes of such parts cut at every byte: the same text and counts, TTFT at the part that
/// completed the first line, TTLT at the part that completed the last.
#[test]
fn lmi_lines_at_every_split() {
    let words = [" a", " b", " c", " d"];
    for details in [true, false] {
        let lines: Vec<String> = words
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut line = json!({"token": {"id": [i + 1], "text": t, "log_prob": -0.25}});
                if i + 1 == words.len() {
                    line["generated_text"] = json!(words.concat());
                    if details {
                        line["details"] =
                            json!({"finish_reason": "length", "generated_tokens": 4, "inputs": "x"});
                    }
                }
                format!("{line}\n")
            })
            .collect();
        let body = lines.concat();
        let first_end = lines[0].len();
        for cut in 0..=body.len() {
            let events = vec![part(&body[..cut]), part(&body[cut..])];
            let got = parse(&endpoint(true), &stream_head(), &timed(&events), None);
            assert_eq!(got.error, None, "cut {cut}");
            assert_eq!(got.text.as_deref(), Some(" a b c d"), "cut {cut}");
            assert_eq!(got.tokens_output, Some(4), "cut {cut}");
            let at = |end: usize| Some(if cut >= end { 100.0 } else { 110.0 });
            assert_eq!(
                (got.first_content_ms, got.last_content_ms),
                (at(first_end), at(body.len())),
                "cut {cut}"
            );
        }
        // Each line over two parts (as llm-sim sends them), then the event-stream bytes cut.
        let events: Vec<Vec<u8>> = lines
            .iter()
            .flat_map(|l| {
                let (a, b) = l.split_at(l.len() / 2);
                [part(a), part(b)]
            })
            .collect();
        same_at_every_split(&endpoint(true), &stream_head(), &events.concat());
        content_times_at_every_split(&endpoint(true), &stream_head(), &events);
    }
}

#[test]
fn error_lines_and_stream_exceptions() {
    let events = vec![
        part(&tgi_line(1, " The", None)),
        part("data:{\"error\":\"Request failed during generation: out of memory\",\"error_type\":\"generation\"}\n\n"),
    ];
    let got = parse(&endpoint(true), &stream_head(), &timed(&events), None);
    assert_eq!(
        got.error.as_deref(),
        Some("Request failed during generation: out of memory")
    );
    assert_eq!(got.text.as_deref(), Some(" The"));
    let events = vec![
        part(&tgi_line(1, " The", None)),
        crate::framing::event_stream::encode_message(
            &[
                (
                    ":exception-type",
                    crate::framing::event_stream::HeaderValue::String("ModelStreamError"),
                ),
                (
                    ":message-type",
                    crate::framing::event_stream::HeaderValue::String("exception"),
                ),
            ],
            br#"{"Message":"Stream broken","ErrorCode":"StreamBroken"}"#,
        ),
    ];
    let got = parse(&endpoint(true), &stream_head(), &timed(&events), None);
    assert_eq!(
        got.error.as_deref(),
        Some("An error occurred (ModelStreamError) when calling the InvokeEndpointWithResponseStream operation: Stream broken")
    );
    // A cut-off last message is a truncated stream (there is no end marker to wait for).
    let body = [
        part(&tgi_line(1, " The", None)),
        part(&tgi_line(2, " fox", Some(2))),
    ]
    .concat();
    let got = parse(
        &endpoint(true),
        &stream_head(),
        &[(1.0, &body[..body.len() - 1])],
        None,
    );
    assert!(
        got.error.as_deref().unwrap().contains("truncated"),
        "{:?}",
        got.error
    );
    let got = parse(&endpoint(true), &stream_head(), &[(1.0, &body)], None);
    assert_eq!(got.error, None);
}

#[test]
fn non_stream_is_timed_to_the_body_end_with_the_request_id() {
    let body = json!({"generated_text": " The quick", "details": {"finish_reason": "length", "generated_tokens": 2}}).to_string();
    let got = parse(
        &endpoint(false),
        &json_head(),
        &[(100.0, body.as_bytes())],
        None,
    );
    assert_eq!(got.error, None);
    assert_eq!(got.text.as_deref(), Some(" The quick"));
    assert_eq!(got.tokens_output, Some(2));
    assert_eq!(got.tokens_input, None);
    assert_eq!(got.id.as_deref(), Some("req-2"));
    assert_eq!(
        (got.first_content_ms, got.last_content_ms, got.end_ms),
        (None, None, Some(500.0))
    );
    let got = parse(
        &endpoint(false),
        &head(424, &[("x-amzn-errortype", "ModelError:http://internal.amazon.com/coral/com.amazon.sagemaker/")]),
        &[(1.0, br#"{"ErrorCode":"CLIENT_ERROR_FROM_MODEL","Message":"Received client error (400) from primary"}"#)],
        None,
    );
    assert_eq!(
        got.error.as_deref(),
        Some("An error occurred (ModelError) when calling the InvokeEndpoint operation: Received client error (400) from primary")
    );
}
