//! Merging households on a supervisor's device. Two households recorded separately that are
//! one family are merged (the one recorded later joins the earlier); two that only look alike
//! are marked as two families; a merge can be undone. Each is an operation in the outbox, like
//! a form: the server checks it, and every phone holding the households follows at its next
//! sync. A merge moves nothing: the merged household keeps its records under its own id and
//! is shown as part of the other (see [`cris_core::record::households`]).

use cris_core::api::Role;
use cris_core::record::{Case, Change, Operation};
use leptos::prelude::*;
use leptos_router::components::A;

use super::caseload::household;
use crate::clock::{new_id, now_ms};
use crate::i18n::use_i18n;
use crate::storage::{self, StorageError};
use crate::sync::use_sync;

/// Keeps a change of the household `case_id` that is no form: `change` is made from the
/// household as this device shows it (with the households merged into it), stamped after
/// everything the device has seen, applied to the case and put in the outbox in one
/// transaction.
pub async fn save_change(
    case_id: &str,
    change: impl FnOnce(&Case) -> Change,
) -> Result<(), StorageError> {
    let db = storage::shared().await?;
    // A pull must not write this case between our read and our write.
    let _cases = storage::case_lock().await;
    let missing = || StorageError::Failed(format!("case {case_id} is not on this device"));
    let mut case = db.case(case_id).await?.ok_or_else(missing)?;
    let shown = db.household(case_id).await?.ok_or_else(missing)?;
    let device = crate::prefs::device_id();
    let mut clock = db.clock(&device).await?;
    let now = now_ms();
    let operation = Operation {
        op_id: new_id(),
        device,
        hlc: clock.stamp(now as u64),
        created_at_ms: now,
        case_id: case.id.clone(),
        change: change(&shown.case),
    };
    case.apply(&operation);
    db.save_change(&case, &operation, clock).await
}

/// Whether the account on this device reviews (supervisors and admins). A memo: a session
/// renewed by a sync draws nothing that depends on it anew.
pub fn reviewer() -> Signal<bool> {
    let sync = use_sync();
    Memo::new(move |_| {
        sync.session
            .with(|s| s.as_ref().is_some_and(|s| s.user.role != Role::Worker))
    })
    .into()
}

/// Saves `change` of `case_id`, then syncs and shows the result everywhere; `failed` gets the
/// reason when the device could not keep it.
fn act(case_id: String, change: Change, failed: RwSignal<Option<String>>) {
    let sync = use_sync();
    leptos::task::spawn_local(async move {
        match save_change(&case_id, |_| change).await {
            Ok(()) => {
                failed.set(None);
                sync.request(false);
                sync.changed.update(|n| *n += 1);
            }
            Err(e) => failed.set(Some(e.to_string())),
        }
    });
}

fn failure_view(failed: RwSignal<Option<String>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        failed.get().map(|e| {
            view! {
                <p class="error" role="alert" data-testid="merge-failed">
                    {i18n.t(|u| u.merge_failed)().replace("{error}", &e)}
                </p>
            }
        })
    }
}

/// On a household's page: where it was merged into, or which households were merged into it;
/// to a supervisor, the undoing of each merge.
pub fn merges_view(
    case: &Case,
    joined: Vec<Case>,
    merged_into: Option<(String, String, String)>,
) -> impl IntoView + use<> {
    let i18n = use_i18n();
    let reviewer = reviewer();
    let failed = RwSignal::new(None::<String>);
    let undo = move |case_id: String, merge: String| {
        view! {
            <button
                type="button"
                class="btn btn-small"
                data-testid="merge-undo"
                hidden=move || !reviewer.get()
                on:click=move |_| {
                    act(case_id.clone(), Change::Unmerge { merge: merge.clone() }, failed)
                }
            >
                {i18n.t(|u| u.merge_undo)}
            </button>
        }
    };
    let shown = match merged_into {
        Some((merge, into, name)) => {
            let name = household(i18n, &name);
            view! {
                <p class="banner" role="status" data-testid="merged-into">
                    {move || {
                        let text = i18n.t(|u| u.merged_into)();
                        let (before, after) = text.split_once("{name}").unwrap_or((text, ""));
                        let name = name();
                        view! {
                            {before.to_owned()}
                            <A href=format!("/cases/{into}")><strong>{name}</strong></A>
                            {after.to_owned()}
                        }
                    }}
                    " "
                    {undo(case.id.clone(), merge)}
                </p>
            }
            .into_any()
        }
        None if joined.is_empty() => ().into_any(),
        None => {
            let items = joined
                .into_iter()
                .filter_map(|other| {
                    let merge = other.merged_into()?.0.to_owned();
                    let name = household(i18n, other.household_name());
                    Some(view! {
                        <li data-case=other.id.clone()>
                            <A href=format!("/cases/{}", other.id)>{name}</A>
                            " "
                            {undo(other.id.clone(), merge)}
                        </li>
                    })
                })
                .collect_view();
            view! {
                <h2>{i18n.t(|u| u.merged_households)}</h2>
                <ul class="submissions" data-testid="merged-households">{items}</ul>
            }
            .into_any()
        }
    };
    view! {
        {shown}
        {failure_view(failed)}
    }
}

