//! Sealing one rotated file (`logveil seal`): its whole content into segments of its stream, made durable,
//! and only then the plaintext removed.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use jiff::Timestamp;

use super::{SealingStream, SinkSetup};
use crate::input::file::open_rotated;
use crate::input::stdin::READ_SIZE;
use crate::redact::Engine;
use crate::sink::fsutil::{parent_dir, sync_dir};
use crate::sink::{PartialPolicy, Sealed, SinkError};

/// Why a file could not be sealed (it is then kept).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("cannot stat")]
    Stat(#[source] io::Error),
    #[error("cannot open")]
    Open(#[source] io::Error),
    #[error("reading failed at input byte {offset}")]
    Read {
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("sealed, but cannot remove the plaintext")]
    Remove(#[source] io::Error),
    #[error("removed, but cannot fsync its directory")]
    SyncDir(#[source] io::Error),
}

/// What sealing one file did.
#[derive(Debug)]
pub struct SealReport {
    pub sealed: Vec<Sealed>,
    pub input_bytes: u64,
    pub redactions: u64,
}

/// Seals `path` into segments of `stream`, named by the file's modification time (the time of its last
/// record); then removes it unless `keep`. A file that cannot be read to its end leaves nothing sealed.
pub fn seal_file(
    path: &Path,
    stream: &str,
    setup: &SinkSetup,
    engine: &Engine,
    keep: bool,
) -> Result<SealReport, SealError> {
    let meta = fs::metadata(path).map_err(SealError::Stat)?;
    let time = meta
        .modified()
        .ok()
        .and_then(|t| Timestamp::try_from(t).ok())
        .unwrap_or_else(Timestamp::now);
    let mut input = open_rotated(path).map_err(SealError::Open)?;
    let writer = setup.open_writer(stream, PartialPolicy::KeepAsTruncated)?;
    let mut s = SealingStream::new(engine, writer, setup.metrics.clone());
    let mut buf = vec![0u8; READ_SIZE];
    let mut sealed = Vec::new();
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // The file stays; a segment holding part of it would duplicate it at the next run.
                // Segments finished by size before this point hold its beginning: remove them too.
                s.abort()?;
                sealed.extend(s.take_sealed());
                for seg in &sealed {
                    remove_segment(seg);
                }
                return Err(SealError::Read {
                    offset: s.position(),
                    source: e,
                });
            }
        };
        s.push(&buf[..n], time)?;
        sealed.extend(s.take_sealed());
    }
    s.end_of_input(time, false)?;
    s.finish_segment(time)?;
    sealed.extend(s.take_sealed());
    let (input_bytes, redactions) = (s.position(), s.redactions());
    drop(s);
    // The segments are durable (fsync, rename, fsync of the directory): only now the plaintext goes.
    if !keep {
        fs::remove_file(path).map_err(SealError::Remove)?;
        sync_dir(parent_dir(path)).map_err(SealError::SyncDir)?;
    }
    Ok(SealReport {
        sealed,
        input_bytes,
        redactions,
    })
}

fn remove_segment(s: &Sealed) {
    if let Err(e) = fs::remove_file(&s.path) {
        tracing::warn!(path = %s.path.display(), error = %e, "seal: cannot remove a segment of a file that failed");
    }
    let _ = sync_dir(parent_dir(&s.path));
}
