//! Exports over real HTTP, on SQLite and on PostgreSQL: supervisors and admins take their
//! teams' submissions out as CSV (one table) or XLSX (a sheet per form and repeat group, named
//! by its title), in the language asked for, with times on the agency's clocks (real dates in
//! a workbook) and CSV files separated as the language's spreadsheets read them; workers and
//! other teams get nothing; every export is recorded, and one refused records nothing.
//!
//! The fixture is an invented family (the Ismailovs of the shipped intake example): their
//! intake, and two home visits with new steps agreed, the second correcting the first after
//! the supervisor sent it back. Its CSV tables are compared byte for byte with
//! `tests/data/export-*.csv` (the server's time of receipt, which is the real clock's, written
//! as `(received)`); `CRIS_UPDATE_FIXTURES=1` writes them anew.

use std::collections::HashMap;

use crate::support::{
    LAPTOP, PHONE_A, PHONE_B, TestServer, error, get, kind, on_both, push_applied as push,
    submit_op,
};
use calamine::{Data, Reader, Xlsx};
use cris_core::api::{ErrorCode, ExportEntry, ExportFormat, ExportList, ReviewPage, Role};
use cris_core::form::Answers;
use cris_core::lang::Lang;
use cris_core::record::Operation;
use cris_server::TimeZone;
use reqwest::StatusCode;
use serde_json::json;

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
    crate::support::submission_mut(&mut op).id = submission_id.into();
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
    let answers = &mut crate::support::submission_mut(op).answers;
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
    crate::support::submission_mut(&mut fix).corrects = Some(cris_core::record::Correction {
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
        let local = TimeZone::BERLIN.local(item.received_at_ms);
        text.replace(&local.to_string(), "(received)")
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

/// A sheet's rows as text, dates and times as ISO 8601 (`2026-11-24 18:00`, `2026-11-24`,
/// `15:30`).
fn sheet(book: &mut Xlsx<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<String>> {
    book.worksheet_range(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .rows()
        .map(|row| row.iter().map(text_of).collect())
        .collect()
}

fn text_of(cell: &Data) -> String {
    match cell {
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, _, _) = dt.to_ymd_hms_milli();
            let serial = dt.as_f64();
            if serial < 1.0 {
                format!("{h:02}:{mi:02}")
            } else if serial.fract() == 0.0 {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
            }
        }
        other => other.to_string(),
    }
}

/// A CSV file's rows, its fields separated by `separator` and unquoted as RFC 4180 has it.
fn parse_csv(text: &str, separator: char) -> Vec<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == separator && !quoted => row.push(std::mem::take(&mut field)),
            '\r' if !quoted && chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            c => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the file ends with CRLF"
    );
    rows
}

/// The place of the column headed `heading`.
fn column(headings: &[String], heading: &str) -> usize {
    headings
        .iter()
        .position(|h| h == heading)
        .unwrap_or_else(|| panic!("no column {heading:?} in {headings:?}"))
}

