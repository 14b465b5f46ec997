//! Filling a form: the screen that renders any form definition, saves the draft while the
//! worker types, and finalizes it into a submission.

mod fields;
mod parts;
pub mod readonly;
mod state;

use std::sync::Arc;
use std::time::Duration;

use cris_core::caseload::{self, HOME_VISIT};
use cris_core::form::{Answers, FormDef};
use cris_core::record::{Case, Change, Correction, Operation, Submission};
use leptos::ev;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use crate::clock::{new_id, now_ms, time_of_day, today};
use crate::forms::use_forms;
use crate::i18n::{I18n, use_i18n};
use crate::storage::{self, Draft, Finalized, StorageError};
use crate::{perf, prefs};
use state::FormState;

/// Drafts are saved this long after the last keystroke (and at once when the page is hidden).
const AUTOSAVE_AFTER: Duration = Duration::from_millis(400);

/// What the route asks for: an existing draft, or a new one of `form` (for `case`).
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub draft_id: String,
    pub form_id: Option<String>,
    pub case_id: Option<String>,
    /// The submission a new correction corrects.
    pub corrects: Option<String>,
}

/// What opening a draft found.
#[derive(Clone)]
enum Opened {
    /// The form is taken once, when the draft opens: a newer definition arriving from the
    /// server meanwhile must not rebuild the screen under the worker's fingers.
    Draft {
        draft: Draft,
        saved: bool,
        form: Arc<FormDef>,
        /// What a correction corrects.
        corrected: Option<Box<Submission>>,
    },
    /// The id is a form finalized already: its address leads to it on its household's page.
    Finalized {
        case_id: String,
        id: String,
    },
    /// A draft saved under a finalized form's id, kept under a new id.
    Moved(String),
    /// The draft's form is not on this phone.
    FormMissing(String),
    NotFound,
    /// A new form for a household this phone does not hold.
    CaseNotFound,
    Failed(StorageError),
}

/// The whole form screen for one draft.
#[component]
pub fn FormScreen(request: Request) -> impl IntoView {
    let i18n = use_i18n();
    let catalog = use_forms();
    let opened = RwSignal::new(None::<Opened>);
    let navigate = use_navigate();
    perf::start(perf::FORM_OPEN);
    // Once the forms are loaded, open the draft (or start a new one).
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) || !catalog.loaded() {
            return done.unwrap_or(false);
        }
        let request = request.clone();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            // In place of this address, so that Back does not lead here again.
            match open(request, catalog).await {
                Opened::Finalized { case_id, id } => {
                    navigate(&format!("/cases/{case_id}?form={id}"), in_place())
                }
                Opened::Moved(id) => navigate(&format!("/drafts/{id}"), in_place()),
                other => {
                    let _ = opened.try_set(Some(other));
                }
            }
        });
        true
    });
    move || match opened.get() {
        None => view! { <p class="notice">{i18n.t(|u| u.form_loading)}</p> }.into_any(),
        Some(Opened::NotFound) => view! {
            <p class="notice" data-testid="draft-not-found">{i18n.t(|u| u.draft_not_found)}</p>
        }
        .into_any(),
        Some(Opened::CaseNotFound) => view! {
            <p class="notice" data-testid="case-not-found">{i18n.t(|u| u.case_not_found)}</p>
        }
        .into_any(),
        Some(Opened::Failed(err)) => storage_error_view(i18n, &err).into_any(),
        // On their way elsewhere (see above).
        Some(Opened::Finalized { .. } | Opened::Moved(_)) => ().into_any(),
        Some(Opened::Draft {
            draft,
            saved,
            form,
            corrected,
        }) => {
            let corrected = corrected.map(|s| *s);
            view! { <Editor form draft saved corrected/> }.into_any()
        }
        Some(Opened::FormMissing(form_id)) => view! {
            <p class="notice error" role="alert">
                {i18n.t(|u| u.form_unavailable)} " " {form_id} " "
                {move || catalog.problem.get()}
            </p>
        }
        .into_any(),
    }
}

