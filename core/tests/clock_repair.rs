//! A phone whose clock ran ahead, repaired (`cris_core::repair`), ends up seeing its
//! households exactly as the server and every other phone see them: the four steps that once
//! left it different, the same with a write the server took in between, and random
//! interleavings of clock fixes, finalizes, pushes, refusals and pulls.

use std::collections::BTreeMap;

use cris_core::form::Answers;
use cris_core::hlc::Clock;
use cris_core::record::{Case, Change, Operation, Submission};
use cris_core::repair::repair;
use cris_core::sync::MAX_CLOCK_AHEAD_MS;
use proptest::prelude::*;

const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;
const START: u64 = 1_795_000_000_000;

/// The server: its log, in the order it stored operations, and its clock.
#[derive(Default)]
struct Server {
    log: Vec<Operation>,
    now: u64,
}

impl Server {
    /// Stores what it accepts; refuses an operation stamped too far ahead. Returns whether it
    /// has the operation now.
    fn push(&mut self, op: &Operation) -> bool {
        if self.log.iter().any(|o| o.op_id == op.op_id) {
            return true;
        }
        if op.hlc.wall_ms > self.now + MAX_CLOCK_AHEAD_MS {
            return false;
        }
        self.log.push(op.clone());
        true
    }

    fn case(&self, id: &str) -> Case {
        let mut case = Case::new(id, 0.0);
        for op in self.log.iter().filter(|o| o.case_id == id) {
            case.apply(op);
        }
        case
    }
}

/// A phone: its households, its outbox, the refusals for its clock, its clock, how far its
/// wall clock is off, and how much of the server's log it has pulled.
struct Phone {
    device: String,
    cases: BTreeMap<String, Case>,
    outbox: Vec<Operation>,
    refused_ahead: Vec<String>,
    clock: Clock,
    skew: u64,
    pulled: usize,
    made: usize,
}

impl Phone {
    fn new(device: &str, skew: u64) -> Self {
        Phone {
            device: device.into(),
            cases: BTreeMap::new(),
            outbox: Vec::new(),
            refused_ahead: Vec::new(),
            clock: Clock::new(device),
            skew,
            pulled: 0,
            made: 0,
        }
    }

    /// Finalizes a form that sets the housing of household `case` to `value`.
    fn finalize(&mut self, server: &Server, case: &str, value: &str) -> Operation {
        let wall = server.now + self.skew;
        let household = self
            .cases
            .entry(case.to_owned())
            .or_insert_with(|| Case::new(case, 0.0));
        let properties =
            household.writes_for(&BTreeMap::from([("housing".to_owned(), value.to_owned())]));
        self.made += 1;
        let id = format!("{}-{}", self.device, self.made);
        let op = Operation {
            op_id: id.clone(),
            device: self.device.clone(),
            hlc: self.clock.stamp(wall),
            created_at_ms: 0.0,
            case_id: case.to_owned(),
            change: Change::Submit {
                submission: Submission {
                    id: format!("s-{id}"),
                    form_id: "home_visit".into(),
                    form_version: 3,
                    case_id: case.to_owned(),
                    device: self.device.clone(),
                    answers: Answers::new(),
                    started_at_ms: 0.0,
                    finalized_at_ms: 0.0,
                    corrects: None,
                    team: None,
                },
                properties,
            },
        };
        household.apply(&op);
        self.outbox.push(op.clone());
        op
    }

    /// Pushes the outbox in order: acknowledged operations leave it, refused ones stay.
    fn push(&mut self, server: &mut Server) {
        let mut kept = Vec::new();
        for op in std::mem::take(&mut self.outbox) {
            if server.push(&op) {
                self.refused_ahead.retain(|id| *id != op.op_id);
            } else {
                if !self.refused_ahead.contains(&op.op_id) {
                    self.refused_ahead.push(op.op_id.clone());
                }
                kept.push(op);
            }
        }
        self.outbox = kept;
    }

