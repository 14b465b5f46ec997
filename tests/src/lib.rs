//! Harness for the end-to-end tests: the real CRIS Field server on a free port, chromedriver,
//! and headless Chromium sized like a phone.
//!
//! Needs the built app (`app/dist`, made by `make test`) and Debian's `chromium` and
//! `chromium-driver` packages (installed by `make test`).

use std::future::Future;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub mod bench;
pub mod https;
pub mod phone;
pub mod ui;

pub use cris_core::api::PhonePolicy;
use cris_core::api::Role;
use cris_server::store::NewUser;
use cris_server::{AppState, Assets, CaseStore, FormCatalog, ServerHandle};
use fantoccini::error::CmdError;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use tempfile::TempDir;

/// How long any single wait in these tests may take before it fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// The built app. Fails with the command to run when it is missing.
pub fn built_app_dir() -> PathBuf {
    let dir = workspace_root().join("app/dist");
    assert!(
        dir.join("index.html").is_file() && dir.join("sw.js").is_file(),
        "the app is not built in {}: run `make test`, or `make app`",
        dir.display()
    );
    dir
}

/// Copies a built app to a temporary folder that a test may change.
pub fn copy_app(from: &Path) -> TempDir {
    let to = tempfile::tempdir().expect("temp dir");
    copy_dir(from, to.path());
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

/// Polls `check` until it returns `Some`, failing after [`PATIENCE`] with `what`.
pub async fn wait_until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tick.tick().await;
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
    }
}

/// A free port on the loopback interface.
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// The real server, in this process, on its own SQLite file.
/// The browser's reports of what the Content-Security-Policy blocked fail the test that
/// caused them, when its server goes.
pub struct TestServer {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`, or over TLS `https://<name>:<port>`.
    origin: String,
    app_dir: PathBuf,
    phone: PhonePolicy,
    pub store: CaseStore,
    handle: Option<ServerHandle>,
    csp_reports: Arc<cris_server::security::CspReports>,
    _data: TempDir,
}

impl TestServer {
    /// The logins the audit trail records for `action` (`referral_letter`, `family_copy`, …),
    /// oldest first.
    pub async fn audited(&self, action: &str) -> Vec<Option<String>> {
        self.store
            .audit_entries(&Default::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == action)
            .map(|e| e.login)
            .collect()
    }

    /// Serves the app in `app_dir` on a free port.
    pub async fn start(app_dir: &Path) -> Self {
        Self::start_on(app_dir, "127.0.0.1:0".parse().expect("address")).await
    }

    /// Serves the app in `app_dir` on `addr` (a fixed port lets a "new version" be served at
    /// the same origin).
    pub async fn start_on(app_dir: &Path, addr: SocketAddr) -> Self {
        let forms = FormCatalog::embedded().expect("the built-in forms load");
        Self::start_with(app_dir, addr, forms, PhonePolicy::default(), None).await
    }

    /// Serves the app over HTTPS with `tls`, for a browser that reaches it as `host`.
    pub async fn start_https(app_dir: &Path, tls: Arc<cris_server::Tls>, host: &str) -> Self {
        let forms = FormCatalog::embedded().expect("the built-in forms load");
        let addr = "127.0.0.1:0".parse().expect("address");
        let policy = PhonePolicy::default();
        Self::start_with(app_dir, addr, forms, policy, Some((tls, host))).await
    }

    /// Serves the app with the agency's rules for phones `policy` (a short lock, say).
    pub async fn start_with_policy(app_dir: &Path, policy: PhonePolicy) -> Self {
        let forms = FormCatalog::embedded().expect("the built-in forms load");
        Self::start_with(
            app_dir,
            "127.0.0.1:0".parse().expect("address"),
            forms,
            policy,
            None,
        )
        .await
    }

    /// Serves the app with the form definitions of `forms_dir` (an agency's adapted forms).
    pub async fn start_with_forms(app_dir: &Path, forms_dir: &Path) -> Self {
        let forms = FormCatalog::from_dir(forms_dir).expect("the adapted forms load");
        Self::start_with(
            app_dir,
            "127.0.0.1:0".parse().expect("address"),
            forms,
            PhonePolicy::default(),
            None,
        )
        .await
    }

