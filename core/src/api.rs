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
    /// The agency's rules for its phones.
    #[serde(default)]
    pub policy: PhonePolicy,
}

/// What the agency sets for its phones, handed to them at each login and each pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhonePolicy {
    /// The app locks after this many seconds without a touch, or in the background.
    pub lock_after_s: u32,
    /// A phone that has not reached the server for this many days needs an online login
    /// before it unlocks again, so that a revocation takes effect on a phone in use.
    pub offline_days: u32,
}

impl Default for PhonePolicy {
    fn default() -> Self {
        PhonePolicy {
            lock_after_s: 5 * 60,
            offline_days: 30,
        }
    }
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
    /// The device was revoked (reported lost or stolen): it is to wipe what it holds.
    DeviceRevoked,
    /// Too many wrong passwords for this login or from this address: the answer's
    /// `Retry-After` says when to try again.
    TooManyAttempts,
    /// The request did not arrive in time (a body that stopped coming): send it again.
    RequestTimeout,
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

/// The longest comment of a review decision, in characters.
pub const MAX_REVIEW_COMMENT_CHARS: usize = 2000;
/// Items on a page of the review queue unless `limit` says otherwise, and the most it may say.
pub const REVIEW_PAGE: u32 = 50;
pub const MAX_REVIEW_PAGE: u32 = 200;

/// The longest household name the review queue searches for, in characters.
pub const MAX_HOUSEHOLD_SEARCH: usize = 100;

/// Where a submission stands in review, as it follows from its review events and the
/// corrections that arrived:
///
/// - `approved`: its latest review event approves it;
/// - `changes_requested`: its latest event asks for changes, and no correction of it has
///   arrived since;
/// - `corrected`: its latest event asks for changes, and a correction of it has arrived since;
/// - `resubmitted`: it has no review event yet and corrects a submission whose latest event
///   asks for changes (it arrived after that request);
/// - `new`: anything else without a review event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    New,
    Approved,
    ChangesRequested,
    Corrected,
    Resubmitted,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 5] = [
        ReviewStatus::New,
        ReviewStatus::Approved,
        ReviewStatus::ChangesRequested,
        ReviewStatus::Corrected,
        ReviewStatus::Resubmitted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::New => "new",
            ReviewStatus::Approved => "approved",
            ReviewStatus::ChangesRequested => "changes_requested",
            ReviewStatus::Corrected => "corrected",
            ReviewStatus::Resubmitted => "resubmitted",
        }
    }
}

impl std::str::FromStr for ReviewStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ReviewStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown review status {s:?} (new, approved, changes_requested, corrected or resubmitted)"
                )
            })
    }
}

/// What a supervisor decides about a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Approved,
    /// Sent back to the worker, with a comment saying what to change.
    ChangesRequested,
}

impl ReviewDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewDecision::Approved => "approved",
            ReviewDecision::ChangesRequested => "changes_requested",
        }
    }
}

impl std::str::FromStr for ReviewDecision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "approved" => Ok(ReviewDecision::Approved),
            "changes_requested" => Ok(ReviewDecision::ChangesRequested),
            other => Err(format!(
                "unknown review decision {other:?} (approved or changes_requested)"
            )),
        }
    }
}

/// The query of `GET /api/v1/review` (supervisors and admins): every part optional, none
/// other accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    /// A team's name (one of the user's teams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The login of the worker who pushed the submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// A form id (`home_visit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ReviewStatus>,
    /// Received on or after this day (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<crate::Date>,
    /// Received on or before this day (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<crate::Date>,
    /// A case id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// Part of a household's name, as any of its forms recorded it (or of the household it
    /// was merged into), compared as [`crate::duplicates::comparable`] compares names: ş/s,
    /// Cyrillic and Latin, upper and lower case alike. At most [`MAX_HOUSEHOLD_SEARCH`]
    /// characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
    /// Newest received first unless told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<ReviewSort>,
    /// Items per page: [`REVIEW_PAGE`] unless told, at most [`MAX_REVIEW_PAGE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next` of the page before (opaque; for the same sort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// The review queue's order: by the time the server received the forms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewSort {
    /// What arrived last first: what is new since the last look.
    #[default]
    Newest,
    /// What has waited longest first: working through a backlog.
    Oldest,
}

