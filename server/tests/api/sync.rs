//! The sync protocol over real HTTP, on SQLite and on PostgreSQL: pushes answered per
//! operation, retries that change nothing, bad batches refused without losing the good
//! operations in them, pulls scoped to the user's teams, and a case's history.

use std::io::Write as _;

use crate::support::{
    PHONE_A, PHONE_B, TEAM, TestServer, error, kind, new_uuid, now, on_both, push, push_raw,
    submit_op,
};
use cris_core::api::{ErrorCode, Role};
use cris_core::record::Operation;
use cris_core::sync::{CaseHistory, Outcome, PullResponse, PushResponse, Reason};
use reqwest::StatusCode;
use serde_json::json;

const DAY: u64 = 86_400_000;

fn intake(case_id: &str, device: &str, wall_ms: u64, housing: &str) -> Operation {
    submit_op(
        "intake",
        case_id,
        device,
        wall_ms,
        &[("housing_situation", housing)],
        &[],
    )
}

async fn pull(server: &TestServer, token: &str, query: &str) -> PullResponse {
    let res = server
        .client
        .get(server.url(&format!("/api/v1/ops{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", kind(server));
    res.json().await.unwrap()
}

async fn history(server: &TestServer, token: &str, case_id: &str) -> reqwest::Response {
    server
        .client
        .get(server.url(&format!("/api/v1/cases/{case_id}/history")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn rejected(outcome: &Outcome) -> Option<(Reason, &str)> {
    match outcome {
        Outcome::Rejected {
            reason, message, ..
        } => Some((*reason, message.as_str())),
        _ => None,
    }
}

#[tokio::test]
async fn a_push_reaches_the_team_once_and_a_retry_changes_nothing() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let jan = server.account("jan.w", Role::Worker, &[TEAM]).await;
        let case_id = new_uuid();
        let op = intake(&case_id, PHONE_A, now(), "sublet");

        assert_eq!(
            push(&server, &ayse, std::slice::from_ref(&op)).await,
            [Outcome::Applied]
        );
        // The response was lost: the phone pushes the same operation again.
        assert_eq!(
            push(&server, &ayse, std::slice::from_ref(&op)).await,
            [Outcome::Duplicate]
        );
        // Even when the form has changed on the server since: it was applied, the phone
        // must let it go.
        let mut stale = op.clone();
        let submission = crate::support::submission_mut(&mut stale);
        submission.form_version = 99;
        assert_eq!(push(&server, &ayse, &[stale]).await, [Outcome::Duplicate]);
        // The same form under another operation (typed in again under its id) is refused
        // with a code the phone words in the worker's language.
        let mut again = op.clone();
        again.op_id = new_uuid();
        let outcome = &push(&server, &ayse, &[again]).await[0];
        assert!(
            matches!(
                outcome,
                Outcome::Rejected {
                    reason: Reason::Invalid,
                    detail: Some(cris_core::sync::Detail::SubmissionTaken),
                    ..
                }
            ),
            "{outcome:?}"
        );

        let page = pull(&server, &jan, "?since=0").await;
        assert_eq!(page.ops, std::slice::from_ref(&op), "{}", kind(&server));
        assert!(!page.more);
        // Names the store the cursor belongs to (a phone moved to another starts over).
        assert_eq!(page.store_id, server.store.instance_id());
        assert!(page.next_cursor > 0);
        let again = pull(&server, &jan, &format!("?since={}", page.next_cursor)).await;
        assert!(again.ops.is_empty());
        assert_eq!(
            again.next_cursor, page.next_cursor,
            "an empty page keeps the cursor"
        );

        let res = history(&server, &jan, &case_id).await;
        assert_eq!(res.status(), StatusCode::OK);
        let log: CaseHistory = res.json().await.unwrap();
        assert_eq!(log.entries.len(), 1, "stored once");
        assert_eq!(log.entries[0].login, "ayse.w");
        assert_eq!(log.entries[0].op, op);
    })
    .await;
}

#[tokio::test]
async fn a_batch_whose_response_was_lost_is_retried_with_more_in_it() {
    on_both(|server| async move {
        let token = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let first: Vec<Operation> = (0..30)
            .map(|i| intake(&new_uuid(), PHONE_A, now() + i, "shelter"))
            .collect();
        let outcomes = push(&server, &token, &first).await;
        assert!(outcomes.iter().all(|o| *o == Outcome::Applied));

        let mut retry = first.clone();
        let later: Vec<Operation> = (0..5)
            .map(|i| intake(&new_uuid(), PHONE_A, now() + 100 + i, "own_flat"))
            .collect();
        retry.extend(later.iter().cloned());
        let outcomes = push(&server, &token, &retry).await;
        assert!(outcomes[..30].iter().all(|o| *o == Outcome::Duplicate));
        assert!(outcomes[30..].iter().all(|o| *o == Outcome::Applied));

        // Paged pulls give every operation exactly once, in the order they were logged.
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            let page = pull(&server, &token, &format!("?since={cursor}&limit=7")).await;
            assert!(page.ops.len() <= 7);
            seen.extend(page.ops.into_iter().map(|o| o.op_id));
            cursor = page.next_cursor;
            if !page.more {
                break;
            }
        }
        let expected: Vec<String> = retry.iter().map(|o| o.op_id.clone()).collect();
        assert_eq!(seen, expected, "{}", kind(&server));
    })
    .await;
}

#[tokio::test]
async fn one_bad_operation_is_refused_alone_and_says_why() {
    on_both(|server| async move {
        let token = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let good = intake(&new_uuid(), PHONE_A, now(), "sublet");
        let unnamed = submit_op(
            "intake",
            &new_uuid(),
            PHONE_A,
            now(),
            &[("household_name", "")],
            &[],
        );
        let mut old_form = intake(&new_uuid(), PHONE_A, now(), "sublet");
        let submission = crate::support::submission_mut(&mut old_form);
        submission.form_version = 99;
        let year_ahead = intake(&new_uuid(), PHONE_A, now() + 365 * DAY, "sublet");
        let year_behind = intake(&new_uuid(), PHONE_A, now() - 365 * DAY, "homeless");
        let garbage_id = new_uuid();
        let last = intake(&new_uuid(), PHONE_A, now(), "shelter");
        let body = json!({ "ops": [
            good,
            unnamed,
            { "op_id": garbage_id, "what": "not an operation" },
            old_form,
            year_ahead,
            "a string",
            year_behind,
            last,
        ]});
        let res = push_raw(&server, &token, &body).await;
        assert_eq!(res.status(), StatusCode::OK);
        let results = res.json::<PushResponse>().await.unwrap().results;
        let outcomes: Vec<&Outcome> = results.iter().map(|r| &r.outcome).collect();
        assert_eq!(outcomes[0], &Outcome::Applied);
        let (reason, message) = rejected(outcomes[1]).unwrap();
        assert_eq!(reason, Reason::Invalid);
        assert!(message.contains("household_name"), "{message}");
        assert_eq!(
            results[2].op_id, garbage_id,
            "the id is echoed when there is one"
        );
        let (reason, message) = rejected(outcomes[2]).unwrap();
        assert_eq!(reason, Reason::Malformed);
        assert!(message.contains("not an operation"), "{message}");
        let (reason, message) = rejected(outcomes[3]).unwrap();
        assert_eq!(reason, Reason::UnknownForm);
        assert!(message.contains("version 99"), "{message}");
        let (reason, message) = rejected(outcomes[4]).unwrap();
        assert_eq!(reason, Reason::ClockAhead);
        assert!(message.contains("365 days ahead"), "{message}");
        assert_eq!(results[5].op_id, "");
        assert_eq!(rejected(outcomes[5]).unwrap().0, Reason::Malformed);
        assert_eq!(outcomes[6], &Outcome::Applied, "a slow clock is no reason");
        assert_eq!(outcomes[7], &Outcome::Applied);

        let page = pull(&server, &token, "").await;
        let ids: Vec<&str> = page.ops.iter().map(|o| o.op_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                results[0].op_id.as_str(),
                &results[6].op_id,
                &results[7].op_id
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_edits_of_a_field_are_answered_as_a_conflict() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let jan = server.account("jan.w", Role::Supervisor, &[TEAM]).await;
        let case_id = new_uuid();
        let first = intake(&case_id, PHONE_A, now(), "sublet");
        assert_eq!(
            push(&server, &ayse, std::slice::from_ref(&first)).await,
            [Outcome::Applied]
        );
        // Both phones saw the first value, then each changed it offline.
        let seen = [first.hlc.clone()];
        let a = submit_op(
            "intake",
            &case_id,
            PHONE_A,
            now() + 5,
            &[("housing_situation", "shelter")],
            &seen,
        );
        let b = submit_op(
            "intake",
            &case_id,
            PHONE_B,
            now() + 9,
            &[("housing_situation", "homeless")],
            &seen,
        );
        assert_eq!(push(&server, &ayse, &[a]).await, [Outcome::Applied]);
        assert_eq!(
            push(&server, &jan, &[b]).await,
            [Outcome::Conflict {
                fields: vec!["housing_situation".into()]
            }],
            "{}",
            kind(&server)
        );
        // Whoever pulls gets all three and merges them to the same conflict.
        let page = pull(&server, &ayse, "").await;
        let mut case = cris_core::record::Case::new(&case_id, 0.0);
        for op in &page.ops {
            case.apply(op);
        }
        assert_eq!(case.property("housing_situation"), "homeless");
        let field = &case.fields.0["housing_situation"];
        let losers: Vec<&str> = field.conflict().iter().map(|w| w.value.as_str()).collect();
        assert_eq!(losers, ["shelter"], "kept beside the winner");

        // Someone chooses: a resolution that has seen both values ends the conflict.
        let resolve = |value: &str, property: &str, seen: Vec<cris_core::hlc::Hlc>| {
            let mut op = submit_op("intake", &case_id, PHONE_B, now() + 20, &[], &[]);
            op.change = cris_core::record::Change::Resolve {
                properties: std::collections::BTreeMap::from([(
                    property.to_owned(),
                    cris_core::record::FieldWrite {
                        value: value.into(),
                        seen,
                    },
                )]),
            };
            op
        };
        let both = field.seen_by_next_write();
        assert_eq!(both.len(), 2);
        let refused = push(
            &server,
            &jan,
            &[
                resolve("a castle", "housing_situation", both.clone()),
                resolve("shelter", "bank_account", both.clone()),
                resolve("shelter", "housing_situation", vec![]),
            ],
        )
        .await;
        for outcome in &refused {
            assert!(
                matches!(
                    outcome,
                    Outcome::Rejected {
                        reason: Reason::Invalid,
                        ..
                    }
                ),
                "{outcome:?}"
            );
        }
        let mut elsewhere = resolve("shelter", "housing_situation", both.clone());
        elsewhere.case_id = new_uuid();
        assert!(matches!(
            push(&server, &jan, &[elsewhere]).await[..],
            [Outcome::Rejected {
                reason: Reason::NotFound,
                ..
            }]
        ));
        let chosen = resolve("shelter", "housing_situation", both);
        assert_eq!(
            push(&server, &jan, std::slice::from_ref(&chosen)).await,
            [Outcome::Applied]
        );
        let page = pull(&server, &ayse, "").await;
        let mut case = cris_core::record::Case::new(&case_id, 0.0);
        for op in &page.ops {
            case.apply(op);
        }
        assert_eq!(case.property("housing_situation"), "shelter");
        assert!(case.fields.conflicted().is_empty(), "resolved for everyone");
    })
    .await;
}

#[tokio::test]
async fn another_teams_case_is_not_found_and_not_betrayed() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let zsofia = server
            .account("zsofia.w", Role::Worker, &["Budapest VIII"])
            .await;
        let case_id = new_uuid();
        assert_eq!(
            push(
                &server,
                &ayse,
                &[intake(&case_id, PHONE_A, now(), "sublet")]
            )
            .await,
            [Outcome::Applied]
        );
        // A visit (or an intake) on a case of another team is refused like one that
        // does not exist, and nothing of the case is sent back.
        let visit = submit_op("home_visit", &case_id, PHONE_B, now(), &[], &[]);
        let outcomes = push(&server, &zsofia, &[visit]).await;
        let (reason, message) = rejected(&outcomes[0]).unwrap();
        assert_eq!(reason, Reason::NotFound);
        let intake_again = intake(&case_id, PHONE_B, now(), "homeless");
        let outcomes2 = push(&server, &zsofia, &[intake_again]).await;
        assert_eq!(
            rejected(&outcomes2[0]).unwrap(),
            (Reason::NotFound, message)
        );
        let missing = submit_op("home_visit", &new_uuid(), PHONE_B, now(), &[], &[]);
        let outcomes3 = push(&server, &zsofia, &[missing]).await;
        assert_eq!(
            rejected(&outcomes3[0]).unwrap(),
            (Reason::NotFound, message)
        );

        assert!(pull(&server, &zsofia, "").await.ops.is_empty());
        let theirs = history(&server, &zsofia, &case_id).await;
        let nobodys = history(&server, &zsofia, &new_uuid()).await;
        let (a, b) = (theirs.status(), nobodys.status());
        assert_eq!((a, b), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
        assert_eq!(theirs.text().await.unwrap(), nobodys.text().await.unwrap());
        let bad = history(&server, &zsofia, "not-a-uuid").await;
        assert_eq!(bad.status(), StatusCode::NOT_FOUND);

        // Her own team's page of the case log still holds only the one intake.
        let page = pull(&server, &ayse, "").await;
        assert_eq!(page.ops.len(), 1);
    })
    .await;
}

