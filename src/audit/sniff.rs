//! What a file is, from its name and first bytes: config, key, compressed, SQLite, and age format
//! arithmetic.

use std::io::{self, Read};

/// age payload: 16-byte nonce, then chunks of 64 KiB plaintext + 16-byte tag.
pub(super) const AGE_NONCE: u64 = 16;
const AGE_TAG: u64 = 16;
const AGE_CHUNK: u64 = (64 << 10) + AGE_TAG;

/// Whether `payload` (nonce included) is a length an age STREAM payload can have: a nonce, then chunks of
/// 64 KiB + tag, the last one shorter, and empty only when it is the only one.
pub(super) fn age_payload_len_ok(payload: u64) -> bool {
    let Some(chunks) = payload.checked_sub(AGE_NONCE) else {
        return false;
    };
    if chunks < AGE_TAG {
        return false;
    }
    let last = chunks % AGE_CHUNK;
    if last == 0 {
        return true; // the last chunk is full
    }
    last > AGE_TAG || (last == AGE_TAG && chunks == AGE_TAG)
}

pub(super) fn is_config(name: &str, head: &[u8]) -> bool {
    (name.ends_with(".yaml") || name.ends_with(".yml"))
        && head
            .split(|&b| b == b'\n')
            .any(|l| l.starts_with(b"privacy:") || l.starts_with(b"logveil:"))
}

pub(super) fn is_key(name: &str, head: &[u8]) -> bool {
    const SSH: [&str; 6] = [
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "id_ecdsa_sk",
        "id_ed25519_sk",
    ];
    if SSH.contains(&name) || name.ends_with(".key") {
        return true;
    }
    // The first line that is not a comment or blank starts the key.
    let first = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .find(|l| !l.is_empty() && !l.starts_with(b"#"));
    first.is_some_and(|l| {
        l.starts_with(b"AGE-SECRET-KEY-")
            || (l.starts_with(b"-----BEGIN ") && l.ends_with(b"PRIVATE KEY-----"))
    })
}

pub(super) fn compressed_format(head: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 5] = [
        (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz"),
        (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
        (b"BZh", "bzip2"),
        (b"PK\x03\x04", "zip"),
        (&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c], "7z"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| head.starts_with(m))
        .map(|(_, n)| *n)
}

/// The first 16 bytes of every SQLite 3 database file that is not encrypted (SQLCipher encrypts the
/// whole first page, header included).
pub(super) const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Which part of a SQLite database a file name is, besides the database itself: (database file name,
/// part) for `NAME-wal`, `NAME-journal` and `NAME-shm`.
pub(super) fn sqlite_companion(name: &str) -> Option<(&str, &'static str)> {
    for (suffix, part) in [("-wal", "wal"), ("-journal", "journal"), ("-shm", "shm")] {
        if let Some(base) = name.strip_suffix(suffix).filter(|b| !b.is_empty()) {
            return Some((base, part));
        }
    }
    None
}

pub(super) struct Counting<R> {
    pub(super) inner: R,
    pub(super) n: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_payload_lengths() {
        assert!(!age_payload_len_ok(0));
        assert!(!age_payload_len_ok(16));
        assert!(
            age_payload_len_ok(32),
            "empty plaintext: one empty final chunk"
        );
        assert!(age_payload_len_ok(16 + 16 + 100));
        assert!(age_payload_len_ok(16 + AGE_CHUNK));
        assert!(age_payload_len_ok(16 + AGE_CHUNK + 17));
        assert!(
            !age_payload_len_ok(16 + AGE_CHUNK + 16),
            "empty final chunk after a full one"
        );
        assert!(!age_payload_len_ok(16 + AGE_CHUNK + 5));
    }

    #[test]
    fn key_and_config_files_are_recognised() {
        assert!(is_key("id_ed25519", b""));
        assert!(!is_key("id_ed25519.pub", b"ssh-ed25519 AAAA"));
        assert!(is_key(
            "x.txt",
            b"# created: 2026\n# public key: age1xyz\nAGE-SECRET-KEY-1ABC\n"
        ));
        assert!(is_key("k", b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n"));
        // A log line that quotes a key is PII-scanned, not treated as a key file.
        assert!(!is_key(
            "bot.log",
            b"12:00 got -----BEGIN PRIVATE KEY-----\n"
        ));
        assert!(is_config(
            "logveil.yaml",
            b"# x\nprivacy:\n  pii_detection: {}\n"
        ));
        assert!(!is_config("other.yaml", b"services:\n  web: {}\n"));
        assert!(!is_config("privacy.txt", b"privacy:\n"));
    }

    #[test]
    fn sqlite_companions_are_named_after_their_database() {
        assert_eq!(sqlite_companion("chat.db-wal"), Some(("chat.db", "wal")));
        assert_eq!(
            sqlite_companion("chat.db-journal"),
            Some(("chat.db", "journal"))
        );
        assert_eq!(sqlite_companion("chat.db-shm"), Some(("chat.db", "shm")));
        assert_eq!(sqlite_companion("-wal"), None);
        assert_eq!(sqlite_companion("chat.db"), None);
    }
}
