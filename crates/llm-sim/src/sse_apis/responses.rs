//! OpenAI's Responses API: `POST /v1/responses` with `input` (a string or messages),
//! `instructions` and `max_output_tokens`. Streams the real event sequence with `event:` lines
//! and sequence numbers: `response.created`, `response.in_progress`, the reasoning item's
//! summary deltas (when asked for), the message item and its `response.output_text.delta`s,
//! the `*.done` events, then `response.completed` — or `response.incomplete` when the output
//! hit `max_output_tokens`, as the real API does. Errors use the OpenAI error shape; the
//! `error-event` fault is `response.failed` (without a stream: a `"status": "failed"` body).

use bytes::Bytes;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{count_texts, visible_text, Answer, ApiRequest, EventApi, EventWriter};
use crate::frame_stream::FrameWriter;
use crate::openai::{token_text, ApiError, ChatRequest, FinishReason};
use crate::timing::MAX_OUTPUT_TOKENS;

pub struct ResponsesApi;

#[derive(Deserialize)]
struct RawRequest {
    model: Option<String>,
    input: Option<RawInput>,
    instructions: Option<String>,
    max_output_tokens: Option<i64>,
    stream: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawInput {
    Text(String),
    Items(Vec<RawItem>),
}

#[derive(Deserialize)]
struct RawItem {
    content: Option<RawContent>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawContent {
    Text(String),
    Parts(Vec<RawPart>),
}

#[derive(Deserialize)]
struct RawPart {
    text: Option<String>,
}

pub const FAILED_MESSAGE: &str =
    "The model failed to generate a response (mid-stream failure simulated by llm-sim).";

impl ResponsesApi {
    fn usage(answer: &Answer) -> Value {
        json!({
            "input_tokens": answer.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": answer.output_tokens,
            "output_tokens_details": {"reasoning_tokens": answer.reasoning_tokens},
            "total_tokens": answer.input_tokens as u64 + answer.output_tokens as u64,
        })
    }

    fn reasoning_item(answer: &Answer, status: &str) -> Value {
        let summary: String = (0..answer.reasoning_tokens).map(token_text).collect();
        json!({"id": format!("rs_{}", answer.id.trim_start_matches("resp_")), "type": "reasoning", "status": status,
            "summary": [{"type": "summary_text", "text": summary}]})
    }

    fn message_item(answer: &Answer, status: &str, text: &str) -> Value {
        json!({"id": message_id(answer), "type": "message", "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]})
    }

    /// The `response` object in a given state.
    fn response_object(
        answer: &Answer,
        status: &str,
        output: Vec<Value>,
        usage: Value,
        error: Value,
    ) -> Value {
        let incomplete = (status == "incomplete").then(|| json!({"reason": "max_output_tokens"}));
        json!({
            "id": answer.id, "object": "response", "created_at": answer.created, "status": status,
            "background": false, "error": error, "incomplete_details": incomplete,
            "instructions": null, "max_output_tokens": null, "model": answer.model,
            "output": output, "parallel_tool_calls": true, "previous_response_id": null,
            "reasoning": {"effort": null, "summary": null}, "store": false, "temperature": 1.0,
            "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [], "top_p": 1.0,
            "truncation": "disabled", "usage": usage, "user": null, "metadata": {},
        })
    }

    fn final_output(answer: &Answer) -> Vec<Value> {
        let mut output = Vec::new();
        if answer.reasoning_tokens > 0 {
            output.push(Self::reasoning_item(answer, "completed"));
        }
        if answer.visible_tokens() > 0 {
            output.push(Self::message_item(
                answer,
                "completed",
                &visible_text(answer),
            ));
        }
        output
    }

    fn final_status(answer: &Answer) -> &'static str {
        match answer.finish {
            FinishReason::Length => "incomplete",
            FinishReason::Stop => "completed",
        }
    }
}

fn message_id(answer: &Answer) -> String {
    format!("msg_{}", answer.id.trim_start_matches("resp_"))
}

impl EventApi for ResponsesApi {
    fn parse(&self, body: &[u8]) -> Result<ApiRequest, ApiError> {
        let raw: RawRequest = serde_json::from_slice(body).map_err(|e| {
            ApiError::invalid_request(format!("Invalid request body: {e}"), None, None)
        })?;
        let Some(model) = raw.model else {
            return Err(ApiError::invalid_request(
                "Missing required parameter: 'model'.",
                Some("model"),
                Some("missing_required_parameter"),
            ));
        };
        let Some(input) = raw.input else {
            return Err(ApiError::invalid_request(
                "Missing required parameter: 'input'.",
                Some("input"),
                Some("missing_required_parameter"),
            ));
        };
        let mut texts: Vec<String> = raw.instructions.into_iter().collect();
        match input {
            RawInput::Text(t) => texts.push(t),
            RawInput::Items(items) => {
                for item in items {
                    match item.content {
                        Some(RawContent::Text(t)) => texts.push(t),
                        Some(RawContent::Parts(parts)) => {
                            texts.extend(parts.into_iter().filter_map(|p| p.text))
                        }
                        None => {}
                    }
                }
            }
        }
        let max_tokens = match raw.max_output_tokens {
            Some(v) if v < 16 => {
                return Err(ApiError::invalid_request(
                    format!("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got {v} instead."),
                    Some("max_output_tokens"),
                    Some("integer_below_min_value"),
                ))
            }
            Some(v) => Some(v.min(MAX_OUTPUT_TOKENS as i64) as u32),
            None => None,
        };
        Ok(ApiRequest {
            chat: ChatRequest {
                model,
                stream: raw.stream.unwrap_or(false),
                include_usage: true,
                max_tokens,
                input_tokens: count_texts(texts.iter().map(String::as_str)),
            },
            ndjson: false,
        })
    }

