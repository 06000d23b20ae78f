//! A one-shot cancellation flag whose `cancelled()` futures all wake when it fires.
//!
//! Each waiting future owns one slot for its waker and refreshes it in place on every poll, so
//! the waker list never grows with polls (a run polls its cancellation future once per
//! response for hours).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Clone, Default)]
pub struct CancelToken(Rc<CancelState>);

#[derive(Default)]
struct CancelState {
    cancelled: Cell<bool>,
    /// One slot per live `cancelled()` future (`None`: free).
    wakers: RefCell<Vec<Option<Waker>>>,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.cancelled.set(true);
        let wakers: Vec<Waker> = self
            .0
            .wakers
            .borrow_mut()
            .iter_mut()
            .flat_map(Option::take)
            .collect();
        for w in wakers {
            w.wake();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.get()
    }

    /// Resolves once the token is cancelled.
    pub fn cancelled(&self) -> Cancelled {
        Cancelled {
            state: self.0.clone(),
            slot: None,
        }
    }

    /// Waker slots in use (for tests: must not grow with polls).
    pub fn waiting(&self) -> usize {
        self.0
            .wakers
            .borrow()
            .iter()
            .filter(|w| w.is_some())
            .count()
    }
}

pub struct Cancelled {
    state: Rc<CancelState>,
    slot: Option<usize>,
}

impl Future for Cancelled {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.state.cancelled.get() {
            return Poll::Ready(());
        }
        let mut wakers = self.state.wakers.borrow_mut();
        match self.slot {
            Some(i) => match &mut wakers[i] {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            },
            None => {
                let free = wakers.iter().position(Option::is_none);
                let i = match free {
                    Some(i) => {
                        wakers[i] = Some(cx.waker().clone());
                        i
                    }
                    None => {
                        wakers.push(Some(cx.waker().clone()));
                        wakers.len() - 1
                    }
                };
                drop(wakers);
                self.slot = Some(i);
            }
        }
        Poll::Pending
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            if let Some(slot) = self.state.wakers.borrow_mut().get_mut(i) {
                *slot = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    #[test]
    fn polling_many_times_keeps_one_slot_and_cancel_wakes() {
        let token = CancelToken::new();
        let mut fut = Box::pin(token.cancelled());
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..10_000 {
            assert!(fut.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(token.waiting(), 1);
        let mut other = Box::pin(token.cancelled());
        assert!(other.as_mut().poll(&mut cx).is_pending());
        assert_eq!(token.waiting(), 2);
        drop(other);
        assert_eq!(token.waiting(), 1);
        token.cancel();
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        assert_eq!(token.waiting(), 0);
    }
}
