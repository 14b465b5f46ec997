//! Erasing a household on a family's request, on SQLite and on PostgreSQL, with the command
//! line an administrator uses: afterwards no table holds the family's name or answers (on
//! SQLite not even the file's free pages), a tombstone without them stays, the counts and
//! the audit trail still add up, phones that pull hear of the erasure and nothing else of it,
//! and whatever a phone sends for the household later is refused as `erased`.

use crate::support::process::cli;
use crate::support::{
    LAPTOP, PHONE_A, PHONE_B, TEAM, TestServer, consent, consent_op, get_json, kind, link_op,
    new_uuid, now, on_both, pulled, push, push_applied, submit_op,
};
use cris_core::api::{Dashboard, Role};
use cris_core::record::{Change, Operation};
use cris_core::sync::{CaseHistory, Detail, Outcome, Reason};
use reqwest::StatusCode;

/// The family's invented name: nothing else in a store spells it.
const NAME: &str = "Zyxwerk";

fn intake(case_id: &str, device: &str) -> Operation {
    submit_op(
        "intake",
        case_id,
        device,
        now(),
        &[("household_name", &format!("Familie {NAME}"))],
        &[],
    )
}

fn database_url(server: &TestServer) -> String {
    match server.sqlite_path() {
        Some(path) => format!("sqlite://{}", path.display()),
        None => server.pg_url().expect("a store").to_owned(),
    }
}

fn erase(server: &TestServer, args: &[&str]) -> (bool, String) {
    let mut all = vec!["erase"];
    all.extend_from_slice(args);
    cli(&database_url(server), &all, "")
}

