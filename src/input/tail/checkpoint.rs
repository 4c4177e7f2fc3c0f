//! Checkpoints: per source, the file and offset up to which everything is inside finished segments.
//!
//! One small text file per source in the state directory (0700), written atomically: a 0600 temporary
//! file, fsync, rename over the old one, fsync of the directory. It names the file by device, inode and
//! fingerprint (never its content) and records the last segment whose data it covers, so that a segment
//! sealed just before a crash, whose checkpoint was not written, can be recognised at the next start.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::identity::{FileId, Fingerprint};
use super::TailError;
use crate::fsutil::{ensure_private_dir, Dir, FILE_MODE};

const MAGIC: &str = "logveil-tail-checkpoint 1";
const SUFFIX: &str = ".ckpt";

/// A position in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePos {
    pub id: FileId,
    pub fp: Fingerprint,
    pub offset: u64,
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
}

impl Checkpoint {
    fn to_text(&self) -> String {
        let mut s = format!("{MAGIC}\nsource={}\n", self.source.display());
        match &self.file {
            Some(f) => s.push_str(&format!(
                "dev={}\nino={}\nfp_len={}\nfp={}\noffset={}\n",
                f.id.dev,
                f.id.ino,
                f.fp.len,
                f.fp.hex(),
                f.offset
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
        if lines.next() != Some(MAGIC) {
            return Err("not a logveil tail checkpoint (version 1)".into());
        }
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
            Some(FilePos {
                id: FileId {
                    dev: num("dev")?,
                    ino: num("ino")?,
                },
                fp,
                offset: num("offset")?,
            })
        };
        Ok(Checkpoint {
            source: source.to_path_buf(),
            file,
            segment: kv.get("segment").map(|s| s.to_string()),
        })
    }
}

/// The state directory.
#[derive(Debug)]
pub struct CheckpointStore {
    dir: PathBuf,
    /// The directory as opened at start: checkpoints are written through it, never through a symlink.
    handle: Dir,
}

impl CheckpointStore {
    /// Opens (creating it 0700 if needed) the state directory and removes temporary files left by a crash.
    pub fn open(dir: &Path) -> Result<CheckpointStore, TailError> {
        let err = |e: io::Error| TailError::State {
            path: dir.to_path_buf(),
            error: e,
        };
        let existed = dir.is_dir();
        let handle = ensure_private_dir(dir).map_err(|e| TailError::State {
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
        for name in handle.names().map_err(err)? {
            let text = name.to_string_lossy();
            if text.starts_with('.') && text.ends_with(".tmp") {
                let _ = handle.remove(&name);
            }
        }
        Ok(CheckpointStore {
            dir: dir.to_path_buf(),
            handle,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The checkpoint file of a source: readable name plus a digest of the full path (no collisions).
    pub fn path_for(&self, source: &Path) -> PathBuf {
        let digest = Sha256::digest(source.as_os_str().as_encoded_bytes());
        let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let name = source
            .file_name()
            .map(|n| crate::sink::name::sanitize_stream(&n.to_string_lossy()))
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
        self.handle
            .write_atomic(name, ck.to_text().as_bytes(), FILE_MODE, true)
            .map_err(|e| TailError::State { path, error: e })
    }
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
                fp: Fingerprint::of_bytes(b"2026-11-25 first line\n"),
                offset: 123_456,
            }),
            segment: Some("output.log.20261125T154900Z_20261125T164959Z.000007.log.gz.age".into()),
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
        // Only the checkpoint remains: no temporary file.
        assert_eq!(fs::read_dir(&state).unwrap().count(), 1);
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
    fn leftover_temporary_files_are_removed_at_open() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(
            tmp.path().join(".output.log.0011223344556677.ckpt.tmp"),
            b"x",
        )
        .unwrap();
        CheckpointStore::open(tmp.path()).unwrap();
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
