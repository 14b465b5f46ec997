//! Accounts, their teams, sessions and devices.

use super::db::on_db;
use super::{CaseStore, Role, StoreError};

/// An account as the rest of the server sees it (never with its password hash).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// Names of the user's teams, sorted.
    pub teams: Vec<String>,
}

/// An account to create; its teams are created when they do not exist yet.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub teams: Vec<String>,
}

/// A device's session: only the SHA-256 of its token is stored.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: String,
    pub device_id: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// A device that logged in, as `cris-server device list` shows it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DeviceInfo {
    pub device_id: String,
    pub login: String,
    pub last_push_ms: Option<i64>,
    pub last_pull_ms: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_ms: Option<i64>,
    /// The administrator who revoked it on the overview (none: on the command line, or by
    /// disabling the account).
    pub revoked_by: Option<String>,
}

/// Every device and account a session came from (of the login `$1`, unless it is null),
/// with the device's last push and pull and its revocation.
pub const DEVICES: &str =
    "SELECT d.device_id, d.login, y.last_push_ms, y.last_pull_ms, r.revoked_ms, r.revoked_by
     FROM (SELECT DISTINCT s.device_id, u.login, u.id AS user_id
           FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE $1 IS NULL OR u.login = $1) d
     LEFT JOIN device_syncs y ON y.device_id = d.device_id AND y.user_id = d.user_id
     LEFT JOIN revoked_devices r ON r.device_id = d.device_id
     ORDER BY d.login, d.device_id";

/// The enabled workers of the teams of the user `$1`, by name.
/// The server's own account (made by a migration, disabled, without a password): what the
/// server does by itself, an erasure, is logged in its name.
pub const SERVER_ACCOUNT: &str = "00000000-0000-7000-8000-000000000000";

pub const TEAM_WORKERS: &str = "SELECT DISTINCT u.login, u.display_name FROM users u
     JOIN team_members m ON m.user_id = u.id
     WHERE m.team_id IN (SELECT team_id FROM team_members WHERE user_id = $1)
       AND u.role = 'worker' AND NOT u.disabled
     ORDER BY u.display_name, u.login";

