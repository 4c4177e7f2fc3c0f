//! Listing a segment directory: the one place that reads a directory and keeps the files logveil named
//! (writer recovery, `cat`, retention, audit and tail's reconciliation all list through here).

use std::fs::{self, FileType};
use std::io;
use std::path::{Path, PathBuf};

use super::name::{data_order, SegmentName};

/// A file of a segment directory whose name parses as a segment name.
#[derive(Debug, Clone)]
pub struct Listed {
    pub name: SegmentName,
    pub path: PathBuf,
    /// The directory entry's type (a symlink is a symlink, not what it points to).
    pub file_type: FileType,
}

/// Every file of `dir` named like a segment (sealed, truncated or `.partial`), of every stream, in data
/// order (stream by stream). Other files are left out.
pub fn list(dir: &Path) -> io::Result<Vec<Listed>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().and_then(SegmentName::parse) else {
            continue;
        };
        out.push(Listed {
            name,
            path: entry.path(),
            file_type: entry.file_type()?,
        });
    }
    out.sort_by(|a, b| data_order(&a.name, &b.name));
    Ok(out)
}

/// The files of one stream (as it appears in file names), in data order.
pub fn list_stream(dir: &Path, stream: &str) -> io::Result<Vec<Listed>> {
    let mut all = list(dir)?;
    all.retain(|l| l.name.stream == stream);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            names(list_stream(tmp.path(), "y").unwrap()),
            [sealed("y", 1), sealed("y", 2)]
        );
        assert!(list(&tmp.path().join("missing")).is_err());
    }
}
