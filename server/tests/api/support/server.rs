//! Servers to test: a fresh PostgreSQL database per test, on the server this machine runs
//! (127.0.0.1:5432; `CRIS_TEST_POSTGRES` names another), and the server over real HTTP on
//! port 0, on either store.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::*;

/// The maintenance database used to create and drop test databases.
pub fn admin_url() -> String {
    std::env::var("CRIS_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database of its own, dropped (with its connections) when the test ends.
pub struct TestPg {
    pub url: String,
    name: String,
}

impl TestPg {
    pub async fn create() -> Self {
        let mut random = [0u8; 8];
        getrandom::getrandom(&mut random).unwrap();
        let name = format!(
            "cris_test_{}",
            random
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let admin = admin_url();
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} (make test needs it running): {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        conn.close().await.ok();
        let (base, _) = admin.rsplit_once('/').expect("a database URL");
        TestPg {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for TestPg {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async: a thread with a runtime of its own does the dropping.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// A server over real HTTP on port 0, on a fresh store.
pub struct TestServer {
    pub handle: cris_server::ServerHandle,
    pub store: cris_server::CaseStore,
    pub client: reqwest::Client,
    /// The consent texts and agency details it serves (the demo agency unless told).
    pub consent: std::sync::Arc<cris_server::ConsentConfig>,
    _keep: (Option<tempfile::TempDir>, Option<TestPg>),
}

/// Which store a test runs on, for messages.
pub fn kind(server: &TestServer) -> &'static str {
    server.store.kind()
}

impl TestServer {
    /// The SQLite file it runs on, if it does.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self._keep.0.as_ref().map(|d| d.path().join("cris.db"))
    }

    /// The PostgreSQL database it runs on, if it does.
    #[allow(dead_code)]
    pub fn pg_url(&self) -> Option<&str> {
        self._keep.1.as_ref().map(|pg| pg.url.as_str())
    }

    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store =
            cris_server::CaseStore::open(&format!("sqlite://{}/cris.db", dir.path().display()))
                .await
                .unwrap();
        Self::on(store, (Some(dir), None)).await
    }

    pub async fn postgres() -> Self {
        let pg = TestPg::create().await;
        let store = cris_server::CaseStore::open(&pg.url).await.unwrap();
        Self::on(store, (None, Some(pg))).await
    }

    /// A server on `store` (kept by the caller).
    pub async fn on_store(store: cris_server::CaseStore) -> Self {
        Self::on(store, (None, None)).await
    }

    async fn on(
        store: cris_server::CaseStore,
        keep: (Option<tempfile::TempDir>, Option<TestPg>),
    ) -> Self {
        let forms = cris_server::FormCatalog::embedded().unwrap();
        Self::on_with(store, keep, forms, cris_server::ConsentConfig::demo()).await
    }

    /// Another server on this one's store, serving `forms` (an agency's adapted forms).
    #[allow(dead_code)]
    pub async fn sharing_store(&self, forms: cris_server::FormCatalog) -> Self {
        let consent = cris_server::ConsentConfig::demo();
        Self::on_with(self.store.clone(), (None, None), forms, consent).await
    }

    /// Another server on this one's store with other consent settings (`agency: None`: a
    /// server started without `--agency`).
    pub async fn with_agency(&self, agency: Option<cris_core::consent::text::Agency>) -> Self {
        let forms = cris_server::FormCatalog::embedded().unwrap();
        let consent = cris_server::ConsentConfig::embedded(agency).unwrap();
        Self::on_with(self.store.clone(), (None, None), forms, consent).await
    }

    async fn on_with(
        store: cris_server::CaseStore,
        keep: (Option<tempfile::TempDir>, Option<TestPg>),
        forms: cris_server::FormCatalog,
        consent: cris_server::ConsentConfig,
    ) -> Self {
        let consent = std::sync::Arc::new(consent);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let state = cris_server::AppState::new(
            store.clone(),
            no_app(),
            forms,
            consent.clone(),
            Default::default(),
        );
        TestServer {
            handle: cris_server::spawn(listener, state).unwrap(),
            store,
            client: reqwest::Client::new(),
            consent,
            _keep: keep,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.handle.addr())
    }

    /// An account in `teams` with a live session: its token.
    pub async fn account(&self, login: &str, role: cris_core::api::Role, teams: &[&str]) -> String {
        account_on(&self.store, login, role, teams).await
    }

    /// A new session of the user with this id, ending at `expires_ms`: its token.
    pub async fn session(&self, user_id: &str, expires_ms: i64) -> String {
        session_on(&self.store, user_id, expires_ms).await
    }
}

/// Runs `test` on a server with SQLite, then on one with PostgreSQL.
pub async fn on_both<F, Fut>(test: F)
where
    F: Fn(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    test(TestServer::sqlite().await).await;
    test(TestServer::postgres().await).await;
}

/// A server without the app's files: the API alone.
pub fn no_app() -> cris_server::Assets {
    cris_server::Assets::default()
}
