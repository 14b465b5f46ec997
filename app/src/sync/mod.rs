//! Sync on the phone: pushes the outbox in batches and pulls what changed in the team's
//! cases, merging it into the cases on the phone with the merge of `cris_core`.
//!
//! It runs by itself: at start, after each finalized form, when the browser comes back
//! online and every few minutes while the app is open; a failed attempt is retried with
//! exponential backoff and jitter. One sync runs at a time; a request during one runs
//! another right after. [`SyncState`] is what every screen shows.

pub mod api;
mod gzip;
pub mod session;

use std::collections::HashSet;
use std::time::Duration;

use cris_core::api::PhonePolicy;
use cris_core::record::Operation;
use cris_core::sync::Outcome;
use leptos::prelude::*;

pub use api::Failure;
pub use session::Session;

use crate::clock::now_ms;
use crate::storage::{self, Rejection, StorageError};

/// Operations per push: small enough for the progress bar to move on a slow network.
const BATCH: usize = 100;
const PERIOD: Duration = Duration::from_secs(5 * 60);
const FIRST_RETRY_MS: f64 = 5_000.0;
const LONGEST_RETRY_MS: f64 = 5.0 * 60_000.0;

#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    Idle,
    Syncing {
        done: usize,
        total: usize,
    },
    /// The server cannot be reached; the outbox waits.
    Offline,
    /// No session (or it ended): a login is needed before the next sync.
    NeedsLogin,
    /// The last attempt failed for another reason: the server's answer.
    Failed(Failure),
    /// The last attempt failed on the phone: its storage.
    StorageFailed(StorageError),
}

/// A phone clock this close to the server's counts as right.
pub const CLOCK_TOLERANCE_MS: f64 = 5.0 * 60_000.0;

/// The server revoked this device: everything of the app leaves it, at once (the app starts
/// again on its first page, and wipes before it shows anything).
pub fn revoked() {
    session::mark_for_wipe();
    if let Some(window) = web_sys::window() {
        let _ = window.location().replace("/");
    }
}

/// A push's answer: the operations the server has, and the refusals to keep.
fn sort_answer(
    results: Vec<cris_core::sync::OpResult>,
    at_ms: f64,
) -> (Vec<String>, Vec<Rejection>) {
    let mut acknowledged = Vec::new();
    let mut refusals = Vec::new();
    for result in results {
        match result.outcome {
            Outcome::Rejected {
                reason,
                message,
                detail,
            } => refusals.push(Rejection {
                op_id: result.op_id,
                reason,
                message,
                detail,
                at_ms,
            }),
            _ => acknowledged.push(result.op_id),
        }
    }
    (acknowledged, refusals)
}

/// The sync state every screen reads.
#[derive(Clone, Copy)]
pub struct SyncState {
    pub phase: RwSignal<Phase>,
    /// Operations in the outbox that the next sync sends.
    pub waiting: RwSignal<usize>,
    /// Operations the server refused, with its reasons (they stay in the outbox).
    pub rejected: RwSignal<Vec<(Rejection, Option<Operation>)>>,
    pub last_synced: RwSignal<Option<f64>>,
    /// Bumped whenever a sync changed records on the phone: screens reload on it.
    pub changed: RwSignal<u64>,
    pub session: RwSignal<Option<Session>>,
    /// How far the server's clock is from this phone's (server minus phone), as last seen.
    pub skew_ms: RwSignal<Option<f64>>,
    running: StoredValue<bool>,
    /// A sync was asked for while one ran (`Some(manual)`).
    again: StoredValue<Option<bool>>,
    failures: StoredValue<u32>,
    retry_pending: StoredValue<bool>,
    /// Whether the consent texts were fetched since the app started.
    setup_fresh: StoredValue<bool>,
    /// The forms in use, refreshed from the server at every sync (an admin may publish).
    pub forms: StoredValue<Option<crate::forms::FormCatalog>>,
    /// The agency's rules for phones, as last heard.
    pub policy: RwSignal<PhonePolicy>,
}

#[derive(Debug)]
enum SyncError {
    Api(Failure),
    Storage(StorageError),
}

impl From<Failure> for SyncError {
    fn from(f: Failure) -> Self {
        SyncError::Api(f)
    }
}

impl From<StorageError> for SyncError {
    fn from(e: StorageError) -> Self {
        SyncError::Storage(e)
    }
}

/// The sync state of the app, provided by the shell.
pub fn use_sync() -> SyncState {
    expect_context::<SyncState>()
}

