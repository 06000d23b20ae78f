//! Endpoint configurations as the JS API passes them (`{kind, baseUrl, model, …}`, camelCase),
//! read and checked here so every family's options are validated once, natively tested, with
//! errors that name the option. [`build`] is the one registry of endpoint kinds.

use super::anthropic::{AnthropicConfig, AnthropicEndpoint};
use super::custom::{self, CustomConfig, CustomEndpoint, CustomHooks};
use super::openai::responses::OpenAIResponsesEndpoint;
use super::openai::{OpenAIConfig, OpenAIEndpoint};
use super::{Endpoint, EndpointInfo};
use crate::runner::{range_err, type_err, OptionError};
use serde_json::{Map, Value};
use std::rc::Rc;

/// Every endpoint kind [`build`] knows.
pub const KINDS: [&str; 4] = ["openai", "openai-responses", "anthropic", "custom"];

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

    /// One of the `choices` by name.
    pub fn choice<T: Copy>(
        &self,
        key: &'static str,
        choices: &[(&'static str, T)],
    ) -> Result<Option<T>, OptionError> {
        let Some(name) = self.string(key)? else {
            return Ok(None);
        };
        match choices.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            Some((_, v)) => Ok(Some(*v)),
            None => {
                let known: Vec<String> = choices.iter().map(|(n, _)| format!("{n:?}")).collect();
                Err(range_err(
                    key,
                    format!("must be one of {}, got {name:?}", known.join(", ")),
                ))
            }
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

/// The endpoint a config describes (`kind` selects the family).
pub fn build(config: &Value) -> Result<Box<dyn Endpoint>, OptionError> {
    build_with(config, None)
}

/// As [`build`], with the user's functions of a `custom` endpoint (the JS API passes them).
pub fn build_with(
    config: &Value,
    hooks: Option<Rc<dyn CustomHooks>>,
) -> Result<Box<dyn Endpoint>, OptionError> {
    let r = ConfigReader::new(config)?;
    let kind = r.required_string("kind")?;
    match kind.as_str() {
        "openai" => Ok(Box::new(OpenAIEndpoint::new(openai_config(&r)?))),
        "openai-responses" => {
            let mut openai = openai_config(&r)?;
            openai.endpoint_name = r.string("endpointName")?; // None: LLMeter's per-class default
            Ok(Box::new(OpenAIResponsesEndpoint::new(
                openai,
                r.bool("ttftVisibleTokensOnly")?.unwrap_or(true),
            )))
        }
        "anthropic" => Ok(Box::new(AnthropicEndpoint::new(anthropic_config(&r)?))),
        "custom" => {
            let hooks = hooks.ok_or_else(|| type_err("read", "is required (a function)"))?;
            Ok(Box::new(CustomEndpoint::new(custom_config(&r)?, hooks)))
        }
        other => {
            let known: Vec<String> = KINDS.iter().map(|k| format!("{k:?}")).collect();
            Err(range_err(
                "kind",
                format!(
                    "unknown endpoint kind {other:?} (known: {})",
                    known.join(", ")
                ),
            ))
        }
    }
}

fn anthropic_config(r: &ConfigReader) -> Result<AnthropicConfig, OptionError> {
    let defaults = AnthropicConfig::default();
    Ok(AnthropicConfig {
        base_url: r.url("baseUrl")?,
        model: r.required_string("model")?,
        api_key: r.string("apiKey")?,
        version: r.string("anthropicVersion")?.unwrap_or(defaults.version),
        direct_browser_access: r
            .bool("directBrowserAccess")?
            .unwrap_or(defaults.direct_browser_access),
        extra_headers: r.string_map("headers")?,
        stream: r.bool("stream")?.unwrap_or(defaults.stream),
        ttft_visible_tokens_only: r
            .bool("ttftVisibleTokensOnly")?
            .unwrap_or(defaults.ttft_visible_tokens_only),
        endpoint_name: r.string("endpointName")?.or(defaults.endpoint_name),
        provider: r.string("provider")?.or(defaults.provider),
    })
}

fn custom_config(r: &ConfigReader) -> Result<CustomConfig, OptionError> {
    let method_choices: Vec<(&'static str, &'static str)> =
        custom::METHODS.iter().map(|m| (*m, *m)).collect();
    let stream = r.bool("stream")?.unwrap_or(true);
    Ok(CustomConfig {
        url: r.url("url")?,
        method: r.choice("method", &method_choices)?.unwrap_or("POST"),
        headers: r.string_map("headers")?,
        stream,
        framing: r
            .choice("framing", &custom::FRAMINGS)?
            .unwrap_or(crate::framing::Framing::Sse),
        ttft_visible_tokens_only: r.bool("ttftVisibleTokensOnly")?.unwrap_or(true),
        require_done: r.bool("requireDone")?.unwrap_or(false),
        info: EndpointInfo {
            endpoint_name: Some(r.string("endpointName")?.unwrap_or_else(|| "custom".into())),
            model_id: r.string("model")?,
            provider: Some(r.string("provider")?.unwrap_or_else(|| "custom".into())),
            endpoint_type: r
                .string("endpointType")?
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "CustomEndpoint".into()),
        },
    })
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

    #[test]
    fn builds_every_http_family_with_llmeter_names_and_defaults() {
        let e = build(&json!({"kind": "openai-responses", "baseUrl": "http://h/v1", "model": "m"}))
            .unwrap();
        assert_eq!(e.info().endpoint_type, "OpenAIResponseStreamEndpoint");
        assert_eq!(
            e.info().endpoint_name.as_deref(),
            Some("openai-response-stream")
        );
        let e = build(&json!({"kind": "openai-responses", "baseUrl": "http://h/v1", "model": "m", "stream": false, "endpointName": "mine"}))
            .unwrap();
        assert_eq!(e.info().endpoint_type, "OpenAIResponseEndpoint");
        assert_eq!(e.info().endpoint_name.as_deref(), Some("mine"));
        let e = build(
            &json!({"kind": "anthropic", "baseUrl": "http://h/v1", "model": "c", "apiKey": "k"}),
        )
        .unwrap();
        assert_eq!(
            (
                e.info().endpoint_type.as_str(),
                e.info().provider.as_deref()
            ),
            ("AnthropicMessagesStream", Some("anthropic"))
        );
        assert_eq!(e.secrets(), vec!["k"]);
        let err = |v: Value| build(&v).err().unwrap();
        assert_eq!(
            err(json!({"kind": "anthropic", "baseUrl": "http://h", "model": "c", "ttftVisibleTokensOnly": "no"})).option,
            "ttftVisibleTokensOnly"
        );
        assert_eq!(
            err(json!({"kind": "anthropic", "baseUrl": "http://h", "model": "c", "directBrowserAccess": 1})).option,
            "directBrowserAccess"
        );
        // A custom endpoint needs its functions (only the JS API has them).
        assert_eq!(
            err(json!({"kind": "custom", "url": "http://h/x"})).option,
            "read"
        );
        let unknown = err(json!({"kind": "bedrock"}));
        assert!(
            unknown.message.contains("\"anthropic\""),
            "{}",
            unknown.message
        );
    }

    #[test]
    fn custom_options_are_checked_by_name() {
        use crate::endpoint::custom::{CustomEvent, CustomHooks, Reading};
        use crate::endpoint::UserMessage;
        struct NoHooks;
        impl CustomHooks for NoHooks {
            fn body(&self, _: &Value) -> Result<Vec<u8>, String> {
                Ok(Vec::new())
            }
            fn prompt(&self, _: &Value) -> Result<Option<String>, String> {
                Ok(None)
            }
            fn read(&self, _: CustomEvent<'_>) -> Result<Reading, String> {
                Ok(Reading::default())
            }
            fn create_payload(
                &self,
                _: &UserMessage,
                _: u64,
                _: &Map<String, Value>,
            ) -> Result<Option<Value>, String> {
                Ok(None)
            }
        }
        let hooks = || Some(Rc::new(NoHooks) as Rc<dyn CustomHooks>);
        let e = build_with(
            &json!({"kind": "custom", "url": "http://h/gen", "framing": "JSON-lines", "method": "put", "headers": {"k": "v"}}),
            hooks(),
        )
        .unwrap();
        let info = e.info();
        assert_eq!(
            (
                info.endpoint_type.as_str(),
                info.provider.as_deref(),
                info.endpoint_name.as_deref(),
                info.model_id
            ),
            ("CustomEndpoint", Some("custom"), Some("custom"), None)
        );
        assert_eq!(e.secrets(), vec!["v"]);
        let err = |v: Value| build_with(&v, hooks()).err().unwrap();
        let framing = err(json!({"kind": "custom", "url": "http://h", "framing": "xml"}));
        assert_eq!((framing.option, framing.is_range), ("framing", true));
        assert_eq!(
            framing.message,
            "must be one of \"sse\", \"json-lines\", \"bytes\", got \"xml\""
        );
        assert_eq!(
            err(json!({"kind": "custom", "url": "http://h", "method": "DELETE"})).option,
            "method"
        );
        assert_eq!(err(json!({"kind": "custom", "url": "h"})).option, "url");
    }
}
