//! What stands between a password guesser and the password hashes: failed logins slow down
//! further attempts per login name and per client address, and no more hashes run at once
//! than the machine has cores.
//!
//! - After [`LOGIN_FREE_FAILURES`] failures for one login name (whether it exists or not), or
//!   [`ADDRESS_FREE_FAILURES`] from one address, each further attempt has to wait twice as
//!   long after the last failure as the one before (2 s, 4 s, 8 s, ... at most 15 minutes);
//!   earlier, it is answered 429 with `Retry-After` and no hash is computed. The address gets
//!   more free failures than a login: a shelter's or an office's phones share one address.
//! - A right password clears its login's failures (not its address's: one account an attacker
//!   holds does not open the door for guessing the others). A login's or an address's
//!   failures are forgotten after an hour without any.
//! - Hashes (Argon2id, 19 MiB each) run on as many blocking threads as there are cores; up to
//!   [`QUEUE_PER_CORE`] logins a core wait their turn, the rest are answered 503 at once. 400
//!   logins at once thus hold two hashes' memory, not 400.
//!
//! The counts live in this process: a restart forgets them, and several server processes
//! behind one load balancer each count their own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

/// Failures of one login name before attempts slow down.
pub const LOGIN_FREE_FAILURES: u32 = 5;
/// Failures from one client address before attempts from it slow down.
pub const ADDRESS_FREE_FAILURES: u32 = 20;
/// The first wait, doubled with each further failure.
const FIRST_WAIT_MS: i64 = 2_000;
/// The longest wait.
pub const LONGEST_WAIT_MS: i64 = 15 * 60_000;
/// Failures are forgotten after this long without one.
const FORGET_AFTER_MS: i64 = 60 * 60_000;
/// Logins that may wait for a hashing thread, per core.
pub const QUEUE_PER_CORE: usize = 32;
/// The most login names or addresses kept; beyond, the quietest are forgotten first.
const MOST_KEPT: usize = 50_000;

/// Why a login was not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many failures: try again in this many seconds. `first` is true for the first
    /// refusal since the last failure (the one the audit trail records).
    Throttled { retry_after_s: u64, first: bool },
    /// Every hashing thread is busy and the queue is full.
    Busy,
}

/// The failures, the hashing threads and the queue.
#[derive(Debug)]
pub struct LoginGuard {
    by_login: Mutex<Failures>,
    by_address: Mutex<Failures>,
    hashing: Semaphore,
    waiting: AtomicUsize,
    most_waiting: usize,
}

impl Default for LoginGuard {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self::new(cores, cores * QUEUE_PER_CORE)
    }
}

impl LoginGuard {
    /// `hashes` at once, `most_waiting` in the queue.
    pub fn new(hashes: usize, most_waiting: usize) -> Self {
        LoginGuard {
            by_login: Mutex::new(Failures::new(LOGIN_FREE_FAILURES)),
            by_address: Mutex::new(Failures::new(ADDRESS_FREE_FAILURES)),
            hashing: Semaphore::new(hashes.max(1)),
            waiting: AtomicUsize::new(0),
            most_waiting,
        }
    }

    /// Whether an attempt for `login` from `address` may be checked at `now_ms`.
    pub fn may_try(
        &self,
        login: &str,
        address: Option<IpAddr>,
        now_ms: i64,
    ) -> Result<(), Refusal> {
        let (login_wait, login_first) = lock(&self.by_login).refuse(&login_key(login), now_ms);
        let (address_wait, address_first) = address.map_or((0, false), |a| {
            lock(&self.by_address).refuse(&a.to_string(), now_ms)
        });
        match login_wait.max(address_wait) {
            0 => Ok(()),
            ms => Err(Refusal::Throttled {
                retry_after_s: u64::try_from((ms + 999) / 1000).unwrap_or(1),
                first: login_first || address_first,
            }),
        }
    }

    /// Counts a wrong password (or unknown login).
    pub fn failed(&self, login: &str, address: Option<IpAddr>, now_ms: i64) {
        lock(&self.by_login).fail(login_key(login), now_ms);
        if let Some(address) = address {
            lock(&self.by_address).fail(address.to_string(), now_ms);
        }
    }

    /// Clears the failures of `login` after its right password.
    pub fn succeeded(&self, login: &str) {
        lock(&self.by_login).entries.remove(&login_key(login));
    }

    /// Runs `check` (a password hash) on a blocking thread when one is free, waiting in the
    /// queue meanwhile, or refuses at once when the queue is full.
    pub async fn hash<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refusal> {
        let permit = match self.hashing.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                // Counted out again however the wait ends (a client that gives up included).
                let _queued = Queued::join(&self.waiting, self.most_waiting)?;
                self.hashing.acquire().await.map_err(|_| Refusal::Busy)?
            }
        };
        let result = tokio::task::spawn_blocking(check)
            .await
            .map_err(|_| Refusal::Busy);
        drop(permit);
        result
    }
}

/// A place in the hashing queue, left when dropped.
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn join(waiting: &'a AtomicUsize, most: usize) -> Result<Self, Refusal> {
        if waiting.fetch_add(1, Ordering::SeqCst) >= most {
            waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Refusal::Busy);
        }
        Ok(Queued(waiting))
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lock(m: &Mutex<Failures>) -> std::sync::MutexGuard<'_, Failures> {
    // The counts stay usable after a panic elsewhere: they are only numbers.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Login names as typed differ in case and spaces; at most a login's length is kept.
fn login_key(login: &str) -> String {
    login.trim().to_lowercase().chars().take(64).collect()
}

#[derive(Debug)]
struct Failures {
    free: u32,
    entries: HashMap<String, Failure>,
}