    async fn start_with(
        app_dir: &Path,
        addr: SocketAddr,
        forms: FormCatalog,
        phone: PhonePolicy,
        tls: Option<(Arc<cris_server::Tls>, &str)>,
    ) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        Self::serve_from(app_dir, addr, forms, phone, tls, data).await
    }

    async fn serve_from(
        app_dir: &Path,
        addr: SocketAddr,
        forms: FormCatalog,
        phone: PhonePolicy,
        tls: Option<(Arc<cris_server::Tls>, &str)>,
        data: TempDir,
    ) -> Self {
        let store = CaseStore::open(&format!("sqlite://{}/cris.db", data.path().display()))
            .await
            .expect("open the store");
        let forms = forms
            .remember_in(&store, cris_server::auth::now_ms())
            .await
            .expect("keep the forms in the store");
        let assets = Assets::from_dir(app_dir).expect("read the app");
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let state = AppState::new(
            store.clone(),
            assets,
            forms,
            cris_server::ConsentConfig::demo(),
            phone,
        );
        let csp_reports = state.csp_reports.clone();
        let (tls, host) = match tls {
            Some((tls, host)) => (Some(tls), Some(host)),
            None => (None, None),
        };
        let handle = cris_server::spawn_over(listener, tls, state).expect("serve");
        let port = handle.addr().port();
        TestServer {
            app_dir: app_dir.to_owned(),
            phone,
            origin: match host {
                Some(host) => format!("https://{host}:{port}"),
                None => format!("http://{}", handle.addr()),
            },
            addr: handle.addr(),
            store,
            handle: Some(handle),
            csp_reports,
            _data: data,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// How many violations of the Content-Security-Policy browsers reported so far.
    pub fn csp_reports(&self) -> u64 {
        self.csp_reports.count()
    }

    /// [`TestServer::csp_reports`], counted from zero again (after violations made on
    /// purpose).
    pub fn take_csp_reports(&self) -> u64 {
        self.csp_reports.take()
    }

    /// Creates an account (invented person) that logs in with `password`.
    pub async fn add_account(
        &self,
        login: &str,
        name: &str,
        role: Role,
        team: &str,
        password: &str,
    ) {
        self.store
            .add_user(
                &NewUser {
                    login: login.into(),
                    display_name: name.into(),
                    role,
                    password_hash: cris_server::auth::hash_password(password),
                    teams: vec![team.into()],
                },
                cris_server::auth::now_ms(),
            )
            .await
            .expect("add an account");
    }

    /// The SQLite file of the case store.
    pub fn db_path(&self) -> PathBuf {
        self._data.path().join("cris.db")
    }

    /// Stops the server, runs `between` on its store's file (a restore, say), and serves the
    /// same app (with the built-in forms) from that file again, at the same address.
    pub async fn restart_after<F, Fut>(mut self, between: F) -> Self
    where
        F: FnOnce(PathBuf) -> Fut,
        Fut: Future<Output = ()>,
    {
        let (addr, db) = (self.addr, self.db_path());
        let handle = self.handle.take().expect("the server runs");
        tokio::time::timeout(PATIENCE, handle.shutdown())
            .await
            .expect("server stops in time")
            .expect("server exits cleanly");
        self.store.close().await;
        between(db).await;
        let data = tempfile::tempdir().expect("temp dir");
        let data = std::mem::replace(&mut self._data, data);
        let (app_dir, phone) = (self.app_dir.clone(), self.phone);
        let forms = FormCatalog::embedded().expect("the built-in forms load");
        Self::serve_from(&app_dir, addr, forms, phone, None, data).await
    }

    /// Stops the server gracefully and waits until its port refuses connections.
    pub async fn stop(mut self) {
        let addr = self.addr;
        let handle = self.handle.take().expect("the server runs");
        tokio::time::timeout(PATIENCE, handle.shutdown())
            .await
            .expect("server stops in time")
            .expect("server exits cleanly");
        wait_until("the port to close", || async move {
            tokio::net::TcpStream::connect(addr)
                .await
                .is_err()
                .then_some(())
        })
        .await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let blocked = self.csp_reports.count();
        if blocked > 0 && !std::thread::panicking() {
            panic!(
                "the browser reported {blocked} Content-Security-Policy violation(s) \
                 (the server's log names the directives)"
            );
        }
    }
}

/// chromedriver on a free port, killed on drop.
pub struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    pub async fn start() -> Self {
        let binary =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        assert!(
            Path::new(&binary).is_file(),
            "chromedriver not found at {binary}: `make test` installs Debian's chromium-driver"
        );
        // A free port may be taken by another test before chromedriver binds it: then
        // chromedriver exits, and it is started again on another port. It is ready when it
        // answers its own status request (not merely when something listens there).
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(&binary)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver");
            let deadline = Instant::now() + PATIENCE;
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            while Instant::now() < deadline {
                tick.tick().await;
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                if chromedriver_ready(port).await {
                    return Chromedriver { child, port };
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("chromedriver did not start");
    }
}

/// Whether chromedriver answers `GET /status` on `port` as ready.
async fn chromedriver_ready(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let request = b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&chunk[..n]),
            _ => break,
        }
        if String::from_utf8_lossy(&answer).contains("\"ready\":true") {
            return true;
        }
    }
    false
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium with a fresh profile, the window sized like a phone (or laptop).
pub struct Browser {
    pub client: Client,
    profile: TempDir,
}

