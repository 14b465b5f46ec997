//! The server as an attacker and a careless network meet it, over real HTTP on port 0: the
//! security headers on every answer, the browser's CSP reports, slow and idle connections,
//! too many connections, a forged proxy header, and the case store's file modes.

use std::net::SocketAddr;
use std::time::Duration;

use cris_core::api::ErrorCode;
use cris_server::{AppState, Assets, CaseStore, FormCatalog, Limits, ServerHandle};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Server {
    handle: ServerHandle,
    state: AppState,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl Server {
    async fn start(change: impl FnOnce(&mut AppState)) -> Self {
        let app = tempfile::tempdir().unwrap();
        std::fs::write(
            app.path().join("index.html"),
            "<!doctype html><title>CRIS Field</title>",
        )
        .unwrap();
        std::fs::write(app.path().join("sw.js"), "// worker\n").unwrap();
        let data = tempfile::tempdir().unwrap();
        let store = CaseStore::open(&format!("sqlite://{}/cris.db", data.path().display()))
            .await
            .unwrap();
        let mut state = AppState::new(
            store,
            Assets::from_dir(app.path()).unwrap(),
            FormCatalog::embedded().unwrap(),
            cris_server::ConsentConfig::demo(),
            Default::default(),
        );
        change(&mut state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let handle = cris_server::spawn(listener, state.clone()).unwrap();
        Server {
            handle,
            state,
            _dirs: (app, data),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.handle.addr()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }
}

fn limits(change: impl FnOnce(&mut Limits)) -> impl FnOnce(&mut AppState) {
    move |state| change(&mut state.limits)
}

/// Reads from `stream` until the server closes it; what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server never closed the connection");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let server = Server::start(|_| {}).await;
    let client = reqwest::Client::new();
    let answers = [
        ("/", StatusCode::OK),
        ("/cases/some-case", StatusCode::OK),
        ("/sw.js", StatusCode::OK),
        ("/missing.js", StatusCode::NOT_FOUND),
        ("/api/health", StatusCode::OK),
        ("/api/v1/me", StatusCode::UNAUTHORIZED),
        ("/api/nope", StatusCode::NOT_FOUND),
    ];
    for (path, status) in answers {
        let res = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
            "{csp}"
        );
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        let permissions = h["permissions-policy"].to_str().unwrap();
        assert!(permissions.contains("camera=()") && permissions.contains("geolocation=()"));
        assert!(
            h.get("strict-transport-security").is_none(),
            "not over plain HTTP"
        );
        if path.starts_with("/api") {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
    }
}

#[tokio::test]
async fn https_behind_a_trusted_proxy_gets_hsts_and_a_forged_header_does_not() {
    let trusting =
        Server::start(|s| s.trusted_proxies = ["127.0.0.1".parse().unwrap()].into()).await;
    let stranger = Server::start(|_| {}).await;
    let client = reqwest::Client::new();
    for (server, expected) in [(&trusting, true), (&stranger, false)] {
        let res = client
            .get(server.url("/api/health"))
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-for", "198.51.100.23")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers().get("strict-transport-security").is_some(),
            expected
        );
    }
}

/// Login throttling counts by the address the trusted proxy saw; a client that is not the
/// proxy cannot dodge its own count by writing another address into the header.
#[tokio::test]
async fn throttling_counts_the_address_the_proxy_saw() {
    let guess = |i: usize| {
        serde_json::json!({
            "login": format!("someone{i}"),
            "password": "not-the-password",
            "device_id": "0192b3c4-0000-7000-8000-00000000d001",
        })
    };
    let client = reqwest::Client::new();
    // Not trusted: the forged header changes nothing, every guess counts for 127.0.0.1.
    let server = Server::start(|_| {}).await;
    for i in 0..cris_server::logins::ADDRESS_FREE_FAILURES as usize {
        let res = client
            .post(server.url("/api/v1/session"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&guess(i))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = client
        .post(server.url("/api/v1/session"))
        .header("x-forwarded-for", "198.51.100.200")
        .json(&guess(999))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // Behind a trusted proxy: two clients it forwards are counted apart.
    let server =
        Server::start(|s| s.trusted_proxies = ["127.0.0.0/8".parse().unwrap()].into()).await;
    for i in 0..cris_server::logins::ADDRESS_FREE_FAILURES as usize {
        let res = client
            .post(server.url("/api/v1/session"))
            .header("x-forwarded-for", "198.51.100.1")
            .json(&guess(i))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let from = |addr: &'static str| {
        client
            .post(server.url("/api/v1/session"))
            .header("x-forwarded-for", addr)
            .json(&guess(999))
            .send()
    };
    assert_eq!(
        from("198.51.100.1").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        from("198.51.100.2").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_browsers_csp_reports_are_counted_and_bad_ones_refused() {
    let server = Server::start(|_| {}).await;
    let client = reqwest::Client::new();
    let url = server.url("/api/v1/csp-report");
    let report = serde_json::json!({"csp-report": {
        "document-uri": "http://127.0.0.1/cases/1",
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
    }});
    let res = client
        .post(&url)
        .header("content-type", "application/csp-report")
        .body(report.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(server.state.csp_reports.count(), 1);

    let res = client.post(&url).body("{not json").send().await.unwrap();
    crate::support::error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    let res = client
        .post(&url)
        .body(r#"{"hello": 1}"#)
        .send()
        .await
        .unwrap();
    crate::support::error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
    let huge = format!(
        r#"{{"csp-report": {{"blocked-uri": "{}"}}}}"#,
        "x".repeat(20_000)
    );
    let res = client.post(&url).body(huge).send().await.unwrap();
    crate::support::error(
        res,
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
    )
    .await;
    let res = client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        server.state.csp_reports.count(),
        1,
        "only real reports count"
    );
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    let server = Server::start(limits(|l| l.header_read = Duration::from_millis(300))).await;
    // Headers that never end.
    let mut slow = TcpStream::connect(server.addr()).await.unwrap();
    slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    read_to_close(&mut slow).await;
    // A connection that says nothing at all.
    let mut silent = TcpStream::connect(server.addr()).await.unwrap();
    read_to_close(&mut silent).await;
    // A kept-alive connection, idle after its answer.
    let mut idle = TcpStream::connect(server.addr()).await.unwrap();
    idle.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let sent = read_to_close(&mut idle).await;
    assert!(sent.starts_with("HTTP/1.1 200"), "{sent}");
    // The server itself goes on.
    let res = reqwest::get(server.url("/api/health")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_body_that_stops_coming_is_given_up() {
    let server = Server::start(limits(|l| l.body_idle = Duration::from_millis(300))).await;
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(
            b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"login\": \"el",
        )
        .await
        .unwrap();
    let sent = read_to_close(&mut stream).await;
    let status = sent.split_whitespace().nth(1).unwrap_or("none");
    assert_eq!(status, "408", "{sent}");
    assert!(sent.contains("request_timeout"), "a JSON error: {sent}");
}

#[tokio::test]
async fn connections_beyond_the_limit_are_refused_until_one_closes() {
    let server = Server::start(limits(|l| l.max_connections = 2)).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(server.addr()).await.unwrap();
        // An answered request: the connection is surely accepted and kept.
        stream
            .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 12];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"HTTP/1.1 200");
        held.push(stream);
    }
    let res = reqwest::Client::new()
        .get(server.url("/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "5");
    assert!(res.text().await.unwrap().contains("the server is full"));

    drop(held.pop());
    crate::support::wait_for("a slot to free up", || async {
        let res = reqwest::Client::new()
            .get(server.url("/api/health"))
            .send()
            .await
            .ok()?;
        (res.status() == StatusCode::OK).then_some(())
    })
    .await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_case_store_is_the_servers_alone() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("data");
    let db = dir.join("cris.db");
    let store = CaseStore::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    store.ping().await.unwrap();
    assert_eq!(mode(&dir), 0o700, "the data folder");
    assert_eq!(mode(&db), 0o600, "the database");
    let wal = dir.join("cris.db-wal");
    assert!(wal.exists());
    assert_eq!(mode(&wal), 0o600, "the write-ahead log");
    store.close().await;

    // A store left readable by everyone is closed to them at the next start.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = CaseStore::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    assert_eq!(mode(&db), 0o600);
    store.close().await;
}

/// `sslmode` in a PostgreSQL URL is honoured: `require` talks TLS to the database (this
/// machine's PostgreSQL has a self-signed certificate), `verify-full` refuses a certificate
/// nobody vouches for.
#[tokio::test]
async fn postgres_over_tls_as_the_url_says() {
    let pg = crate::support::TestPg::create().await;
    let store = CaseStore::open(&format!("{}?sslmode=require", pg.url))
        .await
        .unwrap();
    let pool = sqlx::PgPool::connect(&format!("{}?sslmode=require", pg.url))
        .await
        .unwrap();
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(ssl, "the connection is encrypted");
    pool.close().await;
    store.ping().await.unwrap();
    store.close().await;
    let refused = CaseStore::open(&format!("{}?sslmode=verify-full", pg.url)).await;
    let err = refused
        .expect_err("an unverified certificate is refused")
        .to_string();
    assert!(
        err.contains("cannot open the database") || err.contains("certificate"),
        "{err}"
    );
}