impl ReviewSort {
    pub const ALL: [ReviewSort; 2] = [ReviewSort::Newest, ReviewSort::Oldest];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewSort::Newest => "newest",
            ReviewSort::Oldest => "oldest",
        }
    }
}

/// One submission in the review queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub submission_id: String,
    /// The household it was recorded on.
    pub case_id: String,
    /// The household it is shown with: the one its own was merged into, while the merge
    /// stands; its own otherwise.
    #[serde(default)]
    pub household_id: String,
    /// That household's name as it stands now ("" without one).
    #[serde(default)]
    pub household_name: String,
    pub form_id: String,
    pub form_version: u32,
    /// The account that pushed it.
    pub worker_login: String,
    pub worker_name: String,
    /// The team its case belongs to.
    pub team: String,
    /// The server's clock when it arrived.
    pub received_at_ms: i64,
    /// The phone's clock when it was finalized (whole milliseconds).
    pub finalized_at_ms: i64,
    pub status: ReviewStatus,
    /// The submission it corrects, if it is a correction.
    pub corrects: Option<String>,
    /// The comment of its latest review event (`None` without one, or when it was blank).
    pub comment: Option<String>,
}

/// `GET /api/v1/review`: a page of the queue, newest received first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPage {
    pub items: Vec<ReviewItem>,
    /// `after` for the next page; `None` on the last.
    pub next: Option<String>,
}

/// `GET /api/v1/review/workers`: the enabled workers of the reviewer's teams, to filter the
/// queue by, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamWorkers {
    pub workers: Vec<TeamWorker>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamWorker {
    pub login: String,
    pub display_name: String,
}

/// One review decision, as appended to the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewEvent {
    /// Ascending in the order events were recorded.
    pub id: i64,
    pub submission_id: String,
    pub decision: ReviewDecision,
    /// Empty when an approval came without one.
    pub comment: String,
    pub reviewer_login: String,
    pub reviewer_name: String,
    /// The server's clock when it was recorded.
    pub at_ms: i64,
}

/// `GET /api/v1/review/{submission_id}`: a submission with what review has said of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewDetail {
    pub item: ReviewItem,
    /// The operation that carried it: the answers as the worker sent them.
    pub op: crate::record::Operation,
    /// Oldest first.
    pub events: Vec<ReviewEvent>,
    /// The latest correction of it that arrived, if any.
    pub corrected_by: Option<String>,
    /// Every version of the form, this one among them: the original and the corrections that
    /// followed it, in the order they arrived.
    #[serde(default)]
    pub edits: Vec<ReviewEdit>,
}

/// One version of a form in its chain of corrections: who finalized it, on which device, when,
/// and why it corrects the one before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewEdit {
    pub submission_id: String,
    /// The submission it corrects (`None` for the original).
    pub corrects: Option<String>,
    /// The account that pushed it.
    pub worker_login: String,
    pub worker_name: String,
    /// The device it was finalized on.
    pub device: String,
    pub form_version: u32,
    /// The device's clock when it was finalized (whole milliseconds).
    pub finalized_at_ms: i64,
    /// The server's clock when it arrived.
    pub received_at_ms: i64,
    /// Why it corrects the one before, as the worker wrote it.
    pub reason: Option<String>,
}

/// `POST /api/v1/review/{submission_id}`. The comment may be left out of an approval; asking
/// for changes needs one (at most [`MAX_REVIEW_COMMENT_CHARS`] characters either way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub decision: ReviewDecision,
    #[serde(default)]
    pub comment: String,
}

/// The answer to a review decision: the event recorded and where the submission now stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewOutcome {
    pub event: ReviewEvent,
    pub status: ReviewStatus,
}

/// Weeks on the dashboard unless `weeks` says otherwise, and the most it may say (more is
/// taken as this many, as a page of the review queue is).
pub const DASHBOARD_WEEKS: u32 = 8;
pub const MAX_DASHBOARD_WEEKS: u32 = 26;
/// The most households the dashboard names among those with overdue steps.
pub const MAX_OVERDUE_LISTED: usize = 50;