async fn open(request: Request, catalog: crate::forms::FormCatalog) -> Opened {
    let db = match storage::shared().await {
        Ok(db) => db,
        Err(e) => return Opened::Failed(e),
    };
    let form_of = |id: &str| {
        catalog
            .forms
            .with_untracked(|f| f.as_ref()?.get(id).cloned())
    };
    // A form finalized under this id is never opened again as a draft, nor saved over. (Both
    // looked up at once: opening a form is on the worker's way.)
    let (finalized, saved) = futures::join!(
        db.submission(&request.draft_id),
        db.draft(&request.draft_id)
    );
    let finalized = match finalized {
        Ok(found) => found,
        Err(e) => return Opened::Failed(e),
    };
    // The finalized submission a correction corrects, from this phone's copy of the case.
    let corrected = async |case_id: &Option<String>, id: &Option<String>| {
        let (Some(case_id), Some(id)) = (case_id, id) else {
            return Ok(None);
        };
        let submissions = db.submissions_of(case_id).await?;
        let found = submissions.into_iter().find(|s| s.id == *id);
        Ok::<_, StorageError>(found.map(Box::new))
    };
    match saved {
        Ok(Some(draft)) if finalized.is_some() => {
            // Another form's answers, typed where an older app reopened a finalized form.
            return match db.move_draft(&draft, &new_id()).await {
                Ok(moved) => Opened::Moved(moved.id),
                Err(e) => Opened::Failed(e),
            };
        }
        Ok(Some(draft)) => {
            let corrected = match corrected(&draft.case_id, &draft.corrects).await {
                Ok(found) => found,
                Err(e) => return Opened::Failed(e),
            };
            return match crate::forms::of_draft(catalog, &db, &draft.form_id, draft.form_version)
                .await
            {
                Some(form) => Opened::Draft {
                    draft,
                    saved: true,
                    form,
                    corrected,
                },
                None => Opened::FormMissing(draft.form_id),
            };
        }
        Ok(None) => {}
        Err(e) => return Opened::Failed(e),
    }
    if let Some(done) = finalized {
        return Opened::Finalized {
            case_id: done.case_id,
            id: done.id,
        };
    }
    let corrected = match corrected(&request.case_id, &request.corrects).await {
        Ok(found) => found,
        Err(e) => return Opened::Failed(e),
    };
    if request.corrects.is_some() && corrected.is_none() {
        return Opened::NotFound;
    }
    // A correction is of the same form as what it corrects.
    let Some(form_id) = corrected
        .as_ref()
        .map(|s| s.form_id.clone())
        .or(request.form_id.clone())
    else {
        return Opened::NotFound;
    };
    let Some(form) = form_of(&form_id) else {
        return Opened::FormMissing(form_id);
    };
    let mut answers = state::defaults(&form);
    if let Some(earlier) = &corrected {
        // A correction starts from the answers it corrects.
        answers = earlier.answers.clone();
    } else if let Some(case_id) = &request.case_id {
        let household = match db.household(case_id).await {
            Ok(Some(household)) => household,
            Ok(None) => return Opened::CaseNotFound,
            Err(e) => return Opened::Failed(e),
        };
        if form_id == HOME_VISIT {
            let submissions = db
                .submissions_of_all(&household.members)
                .await
                .unwrap_or_default();
            let summary =
                caseload::summarize_household(&household.case, &household.members, &submissions);
            answers
                .0
                .extend(caseload::visit_start(&summary, &submissions).0);
        }
    }
    let now = now_ms();
    Opened::Draft {
        draft: Draft {
            id: request.draft_id,
            form_id,
            form_version: form.version,
            case_id: request.case_id,
            answers,
            started_at_ms: now,
            updated_at_ms: now,
            corrects: request.corrects,
            reason: String::new(),
            team: String::new(),
        },
        saved: false,
        form,
        corrected,
    }
}

/// Where the draft stands, shown under the form's title.
#[derive(Clone, Debug, PartialEq)]
enum SaveState {
    /// Nothing typed yet in a new form.
    Untouched,
    Pending,
    Saved(f64),
    Failed(StorageError),
}

