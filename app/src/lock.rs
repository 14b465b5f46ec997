//! The app lock. The records on the phone open only with the account's data key (see
//! [`crate::storage::crypto`]); while it is not in memory the app shows the unlock screen and
//! nothing else: no route, deep link, Back or print view reaches a household.
//!
//! The app locks after the agency's limit without a touch, and when it comes back from the
//! background after longer than that. Locking lets the open form save itself, then takes the
//! key away. A PIN, when the worker set one, unlocks only a key still held in memory by the
//! running app; after five wrong PINs, and after the app was closed, the password is needed.

use std::time::Duration;

use cris_core::api::{LoginRequest, LoginResponse};
use leptos::prelude::*;

use crate::clock::now_ms;
use crate::i18n::use_i18n;
use crate::storage::crypto::{self, PinCheck, PinUnlock};
use crate::storage::{self, StorageError, Unlock};
use crate::sync::{Failure, Session, SyncState, session, use_sync};

/// Where the PIN's check is kept (sealed, in `meta`).
pub const PIN_KEY: &str = "pin";

/// What the app may show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// No account's records on this phone: an online login makes the account's key.
    NoKey,
    /// An account's records are on this phone, locked: its password (or PIN) opens them.
    Locked { login: String },
    /// Unlocked: the app as usual.
    Open,
}

/// The gate at start: locked when an account's key is on the phone (nothing is open yet).
pub async fn at_start() -> Gate {
    let keyring = match storage::shared().await {
        Ok(db) => db.keyring().await.ok().flatten(),
        Err(_) => None,
    };
    keyring.map_or(Gate::NoKey, |k| Gate::Locked { login: k.login })
}

#[derive(Clone, Copy)]
pub struct Lock {
    pub gate: RwSignal<Gate>,
    /// Whether the PIN can unlock now (the running app holds the key for it).
    pin: RwSignal<bool>,
    /// The login of the account whose records are open.
    login: StoredValue<String>,
    last_touch: StoredValue<f64>,
    hidden_at: StoredValue<Option<f64>>,
}

pub fn use_lock() -> Lock {
    expect_context::<Lock>()
}

/// Creates the lock, provides it, and starts watching for idleness.
pub fn start(initial: Gate, sync: SyncState) -> Lock {
    let lock = Lock {
        gate: RwSignal::new(initial),
        pin: RwSignal::new(false),
        login: StoredValue::new(String::new()),
        last_touch: StoredValue::new(now_ms()),
        hidden_at: StoredValue::new(None),
    };
    provide_context(lock);
    let touched = move || lock.last_touch.set_value(now_ms());
    // (The shell lives as long as the page: these are never removed.)
    let _ = window_event_listener(leptos::ev::pointerdown, move |_| touched());
    let _ = window_event_listener(leptos::ev::keydown, move |_| touched());
    let _ = window_event_listener(leptos::ev::input, move |_| touched());
    let limit_ms = move || f64::from(sync.policy.get_untracked().lock_after_s) * 1000.0;
    let _ = window_event_listener(leptos::ev::visibilitychange, move |_| {
        if document().visibility_state() == web_sys::VisibilityState::Hidden {
            lock.hidden_at.set_value(Some(now_ms()));
        } else if let Some(at) = lock.hidden_at.try_update_value(Option::take).flatten()
            && now_ms() - at >= limit_ms()
        {
            lock.lock(sync);
        }
    });
    let _ = set_interval_with_handle(
        move || {
            if now_ms() - lock.last_touch.get_value() >= limit_ms() {
                lock.lock(sync);
            }
        },
        Duration::from_secs(1),
    );
    lock
}

impl Lock {
    /// Locks now: the open screens go (a form saves as it closes), then the key.
    pub fn lock(self, sync: SyncState) {
        if self.gate.get_untracked() != Gate::Open {
            return;
        }
        // (Known for sure once the key has gone, below.)
        self.pin.set(crypto::has_pin());
        self.gate.set(Gate::Locked {
            login: self.login.get_value(),
        });
        sync.locked();
        // A closing form starts its save at once, and the save takes the key as it starts:
        // the key goes after that.
        set_timeout(
            move || {
                if self.gate.get_untracked() != Gate::Open {
                    self.pin.set(crypto::lock());
                }
            },
            Duration::from_millis(100),
        );
    }