impl Browser {
    pub async fn open(driver: &Chromedriver, width: u32, height: u32, lang: &str) -> Self {
        Self::open_with_args(driver, width, height, lang, &[]).await
    }

    /// [`Browser::open`] with more command-line switches for Chromium.
    pub async fn open_with_args(
        driver: &Chromedriver,
        width: u32,
        height: u32,
        lang: &str,
        extra: &[String],
    ) -> Self {
        let profile = tempfile::tempdir().expect("temp dir");
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--lang={lang}"),
            format!("--window-size={},{}", width.max(500), height),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let args: Vec<String> = args.into_iter().chain(extra.iter().cloned()).collect();
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": args,
                "prefs": { "intl.accept_languages": lang },
                // Headless windows are at least 500 px wide; emulate the device so the page
                // really lays out at `width` CSS pixels.
                "mobileEmulation": {
                    "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0, "touch": width < 600, "mobile": width < 600 },
                },
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("start a Chromium session");
        Browser { client, profile }
    }

    /// Waits until an element matching the XPath expression exists.
    pub async fn wait_for_xpath(&self, xpath: &str) -> fantoccini::elements::Element {
        self.wait_at_most(PATIENCE, xpath).await
    }

    /// [`Browser::wait_for_xpath`] on a fresh profile's first page: the browser compiles the
    /// app's 2 MB of WebAssembly for the first time, which on two shared cores with other
    /// browsers starting alongside can take longer than any later step.
    pub async fn wait_for_first_page(&self, xpath: &str) -> fantoccini::elements::Element {
        self.wait_at_most(PATIENCE * 3, xpath).await
    }

