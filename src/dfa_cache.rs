//! The compiled-pattern cache: the DFA a config's patterns compile to, kept in a file, so that the next
//! start loads it in milliseconds instead of building it (1-2 s and ~17 MiB for the seed config). The
//! built-in patterns need none: their DFA is compiled into the binary.
//!
//! Where: `--cache-dir`, else `logveil.cache.dir`, else `$CACHE_DIRECTORY` (systemd's `CacheDirectory=`),
//! `$XDG_CACHE_HOME/logveil`, `$HOME/.cache/logveil`. Off with `--no-cache` or `logveil.cache.enabled:
//! false`. A cache that cannot be used is no error: the DFA is built, as without one.
//!
//! Safety: the directory is created 0700, and used only if it is a directory (not a symlink), owned by
//! this user and closed to group and others. Files are opened relative to the directory's descriptor with
//! O_NOFOLLOW, read only if regular, ours and 0600, written under a new temporary name (O_EXCL, 0600) and
//! renamed into place. What a file holds is checked before use (src/redact/dfa_store.rs): one that fails
//! is removed and rebuilt. The cache holds compiled patterns, never input.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rustix::fs::{AtFlags, Mode, OFlags};

use crate::config::CacheConfig;
use crate::redact::DfaStore;

/// A file larger than this is not a DFA logveil wrote (the DFA size limits allow 2 x 16 MiB).
const MAX_FILE: u64 = 64 << 20;
/// Cached DFAs kept per directory (one per config in use, the newest first).
const KEEP: usize = 4;
const SUFFIX: &str = ".dfa";

/// The cache in one directory.
#[derive(Debug)]
pub struct DfaCache {
    dir: PathBuf,
    /// Named by the user (flag or config): problems with it are warnings, not debug notes.
    explicit: bool,
}

impl DfaCache {
    pub fn new(dir: PathBuf, explicit: bool) -> DfaCache {
        DfaCache { dir, explicit }
    }

    /// The cache from the settings (flag, config, environment); None when it is off or no directory can
    /// be named.
    pub fn from_settings(
        flag_dir: Option<&Path>,
        no_cache: bool,
        cfg: &CacheConfig,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Option<DfaCache> {
        if no_cache || !cfg.enabled {
            return None;
        }
        if let Some(dir) = flag_dir.or(cfg.dir.as_deref()) {
            return Some(DfaCache::new(dir.to_path_buf(), true));
        }
        let absolute = |v: OsString| Some(PathBuf::from(v)).filter(|p| p.is_absolute());
        // systemd's CacheDirectory= may list several, separated by ':'.
        let systemd = env("CACHE_DIRECTORY").and_then(|v| {
            let first = v.to_string_lossy().split(':').next().map(OsString::from)?;
            absolute(first)
        });
        let dir = systemd
            .or_else(|| {
                env("XDG_CACHE_HOME")
                    .and_then(absolute)
                    .map(|d| d.join("logveil"))
            })
            .or_else(|| {
                env("HOME")
                    .and_then(absolute)
                    .map(|h| h.join(".cache/logveil"))
            })?;
        Some(DfaCache::new(dir, false))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file_name(key: &str) -> String {
        format!("{key}{SUFFIX}")
    }

    /// Opens the directory without following a symlink, and checks that it is ours and private.
    fn open_dir(&self) -> io::Result<OwnedFd> {
        let fd = rustix::fs::open(
            &self.dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let st = rustix::fs::fstat(&fd)?;
        if st.st_uid != rustix::process::geteuid().as_raw() {
            return Err(io::Error::other("owned by another user"));
        }
        if st.st_mode & 0o077 != 0 {
            return Err(io::Error::other(format!(
                "mode {:o}: open to group or others (0700 needed)",
                st.st_mode & 0o7777
            )));
        }
        Ok(fd)
    }

    /// Creates the directory (and missing parents) 0700 when it is missing, then opens it.
    fn create_dir(&self) -> io::Result<OwnedFd> {
        match self.open_dir() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                crate::fsutil::ensure_private_dir(&self.dir).map_err(io::Error::other)?;
                self.open_dir()
            }
            other => other,
        }
    }

    /// Logs a problem: a warning for a directory the user named, a debug note for a default one (a
    /// sandboxed service may have no writable home: it then builds the DFA at each start).
    fn problem(&self, what: &str, e: &dyn std::fmt::Display) {
        if self.explicit {
            tracing::warn!(dir = %self.dir.display(), error = %e, "dfa cache: {what}; building the DFA instead");
        } else {
            tracing::debug!(dir = %self.dir.display(), error = %e, "dfa cache: {what}; building the DFA instead");
        }
    }

    fn read(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        let dir = match self.open_dir() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            other => other?,
        };
        let name = Self::file_name(key);
        let fd = match rustix::fs::openat(
            &dir,
            name.as_str(),
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        ) {
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            other => other?,
        };
        let mut file = File::from(fd);
        let meta = file.metadata()?;
        let mode = meta.permissions().mode();
        if !meta.is_file() || meta.uid() != rustix::process::geteuid().as_raw() || mode & 0o077 != 0
        {
            return Err(io::Error::other(format!(
                "{name}: not a private regular file of this user (mode {:o})",
                mode & 0o7777
            )));
        }
        if meta.len() > MAX_FILE {
            return Err(io::Error::other(format!("{name}: too large")));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }

    fn write(&self, key: &str, bytes: &[u8]) -> io::Result<()> {
        let dir = self.create_dir()?;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = format!(".{key}.{}.{nanos}.tmp", std::process::id());
        let fd = rustix::fs::openat(
            &dir,
            tmp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        let result = write_then_rename(&dir, fd, bytes, &tmp, &Self::file_name(key));
        if result.is_err() {
            let _ = rustix::fs::unlinkat(&dir, tmp.as_str(), AtFlags::empty());
        }
        result?;
        self.prune(&dir);
        Ok(())
    }

    /// Keeps the newest [`KEEP`] DFAs (other configs' included); removes temporary files a crash left.
    fn prune(&self, dir: &OwnedFd) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut dfas = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(meta) = e.metadata() else { continue };
            let age = meta.modified().ok().and_then(|m| m.elapsed().ok());
            if name.ends_with(SUFFIX) && meta.is_file() {
                dfas.push((meta.modified().ok(), name));
            } else if name.starts_with('.')
                && name.ends_with(".tmp")
                && age.is_some_and(|a| a.as_secs() > 3600)
            {
                let _ = rustix::fs::unlinkat(dir, name.as_str(), AtFlags::empty());
            }
        }
        dfas.sort_by(|a, b| b.cmp(a));
        for (_, name) in dfas.into_iter().skip(KEEP) {
            let _ = rustix::fs::unlinkat(dir, name.as_str(), AtFlags::empty());
        }
    }
}

