//! The response body. Frames are produced lazily on their scheduled time and ground truth is
//! stamped inside `poll_frame`, at the moment a frame is handed to hyper.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::buf::Chain;
use bytes::{Buf, Bytes};
use hyper::body::{Body, Frame, SizeHint};
use rand::rngs::SmallRng;
use tokio::time::Sleep;

use crate::ground_truth::{Clock, Outcome, RequestRecord};
use crate::openai::{ChunkTemplate, FinishReason, Usage, SSE_DONE, SSE_ERROR_EVENT, SSE_GARBAGE};
use crate::timing::ValueSpec;

/// Up to three buffers sent as one frame: lets a token event reuse the shared prefix and the
/// static word and suffix without copying or allocating.
pub type FrameData = Chain<Chain<Bytes, Bytes>, Bytes>;

pub fn single(bytes: Bytes) -> FrameData {
    bytes.chain(Bytes::new()).chain(Bytes::new())
}

/// Minimum time between the last byte sent and an injected disconnect, so hyper has flushed
/// the tokens already yielded before the connection is aborted (it discards unflushed data).
pub const ABORT_FLUSH_GAP: Duration = Duration::from_millis(2);

/// The error that makes hyper abort the connection (h1) or reset the stream (h2).
#[derive(Debug)]
pub struct InjectedDisconnect;

impl fmt::Display for InjectedDisconnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("llm-sim injected disconnect")
    }
}

impl Error for InjectedDisconnect {}

/// A fault that strikes inside a stream once `after_tokens` tokens were sent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StreamFault {
    Disconnect {
        after_tokens: u32,
    },
    Stall {
        after_tokens: u32,
        duration: Duration,
    },
    MalformedSse {
        after_tokens: u32,
    },
    /// The mid-stream error chunk, then the end (no `[DONE]`).
    ErrorEvent {
        after_tokens: u32,
    },
}

impl StreamFault {
    fn after_tokens(&self) -> u32 {
        match *self {
            StreamFault::Disconnect { after_tokens }
            | StreamFault::Stall { after_tokens, .. }
            | StreamFault::MalformedSse { after_tokens }
            | StreamFault::ErrorEvent { after_tokens } => after_tokens,
        }
    }
}

/// Everything a streaming response needs, decided when the request arrived.
pub struct StreamPlan {
    pub template: ChunkTemplate,
    pub received_at: Instant,
    /// Time to first token including the prefill cost.
    pub ttft: Duration,
    pub itl: ValueSpec,
    /// Per-request generator (seeded from the server seed) for inter-token draws.
    pub rng: SmallRng,
    pub output_tokens: u32,
    pub finish_reason: FinishReason,
    /// Present when `stream_options.include_usage` asked for the usage event.
    pub usage: Option<Usage>,
    pub fault: Option<StreamFault>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Role,
    Token,
    Garbage,
    ErrorEvent,
    Abort,
    Finish,
    Usage,
    Done,
    End,
}

/// Ready once `when` has come: a stream's one timer, made on first use and reset for each
/// later deadline.
pub(crate) fn poll_until(
    timer: &mut Option<Pin<Box<Sleep>>>,
    when: Instant,
    cx: &mut Context<'_>,
) -> Poll<()> {
    if Instant::now() >= when {
        return Poll::Ready(());
    }
    let when = tokio::time::Instant::from_std(when);
    let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(when)));
    if timer.deadline() != when {
        timer.as_mut().reset(when);
    }
    timer.as_mut().poll(cx)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Due {
    NotPlanned,
    Now,
    At(Instant),
}

struct StreamState {
    plan: StreamPlan,
    step: Step,
    due: Due,
    /// Scheduled time of the last frame. Delays add to the schedule, not to the actual send
    /// time, so timer lateness never accumulates over a long stream.
    schedule: Instant,
    last_sent: Instant,
    tokens_sent: u32,
    pending_fault: Option<StreamFault>,
    /// Allocated only when some delay is non-zero.
    timer: Option<Pin<Box<Sleep>>>,
}

impl StreamState {
    fn new(plan: StreamPlan) -> Self {
        let pending_fault = plan.fault;
        let schedule = plan.received_at;
        StreamState {
            plan,
            step: Step::Role,
            due: Due::NotPlanned,
            schedule,
            last_sent: schedule,
            tokens_sent: 0,
            pending_fault,
            timer: None,
        }
    }

    /// A stall due before the next token (or before the finish event) adds its duration once.
    fn take_stall(&mut self) -> Duration {
        match self.pending_fault {
            Some(StreamFault::Stall {
                after_tokens,
                duration,
            }) if after_tokens == self.tokens_sent => {
                self.pending_fault = None;
                duration
            }
            _ => Duration::ZERO,
        }
    }

    fn delay(&mut self, delay: Duration) -> Due {
        if delay.is_zero() {
            // The previous frame went out no earlier than its schedule: already due.
            Due::Now
        } else {
            self.schedule += delay;
            Due::At(self.schedule)
        }
    }

