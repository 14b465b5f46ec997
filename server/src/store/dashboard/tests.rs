use super::*;

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn days(s: &str) -> i64 {
    i64::from(date(s).days())
}

#[test]
fn weeks_run_from_monday_and_the_last_holds_to() {
    let filter = DashboardFilter {
        team: None,
        to: date("2026-03-04"), // a Wednesday
        weeks: 3,
    };
    let weeks: Vec<String> = filter.week_starts().iter().map(Date::to_string).collect();
    assert_eq!(weeks, ["2026-02-16", "2026-02-23", "2026-03-02"]);
    let monday = DashboardFilter {
        to: date("2026-03-02"),
        weeks: 1,
        ..filter
    };
    assert_eq!(monday.week_starts(), [date("2026-03-02")]);
}

#[test]
fn workers_without_visits_are_listed_and_names_sort_as_people_read_them() {
    let filter = DashboardFilter {
        team: None,
        to: date("2026-03-04"),
        weeks: 2,
    };
    let counted = Counted {
        teams: vec!["Nord".into()],
        workers: vec![
            ("zeynep".into(), "Zeynep Test".into()),
            ("sahin".into(), "Şahin Test".into()),
            ("anna".into(), "Anna Test".into()),
        ],
        // By day: the Monday, Sunday and Wednesday of the first week, the second's Monday.
        visits: vec![
            ("zeynep".into(), "Zeynep Test".into(), days("2026-02-23"), 1),
            ("zeynep".into(), "Zeynep Test".into(), days("2026-03-01"), 1),
            ("zeynep".into(), "Zeynep Test".into(), days("2026-03-02"), 3),
            ("lead".into(), "Lea Lead".into(), days("2026-03-04"), 1),
        ],
        ..Counted::default()
    };
    let d = dashboard_of(&filter, counted).unwrap();
    let rows: Vec<(&str, &[u32], u32)> = d
        .visits
        .iter()
        .map(|w| (w.login.as_str(), w.per_week.as_slice(), w.total))
        .collect();
    assert_eq!(
        rows,
        [
            ("anna", &[0, 0][..], 0),
            ("lead", &[0, 1][..], 1),
            ("sahin", &[0, 0][..], 0),
            ("zeynep", &[2, 3][..], 5),
        ]
    );
}

fn sealed(purposes: &[&str], releases: &[(&str, consent::Duration)]) -> Consent {
    use cris_core::consent::*;
    let device = "0192b3c4-0000-7000-8000-00000000d001";
    let stroke = (0..40)
        .map(|i| Point {
            x: 200 + i * 60,
            y: 600 + ((i % 7) - 3) * 40,
            t_ms: 16 * i as u32,
            pressure: None,
        })
        .collect();
    let shown = |id: &str| ShownText {
        id: id.into(),
        version: 1,
        lang: cris_core::Lang::De,
        sha256: sha256_hex(id.as_bytes()),
    };
    Consent {
        id: format!("consent-{}-{}", purposes.len(), releases.len()),
        case_id: "case-1".into(),
        notice: shown("notice"),
        text: shown("consent"),
        purposes: purposes.iter().map(|p| (*p).to_owned()).collect(),
        releases: releases
            .iter()
            .map(|(recipient, duration)| Release {
                recipient: (*recipient).into(),
                records: vec!["housing".into()],
                purpose: "housing_search".into(),
                duration: *duration,
            })
            .collect(),
        signer: Signer {
            name: "Fatme Testova".into(),
            role: SignerRole::Themselves,
        },
        signature: Signature {
            width: 3200,
            height: 1200,
            strokes: vec![stroke],
        },
        witness: "ayse.w".into(),
        witness_name: None,
        interpreter: None,
        identity_check: IdentityCheck::IdCard,
        signed_at_ms: 1_795_000_000_000,
        device: device.into(),
        hlc: cris_core::hlc::Hlc {
            wall_ms: 1_795_000_000_000,
            counter: 0,
            device: device.into(),
        },
        binding: String::new(),
    }
    .seal()
    .unwrap()
}

