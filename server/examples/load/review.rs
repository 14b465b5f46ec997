//! A supervisor's requests, idle and while phones push, timed per endpoint.

use super::*;

pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
    server: &TestServer,
    token: &str,
    path: &str,
) -> T {
    let res = server
        .client
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert!(
        res.status().is_success(),
        "{path} answered {}",
        res.status()
    );
    res.json().await.expect("an answer")
}

/// One request of the benchmark: a GET, or a POST of `body`.
pub(crate) struct Call {
    pub(crate) path: String,
    pub(crate) token: String,
    pub(crate) body: Option<Vec<u8>>,
}

impl Call {
    fn get(path: String, token: &str) -> Self {
        Call {
            path,
            token: token.to_owned(),
            body: None,
        }
    }

    /// Sends it and reads the whole answer: the time it took.
    async fn send(&self, server: &TestServer) -> Duration {
        let url = server.url(&self.path);
        let started = Instant::now();
        let request = match &self.body {
            None => server.client.get(url),
            Some(body) => server
                .client
                .post(url)
                .header("content-type", "application/json")
                .body(body.clone()),
        };
        let res = request
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        let status = res.status();
        let answer = res.bytes().await.expect("an answer");
        let took = started.elapsed();
        assert!(
            status.is_success(),
            "{} answered {status}: {}",
            self.path,
            String::from_utf8_lossy(&answer)
        );
        took
    }
}

/// The `after` of the first `pages` pages of the queue at `query` (`None` for the first).
pub(crate) async fn pages_of(
    server: &TestServer,
    token: &str,
    query: &str,
    pages: usize,
) -> Vec<Option<String>> {
    let mut afters = vec![None];
    while afters.len() < pages {
        let after = afters.last().cloned().flatten();
        let path = match &after {
            None => format!("/api/v1/review?{query}"),
            Some(after) => format!("/api/v1/review?{query}&after={after}"),
        };
        let page: ReviewPage = get_json(server, token, &path).await;
        match page.next {
            Some(next) => afters.push(Some(next)),
            None => break,
        }
    }
    afters
}

/// Text as a query's value: UTF-8, every byte but ASCII letters and digits escaped.
pub(crate) fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => char::from(b).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn with_page(path: &str, after: &Option<String>) -> String {
    match after {
        None => path.to_owned(),
        Some(after) if path.contains('?') => format!("{path}&after={after}"),
        Some(after) => format!("{path}?after={after}"),
    }
}

/// What the requests are made of: pages of the queue, forms to open and to decide on.
pub(crate) struct Targets {
    pub(crate) status_pages: Vec<Option<String>>,
    pub(crate) new_pages: Vec<Option<String>>,
    pub(crate) intake_pages: Vec<Option<String>>,
    pub(crate) oldest_pages: Vec<Option<String>>,
    /// `after` of pages 11 to 100 of the whole queue.
    pub(crate) deep: Vec<String>,
    /// The team's 5,000 latest forms, and those of them not reviewed yet.
    pub(crate) forms: Vec<String>,
    pub(crate) undecided: Vec<String>,
}

pub(crate) async fn targets(server: &TestServer, seeded: &Seeded) -> Targets {
    let sup = &seeded.supervisor;
    let mut after: Option<String> = None;
    let (mut deep, mut forms, mut undecided) = (Vec::new(), Vec::new(), Vec::new());
    for page in 1..=100 {
        let page_path = with_page("/api/v1/review", &after);
        let got: ReviewPage = get_json(server, sup, &page_path).await;
        for item in got.items {
            if item.status == ReviewStatus::New {
                undecided.push(item.submission_id.clone());
            }
            forms.push(item.submission_id);
        }
        after = got.next;
        match &after {
            Some(next) if (10..100).contains(&page) => deep.push(next.clone()),
            Some(_) => {}
            None => break,
        }
    }
    Targets {
        status_pages: pages_of(server, sup, "status=changes_requested", 5).await,
        new_pages: pages_of(server, sup, "status=new", 5).await,
        intake_pages: pages_of(server, sup, "form=intake", 5).await,
        oldest_pages: pages_of(server, sup, "sort=oldest", 5).await,
        deep,
        forms,
        undecided,
    }
}

