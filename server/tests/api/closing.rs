//! Closing and reopening a household's case over real HTTP, on SQLite and on PostgreSQL: a
//! closed case leaves what workers' phones pull (but for the closing itself), supervisors
//! still see all of it, the dashboard counts closings by reason, and a reopened case comes
//! back. Closings that would lose track are refused with the reason.

use crate::support::{
    LAPTOP, PHONE_A, PHONE_B, TEAM, get_json, intake, kind, link_op, new_uuid, now, on_both,
    pulled, push, push_applied, push_raw, submit_op,
};
use cris_core::api::{Dashboard, Role};
use cris_core::record::{Change, CloseReason, Operation};
use cris_core::sync::{CaseHistory, ClosingRefusal, Detail, Outcome, Reason};
use reqwest::StatusCode;

fn close(case_id: &str, device: &str, reason: CloseReason) -> Operation {
    link_op(case_id, device, Change::Close { reason })
}

fn reopen(case_id: &str, device: &str, closing: &Operation) -> Operation {
    link_op(
        case_id,
        device,
        Change::Reopen {
            close: closing.op_id.clone(),
        },
    )
}

/// The ids of those of `ops` that are on `case_id`.
fn of_case(ops: &[Operation], case_id: &str) -> Vec<String> {
    ops.iter()
        .filter(|o| o.case_id == case_id)
        .map(|o| o.op_id.clone())
        .collect()
}

fn refused_for(outcome: &Outcome) -> Option<ClosingRefusal> {
    match outcome {
        Outcome::Rejected {
            reason: Reason::Invalid,
            detail: Some(Detail::ClosingRefused { why }),
            ..
        } => Some(*why),
        _ => None,
    }
}

#[tokio::test]
async fn a_closed_case_leaves_the_workers_phones_and_comes_back_when_reopened() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let bela = server
            .account("bela.w", Role::Worker, &["Budapest VIII"])
            .await;
        let (moved, stays) = (new_uuid(), new_uuid());
        let visit = submit_op("home_visit", &moved, PHONE_A, now(), &[], &[]);
        let moved_ops = [intake(&moved, PHONE_A), visit];
        push_applied(&server, &ayse, &moved_ops).await;
        push_applied(&server, &ayse, &[intake(&stays, PHONE_A)]).await;
        let (_, before_closing) = pulled(&server, &ayse, 0).await;

        // Another team's worker cannot close it: for them it does not exist.
        let far = close(&moved, PHONE_B, CloseReason::MovedAway);
        assert!(matches!(
            push(&server, &bela, &[far]).await[0],
            Outcome::Rejected {
                reason: Reason::NotFound,
                ..
            }
        ));

        let closing = close(&moved, PHONE_A, CloseReason::MovedAway);
        let again = close(&moved, LAPTOP, CloseReason::NoContact);
        let outcomes = push(&server, &ayse, &[closing.clone(), closing.clone(), again]).await;
        assert_eq!(outcomes[0], Outcome::Applied, "{}", kind(&server));
        assert_eq!(
            outcomes[1],
            Outcome::Duplicate,
            "sent again, nothing changes"
        );
        assert_eq!(
            refused_for(&outcomes[2]),
            Some(ClosingRefusal::ClosedAlready)
        );

        // A phone that held the household hears that it closed, and nothing else of it; a
        // new phone gets only the closing (it holds nothing to remove).
        let (after, cursor) = pulled(&server, &ayse, before_closing).await;
        assert_eq!(of_case(&after, &moved), [closing.op_id.as_str()]);
        let (fresh, _) = pulled(&server, &ayse, 0).await;
        assert_eq!(of_case(&fresh, &moved), [closing.op_id.as_str()]);
        assert_eq!(of_case(&fresh, &stays).len(), 1, "the open household stays");

        // A form made offline before the phone heard is kept, and stays off the phones.
        let late = submit_op("home_visit", &moved, PHONE_B, now(), &[], &[]);
        push_applied(&server, &ayse, std::slice::from_ref(&late)).await;
        let (after, cursor) = pulled(&server, &ayse, cursor).await;
        assert!(of_case(&after, &moved).is_empty(), "{}", kind(&server));

        // The supervisor still sees everything of it, and the dashboard counts it.
        let (all, _) = pulled(&server, &sara, 0).await;
        assert_eq!(of_case(&all, &moved).len(), 4);
        let history: CaseHistory =
            get_json(&server, &sara, &format!("/api/v1/cases/{moved}/history")).await;
        assert!(history.entries.iter().any(|e| e.op == closing));
        let board: Dashboard = get_json(&server, &sara, "/api/v1/dashboard").await;
        assert_eq!(
            board.closed.into_iter().collect::<Vec<_>>(),
            [(CloseReason::MovedAway, 1)]
        );

        // Reopened: the phone hears it, and reads the household's history to have all of it.
        let reopening = reopen(&moved, LAPTOP, &closing);
        let outcomes = push(
            &server,
            &sara,
            &[reopening.clone(), reopen(&moved, LAPTOP, &closing)],
        )
        .await;
        assert_eq!(outcomes[0], Outcome::Applied);
        assert_eq!(refused_for(&outcomes[1]), Some(ClosingRefusal::NotClosed));
        // (What came while it was closed follows too: it is after the phone's cursor.)
        let (after, _) = pulled(&server, &ayse, cursor).await;
        assert_eq!(
            of_case(&after, &moved),
            [late.op_id.clone(), reopening.op_id.clone()]
        );
        let history: CaseHistory =
            get_json(&server, &ayse, &format!("/api/v1/cases/{moved}/history")).await;
        assert_eq!(history.entries.len(), 5);
        let (fresh, _) = pulled(&server, &ayse, 0).await;
        assert_eq!(of_case(&fresh, &moved).len(), 5, "{}", kind(&server));
        let board: Dashboard = get_json(&server, &sara, "/api/v1/dashboard").await;
        assert!(board.closed.is_empty());
    })
    .await;
}

