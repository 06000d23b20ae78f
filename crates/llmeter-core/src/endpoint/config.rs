//! Endpoint configurations as the JS API passes them (`{kind, baseUrl, model, …}`, camelCase),
//! read and checked here so every family's options are validated once, natively tested, with
//! errors that name the option. [`build`] is the one registry of endpoint kinds.

use super::aws::json_path::JsonPath;
use super::aws::{
    AwsAuth, AwsTarget, BedrockConverseEndpoint, BedrockInvokeEndpoint, ConverseConfig,
    InvokeBodyFormat, InvokeConfig, InvokePaths, SageMakerConfig, SageMakerEndpoint,
};
use super::openai::{OpenAIConfig, OpenAIEndpoint};
use super::Endpoint;
use crate::runner::{range_err, type_err, OptionError};
use crate::sigv4::Credentials;
use serde_json::{Map, Value};

/// Typed readers over an endpoint config object; errors name `endpoint.<key>`.
pub struct ConfigReader<'a> {
    map: &'a Map<String, Value>,
}

impl<'a> ConfigReader<'a> {
    pub fn new(config: &'a Value) -> Result<Self, OptionError> {
        match config {
            Value::Object(map) => Ok(ConfigReader { map }),
            _ => Err(type_err("endpoint", "must be an object")),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn string(&self, key: &'static str) -> Result<Option<String>, OptionError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(type_err(key, "must be a string")),
        }
    }

    pub fn required_string(&self, key: &'static str) -> Result<String, OptionError> {
        match self.string(key)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(type_err(key, "is required (a non-empty string)")),
        }
    }

    pub fn bool(&self, key: &'static str) -> Result<Option<bool>, OptionError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(type_err(key, "must be a boolean")),
        }
    }

    /// An `http(s)://` URL.
    pub fn url(&self, key: &'static str) -> Result<String, OptionError> {
        let url = self.required_string(key)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(type_err(
                key,
                format!("must be an http(s) URL, got {url:?}"),
            ));
        }
        Ok(url)
    }

    /// A `{name: value}` map of strings (request headers).
    pub fn string_map(&self, key: &'static str) -> Result<Vec<(String, String)>, OptionError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(type_err(key, format!("{k} must be a string"))),
                })
                .collect(),
            Some(_) => Err(type_err(key, "must be an object of strings")),
        }
    }
}

/// Every `kind` [`build`] knows.
pub const KINDS: [&str; 4] = [
    "\"openai\"",
    "\"bedrockConverse\"",
    "\"bedrockInvoke\"",
    "\"sagemaker\"",
];

/// The endpoint a config describes (`kind` selects the family).
pub fn build(config: &Value) -> Result<Box<dyn Endpoint>, OptionError> {
    let r = ConfigReader::new(config)?;
    let kind = r.required_string("kind")?;
    match kind.as_str() {
        "openai" => Ok(Box::new(OpenAIEndpoint::new(openai_config(&r)?))),
        "bedrockConverse" => Ok(Box::new(BedrockConverseEndpoint::new(converse_config(&r)?))),
        "bedrockInvoke" => Ok(Box::new(BedrockInvokeEndpoint::new(invoke_config(&r)?))),
        "sagemaker" => Ok(Box::new(SageMakerEndpoint::new(sagemaker_config(&r)?))),
        other => Err(range_err(
            "kind",
            format!(
                "unknown endpoint kind {other:?} (known: {})",
                KINDS.join(", ")
            ),
        )),
    }
}

fn openai_config(r: &ConfigReader) -> Result<OpenAIConfig, OptionError> {
    let defaults = OpenAIConfig::default();
    Ok(OpenAIConfig {
        base_url: r.url("baseUrl")?,
        model: r.required_string("model")?,
        api_key: r.string("apiKey")?,
        extra_headers: r.string_map("headers")?,
        stream: r.bool("stream")?.unwrap_or(defaults.stream),
        endpoint_name: r.string("endpointName")?.or(defaults.endpoint_name),
        provider: r.string("provider")?.or(defaults.provider),
    })
}

/// Region, endpoint URL, credentials and headers of an AWS endpoint. Either SigV4 credentials
/// (`accessKeyId` + `secretAccessKey`, optional `sessionToken`) or, where `api_key` allows it, a
/// Bedrock API key (`apiKey`).
fn aws_target(r: &ConfigReader, api_key: bool) -> Result<AwsTarget, OptionError> {
    let region = r.required_string("region")?;
    if !region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(range_err(
            "region",
            format!("must be an AWS region name such as \"us-east-1\", got {region:?}"),
        ));
    }
    let endpoint_url = match r.string("endpointUrl")? {
        Some(_) => Some(r.url("endpointUrl")?),
        None => None,
    };
    let access_key = r.string("accessKeyId")?.filter(|s| !s.is_empty());
    let secret = r.string("secretAccessKey")?.filter(|s| !s.is_empty());
    let session_token = r.string("sessionToken")?.filter(|s| !s.is_empty());
    let key = if api_key {
        r.string("apiKey")?.filter(|s| !s.is_empty())
    } else {
        None
    };
    let how = if api_key {
        "give accessKeyId and secretAccessKey (SigV4), or apiKey (a Bedrock API key)"
    } else {
        "give accessKeyId and secretAccessKey (SigV4)"
    };
    let auth = match (access_key, secret, key) {
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            return Err(type_err(
                "apiKey",
                "cannot be combined with accessKeyId / secretAccessKey (choose one)",
            ))
        }
        (Some(access_key_id), Some(secret_access_key), None) => AwsAuth::SigV4(Credentials {
            access_key_id,
            secret_access_key,
            session_token,
        }),
        (Some(_), None, None) => {
            return Err(type_err("secretAccessKey", format!("is required: {how}")))
        }
        (None, Some(_), None) => {
            return Err(type_err("accessKeyId", format!("is required: {how}")))
        }
        (None, None, Some(_)) if session_token.is_some() => {
            return Err(type_err(
                "sessionToken",
                "goes with accessKeyId / secretAccessKey, not apiKey",
            ))
        }
        (None, None, Some(token)) => AwsAuth::BearerToken(token),
        (None, None, None) => return Err(type_err("accessKeyId", format!("is required: {how}"))),
    };
    Ok(AwsTarget {
        region,
        endpoint_url,
        auth,
        extra_headers: r.string_map("headers")?,
    })
}

