//! The server over real HTTP on port 0: the app's files, the API's answers, shutdown.

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use cris_core::api::{ApiError, ErrorCode, Health, HealthStatus};
use cris_server::{AppState, Assets, CaseStore, FormCatalog, ServerHandle};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};

const WASM: &str = "cris-app-4a3f09c2d1e5b6a7_bg.wasm";
const JS: &str = "cris-app-4a3f09c2d1e5b6a7.js";
const INDEX: &str =
    "<!doctype html><html><head><title>CRIS Field</title></head><body></body></html>";

struct Server {
    addr: SocketAddr,
    handle: ServerHandle,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl Server {
    /// A server with a small fake build of the app, laid out the way trunk lays it out.
    async fn start() -> Self {
        let app = tempfile::tempdir().unwrap();
        let p = app.path();
        std::fs::create_dir(p.join("icons")).unwrap();
        std::fs::write(p.join("index.html"), INDEX).unwrap();
        std::fs::write(
            p.join("sw.js"),
            "self.addEventListener('fetch', () => {});\n",
        )
        .unwrap();
        // Large enough and repetitive enough that compression visibly pays.
        let wasm: Vec<u8> = b"\0asm\x01\0\0\0"
            .iter()
            .copied()
            .chain((0..60_000u32).map(|i| (i % 7) as u8))
            .collect();
        std::fs::write(p.join(WASM), &wasm).unwrap();
        std::fs::write(
            p.join(JS),
            "export function init() { return 42; }\n".repeat(200),
        )
        .unwrap();
        std::fs::write(p.join("manifest.webmanifest"), r#"{"name":"CRIS Field"}"#).unwrap();
        std::fs::write(p.join("icons/icon-192.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
        Self::start_with(Assets::from_dir(p).unwrap(), app).await
    }

    async fn start_with(assets: Assets, app: tempfile::TempDir) -> Self {
        let data = tempfile::tempdir().unwrap();
        let store = CaseStore::open(&format!("sqlite://{}/cris.db", data.path().display()))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let state = AppState::new(
            store,
            assets,
            FormCatalog::embedded().unwrap(),
            cris_server::ConsentConfig::demo(),
            Default::default(),
        );
        let handle = cris_server::spawn(listener, state).unwrap();
        Server {
            addr: handle.addr(),
            handle,
            _dirs: (app, data),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A plain GET, as a client without any special headers sends it.
    async fn get(&self, path: &str) -> reqwest::Response {
        client().get(self.url(path)).send().await.unwrap()
    }
}

/// A client that shows the bytes as sent: no automatic decompression.
fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
    out
}

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    res.headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn health_answers_with_version_database_and_instance() {
    let server = Server::start().await;
    let res = server.get("/api/health").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, CONTENT_TYPE).starts_with("application/json"));
    let health: Health = res.json().await.unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert_eq!(health.database, HealthStatus::Ok);
    assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(health.api_version, 1);
    assert_eq!(health.instance.len(), 32);
}

#[tokio::test]
async fn unknown_api_paths_and_methods_are_json_errors() {
    let server = Server::start().await;
    for path in ["/api/nope", "/api/v1/cases", "/api", "/api/health/extra"] {
        let res = server.get(path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            header(&res, CONTENT_TYPE).starts_with("application/json"),
            "{path}"
        );
        let body: ApiError = res.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::NotFound, "{path}");
    }
    // An API path never falls back to the app's index.html.
    let res = client()
        .post(server.url("/api/nope"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let res = client()
        .post(server.url("/api/health"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: ApiError = res.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::MethodNotAllowed);
}

#[tokio::test]
async fn files_have_their_content_types() {
    let server = Server::start().await;
    let cases = [
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/sw.js", "text/javascript; charset=utf-8"),
        (&format!("/{JS}"), "text/javascript; charset=utf-8"),
        (&format!("/{WASM}"), "application/wasm"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/icons/icon-192.png", "image/png"),
    ];
    for (path, expected) in cases {
        let res = server.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, CONTENT_TYPE), expected, "{path}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    }
}

#[tokio::test]
async fn hashed_files_are_immutable_and_the_rest_is_revalidated() {
    let server = Server::start().await;
    for path in [format!("/{WASM}"), format!("/{JS}")] {
        let res = server.get(&path).await;
        assert_eq!(
            header(&res, CACHE_CONTROL),
            "public, max-age=31536000, immutable",
            "{path}"
        );
    }
    for path in [
        "/",
        "/index.html",
        "/sw.js",
        "/manifest.webmanifest",
        "/icons/icon-192.png",
        "/cases/x",
    ] {
        let res = server.get(path).await;
        assert_eq!(header(&res, CACHE_CONTROL), "no-cache", "{path}");
    }
}

#[tokio::test]
async fn compressible_files_come_as_brotli_or_gzip_and_decode_to_the_original() {
    let server = Server::start().await;
    let original = server.get(&format!("/{WASM}")).await;
    assert!(original.headers().get(CONTENT_ENCODING).is_none());
    let original = original.bytes().await.unwrap();

    let br = client()
        .get(server.url(&format!("/{WASM}")))
        .header(ACCEPT_ENCODING, "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&br, CONTENT_ENCODING), "br");
    assert_eq!(header(&br, VARY), "accept-encoding");
    let br = br.bytes().await.unwrap();
    assert!(
        br.len() < original.len() / 10,
        "{} vs {}",
        br.len(),
        original.len()
    );
    assert_eq!(unbrotli(&br), original);

    let gz = client()
        .get(server.url(&format!("/{WASM}")))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&gz, CONTENT_ENCODING), "gzip");
    let gz = gz.bytes().await.unwrap();
    assert!(gz.len() < original.len() / 10);
    assert_eq!(gunzip(&gz), original);

    // Asked again, the cached compressed copy is the same.
    let again = client()
        .get(server.url(&format!("/{WASM}")))
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(again, br);

    // "br;q=0" means no brotli.
    let res = client()
        .get(server.url("/index.html"))
        .header(ACCEPT_ENCODING, "br;q=0, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, CONTENT_ENCODING), "gzip");
    assert_eq!(gunzip(&res.bytes().await.unwrap()), INDEX.as_bytes());

    // PNG is compressed already: sent as it is.
    let res = client()
        .get(server.url("/icons/icon-192.png"))
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get(CONTENT_ENCODING).is_none());
}

/// The build's compressed copies (`scripts/compress.mjs`) are sent as they are, but not one
/// that decompresses to something else; what has none is compressed when the files are read,
/// before the server answers anyone.
#[tokio::test]
async fn the_builds_compressed_copies_are_sent_and_the_rest_compressed_before_serving() {
    let app = tempfile::tempdir().unwrap();
    let p = app.path();
    let script = "export function init() { return 42; }\n".repeat(200);
    std::fs::write(p.join(JS), &script).unwrap();
    // Brotli at quality 1: other bytes than the server's own quality 11 would give.
    let mut copy = Vec::new();
    let quick = brotli::enc::BrotliEncoderParams {
        quality: 1,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut script.as_bytes(), &mut copy, &quick).unwrap();
    std::fs::write(p.join(format!("{JS}.br")), &copy).unwrap();
    // A stale gzip copy, of another file.
    let mut stale = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut stale, b"an older build").unwrap();
    std::fs::write(p.join(format!("{JS}.gz")), stale.finish().unwrap()).unwrap();
    std::fs::write(p.join("index.html"), INDEX).unwrap();

    let assets = Assets::from_dir(p).unwrap();
    assert_eq!(assets.len(), 2, "the copies are not files of their own");
    assert_eq!(assets.waiting_for_compression(), 0);
    let server = Server::start_with(assets, app).await;
    let ask = |path: String, encoding: &'static str| {
        client()
            .get(server.url(&path))
            .header(ACCEPT_ENCODING, encoding)
            .send()
    };
    let br = ask(format!("/{JS}"), "br").await.unwrap();
    assert_eq!(header(&br, CONTENT_ENCODING), "br");
    assert_eq!(br.bytes().await.unwrap(), copy, "the build's copy as it is");
    let gz = ask(format!("/{JS}"), "gzip").await.unwrap();
    assert_eq!(header(&gz, CONTENT_ENCODING), "gzip");
    assert_eq!(gunzip(&gz.bytes().await.unwrap()), script.as_bytes());
    let index = ask("/index.html".to_owned(), "br").await.unwrap();
    assert_eq!(unbrotli(&index.bytes().await.unwrap()), INDEX.as_bytes());
    let res = ask(format!("/{JS}.br"), "br").await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unchanged_file_is_not_sent_again() {
    let server = Server::start().await;
    let first = client()
        .get(server.url("/sw.js"))
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    let etag = header(&first, ETAG).to_owned();
    let again = client()
        .get(server.url("/sw.js"))
        .header(ACCEPT_ENCODING, "br")
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());

    // A different encoding is a different representation: its ETag does not match.
    let plain = client()
        .get(server.url("/sw.js"))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
}

#[tokio::test]
async fn screens_get_the_app_and_missing_files_get_404() {
    let server = Server::start().await;
    for path in [
        "/settings",
        "/cases/0190c2a4-7a1b-7cc3-8d2e-1f2a3b4c5d6e/visit",
        "/review",
    ] {
        let res = server.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.text().await.unwrap(), INDEX, "{path}");
    }
    for path in [
        "/missing.js",
        "/icons/nope.png",
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
    ] {
        let res = server.get(path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn head_has_headers_without_body_and_writes_are_refused() {
    let server = Server::start().await;
    let res = client()
        .head(server.url(&format!("/{WASM}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, CONTENT_TYPE), "application/wasm");
    assert!(res.bytes().await.unwrap().is_empty());

    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let res = client()
            .request(method.clone(), server.url("/index.html"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(header(&res, reqwest::header::ALLOW), "GET, HEAD");
    }
}

#[tokio::test]
async fn an_oversized_request_is_refused_and_the_server_goes_on() {
    let server = Server::start().await;
    let huge = vec![b'x'; 8 * 1024 * 1024];
    let res = client()
        .post(server.url("/api/health"))
        .header(CONTENT_TYPE, "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let long_path = format!("/api/{}", "a".repeat(16 * 1024));
    let res = server.get(&long_path).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = server.get("/api/health").await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_a_built_app_the_api_still_works_and_pages_say_why() {
    let server = Server::start_with(Assets::default(), tempfile::tempdir().unwrap()).await;
    let res = server.get("/").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.text().await.unwrap().contains("not built"));
    let res = server.get("/api/health").await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn shutdown_is_graceful_and_closes_the_port() {
    let server = Server::start().await;
    let res = server.get("/api/health").await;
    assert_eq!(res.status(), StatusCode::OK);

    let addr = server.addr;
    let result = tokio::time::timeout(Duration::from_secs(30), server.handle.shutdown())
        .await
        .expect("the server stops in time");
    assert!(result.is_ok(), "{result:?}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// The real build in `app/dist` (made by `make test` before the tests run), if there is one.
fn real_build() -> Option<std::path::PathBuf> {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/dist");
    dist.join("index.html").is_file().then_some(dist)
}

#[test]
fn the_fake_build_matches_what_trunk_makes() {
    let Some(dist) = real_build() else {
        return;
    };
    let names: Vec<String> = std::fs::read_dir(&dist)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "index.html",
        "sw.js",
        "manifest.webmanifest",
        "register-sw.js",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let wasm = names
        .iter()
        .find(|n| n.ends_with("_bg.wasm"))
        .expect("a wasm file");
    // Trunk writes its 64-bit hash without leading zeros: 16 hex digits, sometimes fewer.
    let hash = wasm
        .strip_prefix("cris-app-")
        .and_then(|n| n.strip_suffix("_bg.wasm"))
        .unwrap_or_default();
    assert!(
        (12..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "trunk's hashed name {wasm} differs in shape from {WASM}"
    );
}

#[test]
fn the_binary_carries_the_built_app() {
    let embedded = Assets::embedded();
    match real_build() {
        Some(dist) => assert_eq!(
            embedded.len(),
            Assets::from_dir(&dist).unwrap().len(),
            "every file of app/dist is served without --app-dir"
        ),
        None => assert!(embedded.is_empty()),
    }
}

#[tokio::test]
async fn phones_get_the_list_of_forms_and_each_definition() {
    let server = Server::start().await;
    let res = server.get("/api/v1/forms").await;
    assert_eq!(res.status(), StatusCode::OK);
    let list: Vec<cris_core::api::FormSummary> = res.json().await.unwrap();
    let ids: Vec<&str> = list.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["home_visit", "intake"]);
    assert_eq!(list[0].title.get(cris_core::Lang::De), "Hausbesuch");

    for summary in &list {
        let res = server.get(&format!("/api/v1/forms/{}", summary.id)).await;
        assert_eq!(res.status(), StatusCode::OK);
        // What the server sends is a definition the phone's loader accepts as it is.
        let text = res.text().await.unwrap();
        let form = cris_core::form::FormDef::from_json(&text).unwrap();
        assert_eq!(
            (form.id.as_str(), form.version),
            (summary.id.as_str(), summary.version)
        );
    }

    for path in [
        "/api/v1/forms/nope",
        "/api/v1/forms/..%2Fintake",
        "/api/v1/forms/",
    ] {
        let res = server.get(path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body: ApiError = res.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::NotFound, "{path}");
    }
}