/// The query of `GET /api/v1/dashboard` (supervisors and admins): every part optional, none
/// other accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    /// A team's name (one of the user's teams); all of them unless told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// How many weeks of visits: [`DASHBOARD_WEEKS`] unless told, 1 to
    /// [`MAX_DASHBOARD_WEEKS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weeks: Option<u32>,
    /// The last day shown (UTC): today unless told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<crate::Date>,
}

/// `GET /api/v1/dashboard`: what a supervisor checks of their teams' work. Visits are counted
/// in the weeks shown; everything else is the households as they stand now, with `to` as the
/// day that decides what is overdue and which consents are still in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    /// The teams covered, by name: the user's teams, or the one asked for (none when the team
    /// asked for is not one of theirs, or does not exist: the two are not told apart).
    pub teams: Vec<String>,
    /// The last day shown.
    pub to: crate::Date,
    /// The Monday of each ISO week shown, oldest first; the last week holds `to` (and ends
    /// with it: visits after `to` are not counted).
    pub weeks: Vec<crate::Date>,
    /// Home visits per worker, by name.
    pub visits: Vec<WorkerVisits>,
    pub housing: HousingCounts,
    pub overdue: Overdue,
    pub consents: ConsentCounts,
    /// Each device of the teams' members that has synced, by its latest push or pull, the
    /// longest silent first.
    pub devices: Vec<DeviceSync>,
    /// The households whose case is closed now, by why it was closed (reasons with none are
    /// left out). Closed households have no steps overdue.
    #[serde(default)]
    pub closed: std::collections::BTreeMap<crate::record::CloseReason, u64>,
    /// The referrals made in the weeks shown (by the day the server received them, UTC), by
    /// service and by where each stands now: what became of them.
    #[serde(default)]
    pub referrals: Vec<ReferralCounts>,
}

/// The referrals to one service that stand at one state now, by the week they were made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralCounts {
    /// The service: a recipient's id in the consent text.
    pub recipient: String,
    pub state: crate::referral::ReferralState,
    /// One count per week of [`Dashboard::weeks`], in the same order.
    pub per_week: Vec<u32>,
    pub total: u32,
}

/// A worker's home visits (corrections not counted again) by the week the phone finalized
/// them (UTC), on the covered teams' households, counted for the account that pushed them.
/// Every worker of the teams whose account is enabled is listed, with zeros if need be; so is
/// anyone else whose visits on those households are counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerVisits {
    pub login: String,
    pub display_name: String,
    /// One count per week of [`Dashboard::weeks`], in the same order.
    pub per_week: Vec<u32>,
    pub total: u32,
}

/// The households by the current value of their `housing_situation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HousingCounts {
    /// Every household of the covered teams.
    pub households: u64,
    /// Households by current value (the merge's winner, also where it is in conflict).
    pub by_value: std::collections::BTreeMap<String, u64>,
    /// Households without a value.
    pub no_value: u64,
    /// Of those in `by_value`, the households whose housing is in conflict (two phones wrote
    /// different values and nobody has chosen yet).
    pub in_conflict: u64,
}

/// Agreed steps not reported done whose due date is `to` or earlier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overdue {
    pub steps: u64,
    pub households: u64,
    /// The households with the most overdue steps (then the oldest due date first), at most
    /// [`MAX_OVERDUE_LISTED`].
    pub most: Vec<OverdueHousehold>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueHousehold {
    pub case_id: String,
    /// Empty when the intake did not give one.
    pub household_name: String,
    pub overdue: u32,
    pub oldest_due: crate::Date,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentCounts {
    /// Households whose consents grant anything on `to` (see [`crate::consent::state`]).
    pub households_in_force: u64,
    /// Consent records and withdrawals held (each is a record of its own).
    pub consents: u64,
    pub withdrawals: u64,
}

/// When a device last reached the server, for one account using it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSync {
    pub device_id: String,
    pub login: String,
    pub display_name: String,
    /// The server's clock at its last push; `None` if it never pushed.
    pub last_push_ms: Option<i64>,
    /// The server's clock at its last pull (noted at most once a minute); `None` if it never
    /// pulled.
    pub last_pull_ms: Option<i64>,
    /// When the device was revoked (a lost or stolen phone), if it was.
    #[serde(default)]
    pub revoked_ms: Option<i64>,
    /// The administrator who revoked it on the overview (none: on the command line, or by
    /// disabling the account).
    #[serde(default)]
    pub revoked_by: Option<String>,
}

