//! Endpoint configurations as the JS API passes them (`{kind, baseUrl, model, …}`, camelCase),
//! read and checked here so every family's options are validated once, natively tested, with
//! errors that name the option. [`build`] is the one registry of endpoint kinds.

use super::anthropic::{
    AnthropicConfig, AnthropicEndpoint, DEFAULT_BASE_URL, DEFAULT_NAME, DEFAULT_VERSION,
};
#[cfg(feature = "json-paths")]
use super::custom::paths::{PathReader, ReadPaths};
use super::custom::{self, template, CustomConfig, CustomEndpoint, CustomHooks};
use super::openai::responses::OpenAIResponsesEndpoint;
use super::openai::{OpenAIConfig, OpenAIEndpoint};
use super::{Endpoint, EndpointInfo};
#[cfg(feature = "json-paths")]
use crate::framing::Framing;
use crate::runner::{range_err, type_err, OptionError};
use serde_json::{Map, Value};
use std::rc::Rc;

/// Every endpoint kind [`build`] knows.
pub const KINDS: [&str; 7] = [
    "openai",
    "openai-responses",
    "anthropic",
    "custom",
    "bedrockConverse",
    "bedrockInvoke",
    "sagemaker",
];

/// Typed readers over an endpoint config object; errors name `endpoint.<key>`.
///
/// Two styles: the `Result` readers (`string`, `bool`, …), and the keeping readers (`text`,
/// `flag`, …) that return a plain value and keep the first error for [`ConfigReader::check`]
/// — one call per option without a branch at each call site, which keeps families with many
/// options small in the wasm.
pub struct ConfigReader<'a> {
    map: &'a Map<String, Value>,
    first_error: std::cell::RefCell<Option<OptionError>>,
}

impl<'a> ConfigReader<'a> {
    pub fn new(config: &'a Value) -> Result<Self, OptionError> {
        match config {
            Value::Object(map) => Ok(ConfigReader {
                map,
                first_error: Default::default(),
            }),
            _ => Err(type_err("endpoint", "must be an object")),
        }
    }

    fn keep<T>(&self, read: Result<T, OptionError>) -> Option<T> {
        match read {
            Ok(v) => Some(v),
            Err(e) => {
                self.first_error.borrow_mut().get_or_insert(e);
                None
            }
        }
    }

    /// An optional string (keeping reader).
    #[inline(never)]
    pub fn text(&self, key: &'static str) -> Option<String> {
        self.keep(self.string(key)).flatten()
    }

    /// A string with a default (keeping reader).
    #[inline(never)]
    pub fn text_or(&self, key: &'static str, default: &str) -> String {
        self.text(key).unwrap_or_else(|| default.to_owned())
    }

    /// A boolean with a default (keeping reader).
    #[inline(never)]
    pub fn flag(&self, key: &'static str, default: bool) -> bool {
        self.keep(self.bool(key)).flatten().unwrap_or(default)
    }

    /// Request headers (keeping reader).
    #[inline(never)]
    pub fn headers(&self, key: &'static str) -> Vec<(String, String)> {
        self.keep(self.string_map(key)).unwrap_or_default()
    }

    /// An http(s) URL, or `default` when absent (keeping reader).
    #[inline(never)]
    pub fn link(&self, key: &'static str, default: Option<&str>) -> String {
        match (self.get(key), default) {
            (None, Some(d)) => d.to_owned(),
            _ => self.keep(self.url(key)).unwrap_or_default(),
        }
    }

    /// One of `names`, or `default` (keeping reader).
    #[inline(never)]
    pub fn choice_of(
        &self,
        key: &'static str,
        names: &[&'static str],
        default: &'static str,
    ) -> &'static str {
        self.keep(self.one_of(key, names))
            .flatten()
            .unwrap_or(default)
    }

