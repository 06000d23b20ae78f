//! Bedrock InvokeModel and InvokeModelWithResponseStream. The body is the model family's own,
//! chosen by the model id as Bedrock does:
//!
//! | model id contains | family | request (input, limit) | answer |
//! |---|---|---|---|
//! | `anthropic.` | Claude Messages | `messages` (string or text blocks), `system`; `max_tokens` | `message_start`, `content_block_*`, `message_delta`, `message_stop` |
//! | `meta.` | Llama | `prompt`; `max_gen_len` | `generation` chunks |
//! | `amazon.nova` | Nova messages-v1 | `messages[].content[].text`, `system[].text`; `inferenceConfig.maxTokens` | Converse-like chunks |
//! | `amazon.titan` | Titan Text | `inputText`; `textGenerationConfig.maxTokenCount` | `outputText` chunks |
//! | anything else | OpenAI Chat Completions (gpt-oss & co., LLMeter's default) | `messages` (strings or text parts); `max_completion_tokens` / `max_tokens` | `chat.completion(.chunk)` |
//!
//! Each stream chunk is a `chunk` event `{"bytes": "<base64 of the JSON>", "p": …}`; the last
//! one carries `amazon-bedrock-invocationMetrics`. Claude and Nova have hidden reasoning
//! (`x-sim-reasoning-tokens`).

use bytes::Bytes;
use hyper::header::HeaderValue;
use hyper::HeaderMap;
use serde_json::{json, Value};

use super::converse::{bedrock_fault, malformed, stream_error, text_of, token_limit};
use super::{
    base64, event, garbage_message, stop_reason, Answer, AwsApi, AwsError, AwsRequest, PADDING,
};
use crate::faults::FaultKind;
use crate::frame_stream::FrameWriter;
use crate::openai::{count_words, token_text, ChatRequest, FinishReason};

pub struct InvokeApi {
    pub stream: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    OpenAI,
    Anthropic,
    Llama,
    Nova,
    Titan,
}

impl Family {
    pub fn of(model: &str) -> Family {
        if model.contains("anthropic.") {
            Family::Anthropic
        } else if model.contains("meta.") {
            Family::Llama
        } else if model.contains("amazon.nova") {
            Family::Nova
        } else if model.contains("amazon.titan") {
            Family::Titan
        } else {
            Family::OpenAI
        }
    }
}

/// Words of a string, or of the texts of an array of blocks / strings.
fn words_of(value: Option<&Value>) -> usize {
    match value {
        Some(Value::String(s)) => count_words(s),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => count_words(s),
                Value::Object(o) => o.get("text").and_then(Value::as_str).map_or(0, count_words),
                _ => 0,
            })
            .sum(),
        _ => 0,
    }
}

fn messages_words(body: &Value) -> Result<usize, AwsError> {
    let Some(messages) = body
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
    else {
        return Err(AwsError::validation(
            "Malformed input request: #: required key [messages] not found, please reformat your input and try again.",
        ));
    };
    Ok(messages.iter().map(|m| words_of(m.get("content"))).sum())
}

fn limit(body: &Value, pointer: &str) -> Result<Option<u32>, AwsError> {
    let value = body.pointer(pointer).and_then(Value::as_i64);
    token_limit(
        pointer.trim_start_matches('/').replace('/', ".").as_str(),
        value,
    )
}

/// `(input words, output limit)` of a request of `family`.
fn read(family: Family, body: &Value) -> Result<(usize, Option<u32>), AwsError> {
    Ok(match family {
        Family::OpenAI => {
            let max = match limit(body, "/max_completion_tokens")? {
                Some(n) => Some(n),
                None => limit(body, "/max_tokens")?,
            };
            (messages_words(body)?, max)
        }
        Family::Anthropic => (
            messages_words(body)? + words_of(body.get("system")),
            limit(body, "/max_tokens")?,
        ),
        Family::Llama => (words_of(body.get("prompt")), limit(body, "/max_gen_len")?),
        Family::Nova => (
            messages_words(body)? + words_of(body.get("system")),
            limit(body, "/inferenceConfig/maxTokens")?,
        ),
        Family::Titan => (
            words_of(body.get("inputText")),
            limit(body, "/textGenerationConfig/maxTokenCount")?,
        ),
    })
}

