//! Encryption at rest, with the browser's WebCrypto (no JavaScript crypto library).
//!
//! Every record is sealed with AES-256-GCM under the account's data key: a fresh random IV
//! per write, and the store's name, the record's key and its case (when a store indexes by
//! case) as additional data, so that a record cannot be moved under another key or case.
//!
//! The data key is random, made on the phone per account, and exists unwrapped only in
//! memory, as a non-extractable `CryptoKey`. At rest it is wrapped (AES-GCM) by a key derived
//! from the worker's password with PBKDF2-SHA-256.

use std::cell::RefCell;

use js_sys::{Array, Object, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, CryptoKey, Pbkdf2Params, SubtleCrypto};

use super::{Result, StorageError};

/// PBKDF2 iterations for new wraps: OWASP's figure for PBKDF2-HMAC-SHA-256 (2023). A
/// wrap keeps the count it was made with, so this can only grow.
pub const ITERATIONS: u32 = 600_000;
const IV_LEN: usize = 12;
const SALT_LEN: usize = 16;

thread_local! {
    /// The data key of the unlocked account; `None` while the app is locked.
    static KEY: RefCell<Option<CryptoKey>> = const { RefCell::new(None) };
}

/// The data key, or [`StorageError::Locked`].
pub fn key() -> Result<CryptoKey> {
    KEY.with_borrow(Clone::clone).ok_or(StorageError::Locked)
}

/// Whether a data key is in memory.
pub fn unlocked() -> bool {
    KEY.with_borrow(Option::is_some)
}

/// Drops the data key and the PIN from memory: nothing can be read or written until the
/// password unlocks again.
pub fn forget_key() {
    KEY.set(None);
    PIN.set(None);
}

pub(super) fn hold(key: CryptoKey) {
    KEY.set(Some(key));
}

fn crypto() -> Result<web_sys::Crypto> {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or_else(|| StorageError::Unavailable("WebCrypto is not available".to_owned()))
}

fn subtle() -> Result<SubtleCrypto> {
    crypto().map(|c| c.subtle())
}

/// `n` random bytes from the browser's CSPRNG.
pub fn random(n: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; n];
    crypto()?
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(failed)?;
    Ok(bytes)
}

fn failed(e: JsValue) -> StorageError {
    let name = e
        .dyn_ref::<web_sys::DomException>()
        .map_or_else(|| format!("{e:?}"), |d| d.name());
    StorageError::Failed(format!("WebCrypto: {name}"))
}

async fn resolve(
    promise: std::result::Result<Promise, JsValue>,
) -> std::result::Result<JsValue, JsValue> {
    JsFuture::from(promise?).await
}

fn usages(list: &[&str]) -> Array {
    list.iter().map(|u| JsValue::from_str(u)).collect()
}

fn gcm(iv: &[u8], aad: &[u8]) -> AesGcmParams {
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(iv));
    params.set_additional_data_u8_array(&Uint8Array::from(aad));
    params
}

/// A sealed record's parts.
pub struct Sealed {
    pub iv: Vec<u8>,
    pub ct: Vec<u8>,
}

/// Encrypts `plain` under `key` with `aad` bound to it.
pub async fn seal(key: &CryptoKey, aad: &[u8], plain: &[u8]) -> Result<Sealed> {
    let iv = random(IV_LEN)?;
    let promise = subtle()?.encrypt_with_object_and_u8_array(&gcm(&iv, aad), key, plain);
    let ct = resolve(promise).await.map_err(failed)?;
    Ok(Sealed {
        iv,
        ct: Uint8Array::new(&ct).to_vec(),
    })
}

/// Decrypts what [`seal`] made; fails for another key, another `aad` or altered bytes.
pub async fn open(key: &CryptoKey, aad: &[u8], iv: &[u8], ct: &[u8]) -> Result<Vec<u8>> {
    let promise = subtle()?.decrypt_with_object_and_u8_array(&gcm(iv, aad), key, ct);
    let plain = resolve(promise)
        .await
        .map_err(|_| StorageError::Unreadable("a record does not open with this key".to_owned()))?;
    Ok(Uint8Array::new(&plain).to_vec())
}

/// The data key at rest: wrapped by a key derived from the password.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Wrapped {
    pub salt: Vec<u8>,
    pub iterations: u32,
    pub iv: Vec<u8>,
    pub key: Vec<u8>,
}

