//! Accounts over real HTTP, on SQLite and on PostgreSQL: log in from a device, use the token,
//! log out; every wrong or malformed attempt gets a clear JSON error and nothing else.

use crate::support::{TestPg, error};
use cris_core::api::{ErrorCode, LoginResponse, Me, Role};
use cris_server::store::{NewSession, NewUser};
use cris_server::{AppState, Assets, CaseStore, FormCatalog, ServerHandle, auth};
use reqwest::StatusCode;
use serde_json::{Value, json};

const DEVICE: &str = "0192b3c4-0000-7000-8000-00000000d001";
const PASSWORD: &str = "gül-bahçesi-2026";

struct Server {
    handle: ServerHandle,
    store: CaseStore,
    _keep: Keep,
}

enum Keep {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Pg(#[allow(dead_code)] TestPg),
}

impl Server {
    async fn start(store: CaseStore, keep: Keep) -> Self {
        Self::start_guarded(store, keep, Default::default()).await
    }

    /// With `guard` checking the passwords (one thread and a short queue, say).
    async fn start_guarded(
        store: CaseStore,
        keep: Keep,
        guard: std::sync::Arc<cris_server::logins::LoginGuard>,
    ) -> Self {
        store
            .add_user(
                &NewUser {
                    login: "elif.w".into(),
                    display_name: "Elif Test".into(),
                    role: Role::Worker,
                    password_hash: auth::hash_password(PASSWORD),
                    teams: vec!["Offenbach Nord".into()],
                },
                auth::now_ms(),
            )
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut state = AppState::new(
            store.clone(),
            Assets::default(),
            FormCatalog::embedded().unwrap(),
            cris_server::ConsentConfig::demo(),
            Default::default(),
        );
        state.logins = guard;
        let handle = cris_server::spawn(listener, state).unwrap();
        Server {
            handle,
            store,
            _keep: keep,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.handle.addr())
    }

