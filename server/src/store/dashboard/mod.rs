//! What the store keeps and reads for the supervisor's dashboard (`GET /api/v1/dashboard`).
//!
//! Most of what the dashboard counts is only in the operations' bodies (the answers of forms,
//! the consents as signed): reading 50,000 bodies for every dashboard would take seconds. So
//! the facts it needs are kept in derived tables, and its counts are plain SQL over them,
//! each reading the rows of the teams covered only:
//! - `case_summaries`: per household, its name, housing (and whether in conflict), open
//!   agreed steps and their due dates (the households with steps due by a day are an index
//!   range), latest visit and the last day its consents grant anything. A household merged
//!   into another is summarised as part of the one it joined, as the phone shows it (its
//!   records with the other's, its properties joined to the other's); its own row only names
//!   the one it joined (`merged_into`) and counts nowhere;
//! - `case_summary_visits`: every home visit (not a correction) by worker and day, as
//!   `submissions` has them (taken from the operation that carried it), with the household's
//!   team;
//! - `household_counts` and `visit_counts`: the households by team, housing and consent, and
//!   the visits by team, day and worker, counted as the tables above are written, so that a
//!   dashboard reads a few rows of counts however many households and visits its teams have
//!   had.
//!
//! Referrals are counted straight from `referrals` (a row per referral, with the state it
//! stands at and the day it was made, kept by the push): there are few of them per team.
//!
//! They are brought up to date lazily, when a dashboard is asked for, never by pushes: pushes
//! stay as fast as they were (a summary needs every operation of its household, read and
//! parsed; a push group writes thousands of operations a second). A watermark
//! (`case_summaries_watermark`) holds the highest `ops.seq` summarised; a dashboard first
//! re-summarises the households with operations after it (found by a range of the log's key,
//! [`CASES_SINCE`]), and those they are or were merged into (a merge and its undoing are
//! operations of the merged household), from all their operations up to the end of the log
//! the refresh began with, and then moves it there. Between two dashboards that is the
//! households pushed meanwhile; the first dashboard after a bulk import (or after a migration
//! that empties these tables and sets the watermark back to 0) pays for every household,
//! once. Only what a summary needs of an operation is parsed (see [`read_logged`]).
//!
//! Two dashboards refreshing at once (two supervisors, two server processes) may do the same
//! work, but their writes take turns (SQLite's one write lock, in the writer's queue;
//! PostgreSQL, an advisory lock of their own), and each writes only what changes the tables:
//! a summary only replaces one made from less of the log (its `seq` is lower; see
//! [`summarize_households`] for what it counts with merges), a visit is
//! kept once (by its submission's id), the counts change by what was replaced and added, and
//! the watermark only moves forward. Operations pushed while a refresh runs are either
//! summarised by it or after the next watermark, never skipped: log sequence numbers become
//! visible in their order (SQLite has one writer; PostgreSQL pushes hold the push lock while
//! they take their numbers and commit).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use cris_core::Date;
use cris_core::api::{
    ConsentCounts, Dashboard, DeviceSync, HousingCounts, MAX_OVERDUE_LISTED, Overdue,
    OverdueHousehold, ReferralCounts, WorkerVisits,
};
use cris_core::caseload::{self, fold};
use cris_core::consent::{self, Consent, ConsentState, Withdrawal};
use cris_core::form::{Answer, Answers};
use cris_core::record::{self, Case, Correction, Submission};
use cris_core::referral::ReferralState;
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};

use super::{StoreError, decode};

mod overview;
mod read;
mod sql;
mod store;
mod summary;
#[cfg(test)]
mod tests;

pub(crate) use overview::*;
pub(crate) use read::*;
pub(crate) use sql::*;
pub(crate) use store::add_household_counts;
pub(crate) use summary::*;

pub(crate) const DAY_MS: i64 = 86_400_000;

/// The case properties a summary reads: the name (see [`super::HOUSEHOLD_NAME`]), and the
/// housing.
pub(crate) use super::HOUSEHOLD_NAME;
pub(crate) const HOUSING: &str = "housing_situation";

/// `consent_until` of a household whose consent holds until withdrawn: the last day a
/// [`Date`] can name.
pub(crate) const UNTIL_WITHDRAWN: i64 = i32::MAX as i64;

/// Households summarised together: read, parsed and written in one go (a few megabytes of
/// operations), so that the first dashboard on a full store neither holds every operation in
/// memory nor keeps the writer from pushes for long.
pub(crate) const SUMMARY_CHUNK: usize = 500;

/// What the dashboard covers: the user's teams, or the one named; the weeks up to `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashboardFilter {
    /// A team's name.
    pub team: Option<String>,
    /// The last day shown.
    pub to: Date,
    /// How many weeks, at least 1.
    pub weeks: u32,
}

impl DashboardFilter {
    /// The Monday of each week shown, oldest first.
    pub fn week_starts(&self) -> Vec<Date> {
        let last = self.to.monday().days();
        let weeks = i32::try_from(self.weeks.max(1)).unwrap_or(1);
        (0..weeks)
            .rev()
            .map(|back| Date::from_days(last - 7 * back))
            .collect()
    }
}
