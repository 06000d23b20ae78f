//! AWS endpoints: Amazon Bedrock (Converse / ConverseStream, InvokeModel /
//! InvokeModelWithResponseStream) and Amazon SageMaker (InvokeEndpoint /
//! InvokeEndpointWithResponseStream), as LLMeter's `BedrockConverse*`, `BedrockInvoke*` and
//! `SageMaker*Endpoint` classes measure them.
//!
//! What the families share lives here: where requests go (the regional endpoint or an override
//! such as llm-sim), how they are authorized (SigV4 with [`crate::sigv4`], or a Bedrock API key
//! as a bearer token), the request id header, and the error texts. Errors read exactly as
//! botocore's exceptions do (`An error occurred (ThrottlingException) when calling the
//! ConverseStream operation: …`), for HTTP errors and for exception messages inside an event
//! stream, because that is what LLMeter records for these endpoints: result files of both agree.

pub mod base64;
pub mod config;
mod converse;
mod invoke;
mod sagemaker;
#[cfg(test)]
mod tests;

pub use converse::{BedrockConverseEndpoint, ConverseConfig};
pub use invoke::{BedrockInvokeEndpoint, InvokeBodyFormat, InvokeConfig, InvokePaths};
pub use sagemaker::{SageMakerConfig, SageMakerEndpoint};

use super::http::reason_phrase;
use super::stream::event_stream_failure;
use super::{EndpointError, PreparedPayload};
use crate::framing::event_stream::EventMessage;
use crate::sigv4::{self, Credentials, SigningOptions, SigningRequest};
use crate::transport::{HttpRequest, ResponseHead};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// How requests are authorized.
#[derive(Clone, PartialEq)]
pub enum AwsAuth {
    /// Signature Version 4 with these credentials.
    SigV4(Credentials),
    /// A Bedrock API key, sent as `Authorization: Bearer …` (Bedrock only).
    BearerToken(String),
}

impl fmt::Debug for AwsAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AwsAuth::SigV4(c) => f.debug_tuple("SigV4").field(c).finish(),
            AwsAuth::BearerToken(_) => f.write_str("BearerToken(<redacted>)"),
        }
    }
}

impl AwsAuth {
    fn secrets(&self) -> Vec<String> {
        match self {
            AwsAuth::SigV4(c) => {
                let mut s = vec![c.secret_access_key.clone(), c.access_key_id.clone()];
                s.extend(c.session_token.clone());
                s
            }
            AwsAuth::BearerToken(t) => vec![t.clone()],
        }
    }
}

/// Where and how an AWS endpoint sends its requests.
#[derive(Clone, PartialEq)]
pub struct AwsTarget {
    pub region: String,
    /// Replaces `https://{service host}.{region}.amazonaws.com` (e.g. llm-sim's address).
    pub endpoint_url: Option<String>,
    pub auth: AwsAuth,
    /// Sent after the defaults, and signed; values are secrets (never recorded).
    pub extra_headers: Vec<(String, String)>,
}

impl fmt::Debug for AwsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.extra_headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("AwsTarget")
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .field("auth", &self.auth)
            .field("extra_headers", &names)
            .finish()
    }
}

/// The response headers every AWS protocol reads.
const RESPONSE_HEADERS: [&str; 3] = ["content-type", "x-amzn-requestid", "x-amzn-errortype"];

/// A body kept alive with its SHA-256 (hex).
type HashedBody = (Rc<[u8]>, Rc<str>);

/// Builds the signed request of every send to one URL.
#[derive(Debug)]
pub(crate) struct AwsRequester {
    target: AwsTarget,
    /// SigV4 signing name: `bedrock` or `sagemaker`.
    service: &'static str,
    url: String,
    headers: Vec<(String, String)>,
    response_headers: Rc<[String]>,
    /// SHA-256 of each body sent, computed once per prepared payload (keyed by its address;
    /// the kept `Rc` keeps that address from being reused by another body).
    payload_hashes: RefCell<HashMap<usize, HashedBody>>,
}

impl AwsRequester {
    /// `host_prefix` is the service's regional host name start (`bedrock-runtime`,
    /// `runtime.sagemaker`); `path` the operation's path (already URI-encoded).
    pub fn new(
        target: AwsTarget,
        service: &'static str,
        host_prefix: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Self {
        let base = match &target.endpoint_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("https://{host_prefix}.{}.amazonaws.com", target.region),
        };
        let defaults = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let headers = crate::endpoint::http::merge_headers(defaults, &target.extra_headers);
        AwsRequester {
            url: format!("{base}{path}"),
            service,
            headers,
            response_headers: RESPONSE_HEADERS.iter().map(|h| h.to_string()).collect(),
            payload_hashes: RefCell::default(),
            target,
        }
    }

    fn payload_hash(&self, body: &Rc<[u8]>) -> Rc<str> {
        let key = Rc::as_ptr(body) as *const u8 as usize;
        let mut hashes = self.payload_hashes.borrow_mut();
        let (_, hash) = hashes
            .entry(key)
            .or_insert_with(|| (body.clone(), sigv4::payload_hash(body).into()));
        hash.clone()
    }

