//! One module per screen.

mod case;
mod caseload;
mod consent;
mod draft;
mod intake;
mod login;
mod merge;
mod not_found;
mod overview;
mod review;
mod settings;
mod sync_bar;

pub use case::CaseDetail;
pub use caseload::Caseload;
pub use consent::{Consent, ConsentSummary, Receipt as ConsentReceipt, Withdraw};
pub use draft::DraftPage;
pub use intake::{NewIntake, NewVisit};
pub use login::Login;
pub use merge::reviewer;
pub use not_found::NotFound;
pub use overview::Overview;
pub use review::{Review, ReviewForm};
pub use settings::Settings;
pub use sync_bar::{SyncBar, describe};

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The `:id` of the current `/cases/:id...` route.
fn case_id() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("id").unwrap_or_default())
}
