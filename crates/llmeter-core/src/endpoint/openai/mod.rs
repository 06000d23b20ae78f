//! OpenAI-compatible endpoints. Chat Completions (`POST {base}/chat/completions`), streaming
//! or not, as LLMeter's `OpenAICompletionStreamEndpoint` / `OpenAICompletionEndpoint`; the
//! Responses API in [`responses`].

mod chat;
pub mod responses;
#[cfg(test)]
mod tests;

use super::payload::{is_truthy, json_type, messages_prompt};
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

/// Request headers: defaults, then the user's (a same-named user header replaces a default:
/// fetch would join duplicates into one value).
pub(crate) fn merge_headers(
    mut defaults: Vec<(String, String)>,
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    for (name, value) in extra {
        defaults.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        defaults.push((name.clone(), value.clone()));
    }
    defaults
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
        let mut defaults = vec![("content-type".to_string(), "application/json".to_string())];
        if let Some(key) = config.api_key.as_deref().filter(|k| !k.is_empty()) {
            defaults.push(("authorization".into(), format!("Bearer {key}")));
        }
        let headers = merge_headers(defaults, &config.extra_headers);
        OpenAIEndpoint {
            config,
            url,
            headers,
            response_headers: Rc::from(["content-type".to_string(), "retry-after".to_string()]),
        }
    }

    pub fn config(&self) -> &OpenAIConfig {
        &self.config
    }
}

impl Endpoint for OpenAIEndpoint {
    fn info(&self) -> EndpointInfo {
        let endpoint_type = if self.config.stream {
            "OpenAICompletionStreamEndpoint"
        } else {
            "OpenAICompletionEndpoint"
        };
        EndpointInfo {
            endpoint_name: self.config.endpoint_name.clone(),
            model_id: Some(self.config.model.clone()),
            provider: self.config.provider.clone(),
            endpoint_type: endpoint_type.into(),
        }
    }

    fn prepare(&self, payload: &Value) -> Result<PreparedPayload, EndpointError> {
        let Value::Object(fields) = payload else {
            return Err(EndpointError::Payload(format!(
                "payload must be a JSON object (OpenAI chat completion request), got {}",
                json_type(payload)
            )));
        };
        let mut body: Map<String, Value> = fields.clone();
        body.insert("model".into(), Value::String(self.config.model.clone()));
        body.insert("stream".into(), Value::Bool(self.config.stream));
        if self.config.stream && !body.get("stream_options").is_some_and(is_truthy) {
            body.insert("stream_options".into(), json!({ "include_usage": true }));
        }
        let body = Value::Object(body);
        let bytes = serde_json::to_vec(&body)
            .map_err(|e| EndpointError::Payload(format!("payload cannot be serialised: {e}")))?;
        Ok(PreparedPayload {
            body: bytes.into(),
            input_prompt: Some(messages_prompt(&body).into()),
            input_payload: Rc::new(body),
        })
    }

    fn request(
        &self,
        prepared: &PreparedPayload,
        _now_unix_ms: f64,
    ) -> Result<HttpRequest, EndpointError> {
        Ok(HttpRequest {
            url: self.url.clone(),
            method: "POST",
            headers: self.headers.clone(),
            body: Some(prepared.body.clone()),
            response_headers: self.response_headers.clone(),
        })
    }

    fn parser(&self, limits: ParseLimits) -> Box<dyn ResponseParser> {
        Box::new(StreamParser::new(
            chat::ChatProtocol::new(self.config.stream),
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
        Ok(chat_payload(message, max_tokens, extra))
    }

    fn secrets(&self) -> Vec<String> {
        let mut s: Vec<String> = self.config.api_key.iter().cloned().collect();
        s.extend(self.config.extra_headers.iter().map(|(_, v)| v.clone()));
        s
    }
}

/// LLMeter's chat `create_payload`: `{messages: [{role: "user", content}], max_tokens, **extra}`
/// where a list of texts becomes text blocks.
pub fn chat_payload(message: &UserMessage, max_tokens: u64, extra: &Map<String, Value>) -> Value {
    let content = match message {
        UserMessage::Text(t) => Value::String(t.clone()),
        UserMessage::Parts(parts) => Value::Array(
            parts
                .iter()
                .map(|p| json!({"type": "text", "text": p}))
                .collect(),
        ),
    };
    let mut out = Map::new();
    out.insert(
        "messages".into(),
        json!([{ "role": "user", "content": content }]),
    );
    out.insert("max_tokens".into(), json!(max_tokens));
    for (k, v) in extra {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}
