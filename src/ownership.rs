//! What a run as root creates in a directory that belongs to another user (the service user `logveil`,
//! whose segment and state directories a manual `sudo logveil retention`, the root logrotate hook's `seal`
//! or a root `pipe`/`tail` write into) gets that directory's owner and group, so that the service user is
//! not locked out of its own lock files, privacy log, checkpoints and segments. Modes are set where the
//! files are created; this only decides whose they are. Not root: nothing to do.
//!
//! Never through a link: a file is given away only when the open file is the regular file at its path and
//! has no other name (one hard link), and a directory only when it is a directory at its path, so that a
//! planted symlink or hard link cannot make root hand `/etc/passwd` to the service user.

use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{Gid, Uid};

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The owner (and group) `dir`'s new entries should have when root creates them; None when that is root
/// itself or this process is not root.
fn heir(dir: &Path) -> io::Result<Option<(u32, u32)>> {
    if !is_root() {
        return Ok(None);
    }
    let d = fs::metadata(dir)?;
    Ok((d.uid() != 0).then_some((d.uid(), d.gid())))
}

fn give(file: &File, opened: &Metadata, path: &Path, to: (u32, u32)) -> io::Result<()> {
    if (opened.uid(), opened.gid()) == to {
        return Ok(());
    }
    let here = fs::symlink_metadata(path)?;
    let same = here.dev() == opened.dev() && here.ino() == opened.ino();
    let plain = if opened.is_dir() {
        here.is_dir()
    } else {
        here.file_type().is_file() && opened.nlink() == 1
    };
    if !same || !plain {
        return Err(io::Error::other(
            "not a plain file or directory of its own at this path (a link?); its owner is left as it is",
        ));
    }
    rustix::fs::fchown(file, Some(Uid::from_raw(to.0)), Some(Gid::from_raw(to.1)))?;
    Ok(())
}

/// `file`, open at `path`, was created (or is appended to) by this process: when root writes into a
/// directory of another user, the file becomes that user's (and group's). A file root owns already (left
/// by an older version) is handed over too.
pub fn adopt(file: &File, path: &Path) -> io::Result<()> {
    let Some(to) = heir(parent(path))? else {
        return Ok(());
    };
    give(file, &file.metadata()?, path, to)
}

/// As [`adopt`], logging a failure (with what it is for) instead of returning it; whether it worked.
pub fn adopt_or_warn(file: &File, path: &Path, what: &str) -> bool {
    match adopt(file, path) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot give the {what} to its directory's owner; another user may be locked out of it");
            false
        }
    }
}

/// The directories missing on the way to `dir`, outermost first (call before creating them).
pub fn missing_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(p) = cur.filter(|p| !p.as_os_str().is_empty()) {
        if fs::symlink_metadata(p).is_ok() {
            break;
        }
        missing.push(p.to_path_buf());
        cur = p.parent();
    }
    missing.reverse();
    missing
}

/// After `missing` ([`missing_dirs`]) were created: each becomes its parent directory's owner's, when
/// root created them (logged, not returned, when it cannot).
pub fn adopt_dirs(missing: &[PathBuf]) {
    for d in missing {
        let r = heir(parent(d)).and_then(|to| {
            let Some(to) = to else { return Ok(()) };
            let f = File::options()
                .read(true)
                .custom_flags(
                    (rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::NOFOLLOW).bits() as i32,
                )
                .open(d)?;
            give(&f, &f.metadata()?, d, to)
        });
        if let Err(e) = r {
            tracing::warn!(dir = %d.display(), error = %e, "cannot give a created directory to its parent's owner");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let victim = tmp.path().join("passwd");
        fs::write(&victim, b"root:x:0:0\n").unwrap();
        let hard = dir.join("privacy-log.jsonl");
        fs::hard_link(&victim, &hard).unwrap();
        let f = File::options().append(true).open(&hard).unwrap();
        assert!(adopt(&f, &hard).is_err());
        let soft = dir.join(".app.log.lock");
        std::os::unix::fs::symlink(&victim, &soft).unwrap();
        let f = File::options().append(true).open(&soft).unwrap();
        assert!(adopt(&f, &soft).is_err());
        assert_eq!(owner(&victim), 0, "the root file stays root's");
        let plain = dir.join("new");
        let f = File::create(&plain).unwrap();
        adopt(&f, &plain).unwrap();
        assert_eq!(owner(&plain), 65534);
        let missing = missing_dirs(&dir.join("a/b"));
        assert_eq!(missing, [dir.join("a"), dir.join("a/b")]);
        fs::create_dir_all(dir.join("a/b")).unwrap();
        adopt_dirs(&missing);
        assert_eq!(owner(&dir.join("a/b")), 65534);
    }
}
