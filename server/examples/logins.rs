//! Login flood: N logins at once (default 400, each from a device of its own, with the right
//! password) against a `cris-server` binary given by path, on a fresh SQLite store. Prints the
//! answers by status, the time until the last answer, p50 and p99 of the answers, and the
//! server's peak memory (VmHWM). Taking the binary by path lets one run compare two builds.
//!
//! ```text
//! cargo run --release -p cris-server --example logins -- target/release/cris-server [N]
//! ```
//!
//! Client and server share this machine's cores: the figures are a floor.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "Linden-Allee-2026";

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args.next().expect("usage: logins PATH-TO-cris-server [N]");
    let n: usize = args
        .next()
        .map_or(400, |a| a.parse().expect("N is a number"));
    let data = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}/cris.db", data.path().display());

    // Builds from before `--create` make a missing store without being asked.
    let added = [true, false].into_iter().any(|create| {
        let mut args = vec![
            "user",
            "add",
            "--login",
            "bench.w",
            "--name",
            "Bench Worker",
            "--role",
            "worker",
            "--team",
            "Bench",
            "--password-stdin",
        ];
        if create {
            args.push("--create");
        }
        let mut add = Command::new(&binary)
            .args(&args)
            .env("CRIS_DATABASE_URL", &url)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run the binary");
        add.stdin
            .take()
            .expect("stdin")
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .expect("write the password");
        add.wait().expect("user add").success()
    });
    assert!(added, "user add failed");

    let mut server = Command::new(&binary)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("CRIS_DATABASE_URL", &url)
        .env("RUST_LOG", "warn,cris_server=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let stdout = server.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let base = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server says where it listens");
        if let Some(at) = line.find("http://") {
            break line[at..]
                .split_whitespace()
                .next()
                .expect("a URL")
                .to_owned();
        }
    };

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("a client");
    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let sent = Instant::now();
                let device = format!("0192b3c4-0000-7000-8000-{i:012x}");
                let status = client
                    .post(format!("{base}/api/v1/session"))
                    .json(&serde_json::json!({ "login": "bench.w", "password": PASSWORD, "device_id": device }))
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16());
                (status, sent.elapsed())
            })
        })
        .collect();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut times = Vec::with_capacity(n);
    for task in tasks {
        let (status, took) = task.await.expect("a login task");
        *statuses.entry(status).or_default() += 1;
        times.push(took);
    }
    let all = started.elapsed();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    let peak = std::fs::read_to_string(format!("/proc/{}/status", server.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("{binary}: {n} logins at once");
    println!("  answers by status: {statuses:?} (0: no answer)");
    println!(
        "  last answer after {:.2} s; p50 {:.0} ms, p99 {:.0} ms",
        all.as_secs_f64(),
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    );
    println!("  server's peak memory (VmHWM): {peak}");
    let _ = server.kill();
    let _ = server.wait();
}