#[component]
fn Editor(
    form: Arc<FormDef>,
    draft: Draft,
    saved: bool,
    corrected: Option<Submission>,
) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let sync = crate::sync::use_sync();
    let st = FormState::new(form.clone(), draft.answers.clone(), today());
    // Why a correction is made: typed above the form, saved with the draft.
    let reason = RwSignal::new(draft.reason.clone());
    let reason_missing = RwSignal::new(false);
    // Someone in several teams says whose a new household is: only that team sees it.
    let teams: Vec<String> = sync
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.user.teams.clone()))
        .unwrap_or_default();
    let choose_team =
        draft.form_id == caseload::INTAKE && draft.corrects.is_none() && teams.len() > 1;
    let team = RwSignal::new(draft.team.clone());
    let team_missing = RwSignal::new(false);
    let meta = StoredValue::new(Draft {
        answers: Answers::new(),
        reason: String::new(),
        team: String::new(),
        ..draft.clone()
    });
    let save_state = RwSignal::new(if saved {
        SaveState::Saved(draft.updated_at_ms)
    } else {
        SaveState::Untouched
    });
    // Saves started, to let only the latest one report; and whether the draft is finished
    // (finalized or discarded), after which nothing may save it again.
    let generation = StoredValue::new(0u64);
    let finished = StoredValue::new(false);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let final_error = RwSignal::new(None::<StorageError>);
    let busy = RwSignal::new(false);

    let save_now = move || {
        if let Some(handle) = timer.try_update_value(Option::take).flatten() {
            handle.clear();
        }
        if finished.try_get_value().unwrap_or(true) {
            return;
        }
        let Some(answers) = st.answers.try_get_untracked() else {
            return;
        };
        let mut draft = meta.get_value();
        draft.answers = answers;
        draft.reason = reason.get_untracked();
        draft.team = team.get_untracked();
        draft.updated_at_ms = now_ms();
        let this = generation.try_update_value(|g| {
            *g += 1;
            *g
        });
        leptos::task::spawn_local(async move {
            let result = match storage::shared().await {
                Ok(db) => db.put_draft(&draft).await,
                Err(e) => Err(e),
            };
            if this.is_some() && generation.try_get_value() == this {
                let _ = save_state.try_set(match result {
                    Ok(()) => SaveState::Saved(draft.updated_at_ms),
                    Err(e) => SaveState::Failed(e),
                });
            }
        });
    };
    let pending = move || timer.try_with_value(Option::is_some).unwrap_or(false);

    // Every change of the answers (not the first load) schedules a save.
    Effect::new(move |first: Option<()>| {
        st.answers.track();
        reason.track();
        team.track();
        if first.is_some() && !finished.get_value() {
            save_state.set(SaveState::Pending);
            if let Some(handle) = timer.try_update_value(Option::take).flatten() {
                handle.clear();
            }
            let handle = set_timeout_with_handle(save_now, AUTOSAVE_AFTER).ok();
            timer.set_value(handle);
        }
    });
    // The page being hidden (another app, the screen off, the tab closed) saves at once.
    let on_hide = move || {
        if pending() {
            save_now();
        }
    };
    let hidden = window_event_listener(ev::visibilitychange, move |_| {
        if document().visibility_state() == web_sys::VisibilityState::Hidden {
            on_hide();
        }
    });
    let pagehide = window_event_listener(ev::pagehide, move |_| on_hide());
    on_cleanup(move || {
        hidden.remove();
        pagehide.remove();
        on_hide();
    });

    let finalize = {
        let navigate = navigate.clone();
        let form = form.clone();
        let known_teams = teams.clone();
        move |_| {
            if busy.get_untracked() {
                return;
            }
            let checked = st.checked.get_untracked();
            let unexplained = meta.with_value(|d| d.corrects.is_some())
                && reason.with_untracked(|r| r.trim().is_empty());
            reason_missing.set(unexplained);
            let no_team = choose_team && team.with_untracked(|t| !known_teams.contains(t));
            team_missing.set(no_team);
            if !checked.is_valid() || unexplained || no_team {
                st.show_all.set(true);
                if pending() {
                    save_now();
                }
                request_animation_frame(focus_first_problem);
                return;
            }
            perf::start(perf::FINALIZE);
            busy.set(true);
            final_error.set(None);
            // No autosave may bring the draft back once the finalize transaction deleted it.
            finished.set_value(true);
            if let Some(handle) = timer.try_update_value(Option::take).flatten() {
                handle.clear();
            }
            let (form, navigate) = (form.clone(), navigate.clone());
            let mut draft = meta.get_value();
            draft.reason = reason.get_untracked().trim().to_owned();
            draft.team = if choose_team {
                team.get_untracked()
            } else {
                String::new()
            };
            leptos::task::spawn_local(async move {
                let result = finalize_draft(&form, draft, checked.answers).await;
                perf::end(perf::FINALIZE);
                match result {
                    Ok(case_id) => {
                        // On its way to the server if there is a connection.
                        sync.request(false);
                        // In place of the form's address: Back goes where the worker came
                        // from, not into the finalized form.
                        navigate(&format!("/cases/{case_id}?saved=1"), in_place())
                    }
                    Err(e) => {
                        finished.set_value(false);
                        busy.set(false);
                        final_error.set(Some(e));
                    }
                }
            });
        }
    };

    let discard = {
        let navigate = navigate.clone();
        move |_| {
            let question = i18n.t(|u| u.confirm_discard)();
            if !window().confirm_with_message(question).unwrap_or(false) {
                return;
            }
            finished.set_value(true);
            if let Some(handle) = timer.try_update_value(Option::take).flatten() {
                handle.clear();
            }
            let id = meta.with_value(|d| d.id.clone());
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                let result = match storage::shared().await {
                    Ok(db) => db.delete_draft(&id).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(()) => navigate("/", in_place()),
                    Err(e) => {
                        finished.set_value(false);
                        final_error.set(Some(e));
                    }
                }
            });
        }
    };

    let title = {
        let form = form.clone();
        move || form.title.get(i18n.lang.get()).to_owned()
    };
    let status = move || match save_state.get() {
        SaveState::Untouched => String::new(),
        SaveState::Pending => i18n.t(|u| u.draft_saving)().to_owned(),
        SaveState::Saved(at) => format!("{} {}", i18n.t(|u| u.draft_saved_at)(), time_of_day(at)),
        SaveState::Failed(StorageError::Full) => i18n.t(|u| u.storage_full)().to_owned(),
        SaveState::Failed(e) => format!("{} {e}", i18n.t(|u| u.draft_not_saved)()),
    };
    let status_failed = move || matches!(save_state.get(), SaveState::Failed(_));
    let summary = view! { <parts::Problems form=form.clone() st/> };
    let correction =
        corrected.map(|earlier| view! { <parts::CorrectionReason earlier reason reason_missing/> });
    let team_field =
        choose_team.then(|| view! { <parts::TeamChoice teams=teams.clone() team team_missing/> });
    let fields = form.fields.clone();
    // Measured once the browser has laid out the rendered form.
    request_animation_frame(|| perf::end(perf::FORM_OPEN));
    view! {
        <section class="page form" data-form=form.id.clone()>
            <h1>{title}</h1>
            <p
                class="save-state"
                class:error=status_failed
                aria-live="polite"
                data-testid="save-state"
            >
                {status}
            </p>
            {summary}
            {correction}
            {team_field}
            <form novalidate on:submit=|ev| ev.prevent_default()>
                {fields::fields_view(st, fields, None)}
            </form>
            {move || final_error.get().map(|e| view! {
                <p class="notice error" role="alert" data-testid="final-error">
                    {storage_message(i18n, &e)}
                </p>
            })}
            <div class="actions sticky">
                <button
                    type="button"
                    class="btn btn-primary"
                    data-testid="finalize"
                    disabled=move || busy.get()
                    on:click=finalize
                >
                    {move || if busy.get() { i18n.t(|u| u.finalizing)() } else { i18n.t(|u| u.finalize)() }}
                </button>
                <button type="button" class="btn btn-quiet" data-testid="discard" on:click=discard>
                    {i18n.t(|u| u.discard_draft)}
                </button>
            </div>
        </section>
    }
}

