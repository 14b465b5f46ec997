//! Consents over real HTTP, on SQLite and on PostgreSQL: a consent travels as an operation,
//! is checked (seal, texts, agency), stored once and never changed, withdrawn by a record of
//! its own, and decides what may be shared with whom.

use crate::support::{
    TEAM, TestServer, consent, consent_op, error, get, intake, kind, new_uuid, now, on_both, push,
    push_raw, withdraw_op, withdrawal,
};
use cris_core::api::{CaseConsent, ConsentSetup, ErrorCode, MayShare, Role};
use cris_core::consent::{Grant, MAX_POINTS, Point, Record, Scope, Sealed};
use cris_core::record::Change;
use cris_core::sync::{CaseHistory, Outcome, PullResponse, PushResponse, Reason};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PHONE: &str = "0192b3c4-0000-7000-8000-00000000d00a";

/// A consent on `case_id` as the phone makes it with the server's own texts and details.
fn signed(server: &TestServer, case_id: &str) -> cris_core::consent::Consent {
    let agency = server.consent.agency().unwrap();
    consent(&server.consent, agency, case_id, PHONE, now())
}

/// Pushes `body` as it is, which the server answers operation by operation.
async fn push_outcomes(server: &TestServer, token: &str, body: &Value) -> Vec<Outcome> {
    let res = push_raw(server, token, body).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", kind(server));
    let body: PushResponse = res.json().await.unwrap();
    body.results.into_iter().map(|r| r.outcome).collect()
}

async fn case_consent(server: &TestServer, token: &str, case_id: &str) -> CaseConsent {
    let res = get(
        server,
        Some(token),
        &format!("/api/v1/cases/{case_id}/consent"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "{}", kind(server));
    res.json().await.unwrap()
}

async fn may_share(
    server: &TestServer,
    token: &str,
    case_id: &str,
    recipient: &str,
    purpose: &str,
) -> reqwest::Response {
    let path = format!("/api/v1/cases/{case_id}/may-share?recipient={recipient}&purpose={purpose}");
    get(server, Some(token), &path).await
}

fn rejected(outcome: &Outcome) -> (Reason, &str) {
    match outcome {
        Outcome::Rejected {
            reason, message, ..
        } => (*reason, message.as_str()),
        other => panic!("not rejected: {other:?}"),
    }
}

#[tokio::test]
async fn a_consent_reaches_the_team_and_decides_what_may_be_shared() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let jan = server.account("jan.w", Role::Worker, &[TEAM]).await;
        let case_id = new_uuid();
        let given = signed(&server, &case_id);
        let op = consent_op(&given);
        // The intake creates the household; the consent, in the same batch after it, joins it.
        let before = cris_server::auth::now_ms();
        assert_eq!(
            push(&server, &ayse, &[intake(&case_id, PHONE), op.clone()]).await,
            [Outcome::Applied, Outcome::Applied],
            "{}",
            kind(&server)
        );
        // The response was lost: the same operation again changes nothing.
        assert_eq!(
            push(&server, &ayse, std::slice::from_ref(&op)).await,
            [Outcome::Duplicate]
        );

        // Colleagues' phones get it with the rest of the household's records.
        let page: PullResponse = get(&server, Some(&jan), "/api/v1/ops?since=0")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page.ops.len(), 2);
        assert_eq!(page.ops[1], op);
        let log: CaseHistory = get(
            &server,
            Some(&jan),
            &format!("/api/v1/cases/{case_id}/history"),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(log.entries.len(), 2, "stored once");
        assert_eq!(log.entries[1].op, op);

        let held = case_consent(&server, &jan, &case_id).await;
        assert_eq!(held.case_id, case_id);
        assert_eq!(held.records.len(), 1);
        assert_eq!(
            held.records[0].record,
            Record::Consent(Box::new(given.clone()))
        );
        let received = held.records[0].received_at_ms;
        assert!(
            received >= before && received <= cris_server::auth::now_ms(),
            "the server's time of receipt"
        );
        assert_eq!(
            held.today,
            cris_server::api::consent::today(cris_server::auth::now_ms())
        );
        assert_eq!(
            held.state.purposes.keys().collect::<Vec<_>>(),
            ["housing_search", "school_contact"]
        );
        assert_eq!(
            held.state.recipients["housing_office"],
            (Grant::Open, vec!["housing_search".to_owned()])
        );

        // The housing office for the housing search: yes. Anything else: no.
        let res = may_share(&server, &jan, &case_id, "housing_office", "housing_search").await;
        assert_eq!(res.status(), StatusCode::OK);
        let yes: MayShare = res.json().await.unwrap();
        assert_eq!(
            yes,
            MayShare {
                recipient: "housing_office".into(),
                purpose: "housing_search".into(),
                grant: Grant::Open,
            }
        );
        for (recipient, purpose) in [
            ("school", "school_contact"),
            ("housing_office", "photos"),
            ("newspaper", "housing_search"),
        ] {
            let res = may_share(&server, &jan, &case_id, recipient, purpose).await;
            let message = error(res, StatusCode::FORBIDDEN, ErrorCode::NoConsent).await;
            assert!(
                message.contains(recipient) && message.contains(purpose),
                "{message}"
            );
            assert!(!message.contains("Fatme"), "no personal data: {message}");
        }

        // The phone learns the texts and the agency's details to take the next one.
        let setup: ConsentSetup = get(&server, Some(&ayse), "/api/v1/consent-texts")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(&setup.agency, server.consent.agency().unwrap());
        let ids: Vec<&str> = setup.texts.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["consent", "notice"]);
    })
    .await;
}

