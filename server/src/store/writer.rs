//! One writer per store: pushes that arrive while another is being written wait in a queue
//! and are then written together, in one transaction with one commit (group commit).
//!
//! SQLite has one write lock; connections that find it taken sleep and retry, and with a
//! hundred phones pushing at once most of a push's time went to those sleeps. A queue hands
//! the lock over at once, and one commit (one `fsync`) serves every push in the group.
//! PostgreSQL pushes are serialized by an advisory lock anyway; grouping them saves commits.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::{CheckedOp, StoreError, Stored, User};

/// A group stops taking more pushes once it holds this many operations.
pub const MAX_GROUP_OPS: usize = 2_000;

/// One push: the operations of one request, by one user, received at `now_ms`.
#[derive(Debug)]
pub struct PushBatch {
    pub user: User,
    pub ops: Vec<CheckedOp>,
    pub now_ms: i64,
}

/// How often the writer lets the store tidy up (see [`GroupPush::maintain`]) while it writes.
pub const MAINTAIN_EVERY: Duration = Duration::from_secs(1);

/// A store that writes several pushes in one transaction, each answered as if alone.
pub trait GroupPush: Clone + Send + Sync + 'static {
    fn push_group(
        &self,
        batches: &[PushBatch],
    ) -> impl Future<Output = Result<Vec<Vec<Stored>>, StoreError>> + Send;

    /// Work that must not hold up a push (SQLite: copying the write-ahead log into the
    /// database). Runs beside the writer, at most once at a time, after writes.
    fn maintain(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

type Push = (PushBatch, oneshot::Sender<Result<Vec<Stored>, StoreError>>);

/// Work that writes alone, between two groups of pushes (a supervisor's decision): it waits
/// its turn in the same queue instead of fighting the pushes for the write lock.
type Alone = Box<dyn FnOnce() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

enum Job {
    Push(Push),
    Alone(Alone),
}

/// The queue in front of a store's writer task. The task ends when the last handle is gone.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: mpsc::UnboundedSender<Job>,
}

impl Writer {
    /// Starts the writer task of `store` (a handle that writes directly) on the current
    /// tokio runtime.
    pub fn start<S: GroupPush>(store: S) -> Writer {
        let (queue, mut jobs) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            let mut upkeep: Option<tokio::task::JoinHandle<()>> = None;
            let mut last_upkeep = Instant::now();
            let mut written = false;
            // A job taken from the queue that must wait for the group being formed.
            let mut held: Option<Job> = None;
            loop {
                // Tidy up after writes, once a second, beside the next pushes.
                if written
                    && last_upkeep.elapsed() >= MAINTAIN_EVERY
                    && upkeep.as_ref().is_none_or(|u| u.is_finished())
                {
                    let store = store.clone();
                    upkeep = Some(tokio::spawn(async move { store.maintain().await }));
                    last_upkeep = Instant::now();
                    written = false;
                }
                let first = match held.take() {
                    Some(job) => job,
                    None if written => {
                        match tokio::time::timeout(MAINTAIN_EVERY, jobs.recv()).await {
                            Ok(Some(job)) => job,
                            Ok(None) => break,
                            Err(_) => continue,
                        }
                    }
                    None => match jobs.recv().await {
                        Some(job) => job,
                        None => break,
                    },
                };
                let first = match first {
                    Job::Push(push) => push,
                    Job::Alone(work) => {
                        written = true;
                        work().await;
                        continue;
                    }
                };
                let mut count = first.0.ops.len();
                let mut group = vec![first];
                while count < MAX_GROUP_OPS {
                    match jobs.try_recv() {
                        Ok(Job::Push(next)) => {
                            count += next.0.ops.len();
                            group.push(next);
                        }
                        // It goes right after this group.
                        Ok(alone) => {
                            held = Some(alone);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let (batches, replies): (Vec<PushBatch>, Vec<_>) = group.into_iter().unzip();
                written = true;
                match store.push_group(&batches).await {
                    Ok(results) => {
                        for (reply, stored) in replies.into_iter().zip(results) {
                            // The pusher may have gone (its connection dropped): nothing to do,
                            // the phone learns the outcome when it pushes again.
                            let _ = reply.send(Ok(stored));
                        }
                    }
                    Err(err) => {
                        let message = err.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(StoreError::Group(message.clone())));
                        }
                    }
                }
            }
        });
        Writer { queue }
    }

    /// Queues a push and waits for its outcome.
    pub async fn push(&self, batch: PushBatch) -> Result<Vec<Stored>, StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.queue
            .send(Job::Push((batch, reply)))
            .map_err(|_| StoreError::Closed)?;
        outcome.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `work` alone, in its turn between groups of pushes, and waits for its outcome.
    pub async fn alone<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        let (reply, outcome) = oneshot::channel();
        let job: Alone = Box::new(move || {
            Box::pin(async move {
                // The caller may have gone: its work is done all the same.
                let _ = reply.send(work().await);
            })
        });
        self.queue
            .send(Job::Alone(job))
            .map_err(|_| StoreError::Closed)?;
        outcome.await.map_err(|_| StoreError::Closed)
    }
}