    /// The key is in memory: the app opens as it was, with the session kept on the phone.
    async fn opened(self, sync: SyncState, arm_pin: bool) -> Result<(), StorageError> {
        let db = storage::shared().await?;
        if arm_pin {
            crypto::arm_pin(db.meta::<PinCheck>(PIN_KEY).await?);
        }
        if let Some(keyring) = db.keyring().await? {
            self.login.set_value(keyring.login);
        }
        if let Some(reached) = db.reached().await? {
            sync.policy.set(reached.policy);
        }
        let session = session::load().await;
        self.last_touch.set_value(now_ms());
        self.gate.set(Gate::Open);
        sync.unlocked(session);
        Ok(())
    }

    /// The login of the account whose records are on the phone.
    pub fn login(self) -> String {
        self.login.get_value()
    }

    /// The account left the phone (or another one is to come): nothing of it opens.
    pub fn closed(self, gate: Gate) {
        crypto::forget_key();
        self.pin.set(false);
        self.gate.set(gate);
    }
}

/// Why a login could not open the phone's records.
#[derive(Clone, Debug, PartialEq)]
pub enum OpenProblem {
    Storage(StorageError),
    /// The server took a password that does not open the records here: the account's
    /// password changed since this phone last saw it. The previous one opens them.
    PasswordChanged,
}

impl From<StorageError> for OpenProblem {
    fn from(e: StorageError) -> Self {
        OpenProblem::Storage(e)
    }
}

/// After a login the server accepted with `password`: the account's records open (made on a
/// new phone, sealed in place on a phone from before encryption), the session is kept, and
/// the app opens. Another account's records must have been dealt with before (see the login
/// page): they are erased here.
pub async fn open_account(
    lock: Lock,
    sync: SyncState,
    password: &str,
    previous_password: Option<&str>,
    answer: LoginResponse,
) -> Result<(), OpenProblem> {
    let db = storage::shared().await?;
    let session = Session {
        token: answer.token,
        expires_at_ms: answer.expires_at_ms,
        user: answer.user,
    };
    let login = session.user.login.clone();
    let now = now_ms();
    match db.keyring().await? {
        Some(keyring) if keyring.login == login => {
            if let Some(previous) = previous_password
                && !db.rewrap(previous, password).await?
            {
                return Err(OpenProblem::PasswordChanged);
            }
            if !crypto::unlocked() {
                match db.unlock(password).await? {
                    Unlock::Opened => crypto::arm_pin(db.meta::<PinCheck>(PIN_KEY).await?),
                    Unlock::WrongPassword => return Err(OpenProblem::PasswordChanged),
                    Unlock::NoKey => return Err(StorageError::Locked.into()),
                }
            } else if !db.password_opens(password).await? {
                // Unlocked, but the key is wrapped by an older password: the next unlock
                // would not open it with the one the worker knows now.
                return Err(OpenProblem::PasswordChanged);
            }
            session::save(&session).await?;
            db.reached_server(now, Some(answer.policy)).await?;
        }
        other => {
            if other.is_some() {
                db.erase().await?;
                session::forget_last_sync();
            }
            db.create_key(
                &login,
                password,
                now,
                answer.policy,
                vec![session::write(&session)?],
            )
            .await?;
            crypto::arm_pin(None);
        }
    }
    session::forget_legacy();
    session::remember_login(&login);
    sync.policy.set(answer.policy);
    lock.login.set_value(login);
    lock.last_touch.set_value(now_ms());
    lock.gate.set(Gate::Open);
    sync.signed_in(session);
    Ok(())
}

/// What went wrong at the unlock screen.
#[derive(Clone, Debug, PartialEq)]
enum Problem {
    WrongPassword,
    WrongPin(u8),
    /// Too many wrong PINs (or the key is no longer held): the password.
    PinGone,
    /// Too long away from the server, and it cannot be reached now.
    TooLongOffline(u32),
    Call(Failure),
    Storage(StorageError),
}