/// The endpoints measured, `REQUESTS` calls each: the `run`-th time (decisions go to forms
/// not decided on in an earlier run).
pub(crate) fn endpoints(
    seeded: &Seeded,
    t: &Targets,
    run: usize,
    rng: &mut Rng,
) -> Vec<(&'static str, Vec<Call>)> {
    let (sup, lead) = (&seeded.supervisor, &seeded.lead);
    let n = REQUESTS;
    let cycle = |pages: &[Option<String>], path: &str, i: usize| {
        Call::get(with_page(path, &pages[i % pages.len()]), sup)
    };
    let mut week = Vec::new();
    for i in 0..n {
        let from = seeded.first_day + rng.below(DAYS as usize - 6) as i64;
        let login = &seeded.logins[i % seeded.logins.len()];
        week.push(Call::get(
            format!(
                "/api/v1/review?worker={login}&from={}&to={}",
                day(from),
                day(from + 6)
            ),
            sup,
        ));
    }
    let decisions = (0..n)
        .map(|i| {
            let id = &t.undecided[(run * n + i) % t.undecided.len()];
            let decision = if i % 3 == 0 {
                json!({"decision": "changes_requested", "comment": SENT_BACK[i % SENT_BACK.len()]})
            } else {
                json!({"decision": "approved", "comment": "Danke, vollständig."})
            };
            Call {
                path: format!("/api/v1/review/{id}"),
                token: sup.clone(),
                body: Some(serde_json::to_vec(&decision).expect("serialize")),
            }
        })
        .collect();
    vec![
        (
            "GET  /review (first page)",
            (0..n)
                .map(|_| Call::get("/api/v1/review".into(), sup))
                .collect(),
        ),
        (
            "GET  /review (first page, lead of 4 teams)",
            (0..n)
                .map(|_| Call::get("/api/v1/review".into(), lead))
                .collect(),
        ),
        (
            "GET  /review?status=changes_requested (p. 1-5)",
            (0..n)
                .map(|i| {
                    cycle(
                        &t.status_pages,
                        "/api/v1/review?status=changes_requested",
                        i,
                    )
                })
                .collect(),
        ),
        (
            "GET  /review?status=new (p. 1-5)",
            (0..n)
                .map(|i| cycle(&t.new_pages, "/api/v1/review?status=new", i))
                .collect(),
        ),
        ("GET  /review?worker=&from=&to= (a week)", week),
        (
            "GET  /review?household= (part of a name)",
            (0..n)
                .map(|i| {
                    // "Şen", "sen", "Шен": any spelling of a part of a family name.
                    let start = NAME_STARTS[i % NAME_STARTS.len()];
                    Call::get(format!("/api/v1/review?household={}", percent(start)), sup)
                })
                .collect(),
        ),
        (
            "GET  /review?household=familie (every household)",
            (0..n)
                .map(|_| Call::get("/api/v1/review?household=familie".into(), sup))
                .collect(),
        ),
        (
            "GET  /review?sort=oldest (p. 1-5)",
            (0..n)
                .map(|i| cycle(&t.oldest_pages, "/api/v1/review?sort=oldest", i))
                .collect(),
        ),
        (
            "GET  /review?form=intake (p. 1-5)",
            (0..n)
                .map(|i| cycle(&t.intake_pages, "/api/v1/review?form=intake", i))
                .collect(),
        ),
        (
            "GET  /review?after= (p. 11-100)",
            (0..n)
                .map(|_| {
                    let after = &t.deep[rng.below(t.deep.len())];
                    Call::get(format!("/api/v1/review?after={after}"), sup)
                })
                .collect(),
        ),
        (
            "GET  /review/{id}",
            (0..n)
                .map(|_| {
                    let id = &t.forms[rng.below(t.forms.len())];
                    Call::get(format!("/api/v1/review/{id}"), sup)
                })
                .collect(),
        ),
        ("POST /review/{id}", decisions),
        (
            "GET  /inbox (a worker)",
            (0..n)
                .map(|i| {
                    Call::get(
                        "/api/v1/inbox".into(),
                        &seeded.workers[i % seeded.workers.len()],
                    )
                })
                .collect(),
        ),
        (
            "GET  /dashboard (8 weeks, a team)",
            (0..n)
                .map(|_| Call::get("/api/v1/dashboard".into(), sup))
                .collect(),
        ),
        (
            "GET  /dashboard (26 weeks, lead of 4 teams)",
            (0..n)
                .map(|_| Call::get("/api/v1/dashboard?weeks=26".into(), lead))
                .collect(),
        ),
    ]
}

/// PostgreSQL plans from the statistics ANALYZE gathers, which autovacuum (where it is on)
/// runs about a minute after a table has grown by a tenth. A store filled in seconds has none
/// yet, and its queue is planned as if its tables were nearly empty: the team's whole history
/// joined and sorted for each page (60 ms a page at 50,000 forms, growing with the store;
/// `--no-analyze` shows it). A store grown over 60 days has been analyzed many times: the
/// benchmark's database is analyzed as autovacuum would have. (SQLite: nothing to do.)
pub(crate) async fn analyze(server: &TestServer) {
    use sqlx::Connection;
    if server.store.kind() != "postgres" {
        return;
    }
    let admin = support::admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL");
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'cris_test_%'")
            .fetch_all(&mut conn)
            .await
            .expect("the databases");
    let (base, _) = admin.rsplit_once('/').expect("a database URL");
    // The benchmark's database is the one with its store's instance id.
    for name in names {
        let Ok(mut db) = sqlx::PgConnection::connect(&format!("{base}/{name}")).await else {
            continue;
        };
        let id: Option<String> =
            sqlx::query_scalar("SELECT value FROM server_info WHERE key = 'instance_id'")
                .fetch_optional(&mut db)
                .await
                .ok()
                .flatten();
        if id.as_deref() == Some(server.store.instance_id()) {
            sqlx::query("ANALYZE")
                .execute(&mut db)
                .await
                .expect("ANALYZE");
            return;
        }
    }
    panic!("the benchmark's database is not among the cris_test_ databases");
}

