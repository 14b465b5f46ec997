//! One module per screen.

mod case;
mod caseload;
mod closing;
mod consent;
mod copy;
mod draft;
mod erasure;
mod intake;
mod letter;
pub mod login;
mod merge;
mod not_found;
mod overview;
mod plan;
mod printed;
mod publish;
mod referral;
mod review;
mod settings;
mod sync_bar;

pub use case::CaseDetail;
pub use caseload::Caseload;
pub use consent::{Consent, ConsentSummary, Receipt as ConsentReceipt, Withdraw};
pub use copy::FamilyCopyPage;
pub use draft::DraftPage;
pub use intake::{NewIntake, NewVisit};
pub use letter::ReferralLetterPage;
pub use login::Login;
pub use merge::reviewer;
pub use not_found::NotFound;
pub use overview::Overview;
pub use plan::FamilyPlanPage;
pub use publish::PublishForms;
pub use review::{Review, ReviewForm, ReviewQueue};
pub use settings::Settings;
pub use sync_bar::{SyncBar, describe};

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The `:id` of the current `/cases/:id...` route.
fn case_id() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("id").unwrap_or_default())
}

/// A filter by one of the user's teams ("" for all of them): shown to someone in several
/// teams only, since one team leaves nothing to choose.
#[component]
fn TeamFilter(
    /// The control's id, also its `data-testid`.
    id: &'static str,
    team: RwSignal<String>,
) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    let sync = crate::sync::use_sync();
    let teams = move || {
        sync.session
            .with(|s| s.as_ref().map(|s| s.user.teams.clone()))
            .unwrap_or_default()
    };
    view! {
        <div class="field" hidden=move || teams().len() < 2>
            <label for=id>{i18n.t(|u| u.overview_team)}</label>
            <select
                autocomplete="off"
                id=id
                data-testid=id
                on:change=move |ev| team.set(event_target_value(&ev))
                prop:value=move || team.get()
            >
                <option value="">{i18n.t(|u| u.overview_team_all)}</option>
                {move || {
                    teams()
                        .into_iter()
                        .map(|t| view! { <option value=t.clone()>{t.clone()}</option> })
                        .collect_view()
                }}
            </select>
        </div>
    }
}

/// A filter by a day (`YYYY-MM-DD`, "" for none), set when the worker leaves the field.
#[component]
fn DateFilter(
    /// The control's id, also its `data-testid`.
    id: &'static str,
    label: fn(&'static crate::i18n::Ui) -> &'static str,
    day: RwSignal<String>,
) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    view! {
        <div class="field">
            <label for=id>{i18n.t(label)}</label>
            <input
                autocomplete="off"
                id=id
                type="date"
                data-testid=id
                on:change=move |ev| day.set(event_target_value(&ev))
                prop:value=move || day.get()
            />
        </div>
    }
}

/// A device as people tell devices apart: the last six characters of its id.
fn short_device(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    chars[chars.len().saturating_sub(6)..].iter().collect()
}