/// The unlock screen: the password (or the PIN, while the running app holds the key for it).
#[component]
pub fn UnlockPage(login: String) -> impl IntoView {
    let i18n = use_i18n();
    let lock = use_lock();
    let sync = use_sync();
    let with_pin = lock.pin;
    let secret = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<Problem>);
    let other_account = RwSignal::new(false);
    let account = StoredValue::new(login.clone());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        problem.set(None);
        let typed = secret.get_untracked();
        let pin = with_pin.get_untracked();
        leptos::task::spawn_local(async move {
            let mark = if pin {
                crate::perf::UNLOCK_PIN
            } else {
                crate::perf::UNLOCK
            };
            crate::perf::start(mark);
            let outcome = if pin {
                unlock_with_pin(lock, sync, &typed).await
            } else {
                unlock_with_password(lock, sync, &account.get_value(), &typed).await
            };
            if outcome.is_ok() {
                crate::perf::end(mark);
            }
            let _ = busy.try_set(false);
            match outcome {
                Ok(()) => {
                    let _ = secret.try_set(String::new());
                }
                Err(p) if pin && !crypto::pin_can_unlock() => {
                    let _ = secret.try_set(String::new());
                    let _ = with_pin.try_set(false);
                    let _ = problem.try_set(Some(p));
                }
                Err(p) => {
                    let _ = secret.try_set(String::new());
                    let _ = problem.try_set(Some(p));
                }
            }
        });
    };

    let message = move |p: Problem| -> String {
        match p {
            Problem::WrongPassword => i18n.t(|u| u.unlock_wrong_password)().to_owned(),
            Problem::WrongPin(left) => i18n.count(|u| u.unlock_wrong_pin, usize::from(left)),
            Problem::PinGone => i18n.t(|u| u.unlock_pin_gone)().to_owned(),
            Problem::TooLongOffline(days) => {
                i18n.t(|u| u.unlock_too_long_offline)().replace("{days}", &days.to_string())
            }
            Problem::Call(Failure::WrongLogin | Failure::Unauthorized) => {
                i18n.t(|u| u.login_wrong)().to_owned()
            }
            Problem::Call(Failure::Disabled) => i18n.t(|u| u.login_disabled)().to_owned(),
            Problem::Call(other) => crate::refusal::failure(i18n.lang.get(), &other),
            Problem::Storage(e) => crate::form_view::storage_message(i18n, &e),
        }
    };

    let form = move || {
        let pin = with_pin.get();
        let intro = if pin {
            i18n.t(|u| u.unlock_intro_pin)()
        } else {
            i18n.t(|u| u.unlock_intro)()
        }
        .replace("{login}", &account.get_value());
        view! {
            <p>{intro}</p>
            <form on:submit=submit data-testid="unlock-form">
                // For password managers: whose password this is.
                <input
                    type="text"
                    name="username"
                    autocomplete="username"
                    class="visually-hidden"
                    tabindex="-1"
                    aria-hidden="true"
                    readonly
                    prop:value=account.get_value()
                />
                <div class="field">
                    <label for="unlock-secret">
                        {if pin { i18n.t(|u| u.pin)() } else { i18n.t(|u| u.password)() }}
                    </label>
                    <input
                        id="unlock-secret"
                        type="password"
                        name=if pin { "pin" } else { "password" }
                        inputmode=if pin { "numeric" } else { "text" }
                        autocomplete=if pin { "off" } else { "current-password" }
                        required
                        autofocus
                        prop:value=move || secret.get()
                        on:input=move |ev| secret.set(event_target_value(&ev))
                    />
                </div>
                {move || {
                    problem
                        .get()
                        .map(|p| {
                            view! {
                                <p class="notice error" role="alert" data-testid="unlock-problem">
                                    {message(p)}
                                </p>
                            }
                        })
                }}
                <div class="actions">
                    <button
                        type="submit"
                        class="btn btn-primary"
                        data-testid="unlock-submit"
                        disabled=move || busy.get()
                    >
                        {move || {
                            if busy.get() { i18n.t(|u| u.unlock_busy)() } else { i18n.t(|u| u.unlock_submit)() }
                        }}
                    </button>
                </div>
            </form>
            <div class="actions">
                <Show when=move || with_pin.get()>
                    <button
                        type="button"
                        class="btn"
                        data-testid="unlock-use-password"
                        on:click=move |_| {
                            problem.set(None);
                            secret.set(String::new());
                            with_pin.set(false);
                        }
                    >
                        {i18n.t(|u| u.unlock_use_password)}
                    </button>
                </Show>
                <button
                    type="button"
                    class="btn"
                    data-testid="unlock-other-account"
                    on:click=move |_| other_account.set(true)
                >
                    {i18n.t(|u| u.unlock_other_account)}
                </button>
            </div>
        }
    };

    view! {
        <Show
            when=move || !other_account.get()
            fallback=move || view! { <crate::pages::Login/> }
        >
            <section class="page" data-testid="unlock">
                <h1>{i18n.t(|u| u.unlock_title)}</h1>
                {form}
            </section>
        </Show>
    }
}

