//! The phone's storage: IndexedDB through rexie. This is the only module that touches
//! IndexedDB, and every record passes through [`codec`] on its way in and out, where it is
//! sealed and opened.
//!
//! Object stores: `cases`, `submissions` (indexed by case), `drafts`, `outbox` (operations
//! waiting to be synced), `meta` (schema 1), `forms` (definitions, schema 2), `rejected`
//! (why the server refused an operation still in the outbox, schema 3) and `consents`
//! (signed consents and withdrawals, indexed by case, schema 4), and `device` (what belongs
//! to the phone rather than to anyone's records: the account's data key, wrapped by its
//! password, and the phone's clock; schema 5), and `sent` (operations the server
//! acknowledged, kept a while to send again to a store restored from a backup; schema 6),
//! and `form_versions` (older form definitions that drafts were begun on; schema 7).
//!
//! Every record of the stores but `device`, `forms` and `form_versions` is sealed with the account's data key ([`crypto`]); the
//! app reads and writes nothing while it is locked ([`StorageError::Locked`]).
//!
//! Reads go through rexie; every write goes through [`Storage::commit`] (one transaction,
//! strict durability).

mod closed;
mod codec;
mod commit;
mod consents;
pub mod crypto;
mod drafts;
mod forms;
mod inbox;
mod records;
mod sent;
mod vault;

use js_sys::{Function, Promise};
use rexie::{Index, ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::IdbDatabase;

pub use closed::Departed;
pub use codec::{Plain, decode, decode_all, decode_found, encode};
pub use commit::Write;
pub use consents::{ConsentDraft, ReleaseDraft, SavedConsent};
pub use drafts::Draft;
pub use forms::StoredForm;
pub use records::{Finalized, Household, PullPosition, Rejection, case_lock, meta_write};
pub use sent::KEEP_DAYS;
pub use vault::{Keyring, Reached, Unlock};

/// The database of the app on this phone.
pub const DB_NAME: &str = "cris-field";
/// Raised with every change to the object stores; `open` upgrades older databases.
pub const SCHEMA_VERSION: u32 = 7;

/// Names of the object stores.
pub mod stores {
    pub const CASES: &str = "cases";
    pub const SUBMISSIONS: &str = "submissions";
    pub const DRAFTS: &str = "drafts";
    pub const OUTBOX: &str = "outbox";
    pub const META: &str = "meta";
    pub const FORMS: &str = "forms";
    pub const REJECTED: &str = "rejected";
    pub const CONSENTS: &str = "consents";
    pub const DEVICE: &str = "device";
    pub const SENT: &str = "sent";
    pub const FORM_VERSIONS: &str = "form_versions";

    /// The stores of sealed records: all but `device` and the form definitions (which hold
    /// no one's data, and load before an unlock).
    pub const SEALED: [&str; 8] = [
        CASES,
        SUBMISSIONS,
        DRAFTS,
        OUTBOX,
        META,
        REJECTED,
        CONSENTS,
        SENT,
    ];
}

/// The object stores of schema `version`. IndexedDB upgrades by adding what an older
/// database lacks, so every version lists all the stores it has, old ones included.
fn schema(name: &str, version: u32) -> rexie::RexieBuilder {
    let mut builder = Rexie::builder(name)
        .version(version)
        .add_object_store(ObjectStore::new(stores::CASES).key_path("id"))
        .add_object_store(
            ObjectStore::new(stores::SUBMISSIONS)
                .key_path("id")
                .add_index(Index::new("by_case", "case_id")),
        )
        .add_object_store(ObjectStore::new(stores::DRAFTS).key_path("id"))
        .add_object_store(ObjectStore::new(stores::OUTBOX).key_path("op_id"))
        .add_object_store(ObjectStore::new(stores::META).key_path("key"));
    if version >= 2 {
        builder = builder.add_object_store(ObjectStore::new(stores::FORMS).key_path("id"));
    }
    if version >= 3 {
        builder = builder.add_object_store(ObjectStore::new(stores::REJECTED).key_path("op_id"));
    }
    if version >= 4 {
        builder = builder.add_object_store(
            ObjectStore::new(stores::CONSENTS)
                .key_path("id")
                .add_index(Index::new("by_case", "case_id")),
        );
    }
    if version >= 5 {
        builder = builder.add_object_store(ObjectStore::new(stores::DEVICE).key_path("key"));
    }
    if version >= 6 {
        builder = builder.add_object_store(ObjectStore::new(stores::SENT).key_path("key"));
    }
    if version >= 7 {
        builder = builder.add_object_store(ObjectStore::new(stores::FORM_VERSIONS).key_path("key"));
    }
    builder
}

/// What can go wrong with storage, in terms the app can explain to the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The browser refuses IndexedDB (private browsing, a blocked upgrade, ...).
    Unavailable(String),
    /// The phone's storage for this app is full: nothing was written.
    Full,
    /// A read or write failed; nothing was written.
    Failed(String),
    /// A stored record could not be read back (an older or damaged format).
    Unreadable(String),
    /// A record that is written once is there already (a form finalized before under the
    /// same id): nothing was written.
    Exists,
    /// The app is locked: no key to read or write records with.
    Locked,
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::Unavailable(why) => write!(f, "storage is not available: {why}"),
            StorageError::Full => f.write_str("the storage of this phone is full"),
            StorageError::Failed(why) => write!(f, "storage failed: {why}"),
            StorageError::Unreadable(why) => write!(f, "a stored record cannot be read: {why}"),
            StorageError::Exists => {
                f.write_str("this record was saved before and is kept as it was")
            }
            StorageError::Locked => f.write_str("the app is locked"),
        }
    }
}

