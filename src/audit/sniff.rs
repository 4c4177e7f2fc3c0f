//! What a file is, from its name and first bytes: config, key, compressed, SQLite, OpenPGP, and age format
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

/// Whether `head` begins an OpenPGP message whose first packet is a symmetric-key encrypted session key
/// (what `gpg --symmetric` writes first), binary or ASCII-armored.
pub(super) fn is_gpg_symmetric(head: &[u8]) -> bool {
    const ARMOR: &[u8] = b"-----BEGIN PGP MESSAGE-----";
    if head.starts_with(ARMOR) {
        // Armor headers (`Version: ...`) end at the first blank line; the base64 body follows.
        let text = head
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let body = text
            .skip(1)
            .skip_while(|l| !l.is_empty())
            .find(|l| !l.is_empty());
        return body
            .and_then(|l| base64_prefix(l, 8))
            .is_some_and(|b| skesk(&b));
    }
    skesk(head)
}

/// Whether `b` starts with an OpenPGP packet of tag 3 (symmetric-key encrypted session key) of version 4
/// (RFC 4880), 5 (GnuPG's AEAD draft) or 6 (RFC 9580).
fn skesk(b: &[u8]) -> bool {
    let Some(&h) = b.first() else {
        return false;
    };
    if h & 0x80 == 0 {
        return false;
    }
    let (tag, len_octets) = if h & 0x40 != 0 {
        // New format: the tag in 6 bits, a length of 1, 2 or 5 octets.
        let len_octets = match b.get(1) {
            Some(0..=191) | Some(224..=254) => 1,
            Some(192..=223) => 2,
            Some(255) => 5,
            None => return false,
        };
        (h & 0x3f, len_octets)
    } else {
        // Old format: the tag in 4 bits, the length type in 2.
        let len_octets = match h & 3 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => 0,
        };
        ((h >> 2) & 0x0f, len_octets)
    };
    tag == 3 && matches!(b.get(1 + len_octets), Some(4..=6))
}

/// Decodes the first `chars` base64 characters of `line` (a multiple of 4), or None if they are not base64.
fn base64_prefix(line: &[u8], chars: usize) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(chars / 4 * 3);
    for quad in line.get(..chars)?.chunks(4) {
        let mut n = 0u32;
        for &c in quad {
            n = n << 6 | value(c)?;
        }
        out.extend_from_slice(&n.to_be_bytes()[1..]);
    }
    Some(out)
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

    #[test]
    fn openpgp_symmetric_packets_are_recognised_in_both_formats() {
        // Old-format tag 3, one length octet, version 4 (what gpg 2.2 writes), and new-format (0xc3).
        assert!(is_gpg_symmetric(&[0x8c, 0x0d, 0x04, 0x09, 0x03]));
        assert!(is_gpg_symmetric(&[0xc3, 0x0d, 0x04, 0x09]));
        assert!(is_gpg_symmetric(&[0xc3, 0xc0, 0x10, 0x06]));
        // A public-key encrypted session key (tag 1) is not symmetric; text is not OpenPGP.
        assert!(!is_gpg_symmetric(&[0x85, 0x01, 0x0c, 0x03]));
        assert!(!is_gpg_symmetric(&[0xc1, 0x0d, 0x03]));
        assert!(!is_gpg_symmetric(b"plain text"));
        assert!(!is_gpg_symmetric(&[0x8c, 0x0d, 0x02]));
        // Armored: 0x8c 0x0d 0x04 0x09 0x03 0x08 in base64 is "jA0ECQMI".
        assert!(is_gpg_symmetric(
            b"-----BEGIN PGP MESSAGE-----\n\njA0ECQMIabcd\n=abcd\n-----END PGP MESSAGE-----\n"
        ));
        assert!(is_gpg_symmetric(
            b"-----BEGIN PGP MESSAGE-----\r\nComment: x\r\n\r\njA0ECQMIabcd\r\n"
        ));
        // 0x85 0x01 0x0c ... ("hQEMA...") is a public-key message.
        assert!(!is_gpg_symmetric(
            b"-----BEGIN PGP MESSAGE-----\n\nhQEMA1234567\n"
        ));
    }
}
