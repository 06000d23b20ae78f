//! The AWS kinds of the endpoint registry: options read, defaults, errors naming the option.

use crate::endpoint::config::build;
use serde_json::{json, Value};

fn base(kind: &str) -> Value {
    json!({"kind": kind, "region": "us-east-1", "model": "m", "endpointName": "e",
           "accessKeyId": "AKID", "secretAccessKey": "SECRET", "endpointUrl": "http://127.0.0.1:1"})
}

fn with(kind: &str, extra: Value) -> Value {
    let mut v = base(kind);
    for (k, x) in extra.as_object().unwrap() {
        if x.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = x.clone();
        }
    }
    v
}

fn error(v: Value) -> (&'static str, String) {
    let e = build(&v).err().expect("an error");
    (e.option, e.message)
}

#[test]
fn builds_each_kind_with_llmeter_names() {
    let names = |v: Value| {
        let info = build(&v).unwrap().info();
        (info.endpoint_type, info.endpoint_name, info.provider)
    };
    assert_eq!(
        names(base("bedrockConverse")),
        (
            "BedrockConverseStream".into(),
            Some("e".into()),
            Some("bedrock".into())
        )
    );
    assert_eq!(
        names(with(
            "bedrockConverse",
            json!({"stream": false, "endpointName": null})
        )),
        (
            "BedrockConverse".into(),
            Some("amazon bedrock".into()),
            Some("bedrock".into())
        )
    );
    assert_eq!(names(base("bedrockInvoke")).0, "BedrockInvokeStream");
    assert_eq!(
        names(with(
            "bedrockInvoke",
            json!({"stream": false, "bodyFormat": "titan"})
        ))
        .0,
        "BedrockInvoke"
    );
    assert_eq!(
        names(base("sagemaker")),
        (
            "SageMakerStreamEndpoint".into(),
            Some("e".into()),
            Some("sagemaker".into())
        )
    );
    // A Bedrock API key instead of SigV4 credentials.
    let keyed = with(
        "bedrockConverse",
        json!({"accessKeyId": null, "secretAccessKey": null, "apiKey": "KEY"}),
    );
    assert_eq!(build(&keyed).unwrap().secrets(), vec!["KEY".to_string()]);
    // Without endpointUrl the regional endpoint is used.
    let regional = build(&with("sagemaker", json!({"endpointUrl": null}))).unwrap();
    let prepared = regional.prepare(&json!({"inputs": "x"})).unwrap();
    assert_eq!(
        regional.request(&prepared, 0.0).unwrap().url,
        "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/e/invocations-response-stream"
    );
    let bedrock = build(&with(
        "bedrockInvoke",
        json!({"endpointUrl": null, "model": "a:b/c"}),
    ))
    .unwrap();
    let prepared = bedrock.prepare(&json!({})).unwrap();
    assert_eq!(
        bedrock.request(&prepared, 0.0).unwrap().url,
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/a%3Ab%2Fc/invoke-with-response-stream"
    );
}

#[test]
fn bad_options_are_named() {
    let cases = [
        (with("bedrockConverse", json!({"region": null})), "region"),
        (
            with("bedrockConverse", json!({"region": "US East"})),
            "region",
        ),
        (with("bedrockConverse", json!({"model": null})), "model"),
        (
            with("bedrockConverse", json!({"endpointUrl": "ftp://x"})),
            "endpointUrl",
        ),
        (
            with("bedrockConverse", json!({"secretAccessKey": null})),
            "secretAccessKey",
        ),
        (
            with("bedrockConverse", json!({"accessKeyId": null})),
            "accessKeyId",
        ),
        (
            with(
                "bedrockConverse",
                json!({"accessKeyId": null, "secretAccessKey": null}),
            ),
            "accessKeyId",
        ),
        (with("bedrockConverse", json!({"apiKey": "k"})), "apiKey"),
        (
            with(
                "bedrockConverse",
                json!({"accessKeyId": null, "secretAccessKey": null, "apiKey": "k", "sessionToken": "t"}),
            ),
            "sessionToken",
        ),
        (
            with("bedrockConverse", json!({"inferenceConfig": [1]})),
            "inferenceConfig",
        ),
        (
            with("bedrockConverse", json!({"ttftVisibleTokensOnly": "no"})),
            "ttftVisibleTokensOnly",
        ),
        (
            with("bedrockInvoke", json!({"bodyFormat": "gpt"})),
            "bodyFormat",
        ),
        (
            with("bedrockInvoke", json!({"generatedTextPath": "a..b"})),
            "generatedTextPath",
        ),
        (
            with("bedrockInvoke", json!({"inputTokenCountPath": 3})),
            "inputTokenCountPath",
        ),
        (
            with("sagemaker", json!({"endpointName": null})),
            "endpointName",
        ),
        (
            with(
                "sagemaker",
                json!({"accessKeyId": null, "secretAccessKey": null, "apiKey": "k"}),
            ),
            "apiKey",
        ),
        (
            with("sagemaker", json!({"tokenCountPath": "x["})),
            "tokenCountPath",
        ),
        (with("sagemaker", json!({"headers": {"x": 1}})), "headers"),
        (
            with("sagemaker", json!({"ttftVisibleTokensOnly": 0})),
            "ttftVisibleTokensOnly",
        ),
    ];
    for (config, option) in cases {
        let (got, message) = error(config.clone());
        assert_eq!(got, option, "{config}: {message}");
    }
    let (_, message) = error(with("bedrockInvoke", json!({"bodyFormat": "gpt"})));
    assert_eq!(
        message,
        "unknown body format \"gpt\" (known: openai, anthropic, llama, nova, titan)"
    );
    let (_, message) = error(json!({"kind": "bedrock"}));
    assert!(message.contains("\"bedrockConverse\""), "{message}");
}

#[test]
fn paths_can_be_set_or_switched_off() {
    let ep = build(&with(
        "bedrockInvoke",
        json!({"stream": false, "generatedTextPath": "out", "generatedTokenCountPath": "", "inputTokenCountPath": "n"}),
    ))
    .unwrap();
    let mut parser = ep.parser(Default::default());
    parser.on_head(&super::json_head());
    parser.on_chunk(
        br#"{"out": "t", "n": 4, "usage": {"completion_tokens": 3}}"#,
        1.0,
    );
    let got = parser.finish(2.0, None);
    assert_eq!(
        (got.text.as_deref(), got.tokens_input, got.tokens_output),
        (Some("t"), Some(4), None)
    );
}
