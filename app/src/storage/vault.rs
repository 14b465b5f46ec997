//! The account's data key on this phone: made at the first login, wrapped by the password
//! in the `keys` store (the one store in clear), unwrapped into memory at each unlock.
//!
//! A phone holds one account's records at a time. Making the key also encrypts, in place and
//! in one transaction, whatever a database from before encryption (schema 4) holds in clear.

use cris_core::api::PhonePolicy;
use rexie::TransactionMode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::{Plain, is_sealed};
use super::crypto::{self, Wrapped};
use super::{Result, Storage, StorageError, Write, stores};

const KEYRING_KEY: &str = "data-key";

/// Whether a record of `meta` in clear is the phone's clock (kept there before schema 5).
fn is_clock(value: &JsValue) -> bool {
    js_sys::Reflect::get(value, &"key".into())
        .ok()
        .and_then(|k| k.as_string())
        .is_some_and(|k| k == super::records::CLOCK_KEY)
}

/// The wrapped data key of the account whose records this phone holds (in clear: it is read
/// before an unlock).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Keyring {
    /// The account (its login name).
    pub login: String,
    pub wrapped: Wrapped,
}

/// When the phone last reached the server, and the agency's rules it heard then. Sealed in
/// `meta` like any record, and read right after the password opened the key: kept in clear,
/// whoever holds the phone could move the date or the limit and never need the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reached {
    /// Phone clock.
    pub at_ms: f64,
    pub policy: PhonePolicy,
}

impl Reached {
    /// Whether the phone has been away from the server too long to unlock offline.
    pub fn too_long_offline(&self, now_ms: f64) -> bool {
        let limit_ms = f64::from(self.policy.offline_days) * DAY_MS;
        now_ms - self.at_ms > limit_ms
    }
}

const REACHED_KEY: &str = "reached";
const DAY_MS: f64 = 24.0 * 3600.0 * 1000.0;
/// The date of the last contact is written again at most this often (not at every sync).
const REACHED_EVERY_MS: f64 = 3600.0 * 1000.0;

/// What an unlock with a password found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unlock {
    /// The key is in memory: the records open.
    Opened,
    /// Not this account's password (nothing changed).
    WrongPassword,
    /// No account's key on this phone: an online login makes one.
    NoKey,
}

impl Keyring {
    fn to_js(&self) -> Result<JsValue> {
        let json = serde_json::to_string(self)
            .map_err(|e| StorageError::Failed(format!("cannot encode the key: {e}")))?;
        let object = js_sys::Object::new();
        let set = |name: &str, value: &str| {
            js_sys::Reflect::set(&object, &name.into(), &value.into())
                .map(drop)
                .map_err(|_| StorageError::Failed("cannot build the key record".to_owned()))
        };
        set("key", KEYRING_KEY)?;
        set("json", &json)?;
        Ok(object.into())
    }

    fn from_js(value: &JsValue) -> Result<Self> {
        let json = js_sys::Reflect::get(value, &"json".into())
            .ok()
            .and_then(|v| v.as_string())
            .ok_or_else(|| StorageError::Unreadable("the key record".to_owned()))?;
        serde_json::from_slice(json.as_bytes()).map_err(|e| StorageError::Unreadable(e.to_string()))
    }

    fn write(&self) -> Result<Write> {
        Ok(Write::PutClear {
            store: stores::DEVICE,
            value: self.to_js()?,
        })
    }
}

impl Storage {
    /// The wrapped key on this phone, if an account has one (readable while locked).
    pub async fn keyring(&self) -> Result<Option<Keyring>> {
        let tx = self.transaction(stores::DEVICE, TransactionMode::ReadOnly)?;
        let found = tx
            .store(stores::DEVICE)?
            .get(JsValue::from_str(KEYRING_KEY))
            .await?;
        found.as_ref().map(Keyring::from_js).transpose()
    }

    /// Makes `login`'s data key, wrapped by `password`, and holds it: the app is unlocked.
    /// Whatever the phone holds in clear (from before encryption) is sealed under it, in the
    /// same transaction as the key and `also`; sealed records of an unknown key cannot be
    /// read by anyone and go.
    pub async fn create_key(
        &self,
        login: &str,
        password: &str,
        now_ms: f64,
        policy: PhonePolicy,
        also: Vec<Write>,
    ) -> Result<()> {
        let mut writes = Vec::new();
        for store in stores::SEALED {
            let tx = self.transaction(store, TransactionMode::ReadOnly)?;
            let values = tx.store(store)?.get_all(None, None).await?;
            writes.push(Write::Clear { store });
            for value in values.into_iter().filter(|v| !is_sealed(v)) {
                // The phone's clock has its own place now, in clear.
                if store == stores::META && is_clock(&value) {
                    writes.push(Write::PutClear {
                        store: stores::DEVICE,
                        value,
                    });
                    continue;
                }
                writes.push(Write::Put {
                    store,
                    value: Plain::legacy(&value)?,
                });
            }
        }
        let (key, wrapped) = crypto::new_key(password).await?;
        let keyring = Keyring {
            login: login.to_owned(),
            wrapped,
        };
        writes.push(keyring.write()?);
        writes.push(super::meta_write(
            REACHED_KEY,
            &Reached {
                at_ms: now_ms,
                policy,
            },
        )?);
        writes.extend(also);
        crypto::hold(key);
        let done = self.commit(writes).await;
        if done.is_err() {
            crypto::forget_key();
        }
        done
    }