/// Creates the sync state, provides it, and starts syncing by itself once the app is
/// unlocked (the session is sealed with the records).
pub fn start(online: ReadSignal<bool>) -> SyncState {
    let state = SyncState {
        phase: RwSignal::new(Phase::NeedsLogin),
        waiting: RwSignal::new(0),
        rejected: RwSignal::new(Vec::new()),
        last_synced: RwSignal::new(session::last_sync()),
        changed: RwSignal::new(0),
        session: RwSignal::new(None),
        skew_ms: RwSignal::new(None),
        running: StoredValue::new(false),
        again: StoredValue::new(None),
        failures: StoredValue::new(0),
        retry_pending: StoredValue::new(false),
        setup_fresh: StoredValue::new(false),
        forms: StoredValue::new(None),
        policy: RwSignal::new(PhonePolicy::default()),
    };
    provide_context(state);
    // Back online: at once.
    Effect::new(move |was: Option<bool>| {
        let now = online.get();
        if now && was == Some(false) {
            state.failures.set_value(0);
            state.request(false);
        }
        now
    });
    // While the app is open (the shell lives as long as the page: never cleared).
    let _ = set_interval_with_handle(move || state.request(false), PERIOD);
    state
}

impl SyncState {
    /// Asks for a sync. `manual` (the worker pressed "sync now") also sends again the
    /// operations the server refused before.
    pub fn request(self, manual: bool) {
        if self.session.get_untracked().is_none() {
            self.phase.set(Phase::NeedsLogin);
            return;
        }
        if self.running.get_value() {
            let before = self.again.get_value().unwrap_or(false);
            self.again.set_value(Some(before || manual));
            return;
        }
        self.running.set_value(true);
        leptos::task::spawn_local(self.run(manual));
    }

    async fn run(self, mut manual: bool) {
        loop {
            let outcome = self.once(manual).await;
            // Counted first: "all synced" must never show over a stale count.
            self.count().await;
            self.settle(outcome);
            match self.again.get_value() {
                Some(m) => {
                    self.again.set_value(None);
                    manual = m;
                }
                None => break,
            }
        }
        self.running.set_value(false);
    }

    fn settle(self, outcome: Result<(), SyncError>) {
        match outcome {
            Ok(()) => {
                self.failures.set_value(0);
                let now = now_ms();
                session::save_last_sync(now);
                self.last_synced.set(Some(now));
                self.phase.set(Phase::Idle);
            }
            Err(SyncError::Api(Failure::DeviceRevoked)) => revoked(),
            Err(SyncError::Api(Failure::Unauthorized)) => {
                leptos::task::spawn_local(session::clear());
                self.session.set(None);
                self.phase.set(Phase::NeedsLogin);
            }
            Err(SyncError::Api(Failure::Offline)) => {
                self.phase.set(Phase::Offline);
                self.retry_later();
            }
            Err(SyncError::Api(failure)) => {
                self.phase.set(Phase::Failed(failure));
                self.retry_later();
            }
            // Locked meanwhile: the next unlock syncs.
            Err(SyncError::Storage(StorageError::Locked)) => self.phase.set(Phase::NeedsLogin),
            Err(SyncError::Storage(e)) => {
                self.phase.set(Phase::StorageFailed(e));
                self.retry_later();
            }
        }
    }

    /// Tries again after 5 s, 10 s, 20 s ... up to 5 min, each stretched or shrunk by up to
    /// half at random, so phones that lost the server together do not return together.
    fn retry_later(self) {
        if self.retry_pending.get_value() {
            return;
        }
        let failures = self.failures.get_value();
        self.failures.set_value(failures.saturating_add(1));
        let base = (FIRST_RETRY_MS * 2f64.powi(failures.min(10) as i32)).min(LONGEST_RETRY_MS);
        let delay = base * (0.5 + js_sys::Math::random());
        self.retry_pending.set_value(true);
        set_timeout(
            move || {
                self.retry_pending.set_value(false);
                self.request(false);
            },
            Duration::from_millis(delay as u64),
        );
    }

    /// Reads the outbox and the refusals again, for the counters.
    pub async fn count(self) {
        let Ok(db) = storage::shared().await else {
            return;
        };
        let (Ok(outbox), Ok(refusals)) = (db.outbox().await, db.rejections().await) else {
            return;
        };
        let refused: HashSet<&str> = refusals.iter().map(|r| r.op_id.as_str()).collect();
        self.waiting.set(
            outbox
                .iter()
                .filter(|op| !refused.contains(op.op_id.as_str()))
                .count(),
        );
        let rejected = refusals
            .iter()
            .map(|r| {
                let op = outbox.iter().find(|op| op.op_id == r.op_id).cloned();
                (r.clone(), op)
            })
            .collect();
        self.rejected.set(rejected);
    }

