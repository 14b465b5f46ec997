//! The family's copy (GDPR Art. 15 and 20) over real HTTP, on SQLite and on PostgreSQL: for
//! a supervisor or admin, everything pushed about a household comes back with its labels in
//! the family's language and in German (forms, corrections, consents with the words read,
//! withdrawals, review decisions, closings, exports, reads); making it is recorded; nobody
//! else gets it, and bad requests are told what is wrong.

use crate::support::{
    TEAM, consent, consent_op, error, get, get_json, intake, kind, link_op, new_uuid, now, on_both,
    push_applied, submission_mut, submit_op, withdraw_op, withdrawal,
};
use cris_core::Lang;
use cris_core::api::{ErrorCode, Role};
use cris_core::consent::Scope;
use cris_core::copy::{CaseEvent, FamilyCopy};
use cris_core::record::{Change, CloseReason, Correction};
use reqwest::StatusCode;
use serde_json::json;

const PHONE: &str = "0192b3c4-0000-7000-8000-00000000d00a";

fn path(case_id: &str, lang: &str) -> String {
    format!("/api/v1/cases/{case_id}/copy?lang={lang}")
}

#[tokio::test]
async fn the_copy_holds_everything_pushed_in_the_familys_language_and_in_german() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let case_id = new_uuid();
        let first = intake(&case_id, PHONE);
        let mut corrected = submit_op("intake", &case_id, PHONE, now(), &[], &[]);
        let first_id = first.submission().unwrap().id.clone();
        submission_mut(&mut corrected).corrects = Some(Correction {
            submission_id: first_id.clone(),
            reason: "Geburtsdatum falsch übernommen".into(),
        });
        let visit = submit_op("home_visit", &case_id, PHONE, now(), &[], &[]);
        let agency = server.consent.agency().unwrap();
        let signed = consent(&server.consent, agency, &case_id, PHONE, now());
        let taken_back = withdrawal(
            &signed,
            Scope::Purposes(vec!["school_contact".into()]),
            now(),
        );
        let referral = cris_core::referral::Referral {
            id: new_uuid(),
            recipient: "housing_office".into(),
            purpose: "housing_search".into(),
            records: vec!["housing".into()],
            asked: "Termin zur Wohnungssuche".into(),
            follow_up: None,
        };
        let refer = link_op(&case_id, PHONE, Change::Refer { referral });
        let ops = [
            first,
            corrected.clone(),
            visit.clone(),
            consent_op(&signed),
            refer,
            withdraw_op(&taken_back),
        ];
        push_applied(&server, &ayse, &ops).await;
        let visit_id = visit.submission().unwrap().id.clone();
        let read = get(&server, Some(&sara), &format!("/api/v1/review/{visit_id}")).await;
        assert_eq!(read.status(), StatusCode::OK);
        let sent_back = server
            .client
            .post(server.url(&format!("/api/v1/review/{visit_id}")))
            .bearer_auth(&sara)
            .json(&json!({"decision": "changes_requested", "comment": "Bitte Termin nachtragen"}))
            .send()
            .await
            .unwrap();
        assert_eq!(sent_back.status(), StatusCode::CREATED);
        let export = get(
            &server,
            Some(&sara),
            "/api/v1/export?format=csv&form=home_visit",
        )
        .await;
        assert_eq!(export.status(), StatusCode::OK, "{}", kind(&server));
        let closing = link_op(
            &case_id,
            PHONE,
            Change::Close {
                reason: CloseReason::MovedAway,
            },
        );
        push_applied(&server, &ayse, &[closing]).await;

        let copy: FamilyCopy = get_json(&server, &sara, &path(&case_id, "tr")).await;
        assert_eq!(copy.case_id, case_id);
        assert_eq!(copy.household, "Familie Ismailova");
        assert_eq!(copy.lang, Lang::Tr);
        assert_eq!(copy.made_by, "sara.s (test)");

        // Every form, with its title, labels and answers in Turkish and German.
        let ids: Vec<&str> = copy
            .forms
            .iter()
            .map(|f| f.submission_id.as_str())
            .collect();
        let corrected_id = corrected.submission().unwrap().id.as_str();
        assert_eq!(ids, [first_id.as_str(), corrected_id, visit_id.as_str()]);
        let intake = &copy.forms[0];
        assert_eq!(intake.title.get(Lang::Tr), "İlk görüşme");
        assert_eq!(intake.title.get(Lang::De), "Erstgespräch");
        assert_eq!(intake.corrected_by.as_deref(), Some(corrected_id));
        assert_eq!(
            copy.forms[1].correction_reason.as_deref(),
            Some("Geburtsdatum falsch übernommen")
        );
        let answer = |field: &str| {
            intake
                .answers
                .iter()
                .find(|a| a.field == field)
                .unwrap_or_else(|| panic!("{field} is in the copy"))
        };
        assert_eq!(answer("household_name").label.get(Lang::Tr), "Hanenin adı");
        assert_eq!(
            answer("household_name").value.get(Lang::De),
            "Familie Ismailova"
        );
        assert_eq!(answer("first_language").value.get(Lang::Tr), "Türkçe");
        assert_eq!(answer("first_language").value.get(Lang::De), "Türkisch");
        // Every person of the household, entry by entry; the health answers too: it is the
        // family's own data.
        let members: Vec<(u32, &str)> = intake
            .answers
            .iter()
            .filter(|a| a.field == "member_name")
            .map(|a| (a.entry.unwrap(), a.value.get(Lang::De)))
            .collect();
        assert_eq!(
            members,
            [
                (1, "Fatme Ismailova"),
                (2, "Emre Ismailov"),
                (3, "Elif Ismailova")
            ]
        );
        assert_eq!(
            answer("member_name").group.as_ref().unwrap().get(Lang::De),
            "Personen im Haushalt"
        );
        assert!(
            intake
                .answers
                .iter()
                .any(|a| a.field == "health_affects_work")
        );

        // The consent, with the very words read (in Bulgarian) and the German beside them.
        let held = &copy.consents[0];
        assert_eq!(held.consent_id, signed.id);
        assert_eq!(held.read_in, Lang::Bg);
        assert!(held.text_matches, "the words shown are the ones signed");
        let text = held.text.as_deref().unwrap();
        assert!(text.contains(agency["agency_name"].get(Lang::Bg)), "{text}");
        assert!(held.text_de.as_deref().unwrap().len() > 200);
        assert_eq!(held.agreed.len(), 2);
        assert_eq!(held.released_to.len(), 1);
        assert_eq!(held.signer, "Fatme Testova");
        assert!(held.signature_svg.starts_with("<svg"));
        let taken = &copy.withdrawals[0];
        assert_eq!(taken.consent_id, signed.id);
        assert!(!taken.everything);
        assert_eq!(taken.purposes.len(), 1);

        // What the supervisor decided, what was done to the case, and where its data went.
        assert_eq!(copy.reviews.len(), 1);
        assert_eq!(copy.reviews[0].comment, "Bitte Termin nachtragen");
        assert!(matches!(
            copy.events.last().unwrap().event,
            CaseEvent::Closed {
                reason: CloseReason::MovedAway
            }
        ));
        assert_eq!(copy.exports.len(), 1, "{}", kind(&server));
        // The referral, with the service as the consent text names it.
        assert_eq!(copy.referrals.len(), 1);
        assert_eq!(copy.referrals[0].asked, "Termin zur Wohnungssuche");
        let service = copy.referrals[0].service.get(Lang::De);
        assert!(service.contains("Wohnungsamt"), "{service}");
        assert_eq!(copy.exports[0].format, "csv");
        // The supervisor's read of the visit and the copy itself are on the trail.
        let reads: Vec<&str> = copy.reads.iter().map(|r| r.what.as_str()).collect();
        assert_eq!(
            reads,
            ["read_submission", "family_copy"],
            "{}",
            kind(&server)
        );
        assert_eq!(copy.reads[1].by, "sara.s (test)");

        // A second copy lists the first.
        let again: FamilyCopy = get_json(&server, &sara, &path(&case_id, "de")).await;
        let copies = again
            .reads
            .iter()
            .filter(|r| r.what == "family_copy")
            .count();
        assert_eq!(copies, 2);
        assert_eq!(again.forms[0].title.0.len(), 1, "German once");
    })
    .await;
}