    fn plan_due(&mut self) -> Due {
        match self.step {
            Step::Role => {
                let ttft = self.plan.ttft;
                self.delay(ttft)
            }
            Step::Token => {
                let itl = if self.tokens_sent == 0 {
                    Duration::ZERO
                } else {
                    self.plan.itl.sample_delay_ms(&mut self.plan.rng)
                };
                let stall = self.take_stall();
                self.delay(itl + stall)
            }
            Step::Finish => {
                let stall = self.take_stall();
                self.delay(stall)
            }
            Step::Abort => {
                let itl = self.plan.itl.sample_delay_ms(&mut self.plan.rng);
                self.schedule = (self.schedule + itl).max(self.last_sent + ABORT_FLUSH_GAP);
                Due::At(self.schedule)
            }
            Step::Garbage | Step::ErrorEvent | Step::Usage | Step::Done | Step::End => Due::Now,
        }
    }

    /// What follows the role event, a token or the garbage line.
    fn step_after_content(&mut self) -> Step {
        if let Some(fault) = self.pending_fault {
            if fault.after_tokens() == self.tokens_sent {
                match fault {
                    StreamFault::MalformedSse { .. } => {
                        self.pending_fault = None;
                        return Step::Garbage;
                    }
                    StreamFault::Disconnect { .. } => {
                        self.pending_fault = None;
                        return Step::Abort;
                    }
                    StreamFault::ErrorEvent { .. } => {
                        self.pending_fault = None;
                        return Step::ErrorEvent;
                    }
                    StreamFault::Stall { .. } => {} // applied as a delay by `plan_due`
                }
            }
        }
        if self.tokens_sent < self.plan.output_tokens {
            Step::Token
        } else {
            Step::Finish
        }
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        record: Option<&RequestRecord>,
        clock: &Clock,
    ) -> Poll<Option<Result<Frame<FrameData>, InjectedDisconnect>>> {
        if self.step == Step::End {
            return Poll::Ready(None);
        }
        if self.due == Due::NotPlanned {
            self.due = self.plan_due();
        }
        if let Due::At(when) = self.due {
            ready!(poll_until(&mut self.timer, when, cx));
        }
        self.due = Due::NotPlanned;

        let now = Instant::now();
        let now_us = clock.us_at(now);
        self.last_sent = now;
        let data = match self.step {
            Step::Role => {
                if let Some(record) = record {
                    record.mark_first_chunk(now_us);
                }
                self.step = self.step_after_content();
                single(self.plan.template.role_event())
            }
            Step::Token => {
                let [prefix, word, suffix] = self.plan.template.token_event(self.tokens_sent);
                self.tokens_sent += 1;
                if let Some(record) = record {
                    record.mark_tokens_sent(self.tokens_sent, now_us);
                }
                self.step = self.step_after_content();
                prefix.chain(word).chain(suffix)
            }
            Step::Garbage => {
                self.step = self.step_after_content();
                single(Bytes::from_static(SSE_GARBAGE))
            }
            Step::ErrorEvent => {
                if let Some(record) = record {
                    record.finish(Outcome::AbortedByFault, now_us);
                }
                self.step = Step::End;
                single(Bytes::from_static(SSE_ERROR_EVENT))
            }
            Step::Abort => {
                if let Some(record) = record {
                    record.finish(Outcome::AbortedByFault, now_us);
                }
                self.step = Step::End;
                return Poll::Ready(Some(Err(InjectedDisconnect)));
            }
            Step::Finish => {
                self.step = if self.plan.usage.is_some() {
                    Step::Usage
                } else {
                    Step::Done
                };
                single(self.plan.template.finish_event(self.plan.finish_reason))
            }
            Step::Usage => {
                self.step = Step::Done;
                match self.plan.usage {
                    Some(usage) => single(self.plan.template.usage_event(usage)),
                    None => single(Bytes::new()),
                }
            }
            Step::Done => {
                if let Some(record) = record {
                    record.finish(Outcome::Completed, now_us);
                }
                self.step = Step::End;
                single(Bytes::from_static(SSE_DONE))
            }
            Step::End => return Poll::Ready(None),
        };
        Poll::Ready(Some(Ok(Frame::data(data))))
    }
}

/// A whole body sent as one frame (non-streaming completions, errors, the sim API).
struct FullState {
    data: Option<Bytes>,
    /// Tokens this body carries, stamped as first/last token when it is handed over.
    tokens: u32,
    /// `disconnect` fault: after the (partial) data, abort instead of ending.
    abort_at: Option<Pin<Box<Sleep>>>,
    done: bool,
}