    /// The first error a keeping reader met.
    pub fn check(&self) -> Result<(), OptionError> {
        match self.first_error.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
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

    /// One of `names` (matched without case), as written in `names`.
    pub fn one_of(
        &self,
        key: &'static str,
        names: &[&'static str],
    ) -> Result<Option<&'static str>, OptionError> {
        let Some(given) = self.string(key)? else {
            return Ok(None);
        };
        match names.iter().find(|n| n.eq_ignore_ascii_case(&given)) {
            Some(name) => Ok(Some(name)),
            None => {
                let known: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
                Err(range_err(
                    key,
                    format!("must be one of {}, got {given:?}", known.join(", ")),
                ))
            }
        }
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
            openai.endpoint_name = r.text("endpointName"); // None: LLMeter's per-class default
            let visible_only = r.flag("ttftVisibleTokensOnly", true);
            r.check()?;
            Ok(Box::new(OpenAIResponsesEndpoint::new(openai, visible_only)))
        }
        "anthropic" => Ok(Box::new(AnthropicEndpoint::new(anthropic_config(&r)?))),
        "custom" => {
            let config = custom_config(&r)?;
            let hooks = custom_reader(&r, &config, hooks)?;
            Ok(Box::new(CustomEndpoint::new(config, hooks)))
        }
        #[cfg(feature = "aws")]
        "bedrockConverse" | "bedrockInvoke" | "sagemaker" => super::aws::config::build(&kind, &r),
        #[cfg(not(feature = "aws"))]
        "bedrockConverse" | "bedrockInvoke" | "sagemaker" => Err(range_err(
            "kind",
            format!("{kind:?} endpoints are in the AWS build of the engine (llmeter_wasm_aws), not this one: load it with initAws()"),
        )),
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
    let config = AnthropicConfig {
        base_url: r.link("baseUrl", Some(DEFAULT_BASE_URL)),
        model: r.required_string("model")?,
        api_key: r.text("apiKey"),
        version: r.text_or("anthropicVersion", DEFAULT_VERSION),
        direct_browser_access: r.flag("directBrowserAccess", false),
        extra_headers: r.headers("headers"),
        stream: r.flag("stream", true),
        ttft_visible_tokens_only: r.flag("ttftVisibleTokensOnly", true),
        endpoint_name: Some(r.text_or("endpointName", DEFAULT_NAME)),
        provider: Some(r.text_or("provider", "anthropic")),
    };
    r.check()?;
    Ok(config)
}

/// What reads a custom endpoint's events: its read paths when `read` is an object (a function
/// stays in the JS API: the config then holds no `read`), else the user's functions.
fn custom_reader(
    r: &ConfigReader,
    config: &CustomConfig,
    hooks: Option<Rc<dyn CustomHooks>>,
) -> Result<Rc<dyn CustomHooks>, OptionError> {
    match (r.get("read"), hooks) {
        #[cfg(feature = "json-paths")]
        (Some(read), request) => {
            let paths = ReadPaths::from_config(read)?;
            if config.framing == Framing::Raw && config.stream {
                return Err(range_err(
                    "read",
                    "paths read events: framing \"bytes\" hands over network chunks (read them with a function)",
                ));
            }
            // The user's `request` function, if any, still builds the bodies.
            Ok(Rc::new(PathReader::new(paths, request)))
        }
        #[cfg(not(feature = "json-paths"))]
        (Some(_), _) => {
            let _ = config;
            Err(range_err(
                "read",
                "read paths are in the AWS build of the engine (llmeter_wasm_aws), not this one: load it with initAws(), or give a read function",
            ))
        }
        (None, Some(hooks)) => Ok(hooks),
        (None, None) => Err(type_err(
            "read",
            "is required (a function, or an object of paths)",
        )),
    }
}

/// A custom endpoint's options but its reading.
fn custom_config(r: &ConfigReader) -> Result<CustomConfig, OptionError> {
    let framings = custom::FRAMINGS.map(|(name, _)| name);
    let template = r.get("payloadTemplate").cloned();
    if let Some(t) = &template {
        template::check(t)?;
    }
    let framing = custom::framing_named(r.choice_of("framing", &framings, "sse"));
    #[cfg(not(feature = "event-stream"))]
    if framing == crate::framing::Framing::EventStream {
        return Err(type_err(
            "framing",
            "\"event-stream\" is read by llmeter-wasm's aws engine: `await initAws()` first",
        ));
    }
    let config = CustomConfig {
        url: r.link("url", None),
        method: r.choice_of("method", &custom::METHODS, "POST"),
        headers: r.headers("headers"),
        stream: r.flag("stream", true),
        framing,
        ttft_visible_tokens_only: r.flag("ttftVisibleTokensOnly", true),
        require_done: r.flag("requireDone", false),
        payload_template: template,
        info: EndpointInfo {
            endpoint_name: Some(r.text_or("endpointName", "custom")),
            model_id: r.text("model"),
            provider: Some(r.text_or("provider", "custom")),
            endpoint_type: r
                .text("endpointType")
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "CustomEndpoint".into()),
        },
    };
    r.check()?;
    Ok(config)
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
        struct NoHooks;
        impl CustomHooks for NoHooks {
            fn body(&self, _: &Value) -> Result<Option<Vec<u8>>, String> {
                Ok(None)
            }
            fn read(&self, _: CustomEvent<'_>) -> Result<Reading, String> {
                Ok(Reading::default())
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
            "must be one of \"sse\", \"json-lines\", \"event-stream\", \"bytes\", got \"xml\""
        );
        assert_eq!(
            err(json!({"kind": "custom", "url": "http://h", "method": "DELETE"})).option,
            "method"
        );
        assert_eq!(err(json!({"kind": "custom", "url": "h"})).option, "url");
    }
}
