//! Exports over real HTTP, on SQLite and on PostgreSQL: supervisors and admins take their
//! teams' submissions out as CSV (one table) or XLSX (a sheet per form and repeat group), in
//! the language asked for; workers and other teams get nothing; every export is recorded, and
//! one refused records nothing.
//!
//! The fixture is an invented family (the Ismailovs of the shipped intake example): their
//! intake, and two home visits with new steps agreed, the second correcting the first after
//! the supervisor sent it back. Its CSV tables are compared byte for byte with
//! `tests/data/export-*.csv` (the server's time of receipt, which is the real clock's, written
//! as `(received)`); `CRIS_UPDATE_FIXTURES=1` writes them anew.

mod support;

use std::collections::HashMap;

use calamine::{Data, Reader, Xlsx};
use cris_core::api::{ErrorCode, ExportEntry, ExportFormat, ExportList, ReviewPage, Role};
use cris_core::form::Answers;
use cris_core::lang::Lang;
use cris_core::record::Operation;
use reqwest::StatusCode;
use serde_json::json;
use support::{TestServer, error, get, kind, on_both, push_applied as push, submit_op};

const PHONE_A: &str = "0192b3c4-0000-7000-8000-00000000d00a";
const NORD: &str = "Offenbach Nord";
const BUDAPEST: &str = "Budapest VIII";

/// The family's household and its forms: fixed ids and times, so that the files are too.
const CASE: &str = "0193a1b2-0000-7000-8000-0000000000c1";
const INTAKE: (&str, &str) = (
    "0193a1b2-0000-7000-8000-0000000001a1",
    "0193a1b2-0000-7000-8000-0000000002a1",
);
const VISIT: (&str, &str) = (
    "0193a1b2-0000-7000-8000-0000000001b1",
    "0193a1b2-0000-7000-8000-0000000002b1",
);
const FIX: (&str, &str) = (
    "0193a1b2-0000-7000-8000-0000000001b2",
    "0193a1b2-0000-7000-8000-0000000002b2",
);
/// 2026-11-20 09:30, 2026-11-24 17:00 and 2026-11-25 08:15 (UTC).
const INTAKE_MS: u64 = 1_795_167_000_000;
const VISIT_MS: u64 = 1_795_539_600_000;
const FIX_MS: u64 = 1_795_594_500_000;

fn data(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file)
}

/// `op` with fixed operation and submission ids.
fn fixed(mut op: Operation, (op_id, submission_id): (&str, &str)) -> Operation {
    op.op_id = op_id.into();
    support::submission_mut(&mut op).id = submission_id.into();
    op
}

fn step(what: &str, who: &str, by: &str) -> Answers {
    Answers::new()
        .with("new_step_what", what)
        .with("new_step_who", who)
        .with("new_step_by", by)
}

/// What both visits say of the family (on top of the example visit, of another family).
const VISITED: &[(&str, &str)] = &[
    ("purpose", "follow_up school_matter"),
    (
        "present",
        "Fatme (Mutter), Emre (Sohn, 12), Elif (Tochter, 5); Frau Petrova (Sprachmittlerin, Bulgarisch)",
    ),
    (
        "changes_housing",
        "Heizung im Kinderzimmer seit zwei Wochen defekt; Vermieter schriftlich informiert.",
    ),
    ("changes_health", "Keine."),
    // Typed with "=" first: never a formula.
    ("changes_income", "=520 € Minijob seit 01.11."),
];

/// The visit's answers: `VISITED`, the notes, the child at school and the steps.
fn visited(op: &mut Operation, notes: &str, new_steps: Vec<Answers>) {
    let answers = &mut support::submission_mut(op).answers;
    let school = Answers::new()
        .with("attendance_child", "Emre")
        .with("attendance", "some_days_missed")
        .with(
            "attendance_note",
            "2 Fehltage (Erkältung), Entschuldigung liegt vor",
        );
    let progress = Answers::new()
        .with("step", "Steuer-ID für Fatme anfordern")
        .with("progress", "done");
    *answers = answers
        .clone()
        .with("notes", notes)
        .with_repeat("children_attendance", vec![school])
        .with_repeat("step_progress", vec![progress])
        .with_repeat("new_steps", new_steps);
}

