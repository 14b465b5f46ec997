//! One form as the supervisor reviews it: its answers (what a correction changed marked),
//! its decisions, and "approve" / "request changes".

use super::*;

/// `/review/:id`: one form as the supervisor reviews it.
#[component]
pub fn ReviewForm() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    // The form, and the form it corrects (to show what changed).
    let detail = RwSignal::new(None::<Result<(ReviewDetail, Option<ReviewDetail>), String>>);
    let reload = RwSignal::new(0u32);
    Effect::new(move |_| {
        reload.track();
        let id = id.get();
        let Some(token) = sync
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
        else {
            return;
        };
        leptos::task::spawn_local(async move {
            let loaded = async {
                let this = api::review_detail(&token, &id).await?;
                let before = match &this.item.corrects {
                    Some(original) => Some(api::review_detail(&token, original).await?),
                    None => None,
                };
                Ok::<_, Failure>((this, before))
            };
            detail.set(Some(loaded.await.map_err(|f| failure_text(i18n, &f))));
        });
    });
    view! {
        <section class="page">
            {move || match detail.get() {
                None => view! { <p class="notice">{i18n.t(|u| u.case_loading)}</p> }.into_any(),
                Some(Err(why)) => view! { <p class="problems" data-testid="review-problem">{why}</p> }.into_any(),
                Some(Ok((this, before))) => review_view(this, before, reload).into_any(),
            }}
            <A href="/review" attr:class="back">{i18n.t(|u| u.review_title)}</A>
        </section>
    }
}

fn review_view(
    this: ReviewDetail,
    before: Option<ReviewDetail>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let catalog = use_forms();
    let item = this.item.clone();
    let submission = this.op.submission().cloned();
    let original = before.as_ref().and_then(|b| b.op.submission().cloned());
    // The answers, those a correction changed marked.
    let answers = move || {
        let lang = i18n.lang.get();
        let sub = submission.as_ref()?;
        let form = catalog.get(&sub.form_id)?;
        let now = rows(&form, &sub.answers, lang);
        let earlier = original
            .as_ref()
            .map(|o| rows(&form, &o.answers, lang))
            .unwrap_or_default();
        Some(if original.is_some() {
            marked_view(now, &earlier).into_any()
        } else {
            answers_view(now).into_any()
        })
    };
    let events = this
        .events
        .iter()
        .map(|e| {
            let decision = match e.decision {
                ReviewDecision::Approved => ReviewStatus::Approved,
                ReviewDecision::ChangesRequested => ReviewStatus::ChangesRequested,
            };
            view! {
                <li data-decision=e.decision.as_str()>
                    <strong>{move || status_label(crate::i18n::ui(i18n.lang.get()), decision)}</strong>
                    " · " {e.reviewer_name.clone()} " · " {date_time(e.at_ms as f64)}
                    {(!e.comment.is_empty()).then(|| view! { <blockquote class="review-comment">{e.comment.clone()}</blockquote> })}
                </li>
            }
        })
        .collect_view();
    let comment = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submission_id = item.submission_id.clone();
    let decide = move |decision: ReviewDecision| {
        if busy.get_untracked() {
            return;
        }
        let text = comment.get_untracked().trim().to_owned();
        if decision == ReviewDecision::ChangesRequested && text.is_empty() {
            problem.set(Some(i18n.t(|u| u.review_comment_missing)().to_owned()));
            return;
        }
        let Some(token) = sync
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
        else {
            return;
        };
        let id = submission_id.clone();
        busy.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            let request = ReviewRequest {
                decision,
                comment: text,
            };
            match api::review_decide(&token, &id, &request).await {
                Ok(_) => reload.update(|n| *n += 1),
                Err(f) => problem.set(Some(failure_text(i18n, &f))),
            }
            busy.set(false);
        });
    };
    let approve = {
        let decide = decide.clone();
        move |_| decide(ReviewDecision::Approved)
    };
    let send_back = move |_| decide(ReviewDecision::ChangesRequested);
    let form_id = item.form_id.clone();
    let status = item.status;
    let corrects = item.corrects.clone().map(|id| {
        view! {
            <p class="note">
                {i18n.t(|u| u.review_corrects)} " "
                <A href=format!("/review/{id}")>{id.chars().take(8).collect::<String>()}</A>
            </p>
        }
    });
    let corrected_by = this.corrected_by.clone().map(|id| {
        view! {
            <p class="note">
                {i18n.t(|u| u.review_corrected_by)} " "
                <A href=format!("/review/{id}")>{id.chars().take(8).collect::<String>()}</A>
            </p>
        }
    });
    let reason = this
        .op
        .submission()
        .and_then(|s| s.corrects.as_ref())
        .map(|c| view! { <p class="correction-note">{i18n.t(|u| u.correction_note)} " " {c.reason.clone()}</p> });
    // Every version of the form: who finalized it, on which device, when; and why it changed.
    let edits = this
        .edits
        .into_iter()
        .map(|e| {
            let line = {
                let (name, device) = (e.worker_name.clone(), short_device(&e.device));
                let (finalized, received) = (
                    date_time(e.finalized_at_ms as f64),
                    date_time(e.received_at_ms as f64),
                );
                move || {
                    i18n.t(|u| u.review_edit_line)()
                        .replace("{name}", &name)
                        .replace("{device}", &device)
                        .replace("{finalized}", &finalized)
                        .replace("{received}", &received)
                }
            };
            let this_one = e.submission_id == item.submission_id;
            let title = if this_one {
                view! { <strong>{i18n.t(|u| u.review_edit_this)}</strong> }.into_any()
            } else {
                let short: String = e.submission_id.chars().take(8).collect();
                view! { <A href=format!("/review/{}", e.submission_id)>{short}</A> }.into_any()
            };
            let why = e.reason.map(|r| {
                view! { <br/><span class="hint">{i18n.t(|u| u.correction_note)} " " {r}</span> }
            });
            view! {
                <li data-edit=e.submission_id data-device=e.device>
                    {title} " · " {line} {why}
                </li>
            }
        })
        .collect_view();
    let household = item.case_id.clone();
    // The household the form is shown with, by name, a link the size of a finger.
    let shown_with = if item.household_id.is_empty() {
        item.case_id.clone()
    } else {
        item.household_id.clone()
    };
    let household_name = super::super::caseload::household(i18n, &item.household_name);
    view! {
        <h1>{move || catalog.title(&form_id, i18n.lang.get())}</h1>
        <p>
            <span class=format!("status status-{}", status.as_str()) data-testid="review-state" data-status=status.as_str()>
                {move || status_label(crate::i18n::ui(i18n.lang.get()), status)}
            </span>
            " · " {item.worker_name.clone()} " · " {date_time(item.received_at_ms as f64)}
        </p>
        <p class="review-household">
            <A
                href=format!("/cases/{shown_with}")
                attr:class="btn household-link"
                attr:data-testid="review-household-link"
            >
                {household_name}
            </A>
        </p>
        {corrects}
        {reason}
        {corrected_by}
        <div data-testid="review-answers">{answers}</div>
        <h2>{i18n.t(|u| u.review_edits)}</h2>
        <ul class="steps" data-testid="review-edits">{edits}</ul>
        <ReviewConsents case_id=household/>
        <h2>{i18n.t(|u| u.review_history)}</h2>
        <ul class="steps" data-testid="review-events">{events}</ul>
        <div class="field">
            <label for="review-comment">{i18n.t(|u| u.review_comment)}</label>
            <textarea
                autocomplete="off"
                id="review-comment"
                data-testid="review-comment"
                prop:value=move || comment.get()
                on:input=move |ev| comment.set(event_target_value(&ev))
            ></textarea>
        </div>
        <p class="problems" role="alert" data-testid="review-decision-problem" hidden=move || problem.with(Option::is_none)>
            {move || problem.get()}
        </p>
        <div class="actions">
            <button type="button" class="btn btn-primary" data-testid="review-approve" disabled=move || busy.get() on:click=approve>
                {i18n.t(|u| u.review_approve)}
            </button>
            <button type="button" class="btn" data-testid="review-request-changes" disabled=move || busy.get() on:click=send_back>
                {i18n.t(|u| u.review_request_changes)}
            </button>
        </div>
    }
}

