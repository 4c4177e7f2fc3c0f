//! File-system primitives for the files logveil writes itself: segments and their `.partial`s, stream
//! locks, checkpoints, the privacy log, the metrics file, keygen's identity.
//!
//! logveil often runs as root (the logrotate hook, a manual `retention`) in directories that a less trusted
//! user can write (the service user's segment directory, a metrics directory). So:
//!
//! - Files are created relative to an opened directory handle ([`Dir`]) with
//!   `openat(O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC)`; existing ones are opened with `O_NOFOLLOW` and must be
//!   regular files; renames and removals are `renameat`/`unlinkat` on the same handle. A symlink planted
//!   at one of logveil's names is never written through, never chmodded: it is an error naming the path
//!   ([`is_symlink_refusal`]). A directory swapped in the path after the handle was opened redirects
//!   nothing either.
//! - Modes are what logveil means whatever the umask: every create is followed by `fchmod` (directories
//!   0700, files 0600 unless a caller asks for another mode).
//! - [`Dir::write_atomic`] replaces (or creates) a file atomically: a temporary created `O_EXCL` in the
//!   same directory, written, fsynced, renamed into place, then the directory fsynced. Readers see the old
//!   content or the new one, never half; a crash leaves at most a `.NAME.PID.N.tmp`.

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

/// Mode of the directories logveil creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the files logveil creates (unless said otherwise).
pub const FILE_MODE: u32 = 0o600;

/// The error payload for a symlink found where logveil expects its own file.
#[derive(Debug)]
struct SymlinkInTheWay;

impl fmt::Display for SymlinkInTheWay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("is a symbolic link; logveil never writes through one (remove it)")
    }
}

impl std::error::Error for SymlinkInTheWay {}

fn symlink_refused() -> io::Error {
    io::Error::other(SymlinkInTheWay)
}

/// Whether `e` says that a symlink was found where logveil expected its own file (and was left alone).
pub fn is_symlink_refusal(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<SymlinkInTheWay>())
}

