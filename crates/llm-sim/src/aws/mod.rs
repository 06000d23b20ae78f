//! Amazon Bedrock and SageMaker runtime APIs:
//!
//! * `POST /model/{modelId}/converse` and `/converse-stream` (Bedrock Converse),
//! * `POST /model/{modelId}/invoke` and `/invoke-with-response-stream` (Bedrock InvokeModel;
//!   the body is the model family's own, chosen by the model id: see [`invoke`]),
//! * `POST /endpoints/{name}/invocations` and `/invocations-response-stream` (SageMaker, TGI or
//!   LMI lines).
//!
//! Streams use the AWS event-stream framing (from `llmeter-core`, which botocore reads in the
//! Python tests). Requests are authorized as AWS does ([`auth`]). Timing, faults and ground
//! truth are the chat path's: the plan comes from [`chat::plan_request`], streams follow the
//! same absolute schedule ([`crate::frame_stream`]), every accepted request gets a
//! `/sim/requests` record whose id is the `x-amzn-RequestId` header.

pub mod auth;
pub mod converse;
pub mod invoke;
pub mod sagemaker;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{HeaderMap, Request, Response, StatusCode};
use llmeter_core::framing::event_stream::{encode_message, HeaderValue as EventHeader};

use crate::body::SimBody;
use crate::chat::{self, InjectedReset};
use crate::faults::FaultKind;
use crate::frame_stream::{FrameFault, FramePlan, FrameStream, FrameWriter};
use crate::ground_truth::{Clock, RecordPlan, RequestRecord};
use crate::openai::{ChatRequest, FinishReason};
use crate::overrides::RequestOverrides;
use crate::state::AppState;

/// Per-request header: how many of the output tokens are hidden reasoning (Converse
/// `reasoningContent`, Claude's and Nova's thinking); ignored by families without reasoning.
pub const REASONING_TOKENS: &str = "x-sim-reasoning-tokens";
/// Per-request header for SageMaker streams: `tgi` (default, `data:{…}` lines) or `lmi`
/// (JSON lines).
pub const LINE_FORMAT: &str = "x-sim-line-format";

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");
const ERROR_TYPE: HeaderName = HeaderName::from_static("x-amzn-errortype");
pub const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// An error answered as AWS does: status, `x-amzn-ErrorType`, `{"message": …}`.
#[derive(Clone, Debug, PartialEq)]
pub struct AwsError {
    pub status: StatusCode,
    pub error_type: &'static str,
    pub message: String,
}

