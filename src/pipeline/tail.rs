//! The sidecar's exactly-once protocol: one [`SealingStream`] per followed source, each checkpoint moved
//! only to the end of a sealed segment (and naming it), and at start the reconciliation of what a crash
//! left between the last checkpoint and the segment directory.
//!
//! A crash between a seal and its checkpoint leaves a segment newer than the checkpoint says; at the next
//! start it is removed (with a warning naming it) when the checkpointed file was found again, because its
//! lines are about to be read and sealed again. A `.partial` is removed for the same reason (the writers
//! of a tail use [`PartialPolicy::Remove`]).

use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;

use super::{PipelineError, SealingStream, SinkSetup};
use crate::fsutil::Dir;
use crate::input::tail::{Checkpoint, Chunk, Resume, Tailer};
use crate::metrics::Job;
use crate::parallel::{self, ParallelRedactor, Workers};
use crate::redact::Engine;
use crate::sink::dir::list_stream_in;
use crate::sink::name::{data_order, SegmentName, SegmentState};
use crate::sink::{PartialPolicy, Sealed};

/// Memory the segment writers of all sources together may hold for their open segments. Past it, the
/// segments holding the most are finished early: with many busy files this bounds memory at the cost of
/// smaller segments.
const SEGMENT_MEMORY_BUDGET: u64 = 24 << 20;
/// Bytes fed to a redactor at once (its buffer grows to what it is fed, and there is one per source); with
/// redaction workers, the chunk of whole lines each job takes.
const REDACT_PIECE: usize = 16 << 10;

/// The streams of one engine's lifetime (a reload makes a new one; positions and checkpoints go on).
pub struct TailPipeline<'e, 's> {
    engine: &'e Engine,
    sink: &'s SinkSetup,
    /// One per source, by the tailer's source index.
    streams: Vec<SealingStream<'e>>,
    /// Segments sealed and not yet committed, with their source.
    commits: Vec<(usize, Sealed)>,
    /// Sources below this index were reconciled in this process (a reload does not do it again).
    reconciled: usize,
    /// The redacted-bytes buffer all streams share (see [`SealingStream::buffer`]).
    scratch: Vec<u8>,
    /// When a segment was last sealed, and its stream.
    last_seal: Option<(Timestamp, String)>,
    /// Redaction workers all sources share (None: each source is redacted on the caller's thread).
    workers: Option<Arc<Workers>>,
}

impl<'e, 's> TailPipeline<'e, 's> {
    pub fn new(engine: &'e Engine, sink: &'s SinkSetup, reconciled: usize) -> Self {
        TailPipeline {
            engine,
            sink,
            streams: Vec::new(),
            commits: Vec::new(),
            reconciled,
            scratch: Vec::with_capacity(128 << 10),
            last_seal: None,
            workers: None,
        }
    }

    /// Redacts every source's lines on `workers` (their engine is this pipeline's): chunks of whole lines
    /// of [`REDACT_PIECE`] bytes, each source's in order, its checkpoints exact as on one thread.
    pub fn with_workers(mut self, workers: Arc<Workers>) -> Self {
        debug_assert!(std::ptr::eq(&**workers.engine(), self.engine));
        self.workers = Some(workers);
        self
    }

    /// How many sources were reconciled so far (hand it to the next pipeline after a reload).
    pub fn reconciled(&self) -> usize {
        self.reconciled
    }

    /// When a segment was last sealed by this pipeline, and its stream (for the service's status).
    pub fn last_seal(&self) -> Option<&(Timestamp, String)> {
        self.last_seal.as_ref()
    }

    /// Opens a writer for each source not set up yet (after a reload: all). A source seen for the first
    /// time in this process is also cleaned up after a crash and gets its first checkpoint.
    pub fn set_up_new_sources(&mut self, tailer: &mut Tailer) -> Result<(), PipelineError> {
        if self.streams.len() == tailer.sources().len() {
            return Ok(());
        }
        tailer.set_out(self.sink.dir());
        for i in self.streams.len()..tailer.sources().len() {
            let src = &tailer.sources()[i];
            let writer = self
                .sink
                .open_writer(src.stream(), PartialPolicy::Remove)
                .map_err(|source| PipelineError::SegmentsOf {
                    source_path: src.path().to_path_buf(),
                    source,
                })?;
            if i >= self.reconciled {
                if let Some(ck) = src.loaded_checkpoint() {
                    trust_checkpoint(ck, &tailer.checkpoint_path(src.path()), self.sink.dir())?;
                }
                let src = &tailer.sources()[i];
                let latest = reconcile(
                    writer.dir_handle(),
                    src.path(),
                    writer.stream(),
                    src.resume(),
                    src.loaded_checkpoint().and_then(|c| c.segment.as_deref()),
                )?;
                let pos = src.position();
                commit_one(tailer, i, pos, latest.as_deref())?;
                self.reconciled = i + 1;
            }
            let position = tailer.sources()[i].position();
            let mut stream = SealingStream::new(self.engine, writer, self.sink.metrics.clone())
                .in_pieces(REDACT_PIECE);
            if let Some(w) = &self.workers {
                let opts = parallel::Options {
                    chunk_bytes: REDACT_PIECE,
                    ..parallel::Options::default()
                };
                stream = stream.in_parallel(ParallelRedactor::sharing(w, opts));
            }
            self.streams.push(stream.starting_at(position));
        }
        Ok(())
    }