fn withdrawn(of: &Consent, scope: consent::Scope) -> Withdrawal {
    use cris_core::consent::*;
    Withdrawal {
        id: format!("w-{}", of.id),
        case_id: of.case_id.clone(),
        consent_id: of.id.clone(),
        scope,
        given: Given::Attested {
            note: "Am Telefon widerrufen".into(),
        },
        witness: "ayse.w".into(),
        witness_name: None,
        lang: None,
        at_ms: 1_796_000_000_000,
        device: of.device.clone(),
        hlc: of.hlc.clone(),
        binding: String::new(),
    }
    .seal()
    .unwrap()
}

#[test]
fn a_consent_is_in_force_until_its_last_grant_ends() {
    use consent::Duration::{Once, Recurring, Until};
    assert_eq!(consent_until(&[], &[]), None);
    let purpose = sealed(&["school_contact"], &[]);
    assert_eq!(
        consent_until(std::slice::from_ref(&purpose), &[]),
        Some(UNTIL_WITHDRAWN)
    );
    let all = withdrawn(&purpose, consent::Scope::All);
    assert_eq!(consent_until(&[purpose], &[all]), None);

    // Releases for a time: the latest end counts, also beside a single transfer that
    // lasts (a shorter release of the same recipient does not hide it).
    let timed = sealed(
        &[],
        &[
            ("housing_office", Until(date("2026-12-31"))),
            ("school", Until(date("2027-06-30"))),
        ],
    );
    assert_eq!(
        consent_until(std::slice::from_ref(&timed), &[]),
        Some(days("2027-06-30"))
    );
    let school = withdrawn(&timed, consent::Scope::Recipients(vec!["school".into()]));
    assert_eq!(consent_until(&[timed], &[school]), Some(days("2026-12-31")));
    let once = sealed(
        &[],
        &[
            ("housing_office", Until(date("2026-12-31"))),
            ("housing_office", Once),
        ],
    );
    assert_eq!(consent_until(&[once], &[]), Some(UNTIL_WITHDRAWN));
    let open = sealed(&[], &[("school", Recurring)]);
    assert_eq!(consent_until(&[open], &[]), Some(UNTIL_WITHDRAWN));

    // The same as the fold says, day by day.
    let timed = sealed(&[], &[("school", Until(date("2027-06-30")))]);
    for (day, in_force) in [("2027-06-30", true), ("2027-07-01", false)] {
        let state = consent::state(std::slice::from_ref(&timed), &[], date(day));
        assert_eq!(grants(&state), in_force, "{day}");
        let until = consent_until(std::slice::from_ref(&timed), &[]).unwrap();
        assert_eq!(until >= days(day), in_force, "{day}");
    }
}

fn summary(case_id: &str, seq: i64, housing: &str, dues: &[i64]) -> CaseSummary {
    CaseSummary {
        case_id: case_id.into(),
        team_id: "t".into(),
        seq,
        household_name: "Familie Test".into(),
        housing: Some(housing.into()),
        housing_conflict: false,
        open_steps: dues.len() as i64,
        dues: dues.to_vec(),
        last_visit: None,
        consent_until: None,
        consents: 0,
        withdrawals: 0,
        merged_into: None,
    }
}

/// A SQLite store in a folder of its own (kept while the folder is), and a pool on it.
async fn sqlite_store() -> (tempfile::TempDir, crate::store::CaseStore, sqlx::SqlitePool) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cris.db", dir.path().display());
    let store = crate::store::CaseStore::open(&url).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    (dir, store, pool)
}

