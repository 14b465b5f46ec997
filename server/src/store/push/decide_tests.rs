//! The rules of a push, each tried without a database.

use std::collections::BTreeMap;

use cris_core::hlc::Hlc;
use cris_core::record::{Correction, Submission};

use super::*;
use crate::store::User;

const NORD: &str = "team-nord";

fn op(op_id: &str, case_id: &str, change: Change) -> CheckedOp {
    let op = Operation {
        op_id: op_id.to_owned(),
        device: "phone-1".to_owned(),
        hlc: Hlc {
            wall_ms: 1_000,
            counter: 0,
            device: "phone-1".to_owned(),
        },
        created_at_ms: 1_000.0,
        case_id: case_id.to_owned(),
        change,
    };
    CheckedOp {
        body: String::new(),
        creates_case: op.submission().is_some_and(|s| s.form_id == "intake"),
        op,
    }
}

fn form(id: &str, case_id: &str, form_id: &str, corrects: Option<&str>) -> Change {
    Change::Submit {
        submission: Submission {
            id: id.to_owned(),
            form_id: form_id.to_owned(),
            form_version: 1,
            case_id: case_id.to_owned(),
            device: "phone-1".to_owned(),
            answers: Default::default(),
            started_at_ms: 900.0,
            finalized_at_ms: 1_000.0,
            corrects: corrects.map(|s| Correction {
                submission_id: s.to_owned(),
                reason: "wrong date".to_owned(),
            }),
            team: None,
        },
        properties: BTreeMap::new(),
    }
}

fn merge(into: &str) -> Change {
    Change::Merge {
        into: into.to_owned(),
    }
}

fn batch(role: Role, ops: Vec<CheckedOp>) -> PushBatch {
    PushBatch {
        user: User {
            id: "user-1".to_owned(),
            login: "ayse".to_owned(),
            display_name: "Ayşe Testfrau".to_owned(),
            role,
            disabled: false,
            teams: vec!["Offenbach Nord".to_owned()],
        },
        ops,
        now_ms: 5_000,
    }
}

/// The store knows the user's one team and the households `cases`, all of it.
fn known(cases: &[&str]) -> Known {
    let mut known = Known::default();
    known.teams_of.insert(
        "user-1".to_owned(),
        vec![(NORD.to_owned(), "Offenbach Nord".to_owned())],
    );
    for case in cases {
        known.case_team.insert((*case).to_owned(), NORD.to_owned());
    }
    known
}

fn decided(batch: &PushBatch, known: Known) -> (Vec<Stored>, Decision<'_>) {
    let ops: Vec<(usize, &CheckedOp)> = batch.ops.iter().map(|c| (0, c)).collect();
    let mut d = decide(std::slice::from_ref(batch), &ops, known);
    (d.out.remove(0), d)
}

fn refusal(stored: &Stored) -> Option<&Detail> {
    match stored {
        Stored::Refused(r) => Some(&r.detail),
        _ => None,
    }
}

const APPLIED: Stored = Stored::Applied {
    conflicts: Vec::new(),
};

#[test]
fn merges_are_for_supervisors_and_each_sees_the_merges_before_it_in_the_group() {
    let worker = batch(Role::Worker, vec![op("op-1", "case-a", merge("case-b"))]);
    let (out, d) = decided(&worker, known(&["case-a", "case-b"]));
    assert_eq!(refusal(&out[0]), Some(&Detail::SupervisorsOnly));
    assert!(d.merged.is_empty() && d.accepted.is_empty());

    let supervisor = batch(
        Role::Supervisor,
        vec![
            op("op-1", "case-a", merge("case-b")),
            // case-a is merged now: nothing may join it.
            op("op-2", "case-c", merge("case-a")),
            // Nor may case-b, which has case-a in it, join another.
            op("op-3", "case-b", merge("case-c")),
        ],
    );
    let (out, d) = decided(&supervisor, known(&["case-a", "case-b", "case-c"]));
    assert_eq!(out[0], APPLIED);
    let why = |s: &Stored| match refusal(s) {
        Some(Detail::MergeRefused { why }) => Some(*why),
        _ => None,
    };
    assert_eq!(why(&out[1]), Some(MergeRefusal::IntoMerged));
    assert_eq!(why(&out[2]), Some(MergeRefusal::OthersMergedIntoIt));
    assert_eq!(d.merged, vec![("op-1", "case-a", "case-b", 0)]);
}