/// A navigation that takes the place of the current address in the history, so that Back
/// skips it (a form finalized, discarded or started under an address of its own).
pub fn in_place() -> NavigateOptions {
    NavigateOptions {
        replace: true,
        ..NavigateOptions::default()
    }
}

/// Validated answers into a submission, its case and its outbox entry, in one transaction.
/// Returns the case's id.
async fn finalize_draft(
    form: &FormDef,
    draft: Draft,
    answers: Answers,
) -> Result<String, StorageError> {
    let db = storage::shared().await?;
    // A pull must not write this case between our read and our write.
    let _cases = storage::case_lock().await;
    let now = now_ms();
    let device = prefs::device_id();
    let changes = form.case_changes(&answers);
    let mut case = match &draft.case_id {
        Some(id) => db
            .case(id)
            .await?
            .ok_or_else(|| StorageError::Failed(format!("case {id} is not on this phone")))?,
        None => Case::new(&new_id(), now),
    };
    // The values it replaces are those the household shows: its own and those of the
    // households merged into it, or of the one it was merged into.
    let shown = match &draft.case_id {
        Some(id) => {
            let root = case.merged_into().map_or(id.as_str(), |(_, into)| into);
            db.household(root).await?.map(|h| h.case)
        }
        None => None,
    }
    .unwrap_or_else(|| case.clone());
    let mut clock = db.clock(&device).await?;
    let submission = Submission {
        id: draft.id,
        form_id: draft.form_id,
        // The version the answers were validated against: the one the draft was begun on
        // (kept on the phone after a newer one arrived), or the phone's current one when
        // that version is gone.
        form_version: form.version,
        case_id: case.id.clone(),
        device: device.clone(),
        answers,
        started_at_ms: draft.started_at_ms,
        finalized_at_ms: now,
        corrects: draft.corrects.map(|submission_id| Correction {
            submission_id,
            reason: draft.reason,
        }),
        team: (!draft.team.is_empty()).then_some(draft.team),
    };
    let operation = Operation {
        op_id: new_id(),
        device,
        hlc: clock.stamp(now as u64),
        created_at_ms: now,
        case_id: case.id.clone(),
        change: Change::Submit {
            submission: submission.clone(),
            properties: shown.writes_for(&changes),
        },
    };
    case.apply(&operation);
    let case_id = case.id.clone();
    db.finalize(&Finalized {
        submission,
        case,
        operation,
        clock,
    })
    .await?;
    Ok(case_id)
}

