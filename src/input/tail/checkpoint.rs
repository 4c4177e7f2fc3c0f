//! Checkpoints: per source, the file and offset up to which everything is inside finished segments.
//!
//! One small text file per source in the state directory (0700), written atomically: a 0600 temporary
//! file, fsync, rename over the old one, fsync of the directory. It names the file by device, inode and
//! fingerprint (never its content: the fingerprint is keyed with the directory's random `fingerprint.key`,
//! 0600) and records the last segment whose data it covers and the directory that segment is in, so that a
//! segment sealed just before a crash, whose checkpoint was not written, can be recognised at the next
//! start, and a checkpoint written for another segment directory is not trusted.
//!
//! One tail per state directory: the store holds an exclusive lock on the directory's `.tail.lock` while
//! open.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::identity::{FileId, Fingerprint, FpKey};
use super::TailError;
use crate::fsutil::{try_lock_exclusive, Dir, FILE_MODE};

const MAGIC: &str = "logveil-tail-checkpoint 2";
/// Checkpoints before fingerprints were keyed: read (their fingerprints are plain SHA-256), never written.
const MAGIC_V1: &str = "logveil-tail-checkpoint 1";
const SUFFIX: &str = ".ckpt";
/// The fingerprint key of a state directory.
pub const KEY_FILE: &str = "fingerprint.key";
/// The lock file of a state directory (one tail at a time).
pub const LOCK_FILE: &str = ".tail.lock";

/// A position in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePos {
    pub id: FileId,
    /// The file's first bytes.
    pub fp: Fingerprint,
    pub offset: u64,
    /// The bytes just before `offset` (empty: not known, not checked).
    pub before: Fingerprint,
}

/// What is durable for one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The source path (informational; the file name is derived from it).
    pub source: PathBuf,
    /// Everything before this position is sealed. None: the source's file did not exist yet, nothing read.
    pub file: Option<FilePos>,
    /// File name of the last finished segment this checkpoint covers (None: none yet).
    pub segment: Option<String>,
    /// The directory the segments of this source are written to (None: not recorded, version 1).
    pub out: Option<PathBuf>,
    /// Whether `file`'s fingerprint is keyed with the state directory's key (false: a version-1
    /// checkpoint, whose fingerprint is a plain SHA-256).
    pub keyed: bool,
}

impl Checkpoint {
    fn to_text(&self) -> String {
        let mut s = format!("{MAGIC}\nsource={}\n", self.source.display());
        if let Some(out) = &self.out {
            s.push_str(&format!("out={}\n", out.display()));
        }
        match &self.file {
            Some(f) => s.push_str(&format!(
                "dev={}\nino={}\nfp_len={}\nfp={}\noffset={}\nbefore_len={}\nbefore={}\n",
                f.id.dev,
                f.id.ino,
                f.fp.len,
                f.fp.hex(),
                f.offset,
                f.before.len,
                f.before.hex()
            )),
            None => s.push_str("file=none\n"),
        }
        if let Some(seg) = &self.segment {
            s.push_str(&format!("segment={seg}\n"));
        }
        s
    }

    fn parse(text: &str, source: &Path) -> Result<Checkpoint, String> {
        let mut lines = text.lines();
        let keyed = match lines.next() {
            Some(MAGIC) => true,
            Some(MAGIC_V1) => false,
            _ => return Err("not a logveil tail checkpoint (version 1 or 2)".into()),
        };
        let mut kv = std::collections::BTreeMap::new();
        for line in lines {
            let (k, v) = line
                .split_once('=')
                .ok_or_else(|| format!("bad line {line:?}"))?;
            kv.insert(k, v);
        }
        let num = |k: &str| -> Result<u64, String> {
            kv.get(k)
                .ok_or_else(|| format!("missing {k}"))?
                .parse::<u64>()
                .map_err(|e| format!("{k}: {e}"))
        };
        let file = if kv.get("file") == Some(&"none") {
            None
        } else {
            let fp_len = u32::try_from(num("fp_len")?).map_err(|e| format!("fp_len: {e}"))?;
            let fp = Fingerprint::from_hex(fp_len, kv.get("fp").copied().unwrap_or(""))
                .ok_or("fp: not a fingerprint")?;
            let before = match kv.get("before") {
                Some(hex) => {
                    let len = u32::try_from(num("before_len")?)
                        .map_err(|e| format!("before_len: {e}"))?;
                    Fingerprint::from_hex(len, hex).ok_or("before: not a fingerprint")?
                }
                None => Fingerprint::empty(),
            };
            Some(FilePos {
                id: FileId {
                    dev: num("dev")?,
                    ino: num("ino")?,
                },
                fp,
                offset: num("offset")?,
                before,
            })
        };
        Ok(Checkpoint {
            source: source.to_path_buf(),
            file,
            segment: kv.get("segment").map(|s| s.to_string()),
            out: kv.get("out").map(PathBuf::from),
            keyed,
        })
    }
}