/// Sends every endpoint's calls, one request at a time, taking the endpoints in turn (so
/// that all of them meet the same load), until all are sent or `budget` has passed: each
/// endpoint's latencies, sorted.
pub(crate) async fn play_calls(
    server: &TestServer,
    endpoints: &[(&'static str, Vec<Call>)],
    budget: Duration,
) -> Vec<Vec<Duration>> {
    let started = Instant::now();
    let mut took: Vec<Vec<Duration>> = endpoints.iter().map(|_| Vec::new()).collect();
    for i in 0..REQUESTS {
        if started.elapsed() > budget {
            break;
        }
        for (e, (_, calls)) in endpoints.iter().enumerate() {
            took[e].push(calls[i].send(server).await);
        }
    }
    for t in &mut took {
        t.sort();
    }
    took
}

/// The review benchmark on one store: seeded, then the supervisor's requests idle and while
/// `phones` phones of the four teams push 20 operations each, once a second with a `pace`,
/// else the moment the last batch was answered.
pub(crate) async fn review(
    server: &TestServer,
    phones: usize,
    pace: Option<Duration>,
    statistics: bool,
    dashboard: bool,
) {
    let seeded = seed_review(server).await;
    if dashboard {
        // The first dashboard after the fill summarises every household, once (see
        // server/src/store/dashboard.rs); the next one has nothing to catch up on.
        let started = Instant::now();
        let first: Dashboard = get_json(server, &seeded.lead, "/api/v1/dashboard").await;
        let first_took = started.elapsed();
        let started = Instant::now();
        let _: Dashboard = get_json(server, &seeded.lead, "/api/v1/dashboard").await;
        println!(
            "  first dashboard after the fill (summarises {} households): {:.0} ms; the next: {:.1} ms",
            first.housing.households,
            ms(first_took),
            ms(started.elapsed()),
        );
    }
    if statistics {
        analyze(server).await;
    }
    let t = targets(server, &seeded).await;
    let mut rng = Rng(0x0ddb_a11e);
    // Without the dashboard, if told.
    let measured = |mut calls: Vec<(&'static str, Vec<Call>)>| {
        calls.retain(|(label, _)| dashboard || !label.contains("/dashboard"));
        calls
    };
    let idle_calls = measured(endpoints(&seeded, &t, 0, &mut rng));
    let idle = play_calls(server, &idle_calls, Duration::MAX).await;

    let loaded_calls = measured(endpoints(&seeded, &t, 1, &mut rng));
    let accounts = phone_accounts(server, "field", &TEAMS, phones).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, mut pushes_answered) = tokio::sync::watch::channel(0);
    let answered = Arc::new(answered);
    let measure = async {
        // Measured once as many pushes were answered as there are phones: the load is on.
        pushes_answered
            .wait_for(|n| *n >= phones)
            .await
            .expect("the phones push");
        let took = play_calls(server, &loaded_calls, LOADED_BUDGET).await;
        stop.store(true, Ordering::Relaxed);
        took
    };
    let (loaded, (pushes, wall)) = tokio::join!(
        measure,
        push_from_phones(
            server,
            accounts,
            pace,
            Batches::Until(stop.clone()),
            answered.clone()
        )
    );

    println!(
        "  as the supervisor, one request at a time ({} per endpoint idle, {} while pushing), ms:",
        idle[0].len(),
        loaded[0].len(),
    );
    println!(
        "    {:<46} {:>7} {:>6} | {:>11} {:>6} | p99 < {} ms while pushing",
        "",
        "idle p50",
        "p99",
        "pushing p50",
        "p99",
        TARGET.as_millis()
    );
    for (e, (label, _)) in idle_calls.iter().enumerate() {
        let (i, l) = (&idle[e], &loaded[e]);
        let p99 = percentile(l, 0.99);
        println!(
            "    {label:<46} {:>7.1} {:>6.1} | {:>11.1} {:>6.1} | {}",
            ms(percentile(i, 0.5)),
            ms(percentile(i, 0.99)),
            ms(percentile(l, 0.5)),
            ms(p99),
            if p99 < TARGET { "yes" } else { "NO" },
        );
    }
    println!(
        "  meanwhile {phones} phones each pushing 20 {}: {:.0} requests/s ({} operations in {:.1} s), latency p50 {:.1} ms, p99 {:.1} ms",
        if pace.is_some() {
            "once a second"
        } else {
            "the moment the last was answered"
        },
        pushes.len() as f64 / wall.as_secs_f64(),
        pushes.len() * 20,
        wall.as_secs_f64(),
        ms(percentile(&pushes, 0.5)),
        ms(percentile(&pushes, 0.99)),
    );
}
