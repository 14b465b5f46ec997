//! The review tab. A worker sees the forms the supervisor sent back (kept from the last
//! sync, so offline too) and corrects them from here; a supervisor sees the review queue of
//! the team (online), opens a form and approves it or asks for changes with a comment.

#[cfg(feature = "office")]
mod conflicts;
#[cfg(feature = "office")]
mod duplicate_households;
mod form;
mod inbox;
#[cfg(feature = "office")]
mod queue;

use std::collections::HashMap;

use cris_core::api::{Inbox, ReviewDecision, ReviewDetail, ReviewRequest, ReviewStatus};
use cris_core::record::Submission;
// What the office build's screens of this tab (queue, conflicts, duplicates) use.
#[cfg(feature = "office")]
use cris_core::api::{ReviewItem, ReviewSort, Role};
#[cfg(feature = "office")]
use cris_core::duplicates;
#[cfg(feature = "office")]
use cris_core::record::Case;
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

use super::short_device;
#[cfg(feature = "office")]
use super::{DateFilter, TeamFilter};

#[component]
pub fn Review() -> impl IntoView {
    let i18n = use_i18n();
    // The review queue is the office build's: the field build shows the inbox to everyone.
    #[cfg(feature = "office")]
    let shown = {
        let sync = use_sync();
        let reviewer = move || {
            sync.session
                .with(|s| s.as_ref().is_some_and(|s| s.user.role != Role::Worker))
        };
        move || {
            if reviewer() {
                view! { <Queue/> <Conflicts/> <Duplicates/> }.into_any()
            } else {
                WorkerInbox().into_any()
            }
        }
    };
    #[cfg(not(feature = "office"))]
    let shown = WorkerInbox;
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.review_title)}</h1>
            {shown}
        </section>
    }
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

#[cfg(feature = "office")]
use conflicts::Conflicts;
#[cfg(feature = "office")]
use duplicate_households::Duplicates;
pub use form::ReviewForm;
use inbox::WorkerInbox;
#[cfg(feature = "office")]
use queue::Queue;
