//! A streamed answer in any wire format other than Chat Completions' own (the SSE APIs of
//! `sse_apis`, the event streams of `aws`) on the chat stream's timing model: a [`FrameWriter`]
//! writes the format's frames; this schedules them. The opening frames go out with the headers,
//! the first token at TTFT, each further token one fresh ITL draw later on an absolute schedule
//! (timer lateness never accumulates), then the closing frames. Ground truth is stamped when each
//! frame is handed to hyper; the first frame that carries bytes is the record's first chunk.

use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Frame;
use rand::rngs::SmallRng;
use tokio::time::Sleep;

use crate::body::{poll_until, single, FrameData, InjectedDisconnect, ABORT_FLUSH_GAP};
use crate::faults::FaultKind;
use crate::ground_truth::{Clock, Outcome, RequestRecord};
use crate::timing::ValueSpec;

/// Writes one streamed answer's frames, in order; each call returns one frame's bytes.
pub trait FrameWriter: Send {
    /// Sent with the headers: the answer's opening frames (empty: nothing).
    fn preamble(&mut self) -> Bytes;
    /// Hidden reasoning token `index` (0-based among the reasoning tokens).
    fn reasoning(&mut self, index: u32) -> Bytes;
    /// Visible token `index` (0-based among the visible tokens); the first one also opens the
    /// text (closing any reasoning block) where the format has blocks.
    fn text(&mut self, index: u32) -> Bytes;
    /// The `malformed-sse` fault: a frame the client cannot read (data that is not JSON, a
    /// message whose checksum is wrong).
    fn garbage(&mut self) -> Bytes;
    /// The `error-event` fault: the API's mid-stream error (the stream ends after it).
    fn error_event(&mut self) -> Bytes;
    /// Everything after the last token, through the terminal frame.
    fn finish(&mut self) -> Bytes;
}

/// A fault inside the stream, striking once `after_tokens` tokens were sent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FrameFault {
    Disconnect,
    Stall(Duration),
    Garbage,
    ErrorEvent,
}

impl FrameFault {
    /// The in-stream fault a request was planned with, if it is one.
    pub fn of(kind: Option<FaultKind>, stall: Duration) -> Option<Self> {
        match kind {
            Some(FaultKind::Disconnect) => Some(FrameFault::Disconnect),
            Some(FaultKind::Stall) => Some(FrameFault::Stall(stall)),
            Some(FaultKind::MalformedSse) => Some(FrameFault::Garbage),
            Some(FaultKind::ErrorEvent) => Some(FrameFault::ErrorEvent),
            _ => None,
        }
    }
}

pub struct FramePlan {
    pub writer: Box<dyn FrameWriter>,
    pub received_at: Instant,
    pub ttft: Duration,
    pub itl: ValueSpec,
    pub rng: SmallRng,
    /// All output tokens; the first `reasoning_tokens` are hidden.
    pub output_tokens: u32,
    pub reasoning_tokens: u32,
    pub fault: Option<(FrameFault, u32)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Preamble,
    Token,
    Garbage,
    ErrorEvent,
    Abort,
    Finish,
    End,
}

pub struct FrameStream {
    plan: FramePlan,
    step: Step,
    due: Option<Instant>,
    planned: bool,
    schedule: Instant,
    last_sent: Instant,
    tokens_sent: u32,
    /// A frame went out (the first one is the record's `first_chunk_sent_us`).
    sent_any: bool,
    pending_fault: Option<(FrameFault, u32)>,
    timer: Option<Pin<Box<Sleep>>>,
}

impl FrameStream {
    pub fn new(plan: FramePlan) -> Self {
        let schedule = plan.received_at;
        FrameStream {
            pending_fault: plan.fault,
            plan,
            step: Step::Preamble,
            due: None,
            planned: false,
            schedule,
            last_sent: schedule,
            tokens_sent: 0,
            sent_any: false,
            timer: None,
        }
    }

    pub fn is_end(&self) -> bool {
        self.step == Step::End
    }

    /// A stall due before the next token (or the closing frames) adds its duration once.
    fn take_stall(&mut self) -> Duration {
        match self.pending_fault {
            Some((FrameFault::Stall(d), after)) if after == self.tokens_sent => {
                self.pending_fault = None;
                d
            }
            _ => Duration::ZERO,
        }
    }