/// The state directory, locked while this is alive.
#[derive(Debug)]
pub struct CheckpointStore {
    dir: PathBuf,
    key: FpKey,
    /// The directory as opened at start: checkpoints are written through it, never through a symlink.
    handle: Dir,
    /// The state directory's lock file ([`LOCK_FILE`]), flocked: a second tail on the same state
    /// directory is refused.
    _lock: File,
}

impl CheckpointStore {
    /// Opens (creating it 0700 if needed) the state directory and removes temporary files left by a crash.
    pub fn open(dir: &Path) -> Result<CheckpointStore, TailError> {
        let err = |e: io::Error| TailError::State {
            path: dir.to_path_buf(),
            error: e,
        };
        let existed = dir.is_dir();
        // What a root run creates here stays usable by the directory's owner (crate::ownership).
        let handle = crate::ownership::ensure_private_dir(dir).map_err(|e| TailError::State {
            path: e.path,
            error: e.error,
        })?;
        if existed {
            let mode = handle.mode().map_err(err)?;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %dir.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "tail: state directory is readable by others; checkpoints name log files (chmod 700 it)"
                );
            }
        }
        let lock = lock_state_dir(&handle)?;
        for name in handle.names().map_err(err)? {
            let text = name.to_string_lossy();
            if text.starts_with('.') && text.ends_with(".tmp") {
                let _ = handle.remove(&name);
            }
        }
        let key = load_or_create_key(&handle)?;
        Ok(CheckpointStore {
            dir: dir.to_path_buf(),
            key,
            handle,
            _lock: lock,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of this directory's fingerprints.
    pub fn key(&self) -> FpKey {
        self.key
    }

    /// The checkpoint file of a source: readable name plus a digest of the full path (no collisions).
    pub fn path_for(&self, source: &Path) -> PathBuf {
        let digest = Sha256::digest(source.as_os_str().as_encoded_bytes());
        let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let name = source
            .file_name()
            .map(|n| crate::stream_name::sanitize_stream(&n.to_string_lossy()))
            .unwrap_or_else(|| "source".into());
        self.dir.join(format!("{name}.{short}{SUFFIX}"))
    }

    pub fn load(&self, source: &Path) -> Result<Option<Checkpoint>, TailError> {
        let path = self.path_for(source);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(TailError::State { path, error: e }),
        };
        Checkpoint::parse(&text, source)
            .map(Some)
            .map_err(|reason| TailError::BadCheckpoint { path, reason })
    }

    /// Writes a checkpoint durably: temporary file (0600, `O_EXCL`, never through a symlink), fsync,
    /// rename, fsync of the directory.
    pub fn save(&self, ck: &Checkpoint) -> Result<(), TailError> {
        let path = self.path_for(&ck.source);
        let name = path.file_name().unwrap_or_default();
        crate::ownership::write_atomic(
            &self.handle,
            name,
            ck.to_text().as_bytes(),
            FILE_MODE,
            true,
            "checkpoint",
        )
        .map_err(|e| TailError::State { path, error: e })
    }
}

/// Takes the state directory's lock ([`LOCK_FILE`] in it, kept after use), without waiting: another tail
/// holding it is an error naming the directory. A lock file rather than a lock on the directory itself:
/// the metrics file may live in this directory, and its writer locks the directory it is in.
fn lock_state_dir(dir: &Dir) -> Result<File, TailError> {
    let name = OsStr::new(LOCK_FILE);
    let err = |error: io::Error| TailError::State {
        path: dir.join(LOCK_FILE),
        error,
    };
    let (lock, _) = dir.open_lock(name, FILE_MODE).map_err(err)?;
    crate::ownership::adopt_or_warn(dir, &lock, name, "state directory's lock file");
    match try_lock_exclusive(&lock) {
        Ok(true) => Ok(lock),
        Ok(false) => Err(TailError::StateLocked {
            path: dir.path().to_path_buf(),
        }),
        Err(e) => Err(err(e)),
    }
}

/// Reads the state directory's fingerprint key, or makes one (32 random bytes, hex, 0600) when there is
/// none and no keyed checkpoint needs it.
fn load_or_create_key(dir: &Dir) -> Result<FpKey, TailError> {
    let path = dir.join(KEY_FILE);
    let name = OsStr::new(KEY_FILE);
    let bad = |reason: &str| TailError::BadCheckpoint {
        path: path.clone(),
        reason: reason.to_string(),
    };
    match dir.read(name) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let hex = text.trim();
            let mut key = [0u8; 32];
            if hex.len() != 64 || !hex.is_ascii() {
                return Err(bad("not a fingerprint key (64 hex digits)"));
            }
            for (i, b) in key.iter_mut().enumerate() {
                *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                    .map_err(|_| bad("not a fingerprint key (64 hex digits)"))?;
            }
            return Ok(FpKey::new(key));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(TailError::State { path, error: e }),
    }
    if keyed_checkpoint_exists(dir) {
        return Err(bad(
            "missing: the checkpoints here were written with it and cannot be checked without it",
        ));
    }
    let mut key = [0u8; 32];
    rustix::rand::getrandom(&mut key, rustix::rand::GetRandomFlags::empty()).map_err(|e| {
        TailError::State {
            path: path.clone(),
            error: e.into(),
        }
    })?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    crate::ownership::write_atomic(
        dir,
        name,
        format!("{hex}\n").as_bytes(),
        FILE_MODE,
        false,
        "fingerprint key",
    )
    .map_err(|error| TailError::State { path, error })?;
    Ok(FpKey::new(key))
}