/// Every row of every table of the store as text, table by table, with the text `needle`.
async fn rows_holding(server: &TestServer, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(url) = server.pg_url() {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(tables.len() > 20, "{tables:?}");
        for table in tables {
            let rows: Vec<String> =
                sqlx::query_scalar(&format!("SELECT CAST(t AS TEXT) FROM \"{table}\" t"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
            found.extend(
                rows.into_iter()
                    .filter(|r| r.contains(needle))
                    .map(|r| format!("{table}: {r}")),
            );
        }
    } else {
        // Every byte of the file and its write-ahead log: rows, free pages, old page images.
        let path = server.sqlite_path().unwrap();
        for suffix in ["", "-wal"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(format!("{file:?}"));
            }
        }
    }
    found
}

#[tokio::test]
async fn an_erased_household_leaves_no_trace_but_its_tombstone() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        server.account("ada.a", Role::Admin, &[TEAM]).await;
        let (gone, stays) = (new_uuid(), new_uuid());
        let visit = submit_op(
            "home_visit",
            &gone,
            PHONE_A,
            now(),
            &[(
                "changes_housing",
                &format!("{NAME} wohnt jetzt bei Verwandten."),
            )],
            &[],
        );
        let signed = consent(
            &server.consent,
            server.consent.agency().unwrap(),
            &gone,
            PHONE_A,
            now(),
        );
        let ops = [intake(&gone, PHONE_A), visit.clone(), consent_op(&signed)];
        push_applied(&server, &ayse, &ops).await;
        push_applied(&server, &ayse, &[crate::support::intake(&stays, PHONE_A)]).await;
        // A supervisor's comment naming the family, and a dashboard that summarised it.
        let visit_id = visit.submission().unwrap().id.clone();
        let res = server
            .client
            .post(server.url(&format!("/api/v1/review/{visit_id}")))
            .bearer_auth(&sara)
            .json(&serde_json::json!({
                "decision": "changes_requested",
                "comment": format!("Bitte bei {NAME} das Datum prüfen.")
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let before: Dashboard = get_json(&server, &sara, "/api/v1/dashboard").await;
        assert_eq!(before.housing.households, 2);
        let _: CaseHistory =
            get_json(&server, &sara, &format!("/api/v1/cases/{gone}/history")).await;
        assert!(
            !rows_holding(&server, NAME).await.is_empty(),
            "the name is there to find"
        );
        let (_, cursor) = pulled(&server, &ayse, 0).await;

        // Only an enabled administrator erases, and with a reason.
        let (ok, said) = erase(&server, &[&gone, "--reason", "Antrag", "--by", "sara.s"]);
        assert!(!ok && said.contains("administrator"), "{said}");
        let (ok, said) = erase(&server, &[&gone, "--reason", " ", "--by", "ada.a"]);
        assert!(!ok && said.contains("--reason"), "{said}");
        // Not beside a running server (on SQLite it holds the store's lock): the server
        // erases what its administrators ask while it runs.
        if let Some(db) = server.sqlite_path() {
            let _serving = cris_server::backup::ServeLock::take(&db).unwrap();
            let (ok, said) = erase(&server, &[&gone, "--reason", "Antrag", "--by", "ada.a"]);
            assert!(!ok && said.contains("a server is using"), "{said}");
        }
        let reason = "Antrag nach Art. 17 vom 7.12.";
        let erased = server
            .store
            .erase(&gone, "ada.a", reason, cris_server::auth::now_ms())
            .await
            .unwrap();
        assert!(matches!(erased, cris_server::store::Erased::Done(_)), "{erased:?}");

        let left = rows_holding(&server, NAME).await;
        assert!(
            left.is_empty(),
            "{} still holds the name: {left:?}",
            kind(&server)
        );
        let tombstone = server.store.tombstone(&gone).await.unwrap().unwrap();
        assert_eq!(tombstone.erased_by, "ada.a");
        let kinds: Vec<&str> = tombstone.held.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["submit", "submit", "consent"]);
        assert_eq!(tombstone.held[1].record_id, visit_id);
        let (ok, said) = erase(
            &server,
            &[&gone, "--reason", "noch einmal", "--by", "ada.a"],
        );
        assert!(!ok && said.contains("erased already"), "{said}");

        // The counts no longer count it; the audit trail still says who read it.
        let after: Dashboard = get_json(&server, &sara, "/api/v1/dashboard").await;
        assert_eq!(after.housing.households, 1, "{}", kind(&server));
        let (ok, audit) = cli(&database_url(&server), &["audit", "--household", &gone], "");
        assert!(ok && audit.contains("sara.s"), "{audit}");

        // Phones hear of the erasure, and of nothing else of the household.
        let (after, _) = pulled(&server, &ayse, cursor).await;
        let of_gone: Vec<&Operation> = after.iter().filter(|o| o.case_id == gone).collect();
        assert_eq!(of_gone.len(), 1);
        assert_eq!(of_gone[0].change, Change::Erase {});
        let (fresh, _) = pulled(&server, &ayse, 0).await;
        assert_eq!(fresh.iter().filter(|o| o.case_id == gone).count(), 1);

        // Whatever a phone sends for it later is refused, and not kept.
        let late = [
            submit_op("home_visit", &gone, PHONE_B, now(), &[], &[]),
            intake(&gone, PHONE_B),
            link_op(&stays, LAPTOP, Change::Merge { into: gone.clone() }),
        ];
        let outcomes = push(&server, &sara, &late).await;
        for (i, outcome) in outcomes.iter().enumerate() {
            assert!(
                matches!(
                    outcome,
                    Outcome::Rejected {
                        reason: Reason::Erased,
                        detail: Some(Detail::Erased),
                        ..
                    }
                ),
                "late operation {i} (0 a visit, 1 an intake, 2 a merge into it): {outcomes:?} on {}; tombstone {:?}",
                kind(&server),
                server.store.tombstone(&gone).await.map(|t| t.map(|t| t.erased_ms))
            );
        }
        let forged = link_op(&stays, PHONE_A, Change::Erase {});
        assert!(matches!(
            push(&server, &ayse, &[forged]).await[0],
            Outcome::Rejected {
                reason: Reason::Malformed,
                ..
            }
        ));
        let history: CaseHistory =
            get_json(&server, &sara, &format!("/api/v1/cases/{gone}/history")).await;
        assert_eq!(history.entries.len(), 1, "the erasure alone");
        assert!(rows_holding(&server, NAME).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn households_merged_into_an_erased_one_are_asked_about() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        server.account("ada.a", Role::Admin, &[TEAM]).await;
        let (kept, merged) = (new_uuid(), new_uuid());
        push_applied(
            &server,
            &ayse,
            &[intake(&kept, PHONE_A), intake(&merged, PHONE_B)],
        )
        .await;
        push_applied(
            &server,
            &sara,
            &[link_op(
                &merged,
                LAPTOP,
                Change::Merge { into: kept.clone() },
            )],
        )
        .await;
        // The command line erases with no server running on the store.
        server.store.close().await;
        let url = database_url(&server);
        let store = || cris_server::CaseStore::open(&url);
        let (ok, said) = erase(&server, &[&kept, "--reason", "Antrag", "--by", "ada.a"]);
        assert!(
            !ok && said.contains(&merged) && said.contains("nothing was erased"),
            "{said}"
        );
        assert!(
            store()
                .await
                .unwrap()
                .tombstone(&kept)
                .await
                .unwrap()
                .is_none()
        );
        let (ok, said) = erase(
            &server,
            &[
                &kept,
                "--reason",
                "Antrag",
                "--by",
                "ada.a",
                "--with-merged",
            ],
        );
        assert!(ok, "{said}");
        let after = store().await.unwrap();
        for id in [&kept, &merged] {
            assert!(
                after.tombstone(id).await.unwrap().is_some(),
                "{}",
                kind(&server)
            );
        }
        after.close().await;
        assert!(rows_holding(&server, NAME).await.is_empty());
        let (ok, said) = erase(
            &server,
            &[&new_uuid(), "--reason", "Antrag", "--by", "ada.a"],
        );
        assert!(!ok && said.contains("no household"), "{said}");
    })
    .await;
}

#[tokio::test]
async fn a_household_closed_for_the_retention_period_is_erased_by_the_server() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let [closed, reopened, open, merged] = [new_uuid(), new_uuid(), new_uuid(), new_uuid()];
        for id in [&closed, &reopened, &open] {
            push_applied(&server, &ayse, &[intake(id, PHONE_A)]).await;
        }
        push_applied(&server, &ayse, &[intake(&merged, PHONE_B)]).await;
        let merge = link_op(
            &merged,
            LAPTOP,
            Change::Merge {
                into: closed.clone(),
            },
        );
        push_applied(&server, &sara, &[merge]).await;
        let close = |id: &str| {
            link_op(
                id,
                PHONE_A,
                Change::Close {
                    reason: cris_core::record::CloseReason::MovedAway,
                },
            )
        };
        let closing = close(&reopened);
        let reopening = link_op(
            &reopened,
            PHONE_A,
            Change::Reopen {
                close: closing.op_id.clone(),
            },
        );
        push_applied(&server, &ayse, &[close(&closed), closing, reopening]).await;

        let day = 86_400_000;
        let now = cris_server::auth::now_ms();
        let store = &server.store;
        assert!(
            store
                .enforce_retention(1, now + 10 * day, false)
                .await
                .unwrap()
                .is_empty()
        );
        let due = store
            .enforce_retention(1, now + 40 * day, true)
            .await
            .unwrap();
        let ids: Vec<&str> = due.iter().map(|d| d.case_id.as_str()).collect();
        assert_eq!(ids, [closed.as_str()], "{}", kind(&server));
        assert!(!due[0].erased);
        assert!(
            store.tombstone(&closed).await.unwrap().is_none(),
            "a dry run erases nothing"
        );

        let due = store
            .enforce_retention(1, now + 40 * day, false)
            .await
            .unwrap();
        assert!(due[0].erased);
        for id in [&closed, &merged] {
            let tombstone = store.tombstone(id).await.unwrap().expect("erased");
            assert_eq!(tombstone.erased_by, "retention");
            assert!(
                tombstone.reason.contains("1 months"),
                "{}",
                tombstone.reason
            );
        }
        for id in [&reopened, &open] {
            assert!(store.tombstone(id).await.unwrap().is_none());
        }
        assert!(
            store
                .enforce_retention(1, now + 40 * day, false)
                .await
                .unwrap()
                .is_empty()
        );

        // The command line reads the period from the agency file.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agency.json");
        let mut agency = serde_json::to_value(cris_server::consent::demo_agency()).unwrap();
        std::fs::write(&file, agency.to_string()).unwrap();
        let path = file.to_str().unwrap();
        let (ok, said) = cli(&database_url(&server), &["retention", "--agency", path], "");
        assert!(
            !ok && said.contains("sets no \"retention_months\""),
            "{said}"
        );
        agency["retention_months"] = 60.into();
        std::fs::write(&file, agency.to_string()).unwrap();
        let (ok, said) = cli(
            &database_url(&server),
            &["retention", "--dry-run", "--agency", path],
            "",
        );
        assert!(
            ok && said.contains("60 months") && said.contains("no household is due"),
            "{said}"
        );
        // On SQLite it erases only with no server on the store (the dry run may look).
        if let Some(db) = server.sqlite_path() {
            let _serving = cris_server::backup::ServeLock::take(&db).unwrap();
            let (ok, said) = cli(&database_url(&server), &["retention", "--agency", path], "");
            assert!(!ok && said.contains("a server is using"), "{said}");
            let dry = ["retention", "--dry-run", "--agency", path];
            let (ok, said) = cli(&database_url(&server), &dry, "");
            assert!(ok, "{said}");
        }
    })
    .await;
}