    fn delay(&mut self, delay: Duration) -> Option<Instant> {
        if delay.is_zero() {
            None // the previous frame went out no earlier than its schedule: due now
        } else {
            self.schedule += delay;
            Some(self.schedule)
        }
    }

    fn plan_due(&mut self) -> Option<Instant> {
        match self.step {
            Step::Token => {
                let gap = if self.tokens_sent == 0 {
                    self.plan.ttft
                } else {
                    self.plan.itl.sample_delay_ms(&mut self.plan.rng)
                };
                let stall = self.take_stall();
                self.delay(gap + stall)
            }
            Step::Finish => {
                let stall = self.take_stall();
                // Without any token, the answer still takes its time to first token.
                let ttft = if self.tokens_sent == 0 {
                    self.plan.ttft
                } else {
                    Duration::ZERO
                };
                self.delay(ttft + stall)
            }
            Step::Abort => {
                let itl = self.plan.itl.sample_delay_ms(&mut self.plan.rng);
                self.schedule = (self.schedule + itl).max(self.last_sent + ABORT_FLUSH_GAP);
                Some(self.schedule)
            }
            Step::Preamble | Step::Garbage | Step::ErrorEvent | Step::End => None,
        }
    }

    /// What follows the preamble or a token.
    fn step_after_content(&mut self) -> Step {
        if let Some((fault, after)) = self.pending_fault {
            if after == self.tokens_sent {
                let step = match fault {
                    FrameFault::Garbage => Some(Step::Garbage),
                    FrameFault::Disconnect => Some(Step::Abort),
                    FrameFault::ErrorEvent => Some(Step::ErrorEvent),
                    FrameFault::Stall(_) => None, // a delay, applied by `plan_due`
                };
                if let Some(step) = step {
                    self.pending_fault = None;
                    return step;
                }
            }
        }
        if self.tokens_sent < self.plan.output_tokens {
            Step::Token
        } else {
            Step::Finish
        }
    }

    pub fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        record: Option<&RequestRecord>,
        clock: &Clock,
    ) -> Poll<Option<Result<Frame<FrameData>, InjectedDisconnect>>> {
        loop {
            if self.step == Step::End {
                return Poll::Ready(None);
            }
            if !self.planned {
                self.due = self.plan_due();
                self.planned = true;
            }
            if let Some(when) = self.due {
                ready!(poll_until(&mut self.timer, when, cx));
            }
            self.planned = false;
            self.due = None;

            let now = Instant::now();
            let now_us = clock.us_at(now);
            let writer = &mut self.plan.writer;
            let data = match self.step {
                Step::Preamble => {
                    let bytes = writer.preamble();
                    self.step = self.step_after_content();
                    if bytes.is_empty() {
                        continue; // nothing opens this stream (SageMaker's lines)
                    }
                    bytes
                }
                Step::Token => {
                    let index = self.tokens_sent;
                    let reasoning = self.plan.reasoning_tokens;
                    let bytes = if index < reasoning {
                        writer.reasoning(index)
                    } else {
                        writer.text(index - reasoning)
                    };
                    self.tokens_sent += 1;
                    if let Some(record) = record {
                        record.mark_tokens_sent(self.tokens_sent, now_us);
                    }
                    self.step = self.step_after_content();
                    bytes
                }
                Step::Garbage => {
                    let bytes = writer.garbage();
                    self.step = self.step_after_content();
                    bytes
                }
                Step::ErrorEvent => {
                    if let Some(record) = record {
                        record.finish(Outcome::AbortedByFault, now_us);
                    }
                    self.step = Step::End;
                    writer.error_event()
                }
                Step::Abort => {
                    if let Some(record) = record {
                        record.finish(Outcome::AbortedByFault, now_us);
                    }
                    self.step = Step::End;
                    return Poll::Ready(Some(Err(InjectedDisconnect)));
                }
                Step::Finish => {
                    if let Some(record) = record {
                        record.finish(Outcome::Completed, now_us);
                    }
                    self.step = Step::End;
                    writer.finish()
                }
                Step::End => return Poll::Ready(None),
            };
            if !self.sent_any {
                self.sent_any = true;
                if let Some(record) = record {
                    record.mark_first_chunk(now_us);
                }
            }
            self.last_sent = now;
            return Poll::Ready(Some(Ok(Frame::data(single(data)))));
        }
    }
}