impl AwsError {
    pub fn new(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> Self {
        AwsError {
            status,
            error_type,
            message: message.into(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        AwsError::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    fn body(&self) -> Bytes {
        Bytes::from(serde_json::json!({ "message": self.message }).to_string())
    }

    fn response(&self, clock: Clock) -> Response<SimBody> {
        let mut response =
            crate::router::json_response(self.status, SimBody::full(self.body(), clock));
        self.decorate(response.headers_mut());
        response
    }

    fn decorate(&self, headers: &mut HeaderMap) {
        let value = format!(
            "{}:http://internal.amazon.com/coral/com.amazon.coral.service/",
            self.error_type
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(ERROR_TYPE, v);
        }
    }
}

/// What one request asks for, as the plan needs it, plus the family's own settings.
pub struct AwsRequest {
    pub chat: ChatRequest,
    /// SageMaker: `parameters.details` (the last line and the body carry `details`).
    pub details: bool,
}

/// One answer: what its messages and bodies say.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The simulator's request id (`x-amzn-RequestId`).
    pub id: String,
    pub model: String,
    pub input_tokens: u32,
    /// All output tokens, reasoning included.
    pub output_tokens: u32,
    pub reasoning_tokens: u32,
    pub finish: FinishReason,
    pub received_at: Instant,
    /// Time to first token of the plan (Bedrock's `firstByteLatency`).
    pub ttft: Duration,
    pub details: bool,
    /// SageMaker: LMI JSON lines instead of TGI's `data:` lines.
    pub lmi: bool,
}

impl Answer {
    pub fn visible_tokens(&self) -> u32 {
        self.output_tokens - self.reasoning_tokens
    }

    /// Milliseconds since the request arrived (Bedrock's `latencyMs`, `invocationLatency`).
    pub fn elapsed_ms(&self) -> u64 {
        self.received_at.elapsed().as_millis() as u64
    }
}

/// One AWS operation family's wire format.
pub trait AwsApi: Sync {
    /// The SigV4 signing name.
    fn service(&self) -> &'static str;
    /// Whether this operation streams.
    fn stream(&self) -> bool;
    /// The request's plan inputs (`target` is the model id or endpoint name from the path).
    fn parse(&self, target: &str, body: &[u8]) -> Result<AwsRequest, AwsError>;
    /// Whether the family has hidden reasoning output.
    fn reasoning(&self, target: &str) -> bool;
    fn writer(&self, answer: Answer) -> Box<dyn FrameWriter>;
    fn whole_body(&self, answer: &Answer) -> Bytes;
    /// Extra response headers of an answer.
    fn answer_headers(&self, _answer: &Answer, _headers: &mut HeaderMap) {}
    /// The error of an HTTP-level fault (429, 500, 503; `error-event` without a stream).
    fn fault_error(&self, fault: FaultKind) -> Option<AwsError>;
}

/// `%3A` → `:`: a path label as sent.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The operation and its target (model id or endpoint name) of an AWS path, if it is one.
pub fn route(path: &str) -> Option<(&'static dyn AwsApi, String)> {
    if let Some(rest) = path.strip_prefix("/model/") {
        let (label, op) = rest.split_once('/')?;
        let api: &'static dyn AwsApi = match op {
            "converse" => &converse::ConverseApi { stream: false },
            "converse-stream" => &converse::ConverseApi { stream: true },
            "invoke" => &invoke::InvokeApi { stream: false },
            "invoke-with-response-stream" => &invoke::InvokeApi { stream: true },
            _ => return None,
        };
        return (!label.is_empty()).then(|| (api, percent_decode(label)));
    }
    let rest = path.strip_prefix("/endpoints/")?;
    let (label, op) = rest.split_once('/')?;
    let api: &'static dyn AwsApi = match op {
        "invocations" => &sagemaker::SageMakerApi { stream: false },
        "invocations-response-stream" => &sagemaker::SageMakerApi { stream: true },
        _ => return None,
    };
    (!label.is_empty()).then(|| (api, percent_decode(label)))
}

fn count_header(headers: &HeaderMap, name: &str) -> Result<Option<u32>, String> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .map(Some)
        .ok_or_else(|| format!("Invalid header {name}: must be a non-negative integer"))
}

fn unix_now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Handles one request of an AWS operation.
pub async fn serve(
    state: &Arc<AppState>,
    request_id: &str,
    request: Request<Incoming>,
    api: &dyn AwsApi,
    target: String,
) -> Result<Response<SimBody>, InjectedReset> {
    let mut response = serve_inner(state, request_id, request, api, target).await?;
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(REQUEST_ID, id);
    }
    Ok(response)
}