fn keyed_checkpoint_exists(dir: &Dir) -> bool {
    dir.names().into_iter().flatten().any(|name| {
        name.to_string_lossy().ends_with(SUFFIX)
            && dir
                .read(&name)
                .is_ok_and(|t| t.split(|&b| b == b'\n').next() == Some(MAGIC.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn sample(source: &Path) -> Checkpoint {
        Checkpoint {
            source: source.to_path_buf(),
            file: Some(FilePos {
                id: FileId { dev: 2049, ino: 77 },
                fp: Fingerprint::of_bytes(&FpKey::new([3; 32]), b"2026-11-25 first line\n"),
                offset: 123_456,
                before: Fingerprint::of_bytes(&FpKey::new([3; 32]), b"the last line read\n"),
            }),
            segment: Some("output.log.20261125T154900Z_20261125T164959Z.000007.log.gz.age".into()),
            out: Some(PathBuf::from("/var/lib/logveil/segments")),
            keyed: true,
        }
    }

    #[test]
    fn checkpoints_round_trip_and_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join("state/deeper");
        let store = CheckpointStore::open(&state).unwrap();
        let mode = fs::metadata(&state).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let src = Path::new("/var/log/clawdbot/output.log");
        assert_eq!(store.load(src).unwrap(), None);
        let ck = sample(src);
        store.save(&ck).unwrap();
        assert_eq!(store.load(src).unwrap(), Some(ck.clone()));
        let mode = fs::metadata(store.path_for(src))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let none = Checkpoint {
            file: None,
            segment: None,
            ..ck
        };
        store.save(&none).unwrap();
        assert_eq!(store.load(src).unwrap(), Some(none));
        // The checkpoint, the key and the lock file remain: no temporary file.
        assert_eq!(fs::read_dir(&state).unwrap().count(), 3);
        let key = state.join(KEY_FILE);
        assert_eq!(
            fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let first_key = store.key();
        drop(store);
        let again = CheckpointStore::open(&state).unwrap();
        assert_eq!(again.key(), first_key, "the key is kept");
        drop(again);
        fs::remove_file(&key).unwrap();
        let err = CheckpointStore::open(&state).unwrap_err().to_string();
        assert!(err.contains(KEY_FILE) && err.contains("missing"), "{err}");
    }

    #[test]
    fn sources_with_the_same_file_name_get_different_checkpoints() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(tmp.path()).unwrap();
        assert_ne!(
            store.path_for(Path::new("/a/output.log")),
            store.path_for(Path::new("/b/output.log"))
        );
    }

    #[test]
    fn a_corrupt_checkpoint_is_an_error_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(tmp.path()).unwrap();
        let src = Path::new("/x/output.log");
        let ck = sample(src);
        store.save(&ck).unwrap();
        let text = fs::read_to_string(store.path_for(src)).unwrap();
        fs::write(store.path_for(src), text.replace("offset=", "offset=x")).unwrap();
        let err = store.load(src).unwrap_err().to_string();
        assert!(err.starts_with("tail: "), "{err}");
        assert!(err.contains(".ckpt"), "{err}");
        assert!(err.contains("offset"), "{err}");
    }

    #[test]
    fn one_store_per_directory_at_a_time_and_version_1_is_still_read() {
        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(tmp.path()).unwrap();
        let err = CheckpointStore::open(tmp.path()).unwrap_err();
        assert!(matches!(err, TailError::StateLocked { .. }), "{err}");
        let src = Path::new("/x/output.log");
        let v1 = "logveil-tail-checkpoint 1\nsource=/x/output.log\ndev=1\nino=2\nfp_len=4\n\
                  fp=00112233445566778899aabbccddeeff\noffset=4\nsegment=s\n";
        fs::write(store.path_for(src), v1).unwrap();
        let ck = store.load(src).unwrap().unwrap();
        assert!(!ck.keyed && ck.out.is_none());
        drop(store);
        CheckpointStore::open(tmp.path()).unwrap();
    }

    #[test]
    fn leftover_temporary_files_are_removed_at_open() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(
            tmp.path().join(".output.log.0011223344556677.ckpt.tmp"),
            b"x",
        )
        .unwrap();
        CheckpointStore::open(tmp.path()).unwrap();
        let mut left: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(left, [LOCK_FILE, KEY_FILE]);
    }
}