    async fn wait_at_most(&self, patience: Duration, xpath: &str) -> fantoccini::elements::Element {
        let deadline = std::time::Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self
                .client
                .wait()
                .at_most(left)
                .for_element(Locator::XPath(xpath))
                .await
            {
                Ok(element) => return element,
                // The page navigated while it was looked at (the app reloading itself, as
                // after a wipe): look again in the new page (the wait polls on its own).
                Err(err)
                    if err.to_string().contains("aborted by navigation") && !left.is_zero() => {}
                Err(err) => panic!("no element {xpath}: {err}"),
            }
        }
    }

    /// Waits until the app's `<h1>` reads exactly `text` (not the page's own login form, shown
    /// before the app has started).
    pub async fn wait_for_heading(&self, text: &str) {
        self.wait_for_xpath(&format!(
            "//h1[not(ancestor::*[@id='starting'])][normalize-space()={}]",
            xpath_literal(text)
        ))
        .await;
    }

    /// Waits until a service worker controls the page, i.e. the app shell is cached.
    pub async fn wait_for_service_worker(&self) {
        let script = r#"
            const done = arguments[arguments.length - 1];
            const sw = navigator.serviceWorker;
            if (sw.controller) { done(true); return; }
            sw.addEventListener("controllerchange", () => done(!!sw.controller));
        "#;
        let controlled = tokio::time::timeout(PATIENCE, self.client.execute_async(script, vec![]))
            .await
            .expect("a service worker takes control in time")
            .expect("script runs");
        assert_eq!(controlled, serde_json::Value::Bool(true));
    }

    /// Runs `script` (which may `return` a value or a promise) in the page.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.try_eval(script)
            .await
            .unwrap_or_else(|err| panic!("script failed: {err}"))
    }

    /// Like [`Browser::eval`], but an error (e.g. the page reloading meanwhile) is returned.
    pub async fn try_eval(&self, script: &str) -> Result<serde_json::Value, CmdError> {
        let wrapped = format!(
            "const done = arguments[arguments.length - 1];\
             Promise.resolve((async () => {{ {script} }})()).then(done, (e) => done('error: ' + e));"
        );
        self.client.execute_async(&wrapped, vec![]).await
    }

    /// The files the page has fetched so far, by name (without their hash and folder).
    pub async fn fetched(&self) -> Vec<String> {
        self.files("return performance.getEntriesByType('resource').map((e) => e.name);")
            .await
    }

    /// The files the service worker keeps for this origin, in any of its caches, by name as
    /// [`Browser::fetched`] gives them.
    pub async fn cached(&self) -> Vec<String> {
        self.files(
            "const urls = [];
             for (const name of await caches.keys()) {
               const cache = await caches.open(name);
               urls.push(...(await cache.keys()).map((r) => r.url));
             }
             return urls;",
        )
        .await
    }

    /// The URLs that `script` returns, as file names without their hash (`-` and 16 hex digits).
    async fn files(&self, script: &str) -> Vec<String> {
        let urls: Vec<String> = serde_json::from_value(self.eval(script).await)
            .unwrap_or_else(|e| panic!("a list of URLs: {e}"));
        let hashed = |name: &str, at: usize| {
            name.get(at + 1..at + 17)
                .is_some_and(|hash| hash.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        urls.iter()
            .map(|url| {
                let path = url.split(['?', '#']).next().unwrap_or_default();
                let name = path.rsplit('/').next().unwrap_or_default();
                match name.match_indices('-').find(|&(at, _)| hashed(name, at)) {
                    Some((at, _)) => format!("{}{}", &name[..at], &name[at + 17..]),
                    None => name.to_owned(),
                }
            })
            .collect()
    }

    /// Saves a PNG of the viewport under `target/screenshots/`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = workspace_root().join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(name);
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Slows the page's CPU down `rate` times (1.0: full speed), as on a cheap phone, through
    /// the Chrome DevTools protocol that chromedriver relays.
    pub async fn throttle_cpu(&self, rate: f64) {
        self.devtools(
            "Emulation.setCPUThrottlingRate",
            serde_json::json!({ "rate": rate }),
        )
        .await;
    }

    /// Sends a Chrome DevTools protocol command (`Storage.overrideQuotaForOrigin`, ...).
    pub async fn devtools(
        &self,
        cmd: &'static str,
        params: serde_json::Value,
    ) -> serde_json::Value {
        self.client
            .issue_cmd(DevTools { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("DevTools {cmd}: {e}"))
    }

    /// Cuts the phone off the network (or connects it again), as DevTools' "Offline" does:
    /// requests fail and the page gets its `offline` / `online` events.
    pub async fn set_offline(&self, offline: bool) {
        // Network conditions apply only while the Network domain is on.
        self.devtools("Network.enable", serde_json::json!({})).await;
        self.devtools(
            "Network.emulateNetworkConditions",
            serde_json::json!({
                "offline": offline,
                "latency": 0,
                "downloadThroughput": -1,
                "uploadThroughput": -1,
            }),
        )
        .await;
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }

    /// Closes the browser (which writes everything out) and hands over its profile folder:
    /// what a finder of the phone could copy.
    pub async fn close_keeping_profile(self) -> TempDir {
        let _ = self.client.close().await;
        self.profile
    }
}

/// Quotes `text` as an XPath string literal.
pub fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// A Chrome DevTools protocol command, sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct DevTools {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}