    async fn login(&self, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url("/api/v1/session"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn me(&self, token: Option<&str>) -> reqwest::Response {
        let mut req = reqwest::Client::new().get(self.url("/api/v1/me"));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.unwrap()
    }
}

/// Runs `test` against a server on SQLite and one on PostgreSQL.
async fn on_both<F, Fut>(test: F)
where
    F: Fn(Server) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let sqlite = CaseStore::open(&format!("sqlite://{}/cris.db", dir.path().display()))
        .await
        .unwrap();
    test(Server::start(sqlite, Keep::Dir(dir)).await).await;
    let pg = TestPg::create().await;
    let postgres = CaseStore::open(&pg.url).await.unwrap();
    test(Server::start(postgres, Keep::Pg(pg)).await).await;
}

fn good_login() -> Value {
    json!({ "login": "elif.w", "password": PASSWORD, "device_id": DEVICE })
}

#[tokio::test]
async fn a_device_logs_in_uses_its_token_and_logs_out() {
    on_both(|server| async move {
        let res = server.login(good_login()).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let session: LoginResponse = res.json().await.unwrap();
        assert_eq!(session.token.len(), 64);
        let days = (session.expires_at_ms - auth::now_ms()) / 86_400_000;
        assert!((29..=30).contains(&days), "{days}");
        let expected = Me {
            login: "elif.w".into(),
            display_name: "Elif Test".into(),
            role: Role::Worker,
            teams: vec!["Offenbach Nord".into()],
        };
        assert_eq!(session.user, expected);

        let res = server.me(Some(&session.token)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.json::<Me>().await.unwrap(), expected);

        // Only a hash of the token is kept: the token itself does not open a session.
        assert!(
            server
                .store
                .session_user(&session.token, auth::now_ms())
                .await
                .unwrap()
                .is_none()
        );

        let res = reqwest::Client::new()
            .delete(server.url("/api/v1/session"))
            .bearer_auth(&session.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let message = error(
            server.me(Some(&session.token)).await,
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
        )
        .await;
        assert!(message.contains("log in again"), "{message}");
    })
    .await;
}

#[tokio::test]
async fn wrong_and_unknown_logins_get_the_same_answer() {
    on_both(|server| async move {
        let wrong = server
            .login(
                json!({ "login": "elif.w", "password": "gul-bahcesi-2026", "device_id": DEVICE }),
            )
            .await;
        let wrong = error(wrong, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
        let unknown = server
            .login(json!({ "login": "nobody", "password": PASSWORD, "device_id": DEVICE }))
            .await;
        let unknown = error(unknown, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
        assert_eq!(wrong, "wrong login or password");
        assert_eq!(unknown, wrong, "no hint whether the login exists");
    })
    .await;
}

/// The server's own account (in whose name erasures are logged) is disabled and has no
/// password: no guess lets anyone in as it, and its name is refused like any wrong login.
#[tokio::test]
async fn nobody_logs_in_as_the_servers_own_account() {
    on_both(|server| async move {
        for password in [
            "",
            "!",
            "cris-server",
            PASSWORD,
            "$argon2id$v=19$m=19456,t=2,p=1$",
        ] {
            let res = server
                .login(json!({ "login": "cris-server", "password": password, "device_id": DEVICE }))
                .await;
            let message = error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;
            assert_eq!(message, "wrong login or password", "{password:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_disabled_account_cannot_log_in_and_its_sessions_end() {
    on_both(|server| async move {
        let session: LoginResponse = server.login(good_login()).await.json().await.unwrap();
        server
            .store
            .set_disabled("elif.w", true, auth::now_ms())
            .await
            .unwrap();
        // Its devices are revoked: each is told so, to wipe itself.
        error(
            server.me(Some(&session.token)).await,
            StatusCode::UNAUTHORIZED,
            ErrorCode::DeviceRevoked,
        )
        .await;
        let devices = server.store.devices(Some("elif.w")).await.unwrap();
        assert!(
            devices.iter().all(|d| d.revoked_ms.is_some()),
            "{devices:?}"
        );
        // Whoever does not know the password learns nothing about the account.
        let mut wrong = good_login();
        wrong["password"] = json!("gul-bahcesi-2026");
        let message = error(
            server.login(wrong).await,
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
        )
        .await;
        assert_eq!(message, "wrong login or password");
        let message = error(
            server.login(good_login()).await,
            StatusCode::FORBIDDEN,
            ErrorCode::AccountDisabled,
        )
        .await;
        assert!(message.contains("disabled"), "{message}");
    })
    .await;
}

#[tokio::test]
async fn missing_garbage_and_expired_tokens_are_refused() {
    on_both(|server| async move {
        let message = error(
            server.me(None).await,
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
        )
        .await;
        assert!(message.contains("no session token"), "{message}");
        error(
            server.me(Some("garbage")).await,
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
        )
        .await;
        let res = reqwest::Client::new()
            .get(server.url("/api/v1/me"))
            .header("Authorization", "Basic ZWxpZi53OnB3")
            .send()
            .await
            .unwrap();
        error(res, StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized).await;

        let user = server.store.credentials("elif.w").await.unwrap().unwrap().0;
        let token = auth::new_token();
        server
            .store
            .add_session(&NewSession {
                token_hash: auth::token_hash(&token),
                user_id: user.id,
                device_id: DEVICE.into(),
                created_ms: auth::now_ms() - 31 * 86_400_000,
                expires_ms: auth::now_ms() - 86_400_000,
            })
            .await
            .unwrap();
        error(
            server.me(Some(&token)).await,
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn malformed_logins_get_clear_errors() {
    on_both(|server| async move {
        let client = reqwest::Client::new();
        let url = server.url("/api/v1/session");
        let raw = |body: &'static str| {
            client
                .post(&url)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
        };
        let m = error(raw("{\"login\": \"elif.w\",").await.unwrap(), StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        assert!(m.starts_with("malformed JSON"), "{m}");
        let m = error(raw("{\"login\": \"elif.w\"}").await.unwrap(), StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        assert!(m.contains("password"), "names the missing field: {m}");
        let m = error(
            server.login(json!({ "login": "elif.w", "password": PASSWORD, "device_id": DEVICE, "admin": true })).await,
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
        )
        .await;
        assert!(m.contains("admin"), "names the unknown field: {m}");
        let m = error(
            server.login(json!({ "login": "elif.w", "password": PASSWORD, "device_id": "my phone" })).await,
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
        )
        .await;
        assert!(m.contains("device_id"), "{m}");
        let res = client.post(&url).body(good_login().to_string()).send().await.unwrap();
        let m = error(res, StatusCode::BAD_REQUEST, ErrorCode::BadRequest).await;
        assert!(m.contains("Content-Type"), "{m}");
        let huge = json!({ "login": "elif.w", "password": "x".repeat(20_000), "device_id": DEVICE });
        error(server.login(huge).await, StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge).await;
        let res = client.get(&url).send().await.unwrap();
        error(res, StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed).await;
    })
    .await;
}

/// A phone reported lost is revoked: its token is answered `device_revoked` (the phone's cue
/// to wipe itself), the right password does not bring it back under its id, and the same
/// account's other device goes on working.
#[tokio::test]
async fn a_revoked_device_is_refused_and_cannot_log_in_again() {
    on_both(|server| async move {
        const OTHER: &str = "0192b3c4-0000-7000-8000-00000000d002";
        let lost: LoginResponse = server.login(good_login()).await.json().await.unwrap();
        let mut other_login = good_login();
        other_login["device_id"] = json!(OTHER);
        let kept: LoginResponse = server.login(other_login).await.json().await.unwrap();

        assert!(
            !server
                .store
                .revoke_device("0192b3c4-0000-7000-8000-00000000dfff", auth::now_ms(), None)
                .await
                .unwrap(),
            "a device that never logged in is not recorded"
        );
        assert!(
            server
                .store
                .revoke_device(DEVICE, auth::now_ms(), None)
                .await
                .unwrap()
        );
        // Revoking again changes nothing.
        assert!(
            server
                .store
                .revoke_device(DEVICE, auth::now_ms(), None)
                .await
                .unwrap()
        );

        let message = error(
            server.me(Some(&lost.token)).await,
            StatusCode::UNAUTHORIZED,
            ErrorCode::DeviceRevoked,
        )
        .await;
        assert!(message.contains("revoked"), "{message}");
        error(
            server.login(good_login()).await,
            StatusCode::UNAUTHORIZED,
            ErrorCode::DeviceRevoked,
        )
        .await;
        // A wrong password on the revoked device is just a wrong password.
        let mut wrong = good_login();
        wrong["password"] = json!("falsch");
        error(
            server.login(wrong).await,
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
        )
        .await;
        assert_eq!(server.me(Some(&kept.token)).await.status(), StatusCode::OK);

        let devices = server.store.devices(Some("elif.w")).await.unwrap();
        let states: Vec<(&str, bool)> = devices
            .iter()
            .map(|d| (d.device_id.as_str(), d.revoked_ms.is_some()))
            .collect();
        assert_eq!(states, [(DEVICE, true), (OTHER, false)]);
        assert!(
            server
                .store
                .devices(Some("nobody"))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(server.store.devices(None).await.unwrap().len(), 2);
    })
    .await;
}

/// Logs in `login` (made here with `role`) from a device of its own: its token.
async fn account(server: &Server, login: &str, role: Role, device: &str) -> String {
    server
        .store
        .add_user(
            &NewUser {
                login: login.into(),
                display_name: format!("{login} Test"),
                role,
                password_hash: auth::hash_password(PASSWORD),
                teams: vec!["Offenbach Nord".into()],
            },
            auth::now_ms(),
        )
        .await
        .unwrap();
    let body = json!({ "login": login, "password": PASSWORD, "device_id": device });
    let session: LoginResponse = server.login(body).await.json().await.unwrap();
    session.token
}

async fn revoke(server: &Server, token: Option<&str>, device: &str) -> reqwest::Response {
    let mut req =
        reqwest::Client::new().post(server.url(&format!("/api/v1/devices/{device}/revoke")));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

/// An administrator revokes a phone from the overview; the store says who. Nobody else may,
/// and an id that is not a device's is said so.
#[tokio::test]
async fn only_an_administrator_revokes_a_device_and_is_recorded() {
    on_both(|server| async move {
        let lost: LoginResponse = server.login(good_login()).await.json().await.unwrap();
        let admin = account(
            &server,
            "ada.a",
            Role::Admin,
            "0192b3c4-0000-7000-8000-00000000da01",
        )
        .await;
        let lea = account(
            &server,
            "lea.s",
            Role::Supervisor,
            "0192b3c4-0000-7000-8000-00000000da02",
        )
        .await;

        error(
            revoke(&server, None, DEVICE).await,
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
        )
        .await;
        for token in [&lost.token, &lea] {
            error(
                revoke(&server, Some(token), DEVICE).await,
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
            )
            .await;
        }
        assert_eq!(server.me(Some(&lost.token)).await.status(), StatusCode::OK);
        error(
            revoke(&server, Some(&admin), "not-a-device").await,
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
        )
        .await;
        error(
            revoke(
                &server,
                Some(&admin),
                "0192b3c4-0000-7000-8000-00000000dfff",
            )
            .await,
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
        )
        .await;

        assert_eq!(
            revoke(&server, Some(&admin), DEVICE).await.status(),
            StatusCode::NO_CONTENT
        );
        // Again: nothing changes (the first revocation is kept).
        assert_eq!(
            revoke(&server, Some(&admin), DEVICE).await.status(),
            StatusCode::NO_CONTENT
        );
        error(
            server.me(Some(&lost.token)).await,
            StatusCode::UNAUTHORIZED,
            ErrorCode::DeviceRevoked,
        )
        .await;
        let devices = server.store.devices(Some("elif.w")).await.unwrap();
        assert_eq!(devices.len(), 1);
        assert!(devices[0].revoked_ms.is_some());
        assert_eq!(devices[0].revoked_by.as_deref(), Some("ada.a"));
        // On the command line nobody is named.
        assert!(
            server
                .store
                .revoke_device("0192b3c4-0000-7000-8000-00000000da02", auth::now_ms(), None)
                .await
                .unwrap()
        );
        let lea_devices = server.store.devices(Some("lea.s")).await.unwrap();
        assert_eq!(lea_devices[0].revoked_by, None);
    })
    .await;
}

/// Fifty guesses in a row: five are checked, the rest are answered 429 at once, with the
/// time to wait, the right password included; another account is not slowed down, an
/// unknown login is slowed down the same way, and the right password after the wait clears it.
#[tokio::test]
async fn guessing_a_password_is_slowed_down() {
    on_both(|server| async move {
        let guess = |login: &str, password: &str| {
            json!({ "login": login, "password": password, "device_id": DEVICE })
        };
        let mut answers = Vec::new();
        for i in 0..50 {
            let res = server.login(guess("elif.w", &format!("guess-number-{i}"))).await;
            answers.push(res.status().as_u16());
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
                assert!((1..=900).contains(&wait), "{wait}");
                let body: cris_core::api::ApiError = res.json().await.unwrap();
                assert_eq!(body.code, ErrorCode::TooManyAttempts);
                assert!(body.message.contains("try again in"), "{}", body.message);
            }
        }
        assert_eq!(answers[..5], [401; 5]);
        assert!(answers[5..].iter().all(|s| *s == 429), "{answers:?}");
        // Not even the right password gets through before the wait is over.
        error(
            server.login(good_login()).await,
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyAttempts,
        )
        .await;
        // Unknown logins are counted alike: the throttle tells nothing about who exists.
        for i in 0..5 {
            let res = server.login(guess("nobody.here", &format!("guess-{i}"))).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let res = server.login(guess("nobody.here", "guess-5")).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

        // After the wait (two seconds) the right password logs in and clears the count.
        let session: LoginResponse = crate::support::wait_for("the wait to pass", || async {
            let res = server.login(good_login()).await;
            (res.status() == StatusCode::CREATED).then_some(res)
        })
        .await
        .json()
        .await
        .unwrap();
        assert!(!session.token.is_empty());
        let res = server.login(guess("elif.w", "one-more-typo")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "counted from zero again");
    })
    .await;
}

/// Many logins at once: never more password hashes than threads; a full queue is answered
/// 503 with a time to retry, at once, and the server goes on.
#[tokio::test]
async fn a_flood_of_logins_waits_its_turn_or_is_told_to_retry() {
    let dir = tempfile::tempdir().unwrap();
    let store = CaseStore::open(&format!("sqlite://{}/cris.db", dir.path().display()))
        .await
        .unwrap();
    let guard = std::sync::Arc::new(cris_server::logins::LoginGuard::new(1, 2));
    let server = Server::start_guarded(store, Keep::Dir(dir), guard).await;
    let server = std::sync::Arc::new(server);
    let logins = (0..40).map(|i| {
        let server = server.clone();
        tokio::spawn(async move {
            // Each from a login of its own, so that no throttle answers first.
            let res = server
                .login(json!({ "login": format!("flood{i}"), "password": PASSWORD, "device_id": DEVICE }))
                .await;
            let status = res.status();
            let retry = res.headers().get("retry-after").cloned();
            (status, retry)
        })
    });
    let answers = futures_join(logins).await;
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(
        !busy.is_empty(),
        "40 logins at once on one thread with a queue of 2"
    );
    assert!(
        busy.iter()
            .all(|(_, retry)| retry.as_ref().is_some_and(|r| r == "1"))
    );
    assert!(
        answers
            .iter()
            .all(|(s, _)| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
    let res = server.login(good_login()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

async fn futures_join<T>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}