/// The answers of a correction, those that are not in the form it corrects marked.
fn marked_view(now: Vec<Row>, before: &[Row]) -> impl IntoView + use<> {
    let i18n = use_i18n();
    view! {
        <dl class="answers">
            {now
                .into_iter()
                .map(|row| match row {
                    Row::Heading(text) => view! { <dt class="answers-heading">{text}</dt> }.into_any(),
                    Row::Answer { label, value } => {
                        let changed = !before.iter().any(|r| {
                            matches!(r, Row::Answer { label: l, value: v } if *l == label && *v == value)
                        });
                        view! {
                            <dt class:changed=changed>{label}</dt>
                            <dd class:changed=changed data-changed=changed.to_string()>
                                {value}
                                {changed.then(|| view! { <span class="hint">" · " {i18n.t(|u| u.review_changed)}</span> })}
                            </dd>
                        }
                        .into_any()
                    }
                })
                .collect_view()}
        </dl>
    }
}

/// The consents in force of the household a form belongs to, as shown (the one it was merged
/// into, if it was), from what this device holds: read, not taken or withdrawn, here.
#[component]
pub(super) fn ReviewConsents(case_id: String) -> impl IntoView {
    let shown = RwSignal::new(None::<String>);
    leptos::task::spawn_local(async move {
        let merged_into = match storage::shared().await {
            Ok(db) => db
                .case(&case_id)
                .await
                .ok()
                .flatten()
                .and_then(|c| c.merged_into().map(|(_, into)| into.to_owned())),
            Err(_) => None,
        };
        shown.set(Some(merged_into.unwrap_or(case_id)));
    });
    move || {
        shown
            .get()
            .map(|id| view! { <super::super::ConsentSummary case_id=id read_only=true/> })
    }
}
