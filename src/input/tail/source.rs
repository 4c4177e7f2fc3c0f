//! One followed path: the files it has pointed to (generations), reading complete lines, rotation, and the
//! map from the stream position handed out to (file, offset) for checkpoints.
//!
//! Generations are read strictly one after the other. When the path points to another file (rotation by
//! rename and create, deletion, replacement), the old file is *retired*: it stays open and is read to its
//! end, and only once it has been idle for `rotate_wait` (a writer that has not reopened the path yet may
//! still append to it) is its unterminated last line, if any, handed out and the next file started. The new
//! file is opened as soon as it is seen, so a second rotation during that wait cannot hide it.
//!
//! `copytruncate` keeps the file and truncates it: the size drops below our offset (or the first bytes no
//! longer match the fingerprint when the writer already wrote past it). Reading starts again at 0. The lines
//! written between our last read and logrotate's copy are then in the copy (`output.log.1`, found by
//! fingerprint), and are read from there, from our offset to the copy's end. What the writer appends between
//! the copy and the truncation is lost: that window belongs to copytruncate itself.

use std::collections::VecDeque;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::checkpoint::{Checkpoint, FilePos};
use super::identity::{FileId, Fingerprint, FP_LEN};
use super::spec::rotated_siblings;
use super::TailOptions;

/// A retired file still growing this long after its rotation is left (with a warning) once a newer one
/// exists: its writer never reopened the path.
const RETIRE_MAX: Duration = Duration::from_secs(300);
/// More generations than this waiting behind each other means rotation outruns reading.
const MAX_GENERATIONS: usize = 256;

/// How a source's start position was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// No checkpoint: the file is read from its beginning.
    Fresh,
    /// The checkpointed file was found (at the path or among its rotated siblings): reading resumes exactly.
    Exact,
    /// A checkpoint exists but its file is gone (removed, compressed): the current file is read from its
    /// beginning and what the old file held past the checkpoint is lost.
    Lost,
}

/// Bytes handed out: whole lines (or a piece of a line longer than the read buffer) of one source.
#[derive(Debug)]
pub struct Chunk<'a> {
    pub source: usize,
    pub bytes: &'a [u8],
    /// The source's stream position after these bytes (opaque, monotonic within a process; see
    /// [`super::Tailer::commit`]).
    pub end: u64,
    /// The file these bytes came from is finished (rotated away or deleted, and idle): its unterminated last
    /// line, if any, is in `bytes`; flush any line still held back.
    pub end_of_file: bool,
}

struct Generation {
    file: File,
    id: FileId,
    fp: Fingerprint,
    offset: u64,
    /// Where it was found (the source path, or a rotated sibling), for logs.
    name: PathBuf,
    retired_at: Option<Instant>,
    serial: u64,
}

/// From this stream position on, data comes from `file` starting at its offset (None: no file yet).
struct Mark {
    pos: u64,
    serial: Option<u64>,
    file: Option<FilePos>,
}

/// One followed path.
pub struct Source {
    pub(super) path: PathBuf,
    pub(super) stream: String,
    gens: VecDeque<Generation>,
    marks: VecDeque<Mark>,
    pos: u64,
    next_serial: u64,
    resume: Resume,
    checkpoint: Option<Checkpoint>,
    missing_logged: bool,
    error_logged: bool,
}

