//! Record and operation ids: UUIDv7 (RFC 9562), made on the phone without asking anyone.
//!
//! The first 48 bits are the Unix time in milliseconds, so ids sort by creation time; the
//! other 74 bits are random. The caller supplies both, so that this stays free of I/O: the
//! phone uses `crypto.getRandomValues`, the server its operating system's generator.

/// A UUIDv7 in its usual text form (`0190f7d2-8a3c-7e41-9b2d-4c5e6f708192`).
pub fn uuid_v7(unix_ms: u64, random: [u8; 10]) -> String {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&random);
    bytes[6] = 0x70 | (bytes[6] & 0x0f); // version 7
    text_of(bytes)
}

/// A random UUID (version 4) from 16 random bytes: `uuid()` in forms, as ODK makes it.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    bytes[6] = 0x40 | (bytes[6] & 0x0f); // version 4
    text_of(bytes)
}

fn text_of(mut bytes: [u8; 16]) -> String {
    bytes[8] = 0x80 | (bytes[8] & 0x3f); // variant 10xx
    let mut text = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(char::from(HEX[usize::from(b >> 4)]));
        text.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    text
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `text` is a UUID in lower-case text form (any version); ids from outside (a URL,
/// a synced record) are checked with it before use.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_the_layout_of_rfc_9562() {
        let id = uuid_v7(0x0190_f7d2_8a3c, [0xff; 10]);
        assert_eq!(id, "0190f7d2-8a3c-7fff-bfff-ffffffffffff");
        assert!(is_uuid(&id));
        let id = uuid_v7(1, [0; 10]);
        assert_eq!(id, "00000000-0001-7000-8000-000000000000");
        let random = uuid_v4([0xff; 16]);
        assert_eq!(random, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert!(is_uuid(&random));
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn sorts_by_time_whatever_the_random_part() {
        let earlier = uuid_v7(1_790_000_000_000, [0xff; 10]);
        let later = uuid_v7(1_790_000_000_001, [0; 10]);
        assert!(earlier < later);
    }

    #[test]
    fn recognises_only_well_formed_ids() {
        assert!(!is_uuid(""));
        assert!(!is_uuid("0190F7D2-8A3C-7FFF-BFFF-FFFFFFFFFFFF"));
        assert!(!is_uuid("0190f7d2-8a3c-7fff-bfff-fffffffffff"));
        assert!(!is_uuid("0190f7d2x8a3c-7fff-bfff-ffffffffffff"));
        assert!(!is_uuid("../../etc/passwd-aaaaaaaaaaaaaaaaaaaaaa"));
    }
}
