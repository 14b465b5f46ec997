//! Types that travel between the phone and the server, defined once for both sides.

use serde::{Deserialize, Serialize};

use crate::form::Labels;

/// The version of the HTTP API this build speaks. Versioned routes live under `/api/v1/`.
pub const API_VERSION: u32 = 1;

/// `GET /api/health`: whether the server is up and its database answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok` when every check passed, `degraded` otherwise.
    pub status: HealthStatus,
    /// The server's version (its crate version).
    pub version: String,
    /// The API version the server speaks.
    pub api_version: u32,
    /// Whether the database answered a query just now.
    pub database: HealthStatus,
    /// Identifies this case store. It is made when the database is created, so a phone that
    /// sees it change knows it talks to another (or a restored) store and syncs from the start.
    pub instance: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
    Degraded,
}

/// One entry of `GET /api/v1/forms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormSummary {
    pub id: String,
    pub version: u32,
    pub title: Labels,
}

/// What a user may do: workers fill forms for their teams' households, supervisors review
/// their teams' work, admins manage accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Worker,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "worker" => Ok(Role::Worker),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?} (worker, supervisor or admin)"
            )),
        }
    }
}

/// `POST /api/v1/session`: a login from a device. The device id is the phone's own UUID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
    pub device_id: String,
}

/// The answer to a login: the session token (shown once; the server keeps only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    /// Milliseconds since 1970 (server clock) after which the token no longer works.
    pub expires_at_ms: i64,
    pub user: Me,
}

/// `GET /api/v1/me`: who the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub teams: Vec<String>,
}

/// The body of every error the API answers, whatever the status code.
///
/// `code` is stable and meant for programs (the phone maps it to a translated message);
/// `message` is English, for people reading logs or using curl. Neither ever carries
/// internal details such as SQL errors or file paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

/// The kinds of error the API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    MethodNotAllowed,
    BadRequest,
    PayloadTooLarge,
    Unauthorized,
    Forbidden,
    /// Login and password were right, but the account is disabled.
    AccountDisabled,
    Internal,
    Unavailable,
    /// The household has not agreed to share this with that recipient (or no longer does).
    NoConsent,
}

/// `GET /api/v1/consent-texts`: what a phone needs to take consents offline: the agency's
/// details for the texts' placeholders, and the newest version of each text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsentSetup {
    pub agency: crate::consent::text::Agency,
    pub texts: Vec<crate::consent::text::ConsentText>,
}

/// `GET /api/v1/cases/{id}/consent`: a household's consents and withdrawals as the server
/// holds them, and what they grant today.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseConsent {
    pub case_id: String,
    /// The server's date the state is for.
    pub today: crate::Date,
    pub state: crate::consent::ConsentState,
    /// Oldest first.
    pub records: Vec<ReceivedConsent>,
}

/// A consent or withdrawal with the server's clock when it was received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedConsent {
    pub received_at_ms: i64,
    pub record: crate::consent::Record,
}

/// `GET /api/v1/cases/{id}/may-share?recipient=R&purpose=P`, when the household's consent
/// allows it (otherwise 403 `no_consent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MayShare {
    pub recipient: String,
    pub purpose: String,
    pub grant: crate::consent::Grant,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_a_stable_shape() {
        let body = ApiError {
            code: ErrorCode::NotFound,
            message: "no such API endpoint".into(),
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "not_found", "message": "no such API endpoint"})
        );
    }

    #[test]
    fn health_round_trips() {
        let health = Health {
            status: HealthStatus::Ok,
            version: "0.1.0".into(),
            api_version: API_VERSION,
            database: HealthStatus::Ok,
            instance: "5f0c2a9e8d7b41f3a6c1e2d3b4a59687".into(),
        };
        let text = serde_json::to_string(&health).unwrap();
        assert!(text.contains("\"status\":\"ok\""));
        assert_eq!(serde_json::from_str::<Health>(&text).unwrap(), health);
    }
}