/// Writes `bytes` to the new file `fd` (named `tmp` in `dir`), 0600 whatever the umask, then renames it to
/// `name`.
fn write_then_rename(
    dir: &OwnedFd,
    fd: OwnedFd,
    bytes: &[u8],
    tmp: &str,
    name: &str,
) -> io::Result<()> {
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o600))?;
    let mut file = File::from(fd);
    file.write_all(bytes)?;
    drop(file);
    rustix::fs::renameat(dir, tmp, dir, name)?;
    Ok(())
}

impl DfaStore for DfaCache {
    fn load(&self, key: &str) -> Option<Vec<u8>> {
        match self.read(key) {
            Ok(Some(bytes)) => {
                tracing::debug!(dir = %self.dir.display(), bytes = bytes.len(), "dfa cache: loaded");
                Some(bytes)
            }
            Ok(None) => {
                tracing::debug!(dir = %self.dir.display(), "dfa cache: none yet for these patterns");
                None
            }
            Err(e) => {
                self.problem("cannot read", &e);
                None
            }
        }
    }

    fn save(&self, key: &str, bytes: &[u8]) {
        match self.write(key, bytes) {
            Ok(()) => {
                tracing::debug!(dir = %self.dir.display(), bytes = bytes.len(), "dfa cache: saved")
            }
            Err(e) => self.problem("cannot save", &e),
        }
    }

