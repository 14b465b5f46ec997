//! The worker's side: the forms a supervisor sent back, kept from the last sync (offline
//! too), each with the comment and a way to correct it.

use super::*;

/// Household names of the cases on this phone, by case id.
async fn names() -> Result<HashMap<String, String>, StorageError> {
    let db = storage::shared().await?;
    Ok(db
        .cases()
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c.household_name().to_owned()))
        .collect())
}

#[derive(Clone)]
struct InboxData {
    inbox: Inbox,
    names: HashMap<String, String>,
    /// Submissions on the phone that correct another: sent back ones already corrected here
    /// leave the list before the server has heard of it.
    corrected: Vec<String>,
}

async fn load_inbox() -> Result<InboxData, StorageError> {
    let db = storage::shared().await?;
    let corrected = db
        .submissions()
        .await?
        .into_iter()
        .filter_map(|s: Submission| s.corrects.map(|c| c.submission_id))
        .collect();
    Ok(InboxData {
        inbox: db.inbox().await?,
        names: names().await?,
        corrected,
    })
}

/// The forms sent back to this worker, each with the supervisor's comment and a way to
/// correct it.
#[component]
pub(super) fn WorkerInbox() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let catalog = use_forms();
    let navigate = use_navigate();
    // Read again after every sync; only the latest reading is shown.
    let loaded = LocalResource::new(move || {
        sync.changed.track();
        load_inbox()
    });
    view! {
        <h2>{i18n.t(|u| u.inbox_title)}</h2>
        {move || match loaded.get() {
            None => ().into_any(),
            Some(Err(e)) => storage_error_view(i18n, &e).into_any(),
            Some(Ok(data)) => {
                let items: Vec<_> = data
                    .inbox
                    .items
                    .into_iter()
                    .filter(|i| !data.corrected.contains(&i.submission_id))
                    .collect();
                if items.is_empty() {
                    return view! {
                        <p class="empty" data-testid="inbox-empty">{i18n.t(|u| u.inbox_empty)}</p>
                    }
                    .into_any();
                }
                let list = items
                    .into_iter()
                    .map(|item| {
                        let name = data.names.get(&item.case_id).cloned().unwrap_or_default();
                        let form_id = item.form_id.clone();
                        let from = i18n.t(|u| u.inbox_from)()
                            .replace("{name}", &item.reviewer_name)
                            .replace("{date}", &date_time(item.requested_at_ms as f64));
                        let to = format!(
                            "/drafts/{}?form={}&case={}&corrects={}",
                            new_id(),
                            item.form_id,
                            item.case_id,
                            item.submission_id
                        );
                        let navigate = navigate.clone();
                        view! {
                            <li data-inbox=item.submission_id.clone()>
                                <strong>{move || catalog.title(&form_id, i18n.lang.get())}</strong>
                                " · " {date_time(item.received_at_ms as f64)}
                                <br/>
                                <span>{move || i18n.t(|u| u.inbox_household)().replace("{name}", &name)}</span>
                                <p class="hint">{from}</p>
                                <blockquote class="review-comment" data-testid="inbox-comment">{item.comment.clone()}</blockquote>
                                <button
                                    type="button"
                                    class="btn btn-primary"
                                    data-testid="inbox-correct"
                                    on:click=move |_| navigate(&to, Default::default())
                                >
                                    {i18n.t(|u| u.correct_form)}
                                </button>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="submissions" data-testid="inbox">{list}</ul> }.into_any()
            }
        }}
    }
}
