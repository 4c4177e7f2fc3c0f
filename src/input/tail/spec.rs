//! What to follow: a file, a directory (its `*.log` files) or a glob whose wildcards are in the last path
//! component; and which files in a directory are rotated siblings of a source (`output.log.1`,
//! `output.log-20261125`).
//!
//! Globs are logveil's one dialect ([`crate::pathglob`], the same as retention rules): `*`, `?`, classes
//! `[0-9]`, braces `{a,b}`. Braces are expanded first, so `/var/log/{bot,gw}/*.log` is two directories,
//! each followed. A wildcard in a directory part (`/var/log/*/bot.log`, `/var/log/**/*.log`) is refused:
//! tail watches the directory of each pattern, and a pattern naming any number of directories would need
//! a watch on each of them, found again as they come and go.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::pathglob::{has_wildcards, PathGlob};

/// Files a directory given alone stands for.
pub const DIR_DEFAULT_GLOB: &str = "*.log";

/// Compressed rotated files cannot be read as text; they are never siblings.
const COMPRESSED: &[&str] = &[
    ".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".Z", ".zip", ".age",
];

/// One file, or the files of one directory that a pattern names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// One file, followed even while it does not exist.
    File(PathBuf),
    /// Files of `dir` whose name matches `pattern`, found as they appear.
    Glob { dir: PathBuf, pattern: PathGlob },
}

impl Spec {
    /// Interprets a PATH argument: a directory means its `*.log`; glob syntax in the last component makes
    /// a glob; braces make several specs. A pattern tail cannot follow is an error saying why.
    pub fn parse(path: &Path) -> Result<Vec<Spec>, String> {
        let Some(text) = path.to_str().filter(|t| has_wildcards(t)) else {
            return Ok(vec![Spec::plain(path)]);
        };
        let mut specs = Vec::new();
        let alts = crate::pathglob::expand_braces(text)?;
        for alt in &alts {
            let alt = absolute(Path::new(alt));
            // The caller names the argument; an alternative of its braces is named here.
            let which = if alts.len() > 1 {
                format!("{}: ", alt.display())
            } else {
                String::new()
            };
            let name = alt
                .file_name()
                .and_then(OsStr::to_str)
                .unwrap_or_default()
                .to_owned();
            let dir = alt.parent().unwrap_or(Path::new("/"));
            if has_wildcards(&dir.to_string_lossy()) {
                return Err(format!(
                    "{which}a wildcard in a directory part cannot be followed (tail watches the directory of \
                     each pattern); name the directories, e.g. /var/log/{{bot,gateway}}/*.log"
                ));
            }
            let spec = if has_wildcards(&name) {
                Spec::Glob {
                    dir: dir.to_path_buf(),
                    pattern: PathGlob::new(&name).map_err(|e| format!("{which}{e}"))?,
                }
            } else {
                Spec::plain(&alt)
            };
            if !specs.contains(&spec) {
                specs.push(spec);
            }
        }
        Ok(specs)
    }

    /// A path without glob syntax: a directory (its `*.log`) or a file.
    fn plain(path: &Path) -> Spec {
        let path = absolute(path);
        if path.is_dir() {
            Spec::Glob {
                dir: path,
                pattern: PathGlob::new(DIR_DEFAULT_GLOB).expect("a valid pattern"),
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
                    .filter(|e| pattern.matches_name(&e.file_name()))
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

    fn parse(p: &Path) -> Vec<Spec> {
        Spec::parse(p).unwrap()
    }

    #[test]
    fn globs_take_classes_and_braces_and_refuse_wildcard_directories() {
        let tmp = tempfile::tempdir().unwrap();
        for n in ["bot-1.log", "bot-2.log", "bot-x.log", "gw.log", "other.txt"] {
            fs::write(tmp.path().join(n), b"").unwrap();
        }
        let names = |specs: Vec<Spec>| -> Vec<String> {
            specs
                .iter()
                .flat_map(Spec::expand)
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            names(parse(&tmp.path().join("bot-[0-9].log"))),
            ["bot-1.log", "bot-2.log"]
        );
        assert_eq!(
            names(parse(&tmp.path().join("{bot-x,gw}.log"))),
            ["bot-x.log", "gw.log"]
        );
        // Braces over directories: one spec per directory.
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        let specs = parse(&tmp.path().join("{a,b}/*.log"));
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].dir(), a);
        assert_eq!(specs[1].dir(), b);
        assert_eq!(parse(&tmp.path().join("{a,b}")).len(), 2, "two directories");
        // Wildcards in a directory part: an error naming the pattern, not a wait for a literal name.
        for bad in ["*/bot.log", "**/*.log", "a[0-9]/x.log"] {
            let e = Spec::parse(&tmp.path().join(bad)).unwrap_err();
            assert!(e.contains("a wildcard in a directory part"), "{e}");
        }
        let e = Spec::parse(&tmp.path().join("{a,*}/x.log")).unwrap_err();
        assert!(
            e.contains("/*/x.log: a wildcard in a directory part"),
            "{e}"
        );
        let e = Spec::parse(&tmp.path().join("bot-[.log")).unwrap_err();
        assert!(e.contains("position 4"), "{e}");
        let e = Spec::parse(&tmp.path().join("{a.log")).unwrap_err();
        assert!(e.contains("unmatched"), "{e}");
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
        let spec = parse(tmp.path());
        let names: Vec<_> = spec[0]
            .expand()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.log", "b.log"]);
        assert_eq!(
            parse(&tmp.path().join("*.txt"))[0].expand(),
            vec![tmp.path().join("c.txt")]
        );
        let missing = tmp.path().join("later.log");
        assert_eq!(parse(&missing), [Spec::File(missing.clone())]);
        assert_eq!(parse(&missing)[0].expand(), vec![missing]);
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
