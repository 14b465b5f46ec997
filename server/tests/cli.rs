//! The `cris-server` binary as an operator runs it: settings from flags and environment,
//! the database created where asked, a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[tokio::test]
async fn serve_takes_its_settings_from_the_environment_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("store/cris.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .arg("serve")
        .env("CRIS_ADDR", "127.0.0.1:0")
        .env("CRIS_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Read the log in a thread; the first line naming the address tells us where it listens.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    let url = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no start line; log so far: {log:#?}"));
        if let Some(at) = line.find("http://") {
            break line[at..].split_whitespace().next().unwrap().to_owned();
        }
        log.push(line);
    };
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
    let rest: Vec<String> = rx.try_iter().collect();
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