#[tokio::test]
async fn without_a_language_the_copy_is_in_the_language_the_family_signed_in() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let (signed_in_bg, unsigned) = (new_uuid(), new_uuid());
        let agency = server.consent.agency().unwrap();
        let signed = consent(&server.consent, agency, &signed_in_bg, PHONE, now());
        let ops = [
            intake(&signed_in_bg, PHONE),
            consent_op(&signed),
            intake(&unsigned, PHONE),
        ];
        push_applied(&server, &ayse, &ops).await;
        let path = |id: &str| format!("/api/v1/cases/{id}/copy");
        let copy: FamilyCopy = get_json(&server, &sara, &path(&signed_in_bg)).await;
        assert_eq!(copy.lang, Lang::Bg);
        let copy: FamilyCopy = get_json(&server, &sara, &path(&unsigned)).await;
        assert_eq!(copy.lang, Lang::De);
    })
    .await;
}

#[tokio::test]
async fn only_supervisors_and_admins_of_the_team_get_a_copy_and_bad_requests_are_told() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let adam = server.account("adam.a", Role::Admin, &[TEAM]).await;
        let far = server
            .account("zsofi.s", Role::Supervisor, &["Budapest VIII"])
            .await;
        let case_id = new_uuid();
        push_applied(&server, &ayse, &[intake(&case_id, PHONE)]).await;

        let res = get(&server, Some(&ayse), &path(&case_id, "tr")).await;
        let message = error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
        assert!(message.contains("supervisors"), "{message}");
        // Another team's supervisor: for them the household does not exist.
        let res = get(&server, Some(&far), &path(&case_id, "tr")).await;
        error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        let res = get(&server, None, &path(&case_id, "tr")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = get(&server, Some(&sara), &path(&case_id, "xx")).await;
        let message = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        assert!(message.contains("de, tr, bg"), "{message}");
        let res = get(&server, Some(&sara), &path("not-a-household", "tr")).await;
        error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        let res = get(&server, Some(&sara), &path(&new_uuid(), "tr")).await;
        error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        let copy: FamilyCopy = get_json(&server, &adam, &path(&case_id, "tr")).await;
        assert_eq!(copy.forms.len(), 1);

        // None of the refused asks was recorded: only the admin's copy is on the trail.
        let copies = copy
            .reads
            .iter()
            .filter(|r| r.what == "family_copy")
            .count();
        assert_eq!(copies, 1, "{}", kind(&server));

        // An erased household has no copy: nothing of it is held.
        server
            .store
            .erase(&case_id, "adam.a", "Antrag", now() as i64)
            .await
            .unwrap();
        let res = get(&server, Some(&sara), &path(&case_id, "tr")).await;
        let message = error(res, StatusCode::GONE, ErrorCode::NotFound).await;
        assert!(message.contains("erased"), "{message}");
    })
    .await;
}

