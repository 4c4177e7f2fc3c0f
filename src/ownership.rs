//! What a run as root creates in a directory that belongs to another user (the service user `logveil`,
//! whose segment and state directories a manual `sudo logveil retention`, the root logrotate hook's `seal`
//! or a root `pipe`/`tail` write into) gets that directory's owner and group, so that the service user is
//! not locked out of its own lock files, privacy log, checkpoints and segments. Modes are set where the
//! files are created; this only decides whose they are. Not root: nothing to do.
//!
//! Never through a link: everything goes through the directory handles of [`crate::fsutil`] and `fchown`
//! of an open file. A file this process created itself (`O_EXCL`, never through a symlink) is given away
//! as it is; an existing one it opened ([`adopt`]) only when the open file is the regular file at its name
//! and has no other name (one hard link), so that a planted hard link cannot make root hand `/etc/passwd`
//! to the service user.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::Path;

use rustix::fs::{FileType, Gid, Uid};

use crate::fsutil::{Dir, DirError};

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// The owner (and group) `dir`'s new entries should have when root creates them; None when that is root
/// itself or this process is not root.
fn heir(dir: &Dir) -> io::Result<Option<(u32, u32)>> {
    if !is_root() {
        return Ok(None);
    }
    let st = rustix::fs::fstat(dir)?;
    Ok((st.st_uid != 0).then_some((st.st_uid, st.st_gid)))
}

fn give(fd: impl AsFd, to: (u32, u32)) -> io::Result<()> {
    rustix::fs::fchown(fd, Some(Uid::from_raw(to.0)), Some(Gid::from_raw(to.1)))?;
    Ok(())
}

/// `file`, open as `name` in `dir`, is appended to (or was created) by this process: when root writes into
/// a directory of another user, the file becomes that user's (and group's). A file root owns already (left
/// by an older version) is handed over too; a file that is not the plain file at `name` is not.
pub fn adopt(dir: &Dir, file: &File, name: &OsStr) -> io::Result<()> {
    let Some(to) = heir(dir)? else {
        return Ok(());
    };
    let opened = rustix::fs::fstat(file)?;
    if (opened.st_uid, opened.st_gid) == to {
        return Ok(());
    }
    let here = dir.lstat(name)?;
    let same = here.st_dev == opened.st_dev && here.st_ino == opened.st_ino;
    let plain =
        FileType::from_raw_mode(here.st_mode) == FileType::RegularFile && opened.st_nlink == 1;
    if !same || !plain {
        return Err(io::Error::other(
            "not a plain file of its own at this name (a link?); its owner is left as it is",
        ));
    }
    give(file, to)
}

/// As [`adopt`], logging a failure (with what it is for) instead of returning it; whether it worked.
pub fn adopt_or_warn(dir: &Dir, file: &File, name: &OsStr, what: &str) -> bool {
    match adopt(dir, file, name) {
        Ok(()) => true,
        Err(e) => {
            warn(&dir.join(name), &e, what);
            false
        }
    }
}

fn warn(path: &Path, e: &io::Error, what: &str) {
    tracing::warn!(path = %path.display(), error = %e, "cannot give the {what} to its directory's owner; another user may be locked out of it");
}

/// [`crate::fsutil::ensure_private_dir`], where each directory root creates becomes its parent's owner's
/// (logged, not returned, when it cannot).
pub fn ensure_private_dir(path: &Path) -> Result<Dir, DirError> {
    crate::fsutil::ensure_private_dir_with(path, &mut |parent, new| {
        if let Err(e) = heir(parent).and_then(|to| to.map_or(Ok(()), |to| give(new, to))) {
            warn(new.path(), &e, "directory");
        }
    })
}

/// [`Dir::write_atomic`], where the file becomes `dir`'s owner's when root writes it (given away before it
/// is renamed into place; logged, not returned, when it cannot).
pub fn write_atomic(
    dir: &Dir,
    name: &OsStr,
    bytes: &[u8],
    mode: u32,
    replace: bool,
    what: &str,
) -> io::Result<()> {
    dir.write_atomic_with(name, bytes, mode, replace, &mut |f| {
        if let Err(e) = heir(dir).and_then(|to| to.map_or(Ok(()), |to| give(f, to))) {
            warn(&dir.join(name), &e, what);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::MetadataExt;

    fn owner(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().uid()
    }

    /// The attack: the service user plants a hard link or a symlink to a root file where root will write;
    /// root must not hand that file over. (As root only: otherwise nothing is ever given away.)
    #[test]
    fn a_planted_link_is_never_given_away_a_plain_new_file_is() {
        if !is_root() {
            eprintln!("note: not root; nothing to check");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("user");
        fs::create_dir(&dir).unwrap();
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        let d = Dir::open(&dir).unwrap();
        let victim = tmp.path().join("passwd");
        fs::write(&victim, b"root:x:0:0\n").unwrap();
        let hard = OsStr::new("privacy-log.jsonl");
        fs::hard_link(&victim, dir.join(hard)).unwrap();
        let f = File::options().append(true).open(dir.join(hard)).unwrap();
        assert!(adopt(&d, &f, hard).is_err());
        // A symlink (opened through by someone else): the file at the name is not the one open.
        let soft = OsStr::new(".app.log.lock");
        std::os::unix::fs::symlink(&victim, dir.join(soft)).unwrap();
        let f = File::options().append(true).open(dir.join(soft)).unwrap();
        assert!(adopt(&d, &f, soft).is_err());
        assert_eq!(owner(&victim), 0, "the root file stays root's");
        let plain = OsStr::new("new");
        let f = d.create_new(plain, 0o600).unwrap();
        adopt(&d, &f, plain).unwrap();
        assert_eq!(owner(&dir.join(plain)), 65534);
        write_atomic(&d, OsStr::new("atomic"), b"x", 0o600, true, "test file").unwrap();
        assert_eq!(owner(&dir.join("atomic")), 65534);
        ensure_private_dir(&dir.join("a/b")).unwrap();
        assert_eq!(owner(&dir.join("a")), 65534);
        assert_eq!(owner(&dir.join("a/b")), 65534);
    }
}
