//! What to follow: a file, a directory (its `*.log` files) or a glob in the last path component; and which
//! files in a directory are rotated siblings of a source (`output.log.1`, `output.log-20261125`).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Files a directory given alone stands for.
pub const DIR_DEFAULT_GLOB: &str = "*.log";

/// Compressed rotated files cannot be read as text; they are never siblings.
const COMPRESSED: &[&str] = &[
    ".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".Z", ".zip", ".age",
];

/// One PATH argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// One file, followed even while it does not exist.
    File(PathBuf),
    /// Files of `dir` whose name matches `pattern` (`*` and `?`), found as they appear.
    Glob { dir: PathBuf, pattern: String },
}

impl Spec {
    /// Interprets a PATH argument: a directory means its `*.log`; `*`, `?` in the last component make a glob.
    pub fn parse(path: &Path) -> Spec {
        let path = absolute(path);
        if path.is_dir() {
            return Spec::Glob {
                dir: path,
                pattern: DIR_DEFAULT_GLOB.into(),
            };
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.contains(['*', '?']) {
            Spec::Glob {
                dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
                pattern: name,
            }
        } else {
            Spec::File(path)
        }
    }

    pub fn dir(&self) -> &Path {
        match self {
            Spec::File(p) => p.parent().unwrap_or(Path::new("/")),
            Spec::Glob { dir, .. } => dir,
        }
    }

    /// The files this spec names now (a missing file included for [`Spec::File`]).
    pub fn expand(&self) -> Vec<PathBuf> {
        match self {
            Spec::File(p) => vec![p.clone()],
            Spec::Glob { dir, pattern } => {
                let mut out: Vec<PathBuf> = fs::read_dir(dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
                    .filter(|e| wildcard_match(pattern.as_bytes(), e.file_name().as_bytes()))
                    .map(|e| e.path())
                    .collect();
                out.sort();
                out
            }
        }
    }
}

/// Makes a path absolute against the current directory (without resolving symlinks).
pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// `*` matches any run of bytes, `?` one byte; everything else itself. A leading `.` is matched only by
/// a literal `.` (as the shell does), so `*` does not pick up hidden files.
pub fn wildcard_match(pattern: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pattern.first() != Some(&b'.') {
        return false;
    }
    let (mut p, mut n) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = n;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            n = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Whether `name` is a rotated (uncompressed) sibling of `base`: `base.1`, `base-20261125`, `base.2026-11-25`.
pub fn is_rotated_sibling(base: &OsStr, name: &OsStr) -> bool {
    let (base, name) = (base.as_bytes(), name.as_bytes());
    let Some(rest) = name.strip_prefix(base) else {
        return false;
    };
    if rest.len() < 2 || !matches!(rest[0], b'.' | b'-' | b'_') {
        return false;
    }
    !COMPRESSED.iter().any(|c| rest.ends_with(c.as_bytes()))
}

/// The rotated siblings of `source` in its directory.
pub fn rotated_siblings(source: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(base)) = (source.parent(), source.file_name()) else {
        return Vec::new();
    };
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| is_rotated_sibling(base, &e.file_name()))
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .map(|e| e.path())
        .collect()
}

/// Segment stream name of a source: its file name when all specs are in one directory, else its whole path.
pub fn stream_name(source: &Path, specs: &[Spec]) -> String {
    let one_dir = specs.windows(2).all(|w| w[0].dir() == w[1].dir());
    let text = if one_dir {
        source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        source.to_string_lossy().trim_start_matches('/').to_string()
    };
    crate::stream_name::sanitize_stream(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let m = |p: &str, n: &str| wildcard_match(p.as_bytes(), n.as_bytes());
        assert!(m("*.log", "output.log"));
        assert!(!m("*.log", ".log"));
        assert!(!m("*.log", "output.log.1"));
        assert!(!m("*.log", "output.log-20261125"));
        assert!(m("out?ut.*", "output.log"));
        assert!(m("*", "x"));
        assert!(!m("*", ".hidden"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("output.log", "output.log"));
    }

    #[test]
    fn rotated_siblings_are_recognised_by_name() {
        let s = |b: &str, n: &str| is_rotated_sibling(OsStr::new(b), OsStr::new(n));
        assert!(s("output.log", "output.log.1"));
        assert!(s("output.log", "output.log.12"));
        assert!(s("output.log", "output.log-20261125"));
        assert!(!s("output.log", "output.log.1.gz"));
        assert!(!s("output.log", "output.log-20261125.zst"));
        assert!(!s("output.log", "output.log"));
        assert!(!s("output.log", "output.logx"));
        assert!(!s("output.log", "error.log.1"));
    }

    #[test]
    fn directories_mean_their_log_files_and_globs_their_matches() {
        let tmp = tempfile::tempdir().unwrap();
        for n in ["a.log", "b.log", "a.log.1", "c.txt", ".h.log"] {
            fs::write(tmp.path().join(n), b"").unwrap();
        }
        let spec = Spec::parse(tmp.path());
        let names: Vec<_> = spec
            .expand()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.log", "b.log"]);
        assert_eq!(
            Spec::parse(&tmp.path().join("*.txt")).expand(),
            vec![tmp.path().join("c.txt")]
        );
        let missing = tmp.path().join("later.log");
        assert_eq!(Spec::parse(&missing), Spec::File(missing.clone()));
        assert_eq!(Spec::parse(&missing).expand(), vec![missing]);
    }

    #[test]
    fn stream_names_are_file_names_in_one_directory_and_paths_across_several() {
        let one = [Spec::File("/var/log/c/output.log".into())];
        assert_eq!(
            stream_name(Path::new("/var/log/c/output.log"), &one),
            "output.log"
        );
        let two = [
            Spec::File("/var/log/a/output.log".into()),
            Spec::File("/var/log/b/output.log".into()),
        ];
        assert_eq!(
            stream_name(Path::new("/var/log/a/output.log"), &two),
            "var_log_a_output.log"
        );
    }
}