/// A `chunk` event carrying `model_json`.
fn chunk(model_json: &Value) -> Vec<u8> {
    event(
        "chunk",
        &json!({"bytes": base64(model_json.to_string().as_bytes()), "p": PADDING}),
    )
}

fn metrics(answer: &Answer) -> Value {
    json!({
        "inputTokenCount": answer.input_tokens,
        "outputTokenCount": answer.output_tokens,
        "invocationLatency": answer.elapsed_ms(),
        "firstByteLatency": answer.ttft.as_millis() as u64,
    })
}

fn anthropic_stop(finish: FinishReason) -> &'static str {
    stop_reason(finish) // "max_tokens" / "end_turn", as Claude
}

impl AwsApi for InvokeApi {
    fn service(&self) -> &'static str {
        "bedrock"
    }

    fn stream(&self) -> bool {
        self.stream
    }

    fn parse(&self, model: &str, body: &[u8]) -> Result<AwsRequest, AwsError> {
        let body: Value = serde_json::from_slice(body).map_err(|_| malformed())?;
        if !body.is_object() {
            return Err(malformed());
        }
        let (input, max_tokens) = read(Family::of(model), &body)?;
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

    fn reasoning(&self, model: &str) -> bool {
        matches!(Family::of(model), Family::Anthropic | Family::Nova)
    }

    fn writer(&self, answer: Answer) -> Box<dyn FrameWriter> {
        Box::new(InvokeWriter {
            family: Family::of(&answer.model),
            answer,
        })
    }

    fn whole_body(&self, answer: &Answer) -> Bytes {
        let visible = text_of(0, answer.visible_tokens());
        let (input, output) = (answer.input_tokens, answer.output_tokens);
        let body = match Family::of(&answer.model) {
            Family::OpenAI => json!({
                "id": format!("chatcmpl-{}", answer.id), "object": "chat.completion",
                "created": crate::state::unix_now(), "model": answer.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": visible},
                             "finish_reason": answer.finish.as_str()}],
                "usage": {"prompt_tokens": input, "completion_tokens": output,
                          "total_tokens": input as u64 + output as u64},
            }),
            Family::Anthropic => {
                let mut content = Vec::new();
                if answer.reasoning_tokens > 0 {
                    content.push(json!({"type": "thinking", "thinking": text_of(0, answer.reasoning_tokens), "signature": "llm-sim-signature"}));
                }
                content.push(json!({"type": "text", "text": visible}));
                json!({
                    "id": format!("msg_bdrk_{}", answer.id), "type": "message", "role": "assistant",
                    "model": answer.model, "content": content,
                    "stop_reason": anthropic_stop(answer.finish), "stop_sequence": null,
                    "usage": {"input_tokens": input, "output_tokens": output},
                })
            }
            Family::Llama => json!({
                "generation": visible, "prompt_token_count": input,
                "generation_token_count": output, "stop_reason": llama_stop(answer.finish),
            }),
            Family::Nova => {
                let mut content = Vec::new();
                if answer.reasoning_tokens > 0 {
                    content.push(json!({"reasoningContent": {"reasoningText": {"text": text_of(0, answer.reasoning_tokens)}}}));
                }
                content.push(json!({"text": visible}));
                json!({
                    "output": {"message": {"content": content, "role": "assistant"}},
                    "stopReason": stop_reason(answer.finish),
                    "usage": {"inputTokens": input, "outputTokens": output,
                              "totalTokens": input as u64 + output as u64},
                })
            }
            Family::Titan => json!({
                "inputTextTokenCount": input,
                "results": [{"tokenCount": output, "outputText": visible,
                             "completionReason": titan_stop(answer.finish)}],
            }),
        };
        Bytes::from(body.to_string())
    }

    fn answer_headers(&self, answer: &Answer, headers: &mut HeaderMap) {
        headers.insert(
            "x-amzn-bedrock-content-type",
            HeaderValue::from_static("application/json"),
        );
        if !self.stream {
            headers.insert(
                "x-amzn-bedrock-input-token-count",
                answer.input_tokens.into(),
            );
            headers.insert(
                "x-amzn-bedrock-output-token-count",
                answer.output_tokens.into(),
            );
        }
    }

    fn fault_error(&self, fault: FaultKind) -> Option<AwsError> {
        bedrock_fault(fault)
    }
}

