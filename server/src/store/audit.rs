//! The audit trail: who read which household, who exported what, who logged in, failed to,
//! or logged out; when, from which device and address, through which endpoint. Written
//! once, never changed; read by `cris-server audit`. None of it goes to the log lines.

use super::db::on_db;
use super::{CaseStore, StoreError};

/// What was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Login,
    /// A wrong password, or a login name no account has.
    LoginFailed,
    /// Not checked: too many failures before (the answer was 429).
    LoginThrottled,
    Logout,
    /// A form's review page.
    ReadSubmission,
    /// A household's history.
    ReadHistory,
    /// A household's consents.
    ReadConsents,
    /// Whether a household released something to a recipient.
    ReadMayShare,
    Export,
    /// A family's copy of everything held about their household.
    FamilyCopy,
    /// A referral letter: the household's released records, for a service.
    ReferralLetter,
    /// A form published by an admin (served from then on).
    PublishForm,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::Login,
        Action::LoginFailed,
        Action::LoginThrottled,
        Action::Logout,
        Action::ReadSubmission,
        Action::ReadHistory,
        Action::ReadConsents,
        Action::ReadMayShare,
        Action::Export,
        Action::FamilyCopy,
        Action::ReferralLetter,
        Action::PublishForm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Login => "login",
            Action::LoginFailed => "login_failed",
            Action::LoginThrottled => "login_throttled",
            Action::Logout => "logout",
            Action::ReadSubmission => "read_submission",
            Action::ReadHistory => "read_history",
            Action::ReadConsents => "read_consents",
            Action::ReadMayShare => "read_may_share",
            Action::Export => "export",
            Action::FamilyCopy => "family_copy",
            Action::ReferralLetter => "referral_letter",
            Action::PublishForm => "publish_form",
        }
    }
}

/// One entry to write.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    pub at_ms: i64,
    pub action: Action,
    /// The account (absent for a failed login under a name no account has).
    pub login: Option<String>,
    pub device_id: Option<String>,
    /// The client's address, as the server saw it (or a trusted proxy did).
    pub address: Option<String>,
    /// The household read.
    pub case_id: Option<String>,
    /// The export made.
    pub export_id: Option<String>,
    /// The form published, as `id@version`.
    pub form: Option<String>,
    /// Method and route, e.g. `GET /api/v1/review/{id}`.
    pub endpoint: &'static str,
}

/// One entry as read back.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at_ms: i64,
    pub action: String,
    pub login: Option<String>,
    pub device_id: Option<String>,
    pub address: Option<String>,
    pub case_id: Option<String>,
    pub export_id: Option<String>,
    pub form: Option<String>,
    pub endpoint: String,
}

/// Which entries to read: all of one household, of one account, since a time.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub case_id: Option<String>,
    pub login: Option<String>,
    pub since_ms: Option<i64>,
}

impl CaseStore {
    /// Writes `event` to the trail.
    pub async fn audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        on_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO audit (at_ms, action, login, device_id, address, case_id, export_id, form,
                                    endpoint)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(event.at_ms)
            .bind(event.action.as_str())
            .bind(&event.login)
            .bind(&event.device_id)
            .bind(&event.address)
            .bind(&event.case_id)
            .bind(&event.export_id)
            .bind(&event.form)
            .bind(event.endpoint)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The entries `filter` picks, oldest first.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let sql =
            "SELECT id, at_ms, action, login, device_id, address, case_id, export_id, form, endpoint
                   FROM audit
                   WHERE (CAST($1 AS TEXT) IS NULL OR case_id = $1)
                     AND (CAST($2 AS TEXT) IS NULL OR login = $2)
                     AND at_ms >= $3
                   ORDER BY id";
        let since = filter.since_ms.unwrap_or(i64::MIN);
        let entries = on_db!(&self.db, |pool| {
            sqlx::query_as::<_, AuditEntry>(sql)
                .bind(&filter.case_id)
                .bind(&filter.login)
                .bind(since)
                .fetch_all(pool)
                .await?
        });
        Ok(entries)
    }
}