    /// Lines handed out by the tailer: redacted into their source's stream.
    pub fn push(&mut self, c: Chunk<'_>, now: Timestamp) -> Result<(), PipelineError> {
        let st = self
            .streams
            .get_mut(c.source)
            .ok_or(PipelineError::Internal(
                "data for a source that was not set up",
            ))?;
        std::mem::swap(&mut self.scratch, st.buffer());
        let pushed = st.push(c.bytes, now).and_then(|()| {
            debug_assert_eq!(st.position(), c.end, "stream positions agree");
            if c.end_of_file {
                st.end_of_input(now, true)?;
            }
            // With workers: the chunk's lines are redacted on them at once, then waited for, and the
            // source's redactor lets go of its buffers: between its chunks a source holds no more than
            // its partial line (hundreds of sources are fine).
            st.flush(now)?;
            st.release_buffers();
            Ok(())
        });
        std::mem::swap(&mut self.scratch, st.buffer());
        pushed?;
        self.collect(c.source);
        self.bound_memory(now)
    }

    /// Finishes segments that are old enough, then bounds memory.
    pub fn tick(&mut self, now: Timestamp) -> Result<(), PipelineError> {
        for i in 0..self.streams.len() {
            self.streams[i].tick(now)?;
            self.collect(i);
        }
        self.bound_memory(now)
    }

    /// Records durably, per sealed segment, that its source is sealed up to the segment's end.
    pub fn commit(&mut self, tailer: &mut Tailer) -> Result<(), PipelineError> {
        let any = !self.commits.is_empty();
        for (i, s) in self.commits.drain(..) {
            let name = s.path.file_name().map(|n| n.to_string_lossy().into_owned());
            commit_one(tailer, i, s.input_end, name.as_deref())?;
        }
        if any {
            self.sink.metrics.success(Job::Checkpoint);
        }
        self.sink.metrics.maybe_write();
        Ok(())
    }

    /// Stop or reload: flushes what the redactors hold back (on a reload they are replaced), finishes every
    /// segment and commits. `progress` is called after each source (the caller's watchdog keep-alive: with
    /// thousands of sources this takes a while, and the loop is not stuck meanwhile).
    pub fn finish(
        &mut self,
        tailer: &mut Tailer,
        reload: bool,
        now: Timestamp,
        progress: &mut dyn FnMut(),
    ) -> Result<(), PipelineError> {
        for i in 0..self.streams.len() {
            if reload {
                self.streams[i].end_of_input(now, false)?;
            }
            self.streams[i].finish_segment(now)?;
            self.collect(i);
            progress();
        }
        self.commit(tailer)
    }

    fn collect(&mut self, i: usize) {
        let sealed = self.streams[i].take_sealed();
        if !sealed.is_empty() {
            self.last_seal = Some((Timestamp::now(), self.streams[i].stream().to_owned()));
        }
        for s in sealed {
            self.commits.push((i, s));
        }
    }

    /// Finishes the segments holding the most memory while all together hold more than the budget.
    fn bound_memory(&mut self, now: Timestamp) -> Result<(), PipelineError> {
        let total: u64 = self.streams.iter().map(SealingStream::memory_held).sum();
        if total <= SEGMENT_MEMORY_BUDGET {
            return Ok(());
        }
        let mut by_size: Vec<(u64, usize)> = self
            .streams
            .iter()
            .enumerate()
            .map(|(i, s)| (s.memory_held(), i))
            .filter(|&(h, _)| h > 0)
            .collect();
        by_size.sort_unstable_by(|a, b| b.cmp(a));
        let mut left = total;
        for (held, i) in by_size {
            if left <= SEGMENT_MEMORY_BUDGET * 3 / 4 {
                break;
            }
            self.streams[i].finish_segment(now)?;
            tracing::debug!(
                stream = self.streams[i].stream(),
                held,
                "tail: segment finished early to bound memory"
            );
            self.collect(i);
            left -= held;
        }
        Ok(())
    }
}