/// Moves the focus to the first answer that needs attention, so the worker lands on it.
fn focus_first_problem() {
    let first = document()
        .query_selector(".field.invalid, .repeat.invalid")
        .ok()
        .flatten();
    if let Some(field) = first {
        focus_field(&field);
    }
}

/// Brings a field's whole block (its label first) into view below the sticky top of the
/// screen, and moves the focus into its control.
fn focus_field(field: &web_sys::Element) {
    // What the sticky top covers is kept free above the field: its height now, since it
    // changes with the screen and the messages it shows.
    // (The whole top block, or on a phone's form only its header.)
    let height = |selector: &str| {
        document()
            .query_selector(selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            .map_or(0, |e| e.offset_height())
    };
    let covered = height(".top").max(height(".topbar"));
    // Through the style object: the CSP refuses style attributes.
    if let Some(root) = document()
        .document_element()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = root
            .style()
            .set_property("scroll-padding-top", &format!("{}px", covered + 8));
    }
    field.scroll_into_view();
    // (For a repeat group without an entry: its button that adds one.)
    let control = field
        .query_selector("input, textarea, select, button[data-add]")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(control) = control {
        let _ = control.focus();
    }
}

/// A storage error as the worker reads it.
pub fn storage_message(i18n: I18n, err: &StorageError) -> String {
    match err {
        StorageError::Full => i18n.t(|u| u.storage_full)().to_owned(),
        StorageError::Exists => i18n.t(|u| u.form_already_finalized)().to_owned(),
        StorageError::Locked => i18n.t(|u| u.storage_locked)().to_owned(),
        StorageError::Failed(why)
        | StorageError::Unavailable(why)
        | StorageError::Unreadable(why) => {
            format!("{} {why}", i18n.t(|u| u.storage_failed)())
        }
    }
}

pub fn storage_error_view(i18n: I18n, err: &StorageError) -> impl IntoView + use<> {
    let err = err.clone();
    view! {
        <p class="notice error" role="alert" data-testid="storage-error">
            {move || storage_message(i18n, &err)}
        </p>
    }
}
