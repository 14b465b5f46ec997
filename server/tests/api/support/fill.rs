//! A store filled with many operations at once, for the export and load programs.

use super::*;

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
