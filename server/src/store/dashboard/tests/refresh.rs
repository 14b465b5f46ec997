//! The derived tables as the refresh writes them, on a SQLite store.

use super::*;

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
