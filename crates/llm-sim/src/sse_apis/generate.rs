//! A small made-up generation API — the kind of in-house streaming API a team measures with
//! llmeter-wasm's `CustomEndpoint` (see the README's example). Not OpenAI-compatible on
//! purpose.
//!
//! `POST /v1/generate` with `{"prompt": "…", "max_new_tokens": N, "stream": true,
//! "format": "sse" | "ndjson", "model": "…"}` (`prompt` required; `stream` defaults to false).
//!
//! Streamed as SSE, one event per step:
//! `event: start` `{"id", "model"}` → `event: think` `{"text"}` (reasoning, when asked for) →
//! `event: token` `{"text"}` … → `event: stats` `{"prompt_tokens", "generated_tokens",
//! "reasoning_tokens", "finish"}` → `event: end` `{}`. The `error-event` fault sends
//! `event: fail` `{"reason"}` and ends. With `"format": "ndjson"` the same objects come as JSON
//! lines, each with a `"type"` key (`application/x-ndjson`). Without streaming:
//! `{"id", "model", "text", "prompt_tokens", "generated_tokens", "reasoning_tokens", "finish"}`.
//! Errors: `{"error": "<message>"}`.

use bytes::Bytes;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{count_texts, visible_text, Answer, ApiRequest, EventApi, EventWriter};
use crate::frame_stream::FrameWriter;
use crate::openai::{token_text, ApiError, ChatRequest, FinishReason};
use crate::timing::MAX_OUTPUT_TOKENS;

pub struct GenerateApi;

pub const FAIL_REASON: &str = "generation failed (mid-stream failure simulated by llm-sim)";

#[derive(Deserialize)]
struct RawRequest {
    model: Option<String>,
    prompt: Option<String>,
    max_new_tokens: Option<i64>,
    stream: Option<bool>,
    format: Option<String>,
}

fn finish_name(answer: &Answer) -> &'static str {
    match answer.finish {
        FinishReason::Length => "length",
        FinishReason::Stop => "stop",
    }
}

fn stats(answer: &Answer) -> Value {
    json!({"prompt_tokens": answer.input_tokens, "generated_tokens": answer.output_tokens,
        "reasoning_tokens": answer.reasoning_tokens, "finish": finish_name(answer)})
}

impl EventApi for GenerateApi {
    fn parse(&self, body: &[u8]) -> Result<ApiRequest, ApiError> {
        let raw: RawRequest = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid_request(format!("bad request body: {e}"), None, None))?;
        let Some(prompt) = raw.prompt else {
            return Err(ApiError::invalid_request("prompt is required", None, None));
        };
        let ndjson = match raw.format.as_deref() {
            None | Some("sse") => false,
            Some("ndjson") => true,
            Some(other) => {
                return Err(ApiError::invalid_request(
                    format!("format must be \"sse\" or \"ndjson\", got {other:?}"),
                    None,
                    None,
                ))
            }
        };
        let max_tokens = match raw.max_new_tokens {
            Some(v) if v < 1 => {
                return Err(ApiError::invalid_request(
                    "max_new_tokens must be at least 1",
                    None,
                    None,
                ))
            }
            Some(v) => Some(v.min(MAX_OUTPUT_TOKENS as i64) as u32),
            None => None,
        };
        Ok(ApiRequest {
            chat: ChatRequest {
                model: raw.model.unwrap_or_else(|| "llm-sim".into()),
                stream: raw.stream.unwrap_or(false),
                include_usage: true,
                max_tokens,
                input_tokens: count_texts([prompt.as_str()]),
            },
            ndjson,
        })
    }

    fn response_id(&self, request_id: &str) -> String {
        format!("gen-{request_id}")
    }

    fn error_body(&self, error: &ApiError) -> Bytes {
        Bytes::from(json!({ "error": error.message }).to_string())
    }

    fn writer(&self, answer: Answer, ndjson: bool) -> Box<dyn EventWriter> {
        Box::new(GenerateWriter { answer, ndjson })
    }

    fn whole_body(&self, answer: &Answer, failed: bool) -> (StatusCode, Bytes) {
        if failed {
            let body = json!({ "error": FAIL_REASON });
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Bytes::from(body.to_string()),
            );
        }
        let mut body = stats(answer);
        body["id"] = Value::from(answer.id.as_str());
        body["model"] = Value::from(answer.model.as_str());
        body["text"] = Value::from(visible_text(answer));
        (StatusCode::OK, Bytes::from(body.to_string()))
    }
}

struct GenerateWriter {
    answer: Answer,
    ndjson: bool,
}

impl GenerateWriter {
    fn event(&self, kind: &str, mut data: Value) -> Bytes {
        if self.ndjson {
            data["type"] = Value::from(kind);
            Bytes::from(format!("{data}\n"))
        } else {
            Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))
        }
    }
}

impl EventWriter for GenerateWriter {
    fn content_type(&self) -> &'static str {
        if self.ndjson {
            "application/x-ndjson"
        } else {
            "text/event-stream; charset=utf-8"
        }
    }
}

impl FrameWriter for GenerateWriter {
    fn preamble(&mut self) -> Bytes {
        self.event(
            "start",
            json!({"id": self.answer.id, "model": self.answer.model}),
        )
    }

    fn reasoning(&mut self, index: u32) -> Bytes {
        self.event("think", json!({ "text": token_text(index) }))
    }

    fn text(&mut self, index: u32) -> Bytes {
        self.event("token", json!({ "text": token_text(index) }))
    }

    fn garbage(&mut self) -> Bytes {
        if self.ndjson {
            Bytes::from_static(b"{\"type\": \"token\", \"text\": <<llm-sim malformed-sse fault>>\n")
        } else {
            Bytes::from_static(
                b"event: token\ndata: {\"text\": <<llm-sim malformed-sse fault>>\n\n",
            )
        }
    }

    fn error_event(&mut self) -> Bytes {
        self.event("fail", json!({ "reason": FAIL_REASON }))
    }

    fn finish(&mut self) -> Bytes {
        let mut out = self.event("stats", stats(&self.answer)).to_vec();
        out.extend_from_slice(&self.event("end", json!({})));
        Bytes::from(out)
    }
}
