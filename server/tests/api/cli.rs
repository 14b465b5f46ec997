//! The `cris-server` binary as an operator runs it: settings from flags and environment,
//! the database created where asked, a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The child's standard output, line by line, read on a thread of its own.
fn output_lines(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// `cris-server serve` on a free port, its settings from the environment, logging at info.
fn serve_on(database_url: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .arg("serve")
        .env("CRIS_ADDR", "127.0.0.1:0")
        .env("CRIS_DATABASE_URL", database_url)
        .env("CRIS_TIME_ZONE", "Europe/Budapest")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn serve_takes_its_settings_from_the_environment_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("store/cris.db");
    let mut child = serve_on(&format!("sqlite://{}", db.display()));

    // The first line naming the address tells us where it listens.
    let rx = output_lines(&mut child);
    let mut log = Vec::new();
    let url = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no start line; log so far: {log:#?}"));
        if let Some(at) = line.find("http://") {
            assert!(line.contains("time_zone=Europe/Budapest"), "{line}");
            break line[at..].split_whitespace().next().unwrap().to_owned();
        }
        log.push(line);
    };
    let opened = log
        .iter()
        .find(|l| l.contains("case store opened"))
        .unwrap_or_else(|| panic!("the start names its store: {log:#?}"));
    assert!(
        opened.contains("sqlite ") && opened.contains("store/cris.db"),
        "{opened}"
    );
    assert!(
        db.exists(),
        "the database file is created at the configured path"
    );

    let health = reqwest::get(format!("{url}/api/health")).await.unwrap();
    assert_eq!(health.status(), 200);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    // Everything it wrote, to the end: the reader may not have passed on its last line yet.
    let rest: Vec<String> = rx.iter().collect();
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:#?}");
}

#[test]
fn a_bad_database_url_fails_with_a_clear_message_and_no_secret() {
    let out = Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(["--database-url", "mysql://root:hunter2@localhost/cris"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("unsupported database URL scheme \"mysql\""),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn flags_are_checked() {
    let out = Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .args(["serve", "--addr", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--addr"));
}

#[test]
fn an_unknown_time_zone_stops_the_start_and_names_the_known_ones() {
    for (flag, env) in [(Some("Europe/Paris"), None), (None, Some("Europe/Paris"))] {
        let mut serve = Command::new(env!("CARGO_BIN_EXE_cris-server"));
        serve.args(["serve", "--addr", "127.0.0.1:0"]);
        if let Some(zone) = flag {
            serve.args(["--time-zone", zone]);
        }
        if let Some(zone) = env {
            serve.env("CRIS_TIME_ZONE", zone);
        }
        let out = serve.output().unwrap();
        assert!(!out.status.success());
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains("--time-zone")
                && text.contains(
                    "unknown time zone \"Europe/Paris\": the server knows Europe/Berlin, \
                     Europe/Budapest, Europe/Bratislava"
                ),
            "{text}"
        );
    }
}

#[test]
fn a_broken_form_stops_the_start_and_names_the_file() {
    let forms = tempfile::tempdir().unwrap();
    let intake =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../forms/intake.json"))
            .unwrap();
    std::fs::write(
        forms.path().join("intake.json"),
        intake.replacen("\"required\": true", "\"required\": \"yes\"", 1),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .arg("--forms-dir")
        .arg(forms.path())
        .env(
            "CRIS_DATABASE_URL",
            format!("sqlite://{}/cris.db", data.path().display()),
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("form file intake.json: invalid type"),
        "{text}"
    );
}

/// `cris-server serve` with `args`, expected to stop at start: its output.
fn failed_start(args: &[&std::ffi::OsStr]) -> String {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .env(
            "CRIS_DATABASE_URL",
            format!("sqlite://{}/cris.db", data.path().display()),
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_agency_file_without_a_detail_stops_the_start_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agency.json");
    let mut agency = cris_server::consent::demo_agency();
    agency.remove("retention");
    std::fs::write(&file, serde_json::to_string(&agency).unwrap()).unwrap();
    let text = failed_start(&["--agency".as_ref(), file.as_os_str()]);
    assert!(
        text.contains(&format!(
            "agency file {}: no text for \"retention\"",
            file.display()
        )),
        "{text}"
    );
}

#[test]
fn a_broken_consent_text_stops_the_start_and_names_the_file() {
    let forms = tempfile::tempdir().unwrap();
    std::fs::create_dir(forms.path().join("consent")).unwrap();
    for form in ["intake", "home_visit"] {
        std::fs::copy(
            format!("{}/../forms/{form}.json", env!("CARGO_MANIFEST_DIR")),
            forms.path().join(format!("{form}.json")),
        )
        .unwrap();
    }
    let file = forms.path().join("consent/notice.v2.json");
    std::fs::write(&file, "{\"id\": \"notice\", \"version\": 2}").unwrap();
    let text = failed_start(&[
        "--demo".as_ref(),
        "--forms-dir".as_ref(),
        forms.path().as_os_str(),
    ]);
    assert!(
        text.contains(&format!(
            "consent text file {}: not a consent text",
            file.display()
        )),
        "{text}"
    );
}

/// Runs `cris-server user …` on `db`, with `stdin` as standard input; (success, output).
fn user_cmd(db: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String) {
    let args: Vec<&str> = std::iter::once("user")
        .chain(args.iter().copied())
        .collect();
    crate::support::process::cli(&format!("sqlite://{}", db.display()), &args, stdin)
}

/// Runs `cris-server device …` on `db`; (success, output).
fn device_cmd(db: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .arg("device")
        .args(args)
        .env("CRIS_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// An administrator lists the devices accounts logged in from and revokes a lost one.
#[tokio::test]
async fn devices_are_listed_and_revoked_on_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("cris.db");
    let (ok, out) = user_cmd(
        &db,
        &[
            "add", "--login", "ayse.w", "--name", "Ayşe", "--role", "worker", "--team", "Nord",
            "--create",
        ],
        "",
    );
    assert!(ok, "{out}");
    let store = cris_server::CaseStore::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let user = store.users().await.unwrap().remove(0);
    let device = "0192b3c4-0000-7000-8000-00000000d0aa";
    store
        .add_session(&cris_server::store::NewSession {
            token_hash: "h".repeat(64),
            user_id: user.id,
            device_id: device.into(),
            created_ms: 1,
            expires_ms: i64::MAX,
        })
        .await
        .unwrap();
    store.close().await;

    let (ok, out) = device_cmd(&db, &["list"]);
    assert!(ok, "{out}");
    let row = out.lines().find(|l| l.starts_with(device)).expect(&out);
    assert!(row.contains("ayse.w") && row.ends_with("active"), "{row}");
    let (ok, out) = device_cmd(&db, &["revoke", device]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("revoked {device}")), "{out}");
    let (ok, out) = device_cmd(&db, &["list", "--user", "ayse.w"]);
    assert!(ok, "{out}");
    let row = out.lines().find(|l| l.starts_with(device)).expect(&out);
    assert!(row.contains("revoked 20"), "{row}");
    let (ok, out) = device_cmd(&db, &["list", "--user", "jan.w"]);
    assert!(ok && !out.contains(device), "{out}");
    // A device nobody logged in from is refused with a clear message.
    let (ok, out) = device_cmd(&db, &["revoke", "0192b3c4-0000-7000-8000-00000000dfff"]);
    assert!(!ok);
    assert!(out.contains("ever logged in"), "{out}");
}

#[test]
fn accounts_are_managed_on_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("cris.db");

    // No store yet: a command other than `serve` does not make one unasked (on a PostgreSQL
    // installation without CRIS_DATABASE_URL it would list nobody from an empty new file).
    for args in [&["list"][..], &["disable", "ayse.k"][..]] {
        let (ok, out) = user_cmd(&db, args, "");
        assert!(!ok, "{out}");
        assert!(
            out.contains("no case store at") && out.contains("--create"),
            "{out}"
        );
    }
    let (ok, out) = device_cmd(&db, &["list"]);
    assert!(!ok && out.contains("no case store at"), "{out}");
    assert!(!db.exists(), "nothing was created");

    let (ok, out) = user_cmd(
        &db,
        &[
            "add",
            "--login",
            "ayse.k",
            "--name",
            "Ayşe Test",
            "--role",
            "worker",
            "--team",
            "Offenbach Nord",
            "--create",
        ],
        "",
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("added worker ayse.k (teams: Offenbach Nord)"),
        "{out}"
    );
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a generated password is printed once");
    assert_eq!(password.len(), 19, "{password}");

    let (ok, out) = user_cmd(
        &db,
        &[
            "add",
            "--login",
            "lead",
            "--name",
            "Lea Test",
            "--role",
            "supervisor",
            "--team",
            "Offenbach Nord",
            "--team",
            "Offenbach Süd",
            "--password-stdin",
        ],
        "a-long-enough-secret\n",
    );
    assert!(ok, "{out}");
    assert!(
        !out.contains("a-long-enough-secret"),
        "a given password is never printed"
    );

    let (ok, out) = user_cmd(
        &db,
        &[
            "add", "--login", "ayse.k", "--name", "X", "--role", "worker", "--team", "T",
        ],
        "",
    );
    assert!(!ok);
    assert!(out.contains("the login \"ayse.k\" is taken"), "{out}");
    let (ok, out) = user_cmd(
        &db,
        &[
            "add", "--login", "Ayşe K", "--name", "X", "--role", "worker", "--team", "T",
        ],
        "",
    );
    assert!(!ok);
    assert!(out.contains("is not valid"), "{out}");
    let (ok, out) = user_cmd(
        &db,
        &["add", "--login", "solo", "--name", "X", "--role", "worker"],
        "",
    );
    assert!(!ok);
    assert!(out.contains("needs at least one --team"), "{out}");
    let (ok, out) = user_cmd(
        &db,
        &[
            "add", "--login", "x1", "--name", "X", "--role", "boss", "--team", "T",
        ],
        "",
    );
    assert!(!ok);
    assert!(out.contains("unknown role \"boss\""), "{out}");
    let (ok, out) = user_cmd(
        &db,
        &[
            "add",
            "--login",
            "x2",
            "--name",
            "X",
            "--role",
            "worker",
            "--team",
            "T",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!ok);
    assert!(out.contains("at least 10 characters"), "{out}");
    // The obvious passwords are refused, for a new account and a new password alike.
    for (password, why) in [
        ("aaaaaaaaaa", "at least 5 different characters"),
        ("ayse.k-2026-x", "must not contain the login"),
        ("qwertzuiop", "keyboard row"),
        ("Passwort2024!", "first ones guessers try"),
    ] {
        let (ok, out) = user_cmd(
            &db,
            &["reset-password", "ayse.k", "--password-stdin"],
            &format!("{password}\n"),
        );
        assert!(!ok, "{password}");
        assert!(out.contains(why), "{password}: {out}");
        assert!(
            !out.contains(password),
            "the refused password is not echoed: {out}"
        );
    }

    let (ok, out) = user_cmd(&db, &["disable", "ayse.k"], "");
    assert!(ok, "{out}");
    let (ok, out) = user_cmd(&db, &["list"], "");
    assert!(ok, "{out}");
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(
        rows[0].starts_with("ayse.k") && rows[0].contains("disabled"),
        "{out}"
    );
    assert!(
        rows[1].starts_with("lead") && rows[1].contains("Offenbach Nord, Offenbach Süd"),
        "{out}"
    );
    assert!(!out.contains("argon2"), "no hashes in the list");

    let (ok, _) = user_cmd(&db, &["enable", "ayse.k"], "");
    assert!(ok);
    let (ok, out) = user_cmd(&db, &["reset-password", "ayse.k"], "");
    assert!(ok, "{out}");
    let new_password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap();
    assert_ne!(new_password, password);
    let (ok, out) = user_cmd(&db, &["disable", "nobody"], "");
    assert!(!ok);
    assert!(out.contains("no account \"nobody\""), "{out}");
}

#[tokio::test]
async fn serve_with_demo_prints_accounts_that_log_in() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .env(
            "CRIS_DATABASE_URL",
            format!("sqlite://{}/cris.db", data.path().display()),
        )
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = output_lines(&mut child);
    let mut accounts = Vec::new();
    let url = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the start line");
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["worker" | "supervisor", login, "password", password] = words[..] {
            accounts.push((login.to_owned(), password.to_owned()));
        }
        if let Some(at) = line.find("http://") {
            break line[at..].split_whitespace().next().unwrap().to_owned();
        }
    };
    assert_eq!(accounts.len(), 2, "a worker and a supervisor");
    for (login, password) in &accounts {
        let res = reqwest::Client::new()
            .post(format!("{url}/api/v1/session"))
            .json(&serde_json::json!({
                "login": login,
                "password": password,
                "device_id": "0192b3c4-0000-7000-8000-00000000d001",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{login}");
        // Consents can be tried with an invented agency's details.
        let session: serde_json::Value = res.json().await.unwrap();
        let setup: serde_json::Value = reqwest::Client::new()
            .get(format!("{url}/api/v1/consent-texts"))
            .bearer_auth(session["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(setup["agency"]["agency_name"], "Jobcenter Offenbach (Demo)");
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    child.wait().unwrap();
}

/// The start log names a PostgreSQL store by user, host and database: never its password.
#[tokio::test]
async fn the_start_log_names_the_store_without_its_password() {
    let pg = crate::support::TestPg::create().await;
    // This machine's PostgreSQL trusts local connections: any password is taken.
    let url = pg.url.replacen("postgres@", "postgres:hunter2-secret@", 1);
    assert!(url.contains("hunter2-secret"), "{url}");
    let mut child = serve_on(&url);
    let rx = output_lines(&mut child);
    let mut log = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no start line; log so far: {log:#?}"));
        let started = line.contains("http://");
        log.push(line);
        if started {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = log.join("\n");
    assert!(!text.contains("hunter2"), "{text}");
    let opened = log
        .iter()
        .find(|l| l.contains("case store opened"))
        .expect(&text);
    let name = pg.url.rsplit('/').next().unwrap();
    assert!(
        opened.contains(&format!("postgres postgres@127.0.0.1:5432/{name}")),
        "{opened}"
    );
}

/// Runs `cris-server export ARGS` on the SQLite store `db`; (success, output).
fn export_cmd(db: &std::path::Path, args: &[&str]) -> (bool, String) {
    let args: Vec<&str> = std::iter::once("export")
        .chain(args.iter().copied())
        .collect();
    crate::support::process::cli(&format!("sqlite://{}", db.display()), &args, "")
}

/// The permission bits of a file.
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// An export made on the command line is the one the overview downloads for the same query:
/// the same file, the same checks, recorded under the same account, written where asked and
/// readable by its owner only.
#[tokio::test]
async fn an_export_on_the_command_line_is_the_one_over_http() {
    use cris_core::api::{ExportFormat, ExportList, Role};
    const NORD: &str = "Offenbach Nord";
    const PHONE: &str = "0192b3c4-0000-7000-8000-00000000d00a";
    let server = crate::support::TestServer::sqlite().await;
    let db = server.sqlite_path().unwrap();
    let ayse = server.account("ayse.w", Role::Worker, &[NORD]).await;
    let sabine = server.account("sabine.s", Role::Supervisor, &[NORD]).await;
    let case = crate::support::new_uuid();
    let intake = crate::support::submit_op("intake", &case, PHONE, 1_795_167_000_000, &[], &[]);
    let seen = [intake.hlc.clone()];
    let visit =
        crate::support::submit_op("home_visit", &case, PHONE, 1_795_539_600_000, &[], &seen);
    crate::support::push_applied(&server, &ayse, &[intake, visit]).await;

    let query = "format=csv&form=home_visit&worker=ayse.w&lang=en&delimiter=semicolon";
    let res = crate::support::get(&server, Some(&sabine), &format!("/api/v1/export?{query}")).await;
    assert_eq!(res.status(), 200);
    let over_http = res.bytes().await.unwrap().to_vec();
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("visits.csv");
    let out = file.to_str().unwrap();
    let csv = [
        "--as",
        "sabine.s",
        "--format",
        "csv",
        "--form",
        "home_visit",
        "--worker",
        "ayse.w",
        "--lang",
        "en",
        "--delimiter",
        "semicolon",
        "--out",
        out,
    ];
    let (ok, said) = export_cmd(&db, &csv);
    assert!(ok, "{said}");
    assert_eq!(std::fs::read(&file).unwrap(), over_http, "byte for byte");
    assert!(
        said.starts_with(&format!("wrote 1 row of 1 household to {out} (export ")),
        "{said}"
    );
    let household = String::from_utf8(over_http.clone()).unwrap();
    let household = household.lines().nth(1).unwrap().split(';').next().unwrap();
    assert!(!household.is_empty() && !said.contains(household), "{said}");
    assert_eq!(mode(&file), 0o600, "families' data: the owner's only");

    // An existing file is replaced only when asked.
    std::fs::write(&file, "kept").unwrap();
    let (ok, said) = export_cmd(&db, &csv);
    assert!(!ok);
    assert!(
        said.contains(&format!(
            "{out} exists already: give another --out, or --force"
        )),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept");
    let (ok, said) = export_cmd(&db, &[&csv[..], &["--force"]].concat());
    assert!(ok, "{said}");
    assert_eq!(std::fs::read(&file).unwrap(), over_http);
    assert_eq!(mode(&file), 0o600);

    // A workbook, in Turkish.
    let book = folder.path().join("all.xlsx");
    let (ok, said) = export_cmd(
        &db,
        &[
            "--as",
            "sabine.s",
            "--format",
            "xlsx",
            "--lang",
            "tr",
            "--out",
            book.to_str().unwrap(),
        ],
    );
    assert!(ok, "{said}");
    assert!(said.contains(" of 1 household to "), "{said}");
    let names = calamine::Reader::sheet_names(
        &calamine::open_workbook::<calamine::Xlsx<_>, _>(&book).unwrap(),
    );
    assert_eq!(names.len(), 8);
    assert_eq!(names[0], "Ev ziyareti");

    // Refusals say why, write nothing and record nothing.
    server.account("old.s", Role::Supervisor, &[NORD]).await;
    let now = cris_server::auth::now_ms();
    assert!(server.store.set_disabled("old.s", true, now).await.unwrap());
    let refused = folder.path().join("refused.csv");
    let refused = refused.to_str().unwrap();
    let missing = folder.path().join("missing.db");
    for (db, args, why) in [
        (
            &db,
            &["--as", "ayse.w", "--format", "csv", "--form", "visits"][..],
            "ayse.w is a worker: exports are for supervisors and admins",
        ),
        (
            &db,
            &["--as", "old.s", "--format", "xlsx"],
            "old.s is disabled: exports are made by enabled accounts",
        ),
        (
            &db,
            &["--as", "sabine.s", "--format", "xlsx", "--sensitive"],
            "the fields marked sensitive (health) are exported by admins only",
        ),
        (
            &db,
            &["--as", "nobody", "--format", "csv"],
            "no account \"nobody\"",
        ),
        (
            &db,
            &["--as", "sabine.s", "--format", "csv", "--form", "visits"],
            "there is no form \"visits\": the forms are home_visit, intake",
        ),
        (
            &db,
            &["--as", "sabine.s", "--format", "csv"],
            "a CSV file holds one table: name its form",
        ),
        (
            &db,
            &[
                "--as",
                "sabine.s",
                "--format",
                "csv",
                "--form",
                "home_visit",
                "--table",
                "members",
            ],
            "the form \"home_visit\" has no repeat group \"members\"",
        ),
        (
            &db,
            &[
                "--as",
                "sabine.s",
                "--format",
                "xlsx",
                "--from",
                "2026-11-30",
                "--to",
                "2026-11-01",
            ],
            "from is after to",
        ),
        (
            &db,
            &["--as", "sabine.s", "--format", "xlsx", "--to", "yesterday"],
            "--to",
        ),
        (
            &db,
            &["--as", "sabine.s", "--format", "pdf"],
            "[possible values: csv, xlsx]",
        ),
        (
            &missing,
            &["--as", "sabine.s", "--format", "xlsx"],
            "no case store at",
        ),
    ] {
        let (ok, said) = export_cmd(db, &[args, &["--out", refused]].concat());
        assert!(!ok, "{args:?}: {said}");
        assert!(said.contains(why), "{args:?}: {said}");
        assert!(!std::path::Path::new(refused).exists(), "{args:?}");
    }
    assert!(!missing.exists(), "no store is made by an export");
    let mut left: Vec<String> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["all.xlsx", "visits.csv"], "no temporary file left");

    // Recorded as the export over HTTP is: listed to the team, and in the audit trail.
    let listed: ExportList = crate::support::get(&server, Some(&sabine), "/api/v1/exports")
        .await
        .json()
        .await
        .unwrap();
    let listed = listed.items;
    assert_eq!(listed.len(), 4, "{listed:?}");
    let (http, cli) = (&listed[3], &listed[2]);
    assert_eq!(
        (&cli.login, cli.format, &cli.filter, cli.rows, cli.cases),
        (
            &http.login,
            http.format,
            &http.filter,
            http.rows,
            http.cases
        )
    );
    assert_eq!(listed[0].format, ExportFormat::Xlsx);
    let audit = server
        .store
        .audit_entries(&cris_server::store::audit::AuditFilter {
            login: Some("sabine.s".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let exports: Vec<(&str, Option<&str>)> = audit
        .iter()
        .filter(|e| e.action == "export")
        .map(|e| (e.endpoint.as_str(), e.export_id.as_deref()))
        .collect();
    assert_eq!(
        exports,
        [
            ("GET /api/v1/export", Some(http.id.as_str())),
            ("cris-server export", Some(cli.id.as_str())),
            ("cris-server export", Some(listed[1].id.as_str())),
            ("cris-server export", Some(listed[0].id.as_str())),
        ]
    );
    assert!(
        audit
            .iter()
            .filter(|e| e.endpoint == "cris-server export")
            .all(|e| e.device_id.is_none() && e.address.is_none()),
        "no device, no address on the command line"
    );
}