fn llama_stop(finish: FinishReason) -> &'static str {
    match finish {
        FinishReason::Length => "length",
        FinishReason::Stop => "stop",
    }
}

fn titan_stop(finish: FinishReason) -> &'static str {
    match finish {
        FinishReason::Length => "LENGTH",
        FinishReason::Stop => "FINISH",
    }
}

struct InvokeWriter {
    family: Family,
    answer: Answer,
}

impl InvokeWriter {
    fn openai_chunk(&self, delta: Value, finish: Option<&str>) -> Value {
        json!({
            "id": format!("chatcmpl-{}", self.answer.id), "object": "chat.completion.chunk",
            "created": crate::state::unix_now(), "model": self.answer.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        })
    }

    fn text_block(&self) -> u32 {
        u32::from(self.answer.reasoning_tokens > 0)
    }
}

impl FrameWriter for InvokeWriter {
    fn preamble(&mut self) -> Bytes {
        let a = &self.answer;
        let chunks: Vec<Value> = match self.family {
            Family::OpenAI => {
                vec![self.openai_chunk(json!({"role": "assistant", "content": ""}), None)]
            }
            Family::Anthropic => {
                let first = if a.reasoning_tokens > 0 {
                    json!({"type": "thinking", "thinking": ""})
                } else {
                    json!({"type": "text", "text": ""})
                };
                vec![
                    json!({"type": "message_start", "message": {
                        "id": format!("msg_bdrk_{}", a.id), "type": "message", "role": "assistant",
                        "model": a.model, "content": [], "stop_reason": null, "stop_sequence": null,
                        "usage": {"input_tokens": a.input_tokens, "output_tokens": 1}}}),
                    json!({"type": "content_block_start", "index": 0, "content_block": first}),
                ]
            }
            Family::Nova => vec![json!({"messageStart": {"role": "assistant"}})],
            Family::Llama | Family::Titan => vec![],
        };
        Bytes::from(chunks.iter().flat_map(chunk).collect::<Vec<u8>>())
    }