    /// Pulls what the server logged since the last pull.
    fn pull(&mut self, server: &Server) {
        for op in &server.log[self.pulled..] {
            self.cases
                .entry(op.case_id.clone())
                .or_insert_with(|| Case::new(&op.case_id, 0.0))
                .apply(op);
            self.outbox.retain(|o| o.op_id != op.op_id);
            self.clock.observe(&op.hlc, server.now + self.skew);
        }
        self.pulled = server.log.len();
    }

    /// The clock is set right; the phone repairs what it stamped too far ahead.
    fn fix_clock(&mut self, server: &Server) {
        self.skew = 0;
        let mut cases: Vec<Case> = self.cases.values().cloned().collect();
        let done = repair(
            &self.device,
            server.now,
            &self.outbox,
            &self.refused_ahead,
            &mut cases,
        );
        for case in cases {
            self.cases.insert(case.id.clone(), case);
        }
        self.outbox = done.outbox;
        let restamped: Vec<&str> = done.ops.iter().map(|o| o.op_id.as_str()).collect();
        self.refused_ahead
            .retain(|id| !restamped.contains(&id.as_str()));
        self.clock = done.clock;
    }
}

/// Every household as the server holds it, and as each phone holds it, after everyone
/// pushed and pulled everything.
fn settle(server: &mut Server, phones: &mut [&mut Phone]) {
    for _ in 0..2 {
        for phone in phones.iter_mut() {
            phone.push(server);
        }
        for phone in phones.iter_mut() {
            phone.pull(server);
        }
    }
    let ids: Vec<String> = server.log.iter().map(|o| o.case_id.clone()).collect();
    for id in ids {
        let held = server.case(&id).fields;
        for phone in phones.iter() {
            assert!(phone.outbox.is_empty(), "{}: all sent", phone.device);
            assert_eq!(
                phone.cases.get(&id).map(|c| &c.fields),
                Some(&held),
                "{} sees {id} as the server does",
                phone.device
            );
        }
    }
}

/// The server, phone `p` two days ahead and phone `q` with a right clock; household `h`
/// recorded by `q` and pulled by `p`.
fn household_on_two_phones() -> (Server, Phone, Phone) {
    let mut server = Server {
        now: START,
        ..Server::default()
    };
    let mut q = Phone::new("q", 0);
    let mut p = Phone::new("p", 2 * DAY);
    q.finalize(&server, "h", "sublet");
    q.push(&mut server);
    p.pull(&server);
    (server, p, q)
}

/// The four steps: a phone more than a day ahead finalizes X; its clock is set right; it
/// finalizes V on the same household, accepted at once; X goes. Everyone agrees, conflicts
/// included.
#[test]
fn a_phone_repaired_between_two_forms_sees_what_everyone_sees() {
    let (mut server, mut p, mut q) = household_on_two_phones();
    // 1. X, stamped two days ahead, waits in the outbox (not yet refused).
    let x = p.finalize(&server, "h", "shelter");
    assert!(x.hlc.wall_ms > server.now + MAX_CLOCK_AHEAD_MS);
    server.now += HOUR;
    // 2. The clock is set right.
    p.fix_clock(&server);
    // 3. V on the same household; it has seen X under X's new stamp.
    server.now += HOUR;
    let v = p.finalize(&server, "h", "homeless");
    let Change::Submit { properties, .. } = &v.change else {
        unreachable!()
    };
    let x_now = p.outbox.iter().find(|o| o.op_id == x.op_id).unwrap();
    assert_eq!(properties["housing"].seen, std::slice::from_ref(&x_now.hlc));
    assert!(x_now.hlc.wall_ms <= server.now + MAX_CLOCK_AHEAD_MS);
    // 4. Both go; everyone agrees.
    settle(&mut server, &mut [&mut p, &mut q]);
    assert_eq!(server.case("h").property("housing"), "homeless");
    assert!(server.case("h").fields.conflicted().is_empty());
}