/// `op` made into a correction of `submission_id`, for `reason`.
fn correcting(mut op: Operation, submission_id: &str, reason: &str) -> Operation {
    let submission = crate::support::submission_mut(&mut op);
    submission.corrects = Some(cris_core::record::Correction {
        submission_id: submission_id.into(),
        reason: reason.into(),
    });
    op
}

#[tokio::test]
async fn a_correction_is_a_new_record_that_keeps_the_first() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let zsofia = server
            .account("zsofia.w", Role::Worker, &["Budapest VIII"])
            .await;
        let case_id = new_uuid();
        let first = intake(&case_id, PHONE_A, now() - 60_000, "sublet");
        let first_id = first.submission().unwrap().id.clone();
        let stamp = first.hlc.clone();
        let fix = correcting(
            submit_op(
                "intake",
                &case_id,
                PHONE_A,
                now(),
                &[("housing_situation", "shelter")],
                &[stamp],
            ),
            &first_id,
            "Unterkunft verwechselt",
        );
        // Out of order: the correction before what it corrects is refused, and kept by the
        // phone; sent again after the first, it is applied.
        let outcomes = push(&server, &ayse, &[fix.clone(), first.clone()]).await;
        let (reason, message) = rejected(&outcomes[0]).unwrap();
        assert_eq!(reason, Reason::Invalid);
        assert!(message.contains("does not have"), "{message}");
        assert_eq!(outcomes[1], Outcome::Applied);
        assert_eq!(
            push(&server, &ayse, std::slice::from_ref(&fix)).await,
            [Outcome::Applied]
        );

        // Both are in the log, and pulled: the first is never changed in place.
        let page = pull(&server, &ayse, "").await;
        assert_eq!(page.ops, [first.clone(), fix.clone()], "{}", kind(&server));
        let log: CaseHistory = history(&server, &ayse, &case_id)
            .await
            .json()
            .await
            .unwrap();
        let reasons: Vec<Option<String>> = log
            .entries
            .iter()
            .map(|e| {
                e.op.submission()
                    .unwrap()
                    .corrects
                    .as_ref()
                    .map(|c| c.reason.clone())
            })
            .collect();
        assert_eq!(reasons, [None, Some("Unterkunft verwechselt".to_owned())]);

        // A correction that names another household's form, a form of another kind, or
        // comes without a reason is refused alone, with why.
        let other_case = new_uuid();
        let other = intake(&other_case, PHONE_A, now(), "homeless");
        let wrong_case = correcting(
            intake(&case_id, PHONE_A, now(), "homeless"),
            &other.submission().unwrap().id,
            "falscher Haushalt",
        );
        let visit = submit_op("home_visit", &case_id, PHONE_A, now(), &[], &[]);
        let wrong_form = correcting(visit, &first_id, "Formular verwechselt");
        let unexplained = correcting(intake(&case_id, PHONE_A, now(), "homeless"), &first_id, " ");
        let outcomes = push(
            &server,
            &ayse,
            &[other, wrong_case, wrong_form, unexplained],
        )
        .await;
        assert_eq!(outcomes[0], Outcome::Applied);
        let messages: Vec<&str> = outcomes[1..]
            .iter()
            .map(|o| rejected(o).expect("refused").1)
            .collect();
        assert!(messages[0].contains("does not have"), "{}", messages[0]);
        assert!(messages[1].contains("another kind"), "{}", messages[1]);
        assert!(messages[2].contains("reason"), "{}", messages[2]);

        // Another team cannot correct the form, and learns nothing of it.
        let theirs = correcting(
            intake(&new_uuid(), PHONE_B, now(), "homeless"),
            &first_id,
            "fremd",
        );
        let outcomes = push(&server, &zsofia, &[theirs]).await;
        let (_, message) = rejected(&outcomes[0]).unwrap();
        assert!(message.contains("does not have"), "{message}");
        assert_eq!(pull(&server, &ayse, "").await.ops.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn an_operation_filled_in_an_earlier_form_version_is_still_accepted() {
    use cris_server::FormCatalog;
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        // The server served intake version 2; then the agency changed a label and made it
        // version 3, while a phone was offline with an intake filled in version 2.
        FormCatalog::embedded()
            .unwrap()
            .remember_in(&server.store, 1)
            .await
            .unwrap();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../forms");
        let adapted = |version: u32, label: &str| {
            let dir = tempfile::tempdir().unwrap();
            for id in ["intake", "home_visit"] {
                let mut text = std::fs::read_to_string(format!("{root}/{id}.json")).unwrap();
                if id == "intake" {
                    text = text
                        .replacen("\"version\": 2,", &format!("\"version\": {version},"), 1)
                        .replacen("Name des Haushalts", label, 1);
                }
                std::fs::write(dir.path().join(format!("{id}.json")), text).unwrap();
            }
            dir
        };
        let v3 = adapted(3, "Haushalt (Familienname)");
        let forms = FormCatalog::from_dir(v3.path())
            .unwrap()
            .remember_in(&server.store, 2)
            .await
            .unwrap();
        assert_eq!(forms.get("intake").unwrap().version, 3);
        let adapted_server = server.sharing_store(forms).await;

        let old = intake(&new_uuid(), PHONE_A, now(), "sublet");
        let mut current = intake(&new_uuid(), PHONE_A, now(), "shelter");
        let submission = crate::support::submission_mut(&mut current);
        submission.form_version = 3;
        let mut unknown = intake(&new_uuid(), PHONE_A, now(), "shelter");
        let submission = crate::support::submission_mut(&mut unknown);
        submission.form_version = 4;
        let outcomes = push(&adapted_server, &ayse, &[old, current, unknown]).await;
        assert_eq!(
            outcomes[..2],
            [Outcome::Applied, Outcome::Applied],
            "{}",
            kind(&server)
        );
        let (reason, message) = rejected(&outcomes[2]).unwrap();
        assert_eq!(reason, Reason::UnknownForm);
        assert!(
            message.contains("version 4") && message.contains("version 3"),
            "{message}"
        );

        // A form changed without a new version number is refused: operations checked against
        // one definition of version 3 must not meet another.
        let changed = adapted(3, "Familie");
        let err = FormCatalog::from_dir(changed.path())
            .unwrap()
            .remember_in(&server.store, 3)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("version 3 of the form \"intake\"") && err.contains("new version number"),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn without_a_live_session_nothing_is_pushed_or_pulled() {
    on_both(|server| async move {
        let token = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let users = { server.store.users().await.unwrap() };
        let expired = server
            .session(&users[0].id, cris_server::auth::now_ms() - 1)
            .await;
        let revoked = server.session(&users[0].id, i64::MAX).await;
        let res = server
            .client
            .delete(server.url("/api/v1/session"))
            .bearer_auth(&revoked)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);

        let op = intake(&new_uuid(), PHONE_A, now(), "sublet");
        let body = json!({ "ops": [op] });
        for bad in [expired.as_str(), revoked.as_str(), "made-up", ""] {
            let res = push_raw(&server, bad, &body).await;
            error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
            let res = server
                .client
                .get(server.url("/api/v1/ops"))
                .bearer_auth(bad)
                .send()
                .await
                .unwrap();
            error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
        }
        let res = server
            .client
            .post(server.url("/api/v1/ops"))
            .json(&body)
            .send()
            .await
            .unwrap();
        error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
        // Nothing of those attempts was stored.
        assert!(pull(&server, &token, "").await.ops.is_empty());
    })
    .await;
}

#[tokio::test]
async fn bad_requests_are_refused_clearly_and_lose_nothing() {
    on_both(|server| async move {
        let token = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let kept = intake(&new_uuid(), PHONE_A, now(), "sublet");
        assert_eq!(
            push(&server, &token, std::slice::from_ref(&kept)).await,
            [Outcome::Applied]
        );

        let too_many: Vec<Operation> = (0..501)
            .map(|i| intake(&new_uuid(), PHONE_A, now() + i, "sublet"))
            .collect();
        let res = push_raw(&server, &token, &json!({ "ops": too_many })).await;
        let message = error(
            res,
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
        )
        .await;
        assert!(message.contains("500"), "{message}");

        let huge = "x".repeat(17 * 1024 * 1024);
        let res = push_raw(&server, &token, &json!({ "ops": [], "pad": huge })).await;
        error(
            res,
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
        )
        .await;

        let res = server
            .client
            .post(server.url("/api/v1/ops"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{\"ops\": [")
            .send()
            .await
            .unwrap();
        let message = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        assert!(message.starts_with("malformed JSON"), "{message}");

        let res = push_raw(&server, &token, &json!({ "operations": [] })).await;
        let message = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        assert!(message.contains("ops"), "{message}");

        for query in ["?since=-1", "?since=abc", "?limit=0", "?cursor=3"] {
            let res = server
                .client
                .get(server.url(&format!("/api/v1/ops{query}")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        }
        // After all that the store is as it was.
        let page = pull(&server, &token, "?since=0&limit=100000").await;
        assert_eq!(page.ops, [kept]);
    })
    .await;
}

#[tokio::test]
async fn batches_travel_gzipped_both_ways() {
    let server = TestServer::sqlite().await;
    let token = server.account("ayse.w", Role::Worker, &[TEAM]).await;
    let ops: Vec<Operation> = (0..200)
        .map(|i| intake(&new_uuid(), PHONE_A, now() + i, "overcrowded"))
        .collect();
    let json = serde_json::to_vec(&json!({ "ops": ops })).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).unwrap();
    let packed = gz.finish().unwrap();
    assert!(packed.len() * 5 < json.len(), "visits compress well");
    let res = server
        .client
        .post(server.url("/api/v1/ops"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(packed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let results = res.json::<PushResponse>().await.unwrap().results;
    assert!(results.iter().all(|r| r.outcome == Outcome::Applied));

    // A corrupt gzip body is a clear 400, and stores nothing.
    let res = server
        .client
        .post(server.url("/api/v1/ops"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(&b"\x1f\x8b\x08\x00garbage"[..])
        .send()
        .await
        .unwrap();
    error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;

    let res = server
        .client
        .get(server.url("/api/v1/ops"))
        .bearer_auth(&token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let packed = res.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&packed[..]), &mut text)
        .unwrap();
    let page: PullResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(page.ops.len(), 200);
}

/// A phone more than a day ahead finalizes X on a household; its clock is set right and it
/// repairs itself (`cris_core::repair`) before X went; it finalizes V on the same household;
/// both go. Over HTTP, on both stores: the server, another phone and this one hold the
/// household alike, and neither form was refused.
#[tokio::test]
async fn a_phone_whose_clock_was_repaired_holds_its_household_as_the_server_does() {
    on_both(|server| async move {
        use cris_core::record::Case;
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let jan = server.account("jan.w", Role::Worker, &[TEAM]).await;
        let case_id = new_uuid();
        let first = intake(&case_id, PHONE_B, now(), "sublet");
        assert_eq!(
            push(&server, &jan, std::slice::from_ref(&first)).await,
            [Outcome::Applied]
        );

        // 1. Ayşe's phone, two days ahead, finalizes X; it waits in the outbox.
        let mut phone = Case::new(&case_id, 0.0);
        phone.apply(&first);
        let seen = |case: &Case| case.fields.0["housing_situation"].seen_by_next_write();
        let x = submit_op(
            "home_visit",
            &case_id,
            PHONE_A,
            now() + 2 * DAY,
            &[("housing_situation", "shelter")],
            &seen(&phone),
        );
        phone.apply(&x);
        // 2. Its clock is set right: X gets a new stamp before it goes.
        let mut cases = [phone];
        let done =
            cris_core::repair::repair(PHONE_A, now(), std::slice::from_ref(&x), &[], &mut cases);
        let [mut phone] = cases;
        let x = done.ops[0].clone();
        assert!(x.hlc.wall_ms <= now() + cris_core::sync::MAX_CLOCK_AHEAD_MS);
        // 3. V on the same household has seen X under its new stamp.
        let v = submit_op(
            "home_visit",
            &case_id,
            PHONE_A,
            x.hlc.wall_ms + 1,
            &[("housing_situation", "homeless")],
            &seen(&phone),
        );
        assert_eq!(seen(&phone), std::slice::from_ref(&x.hlc));
        phone.apply(&v);
        // 4. Both go.
        assert_eq!(
            push(&server, &ayse, &[x.clone(), v.clone()]).await,
            [Outcome::Applied, Outcome::Applied],
            "{}",
            kind(&server)
        );
        let page = pull(&server, &jan, "?since=0").await;
        let mut elsewhere = Case::new(&case_id, 0.0);
        for op in &page.ops {
            elsewhere.apply(op);
            phone.apply(op);
        }
        assert_eq!(phone.fields, elsewhere.fields, "{}", kind(&server));
        assert_eq!(elsewhere.property("housing_situation"), "homeless");
        assert!(elsewhere.fields.conflicted().is_empty());
    })
    .await;
}

/// Every answer of the API forbids keeping it (a lost phone's browser cache would show the
/// families in clear), errors included; and a pull hands phones the agency's rules for them.
#[tokio::test]
async fn no_answer_is_kept_on_disk_and_pulls_carry_the_phone_rules() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let case_id = new_uuid();
        push(
            &server,
            &ayse,
            &[intake(&case_id, PHONE_A, now(), "sublet")],
        )
        .await;
        for (token, path) in [
            (Some(ayse.as_str()), "/api/v1/ops?since=0".to_owned()),
            (
                Some(ayse.as_str()),
                format!("/api/v1/cases/{case_id}/history"),
            ),
            (Some(ayse.as_str()), "/api/v1/inbox".to_owned()),
            (None, "/api/v1/ops?since=0".to_owned()),
            (Some(ayse.as_str()), "/api/v1/no-such-thing".to_owned()),
        ] {
            let res = crate::support::get(&server, token, &path).await;
            assert_eq!(
                res.headers()
                    .get(reqwest::header::CACHE_CONTROL)
                    .and_then(|v| v.to_str().ok()),
                Some("no-store"),
                "{path} ({})",
                res.status()
            );
        }
        let page = pull(&server, &ayse, "?since=0").await;
        assert_eq!(page.policy, Some(cris_core::api::PhonePolicy::default()));
    })
    .await;
}

/// Someone in several teams says whose a new household is: it joins that team, and only that
/// team's phones get it. A team the author is not in is refused with the team named; without
/// a team (an older phone) the first of the author's teams by name is taken.
#[tokio::test]
async fn a_new_household_joins_the_team_its_intake_names_if_it_is_the_authors() {
    on_both(|server| async move {
        const BUDAPEST: &str = "Budapest VIII";
        let lea = server
            .account("lea.s", Role::Supervisor, &[TEAM, BUDAPEST])
            .await;
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let zsofia = server.account("zsofia.w", Role::Worker, &[BUDAPEST]).await;
        let with_team = |team: Option<&str>| {
            let mut op = intake(&new_uuid(), PHONE_A, now(), "sublet");
            crate::support::submission_mut(&mut op).team = team.map(str::to_owned);
            op
        };
        let for_nord = with_team(Some(TEAM));
        let for_budapest = with_team(Some(BUDAPEST));
        let unnamed = with_team(None);
        let elsewhere = with_team(Some("Offenbach Süd"));
        let outcomes = push(
            &server,
            &lea,
            &[
                for_nord.clone(),
                for_budapest.clone(),
                unnamed.clone(),
                elsewhere.clone(),
            ],
        )
        .await;
        assert_eq!(
            outcomes[..3],
            [Outcome::Applied, Outcome::Applied, Outcome::Applied]
        );
        let Outcome::Rejected { reason, detail, .. } = &outcomes[3] else {
            panic!("{:?} on {}", outcomes[3], kind(&server));
        };
        assert_eq!(*reason, Reason::Forbidden);
        assert_eq!(
            detail.as_ref(),
            Some(&cris_core::sync::Detail::NotYourTeam {
                team: "Offenbach Süd".into()
            })
        );
        // A worker of one team cannot place a household in another.
        let outcomes = push(&server, &ayse, &[with_team(Some(BUDAPEST))]).await;
        assert!(rejected(&outcomes[0]).is_some(), "{outcomes:?}");

        let cases = |token: String| {
            let server = &server;
            async move {
                let page = pull(server, &token, "?since=0").await;
                page.ops.into_iter().map(|o| o.case_id).collect::<Vec<_>>()
            }
        };
        let nord = cases(ayse.clone()).await;
        let budapest = cases(zsofia.clone()).await;
        assert!(nord.contains(&for_nord.case_id) && !nord.contains(&for_budapest.case_id));
        assert!(budapest.contains(&for_budapest.case_id) && !budapest.contains(&for_nord.case_id));
        // Unnamed: the first team by name ("Budapest VIII").
        assert!(budapest.contains(&unnamed.case_id) && !nord.contains(&unnamed.case_id));
        assert!(!nord.contains(&elsewhere.case_id) && !budapest.contains(&elsewhere.case_id));
    })
    .await;
}

/// Runs `sql` with `bind` on the server's own database (SQLite file or PostgreSQL).
async fn raw_update(server: &TestServer, sql: &str, bind: &str) {
    if let Some(path) = server.sqlite_path() {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query(sql).bind(bind).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(server.pg_url().unwrap())
            .await
            .unwrap();
        sqlx::query(sql).bind(bind).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// A logged operation damaged on disk (a broken disk, a hand-edited database) is damage the
/// store names by its row, never by its contents: the pull and the history answer 503
/// `unavailable` without a word of it, and nothing else of the store is touched.
#[tokio::test]
async fn a_damaged_operation_is_named_by_its_row_and_never_quoted() {
    on_both(|server| async move {
        let k = kind(&server);
        let token = server.account("elif.w", Role::Worker, &["Nord"]).await;
        let case = new_uuid();
        let op = submit_op("intake", &case, "0192b3c4-0000-7000-8000-00000000d001", 1_795_000_000_000, &[], &[]);
        crate::support::push_applied(&server, &token, std::slice::from_ref(&op)).await;
        raw_update(
            &server,
            "UPDATE ops SET body = '{\"op_id\": \"Fatme Testova\", \"change\": 7}' WHERE op_id = $1",
            &op.op_id,
        )
        .await;
        for path in ["/api/v1/ops?since=0".to_owned(), format!("/api/v1/cases/{case}/history")] {
            let res = crate::support::get(&server, Some(&token), &path).await;
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{k} {path}");
            let body = res.text().await.unwrap();
            assert!(body.contains("\"unavailable\""), "{k} {path}: {body}");
            assert!(!body.contains("Fatme"), "{k} {path}: {body}");
        }
        let users = server.store.users().await.unwrap();
        let user = users.iter().find(|u| u.login == "elif.w").unwrap();
        let err = server.store.ops_since(&user.id, 0, 10, false).await.unwrap_err();
        assert!(
            matches!(&err, cris_server::store::StoreError::Corrupt { what: "operation", .. }),
            "{k}: {err}"
        );
        let text = err.to_string();
        assert!(text.starts_with("the stored operation "), "{k}: {text}");
        assert!(!text.contains("Fatme"), "{k}: {text}");
    })
    .await;
}
