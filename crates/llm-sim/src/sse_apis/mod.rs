//! The streaming APIs besides Chat Completions: OpenAI's Responses API (`POST /v1/responses`),
//! Anthropic's Messages API (`POST /v1/messages`) and a small made-up generation API that the
//! custom-endpoint example measures (`POST /v1/generate`, SSE or JSON lines).
//!
//! They share the chat path's timing model, faults and ground truth: the plan comes from
//! [`chat::plan_request`], the body follows the same absolute schedule ([`body::EventStream`])
//! and every request gets a `/sim/requests` record. An API only says how its requests read
//! ([`EventApi::parse`]) and how its events, whole bodies and errors are written.
//!
//! Reasoning: `x-sim-reasoning-tokens: N` makes the first N output tokens hidden reasoning
//! (Responses' reasoning summary deltas, Anthropic's thinking deltas, the made-up API's `think`
//! events). They are output tokens — counted in `output_tokens`, on the same schedule — so the
//! visible text has `output_tokens − N` words.

pub mod anthropic;
pub mod generate;
pub mod responses;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{HeaderMap, Request, Response, StatusCode};

use crate::body::SimBody;
use crate::chat::{self, InjectedReset, Plan};
use crate::faults::FaultKind;
use crate::frame_stream::{FrameFault, FramePlan, FrameStream, FrameWriter};
use crate::ground_truth::{Clock, RecordPlan, RequestRecord};
use crate::openai::{count_words, ApiError, ChatRequest, FinishReason};
use crate::overrides::RequestOverrides;
use crate::state::{unix_now, AppState};

/// Per-request header: how many of the output tokens are reasoning (hidden) tokens.
pub const REASONING_TOKENS: &str = "x-sim-reasoning-tokens";

/// What a request asks for: the plan's inputs (as for chat) and the made-up API's format.
pub struct ApiRequest {
    pub chat: ChatRequest,
    /// JSON lines instead of SSE (the made-up API's `"format": "ndjson"`).
    pub ndjson: bool,
}

/// What an answer's events and bodies say about the response.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The response id, with the API's prefix (`resp_`, `msg_`, `gen-`).
    pub id: String,
    pub model: String,
    pub created: u64,
    pub input_tokens: u32,
    /// All output tokens, reasoning included.
    pub output_tokens: u32,
    pub reasoning_tokens: u32,
    pub finish: FinishReason,
}

impl Answer {
    pub fn visible_tokens(&self) -> u32 {
        self.output_tokens - self.reasoning_tokens
    }
}

/// An SSE API's frame writer (see [`FrameWriter`]), with the content type its stream is sent as.
pub trait EventWriter: FrameWriter {
    fn content_type(&self) -> &'static str;
}

/// One API's wire format.
pub trait EventApi: Sync {
    /// The request's plan inputs, or the API's own 400 answer.
    fn parse(&self, body: &[u8]) -> Result<ApiRequest, ApiError>;
    /// The response id for a simulator request id.
    fn response_id(&self, request_id: &str) -> String;
    /// An error answer's body in the API's shape.
    fn error_body(&self, error: &ApiError) -> Bytes;
    fn writer(&self, answer: Answer, ndjson: bool) -> Box<dyn EventWriter>;
    /// The whole non-streamed answer; `failed` for the `error-event` fault (the API's failed
    /// answer: a status and body).
    fn whole_body(&self, answer: &Answer, failed: bool) -> (StatusCode, Bytes);
}

fn error_response(api: &dyn EventApi, error: &ApiError, clock: Clock) -> Response<SimBody> {
    crate::router::json_response(error.status, SimBody::full(api.error_body(error), clock))
}

/// The reasoning-token header (a count; a malformed value is a 400 naming it).
fn reasoning_override(headers: &HeaderMap) -> Result<Option<u32>, String> {
    let Some(value) = headers.get(REASONING_TOKENS) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .map(Some)
        .ok_or_else(|| format!("Invalid header {REASONING_TOKENS}: must be a non-negative integer"))
}

/// Input-token rule shared by the APIs: all prompt texts, each split on whitespace like
/// Python's `str.split()` (texts joined by "\n", which is whitespace, give the same count).
pub fn count_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> u32 {
    let words: usize = texts.into_iter().map(count_words).sum();
    u32::try_from(words).unwrap_or(u32::MAX)
}

