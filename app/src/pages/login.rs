//! Logging in: once online, then the phone keeps working offline with its session.

use cris_core::api::LoginRequest;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::i18n::use_i18n;
use crate::storage::StorageError;
use crate::sync::{Failure, Session, session, use_sync};

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
    let login = RwSignal::new(session::last_login());
    let password = RwSignal::new(String::new());
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
        leptos::task::spawn_local(async move {
            let previous = session::last_login();
            if !previous.is_empty()
                && previous != request.login
                && let Some(waiting) = waiting().await
            {
                busy.set(false);
                blocked_by.set(Some((previous, waiting)));
                return;
            }
            let answer = crate::sync::api::login(&request).await;
            match answer {
                Ok(answer) => {
                    // The households of the account before are not this account's to see.
                    if !previous.is_empty() && previous != answer.user.login {
                        let forgotten = match crate::storage::shared().await {
                            Ok(db) => db.forget_households().await,
                            Err(e) => Err(e),
                        };
                        if let Err(e) = forgotten {
                            busy.set(false);
                            problem.set(Some(Problem::Storage(e)));
                            return;
                        }
                        session::forget_last_sync();
                    }
                    busy.set(false);
                    password.set(String::new());
                    sync.signed_in(Session {
                        token: answer.token,
                        expires_at_ms: answer.expires_at_ms,
                        user: answer.user,
                    });
                    navigate("/", Default::default());
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

/// What of the account before still waits on this phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Waiting {
    /// Records in the outbox (refused ones included).
    Records,
    /// Unfinished forms.
    Drafts,
}

/// Whether anything of the account before still waits. Unreadable storage counts as
/// records waiting, so a phone that cannot tell never hands them to another account.
async fn waiting() -> Option<Waiting> {
    let Ok(db) = crate::storage::shared().await else {
        return Some(Waiting::Records);
    };
    if db.outbox().await.map_or(true, |ops| !ops.is_empty()) {
        return Some(Waiting::Records);
    }
    if db.drafts().await.map_or(true, |drafts| !drafts.is_empty()) {
        return Some(Waiting::Drafts);
    }
    None
}
