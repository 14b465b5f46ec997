//! The sync protocol's messages (DESIGN.md: sync protocol), defined once for the phone and
//! the server: push a batch of operations, get an outcome per operation; pull what changed
//! since a cursor, in pages.

use serde::{Deserialize, Serialize};

use crate::record::Operation;

/// The most operations one push may carry; a phone with more sends several batches.
pub const MAX_BATCH: usize = 500;
/// The most operations one pull page returns.
pub const MAX_PAGE: usize = 1000;
/// A phone's clock may run this far ahead of the server's; a stamp beyond would win every
/// concurrent edit for as long as the clock is wrong, so such an operation is refused.
pub const MAX_CLOCK_AHEAD_MS: u64 = 24 * 60 * 60 * 1000;

/// `POST /api/v1/ops`. Operations are read one by one: a malformed one is refused alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest<Op = Operation> {
    pub ops: Vec<Op>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One per operation pushed, in the same order.
    pub results: Vec<OpResult>,
    /// The server's clock, so a phone can tell how far off its own is.
    pub server_time_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    /// Empty when the operation was too malformed to have one.
    pub op_id: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What became of one operation. Only `rejected` keeps it in the phone's outbox (with the
/// reason, for the worker to see); the others are acknowledged and leave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    /// Applied before: nothing changed.
    Duplicate,
    /// Applied, and these fields now hold concurrent values (kept until resolved).
    Conflict {
        fields: Vec<String>,
    },
    Rejected {
        reason: Reason,
        message: String,
    },
}

impl Outcome {
    /// Whether the server has the operation (it may leave the outbox).
    pub fn acknowledged(&self) -> bool {
        !matches!(self, Outcome::Rejected { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Not an operation this server can read.
    Malformed,
    /// A form (or form version) this server does not have.
    UnknownForm,
    /// The answers do not pass the form's validation.
    Invalid,
    /// No such case among those the user may see (whether it exists elsewhere is not said).
    NotFound,
    /// The phone's clock is too far ahead.
    ClockAhead,
}

/// `GET /api/v1/ops?since=CURSOR&limit=N`: what changed in the user's cases after `since`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub ops: Vec<Operation>,
    /// Pass as `since` next time; 0 starts from the beginning.
    pub next_cursor: i64,
    /// Whether another page follows at once.
    pub more: bool,
}
