//! Following log files through rotation: complete lines out, with the stream position after them; a
//! checkpoint per source in, once the pipeline says everything up to a position is sealed.
//!
//! ```text
//!  Tailer::wait()  <- inotify on the directories (notify), a Waker (signals), the poll interval
//!  Tailer::pass()  -> Chunk { source, bytes: whole lines, end: stream position after them, end_of_file }
//!  Tailer::commit(source, end, segment)   after the segment holding everything before `end` is sealed
//! ```
//!
//! A source is one path (a file, or each `*.log` of a directory, or each match of a glob). Its stream
//! position counts the bytes handed out in this process across all the files the path pointed to; the
//! tailer maps a position back to (device, inode, fingerprint, offset) for the checkpoint, which is written
//! atomically to the state directory. At start the checkpoint is found again at the path or, when the file
//! was rotated while logveil was stopped, among its rotated siblings by fingerprint. See `source` for
//! rotation and copytruncate.
//!
//! Memory: one read buffer shared by all sources (a partial last line is not buffered: it is read again
//! once complete), a few small structs and one open file per source and per rotated file still being read.

pub mod checkpoint;
pub mod identity;
pub mod source;
pub mod spec;
mod watch;

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use checkpoint::{Checkpoint, CheckpointStore, FilePos};
pub use identity::FpKey;
pub use source::{Chunk, Resume, Source};
pub use spec::Spec;
pub use watch::Waker;

/// A tail error: what and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TailError {
    #[error("tail: state directory {}", path.display())]
    State {
        path: PathBuf,
        #[source]
        error: io::Error,
    },
    #[error(
        "tail: checkpoint {path} is not valid ({reason})\n  hint: remove it to read the source again from \
         its start (lines already sealed will then be sealed twice)"
    )]
    BadCheckpoint { path: PathBuf, reason: String },
    #[error("tail: {path}: {message}")]
    Path { path: PathBuf, message: String },
    #[error(
        "tail: state directory {path} is in use by another logveil tail (it holds the \
         directory's lock, .tail.lock)\n  hint: give each tail its own --state (two tails sharing checkpoints lose lines)",
        path = path.display()
    )]
    StateLocked { path: PathBuf },
}

/// How to follow.
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// Checkpoints live here (created 0700).
    pub state_dir: PathBuf,
    /// Poll only (no file-system events), for file systems without inotify (NFS, some FUSE).
    pub poll_only: bool,
    /// Time between full checks (every source stat'ed, globs re-listed): the poll, and the backstop for
    /// lost events.
    pub poll_interval: Duration,
    /// A rotated file is finished once it has not been written for this long (its writer may append to it
    /// until it reopens the path).
    pub rotate_wait: Duration,
    /// Read buffer (shared by all sources); also the longest piece of an overlong line handed out at once.
    pub read_chunk: usize,
    /// Bytes read from one source before the others get their turn.
    pub pass_budget: u64,
    /// Follow a source (or rotated sibling) that is a symlink out of its directory. Off: only a link to a
    /// file in the same directory is followed; any other is an error on that source.
    pub follow_symlinks: bool,
}

impl TailOptions {
    pub fn new(state_dir: PathBuf) -> TailOptions {
        TailOptions {
            state_dir,
            poll_only: false,
            poll_interval: Duration::from_secs(1),
            rotate_wait: Duration::from_secs(2),
            read_chunk: 64 << 10,
            pass_budget: 4 << 20,
            follow_symlinks: false,
        }
    }
}

/// Follows sources; see the module docs.
pub struct Tailer {
    specs: Vec<Spec>,
    sources: Vec<Source>,
    by_path: HashMap<PathBuf, usize>,
    store: CheckpointStore,
    opts: TailOptions,
    wake: watch::Wake,
    watcher: Option<watch::DirWatcher>,
    buf: Vec<u8>,
    last_full: Option<Instant>,
    /// When glob directories were last listed, and whether an event asked for a listing not done yet.
    last_discover: Option<Instant>,
    rescan_due: bool,
    /// Listings of glob directories so far (for tests and diagnostics).
    listings: u64,
    pending: watch::Pending,
    /// Sources that had more to read when their budget ran out.
    busy: BTreeSet<usize>,
    /// Last segment recorded per source (kept when a commit names none).
    segments: Vec<Option<String>>,
    /// The source the next pass starts with (the first one this pass had no time for).
    next_first: usize,
    /// Recorded in checkpoints: where the segments they name are (see [`Tailer::set_out`]).
    out: Option<PathBuf>,
}

/// A pass reads at most this many sources' budgets before returning to the caller.
const PASS_BUDGETS: u64 = 4;

/// Least time between two listings of a glob's directory woken by events: a directory where files come
/// and go all the time is listed a few times a second, not once per event.
const RESCAN_MIN_INTERVAL: Duration = Duration::from_millis(200);

