//! Referrals over real HTTP, on SQLite and on PostgreSQL: a referral is stored only when the
//! household's consent in force on the day it arrives releases that service for that purpose
//! with those records (a consent sent in the same push counts); otherwise it is refused with
//! the reason `no_consent` and the nearest miss. Its state moves on by updates from workers
//! and supervisors, the latest by its stamp standing; another team's household is answered as
//! one that does not exist.

use crate::support::{
    PHONE_A, PHONE_B, TEAM, TestServer, consent, consent_op, error, get, get_json, intake, kind,
    link_op, new_uuid, now, on_both, pulled, push, push_applied, withdraw_op, withdrawal,
};
use cris_core::api::{ErrorCode, Role};
use cris_core::consent::{NotReleased, Scope};
use cris_core::record::{Case, Change, Operation};
use cris_core::referral::ReferralLetter;
use cris_core::referral::{Referral, ReferralState, ReferralUpdate};
use cris_core::sync::{Detail, Outcome, Reason};
use cris_server::store::audit::AuditFilter;
use reqwest::StatusCode;

fn refer(case_id: &str, device: &str, to: &str, records: &[&str]) -> (Operation, Referral) {
    let referral = Referral {
        id: new_uuid(),
        recipient: to.into(),
        purpose: "housing_search".into(),
        records: records.iter().map(|r| (*r).to_owned()).collect(),
        asked: "Beratungstermin zur Wohnungssuche für fünf Personen".into(),
        follow_up: Some("2026-12-21".parse().unwrap()),
    };
    let change = Change::Refer {
        referral: referral.clone(),
    };
    (link_op(case_id, device, change), referral)
}

fn update(
    case_id: &str,
    device: &str,
    referral: &Referral,
    state: ReferralState,
    note: &str,
) -> Operation {
    let change = Change::UpdateReferral {
        update: ReferralUpdate {
            referral_id: referral.id.clone(),
            state,
            note: note.into(),
            follow_up: (!state.is_closed()).then(|| "2027-01-11".parse().unwrap()),
        },
    };
    link_op(case_id, device, change)
}

/// The refusal's detail, if the operation was refused.
fn refusal(outcome: &Outcome) -> Option<&Detail> {
    match outcome {
        Outcome::Rejected { detail, .. } => detail.as_ref(),
        _ => None,
    }
}

fn no_consent(outcome: &Outcome) -> Option<&NotReleased> {
    match outcome {
        Outcome::Rejected {
            reason: Reason::NoConsent,
            detail: Some(Detail::NoConsent { why, .. }),
            ..
        } => Some(why),
        _ => None,
    }
}

async fn state_in_store(
    server: &TestServer,
    referral_id: &str,
) -> Option<(String, Option<String>)> {
    let rows = server.store.referral_states(referral_id).await.unwrap();
    rows.map(|r| (r.0, r.1))
}

