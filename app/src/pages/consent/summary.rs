//! The household's consents on the case page: what it has agreed to today, derived from every
//! consent and withdrawal on the phone, and the records themselves.

use cris_core::consent::{self, Grant, Record, Scope};
use leptos::prelude::*;
use leptos_router::components::A;

use super::receipt::{Sent, sent_states};
use super::{Setup, load_setup};
use crate::clock::{date_time, today};
use crate::form_view::storage_error_view;
use crate::i18n::use_i18n;
use crate::storage::{self, StorageError};

#[derive(Clone)]
struct Loaded {
    records: Vec<Record>,
    setup: Option<Setup>,
    sent: std::collections::HashMap<String, Sent>,
}

async fn load(case_id: String) -> Result<Loaded, StorageError> {
    let db = storage::shared().await?;
    // A household's consents include those signed under the households merged into it.
    let mut records = db.household_consents(&case_id).await?;
    records.sort_by_key(|r| match r {
        Record::Consent(c) => c.signed_at_ms,
        Record::Withdrawal(w) => w.at_ms,
    });
    Ok(Loaded {
        records,
        setup: load_setup().await?,
        sent: sent_states().await?,
    })
}

/// The household's consents: what it agrees to today and the records. `read_only` (the
/// supervisor's page of a form) leaves out taking and withdrawing consents.
#[component]
pub fn ConsentSummary(case_id: String, #[prop(optional)] read_only: bool) -> impl IntoView {
    let i18n = use_i18n();
    let sync = crate::sync::use_sync();
    // Read again after every sync; only the latest reading is shown.
    let id = case_id.clone();
    let loaded = LocalResource::new(move || {
        sync.changed.track();
        load(id.clone())
    });
    view! {
        <h2>{i18n.t(|u| u.consent_purposes_title)}</h2>
        {move || match loaded.get() {
            None => ().into_any(),
            Some(Err(e)) => storage_error_view(i18n, &e).into_any(),
            Some(Ok(data)) => summary(data, &case_id, read_only).into_any(),
        }}
    }
}

fn summary(data: Loaded, case_id: &str, read_only: bool) -> impl IntoView + use<> {
    let i18n = use_i18n();
    let Loaded {
        records,
        setup,
        sent,
    } = data;
    let (consents, withdrawals) = Record::split(&records);
    let state = consent::state(&consents, &withdrawals, today());
    let title = {
        let setup = setup.clone();
        move |id: &str| {
            setup
                .as_ref()
                .map_or_else(|| id.to_owned(), |s| s.item_title(id, i18n.lang.get()))
        }
    };
    let mut lines = Vec::new();
    for purpose in state.purposes.keys() {
        let (purpose, title) = (purpose.clone(), title.clone());
        let attr = purpose.clone();
        lines.push(
            view! {
                <li data-purpose=attr>
                    {move || i18n.t(|u| u.purpose_agreed)().replace("{purpose}", &title(&purpose))}
                </li>
            }
            .into_any(),
        );
    }
    for (recipient, (grant, purposes)) in &state.recipients {
        let (recipient, grant, title) = (recipient.clone(), *grant, title.clone());
        let purposes = purposes.clone();
        let (attr, attr_purposes) = (recipient.clone(), purposes.join(" "));
        lines.push(view! {
            <li data-recipient=attr data-purposes=attr_purposes>
                {move || {
                    let line = match grant {
                        Grant::Open => i18n.t(|u| u.may_share_open)(),
                        Grant::Once => i18n.t(|u| u.may_share_once)(),
                        Grant::Until(_) => i18n.t(|u| u.may_share_until)(),
                    };
                    let until = match grant {
                        Grant::Until(d) => d.to_string(),
                        _ => String::new(),
                    };
                    let what = purposes.iter().map(|p| title(p)).collect::<Vec<_>>().join(", ");
                    format!(
                        "{} ({what})",
                        line.replace("{recipient}", &title(&recipient)).replace("{date}", &until)
                    )
                }}
            </li>
        }.into_any());
    }
    let state_view = if lines.is_empty() {
        view! { <p class="hint" data-testid="consent-none">{i18n.t(|u| u.consents_none)}</p> }
            .into_any()
    } else {
        view! { <ul class="steps" data-testid="consent-state">{lines}</ul> }.into_any()
    };
    let items = records
        .iter()
        .map(|r| {
            let status = match sent.get(r.id()) {
                Some(Sent::Waiting) => Some(view! { <span class="hint" data-sent="waiting">" · " {i18n.t(|u| u.consent_waiting)}</span> }.into_any()),
                Some(Sent::Refused(reason, detail)) => {
                    let (reason, detail) = (*reason, detail.clone());
                    let why = move || Sent::refusal(reason, detail.as_ref(), i18n.lang.get());
                    Some(view! {
                        <p class="problems" data-sent="refused">{i18n.t(|u| u.consent_refused)} " " {why}</p>
                    }.into_any())
                }
                _ => None,
            };
            match r {
                Record::Consent(c) => {
                    let when = date_time(c.signed_at_ms as f64);
                    view! {
                        <li data-consent=c.id.clone()>
                            <strong>{move || i18n.t(|u| u.consent_of)().replace("{date}", &when)}</strong>
                            " · " {c.signer.name.clone()} {status}
                            <div class="actions">
                                // Under the household it was signed for (merged since or not).
                                <A href=format!("/cases/{}/consent/{}", c.case_id, c.id) attr:class="btn btn-small" attr:data-testid="open-receipt">
                                    {i18n.t(|u| u.open_receipt)}
                                </A>
                                {(!read_only).then(|| view! {
                                    <A href=format!("/cases/{}/withdraw/{}", c.case_id, c.id) attr:class="btn btn-small" attr:data-testid="withdraw">
                                        {i18n.t(|u| u.withdraw)}
                                    </A>
                                })}
                            </div>
                        </li>
                    }
                    .into_any()
                }
                Record::Withdrawal(w) => {
                    let when = date_time(w.at_ms as f64);
                    let what = match &w.scope {
                        Scope::All => None,
                        Scope::Purposes(ids) | Scope::Recipients(ids) => Some(ids.clone()),
                    };
                    let title = title.clone();
                    view! {
                        <li data-withdrawal=w.id.clone() class="corrected-note">
                            {move || {
                                let what = what.as_ref().map_or_else(
                                    || i18n.t(|u| u.withdraw_all)().to_owned(),
                                    |ids| ids.iter().map(|i| title(i)).collect::<Vec<_>>().join(", "),
                                );
                                i18n.t(|u| u.withdrawn_on)().replace("{date}", &when).replace("{what}", &what)
                            }}
                            {status}
                        </li>
                    }
                    .into_any()
                }
            }
        })
        .collect_view();
    view! {
        {state_view}
        <ul class="submissions" data-testid="consent-records">{items}</ul>
        <div class="actions" hidden=read_only>
            <A href=format!("/cases/{case_id}/consent") attr:class="btn" attr:data-testid="take-consent">
                {i18n.t(|u| u.take_consent)}
            </A>
        </div>
    }
}
