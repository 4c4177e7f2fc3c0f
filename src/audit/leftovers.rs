//! Leftovers: plaintext copies a sealed setup should not have.
//!
//! - A rotated copy of a log (`output.log.1`, `output.log-20261125`, plain or `.gz`) whose stream is sealed:
//!   it lies in a sealed log directory, or the config's segment directory holds sealed segments of its
//!   stream (`seal` names a stream after the file without its rotation suffix, so `output.log.1` belongs to
//!   `output.log`). `seal` removes the plaintext once its segments are durable: a copy still there was not
//!   sealed, or was sealed with `--keep`.
//! - A `gpg --symmetric` file with what looks like its passphrase file in the same directory: a small file
//!   whose name has a word `pass`, `passphrase`, `password`, `passwd`, `pwd`, `pw`, `secret` or `secrets`.
//!   Encryption whose key lies beside it protects nothing. Nothing is decrypted to confirm it.
//! - A file or directory matching one of `logveil.audit.temp_globs` (`/tmp/clawdbot-*`): the bot's temporary
//!   copies, wherever they are (not only under the audited PATHs).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::input::file::split_rotated_name;
use crate::sink::name::SegmentState;
use crate::stream_name::sanitize_stream;

/// The most a passphrase file holds.
const MAX_PASSPHRASE_FILE: u64 = 4096;

/// The stream a rotated copy belongs to, or None if `name` has no rotation suffix.
pub(super) fn rotated_stream(name: &str) -> Option<String> {
    match split_rotated_name(name) {
        (base, true) => Some(sanitize_stream(base)),
        _ => None,
    }
}

/// Streams with a sealed (or truncated) segment directly in `dir`.
pub(super) fn sealed_streams(dir: &Path) -> BTreeSet<String> {
    crate::sink::dir::list(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|l| l.is_file() && l.name.state != SegmentState::Partial)
        .map(|l| l.name.stream)
        .collect()
}

fn is_passphrase_name(name: &str) -> bool {
    const WORDS: [&str; 8] = [
        "pass",
        "passphrase",
        "password",
        "passwd",
        "pwd",
        "pw",
        "secret",
        "secrets",
    ];
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| WORDS.iter().any(|p| w.eq_ignore_ascii_case(p)))
}

/// A passphrase-like file in the directory of `encrypted` (the first by name), if there is one.
pub(super) fn passphrase_file_beside(encrypted: &Path) -> Option<PathBuf> {
    let dir = encrypted.parent()?;
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.path() != encrypted)
        .filter(|e| is_passphrase_name(&e.file_name().to_string_lossy()))
        .filter(|e| {
            fs::symlink_metadata(e.path())
                .is_ok_and(|m| m.is_file() && m.len() > 0 && m.len() <= MAX_PASSPHRASE_FILE)
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Every path matching each glob, with the glob: files, directories and symlinks alike (not followed).
/// Unreadable directories on the way are skipped, as the glob crate does.
pub(super) fn temp_matches(globs: &[String]) -> Vec<(PathBuf, String)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for g in globs {
        let Ok(paths) = glob::glob(g) else {
            continue; // validated with the config
        };
        for p in paths.flatten() {
            let p = std::path::absolute(&p).unwrap_or(p);
            if seen.insert(p.clone()) {
                out.push((p, g.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_names_give_their_stream() {
        assert_eq!(
            rotated_stream("output.log.1").as_deref(),
            Some("output.log")
        );
        assert_eq!(
            rotated_stream("output.log.3.gz").as_deref(),
            Some("output.log")
        );
        assert_eq!(
            rotated_stream("output.log-20261125.gz").as_deref(),
            Some("output.log")
        );
        assert_eq!(rotated_stream("output.log"), None);
        assert_eq!(rotated_stream("output.log.gz"), None);
        assert_eq!(rotated_stream("notes.txt"), None);
    }

    #[test]
    fn passphrase_names() {
        for yes in [
            "pass",
            "backup.pass",
            ".passphrase",
            "gpg-passphrase.txt",
            "PASSWORD",
            "db_passwd",
            "secret.txt",
            "pw",
        ] {
            assert!(is_passphrase_name(yes), "{yes}");
        }
        for no in [
            "bypass.log",
            "passport.txt",
            "compass",
            "secretary.doc",
            "output.log",
        ] {
            assert!(!is_passphrase_name(no), "{no}");
        }
    }
}