/// The family's intake, the visit, and its correction.
fn family() -> [Operation; 3] {
    let intake = fixed(
        submit_op("intake", CASE, PHONE_A, INTAKE_MS, &[], &[]),
        INTAKE,
    );
    let seen = [intake.hlc.clone()];
    let mut visit = fixed(
        submit_op("home_visit", CASE, PHONE_A, VISIT_MS, VISITED, &seen),
        VISIT,
    );
    visited(
        &mut visit,
        // A comma, quotes and a line break: quoted in CSV.
        "Mutter: \"Die Miete steigt im Januar\", Vermieter ist informiert.\nTermine bitte nachmittags.",
        vec![
            step(
                "Schulbescheinigung abholen, an die Familienkasse schicken",
                "family",
                "2026-12-04",
            ),
            step(
                "Termin bei der Schuldnerberatung",
                "case_manager",
                "2026-12-11",
            ),
        ],
    );
    let seen = [visit.hlc.clone()];
    let mut fix = fixed(
        submit_op("home_visit", CASE, PHONE_A, FIX_MS, VISITED, &seen),
        FIX,
    );
    visited(
        &mut fix,
        "Vermieter hat geantwortet; Termine bitte nachmittags.",
        vec![step(
            "Schulbescheinigung abholen, an die Familienkasse schicken",
            "both",
            "2026-12-07",
        )],
    );
    support::submission_mut(&mut fix).corrects = Some(cris_core::record::Correction {
        submission_id: VISIT.1.into(),
        reason: "Frist des ersten Schritts war falsch".into(),
    });
    [intake, visit, fix]
}

