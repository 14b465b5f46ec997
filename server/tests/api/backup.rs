//! Backups that restore, with the real binary as an administrator runs it: a backup taken
//! while phones push is a consistent store; a restore is refused while a server runs, keeps
//! the replaced store, and gives the store a new id, so that phones send again what it lacks
//! (here as a phone would: the same operations pushed again, each stored once).

use std::path::Path;
use std::process::Command;

use crate::support::process::Process;
use crate::support::{new_uuid, submit_op};
use cris_core::api::{Health, LoginResponse};
use cris_core::record::Operation;
use cris_core::sync::{Outcome, PullResponse, PushResponse};

const DEVICE: &str = "0192b3c4-0000-7000-8000-00000000b001";
const PASSWORD: &str = "Linden-Allee-2026";

fn cli(db: &Path, args: &[&str], stdin: &str) -> (bool, String) {
    crate::support::process::cli(&format!("sqlite://{}", db.display()), args, stdin)
}

/// `cris-server serve` on `db` and a free port.
fn serve(db: &Path) -> (Process, String) {
    let server = Process::start(&format!("sqlite://{}", db.display()));
    let url = server.url.clone();
    (server, url)
}

fn stop(server: Process) {
    server.stop();
}

struct Phone {
    url: String,
    token: String,
    client: reqwest::Client,
}

