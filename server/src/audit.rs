//! Writing the audit trail from the handlers (see [`crate::store::audit`]): reads of one
//! household's data by supervisors and administrators, logins and logouts. (An export's entry
//! is written by [`crate::export::run`].)
//!
//! A read that cannot be recorded is not answered: the trail has no gaps.

use cris_core::api::Role;

use crate::auth::{self, AuthUser};
use crate::store::audit::{Action, AuditEvent};
use crate::{AppError, AppState};

/// Records that `auth` read household `case_id` through `endpoint` (a worker's reads of their
/// own team's households are their daily work, and are not recorded).
pub async fn household_read(
    state: &AppState,
    auth: &AuthUser,
    action: Action,
    case_id: &str,
    endpoint: &'static str,
) -> Result<(), AppError> {
    if auth.user.role == Role::Worker {
        return Ok(());
    }
    by_user(state, auth, action, Some(case_id), None, endpoint).await
}

/// Records an action of the signed-in `auth` (a logout).
pub async fn by_user(
    state: &AppState,
    auth: &AuthUser,
    action: Action,
    case_id: Option<&str>,
    export_id: Option<&str>,
    endpoint: &'static str,
) -> Result<(), AppError> {
    let mut event = event_of(state, auth, action, endpoint).await?;
    event.case_id = case_id.map(str::to_owned);
    event.export_id = export_id.map(str::to_owned);
    state.store.audit(&event).await?;
    Ok(())
}

/// Records that `auth` published version `version` of the form `form_id`.
pub async fn form_published(
    state: &AppState,
    auth: &AuthUser,
    form_id: &str,
    version: u32,
) -> Result<(), AppError> {
    let mut event = event_of(state, auth, Action::PublishForm, "POST /api/v1/forms").await?;
    event.form = Some(format!("{form_id}@{version}"));
    state.store.audit(&event).await?;
    Ok(())
}

/// An entry for an action of `auth`, about nothing yet.
async fn event_of(
    state: &AppState,
    auth: &AuthUser,
    action: Action,
    endpoint: &'static str,
) -> Result<AuditEvent, AppError> {
    Ok(AuditEvent {
        at_ms: auth::now_ms(),
        action,
        login: Some(auth.user.login.clone()),
        device_id: state.store.session_device(&auth.token_hash).await?,
        address: auth.address.map(|a| a.to_string()),
        case_id: None,
        export_id: None,
        form: None,
        endpoint,
    })
}