    fn reasoning(&mut self, index: u32) -> Bytes {
        let word = token_text(index);
        let json = match self.family {
            Family::Anthropic => json!({"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "thinking_delta", "thinking": word}}),
            _ => json!({"contentBlockDelta": {"delta": {"reasoningContent": {"text": word}},
                                              "contentBlockIndex": 0}}),
        };
        Bytes::from(chunk(&json))
    }

    fn text(&mut self, index: u32) -> Bytes {
        let a = &self.answer;
        let word = token_text(index);
        let block = self.text_block();
        let chunks: Vec<Value> = match self.family {
            Family::OpenAI => vec![self.openai_chunk(json!({"content": word}), None)],
            Family::Anthropic => {
                let mut c = Vec::new();
                if index == 0 && block == 1 {
                    c.push(json!({"type": "content_block_stop", "index": 0}));
                    c.push(json!({"type": "content_block_start", "index": 1,
                                  "content_block": {"type": "text", "text": ""}}));
                }
                c.push(json!({"type": "content_block_delta", "index": block,
                              "delta": {"type": "text_delta", "text": word}}));
                c
            }
            Family::Llama => vec![json!({
                "generation": word,
                "prompt_token_count": if index == 0 { json!(a.input_tokens) } else { Value::Null },
                "generation_token_count": index + 1, "stop_reason": null,
            })],
            Family::Nova => {
                let mut c = Vec::new();
                if index == 0 && block == 1 {
                    c.push(json!({"contentBlockStop": {"contentBlockIndex": 0}}));
                }
                c.push(json!({"contentBlockDelta": {"delta": {"text": word}, "contentBlockIndex": block}}));
                c
            }
            Family::Titan => vec![json!({
                "outputText": word, "index": 0, "totalOutputTextTokenCount": index + 1,
                "completionReason": null,
                "inputTextTokenCount": if index == 0 { json!(a.input_tokens) } else { Value::Null },
            })],
        };
        Bytes::from(chunks.iter().flat_map(chunk).collect::<Vec<u8>>())
    }

    fn garbage(&mut self) -> Bytes {
        garbage_message()
    }

    fn error_event(&mut self) -> Bytes {
        stream_error()
    }

    fn finish(&mut self) -> Bytes {
        let a = &self.answer;
        let metrics = metrics(a);
        let block = self.text_block();
        let mut chunks: Vec<Value> = match self.family {
            Family::OpenAI => vec![self.openai_chunk(json!({}), Some(a.finish.as_str()))],
            Family::Anthropic => vec![
                json!({"type": "content_block_stop", "index": block}),
                json!({"type": "message_delta", "delta": {"stop_reason": anthropic_stop(a.finish), "stop_sequence": null},
                       "usage": {"output_tokens": a.output_tokens}}),
                json!({"type": "message_stop"}),
            ],
            Family::Llama => vec![json!({
                "generation": "", "prompt_token_count": null,
                "generation_token_count": a.output_tokens, "stop_reason": llama_stop(a.finish),
            })],
            Family::Nova => vec![
                json!({"contentBlockStop": {"contentBlockIndex": block}}),
                json!({"messageStop": {"stopReason": stop_reason(a.finish)}}),
                json!({"metadata": {"usage": {"inputTokens": a.input_tokens, "outputTokens": a.output_tokens},
                                    "metrics": {}, "trace": {}}}),
            ],
            Family::Titan => vec![json!({
                "outputText": "", "index": 0, "totalOutputTextTokenCount": a.output_tokens,
                "completionReason": titan_stop(a.finish), "inputTextTokenCount": null,
            })],
        };
        if let Some(Value::Object(last)) = chunks.last_mut() {
            last.insert("amazon-bedrock-invocationMetrics".into(), metrics);
        }
        Bytes::from(chunks.iter().flat_map(chunk).collect::<Vec<u8>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_by_model_id_and_their_inputs() {
        assert_eq!(
            Family::of("us.anthropic.claude-3-5-haiku-20241022-v1:0"),
            Family::Anthropic
        );
        assert_eq!(Family::of("meta.llama3-8b-instruct-v1:0"), Family::Llama);
        assert_eq!(Family::of("amazon.nova-lite-v1:0"), Family::Nova);
        assert_eq!(Family::of("amazon.titan-text-express-v1"), Family::Titan);
        assert_eq!(Family::of("openai.gpt-oss-20b-1:0"), Family::OpenAI);
        let read_body = |f, v: Value| read(f, &v).unwrap();
        assert_eq!(
            read_body(
                Family::Anthropic,
                json!({"system": "be brief", "messages": [{"role": "user", "content": [{"type": "text", "text": "a b"}]}, {"role": "assistant", "content": "c"}], "max_tokens": 5})
            ),
            (5, Some(5))
        );
        assert_eq!(
            read_body(Family::Llama, json!({"prompt": "x y z", "max_gen_len": 2})),
            (3, Some(2))
        );
        assert_eq!(
            read_body(
                Family::Titan,
                json!({"inputText": "x", "textGenerationConfig": {"maxTokenCount": 9}})
            ),
            (1, Some(9))
        );
        assert_eq!(
            read_body(
                Family::Nova,
                json!({"messages": [{"content": [{"text": "q r"}]}], "inferenceConfig": {"maxTokens": 4}})
            ),
            (2, Some(4))
        );
        assert_eq!(
            read_body(
                Family::OpenAI,
                json!({"messages": [{"content": [{"text": "a", "type": "text"}]}], "max_tokens": 3, "max_completion_tokens": 2})
            ),
            (1, Some(2))
        );
        assert!(read(Family::OpenAI, &json!({"prompt": "x"})).is_err());
        let zero = read(Family::Llama, &json!({"prompt": "x", "max_gen_len": 0})).unwrap_err();
        assert!(zero.message.contains("'max_gen_len'"), "{}", zero.message);
    }
}
