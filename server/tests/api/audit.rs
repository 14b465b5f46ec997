//! Who read what, over real HTTP on SQLite and PostgreSQL: a supervisor's reads of one
//! household (a form's review page, its history, its consents, what it released), an export,
//! logins, failed logins and logouts are in the trail, with the device and the address; a
//! worker's own work is not; a name typed at a failed login is kept only when it is an
//! account's; and `cris-server audit` reads the trail back by household and by account.

use crate::support::{TEAM, TestServer, get, on_both, push_applied, submit_op};
use cris_core::api::{LoginResponse, Role};
use cris_core::record::Change;
use cris_server::auth;
use cris_server::store::audit::{AuditEntry, AuditFilter};
use reqwest::StatusCode;

const DEVICE: &str = "0192b3c4-0000-7000-8000-00000000a0d1";

async fn trail(server: &TestServer, filter: AuditFilter) -> Vec<AuditEntry> {
    server.store.audit_entries(&filter).await.unwrap()
}

fn actions(entries: &[AuditEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.action.as_str()).collect()
}

#[tokio::test]
async fn a_supervisors_reads_of_a_household_are_recorded_and_a_workers_are_not() {
    on_both(|server| async move {
        let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
        let sabine = server.account("sabine.s", Role::Supervisor, &[TEAM]).await;
        let case_id = crate::support::new_uuid();
        let op = submit_op("intake", &case_id, DEVICE, auth::now_ms() as u64, &[], &[]);
        let Change::Submit { submission, .. } = &op.change else {
            unreachable!()
        };
        let submission_id = submission.id.clone();
        push_applied(&server, &ayse, std::slice::from_ref(&op)).await;

        // Ayşe's own work on her team's household: not in the trail.
        let history = format!("/api/v1/cases/{case_id}/history");
        assert_eq!(
            get(&server, Some(&ayse), &history).await.status(),
            StatusCode::OK
        );
        assert!(trail(&server, AuditFilter::default()).await.is_empty());

        for path in [
            format!("/api/v1/review/{submission_id}"),
            history.clone(),
            format!("/api/v1/cases/{case_id}/consent"),
            format!("/api/v1/cases/{case_id}/may-share?recipient=school&purpose=attendance"),
        ] {
            let res = get(&server, Some(&sabine), &path).await;
            // (Nothing released yet: "no" is an answer about the household too.)
            let expected = if path.contains("may-share") {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::OK
            };
            assert_eq!(res.status(), expected, "{path}");
        }
        // A household she may not see: refused, and nothing read, nothing recorded.
        let other = crate::support::new_uuid();
        let res = get(
            &server,
            Some(&sabine),
            &format!("/api/v1/cases/{other}/history"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        let by_household = trail(
            &server,
            AuditFilter {
                case_id: Some(case_id.clone()),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            actions(&by_household),
            [
                "read_submission",
                "read_history",
                "read_consents",
                "read_may_share"
            ]
        );
        let sabines_device = server
            .store
            .session_device(&auth::token_hash(&sabine))
            .await
            .unwrap();
        for e in &by_household {
            assert_eq!(e.login.as_deref(), Some("sabine.s"));
            assert_eq!(e.device_id, sabines_device);
            assert_eq!(e.address.as_deref(), Some("127.0.0.1"));
            assert!(e.endpoint.starts_with("GET /api/v1/"), "{}", e.endpoint);
            assert!(!e.endpoint.contains(&case_id), "the route, not the address");
        }

        // An export: recorded with its id, as the list of exports names it.
        let res = get(
            &server,
            Some(&sabine),
            "/api/v1/export?format=csv&form=intake",
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let exports = trail(
            &server,
            AuditFilter {
                login: Some("sabine.s".into()),
                ..Default::default()
            },
        )
        .await;
        let export = exports.last().unwrap();
        assert_eq!(export.action, "export");
        assert_eq!(export.case_id, None);
        let listed: cris_core::api::ExportList = get(&server, Some(&sabine), "/api/v1/exports")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            export.export_id.as_deref(),
            Some(listed.items[0].id.as_str())
        );
    })
    .await;
}

#[tokio::test]
async fn logins_failed_logins_and_logouts_are_recorded_without_what_was_typed() {
    on_both(|server| async move {
        server.account("elif.w", Role::Worker, &[TEAM]).await;
        server
            .store
            .set_password_hash("elif.w", &auth::hash_password("Kastanien-Hof-2026"), auth::now_ms())
            .await
            .unwrap();
        let login = |name: &'static str, password: &'static str| {
            let client = server.client.clone();
            let url = server.url("/api/v1/session");
            async move {
                client
                    .post(url)
                    .json(&serde_json::json!({ "login": name, "password": password, "device_id": DEVICE }))
                    .send()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(login("elif.w", "wrong-guess-1").await.status(), 401);
        // A password typed into the name field by mistake is not kept anywhere.
        assert_eq!(login("Kastanien-Hof-2026", "x").await.status(), 401);
        let res = login("elif.w", "Kastanien-Hof-2026").await;
        assert_eq!(res.status(), 201);
        let session: LoginResponse = res.json().await.unwrap();
        let res = server
            .client
            .delete(server.url("/api/v1/session"))
            .bearer_auth(&session.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        // Guessing on: the failures, then one entry for the refusals of each wait.
        for i in 0..8 {
            let _ = login("elif.w", ["g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8"][i]).await;
        }

        let all = trail(&server, AuditFilter::default()).await;
        let mut expected = vec!["login_failed", "login_failed", "login", "logout"];
        expected.extend(["login_failed"; 5]);
        expected.push("login_throttled");
        assert_eq!(actions(&all), expected);
        assert_eq!(all[1].login, None, "an unknown name is not kept");
        for e in &all {
            assert!(e.login.as_deref().is_none_or(|l| l == "elif.w"));
            assert_eq!(e.device_id.as_deref(), Some(DEVICE));
            assert_eq!(e.address.as_deref(), Some("127.0.0.1"));
        }
        let text = format!("{all:?}");
        assert!(!text.contains("Kastanien"), "{text}");

        // Read back from a day on: today's, not tomorrow's.
        let today = auth::now_ms().div_euclid(86_400_000) * 86_400_000;
        let since = |ms| AuditFilter {
            since_ms: Some(ms),
            ..Default::default()
        };
        assert_eq!(trail(&server, since(today)).await.len(), all.len());
        assert!(trail(&server, since(today + 86_400_000)).await.is_empty());
    })
    .await;
}

/// `cris-server audit` prints the trail of one household.
#[tokio::test]
async fn the_command_line_reads_the_trail_by_household() {
    let server = TestServer::sqlite().await;
    let ayse = server.account("ayse.w", Role::Worker, &[TEAM]).await;
    let sabine = server.account("sabine.s", Role::Supervisor, &[TEAM]).await;
    let case_id = crate::support::new_uuid();
    let op = submit_op("intake", &case_id, DEVICE, auth::now_ms() as u64, &[], &[]);
    push_applied(&server, &ayse, std::slice::from_ref(&op)).await;
    let res = get(
        &server,
        Some(&sabine),
        &format!("/api/v1/cases/{case_id}/history"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let db = server.sqlite_path().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cris-server"))
            .arg("audit")
            .args(args)
            .env("CRIS_DATABASE_URL", format!("sqlite://{}", db.display()))
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let out = run(&["--household", &case_id]);
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert!(
        rows[0].contains("read_history") && rows[0].contains("sabine.s"),
        "{out}"
    );
    assert!(rows[0].contains("GET /api/v1/cases/{id}/history"), "{out}");
    let out = run(&["--user", "nobody"]);
    assert_eq!(out.lines().count(), 1, "the heading only: {out}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .args(["audit", "--since", "yesterday"])
        .env("CRIS_DATABASE_URL", format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
}