async fn serve_inner(
    state: &Arc<AppState>,
    request_id: &str,
    request: Request<Incoming>,
    api: &dyn AwsApi,
    target: String,
) -> Result<Response<SimBody>, InjectedReset> {
    let clock = state.clock;
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let (overrides, reasoning, lmi) = match RequestOverrides::from_headers(headers).and_then(|o| {
        let lmi = match headers.get(LINE_FORMAT).map(|v| v.to_str().unwrap_or("")) {
            None | Some("tgi") => false,
            Some("lmi") => true,
            Some(other) => {
                return Err(format!(
                    "Invalid header {LINE_FORMAT}: '{other}' (tgi or lmi)"
                ))
            }
        };
        Ok((o, count_header(headers, REASONING_TOKENS)?, lmi))
    }) {
        Ok(parsed) => parsed,
        Err(message) => return Ok(AwsError::validation(message).response(clock)),
    };
    let limit = state.config.max_body_bytes;
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            let error = AwsError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "ValidationException",
                format!("Request body is larger than {limit} bytes."),
            );
            return Ok(error.response(clock));
        }
        Err(e) => {
            let error = AwsError::validation(format!("Could not read the request body: {e}"));
            return Ok(error.response(clock));
        }
    };
    let received_at = Instant::now();
    let host = headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    let signed = auth::SignedParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        host,
        headers,
        body: &body,
    };
    if let Err(error) = auth::check(&state.config, api.service(), &signed, unix_now_ms()) {
        return Ok(error.response(clock));
    }
    let parsed = match api.parse(&target, &body) {
        Ok(parsed) => parsed,
        Err(error) => return Ok(error.response(clock)),
    };
    let chat = &parsed.chat;
    let plan = chat::plan_request(state, chat, &overrides);
    let reasoning_tokens = if api.reasoning(&target) {
        reasoning.unwrap_or(0).min(plan.output_tokens)
    } else {
        0
    };
    let answer = Answer {
        id: request_id.to_string(),
        model: chat.model.clone(),
        input_tokens: chat.input_tokens,
        output_tokens: plan.output_tokens,
        reasoning_tokens,
        finish: plan.finish_reason,
        received_at,
        ttft: plan.ttft,
        details: parsed.details,
        lmi,
    };
    let record = Arc::new(RequestRecord::new(RecordPlan {
        id: request_id.to_string(),
        model: chat.model.clone(),
        stream: chat.stream,
        include_usage: true,
        input_tokens: chat.input_tokens,
        planned_output_tokens: plan.output_tokens,
        planned_ttft_us: plan.ttft.as_micros() as u64,
        finish_reason: plan.finish_reason,
        fault: plan.fault,
        received_us: clock.us_at(received_at),
    }));
    state.records.insert(record.clone());

    // Faults answered before any generation (without a stream, `error-event` is the model's
    // error answer).
    let http_fault = match plan.fault {
        Some(FaultKind::ErrorEvent) if chat.stream => None,
        other => other,
    };
    if let Some(error) = http_fault.and_then(|f| api.fault_error(f)) {
        let retry_after = state.config.retry_after_s;
        let mut response =
            chat::error_answer(error.status, error.body(), retry_after, &record, clock);
        error.decorate(response.headers_mut());
        return Ok(response);
    }
    if let Some(answer) = chat::reset_or_non_json(plan.fault, &record, clock) {
        return answer;
    }
    if chat.stream {
        Ok(stream_answer(api, answer, plan, record, clock))
    } else {
        Ok(whole_answer(api, answer, plan, record, clock).await)
    }
}

fn stream_answer(
    api: &dyn AwsApi,
    answer: Answer,
    plan: chat::Plan,
    record: Arc<RequestRecord>,
    clock: Clock,
) -> Response<SimBody> {
    let fault = FrameFault::of(plan.fault, plan.stall);
    let mut headers = HeaderMap::new();
    api.answer_headers(&answer, &mut headers);
    let (output_tokens, reasoning_tokens, received_at) = (
        answer.output_tokens,
        answer.reasoning_tokens,
        answer.received_at,
    );
    let stream = FrameStream::new(FramePlan {
        writer: api.writer(answer),
        received_at,
        ttft: plan.ttft,
        itl: plan.itl,
        rng: plan.rng,
        output_tokens,
        reasoning_tokens,
        fault: fault.map(|f| (f, plan.fault_after_tokens)),
    });
    let mut response = Response::new(SimBody::frames(stream, record.clone(), clock));
    let out = response.headers_mut();
    out.extend(headers);
    out.insert(CONTENT_TYPE, HeaderValue::from_static(EVENT_STREAM));
    record.mark_headers_sent(200, clock.now_us());
    response
}

