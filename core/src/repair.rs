//! Repairing a phone whose clock ran ahead. The server refuses an operation stamped more than
//! [`MAX_CLOCK_AHEAD_MS`] ahead of its own clock (such a stamp would win every concurrent
//! edit). Once the phone's clock is right again, every operation still in its outbox that is
//! stamped beyond what the server accepts (or that the server refused for its clock) gets a
//! new stamp, in the outbox and in the households, so that it can go.
//!
//! What the server has stored is never rewritten: the writes of operations it acknowledged
//! keep the stamps they saw, even one that is replaced, exactly as the server and every other
//! phone keep them. And the repaired clock starts after every stamp the phone keeps, so that
//! nothing it makes afterwards sorts before what it already made or saw.
//!
//! ```
//! use cris_core::hlc::Clock;
//! use cris_core::repair::repair;
//! use cris_core::record::Case;
//!
//! // A phone with nothing waiting needs no repair, and its clock starts at the time given.
//! let mut cases: Vec<Case> = Vec::new();
//! let done = repair("phone", 1_000, &[], &[], &mut cases);
//! assert!(done.ops.is_empty());
//! assert_eq!(done.clock.last().wall_ms, 1_000);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::hlc::{Clock, Hlc};
use crate::record::{Case, Operation};
use crate::sync::MAX_CLOCK_AHEAD_MS;

/// What a repair changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Repaired {
    /// The outbox's operations that got new stamps, as they are now, oldest first.
    pub ops: Vec<Operation>,
    /// Every operation of the outbox as it is now (the seen stamps of those not restamped may
    /// have changed too), in the order given.
    pub outbox: Vec<Operation>,
    /// The phone's clock from now on.
    pub clock: Clock,
}

/// Whether `op` waits with a stamp the server refuses at `now_ms` (its clock, which the
/// phone's agrees with again).
pub fn stamped_ahead(op: &Operation, now_ms: u64) -> bool {
    op.hlc.wall_ms > now_ms.saturating_add(MAX_CLOCK_AHEAD_MS)
}

/// Gives new stamps to the operations of `outbox` (this phone's, not yet acknowledged) made by
/// `device` that are stamped beyond what the server accepts at `now_ms`, or named in
/// `refused_ahead` (refused for the clock), and replaces their old stamps everywhere the
/// phone keeps them as its own: in the outbox and in `cases`, including where a write of
/// another waiting operation saw them. The writes of acknowledged operations keep what they
/// saw.
pub fn repair(
    device: &str,
    now_ms: u64,
    outbox: &[Operation],
    refused_ahead: &[String],
    cases: &mut [Case],
) -> Repaired {
    let mut ahead: Vec<&Operation> = outbox
        .iter()
        .filter(|op| op.hlc.device == device)
        .filter(|op| stamped_ahead(op, now_ms) || refused_ahead.contains(&op.op_id))
        .collect();
    ahead.sort_by(|a, b| a.hlc.cmp(&b.hlc));
    let replaced: BTreeSet<&Hlc> = ahead.iter().map(|op| &op.hlc).collect();

    // The clock starts after every stamp that stays: of every write the phone holds, its own
    // and those it pulled. (Not what they saw: a write the server took may have seen a stamp
    // that is now replaced, on this phone or on another.)
    let mut clock = Clock::new(device);
    clock.observe(&clock.last().clone(), now_ms);
    let mut keep = |h: &Hlc| {
        if !replaced.contains(h) {
            clock.observe(h, now_ms);
        }
    };
    for case in cases.iter() {
        for field in case.fields.0.values() {
            field.history().iter().for_each(|w| keep(&w.hlc));
        }
    }
    outbox.iter().for_each(|op| keep(&op.hlc));

    let map: BTreeMap<Hlc, Hlc> = ahead
        .iter()
        .map(|op| (op.hlc.clone(), clock.stamp(now_ms)))
        .collect();
    let new_stamp = |h: &Hlc| map.get(h).cloned();
    // The writes the server has not stored: those of the waiting operations.
    let unsent: BTreeSet<Hlc> = outbox.iter().map(|op| op.hlc.clone()).collect();
    let waiting = |h: &Hlc| unsent.contains(h);
    for case in cases.iter_mut() {
        case.restamp(&new_stamp, &waiting);
    }
    let outbox: Vec<Operation> = outbox
        .iter()
        .cloned()
        .map(|mut op| {
            op.restamp(&new_stamp);
            op
        })
        .collect();
    let mut ops: Vec<Operation> = outbox
        .iter()
        .filter(|op| map.values().any(|h| *h == op.hlc))
        .cloned()
        .collect();
    ops.sort_by(|a, b| a.hlc.cmp(&b.hlc));
    Repaired { ops, outbox, clock }
}