    fn response_id(&self, request_id: &str) -> String {
        format!("resp_{request_id}")
    }

    fn error_body(&self, error: &ApiError) -> Bytes {
        error.to_json()
    }

    fn writer(&self, answer: Answer, _ndjson: bool) -> Box<dyn EventWriter> {
        Box::new(ResponsesWriter {
            answer,
            sequence: 0,
        })
    }

    fn whole_body(&self, answer: &Answer, failed: bool) -> (StatusCode, Bytes) {
        let body = if failed {
            Self::response_object(
                answer,
                "failed",
                Vec::new(),
                Value::Null,
                json!({"code": "server_error", "message": FAILED_MESSAGE}),
            )
        } else {
            Self::response_object(
                answer,
                Self::final_status(answer),
                Self::final_output(answer),
                Self::usage(answer),
                Value::Null,
            )
        };
        (StatusCode::OK, Bytes::from(body.to_string()))
    }
}

struct ResponsesWriter {
    answer: Answer,
    sequence: u64,
}

impl ResponsesWriter {
    /// One event: `event: <type>` and the data with its sequence number.
    fn event(&mut self, out: &mut String, kind: &str, mut data: Value) {
        data["type"] = Value::from(kind);
        data["sequence_number"] = Value::from(self.sequence);
        self.sequence += 1;
        out.push_str("event: ");
        out.push_str(kind);
        out.push_str("\ndata: ");
        out.push_str(&data.to_string());
        out.push_str("\n\n");
    }

    fn reasoning_index(&self) -> u32 {
        0
    }

    fn message_index(&self) -> u32 {
        u32::from(self.answer.reasoning_tokens > 0)
    }

    fn rs_id(&self) -> String {
        format!("rs_{}", self.answer.id.trim_start_matches("resp_"))
    }