/// The whole answer, sent when the last token would have been generated.
async fn whole_answer(
    api: &dyn AwsApi,
    answer: Answer,
    mut plan: chat::Plan,
    record: Arc<RequestRecord>,
    clock: Clock,
) -> Response<SimBody> {
    let mut generation = plan.ttft;
    if !plan.itl.is_always_zero() {
        for _ in 1..plan.output_tokens {
            generation += plan.itl.sample_delay_ms(&mut plan.rng);
        }
    }
    if plan.fault == Some(FaultKind::Stall) {
        generation += plan.stall;
    }
    if !generation.is_zero() {
        let deadline = tokio::time::Instant::from_std(answer.received_at + generation);
        tokio::time::sleep_until(deadline).await;
    }
    let full = api.whole_body(&answer);
    let mut response = if plan.fault == Some(FaultKind::Disconnect) {
        // Declare the full length, send half, then abort: the client sees a truncated body.
        let full_len = full.len();
        let half = full.slice(..full_len / 2);
        let body = SimBody::recorded_full(half, 0, true, record.clone(), clock);
        let mut response = crate::router::json_response(StatusCode::OK, body);
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(full_len));
        response
    } else {
        let body = SimBody::recorded_full(full, plan.output_tokens, false, record.clone(), clock);
        crate::router::json_response(StatusCode::OK, body)
    };
    api.answer_headers(&answer, response.headers_mut());
    record.mark_headers_sent(200, clock.now_us());
    response
}

// ---------- shared wire pieces ----------

/// An event message with the JSON `payload`.
pub fn event(event_type: &str, payload: &serde_json::Value) -> Vec<u8> {
    llmeter_core::framing::event_stream::encode_event(event_type, payload.to_string().as_bytes())
}

/// A service exception message.
pub fn exception(exception_type: &str, payload: &serde_json::Value) -> Bytes {
    Bytes::from(llmeter_core::framing::event_stream::encode_exception(
        exception_type,
        payload.to_string().as_bytes(),
    ))
}

/// The `malformed-sse` fault for event streams: a message whose checksum is wrong.
pub fn garbage_message() -> Bytes {
    let mut message = encode_message(
        &[
            (":event-type", EventHeader::String("chunk")),
            (":message-type", EventHeader::String("event")),
        ],
        b"{\"llm-sim\":\"malformed-sse fault\"}",
    );
    let last = message.len() - 1;
    message[last] ^= 0xff;
    Bytes::from(message)
}

/// The `p` padding Bedrock adds to stream payloads (clients ignore it).
pub const PADDING: &str = "abcdefghijklmnopqrstuvwxyzABCDEF";

/// Standard base64 (Bedrock's chunk `bytes`).
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= group.len() {
                A[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// `stopReason` of Bedrock's Converse and Nova.
pub fn stop_reason(finish: FinishReason) -> &'static str {
    match finish {
        FinishReason::Length => "max_tokens",
        FinishReason::Stop => "end_turn",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_labels() {
        let (api, target) =
            route("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream").unwrap();
        assert_eq!(
            (api.service(), api.stream(), target.as_str()),
            ("bedrock", true, "anthropic.claude-3-haiku-20240307-v1:0")
        );
        let (api, target) = route("/endpoints/my-tgi/invocations").unwrap();
        assert_eq!(
            (api.service(), api.stream(), target.as_str()),
            ("sagemaker", false, "my-tgi")
        );
        assert!(route("/model//converse").is_none());
        assert!(route("/model/x/other").is_none());
        assert!(route("/v1/chat/completions").is_none());
        assert_eq!(percent_decode("a%2Fb%3a%zz%4"), "a/b:%zz%4");
    }

    #[test]
    fn base64_matches_rfc4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