/// Whether a text is shaped as a UUID (`0193a1b2-0000-7000-8000-0000000002b1`).
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The sheets of the shipped forms in Turkish: their titles, cut to 31 characters.
const TURKISH_SHEETS: [&str; 8] = [
    "Ev ziyareti",
    "Ev ziyareti – Okul çağındaki ç…",
    "Ev ziyareti – Kararlaştırılan…",
    "Ev ziyareti – Yeni kararlaştır…",
    "İlk görüşme",
    "İlk görüşme – Hanedeki kişiler",
    "İlk görüşme – Hanedeki çocuklar",
    "İlk görüşme – Hedefler",
];

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
            assert!(
                text.starts_with("\u{feff}Haushalt;Fachkraft (Login);Fachkraft (Name);Team;"),
                "{text}"
            );
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
        let today = today();
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

        // Only the days asked for (received today, in the server's time zone), only the worker asked for.
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
        assert_eq!(book.sheet_names(), TURKISH_SHEETS);

        let visits = sheet(&mut book, "Ev ziyareti");
        let headings = &visits[0];
        assert_eq!(
            headings[..8],
            [
                "Hane",
                "Vaka yöneticisi (kullanıcı adı)",
                "Vaka yöneticisi (adı soyadı)",
                "Ekip",
                "Geliş tarihi (Europe/Berlin)",
                "Tamamlanma (Europe/Berlin)",
                "Form sürümü",
                "İnceleme durumu",
            ]
        );
        assert_eq!(headings[8], "Ev ziyaretinin tarihi");
        assert!(headings.contains(&"Diğer notlar".to_owned()));
        // The ids come last, after the answers.
        let ids = headings.len() - 5;
        assert_eq!(
            headings[ids..],
            [
                "Form kimliği",
                "Vaka kimliği",
                "Hane kimliği",
                "Düzelttiği form (kimlik)",
                "Düzelten form (kimlik)",
            ]
        );
        assert_eq!(visits.len(), 3, "headings and two visits");
        let at = |name: &str| column(headings, name);
        let (visit, fix) = (&visits[1], &visits[2]);
        assert_eq!(
            visit[..4],
            ["Familie Ismailova", "ayse.w", "ayse.w (test)", NORD]
        );
        // Finalized at 17:00 UTC in November: 18:00 in Berlin.
        assert_eq!(visit[5], "2026-11-24 18:00");
        assert_eq!(visit[6], "3");
        assert_eq!(
            (visit[7].as_str(), fix[7].as_str()),
            ("Düzeltildi", "Yeniden gönderildi")
        );
        assert_eq!(visit[ids..ids + 3], [VISIT.1, CASE, CASE]);
        assert_eq!(
            (visit[ids + 4].as_str(), fix[ids + 3].as_str()),
            (FIX.1, VISIT.1)
        );
        for row in &visits[1..] {
            assert!(
                row[..ids].iter().all(|cell| !is_uuid(cell)),
                "no id before the answers end: {row:?}"
            );
        }
        assert_eq!(
            visit[at("Ziyaretin amacı")],
            "Takip ziyareti, Okulla ilgili konu"
        );
        assert_eq!(visit[at("Ziyaret önceden haber verilmiş miydi?")], "Evet");
        // A date field's answer is a date, a time field's a time of day.
        assert_eq!(visit[at("Ev ziyaretinin tarihi")], "2026-11-24");
        assert_eq!(visit[at("Başlangıç saati")], "15:30");
        // Kept as the text it is: the workbook has no formula anywhere.
        assert_eq!(
            visit[at("Gelir ve sosyal yardımlar")],
            "=520 € Minijob seit 01.11."
        );
        for name in book.sheet_names() {
            let formulas = book.worksheet_formula(&name).unwrap();
            assert!(
                formulas.used_cells().all(|(_, _, f)| f.is_empty()),
                "{name}"
            );
        }

        // Repeat groups: a row per instance, its number first and its visit's id last.
        let steps = sheet(&mut book, TURKISH_SHEETS[3]);
        assert_eq!(
            steps[0],
            [
                "Kayıt no.",
                "Ne yapılacak?",
                "Kim yapacak?",
                "Ne zamana kadar?",
                "Form kimliği",
            ]
        );
        let linked: Vec<(&str, &str, &str)> = steps[1..]
            .iter()
            .map(|r| (r[4].as_str(), r[0].as_str(), r[2].as_str()))
            .collect();
        assert_eq!(
            linked,
            [
                (VISIT.1, "1", "Aile"),
                (VISIT.1, "2", "Vaka yöneticisi"),
                (FIX.1, "1", "Aile ve vaka yöneticisi birlikte"),
            ]
        );
        assert_eq!(steps[1][3], "2026-12-04");
        let attendance = sheet(&mut book, TURKISH_SHEETS[1]);
        assert_eq!(
            attendance.len(),
            1 + 2,
            "one child at school, on each visit"
        );
        let members = sheet(&mut book, TURKISH_SHEETS[5]);
        assert!(
            members[1..]
                .iter()
                .all(|r| r.last() == Some(&INTAKE.1.to_owned()))
        );
        assert_eq!(sheet(&mut book, "İlk görüşme")[1][0], "Familie Ismailova");

        // One form only: its sheets only.
        let (bytes, headers) = export(&server, &sabine, "?format=xlsx&form=intake").await;
        assert!(headers["content-disposition"].contains("cris-intake-"));
        let book = workbook(bytes);
        assert_eq!(
            book.sheet_names(),
            [
                "Erstgespräch",
                "Erstgespräch – Personen im Hau…",
                "Erstgespräch – Kinder im Haush…",
                "Erstgespräch – Ziele",
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
            (
                "format=csv&form=home_visit&delimiter=tab",
                "delimiter: unknown variant `tab`, expected `comma` or `semicolon`",
            ),
            (
                "format=csv&form=home_visit&delimiter=tab",
                "delimiter (for csv: comma or semicolon)",
            ),
            ("delimiter=semicolon", "delimiter is for CSV files"),
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

/// 2026-07-15 10:20 UTC, in Berlin's summer time (12:20), and 2026-01-20 07:45 UTC, in its
/// winter time (08:45).
const SUMMER_MS: i64 = 1_784_110_800_000;
const WINTER_MS: i64 = 1_768_895_100_000;
const MINUTE_MS: i64 = 60_000;

/// Sets when the server received a submission, as if it had arrived then (the server's clock
/// cannot be set).
async fn received_at(server: &TestServer, submission_id: &str, ms: i64) {
    let sql = "UPDATE submissions SET received_ms = $1 WHERE id = $2";
    if let Some(path) = server.sqlite_path() {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let done = sqlx::query(sql).bind(ms).bind(submission_id);
        assert_eq!(done.execute(&pool).await.unwrap().rows_affected(), 1);
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(server.pg_url().unwrap())
            .await
            .unwrap();
        let done = sqlx::query(sql).bind(ms).bind(submission_id);
        assert_eq!(done.execute(&pool).await.unwrap().rows_affected(), 1);
        pool.close().await;
    }
}

/// The serial number a spreadsheet keeps for a day and a time of it (days since 1899-12-30).
fn serial(day: &str, hour: u32, minute: u32) -> f64 {
    let day: cris_core::Date = day.parse().unwrap();
    f64::from(day.days() + 25_569) + f64::from(hour * 60 + minute) / 1440.0
}

/// Another server on `server`'s store, in the time zone `zone`: its address.
async fn in_zone(server: &TestServer, zone: TimeZone) -> cris_server::ServerHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut state = cris_server::AppState::new(
        server.store.clone(),
        crate::support::no_app(),
        cris_server::FormCatalog::embedded().unwrap(),
        cris_server::ConsentConfig::demo(),
        Default::default(),
    );
    state.time_zone = zone;
    cris_server::spawn(listener, state).unwrap()
}

#[tokio::test]
async fn times_are_dates_on_the_agencys_clocks() {
    on_both(|server| async move {
        let k = kind(&server);
        let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
        let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
        // Two intakes finalized on the phone in summer and in winter, received five minutes
        // later.
        let mut ids = Vec::new();
        for at in [SUMMER_MS, WINTER_MS] {
            let case = crate::support::new_uuid();
            let op = submit_op("intake", &case, PHONE_A, at as u64, &[], &[]);
            ids.push(op.submission().unwrap().id.clone());
            push(&server, &ayse, &[op]).await;
        }
        received_at(&server, &ids[0], SUMMER_MS + 5 * MINUTE_MS).await;
        received_at(&server, &ids[1], WINTER_MS + 5 * MINUTE_MS).await;

        // In the workbook: dates (numbers with a date format) on Berlin's clocks, +2 h in
        // summer and +1 h in winter; oldest received first.
        let (bytes, _) = export(&server, &sabine, "?form=intake&lang=en").await;
        let mut book = workbook(bytes);
        let range = book.worksheet_range("Intake").unwrap();
        let headings: Vec<String> = range.rows().next().unwrap().iter().map(text_of).collect();
        assert_eq!(
            headings[1..6],
            [
                "Worker (login)",
                "Worker (name)",
                "Team",
                "Received (Europe/Berlin)",
                "Finalized (Europe/Berlin)",
            ]
        );
        for (row, received, finalized) in [
            (1, ("2026-01-20", 8, 50), ("2026-01-20", 8, 45)),
            (2, ("2026-07-15", 12, 25), ("2026-07-15", 12, 20)),
        ] {
            for (col, (day, hour, minute)) in [(4, received), (5, finalized)] {
                match range.get((row, col)) {
                    Some(Data::DateTime(date)) => {
                        assert!(date.is_datetime(), "{k}");
                        let want = serial(day, hour, minute);
                        assert!((date.as_f64() - want).abs() < 1e-6, "{k}: {date} {want}");
                    }
                    other => panic!("not a date at ({row}, {col}) on {k}: {other:?}"),
                }
            }
        }
        // A date field's answer is a date too (no time, no zone).
        let arrived = column(&headings, "Date of arrival in Germany");
        assert!(
            matches!(range.get((1, arrived)), Some(Data::DateTime(d)) if d.as_f64().fract() == 0.0),
            "{:?}",
            range.get((1, arrived))
        );

        // In a CSV file: text, to the minute, the heading naming the zone.
        let (bytes, _) = export(&server, &sabine, "?format=csv&form=intake&lang=en").await;
        let rows = parse_csv(&String::from_utf8(bytes).unwrap(), ',');
        let (received, finalized) = (
            column(&rows[0], "Received (Europe/Berlin)"),
            column(&rows[0], "Finalized (Europe/Berlin)"),
        );
        let times: Vec<(&str, &str)> = rows[1..]
            .iter()
            .map(|r| (r[received].as_str(), r[finalized].as_str()))
            .collect();
        assert_eq!(
            times,
            [
                ("2026-01-20 08:50", "2026-01-20 08:45"),
                ("2026-07-15 12:25", "2026-07-15 12:20"),
            ],
            "{k}"
        );

        // Days filter on the same clocks: received at 23:30 UTC on 20 January is the 21st
        // in Berlin, and in an export of the 21st (not of the 20th).
        let late = crate::support::new_uuid();
        let op = submit_op("intake", &late, PHONE_A, WINTER_MS as u64, &[], &[]);
        let late_id = op.submission().unwrap().id.clone();
        push(&server, &ayse, &[op]).await;
        let night = WINTER_MS - (7 * 60 + 45) * MINUTE_MS + (23 * 60 + 30) * MINUTE_MS;
        received_at(&server, &late_id, night).await;
        let day_of = |query: &'static str| {
            let (server, sabine) = (&server, &sabine);
            async move {
                let (bytes, _) = export(server, sabine, query).await;
                let rows = parse_csv(&String::from_utf8(bytes).unwrap(), ',');
                let at = column(&rows[0], "Received (Europe/Berlin)");
                rows[1..].iter().map(|r| r[at].clone()).collect::<Vec<_>>()
            }
        };
        assert_eq!(
            day_of("?format=csv&form=intake&lang=en&from=2026-01-21&to=2026-01-21").await,
            ["2026-01-21 00:30"],
            "{k}"
        );
        assert_eq!(
            day_of("?format=csv&form=intake&lang=en&from=2026-01-20&to=2026-01-20").await,
            ["2026-01-20 08:50"],
            "{k}"
        );

        // An agency that set its server to UTC gets UTC.
        let utc = in_zone(&server, TimeZone::UTC).await;
        let res = server
            .client
            .get(format!(
                "http://{}/api/v1/export?format=csv&form=intake&lang=de",
                utc.addr()
            ))
            .bearer_auth(&sabine)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let rows = parse_csv(&res.text().await.unwrap(), ';');
        let received = column(&rows[0], "Eingegangen (UTC)");
        assert_eq!(rows[2][received], "2026-01-20 23:30", "{k}");
        assert_eq!(rows[3][received], "2026-07-15 10:25", "{k}");
        utc.shutdown().await.unwrap();
    })
    .await;
}

