//! Admission control for clients' transactions, shared by the inspector
//! node and the gate.
//!
//! Every transaction a node admits costs every inspector a simulation, a
//! signature and its share of gossip. Admitted faster than the network
//! certifies, transactions wait in queues until they are certified late, or
//! quarantined for lateness, and the whole pipeline slows down. So a node
//! bounds the transactions it admitted from clients and has not yet seen
//! decided, and answers "busy, retry later" beyond the bound. The bound
//! adapts, additive increase, multiplicative decrease (as TCP's window):
//! it grows by one per bound's worth of decisions that came within the
//! target time, and shrinks by 15 %, at most once per target time, when
//! one came later. The gate applies the same bound to what it acknowledged
//! and is still waiting on a certificate for: beyond it a wallet hears
//! "busy" at once, instead of an acknowledgement followed by a quarantine
//! for lateness.
//!
//! Pure: time is passed in.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

use vigil_types::B256;

/// Bound at start.
const START: f64 = 64.0;
/// Smallest bound.
const MIN: f64 = 4.0;
/// Largest bound.
const MAX: f64 = 4096.0;
/// Factor of a decrease.
const CUT: f64 = 0.85;
/// A transaction undecided this long is forgotten (the deadline quarantines
/// long before; this only keeps the map bounded when no decision reaches
/// this node).
const STALE: Duration = Duration::from_secs(30);

/// The adaptive bound on clients' transactions in flight.
#[derive(Debug)]
pub struct InflightLimit {
    target: Duration,
    limit: f64,
    inflight: HashMap<B256, Instant>,
    order: VecDeque<(B256, Instant)>,
    last_cut: Option<Instant>,
}

/// A refusal: how many are in flight, and the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full {
    /// Transactions in flight.
    pub inflight: usize,
    /// The bound now.
    pub limit: usize,
}

impl InflightLimit {
    /// A limit that aims at decisions within `target` of admission.
    pub fn new(target: Duration) -> Self {
        Self { target, limit: START, inflight: HashMap::new(), order: VecDeque::new(), last_cut: None }
    }

    /// The bound now.
    pub fn limit(&self) -> usize {
        self.limit as usize
    }

    /// Transactions in flight.
    pub fn inflight(&self) -> usize {
        self.inflight.len()
    }

    /// Takes `hash` in flight, unless the bound is reached. Taking one
    /// already in flight is a no-op.
    pub fn try_admit(&mut self, hash: B256, now: Instant) -> Result<(), Full> {
        self.expire(now);
        if self.inflight.contains_key(&hash) {
            return Ok(());
        }
        if self.inflight.len() >= self.limit as usize {
            return Err(Full { inflight: self.inflight.len(), limit: self.limit as usize });
        }
        self.inflight.insert(hash, now);
        self.order.push_back((hash, now));
        Ok(())
    }

    /// Forgets `hash` without a signal (refused after all, or abstained).
    pub fn release(&mut self, hash: &B256) {
        self.inflight.remove(hash);
    }

    /// `hash` was decided (certified or quarantined) at `now`: adjusts the
    /// bound by how long it took. Unknown hashes are ignored.
    pub fn decided(&mut self, hash: &B256, now: Instant) {
        let Some(admitted) = self.inflight.remove(hash) else { return };
        if now.saturating_duration_since(admitted) <= self.target {
            self.limit = (self.limit + 1.0 / self.limit).min(MAX);
        } else if self.last_cut.is_none_or(|t| now.saturating_duration_since(t) >= self.target) {
            self.limit = (self.limit * CUT).max(MIN);
            self.last_cut = Some(now);
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(hash, at)) = self.order.front() {
            if now.saturating_duration_since(at) < STALE && self.order.len() <= 4 * MAX as usize {
                break;
            }
            self.order.pop_front();
            if self.inflight.get(&hash) == Some(&at) {
                self.inflight.remove(&hash);
            }
        }
        // Entries decided or released leave `order` lazily; keep it from
        // growing past what is in flight by much.
        if self.order.len() > 2 * self.inflight.len() + 64 {
            let inflight = &self.inflight;
            self.order.retain(|(h, at)| inflight.get(h) == Some(at));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u64) -> B256 {
        B256::left_padding_from(&i.to_be_bytes())
    }

    #[test]
    fn the_bound_refuses_then_shrinks_on_late_decisions_and_grows_on_timely_ones() {
        let t0 = Instant::now();
        let mut l = InflightLimit::new(Duration::from_millis(1000));
        for i in 0..64 {
            l.try_admit(h(i), t0).expect("under the bound");
        }
        assert_eq!(l.try_admit(h(99), t0), Err(Full { inflight: 64, limit: 64 }));
        // Again the same one: no-op, not a second slot.
        l.try_admit(h(0), t0).expect("already in flight");
        // Late decisions: one cut per target time, not one per decision.
        let late = t0 + Duration::from_millis(1500);
        l.decided(&h(0), late);
        l.decided(&h(1), late + Duration::from_millis(500));
        assert_eq!(l.limit(), 54);
        l.decided(&h(2), late + Duration::from_millis(1000));
        assert_eq!(l.limit(), 46);
        assert_eq!(l.inflight(), 61);
        assert!(l.try_admit(h(100), late).is_err(), "61 in flight, bound 46");
        // Timely decisions grow it by one per bound's worth.
        let t1 = late + Duration::from_secs(1);
        for i in 3..39 {
            l.release(&h(i));
        }
        for i in 300..310 {
            l.try_admit(h(i), t1).expect("room after releases");
        }
        let before = l.limit();
        for i in 300..310 {
            l.decided(&h(i), t1 + Duration::from_millis(100));
        }
        assert!(l.limit() == before, "10 timely decisions grow 46 by less than one: {}", l.limit());
        for k in 0..50u64 {
            l.try_admit(h(1000 + k), t1).expect("room");
            l.decided(&h(1000 + k), t1 + Duration::from_millis(10));
        }
        assert!(l.limit() > before, "{} > {before}", l.limit());
    }

    #[test]
    fn stale_entries_are_forgotten_and_the_bound_has_a_floor() {
        let t0 = Instant::now();
        let mut l = InflightLimit::new(Duration::from_millis(100));
        for i in 0..20 {
            l.try_admit(h(i), t0).expect("room");
        }
        for (k, i) in (0..20).enumerate() {
            l.decided(&h(i), t0 + Duration::from_secs(1 + k as u64));
        }
        assert_eq!(l.limit(), 4, "never below the floor");
        for i in 20..24 {
            l.try_admit(h(i), t0 + Duration::from_secs(20)).expect("room");
        }
        assert!(l.try_admit(h(30), t0 + Duration::from_secs(20)).is_err());
        // 30 s later the undecided ones are forgotten.
        assert!(l.try_admit(h(30), t0 + Duration::from_secs(51)).is_ok());
        assert_eq!(l.inflight(), 1);
    }
}
