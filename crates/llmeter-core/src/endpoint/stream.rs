//! The response parser every endpoint shares. It classifies the response (stream, whole body,
//! HTTP error), bounds what it buffers, decodes the stream's framing and applies the timing
//! rule; a [`Protocol`] only reads the family's own messages.
//!
//! Timing rule (LLMeter's, per network chunk): TTFT is the arrival of the first chunk that
//! completed a frame carrying output; TTLT the last such chunk (or a last-token mark). Hidden
//! output (reasoning, thinking) counts only when the endpoint is told to count it
//! (`ttft_visible_tokens_only: false`).
//!
//! Errors are per request and keep whatever text and timings arrived before them. After the
//! first error (API error event, malformed event) later frames are counted but not read: the
//! request has failed, and content after a protocol error cannot be trusted. Once the protocol
//! says the response is complete, later frames and a later transport failure are ignored.

use super::http::{self, BoundedBody, ERROR_BODY_LIMIT, STREAM_PREFIX_LIMIT};
use super::{ParseLimits, ParsedResponse, ResponseParser};
#[cfg(feature = "event-stream")]
use crate::framing::event_stream::EventMessage;
use crate::framing::{Frame, FrameDecoder, Framing, StreamEnd};
use crate::transport::ResponseHead;

/// The failure an AWS event-stream `exception` or `error` message carries: its code
/// (`:exception-type`, or `:error-code`) and message (the JSON payload's `message` or
/// `Message`, or `:error-message`); `None` for an `event` message. Every family reading event
/// streams (AWS, custom) fails a request on these, each in its own words.
#[cfg(feature = "event-stream")]
pub fn event_stream_failure<'a>(message: &EventMessage<'a>) -> Option<(&'a str, String)> {
    match message.message_type() {
        Some("exception") => {
            let text = std::str::from_utf8(message.payload)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .and_then(|v| {
                    v.get("Message")
                        .or_else(|| v.get("message"))
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            Some((message.exception_type().unwrap_or(""), text))
        }
        Some("error") => Some((
            message.header_str(":error-code").unwrap_or(""),
            message
                .header_str(":error-message")
                .unwrap_or("")
                .to_owned(),
        )),
        _ => None,
    }
}

/// What one frame carried, for the timing rule.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameOutcome {
    /// Nothing timing-relevant (metadata, usage, keep-alive).
    Ignored,
    /// Visible output (text, a tool-call delta): a TTFT and TTLT point.
    Output,
    /// Hidden output (reasoning, thinking): a TTFT point only when hidden tokens count.
    Hidden,
    /// A TTLT point that is not output (e.g. Bedrock's `contentBlockStop`).
    LastTokenMark,
    /// The response is complete (OpenAI's `[DONE]`, Anthropic's `message_stop`).
    Done,
    /// An API error or a malformed frame: the request fails with this message.
    Error(String),
    /// An API error event that LLMeter also times as the last token (the Responses API's
    /// `response.failed`): a TTLT point, then the request fails with this message.
    TimedError(String),
}

/// The family-specific part of reading a response.
pub trait Protocol {
    /// How a streamed body is framed.
    fn framing(&self) -> Framing;
    /// Whether the request asked for a stream.
    fn streaming(&self) -> bool;
    /// Whether a 2xx answer is one document rather than a stream: by default, when no stream
    /// was asked for or the server answered JSON anyway.
    fn is_whole_body(&self, content_type: Option<&str>) -> bool {
        !self.streaming() || content_type.is_some_and(http::is_json_media_type)
    }
    /// Reads the head (status and the headers the endpoint asked for), e.g. a request id.
    fn on_head(&mut self, _head: &ResponseHead, _out: &mut ParsedResponse) {}
    /// Reads one frame of a stream.
    fn on_frame(&mut self, frame: Frame<'_>, out: &mut ParsedResponse) -> FrameOutcome;
    /// Reads a whole (non-streamed) 2xx body; `Err` is the request's error.
    fn on_body(&mut self, body: &[u8], out: &mut ParsedResponse) -> Result<(), String>;
    /// Whether a stream that ended without [`FrameOutcome::Done`] is still complete.
    fn complete_without_done(&self) -> bool {
        false
    }
    /// The same, knowing how the framing ended (default: [`Self::complete_without_done`]);
    /// a framing without an end marker (AWS event streams) is complete when no message was
    /// cut off.
    fn complete_at_end(&self, _end: StreamEnd) -> bool {
        self.complete_without_done()
    }
    /// Error text for a stream that ended before it was complete.
    fn truncated_message(&self, end: StreamEnd) -> String {
        match end {
            StreamEnd::Clean => "stream ended before it was complete (truncated response)".into(),
            StreamEnd::Truncated => {
                "stream ended before it was complete (truncated response, last message incomplete)"
                    .into()
            }
        }
    }
    /// The detail of a non-2xx body (default: the usual JSON error shapes, else an excerpt).
    fn error_detail(&self, body: &[u8]) -> Option<String> {
        http::error_body_detail(body)
    }
    /// The request's error for a non-2xx answer (default: `HTTP 429 Too Many Requests:
    /// <detail> (retry-after: 20)`); a family whose reference client words it differently
    /// (botocore's exceptions) overrides it.
    fn http_error(&self, status: u16, retry_after: Option<&str>, body: &[u8]) -> String {
        http::http_error_message(status, retry_after, self.error_detail(body))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    AwaitingHead,
    Stream,
    WholeBody,
    HttpError,
}

/// [`ResponseParser`] for any [`Protocol`]. The protocol is boxed (one dynamic call per frame)
/// so this code exists once in the wasm rather than once per endpoint family.
pub struct StreamParser {
    protocol: Box<dyn Protocol>,
    /// Hidden output (reasoning) counts for TTFT.
    count_hidden: bool,
    limits: ParseLimits,
    kind: BodyKind,
    status: u16,
    retry_after: Option<String>,
    /// The whole body (2xx non-stream, HTTP error) or a stream's first bytes.
    body: BoundedBody,
    decoder: Option<FrameDecoder>,
    done: bool,
    stream_error: Option<String>,
    out: ParsedResponse,
}

impl StreamParser {
    pub fn new(
        protocol: Box<dyn Protocol>,
        limits: ParseLimits,
        ttft_visible_tokens_only: bool,
    ) -> Self {
        StreamParser {
            protocol,
            count_hidden: !ttft_visible_tokens_only,
            limits,
            kind: BodyKind::AwaitingHead,
            status: 0,
            retry_after: None,
            body: BoundedBody::default(),
            decoder: None,
            done: false,
            stream_error: None,
            out: ParsedResponse::default(),
        }
    }

    fn on_stream_bytes(&mut self, bytes: &[u8], arrival_ms: f64) {
        if self.out.num_events == 0 {
            self.body.push(bytes, STREAM_PREFIX_LIMIT);
        }
        let Self {
            protocol,
            decoder,
            out,
            done,
            stream_error,
            count_hidden,
            limits,
            ..
        } = self;
        let decoder = decoder
            .get_or_insert_with(|| FrameDecoder::new(protocol.framing(), limits.max_event_bytes));
        let mut output = false;
        let mut last_mark = false;
        let fed = decoder.feed(bytes, &mut |frame| {
            out.num_events = out.num_events.saturating_add(1);
            if *done || stream_error.is_some() {
                return;
            }
            match protocol.on_frame(frame, out) {
                FrameOutcome::Ignored => {}
                FrameOutcome::Output => output = true,
                FrameOutcome::Hidden => output |= *count_hidden,
                FrameOutcome::LastTokenMark => last_mark = true,
                FrameOutcome::Done => *done = true,
                FrameOutcome::Error(e) => *stream_error = Some(e),
                FrameOutcome::TimedError(e) => {
                    last_mark = true;
                    *stream_error = Some(e);
                }
            }
        });
        if let Err(e) = fed {
            if !self.done && self.stream_error.is_none() {
                self.stream_error = Some(e.to_string());
            }
        }
        if output {
            self.out.first_content_ms.get_or_insert(arrival_ms);
            self.out.last_content_ms = Some(arrival_ms);
            self.out.content_chunk_ms.push(arrival_ms);
        } else if last_mark {
            self.out.last_content_ms = Some(arrival_ms);
        }
    }

    fn finish_stream(&mut self, failure: Option<String>) -> Option<String> {
        let Self {
            protocol,
            decoder,
            out,
            done,
            stream_error,
            ..
        } = self;
        let end = match decoder.as_mut() {
            // A final unterminated frame still counts where the framing allows it.
            Some(d) => d.finish(&mut |frame| {
                out.num_events = out.num_events.saturating_add(1);
                if *done || stream_error.is_some() {
                    return;
                }
                match protocol.on_frame(frame, out) {
                    FrameOutcome::Done => *done = true,
                    FrameOutcome::Error(e) | FrameOutcome::TimedError(e) => *stream_error = Some(e),
                    _ => {}
                }
            }),
            None => StreamEnd::Clean,
        };
        if let Some(error) = self.stream_error.take() {
            return Some(error);
        }
        if self.done {
            return None; // complete: a break-off afterwards loses nothing
        }
        if let Some(failure) = failure {
            return Some(failure);
        }
        // A body without a single event is an error even where a clean end completes.
        if self.out.num_events == 0 && !self.body.bytes.is_empty() {
            return Some(format!(
                "no {} in response body: {}",
                self.protocol.framing().message_name(),
                http::byte_snippet(&self.body.bytes)
            ));
        }
        if self.protocol.complete_at_end(end) {
            return None;
        }
        Some(self.protocol.truncated_message(end))
    }

    fn finish_whole_body(&mut self, failure: Option<String>) -> Option<String> {
        if let Some(failure) = failure {
            return Some(failure);
        }
        if self.body.overflowed {
            return Some(format!(
                "response body larger than the {} MiB limit (maxEventBytes)",
                self.limits.max_event_bytes / (1024 * 1024)
            ));
        }
        let body = std::mem::take(&mut self.body.bytes);
        self.protocol.on_body(&body, &mut self.out).err()
    }
}

impl ResponseParser for StreamParser {
    fn on_head(&mut self, head: &ResponseHead) {
        self.status = head.status;
        self.retry_after = head.header("retry-after").map(|v| v.trim().to_owned());
        self.kind = if !(200..300).contains(&head.status) {
            BodyKind::HttpError
        } else if self.protocol.is_whole_body(head.header("content-type")) {
            BodyKind::WholeBody
        } else {
            BodyKind::Stream
        };
        self.protocol.on_head(head, &mut self.out);
    }

    fn on_chunk(&mut self, bytes: &[u8], arrival_ms: f64) {
        self.out.num_chunks = self.out.num_chunks.saturating_add(1);
        if bytes.is_empty() {
            return;
        }
        self.out.first_chunk_ms.get_or_insert(arrival_ms);
        if self.kind == BodyKind::AwaitingHead {
            // Not expected from the runner; read the body as the request asked.
            self.status = 200;
            self.kind = if self.protocol.streaming() {
                BodyKind::Stream
            } else {
                BodyKind::WholeBody
            };
        }
        match self.kind {
            BodyKind::Stream => self.on_stream_bytes(bytes, arrival_ms),
            BodyKind::WholeBody => self.body.push(bytes, self.limits.max_event_bytes),
            BodyKind::HttpError => self.body.push(bytes, ERROR_BODY_LIMIT),
            BodyKind::AwaitingHead => {}
        }
    }

    fn is_settled(&self) -> bool {
        // Failed for good. A stream that is only complete (`Done`) is still read to its end:
        // aborting it would close a connection the next request could reuse.
        match self.kind {
            BodyKind::Stream => self.stream_error.is_some(),
            BodyKind::WholeBody => self.body.overflowed,
            BodyKind::AwaitingHead | BodyKind::HttpError => false,
        }
    }

    fn finish(mut self: Box<Self>, end_ms: f64, failure: Option<String>) -> ParsedResponse {
        self.out.end_ms = Some(end_ms);
        let error = match self.kind {
            BodyKind::AwaitingHead => {
                Some(failure.unwrap_or_else(|| "response ended before its headers".into()))
            }
            BodyKind::HttpError => Some(self.protocol.http_error(
                self.status,
                self.retry_after.as_deref(),
                &self.body.bytes,
            )),
            BodyKind::WholeBody => self.finish_whole_body(failure),
            BodyKind::Stream => self.finish_stream(failure),
        };
        self.out.error = error;
        self.out
    }
}
