//! Accounts and sessions made straight in a store.

use super::*;

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
