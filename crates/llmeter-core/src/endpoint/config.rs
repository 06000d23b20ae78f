//! Endpoint configurations as the JS API passes them (`{kind, baseUrl, model, …}`, camelCase),
//! read and checked here so every family's options are validated once, natively tested, with
//! errors that name the option. [`build`] is the one registry of endpoint kinds.

use super::openai::{OpenAIConfig, OpenAIEndpoint};
use super::Endpoint;
use crate::runner::{range_err, type_err, OptionError};
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

    /// A JSON object.
    pub fn object(&self, key: &'static str) -> Result<Option<Map<String, Value>>, OptionError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(_) => Err(type_err(key, "must be an object")),
        }
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
        #[cfg(feature = "aws")]
        "bedrockConverse" | "bedrockInvoke" | "sagemaker" => super::aws::config::build(&kind, &r),
        #[cfg(not(feature = "aws"))]
        "bedrockConverse" | "bedrockInvoke" | "sagemaker" => Err(range_err(
            "kind",
            format!("{kind:?} endpoints are in the AWS build of the engine (llmeter_wasm_aws), not this one: load it with initAws()"),
        )),
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
