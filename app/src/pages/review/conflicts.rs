//! Households on the device with properties in conflict, for the supervisor to settle.

use super::*;

/// The households on this device with properties in conflict (a supervisor's device holds the
/// teams' households), each linking to its case page, where the value is chosen.
#[component]
pub(super) fn Conflicts() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let catalog = use_forms();
    let found = RwSignal::new(Vec::<(String, String, Vec<String>)>::new());
    Effect::new(move |_| {
        sync.changed.track();
        leptos::task::spawn_local(async move {
            let Ok(db) = storage::shared().await else {
                return;
            };
            // Households as shown: what two merged households recorded differently too.
            let Ok(cases) = db.households().await else {
                return;
            };
            found.set(
                cases
                    .into_iter()
                    .filter_map(|c| {
                        let fields: Vec<String> = c
                            .fields
                            .conflicted()
                            .into_iter()
                            .map(str::to_owned)
                            .collect();
                        (!fields.is_empty())
                            .then(|| (c.id.clone(), c.household_name().to_owned(), fields))
                    })
                    .collect(),
            );
        });
    });
    let label = move |property: &str| {
        catalog
            .get(cris_core::caseload::INTAKE)
            .and_then(|form| {
                form.walk()
                    .into_iter()
                    .map(|(field, _)| field)
                    .find(|f| f.case_property.as_deref() == Some(property))
                    .map(|f| f.label.get(i18n.lang.get()).to_owned())
            })
            .unwrap_or_else(|| property.to_owned())
    };
    view! {
        <h2>{i18n.t(|u| u.conflicts_title)}</h2>
        <Show
            when=move || found.with(|f| !f.is_empty())
            fallback=move || view! { <p class="hint">{i18n.t(|u| u.conflicts_none)}</p> }
        >
            <ul class="submissions" data-testid="conflicts">
                {move || {
                    found
                        .get()
                        .into_iter()
                        .map(|(id, name, fields)| {
                            view! {
                                <li data-case=id.clone()>
                                    <A href=format!("/cases/{id}")><strong>{name}</strong></A>
                                    <br/>
                                    <span class="hint">
                                        {move || {
                                            let names: Vec<String> = fields.iter().map(|f| label(f)).collect();
                                            i18n.t(|u| u.conflict_fields)().replace("{fields}", &names.join(", "))
                                        }}
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </Show>
    }
}