#[tokio::test]
async fn closings_that_would_lose_track_are_refused() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let (kept, merged) = (new_uuid(), new_uuid());
        push_applied(
            &server,
            &ayse,
            &[intake(&kept, PHONE_A), intake(&merged, PHONE_B)],
        )
        .await;
        let merge = link_op(&merged, LAPTOP, Change::Merge { into: kept.clone() });
        push_applied(&server, &sara, &[merge]).await;

        // The merged household closes with the one it joined, never alone.
        let alone = close(&merged, PHONE_A, CloseReason::Other);
        assert_eq!(
            refused_for(&push(&server, &ayse, &[alone]).await[0]),
            Some(ClosingRefusal::Merged)
        );
        // A reopening of a case never closed.
        let never = link_op(&kept, PHONE_A, Change::Reopen { close: new_uuid() });
        assert_eq!(
            refused_for(&push(&server, &ayse, &[never]).await[0]),
            Some(ClosingRefusal::NotClosed)
        );
        // Closing the household it joined takes both off the workers' phones.
        let closing = close(&kept, PHONE_A, CloseReason::GoalsReached);
        push_applied(&server, &ayse, std::slice::from_ref(&closing)).await;
        let (fresh, _) = pulled(&server, &ayse, 0).await;
        assert!(of_case(&fresh, &merged).is_empty(), "{}", kind(&server));
        assert_eq!(of_case(&fresh, &kept), [closing.op_id.as_str()]);

        // A reason the server does not know, or none, is malformed, and nothing is stored.
        for change in [
            serde_json::json!({ "kind": "close", "reason": "died" }),
            serde_json::json!({ "kind": "close" }),
            serde_json::json!({ "kind": "reopen", "close": "the last one" }),
        ] {
            let mut op = serde_json::to_value(close(&kept, PHONE_A, CloseReason::Other)).unwrap();
            op["change"] = change.clone();
            let res = push_raw(&server, &ayse, &serde_json::json!({ "ops": [op] })).await;
            assert_eq!(res.status(), StatusCode::OK);
            let body: cris_core::sync::PushResponse = res.json().await.unwrap();
            assert!(
                matches!(
                    body.results[0].outcome,
                    Outcome::Rejected {
                        reason: Reason::Malformed,
                        ..
                    }
                ),
                "{change} on {}: {:?}",
                kind(&server),
                body.results[0].outcome
            );
        }
        let history: CaseHistory =
            get_json(&server, &sara, &format!("/api/v1/cases/{kept}/history")).await;
        let closings = history
            .entries
            .iter()
            .filter(|e| matches!(e.op.change, Change::Close { .. } | Change::Reopen { .. }))
            .count();
        assert_eq!(closings, 1, "{}", kind(&server));
    })
    .await;
}