#[tokio::test]
async fn a_referral_is_stored_only_under_a_consent_in_force_and_its_state_moves_on() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let case_id = new_uuid();
        push_applied(&server, &ayse, &[intake(&case_id, PHONE_A)]).await;

        // No consent yet: refused, saying the service was never released.
        let (early, referral) = refer(
            &case_id,
            PHONE_A,
            "housing_office",
            &["household", "housing"],
        );
        let out = push(&server, &ayse, std::slice::from_ref(&early)).await;
        assert_eq!(
            no_consent(&out[0]),
            Some(&NotReleased::Recipient),
            "{}",
            kind(&server)
        );
        assert_eq!(
            state_in_store(&server, &referral.id).await,
            None,
            "nothing stored"
        );

        // The family signs; the consent and the referral sent again in one push: stored.
        let agency = server.consent.agency().unwrap();
        let signed = consent(&server.consent, agency, &case_id, PHONE_A, now());
        let (sent, referral) = refer(
            &case_id,
            PHONE_A,
            "housing_office",
            &["household", "housing"],
        );
        let out = push(&server, &ayse, &[consent_op(&signed), sent.clone()]).await;
        assert_eq!(
            out,
            [Outcome::Applied, Outcome::Applied],
            "{}",
            kind(&server)
        );
        let stored = state_in_store(&server, &referral.id).await;
        assert_eq!(
            stored,
            Some(("sent".to_owned(), Some("2026-12-21".to_owned())))
        );
        assert_eq!(
            push(&server, &ayse, std::slice::from_ref(&sent)).await,
            [Outcome::Duplicate]
        );

        // The nearest miss is named: records not released, another service.
        let (health, _) = refer(&case_id, PHONE_A, "housing_office", &["housing", "health"]);
        let (school, _) = refer(&case_id, PHONE_A, "school", &["household"]);
        let (mut other_purpose, mut for_school) =
            refer(&case_id, PHONE_A, "housing_office", &["housing"]);
        for_school.purpose = "school_contact".into();
        other_purpose.change = Change::Refer {
            referral: for_school,
        };
        let out = push(&server, &ayse, &[health, school, other_purpose]).await;
        assert_eq!(
            no_consent(&out[0]),
            Some(&NotReleased::Records {
                missing: vec!["health".into()]
            })
        );
        assert_eq!(
            no_consent(&out[1]),
            Some(&NotReleased::Recipient),
            "never released"
        );
        assert_eq!(
            no_consent(&out[2]),
            Some(&NotReleased::Purpose {
                released: vec!["housing_search".into()]
            }),
            "the housing office is released for the housing search only"
        );

        // The worker and the supervisor move it on; closing it needs a sentence.
        let appointment = update(
            &case_id,
            PHONE_A,
            &referral,
            ReferralState::AppointmentMade,
            "",
        );
        push_applied(&server, &ayse, &[appointment]).await;
        assert_eq!(
            state_in_store(&server, &referral.id).await,
            Some(("appointment_made".to_owned(), Some("2027-01-11".to_owned())))
        );
        let silent = update(&case_id, PHONE_B, &referral, ReferralState::Done, " ");
        let out = push(&server, &sara, &[silent]).await;
        assert_eq!(refusal(&out[0]), Some(&Detail::ReferralInvalid), "{out:?}");
        let done = update(
            &case_id,
            PHONE_B,
            &referral,
            ReferralState::Done,
            "Wohnung in Aussicht",
        );
        push_applied(&server, &sara, &[done]).await;
        assert_eq!(
            state_in_store(&server, &referral.id).await,
            Some(("done".to_owned(), None)),
            "over: nothing to follow up"
        );
        // The overview counts it where it stands now, in the week it was made; another
        // team's supervisor sees nothing of it.
        let overview: cris_core::api::Dashboard =
            get_json(&server, &sara, "/api/v1/dashboard").await;
        let counted: Vec<(&str, ReferralState, u32, Option<&u32>)> = overview
            .referrals
            .iter()
            .map(|r| (r.recipient.as_str(), r.state, r.total, r.per_week.last()))
            .collect();
        assert_eq!(
            counted,
            [("housing_office", ReferralState::Done, 1, Some(&1))],
            "{}",
            kind(&server)
        );
        let elsewhere = server
            .account("bruno.s", Role::Supervisor, &["Budapest VIII"])
            .await;
        let theirs: cris_core::api::Dashboard =
            get_json(&server, &elsewhere, "/api/v1/dashboard").await;
        assert!(theirs.referrals.is_empty());
        // A referral the household does not have.
        let (_, never_sent) = refer(&case_id, PHONE_A, "housing_office", &["housing"]);
        let stray = update(&case_id, PHONE_A, &never_sent, ReferralState::Accepted, "");
        let out = push(&server, &ayse, &[stray]).await;
        assert_eq!(refusal(&out[0]), Some(&Detail::ReferralUnknown));

        // Phones follow: the household's referral, done, from the operations they pull.
        let (ops, _) = pulled(&server, &ayse, 0).await;
        let mut case = Case::new(&case_id, 0.0);
        for op in ops.iter().filter(|o| o.case_id == case_id) {
            case.apply(op);
        }
        assert_eq!(case.referrals.len(), 1, "only the stored referral");
        assert_eq!(case.referrals[&referral.id].state(), ReferralState::Done);

        // The release withdrawn: no referral to that service any more.
        let taken_back = withdrawal(
            &signed,
            Scope::Recipients(vec!["housing_office".into()]),
            now(),
        );
        push_applied(&server, &ayse, &[withdraw_op(&taken_back)]).await;
        let (after, _) = refer(&case_id, PHONE_A, "housing_office", &["housing"]);
        let out = push(&server, &ayse, &[after]).await;
        assert_eq!(no_consent(&out[0]), Some(&NotReleased::Withdrawn));
    })
    .await;
}

#[tokio::test]
async fn another_teams_household_is_referred_as_one_that_does_not_exist() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let bela = server
            .account("bela.w", Role::Worker, &["Budapest VIII"])
            .await;
        let case_id = new_uuid();
        let agency = server.consent.agency().unwrap();
        let signed = consent(&server.consent, agency, &case_id, PHONE_A, now());
        push_applied(
            &server,
            &ayse,
            &[intake(&case_id, PHONE_A), consent_op(&signed)],
        )
        .await;
        let (mine, referral) = refer(&case_id, PHONE_A, "housing_office", &["housing"]);
        push_applied(&server, &ayse, &[mine]).await;

        let (theirs, _) = refer(&case_id, PHONE_B, "housing_office", &["housing"]);
        let moved = update(
            &case_id,
            PHONE_B,
            &referral,
            ReferralState::Declined,
            "kein Bedarf",
        );
        let out = push(&server, &bela, &[theirs, moved]).await;
        for outcome in &out {
            assert!(
                matches!(
                    outcome,
                    Outcome::Rejected {
                        reason: Reason::NotFound,
                        ..
                    }
                ),
                "{outcome:?}"
            );
        }
        assert_eq!(
            state_in_store(&server, &referral.id).await.map(|s| s.0),
            Some("sent".to_owned())
        );
        // Malformed: no records, or a text beyond the limit, refused before the store.
        let (mut empty, mut bare) = refer(&case_id, PHONE_A, "housing_office", &[]);
        bare.asked = "x".repeat(cris_core::referral::MAX_TEXT_CHARS + 1);
        empty.change = Change::Refer { referral: bare };
        let out = push(&server, &ayse, &[empty]).await;
        assert_eq!(refusal(&out[0]), Some(&Detail::ReferralInvalid));
    })
    .await;
}

