//! Sealing one rotated file (`logveil seal`): its whole content into segments of its stream, made durable,
//! and only then the plaintext removed. Idempotent: running it again on the same file after a kill, a
//! full disk or a plaintext that could not be removed leaves every line in the segments exactly once.
//!
//! A journal beside the segments (`.STREAM.seal-DEV-INO`, see [`crate::sink::name::seal_journal_name`])
//! records which file is being sealed (device, inode, birth time or size and mtime: never its content), the
//! first sequence number of the run, and whether everything is sealed:
//!
//! ```text
//!   open the writer (stream lock) ──> journal "sealing, from SEQ" ──> segments ──> journal "sealed"
//!     ──> plaintext removed ──> journal removed
//! ```
//!
//! A run that fails removes what it wrote (its `.partial`, its segments) and its journal. A run that was
//! killed leaves the journal: the next run of the same file removes the segments and `.partial` from SEQ
//! on (with a warning naming each) and seals the file again; if the journal says "sealed", only the
//! plaintext is left to remove and nothing is sealed twice.
//!
//! A file that another process still holds open for writing (found in /proc, see
//! [`crate::input::open_writers`]) is not sealed: what that process writes after the file was read would be
//! lost with it. `seal` waits a while for it to be closed (a bot reopening its log after logrotate's
//! `create`), then refuses it, unless told to seal it anyway ([`OpenWriterPolicy::Ignore`], `--force`).
//! Where it cannot tell (no /proc; without CAP_SYS_PTRACE, another user's process that may write the file)
//! it says so and seals.

use std::ffi::OsStr;
use std::fs::{self, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use jiff::Timestamp;

use super::{SealingStream, SinkSetup};
use crate::fsutil::{parent_dir, sync_dir, Dir, FILE_MODE};
use crate::input::file::open_rotated;
use crate::input::open_writers::{self, Target};
use crate::input::stdin::READ_SIZE;
use crate::parallel::ParallelRedactor;
use crate::redact::Engine;
use crate::sink::dir::list_stream_in;
use crate::sink::name::{is_seal_journal_name, seal_journal_name};
use crate::sink::{PartialPolicy, Sealed, SinkError};

/// Why a file could not be sealed (it is then kept).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("cannot stat")]
    Stat(#[source] io::Error),
    #[error("cannot open")]
    Open(#[source] io::Error),
    #[error(
        "still open for writing by {writers}{waited}: not sealed (give --force to seal it anyway; what the \
         writer writes afterwards is then lost with the file)"
    )]
    StillWritten { writers: String, waited: String },
    #[error("reading failed at input byte {offset}")]
    Read {
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("seal journal {}", path.display())]
    Journal {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
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
    /// An earlier run had sealed it all already (only its plaintext was left to remove).
    pub already_sealed: bool,
}

/// What [`seal_file`] does with a file another process still holds open for writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenWriterPolicy {
    /// Wait up to this long for it to be closed, then refuse it (kept, nothing sealed).
    WaitThenRefuse(Duration),
    /// Seal it anyway; what the writer writes afterwards is lost with the file.
    Ignore,
}

/// How a file is sealed.
#[derive(Debug, Clone, Copy)]
pub struct SealFileOptions {
    /// Keep the plaintext after sealing it.
    pub keep: bool,
    pub open_writers: OpenWriterPolicy,
    /// Redaction threads (see [`crate::parallel`]).
    pub threads: std::num::NonZeroUsize,
}

/// How often a file still open for writing is looked at again.
const WRITER_RECHECK: Duration = Duration::from_millis(200);

