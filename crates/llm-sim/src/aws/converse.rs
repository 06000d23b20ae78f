//! Bedrock Converse and ConverseStream.
//!
//! Request: `messages[].content[].text` and `system[].text` are the input (words, as the chat
//! rule counts them); `inferenceConfig.maxTokens` caps the output. Stream: `messageStart` with
//! the headers; per token a `contentBlockDelta` (`reasoningContent` for the hidden tokens of
//! `x-sim-reasoning-tokens`, in block 0, then the text in the next block); then
//! `contentBlockStop`, `messageStop` and `metadata` with the usage. The `error-event` fault is a
//! `modelStreamErrorException`.

use bytes::Bytes;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    event, exception, garbage_message, stop_reason, Answer, AwsApi, AwsError, AwsRequest, PADDING,
};
use crate::faults::FaultKind;
use crate::frame_stream::FrameWriter;
use crate::openai::{count_words, token_text, ChatRequest};
use crate::timing::MAX_OUTPUT_TOKENS;

pub struct ConverseApi {
    pub stream: bool,
}

#[derive(Deserialize)]
struct RawRequest {
    messages: Option<Vec<RawMessage>>,
    #[serde(default)]
    system: Vec<RawBlock>,
    #[serde(default, rename = "inferenceConfig")]
    inference_config: Option<RawConfig>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(default)]
    content: Vec<RawBlock>,
}

#[derive(Deserialize)]
struct RawBlock {
    text: Option<String>,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(rename = "maxTokens")]
    max_tokens: Option<i64>,
}

fn words<'a>(blocks: impl Iterator<Item = &'a RawBlock>) -> usize {
    blocks
        .filter_map(|b| b.text.as_deref())
        .map(count_words)
        .sum()
}

/// Words of `count` tokens from the output cycle, starting at token `from`.
pub fn text_of(from: u32, count: u32) -> String {
    (from..from + count).map(token_text).collect()
}

pub fn malformed() -> AwsError {
    AwsError::validation("Malformed input request, please reformat your input and try again.")
}

/// `maxTokens`-style limits: at least 1, capped at the simulator's longest output.
pub fn token_limit(name: &str, value: Option<i64>) -> Result<Option<u32>, AwsError> {
    match value {
        None => Ok(None),
        Some(v) if v < 1 => Err(AwsError::validation(format!(
            "1 validation error detected: Value '{v}' at '{name}' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        Some(v) => Ok(Some(v.min(MAX_OUTPUT_TOKENS as i64) as u32)),
    }
}

pub fn bedrock_fault(fault: FaultKind) -> Option<AwsError> {
    let (status, error_type, message) = match fault {
        FaultKind::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlingException",
            "Too many requests, please wait before trying again. (simulated by llm-sim)",
        ),
        FaultKind::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            "The server encountered an internal error while processing the request. (simulated by llm-sim)",
        ),
        FaultKind::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request. (simulated by llm-sim)",
        ),
        FaultKind::ErrorEvent => (
            StatusCode::FAILED_DEPENDENCY,
            "ModelErrorException",
            "The model encountered an error processing your request. (simulated by llm-sim)",
        ),
        _ => return None,
    };
    Some(AwsError::new(status, error_type, message))
}

/// The `error-event` fault of a Bedrock stream.
pub fn stream_error() -> Bytes {
    exception(
        "modelStreamErrorException",
        &json!({"message": "The model stream failed. (simulated by llm-sim)", "originalStatusCode": 500}),
    )
}

impl AwsApi for ConverseApi {
    fn service(&self) -> &'static str {
        "bedrock"
    }

    fn stream(&self) -> bool {
        self.stream
    }

    fn parse(&self, model: &str, body: &[u8]) -> Result<AwsRequest, AwsError> {
        let raw: RawRequest = serde_json::from_slice(body).map_err(|_| malformed())?;
        let messages = match raw.messages {
            Some(m) if !m.is_empty() => m,
            _ => {
                return Err(AwsError::validation(
                    "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
                ))
            }
        };
        let input = words(raw.system.iter())
            + messages
                .iter()
                .map(|m| words(m.content.iter()))
                .sum::<usize>();
        let max_tokens = token_limit(
            "inferenceConfig.maxTokens",
            raw.inference_config.and_then(|c| c.max_tokens),
        )?;
        Ok(AwsRequest {
            chat: ChatRequest {
                model: model.to_owned(),
                stream: self.stream,
                include_usage: true,
                max_tokens,
                input_tokens: u32::try_from(input).unwrap_or(u32::MAX),
            },
            details: false,
        })
    }

    fn reasoning(&self, _model: &str) -> bool {
        true
    }

    fn writer(&self, answer: Answer) -> Box<dyn FrameWriter> {
        Box::new(ConverseWriter { answer })
    }

    fn whole_body(&self, answer: &Answer) -> Bytes {
        let mut content = Vec::new();
        if answer.reasoning_tokens > 0 {
            content.push(json!({"reasoningContent": {"reasoningText": {
                "text": text_of(0, answer.reasoning_tokens), "signature": "llm-sim-signature"}}}));
        }
        content.push(json!({"text": text_of(0, answer.visible_tokens())}));
        Bytes::from(
            json!({
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": stop_reason(answer.finish),
                "usage": usage(answer),
                "metrics": {"latencyMs": answer.elapsed_ms()},
            })
            .to_string(),
        )
    }

    fn fault_error(&self, fault: FaultKind) -> Option<AwsError> {
        bedrock_fault(fault)
    }
}

fn usage(answer: &Answer) -> Value {
    json!({
        "inputTokens": answer.input_tokens,
        "outputTokens": answer.output_tokens,
        "totalTokens": answer.input_tokens as u64 + answer.output_tokens as u64,
    })
}

struct ConverseWriter {
    answer: Answer,
}

impl ConverseWriter {
    /// The block the visible text goes in (after the reasoning block, if any).
    fn text_block(&self) -> u32 {
        u32::from(self.answer.reasoning_tokens > 0)
    }
}

impl FrameWriter for ConverseWriter {
    fn preamble(&mut self) -> Bytes {
        Bytes::from(event(
            "messageStart",
            &json!({"role": "assistant", "p": PADDING}),
        ))
    }

    fn reasoning(&mut self, index: u32) -> Bytes {
        Bytes::from(event(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": token_text(index)}}, "p": PADDING}),
        ))
    }

    fn text(&mut self, index: u32) -> Bytes {
        let block = self.text_block();
        let mut out = Vec::new();
        if index == 0 && block == 1 {
            out.extend(event(
                "contentBlockStop",
                &json!({"contentBlockIndex": 0, "p": PADDING}),
            ));
        }
        out.extend(event(
            "contentBlockDelta",
            &json!({"contentBlockIndex": block, "delta": {"text": token_text(index)}, "p": PADDING}),
        ));
        Bytes::from(out)
    }

    fn garbage(&mut self) -> Bytes {
        garbage_message()
    }

    fn error_event(&mut self) -> Bytes {
        stream_error()
    }

    fn finish(&mut self) -> Bytes {
        let answer = &self.answer;
        let mut out = Vec::new();
        if answer.output_tokens > 0 {
            out.extend(event(
                "contentBlockStop",
                &json!({"contentBlockIndex": self.text_block(), "p": PADDING}),
            ));
        }
        out.extend(event(
            "messageStop",
            &json!({"stopReason": stop_reason(answer.finish), "p": PADDING}),
        ));
        out.extend(event(
            "metadata",
            &json!({"usage": usage(answer), "metrics": {"latencyMs": answer.elapsed_ms()}, "p": PADDING}),
        ));
        Bytes::from(out)
    }
}