fn path_option(r: &ConfigReader, key: &'static str) -> Result<Option<JsonPath>, OptionError> {
    match r.string(key)? {
        None => Ok(None),
        Some(p) => JsonPath::parse(&p).map(Some).map_err(|e| range_err(key, e)),
    }
}

fn converse_config(r: &ConfigReader) -> Result<ConverseConfig, OptionError> {
    let inference_config = match r.map.get("inferenceConfig").filter(|v| !v.is_null()) {
        None => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return Err(type_err("inferenceConfig", "must be an object")),
    };
    Ok(ConverseConfig {
        target: aws_target(r, true)?,
        model: r.required_string("model")?,
        stream: r.bool("stream")?.unwrap_or(true),
        inference_config,
        ttft_visible_tokens_only: r.bool("ttftVisibleTokensOnly")?.unwrap_or(true),
        endpoint_name: r.string("endpointName")?,
    })
}

fn invoke_config(r: &ConfigReader) -> Result<InvokeConfig, OptionError> {
    let stream = r.bool("stream")?.unwrap_or(true);
    let body_format = match r.string("bodyFormat")? {
        None => InvokeBodyFormat::OpenAI,
        Some(name) => InvokeBodyFormat::from_name(&name).ok_or_else(|| {
            range_err(
                "bodyFormat",
                format!(
                    "unknown body format {name:?} (known: {})",
                    InvokeBodyFormat::NAMES.join(", ")
                ),
            )
        })?,
    };
    let defaults = InvokePaths::defaults(body_format, stream);
    // An empty string switches an optional path off (LLMeter's `None`).
    let optional =
        |key: &'static str, default: Option<JsonPath>| -> Result<Option<JsonPath>, OptionError> {
            match r.string(key)? {
                Some(s) if s.is_empty() => Ok(None),
                Some(_) => path_option(r, key),
                None => Ok(default),
            }
        };
    let paths = InvokePaths {
        generated_text: path_option(r, "generatedTextPath")?.unwrap_or(defaults.generated_text),
        input_text: path_option(r, "inputTextPath")?.unwrap_or(defaults.input_text),
        generated_token_count: optional("generatedTokenCountPath", defaults.generated_token_count)?,
        input_token_count: optional("inputTokenCountPath", defaults.input_token_count)?,
        reasoning_text: optional("reasoningTextPath", defaults.reasoning_text)?,
    };
    Ok(InvokeConfig {
        target: aws_target(r, true)?,
        model: r.required_string("model")?,
        stream,
        body_format,
        paths,
        ttft_visible_tokens_only: r.bool("ttftVisibleTokensOnly")?.unwrap_or(true),
        endpoint_name: r.string("endpointName")?,
    })
}

fn sagemaker_config(r: &ConfigReader) -> Result<SageMakerConfig, OptionError> {
    let (text, input, count) = SageMakerConfig::default_paths();
    let token_count = match r.string("tokenCountPath")? {
        Some(s) if s.is_empty() => None,
        Some(_) => path_option(r, "tokenCountPath")?,
        None => Some(count),
    };
    let endpoint_name = r.required_string("endpointName")?;
    Ok(SageMakerConfig {
        target: aws_target(r, false)?,
        model: r.string("model")?.unwrap_or_else(|| endpoint_name.clone()),
        endpoint_name,
        stream: r.bool("stream")?.unwrap_or(true),
        generated_text: path_option(r, "generatedTextPath")?.unwrap_or(text),
        input_text: path_option(r, "inputTextPath")?.unwrap_or(input),
        token_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_openai_and_names_bad_options() {
        let e = build(
            &json!({"kind": "openai", "baseUrl": "http://h/v1", "model": "m", "stream": false}),
        )
        .unwrap();
        assert_eq!(e.info().endpoint_type, "OpenAICompletionEndpoint");
        assert_eq!(e.info().provider.as_deref(), Some("openai"));
        let err = |v: Value| build(&v).err().unwrap();
        assert_eq!(
            err(json!({"kind": "openai", "baseUrl": "ftp://x", "model": "m"})).option,
            "baseUrl"
        );
        assert_eq!(
            err(json!({"kind": "openai", "baseUrl": "http://x"})).option,
            "model"
        );
        assert_eq!(
            err(
                json!({"kind": "openai", "baseUrl": "http://x", "model": "m", "headers": {"a": 1}})
            )
            .option,
            "headers"
        );
        let unknown = err(json!({"kind": "nope"}));
        assert_eq!((unknown.option, unknown.is_range), ("kind", true));
        assert_eq!(err(json!([1])).option, "endpoint");
    }
}
