//! The supervisor's dashboard over HTTP: `GET /api/v1/dashboard?team=&weeks=&to=`, for
//! supervisors and admins, over their teams (or the one of them named): home visits per worker
//! and week, the households by housing, overdue agreed steps, consents in force, and when each
//! device last synced.
//!
//! A team that is not one of the user's (or does not exist) gives a dashboard of nothing,
//! exactly as it gives an empty review queue: the two are not told apart.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use cris_core::Date;
use cris_core::api::{DASHBOARD_WEEKS, Dashboard, DashboardQuery, MAX_DASHBOARD_WEEKS, Role};

use crate::auth::{self, AuthUser};
use crate::store::DashboardFilter;
use crate::{AppError, AppState};

const DAY_MS: i64 = 86_400_000;

/// The dashboard is for supervisors and admins, like review.
fn supervisor(auth: &AuthUser) -> Result<(), AppError> {
    match auth.user.role {
        Role::Supervisor | Role::Admin => Ok(()),
        Role::Worker => Err(AppError::Forbidden(
            "the dashboard is for supervisors and admins",
        )),
    }
}

pub async fn get(
    State(state): State<AppState>,
    auth: AuthUser,
    query: Result<Query<DashboardQuery>, QueryRejection>,
) -> Result<Json<Dashboard>, AppError> {
    supervisor(&auth)?;
    let Query(query) = query.map_err(|e| {
        AppError::BadRequest(format!(
            "{}: the dashboard takes team (one of your teams), weeks (1 to {MAX_DASHBOARD_WEEKS}, {DASHBOARD_WEEKS} unless told) and to (the last day shown, YYYY-MM-DD, today unless told)",
            e.body_text()
        ))
    })?;
    let today = Date::from_days(i32::try_from(auth::now_ms() / DAY_MS).unwrap_or_default());
    let filter = filter_of(query, today)?;
    Ok(Json(state.store.dashboard(&auth.user.id, &filter).await?))
}

/// The store's filter for a query, or why the query is wrong. More weeks than
/// [`MAX_DASHBOARD_WEEKS`] are taken as that many, as a longer page of the review queue is.
fn filter_of(query: DashboardQuery, today: Date) -> Result<DashboardFilter, AppError> {
    let weeks = match query.weeks {
        None => DASHBOARD_WEEKS,
        Some(0) => {
            return Err(AppError::BadRequest(format!(
                "weeks must be at least 1 (at most {MAX_DASHBOARD_WEEKS})"
            )));
        }
        Some(n) => n.min(MAX_DASHBOARD_WEEKS),
    };
    Ok(DashboardFilter {
        // An empty field of a form is no filter.
        team: query.team.filter(|t| !t.trim().is_empty()),
        to: query.to.unwrap_or(today),
        weeks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_default_are_capped_and_never_zero() {
        let today: Date = "2026-03-04".parse().unwrap();
        let plain = filter_of(DashboardQuery::default(), today).unwrap();
        assert_eq!(plain.weeks, DASHBOARD_WEEKS);
        assert_eq!(plain.to, today);
        assert_eq!(plain.team, None);
        let many = DashboardQuery {
            weeks: Some(99),
            team: Some(" ".into()),
            ..DashboardQuery::default()
        };
        let many = filter_of(many, today).unwrap();
        assert_eq!(many.weeks, MAX_DASHBOARD_WEEKS);
        assert_eq!(many.team, None, "an empty field filters nothing");
        let zero = DashboardQuery {
            weeks: Some(0),
            ..DashboardQuery::default()
        };
        assert!(filter_of(zero, today).is_err());
    }
}
