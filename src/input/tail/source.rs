//! One followed path: the files it has pointed to (generations), reading complete lines, rotation, and the
//! map from the stream position handed out to (file, offset) for checkpoints.
//!
//! Generations are read strictly one after the other. When the path points to another file (rotation by
//! rename and create, deletion, replacement), the old file is *retired*: it stays open and is read to its
//! end, and only once it has been idle for `rotate_wait` (a writer that has not reopened the path yet may
//! still append to it) is its unterminated last line, if any, handed out and the next file started. The new
//! file is opened as soon as it is seen, so a second rotation during that wait cannot hide it.
//!
//! `copytruncate` keeps the file and truncates it: the size drops below our offset, or, when the writer
//! already wrote past it, the first bytes no longer match the fingerprint or the bytes just before our
//! offset are no longer those we read (a file that starts with a constant banner keeps its first bytes).
//! Reading starts again at 0. The lines
//! written between our last read and logrotate's copy are then in the copy (`output.log.1`, found by
//! fingerprint), and are read from there, from our offset to the copy's end. What the writer appends between
//! the copy and the truncation is lost: that window belongs to copytruncate itself.

use std::collections::VecDeque;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::checkpoint::{Checkpoint, FilePos};
use super::identity::{FileId, Fingerprint, FpKey, BEFORE_LEN, FP_LEN};
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
    /// Shared with the marks, which read the bytes before a checkpoint's offset from it.
    file: Arc<File>,
    id: FileId,
    fp: Fingerprint,
    offset: u64,
    /// The last bytes read (up to [`BEFORE_LEN`] before `offset`): if the file no longer holds them there,
    /// it was truncated and written again.
    before: Vec<u8>,
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
    /// The file itself, until a checkpoint moves past this mark.
    handle: Option<Arc<File>>,
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
    key: FpKey,
    missing_logged: bool,
    error_logged: bool,
    /// Follow the path when it is a symlink out of its directory (`logveil.tail.follow_symlinks`).
    follow_symlinks: bool,
    /// The problem last reported for opening the path (reported again only when it changes).
    problem: Option<String>,
    /// Problems reported since [`Source::take_errors`].
    errors: u64,
}