/// The shipped forms, the home visit adapted as version 4 with a decimal field: the distance
/// travelled to the family, in kilometres.
fn with_distance() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../forms");
    std::fs::copy(
        format!("{root}/intake.json"),
        dir.path().join("intake.json"),
    )
    .unwrap();
    let text = std::fs::read_to_string(format!("{root}/home_visit.json")).unwrap();
    let mut form: serde_json::Value = serde_json::from_str(&text).unwrap();
    form["version"] = json!(4);
    form["fields"].as_array_mut().unwrap().push(json!({
        "name": "distance_km",
        "type": "decimal",
        "label": {
            "de": "Fahrtstrecke (km)", "tr": "Yol (km)", "bg": "Разстояние (км)",
            "en": "Distance travelled (km)", "hu": "Megtett út (km)",
            "sk": "Prejdená vzdialenosť (km)"
        }
    }));
    std::fs::write(dir.path().join("home_visit.json"), form.to_string()).unwrap();
    dir
}

#[tokio::test]
async fn csv_files_are_separated_as_the_languages_spreadsheets_read_them() {
    use cris_server::FormCatalog;
    on_both(|server| async move {
        let k = kind(&server);
        let sabine = with_family(&server).await;
        // The store holds the version served so far, as a server started with it does.
        FormCatalog::embedded()
            .unwrap()
            .remember_in(&server.store, 1)
            .await
            .unwrap();
        let forms = with_distance();
        let forms = FormCatalog::from_dir(forms.path())
            .unwrap()
            .remember_in(&server.store, cris_server::auth::now_ms())
            .await
            .unwrap();
        let adapted = server.sharing_store(forms).await;
        // Jan visits another family in the new version, 12.5 km away.
        let jan = server.account("jan.w", Role::Worker, &[NORD]).await;
        let case = crate::support::new_uuid();
        let intake = submit_op("intake", &case, PHONE_B, FIX_MS, &[], &[]);
        let mut visit = submit_op(
            "home_visit",
            &case,
            PHONE_B,
            FIX_MS,
            &[("distance_km", "12.5")],
            &[],
        );
        crate::support::submission_mut(&mut visit).form_version = 4;
        let visit_id = visit.submission().unwrap().id.clone();
        push(&adapted, &jan, &[intake, visit]).await;

        let csv = |query: &'static str| {
            let adapted = &adapted;
            let sabine = &sabine;
            async move {
                let (bytes, _) = export(adapted, sabine, query).await;
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.starts_with('\u{feff}'), "a byte order mark: {query}");
                text
            }
        };
        // The distance of Jan's visit, by the separator that splits the file's rows.
        let distance = |text: &str, separator: char| {
            let rows = parse_csv(text, separator);
            assert!(
                rows.iter().all(|r| r.len() == rows[0].len()),
                "every row in the columns of the headings, on {k}"
            );
            // The new field is the last answer, right before the five ids.
            let (answer, id) = (rows[0].len() - 6, rows[0].len() - 5);
            let row = rows[1..].iter().find(|r| r[id] == visit_id).unwrap();
            row[answer].clone()
        };

        // German: a double click opens it in columns (";"), the decimals by comma.
        let german = csv("?format=csv&form=home_visit").await;
        let headings = german.lines().next().unwrap();
        let rows = parse_csv(&german, ';');
        assert_eq!(headings.split(';').count(), rows[0].len(), "{headings}");
        assert_eq!(rows[0][rows[0].len() - 6], "Fahrtstrecke (km)");
        assert_eq!(distance(&german, ';'), "12,5", "{k}");
        let steps = csv("?format=csv&form=home_visit&table=new_steps").await;
        let first = steps.lines().nth(1).unwrap();
        assert_eq!(first.split(';').count(), 5, "{first}");
        assert!(first.starts_with("1;Schulbescheinigung abholen, an die Familienkasse"));
        for (query, separator, number) in [
            ("?format=csv&form=home_visit&lang=hu", ';', "12,5"),
            ("?format=csv&form=home_visit&lang=sk", ';', "12,5"),
            ("?format=csv&form=home_visit&lang=bg", ';', "12,5"),
            ("?format=csv&form=home_visit&lang=tr", ';', "12,5"),
            // English: commas and a decimal point.
            ("?format=csv&form=home_visit&lang=en", ',', "12.5"),
            // The separator asked for, with its decimal mark.
            ("?format=csv&form=home_visit&delimiter=comma", ',', "12.5"),
            (
                "?format=csv&form=home_visit&lang=en&delimiter=semicolon",
                ';',
                "12,5",
            ),
        ] {
            let text = csv(query).await;
            assert_eq!(distance(&text, separator), number, "{query} on {k}");
        }
        let english = csv("?format=csv&form=home_visit&lang=en").await;
        assert!(
            english.starts_with(
                "\u{feff}Household,Worker (login),Worker (name),Team,Received (Europe/Berlin),"
            ),
            "{english}"
        );

        // The workbook holds the number as a number.
        let (bytes, _) = export(&adapted, &sabine, "?form=home_visit&lang=en").await;
        let mut book = workbook(bytes);
        let range = book.worksheet_range("Home visit").unwrap();
        let width = range.width();
        let row = range
            .rows()
            .find(|r| r[width - 5] == Data::String(visit_id.clone()))
            .unwrap();
        assert_eq!(row[width - 6], Data::Float(12.5), "{k}");
    })
    .await;
}

