//! The review tab. A worker sees the forms the supervisor sent back (kept from the last
//! sync, so offline too) and corrects them from here; a supervisor sees the review queue of
//! the team (online), opens a form and approves it or asks for changes with a comment.

mod conflicts;
mod duplicate_households;
mod form;
mod inbox;
mod queue;

use std::collections::HashMap;

use cris_core::api::{
    Inbox, ReviewDecision, ReviewDetail, ReviewItem, ReviewRequest, ReviewSort, ReviewStatus,
};
use cris_core::duplicates;
use cris_core::record::{Case, Submission};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::clock::{date_time, new_id};
use crate::form_view::readonly::{Row, answers_view, rows};
use crate::form_view::storage_error_view;
use crate::forms::use_forms;
use crate::i18n::{I18n, Ui, use_i18n};
use crate::storage::{self, StorageError};
use crate::sync::{Failure, api, use_sync};

use super::{DateFilter, TeamFilter, short_device};

#[component]
pub fn Review() -> impl IntoView {
    let i18n = use_i18n();
    let reviewer = super::reviewer();
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.review_title)}</h1>
            {move || {
                if reviewer.get() {
                    crate::parts::piece(crate::parts::review_queue).into_any()
                } else {
                    WorkerInbox().into_any()
                }
            }}
        </section>
    }
}

/// A supervisor's part of the review tab: the team's queue, the households whose records
/// disagree, and the possible duplicates to merge (in the office part: see `parts`).
#[component]
pub fn ReviewQueue() -> impl IntoView {
    view! { <Queue/> <Conflicts/> <Duplicates/> }
}

/// A status in the reader's words.
pub fn status_label(u: &Ui, status: ReviewStatus) -> &'static str {
    match status {
        ReviewStatus::New => u.status_new,
        ReviewStatus::Approved => u.status_approved,
        ReviewStatus::ChangesRequested => u.status_changes_requested,
        ReviewStatus::Corrected => u.status_corrected,
        ReviewStatus::Resubmitted => u.status_resubmitted,
    }
}

/// A failed call in the reader's words.
pub(super) fn failure_text(i18n: I18n, failure: &Failure) -> String {
    match failure {
        Failure::Offline => i18n.t(|u| u.review_offline)().to_owned(),
        other => crate::refusal::failure(i18n.lang.get(), other),
    }
}

use conflicts::Conflicts;
use duplicate_households::Duplicates;
pub use form::ReviewForm;
use inbox::WorkerInbox;
use queue::Queue;