#[tokio::test]
async fn a_stored_consent_is_never_changed() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let case_id = new_uuid();
        let given = signed(&server, &case_id);
        let op = consent_op(&given);
        assert_eq!(
            push(&server, &ayse, &[intake(&case_id, PHONE), op.clone()]).await,
            [Outcome::Applied, Outcome::Applied]
        );

        // A purpose added afterwards, under the stored operation's id: refused as forged,
        // never acknowledged as a "duplicate".
        let mut forged = given.clone();
        forged.purposes.push("photos".into());
        let mut forged_op = op.clone();
        forged_op.change = Change::Consent {
            consent: Box::new(forged.clone()),
        };
        let outcomes = push(&server, &ayse, &[forged_op]).await;
        let (reason, message) = rejected(&outcomes[0]);
        assert_eq!(reason, Reason::Invalid, "{}", kind(&server));
        assert!(message.contains("changed after it was signed"), "{message}");

        // The same, sealed again (a new hash over the changed record): still refused.
        let resealed = forged.clone().seal().unwrap();
        let mut resealed_op = op.clone();
        resealed_op.change = Change::Consent {
            consent: Box::new(resealed.clone()),
        };
        let outcomes = push(&server, &ayse, std::slice::from_ref(&resealed_op)).await;
        let (reason, message) = rejected(&outcomes[0]);
        assert_eq!(reason, Reason::Invalid);
        assert!(
            message.contains(&given.id) && message.contains("never changed"),
            "{message}"
        );

        // Under a new operation: the consent's own id is taken.
        let mut again = resealed_op.clone();
        again.op_id = new_uuid();
        let outcomes = push(&server, &ayse, &[again]).await;
        let (reason, message) = rejected(&outcomes[0]);
        assert_eq!(reason, Reason::Invalid);
        assert!(message.contains("never changed"), "{message}");

        // Garbage under the stored operation's id is not taken for a retry either.
        let outcomes = push_outcomes(
            &server,
            &ayse,
            &json!({"ops": [{"op_id": op.op_id, "change": {"kind": "consent"}}]}),
        )
        .await;
        assert_eq!(rejected(&outcomes[0]).0, Reason::Malformed);

        // What is stored is what was signed.
        let held = case_consent(&server, &ayse, &case_id).await;
        assert_eq!(held.records.len(), 1);
        assert_eq!(held.records[0].record, Record::Consent(Box::new(given)));
        assert!(!held.state.purposes.contains_key("photos"));
    })
    .await;
}