#[tokio::test]
async fn an_export_too_large_is_refused_before_it_is_made() {
    for postgres in [false, true] {
        let filled = crate::support::filled(postgres, 200_001, "{}", NORD, CASE).await;
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

/// Where a submission's row in a German CSV table says it stands: its id, its case's, the
/// household's it is shown with, and that household's name.
fn leading(csv: &str, submission_id: &str) -> Vec<String> {
    let rows = parse_csv(csv, ';');
    let at = |heading: &str| column(&rows[0], heading);
    let places = [
        at("Formular-ID"),
        at("Fall-ID"),
        at("Haushalts-ID"),
        at("Haushalt"),
    ];
    let row = rows[1..]
        .iter()
        .find(|row| row[places[0]] == submission_id)
        .unwrap_or_else(|| panic!("no row of {submission_id}"));
    places.iter().map(|&i| row[i].clone()).collect()
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
        let other = crate::support::new_uuid();
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
        let merge = crate::support::link_op(&other, LAPTOP, Change::Merge { into: CASE.into() });
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
        let intakes = sheet(&mut book, "Intake");
        let (household, name) = (
            column(&intakes[0], "Household ID"),
            column(&intakes[0], "Household"),
        );
        assert_eq!(name, 0);
        let shown: Vec<(&str, &str)> = intakes[1..]
            .iter()
            .map(|r| (r[household].as_str(), r[name].as_str()))
            .collect();
        assert_eq!(shown, [(CASE, family[1]), (CASE, family[1])], "{k}");

        // Taken back: each its own again.
        let undo = Change::Unmerge {
            merge: merge.op_id.clone(),
        };
        push(
            &server,
            &sabine,
            &[crate::support::link_op(&other, LAPTOP, undo)],
        )
        .await;
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
    let today = today();
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

/// Today as the server names files and reads days: in its time zone (Berlin, unless set), not
/// in UTC, which differs around midnight.
fn today() -> cris_core::Date {
    cris_server::TimeZone::default().day_of(cris_server::auth::now_ms())
}

/// The headings of a CSV export's first line.
fn headings(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or_default();
    first.split(';').map(str::to_owned).collect()
}

#[tokio::test]
async fn health_fields_leave_only_with_an_admin_who_asks_for_them() {
    on_both(|server| async move {
        let sabine = with_family(&server).await;
        let aron = server.account("aron.a", Role::Admin, &[NORD]).await;
        let health = "Gesundheit".to_owned();
        let visits = "?format=csv&form=home_visit";

        // Nobody's export holds the fields marked sensitive unless asked for.
        for token in [&sabine, &aron] {
            let (bytes, _) = export(&server, token, visits).await;
            let shown = headings(&bytes);
            assert!(shown.contains(&"Wohnsituation".to_owned()), "{shown:?}");
            assert!(!shown.contains(&health), "{shown:?} on {}", kind(&server));
        }
        // The intake's health field, on the workbook's sheets: only when asked for.
        let intake_headings = |bytes: Vec<u8>| {
            let mut book = workbook(bytes);
            let names = book.sheet_names().to_vec();
            names
                .iter()
                .flat_map(|name| sheet(&mut book, name).into_iter().take(1).flatten())
                .collect::<Vec<String>>()
        };
        let limits = "Gesundheitliche Einschränkungen bei der Arbeit".to_owned();
        let (bytes, _) = export(&server, &aron, "?form=intake").await;
        assert!(!intake_headings(bytes).contains(&limits));
        let (bytes, _) = export(&server, &aron, "?form=intake&sensitive=true").await;
        assert!(intake_headings(bytes).contains(&limits));

        // A supervisor who asks is refused, and nothing is recorded.
        let before = exports(&server, &sabine).await.len();
        let res = get(
            &server,
            Some(&sabine),
            &format!("/api/v1/export{visits}&sensitive=true"),
        )
        .await;
        let message = error(res, StatusCode::FORBIDDEN, ErrorCode::Forbidden).await;
        assert!(message.contains("admins only"), "{message}");
        assert_eq!(exports(&server, &sabine).await.len(), before);

        // An admin who asks gets them, and the export's record says so.
        let (bytes, _) = export(&server, &aron, &format!("{visits}&sensitive=true")).await;
        assert!(headings(&bytes).contains(&health), "{:?}", headings(&bytes));
        let recorded = exports(&server, &aron).await;
        let newest = recorded.first().expect("the admin's export");
        assert_eq!(newest.login, "aron.a");
        assert!(newest.filter.sensitive, "{:?}", newest.filter);
        let asked: Vec<bool> = recorded
            .iter()
            .filter(|e| e.login == "aron.a")
            .map(|e| e.filter.sensitive)
            .collect();
        assert_eq!(asked, [true, true, false, false], "newest first");
    })
    .await;
}