impl CaseStore {
    pub async fn add_user(&self, new: &NewUser, now_ms: i64) -> Result<User, StoreError> {
        on_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let id = super::new_id(now_ms);
            let inserted = sqlx::query(
            "INSERT INTO users (id, login, display_name, role, password_hash, disabled, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&new.login)
        .bind(&new.display_name)
        .bind(new.role.as_str())
        .bind(&new.password_hash)
        .bind(false)
        .bind(now_ms)
        .execute(&mut *tx)
        .await;
            match inserted {
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(StoreError::LoginTaken(new.login.clone()));
                }
                other => other?,
            };
            let mut teams = new.teams.clone();
            teams.sort();
            teams.dedup();
            for team in &teams {
                sqlx::query(
                    "INSERT INTO teams (id, name, created_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING",
                )
                .bind(super::new_id(now_ms))
                .bind(team)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO team_members (user_id, team_id)
                 SELECT $1, id FROM teams WHERE name = $2",
                )
                .bind(&id)
                .bind(team)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(User {
                id,
                login: new.login.clone(),
                display_name: new.display_name.clone(),
                role: new.role,
                disabled: false,
                teams,
            })
        })
    }

    /// Every account, by login (but the server's own, [`SERVER_ACCOUNT`]).
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        on_db!(&self.db, |pool| {
            let rows: Vec<UserRow> = sqlx::query_as(&format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.id <> '{SERVER_ACCOUNT}' ORDER BY u.login"
            ))
            .fetch_all(pool)
            .await?;
            let members: Vec<(String, String)> = sqlx::query_as(
                "SELECT m.user_id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
             ORDER BY t.name",
            )
            .fetch_all(pool)
            .await?;
            rows.into_iter()
                .map(|row| {
                    let teams = members
                        .iter()
                        .filter(|(user, _)| *user == row.id)
                        .map(|(_, team)| team.clone())
                        .collect();
                    row.user(teams)
                })
                .collect()
        })
    }

    pub async fn user_count(&self) -> Result<i64, StoreError> {
        on_db!(&self.db, |pool| {
            Ok(sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM users WHERE id <> '{SERVER_ACCOUNT}'"
            ))
            .fetch_one(pool)
            .await?)
        })
    }

    /// The account and its password hash, for checking a login.
    pub async fn credentials(&self, login: &str) -> Result<Option<(User, String)>, StoreError> {
        on_db!(&self.db, |pool| {
            let row: Option<CredentialsRow> = sqlx::query_as(&format!(
                "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.login = $1"
            ))
            .bind(login)
            .fetch_optional(pool)
            .await?;
            let Some(CredentialsRow {
                user,
                password_hash,
            }) = row
            else {
                return Ok(None);
            };
            let teams = self.teams_of(&user.id).await?;
            Ok(Some((user.user(teams)?, password_hash)))
        })
    }

    /// Disables (or enables again) an account; disabling ends its sessions. False when there
    /// is no such login.
    pub async fn set_disabled(
        &self,
        login: &str,
        disabled: bool,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        on_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query("UPDATE users SET disabled = $1 WHERE login = $2")
                .bind(disabled)
                .bind(login)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if disabled {
                // Its devices are revoked too: each wipes itself at its next request.
                sqlx::query(REVOKE_DEVICES_OF_LOGIN)
                    .bind(now_ms)
                    .bind(login)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(END_SESSIONS_OF_LOGIN)
                    .bind(now_ms)
                    .bind(login)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(changed == 1)
        })
    }

    /// Replaces the password hash and ends every session of the account.
    pub async fn set_password_hash(
        &self,
        login: &str,
        hash: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        on_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query("UPDATE users SET password_hash = $1 WHERE login = $2")
                .bind(hash)
                .bind(login)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(END_SESSIONS_OF_LOGIN)
                .bind(now_ms)
                .bind(login)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(changed == 1)
        })
    }

    pub async fn add_session(&self, s: &NewSession) -> Result<(), StoreError> {
        on_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, device_id, created_ms, expires_ms)
             VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&s.token_hash)
            .bind(&s.user_id)
            .bind(&s.device_id)
            .bind(s.created_ms)
            .bind(s.expires_ms)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Revokes a device (a lost or stolen phone): its sessions end, its requests are answered
    /// `device_revoked`, and it cannot log in again under this id. False when no session ever
    /// came from it (nothing is recorded then). `by`: the administrator's login, when done on
    /// the overview. Revoking again changes nothing (the first revocation is kept).
    pub async fn revoke_device(
        &self,
        device_id: &str,
        now_ms: i64,
        by: Option<&str>,
    ) -> Result<bool, StoreError> {
        on_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let known: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE device_id = $1")
                    .bind(device_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if known == 0 {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO revoked_devices (device_id, revoked_ms, revoked_by)
             VALUES ($1, $2, $3)
             ON CONFLICT (device_id) DO NOTHING",
            )
            .bind(device_id)
            .bind(now_ms)
            .bind(by)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE sessions SET revoked_ms = $1 WHERE revoked_ms IS NULL AND device_id = $2",
            )
            .bind(now_ms)
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Whether the device is revoked.
    pub async fn device_revoked(&self, device_id: &str) -> Result<bool, StoreError> {
        on_db!(&self.db, |pool| {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT revoked_ms FROM revoked_devices WHERE device_id = $1")
                    .bind(device_id)
                    .fetch_optional(pool)
                    .await?;
            Ok(found.is_some())
        })
    }

    /// The device a session came from, whatever the session's state.
    pub async fn session_device(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        on_db!(&self.db, |pool| {
            Ok(
                sqlx::query_scalar("SELECT device_id FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }

    /// Every device that logged in (of `login` only, if given): with its account, its last
    /// push and pull and when it was revoked, by login and device.
    pub async fn devices(&self, login: Option<&str>) -> Result<Vec<DeviceInfo>, StoreError> {
        on_db!(&self.db, |pool| {
            Ok(sqlx::query_as(DEVICES).bind(login).fetch_all(pool).await?)
        })
    }

    /// The user of a session that is neither expired nor revoked, of an enabled account.
    pub async fn session_user(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<User>, StoreError> {
        on_db!(&self.db, |pool| {
            let row: Option<UserRow> = sqlx::query_as(&format!(
                "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.revoked_ms IS NULL AND s.expires_ms > $2
               AND NOT u.disabled"
            ))
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(pool)
            .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let teams = self.teams_of(&row.id).await?;
            row.user(teams).map(Some)
        })
    }

    /// Ends a session; false when it was not a live session.
    pub async fn revoke_session(&self, token_hash: &str, now_ms: i64) -> Result<bool, StoreError> {
        on_db!(&self.db, |pool| {
            let changed = sqlx::query(
                "UPDATE sessions SET revoked_ms = $1 WHERE token_hash = $2 AND revoked_ms IS NULL",
            )
            .bind(now_ms)
            .bind(token_hash)
            .execute(pool)
            .await?
            .rows_affected();
            Ok(changed == 1)
        })
    }

    pub(crate) async fn teams_of(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        on_db!(&self.db, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT t.name FROM team_members m JOIN teams t ON t.id = m.team_id
             WHERE m.user_id = $1 ORDER BY t.name",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?)
        })
    }
}

/// Revokes every device the account `$2` logged in from, at `$1`.
const REVOKE_DEVICES_OF_LOGIN: &str = "INSERT INTO revoked_devices (device_id, revoked_ms)
     SELECT DISTINCT device_id, $1 FROM sessions
     WHERE user_id IN (SELECT id FROM users WHERE login = $2)
     ON CONFLICT (device_id) DO NOTHING";

/// Ends every live session of the account `$2` at time `$1` (disabling, a new password).
const END_SESSIONS_OF_LOGIN: &str = "UPDATE sessions SET revoked_ms = $1
     WHERE revoked_ms IS NULL AND user_id IN (SELECT id FROM users WHERE login = $2)";

/// An account's row, its teams not yet read.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    login: String,
    display_name: String,
    role: String,
    disabled: bool,
}

/// An account's row with its password hash.
#[derive(sqlx::FromRow)]
struct CredentialsRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

/// The columns of a [`UserRow`] in `users u`.
const USER_COLUMNS: &str = "u.id, u.login, u.display_name, u.role, u.disabled";

impl UserRow {
    /// The account, with its teams; a role the code does not know is a damaged database.
    fn user(self, teams: Vec<String>) -> Result<User, StoreError> {
        let role = self
            .role
            .parse()
            .map_err(|e: String| super::decode::corrupt("account", &self.id, e))?;
        Ok(User {
            id: self.id,
            login: self.login,
            display_name: self.display_name,
            role,
            disabled: self.disabled,
            teams,
        })
    }
}
