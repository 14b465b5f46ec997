//! Merging households over real HTTP, on SQLite and on PostgreSQL: a supervisor finds that
//! two households recorded separately are one family and merges them; their forms, consents
//! and history show as one household's, phones that pull follow, and taking the merge back
//! leaves both as they were. Merges that would lose track are refused with the reason.

use crate::support::{
    LAPTOP, PHONE_A, PHONE_B, TEAM, TestServer, consent, consent_op, kind, new_uuid, now, on_both,
    push, submit_op,
};
use cris_core::api::{CaseConsent, ReviewPage, Role};
use cris_core::record::{Case, Change, Operation, households, members};
use cris_core::sync::{CaseHistory, Outcome, PullResponse, Reason};
use reqwest::StatusCode;

fn intake(case_id: &str, device: &str, housing: &str, name: &str) -> Operation {
    submit_op(
        "intake",
        case_id,
        device,
        now(),
        &[("housing_situation", housing), ("household_name", name)],
        &[],
    )
}

/// An operation made on the supervisor's laptop.
fn link(case_id: &str, change: Change) -> Operation {
    crate::support::link_op(case_id, LAPTOP, change)
}

fn merge(case_id: &str, into: &str) -> Operation {
    link(case_id, Change::Merge { into: into.into() })
}

fn unmerge(case_id: &str, merge: &Operation) -> Operation {
    link(
        case_id,
        Change::Unmerge {
            merge: merge.op_id.clone(),
        },
    )
}

async fn get<T: serde::de::DeserializeOwned>(server: &TestServer, token: &str, path: &str) -> T {
    let res = server
        .client
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path} on {}", kind(server));
    res.json().await.unwrap()
}

/// The cases a phone holds after pulling everything.
async fn phone_cases(server: &TestServer, token: &str) -> Vec<Case> {
    let page: PullResponse = get(server, token, "/api/v1/ops?since=0").await;
    let mut cases: std::collections::BTreeMap<String, Case> = Default::default();
    for op in &page.ops {
        cases
            .entry(op.case_id.clone())
            .or_insert_with(|| Case::new(&op.case_id, op.created_at_ms))
            .apply(op);
    }
    cases.into_values().collect()
}

fn rejected(outcome: &Outcome) -> (Reason, &str) {
    match outcome {
        Outcome::Rejected {
            reason, message, ..
        } => (*reason, message.as_str()),
        other => panic!("not rejected: {other:?}"),
    }
}

/// The submission ids the review queue lists for a household.
async fn queue_of(server: &TestServer, token: &str, case_id: &str) -> Vec<String> {
    let page: ReviewPage = get(server, token, &format!("/api/v1/review?case={case_id}")).await;
    let mut ids: Vec<String> = page.items.into_iter().map(|i| i.submission_id).collect();
    ids.sort();
    ids
}

fn submission_id(op: &Operation) -> String {
    op.submission().unwrap().id.clone()
}