#[tokio::test]
async fn a_summary_never_replaces_one_made_from_more_of_the_log() {
    let (_dir, store, pool) = sqlite_store().await;
    let pool = &pool;
    sqlx::query("INSERT INTO teams (id, name, created_ms) VALUES ('t', 'Team', 0)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO cases (id, team_id, created_ms) VALUES ('c', 't', 0)")
        .execute(pool)
        .await
        .unwrap();
    let read = || async {
        let row: (i64, String, Option<i64>, String) = sqlx::query_as(
            "SELECT seq, housing, first_due, dues FROM case_summaries WHERE case_id = 'c'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        let mark: i64 = sqlx::query_scalar("SELECT seq FROM case_summaries_watermark")
            .fetch_one(pool)
            .await
            .unwrap();
        (row.0, row.1, row.2, row.3, mark)
    };
    let newer = [summary("c", 7, "shelter", &[20, 20, 30])];
    store
        .write_case_summaries(&newer, &[], Some(7))
        .await
        .unwrap();
    let expected = (7, "shelter".to_owned(), Some(20), "20,20,30".to_owned(), 7);
    assert_eq!(read().await, expected);
    // A refresh that began earlier writes late: it changes nothing, the watermark stays.
    let older = [summary("c", 5, "sublet", &[10])];
    store
        .write_case_summaries(&older, &[], Some(5))
        .await
        .unwrap();
    assert_eq!(read().await, expected);
    // A later one replaces it, steps and all.
    let later = [summary("c", 9, "own_flat", &[])];
    store
        .write_case_summaries(&later, &[], Some(9))
        .await
        .unwrap();
    assert_eq!(read().await, (9, "own_flat".into(), None, String::new(), 9));
}

/// A row of `household_counts`.
type CountRow = (String, String, bool, i64, i64, i64, i64);

/// Checks that the counts kept are those of the tables they count, and returns the
/// households' counts.
async fn counts_agree(pool: &sqlx::SqlitePool) -> Vec<CountRow> {
    let recounted: Vec<CountRow> = sqlx::query_as(
        "SELECT team_id, COALESCE(housing, ''), housing_conflict,
                COALESCE(consent_until, -9223372036854775808), COUNT(*), SUM(consents),
                SUM(withdrawals)
         FROM case_summaries WHERE merged_into IS NULL
         GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let kept: Vec<CountRow> = sqlx::query_as(
        "SELECT team_id, housing, housing_conflict, consent_until, households, consents,
                withdrawals
         FROM household_counts ORDER BY 1, 2, 3, 4",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(kept, recounted);
    let recounted: Vec<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT team_id, day, user_id, COUNT(*) FROM case_summary_visits
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let visits: Vec<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT team_id, day, user_id, visits FROM visit_counts WHERE visits > 0
         ORDER BY 1, 2, 3",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(visits, recounted);
    kept
}

#[tokio::test]
async fn the_counts_follow_every_summary_written_and_no_other() {
    let (_dir, store, pool) = sqlite_store().await;
    let pool = &pool;
    for team in ["t", "u"] {
        sqlx::query("INSERT INTO teams (id, name, created_ms) VALUES ($1, $1, 0)")
            .bind(team)
            .execute(pool)
            .await
            .unwrap();
    }
    for (case, team) in [("a", "t"), ("b", "t"), ("c", "u")] {
        sqlx::query("INSERT INTO cases (id, team_id, created_ms) VALUES ($1, $2, 0)")
            .bind(case)
            .bind(team)
            .execute(pool)
            .await
            .unwrap();
    }
    let with = |mut s: CaseSummary, team: &str, conflict: bool, until: Option<i64>, k: i64| {
        s.team_id = team.into();
        s.housing_conflict = conflict;
        s.consent_until = until;
        (s.consents, s.withdrawals) = (k, k / 2);
        s
    };
    let visit = |id: &str, team: &str, day: i64, user: &str| {
        (id.to_owned(), team.to_owned(), user.to_owned(), day)
    };
    store
        .write_case_summaries(
            &[
                with(summary("a", 3, "shelter", &[]), "t", false, None, 0),
                with(
                    summary("b", 4, "shelter", &[]),
                    "t",
                    true,
                    Some(UNTIL_WITHDRAWN),
                    2,
                ),
                with(summary("c", 5, "sublet", &[]), "u", false, Some(20_000), 1),
            ],
            &[
                visit("v1", "t", 100, "w1"),
                visit("v2", "t", 100, "w1"),
                visit("v3", "u", 101, "w2"),
            ],
            Some(5),
        )
        .await
        .unwrap();
    let first = counts_agree(pool).await;
    assert_eq!(first.iter().map(|r| r.4).sum::<i64>(), 3);
    // Written again (another refresh), with the same visits: nothing changes.
    store
        .write_case_summaries(
            &[with(summary("b", 4, "own_flat", &[]), "t", false, None, 0)],
            &[visit("v1", "t", 100, "w1"), visit("v3", "u", 101, "w2")],
            Some(5),
        )
        .await
        .unwrap();
    assert_eq!(counts_agree(pool).await, first);
    // Households move between values (and lose their housing), consents come and go, one
    // more visit.
    store
        .write_case_summaries(
            &[
                with(
                    summary("a", 6, "sublet", &[]),
                    "t",
                    true,
                    Some(UNTIL_WITHDRAWN),
                    3,
                ),
                {
                    let mut b = with(summary("b", 7, "x", &[]), "t", false, None, 2);
                    b.housing = None;
                    b
                },
                with(summary("c", 4, "homeless", &[]), "u", false, None, 0),
            ],
            &[visit("v2", "t", 100, "w1"), visit("v4", "u", 101, "w2")],
            Some(7),
        )
        .await
        .unwrap();
    let last = counts_agree(pool).await;
    assert_ne!(last, first);
    assert!(last.iter().all(|r| r.4 > 0), "no empty rows kept");
    let visits: Vec<(i64,)> = sqlx::query_as("SELECT visits FROM visit_counts ORDER BY team_id")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(visits, [(2,), (2,)]);
}

/// An operation carrying the shipped form's example answers, with `changes`.
fn example_op(form_id: &str, at_ms: f64, changes: Answers) -> cris_core::record::Operation {
    let path = format!(
        "{}/../core/tests/data/{form_id}-example.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut answers: Answers =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    answers.0.extend(changes.0);
    let device = "0192b3c4-0000-7000-8000-00000000d001".to_owned();
    let hlc = cris_core::hlc::Hlc {
        wall_ms: at_ms as u64,
        counter: 0,
        device: device.clone(),
    };
    cris_core::record::Operation {
        op_id: format!("op-{at_ms}"),
        device: device.clone(),
        hlc,
        created_at_ms: at_ms,
        case_id: "case-1".into(),
        change: cris_core::record::Change::Submit {
            submission: Submission {
                id: format!("s-{at_ms}"),
                form_id: form_id.into(),
                form_version: 1,
                case_id: "case-1".into(),
                device,
                answers,
                started_at_ms: at_ms - 600_000.0,
                finalized_at_ms: at_ms,
                corrects: None,
                team: None,
            },
            properties: BTreeMap::new(),
        },
    }
}

/// `op` on the household `case_id`, setting the household's name and housing (when given).
fn on_case(
    mut op: cris_core::record::Operation,
    case_id: &str,
    device: &str,
    properties: &[(&str, &str)],
) -> crate::store::CheckedOp {
    use cris_core::record::{Change, FieldWrite};
    op.case_id = case_id.into();
    op.device = device.into();
    op.hlc.device = device.into();
    if let Change::Submit {
        submission,
        properties: written,
    } = &mut op.change
    {
        submission.case_id = case_id.into();
        submission.device = device.into();
        for (name, value) in properties {
            let write = FieldWrite {
                value: (*value).into(),
                seen: Vec::new(),
            };
            written.insert((*name).into(), write);
        }
    }
    let body = serde_json::to_string(&op).unwrap();
    crate::store::CheckedOp {
        op,
        body,
        creates_case: true,
    }
}

/// Every row of the derived tables and the watermark, in order.
async fn derived(pool: &sqlx::SqlitePool) -> Vec<String> {
    let mut rows = Vec::new();
    for sql in [
        "SELECT case_id || '|' || seq || '|' || household_name || '|' ||
                COALESCE(housing, '-') || '|' || housing_conflict || '|' || open_steps || '|' ||
                COALESCE(last_visit, '-') || '|' || dues || '|' ||
                COALESCE(consent_until, '-') || '|' || consents || '|' || withdrawals || '|' ||
                COALESCE(merged_into, '-')
         FROM case_summaries ORDER BY case_id",
        "SELECT submission_id || '|' || team_id || '|' || user_id || '|' || day
         FROM case_summary_visits ORDER BY submission_id",
        "SELECT team_id || '|' || housing || '|' || housing_conflict || '|' || consent_until
                || '|' || households || '|' || consents || '|' || withdrawals
         FROM household_counts ORDER BY 1",
        "SELECT team_id || '|' || day || '|' || user_id || '|' || visits
         FROM visit_counts ORDER BY 1",
        "SELECT 'watermark ' || seq FROM case_summaries_watermark",
    ] {
        rows.extend(
            sqlx::query_scalar::<_, String>(sql)
                .fetch_all(pool)
                .await
                .unwrap(),
        );
    }
    rows
}

#[tokio::test]
async fn emptied_and_set_back_to_the_start_of_the_log_the_tables_are_made_again_alike() {
    use cris_core::record::{Change, Operation};
    let (_dir, store, pool) = sqlite_store().await;
    let pool = &pool;
    let user = |login: &str, role| crate::store::NewUser {
        login: login.into(),
        display_name: login.into(),
        role,
        password_hash: String::new(),
        teams: vec!["Team".into()],
    };
    let worker = store
        .add_user(&user("w", crate::store::Role::Worker), 0)
        .await
        .unwrap();
    let supervisor = store
        .add_user(&user("s", crate::store::Role::Supervisor), 0)
        .await
        .unwrap();
    let (phone, other) = (
        "0192b3c4-0000-7000-8000-00000000d001",
        "0192b3c4-0000-7000-8000-00000000d002",
    );
    let (name, housing) = (HOUSEHOLD_NAME, HOUSING);
    let ops = vec![
        on_case(
            example_op("intake", 1_000.0, Answers::new()),
            "a",
            phone,
            &[(name, "Familie Test"), (housing, "shelter")],
        ),
        on_case(
            example_op("intake", 2_000.0, Answers::new()),
            "b",
            other,
            &[(name, "Familie Test"), (housing, "homeless")],
        ),
        on_case(
            example_op("intake", 3_000.0, Answers::new()),
            "c",
            phone,
            &[(name, "Familie Probe")],
        ),
        on_case(
            example_op("home_visit", 4_000.0, Answers::new()),
            "b",
            other,
            &[],
        ),
    ];
    let pushed = store.push(&worker, ops, 10).await.unwrap();
    assert!(
        pushed
            .iter()
            .all(|s| matches!(s, crate::store::Stored::Applied { .. }))
    );
    let merge = Operation {
        op_id: "merge-1".into(),
        device: phone.into(),
        hlc: cris_core::hlc::Hlc {
            wall_ms: 5_000,
            counter: 0,
            device: phone.into(),
        },
        created_at_ms: 5_000.0,
        case_id: "b".into(),
        change: Change::Merge { into: "a".into() },
    };
    let body = serde_json::to_string(&merge).unwrap();
    let checked = crate::store::CheckedOp {
        op: merge,
        body,
        creates_case: false,
    };
    let pushed = store.push(&supervisor, vec![checked], 20).await.unwrap();
    assert!(matches!(pushed[..], [crate::store::Stored::Applied { .. }]));

    store.refresh_case_summaries().await.unwrap();
    let made = derived(pool).await;
    // One household shown, with both housing values (the later current, in conflict);
    // the one merged into it counts nowhere; the visit counts.
    let counts = counts_agree(pool).await;
    let households: Vec<(&str, &str, bool, i64)> = counts
        .iter()
        .map(|r| (r.0.as_str(), r.1.as_str(), r.2, r.4))
        .collect();
    let team = &counts[0].0;
    assert_eq!(
        households,
        [
            (team.as_str(), "", false, 1),
            (team.as_str(), "homeless", true, 1)
        ]
    );
    let merged: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT case_id, merged_into FROM case_summaries ORDER BY case_id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        merged,
        [
            ("a".to_owned(), None),
            ("b".to_owned(), Some("a".to_owned())),
            ("c".to_owned(), None)
        ]
    );
    assert_eq!(made.last().unwrap(), "watermark 5");

    // What a migration does that makes the dashboard count anew.
    for sql in [
        "DELETE FROM case_summaries",
        "DELETE FROM household_counts",
        "DELETE FROM case_summary_visits",
        "DELETE FROM visit_counts",
        "UPDATE case_summaries_watermark SET seq = 0",
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
    store.refresh_case_summaries().await.unwrap();
    assert_eq!(derived(pool).await, made);
}

#[tokio::test]
async fn the_migration_that_follows_merges_counts_a_full_store_anew() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cris.db", dir.path().display());
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
    let pool = &sqlx::SqlitePool::connect_with(options.create_if_missing(true))
        .await
        .unwrap();
    // The store as it was before: summaries made, counted and the watermark moved.
    let mut before = sqlx::migrate!("migrations/sqlite");
    let earlier: Vec<_> = before
        .migrations
        .iter()
        .filter(|m| m.version < 11)
        .cloned()
        .collect();
    before.migrations = earlier.into();
    before.run(pool).await.unwrap();
    for sql in [
        "INSERT INTO teams (id, name, created_ms) VALUES ('t', 'Team', 0)",
        "INSERT INTO cases (id, team_id, created_ms) VALUES ('c', 't', 0)",
        "INSERT INTO case_summaries (case_id, team_id, seq, household_name, housing,
             housing_conflict, open_steps, dues, consents, withdrawals)
         VALUES ('c', 't', 7, 'Familie Test', 'shelter', 0, 0, '', 0, 0)",
        "INSERT INTO household_counts VALUES ('t', 'shelter', 0, -9223372036854775808, 1, 0, 0)",
        "INSERT INTO case_summary_visits VALUES ('v', 't', 'u', 100)",
        "INSERT INTO visit_counts VALUES ('t', 100, 'u', 1)",
        "UPDATE case_summaries_watermark SET seq = 7",
    ] {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
    sqlx::migrate!("migrations/sqlite").run(pool).await.unwrap();
    let left: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM case_summaries), (SELECT COUNT(*) FROM household_counts),
                (SELECT COUNT(*) FROM case_summary_visits), (SELECT COUNT(*) FROM visit_counts),
                (SELECT seq FROM case_summaries_watermark)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(left, (0, 0, 0, 0, 0), "the next dashboard counts anew");
    let merged: Option<String> =
        sqlx::query_scalar("SELECT merged_into FROM case_summaries UNION ALL SELECT NULL LIMIT 1")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(merged, None);
}

#[test]
fn light_reading_summarises_as_the_full_operation() {
    let intake = example_op(
        "intake",
        1_000.0,
        Answers::new().with_repeat(
            "plan_goals",
            vec![
                Answers::new()
                    .with("goal", "Anmeldung")
                    .with("review_date", "2026-11-08"),
                Answers::new().with("goal", "Kita-Platz beantragen"),
            ],
        ),
    );
    let visit = example_op(
        "home_visit",
        2_000.0,
        Answers::new().with_repeat(
            "step_progress",
            vec![
                Answers::new()
                    .with("step", "anmeldung")
                    .with("progress", "done"),
            ],
        ),
    );
    let mut corrected = example_op("home_visit", 3_000.0, Answers::new());
    if let cris_core::record::Change::Submit { submission, .. } = &mut corrected.change {
        submission.corrects = Some(Correction {
            submission_id: "s-2000".into(),
            reason: "Datum".into(),
        });
    }
    let consent = sealed(&["school_contact"], &[]);
    let consented = cris_core::record::Operation {
        change: cris_core::record::Change::Consent {
            consent: Box::new(consent.clone()),
        },
        ..intake.clone()
    };
    let ops = [intake, visit, corrected, consented];
    let bodies: Vec<OpRow> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let body = serde_json::to_string(op).unwrap();
            ("case-1".into(), "t".into(), i as i64 + 1, "w".into(), body)
        })
        .collect();
    let read = ChunkRead {
        ops: bodies,
        ..ChunkRead::default()
    };
    let (light, visits) = summarize_households(&["case-1".into()], read, 4, 1).unwrap();
    let light = &light[0];
    // The visit logged after the watermark (1), not its correction.
    let day = 2_000_i64.div_euclid(DAY_MS);
    assert_eq!(visits, [("s-2000".into(), "t".into(), "w".into(), day)]);
    // The same, read whole.
    let subs: Vec<Submission> = ops
        .iter()
        .filter_map(|op| op.submission().cloned())
        .collect();
    let full = caseload::summarize(&Case::new("case-1", 0.0), &subs);
    assert!(!full.open_steps.is_empty() && full.last_visit.is_some());
    assert_eq!(light.open_steps, full.open_steps.len() as i64);
    assert_eq!(
        light.last_visit,
        full.last_visit.map(|d| i64::from(d.days()))
    );
    let mut dues: Vec<i64> = full
        .open_steps
        .iter()
        .filter_map(|s| s.due)
        .map(|d| i64::from(d.days()))
        .collect();
    dues.sort_unstable();
    assert!(!dues.is_empty());
    assert_eq!(light.dues, dues);
    assert_eq!((light.consents, light.withdrawals), (1, 0));
    assert_eq!(light.consent_until, Some(UNTIL_WITHDRAWN));
    assert_eq!(light.seq, 4);
    // Every kind of operation reads, resolutions and those to come as nothing.
    let resolve = r#"{"op_id":"x","change":{"properties":{},"kind":"resolve"}}"#;
    assert!(matches!(read_logged(1, resolve), Ok(Logged::Other)));
    let later = r#"{"change":{"kind":"merge","into":"c2"}}"#;
    assert!(matches!(read_logged(2, later), Ok(Logged::Other)));
    assert!(matches!(
        read_logged(3, r#"{"change":{"submission":{}}}"#),
        Err(StoreError::Corrupt { what: "operation", id, .. }) if id == "3"
    ));
}

#[test]
fn overdue_steps_are_counted_by_the_day_asked_for() {
    assert_eq!(overdue_of("", 10).unwrap(), (0, None));
    assert_eq!(overdue_of("3,5,5,12", 5).unwrap(), (3, Some(3)));
    assert_eq!(overdue_of("12", 5).unwrap(), (0, None));
    assert!(overdue_of("3,x", 5).is_err());
    let filter = DashboardFilter {
        team: None,
        to: Date::from_days(10),
        weeks: 1,
    };
    let row = |id: &str, dues: &str| (id.to_owned(), format!("Familie {id}"), dues.to_owned());
    let counted = Counted {
        overdue: vec![
            row("a", "9,11"),
            row("b", "2,9"),
            row("c", "4,8"),
            row("d", "11"),
            row("e", "1"),
        ],
        ..Counted::default()
    };
    let d = dashboard_of(&filter, counted).unwrap();
    assert_eq!((d.overdue.steps, d.overdue.households), (6, 4));
    let most: Vec<(&str, u32, i32)> = d
        .overdue
        .most
        .iter()
        .map(|h| (h.case_id.as_str(), h.overdue, h.oldest_due.days()))
        .collect();
    // The most first, then the oldest due.
    assert_eq!(most, [("b", 2, 2), ("c", 2, 4), ("e", 1, 1), ("a", 1, 9)]);
}

#[test]
fn devices_longest_silent_first() {
    let filter = DashboardFilter {
        team: None,
        to: date("2026-03-04"),
        weeks: 1,
    };
    let counted = Counted {
        devices: vec![
            (
                "d1".into(),
                "a".into(),
                "A".into(),
                Some(50),
                Some(10),
                None,
                None,
            ),
            (
                "d2".into(),
                "b".into(),
                "B".into(),
                None,
                Some(20),
                None,
                None,
            ),
            (
                "d3".into(),
                "c".into(),
                "C".into(),
                Some(5),
                None,
                Some(60),
                None,
            ),
        ],
        ..Counted::default()
    };
    let d = dashboard_of(&filter, counted).unwrap();
    let order: Vec<&str> = d.devices.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(order, ["d3", "d2", "d1"]);
}
