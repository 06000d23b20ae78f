//! Completed requests waiting to be recorded. A worker hands its finished exchange over and
//! goes straight on to its next request; the run records what is queued a turn later, once the
//! requests started meanwhile have left (see `Clock::next_turn`).

use super::exchange::Finished;
use super::pacing::RequestPhase;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::task::{Poll, Waker};

/// One finished request and what the worker knew of it.
pub(crate) struct Completion {
    pub finished: Finished,
    /// When it was sent (clock ms).
    pub sent_ms: f64,
    pub payload_index: usize,
    pub phase: RequestPhase,
    /// When it was due (open loops, paced clients).
    pub due_ms: Option<f64>,
    /// When its worker was ready to send it (its due time, or when it took the ticket).
    pub ready_ms: f64,
    /// When the worker saw it end.
    pub done_ms: f64,
}

/// A first-in first-out queue with one waiting reader, closed when the workers are done.
#[derive(Default)]
pub(crate) struct Completions {
    queue: RefCell<VecDeque<Completion>>,
    closed: Cell<bool>,
    reader: RefCell<Option<Waker>>,
}

impl Completions {
    pub fn push(&self, completion: Completion) {
        self.queue.borrow_mut().push_back(completion);
        self.wake();
    }

    pub fn pop(&self) -> Option<Completion> {
        self.queue.borrow_mut().pop_front()
    }

    /// No more completions will come.
    pub fn close(&self) {
        self.closed.set(true);
        self.wake();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Waits until something is queued (`true`) or the queue is closed and empty (`false`).
    pub async fn ready(&self) -> bool {
        poll_fn(|cx| {
            if !self.queue.borrow().is_empty() {
                return Poll::Ready(true);
            }
            if self.closed.get() {
                return Poll::Ready(false);
            }
            let mut reader = self.reader.borrow_mut();
            match &*reader {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *reader = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }

    fn wake(&self) {
        if let Some(w) = self.reader.borrow_mut().take() {
            w.wake();
        }
    }
}
