//! Test support shared by the server's integration tests: a fresh PostgreSQL database per
//! test, on the server this machine runs (127.0.0.1:5432; `CRIS_TEST_POSTGRES` names another).

#![allow(dead_code)]

// (Integration tests only: examples share this module but have no binary to run.)
#[cfg(test)]
pub mod process;

use sqlx::Connection;
use sqlx::postgres::PgConnection;

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

/// An account in `teams` with a live session, made in `store` directly: its token. (No
/// password: logging in has tests of its own.)
pub async fn account_on(
    store: &cris_server::CaseStore,
    login: &str,
    role: cris_core::api::Role,
    teams: &[&str],
) -> String {
    let now = cris_server::auth::now_ms();
    let user = store
        .add_user(
            &cris_server::store::NewUser {
                login: login.into(),
                display_name: format!("{login} (test)"),
                role,
                password_hash: "not a usable hash".into(),
                teams: teams.iter().map(|t| t.to_string()).collect(),
            },
            now,
        )
        .await
        .unwrap();
    session_on(store, &user.id, now + 86_400_000).await
}

/// A new session of the user with this id, ending at `expires_ms`: its token.
pub async fn session_on(store: &cris_server::CaseStore, user_id: &str, expires_ms: i64) -> String {
    let token = cris_server::auth::new_token();
    store
        .add_session(&cris_server::store::NewSession {
            token_hash: cris_server::auth::token_hash(&token),
            user_id: user_id.into(),
            device_id: new_uuid(),
            created_ms: cris_server::auth::now_ms(),
            expires_ms,
        })
        .await
        .unwrap();
    token
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

pub fn new_uuid() -> String {
    cris_server::store::new_id(cris_server::auth::now_ms())
}

fn load_form(id: &str) -> std::sync::Arc<cris_core::form::FormDef> {
    static FORMS: std::sync::OnceLock<cris_server::FormCatalog> = std::sync::OnceLock::new();
    FORMS
        .get_or_init(|| cris_server::FormCatalog::embedded().unwrap())
        .get(id)
        .unwrap()
}

fn example(id: &str) -> cris_core::form::Answers {
    static EXAMPLES: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, cris_core::form::Answers>>,
    > = std::sync::OnceLock::new();
    let mut cache = EXAMPLES.get_or_init(Default::default).lock().unwrap();
    cache
        .entry(id.to_owned())
        .or_insert_with(|| {
            let path = format!(
                "{}/../core/tests/data/{id}-example.json",
                env!("CARGO_MANIFEST_DIR")
            );
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        })
        .clone()
}

/// The submission a form's operation carries, to change in a test.
pub fn submission_mut(op: &mut cris_core::record::Operation) -> &mut cris_core::record::Submission {
    match &mut op.change {
        cris_core::record::Change::Submit { submission, .. } => submission,
        _ => panic!("not a form's operation"),
    }
}

/// A finalized form as a phone sends it: the realistic example answers of the shipped form
/// `form_id` (invented people), with `changes` on top, on `case_id`, made on `device` at
/// `wall_ms`. Each case property it sets replaces the values stamped `seen`.
pub fn submit_op(
    form_id: &str,
    case_id: &str,
    device: &str,
    wall_ms: u64,
    changes: &[(&str, &str)],
    seen: &[cris_core::hlc::Hlc],
) -> cris_core::record::Operation {
    use cris_core::record::{Change, FieldWrite, Operation, Submission};
    let form = load_form(form_id);
    let mut answers = example(form_id);
    for (name, value) in changes {
        answers = answers.with(name, value);
    }
    let properties = form
        .case_changes(&answers)
        .into_iter()
        .map(|(name, value)| {
            let seen = seen.to_vec();
            (name, FieldWrite { value, seen })
        })
        .collect();
    let hlc = cris_core::hlc::Hlc {
        wall_ms,
        counter: 0,
        device: device.into(),
    };
    Operation {
        op_id: new_uuid(),
        device: device.into(),
        hlc,
        created_at_ms: wall_ms as f64,
        case_id: case_id.into(),
        change: Change::Submit {
            submission: Submission {
                id: new_uuid(),
                form_id: form_id.into(),
                form_version: form.version,
                case_id: case_id.into(),
                device: device.into(),
                answers,
                started_at_ms: wall_ms as f64 - 600_000.0,
                finalized_at_ms: wall_ms as f64,
                corrects: None,
                team: None,
            },
            properties,
        },
    }
}

/// A signature as a finger draws one: a wavy line across most of the pad.
pub fn signature() -> cris_core::consent::Signature {
    let stroke = (0..40)
        .map(|i| cris_core::consent::Point {
            x: 200 + i * 60,
            y: 600 + ((i % 7) - 3) * 40,
            t_ms: u32::try_from(i).unwrap() * 16,
            pressure: Some(500),
        })
        .collect();
    cris_core::consent::Signature {
        width: 3200,
        height: 1200,
        strokes: vec![stroke],
    }
}

/// A consent as the phone makes it, sealed: on the current texts of `config`, shown in
/// Bulgarian with `agency`'s details, signed by an invented mother on `device` at `wall_ms`.
/// She agrees to school contact and the housing search, and releases the housing office
/// (household and housing records, for the housing search) until withdrawn.
pub fn consent(
    config: &cris_server::ConsentConfig,
    agency: &cris_core::consent::text::Agency,
    case_id: &str,
    device: &str,
    wall_ms: u64,
) -> cris_core::consent::Consent {
    use cris_core::consent::*;
    use cris_core::lang::Lang;
    let texts = config.texts();
    let shown = |id: &str| texts.current(id).unwrap().shown(Lang::Bg, agency).unwrap();
    Consent {
        id: new_uuid(),
        case_id: case_id.into(),
        notice: shown("notice"),
        text: shown("consent"),
        purposes: vec!["school_contact".into(), "housing_search".into()],
        releases: vec![Release {
            recipient: "housing_office".into(),
            records: vec!["household".into(), "housing".into()],
            purpose: "housing_search".into(),
            duration: Duration::Recurring,
        }],
        signer: Signer {
            name: "Fatme Testova".into(),
            role: SignerRole::Themselves,
        },
        signature: signature(),
        witness: "ayse.w".into(),
        witness_name: None,
        interpreter: Some("Emel Tercümanova".into()),
        identity_check: IdentityCheck::IdCard,
        signed_at_ms: i64::try_from(wall_ms).unwrap(),
        device: device.into(),
        hlc: cris_core::hlc::Hlc {
            wall_ms,
            counter: 0,
            device: device.into(),
        },
        binding: String::new(),
    }
    .seal()
    .unwrap()
}

/// A withdrawal of `scope` of `consent`, attested by the worker, made on the consent's device
/// at `wall_ms`.
pub fn withdrawal(
    consent: &cris_core::consent::Consent,
    scope: cris_core::consent::Scope,
    wall_ms: u64,
) -> cris_core::consent::Withdrawal {
    use cris_core::consent::*;
    Withdrawal {
        id: new_uuid(),
        case_id: consent.case_id.clone(),
        consent_id: consent.id.clone(),
        scope,
        given: Given::Attested {
            note: "Am Telefon widerrufen".into(),
        },
        witness: "ayse.w".into(),
        witness_name: None,
        lang: None,
        at_ms: i64::try_from(wall_ms).unwrap(),
        device: consent.device.clone(),
        hlc: cris_core::hlc::Hlc {
            wall_ms,
            counter: 0,
            device: consent.device.clone(),
        },
        binding: String::new(),
    }
    .seal()
    .unwrap()
}

/// The operation that carries a consent or a withdrawal to the server.
pub fn sealed_op(change: cris_core::record::Change) -> cris_core::record::Operation {
    use cris_core::record::Change;
    let (case_id, hlc) = match &change {
        Change::Consent { consent } => (consent.case_id.clone(), consent.hlc.clone()),
        Change::Withdraw { withdrawal } => (withdrawal.case_id.clone(), withdrawal.hlc.clone()),
        _ => panic!("not a consent or a withdrawal"),
    };
    cris_core::record::Operation {
        op_id: new_uuid(),
        device: hlc.device.clone(),
        created_at_ms: hlc.wall_ms as f64,
        hlc,
        case_id,
        change,
    }
}

pub fn consent_op(consent: &cris_core::consent::Consent) -> cris_core::record::Operation {
    sealed_op(cris_core::record::Change::Consent {
        consent: Box::new(consent.clone()),
    })
}

pub fn withdraw_op(withdrawal: &cris_core::consent::Withdrawal) -> cris_core::record::Operation {
    sealed_op(cris_core::record::Change::Withdraw {
        withdrawal: Box::new(withdrawal.clone()),
    })
}

/// A change of households made on `device` now (a merge, its undoing, a finding that two
/// are distinct), on `case_id`.
pub fn link_op(
    case_id: &str,
    device: &str,
    change: cris_core::record::Change,
) -> cris_core::record::Operation {
    let wall_ms = cris_server::auth::now_ms() as u64;
    cris_core::record::Operation {
        op_id: new_uuid(),
        device: device.into(),
        hlc: cris_core::hlc::Hlc {
            wall_ms,
            counter: 0,
            device: device.into(),
        },
        created_at_ms: wall_ms as f64,
        case_id: case_id.into(),
        change,
    }
}

/// A GET over HTTP, with the token if one is given.
pub async fn get(server: &TestServer, token: Option<&str>, path: &str) -> reqwest::Response {
    let mut req = server.client.get(server.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

/// The error an answer carries, its status and code checked: its message, to check further.
pub async fn error(
    res: reqwest::Response,
    status: reqwest::StatusCode,
    code: cris_core::api::ErrorCode,
) -> String {
    assert_eq!(res.status(), status);
    let body: cris_core::api::ApiError = res.json().await.unwrap();
    assert_eq!(body.code, code, "{}", body.message);
    body.message
}

/// A store on a server of this test's own, for filling with SQL directly.
pub struct Filled {
    handle: cris_server::ServerHandle,
    client: reqwest::Client,
    token: String,
    _keep: (Option<tempfile::TempDir>, Option<TestPg>),
}

/// `n` home visits on the case `case_id` of the team `team` of a supervisor (`sabine.s`), received at 1970-01-01 00:00:01
/// and after (a millisecond apart), each carried by an operation with `body`, written with SQL
/// (pushing them would take minutes): the server, and the supervisor's token.
pub async fn filled(postgres: bool, n: i64, body: &str, team: &str, case_id: &str) -> Filled {
    let (url, keep) = if postgres {
        let pg = TestPg::create().await;
        (pg.url.clone(), (None, Some(pg)))
    } else {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/cris.db", dir.path().display());
        (url, (Some(dir), None))
    };
    let store = cris_server::CaseStore::open(&url).await.unwrap();
    let token = account_on(
        &store,
        "sabine.s",
        cris_core::api::Role::Supervisor,
        &[team],
    )
    .await;
    account_on(&store, "ayse.w", cris_core::api::Role::Worker, &[team]).await;
    let users = store.users().await.unwrap();
    let ayse = &users.iter().find(|u| u.login == "ayse.w").unwrap().id;
    let numbers = if postgres {
        "SELECT i FROM generate_series(1, $3) AS i"
    } else {
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $3) SELECT i FROM n"
    };
    // Each statement with the parameters it takes: the case, the worker, n and the body.
    let statements = [
        (
            "INSERT INTO cases (id, team_id, created_ms)
             SELECT $1, team_id, 0 FROM team_members WHERE user_id = $2"
                .to_owned(),
            2,
        ),
        (
            format!(
                "INSERT INTO ops (op_id, case_id, user_id, device_id, hlc, received_ms, body)
                 SELECT 'op' || i, $1, $2, 'phone', 'hlc' || i, 1000 + i, $4 FROM ({numbers}) n"
            ),
            4,
        ),
        (
            format!(
                "INSERT INTO submissions (id, case_id, form_id, form_version, op_id, user_id,
                     received_ms, finalized_ms, review_status)
                 SELECT 'visit' || i, $1, 'home_visit', 2, 'op' || i, $2, 1000 + i, 1000 + i, 'new'
                 FROM ({numbers}) n"
            ),
            3,
        ),
    ];
    macro_rules! run {
        ($pool:expr) => {{
            let pool = $pool;
            for (sql, params) in &statements {
                let mut q = sqlx::query(sql).bind(case_id).bind(ayse);
                if *params > 2 {
                    q = q.bind(n);
                }
                if *params > 3 {
                    q = q.bind(body);
                }
                q.execute(&pool).await.unwrap();
            }
            pool.close().await;
        }};
    }
    if postgres {
        run!(sqlx::PgPool::connect(&url).await.unwrap());
    } else {
        run!(sqlx::SqlitePool::connect(&url).await.unwrap());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let state = cris_server::AppState::new(
        store,
        no_app(),
        cris_server::FormCatalog::embedded().unwrap(),
        cris_server::ConsentConfig::demo(),
        Default::default(),
    );
    Filled {
        handle: cris_server::spawn(listener, state).unwrap(),
        client: reqwest::Client::new(),
        token,
        _keep: keep,
    }
}

impl Filled {
    /// `GET /api/v1/export{query}` as the supervisor.
    pub async fn get(&self, query: &str) -> reqwest::Response {
        self.client
            .get(format!(
                "http://{}/api/v1/export{query}",
                self.handle.addr()
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }
}

/// Pushes `ops` as the account of `token`: the outcome of each, in order.
pub async fn push(
    server: &TestServer,
    token: &str,
    ops: &[cris_core::record::Operation],
) -> Vec<cris_core::sync::Outcome> {
    let res = server
        .client
        .post(server.url("/api/v1/ops"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "ops": ops }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK, "{}", kind(server));
    let body: cris_core::sync::PushResponse = res.json().await.unwrap();
    body.results.into_iter().map(|r| r.outcome).collect()
}

/// Pushes `ops`, every one of which must be applied.
pub async fn push_applied(server: &TestServer, token: &str, ops: &[cris_core::record::Operation]) {
    for outcome in push(server, token, ops).await {
        assert_eq!(
            outcome,
            cris_core::sync::Outcome::Applied,
            "{}",
            kind(server)
        );
    }
}

/// Polls `check` until it returns `Some`, failing after a minute with `what`.
pub async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(50));
    loop {
        tick.tick().await;
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
    }
}