/// Runs `cris-server ARGS` on the store at `url` with the erasure journal `journal`:
/// whether it succeeded, and all it printed.
fn cli_with_journal(url: &str, journal: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .args(args)
        .env("CRIS_DATABASE_URL", url)
        .env("CRIS_ERASURE_JOURNAL", journal)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// A backup taken before an erasure brings the household back into the store it restores:
/// the restore erases it again at once (and records as erased one recorded after the
/// backup), from the erasure journal kept beside the store.
#[tokio::test]
async fn a_restore_erases_again_what_was_erased_after_the_backup() {
    let pg_dump_here = crate::support::process::pg_tools_here();
    for postgres in [false, true] {
        if postgres && !pg_dump_here {
            eprintln!("pg_dump is not installed: the PostgreSQL restore is not tried here");
            continue;
        }
        let server = if postgres {
            TestServer::postgres().await
        } else {
            TestServer::sqlite().await
        };
        let url = database_url(&server);
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("erasures.jsonl");
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        server.account("ada.a", Role::Admin, &[TEAM]).await;
        let (before, after) = (new_uuid(), new_uuid());
        push_applied(&server, &ayse, &[intake(&before, PHONE_A)]).await;
        let backup = dir.path().join("backup");
        if postgres {
            crate::support::process::pg_dump(&url, &backup);
        } else {
            let (ok, said) = cli(&url, &["backup", "--to", backup.to_str().unwrap()], "");
            assert!(ok, "{said}");
        }
        // After the backup: a household recorded, then both erased on the family's request.
        push_applied(&server, &ayse, &[intake(&after, PHONE_B)]).await;
        for id in [&before, &after] {
            let (ok, said) = cli_with_journal(
                &url,
                &journal,
                &["erase", id, "--reason", "Antrag", "--by", "ada.a"],
            );
            assert!(ok, "{said}");
        }
        let mut restored_db = None;
        let restored_url = if postgres {
            let target = crate::support::TestPg::create().await;
            crate::support::process::pg_restore(&target.url, &backup);
            let (ok, said) = cli_with_journal(&target.url, &journal, &["restored"]);
            assert!(ok && said.contains("erased again 2 households"), "{said}");
            let url = target.url.clone();
            restored_db = Some(target);
            url
        } else {
            server.store.close().await;
            let (ok, said) = cli(&url, &["restore", "--from", backup.to_str().unwrap()], "");
            assert!(ok && said.contains("erased again 2 households"), "{said}");
            url.clone()
        };
        let restored = cris_server::CaseStore::open(&restored_url).await.unwrap();
        let tombstone = restored
            .tombstone(&before)
            .await
            .unwrap()
            .expect("erased again");
        assert!(
            tombstone
                .reason
                .contains("erased again after the store was restored")
        );
        assert_eq!(tombstone.held.len(), 1, "the backup's intake");
        let unknown = restored
            .tombstone(&after)
            .await
            .unwrap()
            .expect("recorded erased");
        assert!(unknown.held.is_empty());
        let again = TestServer::on_store(restored).await;
        let token = again.account("bea.w", Role::Worker, &[TEAM]).await;
        let late = push(&again, &token, &[intake(&after, PHONE_B)]).await;
        assert!(
            matches!(
                late[0],
                Outcome::Rejected {
                    reason: Reason::Erased,
                    ..
                }
            ),
            "{late:?}"
        );
        if !postgres {
            assert!(rows_holding(&server, NAME).await.is_empty());
        }
        drop(again);
        drop(restored_db);
    }
}

/// A POST of `body` to the erasure endpoint of `case_id` as `token`.
async fn erase_over_http(
    server: &TestServer,
    token: &str,
    case_id: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    server
        .client
        .post(server.url(&format!("/api/v1/cases/{case_id}/erasure")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_erases_a_household_from_its_page_after_seeing_what_goes() {
    use crate::support::{error, get};
    use cris_core::api::{ErasureDone, ErasurePreview, ErrorCode};
    use serde_json::json;
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sara = server.account("sara.s", Role::Supervisor, &[TEAM]).await;
        let ada = server.account("ada.a", Role::Admin, &[TEAM]).await;
        let far = server
            .account("zoli.a", Role::Admin, &["Budapest VIII"])
            .await;
        let (kept, merged) = (new_uuid(), new_uuid());
        let agency = server.consent.agency().unwrap();
        let signed = consent(&server.consent, agency, &kept, PHONE_A, now());
        let visit = submit_op("home_visit", &kept, PHONE_A, now(), &[], &[]);
        let ops = [
            intake(&kept, PHONE_A),
            visit,
            consent_op(&signed),
            intake(&merged, PHONE_B),
        ];
        push_applied(&server, &ayse, &ops).await;
        let merge = link_op(&merged, LAPTOP, Change::Merge { into: kept.clone() });
        push_applied(&server, &sara, &[merge]).await;
        let preview_path = format!("/api/v1/cases/{kept}/erasure");

        // Nobody but an administrator of the household's team sees what would go, or erases.
        for (token, status) in [
            (&ayse, StatusCode::FORBIDDEN),
            (&sara, StatusCode::FORBIDDEN),
        ] {
            let res = get(&server, Some(token), &preview_path).await;
            assert_eq!(res.status(), status);
            let res = erase_over_http(&server, token, &kept, &json!({"reason": "Antrag"})).await;
            let message = error(res, status, ErrorCode::Forbidden).await;
            assert!(message.contains("administrators"), "{message}");
        }
        let res = get(&server, Some(&far), &preview_path).await;
        error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        let res = erase_over_http(&server, &far, &kept, &json!({"reason": "Antrag"})).await;
        error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
        let res = get(&server, None, &preview_path).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

        // What would go, and the household merged into it by name.
        let preview: ErasurePreview = get_json(&server, &ada, &preview_path).await;
        assert_eq!(preview.household, format!("Familie {NAME}"));
        assert_eq!(preview.forms.get("intake"), Some(&1));
        assert_eq!(preview.forms.get("home_visit"), Some(&1));
        assert_eq!(preview.consents, 1);
        assert_eq!(preview.merged.len(), 1);
        assert_eq!(preview.merged[0].case_id, merged);

        // Bad requests are told what is wrong, and erase nothing.
        for (body, expected) in [
            (json!({"reason": "   "}), "say why"),
            (json!({"reason": "x".repeat(1001)}), "at most 1000"),
            (json!({"why": "Antrag"}), "reason"),
        ] {
            let res = erase_over_http(&server, &ada, &kept, &body).await;
            let message = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
            assert!(message.contains(expected), "{expected}: {message}");
        }
        let huge = json!({"reason": "Antrag", "with_merged": vec![new_uuid(); 1000]});
        let res = erase_over_http(&server, &ada, &kept, &huge).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        // A household merged into it and not named stops the erasure.
        let res = erase_over_http(&server, &ada, &kept, &json!({"reason": "Antrag"})).await;
        let message = error(res, StatusCode::CONFLICT, ErrorCode::BadRequest).await;
        assert!(
            message.contains(&merged) && message.contains("nothing was erased"),
            "{message}"
        );
        assert!(server.store.tombstone(&kept).await.unwrap().is_none());
        assert!(server.store.tombstone(&merged).await.unwrap().is_none());

        // Named: both go, and nothing of the family's name is left.
        let body =
            json!({"reason": "Antrag nach Art. 17 vom 2. Dezember", "with_merged": [merged]});
        let res = erase_over_http(&server, &ada, &kept, &body).await;
        assert_eq!(res.status(), StatusCode::OK, "{}", kind(&server));
        let done: ErasureDone = res.json().await.unwrap();
        assert_eq!(done.erased, [merged.clone(), kept.clone()]);
        let tombstone = server.store.tombstone(&kept).await.unwrap().unwrap();
        assert_eq!(tombstone.erased_by, "ada.a");
        assert_eq!(tombstone.reason, "Antrag nach Art. 17 vom 2. Dezember");
        assert!(
            rows_holding(&server, NAME).await.is_empty(),
            "{}",
            kind(&server)
        );

        // Erased once: the page and the erasure say so.
        let res = get(&server, Some(&ada), &preview_path).await;
        error(res, StatusCode::GONE, ErrorCode::NotFound).await;
        let res = erase_over_http(&server, &ada, &kept, &body).await;
        error(res, StatusCode::GONE, ErrorCode::NotFound).await;
        let res = erase_over_http(&server, &ada, "not-a-household", &body).await;
        error(res, StatusCode::NOT_FOUND, ErrorCode::NotFound).await;
    })
    .await;
}
