//! Group commit for responses saved during a run: appending a response is a counter increment;
//! a batch is written when it is full or when its oldest response has waited `max_delay_ms`, so
//! a crash loses at most one batch window and the store does one transaction per batch, not per
//! response.

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// The batch is full: write it now.
    FlushNow,
    /// First response of a new batch: write it at this time (ms) unless it fills up first.
    FlushAt(f64),
    /// Buffered; a flush is already due.
    Buffered,
}

#[derive(Debug, Clone)]
pub struct GroupCommit {
    max_batch: u32,
    max_delay_ms: f64,
    pending: u32,
    batch_started_ms: Option<f64>,
}

impl GroupCommit {
    pub fn new(max_batch: u32, max_delay_ms: f64) -> GroupCommit {
        GroupCommit {
            max_batch: max_batch.max(1),
            max_delay_ms: if max_delay_ms.is_finite() {
                max_delay_ms.max(0.0)
            } else {
                0.0
            },
            pending: 0,
            batch_started_ms: None,
        }
    }

    pub fn append(&mut self, now_ms: f64) -> Decision {
        self.pending += 1;
        if self.pending >= self.max_batch {
            self.flushed();
            return Decision::FlushNow;
        }
        match self.batch_started_ms {
            Some(_) => Decision::Buffered,
            None => {
                self.batch_started_ms = Some(now_ms);
                Decision::FlushAt(now_ms + self.max_delay_ms)
            }
        }
    }

    /// The buffered responses were handed to a write (by a timer or at the end of the run).
    pub fn flushed(&mut self) {
        self.pending = 0;
        self.batch_started_ms = None;
    }

    pub fn pending(&self) -> u32 {
        self.pending
    }
}
