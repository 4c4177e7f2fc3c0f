//! One glob dialect for every path pattern logveil takes: the files `tail` follows and the paths retention
//! rules delete.
//!
//! The syntax is the glob crate's, with shell conventions: `*` and `?` stay within one path component, `**`
//! as a whole component stands for any number of directories, `[abc]`, `[a-z]` and `[!abc]` are classes
//! (`[*]` is a literal `*`), and a name's leading `.` is matched only by a literal `.` (`*` does not pick up
//! hidden files). Braces `{a,b}` (nested too) are expanded here into several patterns first, as a shell
//! does, because the glob crate has none.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Most patterns one set of braces may expand to.
const MAX_ALTERNATIVES: usize = 256;

/// A compiled pattern: one glob per brace alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathGlob {
    text: String,
    alternatives: Vec<glob::Pattern>,
}

/// How every pattern matches (shell conventions).
pub fn options() -> glob::MatchOptions {
    glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    }
}

/// Whether `text` holds any glob syntax (a wildcard, a class or braces).
pub fn has_wildcards(text: &str) -> bool {
    text.contains(['*', '?', '[', '{'])
}

impl PathGlob {
    /// Compiles `text`; the error says what is wrong and where.
    pub fn new(text: &str) -> Result<PathGlob, String> {
        let alternatives = expand_braces(text)?
            .iter()
            .map(|alt| {
                glob::Pattern::new(alt).map_err(|e| {
                    format!(
                        "{} at position {}{}",
                        e.msg,
                        e.pos,
                        if alt == text {
                            String::new()
                        } else {
                            format!(" of {alt:?}")
                        }
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PathGlob {
            text: text.to_owned(),
            alternatives,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The patterns the braces expand to (the pattern itself when it has none).
    pub fn alternatives(&self) -> impl Iterator<Item = &str> {
        self.alternatives.iter().map(glob::Pattern::as_str)
    }

    /// Whether `path` matches (as a whole).
    pub fn matches_path(&self, path: &Path) -> bool {
        self.alternatives
            .iter()
            .any(|p| p.matches_path_with(path, options()))
    }

    /// Whether one file name matches (for a pattern of one component).
    pub fn matches_name(&self, name: &std::ffi::OsStr) -> bool {
        let Some(name) = name.to_str() else {
            return false;
        };
        self.alternatives
            .iter()
            .any(|p| p.matches_with(name, options()))
    }

    /// The paths that match now, sorted and without duplicates, and the paths that could not be read.
    pub fn walk(&self) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
        let mut found = BTreeSet::new();
        let mut problems = Vec::new();
        for alt in self.alternatives() {
            // Compiled already: glob_with cannot fail on the pattern.
            let Ok(paths) = glob::glob_with(alt, options()) else {
                continue;
            };
            for p in paths {
                match p {
                    Ok(p) => {
                        found.insert(p);
                    }
                    Err(e) => problems.push((e.path().to_path_buf(), e.error().to_string())),
                }
            }
        }
        (found.into_iter().collect(), problems)
    }
}

impl std::fmt::Display for PathGlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Expands braces as a shell does: `a{b,c{d,e}}f` is `abf`, `acdf`, `acef`. Braces without a comma, and
/// braces inside a class (`[{]`), are literal. An unmatched brace is an error.
pub fn expand_braces(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    expand_into(text, &mut out)?;
    Ok(out)
}

fn expand_into(text: &str, out: &mut Vec<String>) -> Result<(), String> {
    let Some((open, close, commas)) = first_group(text)? else {
        out.push(text.to_owned());
        return Ok(());
    };
    let (head, tail) = (&text[..open], &text[close + 1..]);
    let mut start = open + 1;
    for end in commas.into_iter().chain([close]) {
        expand_into(&format!("{head}{}{tail}", &text[start..end]), out)?;
        if out.len() > MAX_ALTERNATIVES {
            return Err(format!(
                "braces expand to more than {MAX_ALTERNATIVES} patterns"
            ));
        }
        start = end + 1;
    }
    Ok(())
}

/// The first top-level `{...}` with at least one top-level comma: its bounds and its commas.
fn first_group(text: &str) -> Result<Option<(usize, usize, Vec<usize>)>, String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'[' => i = class_end(b, i),
            b'{' => {
                let (close, commas) = group_end(b, i)?;
                if !commas.is_empty() {
                    return Ok(Some((i, close, commas)));
                }
                i = close;
            }
            b'}' => return Err(format!("unmatched '}}' at position {i}")),
            _ => {}
        }
        i += 1;
    }
    Ok(None)
}

/// Index of the `}` closing the `{` at `open`, and the commas at its own level.
fn group_end(b: &[u8], open: usize) -> Result<(usize, Vec<usize>), String> {
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'[' => i = class_end(b, i),
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok((i, commas));
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
        i += 1;
    }
    Err(format!("unmatched '{{' at position {open}"))
}

/// Index of the `]` closing the class at `open` (a `]` right after `[` or `[!` belongs to the class), or
/// `open` itself when it is not closed (then `[` is an error the glob crate reports).
fn class_end(b: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    if b.get(i) == Some(&b'!') {
        i += 1;
    }
    if b.get(i) == Some(&b']') {
        i += 1;
    }
    while i < b.len() {
        if b[i] == b']' {
            return i;
        }
        i += 1;
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn braces_expand_like_a_shell() {
        assert_eq!(expand_braces("a.log").unwrap(), ["a.log"]);
        assert_eq!(
            expand_braces("/x/{a,b}/*.log").unwrap(),
            ["/x/a/*.log", "/x/b/*.log"]
        );
        assert_eq!(
            expand_braces("a{b,c{d,e}}f").unwrap(),
            ["abf", "acdf", "acef"]
        );
        assert_eq!(
            expand_braces("{a,b}{1,2}").unwrap(),
            ["a1", "a2", "b1", "b2"]
        );
        assert_eq!(expand_braces("x{,.1}").unwrap(), ["x", "x.1"]);
        // No comma, or inside a class: literal.
        assert_eq!(expand_braces("a{b}c").unwrap(), ["a{b}c"]);
        assert_eq!(expand_braces("[{,]x").unwrap(), ["[{,]x"]);
        assert!(expand_braces("a{b,c")
            .unwrap_err()
            .contains("unmatched '{'"));
        assert!(expand_braces("a}b").unwrap_err().contains("unmatched '}'"));
        let many = "{a,b,c,d}".repeat(5);
        assert!(expand_braces(&many).unwrap_err().contains("more than"));
    }

    #[test]
    fn stars_classes_braces_and_double_stars() {
        let g = |p: &str| PathGlob::new(p).unwrap();
        let m = |p: &str, path: &str| g(p).matches_path(Path::new(path));
        assert!(m("/var/log/*.log", "/var/log/output.log"));
        assert!(!m("/var/log/*.log", "/var/log/output.log.1"));
        assert!(
            !m("/var/log/*.log", "/var/log/sub/output.log"),
            "* stays in a component"
        );
        assert!(
            !m("/var/log/*.log", "/var/log/.hidden.log"),
            "no hidden files"
        );
        assert!(m("/var/log/bot-[0-9].log", "/var/log/bot-7.log"));
        assert!(!m("/var/log/bot-[0-9].log", "/var/log/bot-x.log"));
        assert!(m("/var/log/bot-[!0-9].log", "/var/log/bot-x.log"));
        assert!(m("/var/log/{a,b}.log", "/var/log/b.log"));
        assert!(!m("/var/log/{a,b}.log", "/var/log/c.log"));
        assert!(m("/data/**/*.json", "/data/u1/2026/x.json"));
        assert!(m("/data/**/*.json", "/data/x.json"));
        assert!(m("/tmp/[*]", "/tmp/*"));
        assert!(!g("/x/{a,b}.log").matches_name(OsStr::new("a.log")));
        assert!(g("{a,b}.log").matches_name(OsStr::new("a.log")));
        assert!(!g("*.log").matches_name(OsStr::new(".a.log")));
    }

    #[test]
    fn bad_patterns_say_what_and_where() {
        let e = PathGlob::new("/tmp/[").unwrap_err();
        assert!(e.contains("position 5"), "{e}");
        let e = PathGlob::new("/tmp/{a,x**y}").unwrap_err();
        assert!(e.contains("\"/tmp/x**y\""), "{e}");
        assert!(PathGlob::new("/tmp/{a").is_err());
    }

    #[test]
    fn walk_finds_each_match_once() {
        let tmp = tempfile::tempdir().unwrap();
        for d in ["a", "b", "c"] {
            std::fs::create_dir(tmp.path().join(d)).unwrap();
            std::fs::write(tmp.path().join(d).join("x.log"), b"").unwrap();
        }
        let base = tmp.path().display();
        let g = PathGlob::new(&format!("{base}/{{a,b,a}}/*.log")).unwrap();
        let (found, problems) = g.walk();
        assert!(problems.is_empty());
        assert_eq!(
            found,
            [tmp.path().join("a/x.log"), tmp.path().join("b/x.log")]
        );
        let g = PathGlob::new(&format!("{base}/**/x.log")).unwrap();
        assert_eq!(g.walk().0.len(), 3);
    }
}
