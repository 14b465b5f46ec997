//! The case store's contract, run on both stores: SQLite (a file on disk) and PostgreSQL (a
//! fresh database on the local server). A behaviour that differs between the two is a bug.

use std::future::Future;

use crate::support::TestPg;
use cris_server::CaseStore;
use cris_server::store::{CheckedOp, NewSession, NewUser, Role, StoreError, Stored};

/// Runs `test` on a fresh SQLite store and on a fresh PostgreSQL store.
async fn on_both<F, Fut>(test: F)
where
    F: Fn(CaseStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let sqlite = CaseStore::open(&format!("sqlite://{}/cris.db", dir.path().display()))
        .await
        .unwrap();
    test(sqlite.clone()).await;
    sqlite.close().await;

    let pg = TestPg::create().await;
    let postgres = CaseStore::open(&pg.url).await.unwrap();
    assert_eq!(postgres.kind(), "postgres");
    test(postgres.clone()).await;
    postgres.close().await;
}

fn worker(login: &str, teams: &[&str]) -> NewUser {
    NewUser {
        login: login.to_owned(),
        display_name: format!("Test {login}"),
        role: Role::Worker,
        password_hash: format!("hash-of-{login}"),
        teams: teams.iter().map(|t| (*t).to_owned()).collect(),
    }
}

const NOW: i64 = 1_790_000_000_000;

#[tokio::test]
async fn a_store_answers_and_keeps_its_identity() {
    on_both(|store| async move {
        store.ping().await.unwrap();
        let id = store.instance_id();
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    })
    .await;
}