async fn letters_made(server: &TestServer, case_id: &str) -> Vec<String> {
    let filter = AuditFilter {
        case_id: Some(case_id.to_owned()),
        ..AuditFilter::default()
    };
    let trail = server.store.audit_entries(&filter).await.unwrap();
    trail
        .into_iter()
        .filter(|e| e.action == "referral_letter")
        .filter_map(|e| e.login)
        .collect()
}

#[tokio::test]
async fn a_letter_carries_only_the_released_records_and_stops_when_the_release_is_withdrawn() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let bela = server
            .account("bela.w", Role::Worker, &["Budapest VIII"])
            .await;
        let case_id = new_uuid();
        let agency = server.consent.agency().unwrap();
        let signed = consent(&server.consent, agency, &case_id, PHONE_A, now());
        let (sent, referral) = refer(
            &case_id,
            PHONE_A,
            "housing_office",
            &["household", "housing"],
        );
        push_applied(
            &server,
            &ayse,
            &[intake(&case_id, PHONE_A), consent_op(&signed), sent],
        )
        .await;
        let path = format!("/api/v1/cases/{case_id}/referrals/{}/letter", referral.id);

        let letter: ReferralLetter = get_json(&server, &ayse, &path).await;
        assert_eq!(letter.service, "Wohnungsamt", "{}", kind(&server));
        assert_eq!(letter.consent.binding, signed.binding);
        assert_eq!(letter.consent.signed_at_ms, signed.signed_at_ms);
        assert_eq!(letter.referred_by, "ayse.w (test)");
        let kinds: Vec<&str> = letter.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(kinds, ["household", "housing"]);
        let said = |kind: usize| -> Vec<(String, String)> {
            letter.records[kind]
                .forms
                .iter()
                .flat_map(|f| &f.answers)
                .map(|a| (a.label.clone(), a.value.clone()))
                .collect()
        };
        assert!(
            said(0).contains(&("Name des Haushalts".into(), "Familie Ismailova".into())),
            "{:?}",
            said(0)
        );
        assert!(
            said(1).iter().any(|(_, v)| v == "Untermiete"),
            "{:?}",
            said(1)
        );
        // Health, the children's school, debts, strengths: not released, nowhere in it.
        let whole = serde_json::to_string(&letter).unwrap();
        for never in [
            "schwer heben",
            "\"6c\"",
            "Schuldnerberatung",
            "Reinigungskraft",
            "Gesetzlich versichert",
        ] {
            assert!(!whole.contains(never), "{never} in {whole}");
        }
        assert_eq!(letters_made(&server, &case_id).await, ["ayse.w"]);
        // For a partner agency abroad, in its language.
        let hungarian: ReferralLetter = get_json(&server, &ayse, &format!("{path}?lang=hu")).await;
        assert_eq!(hungarian.service, "Lakásügyi hivatal");
        assert_eq!(hungarian.records[1].title, "Lakhatási helyzet");
        let res = get(&server, Some(&ayse), &format!("{path}?lang=xx")).await;
        error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        assert_eq!(letters_made(&server, &case_id).await, ["ayse.w", "ayse.w"]);

        // Another team's worker, an unknown referral, malformed ids, no session: nothing.
        let res = get(&server, Some(&bela), &path).await;
        error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        let unknown = format!("/api/v1/cases/{case_id}/referrals/{}/letter", new_uuid());
        let res = get(&server, Some(&ayse), &unknown).await;
        error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        let res = get(&server, Some(&ayse), "/api/v1/cases/x/referrals/y/letter").await;
        error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        let res = get(&server, None, &path).await;
        error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
        assert_eq!(letters_made(&server, &case_id).await, ["ayse.w", "ayse.w"]);

        // The family takes the housing office's release back: no letter any more.
        let taken_back = withdrawal(
            &signed,
            Scope::Recipients(vec!["housing_office".into()]),
            now(),
        );
        push_applied(&server, &ayse, &[withdraw_op(&taken_back)]).await;
        let res = get(&server, Some(&ayse), &path).await;
        let message = error(res, StatusCode::FORBIDDEN, ErrorCode::NoConsent).await;
        assert!(message.contains("withdrawn"), "{message}");
        assert_eq!(letters_made(&server, &case_id).await, ["ayse.w", "ayse.w"]);
    })
    .await;
}

#[test]
fn every_field_a_kind_of_record_names_is_in_a_form() {
    let forms = cris_server::FormCatalog::embedded().unwrap().all();
    let config = cris_server::ConsentConfig::load(None, None).unwrap();
    for text in config.texts().currents() {
        assert_eq!(
            cris_server::letter::unknown_fields(text, &forms),
            Vec::<String>::new(),
            "{}",
            text.id
        );
    }
    let consent = config.texts().current("consent").unwrap();
    assert!(consent.records.iter().all(|r| !r.fields.is_empty()));
}
