//! Listing a segment directory: the one place that reads a directory and keeps the files logveil named
//! (writer recovery, `seal`'s journal, `cat`, retention, `ship`, audit and tail's reconciliation all list
//! through here). Directories are read through a handle ([`crate::fsutil::Dir`]); a tree (`cat` of a
//! directory fetched from object storage, one subdirectory per host) is entered through handles too,
//! never through a symlink.

use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::FileType;

use super::name::SegmentName;
use crate::fsutil::Dir;

/// A file of a segment directory whose name parses as a segment name.
#[derive(Debug, Clone)]
pub struct Listed {
    pub name: SegmentName,
    pub path: PathBuf,
    /// The directory entry's type (a symlink is a symlink, not what it points to).
    pub file_type: FileType,
}

impl Listed {
    /// Whether the entry is a regular file (not a symlink, a directory, ...).
    pub fn is_file(&self) -> bool {
        self.file_type == FileType::RegularFile
    }
}

/// Every file of `dir` named like a segment (sealed, truncated or `.partial`), of every stream, in data
/// order (stream by stream). Other files are left out.
pub fn list(dir: &Path) -> io::Result<Vec<Listed>> {
    list_in(&Dir::open(dir)?)
}

/// As [`list`], through an opened directory.
pub fn list_in(dir: &Dir) -> io::Result<Vec<Listed>> {
    walk(dir, false)
}

/// The files of one stream (as it appears in file names), in data order, through an opened directory.
pub fn list_stream_in(dir: &Dir, stream: &str) -> io::Result<Vec<Listed>> {
    let mut all = list_in(dir)?;
    all.retain(|l| l.name.stream == stream);
    Ok(all)
}

/// As [`list`], with the segments of the directories under `dir` (a tree fetched with `rclone copy` or
/// mounted with `rclone mount`: one directory per host): stream by stream, and within a stream by the time
/// of the first record across hosts, each directory's own order (first record, then sequence) kept.
/// Hidden directories (`.incoming`, the ship's staging) and symlinks are not entered.
pub fn list_tree(dir: &Path) -> io::Result<Vec<Listed>> {
    walk(&Dir::open(dir)?, true)
}

fn walk(top: &Dir, descend: bool) -> io::Result<Vec<Listed>> {
    // Each file with the directory it is in (for the order across hosts).
    let mut found: Vec<(PathBuf, Listed)> = Vec::new();
    let mut below = read_one(top, descend, &mut found)?;
    while let Some(d) = below.pop() {
        below.extend(read_one(&d, descend, &mut found)?);
    }
    found.sort_by(|(da, a), (db, b)| {
        (&a.name.stream, a.name.first, da, a.name.seq).cmp(&(
            &b.name.stream,
            b.name.first,
            db,
            b.name.seq,
        ))
    });
    Ok(found.into_iter().map(|(_, l)| l).collect())
}

/// The segment files of `d` into `found`; its subdirectories to enter (when `descend`).
fn read_one(d: &Dir, descend: bool, found: &mut Vec<(PathBuf, Listed)>) -> io::Result<Vec<Dir>> {
    let mut below = Vec::new();
    for (file_name, file_type) in d.entries()? {
        let Some(text) = file_name.to_str() else {
            continue;
        };
        if file_type == FileType::Directory {
            if descend && !text.starts_with('.') {
                below.push(d.open_dir(&file_name)?);
            }
            continue;
        }
        let Some(name) = SegmentName::parse(text) else {
            continue;
        };
        found.push((
            d.path().to_path_buf(),
            Listed {
                name,
                path: d.join(text),
                file_type,
            },
        ));
    }
    Ok(below)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn lists_segments_in_data_order_and_one_stream_apart() {
        let tmp = tempfile::tempdir().unwrap();
        let sealed = |stream: &str, seq: u64| {
            let t: jiff::Timestamp = "2026-11-25T10:00:00Z".parse().unwrap();
            SegmentName::sealed(stream, t, t, seq).to_string()
        };
        let files = [
            sealed("y", 2),
            sealed("x", 7),
            sealed("y", 1),
            "y.lock".into(),
        ];
        for n in &files {
            fs::write(tmp.path().join(n), b"").unwrap();
        }
        let names =
            |v: Vec<Listed>| -> Vec<String> { v.into_iter().map(|l| l.name.to_string()).collect() };
        assert_eq!(
            names(list(tmp.path()).unwrap()),
            [sealed("x", 7), sealed("y", 1), sealed("y", 2)]
        );
        let d = Dir::open(tmp.path()).unwrap();
        assert_eq!(
            names(list_stream_in(&d, "y").unwrap()),
            [sealed("y", 1), sealed("y", 2)]
        );
        assert!(list(&tmp.path().join("missing")).is_err());
    }
}