#[tokio::test]
async fn postgres_keeps_its_identity_across_opens_and_migrates_once() {
    let pg = TestPg::create().await;
    let first = CaseStore::open(&pg.url).await.unwrap();
    let second = CaseStore::open(&pg.url).await.unwrap();
    assert_eq!(first.instance_id(), second.instance_id());
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn users_are_added_with_their_teams_and_logins_are_unique() {
    on_both(|store| async move {
        assert_eq!(store.user_count().await.unwrap(), 0);
        let a = store
            .add_user(&worker("ayse.k", &["Offenbach Nord", "Offenbach Süd"]), NOW)
            .await
            .unwrap();
        assert_eq!(a.teams, ["Offenbach Nord", "Offenbach Süd"]);
        assert_eq!(a.role, Role::Worker);
        store
            .add_user(&worker("bogdan.p", &["Offenbach Nord"]), NOW)
            .await
            .unwrap();
        let again = store.add_user(&worker("ayse.k", &[]), NOW).await;
        assert!(
            matches!(again, Err(StoreError::LoginTaken(ref l)) if l == "ayse.k"),
            "{again:?}"
        );

        let users = store.users().await.unwrap();
        let listed: Vec<(&str, Vec<String>)> = users
            .iter()
            .map(|u| (u.login.as_str(), u.teams.clone()))
            .collect();
        assert_eq!(
            listed,
            [
                (
                    "ayse.k",
                    vec!["Offenbach Nord".to_owned(), "Offenbach Süd".to_owned()]
                ),
                ("bogdan.p", vec!["Offenbach Nord".to_owned()]),
            ]
        );
        let (user, hash) = store.credentials("ayse.k").await.unwrap().unwrap();
        assert_eq!(user, a);
        assert_eq!(hash, "hash-of-ayse.k");
        assert!(store.credentials("nobody").await.unwrap().is_none());
        assert_eq!(store.user_count().await.unwrap(), 2);
    })
    .await;
}

#[tokio::test]
async fn sessions_end_by_expiry_revocation_disabling_and_new_passwords() {
    on_both(|store| async move {
        let user = store
            .add_user(&worker("dana.s", &["Košice"]), NOW)
            .await
            .unwrap();
        let session = |token: &str, expires_ms: i64| NewSession {
            token_hash: token.to_owned(),
            user_id: user.id.clone(),
            device_id: "0192b3c4-0000-7000-8000-00000000d001".to_owned(),
            created_ms: NOW,
            expires_ms,
        };
        for token in ["live", "revoked", "other"] {
            store
                .add_session(&session(token, NOW + 1_000))
                .await
                .unwrap();
        }
        store.add_session(&session("expired", NOW)).await.unwrap();

        assert_eq!(
            store
                .session_user("live", NOW + 1)
                .await
                .unwrap()
                .map(|u| u.login),
            Some("dana.s".to_owned())
        );
        assert_eq!(
            store.session_user("live", NOW + 1_000).await.unwrap(),
            None,
            "expired"
        );
        assert_eq!(store.session_user("expired", NOW + 1).await.unwrap(), None);
        assert_eq!(store.session_user("unknown", NOW + 1).await.unwrap(), None);

        assert!(store.revoke_session("revoked", NOW + 2).await.unwrap());
        assert!(
            !store.revoke_session("revoked", NOW + 3).await.unwrap(),
            "only once"
        );
        assert_eq!(store.session_user("revoked", NOW + 4).await.unwrap(), None);

        // Disabling ends every session; enabling again does not bring them back.
        assert!(store.set_disabled("dana.s", true, NOW + 5).await.unwrap());
        assert_eq!(store.session_user("live", NOW + 6).await.unwrap(), None);
        assert!(store.set_disabled("dana.s", false, NOW + 7).await.unwrap());
        assert_eq!(store.session_user("live", NOW + 8).await.unwrap(), None);
        assert!(!store.set_disabled("nobody", true, NOW).await.unwrap());

        store
            .add_session(&session("after", NOW + 1_000))
            .await
            .unwrap();
        assert!(
            store
                .session_user("after", NOW + 9)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .set_password_hash("dana.s", "new-hash", NOW + 10)
                .await
                .unwrap()
        );
        assert_eq!(store.session_user("after", NOW + 11).await.unwrap(), None);
        assert_eq!(
            store.credentials("dana.s").await.unwrap().unwrap().1,
            "new-hash"
        );
        assert!(!store.set_password_hash("nobody", "x", NOW).await.unwrap());
    })
    .await;
}

/// Two server processes (two pools) on one PostgreSQL database add people to the same new
/// team at the same moment: one team, both members.
#[tokio::test]
async fn two_servers_on_one_postgres_create_a_team_once() {
    let pg = TestPg::create().await;
    let one = CaseStore::open(&pg.url).await.unwrap();
    let two = CaseStore::open(&pg.url).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { one.clone() } else { two.clone() };
        tasks.push(tokio::spawn(async move {
            store
                .add_user(&worker(&format!("w{i:02}"), &["Budapest VIII"]), NOW)
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let users = one.users().await.unwrap();
    assert_eq!(users.len(), 20);
    assert!(users.iter().all(|u| u.teams == ["Budapest VIII"]));
    one.close().await;
    two.close().await;
}

fn intake_op(
    op_id: &str,
    case_id: &str,
    device: &str,
    wall_ms: u64,
    housing: &str,
    seen: Vec<cris_core::hlc::Hlc>,
) -> CheckedOp {
    use cris_core::form::Answers;
    use cris_core::record::{Change, FieldWrite, Operation, Submission};
    let op = Operation {
        op_id: op_id.into(),
        device: device.into(),
        hlc: cris_core::hlc::Hlc {
            wall_ms,
            counter: 0,
            device: device.into(),
        },
        created_at_ms: wall_ms as f64,
        case_id: case_id.into(),
        change: Change::Submit {
            submission: Submission {
                id: format!("sub-{op_id}"),
                form_id: "intake".into(),
                form_version: 1,
                case_id: case_id.into(),
                device: device.into(),
                answers: Answers::new().with("housing_situation", housing),
                started_at_ms: 0.0,
                finalized_at_ms: wall_ms as f64,
                corrects: None,
                team: None,
            },
            properties: std::collections::BTreeMap::from([(
                "housing_situation".to_owned(),
                FieldWrite {
                    value: housing.into(),
                    seen,
                },
            )]),
        },
    };
    CheckedOp {
        body: serde_json::to_string(&op).unwrap(),
        op,
        creates_case: true,
    }
}

#[tokio::test]
async fn pushes_apply_once_keep_conflicts_and_stay_within_the_team() {
    on_both(|store| async move {
        let ayse = store
            .add_user(&worker("ayse.k", &["Nord"]), NOW)
            .await
            .unwrap();
        let bora = store
            .add_user(&worker("bora.t", &["Nord"]), NOW)
            .await
            .unwrap();
        let other = store
            .add_user(&worker("zita.h", &["Budapest"]), NOW)
            .await
            .unwrap();
        let first = intake_op("op-1", "case-1", "dev-a", 10, "shelter", vec![]);
        let base = first.op.hlc.clone();
        assert_eq!(
            store.push(&ayse, vec![first.clone()], NOW).await.unwrap(),
            [Stored::Applied { conflicts: vec![] }]
        );
        // The same operation again (a lost answer, retried): nothing changes.
        assert_eq!(
            store.push(&ayse, vec![first.clone()], NOW).await.unwrap(),
            [Stored::Duplicate]
        );
        // Two phones edit the housing concurrently; another team's worker is refused.
        let a = intake_op("op-2", "case-1", "dev-a", 20, "sublet", vec![base.clone()]);
        let b = intake_op(
            "op-3",
            "case-1",
            "dev-b",
            30,
            "homeless",
            vec![base.clone()],
        );
        assert_eq!(
            store.push(&ayse, vec![a], NOW).await.unwrap(),
            [Stored::Applied { conflicts: vec![] }]
        );
        assert_eq!(
            store.push(&bora, vec![b], NOW).await.unwrap(),
            [Stored::Applied {
                conflicts: vec!["housing_situation".to_owned()]
            }]
        );
        let foreign = intake_op("op-4", "case-1", "dev-z", 40, "own_flat", vec![]);
        assert_eq!(
            store.push(&other, vec![foreign], NOW).await.unwrap(),
            [Stored::NotFound]
        );

        // Pull: the team sees the three operations in log order; the other team sees none.
        let pulled = store.ops_since(&bora.id, 0, 100, false).await.unwrap();
        let ids: Vec<String> = pulled.iter().map(|(_, op)| op.op_id.clone()).collect();
        assert_eq!(ids, ["op-1", "op-2", "op-3"]);
        let after_first = store
            .ops_since(&bora.id, pulled[0].0, 100, false)
            .await
            .unwrap();
        assert_eq!(after_first.len(), 2);
        assert!(
            store
                .ops_since(&other.id, 0, 100, false)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn pushes_written_together_are_answered_each_as_if_alone() {
    use cris_server::store::writer::{GroupPush, PushBatch};
    on_both(|store| async move {
        let ayse = store
            .add_user(&worker("ayse.k", &["Nord"]), NOW)
            .await
            .unwrap();
        let bora = store
            .add_user(&worker("bora.t", &["Nord"]), NOW)
            .await
            .unwrap();
        let zita = store
            .add_user(&worker("zita.h", &["Budapest"]), NOW)
            .await
            .unwrap();
        let first = intake_op("op-1", "case-1", "dev-a", 10, "shelter", vec![]);
        let base = first.op.hlc.clone();
        let batch = |user: &cris_server::store::User, ops: Vec<CheckedOp>| PushBatch {
            user: user.clone(),
            ops,
            now_ms: NOW,
        };
        // In one transaction: Ayşe's intake; Bora's retry of it (his phone got it by pull)
        // and his edit on top; Zita's edit of a case not her team's, and her own intake.
        let stored = store
            .push_group(&[
                batch(&ayse, vec![first.clone()]),
                batch(
                    &bora,
                    vec![
                        first.clone(),
                        intake_op("op-2", "case-1", "dev-b", 20, "homeless", vec![base]),
                    ],
                ),
                batch(
                    &zita,
                    vec![intake_op("op-3", "case-1", "dev-z", 30, "sublet", vec![])],
                ),
                batch(
                    &zita,
                    vec![intake_op("op-4", "case-9", "dev-z", 40, "sublet", vec![])],
                ),
            ])
            .await
            .unwrap();
        let applied = || Stored::Applied { conflicts: vec![] };
        assert_eq!(
            stored,
            [
                vec![applied()],
                vec![Stored::Duplicate, applied()],
                vec![Stored::NotFound],
                vec![applied()],
            ],
            "{}",
            store.kind()
        );
        let logged = |user: String| {
            let store = store.clone();
            async move {
                let ops = store.ops_since(&user, 0, 100, false).await.unwrap();
                ops.into_iter().map(|(_, op)| op.op_id).collect::<Vec<_>>()
            }
        };
        assert_eq!(logged(bora.id.clone()).await, ["op-1", "op-2"]);
        assert_eq!(logged(zita.id.clone()).await, ["op-4"]);

        // Many phones at once, through the store's queue: every one applied, once.
        let mut phones = Vec::new();
        for i in 0..30 {
            let (store, bora) = (store.clone(), bora.clone());
            phones.push(tokio::spawn(async move {
                let op = intake_op(
                    &format!("op-p{i}"),
                    &format!("case-p{i}"),
                    "dev-p",
                    50,
                    "sublet",
                    vec![],
                );
                store.push(&bora, vec![op.clone(), op], NOW).await.unwrap()
            }));
        }
        for phone in phones {
            assert_eq!(phone.await.unwrap(), [applied(), Stored::Duplicate]);
        }
        assert_eq!(logged(ayse.id.clone()).await.len(), 32);
    })
    .await;
}