#[tokio::test]
async fn a_withdrawal_is_a_record_of_its_own_and_takes_back_what_it_names() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let case_id = new_uuid();
        let given = signed(&server, &case_id);
        assert_eq!(
            push(
                &server,
                &ayse,
                &[intake(&case_id, PHONE), consent_op(&given)]
            )
            .await,
            [Outcome::Applied, Outcome::Applied]
        );

        // One purpose withdrawn: the rest holds.
        let purpose = withdrawal(
            &given,
            Scope::Purposes(vec!["school_contact".into()]),
            now(),
        );
        let op = withdraw_op(&purpose);
        assert_eq!(
            push(&server, &ayse, std::slice::from_ref(&op)).await,
            [Outcome::Applied],
            "{}",
            kind(&server)
        );
        assert_eq!(
            push(&server, &ayse, std::slice::from_ref(&op)).await,
            [Outcome::Duplicate]
        );
        let held = case_consent(&server, &ayse, &case_id).await;
        assert_eq!(
            held.state.purposes.keys().collect::<Vec<_>>(),
            ["housing_search"]
        );
        let res = may_share(&server, &ayse, &case_id, "housing_office", "housing_search").await;
        assert_eq!(res.status(), StatusCode::OK);

        // The housing office withdrawn: nothing goes there any more.
        let recipient = withdrawal(
            &given,
            Scope::Recipients(vec!["housing_office".into()]),
            now(),
        );
        assert_eq!(
            push(&server, &ayse, &[withdraw_op(&recipient)]).await,
            [Outcome::Applied]
        );
        let res = may_share(&server, &ayse, &case_id, "housing_office", "housing_search").await;
        error(res, StatusCode::FORBIDDEN, ErrorCode::NoConsent).await;

        // The consent stays as it was signed, the withdrawals beside it, oldest first.
        let held = case_consent(&server, &ayse, &case_id).await;
        let records: Vec<Record> = held.records.into_iter().map(|r| r.record).collect();
        assert_eq!(
            records,
            [
                Record::Consent(Box::new(given.clone())),
                Record::Withdrawal(Box::new(purpose)),
                Record::Withdrawal(Box::new(recipient)),
            ]
        );
        assert!(held.state.recipients.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_withdrawal_needs_a_consent_of_the_same_household() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let (case_id, other_case) = (new_uuid(), new_uuid());
        let given = signed(&server, &case_id);
        let elsewhere = signed(&server, &other_case);
        let everything = |c| withdraw_op(&withdrawal(c, Scope::All, now()));

        // Sent before its consent (it stays on the phone), then with it, after it.
        let early = everything(&given);
        let outcomes = push(
            &server,
            &ayse,
            &[intake(&case_id, PHONE), early.clone(), consent_op(&given)],
        )
        .await;
        assert_eq!(outcomes[0], Outcome::Applied);
        let (reason, message) = rejected(&outcomes[1]);
        assert_eq!(reason, Reason::Invalid, "{}", kind(&server));
        assert!(message.contains("does not have (yet)"), "{message}");
        assert_eq!(outcomes[2], Outcome::Applied);
        assert_eq!(push(&server, &ayse, &[early]).await, [Outcome::Applied]);

        // A consent and its withdrawal in one batch, in order.
        assert_eq!(
            push(
                &server,
                &ayse,
                &[
                    intake(&other_case, PHONE),
                    consent_op(&elsewhere),
                    everything(&elsewhere)
                ]
            )
            .await,
            [Outcome::Applied, Outcome::Applied, Outcome::Applied]
        );

        // Another household's consent, or one no one has: refused alike.
        let mut foreign = withdrawal(&elsewhere, Scope::All, now());
        foreign.case_id = case_id.clone();
        let foreign = foreign.seal().unwrap();
        let mut unknown = withdrawal(&given, Scope::All, now());
        unknown.consent_id = new_uuid();
        let unknown = unknown.seal().unwrap();
        let outcomes = push(
            &server,
            &ayse,
            &[withdraw_op(&foreign), withdraw_op(&unknown)],
        )
        .await;
        for outcome in &outcomes {
            let (reason, message) = rejected(outcome);
            assert_eq!(reason, Reason::Invalid);
            assert!(message.contains("does not have (yet)"), "{message}");
        }
        assert!(
            case_consent(&server, &ayse, &case_id)
                .await
                .state
                .purposes
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn consents_stay_within_the_team() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let zsofia = server
            .account("zsofia.w", Role::Worker, &["Budapest VIII"])
            .await;
        let case_id = new_uuid();
        let given = signed(&server, &case_id);
        assert_eq!(
            push(
                &server,
                &ayse,
                &[intake(&case_id, PHONE), consent_op(&given)]
            )
            .await,
            [Outcome::Applied, Outcome::Applied]
        );

        // Another team's household, and one that does not exist (a consent never creates one).
        let theirs = signed(&server, &case_id);
        let nowhere = signed(&server, &new_uuid());
        let outcomes = push(
            &server,
            &zsofia,
            &[consent_op(&theirs), consent_op(&nowhere)],
        )
        .await;
        for outcome in &outcomes {
            assert_eq!(rejected(outcome).0, Reason::NotFound, "{}", kind(&server));
        }
        let withdrawn = withdraw_op(&withdrawal(&given, Scope::All, now()));
        let outcomes = push(&server, &zsofia, &[withdrawn]).await;
        assert_eq!(rejected(&outcomes[0]).0, Reason::NotFound);

        for path in [
            format!("/api/v1/cases/{case_id}/consent"),
            format!(
                "/api/v1/cases/{case_id}/may-share?recipient=housing_office&purpose=housing_search"
            ),
            format!("/api/v1/cases/{}/consent", new_uuid()),
            "/api/v1/cases/not-a-case/consent".to_owned(),
        ] {
            let res = get(&server, Some(&zsofia), &path).await;
            error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        }

        // Without a login: nothing.
        for path in [
            "/api/v1/consent-texts".to_owned(),
            format!("/api/v1/cases/{case_id}/consent"),
            format!(
                "/api/v1/cases/{case_id}/may-share?recipient=housing_office&purpose=housing_search"
            ),
        ] {
            let res = get(&server, None, &path).await;
            error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
        }

        // A question that is not one.
        for query in [
            "?recipient=housing_office",
            "?purpose=housing_search",
            "?recipient=housing_office&purpose=housing_search&name=Fatme",
        ] {
            let path = format!("/api/v1/cases/{case_id}/may-share{query}");
            let res = get(&server, Some(&ayse), &path).await;
            let message = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
            assert!(message.contains("?recipient=ID&purpose=ID"), "{message}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_consent_is_checked_before_it_is_stored() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let case_id = new_uuid();
        assert_eq!(
            push(&server, &ayse, &[intake(&case_id, PHONE)]).await,
            [Outcome::Applied]
        );

        // A signature beyond any drawn by hand.
        let mut huge = signed(&server, &case_id);
        let point = Point {
            x: 10,
            y: 10,
            t_ms: 0,
            pressure: None,
        };
        huge.signature.strokes.push(vec![point; MAX_POINTS + 1]);
        // seal() refuses it; a phone that skipped the check sends it anyway.
        assert!(huge.clone().seal().is_err());
        huge.binding = huge.binding_of();

        // Texts shown with another agency's details than this server's.
        let mut budapest = server.consent.agency().unwrap().clone();
        budapest.insert(
            "agency_name".into(),
            "Fővárosi Család- és Gyermekjólét (Test)".into(),
        );
        let elsewhere = consent(&server.consent, &budapest, &case_id, PHONE, now());

        let outcomes = push(&server, &ayse, &[consent_op(&huge), consent_op(&elsewhere)]).await;
        let (reason, message) = rejected(&outcomes[0]);
        assert_eq!(reason, Reason::Invalid, "{}", kind(&server));
        assert!(message.contains(&MAX_POINTS.to_string()), "{message}");
        let (reason, message) = rejected(&outcomes[1]);
        assert_eq!(reason, Reason::Invalid);
        assert!(message.contains("SHA-256"), "{message}");
        assert!(
            case_consent(&server, &ayse, &case_id)
                .await
                .records
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_server_without_agency_details_takes_no_consent() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let case_id = new_uuid();
        let given = signed(&server, &case_id);
        let op = consent_op(&given);
        assert_eq!(
            push(&server, &ayse, &[intake(&case_id, PHONE), op.clone()]).await,
            [Outcome::Applied, Outcome::Applied]
        );

        let bare = server.with_agency(None).await;
        let res = get(&bare, Some(&ayse), "/api/v1/consent-texts").await;
        let message = error(res, StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable).await;
        assert!(message.contains("--agency FILE"), "{message}");

        let next = consent_op(&signed(&server, &case_id));
        let outcomes = push(&bare, &ayse, &[next, op]).await;
        let (reason, message) = rejected(&outcomes[0]);
        assert_eq!(reason, Reason::Invalid, "{}", kind(&server));
        assert!(message.contains("no agency details"), "{message}");
        // What it stored before is still acknowledged to a phone that sends it again.
        assert_eq!(outcomes[1], Outcome::Duplicate);

        // What is held still decides.
        let res = may_share(&bare, &ayse, &case_id, "housing_office", "housing_search").await;
        assert_eq!(res.status(), StatusCode::OK);
    })
    .await;
}
