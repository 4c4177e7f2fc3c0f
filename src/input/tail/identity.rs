//! Which file is this? Device + inode, and a fingerprint of its first bytes.
//!
//! The inode alone is not enough: a deleted file's inode is reused by the next file created, and
//! `copytruncate` or an in-place rewrite keeps the inode while the content starts over. The fingerprint is an
//! HMAC-SHA256 (truncated to 128 bits) of the file's first [`FP_LEN`] bytes, or of fewer bytes while the
//! file is shorter; it records how many bytes it covers, so it can be compared with any longer file and
//! upgraded as the file grows. Only the digest is stored, never the bytes, and it is keyed with a random key
//! of the state directory ([`FpKey`]): a plain digest of a log's first line could be reversed by guessing
//! (a phone number is 10^4 guesses away once its prefix is known).

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Bytes covered by a full fingerprint.
pub const FP_LEN: usize = 1024;
/// Bytes just before a checkpoint's offset covered by its second fingerprint: a file truncated and written
/// again past the old offset keeps a constant header (a banner) but not what was at the offset.
pub const BEFORE_LEN: usize = 1024;
/// A fingerprint covering fewer bytes than this identifies a file only together with its device and inode
/// (a short prefix, such as a timestamp, may be shared by several files).
pub const FP_MIN_ALONE: usize = 64;

/// The key of a state directory's fingerprints (32 random bytes, kept in the state directory, 0600).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FpKey {
    /// None: the unkeyed SHA-256 of version-1 checkpoints, only to recognise their files once.
    key: Option<[u8; 32]>,
}

impl FpKey {
    pub fn new(key: [u8; 32]) -> FpKey {
        FpKey { key: Some(key) }
    }

    /// The plain SHA-256 digests of checkpoints written before fingerprints were keyed.
    pub fn legacy() -> FpKey {
        FpKey { key: None }
    }

    fn digest(&self, bytes: &[u8]) -> [u8; 16] {
        let full: [u8; 32] = match &self.key {
            Some(k) => {
                // HMAC takes a key of any length.
                let mut mac = Hmac::<Sha256>::new_from_slice(k).expect("any key length");
                mac.update(bytes);
                mac.finalize().into_bytes().into()
            }
            None => Sha256::digest(bytes).into(),
        };
        let mut d = [0u8; 16];
        d.copy_from_slice(&full[..16]);
        d
    }
}

impl std::fmt::Debug for FpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.key.is_some() {
            "FpKey(..)"
        } else {
            "FpKey(legacy)"
        })
    }
}

/// Device and inode of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    pub fn of(meta: &Metadata) -> FileId {
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// A digest of a file's first `len` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub len: u32,
    pub digest: [u8; 16],
}

impl Fingerprint {
    /// The fingerprint of zero bytes: matches every file, identifies nothing alone.
    pub fn empty() -> Fingerprint {
        Fingerprint {
            len: 0,
            digest: [0; 16],
        }
    }

    pub fn of_bytes(key: &FpKey, bytes: &[u8]) -> Fingerprint {
        if bytes.is_empty() {
            return Fingerprint::empty();
        }
        Fingerprint {
            len: bytes.len() as u32,
            digest: key.digest(bytes),
        }
    }

