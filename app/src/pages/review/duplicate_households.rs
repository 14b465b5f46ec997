//! Possible duplicate households, each pair with "same family: merge" and "not the same
//! family".

use super::*;

/// What the forms on this device say about each household as shown (merged ones with the
/// household they joined): its name, and the people of its intakes (members and children,
/// with their dates of birth); with the household itself.
async fn households() -> Result<Vec<(duplicates::Household, Case)>, StorageError> {
    let db = storage::shared().await?;
    let submissions = db.submissions().await?;
    let cases = db.cases().await?;
    Ok(cris_core::record::households(&cases)
        .into_iter()
        .map(|case| {
            let members = cris_core::record::members(&cases, &case.id);
            let own: Vec<Submission> = submissions
                .iter()
                .filter(|s| {
                    members.contains(&s.case_id) && s.form_id == cris_core::caseload::INTAKE
                })
                .cloned()
                .collect();
            let mut people = Vec::new();
            for intake in cris_core::caseload::in_effect(&own) {
                for (group, name, dob) in [
                    ("members", "member_name", "dob"),
                    ("children", "child_name", "child_dob"),
                ] {
                    for one in intake.answers.instances(group) {
                        let who = one.text(name).trim();
                        if !who.is_empty() {
                            people.push(duplicates::Person {
                                name: who.to_owned(),
                                dob: one.text(dob).parse().ok(),
                            });
                        }
                    }
                }
            }
            let found = duplicates::Household {
                case_id: case.id.clone(),
                name: case.household_name().to_owned(),
                people,
            };
            (found, case)
        })
        .collect())
}

/// Households on this device that may be one family recorded twice, the likelier first, each
/// pair with why and links to both.
#[component]
pub(super) fn Duplicates() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let found = RwSignal::new((
        Vec::<duplicates::Candidate>::new(),
        HashMap::<String, Case>::new(),
    ));
    // Whether the households on this device have been compared yet.
    let checked = RwSignal::new(false);
    Effect::new(move |_| {
        sync.changed.track();
        leptos::task::spawn_local(async move {
            if let Ok(all) = households().await {
                let (found_in, cases): (Vec<duplicates::Household>, Vec<Case>) =
                    all.into_iter().unzip();
                let cases: HashMap<String, Case> =
                    cases.into_iter().map(|c| (c.id.clone(), c)).collect();
                // Pairs someone found to be two families are not proposed again.
                let candidates = duplicates::candidates(&found_in)
                    .into_iter()
                    .filter(|c| match (cases.get(&c.a), cases.get(&c.b)) {
                        (Some(a), Some(b)) => !a.distinct(b),
                        _ => true,
                    })
                    .collect();
                found.set((candidates, cases));
                checked.set(true);
            }
        });
    });
    view! {
        <h2 data-testid="duplicates-title" data-checked=move || checked.get().to_string()>
            {i18n.t(|u| u.duplicates_title)}
        </h2>
        <Show
            when=move || found.with(|(c, _)| !c.is_empty())
            fallback=move || view! { <p class="hint" data-testid="duplicates-none">{i18n.t(|u| u.duplicates_none)}</p> }
        >
            <ul class="submissions" data-testid="duplicates">
                {move || {
                    let (candidates, cases) = found.get();
                    candidates
                        .into_iter()
                        .map(|c| {
                            let name = |id: &str| {
                                cases
                                    .get(id)
                                    .map(|c| c.household_name().to_owned())
                                    .unwrap_or_else(|| id.chars().take(8).collect())
                            };
                            // The household recorded later joins the one recorded first.
                            let created = |id: &str| cases.get(id).map_or(0.0, |c| c.created_at_ms);
                            let (kept, merged) = if (created(&c.b), &c.b) < (created(&c.a), &c.a) {
                                (c.b.clone(), c.a.clone())
                            } else {
                                (c.a.clone(), c.b.clone())
                            };
                            let kept = (kept.clone(), name(&kept));
                            let merged = (merged.clone(), name(&merged));
                            let reasons = c
                                .reasons
                                .iter()
                                .map(|r| {
                                    let r = r.clone();
                                    view! {
                                        <li>
                                            {move || match &r {
                                                duplicates::Reason::SamePerson { name, dob } => i18n
                                                    .t(|u| u.duplicate_same_person)()
                                                    .replace("{name}", name)
                                                    .replace("{date}", &crate::clock::day(*dob)),
                                                duplicates::Reason::SimilarName(_) => {
                                                    i18n.t(|u| u.duplicate_similar_name)().to_owned()
                                                }
                                            }}
                                        </li>
                                    }
                                })
                                .collect_view();
                            let (name_a, name_b) = (name(&c.a), name(&c.b));
                            let (to_a, to_b) = (format!("/cases/{}", c.a), format!("/cases/{}", c.b));
                            view! {
                                <li data-pair=format!("{} {}", c.a, c.b)>
                                    <A href=to_a><strong>{name_a}</strong></A>
                                    " · "
                                    <A href=to_b><strong>{name_b}</strong></A>
                                    <ul class="hint">{reasons}</ul>
                                    <super::super::merge::PairActions kept merged/>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </Show>
    }
}