    pub fn request(
        &self,
        prepared: &PreparedPayload,
        now_unix_ms: f64,
    ) -> Result<HttpRequest, EndpointError> {
        let mut headers = self.headers.clone();
        match &self.target.auth {
            AwsAuth::SigV4(credentials) => {
                let hash = self.payload_hash(&prepared.body);
                let added = sigv4::sign(
                    &SigningRequest {
                        method: "POST",
                        url: &self.url,
                        headers: &headers,
                        payload_hash: &hash,
                    },
                    credentials,
                    &self.target.region,
                    self.service,
                    SigningOptions::default(),
                    now_unix_ms,
                )
                .map_err(|e| EndpointError::Request(format!("cannot sign the request: {e}")))?;
                headers.extend(added);
            }
            AwsAuth::BearerToken(token) => {
                headers.push(("authorization".into(), format!("Bearer {token}")));
            }
        }
        Ok(HttpRequest {
            url: self.url.clone(),
            method: "POST",
            headers,
            body: Some(prepared.body.clone()),
            response_headers: self.response_headers.clone(),
        })
    }

    pub fn secrets(&self) -> Vec<String> {
        let mut s = self.target.auth.secrets();
        s.extend(self.target.extra_headers.iter().map(|(_, v)| v.clone()));
        s
    }
}

/// `a:b` → `a%3Ab`: a path label as botocore serializes it (only unreserved characters kept).
pub(crate) fn path_label(value: &str) -> String {
    sigv4::uri_encode(value, false)
}

/// Longest error message kept (AWS's are short; a hostile body must not bloat results).
const MESSAGE_LIMIT: usize = 2000;

fn capped(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// botocore's `ClientError` text.
pub(crate) fn client_error(code: &str, operation: &str, message: &str) -> String {
    format!(
        "An error occurred ({}) when calling the {operation} operation: {}",
        capped(code),
        capped(message)
    )
}

/// What every AWS protocol remembers of the response head.
#[derive(Debug, Default)]
pub(crate) struct AwsHead {
    pub error_type: Option<String>,
}

impl AwsHead {
    /// Keeps the error type and sets the request id (botocore's `ResponseMetadata.RequestId`).
    pub fn read(&mut self, head: &ResponseHead, out: &mut crate::endpoint::ParsedResponse) {
        self.error_type = head.header("x-amzn-errortype").map(str::to_owned);
        if let Some(id) = head.header("x-amzn-requestid").filter(|id| !id.is_empty()) {
            out.id = Some(id.to_owned());
        }
    }

    /// botocore's text for a non-2xx answer of a rest-json service.
    pub fn http_error(&self, status: u16, body: &[u8], operation: &str) -> String {
        let trimmed = body.trim_ascii();
        if status >= 500 && (trimmed.is_empty() || trimmed.starts_with(b"<html>")) {
            return client_error(
                &status.to_string(),
                operation,
                reason_phrase(status).unwrap_or(""),
            );
        }
        let parsed: Option<Value> = if trimmed.is_empty() {
            None
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(v) => Some(v),
                // botocore keeps an unparseable body as the message.
                Err(_) => Some(serde_json::json!({"message": String::from_utf8_lossy(body)})),
            }
        };
        let field = |name: &str| -> Option<&str> {
            parsed
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(Value::as_str)
        };
        let message = field("message").or_else(|| field("Message")).unwrap_or("");
        let mut code = field("__type").map_or_else(|| status.to_string(), str::to_owned);
        if let Some(t) = &self.error_type {
            code = t.clone();
        } else if let Some(c) = field("code").or_else(|| field("Code")) {
            code = c.to_owned();
        }
        let code = code.split(':').next().unwrap_or("");
        let code = code.rsplit('#').next().unwrap_or("");
        client_error(code, operation, message)
    }
}

/// The error of an `exception` or `error` message in an event stream (botocore raises an
/// `EventStreamError` with this text); `None` for an `event` message.
pub(crate) fn stream_error(message: &EventMessage<'_>, operation: &str) -> Option<String> {
    event_stream_failure(message).map(|(code, text)| client_error(code, operation, &text))
}

/// A Bedrock family's LLMeter identity: endpoint name "amazon bedrock" unless given, provider
/// "bedrock".
pub(crate) fn bedrock_info(
    classes: (&str, &str),
    stream: bool,
    endpoint_name: &Option<String>,
    model: &str,
) -> crate::endpoint::EndpointInfo {
    let name = Some(
        endpoint_name
            .clone()
            .unwrap_or_else(|| "amazon bedrock".into()),
    );
    crate::endpoint::EndpointInfo::of_family(classes, stream, &name, model, &Some("bedrock".into()))
}

/// A payload's JSON body, with a clear error if it cannot be written.
pub(crate) fn json_body(value: &Value) -> Result<Rc<[u8]>, EndpointError> {
    serde_json::to_vec(value)
        .map(Rc::from)
        .map_err(|e| EndpointError::Payload(format!("payload cannot be serialised: {e}")))
}

/// The message list of `create_payload`: LLMeter refuses an empty list.
pub(crate) fn message_items(
    message: &crate::endpoint::UserMessage,
) -> Result<Vec<&str>, EndpointError> {
    let items: Vec<&str> = match message {
        crate::endpoint::UserMessage::Text(t) => vec![t.as_str()],
        crate::endpoint::UserMessage::Parts(p) => p.iter().map(String::as_str).collect(),
    };
    if items.is_empty() {
        return Err(EndpointError::Payload(
            "user_message must not be empty".into(),
        ));
    }
    Ok(items)
}
