//! Many sleeps on one platform timer. A run keeps one timeout per request in flight; arming a
//! platform timer for each (a closure, `setTimeout`, `clearTimeout`) costs more than the
//! request's parsing. This queue keeps the deadlines and tells the caller when its single
//! timer must be re-armed, which is rarely: every request's timeout is later than the one
//! already armed. Sans-IO: the caller passes `now` and owns the timer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;

/// Longest single platform timer (JS `setTimeout` takes at most 2³¹−1 ms; longer delays fire
/// at once), so long sleeps wait in steps.
pub const MAX_TIMER_STEP_MS: f64 = 1_073_741_824.0;

pub struct TimerQueue {
    /// `(deadline, slot)` ordered earliest first; entries of cancelled sleeps stay until popped
    /// (or a rebuild).
    heap: BinaryHeap<Reverse<(OrderedMs, u32)>>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    /// Deadline of the armed platform timer, if any.
    armed: Option<f64>,
}

#[derive(Default)]
struct Slot {
    /// Bumped on reuse so a stale heap entry never fires a newer sleep.
    generation: u32,
    deadline: f64,
    waker: Option<Waker>,
    state: SlotState,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    #[default]
    Free,
    Waiting,
    Fired,
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
struct OrderedMs(f64);
impl Eq for OrderedMs {}
#[allow(clippy::derive_ord_xor_partial_ord)]
impl Ord for OrderedMs {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A sleep's handle: slot and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerId {
    slot: u32,
    generation: u32,
}

/// What the caller must do with its platform timer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arm {
    /// Leave it as it is.
    Keep,
    /// (Re-)arm it to fire in this many ms (already capped at [`MAX_TIMER_STEP_MS`]).
    In(f64),
    /// Nothing waits: clear it (so an idle timer keeps no process alive).
    Clear,
}

impl Default for TimerQueue {
    fn default() -> Self {
        Self::new_const()
    }
}

impl TimerQueue {
    pub const fn new_const() -> Self {
        TimerQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            armed: None,
        }
    }

    /// Adds a sleep until `deadline` (ms on the caller's clock).
    pub fn insert(&mut self, deadline: f64, now: f64) -> (TimerId, Arm) {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot::default());
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[slot as usize];
        s.generation = (s.generation + 1) & 0xFFF; // 12 bits, as packed in heap keys
        s.deadline = deadline;
        s.waker = None;
        s.state = SlotState::Waiting;
        let id = TimerId {
            slot,
            generation: s.generation,
        };
        self.heap.push(Reverse((OrderedMs(deadline), id.key())));
        self.live += 1;
        (id, self.rearm(now))
    }

    /// Whether the sleep has fired; otherwise remembers `waker` to wake it.
    pub fn poll(&mut self, id: TimerId, waker: &Waker) -> bool {
        let Some(s) = self.slot_mut(id) else {
            return true;
        };
        match s.state {
            SlotState::Fired => true,
            _ => {
                match &s.waker {
                    Some(w) if w.will_wake(waker) => {}
                    _ => s.waker = Some(waker.clone()),
                }
                false
            }
        }
    }

    /// Drops a sleep (fired or not).
    pub fn remove(&mut self, id: TimerId) -> Arm {
        let Some(s) = self.slot_mut(id) else {
            return Arm::Keep;
        };
        let was_waiting = s.state == SlotState::Waiting;
        s.state = SlotState::Free;
        s.waker = None;
        self.free.push(id.slot);
        if was_waiting {
            self.live -= 1;
        }
        // Stale entries are dropped lazily; rebuild when they dominate the heap.
        if self.heap.len() > 64 && self.heap.len() > 4 * self.live {
            let slots = &self.slots;
            self.heap.retain(|Reverse((_, key))| {
                let (slot, generation) = split(*key);
                let s = &slots[slot as usize];
                s.generation == generation && s.state == SlotState::Waiting
            });
        }
        if self.live == 0 {
            self.heap.clear();
            if self.armed.take().is_some() {
                return Arm::Clear;
            }
            return Arm::Keep;
        }
        Arm::Keep
    }

    /// The platform timer fired: wakes every sleep due by `now` and says how to re-arm.
    pub fn fire(&mut self, now: f64) -> (Vec<Waker>, Arm) {
        self.armed = None;
        let mut woken = Vec::new();
        while let Some(Reverse((OrderedMs(deadline), key))) = self.heap.peek().copied() {
            if deadline > now {
                break;
            }
            self.heap.pop();
            let (slot, generation) = split(key);
            let s = &mut self.slots[slot as usize];
            if s.generation == generation && s.state == SlotState::Waiting {
                s.state = SlotState::Fired;
                self.live -= 1;
                woken.extend(s.waker.take());
            }
        }
        (woken, self.rearm(now))
    }

    fn rearm(&mut self, now: f64) -> Arm {
        // Skip stale entries at the top.
        while let Some(Reverse((_, key))) = self.heap.peek().copied() {
            let (slot, generation) = split(key);
            let s = &self.slots[slot as usize];
            if s.generation == generation && s.state == SlotState::Waiting {
                break;
            }
            self.heap.pop();
        }
        let Some(Reverse((OrderedMs(next), _))) = self.heap.peek().copied() else {
            return match self.armed.take() {
                Some(_) => Arm::Clear,
                None => Arm::Keep,
            };
        };
        match self.armed {
            Some(armed) if armed <= next => Arm::Keep,
            _ => {
                let delay = (next - now).clamp(0.0, MAX_TIMER_STEP_MS);
                self.armed = Some(now + delay);
                Arm::In(delay)
            }
        }
    }

    fn slot_mut(&mut self, id: TimerId) -> Option<&mut Slot> {
        self.slots
            .get_mut(id.slot as usize)
            .filter(|s| s.generation == id.generation && s.state != SlotState::Free)
    }

    /// Sleeps waiting (for tests).
    pub fn waiting(&self) -> usize {
        self.live
    }
}