#[test]
fn a_merge_undone_must_be_the_one_standing() {
    let mut store = known(&["case-a", "case-b"]);
    store.standing.insert(
        "case-a".to_owned(),
        ("merge-1".to_owned(), "case-b".to_owned()),
    );
    let unmerge = |merge: &str| Change::Unmerge {
        merge: merge.to_owned(),
    };
    let supervisor = batch(
        Role::Supervisor,
        vec![
            op("op-1", "case-a", unmerge("merge-other")),
            op("op-2", "case-a", unmerge("merge-1")),
            op("op-3", "case-a", unmerge("merge-1")),
        ],
    );
    let (out, d) = decided(&supervisor, store);
    let not_merged = Detail::MergeRefused {
        why: MergeRefusal::NotMerged,
    };
    assert_eq!(refusal(&out[0]), Some(&not_merged));
    assert_eq!(out[1], APPLIED);
    assert_eq!(refusal(&out[2]), Some(&not_merged), "undone already");
    assert_eq!(d.unmerged, vec![("merge-1", "op-2", "case-a", 0)]);
    assert!(d.known.standing.is_empty());
}

#[test]
fn a_retry_is_a_duplicate_and_a_form_id_is_taken_once() {
    let mut store = known(&["case-a"]);
    store.logged.insert("op-1".to_owned());
    store.submissions.insert(
        "form-1".to_owned(),
        ("case-a".to_owned(), "home_visit".to_owned()),
    );
    let worker = batch(
        Role::Worker,
        vec![
            op(
                "op-1",
                "case-a",
                form("form-1", "case-a", "home_visit", None),
            ),
            op(
                "op-2",
                "case-a",
                form("form-1", "case-a", "home_visit", None),
            ),
            op(
                "op-3",
                "case-a",
                form("form-2", "case-a", "home_visit", None),
            ),
            op(
                "op-3",
                "case-a",
                form("form-2", "case-a", "home_visit", None),
            ),
        ],
    );
    let (out, d) = decided(&worker, store);
    assert_eq!(
        out,
        vec![
            Stored::Duplicate,
            Stored::SubmissionTaken,
            APPLIED,
            Stored::Duplicate
        ]
    );
    assert_eq!(d.accepted.len(), 1);
    assert_eq!(d.known.review_status["form-2"], "new");
}

#[test]
fn a_correction_is_of_the_same_households_form_of_the_same_kind() {
    let mut store = known(&["case-a", "case-b"]);
    for (id, case) in [("visit-a", "case-a"), ("visit-b", "case-b")] {
        store
            .submissions
            .insert(id.to_owned(), (case.to_owned(), "home_visit".to_owned()));
        store
            .review_status
            .insert(id.to_owned(), "changes_requested".to_owned());
    }
    let worker = batch(
        Role::Worker,
        vec![
            // Another household's form is answered as if it did not exist.
            op(
                "op-1",
                "case-a",
                form("fix-1", "case-a", "home_visit", Some("visit-b")),
            ),
            op(
                "op-2",
                "case-a",
                form("fix-2", "case-a", "intake", Some("visit-a")),
            ),
            op(
                "op-3",
                "case-a",
                form("fix-3", "case-a", "home_visit", Some("visit-a")),
            ),
        ],
    );
    let (out, d) = decided(&worker, store);
    let bad = |s: &Stored| match s {
        Stored::BadCorrection(why) => why.clone(),
        other => panic!("{other:?}"),
    };
    assert!(bad(&out[0]).contains("does not have"), "{:?}", out[0]);
    assert!(bad(&out[1]).contains("another kind"), "{:?}", out[1]);
    assert_eq!(out[2], APPLIED);
    assert_eq!(d.now_corrected, vec!["visit-a".to_owned()]);
    assert_eq!(d.known.review_status["visit-a"], "corrected");
    assert_eq!(d.known.review_status["visit-b"], "changes_requested");
}

