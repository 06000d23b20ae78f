//! `POST /v1/chat/completions`: read the request, plan its timing and fault, record it and
//! answer with a stream, a whole completion or the injected failure.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Request, Response, StatusCode};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::body::{SimBody, StreamFault, StreamPlan};
use crate::faults::FaultKind;
use crate::ground_truth::{Clock, Outcome, RecordPlan, RequestRecord};
use crate::openai::{self, ApiError, ChatRequest, ChunkTemplate, FinishReason, Usage};
use crate::overrides::RequestOverrides;
use crate::router::{api_error_response, json_response};
use crate::state::{unix_now, AppState};
use crate::timing::{millis_to_duration, ValueSpec};

/// Returned to hyper to close the connection without any response (the `reset` fault).
#[derive(Debug)]
pub struct InjectedReset;

impl fmt::Display for InjectedReset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("llm-sim injected connection reset")
    }
}

impl Error for InjectedReset {}

pub(crate) const NON_JSON_BODY: &str = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>upstream connect error (llm-sim non-json fault)</p></body></html>\n";

/// The timing and length decided for one request.
pub(crate) struct Plan {
    pub(crate) ttft: Duration,
    pub(crate) itl: ValueSpec,
    pub(crate) output_tokens: u32,
    pub(crate) finish_reason: FinishReason,
    pub(crate) fault: Option<FaultKind>,
    pub(crate) fault_after_tokens: u32,
    pub(crate) stall: Duration,
    pub(crate) rng: SmallRng,
}

/// Output length: an explicit length (header, else `--output-tokens`) is capped by the
/// request's limit; without one the model "runs" until the limit, else the default.
fn output_length(
    natural: Option<u32>,
    max_tokens: Option<u32>,
    default: u32,
) -> (u32, FinishReason) {
    match (natural, max_tokens) {
        (Some(n), Some(max)) if n >= max => (max, FinishReason::Length),
        (Some(n), _) => (n, FinishReason::Stop),
        (None, Some(max)) => (max, FinishReason::Length),
        (None, None) => (default, FinishReason::Stop),
    }
}

pub(crate) fn plan_request(
    state: &AppState,
    chat: &ChatRequest,
    overrides: &RequestOverrides,
) -> Plan {
    let config = &state.config;
    let (request_seed, fault) = state.with_rng(|rng| {
        let seed: u64 = rng.random();
        (seed, state.faults.choose(overrides.fault, chat.stream, rng))
    });
    let mut rng = SmallRng::seed_from_u64(request_seed);
    let base_ttft = overrides
        .ttft_ms
        .unwrap_or(config.ttft_ms)
        .sample_delay_ms(&mut rng);
    let prefill_us = overrides
        .prefill_us_per_token
        .unwrap_or(config.prefill_us_per_token)
        * chat.input_tokens as f64;
    let ttft = base_ttft + millis_to_duration(prefill_us / 1000.0);
    let natural = overrides
        .output_tokens
        .or(config.output_tokens)
        .map(|spec| spec.sample_tokens(&mut rng));
    let (output_tokens, finish_reason) =
        output_length(natural, chat.max_tokens, config.default_output_tokens);
    let fault_after_tokens = overrides
        .fault_after_tokens
        .or(config.fault_after_tokens)
        .unwrap_or(output_tokens / 2)
        .min(output_tokens);
    let stall = Duration::from_millis(overrides.stall_ms.unwrap_or(config.stall_ms));
    Plan {
        ttft,
        itl: overrides.itl_ms.unwrap_or(config.itl_ms),
        output_tokens,
        finish_reason,
        fault,
        fault_after_tokens,
        stall,
        rng,
    }
}

pub async fn chat_completions(
    state: &Arc<AppState>,
    request_id: &str,
    request: Request<Incoming>,
) -> Result<Response<SimBody>, InjectedReset> {
    let clock = state.clock;
    let overrides = match RequestOverrides::from_headers(request.headers()) {
        Ok(overrides) => overrides,
        Err(message) => {
            return Ok(api_error_response(
                &ApiError::invalid_request(message, None, None),
                clock,
            ))
        }
    };
    let limit = state.config.max_body_bytes;
    let body = match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Ok(api_error_response(&ApiError::body_too_large(limit), clock))
        }
        Err(e) => {
            let error = ApiError::invalid_request(
                format!("Could not read the request body: {e}"),
                None,
                None,
            );
            return Ok(api_error_response(&error, clock));
        }
    };
    // With --max-concurrency the request waits for a slot first; its timing starts after.
    let slot = match &state.slots {
        Some(slots) => slots.clone().acquire_owned().await.ok(),
        None => None,
    };
    let received_at = Instant::now();
    let chat = match openai::parse_chat_request(&body) {
        Ok(chat) => chat,
        Err(error) => return Ok(api_error_response(&error, clock)),
    };
    let plan = plan_request(state, &chat, &overrides);
    let created = unix_now();

    let record = Arc::new(RequestRecord::new(RecordPlan {
        id: request_id.to_string(),
        model: chat.model.clone(),
        stream: chat.stream,
        include_usage: chat.include_usage,
        input_tokens: chat.input_tokens,
        planned_output_tokens: plan.output_tokens,
        planned_ttft_us: plan.ttft.as_micros() as u64,
        finish_reason: plan.finish_reason,
        fault: plan.fault,
        received_us: clock.us_at(received_at),
    }));
    state.records.insert(record.clone());
    let usage = Usage {
        prompt_tokens: chat.input_tokens,
        completion_tokens: plan.output_tokens,
    };

    // Faults answered before any generation (without a stream, `error-event` is the 500).
    let http_fault = match plan.fault {
        Some(FaultKind::ErrorEvent) if !chat.stream => Some(FaultKind::ServerError),
        other => other,
    };
    if let Some(error) = http_fault.and_then(FaultKind::api_error) {
        let retry_after = state.config.retry_after_s;
        return Ok(error_answer(
            error.status,
            error.to_json(),
            retry_after,
            &record,
            clock,
        ));
    }
    if let Some(answer) = reset_or_non_json(plan.fault, &record, clock) {
        return answer;
    }

    let answer = Answer {
        request_id,
        created,
        chat: &chat,
        record,
        received_at,
        usage,
        clock,
    };
    let response = if chat.stream {
        answer.stream(plan)
    } else {
        answer.completion(plan).await
    };
    Ok(response.map(|body| body.holding(slot)))
}