/// Handles one request of `api`: plan, record, fault, then the stream or the whole answer.
pub async fn serve(
    state: &Arc<AppState>,
    request_id: &str,
    request: Request<Incoming>,
    api: &dyn EventApi,
) -> Result<Response<SimBody>, InjectedReset> {
    let clock = state.clock;
    let headers = request.headers();
    let (overrides, reasoning) = match RequestOverrides::from_headers(headers)
        .and_then(|o| Ok((o, reasoning_override(headers)?)))
    {
        Ok(parsed) => parsed,
        Err(message) => {
            let error = ApiError::invalid_request(message, None, None);
            return Ok(error_response(api, &error, clock));
        }
    };
    let limit = state.config.max_body_bytes;
    let body = match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Ok(error_response(api, &ApiError::body_too_large(limit), clock))
        }
        Err(e) => {
            let error = ApiError::invalid_request(
                format!("Could not read the request body: {e}"),
                None,
                None,
            );
            return Ok(error_response(api, &error, clock));
        }
    };
    let received_at = Instant::now();
    let parsed = match api.parse(&body) {
        Ok(parsed) => parsed,
        Err(error) => return Ok(error_response(api, &error, clock)),
    };
    let chat = &parsed.chat;
    let plan = chat::plan_request(state, chat, &overrides);
    let answer = Answer {
        id: api.response_id(request_id),
        model: chat.model.clone(),
        created: unix_now(),
        input_tokens: chat.input_tokens,
        output_tokens: plan.output_tokens,
        reasoning_tokens: reasoning.unwrap_or(0).min(plan.output_tokens),
        finish: plan.finish_reason,
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

    // Faults answered before any generation.
    if let Some(error) = plan.fault.and_then(FaultKind::api_error) {
        let retry_after = state.config.retry_after_s;
        let body = api.error_body(&error);
        return Ok(chat::error_answer(
            error.status,
            body,
            retry_after,
            &record,
            clock,
        ));
    }
    if let Some(answer) = chat::reset_or_non_json(plan.fault, &record, clock) {
        return answer;
    }
    if chat.stream {
        Ok(stream(
            api,
            answer,
            parsed.ndjson,
            plan,
            received_at,
            record,
            clock,
        ))
    } else {
        Ok(whole(api, answer, plan, received_at, record, clock).await)
    }
}

/// Headers now (with the opening events); tokens on the plan's schedule.
fn stream(
    api: &dyn EventApi,
    answer: Answer,
    ndjson: bool,
    plan: Plan,
    received_at: Instant,
    record: Arc<RequestRecord>,
    clock: Clock,
) -> Response<SimBody> {
    let after_tokens = plan.fault_after_tokens;
    let fault = FrameFault::of(plan.fault, plan.stall);
    let total = answer.output_tokens;
    let reasoning = answer.reasoning_tokens;
    let writer = api.writer(answer, ndjson);
    let content_type = writer.content_type();
    let events = FrameStream::new(FramePlan {
        writer: writer as Box<dyn FrameWriter>,
        received_at,
        ttft: plan.ttft,
        itl: plan.itl,
        rng: plan.rng,
        output_tokens: total,
        reasoning_tokens: reasoning,
        fault: fault.map(|f| (f, after_tokens)),
    });
    let mut response = Response::new(SimBody::frames(events, record.clone(), clock));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    record.mark_headers_sent(200, clock.now_us());
    response
}

/// The whole answer, sent when the last token would have been generated.
async fn whole(
    api: &dyn EventApi,
    answer: Answer,
    mut plan: Plan,
    received_at: Instant,
    record: Arc<RequestRecord>,
    clock: Clock,
) -> Response<SimBody> {
    let mut generation: Duration = plan.ttft;
    if !plan.itl.is_always_zero() {
        for _ in 1..plan.output_tokens {
            generation += plan.itl.sample_delay_ms(&mut plan.rng);
        }
    }
    if plan.fault == Some(FaultKind::Stall) {
        generation += plan.stall;
    }
    if !generation.is_zero() {
        tokio::time::sleep_until(tokio::time::Instant::from_std(received_at + generation)).await;
    }
    let failed = plan.fault == Some(FaultKind::ErrorEvent);
    let (status, full) = api.whole_body(&answer, failed);
    let response = if plan.fault == Some(FaultKind::Disconnect) {
        // Declare the full length, send half, then abort: the client sees a truncated body.
        let full_len = full.len();
        let half = full.slice(..full_len / 2);
        let body = SimBody::recorded_full(half, 0, true, record.clone(), clock);
        let mut response = crate::router::json_response(status, body);
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(full_len));
        response
    } else {
        let tokens = if failed { 0 } else { plan.output_tokens };
        let body = SimBody::recorded_full(full, tokens, false, record.clone(), clock);
        crate::router::json_response(status, body)
    };
    record.mark_headers_sent(status.as_u16(), clock.now_us());
    response
}

/// JSON text of a string (model names and other client text are escaped).
pub fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// The visible text of an answer: its visible tokens from the word cycle (the same words the
/// chat path sends, so a whitespace tokenizer counts exactly the visible tokens).
pub fn visible_text(answer: &Answer) -> String {
    crate::openai::output_text(answer.visible_tokens())
}