#[test]
fn a_new_household_needs_an_intake_and_joins_only_a_team_of_its_author() {
    let mut other_team = form("intake-2", "case-new-2", "intake", None);
    if let Change::Submit { submission, .. } = &mut other_team {
        submission.team = Some("Budapest".to_owned());
    }
    let worker = batch(
        Role::Worker,
        vec![
            op(
                "op-1",
                "case-new-1",
                form("visit-1", "case-new-1", "home_visit", None),
            ),
            op("op-2", "case-new-2", other_team),
            op(
                "op-3",
                "case-new-3",
                form("intake-3", "case-new-3", "intake", None),
            ),
            // A household of a team that is not the author's does not exist for them.
            op(
                "op-4",
                "case-far",
                form("visit-4", "case-far", "home_visit", None),
            ),
        ],
    );
    let mut store = known(&[]);
    store
        .case_team
        .insert("case-far".to_owned(), "team-budapest".to_owned());
    let (out, d) = decided(&worker, store);
    assert_eq!(out[0], Stored::NotFound);
    assert_eq!(
        refusal(&out[1]),
        Some(&Detail::NotYourTeam {
            team: "Budapest".to_owned()
        })
    );
    assert_eq!(out[2], APPLIED);
    assert_eq!(out[3], Stored::NotFound);
    assert_eq!(d.new_cases, vec![("case-new-3", NORD.to_owned(), 5_000)]);
}

#[test]
fn a_worker_closes_a_case_once_and_reopens_only_the_closing_that_stands() {
    let close = |reason| Change::Close { reason };
    let reopen = |close: &str| Change::Reopen {
        close: close.to_owned(),
    };
    let mut store = known(&["case-a", "case-b", "case-c"]);
    store.standing.insert(
        "case-c".to_owned(),
        ("merge-1".to_owned(), "case-b".to_owned()),
    );
    let worker = batch(
        Role::Worker,
        vec![
            op("op-1", "case-a", close(CloseReason::MovedAway)),
            op("op-2", "case-a", close(CloseReason::NoContact)),
            op("op-3", "case-a", reopen("op-other")),
            op("op-4", "case-a", reopen("op-1")),
            op("op-5", "case-a", reopen("op-1")),
            // A household merged into another closes with it.
            op("op-6", "case-c", close(CloseReason::Other)),
            // A closed household is merged into none, and none into it.
            op("op-7", "case-b", close(CloseReason::GoalsReached)),
            op("op-8", "case-unknown", close(CloseReason::Other)),
        ],
    );
    let (out, d) = decided(&worker, store);
    let why = |s: &Stored| match refusal(s) {
        Some(Detail::ClosingRefused { why }) => Some(*why),
        _ => None,
    };
    assert_eq!(out[0], APPLIED);
    assert_eq!(why(&out[1]), Some(ClosingRefusal::ClosedAlready));
    assert_eq!(why(&out[2]), Some(ClosingRefusal::NotClosed));
    assert_eq!(out[3], APPLIED);
    assert_eq!(
        why(&out[4]),
        Some(ClosingRefusal::NotClosed),
        "reopened already"
    );
    assert_eq!(why(&out[5]), Some(ClosingRefusal::Merged));
    assert_eq!(out[6], APPLIED);
    assert_eq!(out[7], Stored::NotFound);
    assert_eq!(
        d.closed,
        vec![
            ("op-1", "case-a", CloseReason::MovedAway, 0),
            ("op-7", "case-b", CloseReason::GoalsReached, 0)
        ]
    );
    assert_eq!(d.reopened, vec![("op-1", "op-4", 0)]);

    let mut store = d.known;
    store.standing.clear();
    let supervisor = batch(
        Role::Supervisor,
        vec![
            op("op-9", "case-a", merge("case-b")),
            op("op-10", "case-b", merge("case-a")),
        ],
    );
    let (out, _) = decided(&supervisor, store);
    let closed = Some(&Detail::MergeRefused {
        why: MergeRefusal::Closed,
    });
    assert_eq!(refusal(&out[0]), closed);
    assert_eq!(refusal(&out[1]), closed);
}