    fn close_reasoning(&mut self, out: &mut String) {
        let summary: String = (0..self.answer.reasoning_tokens).map(token_text).collect();
        let (id, index) = (self.rs_id(), self.reasoning_index());
        self.event(
            out,
            "response.reasoning_summary_text.done",
            json!({"item_id": id, "output_index": index, "summary_index": 0, "text": summary}),
        );
        self.event(out, "response.reasoning_summary_part.done", json!({"item_id": id, "output_index": index, "summary_index": 0, "part": {"type": "summary_text", "text": summary}}));
        let item = ResponsesApi::reasoning_item(&self.answer, "completed");
        self.event(
            out,
            "response.output_item.done",
            json!({"output_index": index, "item": item}),
        );
    }
}

impl EventWriter for ResponsesWriter {
    fn content_type(&self) -> &'static str {
        "text/event-stream; charset=utf-8"
    }
}

impl FrameWriter for ResponsesWriter {
    fn preamble(&mut self) -> Bytes {
        let mut out = String::new();
        let object = ResponsesApi::response_object(
            &self.answer,
            "in_progress",
            Vec::new(),
            Value::Null,
            Value::Null,
        );
        self.event(&mut out, "response.created", json!({"response": object}));
        self.event(
            &mut out,
            "response.in_progress",
            json!({"response": object}),
        );
        Bytes::from(out)
    }

    fn reasoning(&mut self, index: u32) -> Bytes {
        let mut out = String::new();
        let (id, output_index) = (self.rs_id(), self.reasoning_index());
        if index == 0 {
            let item =
                json!({"id": id, "type": "reasoning", "status": "in_progress", "summary": []});
            self.event(
                &mut out,
                "response.output_item.added",
                json!({"output_index": output_index, "item": item}),
            );
            self.event(&mut out, "response.reasoning_summary_part.added", json!({"item_id": id, "output_index": output_index, "summary_index": 0, "part": {"type": "summary_text", "text": ""}}));
        }
        self.event(&mut out, "response.reasoning_summary_text.delta", json!({"item_id": id, "output_index": output_index, "summary_index": 0, "delta": token_text(index)}));
        Bytes::from(out)
    }

    fn text(&mut self, index: u32) -> Bytes {
        let mut out = String::new();
        let (id, output_index) = (message_id(&self.answer), self.message_index());
        if index == 0 {
            if self.answer.reasoning_tokens > 0 {
                self.close_reasoning(&mut out);
            }
            let item = json!({"id": id, "type": "message", "status": "in_progress", "role": "assistant", "content": []});
            self.event(
                &mut out,
                "response.output_item.added",
                json!({"output_index": output_index, "item": item}),
            );
            self.event(&mut out, "response.content_part.added", json!({"item_id": id, "output_index": output_index, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []}}));
        }
        self.event(&mut out, "response.output_text.delta", json!({"item_id": id, "output_index": output_index, "content_index": 0, "delta": token_text(index), "logprobs": []}));
        Bytes::from(out)
    }

    fn garbage(&mut self) -> Bytes {
        Bytes::from_static(b"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\": <<llm-sim malformed-sse fault>>\n\n")
    }

    fn error_event(&mut self) -> Bytes {
        let mut out = String::new();
        let object = ResponsesApi::response_object(
            &self.answer,
            "failed",
            Vec::new(),
            Value::Null,
            json!({"code": "server_error", "message": FAILED_MESSAGE}),
        );
        self.event(&mut out, "response.failed", json!({"response": object}));
        Bytes::from(out)
    }

    fn finish(&mut self) -> Bytes {
        let mut out = String::new();
        let answer = self.answer.clone();
        if answer.visible_tokens() > 0 {
            let (id, output_index) = (message_id(&answer), self.message_index());
            let text = visible_text(&answer);
            self.event(&mut out, "response.output_text.done", json!({"item_id": id, "output_index": output_index, "content_index": 0, "text": text, "logprobs": []}));
            self.event(&mut out, "response.content_part.done", json!({"item_id": id, "output_index": output_index, "content_index": 0, "part": {"type": "output_text", "text": text, "annotations": [], "logprobs": []}}));
            let item = ResponsesApi::message_item(&answer, "completed", &text);
            self.event(
                &mut out,
                "response.output_item.done",
                json!({"output_index": output_index, "item": item}),
            );
        } else if answer.reasoning_tokens > 0 {
            self.close_reasoning(&mut out);
        }
        let status = ResponsesApi::final_status(&answer);
        let object = ResponsesApi::response_object(
            &answer,
            status,
            ResponsesApi::final_output(&answer),
            ResponsesApi::usage(&answer),
            Value::Null,
        );
        self.event(
            &mut out,
            &format!("response.{status}"),
            json!({"response": object}),
        );
        Bytes::from(out)
    }
}
