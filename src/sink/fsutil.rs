//! File-system helpers for private output: directories 0700 and files 0600 whatever the umask, durable
//! renames (fsync of the file, then of its directory), and a per-stream lock.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::error::SinkError;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and any missing parents as 0700 (chmod after mkdir, so the umask cannot widen or narrow
/// it). An existing directory is left as it is; a warning says when others can read it.
pub fn ensure_private_dir(dir: &Path) -> Result<(), SinkError> {
    let mut missing: Vec<PathBuf> = Vec::new();
    let mut cur = Some(dir);
    while let Some(p) = cur {
        if p.as_os_str().is_empty() {
            break;
        }
        match fs::metadata(p) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(SinkError::CreateDir {
                    path: p.to_path_buf(),
                    source: io::Error::new(io::ErrorKind::AlreadyExists, "not a directory"),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(p.to_path_buf()),
            Err(e) => {
                return Err(SinkError::CreateDir {
                    path: p.to_path_buf(),
                    source: e,
                })
            }
        }
        cur = p.parent();
    }
    if missing.is_empty() {
        if let Ok(m) = fs::metadata(dir) {
            if m.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = format!("{:o}", m.permissions().mode() & 0o7777),
                    "segment: output directory is accessible by group or others; 0700 is recommended"
                );
            }
        }
    }
    for p in missing.iter().rev() {
        match DirBuilder::new().mode(DIR_MODE).create(p) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && p.is_dir() => continue,
            Err(e) => {
                return Err(SinkError::CreateDir {
                    path: p.clone(),
                    source: e,
                })
            }
        }
        fs::set_permissions(p, Permissions::from_mode(DIR_MODE)).map_err(|e| {
            SinkError::CreateDir {
                path: p.clone(),
                source: e,
            }
        })?;
    }
    Ok(())
}

/// Creates a new file (never an existing one) with mode 0600, whatever the umask.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)?;
    f.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(f)
}

/// fsync of a directory, so that a rename or an unlink in it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The directory a path is in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Takes the exclusive lock of stream `stream` in `dir` (`DIR/.STREAM.lock`, 0600, kept after use):
/// two writers of one stream would rename each other's `.partial` and reuse sequence numbers. The lock is
/// released when the returned file is closed, also when the process dies.
pub fn lock_stream(dir: &Path, stream: &str) -> Result<File, SinkError> {
    let path = dir.join(super::name::lock_file_name(stream));
    let file = match OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return Err(SinkError::DirNotWritable {
                path: dir.to_path_buf(),
                source: e,
            })
        }
        Err(e) => return Err(SinkError::io("create the lock file", path, e)),
    };
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(SinkError::Locked {
            stream: stream.to_string(),
            dir: dir.to_path_buf(),
            lock: path,
        }),
        Err(e) => Err(SinkError::io("lock", path, e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_directories_and_files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/c");
        ensure_private_dir(&dir).unwrap();
        for d in [tmp.path().join("a"), tmp.path().join("a/b"), dir.clone()] {
            let mode = fs::metadata(&d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
        let f = dir.join("x");
        create_private_file(&f).unwrap();
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(
            create_private_file(&f).is_err(),
            "an existing file is never reused"
        );
    }

    #[test]
    fn a_file_in_the_way_of_the_directory_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"").unwrap();
        let err = ensure_private_dir(&file.join("sub")).unwrap_err();
        assert!(err.to_string().contains(&*file.to_string_lossy()), "{err}");
    }

    #[test]
    fn a_stream_lock_is_exclusive_until_released() {
        let tmp = tempfile::tempdir().unwrap();
        let held = lock_stream(tmp.path(), "s").unwrap();
        let err = lock_stream(tmp.path(), "s").unwrap_err();
        assert!(matches!(err, SinkError::Locked { .. }), "{err}");
        lock_stream(tmp.path(), "other").unwrap();
        drop(held);
        lock_stream(tmp.path(), "s").unwrap();
    }
}