impl Phone {
    async fn log_in(url: &str) -> Self {
        let client = reqwest::Client::new();
        let res = client
            .post(format!("{url}/api/v1/session"))
            .json(&serde_json::json!({ "login": "ayse.w", "password": PASSWORD, "device_id": DEVICE }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let session: LoginResponse = res.json().await.unwrap();
        Phone {
            url: url.to_owned(),
            token: session.token,
            client,
        }
    }

    async fn push(&self, ops: &[Operation]) -> PushResponse {
        let res = self
            .client
            .post(format!("{}/api/v1/ops", self.url))
            .bearer_auth(&self.token)
            .json(&serde_json::json!({ "ops": ops }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Every operation id the store gives this phone, from the start.
    async fn pulled(&self) -> Vec<String> {
        let (mut cursor, mut ids) = (0, Vec::new());
        loop {
            let page: PullResponse = self
                .client
                .get(format!("{}/api/v1/ops?since={cursor}", self.url))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            ids.extend(page.ops.into_iter().map(|o| o.op_id));
            cursor = page.next_cursor;
            if !page.more {
                return ids;
            }
        }
    }
}

fn intake(i: u64) -> Operation {
    let now = cris_server::auth::now_ms() as u64;
    submit_op("intake", &new_uuid(), DEVICE, now + i, &[], &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_pushes_restores_and_phones_send_again_what_it_lacks() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("cris.db");
    let (ok, out) = cli(
        &db,
        &[
            "user",
            "add",
            "--login",
            "ayse.w",
            "--name",
            "Ayşe Test",
            "--role",
            "worker",
            "--team",
            "Offenbach Nord",
            "--password-stdin",
            "--create",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(ok, "{out}");
    let (server, url) = serve(&db);
    let phone = Phone::log_in(&url).await;
    let a = intake(0);
    let answer = phone.push(std::slice::from_ref(&a)).await;
    assert_eq!(answer.results[0].outcome, Outcome::Applied);
    let first_store = answer.store_id.clone();
    assert_eq!(first_store.len(), 32);

    // Phones go on pushing while the backup is taken.
    let pushing = {
        let phone = Phone::log_in(&url).await;
        tokio::spawn(async move {
            let mut sent = Vec::new();
            for i in 1..=40 {
                let op = intake(i);
                phone.push(std::slice::from_ref(&op)).await;
                sent.push(op.op_id);
            }
            sent
        })
    };
    let backup = data.path().join("nightly.db");
    let (ok, out) = cli(&db, &["backup", "--to", backup.to_str().unwrap()], "");
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("backed up store {first_store}")),
        "{out}"
    );
    let during = pushing.await.unwrap();
    let backed = cris_server::backup::check(&backup).await.unwrap();
    assert!(
        (1..=41).contains(&backed.operations),
        "a consistent store of one moment: {backed:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the backup is the server's alone");
    }
    // Never over an older backup.
    let (ok, out) = cli(&db, &["backup", "--to", backup.to_str().unwrap()], "");
    assert!(
        !ok && out.contains("cannot create the backup file"),
        "{out}"
    );

    let b = intake(100);
    phone.push(std::slice::from_ref(&b)).await;

    // Not while the server runs.
    let (ok, out) = cli(&db, &["restore", "--from", backup.to_str().unwrap()], "");
    assert!(!ok, "{out}");
    assert!(out.contains("a server is using"), "{out}");
    stop(server);

    let (ok, out) = cli(&db, &["restore", "--from", backup.to_str().unwrap()], "");
    assert!(ok, "{out}");
    assert!(out.contains("the replaced store was kept as"), "{out}");
    let kept: Vec<_> = std::fs::read_dir(data.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("cris.db.replaced-")
        })
        .collect();
    assert!(!kept.is_empty(), "the replaced store is kept");

    let (server, url) = serve(&db);
    let health: Health = reqwest::get(format!("{url}/api/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(
        health.instance, first_store,
        "a restored store has a new id"
    );
    let phone = Phone::log_in(&url).await;
    let held = phone.pulled().await;
    // The store as of one moment: A and the first of the pushes made meanwhile, in order.
    let k = usize::try_from(backed.operations).unwrap() - 1;
    let expected: Vec<String> = std::iter::once(a.op_id.clone())
        .chain(during[..k].iter().cloned())
        .collect();
    assert_eq!(held, expected);
    assert!(!held.contains(&b.op_id), "B came after the backup");

    // The phone meets a store of another id and sends again what it kept: what the store has
    // is a duplicate, what it lacks is applied.
    let again = vec![a.clone(), b.clone()];
    let answer = phone.push(&again).await;
    assert_eq!(answer.store_id, health.instance);
    assert_eq!(answer.results[0].outcome, Outcome::Duplicate);
    assert_eq!(answer.results[1].outcome, Outcome::Applied);
    let held = phone.pulled().await;
    for id in [&a.op_id, &b.op_id] {
        assert_eq!(held.iter().filter(|h| *h == id).count(), 1, "each once");
    }
    stop(server);
}

#[tokio::test]
async fn a_damaged_or_foreign_backup_is_refused_and_the_store_stays() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("cris.db");
    let (ok, out) = cli(&db, &["user", "list", "--create"], "");
    assert!(ok, "{out}");
    let before = std::fs::read(&db).unwrap();

    let garbage = data.path().join("garbage.db");
    std::fs::write(&garbage, b"SQLite format 3\0 and then nothing of the kind").unwrap();
    let (ok, out) = cli(&db, &["restore", "--from", garbage.to_str().unwrap()], "");
    assert!(!ok, "{out}");
    assert!(out.contains("garbage.db"), "names the file: {out}");

    let missing = data.path().join("missing.db");
    let (ok, out) = cli(&db, &["restore", "--from", missing.to_str().unwrap()], "");
    assert!(!ok && out.contains("missing.db"), "{out}");

    let other = data.path().join("other.sqlite");
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", other.display()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let (ok, out) = cli(&db, &["restore", "--from", other.to_str().unwrap()], "");
    assert!(!ok && out.contains("not a CRIS Field case store"), "{out}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the store is untouched"
    );

    let (ok, out) = Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .args([
            "backup",
            "--to",
            "x.db",
            "--database-url",
            "postgres://u@127.0.0.1/cris",
        ])
        .output()
        .map(|o| {
            (
                o.status.success(),
                String::from_utf8_lossy(&o.stderr).into_owned()
                    + &String::from_utf8_lossy(&o.stdout),
            )
        })
        .unwrap();
    assert!(!ok && out.contains("pg_dump"), "{out}");
}

/// PostgreSQL as the README says: `pg_dump` while the server runs, `pg_restore` into an empty
/// database, `cris-server restored`; the store then has what was dumped and a new id. (Runs
/// when the PostgreSQL client tools are installed, as they are where `make test` runs.)
#[tokio::test]
async fn postgres_is_backed_up_with_its_own_tools_and_gets_a_new_id() {
    if !crate::support::process::pg_tools_here() {
        eprintln!("pg_dump is not installed: the PostgreSQL backup is not tried here");
        return;
    }
    let server = crate::support::TestServer::postgres().await;
    let token = server
        .account("ayse.w", cris_core::api::Role::Worker, &["Offenbach Nord"])
        .await;
    let a = intake(0);
    crate::support::push_applied(&server, &token, std::slice::from_ref(&a)).await;
    let before = server.store.instance_id().to_owned();
    let url = server.pg_url().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("cris.dump");
    crate::support::process::pg_dump(&url, &dump);

    let target = crate::support::TestPg::create().await;
    crate::support::process::pg_restore(&target.url, &dump);
    let out = Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .arg("restored")
        .env("CRIS_DATABASE_URL", &target.url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("new id"), "{text}");

    let restored = cris_server::CaseStore::open(&target.url).await.unwrap();
    assert_ne!(restored.instance_id(), before);
    let again = crate::support::TestServer::on_store(restored).await;
    let outcomes = crate::support::push(&again, &token_on(&again).await, &[a]).await;
    assert_eq!(outcomes, [Outcome::Duplicate], "A came back with the dump");
}

async fn token_on(server: &crate::support::TestServer) -> String {
    let (user, _) = server.store.credentials("ayse.w").await.unwrap().unwrap();
    server
        .session(&user.id, cris_server::auth::now_ms() + 86_400_000)
        .await
}