/// Seals `path` into segments of `stream`, named by the file's modification time (the time of its last
/// record); then removes it unless `opts.keep`. A file that cannot be read to its end, or whose segments
/// cannot be written, or that another process still writes (see [`OpenWriterPolicy`]), leaves nothing
/// sealed.
pub fn seal_file(
    path: &Path,
    stream: &str,
    setup: &SinkSetup,
    engine: &Arc<Engine>,
    opts: SealFileOptions,
) -> Result<SealReport, SealError> {
    let keep = opts.keep;
    let meta = fs::symlink_metadata(path).map_err(SealError::Stat)?;
    if let OpenWriterPolicy::WaitThenRefuse(wait) = opts.open_writers {
        wait_for_writers(path, &Target::of(&meta), wait)?;
    }
    let time = meta
        .modified()
        .ok()
        .and_then(|t| Timestamp::try_from(t).ok())
        .unwrap_or_else(Timestamp::now);
    let id = Identity::of(path, &meta);
    let stream_name = crate::stream_name::sanitize_stream(stream);
    let journal = Journal::name(&stream_name, &id);
    let journal = OsStr::new(&journal);
    // The segment directory may not be there yet (the writer creates it): then there is no journal.
    let existing = Dir::open(setup.dir()).ok();
    let earlier = existing.as_ref().and_then(|d| Journal::read(d, journal)).filter(|j| {
        let same = j.id.same_file(&id);
        if !same {
            tracing::warn!(journal = %setup.dir().join(journal).display(), "seal: a journal of another file with this inode (that file is gone); its segments are kept");
        }
        same
    });
    if let (Some(j), Some(dir)) = (earlier.as_ref().filter(|j| j.sealed), &existing) {
        tracing::info!(file = %path.display(), "seal: an earlier run sealed this file completely; not sealing it again");
        finish_plaintext(path, keep, dir, journal)?;
        return Ok(SealReport {
            sealed: Vec::new(),
            input_bytes: j.id.size,
            redactions: 0,
            already_sealed: true,
        });
    }
    let mut input = open_rotated(path, false).map_err(SealError::Open)?;
    // Before anything is written for this file.
    let parallel = crate::parallel::Options {
        threads: opts.threads,
        ..crate::parallel::Options::default()
    };
    let redactor = ParallelRedactor::new(engine.clone(), parallel)
        .map_err(|e| SinkError::io("start the redaction threads for", path, e))?;
    let policy = match &earlier {
        Some(j) => PartialPolicy::RemoveFrom(j.first_seq),
        None => PartialPolicy::KeepAsTruncated,
    };
    let writer = setup.open_writer(stream, policy)?;
    // The directory as the writer opened it (the stream lock is held).
    let dir = writer
        .dir_handle()
        .try_clone()
        .map_err(|e| SinkError::io("open", writer.dir(), e))?;
    if let Some(j) = &earlier {
        remove_earlier_run(&dir, writer.stream(), j.first_seq)?;
    }
    remove_stale_journals(&dir, writer.stream(), journal);
    let mut state = Journal {
        id: id.clone(),
        first_seq: writer.next_seq(),
        sealed: false,
    };
    state.write(&dir, journal)?;

    let mut s = SealingStream::new(engine, writer, setup.metrics.clone()).in_parallel(redactor);
    let mut buf = vec![0u8; READ_SIZE];
    let mut sealed = Vec::new();
    let result = (|| -> Result<(), SealError> {
        loop {
            let n = match input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(SealError::Read {
                        offset: s.position(),
                        source: e,
                    })
                }
            };
            let pushed = s.push(&buf[..n], time);
            sealed.extend(s.take_sealed());
            pushed?;
        }
        s.end_of_input(time, false)?;
        let finished = s.finish_segment(time);
        sealed.extend(s.take_sealed());
        Ok(finished?)
    })();
    if let Err(e) = result {
        // The file stays. Whatever of it was written goes (a partial copy would be sealed twice by the
        // next run, and a .partial would keep filling a full disk): the open segment and the finished ones.
        let mut clean = true;
        if let Err(a) = s.abort() {
            tracing::warn!(error = %a, "seal: cannot remove the unfinished segment of a file that failed; the next run removes it");
            clean = false;
        }
        for seg in &sealed {
            clean &= remove_segment(&dir, seg);
        }
        if clean {
            Journal::remove(&dir, journal);
        }
        return Err(e);
    }
    let (input_bytes, redactions) = (s.position(), s.redactions());
    drop(s);
    // The segments are durable (fsync, rename, fsync of the directory): say so, then the plaintext goes.
    state.sealed = true;
    state.write(&dir, journal)?;
    finish_plaintext(path, keep, &dir, journal)?;
    Ok(SealReport {
        sealed,
        input_bytes,
        redactions,
        already_sealed: false,
    })
}