/// The state an older app could leave: X refused for the clock, then a fresh clock (the
/// older repair replaced it) under which V was made, having seen X's old stamp, and taken by
/// the server. The repair gives X a new stamp, but V keeps what it saw, on the phone as on the
/// server: X and V are then concurrent, and the phone shows the conflict everyone shows.
#[test]
fn a_write_the_server_took_keeps_what_it_saw() {
    let (mut server, mut p, mut q) = household_on_two_phones();
    let x = p.finalize(&server, "h", "shelter");
    p.push(&mut server);
    assert_eq!(p.refused_ahead, std::slice::from_ref(&x.op_id));
    // The older app: the clock set right and started afresh, X left as it was.
    p.skew = 0;
    p.clock = Clock::new("p");
    server.now += HOUR;
    let v = p.finalize(&server, "h", "homeless");
    p.push(&mut server);
    assert!(server.log.iter().any(|o| o.op_id == v.op_id), "V was taken");
    assert!(p.outbox.iter().any(|o| o.op_id == x.op_id), "X still waits");
    p.fix_clock(&server);
    let kept = &p.cases["h"].fields.0["housing"];
    let v_kept = kept.history().iter().find(|w| w.hlc == v.hlc).unwrap();
    assert_eq!(
        v_kept.seen,
        std::slice::from_ref(&x.hlc),
        "V keeps what it saw"
    );
    settle(&mut server, &mut [&mut p, &mut q]);
    assert_eq!(server.case("h").fields.conflicted(), ["housing"]);
    assert_eq!(
        p.cases["h"].fields.conflicted(),
        ["housing"],
        "the phone shows it too"
    );
}

#[derive(Clone, Debug)]
enum Step {
    Finalize {
        phone: usize,
        case: usize,
        value: usize,
    },
    Push(usize),
    Pull(usize),
    /// The clock of a phone goes wrong by this many hours ahead.
    Skew {
        phone: usize,
        hours: u64,
    },
    FixClock(usize),
    Wait {
        hours: u64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3usize, 0..3usize, 0..4usize)
            .prop_map(|(phone, case, value)| Step::Finalize { phone, case, value }),
        2 => (0..3usize).prop_map(Step::Push),
        2 => (0..3usize).prop_map(Step::Pull),
        1 => (0..3usize, 0..60u64).prop_map(|(phone, hours)| Step::Skew { phone, hours }),
        1 => (0..3usize).prop_map(Step::FixClock),
        1 => (0..6u64).prop_map(|hours| Step::Wait { hours }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever the order of clocks going wrong and being set right, forms finalized, pushed,
    /// refused and pulled: once every clock is right and everything is sent and pulled, every
    /// phone holds every household exactly as the server does.
    #[test]
    fn any_interleaving_ends_with_every_phone_seeing_what_the_server_holds(
        steps in proptest::collection::vec(step(), 0..60)
    ) {
        let mut server = Server { now: START, ..Server::default() };
        let mut phones: Vec<Phone> = (0..3).map(|i| Phone::new(&format!("p{i}"), 0)).collect();
        let values = ["sublet", "shelter", "homeless", "own_flat"];
        for s in steps {
            match s {
                Step::Finalize { phone, case, value } => {
                    phones[phone].finalize(&server, &format!("h{case}"), values[value]);
                }
                Step::Push(phone) => phones[phone].push(&mut server),
                Step::Pull(phone) => phones[phone].pull(&server),
                Step::Skew { phone, hours } => phones[phone].skew = hours * HOUR,
                // A phone repairs itself once its clock is right again (as the app does at
                // a sync that finds it so).
                Step::FixClock(phone) => phones[phone].fix_clock(&server),
                Step::Wait { hours } => server.now += hours * HOUR,
            }
        }
        for phone in &mut phones {
            phone.fix_clock(&server);
        }
        let [a, b, c] = &mut phones[..] else { unreachable!() };
        settle(&mut server, &mut [a, b, c]);
    }
}