/// The key-encryption key of `password` (PBKDF2-SHA-256), usable only to wrap and unwrap.
async fn derive(password: &str, salt: &[u8], iterations: u32) -> Result<CryptoKey> {
    let subtle = subtle()?;
    let material = resolve(subtle.import_key_with_str(
        "raw",
        &Uint8Array::from(password.as_bytes()),
        "PBKDF2",
        false,
        &usages(&["deriveKey"]),
    ))
    .await
    .map_err(failed)?;
    let material: CryptoKey = material.unchecked_into();
    let params =
        Pbkdf2Params::new_with_str("PBKDF2", "SHA-256", iterations, &Uint8Array::from(salt));
    let kek = resolve(subtle.derive_key_with_object_and_object(
        &params,
        &material,
        &web_sys::AesDerivedKeyParams::new("AES-GCM", 256),
        false,
        &usages(&["wrapKey", "unwrapKey"]),
    ))
    .await
    .map_err(failed)?;
    Ok(kek.unchecked_into())
}

/// What wraps a data key: says which account and store it belongs to.
const WRAP_AAD: &[u8] = b"cris-field/data-key";

/// A new random data key, wrapped under `password`; the key in memory is non-extractable.
pub async fn new_key(password: &str) -> Result<(CryptoKey, Wrapped)> {
    let subtle = subtle()?;
    // Extractable only long enough to be wrapped; this copy is dropped below.
    let fresh = resolve(subtle.generate_key_with_object(
        &web_sys::AesKeyGenParams::new("AES-GCM", 256),
        true,
        &usages(&["encrypt", "decrypt"]),
    ))
    .await
    .map_err(failed)?;
    let fresh: CryptoKey = fresh.unchecked_into();
    let salt = random(SALT_LEN)?;
    let kek = derive(password, &salt, ITERATIONS).await?;
    let iv = random(IV_LEN)?;
    let wrapped = resolve(subtle.wrap_key_with_object("raw", &fresh, &kek, &gcm(&iv, WRAP_AAD)))
        .await
        .map_err(failed)?;
    let wrapped = Wrapped {
        salt,
        iterations: ITERATIONS,
        iv,
        key: Uint8Array::new(&wrapped).to_vec(),
    };
    let key = unwrap(&kek, &wrapped)
        .await?
        .ok_or_else(|| StorageError::Failed("a key just wrapped does not unwrap".to_owned()))?;
    Ok((key, wrapped))
}

/// The data key of `wrapped`, if `password` is the one it was wrapped with.
pub async fn unwrap_with(password: &str, wrapped: &Wrapped) -> Result<Option<CryptoKey>> {
    let kek = derive(password, &wrapped.salt, wrapped.iterations).await?;
    unwrap(&kek, wrapped).await
}

/// The data key of `wrapped` wrapped again, under `new` instead of `old` (after the account's
/// password changed); `None` if `old` is not the password it was wrapped with.
pub async fn rewrap(old: &str, new: &str, wrapped: &Wrapped) -> Result<Option<Wrapped>> {
    let kek = derive(old, &wrapped.salt, wrapped.iterations).await?;
    // Extractable only long enough to be wrapped again; this copy is dropped here.
    let Some(key) = unwrap_as(&kek, wrapped, true).await? else {
        return Ok(None);
    };
    let salt = random(SALT_LEN)?;
    let new_kek = derive(new, &salt, ITERATIONS).await?;
    let iv = random(IV_LEN)?;
    let again = resolve(subtle()?.wrap_key_with_object("raw", &key, &new_kek, &gcm(&iv, WRAP_AAD)))
        .await
        .map_err(failed)?;
    Ok(Some(Wrapped {
        salt,
        iterations: ITERATIONS,
        iv,
        key: Uint8Array::new(&again).to_vec(),
    }))
}

async fn unwrap(kek: &CryptoKey, wrapped: &Wrapped) -> Result<Option<CryptoKey>> {
    unwrap_as(kek, wrapped, false).await
}

async fn unwrap_as(
    kek: &CryptoKey,
    wrapped: &Wrapped,
    extractable: bool,
) -> Result<Option<CryptoKey>> {
    let promise = subtle()?.unwrap_key_with_u8_array_and_object_and_object(
        "raw",
        &wrapped.key,
        kek,
        &gcm(&wrapped.iv, WRAP_AAD),
        JsValue::from_str("AES-GCM").unchecked_ref::<Object>(),
        extractable,
        &usages(&["encrypt", "decrypt"]),
    );
    match resolve(promise).await {
        Ok(key) => Ok(Some(key.unchecked_into())),
        // The GCM tag does not match: another password.
        Err(e)
            if e.dyn_ref::<web_sys::DomException>()
                .is_some_and(|d| d.name() == "OperationError") =>
        {
            Ok(None)
        }
        Err(e) => Err(failed(e)),
    }
}

