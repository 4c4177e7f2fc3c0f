//! Rewriting a finished segment without some of its lines (`forget`): decrypt, leave the lines out, gzip,
//! encrypt to the given recipients, and put the result in place of the old segment durably.
//!
//! The new segment is written under a temporary name `.NAME.forget.tmp` beside the old one (created
//! `O_EXCL | O_NOFOLLOW`, 0600: a symlink there is refused, never followed), fsynced, then renamed over
//! the old one and the directory fsynced. Before the rename it is read back with the identity that read the
//! old one: it must decrypt, whole, to the kept lines (so recipients that differ from the segment's are
//! caught even when their number and kinds match). The plaintext only ever streams through memory, and only
//! ciphertext reaches the disk: a crash at any point leaves the old segment or the new one under the
//! segment's name, never neither, and at most a temporary of ciphertext, which the next `forget` in that
//! directory removes ([`is_temp_name`]).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::filter::Select;
use super::name::SegmentName;
use super::reader::{read_segment_from, Identities, Outcome, ReadError};
use super::Recipients;
use crate::fsutil::{Dir, FILE_MODE};

const TEMP_SUFFIX: &str = ".forget.tmp";

/// The temporary name the new version of segment `name` is written under.
pub fn temp_name(name: &OsStr) -> OsString {
    let mut t = OsString::from(".");
    t.push(name);
    t.push(TEMP_SUFFIX);
    t
}

/// Whether `file_name` is a temporary of [`temp_name`] (of a segment's name).
pub fn is_temp_name(file_name: &str) -> bool {
    file_name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
        .and_then(SegmentName::parse)
        .is_some()
}

/// What a rewrite did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    pub lines_removed: u64,
    pub lines_kept: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    #[error("{}: cannot {what}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{}: cannot encrypt: {0}", path.display())]
    Encrypt { path: PathBuf, message: String },
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("{}: left as it is: {why}", path.display())]
    Verify { path: PathBuf, why: String },
    #[error("{}: read differently the second time ({second}); left as it is", path.display())]
    Changed { path: PathBuf, second: String },
}

/// Rewrites the segment `name` in `dir` (open as `old`) without the lines numbered in `drop` (in order,
/// from 0), encrypted to `recipients`. `first` is what the first pass over `old` found: the second pass
/// must read the same (outcome and number of lines), or nothing is replaced.
#[allow(clippy::too_many_arguments)]
pub fn rewrite_without(
    dir: &Dir,
    name: &OsStr,
    old: &mut File,
    ids: &Identities,
    recipients: &Recipients,
    drop: &[u64],
    first: (&Outcome, u64),
    gzip_level: u32,
) -> Result<Rewritten, RewriteError> {
    let path = dir.join(name);
    let tmp = temp_name(name);
    let tmp_path = dir.join(&tmp);
    let io_err = |what, p: &Path| {
        let p = p.to_path_buf();
        move |source| RewriteError::Io {
            what,
            path: p,
            source,
        }
    };
    let old_meta = old.metadata().map_err(io_err("stat", &path))?;
    // A temporary a crash left (ciphertext): a regular file is removed; anything else (a symlink) stays
    // and makes the create below fail.
    if let Ok(st) = dir.lstat(&tmp) {
        if rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile {
            dir.remove(&tmp).map_err(io_err("remove", &tmp_path))?;
        }
    }
    let file = dir
        .create_new(&tmp, FILE_MODE)
        .map_err(io_err("create", &tmp_path))?;
    // Run as root in a service user's directory: the segment stays that user's, as the writer made it.
    crate::ownership::adopt_or_warn(dir, &file, &tmp, "rewritten segment");
    let result = write_filtered(
        file, old, &path, &tmp_path, ids, recipients, drop, first, gzip_level,
    )
    .and_then(|(kept, removed, bytes_after, plain_bytes)| {
        // The identity that opened the old segment must open the new one, to all of it: recipients that
        // differ from the old ones in the key that matters are caught here, before anything is replaced.
        verify(dir, &tmp, &tmp_path, &path, ids, plain_bytes)?;
        // Replace only the file that was read (not one put in its place meanwhile).
        let now = dir.lstat(name).map_err(io_err("stat", &path))?;
        if now.st_dev != old_meta.dev() || now.st_ino != old_meta.ino() {
            return Err(RewriteError::Changed {
                path: path.clone(),
                second: "another file is now under its name".into(),
            });
        }
        dir.rename(&tmp, name)
            .map_err(io_err("rename over", &path))?;
        Ok(Rewritten {
            lines_removed: removed,
            lines_kept: kept,
            bytes_before: old_meta.len(),
            bytes_after,
        })
    });
    match result {
        Ok(r) => {
            dir.sync().map_err(io_err("fsync", dir.path()))?;
            Ok(r)
        }
        Err(e) => {
            let _ = dir.remove(&tmp);
            Err(e)
        }
    }
}