/// The family pushed by Ayşe of Offenbach Nord, the visit sent back by Sabine before its
/// correction arrived: Sabine's token.
async fn with_family(server: &TestServer) -> String {
    let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
    let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
    let [intake, visit, fix] = family();
    push(server, &ayse, &[intake, visit]).await;
    let res = server
        .client
        .post(server.url(&format!("/api/v1/review/{}", VISIT.1)))
        .bearer_auth(&sabine)
        .json(&json!({ "decision": "changes_requested", "comment": "Frist prüfen" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    push(server, &ayse, &[fix]).await;
    sabine
}

/// An export that succeeded: its file's bytes and its headers.
async fn export(
    server: &TestServer,
    token: &str,
    query: &str,
) -> (Vec<u8>, HashMap<String, String>) {
    let res = get(server, Some(token), &format!("/api/v1/export{query}")).await;
    assert_eq!(res.status(), StatusCode::OK, "{query} on {}", kind(server));
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    (res.bytes().await.unwrap().to_vec(), headers)
}

async fn exports(server: &TestServer, token: &str) -> Vec<ExportEntry> {
    let res = get(server, Some(token), "/api/v1/exports").await;
    assert_eq!(res.status(), StatusCode::OK, "{}", kind(server));
    res.json::<ExportList>().await.unwrap().items
}

/// A CSV export as text, the times of receipt (the server's clock) written `(received)`.
async fn normalised(server: &TestServer, token: &str, text: String) -> String {
    let page: ReviewPage = get(server, Some(token), "/api/v1/review?limit=200")
        .await
        .json()
        .await
        .unwrap();
    page.items.iter().fold(text, |text, item| {
        text.replace(&cris_server::export::utc(item.received_at_ms), "(received)")
    })
}

/// Compares with a fixture file, or writes it with `CRIS_UPDATE_FIXTURES=1`.
fn check_fixture(file: &str, got: &str) {
    let path = data(file);
    if std::env::var_os("CRIS_UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert_eq!(got, want, "{file}");
}

fn workbook(bytes: Vec<u8>) -> Xlsx<std::io::Cursor<Vec<u8>>> {
    calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap()
}

/// A sheet's rows as text.
fn sheet(book: &mut Xlsx<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<String>> {
    book.worksheet_range(name)
        .unwrap()
        .rows()
        .map(|row| row.iter().map(Data::to_string).collect())
        .collect()
}

#[tokio::test]
async fn only_supervisors_and_admins_export_and_only_their_teams() {
    on_both(|server| async move {
        let sabine = with_family(&server).await;
        let jan = server.account("jan.w", Role::Worker, &[NORD]).await;
        let aron = server.account("aron.a", Role::Admin, &[NORD]).await;
        let zsofia = server
            .account("zsofia.s", Role::Supervisor, &[BUDAPEST])
            .await;

        // A worker is refused, whatever the query; without a session, nothing at all.
        for path in [
            "/api/v1/export",
            "/api/v1/export?format=csv&form=home_visit",
            "/api/v1/export?nonsense=1",
            "/api/v1/exports",
        ] {
            let message = error(
                get(&server, Some(&jan), path).await,
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
            )
            .await;
            assert_eq!(message, "exports are for supervisors and admins");
            let res = get(&server, None, path).await;
            error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
        }

        // The team's admin exports as its supervisor does.
        let query = "?format=csv&form=home_visit";
        let (theirs, _) = export(&server, &aron, query).await;
        let (hers, _) = export(&server, &sabine, query).await;
        assert_eq!(theirs, hers);
        let text = String::from_utf8(hers).unwrap();
        assert!(text.contains(VISIT.1) && text.contains("Familie Ismailova"));

        // Another team's supervisor gets the headings and no row of this team, in any
        // format, even naming the team.
        for query in [query, "?format=csv&form=home_visit&team=Offenbach%20Nord"] {
            let (bytes, _) = export(&server, &zsofia, query).await;
            let text = String::from_utf8(bytes).unwrap();
            assert_eq!(text.lines().count(), 1, "{text}");
            assert!(text.starts_with("\u{feff}Formular-ID,Fall-ID,Haushalts-ID,Haushalt,"));
        }
        let (bytes, _) = export(&server, &zsofia, "").await;
        let mut book = workbook(bytes);
        for name in book.sheet_names() {
            assert_eq!(sheet(&mut book, &name).len(), 1, "{name}: headings only");
        }
        // Nor does she see the team's exports, while the team's admin does.
        let listed = exports(&server, &zsofia).await;
        assert!(listed.iter().all(|e| e.login == "zsofia.s"), "{listed:?}");
        assert_eq!(listed.len(), 3);
        let listed = exports(&server, &aron).await;
        assert_eq!(
            listed.iter().map(|e| e.login.as_str()).collect::<Vec<_>>(),
            ["sabine.s", "aron.a"],
            "{}",
            kind(&server)
        );

        // A supervisor of both teams: her export of both is listed to whoever belongs to
        // both (herself), not to a supervisor of one; her export of one team is listed to
        // that team.
        let lea = server
            .account("lea.s", Role::Supervisor, &[NORD, BUDAPEST])
            .await;
        export(&server, &lea, query).await;
        let logins = |listed: Vec<ExportEntry>| -> Vec<String> {
            listed.into_iter().map(|e| e.login).collect()
        };
        assert_eq!(logins(exports(&server, &lea).await)[0], "lea.s");
        assert!(!logins(exports(&server, &sabine).await).contains(&"lea.s".to_owned()));
        assert!(!logins(exports(&server, &zsofia).await).contains(&"lea.s".to_owned()));
        export(
            &server,
            &lea,
            "?format=csv&form=home_visit&team=Offenbach%20Nord",
        )
        .await;
        let seen = exports(&server, &sabine).await;
        assert_eq!(seen[0].login, "lea.s", "{}", kind(&server));
        assert_eq!(seen[0].filter.team.as_deref(), Some(NORD));
        assert_eq!(seen.iter().filter(|e| e.login == "lea.s").count(), 1);
        assert!(!logins(exports(&server, &zsofia).await).contains(&"lea.s".to_owned()));
    })
    .await;
}

#[tokio::test]
async fn csv_tables_are_the_fixtures_byte_for_byte() {
    on_both(|server| async move {
        let sabine = with_family(&server).await;

        let (bytes, headers) = export(&server, &sabine, "?format=csv&form=home_visit").await;
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        let today = cris_core::Date::from_days((cris_server::auth::now_ms() / 86_400_000) as i32);
        assert_eq!(
            headers["content-disposition"],
            format!("attachment; filename=\"cris-home_visit-de-{today}.csv\"")
        );
        assert_eq!(headers["cache-control"], "no-store");
        assert!(
            bytes.starts_with("\u{feff}".as_bytes()),
            "a byte order mark"
        );
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.ends_with("\r\n"));
        let text = normalised(&server, &sabine, text).await;
        check_fixture("export-home_visit.csv", &text);

        let (bytes, headers) = export(
            &server,
            &sabine,
            "?format=csv&form=home_visit&table=new_steps&lang=de",
        )
        .await;
        assert_eq!(
            headers["content-disposition"],
            format!("attachment; filename=\"cris-home_visit-new_steps-de-{today}.csv\"")
        );
        check_fixture(
            "export-home_visit-new_steps.csv",
            &String::from_utf8(bytes).unwrap(),
        );

        // Only the days asked for (received today, UTC), only the worker asked for.
        let (bytes, _) = export(
            &server,
            &sabine,
            &format!("?format=csv&form=home_visit&from={today}&to={today}&worker=ayse.w"),
        )
        .await;
        // Two visits, each with the household's id as its case's and as the one it is shown
        // with.
        assert_eq!(String::from_utf8(bytes).unwrap().matches(CASE).count(), 4);
        let yesterday = cris_core::Date::from_days(today.days() - 1);
        for query in [
            format!("?format=csv&form=home_visit&to={yesterday}"),
            "?format=csv&form=home_visit&worker=jan.w".to_owned(),
            "?format=csv&form=home_visit&team=Offenbach%20S%C3%BCd".to_owned(),
        ] {
            let (bytes, _) = export(&server, &sabine, &query).await;
            assert_eq!(
                String::from_utf8(bytes).unwrap().lines().count(),
                1,
                "{query}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn the_workbook_has_a_sheet_per_table_in_the_language_asked_for() {
    on_both(|server| async move {
        let sabine = with_family(&server).await;
        let (bytes, headers) = export(&server, &sabine, "?lang=tr").await;
        assert_eq!(
            headers["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert!(headers["content-disposition"].starts_with("attachment; filename=\"cris-export-"));
        let mut book = workbook(bytes);
        assert_eq!(
            book.sheet_names(),
            [
                "home_visit",
                "home_visit.children_attendance",
                "home_visit.step_progress",
                "home_visit.new_steps",
                "intake",
                "intake.members",
                "intake.children",
                "intake.plan_goals",
            ]
        );

        let visits = sheet(&mut book, "home_visit");
        assert_eq!(
            visits[0][..12],
            [
                "Form kimliği",
                "Vaka kimliği",
                "Hane kimliği",
                "Hane",
                "Vaka yöneticisi (kullanıcı adı)",
                "Ekip",
                "Geliş tarihi (UTC)",
                "Tamamlanma (UTC)",
                "Form sürümü",
                "İnceleme durumu",
                "Düzelttiği form (kimlik)",
                "Düzelten form (kimlik)",
            ]
        );
        assert_eq!(visits[0][12], "Ev ziyaretinin tarihi");
        assert!(visits[0].contains(&"Diğer notlar".to_owned()));
        assert_eq!(visits.len(), 3, "headings and two visits");
        let column = |name: &str| visits[0].iter().position(|h| h == name).unwrap();
        let (visit, fix) = (&visits[1], &visits[2]);
        assert_eq!(visit[0], VISIT.1);
        assert_eq!((visit[1].as_str(), visit[2].as_str()), (CASE, CASE));
        assert_eq!(
            (visit[3].as_str(), visit[4].as_str(), visit[5].as_str()),
            ("Familie Ismailova", "ayse.w", NORD)
        );
        assert_eq!(visit[7], "2026-11-24 17:00:00");
        assert_eq!(visit[8], "3");
        assert_eq!(
            (visit[9].as_str(), fix[9].as_str()),
            ("Düzeltildi", "Yeniden gönderildi")
        );
        assert_eq!((visit[11].as_str(), fix[10].as_str()), (FIX.1, VISIT.1));
        assert_eq!(
            visit[column("Ziyaretin amacı")],
            "Takip ziyareti, Okulla ilgili konu"
        );
        assert_eq!(
            visit[column("Ziyaret önceden haber verilmiş miydi?")],
            "Evet"
        );
        // Kept as the text it is: the workbook has no formula anywhere.
        assert_eq!(
            visit[column("Gelir ve sosyal yardımlar")],
            "=520 € Minijob seit 01.11."
        );
        for name in book.sheet_names() {
            let formulas = book.worksheet_formula(&name).unwrap();
            assert!(
                formulas.used_cells().all(|(_, _, f)| f.is_empty()),
                "{name}"
            );
        }

        // Repeat groups: a row per instance, linked to its visit by id and number.
        let steps = sheet(&mut book, "home_visit.new_steps");
        assert_eq!(
            steps[0],
            [
                "Form kimliği",
                "Kayıt no.",
                "Ne yapılacak?",
                "Kim yapacak?",
                "Ne zamana kadar?"
            ]
        );
        let linked: Vec<(&str, &str, &str)> = steps[1..]
            .iter()
            .map(|r| (r[0].as_str(), r[1].as_str(), r[3].as_str()))
            .collect();
        assert_eq!(
            linked,
            [
                (VISIT.1, "1", "Aile"),
                (VISIT.1, "2", "Vaka yöneticisi"),
                (FIX.1, "1", "Aile ve vaka yöneticisi birlikte"),
            ]
        );
        assert_eq!(steps[1][4], "2026-12-04");
        let attendance = sheet(&mut book, "home_visit.children_attendance");
        assert_eq!(
            attendance.len(),
            1 + 2,
            "one child at school, on each visit"
        );
        let members = sheet(&mut book, "intake.members");
        assert!(members[1..].iter().all(|r| r[0] == INTAKE.1));
        assert_eq!(sheet(&mut book, "intake")[1][3], "Familie Ismailova");

        // One form only: its sheets only.
        let (bytes, headers) = export(&server, &sabine, "?format=xlsx&form=intake").await;
        assert!(headers["content-disposition"].contains("cris-intake-"));
        let book = workbook(bytes);
        assert_eq!(
            book.sheet_names(),
            [
                "intake",
                "intake.members",
                "intake.children",
                "intake.plan_goals"
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn every_export_is_recorded_and_a_refused_one_is_not() {
    on_both(|server| async move {
        let sabine = with_family(&server).await;
        assert!(exports(&server, &sabine).await.is_empty());

        let before = cris_server::auth::now_ms();
        export(
            &server,
            &sabine,
            "?format=csv&form=home_visit&worker=ayse.w",
        )
        .await;
        let (bytes, _) = export(&server, &sabine, "?lang=en").await;
        let mut book = workbook(bytes);
        let rows: usize = book
            .sheet_names()
            .iter()
            .map(|name| sheet(&mut book, name).len() - 1)
            .sum();
        // A refused export leaves nothing behind.
        let res = get(&server, Some(&sabine), "/api/v1/export?format=csv").await;
        error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;

        let listed = exports(&server, &sabine).await;
        assert_eq!(listed.len(), 2, "{}", kind(&server));
        let (xlsx, csv) = (&listed[0], &listed[1]);
        assert_eq!(xlsx.format, ExportFormat::Xlsx, "newest first");
        assert_eq!(xlsx.rows, rows as i64);
        assert_eq!(xlsx.cases, 1);
        assert_eq!(xlsx.filter.lang, Some(Lang::En));
        assert_eq!(xlsx.filter.form, None);
        assert_eq!(csv.format, ExportFormat::Csv);
        assert_eq!((csv.rows, csv.cases), (2, 1));
        assert_eq!(csv.filter.form.as_deref(), Some("home_visit"));
        assert_eq!(csv.filter.worker.as_deref(), Some("ayse.w"));
        assert_eq!(csv.filter.lang, Some(Lang::De), "the language used");
        for entry in &listed {
            assert_eq!(
                (entry.login.as_str(), entry.display_name.as_str()),
                ("sabine.s", "sabine.s (test)")
            );
            assert!(entry.at_ms >= before && entry.at_ms <= cris_server::auth::now_ms());
        }
        assert!(xlsx.at_ms >= csv.at_ms);
    })
    .await;
}

#[tokio::test]
async fn bad_input_is_refused_saying_what_is_accepted() {
    on_both(|server| async move {
        let sabine = with_family(&server).await;
        for (query, said) in [
            ("format=pdf", "expected `xlsx` or `csv`"),
            ("format=csv", "a CSV file holds one table: name its form"),
            (
                "form=visits",
                "there is no form \"visits\": the forms are home_visit, intake",
            ),
            (
                "format=csv&form=home_visit&table=members",
                "the form \"home_visit\" has no repeat group \"members\"",
            ),
            (
                "format=xlsx&form=home_visit&table=new_steps",
                "table is for CSV files",
            ),
            ("lang=fr", "de, tr, bg, en, hu or sk"),
            ("from=2026-11-27&to=2026-11-26", "from is after to"),
            ("from=yesterday", "YYYY-MM-DD"),
            ("limit=5", "an export takes format (xlsx or csv), form"),
            ("%ff%fe=&&&", "an export takes format"),
        ] {
            let res = get(&server, Some(&sabine), &format!("/api/v1/export?{query}")).await;
            let message = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
            assert!(message.contains(said), "{query}: {message}");
        }
        assert!(
            exports(&server, &sabine).await.is_empty(),
            "{}",
            kind(&server)
        );
    })
    .await;
}

#[tokio::test]
async fn an_export_too_large_is_refused_before_it_is_made() {
    for postgres in [false, true] {
        let filled = support::filled(postgres, 200_001, "{}", NORD, CASE).await;
        let started = std::time::Instant::now();
        let message = error(
            filled.get("").await,
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
        )
        .await;
        assert!(
            message.contains("200001 forms, more than the 200000")
                && message
                    .contains("narrow it by the days received (from, to), team, worker or form"),
            "{message}"
        );
        // Counted, not read: the operations here are not even forms.
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        // Narrowed, it is made (none of these was received after the first day of 1970).
        let res = filled
            .get("?format=csv&form=home_visit&from=1970-01-02")
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.text().await.unwrap().lines().count(), 1);
    }
}

/// The supervisor's laptop, which merges households.
const LAPTOP: &str = "0192b3c4-0000-7000-8000-00000000d0c1";
const PHONE_B: &str = "0192b3c4-0000-7000-8000-00000000d00b";

/// The first four cells of a submission's row in a CSV table: its id, its case's, the
/// household's it is shown with, and that household's name.
fn leading(csv: &str, submission_id: &str) -> Vec<String> {
    let row = csv
        .split("\r\n")
        .find(|row| row.starts_with(submission_id))
        .unwrap_or_else(|| panic!("no row of {submission_id}"));
    row.splitn(5, ',').take(4).map(str::to_owned).collect()
}

#[tokio::test]
async fn a_form_of_a_merged_household_is_shown_with_the_household_it_joined() {
    use cris_core::record::Change;
    on_both(|server| async move {
        let k = kind(&server);
        let sabine = with_family(&server).await;
        let jan = server.account("jan.w", Role::Worker, &[NORD]).await;
        // Jan met the family too, offline, and recorded them again a day after the correction,
        // under the name the father gave, with a visit.
        let other = support::new_uuid();
        let day = 86_400_000;
        let named = [("household_name", "Familie Ismailov")];
        let intake = submit_op("intake", &other, PHONE_B, FIX_MS + day, &named, &[]);
        let visit = submit_op("home_visit", &other, PHONE_B, FIX_MS + day, VISITED, &[]);
        let visit_id = visit.submission().unwrap().id.clone();
        push(&server, &jan, &[intake, visit]).await;
        let csv = || async {
            let (bytes, _) = export(&server, &sabine, "?format=csv&form=home_visit").await;
            String::from_utf8(bytes).unwrap()
        };
        let family = ["Familie Ismailova", "Familie Ismailov"];

        // Two households, each form shown with its own.
        let text = csv().await;
        assert_eq!(
            leading(&text, &visit_id),
            [&visit_id, &other, &other, family[1]],
            "{k}"
        );
        assert_eq!(leading(&text, VISIT.1), [VISIT.1, CASE, CASE, family[0]]);

        // Merged into the family's household: Jan's visit stays his household's form, shown
        // with the family's household, whose name is now the later of the two.
        let merge = support::link_op(&other, LAPTOP, Change::Merge { into: CASE.into() });
        push(&server, &sabine, std::slice::from_ref(&merge)).await;
        let text = csv().await;
        assert_eq!(
            leading(&text, &visit_id),
            [&visit_id, &other, CASE, family[1]],
            "{k}"
        );
        assert_eq!(leading(&text, VISIT.1), [VISIT.1, CASE, CASE, family[1]]);
        let (bytes, _) = export(&server, &sabine, "?lang=en").await;
        let mut book = workbook(bytes);
        let intakes = sheet(&mut book, "intake");
        assert_eq!(
            intakes[0][..4],
            ["Submission ID", "Case ID", "Household ID", "Household"]
        );
        let shown: Vec<(&str, &str)> = intakes[1..]
            .iter()
            .map(|r| (r[2].as_str(), r[3].as_str()))
            .collect();
        assert_eq!(shown, [(CASE, family[1]), (CASE, family[1])], "{k}");

        // Taken back: each its own again.
        let undo = Change::Unmerge {
            merge: merge.op_id.clone(),
        };
        push(&server, &sabine, &[support::link_op(&other, LAPTOP, undo)]).await;
        let text = csv().await;
        assert_eq!(
            leading(&text, &visit_id),
            [&visit_id, &other, &other, family[1]],
            "{k}"
        );
        assert_eq!(leading(&text, VISIT.1), [VISIT.1, CASE, CASE, family[0]]);

        // The exports counted the households as shown: two, one (the workbook too), two.
        let counted: Vec<(i64, i64)> = exports(&server, &sabine)
            .await
            .iter()
            .map(|e| (e.rows, e.cases))
            .collect();
        let workbook_rows = counted[1].0;
        assert_eq!(
            counted,
            [(3, 2), (workbook_rows, 1), (3, 1), (3, 2)],
            "newest first, on {k}"
        );
    })
    .await;
}

/// A downloaded file says what it holds: the form, the language, the team, the worker and the
/// days; the report author tells two files apart without opening them.
#[tokio::test]
async fn file_names_say_the_language_and_the_filters() {
    let server = TestServer::sqlite().await;
    let sabine = with_family(&server).await;
    let today = cris_core::Date::from_days((cris_server::auth::now_ms() / 86_400_000) as i32);
    for (query, name) in [
        (
            "?format=csv&form=home_visit&lang=tr".to_owned(),
            format!("cris-home_visit-tr-{today}.csv"),
        ),
        (
            "?format=csv&form=home_visit&worker=ayse.w&lang=en".to_owned(),
            format!("cris-home_visit-en-ayse.w-{today}.csv"),
        ),
        (
            "?team=Offenbach%20Nord&from=2026-11-01&to=2026-11-30&lang=hu".to_owned(),
            format!("cris-export-hu-Offenbach_Nord-2026-11-01_2026-11-30-{today}.xlsx"),
        ),
        (
            "?form=intake&from=2026-11-01".to_owned(),
            format!("cris-intake-de-from_2026-11-01-{today}.xlsx"),
        ),
    ] {
        let (_, headers) = export(&server, &sabine, &query).await;
        assert_eq!(
            headers["content-disposition"],
            format!("attachment; filename=\"{name}\""),
            "{query}"
        );
    }
}
