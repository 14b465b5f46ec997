//! The `cris-server` binary as an operator runs it: a server process, and the commands.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `cris-server serve` in a process of its own, on a free port.
pub struct Process {
    child: Child,
    pub url: String,
    /// The server's log, line by line (requests are logged as they start).
    log: std::sync::mpsc::Receiver<String>,
}

impl Process {
    pub fn start(database_url: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cris-server"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--database-url",
                database_url,
            ])
            .env("RUST_LOG", "info,tower_http=debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the server prints where it listens")
                .unwrap();
            if let Some(at) = line.find("http://") {
                break line[at..].split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep reading, so the server never blocks on a full pipe.
        let (tx, log) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Process { child, url, log }
    }

    /// Blocks until the server has started handling its `n`-th push.
    pub fn wait_for_push(&self, n: usize) {
        let mut seen = 0;
        while seen < n {
            let line = self
                .log
                .recv_timeout(Duration::from_secs(120))
                .expect("the server logs the push");
            if line.contains("path=/api/v1/ops") && line.contains("started processing request") {
                seen += 1;
            }
        }
    }

    /// SIGKILL: no shutdown, no flush, nothing finishes.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Process {
    /// SIGTERM, as a service manager stops it: requests in flight finish, then it exits
    /// cleanly.
    pub fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(self.child.wait().unwrap().success(), "a clean exit");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cris-server ARGS` on the store at `database_url`, with `stdin` as its input:
/// whether it succeeded, and all it printed.
pub fn cli(database_url: &str, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cris-server"))
        .args(args)
        .env("CRIS_DATABASE_URL", database_url)
        // A PostgreSQL store's erasure journal: the tests', not the checkout's data folder.
        .env(
            "CRIS_ERASURE_JOURNAL",
            std::env::temp_dir().join(format!("cris-test-erasures-{}.jsonl", std::process::id())),
        )
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Whether the PostgreSQL client tools (`pg_dump`, `pg_restore`) are installed.
pub fn pg_tools_here() -> bool {
    Command::new("pg_dump").arg("--version").output().is_ok()
}

/// `pg_dump` of the database at `url` into `file`, as the README says to back one up.
pub fn pg_dump(url: &str, file: &std::path::Path) {
    let out = Command::new("pg_dump")
        .args(["--format=custom", "--file", file.to_str().unwrap(), url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pg_restore` of the dump `file` into the empty database at `url`.
pub fn pg_restore(url: &str, file: &std::path::Path) {
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--dbname", url, file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