    /// Unwraps the data key with `password` and holds it.
    pub async fn unlock(&self, password: &str) -> Result<Unlock> {
        let Some(keyring) = self.keyring().await? else {
            return Ok(Unlock::NoKey);
        };
        match crypto::unwrap_with(password, &keyring.wrapped).await? {
            Some(key) => {
                crypto::hold(key);
                Ok(Unlock::Opened)
            }
            None => Ok(Unlock::WrongPassword),
        }
    }

    /// Whether `password` is the one the key is wrapped with.
    pub async fn password_opens(&self, password: &str) -> Result<bool> {
        let Some(keyring) = self.keyring().await? else {
            return Ok(false);
        };
        Ok(crypto::unwrap_with(password, &keyring.wrapped)
            .await?
            .is_some())
    }

    /// Wraps the key under `new` instead of `old`; `false` (nothing changed) if `old` is not
    /// the password it is wrapped with.
    pub async fn rewrap(&self, old: &str, new: &str) -> Result<bool> {
        let Some(mut keyring) = self.keyring().await? else {
            return Ok(false);
        };
        let Some(wrapped) = crypto::rewrap(old, new, &keyring.wrapped).await? else {
            return Ok(false);
        };
        keyring.wrapped = wrapped;
        self.commit(vec![keyring.write()?]).await?;
        Ok(true)
    }

    /// When the phone last reached the server, and the rules it heard (needs the key).
    pub async fn reached(&self) -> Result<Option<Reached>> {
        self.meta(REACHED_KEY).await
    }

    /// With the key open: the agency's limit in days if the phone has been away from the
    /// server longer than that at `now_ms`. No date of the last contact (deleted from the
    /// storage) counts as away.
    pub async fn away_too_long(&self, now_ms: f64) -> Result<Option<u32>> {
        Ok(match self.reached().await? {
            Some(r) if !r.too_long_offline(now_ms) => None,
            Some(r) => Some(r.policy.offline_days),
            None => Some(PhonePolicy::default().offline_days),
        })
    }

    /// The phone reached the server at `now_ms`, and heard its rules for phones (if `policy`).
    /// Kept when the rules changed or the date kept is an hour old or more.
    pub async fn reached_server(&self, now_ms: f64, policy: Option<PhonePolicy>) -> Result<()> {
        // (One that cannot be read is replaced: the server has just been reached.)
        let kept = self.reached().await.ok().flatten();
        let policy = policy
            .or(kept.as_ref().map(|k| k.policy))
            .unwrap_or_default();
        let fresh = kept
            .as_ref()
            .is_some_and(|k| k.policy == policy && (now_ms - k.at_ms).abs() < REACHED_EVERY_MS);
        if fresh {
            return Ok(());
        }
        self.put_meta(
            REACHED_KEY,
            &Reached {
                at_ms: now_ms,
                policy,
            },
        )
        .await
    }

    /// Deletes every record and the key: the phone holds nothing of any account (the form
    /// definitions and the phone's clock stay).
    pub async fn erase(&self) -> Result<()> {
        let mut writes: Vec<Write> = stores::SEALED
            .into_iter()
            .map(|store| Write::Clear { store })
            .collect();
        writes.push(Write::Delete {
            store: stores::DEVICE,
            key: KEYRING_KEY.to_owned(),
        });
        crypto::forget_key();
        self.commit(writes).await
    }

    /// How many records of each kind wait to be sent, or are being written: readable while
    /// locked (it counts, it does not open).
    pub async fn waiting_counts(&self) -> Result<(u32, u32)> {
        let count = async |store: &str| -> Result<u32> {
            let tx = self.transaction(store, TransactionMode::ReadOnly)?;
            Ok(tx.store(store)?.count(None).await?)
        };
        Ok((count(stores::OUTBOX).await?, count(stores::DRAFTS).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reached(at_ms: f64, offline_days: u32) -> Reached {
        Reached {
            at_ms,
            policy: PhonePolicy {
                lock_after_s: 300,
                offline_days,
            },
        }
    }

    #[test]
    fn a_phone_away_longer_than_the_agency_allows_needs_the_server() {
        let at = 1_800_000_000_000.0;
        let r = reached(at, 30);
        assert!(!r.too_long_offline(at));
        assert!(!r.too_long_offline(at + 30.0 * DAY_MS));
        assert!(r.too_long_offline(at + 30.0 * DAY_MS + 1.0));
        assert!(reached(at, 1).too_long_offline(at + 2.0 * DAY_MS));
        // A clock set back does not count as away.
        assert!(!r.too_long_offline(at - 400.0 * DAY_MS));
    }
}