/// A checkpoint names the last segment it covers and the directory it was sealed into. Written for another
/// segment directory, it must not be trusted: its lines are in that other directory, and reading on from it
/// would leave them out of this one (two tails sharing a state directory, F1). Unless the named segment is
/// here too: then the directory was moved.
fn trust_checkpoint(ck: &Checkpoint, path: &Path, out: &Path) -> Result<(), PipelineError> {
    let here = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    let holds = |seg: &String| std::fs::symlink_metadata(here.join(seg)).is_ok();
    match (&ck.out, &ck.segment) {
        (Some(there), seg) if *there != here => {
            if seg.as_ref().is_some_and(holds) {
                tracing::info!(
                    checkpoint = %path.display(),
                    was = %there.display(),
                    now = %here.display(),
                    "tail: the segment directory was moved; its checkpoint's segment is here"
                );
                Ok(())
            } else {
                Err(PipelineError::ForeignCheckpoint {
                    checkpoint: path.to_path_buf(),
                    source_path: ck.source.clone(),
                    there: there.clone(),
                    here,
                })
            }
        }
        (_, Some(seg)) if !holds(seg) => {
            tracing::warn!(
                checkpoint = %path.display(),
                segment = %seg,
                out = %here.display(),
                "tail: the checkpoint names a segment the segment directory does not hold (deleted by \
                 retention, moved away, or sealed by a tail with another --out); reading on from the checkpoint"
            );
            Ok(())
        }
        _ => Ok(()),
    }
}

fn commit_one(
    tailer: &mut Tailer,
    i: usize,
    end: u64,
    segment: Option<&str>,
) -> Result<(), PipelineError> {
    tailer
        .commit(i, end, segment)
        .map_err(|source| PipelineError::Checkpoint {
            source_path: tailer.sources()[i].path().to_path_buf(),
            source,
        })
}

/// Looks at the segments of a stream already in `out` (the stream's writer holds its lock): removes those
/// sealed after the checkpoint (their lines will be read again) when the checkpointed file was found.
/// Returns the latest segment left.
fn reconcile(
    out: &Dir,
    source: &Path,
    stream: &str,
    resume: Resume,
    recorded: Option<&str>,
) -> Result<Option<String>, PipelineError> {
    let mut existing = list_stream_in(out, stream).map_err(|e| PipelineError::Io {
        op: "list",
        path: out.path().to_path_buf(),
        source: e,
    })?;
    existing.retain(|l| l.name.state != SegmentState::Partial);
    let recorded = recorded.and_then(SegmentName::parse);
    let after = |n: &SegmentName| {
        recorded
            .as_ref()
            .is_none_or(|r| data_order(n, r) == std::cmp::Ordering::Greater)
    };
    match resume {
        Resume::Fresh => {
            if !existing.is_empty() {
                tracing::warn!(
                    source = %source.display(),
                    stream,
                    segments = existing.len(),
                    "tail: no checkpoint for this source, but segments of its stream exist (state directory \
                     lost?); the file is read from its start and lines already sealed will be sealed again"
                );
            }
        }
        Resume::Exact => {
            let mut removed = false;
            for l in existing.iter().filter(|l| after(&l.name)) {
                tracing::warn!(
                    path = %l.path.display(),
                    "tail: segment sealed after the last checkpoint (a crash came between the two); removed: \
                     its lines are read again from the source"
                );
                out.remove(l.path.file_name().unwrap_or_default())
                    .map_err(|e| PipelineError::Io {
                        op: "remove",
                        path: l.path.clone(),
                        source: e,
                    })?;
                removed = true;
            }
            if removed {
                out.sync().map_err(|e| PipelineError::Io {
                    op: "fsync",
                    path: out.path().to_path_buf(),
                    source: e,
                })?;
                existing.retain(|l| !after(&l.name));
            }
        }
        Resume::Lost => {
            let newer = existing.iter().filter(|l| after(&l.name)).count();
            if newer > 0 {
                tracing::warn!(
                    source = %source.display(),
                    segments = newer,
                    "tail: segments newer than the checkpoint are kept because the checkpointed file is gone; \
                     some of their lines may be sealed twice"
                );
            }
        }
    }
    Ok(existing.last().map(|l| l.name.to_string()))
}