impl Tailer {
    /// Opens the state directory, interprets the paths, loads the checkpoints of the sources found now and
    /// starts watching (unless `poll_only`).
    pub fn new(paths: &[PathBuf], opts: TailOptions) -> Result<Tailer, TailError> {
        if paths.is_empty() {
            return Err(TailError::Path {
                path: PathBuf::new(),
                message: "no path to follow".into(),
            });
        }
        let store = CheckpointStore::open(&opts.state_dir)?;
        let mut specs: Vec<Spec> = Vec::new();
        for p in paths {
            let parsed = Spec::parse(p).map_err(|message| TailError::Path {
                path: p.clone(),
                message,
            })?;
            for spec in parsed {
                if !spec.dir().is_dir() {
                    tracing::warn!(dir = %spec.dir().display(), "tail: directory does not exist (yet); waiting for it");
                }
                if !specs.contains(&spec) {
                    specs.push(spec);
                }
            }
        }
        let wake = watch::Wake::new();
        let watcher = if opts.poll_only {
            None
        } else {
            match watch::DirWatcher::new(wake.waker()) {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::warn!(error = %e, "tail: file-system events unavailable; polling");
                    None
                }
            }
        };
        let mut t = Tailer {
            specs,
            sources: Vec::new(),
            by_path: HashMap::new(),
            store,
            buf: vec![0; opts.read_chunk.max(4096)],
            opts,
            wake,
            watcher,
            last_full: None,
            last_discover: None,
            rescan_due: false,
            listings: 0,
            pending: watch::Pending::default(),
            busy: BTreeSet::new(),
            segments: Vec::new(),
            next_first: 0,
            out: None,
        };
        t.maintain_watches();
        t.discover()?;
        Ok(t)
    }

    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    pub fn options(&self) -> &TailOptions {
        &self.opts
    }

    /// A handle that wakes [`Tailer::wait`] from another thread.
    pub fn waker(&self) -> Waker {
        self.wake.waker()
    }

    /// Blocks until something happens in a watched directory, the waker is used, or `timeout` (capped at
    /// the next full check, and at the next listing of a glob directory an event asked for) passes.
    pub fn wait(&mut self, timeout: Duration) {
        let until_full = self
            .last_full
            .map(|t| self.opts.poll_interval.saturating_sub(t.elapsed()))
            .unwrap_or_default();
        let mut timeout = timeout.min(until_full);
        if self.rescan_due {
            timeout = timeout.min(self.until_rescan());
        }
        let p = self.wake.wait(timeout);
        self.merge_pending(p);
    }

    /// Time left before glob directories may be listed again.
    fn until_rescan(&self) -> Duration {
        self.last_discover
            .map(|t| RESCAN_MIN_INTERVAL.saturating_sub(t.elapsed()))
            .unwrap_or_default()
    }

    fn merge_pending(&mut self, p: watch::Pending) {
        self.pending.everything |= p.everything;
        self.pending.dirs.extend(p.dirs);
    }

    /// Checks the sources that may have changed (all of them every `poll_interval`) and hands out their
    /// complete lines. Returns whether some source has more to read right away. A source found by this
    /// pass (a new glob match) is read from the next pass on, so that the caller can set it up first.
    pub fn pass<E: From<TailError>>(
        &mut self,
        mut emit: impl FnMut(Chunk<'_>) -> Result<(), E>,
    ) -> Result<bool, E> {
        let p = self.wake.take();
        self.merge_pending(p);
        let pending = std::mem::take(&mut self.pending);
        // Sources found in this pass are read from the next one: the caller sets them up in between.
        let known = self.sources.len();
        let full = pending.everything
            || self
                .last_full
                .is_none_or(|t| t.elapsed() >= self.opts.poll_interval);
        if full {
            self.last_full = Some(Instant::now());
            self.maintain_watches();
            self.discover()?;
        } else {
            self.rescan_due |= self
                .specs
                .iter()
                .any(|s| matches!(s, Spec::Glob { dir, .. } if pending.dirs.contains(dir)));
            if self.rescan_due && self.until_rescan().is_zero() {
                self.discover()?;
            }
        }
        let targets: Vec<usize> = (0..known)
            .filter(|&i| {
                full || self.busy.contains(&i) || {
                    let s = &self.sources[i];
                    pending.dirs.contains(s.path())
                        || s.path().parent().is_some_and(|d| pending.dirs.contains(d))
                        || s.open_files() > 1
                }
            })
            .collect();
        let mut more = self.sources.len() > known;
        // Start where the last pass stopped, so that busy sources take turns; stop after a few budgets so
        // that the caller gets control back (signals, segment ages) in bounded time.
        let start = targets.partition_point(|&i| i < self.next_first);
        let mut total = 0u64;
        let n = targets.len();
        let mut skipped = false;
        self.next_first = 0;
        for k in 0..n {
            let i = targets[(start + k) % n];
            if total >= PASS_BUDGETS * self.opts.pass_budget {
                self.busy.insert(i);
                if !skipped {
                    self.next_first = i;
                    skipped = true;
                }
                more = true;
                continue;
            }
            let src = &mut self.sources[i];
            src.check_path();
            let (done, m) = src.read(
                i,
                &mut self.buf,
                self.opts.pass_budget,
                &self.opts,
                &mut emit,
            )?;
            total += done;
            if m {
                self.busy.insert(i);
                more = true;
            } else {
                self.busy.remove(&i);
            }
        }
        Ok(more)
    }

    /// The directory the segments named by checkpoints are in, recorded in every checkpoint from now on
    /// (opaque here: the pipeline compares it at the next start).
    pub fn set_out(&mut self, out: &Path) {
        self.out = Some(std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf()));
    }

    /// Records durably that everything of `source` before stream position `end` is sealed, in `segment`
    /// (None: keep the segment recorded last).
    pub fn commit(
        &mut self,
        source: usize,
        end: u64,
        segment: Option<&str>,
    ) -> Result<(), TailError> {
        if let Some(s) = segment {
            self.segments[source] = Some(s.to_string());
        }
        let seg = self.segments[source].clone();
        let mut ck = self.sources[source].checkpoint_at(end, seg);
        ck.out = self.out.clone();
        self.store.save(&ck)
    }

    fn maintain_watches(&mut self) {
        if let Some(w) = &mut self.watcher {
            for s in &self.specs {
                w.ensure(s.dir());
            }
        }
    }

    /// Finds sources (new glob matches); loads each new one's checkpoint.
    fn discover(&mut self) -> Result<(), TailError> {
        self.last_discover = Some(Instant::now());
        self.rescan_due = false;
        self.listings += 1;
        for spec in self.specs.clone() {
            for path in spec.expand() {
                if self.by_path.contains_key(&path) {
                    continue;
                }
                let ck = self.store.load(&path)?;
                let stream = spec::stream_name(&path, &self.specs);
                if let Some(other) = self.sources.iter().find(|s| s.stream() == stream) {
                    tracing::warn!(source = %path.display(), other = %other.path().display(), stream, "tail: two sources would write the same segment stream; skipping the second");
                    self.by_path.insert(path, usize::MAX);
                    continue;
                }
                tracing::info!(source = %path.display(), stream, "tail: following");
                let segment = ck.as_ref().and_then(|c| c.segment.clone());
                self.by_path.insert(path.clone(), self.sources.len());
                self.sources.push(Source::new(
                    path,
                    stream,
                    ck,
                    self.store.key(),
                    self.opts.follow_symlinks,
                ));
                self.segments.push(segment);
            }
        }
        Ok(())
    }

    /// Errors the sources met since the last call (a source that cannot be opened, or is a symlink out of
    /// its directory): each was logged once, naming the file; the caller counts them.
    pub fn take_errors(&mut self) -> u64 {
        self.sources.iter_mut().map(Source::take_errors).sum()
    }

    /// The checkpoint file of a source path (for tests and diagnostics).
    pub fn checkpoint_path(&self, source: &Path) -> PathBuf {
        self.store.path_for(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_directory_is_listed_a_few_times_a_second_not_once_per_event() {
        let tmp = tempfile::tempdir().unwrap();
        let logs = tmp.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        let mut opts = TailOptions::new(tmp.path().join("state"));
        // No full checks during the test: only events make the tailer list the directory.
        opts.poll_interval = Duration::from_secs(3600);
        let mut t = Tailer::new(&[logs.join("*.log")], opts).unwrap();
        let churn = {
            let logs = logs.clone();
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut i = 0u64;
                while start.elapsed() < Duration::from_millis(1500) {
                    let p = logs.join(format!("x{i}.tmp"));
                    std::fs::write(&p, b"x").unwrap();
                    std::fs::remove_file(&p).unwrap();
                    if i == 200 {
                        std::fs::write(logs.join("new.log"), b"line\n").unwrap();
                    }
                    i += 1;
                    std::thread::sleep(Duration::from_micros(500));
                }
                i
            })
        };
        let start = Instant::now();
        let mut passes = 0u64;
        while !churn.is_finished() {
            t.pass(|_| Ok::<(), TailError>(())).unwrap();
            passes += 1;
            t.wait(Duration::from_secs(5));
        }
        let events = churn.join().unwrap();
        // Whatever the rate limit deferred is done within one interval after the last event.
        let settle = Instant::now();
        while settle.elapsed() < RESCAN_MIN_INTERVAL * 2 {
            t.pass(|_| Ok::<(), TailError>(())).unwrap();
            t.wait(RESCAN_MIN_INTERVAL);
        }
        let secs = start.elapsed().as_secs_f64();
        let most = (secs / RESCAN_MIN_INTERVAL.as_secs_f64()).ceil() as u64 + 2;
        assert!(
            t.listings <= most,
            "{} listings in {secs:.1} s ({events} files created and removed, {passes} passes); at most {most}",
            t.listings
        );
        assert_eq!(t.sources().len(), 1, "the new match is found");
        assert_eq!(t.sources()[0].path(), logs.join("new.log"));
    }
}