/// A submission of the user's sent back for changes and not corrected yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub submission_id: String,
    pub case_id: String,
    pub form_id: String,
    pub form_version: u32,
    /// What to change, as the reviewer wrote it.
    pub comment: String,
    pub reviewer_login: String,
    pub reviewer_name: String,
    /// The server's clock when the changes were asked for.
    pub requested_at_ms: i64,
    /// The server's clock when the submission had arrived.
    pub received_at_ms: i64,
}

/// `GET /api/v1/inbox`: the user's submissions waiting for a correction, latest request
/// first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    pub items: Vec<InboxItem>,
}

/// The file an export is written as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One workbook: a sheet per form and per repeat group.
    #[default]
    Xlsx,
    /// One table (a form's, or a repeat group's) per file.
    Csv,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Csv => "csv",
        }
    }
}

/// What separates the fields of an exported CSV file. The decimal mark goes with it: a
/// semicolon with a decimal comma (as spreadsheets in German, Hungarian, Slovak, Bulgarian and
/// Turkish read them), a comma with a decimal point (as in English).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CsvDelimiter {
    Comma,
    Semicolon,
}

/// The query of `GET /api/v1/export` (supervisors and admins): which submissions of the
/// user's teams' cases, as which file. Every part optional, none other accepted. Also what
/// the record of an export keeps of it (without `format`, with `lang` as used).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `xlsx` unless told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<ExportFormat>,
    /// A form id (`home_visit`): every form unless told; a CSV export needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// CSV only: a repeat group of the form (`new_steps`); the form's own table unless told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// A team's name (one of the user's teams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The login of the worker who pushed the submissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Received on or after this day (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<crate::Date>,
    /// Received on or before this day (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<crate::Date>,
    /// The language of the column headings and of the choices' labels: German unless told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<crate::Lang>,
    /// CSV only: the separator, instead of the one of the language's spreadsheets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<CsvDelimiter>,
    /// The fields marked sensitive (health) too: left out unless asked for, and asked for by
    /// admins only. An export's record keeps that it included them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// An export as recorded: who took which submissions out of the system, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportEntry {
    pub id: String,
    pub login: String,
    pub display_name: String,
    /// The server's clock when the file was made.
    pub at_ms: i64,
    pub format: ExportFormat,
    pub filter: ExportQuery,
    /// Rows in the file (on every sheet), headings not counted.
    pub rows: i64,
    /// Households whose data is in the file.
    pub cases: i64,
}

/// `GET /api/v1/exports`: the exports made by the supervisors and admins of the user's teams,
/// newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportList {
    pub items: Vec<ExportEntry>,
}

/// `GET /api/v1/cases/{id}/erasure` (administrators): what erasing the household would
/// remove, to be confirmed before anything goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasurePreview {
    pub case_id: String,
    pub household: String,
    /// Its forms, how many of each form (by the form's id).
    pub forms: std::collections::BTreeMap<String, u32>,
    /// Consents and withdrawals.
    pub consents: u32,
    /// Everything else recorded on it: closings, merges, settled conflicts.
    pub other: u32,
    /// Households found to be the same family and merged into it: erased with it only when
    /// the request names them.
    pub merged: Vec<MergedHousehold>,
}

/// A household merged into another, by its id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedHousehold {
    pub case_id: String,
    pub household: String,
}

/// `POST /api/v1/cases/{id}/erasure` (administrators): erase the household, for this reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRequest {
    /// Why, as the tombstone keeps it: the request and who made it (no family's name).
    pub reason: String,
    /// The households merged into it that are erased too (as the preview listed them). One
    /// merged into it since, and not named here, stops the erasure.
    #[serde(default)]
    pub with_merged: Vec<String>,
}

/// The longest reason for an erasure, in characters.
pub const MAX_ERASURE_REASON_CHARS: usize = 1000;

/// The answer to an erasure: which households went, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureDone {
    pub erased: Vec<String>,
    pub at_ms: i64,
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