/// An I/O error with the path it is about in front (`PATH: why`), for errors whose caller names another
/// path (a temporary file behind a checkpoint, say).
fn at_path(path: &Path, e: io::Error) -> io::Error {
    if is_symlink_refusal(&e) {
        return io::Error::other(format!("{}: {e}", path.display()));
    }
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Numbers the temporaries of [`Dir::write_atomic`]: with the process id, a name of its own per write,
/// so that two threads (or processes) never share one.
static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// An opened directory: everything logveil creates in it is created relative to this handle.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

/// The handle, for `fstat`/`fchown` of the directory itself (see [`crate::ownership`]).
impl AsFd for Dir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Dir {
    /// Opens an existing directory. The path itself may go through symlinks (it is the operator's);
    /// what is inside is reached through the handle only.
    pub fn open(path: &Path) -> io::Result<Dir> {
        let p = if path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            path
        };
        let fd = rfs::open(
            p,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// Another handle on the same open directory (`dup`).
    pub fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir {
            fd: self.fd.try_clone()?,
            path: self.path.clone(),
        })
    }

    /// The path the directory was opened by (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `PATH/name`, for messages.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }

    /// The directory's permission bits.
    pub fn mode(&self) -> io::Result<u32> {
        Ok(rfs::fstat(&self.fd)?.st_mode & 0o7777)
    }

    /// Creates a new file `name` (never an existing one, never through a symlink) with exactly `mode`.
    pub fn create_new(&self, name: &OsStr, mode: u32) -> io::Result<File> {
        Ok(File::from(self.create(name, mode, OFlags::WRONLY)?))
    }

    fn create(&self, name: &OsStr, mode: u32, flags: OFlags) -> io::Result<OwnedFd> {
        check_name(name)?;
        let fd = match rfs::openat(
            &self.fd,
            name,
            flags | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode),
        ) {
            Ok(fd) => fd,
            Err(Errno::EXIST) if self.is_symlink(name) => return Err(symlink_refused()),
            Err(e) => return Err(e.into()),
        };
        if let Err(e) = rfs::fchmod(&fd, Mode::from_raw_mode(mode)) {
            // Do not leave a file with the umask's mode behind: it would lock later runs out.
            let _ = rfs::unlinkat(&self.fd, name, AtFlags::empty());
            return Err(e.into());
        }
        Ok(fd)
    }

    /// Opens `name` to append to it, creating it with exactly `mode` when missing. An existing one must be
    /// a regular file with no other hard link; its mode is set to `mode`.
    pub fn open_append(&self, name: &OsStr, mode: u32) -> io::Result<File> {
        loop {
            match self.create(name, mode, OFlags::WRONLY | OFlags::APPEND) {
                Ok(fd) => return Ok(File::from(fd)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            match self.open_existing(name, OFlags::WRONLY | OFlags::APPEND) {
                Ok(fd) => {
                    let st = rfs::fstat(&fd)?;
                    if st.st_nlink > 1 {
                        return Err(io::Error::other(format!(
                            "has {} hard links; logveil appends only to a file of its own",
                            st.st_nlink
                        )));
                    }
                    if st.st_mode & 0o7777 != mode {
                        rfs::fchmod(&fd, Mode::from_raw_mode(mode))?;
                    }
                    return Ok(File::from(fd));
                }
                // Removed between the two opens: create it again.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Opens the lock file `name`, creating it with exactly `mode` when missing (an existing one is
    /// opened as it is, never through a symlink). Returns the file and whether it was created.
    pub fn open_lock(&self, name: &OsStr, mode: u32) -> io::Result<(File, bool)> {
        loop {
            match self.create_new(name, mode) {
                Ok(f) => return Ok((f, true)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            match self.open_existing(name, OFlags::WRONLY) {
                Ok(fd) => return Ok((File::from(fd), false)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Opens an existing regular file `name` without following a symlink (and without blocking on a
    /// FIFO planted there).
    fn open_existing(&self, name: &OsStr, flags: OFlags) -> io::Result<OwnedFd> {
        check_name(name)?;
        let fd = match rfs::openat(
            &self.fd,
            name,
            flags | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::LOOP) => return Err(symlink_refused()),
            Err(Errno::NXIO) => return Err(not_a_file()),
            Err(e) => return Err(e.into()),
        };
        let st = rfs::fstat(&fd)?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(not_a_file());
        }
        Ok(fd)
    }

    /// Writes `bytes` to `name` atomically with exactly `mode`: a temporary `.NAME.PID.N.tmp` created
    /// `O_EXCL` in this directory, fsynced, renamed to `name`, then the directory fsynced. With
    /// `replace` false an existing `name` is an error (`AlreadyExists`) and is left as it is.
    pub fn write_atomic(
        &self,
        name: &OsStr,
        bytes: &[u8],
        mode: u32,
        replace: bool,
    ) -> io::Result<()> {
        self.write_atomic_with(name, bytes, mode, replace, &mut |_| {})
    }

    /// As [`Dir::write_atomic`], calling `created` with the temporary file as soon as it is created (before
    /// anything is written to it and before it is renamed into place): to give it away, say.
    pub fn write_atomic_with(
        &self,
        name: &OsStr,
        bytes: &[u8],
        mode: u32,
        replace: bool,
        created: &mut dyn FnMut(&File),
    ) -> io::Result<()> {
        check_name(name)?;
        let mut tmp = std::ffi::OsString::from(".");
        tmp.push(name);
        tmp.push(format!(
            ".{}.{}.tmp",
            std::process::id(),
            TMP_SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let tmp = tmp.as_os_str();
        let mut f = self
            .create_new(tmp, mode)
            .map_err(|e| at_path(&self.join(tmp), e))?;
        created(&f);
        let written = f.write_all(bytes).and_then(|()| f.sync_all());
        drop(f);
        let placed = written.and_then(|()| {
            if replace {
                rfs::renameat(&self.fd, tmp, &self.fd, name).map_err(io::Error::from)
            } else {
                self.rename_noreplace(tmp, name)
            }
        });
        if let Err(e) = placed {
            let _ = rfs::unlinkat(&self.fd, tmp, AtFlags::empty());
            if e.kind() == io::ErrorKind::AlreadyExists && self.is_symlink(name) {
                return Err(symlink_refused());
            }
            return Err(e);
        }
        self.sync()
    }

    /// Renames `from` to `to` in this directory, replacing whatever `to` is (a rename never follows a
    /// symlink: one at `to` is replaced, not written through).
    pub fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        check_name(from)?;
        check_name(to)?;
        Ok(rfs::renameat(&self.fd, from, &self.fd, to)?)
    }

    /// Renames `from` to `to` in this directory; an existing `to` is an error (`AlreadyExists`).
    pub fn rename_noreplace(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        check_name(from)?;
        check_name(to)?;
        match rfs::renameat_with(&self.fd, from, &self.fd, to, RenameFlags::NOREPLACE) {
            Ok(()) => Ok(()),
            // File systems without RENAME_NOREPLACE: a hard link fails the same way on an existing name.
            Err(Errno::INVAL) | Err(Errno::NOSYS) => {
                rfs::linkat(&self.fd, from, &self.fd, to, AtFlags::empty())?;
                Ok(rfs::unlinkat(&self.fd, from, AtFlags::empty())?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the file `name` (a symlink there is removed itself, never its target).
    pub fn remove(&self, name: &OsStr) -> io::Result<()> {
        check_name(name)?;
        Ok(rfs::unlinkat(&self.fd, name, AtFlags::empty())?)
    }

    /// `lstat` of `name`: about the entry itself, a symlink included.
    pub fn lstat(&self, name: &OsStr) -> io::Result<rfs::Stat> {
        check_name(name)?;
        Ok(rfs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)?)
    }

    fn is_symlink(&self, name: &OsStr) -> bool {
        self.lstat(name)
            .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink)
    }

    /// The names in this directory (without `.` and `..`), read through the handle.
    pub fn names(&self) -> io::Result<Vec<std::ffi::OsString>> {
        Ok(self.entries()?.into_iter().map(|(name, _)| name).collect())
    }

    /// The entries of this directory (without `.` and `..`) with their type, read through the handle: the
    /// entry's own type (a symlink is a symlink), from `lstat` where the file system does not say.
    pub fn entries(&self) -> io::Result<Vec<(std::ffi::OsString, FileType)>> {
        let mut out = Vec::new();
        for entry in rfs::Dir::read_from(&self.fd)? {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let name = OsStr::from_bytes(name).to_os_string();
            let file_type = match entry.file_type() {
                FileType::Unknown => match self.lstat(&name) {
                    Ok(st) => FileType::from_raw_mode(st.st_mode),
                    // Gone since it was read.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                },
                t => t,
            };
            out.push((name, file_type));
        }
        Ok(out)
    }

    /// Opens the existing subdirectory `name`, never through a symlink.
    pub fn open_dir(&self, name: &OsStr) -> io::Result<Dir> {
        check_name(name)?;
        let fd = match rfs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::LOOP) => return Err(symlink_refused()),
            Err(Errno::NOTDIR) if self.is_symlink(name) => return Err(symlink_refused()),
            Err(e) => return Err(e.into()),
        };
        Ok(Dir {
            fd,
            path: self.path.join(name),
        })
    }

    /// Opens the existing regular file `name` for reading, never through a symlink.
    pub fn open_read(&self, name: &OsStr) -> io::Result<File> {
        Ok(File::from(self.open_existing(name, OFlags::RDONLY)?))
    }

    /// Reads the whole regular file `name`, never through a symlink.
    pub fn read(&self, name: &OsStr) -> io::Result<Vec<u8>> {
        let mut f = File::from(self.open_existing(name, OFlags::RDONLY)?);
        let mut out = Vec::new();
        f.read_to_end(&mut out)?;
        Ok(out)
    }

    /// Takes an exclusive `flock` on the directory itself, waiting for it; it is held until this handle
    /// is dropped. Serialises read-modify-replace cycles of files in it between processes.
    pub fn lock_exclusive(&self) -> io::Result<()> {
        Ok(rfs::flock(&self.fd, rfs::FlockOperation::LockExclusive)?)
    }

    /// As [`Dir::lock_exclusive`] without waiting. Ok(false): another process holds it (or this one, through
    /// another handle).
    pub fn try_lock_exclusive(&self) -> io::Result<bool> {
        try_flock(&self.fd)
    }

    /// fsync of the directory, so that a create, rename or unlink in it is durable.
    pub fn sync(&self) -> io::Result<()> {
        Ok(rfs::fsync(&self.fd)?)
    }

    /// Creates the subdirectory `name` with exactly 0700 and opens it (never through a symlink). An
    /// existing directory is opened as it is. Also says whether it was created.
    fn create_dir(&self, name: &OsStr) -> io::Result<(Dir, bool)> {
        check_name(name)?;
        let created = match rfs::mkdirat(&self.fd, name, Mode::from_raw_mode(DIR_MODE)) {
            Ok(()) => true,
            Err(Errno::EXIST) => false,
            Err(e) => return Err(e.into()),
        };
        let dir = match self.open_dir(name) {
            Ok(d) => d,
            Err(e) if e.raw_os_error() == Some(Errno::NOTDIR.raw_os_error()) => {
                return Err(io::Error::other("not a directory"))
            }
            Err(e) => return Err(e),
        };
        if created {
            rfs::fchmod(&dir.fd, Mode::from_raw_mode(DIR_MODE))?;
        }
        Ok((dir, created))
    }
}

fn not_a_file() -> io::Error {
    io::Error::other("not a regular file; logveil writes only to files of its own")
}

/// A name inside a directory: one path component, not `.` or `..`.
fn check_name(name: &OsStr) -> io::Result<()> {
    let b = name.as_bytes();
    if b.is_empty() || b == b"." || b == b".." || b.contains(&b'/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{:?} is not a file name", name.to_string_lossy()),
        ));
    }
    Ok(())
}

/// A directory that could not be made ready: which one (as asked for), and why.
#[derive(Debug)]
pub struct DirError {
    pub path: PathBuf,
    pub error: io::Error,
}

impl fmt::Display for DirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

impl std::error::Error for DirError {}

/// Opens `dir`, first creating it and any missing parents with exactly 0700 (mkdir relative to the
/// parent's handle, then fchmod of the new directory: the umask changes nothing). An existing directory
/// is left as it is (see [`Dir::mode`]). A dangling symlink in the way is an error saying so.
pub fn ensure_private_dir(dir: &Path) -> Result<Dir, DirError> {
    ensure_private_dir_with(dir, &mut |_, _| {})
}

/// As [`ensure_private_dir`], calling `created(parent, new)` with the handles of each directory it creates
/// and of its parent, outermost first (to give it away: [`crate::ownership::ensure_private_dir`]).
pub fn ensure_private_dir_with(
    dir: &Path,
    created: &mut dyn FnMut(&Dir, &Dir),
) -> Result<Dir, DirError> {
    // The error is about the directory asked for; the component at fault is named in it when it is
    // another one (`out/sub: out is not a directory`).
    let err = |at: &Path, error: io::Error| DirError {
        path: dir.to_path_buf(),
        error: if at == dir {
            error
        } else {
            io::Error::new(error.kind(), format!("{}: {error}", at.display()))
        },
    };
    let mut missing: Vec<&Path> = Vec::new();
    let mut cur = Some(dir);
    let base = loop {
        let Some(p) = cur else { break None };
        if p.as_os_str().is_empty() {
            break None;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => break Some(p),
            Ok(_) => return Err(err(p, io::Error::other("not a directory"))),
            // Under a file: the walk up finds the file and names it.
            Err(e) if e.raw_os_error() == Some(Errno::NOTDIR.raw_os_error()) => missing.push(p),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if std::fs::symlink_metadata(p).is_ok() {
                    return Err(err(
                        p,
                        io::Error::other("a symbolic link to nothing (dangling) is in the way"),
                    ));
                }
                missing.push(p);
            }
            Err(e) => return Err(err(p, e)),
        }
        cur = p.parent();
    };
    let mut handle = Dir::open(base.unwrap_or(Path::new(""))).map_err(|e| {
        let p = base.unwrap_or(Path::new("."));
        err(p, e)
    })?;
    for p in missing.iter().rev() {
        let name = match p.components().next_back() {
            Some(Component::Normal(n)) => n,
            _ => {
                return Err(err(
                    p,
                    io::Error::new(io::ErrorKind::InvalidInput, "cannot create this directory"),
                ))
            }
        };
        let (child, new) = handle.create_dir(name).map_err(|e| err(p, e))?;
        if new {
            created(&handle, &child);
        }
        handle = child;
    }
    handle.path = dir.to_path_buf();
    Ok(handle)
}

/// The directory a path is in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The directory handle and the file name of `path` (whose directory must exist).
pub fn open_parent(path: &Path) -> io::Result<(Dir, &OsStr)> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no file name", path.display()),
        )
    })?;
    Ok((Dir::open(parent_dir(path))?, name))
}

/// fsync of a directory by path, so that a rename or an unlink in it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    Dir::open(dir)?.sync()
}

/// Takes an exclusive, non-blocking `flock` on `file`. Ok(false): another process holds it. The lock is
/// released when the file is closed, also when the process dies.
pub fn try_lock_exclusive(file: &File) -> io::Result<bool> {
    try_flock(file)
}

fn try_flock(fd: impl AsFd) -> io::Result<bool> {
    match rfs::flock(fd, rfs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn mode_of(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn created_directories_and_files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/c");
        let d = ensure_private_dir(&dir).unwrap();
        assert_eq!(d.path(), dir);
        for p in [tmp.path().join("a"), tmp.path().join("a/b"), dir.clone()] {
            assert_eq!(mode_of(&p), 0o700, "{}", p.display());
        }
        d.create_new(OsStr::new("x"), FILE_MODE).unwrap();
        assert_eq!(mode_of(&dir.join("x")), 0o600);
        let again = d.create_new(OsStr::new("x"), FILE_MODE).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
    }

    #[test]
    fn a_file_in_the_way_of_the_directory_is_an_error_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"").unwrap();
        let err = ensure_private_dir(&file.join("sub")).unwrap_err();
        assert_eq!(err.path, file.join("sub"));
        assert_eq!(
            err.to_string(),
            format!(
                "{}: {}: not a directory",
                file.join("sub").display(),
                file.display()
            )
        );
    }

    #[test]
    fn a_dangling_symlink_in_the_way_of_the_directory_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join("out");
        symlink(tmp.path().join("nowhere"), &link).unwrap();
        let err = ensure_private_dir(&link).unwrap_err().to_string();
        assert!(err.contains("dangling"), "{err}");
        assert!(!tmp.path().join("nowhere").exists());
    }

    #[test]
    fn nothing_is_created_or_chmodded_through_a_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        let d = Dir::open(tmp.path()).unwrap();
        let victim = tmp.path().join("victim");
        fs::write(&victim, b"keep").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
        symlink(&victim, tmp.path().join("link")).unwrap();
        let name = OsStr::new("link");
        let errors = [
            d.create_new(name, FILE_MODE).unwrap_err(),
            d.open_append(name, FILE_MODE).unwrap_err(),
            d.open_lock(name, FILE_MODE).unwrap_err(),
            d.write_atomic(name, b"new", FILE_MODE, false).unwrap_err(),
        ];
        for e in &errors {
            assert!(is_symlink_refusal(e), "{e}");
        }
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
        assert_eq!(mode_of(&victim), 0o644, "never chmodded");
        // A temporary's name taken by a symlink: an error naming the temporary.
        let tmp_name = format!(".target.{}.", std::process::id());
        let next = TMP_SEQ.load(Ordering::Relaxed);
        for n in next..next + 1000 {
            symlink(&victim, tmp.path().join(format!("{tmp_name}{n}.tmp"))).unwrap();
        }
        let e = d
            .write_atomic(OsStr::new("target"), b"x", FILE_MODE, true)
            .unwrap_err();
        assert!(e.to_string().contains(&tmp_name), "{e}");
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
    }

    #[test]
    fn write_atomic_replaces_or_refuses_to_and_leaves_no_temporary() {
        let tmp = tempfile::tempdir().unwrap();
        let d = Dir::open(tmp.path()).unwrap();
        let name = OsStr::new("f");
        d.write_atomic(name, b"one", 0o640, true).unwrap();
        assert_eq!(mode_of(&tmp.path().join("f")), 0o640);
        d.write_atomic(name, b"two", 0o640, true).unwrap();
        assert_eq!(fs::read(tmp.path().join("f")).unwrap(), b"two");
        let e = d.write_atomic(name, b"three", 0o600, false).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(tmp.path().join("f")).unwrap(), b"two");
        assert_eq!(d.names().unwrap(), vec![std::ffi::OsString::from("f")]);
    }

    #[test]
    fn append_refuses_other_files_and_fixes_the_mode_of_its_own() {
        let tmp = tempfile::tempdir().unwrap();
        let d = Dir::open(tmp.path()).unwrap();
        let log = tmp.path().join("log");
        let mut f = d.open_append(OsStr::new("log"), FILE_MODE).unwrap();
        f.write_all(b"a\n").unwrap();
        fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).unwrap();
        let mut f = d.open_append(OsStr::new("log"), FILE_MODE).unwrap();
        f.write_all(b"b\n").unwrap();
        assert_eq!(fs::read(&log).unwrap(), b"a\nb\n");
        assert_eq!(mode_of(&log), 0o600);
        fs::hard_link(&log, tmp.path().join("other")).unwrap();
        let e = d.open_append(OsStr::new("log"), FILE_MODE).unwrap_err();
        assert!(e.to_string().contains("hard links"), "{e}");
        fs::create_dir(tmp.path().join("dir")).unwrap();
        assert!(d.open_append(OsStr::new("dir"), FILE_MODE).is_err());
        assert!(d.open_append(OsStr::new("../escape"), FILE_MODE).is_err());
    }

    #[test]
    fn a_swapped_directory_does_not_redirect_the_handle() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let d = ensure_private_dir(&out).unwrap();
        fs::rename(&out, tmp.path().join("moved")).unwrap();
        fs::create_dir(tmp.path().join("victim")).unwrap();
        symlink(tmp.path().join("victim"), &out).unwrap();
        d.create_new(OsStr::new("f"), FILE_MODE).unwrap();
        assert!(tmp.path().join("moved/f").exists());
        assert!(!tmp.path().join("victim/f").exists());
    }

    #[test]
    fn a_lock_is_exclusive_until_released() {
        let tmp = tempfile::tempdir().unwrap();
        let d = Dir::open(tmp.path()).unwrap();
        let (held, created) = d.open_lock(OsStr::new(".s.lock"), FILE_MODE).unwrap();
        assert!(created);
        assert!(try_lock_exclusive(&held).unwrap());
        let (other, created) = d.open_lock(OsStr::new(".s.lock"), FILE_MODE).unwrap();
        assert!(!created);
        assert!(!try_lock_exclusive(&other).unwrap());
        drop(held);
        assert!(try_lock_exclusive(&other).unwrap());
    }
}
