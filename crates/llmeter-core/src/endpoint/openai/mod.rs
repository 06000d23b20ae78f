//! OpenAI-compatible endpoints. Chat Completions (`POST {base}/chat/completions`), streaming
//! or not, as LLMeter's `OpenAICompletionStreamEndpoint` / `OpenAICompletionEndpoint`; the
//! Responses API in [`responses`].

#[doc(hidden)]
pub mod chat;
pub mod responses;
#[cfg(test)]
mod tests;

use super::http::{json_headers, payload_object, post, prepared_json, standard_response_headers};
use super::payload::{is_truthy, messages_prompt, user_payload};
use super::stream::StreamParser;
use super::{
    Endpoint, EndpointError, EndpointInfo, ParseLimits, PreparedPayload, ResponseParser,
    UserMessage,
};
use crate::transport::HttpRequest;
use serde_json::{json, Map, Value};
use std::fmt;
use std::rc::Rc;

#[derive(Clone, PartialEq)]
pub struct OpenAIConfig {
    /// As the openai SDK's `base_url`: includes `/v1`, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    pub model: String,
    /// Sent only as `authorization: Bearer …`; never recorded.
    pub api_key: Option<String>,
    /// Sent after the defaults; one with the same name replaces a default header. Values are
    /// treated as secrets (never recorded, redacted from errors).
    pub extra_headers: Vec<(String, String)>,
    pub stream: bool,
    pub endpoint_name: Option<String>,
    pub provider: Option<String>,
}

impl Default for OpenAIConfig {
    fn default() -> Self {
        OpenAIConfig {
            base_url: String::new(),
            model: String::new(),
            api_key: None,
            extra_headers: Vec::new(),
            stream: true,
            endpoint_name: Some("openai".into()),
            provider: Some("openai".into()),
        }
    }
}

/// Redacts the key and header values, so a config can be logged.
impl fmt::Debug for OpenAIConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.extra_headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OpenAIConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("extra_headers", &header_names)
            .field("stream", &self.stream)
            .field("endpoint_name", &self.endpoint_name)
            .field("provider", &self.provider)
            .finish()
    }
}

/// `authorization: Bearer <key>` when a key is configured.
pub(crate) fn bearer(config: &OpenAIConfig) -> Option<(&'static str, String)> {
    config
        .api_key
        .as_deref()
        .filter(|k| !k.is_empty())
        .map(|key| ("authorization", format!("Bearer {key}")))
}

#[derive(Clone)]
pub struct OpenAIEndpoint {
    config: OpenAIConfig,
    url: String,
    headers: Vec<(String, String)>,
    response_headers: Rc<[String]>,
}

/// Shows the (redacted) config, never the built headers, which hold the key.
impl fmt::Debug for OpenAIEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAIEndpoint")
            .field("config", &self.config)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl OpenAIEndpoint {
    pub fn new(config: OpenAIConfig) -> Self {
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        let headers = json_headers(bearer(&config), &[], &config.extra_headers);
        OpenAIEndpoint {
            config,
            url,
            headers,
            response_headers: standard_response_headers(),
        }
    }

    pub fn config(&self) -> &OpenAIConfig {
        &self.config
    }
}

impl Endpoint for OpenAIEndpoint {
    fn info(&self) -> EndpointInfo {
        let c = &self.config;
        EndpointInfo::of_family(
            ("OpenAICompletionStreamEndpoint", "OpenAICompletionEndpoint"),
            c.stream,
            &c.endpoint_name,
            &c.model,
            &c.provider,
        )
    }

    fn prepare(&self, payload: &Value) -> Result<PreparedPayload, EndpointError> {
        let mut body = payload_object(payload, "OpenAI chat completion request")?;
        body.insert("model".into(), Value::String(self.config.model.clone()));
        body.insert("stream".into(), Value::Bool(self.config.stream));
        if self.config.stream && !body.get("stream_options").is_some_and(is_truthy) {
            body.insert("stream_options".into(), json!({ "include_usage": true }));
        }
        prepared_json(body, messages_prompt)
    }

    fn request(
        &self,
        prepared: &PreparedPayload,
        _now_unix_ms: f64,
    ) -> Result<HttpRequest, EndpointError> {
        Ok(post(
            &self.url,
            &self.headers,
            prepared,
            &self.response_headers,
        ))
    }

    fn parser(&self, limits: ParseLimits) -> Box<dyn ResponseParser> {
        Box::new(StreamParser::new(
            Box::new(chat::ChatProtocol::new(self.config.stream)),
            limits,
            true,
        ))
    }

    fn create_payload(
        &self,
        message: &UserMessage,
        max_tokens: u64,
        extra: &Map<String, Value>,
    ) -> Result<Value, EndpointError> {
        checked_chat_payload(message, max_tokens, extra)
    }

    fn secrets(&self) -> Vec<String> {
        crate::endpoint::http::key_and_header_secrets(
            &self.config.api_key,
            &self.config.extra_headers,
        )
    }
}

/// [`chat_payload`], refusing an empty list as LLMeter does.
pub fn checked_chat_payload(
    message: &UserMessage,
    max_tokens: u64,
    extra: &Map<String, Value>,
) -> Result<Value, EndpointError> {
    if matches!(message, UserMessage::Parts(p) if p.is_empty()) {
        return Err(EndpointError::Payload(
            "user_message must not be empty".into(),
        ));
    }
    Ok(chat_payload(message, max_tokens, extra))
}

/// LLMeter's chat `create_payload`: `{messages: [{role: "user", content}], max_tokens, **extra}`
/// where a list of texts becomes text blocks — but a list of one text is that text (LLMeter's
/// shortcut).
pub fn chat_payload(message: &UserMessage, max_tokens: u64, extra: &Map<String, Value>) -> Value {
    let messages = match message {
        UserMessage::Parts(p) if p.len() == 1 => user_messages(&UserMessage::Text(p[0].clone())),
        _ => user_messages(message),
    };
    user_payload(
        ("messages", messages),
        "max_tokens",
        max_tokens,
        extra,
        None,
    )
}

/// `[{role: "user", content}]` with a text, or text blocks for a list of texts.
pub(crate) fn user_messages(message: &UserMessage) -> Value {
    let content = match message {
        UserMessage::Text(t) => Value::String(t.clone()),
        UserMessage::Parts(parts) => Value::Array(
            parts
                .iter()
                .map(|p| json!({"type": "text", "text": p}))
                .collect(),
        ),
    };
    json!([{ "role": "user", "content": content }])
}
