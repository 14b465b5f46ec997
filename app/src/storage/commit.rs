//! Every write of the app goes through [`Storage::commit`]: one IndexedDB transaction over the
//! stores it touches, with `durability: "strict"` (the browser flushes to disk before it
//! reports completion), so that what the app shows as saved is on the phone's disk, and a
//! failing write leaves nothing half-written.
//!
//! Records are sealed (see [`super::codec`]) before the transaction opens: an IndexedDB
//! transaction commits by itself when its code waits on anything else, WebCrypto included.
//!
//! rexie cannot set the durability of a transaction, and web-sys has the option only behind
//! its unstable APIs, so the transaction is opened through `IDBDatabase.transaction` directly.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbTransaction};

use super::codec::{Plain, seal};
use super::{Result, Storage, StorageError, crypto};

/// One write of a transaction.
#[derive(Debug)]
pub enum Write {
    /// Puts an (encoded) record; the store's key path gives the key.
    Put { store: &'static str, value: Plain },
    /// Adds a record that must be new: a record already under its key fails the whole
    /// transaction with [`StorageError::Exists`].
    Add { store: &'static str, value: Plain },
    /// Puts a value as it is, in clear: only for what must be read before an unlock (the
    /// wrapped key).
    PutClear { store: &'static str, value: JsValue },
    /// Deletes the record with this key, if there is one.
    Delete { store: &'static str, key: String },
    /// Deletes every record of the store.
    Clear { store: &'static str },
}

impl Write {
    fn store(&self) -> &'static str {
        match self {
            Write::Put { store, .. }
            | Write::Add { store, .. }
            | Write::PutClear { store, .. }
            | Write::Delete { store, .. }
            | Write::Clear { store } => store,
        }
    }
}

impl Storage {
    /// Applies all `writes` in one transaction: all of them are on disk when this returns
    /// `Ok`, none of them when it returns an error.
    pub async fn commit(&self, writes: Vec<Write>) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut names: Vec<&str> = writes.iter().map(Write::store).collect();
        names.sort_unstable();
        names.dedup();
        let ready = seal_all(writes).await?;
        let tx = strict_transaction(&self.raw, &names)?;
        // The transaction commits once its requests are done: a write that throws before
        // being queued must abort it, or the writes queued before it would commit alone.
        let queued = ready.iter().try_for_each(|(name, op)| {
            let store = tx.object_store(name)?;
            match op {
                Ready::Put(value) => store.put(value).map(drop),
                Ready::Add(value) => store.add(value).map(drop),
                Ready::Delete(key) => store.delete(&JsValue::from_str(key)).map(drop),
                Ready::Clear => store.clear().map(drop),
            }
        });
        if let Err(thrown) = queued {
            let _ = tx.abort();
            return Err(error_of(Some(&tx), &thrown));
        }
        let done = Promise::new(&mut |resolve: Function, reject: Function| {
            tx.set_oncomplete(Some(&resolve));
            tx.set_onabort(Some(&reject));
        });
        JsFuture::from(done)
            .await
            .map(drop)
            .map_err(|event| error_of(Some(&tx), &event))
    }
}

/// A write as IndexedDB takes it: its record sealed.
enum Ready {
    Put(JsValue),
    Add(JsValue),
    Delete(String),
    Clear,
}

/// `writes` with their records sealed under the data key, in parallel. The key is taken
/// once: a lock meanwhile does not tear a commit.
async fn seal_all(writes: Vec<Write>) -> Result<Vec<(&'static str, Ready)>> {
    let needs_key = writes
        .iter()
        .any(|w| matches!(w, Write::Put { .. } | Write::Add { .. }));
    let key = if needs_key {
        Some(crypto::key()?)
    } else {
        None
    };
    futures::future::try_join_all(writes.into_iter().map(|write| {
        let key = key.as_ref().ok_or(StorageError::Locked);
        async move {
            let store = write.store();
            let ready = match write {
                Write::Put { value, .. } => Ready::Put(seal(store, &value, key?).await?),
                Write::Add { value, .. } => Ready::Add(seal(store, &value, key?).await?),
                Write::PutClear { value, .. } => Ready::Put(value),
                Write::Delete { key, .. } => Ready::Delete(key),
                Write::Clear { .. } => Ready::Clear,
            };
            Ok::<_, StorageError>((store, ready))
        }
    }))
    .await
}

fn strict_transaction(db: &IdbDatabase, names: &[&str]) -> Result<IdbTransaction> {
    let stores: Array = names.iter().map(|n| JsValue::from_str(n)).collect();
    let options = Object::new();
    Reflect::set(&options, &"durability".into(), &"strict".into())
        .map_err(|e| error_of(None, &e))?;
    let open: Function = Reflect::get(db, &"transaction".into())
        .and_then(JsCast::dyn_into)
        .map_err(|e| error_of(None, &e))?;
    open.call3(db, &stores, &"readwrite".into(), &options)
        .and_then(JsCast::dyn_into::<IdbTransaction>)
        .map_err(|e| error_of(None, &e))
}

/// The error of a failed transaction, by the DOMException's name.
fn error_of(tx: Option<&IdbTransaction>, thrown: &JsValue) -> StorageError {
    let exception = tx
        .and_then(IdbTransaction::error)
        .or_else(|| thrown.dyn_ref::<web_sys::DomException>().cloned());
    match exception {
        Some(e) if e.name() == "QuotaExceededError" => StorageError::Full,
        // An `add` whose key is taken (the only unique constraint of these stores).
        Some(e) if e.name() == "ConstraintError" => StorageError::Exists,
        Some(e) => StorageError::Failed(format!("{}: {}", e.name(), e.message())),
        None => StorageError::Failed(
            thrown
                .as_string()
                .unwrap_or_else(|| "the transaction was aborted".to_owned()),
        ),
    }
}