/// Returns once no other process holds the file open for writing (or when that cannot be told: said as a
/// warning); waits up to `wait` for it, then refuses.
fn wait_for_writers(path: &Path, target: &Target, wait: Duration) -> Result<(), SealError> {
    let start = Instant::now();
    let mut said = false;
    loop {
        let scan = open_writers::scan(target);
        if scan.writers.is_empty() {
            if let Some(why) = &scan.blind {
                tracing::warn!(file = %path.display(), "seal: cannot tell whether the file is still open for writing: {why}; sealing it");
            } else if scan.unseen > 0 {
                tracing::warn!(
                    file = %path.display(),
                    "seal: cannot tell whether the file is still open for writing: the open files of {} \
                     process{} that may write it cannot be looked at ({}); sealing it",
                    scan.unseen,
                    if scan.unseen == 1 { "" } else { "es" },
                    scan.unseen_why
                );
            }
            if said {
                tracing::info!(file = %path.display(), "seal: closed by its writer; sealing it");
            }
            return Ok(());
        }
        let writers = scan
            .writers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let waited = start.elapsed();
        if waited >= wait {
            return Err(SealError::StillWritten {
                writers,
                waited: if wait.is_zero() {
                    String::new()
                } else {
                    format!(" after waiting {}", shown(wait))
                },
            });
        }
        if !said {
            tracing::warn!(
                file = %path.display(),
                "seal: the file is open for writing by {writers}; waiting up to {} for it to be closed",
                shown(wait)
            );
            said = true;
        }
        std::thread::sleep(WRITER_RECHECK.min(wait - waited));
    }
}

/// `500ms`, `10s`, `2m`.
fn shown(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        crate::units::format_duration(d)
    }
}

/// Removes the sealed plaintext (unless `keep`), then the journal.
fn finish_plaintext(path: &Path, keep: bool, dir: &Dir, journal: &OsStr) -> Result<(), SealError> {
    if !keep {
        fs::remove_file(path).map_err(SealError::Remove)?;
        sync_dir(parent_dir(path)).map_err(SealError::SyncDir)?;
    }
    Journal::remove(dir, journal);
    Ok(())
}

/// Removes the segments and `.partial`s an earlier, unfinished run of the same file left: from its first
/// sequence number on (the stream lock is held).
fn remove_earlier_run(dir: &Dir, stream: &str, first_seq: u64) -> Result<(), SealError> {
    let listed = list_stream_in(dir, stream).map_err(|e| SinkError::io("list", dir.path(), e))?;
    let mut removed = false;
    for l in listed.into_iter().filter(|l| l.name.seq >= first_seq) {
        tracing::warn!(path = %l.path.display(), "seal: removed a segment of an earlier run of this file that did not finish (killed?); the file is sealed again");
        dir.remove(file_name(&l.path))
            .map_err(|e| SinkError::io("remove", &l.path, e))?;
        removed = true;
    }
    if removed {
        dir.sync()
            .map_err(|e| SinkError::io("fsync the directory", dir.path(), e))?;
    }
    Ok(())
}

/// The file name of a path in the segment directory.
fn file_name(path: &Path) -> &OsStr {
    path.file_name().unwrap_or_default()
}

/// Removes this stream's journals of runs that sealed everything and whose plaintext is gone since.
fn remove_stale_journals(dir: &Dir, stream: &str, current: &OsStr) {
    let Ok(names) = dir.names() else {
        return;
    };
    // What a killed journal write left (`..STREAM.seal-DEV-INO.PID.N.tmp`): no other run of this stream
    // writes one now (the stream lock is held).
    let temporary = format!(".{}", seal_journal_name(stream, 0, 0));
    let temporary = temporary.trim_end_matches("0-0");
    for name in names {
        let text = name.to_string_lossy();
        if text.starts_with(temporary) && text.ends_with(".tmp") {
            let _ = dir.remove(&name);
            continue;
        }
        if name == current || !is_seal_journal_name(&text, Some(stream)) {
            continue;
        }
        let Some(j) = Journal::read(dir, &name) else {
            continue;
        };
        let gone = fs::symlink_metadata(&j.id.path)
            .map(|m| !j.id.same_file(&Identity::of(&j.id.path, &m)))
            .unwrap_or(true);
        if j.sealed && gone {
            Journal::remove(dir, &name);
        }
    }
}

