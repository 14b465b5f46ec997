use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::form_view::{FormScreen, Request};

/// `/drafts/:id?form=..&case=..&corrects=..`: a form being filled; the query names the form
/// of a draft not saved yet (and the submission it corrects, for a correction).
#[component]
pub fn DraftPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let request = Memo::new(move |_| Request {
        draft_id: params.read().get("id").unwrap_or_default(),
        form_id: query.read().get("form"),
        case_id: query.read().get("case"),
        corrects: query.read().get("corrects"),
    });
    // A new request (another draft) builds a new screen.
    move || view! { <FormScreen request=request.get()/> }
}