#[tokio::test]
async fn a_supervisor_merges_two_households_and_can_take_it_back() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let jan = server.account("jan.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        // Two workers met the same family on the same day, each offline.
        let (a, b) = (new_uuid(), new_uuid());
        let first = intake(&a, PHONE_A, "shelter", "Familie Yılmaz");
        let second = intake(&b, PHONE_B, "homeless", "Familie Yilmaz");
        assert_eq!(
            push(&server, &ayse, std::slice::from_ref(&first)).await,
            [Outcome::Applied]
        );
        let signed = consent(
            &server.consent,
            server.consent.agency().unwrap(),
            &b,
            PHONE_B,
            now(),
        );
        assert_eq!(
            push(&server, &jan, &[second.clone(), consent_op(&signed)]).await,
            [Outcome::Applied, Outcome::Applied]
        );

        let merged = merge(&b, &a);
        assert_eq!(
            push(&server, &sara, std::slice::from_ref(&merged)).await,
            [Outcome::Applied]
        );
        assert_eq!(
            push(&server, &sara, std::slice::from_ref(&merged)).await,
            [Outcome::Duplicate],
            "sent again, it changes nothing"
        );

        // A phone that pulls follows: one household, with both workers' housing values.
        let cases = phone_cases(&server, &ayse).await;
        let shown = households(&cases);
        assert_eq!(shown.len(), 1, "{}", kind(&server));
        assert_eq!(shown[0].id, a);
        let field = &shown[0].fields.0["housing_situation"];
        let mut values: Vec<&str> = field.heads().iter().map(|w| w.value.as_str()).collect();
        values.sort_unstable();
        assert_eq!(
            values,
            ["homeless", "shelter"],
            "a conflict to resolve, nothing dropped"
        );
        assert_eq!(members(&cases, &a), [a.clone(), b.clone()]);

        // Its forms, consents and history are the household's.
        assert_eq!(queue_of(&server, &sara, &a).await, {
            let mut both = vec![submission_id(&first), submission_id(&second)];
            both.sort();
            both
        });
        let consents: CaseConsent =
            get(&server, &sara, &format!("/api/v1/cases/{a}/consent")).await;
        assert_eq!(
            consents.records.len(),
            1,
            "the consent signed under the other id"
        );
        assert!(
            !consents.state.purposes.is_empty(),
            "and in force: {:?}",
            consents.state
        );
        let history: CaseHistory = get(&server, &sara, &format!("/api/v1/cases/{a}/history")).await;
        let logged: Vec<&str> = history
            .entries
            .iter()
            .map(|e| e.op.op_id.as_str())
            .collect();
        assert_eq!(logged.len(), 4, "{logged:?}");
        assert_eq!(logged.last(), Some(&merged.op_id.as_str()));
        assert_eq!(
            history.entries.last().unwrap().login,
            "sara.s",
            "who merged"
        );

        // A phone that had not heard of the merge still records on the merged household;
        // it shows with the household it joined.
        let late = submit_op("home_visit", &b, PHONE_B, now(), &[], &[]);
        assert_eq!(
            push(&server, &jan, std::slice::from_ref(&late)).await,
            [Outcome::Applied]
        );
        assert_eq!(queue_of(&server, &sara, &a).await.len(), 3);

        // Taken back: each household is as it was, and the log keeps both decisions.
        let undo = unmerge(&b, &merged);
        assert_eq!(
            push(&server, &sara, std::slice::from_ref(&undo)).await,
            [Outcome::Applied]
        );
        assert_eq!(queue_of(&server, &sara, &a).await, [submission_id(&first)]);
        assert_eq!(queue_of(&server, &sara, &b).await.len(), 2);
        let consents: CaseConsent =
            get(&server, &sara, &format!("/api/v1/cases/{a}/consent")).await;
        assert!(consents.records.is_empty());
        let history: CaseHistory = get(&server, &sara, &format!("/api/v1/cases/{a}/history")).await;
        let logged: Vec<&str> = history
            .entries
            .iter()
            .map(|e| e.op.op_id.as_str())
            .collect();
        assert_eq!(
            logged,
            [
                first.op_id.as_str(),
                merged.op_id.as_str(),
                undo.op_id.as_str()
            ],
            "the household's own form, and the merge and its undoing"
        );
        let cases = phone_cases(&server, &jan).await;
        let shown = households(&cases);
        assert_eq!(shown.len(), 2, "{}", kind(&server));
        let own = shown.iter().find(|h| h.id == a).unwrap();
        assert_eq!(own.property("housing_situation"), "shelter");
        assert!(own.fields.conflicted().is_empty());

        // Undone once is undone: again is refused, a retry of the same is a duplicate.
        assert_eq!(
            push(&server, &sara, std::slice::from_ref(&undo)).await,
            [Outcome::Duplicate]
        );
        let again = push(&server, &sara, &[unmerge(&b, &merged)]).await;
        assert_eq!(rejected(&again[0]).0, Reason::Invalid);
        // And the two can be merged again, the other way round.
        assert_eq!(
            push(&server, &sara, &[merge(&a, &b)]).await,
            [Outcome::Applied]
        );
        assert_eq!(queue_of(&server, &sara, &b).await.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn merges_that_would_lose_track_are_refused_with_the_reason() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let olga = server.account("olga.w", Role::Worker, &["Budapest"]).await;
        let (a, b, c, far) = (new_uuid(), new_uuid(), new_uuid(), new_uuid());
        let ops = [
            intake(&a, PHONE_A, "shelter", "Familie Demir"),
            intake(&b, PHONE_A, "shelter", "Familie Demir"),
            intake(&c, PHONE_A, "sublet", "Familie Şahin"),
        ];
        assert_eq!(
            push(&server, &ayse, &ops).await,
            [Outcome::Applied, Outcome::Applied, Outcome::Applied]
        );
        let elsewhere = intake(&far, PHONE_B, "shelter", "Familie Demir");
        assert_eq!(push(&server, &olga, &[elsewhere]).await, [Outcome::Applied]);

        // A worker may not merge; the worker's phone keeps it with the reason.
        let by_worker = push(&server, &ayse, &[merge(&b, &a)]).await;
        let (reason, message) = rejected(&by_worker[0]);
        assert_eq!(reason, Reason::Forbidden);
        assert!(
            matches!(
                &by_worker[0],
                Outcome::Rejected {
                    detail: Some(cris_core::sync::Detail::SupervisorsOnly),
                    ..
                }
            ),
            "{:?}",
            by_worker[0]
        );
        assert!(message.contains("supervisors"), "{message}");

        let mut malformed = merge(&b, &a);
        malformed.change = Change::Merge {
            into: "Familie Demir".into(),
        };
        let out_of_order = merge(&b, &a);
        let outcomes = push(
            &server,
            &sara,
            &[
                // Another team's household is as if it did not exist, either way round.
                merge(&b, &far),
                merge(&far, &b),
                merge(&b, &b),
                malformed,
                // Undone before it was made (out of order): refused; the merge then stands.
                unmerge(&b, &out_of_order),
                out_of_order.clone(),
                // One household in one other at a time, and no chains.
                merge(&b, &c),
                merge(&c, &b),
                merge(&a, &c),
                link(&c, Change::Unmerge { merge: new_uuid() }),
                link(&c, Change::Distinct { other: a.clone() }),
            ],
        )
        .await;
        let reasons: Vec<Reason> = outcomes
            .iter()
            .map(|o| match o {
                Outcome::Applied => Reason::Forbidden,
                o => rejected(o).0,
            })
            .collect();
        assert_eq!(
            reasons[..5],
            [
                Reason::NotFound,
                Reason::NotFound,
                Reason::Invalid,
                Reason::Malformed,
                Reason::Invalid,
            ],
            "{outcomes:?} on {}",
            kind(&server)
        );
        assert_eq!(outcomes[5], Outcome::Applied, "{}", kind(&server));
        for (at, says) in [
            (6, "already"),
            (7, "merge into that one"),
            (8, "other way round"),
            (9, "not merged"),
        ] {
            let (reason, message) = rejected(&outcomes[at]);
            assert_eq!(reason, Reason::Invalid, "{at}: {message}");
            assert!(message.contains(says), "{at}: {message}");
        }
        assert_eq!(
            outcomes[10],
            Outcome::Applied,
            "two families found distinct"
        );

        // What the phones see: the one merge and the finding, nothing refused.
        let cases = phone_cases(&server, &ayse).await;
        let shown = households(&cases);
        assert_eq!(shown.len(), 2);
        let (case_a, case_c) = (
            shown.iter().find(|h| h.id == a).unwrap(),
            shown.iter().find(|h| h.id == c).unwrap(),
        );
        assert!(case_a.distinct(case_c));
        let merged_b = cases.iter().find(|h| h.id == b).unwrap();
        assert_eq!(
            merged_b.merged_into(),
            Some((out_of_order.op_id.as_str(), a.as_str()))
        );

        // Nobody outside the team learns of it.
        let page: PullResponse = get(&server, &olga, "/api/v1/ops?since=0").await;
        assert!(page.ops.iter().all(|op| op.case_id == far));
    })
    .await;
}

#[tokio::test]
async fn a_household_others_are_merged_into_is_not_merged_later_either() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let (a, b, c) = (new_uuid(), new_uuid(), new_uuid());
        let ops = [
            intake(&a, PHONE_A, "shelter", "Familie Demir"),
            intake(&b, PHONE_A, "shelter", "Familie Demir"),
            intake(&c, PHONE_A, "sublet", "Familie Demir"),
        ];
        push(&server, &ayse, &ops).await;
        assert_eq!(
            push(&server, &sara, &[merge(&b, &a)]).await,
            [Outcome::Applied]
        );
        // Later, in a push that names neither B nor its merge: still no chain.
        let later = push(&server, &sara, &[merge(&a, &c)]).await;
        let (reason, message) = rejected(&later[0]);
        assert_eq!(reason, Reason::Invalid, "{}", kind(&server));
        assert!(message.contains("other way round"), "{message}");
    })
    .await;
}
