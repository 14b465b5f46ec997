//! Passwords (Argon2id), session tokens (random, stored as SHA-256 only) and the extractor
//! that authorizes every API call: [`AuthUser`].

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::store::User;
use crate::{AppError, AppState};

/// How long a login lasts: a worker may be without signal for weeks, and the phone keeps
/// working offline with its token meanwhile.
pub const SESSION_DAYS: i64 = 30;

/// The Argon2id hash of a password, as a PHC string (salt and parameters included).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2id with default parameters hashes any password")
        .to_string()
}

/// Whether `password` matches `hash`; a damaged hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of no password, checked when a login does not exist, so that an unknown login
/// takes as long to refuse as a wrong password.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no account has this password"))
}

/// A new session token: 256 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system's random numbers");
    hex(&bytes)
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A password to hand to a person: 16 letters and digits that cannot be mistaken for one
/// another (no 0/O, 1/l/I), in groups of four (about 80 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).expect("the operating system's random numbers");
    let mut out = String::with_capacity(19);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(b % 32)]));
    }
    out
}

/// A login is 2 to 64 lower-case letters, digits, '.', '-' or '_': typed on a phone, shown in
/// logs of who did what, never a place for a name with spaces or an e-mail address.
pub fn check_login(login: &str) -> Result<(), String> {
    let ok = (2..=64).contains(&login.len())
        && login.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the login {login:?} is not valid: 2 to 64 lower-case letters, digits, '.', '-' or '_'"
        ))
    }
}

/// Passwords and stems that guessers try first (`data/common-passwords.txt`).
const COMMON: &str = include_str!("../data/common-passwords.txt");

/// Rows of keyboards (German, Turkish Q and English, French) and of digits and the alphabet:
/// a password made of pieces of these is guessed early.
const ROWS: &[&str] = &[
    "0123456789012345678901234567890",
    "abcdefghijklmnopqrstuvwxyzabc",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopüasdfghjklöäyxcvbnm",
    "qwertyuıopğüasdfghjklşizxcvbnmöç",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
];

/// Whether `password` may be an account's password: at least 10 characters of at least 5
/// different ones, not containing the login, not made of keyboard rows or counting, and not
/// one of the passwords guessers try first, with or without digits and signs around it.
pub fn check_password(password: &str, login: &str) -> Result<(), String> {
    if password.chars().count() < 10 {
        return Err("the password must have at least 10 characters".to_owned());
    }
    if password.len() > 1024 {
        return Err("the password must have at most 1024 bytes".to_owned());
    }
    let lower = password.to_lowercase();
    let distinct: std::collections::HashSet<char> = lower.chars().collect();
    if distinct.len() < 5 {
        return Err("the password must have at least 5 different characters".to_owned());
    }
    let login = login.trim().to_lowercase();
    let reversed: String = login.chars().rev().collect();
    if login.chars().count() >= 3 && (lower.contains(&login) || lower.contains(&reversed)) {
        return Err("the password must not contain the login".to_owned());
    }
    if made_of_rows(&lower) {
        return Err("the password is a keyboard row or a count: it is guessed first".to_owned());
    }
    let stem = lower.trim_matches(|c: char| !c.is_alphabetic());
    let common = |word: &str| COMMON.lines().any(|line| line.trim() == word);
    if common(&lower) || common(stem) {
        return Err("the password is among the first ones guessers try".to_owned());
    }
    Ok(())
}

/// Whether every character of `lower` belongs to a piece of at least 3 characters found in
/// [`ROWS`] (either way round).
fn made_of_rows(lower: &str) -> bool {
    let chars: Vec<char> = lower.chars().collect();
    let rows: Vec<Vec<char>> = ROWS
        .iter()
        .flat_map(|r| [r.chars().collect(), r.chars().rev().collect()])
        .collect();
    let in_a_row = |piece: &[char]| {
        rows.iter()
            .any(|r| r.windows(piece.len()).any(|w| w == piece))
    };
    let mut at = 0;
    while at < chars.len() {
        let longest = (3..=chars.len() - at)
            .rev()
            .find(|&len| in_a_row(&chars[at..at + len]));
        match longest {
            Some(len) => at += len,
            None => return false,
        }
    }
    true
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Milliseconds since 1970 by the server's clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The user of the request's `Authorization: Bearer <token>`. A missing, unknown, expired or
/// revoked token, or a disabled account, is refused with 401 before the handler runs.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user: User,
    pub token_hash: String,
    /// The client's address (for the audit trail).
    pub address: Option<std::net::IpAddr>,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AppError::Unauthorized(
                "this needs a login: no session token was sent",
            ))?;
        let token_hash = token_hash(token);
        let Some(user) = state.store.session_user(&token_hash, now_ms()).await? else {
            // A revoked device is told so, to wipe itself; any other ended session logs in.
            if let Some(device) = state.store.session_device(&token_hash).await?
                && state.store.device_revoked(&device).await?
            {
                return Err(AppError::DeviceRevoked);
            }
            return Err(AppError::Unauthorized(
                "the session has ended (expired, logged out or revoked): log in again",
            ));
        };
        let address = parts
            .extensions
            .get::<crate::client::ClientAddr>()
            .map(|c| c.0);
        Ok(AuthUser {
            user,
            token_hash,
            address,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("kırmızı-elma-2026");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("kırmızı-elma-2026", &hash));
        assert!(!verify_password("kirmizi-elma-2026", &hash));
        assert!(!verify_password("kırmızı-elma-2026", "not a hash"));
        assert_ne!(hash, hash_password("kırmızı-elma-2026"), "salted");
    }

    #[test]
    fn tokens_are_random_and_stored_as_hashes() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a).len(), 64);
    }

    #[test]
    fn logins_are_simple() {
        assert!(check_login("ayse.kaya").is_ok());
        assert!(check_login("demo-worker_2").is_ok());
        for bad in ["", "a", "Ayse", "ayşe", "a b", "a@b.de", &"x".repeat(65)] {
            assert!(check_login(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_obvious_passwords_are_refused() {
        for (bad, why) in [
            ("kurz-123", "10 characters"),
            ("aaaaaaaaaa", "5 different"),
            ("abababababab", "5 different"),
            ("elif.w-sommer", "login"),
            ("w.file-sommer", "login"),
            ("1234567890", "keyboard row"),
            ("0987654321", "keyboard row"),
            ("qwertzuiop", "keyboard row"),
            ("qwertyuiop123", "keyboard row"),
            ("asdfghjkl456", "keyboard row"),
            ("1q2w3e4r5t", "keyboard row"),
            ("Passwort2024!", "guessers"),
            ("!!passwort!!", "guessers"),
            ("galatasaray1905", "guessers"),
            ("Şifre123456", "guessers"),
            ("jelszó12345", "guessers"),
        ] {
            let err = check_password(bad, "elif.w").expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
        for good in [
            "kırmızı-elma-2026",
            "gül-bahçesi-2026",
            "Main-Ufer 7 Brücke",
            "ябълка-и-круша-9",
        ] {
            assert_eq!(check_password(good, "elif.w"), Ok(()), "{good}");
        }
        for _ in 0..200 {
            let generated = generate_password();
            assert_eq!(check_password(&generated, "elif.w"), Ok(()), "{generated}");
        }
    }

    #[test]
    fn generated_passwords_are_readable() {
        let p = generate_password();
        assert_eq!(p.len(), 19, "{p}");
        assert!(p.split('-').all(|g| g.len() == 4), "{p}");
        assert!(!p.contains(['0', 'o', '1', 'l']), "{p}");
        assert_ne!(p, generate_password());
    }
}