/// Reads the new segment back with `ids`: it must decrypt and decompress completely to `plain_bytes`.
fn verify(
    dir: &Dir,
    tmp: &OsStr,
    tmp_path: &Path,
    path: &Path,
    ids: &Identities,
    plain_bytes: u64,
) -> Result<(), RewriteError> {
    let file = dir.open_read(tmp).map_err(|source| RewriteError::Io {
        what: "read back",
        path: tmp_path.to_path_buf(),
        source,
    })?;
    let outcome = read_segment_from(file, tmp_path, ids, &mut io::sink())?;
    if outcome != (Outcome::Complete { bytes: plain_bytes }) {
        let why = match outcome {
            Outcome::Incomplete {
                problem: super::reader::Problem::NoMatchingIdentity,
                ..
            } => "the identity that opened it cannot open the rewritten one: the recipients given \
                  are not the ones it was written to"
                .to_string(),
            other => format!("the rewritten segment does not read back whole ({other:?})"),
        };
        return Err(RewriteError::Verify {
            path: path.to_path_buf(),
            why,
        });
    }
    Ok(())
}

/// Streams `old` through the line filter, gzip and age into `file`; fsyncs it. Returns the lines kept and
/// removed, the new size, and the plaintext bytes written.
#[allow(clippy::too_many_arguments)]
fn write_filtered(
    file: File,
    old: &mut File,
    path: &Path,
    tmp_path: &Path,
    ids: &Identities,
    recipients: &Recipients,
    drop: &[u64],
    (first_outcome, first_lines): (&Outcome, u64),
    gzip_level: u32,
) -> Result<(u64, u64, u64, u64), RewriteError> {
    let w_err = |source| RewriteError::Io {
        what: "write",
        path: tmp_path.to_path_buf(),
        source,
    };
    let enc_err = |message: String| RewriteError::Encrypt {
        path: path.to_path_buf(),
        message,
    };
    let encryptor = recipients.encryptor().map_err(|e| enc_err(e.to_string()))?;
    let age_w = encryptor
        .wrap_output(BufWriter::with_capacity(128 << 10, file))
        .map_err(w_err)?;
    let gz = flate2::write::GzEncoder::new(age_w, flate2::Compression::new(gzip_level));
    let mut sel = Select::new(gz, drop, false);
    old.seek(SeekFrom::Start(0))
        .map_err(|source| RewriteError::Io {
            what: "read",
            path: path.to_path_buf(),
            source,
        })?;
    let outcome = read_segment_from(&mut *old, path, ids, &mut sel)?;
    let total = sel.total_lines();
    if &outcome != first_outcome || total != first_lines {
        return Err(RewriteError::Changed {
            path: path.to_path_buf(),
            second: format!("{outcome:?}, {total} lines"),
        });
    }
    let plain_bytes = sel.passed_bytes;
    let (gz, kept, removed) = sel.finish();
    if removed != drop.len() as u64 {
        return Err(RewriteError::Changed {
            path: path.to_path_buf(),
            second: format!("{removed} lines to remove instead of {}", drop.len()),
        });
    }
    let age_w = gz.finish().map_err(w_err)?;
    let buf = age_w.finish().map_err(w_err)?;
    let mut file = buf.into_inner().map_err(|e| w_err(e.into_error()))?;
    file.flush().map_err(w_err)?;
    file.sync_all().map_err(w_err)?;
    let bytes_after = file.metadata().map_err(w_err)?.len();
    Ok((kept, removed, bytes_after, plain_bytes))
}