/// A PIN as kept on the phone: sealed in `meta` like any record, so a copy of the storage
/// gives nothing to try PINs against.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PinCheck {
    pub salt: Vec<u8>,
    pub iterations: u32,
    pub hash: Vec<u8>,
}

/// PBKDF2 for PINs: a PIN unlocks only a key held in memory, after at most [`PIN_TRIES`]
/// tries, so its hashing guards nothing at rest; it only keeps the PIN out of memory.
const PIN_ITERATIONS: u32 = 100_000;
/// Wrong PINs after which the key leaves memory and only the password unlocks.
pub const PIN_TRIES: u8 = 5;

async fn pin_hash(pin: &str, salt: &[u8], iterations: u32) -> Result<Vec<u8>> {
    let subtle = subtle()?;
    let material = resolve(subtle.import_key_with_str(
        "raw",
        &Uint8Array::from(pin.as_bytes()),
        "PBKDF2",
        false,
        &usages(&["deriveBits"]),
    ))
    .await
    .map_err(failed)?;
    let params =
        Pbkdf2Params::new_with_str("PBKDF2", "SHA-256", iterations, &Uint8Array::from(salt));
    let bits = resolve(subtle.derive_bits_with_object(&params, material.unchecked_ref(), 256))
        .await
        .map_err(failed)?;
    Ok(Uint8Array::new(&bits).to_vec())
}

impl PinCheck {
    pub async fn new(pin: &str) -> Result<Self> {
        let salt = random(SALT_LEN)?;
        let hash = pin_hash(pin, &salt, PIN_ITERATIONS).await?;
        Ok(PinCheck {
            salt,
            iterations: PIN_ITERATIONS,
            hash,
        })
    }

    async fn matches(&self, pin: &str) -> Result<bool> {
        let hash = pin_hash(pin, &self.salt, self.iterations).await?;
        // Every byte compared, whatever the first difference.
        Ok(hash.len() == self.hash.len()
            && hash
                .iter()
                .zip(&self.hash)
                .fold(0u8, |d, (a, b)| d | (a ^ b))
                == 0)
    }
}

/// The PIN of the unlocked account, and while locked the key it may give back.
struct PinGuard {
    check: PinCheck,
    held: Option<CryptoKey>,
    tries_left: u8,
}

thread_local! {
    static PIN: RefCell<Option<PinGuard>> = const { RefCell::new(None) };
}

/// The account's PIN (or none): a lock then keeps the key for it.
pub fn arm_pin(check: Option<PinCheck>) {
    PIN.set(check.map(|check| PinGuard {
        check,
        held: None,
        tries_left: PIN_TRIES,
    }));
}

/// Locks: the key leaves the storage's reach. With a PIN it is held for the PIN alone (in
/// memory, never on disk); without, it is dropped. Says whether a PIN can unlock.
pub fn lock() -> bool {
    let key = KEY.take();
    PIN.with_borrow_mut(|guard| match (guard.as_mut(), key) {
        (Some(guard), Some(key)) => {
            guard.held = Some(key);
            guard.tries_left = PIN_TRIES;
            true
        }
        (Some(guard), None) => guard.held.is_some(),
        (None, _) => false,
    })
}

/// What a PIN did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinUnlock {
    Opened,
    /// Wrong; this many tries are left.
    Wrong(u8),
    /// No key is held for a PIN (too many wrong PINs, or the app was closed): the password.
    PasswordNeeded,
}

/// Unlocks with the PIN, if a key is held for it.
pub async fn unlock_with_pin(pin: &str) -> Result<PinUnlock> {
    let Some(check) = PIN.with_borrow(|g| {
        g.as_ref()
            .filter(|g| g.held.is_some())
            .map(|g| g.check.clone())
    }) else {
        return Ok(PinUnlock::PasswordNeeded);
    };
    let right = check.matches(pin).await?;
    Ok(PIN.with_borrow_mut(|guard| {
        let Some(guard) = guard.as_mut().filter(|g| g.held.is_some()) else {
            return PinUnlock::PasswordNeeded;
        };
        if right {
            if let Some(key) = guard.held.take() {
                KEY.set(Some(key));
            }
            return PinUnlock::Opened;
        }
        guard.tries_left = guard.tries_left.saturating_sub(1);
        if guard.tries_left == 0 {
            guard.held = None;
            PinUnlock::PasswordNeeded
        } else {
            PinUnlock::Wrong(guard.tries_left)
        }
    }))
}

/// Whether a PIN can unlock now.
pub fn pin_can_unlock() -> bool {
    PIN.with_borrow(|g| g.as_ref().is_some_and(|g| g.held.is_some()))
}

/// Whether the unlocked account has a PIN.
pub fn has_pin() -> bool {
    PIN.with_borrow(Option::is_some)
}