fn remove_segment(dir: &Dir, s: &Sealed) -> bool {
    let ok = match dir.remove(file_name(&s.path)) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(path = %s.path.display(), error = %e, "seal: cannot remove a segment of a file that failed");
            false
        }
    };
    let _ = dir.sync();
    ok
}

/// Which file is being sealed: never its content.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    path: PathBuf,
    dev: u64,
    ino: u64,
    /// Birth time (statx), in nanoseconds since the epoch, where the file system records it.
    btime: Option<i128>,
    size: u64,
    mtime: i128,
}

fn nanos(t: std::io::Result<SystemTime>) -> Option<i128> {
    let t = t.ok()?;
    Some(match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    })
}

impl Identity {
    fn of(path: &Path, m: &Metadata) -> Identity {
        Identity {
            path: path.to_path_buf(),
            dev: m.dev(),
            ino: m.ino(),
            btime: nanos(m.created()),
            size: m.len(),
            mtime: nanos(m.modified()).unwrap_or(0),
        }
    }

    /// The same file (not only the same inode, which a deleted file's successor may get): the same birth
    /// time, or without one the same size and modification time.
    fn same_file(&self, other: &Identity) -> bool {
        self.dev == other.dev
            && self.ino == other.ino
            && match (self.btime, other.btime) {
                (Some(a), Some(b)) => a == b,
                _ => self.size == other.size && self.mtime == other.mtime,
            }
    }
}

/// A seal journal's content.
#[derive(Debug)]
struct Journal {
    id: Identity,
    first_seq: u64,
    /// Every segment of the file is durable.
    sealed: bool,
}

const JOURNAL_MAGIC: &str = "logveil-seal-journal 1";

impl Journal {
    fn name(stream: &str, id: &Identity) -> String {
        seal_journal_name(stream, id.dev, id.ino)
    }

    /// Reads the journal `name` in `dir` (never through a symlink).
    fn read(dir: &Dir, name: &OsStr) -> Option<Journal> {
        let text = String::from_utf8(dir.read(name).ok()?).ok()?;
        let mut lines = text.lines();
        if lines.next() != Some(JOURNAL_MAGIC) {
            tracing::warn!(journal = %dir.join(name).display(), "seal: not a seal journal; ignored");
            return None;
        }
        let kv: std::collections::BTreeMap<&str, &str> =
            lines.filter_map(|l| l.split_once('=')).collect();
        let num = |k: &str| kv.get(k).and_then(|v| v.parse::<i128>().ok());
        Some(Journal {
            id: Identity {
                path: PathBuf::from(kv.get("source")?),
                dev: num("dev")? as u64,
                ino: num("ino")? as u64,
                btime: num("btime"),
                size: num("size")? as u64,
                mtime: num("mtime")?,
            },
            first_seq: num("first_seq")? as u64,
            sealed: kv.get("state") == Some(&"sealed"),
        })
    }

    /// Replaces the journal durably (a 0600 temporary file, fsync, rename, fsync of the directory; never
    /// through a symlink).
    fn write(&self, dir: &Dir, name: &OsStr) -> Result<(), SealError> {
        let err = |source| SealError::Journal {
            path: dir.join(name),
            source,
        };
        let i = &self.id;
        let mut text = format!(
            "{JOURNAL_MAGIC}\nsource={}\ndev={}\nino={}\nsize={}\nmtime={}\nfirst_seq={}\nstate={}\n",
            i.path.display(),
            i.dev,
            i.ino,
            i.size,
            i.mtime,
            self.first_seq,
            if self.sealed { "sealed" } else { "sealing" }
        );
        if let Some(b) = i.btime {
            text.push_str(&format!("btime={b}\n"));
        }
        crate::ownership::write_atomic(dir, name, text.as_bytes(), FILE_MODE, true, "seal journal")
            .map_err(err)
    }

    fn remove(dir: &Dir, name: &OsStr) {
        match dir.remove(name) {
            Ok(()) => {
                let _ = dir.sync();
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(journal = %dir.join(name).display(), error = %e, "seal: cannot remove the journal")
            }
        }
    }
}