#[derive(Debug, Clone, Copy)]
struct Failure {
    count: u32,
    last_ms: i64,
    /// An attempt was refused since the last failure.
    refused: bool,
}

impl Failures {
    fn new(free: u32) -> Self {
        Failures {
            free,
            entries: HashMap::new(),
        }
    }

    /// How much longer an attempt for `key` has to wait at `now_ms` (0: none), and whether
    /// it is the first attempt refused since the last failure.
    fn refuse(&mut self, key: &str, now_ms: i64) -> (i64, bool) {
        let Some(f) = self.entries.get_mut(key) else {
            return (0, false);
        };
        if f.count < self.free || now_ms - f.last_ms >= FORGET_AFTER_MS {
            return (0, false);
        }
        let doublings = (f.count - self.free).min(20);
        let wait = (FIRST_WAIT_MS << doublings).min(LONGEST_WAIT_MS);
        let left = (f.last_ms + wait - now_ms).max(0);
        let first = left > 0 && !f.refused;
        f.refused |= left > 0;
        (left, first)
    }

    fn fail(&mut self, key: String, now_ms: i64) {
        if self.entries.len() >= MOST_KEPT && !self.entries.contains_key(&key) {
            self.entries
                .retain(|_, f| now_ms - f.last_ms < FORGET_AFTER_MS);
            if self.entries.len() >= MOST_KEPT
                && let Some(quietest) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, f)| f.last_ms)
                    .map(|(k, _)| k.clone())
            {
                self.entries.remove(&quietest);
            }
        }
        let entry = self.entries.entry(key).or_insert(Failure {
            count: 0,
            last_ms: now_ms,
            refused: false,
        });
        if now_ms - entry.last_ms >= FORGET_AFTER_MS {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last_ms = now_ms;
        entry.refused = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;

    #[test]
    fn five_failures_are_free_then_waits_double_up_to_fifteen_minutes() {
        let guard = LoginGuard::new(1, 1);
        let mut now = T0;
        for _ in 0..LOGIN_FREE_FAILURES {
            assert_eq!(guard.may_try("elif.w", None, now), Ok(()));
            guard.failed("elif.w", None, now);
            now += 100;
        }
        let mut waits = Vec::new();
        for _ in 0..12 {
            let Err(Refusal::Throttled {
                retry_after_s,
                first,
            }) = guard.may_try("Elif.W ", None, now)
            else {
                panic!("not throttled after {} failures", waits.len() + 5);
            };
            assert!(first, "the first refusal since the failure");
            assert!(
                matches!(
                    guard.may_try("elif.w", None, now + 1),
                    Err(Refusal::Throttled { first: false, .. })
                ),
                "a second one is not the first"
            );
            waits.push(retry_after_s);
            now += i64::try_from(retry_after_s).unwrap() * 1000;
            assert_eq!(guard.may_try("elif.w", None, now), Ok(()), "after the wait");
            guard.failed("elif.w", None, now);
        }
        assert_eq!(&waits[..6], &[2, 4, 8, 16, 32, 64]);
        assert_eq!(*waits.last().unwrap(), 900, "{waits:?}");
        // Another login is not slowed down by this one's failures.
        assert_eq!(guard.may_try("sevgi.k", None, now), Ok(()));
        // The right password clears them.
        guard.succeeded("elif.w");
        assert_eq!(guard.may_try("elif.w", None, now), Ok(()));
    }

    #[test]
    fn an_address_guessing_many_logins_is_slowed_down() {
        let guard = LoginGuard::new(1, 1);
        let from: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "203.0.113.8".parse().unwrap();
        for i in 0..ADDRESS_FREE_FAILURES {
            let login = format!("user{i}");
            assert_eq!(guard.may_try(&login, Some(from), T0), Ok(()));
            guard.failed(&login, Some(from), T0);
        }
        assert!(matches!(
            guard.may_try("someone.new", Some(from), T0),
            Err(Refusal::Throttled {
                retry_after_s: 2,
                ..
            })
        ));
        assert_eq!(guard.may_try("someone.new", Some(other), T0), Ok(()));
        // An hour later everything is forgotten.
        assert_eq!(
            guard.may_try("someone.new", Some(from), T0 + FORGET_AFTER_MS),
            Ok(())
        );
    }

    #[test]
    fn memory_is_bounded_under_a_flood_of_names() {
        // (Each name failing once: under the free failures, so nothing to refuse.)
        let mut failures = Failures::new(5);
        for i in 0..(MOST_KEPT + 1000) {
            failures.fail(format!("name{i}"), T0 + i64::try_from(i).unwrap());
        }
        assert_eq!(failures.entries.len(), MOST_KEPT);
        assert!(
            failures
                .entries
                .contains_key(&format!("name{}", MOST_KEPT + 999))
        );
        assert!(
            !failures.entries.contains_key("name0"),
            "the quietest went first"
        );
    }

    #[tokio::test]
    async fn no_more_hashes_than_threads_and_a_bounded_queue() {
        let guard = std::sync::Arc::new(LoginGuard::new(1, 2));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = std::sync::Arc::new(Mutex::new(wait));
        let running = {
            let (guard, wait) = (guard.clone(), wait.clone());
            tokio::spawn(async move {
                guard
                    .hash(move || wait.lock().unwrap().recv().is_ok())
                    .await
            })
        };
        // The one thread is taken; two may queue, the third is refused at once.
        while guard.hashing.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let guard = guard.clone();
                tokio::spawn(async move { guard.hash(|| true).await })
            })
            .collect();
        while guard.waiting.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        assert_eq!(guard.hash(|| true).await, Err(Refusal::Busy));
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(true));
        for q in queued {
            assert_eq!(q.await.unwrap(), Ok(true));
        }
        assert_eq!(guard.waiting.load(Ordering::SeqCst), 0);
    }
}
