//! SageMaker InvokeEndpoint and InvokeEndpointWithResponseStream, answering as a TGI or LMI
//! (DJL) container behind SageMaker does.
//!
//! Request: `inputs` (a string, or text blocks) is the input; `parameters.max_new_tokens` caps
//! the output; `parameters.details` adds `details` (`generated_tokens`, `finish_reason`). Stream:
//! `PayloadPart` events whose bytes are lines — TGI's `data:{"token":{…},…}` (default) or LMI's
//! JSON lines (`x-sim-line-format: lmi`). Each token's line is split over two parts, as
//! SageMaker does not align parts with lines. The `error-event` fault is a `ModelStreamError`.

use bytes::Bytes;
use hyper::header::HeaderValue;
use hyper::{HeaderMap, StatusCode};
use llmeter_core::framing::event_stream::{encode_message, HeaderValue as EventHeader};
use serde_json::{json, Value};

use super::converse::{malformed, text_of, token_limit};
use super::{exception, garbage_message, Answer, AwsApi, AwsError, AwsRequest};
use crate::faults::FaultKind;
use crate::frame_stream::FrameWriter;
use crate::openai::{count_words, token_text, ChatRequest, FinishReason};

pub struct SageMakerApi {
    pub stream: bool,
}

fn inputs_words(value: Option<&Value>) -> Option<usize> {
    match value? {
        Value::String(s) => Some(count_words(s)),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| i.get("text").and_then(Value::as_str))
                .map(count_words)
                .sum(),
        ),
        _ => None,
    }
}

fn finish_reason(finish: FinishReason) -> &'static str {
    match finish {
        FinishReason::Length => "length",
        FinishReason::Stop => "eos_token",
    }
}

fn details(answer: &Answer) -> Value {
    json!({"finish_reason": finish_reason(answer.finish), "generated_tokens": answer.output_tokens, "seed": null})
}

/// One `PayloadPart` event carrying raw `bytes`.
fn part(bytes: &[u8]) -> Vec<u8> {
    encode_message(
        &[
            (":event-type", EventHeader::String("PayloadPart")),
            (
                ":content-type",
                EventHeader::String("application/octet-stream"),
            ),
            (":message-type", EventHeader::String("event")),
        ],
        bytes,
    )
}

impl AwsApi for SageMakerApi {
    fn service(&self) -> &'static str {
        "sagemaker"
    }

    fn stream(&self) -> bool {
        self.stream
    }

    fn parse(&self, endpoint_name: &str, body: &[u8]) -> Result<AwsRequest, AwsError> {
        let body: Value = serde_json::from_slice(body).map_err(|_| malformed())?;
        let Some(input) = inputs_words(body.get("inputs")) else {
            return Err(AwsError::new(
                StatusCode::FAILED_DEPENDENCY,
                "ModelError",
                "Received client error (422) from primary with message \"Failed to deserialize the JSON body into the target type: missing field `inputs`\". (simulated by llm-sim)",
            ));
        };
        let parameters = body.get("parameters");
        let max_tokens = token_limit(
            "parameters.max_new_tokens",
            parameters
                .and_then(|p| p.get("max_new_tokens"))
                .and_then(Value::as_i64),
        )?;
        let details = parameters
            .and_then(|p| p.get("details"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok(AwsRequest {
            chat: ChatRequest {
                model: endpoint_name.to_owned(),
                stream: self.stream,
                include_usage: true,
                max_tokens,
                input_tokens: u32::try_from(input).unwrap_or(u32::MAX),
            },
            details,
        })
    }

    fn reasoning(&self, _endpoint_name: &str) -> bool {
        false
    }

    fn writer(&self, answer: Answer) -> Box<dyn FrameWriter> {
        Box::new(LinesWriter { answer })
    }

    fn whole_body(&self, answer: &Answer) -> Bytes {
        let mut body = json!({"generated_text": text_of(0, answer.output_tokens)});
        if answer.details {
            body["details"] = details(answer);
        }
        Bytes::from(body.to_string())
    }

    fn answer_headers(&self, _answer: &Answer, headers: &mut HeaderMap) {
        headers.insert(
            "x-amzn-invoked-production-variant",
            HeaderValue::from_static("AllTraffic"),
        );
    }

    fn fault_error(&self, fault: FaultKind) -> Option<AwsError> {
        let (status, error_type, message) = match fault {
            FaultKind::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "ThrottlingException",
                "Rate exceeded (simulated by llm-sim)",
            ),
            FaultKind::ServerError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "An internal failure occurred. (simulated by llm-sim)",
            ),
            FaultKind::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The service is unavailable. (simulated by llm-sim)",
            ),
            FaultKind::ErrorEvent => (
                StatusCode::FAILED_DEPENDENCY,
                "ModelError",
                "Received server error (500) from primary with message \"generation failed\". (simulated by llm-sim)",
            ),
            _ => return None,
        };
        Some(AwsError::new(status, error_type, message))
    }
}

struct LinesWriter {
    answer: Answer,
}

impl FrameWriter for LinesWriter {
    fn preamble(&mut self) -> Bytes {
        Bytes::new()
    }

    fn reasoning(&mut self, index: u32) -> Bytes {
        self.text(index)
    }

    fn text(&mut self, index: u32) -> Bytes {
        let a = &self.answer;
        let last = index + 1 == a.output_tokens;
        let line = if a.lmi {
            let mut line =
                json!({"token": {"id": [index + 1], "text": token_text(index), "log_prob": -0.25}});
            if last {
                line["generated_text"] = json!(text_of(0, a.output_tokens));
                if a.details {
                    line["details"] = details(a);
                }
            }
            format!("{line}\n")
        } else {
            let (generated, details) = if last {
                (
                    json!(text_of(0, a.output_tokens)),
                    if a.details { details(a) } else { Value::Null },
                )
            } else {
                (Value::Null, Value::Null)
            };
            let line = json!({"index": index + 1,
                "token": {"id": index + 1, "text": token_text(index), "logprob": -0.25, "special": false},
                "generated_text": generated, "details": details});
            format!("data:{line}\n\n")
        };
        let (a_half, b_half) = line.as_bytes().split_at(line.len() / 2);
        let mut out = part(a_half);
        out.extend(part(b_half));
        Bytes::from(out)
    }

    fn garbage(&mut self) -> Bytes {
        garbage_message()
    }

    fn error_event(&mut self) -> Bytes {
        exception(
            "ModelStreamError",
            &json!({"Message": "Model stream failed. (simulated by llm-sim)", "ErrorCode": "ModelInvocationTimeExceeded"}),
        )
    }

    fn finish(&mut self) -> Bytes {
        Bytes::new()
    }
}