    fn rejected(&self, key: &str, why: &str) {
        let file = self.dir.join(Self::file_name(key));
        tracing::warn!(file = %file.display(), why, "dfa cache: a cached DFA failed its check; rebuilding it");
        if let Ok(dir) = self.open_dir() {
            let _ = rustix::fs::unlinkat(&dir, Self::file_name(key).as_str(), AtFlags::empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::os::unix::fs::symlink;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// A cache in `tmp/cache` holding `x` under KEY.
    fn saved_once(tmp: &tempfile::TempDir) -> (DfaCache, PathBuf) {
        let dir = tmp.path().join("cache");
        let c = DfaCache::new(dir.clone(), true);
        c.save(KEY, b"x");
        (c, dir)
    }

    #[test]
    fn saved_0600_in_a_new_0700_directory_and_loaded_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b/cache");
        let c = DfaCache::new(dir.clone(), true);
        assert_eq!(c.load(KEY), None);
        c.save(KEY, b"compiled");
        assert_eq!(c.load(KEY).as_deref(), Some(&b"compiled"[..]));
        for d in [tmp.path().join("a"), tmp.path().join("a/b"), dir.clone()] {
            assert_eq!(mode(&d), 0o700, "{}", d.display());
        }
        let file = dir.join(format!("{KEY}.dfa"));
        assert_eq!(mode(&file), 0o600);
        // Nothing else is left in the directory (no temporary file).
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn a_symlinked_cache_directory_is_neither_read_nor_written() {
        let tmp = tempfile::tempdir().unwrap();
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o700)).unwrap();
        DfaCache::new(elsewhere.clone(), true).save(KEY, b"planted");
        let link = tmp.path().join("cache");
        symlink(&elsewhere, &link).unwrap();
        let c = DfaCache::new(link, true);
        assert_eq!(c.load(KEY), None, "read through a symlink");
        c.save("f".repeat(64).as_str(), b"new");
        assert_eq!(
            std::fs::read_dir(&elsewhere).unwrap().count(),
            1,
            "written through a symlink"
        );
    }

    #[test]
    fn a_symlink_planted_as_the_cache_file_is_not_followed_and_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let (c, dir) = saved_once(&tmp);
        let target = tmp.path().join("target");
        std::fs::write(&target, b"not a dfa").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        let file = dir.join(format!("{KEY}.dfa"));
        std::fs::remove_file(&file).unwrap();
        symlink(&target, &file).unwrap();
        assert_eq!(c.load(KEY), None, "followed the symlink");
        c.save(KEY, b"good");
        assert_eq!(
            std::fs::read(&target).unwrap(),
            b"not a dfa",
            "wrote through the symlink"
        );
        assert!(
            std::fs::symlink_metadata(&file).unwrap().is_file(),
            "the link was replaced"
        );
        assert_eq!(c.load(KEY).as_deref(), Some(&b"good"[..]));
    }

    #[test]
    fn a_directory_or_file_open_to_others_is_not_used() {
        let tmp = tempfile::tempdir().unwrap();
        let (c, dir) = saved_once(&tmp);
        let file = dir.join(format!("{KEY}.dfa"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(c.load(KEY), None, "a 0644 file was read");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(c.load(KEY), None, "a 0755 directory was read");
        c.save(KEY, b"y");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(
            c.load(KEY).as_deref(),
            Some(&b"x"[..]),
            "a 0755 directory was written"
        );
    }

    #[test]
    fn a_directory_of_another_user_is_not_used() {
        if rustix::process::geteuid().as_raw() != 0 {
            eprintln!("note: not root, cannot give a directory to another user; skipping");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let (c, dir) = saved_once(&tmp);
        rustix::fs::chown(&dir, Some(rustix::fs::Uid::from_raw(65534)), None).unwrap();
        assert_eq!(c.load(KEY), None);
    }

    #[test]
    fn the_newest_four_dfas_are_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let c = DfaCache::new(tmp.path().join("cache"), true);
        let keys: Vec<String> = (0..6).map(|i| format!("{i}").repeat(64)).collect();
        for k in &keys {
            c.save(k, k.as_bytes());
            // Distinct modification times.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let kept: Vec<bool> = keys.iter().map(|k| c.load(k).is_some()).collect();
        assert_eq!(kept, [false, false, true, true, true, true]);
    }

    #[test]
    fn where_the_cache_is() {
        let env = |pairs: &[(&str, &str)]| {
            let m: HashMap<String, OsString> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), OsString::from(v)))
                .collect();
            move |name: &str| m.get(name).cloned()
        };
        let on = CacheConfig {
            enabled: true,
            dir: None,
        };
        let dir_of = |flag: Option<&str>,
                      no: bool,
                      cfg: &CacheConfig,
                      e: &dyn Fn(&str) -> Option<OsString>| {
            DfaCache::from_settings(flag.map(Path::new), no, cfg, e).map(|c| c.dir().to_path_buf())
        };
        let all = env(&[
            ("CACHE_DIRECTORY", "/var/cache/logveil:/other"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ]);
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(dir_of(Some("/flag"), false, &on, &all), p("/flag"));
        let cfg_dir = CacheConfig {
            enabled: true,
            dir: p("/cfg"),
        };
        assert_eq!(dir_of(None, false, &cfg_dir, &all), p("/cfg"));
        assert_eq!(dir_of(None, false, &on, &all), p("/var/cache/logveil"));
        assert_eq!(
            dir_of(
                None,
                false,
                &on,
                &env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])
            ),
            p("/x/logveil")
        );
        assert_eq!(
            dir_of(
                None,
                false,
                &on,
                &env(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")])
            ),
            p("/h/.cache/logveil")
        );
        assert_eq!(dir_of(None, false, &on, &env(&[])), None);
        assert_eq!(dir_of(Some("/flag"), true, &on, &all), None);
        let off = CacheConfig {
            enabled: false,
            dir: p("/cfg"),
        };
        assert_eq!(dir_of(None, false, &off, &all), None);
    }
}