    /// Fingerprints the first `min(len, FP_LEN)` bytes of `file`; None when the file is shorter than that.
    pub fn read(key: &FpKey, file: &File, len: u64) -> io::Result<Option<Fingerprint>> {
        let len = len.min(FP_LEN as u64) as usize;
        let mut buf = [0u8; FP_LEN];
        match file.read_exact_at(&mut buf[..len], 0) {
            Ok(()) => Ok(Some(Fingerprint::of_bytes(key, &buf[..len]))),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether `file` starts with the bytes this fingerprint was made of (under `key`).
    pub fn matches(&self, key: &FpKey, file: &File) -> io::Result<bool> {
        if self.len == 0 {
            return Ok(true);
        }
        Ok(Fingerprint::read(key, file, u64::from(self.len))?.as_ref() == Some(self))
    }

    /// Fingerprints the `len` bytes of `file` just before `offset` (`len` = min(offset, [`BEFORE_LEN`]));
    /// None when the file is shorter than `offset`.
    pub fn read_before(key: &FpKey, file: &File, offset: u64) -> io::Result<Option<Fingerprint>> {
        let len = offset.min(BEFORE_LEN as u64) as usize;
        let mut buf = [0u8; BEFORE_LEN];
        match file.read_exact_at(&mut buf[..len], offset - len as u64) {
            Ok(()) => Ok(Some(Fingerprint::of_bytes(key, &buf[..len]))),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the bytes of `file` just before `offset` are those this fingerprint was made of.
    pub fn matches_before(&self, key: &FpKey, file: &File, offset: u64) -> io::Result<bool> {
        if self.len == 0 {
            return Ok(true);
        }
        if offset < u64::from(self.len) {
            return Ok(false);
        }
        let mut buf = [0u8; BEFORE_LEN];
        let len = (self.len as usize).min(BEFORE_LEN);
        match file.read_exact_at(&mut buf[..len], offset - len as u64) {
            Ok(()) => Ok(Fingerprint::of_bytes(key, &buf[..len]) == *self),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether this fingerprint can identify a file without its device and inode.
    pub fn identifies_alone(&self) -> bool {
        self.len as usize >= FP_MIN_ALONE
    }

    pub fn is_full(&self) -> bool {
        self.len as usize >= FP_LEN
    }

    pub fn hex(&self) -> String {
        self.digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(len: u32, hex: &str) -> Option<Fingerprint> {
        if hex.len() != 32 || len as usize > FP_LEN {
            return None;
        }
        let mut digest = [0u8; 16];
        for (i, d) in digest.iter_mut().enumerate() {
            *d = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Fingerprint { len, digest })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_fingerprint_matches_a_longer_file_with_the_same_start_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a");
        std::fs::write(&p, b"first line\n").unwrap();
        let f = File::open(&p).unwrap();
        let k = FpKey::new([7; 32]);
        let fp = Fingerprint::read(&k, &f, 11).unwrap().unwrap();
        assert_eq!(fp.len, 11);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"second line\n")
            .unwrap();
        assert!(fp.matches(&k, &f).unwrap(), "growing keeps the prefix");
        std::fs::write(&p, b"other line\n").unwrap();
        assert!(!fp.matches(&k, &f).unwrap(), "rewritten in place");
        std::fs::write(&p, b"first").unwrap();
        assert!(!fp.matches(&k, &f).unwrap(), "shorter than the fingerprint");
        let other = FpKey::new([8; 32]);
        std::fs::write(&p, b"first line\n").unwrap();
        assert!(fp.matches(&k, &f).unwrap());
        assert!(
            !fp.matches(&other, &f).unwrap(),
            "another key, another fingerprint"
        );
    }

    #[test]
    fn fingerprints_cover_at_most_fp_len_bytes_and_round_trip_as_hex() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a");
        let mut data = vec![b'x'; FP_LEN];
        std::fs::write(&p, &data).unwrap();
        let k = FpKey::new([1; 32]);
        let fp = Fingerprint::read(&k, &File::open(&p).unwrap(), 1 << 20)
            .unwrap()
            .unwrap();
        assert!(fp.is_full());
        data.extend_from_slice(b"different tail");
        std::fs::write(&p, &data).unwrap();
        assert!(fp.matches(&k, &File::open(&p).unwrap()).unwrap());
        assert_eq!(Fingerprint::from_hex(fp.len, &fp.hex()), Some(fp.clone()));
        assert_eq!(Fingerprint::from_hex(fp.len, "zz"), None);
        assert!(Fingerprint::empty()
            .matches(&k, &File::open(&p).unwrap())
            .unwrap());
        assert!(!Fingerprint::empty().identifies_alone());
    }
}