async fn unlock_with_password(
    lock: Lock,
    sync: SyncState,
    login: &str,
    password: &str,
) -> Result<(), Problem> {
    let db = storage::shared().await.map_err(Problem::Storage)?;
    match db.unlock(password).await.map_err(Problem::Storage)? {
        Unlock::Opened => {}
        Unlock::WrongPassword => return Err(Problem::WrongPassword),
        Unlock::NoKey => {
            lock.closed(Gate::NoKey);
            return Ok(());
        }
    }
    let Some(days) = away_too_long(&db).await? else {
        return lock.opened(sync, true).await.map_err(Problem::Storage);
    };
    // Away from the server too long: it must say this account and phone may still work.
    crypto::forget_key();
    let request = LoginRequest {
        login: login.to_owned(),
        password: password.to_owned(),
        device_id: crate::prefs::device_id(),
    };
    match crate::sync::api::login(&request).await {
        Ok(answer) => open_account(lock, sync, password, None, answer)
            .await
            .map_err(|p| match p {
                OpenProblem::Storage(e) => Problem::Storage(e),
                OpenProblem::PasswordChanged => Problem::WrongPassword,
            }),
        Err(Failure::DeviceRevoked) => {
            crate::sync::revoked();
            Ok(())
        }
        Err(Failure::Offline) => Err(Problem::TooLongOffline(days)),
        Err(other) => Err(Problem::Call(other)),
    }
}

async fn unlock_with_pin(lock: Lock, sync: SyncState, pin: &str) -> Result<(), Problem> {
    match crypto::unlock_with_pin(pin)
        .await
        .map_err(Problem::Storage)?
    {
        PinUnlock::Opened => {}
        PinUnlock::Wrong(left) => return Err(Problem::WrongPin(left)),
        PinUnlock::PasswordNeeded => return Err(Problem::PinGone),
    }
    let db = storage::shared().await.map_err(Problem::Storage)?;
    if let Some(days) = away_too_long(&db).await? {
        crypto::forget_key();
        return Err(Problem::TooLongOffline(days));
    }
    lock.opened(sync, false).await.map_err(Problem::Storage)
}

/// With the key just opened: the agency's limit in days if the phone has been away from the
/// server too long. A date that cannot be read leaves the app locked.
async fn away_too_long(db: &storage::Storage) -> Result<Option<u32>, Problem> {
    db.away_too_long(now_ms()).await.map_err(|e| {
        crypto::forget_key();
        Problem::Storage(e)
    })
}

/// Whether `pin` is one a worker may choose: 4 to 8 digits.
pub fn valid_pin(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// Sets (or with `None` removes) the account's PIN.
pub async fn set_pin(pin: Option<&str>) -> Result<(), StorageError> {
    let db = storage::shared().await?;
    match pin {
        Some(pin) => {
            let check = PinCheck::new(pin).await?;
            db.put_meta(PIN_KEY, &check).await?;
            crypto::arm_pin(Some(check));
        }
        None => {
            db.delete_meta(PIN_KEY).await?;
            crypto::arm_pin(None);
        }
    }
    Ok(())
}
