//! Framing: how a streamed response body is cut into messages, before any endpoint reads them.
//! One decoder per wire format, each sans-IO (fed bytes split anywhere) and allocation-free in
//! its steady state; an endpoint names its framing and reads the frames.

#[cfg(feature = "event-stream")]
pub mod event_stream;
pub mod json_lines;
pub mod sse;

#[cfg(feature = "event-stream")]
use event_stream::EventMessage;
#[cfg(feature = "event-stream")]
use event_stream::EventStreamDecoder;
use json_lines::JsonLinesDecoder;
use sse::{SseDecoder, SseEnd, SseEvent};

/// Largest line, event or message a decoder buffers (a hostile server must not grow memory
/// without bound); overridable per endpoint.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// The wire formats a streamed body can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `text/event-stream` (OpenAI, Anthropic).
    Sse,
    /// Newline-delimited JSON (one message per line; blank lines skipped).
    JsonLines,
    /// No framing: every network chunk is one message, as it arrived (custom endpoints that
    /// split the bytes themselves).
    Raw,
    /// AWS event-stream binary messages (Bedrock and SageMaker response streams).
    EventStream,
}

impl Framing {
    /// What its messages are called in error messages.
    pub fn message_name(self) -> &'static str {
        match self {
            Framing::Sse => "SSE events",
            Framing::JsonLines => "JSON lines",
            Framing::Raw => "bytes",
            Framing::EventStream => "event-stream messages",
        }
    }
}

/// One message of a stream, borrowed from the decoder's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    Sse(SseEvent<'a>),
    /// One line of a JSON-lines body, without its terminator.
    Line(&'a [u8]),
    /// One network chunk of a [`Framing::Raw`] body.
    Bytes(&'a [u8]),
    /// One AWS event-stream message (checksums verified).
    #[cfg(feature = "event-stream")]
    Event(EventMessage<'a>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// A line, event or message exceeded the decoder's limit.
    TooLarge { limit: usize },
    /// The bytes are not of this framing (e.g. a bad checksum).
    Malformed(&'static str),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLarge { limit } => write!(
                f,
                "stream message larger than the {} limit (maxEventBytes)",
                human_bytes(*limit)
            ),
            FrameError::Malformed(what) => write!(f, "malformed stream: {what}"),
        }
    }
}

fn human_bytes(n: usize) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// How a stream ended, as seen by its decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// Every byte belonged to a complete message.
    Clean,
    /// A message was cut off (discarded); usually a truncated response.
    Truncated,
}

/// A decoder for one [`Framing`].
#[derive(Debug)]
pub enum FrameDecoder {
    Sse(SseDecoder),
    JsonLines(JsonLinesDecoder),
    Raw,
    #[cfg(feature = "event-stream")]
    EventStream(EventStreamDecoder),
}

impl FrameDecoder {
    pub fn new(framing: Framing, max_event_bytes: usize) -> Self {
        match framing {
            Framing::Sse => FrameDecoder::Sse(SseDecoder::with_limit(max_event_bytes)),
            Framing::JsonLines => {
                FrameDecoder::JsonLines(JsonLinesDecoder::with_limit(max_event_bytes))
            }
            Framing::Raw => FrameDecoder::Raw,
            #[cfg(feature = "event-stream")]
            Framing::EventStream => {
                FrameDecoder::EventStream(EventStreamDecoder::with_limit(max_event_bytes))
            }
            // Never chosen: without the decoder, endpoint options refuse this framing.
            #[cfg(not(feature = "event-stream"))]
            Framing::EventStream => FrameDecoder::Raw,
        }
    }

    /// Decodes `bytes`, handing every completed frame to `on_frame`.
    pub fn feed(
        &mut self,
        bytes: &[u8],
        on_frame: &mut dyn FnMut(Frame<'_>),
    ) -> Result<(), FrameError> {
        match self {
            FrameDecoder::Sse(d) => d.feed(bytes, &mut |e| on_frame(Frame::Sse(e))),
            FrameDecoder::JsonLines(d) => d.feed(bytes, &mut |l| on_frame(Frame::Line(l))),
            FrameDecoder::Raw => {
                if !bytes.is_empty() {
                    on_frame(Frame::Bytes(bytes));
                }
                Ok(())
            }
            #[cfg(feature = "event-stream")]
            FrameDecoder::EventStream(d) => d.feed(bytes, &mut |m| on_frame(Frame::Event(m))),
        }
    }

    /// Ends the stream (a final unterminated JSON line is still a frame).
    pub fn finish(&mut self, on_frame: &mut dyn FnMut(Frame<'_>)) -> StreamEnd {
        match self {
            FrameDecoder::Sse(d) => match d.finish() {
                SseEnd::Clean => StreamEnd::Clean,
                SseEnd::Truncated => StreamEnd::Truncated,
            },
            FrameDecoder::JsonLines(d) => d.finish(&mut |l| on_frame(Frame::Line(l))),
            FrameDecoder::Raw => StreamEnd::Clean,
            #[cfg(feature = "event-stream")]
            FrameDecoder::EventStream(d) => d.finish(),
        }
    }
}