/// What both kinds of successful answer need.
struct Answer<'a> {
    request_id: &'a str,
    created: u64,
    chat: &'a ChatRequest,
    record: Arc<RequestRecord>,
    received_at: Instant,
    usage: Usage,
    clock: Clock,
}

impl Answer<'_> {
    /// Headers now; events on the plan's schedule (see `body.rs`).
    fn stream(self, plan: Plan) -> Response<SimBody> {
        let after_tokens = plan.fault_after_tokens;
        let fault = match plan.fault {
            Some(FaultKind::Disconnect) => Some(StreamFault::Disconnect { after_tokens }),
            Some(FaultKind::Stall) => Some(StreamFault::Stall {
                after_tokens,
                duration: plan.stall,
            }),
            Some(FaultKind::MalformedSse) => Some(StreamFault::MalformedSse { after_tokens }),
            Some(FaultKind::ErrorEvent) => Some(StreamFault::ErrorEvent { after_tokens }),
            _ => None,
        };
        let chat = self.chat;
        let stream_plan = StreamPlan {
            template: ChunkTemplate::new(
                self.request_id,
                self.created,
                &chat.model,
                chat.include_usage,
            ),
            received_at: self.received_at,
            ttft: plan.ttft,
            itl: plan.itl,
            rng: plan.rng,
            output_tokens: plan.output_tokens,
            finish_reason: plan.finish_reason,
            usage: chat.include_usage.then_some(self.usage),
            fault,
        };
        let body = SimBody::stream(stream_plan, self.record.clone(), self.clock);
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        self.record.mark_headers_sent(200, self.clock.now_us());
        response
    }

    /// The whole completion, answered when the last token would have been generated.
    async fn completion(self, mut plan: Plan) -> Response<SimBody> {
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
            let deadline = tokio::time::Instant::from_std(self.received_at + generation);
            tokio::time::sleep_until(deadline).await;
        }
        let full = openai::completion_body(
            self.request_id,
            self.created,
            &self.chat.model,
            plan.finish_reason,
            self.usage,
        );
        let response = if plan.fault == Some(FaultKind::Disconnect) {
            // Declare the full length, send half, then abort: the client sees a truncated body.
            let full_len = full.len();
            let half = full.slice(..full_len / 2);
            let body = SimBody::recorded_full(half, 0, true, self.record.clone(), self.clock);
            let mut response = json_response(StatusCode::OK, body);
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(full_len));
            response
        } else {
            let body = SimBody::recorded_full(
                full,
                plan.output_tokens,
                false,
                self.record.clone(),
                self.clock,
            );
            json_response(StatusCode::OK, body)
        };
        self.record.mark_headers_sent(200, self.clock.now_us());
        response
    }
}

/// An API error answered before any generation (a planned HTTP fault), with `retry-after`.
pub fn error_answer(
    status: StatusCode,
    body: Bytes,
    retry_after_s: u64,
    record: &Arc<RequestRecord>,
    clock: Clock,
) -> Response<SimBody> {
    let body = SimBody::recorded_full(body, 0, false, record.clone(), clock);
    let mut response = json_response(status, body);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after_s));
    record.mark_headers_sent(status.as_u16(), clock.now_us());
    response
}

/// The planned faults that give no answer at all: a reset connection, or a 200 whose body is
/// not JSON. `None` for every other plan.
pub fn reset_or_non_json(
    fault: Option<FaultKind>,
    record: &Arc<RequestRecord>,
    clock: Clock,
) -> Option<Result<Response<SimBody>, InjectedReset>> {
    match fault {
        Some(FaultKind::Reset) => {
            record.finish(Outcome::AbortedByFault, clock.now_us());
            Some(Err(InjectedReset))
        }
        Some(FaultKind::NonJson) => {
            let non_json = Bytes::from_static(NON_JSON_BODY.as_bytes());
            let body = SimBody::recorded_full(non_json, 0, false, record.clone(), clock);
            record.mark_headers_sent(200, clock.now_us());
            Some(Ok(json_response(StatusCode::OK, body)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_length_rules() {
        assert_eq!(output_length(None, None, 16), (16, FinishReason::Stop));
        assert_eq!(
            output_length(None, Some(20), 16),
            (20, FinishReason::Length)
        );
        assert_eq!(
            output_length(Some(5), Some(20), 16),
            (5, FinishReason::Stop)
        );
        assert_eq!(
            output_length(Some(50), Some(20), 16),
            (20, FinishReason::Length)
        );
        assert_eq!(output_length(Some(50), None, 16), (50, FinishReason::Stop));
    }
}