impl Source {
    /// Finds where to start from the checkpoint (if any) and opens the files to read.
    pub(super) fn new(path: PathBuf, stream: String, checkpoint: Option<Checkpoint>) -> Source {
        let mut s = Source {
            path,
            stream,
            gens: VecDeque::new(),
            marks: VecDeque::new(),
            pos: 0,
            next_serial: 0,
            resume: Resume::Fresh,
            checkpoint: None,
            missing_logged: false,
            error_logged: false,
        };
        s.resume = s.resolve(checkpoint.as_ref());
        s.checkpoint = checkpoint;
        s.head_changed();
        s
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The segment stream this source writes to.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    pub fn resume(&self) -> Resume {
        self.resume
    }

    /// The checkpoint loaded at start (None for a fresh source).
    pub fn loaded_checkpoint(&self) -> Option<&Checkpoint> {
        self.checkpoint.as_ref()
    }

    /// Stream position handed out so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Files open for this source (the current one and rotated ones still being read).
    pub fn open_files(&self) -> usize {
        self.gens.len()
    }

    fn serial(&mut self) -> u64 {
        self.next_serial += 1;
        self.next_serial
    }

    fn generation(&mut self, file: File, meta: &Metadata, name: &Path, offset: u64) -> Generation {
        Generation {
            file,
            id: FileId::of(meta),
            fp: Fingerprint::empty(),
            offset,
            name: name.to_path_buf(),
            retired_at: None,
            serial: self.serial(),
        }
    }

    /// Start position: the checkpointed file at the path, or among its rotated siblings, or from scratch.
    fn resolve(&mut self, ck: Option<&Checkpoint>) -> Resume {
        let path = self.path.clone();
        let live = open_with_meta(&path);
        let live_id = live.as_ref().map(|(_, m)| FileId::of(m));
        let start_live = |s: &mut Source, live: Option<(File, Metadata)>| {
            if let Some((f, m)) = live {
                let g = s.generation(f, &m, &path, 0);
                s.gens.push_back(g);
            }
        };
        let Some(ck) = ck else {
            start_live(self, live);
            return Resume::Fresh;
        };
        let Some(at) = &ck.file else {
            start_live(self, live);
            return Resume::Exact;
        };
        if let Some((f, m)) = &live {
            if FileId::of(m) == at.id && m.len() >= at.offset && at.fp.matches(f).unwrap_or(false) {
                let (f, m) = live.unwrap();
                let mut g = self.generation(f, &m, &path, at.offset);
                g.fp = at.fp.clone();
                self.gens.push_back(g);
                return Resume::Exact;
            }
        }
        // Rotated away (or truncated by copytruncate) while we were down: look among the siblings.
        let siblings: Vec<(PathBuf, File, Metadata)> = rotated_siblings(&path)
            .into_iter()
            .filter_map(|p| open_with_meta(&p).map(|(f, m)| (p, f, m)))
            .filter(|(_, _, m)| Some(FileId::of(m)) != live_id)
            .collect();
        let found = siblings
            .iter()
            .position(|(_, f, m)| {
                FileId::of(m) == at.id && m.len() >= at.offset && at.fp.matches(f).unwrap_or(false)
            })
            .or_else(|| {
                siblings.iter().position(|(_, f, m)| {
                    at.fp.identifies_alone()
                        && m.len() >= at.offset
                        && at.fp.matches(f).unwrap_or(false)
                })
            });
        let Some(i) = found else {
            tracing::warn!(
                source = %path.display(),
                offset = at.offset,
                "tail: the checkpointed file is neither at the path nor among its uncompressed rotated \
                 siblings (removed or compressed while logveil was stopped); lines it held past the \
                 checkpoint are lost; reading the current file from its start"
            );
            start_live(self, live);
            return Resume::Lost;
        };
        let mut siblings = siblings;
        let (name, f, m) = siblings.swap_remove(i);
        let mtime = m.modified().ok();
        tracing::info!(
            source = %path.display(),
            file = %name.display(),
            offset = at.offset,
            "tail: checkpointed file was rotated while logveil was stopped; reading it to its end"
        );
        let mut g = self.generation(f, &m, &name, at.offset);
        g.fp = at.fp.clone();
        g.retired_at = Some(Instant::now());
        self.gens.push_back(g);
        // Siblings rotated after it were never read: by number (`.1` is newer than `.2`), else by mtime.
        let number = rotation_number(&name);
        let mut newer: Vec<_> = siblings
            .into_iter()
            .filter(|(p, _, sm)| match (rotation_number(p), number) {
                (Some(a), Some(b)) => a < b,
                _ => match (sm.modified().ok(), mtime) {
                    (Some(a), Some(b)) => a > b,
                    _ => false,
                },
            })
            .collect();
        newer.sort_by_key(|(p, _, sm)| (std::cmp::Reverse(rotation_number(p)), sm.modified().ok()));
        for (name, f, m) in newer {
            tracing::info!(source = %path.display(), file = %name.display(), "tail: reading a rotated file never read");
            let mut g = self.generation(f, &m, &name, 0);
            g.retired_at = Some(Instant::now());
            self.gens.push_back(g);
        }
        start_live(self, live);
        Resume::Exact
    }

    /// Records where the stream position now maps to, after the file at the head changed.
    fn head_changed(&mut self) {
        let mark = match self.gens.front() {
            Some(g) => Mark {
                pos: self.pos,
                serial: Some(g.serial),
                file: Some(FilePos {
                    id: g.id,
                    fp: g.fp.clone(),
                    offset: g.offset,
                }),
            },
            None => Mark {
                pos: self.pos,
                serial: None,
                file: None,
            },
        };
        self.marks.push_back(mark);
    }

    /// The checkpoint for stream position `end` (which must not exceed [`Source::position`]). Forgets
    /// positions before it.
    pub(super) fn checkpoint_at(&mut self, end: u64, segment: Option<String>) -> Checkpoint {
        debug_assert!(end <= self.pos);
        let i = self
            .marks
            .iter()
            .rposition(|m| m.pos <= end)
            .unwrap_or_default();
        self.marks.drain(..i);
        let m = &self.marks[0];
        debug_assert!(m.pos <= end, "checkpoints only move forward");
        Checkpoint {
            source: self.path.clone(),
            file: m.file.as_ref().map(|f| FilePos {
                offset: f.offset + end.saturating_sub(m.pos),
                ..f.clone()
            }),
            segment,
        }
    }

    /// Looks at the path: a new file there retires the current one.
    pub(super) fn check_path(&mut self) {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) => {
                if e.kind() == io::ErrorKind::NotFound {
                    if !self.missing_logged {
                        tracing::info!(source = %self.path.display(), "tail: file does not exist (yet); waiting for it");
                        self.missing_logged = true;
                    }
                    self.retire_live("removed or renamed");
                } else if !self.error_logged {
                    // Not a rotation (permissions, I/O): keep reading the open file, look again later.
                    tracing::warn!(source = %self.path.display(), error = %e, "tail: cannot stat");
                    self.error_logged = true;
                }
                return;
            }
        };
        if !meta.is_file() {
            return;
        }
        let id = FileId::of(&meta);
        if self.gens.back().map(|g| g.id) == Some(id) {
            return;
        }
        // A new file at the path. Open it now, so that it cannot be rotated away unseen.
        let (f, m) = match File::open(&self.path).and_then(|f| f.metadata().map(|m| (f, m))) {
            Ok(fm) => fm,
            Err(e) => {
                // Gone since the stat is a rotation the next pass sees; anything else (permissions) is
                // said once, and tried again at every check.
                if e.kind() != io::ErrorKind::NotFound && !self.error_logged {
                    tracing::warn!(source = %self.path.display(), error = %e, "tail: cannot open; nothing is read from it until it can be");
                    self.error_logged = true;
                }
                return;
            }
        };
        if FileId::of(&m) != id {
            return; // rotated between stat and open: the next pass sees the newest
        }
        if self.gens.len() >= MAX_GENERATIONS {
            if !self.error_logged {
                tracing::error!(source = %self.path.display(), waiting = self.gens.len(), "tail: files rotate faster than they are read; not opening more");
                self.error_logged = true;
            }
            return;
        }
        self.missing_logged = false;
        self.error_logged = false;
        self.retire_live("rotated");
        let path = self.path.clone();
        let g = self.generation(f, &m, &path, 0);
        tracing::debug!(source = %self.path.display(), ino = g.id.ino, "tail: new file");
        self.gens.push_back(g);
        if self.gens.len() == 1 {
            self.head_changed();
        }
    }

    fn retire_live(&mut self, why: &str) {
        if let Some(g) = self.gens.back_mut() {
            if g.retired_at.is_none() {
                tracing::info!(source = %self.path.display(), ino = g.id.ino, "tail: file {why}; reading it to its end");
                g.retired_at = Some(Instant::now());
            }
        }
    }

    /// Reads complete lines from the current file(s), at most about `budget` bytes. Returns the bytes handed
    /// out and whether more are waiting (the budget ran out).
    pub(super) fn read<E>(
        &mut self,
        index: usize,
        buf: &mut [u8],
        budget: u64,
        opts: &TailOptions,
        emit: &mut dyn FnMut(Chunk<'_>) -> Result<(), E>,
    ) -> Result<(u64, bool), E> {
        let mut done = 0u64;
        loop {
            let waiting = self.gens.len();
            let Some(g) = self.gens.front_mut() else {
                return Ok((done, false));
            };
            let meta = match g.file.metadata() {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(source = %self.path.display(), file = %g.name.display(), error = %e, "tail: cannot stat open file");
                    return Ok((done, false));
                }
            };
            let size = meta.len();
            if g.retired_at.is_none()
                && (size < g.offset || (g.fp.len > 0 && !g.fp.matches(&g.file).unwrap_or(true)))
            {
                self.restart_truncated(size);
                continue;
            }
            if g.retired_at.is_some() && size < g.offset {
                tracing::warn!(source = %self.path.display(), file = %g.name.display(), "tail: rotated file shrank; leaving it");
                self.finish_head(index, &[], emit)?;
                continue;
            }
            // Complete lines.
            while g.offset < size && done < budget {
                let want = (size - g.offset).min(buf.len() as u64) as usize;
                let n = match read_at(&g.file, &mut buf[..want], g.offset) {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(source = %self.path.display(), file = %g.name.display(), error = %e, "tail: read failed; retrying later");
                        return Ok((done, false));
                    }
                };
                let cut = match memchr::memrchr(b'\n', &buf[..n]) {
                    Some(i) => i + 1,
                    None if n == buf.len() => n, // a piece of a line longer than the buffer
                    None => break,               // an incomplete last line: wait for its end
                };
                g.offset += cut as u64;
                self.pos += cut as u64;
                done += cut as u64;
                if !g.fp.is_full() && g.offset > u64::from(g.fp.len) {
                    upgrade_fingerprint(g, &mut self.marks);
                }
                emit(Chunk {
                    source: index,
                    bytes: &buf[..cut],
                    end: self.pos,
                    end_of_file: false,
                })?;
            }
            if done >= budget && g.offset < size {
                return Ok((done, true));
            }
            let Some(retired_at) = g.retired_at else {
                return Ok((done, false));
            };
            // A retired file: finished once it has been idle for rotate_wait (or for too long a newer exists).
            let idle = meta
                .modified()
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age >= opts.rotate_wait);
            let forced = retired_at.elapsed() >= RETIRE_MAX && waiting > 1;
            if !(idle || forced) {
                return Ok((done, false));
            }
            if forced && !idle {
                tracing::warn!(source = %self.path.display(), file = %g.name.display(), "tail: rotated file still written to minutes after rotation (does the writer reopen its log?); moving on, later lines in it are not read");
            }
            let rest = (size - g.offset) as usize;
            if rest > buf.len() {
                continue; // grew since: read more lines first
            }
            let n = match read_at(&g.file, &mut buf[..rest], g.offset) {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(source = %self.path.display(), file = %g.name.display(), error = %e, "tail: read failed; retrying later");
                    return Ok((done, false));
                }
            };
            if n < rest {
                continue;
            }
            g.offset += n as u64;
            self.pos += n as u64;
            done += n as u64;
            if !g.fp.is_full() && g.offset > u64::from(g.fp.len) {
                upgrade_fingerprint(g, &mut self.marks);
            }
            let (tail, _) = buf.split_at(n);
            self.finish_head(index, tail, emit)?;
        }
    }

    /// Hands out the last bytes of the head file and moves on to the next one.
    fn finish_head<E>(
        &mut self,
        index: usize,
        tail: &[u8],
        emit: &mut dyn FnMut(Chunk<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        if let Some(g) = self.gens.pop_front() {
            tracing::info!(source = %self.path.display(), file = %g.name.display(), offset = g.offset, "tail: finished reading rotated file");
        }
        emit(Chunk {
            source: index,
            bytes: tail,
            end: self.pos,
            end_of_file: true,
        })?;
        self.head_changed();
        Ok(())
    }

    /// The live file was truncated (copytruncate) or rewritten in place: read the unread rest of its copy,
    /// if logrotate left one, then the file again from its start.
    fn restart_truncated(&mut self, size: u64) {
        let Some(mut g) = self.gens.pop_front() else {
            return;
        };
        let old = FilePos {
            id: g.id,
            fp: g.fp.clone(),
            offset: g.offset,
        };
        let copy = if old.fp.identifies_alone() {
            rotated_siblings(&self.path)
                .into_iter()
                .filter_map(|p| open_with_meta(&p).map(|(f, m)| (p, f, m)))
                .find(|(_, f, m)| {
                    FileId::of(m) != old.id
                        && m.len() > old.offset
                        && old.fp.matches(f).unwrap_or(false)
                })
        } else {
            None
        };
        match &copy {
            Some((p, _, m)) => tracing::info!(
                source = %self.path.display(),
                offset = old.offset,
                size,
                copy = %p.display(),
                unread = m.len() - old.offset,
                "tail: file truncated in place (copytruncate); reading the rest of its copy, then the file \
                 again from its start"
            ),
            None => tracing::info!(
                source = %self.path.display(),
                offset = old.offset,
                size,
                "tail: file truncated in place (copytruncate?); reading it again from its start"
            ),
        }
        g.offset = 0;
        g.fp = Fingerprint::empty();
        g.serial = self.serial();
        self.gens.push_front(g);
        if let Some((name, f, m)) = copy {
            let mut c = self.generation(f, &m, &name, old.offset);
            c.fp = old.fp;
            c.retired_at = Some(Instant::now());
            self.gens.push_front(c);
        }
        self.head_changed();
    }
}

fn upgrade_fingerprint(g: &mut Generation, marks: &mut VecDeque<Mark>) {
    let len = g.offset.min(FP_LEN as u64);
    if let Ok(Some(fp)) = Fingerprint::read(&g.file, len) {
        g.fp = fp;
        for m in marks.iter_mut().filter(|m| m.serial == Some(g.serial)) {
            if let Some(f) = &mut m.file {
                f.fp = g.fp.clone();
            }
        }
    }
}

/// `N` of a logrotate-numbered sibling `name.N`.
fn rotation_number(p: &Path) -> Option<u64> {
    let name = p.file_name()?.to_str()?;
    name.rsplit_once('.')?.1.parse().ok()
}

fn open_with_meta(path: &Path) -> Option<(File, Metadata)> {
    let f = File::open(path).ok()?;
    let m = f.metadata().ok()?;
    m.is_file().then_some((f, m))
}

/// Reads as much as available of `buf.len()` bytes at `offset` (short only at end of file).
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