impl TimerId {
    fn key(self) -> u32 {
        debug_assert!(self.slot < (1 << 20));
        (self.generation << 20) | self.slot
    }
}

fn split(key: u32) -> (u32, u32) {
    (key & ((1 << 20) - 1), (key >> 20) & ((1 << 12) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    #[test]
    fn one_timer_serves_many_sleeps() {
        let mut q = TimerQueue::default();
        let w = noop_waker();
        let (a, arm) = q.insert(100.0, 0.0);
        assert_eq!(arm, Arm::In(100.0));
        // Later deadlines need no re-arming; an earlier one does.
        let (b, arm) = q.insert(150.0, 10.0);
        assert_eq!(arm, Arm::Keep);
        let (c, arm) = q.insert(50.0, 20.0);
        assert_eq!(arm, Arm::In(30.0));
        assert!(!q.poll(a, &w) && !q.poll(b, &w) && !q.poll(c, &w));
        let (_, arm) = q.fire(50.0);
        assert_eq!(arm, Arm::In(50.0));
        assert!(q.poll(c, &w));
        assert!(!q.poll(a, &w));
        assert_eq!(q.remove(c), Arm::Keep);
        // Removing the last waiting sleeps clears the timer.
        assert_eq!(q.remove(a), Arm::Keep);
        assert_eq!(q.remove(b), Arm::Clear);
        assert_eq!(q.waiting(), 0);
    }

    #[test]
    fn long_sleeps_arm_in_steps() {
        let mut q = TimerQueue::default();
        let (id, arm) = q.insert(3e9, 0.0);
        assert_eq!(arm, Arm::In(MAX_TIMER_STEP_MS));
        let w = noop_waker();
        let (woken, arm) = q.fire(MAX_TIMER_STEP_MS);
        assert!(woken.is_empty() && !q.poll(id, &w));
        assert_eq!(arm, Arm::In(MAX_TIMER_STEP_MS));
        let (_, _) = q.fire(3e9);
        assert!(q.poll(id, &w));
    }

    #[test]
    fn a_slot_reused_past_the_generation_width_still_fires() {
        let mut q = TimerQueue::default();
        let w = noop_waker();
        for _ in 0..5000 {
            let (id, _) = q.insert(10.0, 0.0);
            let (_, _) = q.fire(10.0);
            assert!(q.poll(id, &w));
            q.remove(id);
        }
    }

    #[test]
    fn stale_entries_never_fire_reused_slots_and_are_pruned() {
        let mut q = TimerQueue::default();
        let w = noop_waker();
        for i in 0..1000 {
            let (id, _) = q.insert(1000.0 + i as f64, 0.0);
            q.remove(id);
        }
        let (keep, _) = q.insert(5000.0, 0.0);
        assert!(q.heap.len() < 100, "heap pruned: {}", q.heap.len());
        let (_, _) = q.fire(2500.0);
        assert!(
            !q.poll(keep, &w),
            "a stale entry of the same slot did not fire it"
        );
        let (_, _) = q.fire(5000.0);
        assert!(q.poll(keep, &w));
    }
}