impl Source {
    /// Finds where to start from the checkpoint (if any) and opens the files to read.
    pub(super) fn new(
        path: PathBuf,
        stream: String,
        checkpoint: Option<Checkpoint>,
        key: FpKey,
        follow_symlinks: bool,
    ) -> Source {
        let mut s = Source {
            path,
            stream,
            gens: VecDeque::new(),
            marks: VecDeque::new(),
            pos: 0,
            next_serial: 0,
            resume: Resume::Fresh,
            checkpoint: None,
            key,
            missing_logged: false,
            error_logged: false,
            follow_symlinks,
            problem: None,
            errors: 0,
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

    /// Whether the path cannot be read now (the problem was reported; it is looked at again at every poll).
    pub fn unreadable(&self) -> bool {
        self.problem.is_some()
    }

    /// Problems reported (logged) since the last call.
    pub(super) fn take_errors(&mut self) -> u64 {
        std::mem::take(&mut self.errors)
    }

    /// Opens the file at the source path; a problem (unreadable, a symlink out of the directory) is logged
    /// as an error naming the file, once until it changes, and counted.
    fn open_live(&mut self) -> Option<(File, Metadata)> {
        match open_source(&self.path, self.follow_symlinks) {
            Ok(found) => {
                if found.is_some() && self.problem.take().is_some() {
                    tracing::info!(source = %self.path.display(), "tail: source readable again");
                }
                found
            }
            Err(e) => {
                self.report(&e);
                None
            }
        }
    }

    fn report(&mut self, e: &io::Error) {
        let text = e.to_string();
        if self.problem.as_deref() != Some(text.as_str()) {
            tracing::error!(
                source = %self.path.display(),
                "tail: cannot read {}: {e}; looking again at every poll",
                self.path.display()
            );
            self.problem = Some(text);
            self.errors += 1;
        }
    }

    fn serial(&mut self) -> u64 {
        self.next_serial += 1;
        self.next_serial
    }

    /// A file to read from `offset` on (the bytes before it, up to [`BEFORE_LEN`], are read back now).
    fn generation(&mut self, file: File, meta: &Metadata, name: &Path, offset: u64) -> Generation {
        let len = offset.min(BEFORE_LEN as u64) as usize;
        let mut before = vec![0; len];
        if len > 0 && read_at(&file, &mut before, offset - len as u64).ok() != Some(len) {
            before.clear();
        }
        Generation {
            file: Arc::new(file),
            id: FileId::of(meta),
            fp: Fingerprint::empty(),
            offset,
            before,
            name: name.to_path_buf(),
            retired_at: None,
            serial: self.serial(),
        }
    }

    /// Start position: the checkpointed file at the path, or among its rotated siblings, or from scratch.
    fn resolve(&mut self, ck: Option<&Checkpoint>) -> Resume {
        let path = self.path.clone();
        let live = self.open_live();
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
        // A version-1 checkpoint's fingerprint is a plain digest: recognise its file with it, then
        // fingerprint the file again with this directory's key.
        let ck_key = if ck.keyed { self.key } else { FpKey::legacy() };
        // The same first bytes, and the same bytes just before the offset (a copytruncate while stopped
        // keeps a constant banner at the top, but not what was at the offset).
        let fp_matches = |f: &File| {
            at.fp.matches(&ck_key, f).unwrap_or(false)
                && at
                    .before
                    .matches_before(&ck_key, f, at.offset)
                    .unwrap_or(false)
        };
        let key = self.key;
        let rekey = |f: &File| {
            if ck.keyed {
                at.fp.clone()
            } else {
                Fingerprint::read(&key, f, u64::from(at.fp.len))
                    .ok()
                    .flatten()
                    .unwrap_or_else(Fingerprint::empty)
            }
        };
        if let Some((f, m)) = &live {
            if FileId::of(m) == at.id && m.len() >= at.offset && fp_matches(f) {
                let fp = rekey(f);
                let (f, m) = live.unwrap();
                let mut g = self.generation(f, &m, &path, at.offset);
                g.fp = fp;
                self.gens.push_back(g);
                return Resume::Exact;
            }
        }
        // Rotated away (or truncated by copytruncate) while we were down: look among the siblings.
        let follow = self.follow_symlinks;
        let siblings: Vec<(PathBuf, File, Metadata)> = rotated_siblings(&path)
            .into_iter()
            .filter_map(|p| open_sibling(&p, follow).map(|(f, m)| (p, f, m)))
            .filter(|(_, _, m)| Some(FileId::of(m)) != live_id)
            .collect();
        let found = siblings
            .iter()
            .position(|(_, f, m)| FileId::of(m) == at.id && m.len() >= at.offset && fp_matches(f))
            .or_else(|| {
                siblings.iter().position(|(_, f, m)| {
                    at.fp.identifies_alone() && m.len() >= at.offset && fp_matches(f)
                })
            });
        let Some(i) = found else {
            if live_id == Some(at.id) {
                tracing::warn!(
                    source = %path.display(),
                    offset = at.offset,
                    "tail: the file was truncated or rewritten while logveil was stopped (copytruncate?) and \
                     no copy of it was found among its uncompressed rotated siblings; reading it again from \
                     its start (lines it held past the checkpoint before that are lost)"
                );
            } else {
                tracing::warn!(
                    source = %path.display(),
                    offset = at.offset,
                    "tail: the checkpointed file is neither at the path nor among its uncompressed rotated \
                     siblings (removed or compressed while logveil was stopped); lines it held past the \
                     checkpoint are lost; reading the current file from its start"
                );
            }
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
        let fp = rekey(&f);
        let mut g = self.generation(f, &m, &name, at.offset);
        g.fp = fp;
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
                    before: Fingerprint::empty(),
                }),
                handle: Some(Arc::clone(&g.file)),
            },
            None => Mark {
                pos: self.pos,
                serial: None,
                file: None,
                handle: None,
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
        let file = m.file.as_ref().map(|f| {
            let offset = f.offset + end.saturating_sub(m.pos);
            FilePos {
                offset,
                before: self.before_fp(m, offset),
                ..f.clone()
            }
        });
        Checkpoint {
            source: self.path.clone(),
            file,
            segment,
            out: None,
            keyed: true,
        }
    }

    /// The fingerprint of the bytes before `offset` in the file of mark `m`: from what was read when that is
    /// where its file is being read now, else read back from the file (as long as it still starts with
    /// the same bytes; else unknown, and the next start checks the first bytes only).
    fn before_fp(&self, m: &Mark, offset: u64) -> Fingerprint {
        if let Some(g) = self
            .gens
            .iter()
            .find(|g| Some(g.serial) == m.serial && g.offset == offset)
        {
            if g.before.len() as u64 == offset.min(BEFORE_LEN as u64) {
                return Fingerprint::of_bytes(&self.key, &g.before);
            }
        }
        let (Some(h), Some(f)) = (&m.handle, &m.file) else {
            return Fingerprint::empty();
        };
        if !f.fp.matches(&self.key, h).unwrap_or(false) {
            return Fingerprint::empty();
        }
        Fingerprint::read_before(&self.key, h, offset)
            .ok()
            .flatten()
            .unwrap_or_else(Fingerprint::empty)
    }

    /// Looks at the path: a new file there retires the current one.
    pub(super) fn check_path(&mut self) {
        let meta = match source_metadata(&self.path, self.follow_symlinks) {
            Ok(m) => m,
            Err(e) if is_link_refusal(&e) => {
                // Replaced by a symlink out of its directory: the file it was is read to its end, the link
                // is not followed.
                self.report(&e);
                self.retire_live("replaced by a symbolic link");
                return;
            }
            Err(e) => {
                if e.kind() == io::ErrorKind::NotFound {
                    if !self.missing_logged {
                        tracing::info!(source = %self.path.display(), "tail: file does not exist (yet); waiting for it");
                        self.missing_logged = true;
                    }
                    self.retire_live("removed or renamed");
                } else {
                    // Not a rotation (permissions, I/O): keep reading the open file, look again later.
                    self.report(&e);
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
        let Some((f, m)) = self.open_live() else {
            return;
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
                && (size < g.offset
                    || !g.fp.matches(&self.key, &g.file).unwrap_or(true)
                    || (size > g.offset && !still_before(g).unwrap_or(true)))
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
                advance(&self.key, g, &mut self.marks, &buf[..cut]);
                self.pos += cut as u64;
                done += cut as u64;
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
            advance(&self.key, g, &mut self.marks, &buf[..n]);
            self.pos += n as u64;
            done += n as u64;
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
            before: Fingerprint::empty(),
        };
        // The copy: another file with the same first bytes, holding what we read just before our offset.
        let follow = self.follow_symlinks;
        let copy = if old.fp.identifies_alone() {
            rotated_siblings(&self.path)
                .into_iter()
                .filter_map(|p| open_sibling(&p, follow).map(|(f, m)| (p, f, m)))
                .find(|(_, f, m)| {
                    FileId::of(m) != old.id
                        && m.len() > old.offset
                        && old.fp.matches(&self.key, f).unwrap_or(false)
                        && holds_at(f, old.offset, &g.before).unwrap_or(false)
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
        g.before.clear();
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

/// `data` was read from `g` at its offset and handed out: moves the offset, keeps the last bytes, and
/// fingerprints more of the file's start while it is shorter than a full fingerprint.
fn advance(key: &FpKey, g: &mut Generation, marks: &mut VecDeque<Mark>, data: &[u8]) {
    g.offset += data.len() as u64;
    if data.len() >= BEFORE_LEN {
        g.before.clear();
        g.before.extend_from_slice(&data[data.len() - BEFORE_LEN..]);
    } else {
        g.before.extend_from_slice(data);
        let excess = g.before.len().saturating_sub(BEFORE_LEN);
        g.before.drain(..excess);
    }
    if !g.fp.is_full() && g.offset > u64::from(g.fp.len) {
        upgrade_fingerprint(key, g, marks);
    }
}

/// Whether the file still holds, just before the offset, the bytes read there.
fn still_before(g: &Generation) -> io::Result<bool> {
    holds_at(&g.file, g.offset, &g.before)
}

/// Whether `file` holds `bytes` just before `offset`.
fn holds_at(file: &File, offset: u64, bytes: &[u8]) -> io::Result<bool> {
    let len = bytes.len() as u64;
    if len > offset {
        return Ok(false);
    }
    let mut buf = [0u8; BEFORE_LEN];
    let buf = &mut buf[..bytes.len()];
    Ok(read_at(file, buf, offset - len)? == bytes.len() && buf == bytes)
}

fn upgrade_fingerprint(key: &FpKey, g: &mut Generation, marks: &mut VecDeque<Mark>) {
    let len = g.offset.min(FP_LEN as u64);
    if let Ok(Some(fp)) = Fingerprint::read(key, &g.file, len) {
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

/// The error payload for a source that is a symlink out of its directory (not followed).
#[derive(Debug)]
struct LinkOutOfDir(PathBuf);

impl std::fmt::Display for LinkOutOfDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "it is a symbolic link out of its directory (to {}), not followed unless \
             logveil.tail.follow_symlinks is true",
            self.0.display()
        )
    }
}

impl std::error::Error for LinkOutOfDir {}

fn is_link_refusal(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<LinkOutOfDir>())
}

/// Where the path leads when it may be read: itself when it is no symlink, the resolved file when it is
/// a symlink to a file in the same directory (or `follow` allows any). Ok(None): nothing there.
fn resolve_link(path: &Path, follow: bool) -> io::Result<Option<PathBuf>> {
    let lmeta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !lmeta.file_type().is_symlink() {
        return Ok(Some(path.to_path_buf()));
    }
    let target = match std::fs::canonicalize(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None), // dangling
        Err(e) => return Err(e),
    };
    if follow {
        return Ok(Some(target));
    }
    let dir = path.parent().map(std::fs::canonicalize).transpose()?;
    if dir.is_some() && target.parent() == dir.as_deref() {
        Ok(Some(target))
    } else {
        Err(io::Error::other(LinkOutOfDir(target)))
    }
}

/// Metadata of the file a source path leads to (see [`resolve_link`]); Ok(None)-like NotFound errors
/// are returned as NotFound.
fn source_metadata(path: &Path, follow: bool) -> io::Result<Metadata> {
    match resolve_link(path, follow)? {
        Some(p) => std::fs::symlink_metadata(p),
        None => Err(io::ErrorKind::NotFound.into()),
    }
}

/// Opens a source for reading: never through a symlink out of its directory (unless `follow`), never
/// blocking on a FIFO. Ok(None): no regular file there.
fn open_source(path: &Path, follow: bool) -> io::Result<Option<(File, Metadata)>> {
    use rustix::fs::{Mode, OFlags};
    let Some(real) = resolve_link(path, follow)? else {
        return Ok(None);
    };
    // The resolved path is opened with O_NOFOLLOW: a link swapped in since is not followed either.
    let fd = match rustix::fs::open(
        &real,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(None),
        Err(rustix::io::Errno::LOOP) => return Err(io::Error::other(LinkOutOfDir(real))),
        Err(e) => return Err(e.into()),
    };
    let f = File::from(fd);
    let m = f.metadata()?;
    Ok(m.is_file().then_some((f, m)))
}

/// A rotated sibling, opened as a source is; one that cannot be opened is skipped.
fn open_sibling(path: &Path, follow: bool) -> Option<(File, Metadata)> {
    match open_source(path, follow) {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!(file = %path.display(), error = %e, "tail: rotated sibling not read");
            None
        }
    }
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