impl FullState {
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        record: Option<&RequestRecord>,
        clock: &Clock,
    ) -> Poll<Option<Result<Frame<FrameData>, InjectedDisconnect>>> {
        if let Some(data) = self.data.take() {
            let now_us = clock.now_us();
            if let Some(record) = record {
                if self.tokens > 0 {
                    record.mark_tokens_sent(self.tokens, now_us);
                }
                if self.abort_at.is_none() {
                    record.finish(Outcome::Completed, now_us);
                }
            }
            match self.abort_at.as_mut() {
                Some(timer) => timer
                    .as_mut()
                    .reset(tokio::time::Instant::now() + ABORT_FLUSH_GAP),
                // Ending now lets h2 flag END_STREAM on this very DATA frame.
                None => self.done = true,
            }
            return Poll::Ready(Some(Ok(Frame::data(single(data)))));
        }
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(timer) = self.abort_at.as_mut() {
            ready!(timer.as_mut().poll(cx));
            self.done = true;
            if let Some(record) = record {
                record.finish(Outcome::AbortedByFault, clock.now_us());
            }
            return Poll::Ready(Some(Err(InjectedDisconnect)));
        }
        self.done = true;
        Poll::Ready(None)
    }
}

enum BodyKind {
    Full(FullState),
    Stream(Box<StreamState>),
    /// The SSE APIs other than Chat Completions (`sse_apis`), Bedrock and SageMaker event
    /// streams (`aws`).
    Frames(Box<crate::frame_stream::FrameStream>),
}

/// Response body for every route.
pub struct SimBody {
    kind: BodyKind,
    record: Option<Arc<RequestRecord>>,
    clock: Clock,
    /// A `--max-concurrency` slot, held until the body is done (or dropped).
    slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl SimBody {
    pub fn full(data: Bytes, clock: Clock) -> Self {
        SimBody {
            kind: BodyKind::Full(FullState {
                data: Some(data),
                tokens: 0,
                abort_at: None,
                done: false,
            }),
            record: None,
            clock,
            slot: None,
        }
    }

    pub fn empty(clock: Clock) -> Self {
        SimBody {
            kind: BodyKind::Full(FullState {
                data: None,
                tokens: 0,
                abort_at: None,
                done: true,
            }),
            record: None,
            clock,
            slot: None,
        }
    }

    /// A whole body tied to a ground-truth record; `abort_after` cuts the connection after
    /// it (the non-streaming `disconnect` fault).
    pub fn recorded_full(
        data: Bytes,
        tokens: u32,
        abort_after: bool,
        record: Arc<RequestRecord>,
        clock: Clock,
    ) -> Self {
        let abort_at = abort_after.then(|| Box::pin(tokio::time::sleep(ABORT_FLUSH_GAP)));
        SimBody {
            kind: BodyKind::Full(FullState {
                data: Some(data),
                tokens,
                abort_at,
                done: false,
            }),
            record: Some(record),
            clock,
            slot: None,
        }
    }

    pub fn frames(
        stream: crate::frame_stream::FrameStream,
        record: Arc<RequestRecord>,
        clock: Clock,
    ) -> Self {
        SimBody {
            kind: BodyKind::Frames(Box::new(stream)),
            record: Some(record),
            clock,
            slot: None,
        }
    }

    pub fn stream(plan: StreamPlan, record: Arc<RequestRecord>, clock: Clock) -> Self {
        SimBody {
            kind: BodyKind::Stream(Box::new(StreamState::new(plan))),
            record: Some(record),
            clock,
            slot: None,
        }
    }
}

impl SimBody {
    /// Keeps `slot` until this body ends.
    pub fn holding(mut self, slot: Option<tokio::sync::OwnedSemaphorePermit>) -> Self {
        self.slot = slot;
        self
    }
}

impl Body for SimBody {
    type Data = FrameData;
    type Error = InjectedDisconnect;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        // SimBody is Unpin (timers are boxed), so a plain &mut is fine.
        let this = self.get_mut();
        let record = this.record.as_deref();
        match &mut this.kind {
            BodyKind::Full(full) => full.poll_next(cx, record, &this.clock),
            BodyKind::Stream(stream) => stream.poll_next(cx, record, &this.clock),
            BodyKind::Frames(stream) => stream.poll_next(cx, record, &this.clock),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            BodyKind::Full(full) => full.data.is_none() && full.done,
            BodyKind::Stream(stream) => stream.step == Step::End,
            BodyKind::Frames(stream) => stream.is_end(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            // An exact size lets hyper send Content-Length instead of chunked encoding.
            BodyKind::Full(full) if full.abort_at.is_none() => {
                SizeHint::with_exact(full.data.as_ref().map_or(0, |d| d.remaining() as u64))
            }
            _ => SizeHint::default(),
        }
    }
}

impl Drop for SimBody {
    fn drop(&mut self) {
        // Dropped before the last frame: the client went away (no-op if already finished).
        if let Some(record) = &self.record {
            record.finish(Outcome::ClientDisconnected, self.clock.now_us());
        }
    }
}