/// A household merged into the family's and taken apart again is another family: its forms
/// and who read them are not in the copy any more; while merged, they are.
#[tokio::test]
async fn a_household_taken_apart_again_is_not_in_the_copy() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let (family, other) = (new_uuid(), new_uuid());
        let theirs = submit_op(
            "intake",
            &other,
            PHONE,
            now(),
            &[("household_name", "Familie Anders")],
            &[],
        );
        push_applied(&server, &ayse, &[intake(&family, PHONE), theirs]).await;
        let merge = link_op(
            &other,
            PHONE,
            Change::Merge {
                into: family.clone(),
            },
        );
        push_applied(&server, &sara, std::slice::from_ref(&merge)).await;
        let read = get(
            &server,
            Some(&sara),
            &format!("/api/v1/cases/{other}/history"),
        )
        .await;
        assert_eq!(read.status(), StatusCode::OK);
        let merged: FamilyCopy = get_json(&server, &sara, &path(&family, "de")).await;
        assert_eq!(merged.merged, std::slice::from_ref(&other));
        assert_eq!(merged.forms.len(), 2, "{}", kind(&server));
        assert!(merged.reads.iter().any(|r| r.what == "read_history"));

        let apart = link_op(
            &other,
            PHONE,
            Change::Unmerge {
                merge: merge.op_id.clone(),
            },
        );
        push_applied(&server, &sara, &[apart]).await;
        let copy: FamilyCopy = get_json(&server, &sara, &path(&family, "de")).await;
        assert!(copy.merged.is_empty());
        assert_eq!(copy.forms.len(), 1, "only the family's own intake");
        let answers: Vec<&str> = copy.forms[0]
            .answers
            .iter()
            .map(|a| a.value.get(Lang::De))
            .collect();
        assert!(!answers.contains(&"Familie Anders"));
        assert!(
            copy.reads.iter().all(|r| r.what != "read_history"),
            "the other family's reads are not this family's: {:?}",
            copy.reads
        );
    })
    .await;
}