/// Merges the household `merged` into `kept`. The two names are two writes of one property
/// now, and the newer would win; the household keeps the name it is known by (`kept_name`),
/// chosen over both as a resolution would. Any other property the two recorded differently
/// stays a conflict for someone to resolve.
async fn merge_households(merged: &str, kept: &str, kept_name: String) -> Result<(), StorageError> {
    save_change(merged, |_| Change::Merge {
        into: kept.to_owned(),
    })
    .await?;
    let db = storage::shared().await?;
    let name_in_conflict = db.household(kept).await?.is_some_and(|h| {
        h.case
            .fields
            .0
            .get("household_name")
            .is_some_and(|f| !f.conflict().is_empty())
    });
    if name_in_conflict && !kept_name.trim().is_empty() {
        save_change(kept, |shown| Change::Resolve {
            properties: shown.writes_for(&std::collections::BTreeMap::from([(
                "household_name".to_owned(),
                kept_name,
            )])),
        })
        .await?;
    }
    Ok(())
}

/// Under a pair of possible duplicates: merge them (after a confirmation saying what happens)
/// or mark them as two families. `kept` is the household recorded first; `merged` joins it.
#[component]
pub fn PairActions(kept: (String, String), merged: (String, String)) -> impl IntoView {
    let i18n = use_i18n();
    let asking = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let (kept_id, kept_name) = kept;
    let (merged_id, merged_name) = merged;
    let confirm = {
        let (kept_name, merged_name) = (household(i18n, &kept_name), household(i18n, &merged_name));
        move || {
            i18n.t(|u| u.merge_confirm)()
                .replace("{merged}", &merged_name())
                .replace("{kept}", &kept_name())
        }
    };
    let merge = {
        let (merged_id, kept_id, kept_name) =
            (merged_id.clone(), kept_id.clone(), kept_name.clone());
        let sync = use_sync();
        move |_| {
            asking.set(false);
            let (merged_id, kept_id, kept_name) =
                (merged_id.clone(), kept_id.clone(), kept_name.clone());
            leptos::task::spawn_local(async move {
                match merge_households(&merged_id, &kept_id, kept_name).await {
                    Ok(()) => {
                        failed.set(None);
                        sync.request(false);
                        sync.changed.update(|n| *n += 1);
                    }
                    Err(e) => failed.set(Some(e.to_string())),
                }
            });
        }
    };
    let distinct = move |_| {
        act(
            merged_id.clone(),
            Change::Distinct {
                other: kept_id.clone(),
            },
            failed,
        )
    };
    view! {
        <div class="actions" hidden=move || asking.get()>
            <button type="button" class="btn btn-small" data-testid="duplicate-merge" on:click=move |_| asking.set(true)>
                {i18n.t(|u| u.duplicate_merge)}
            </button>
            <button type="button" class="btn btn-small" data-testid="duplicate-distinct" on:click=distinct>
                {i18n.t(|u| u.duplicate_distinct)}
            </button>
        </div>
        <div class="confirm" hidden=move || !asking.get()>
            <p data-testid="merge-confirm">{confirm}</p>
            <div class="actions">
                <button type="button" class="btn btn-primary btn-small" data-testid="merge-do" on:click=merge>
                    {i18n.t(|u| u.merge_do)}
                </button>
                <button type="button" class="btn btn-small" on:click=move |_| asking.set(false)>
                    {i18n.t(|u| u.merge_cancel)}
                </button>
            </div>
        </div>
        {failure_view(failed)}
    }
}
