//! Routing, the small routes (`/v1/models`, `/health`, `/sim/*`) and headers every response gets
//! (`x-request-id`, CORS).

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;

use crate::body::SimBody;
use crate::chat::{self, InjectedReset};
use crate::cors::CorsRequest;
use crate::faults::FaultKind;
use crate::ground_truth::{Clock, RecordSnapshot};
use crate::openai::{self, ApiError};
use crate::sse_apis;
use crate::state::{unix_now, AppState};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn json_response(status: StatusCode, body: SimBody) -> Response<SimBody> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub fn api_error_response(error: &ApiError, clock: Clock) -> Response<SimBody> {
    json_response(error.status, SimBody::full(error.to_json(), clock))
}

fn json_value_response<T: Serialize>(value: &T, clock: Clock) -> Response<SimBody> {
    match serde_json::to_vec(value) {
        Ok(bytes) => json_response(StatusCode::OK, SimBody::full(bytes.into(), clock)),
        Err(e) => {
            let error = ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("serialising the answer failed: {e}"),
                error_type: "server_error",
                param: None,
                code: None,
            };
            api_error_response(&error, clock)
        }
    }
}

fn method_not_allowed(
    method: &Method,
    path: &str,
    allow: &'static str,
    clock: Clock,
) -> Response<SimBody> {
    let mut response =
        api_error_response(&ApiError::method_not_allowed(method.as_str(), path), clock);
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

/// The value of `name` in a query string (no percent-decoding: ids are plain hex).
fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

#[derive(Serialize)]
struct RecordList {
    now_us: u64,
    requests: Vec<RecordSnapshot>,
}

/// Every fault this build knows, for clients that test each one (a new kind cannot be missed).
fn fault_list() -> serde_json::Value {
    let faults: Vec<serde_json::Value> = FaultKind::ALL
        .iter()
        .map(|kind| {
            serde_json::json!({
                "name": kind.as_str(),
                "streams_only": !kind.applies_to(false),
            })
        })
        .collect();
    serde_json::json!({ "faults": faults })
}

/// Handle one request. `Err` closes the connection without an answer (the `reset` fault).
pub async fn route(
    state: Arc<AppState>,
    request: Request<Incoming>,
) -> Result<Response<SimBody>, InjectedReset> {
    let clock = state.clock;
    let request_id = state.next_request_id();
    let cors_request = if state.cors.enabled() {
        CorsRequest::from_headers(request.headers())
    } else {
        CorsRequest::default()
    };
    let method = request.method().clone();
    // Owned: `request` moves into the chat handler.
    let path = request.uri().path().to_string();

    let mut response = if method == Method::OPTIONS && state.cors.enabled() {
        let mut preflight = Response::new(SimBody::empty(clock));
        *preflight.status_mut() = StatusCode::NO_CONTENT;
        state
            .cors
            .decorate_preflight(&cors_request, preflight.headers_mut());
        preflight
    } else {
        match (path.as_str(), &method) {
            ("/v1/chat/completions", &Method::POST) => {
                chat::chat_completions(&state, &request_id, request).await?
            }
            ("/v1/chat/completions", _) => {
                method_not_allowed(&method, &path, "POST, OPTIONS", clock)
            }
            ("/v1/responses", &Method::POST) => {
                sse_apis::serve(
                    &state,
                    &request_id,
                    request,
                    &sse_apis::responses::ResponsesApi,
                )
                .await?
            }
            ("/v1/messages", &Method::POST) => {
                sse_apis::serve(
                    &state,
                    &request_id,
                    request,
                    &sse_apis::anthropic::AnthropicApi,
                )
                .await?
            }
            ("/v1/generate", &Method::POST) => {
                sse_apis::serve(
                    &state,
                    &request_id,
                    request,
                    &sse_apis::generate::GenerateApi,
                )
                .await?
            }
            ("/v1/responses" | "/v1/messages" | "/v1/generate", _) => {
                method_not_allowed(&method, &path, "POST, OPTIONS", clock)
            }
            // Bedrock and SageMaker runtime paths (`/model/…`, `/endpoints/…`).
            (p, &Method::POST) if crate::aws::route(p).is_some() => {
                let Some((api, target)) = crate::aws::route(p) else {
                    unreachable!("checked by the guard")
                };
                crate::aws::serve(&state, &request_id, request, api, target).await?
            }
            ("/v1/models", &Method::GET) => json_response(
                StatusCode::OK,
                SimBody::full(openai::models_body(&state.config.models, unix_now()), clock),
            ),
            ("/v1/models", _) => method_not_allowed(&method, &path, "GET, OPTIONS", clock),
            // Liveness as vLLM answers it (200, empty body): GuideLLM checks it before a run.
            ("/health", &Method::GET) => {
                let mut ok = Response::new(SimBody::empty(clock));
                *ok.status_mut() = StatusCode::OK;
                ok
            }
            ("/health", _) => method_not_allowed(&method, &path, "GET, OPTIONS", clock),
            ("/sim/requests", &Method::GET) => {
                let requests = state
                    .records
                    .snapshots(query_param(request.uri().query(), "id"));
                json_value_response(
                    &RecordList {
                        now_us: clock.now_us(),
                        requests,
                    },
                    clock,
                )
            }
            ("/sim/requests", &Method::DELETE) => {
                let cleared = state.records.clear();
                json_value_response(&serde_json::json!({ "cleared": cleared }), clock)
            }
            ("/sim/requests", _) => {
                method_not_allowed(&method, &path, "GET, DELETE, OPTIONS", clock)
            }
            ("/sim/clock", &Method::GET) => {
                json_value_response(&serde_json::json!({ "now_us": clock.now_us() }), clock)
            }
            ("/sim/clock", _) => method_not_allowed(&method, &path, "GET, OPTIONS", clock),
            ("/sim/faults", &Method::GET) => json_value_response(&fault_list(), clock),
            ("/sim/faults", _) => method_not_allowed(&method, &path, "GET, OPTIONS", clock),
            _ => api_error_response(&ApiError::not_found(method.as_str(), &path), clock),
        }
    };

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    state.cors.decorate(&cors_request, response.headers_mut());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params() {
        assert_eq!(query_param(Some("id=abc&x=1"), "id"), Some("abc"));
        assert_eq!(query_param(Some("x=1&id="), "id"), Some(""));
        assert_eq!(query_param(Some("idx=1"), "id"), None);
        assert_eq!(query_param(None, "id"), None);
    }
}