impl std::error::Error for StorageError {}

impl From<rexie::Error> for StorageError {
    fn from(err: rexie::Error) -> Self {
        let text = format!("{err:?}");
        if text.contains("QuotaExceeded") {
            StorageError::Full
        } else {
            StorageError::Failed(text)
        }
    }
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// Whether the browser promises to keep this app's data when the phone runs low on space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persistence {
    /// Kept until the user deletes it.
    Persistent,
    /// The browser may evict it under storage pressure.
    BestEffort,
    /// The browser cannot say (no StorageManager).
    Unknown,
}

/// Asks the browser to keep this app's data (`navigator.storage.persist()`), and says what it
/// granted. Asking again when already granted costs nothing.
pub async fn request_persistence() -> Persistence {
    let Some(manager) = web_sys::window().map(|w| w.navigator().storage()) else {
        return Persistence::Unknown;
    };
    let granted = async |promise: std::result::Result<js_sys::Promise, wasm_bindgen::JsValue>| {
        match promise {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_bool()),
            Err(_) => None,
        }
    };
    let already = granted(manager.persisted()).await;
    let now = match already {
        Some(true) => Some(true),
        _ => granted(manager.persist()).await,
    };
    match now {
        Some(true) => Persistence::Persistent,
        Some(false) => Persistence::BestEffort,
        None => Persistence::Unknown,
    }
}

/// An open database.
#[derive(Debug)]
pub struct Storage {
    db: Rexie,
    /// A second connection for [`Storage::commit`], which needs what rexie does not offer.
    raw: IdbDatabase,
}

impl Storage {
    /// Opens (creating or upgrading) the app's database.
    pub async fn open() -> Result<Self> {
        Self::open_named(DB_NAME).await
    }

    /// Opens a database of another name (tests use one each).
    pub async fn open_named(name: &str) -> Result<Self> {
        Self::open_version(name, SCHEMA_VERSION).await
    }

    /// Opens a database at an older schema version: for the tests that upgrade one.
    pub async fn open_version(name: &str, version: u32) -> Result<Self> {
        let db = schema(name, version)
            .build()
            .await
            .map_err(|e| StorageError::Unavailable(format!("{e:?}")))?;
        let raw = open_raw(name)
            .await
            .map_err(|e| StorageError::Unavailable(format!("{e:?}")))?;
        Ok(Storage { db, raw })
    }

    /// The schema version of the open database.
    pub fn version(&self) -> u32 {
        self.db.version().unwrap_or_default()
    }

    /// Names of the object stores of the open database.
    pub fn store_names(&self) -> Vec<String> {
        self.db.store_names()
    }

    /// Closes the database (pending transactions still complete).
    pub fn close(self) {
        self.raw.close();
        self.db.close();
    }

    /// Deletes a whole database; for tests and for erasing the phone.
    pub async fn delete(name: &str) -> Result<()> {
        Rexie::delete(name).await.map_err(StorageError::from)
    }

    fn transaction(&self, store: &str, mode: TransactionMode) -> Result<rexie::Transaction> {
        self.db
            .transaction(&[store], mode)
            .map_err(StorageError::from)
    }
}

/// Opens `name` at whatever version it has (rexie has just created or upgraded it). When a
/// newer version of the app upgrades the database in another tab, this connection closes
/// instead of blocking the upgrade.
async fn open_raw(name: &str) -> std::result::Result<IdbDatabase, JsValue> {
    let factory = web_sys::window()
        .ok_or_else(|| JsValue::from_str("no window"))?
        .indexed_db()?
        .ok_or_else(|| JsValue::from_str("IndexedDB is not available"))?;
    let request = factory.open(name)?;
    let opened = Promise::new(&mut |resolve: Function, reject: Function| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(opened).await?;
    let db: IdbDatabase = request.result()?.dyn_into()?;
    let this = db.clone();
    let on_version_change = Closure::<dyn FnMut()>::new(move || this.close());
    db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
    // Lives as long as the connection, which the page keeps open for its whole life.
    on_version_change.forget();
    Ok(db)
}

thread_local! {
    static SHARED: std::cell::RefCell<Option<std::rc::Rc<Storage>>> =
        const { std::cell::RefCell::new(None) };
}

/// Wipes this phone's records: deletes the app's database, whatever it holds (a revoked
/// device is in the wrong hands). Called at start, before anything opened the database.
pub async fn wipe() -> Result<()> {
    Storage::delete(DB_NAME).await
}

/// The app's database, opened on first use and kept open for the life of the page.
pub async fn shared() -> Result<std::rc::Rc<Storage>> {
    if let Some(db) = SHARED.with_borrow(Clone::clone) {
        return Ok(db);
    }
    let opened = std::rc::Rc::new(Storage::open().await?);
    // Two screens may have asked at once: keep the first connection.
    Ok(SHARED.with_borrow_mut(|slot| slot.get_or_insert(opened).clone()))
}
