//! Logging in: once online, then the phone keeps working offline with its session. The
//! first login of an account on a phone makes the key its records are sealed with (see
//! [`crate::lock`]).

use cris_core::api::LoginRequest;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::i18n::use_i18n;
use crate::lock::{OpenProblem, use_lock};
use crate::storage::StorageError;
use crate::sync::{Failure, session, use_sync};

/// Why logging in did not work.
#[derive(Clone, Debug)]
enum Problem {
    Call(Failure),
    Storage(StorageError),
}

#[component]
pub fn Login() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let lock = use_lock();
    // What was typed into the page's own form while the app was on its way (index.html).
    let login = RwSignal::new(typed_before_start("login-name").unwrap_or_else(session::last_login));
    let password = RwSignal::new(typed_before_start("login-password").unwrap_or_default());
    // The account's password changed since this phone last saw it: the previous one opens
    // the records here, once, and they are then under the new one.
    let previous_password = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<Problem>);
    // Another account's records (or unfinished forms) still waiting on this phone: they must
    // not leave under a different name, nor be lost.
    let blocked_by = RwSignal::new(None::<(String, Waiting)>);
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        problem.set(None);
        blocked_by.set(None);
        let request = LoginRequest {
            login: login.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
            device_id: crate::prefs::device_id(),
        };
        let navigate = navigate.clone();
        let previous_typed = previous_password.get_untracked();
        leptos::task::spawn_local(async move {
            let previous = previous_account().await;
            if !previous.is_empty()
                && previous != request.login
                && let Some(waiting) = waiting().await
            {
                busy.set(false);
                blocked_by.set(Some((previous, waiting)));
                return;
            }
            // The caseload's code, which opens next, comes while the server checks the
            // password and the records open (on a first visit, maybe over the network).
            leptos::task::spawn_local(async {
                let _ = crate::parts::preload_caseload().await;
            });
            let answer = crate::sync::api::login(&request).await;
            match answer {
                // The account before leaves the phone with its records (nothing of it waits,
                // see above), and this account's records open.
                Ok(answer) => {
                    let opened = crate::lock::open_account(
                        lock,
                        sync,
                        &request.password,
                        previous_typed.as_deref(),
                        answer,
                    )
                    .await;
                    let _ = busy.try_set(false);
                    match opened {
                        Ok(()) => {
                            let _ = password.try_set(String::new());
                            let _ = previous_password.try_set(None);
                            // From the login page, to the caseload; shown in place of another
                            // page (a new phone, a link), that page opens.
                            let path = window().location().pathname().unwrap_or_default();
                            if path == "/login" {
                                navigate("/", Default::default());
                            }
                        }
                        Err(OpenProblem::PasswordChanged) => {
                            let _ = previous_password.try_set(Some(String::new()));
                        }
                        Err(OpenProblem::Storage(e)) => {
                            let _ = problem.try_set(Some(Problem::Storage(e)));
                        }
                    }
                }
                // This phone was revoked: it wipes itself and says why.
                Err(Failure::DeviceRevoked) => crate::sync::revoked(),
                Err(failure) => {
                    busy.set(false);
                    problem.set(Some(Problem::Call(failure)));
                }
            }
        });
    };
    view! {
        <section class="page">
            <h1>{i18n.t(|u| u.login_title)}</h1>
            <form on:submit=submit data-testid="login-form">
                <div class="field">
                    <label for="login-name">{i18n.t(|u| u.login_name)}</label>
                    <input
                        id="login-name"
                        name="username"
                        autocomplete="username"
                        autocapitalize="none"
                        spellcheck="false"
                        required
                        prop:value=move || login.get()
                        on:input=move |ev| login.set(event_target_value(&ev))
                    />
                </div>
                <div class="field">
                    <label for="login-password">{i18n.t(|u| u.password)}</label>
                    <input
                        id="login-password"
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                </div>
                {move || {
                    previous_password
                        .get()
                        .is_some()
                        .then(|| {
                            view! {
                                <p class="notice" role="alert" data-testid="login-password-changed">
                                    {i18n.t(|u| u.login_password_changed)}
                                </p>
                                <div class="field">
                                    <label for="login-previous-password">
                                        {i18n.t(|u| u.login_previous_password)}
                                    </label>
                                    <input
                                        id="login-previous-password"
                                        type="password"
                                        autocomplete="off"
                                        required
                                        on:input=move |ev| {
                                            previous_password.set(Some(event_target_value(&ev)))
                                        }
                                    />
                                </div>
                            }
                        })
                }}
                {move || {
                    problem
                        .get()
                        .map(|failure| {
                            let text = match failure {
                                Problem::Call(Failure::WrongLogin | Failure::Unauthorized) => {
                                    i18n.t(|u| u.login_wrong)().to_owned()
                                }
                                Problem::Call(Failure::Offline) => {
                                    i18n.t(|u| u.login_offline)().to_owned()
                                }
                                Problem::Call(other) => {
                                    crate::refusal::failure(i18n.lang.get(), &other)
                                }
                                Problem::Storage(e) => crate::form_view::storage_message(i18n, &e),
                            };
                            view! {
                                <p class="notice error" role="alert" data-testid="login-problem">
                                    {text}
                                </p>
                            }
                        })
                }}
                {move || {
                    blocked_by
                        .get()
                        .map(|(previous, waiting)| {
                            let text = match waiting {
                                Waiting::Records => i18n.t(|u| u.login_other_waiting)(),
                                Waiting::Drafts => i18n.t(|u| u.login_other_drafts)(),
                            };
                            let text = text.replace("{login}", &previous);
                            view! {
                                <p class="notice error" role="alert" data-testid="login-blocked">
                                    {text}
                                </p>
                            }
                        })
                }}
                <div class="actions">
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="login-submit"
                        disabled=move || busy.get()
                    >
                        {move || {
                            if busy.get() { i18n.t(|u| u.login_busy)() } else { i18n.t(|u| u.login_submit)() }
                        }}
                    </button>
                </div>
            </form>
        </section>
    }
}

/// What was typed into the field `id` of the page's own login form (index.html, where it is
/// `starting-` + `id`), shown until the app replaced it; nothing if it is gone or empty.
fn typed_before_start(id: &str) -> Option<String> {
    use wasm_bindgen::JsCast;
    let field = document().get_element_by_id(&format!("{STARTING}{id}"))?;
    let value = field.dyn_into::<web_sys::HtmlInputElement>().ok()?.value();
    (!value.is_empty()).then_some(value)
}

/// What the ids of the page's own login form start with, before the app's ids.
pub const STARTING: &str = "starting-";

/// What of the account before still waits on this phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Waiting {
    /// Records in the outbox (refused ones included).
    Records,
    /// Unfinished forms.
    Drafts,
}

/// The account whose records are on this phone ("" for none): the owner of the key, or on a
/// phone from before encryption the last login.
async fn previous_account() -> String {
    let keyring = match crate::storage::shared().await {
        Ok(db) => db.keyring().await.ok().flatten(),
        Err(_) => None,
    };
    keyring.map_or_else(session::last_login, |k| k.login)
}

/// Whether anything of the account before still waits (counted, not opened: the records
/// are not this account's to read). Unreadable storage counts as records waiting, so a phone
/// that cannot tell never hands them to another account.
async fn waiting() -> Option<Waiting> {
    let Ok(db) = crate::storage::shared().await else {
        return Some(Waiting::Records);
    };
    match db.waiting_counts().await {
        Ok((0, 0)) => None,
        Ok((0, _)) => Some(Waiting::Drafts),
        _ => Some(Waiting::Records),
    }
}