    async fn once(self, manual: bool) -> Result<(), SyncError> {
        let Some(session) = self.session.get_untracked() else {
            return Err(Failure::Unauthorized.into());
        };
        let token = session.token.as_str();
        let db = storage::shared().await?;

        let refused: HashSet<String> = db
            .rejections()
            .await?
            .into_iter()
            .map(|r| r.op_id)
            .collect();
        let pending: Vec<Operation> = db
            .outbox()
            .await?
            .into_iter()
            .filter(|op| manual || !refused.contains(&op.op_id))
            .collect();
        let total = pending.len();
        self.phase.set(Phase::Syncing { done: 0, total });
        for (i, batch) in pending.chunks(BATCH).enumerate() {
            let answer = api::push(token, batch).await?;
            let at_ms = now_ms();
            self.skew_ms.set(Some(answer.server_time_ms as f64 - at_ms));
            let (acknowledged, refusals) = sort_answer(answer.results, at_ms);
            db.record_push(batch, &acknowledged, &refusals, &answer.store_id, at_ms)
                .await?;
            let done = (i * BATCH + batch.len()).min(total);
            self.phase.set(Phase::Syncing { done, total });
        }

        let device = crate::prefs::device_id();
        let keep_closed = session.user.role != cris_core::api::Role::Worker;
        let mut at = db.cursor().await?;
        let mut policy = None;
        loop {
            let (page, server_ms) = api::pull(token, at.cursor).await?;
            policy = page.policy.or(policy);
            if let Some(server_ms) = server_ms {
                self.skew_ms.set(Some(server_ms - now_ms()));
            }
            // A cursor into another store (restored from a backup, replaced) means nothing
            // here: start again from this store's beginning (merging again changes nothing).
            if at.cursor != 0 && !at.store.is_empty() && at.store != page.store_id {
                at = storage::PullPosition {
                    cursor: 0,
                    store: page.store_id,
                };
                continue;
            }
            let next = storage::PullPosition {
                cursor: page.next_cursor,
                store: page.store_id.clone(),
            };
            let changed = {
                let _cases = storage::case_lock().await;
                db.apply_pulled(&page.ops, Some(&next), &device, now_ms(), keep_closed)
                    .await?
            };
            if changed > 0 {
                self.changed.update(|n| *n += 1);
            }
            at = next;
            if !page.more {
                break;
            }
        }
        self.read_reopened(&db, token, &device, keep_closed).await?;
        self.send_again(&db, token, &at.store).await?;
        db.reached_server(now_ms(), policy).await?;
        if let Some(policy) = policy {
            self.policy.set(policy);
        }
        self.restamp_if_clock_fixed(&db, token, &device).await?;
        self.refresh_consent_setup(&db, token).await;
        // A form an admin published since: kept, and used for forms begun from now on.
        if let Some(catalog) = self.forms.get_value() {
            crate::forms::refresh(catalog).await;
        }
        // The records went through; a server that cannot list the inbox just now leaves
        // the phone's list as it was.
        if let Err(e) = self.refresh_inbox(&db, token).await {
            leptos::logging::warn!("the inbox was not fetched: {e:?}");
        }
        Ok(())
    }

    /// Reads the history of each reopened household the phone does not hold all of (its
    /// records left when it closed, or never came), so that it is whole again.
    async fn read_reopened(
        self,
        db: &storage::Storage,
        token: &str,
        device: &str,
        keep_closed: bool,
    ) -> Result<(), SyncError> {
        for case_id in db.departed().await?.reopened {
            let ops = match api::case_history(token, &case_id).await {
                Ok(history) => history.entries.into_iter().map(|e| e.op).collect(),
                // No longer one of the account's teams' households: nothing to read.
                Err(Failure::Refused(cris_core::api::ErrorCode::NotFound)) => Vec::new(),
                Err(failure) => return Err(failure.into()),
            };
            let _cases = storage::case_lock().await;
            db.apply_pulled(&ops, None, device, now_ms(), keep_closed)
                .await?;
            db.history_read(&case_id).await?;
            self.changed.update(|n| *n += 1);
        }
        Ok(())
    }

    /// The forms the supervisor sent back, kept for offline use; screens reload when it
    /// changed.
    async fn refresh_inbox(self, db: &storage::Storage, token: &str) -> Result<(), SyncError> {
        let inbox = api::inbox(token).await?;
        if db.inbox().await? != inbox {
            db.put_inbox(&inbox).await?;
            self.changed.update(|n| *n += 1);
        }
        Ok(())
    }

    /// Fetches the agency's details and the consent texts once per start of the app (and
    /// until it worked once): consents are taken offline with what the phone has.
    async fn refresh_consent_setup(self, db: &storage::Storage, token: &str) {
        if self.setup_fresh.get_value() {
            return;
        }
        match api::consent_setup(token).await {
            Ok(setup) => {
                if db.put_consent_setup(&setup).await.is_ok() {
                    self.setup_fresh.set_value(true);
                    self.changed.update(|n| *n += 1);
                }
            }
            // The sync itself went well: the texts the phone has stay in use.
            Err(failure) => leptos::logging::warn!("consent texts not fetched: {failure:?}"),
        }
    }

    /// Once the phone's clock agrees with the server's again, the records it stamped too far
    /// ahead (refused for it, or waiting to be) go under new stamps (see
    /// [`cris_core::repair`]).
    async fn restamp_if_clock_fixed(
        self,
        db: &storage::Storage,
        token: &str,
        device: &str,
    ) -> Result<(), SyncError> {
        let clock_ok = self
            .skew_ms
            .get_untracked()
            .is_some_and(|skew| skew.abs() < CLOCK_TOLERANCE_MS);
        if !clock_ok {
            return Ok(());
        }
        let refused: Vec<String> = db
            .rejections()
            .await?
            .into_iter()
            .filter(|r| r.reason == cris_core::sync::Reason::ClockAhead)
            .map(|r| r.op_id)
            .collect();
        let now = now_ms();
        let stamped_ahead = db
            .outbox()
            .await?
            .iter()
            .any(|op| cris_core::repair::stamped_ahead(op, now as u64));
        if refused.is_empty() && !stamped_ahead {
            return Ok(());
        }
        let ops = {
            let _cases = storage::case_lock().await;
            db.repair_clock(&refused, device, now).await?
        };
        for batch in ops.chunks(BATCH) {
            let answer = api::push(token, batch).await?;
            let at_ms = now_ms();
            let (acknowledged, refusals) = sort_answer(answer.results, at_ms);
            db.record_push(batch, &acknowledged, &refusals, &answer.store_id, at_ms)
                .await?;
        }
        Ok(())
    }

    /// Sends again what another case store acknowledged (a store since restored from a
    /// backup lacks what came after it; what it has it answers `duplicate`), then forgets
    /// what was acknowledged longer ago than [`storage::KEEP_DAYS`].
    async fn send_again(
        self,
        db: &storage::Storage,
        token: &str,
        store: &str,
    ) -> Result<(), SyncError> {
        if !store.is_empty() {
            let kept = db.sent_elsewhere(store).await?;
            for chunk in kept.chunks(BATCH) {
                let ops: Vec<Operation> = chunk.iter().map(|(_, op)| op.clone()).collect();
                let answer = api::push(token, &ops).await?;
                let at_ms = now_ms();
                let (acknowledged, refusals) = sort_answer(answer.results, at_ms);
                db.record_resend(chunk, &acknowledged, &refusals, &answer.store_id, at_ms)
                    .await?;
            }
            if !kept.is_empty() {
                self.count().await;
            }
        }
        db.forget_sent(now_ms() - storage::KEEP_DAYS * 86_400_000.0)
            .await?;
        Ok(())
    }

    /// The app was unlocked with the session kept on the phone (if any): syncing resumes.
    pub fn unlocked(self, session: Option<Session>) {
        match session {
            Some(session) => self.signed_in(session),
            None => {
                self.phase.set(Phase::NeedsLogin);
                leptos::task::spawn_local(self.count());
            }
        }
    }

    /// The app locked: the token leaves memory with the key, and nothing syncs until the
    /// next unlock. (What the screens showed goes with them.)
    pub fn locked(self) {
        self.session.set(None);
        self.rejected.set(Vec::new());
        self.phase.set(Phase::NeedsLogin);
    }

    /// A session (already kept on the phone): a first sync at once.
    pub fn signed_in(self, session: Session) {
        self.session.set(Some(session));
        self.failures.set_value(0);
        self.phase.set(Phase::Syncing { done: 0, total: 0 });
        self.request(false);
    }

    /// Ends the session here and, when reachable, on the server. When nothing of the account
    /// waits on the phone (no record to send, no draft), everything of it leaves the phone,
    /// its key included. Otherwise its records stay, sealed, and the app locks: the same
    /// account's password opens them again (another account's login asks first).
    pub async fn sign_out(self, lock: crate::lock::Lock) {
        if let Some(session) = self.session.get_untracked() {
            let _ = api::logout(&session.token).await;
        }
        session::clear().await;
        self.locked();
        let login = lock.login();
        let Ok(db) = storage::shared().await else {
            lock.closed(crate::lock::Gate::Locked { login });
            return;
        };
        let _cases = storage::case_lock().await;
        let nothing_waits = matches!(db.waiting_counts().await, Ok((0, 0)));
        if nothing_waits && db.erase().await.is_ok() {
            session::forget_last_sync();
            self.last_synced.set(None);
            self.waiting.set(0);
            self.changed.update(|n| *n += 1);
            lock.closed(crate::lock::Gate::NoKey);
        } else {
            lock.closed(crate::lock::Gate::Locked { login });
        }
    }
}
