//! The sealing pipeline: where a command's loop meets the redactor, the segment writer, the durable input
//! offsets and the metrics. `pipe`, `seal` and `tail` all seal through a [`SealingStream`]; `tail` adds the
//! checkpoint protocol ([`tail::TailPipeline`]) and `seal` the rotated-file protocol ([`seal::seal_file`]).
//!
//! ```text
//!   bytes in ──> SealingStream::push ──> Redactor ──> (tee) ──> SegmentWriter ──> Sealed { input_end }
//!                                                                                    │
//!   tail: TailPipeline::commit ──> checkpoint "everything before input_end is sealed" <┘
//! ```
//!
//! The input-end rule, stated once: after bytes up to input position P were pushed, the redactor still
//! holds back `pending()` bytes of an unfinished line, so what the writer has been given covers the input
//! up to `P - pending()`. That is the `input_end` of every write, hence of every [`Sealed`] segment, hence of
//! every checkpoint.

pub mod seal;
mod setup;
pub mod tail;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;

use crate::metrics::Metrics;
use crate::redact::{Engine, Redactor};
use crate::sink::{Sealed, SegmentWriter, SinkError};

pub use setup::SinkSetup;

/// A pipeline problem: what and where (paths and stages only, never input bytes).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Tail(#[from] crate::input::tail::TailError),
    #[error("tail: segments of {}", source_path.display())]
    SegmentsOf {
        source_path: PathBuf,
        #[source]
        source: SinkError,
    },
    #[error("tail: checkpoint of {}", source_path.display())]
    Checkpoint {
        source_path: PathBuf,
        #[source]
        source: crate::input::tail::TailError,
    },
    #[error(
        "tail: checkpoint {} of {} was written by a tail sealing into {}, not {}: trusting it would \
         leave out of {} the lines sealed there\n  hint: give each tail its own --state; if the segments \
         were moved away, remove the checkpoint to read the source again from its start (lines already \
         sealed are then sealed twice)",
        checkpoint.display(),
        source_path.display(),
        there.display(),
        here.display(),
        here.display()
    )]
    ForeignCheckpoint {
        checkpoint: PathBuf,
        source_path: PathBuf,
        there: PathBuf,
        here: PathBuf,
    },
    #[error("tail: cannot {op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("retention: cannot start its thread")]
    RetentionThread(#[source] std::io::Error),
    #[error("retention: bad policy")]
    Retention(#[source] crate::retention::RetentionError),
    #[error("tail: internal: {0}")]
    Internal(&'static str),
}

/// Redacted bytes of one input into one stream's segments, counting as it goes.
pub struct SealingStream<'e> {
    engine: &'e Engine,
    redactor: Redactor<'e>,
    writer: SegmentWriter,
    metrics: Arc<Metrics>,
    out: Vec<u8>,
    /// Bytes fed to the redactor at once (its buffer grows to what it is fed).
    piece: usize,
    /// Input position after the last byte pushed.
    position: u64,
    /// Whether the last byte handed to the writer ended a line (or nothing was handed yet).
    at_line_start: bool,
    tee: Option<Box<dyn Write + Send>>,
    sealed: Vec<Sealed>,
    redactions: u64,
    segments: u64,
}

impl<'e> SealingStream<'e> {
    /// A stream whose input starts at position 0.
    pub fn new(engine: &'e Engine, writer: SegmentWriter, metrics: Arc<Metrics>) -> Self {
        SealingStream {
            engine,
            redactor: Redactor::new(engine),
            writer,
            metrics,
            out: Vec::new(),
            piece: usize::MAX,
            position: 0,
            at_line_start: true,
            tee: None,
            sealed: Vec::new(),
            redactions: 0,
            segments: 0,
        }
    }

    /// The input already starts at `position` (tail after a reload: positions go on).
    pub fn starting_at(mut self, position: u64) -> Self {
        self.position = position;
        self
    }

    /// Feeds the redactor at most `piece` bytes at once (tail: one redactor per source, kept small).
    pub fn in_pieces(mut self, piece: usize) -> Self {
        self.piece = piece.max(1);
        self
    }

    /// Also writes the redacted bytes to `w` (pipe `--tee`); a failure there is logged once and the
    /// tee dropped, sealing goes on.
    pub fn with_tee(mut self, w: Box<dyn Write + Send>) -> Self {
        self.tee = Some(w);
        self
    }

    /// The stream name as it appears in segment names.
    pub fn stream(&self) -> &str {
        self.writer.stream()
    }

    /// Input position after the last byte pushed.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Redactions counted so far.
    pub fn redactions(&self) -> u64 {
        self.redactions
    }

    /// Segments finished so far.
    pub fn segments(&self) -> u64 {
        self.segments
    }

    /// When the open segment must be finished by age ([`SealingStream::tick`] then).
    pub fn deadline(&self) -> Option<Timestamp> {
        self.writer.deadline()
    }

    /// Memory the writer holds for the open segment.
    pub fn memory_held(&self) -> u64 {
        self.writer.memory_held()
    }

    /// Input bytes: counted, redacted, handed to the writer (complete lines; a partial line waits).
    pub fn push(&mut self, bytes: &[u8], now: Timestamp) -> Result<(), SinkError> {
        self.position += bytes.len() as u64;
        Metrics::add(&self.metrics.bytes, bytes.len() as u64);
        Metrics::add(
            &self.metrics.lines,
            memchr::memchr_iter(b'\n', bytes).count() as u64,
        );
        for piece in bytes.chunks(self.piece) {
            self.redactor.push(piece, &mut self.out);
        }
        self.emit(now)?;
        self.count_findings();
        self.metrics.maybe_write();
        Ok(())
    }

    /// End of this input (end of stdin, of a file, of a rotated file, a reload): what the redactor holds
    /// back is redacted and handed on. `newline`: make sure the input's last line ends with one, so that
    /// it is never glued to the next input's first line in the same stream.
    pub fn end_of_input(&mut self, now: Timestamp, newline: bool) -> Result<(), SinkError> {
        self.redactor.finish(&mut self.out);
        let ends_open = match self.out.last() {
            Some(&b) => b != b'\n',
            None => !self.at_line_start,
        };
        if newline && ends_open {
            self.out.push(b'\n');
        }
        self.emit(now)?;
        self.count_findings();
        Ok(())
    }

    /// Finishes the open segment if it is older than its maximum age; writes out compressed members.
    pub fn tick(&mut self, now: Timestamp) -> Result<(), SinkError> {
        if let Some(s) = self.writer.tick(now)? {
            self.sealed(s);
        }
        Ok(())
    }

    /// Finishes the open segment, if any (SIGHUP, stop, memory bound).
    pub fn finish_segment(&mut self, now: Timestamp) -> Result<(), SinkError> {
        if let Some(s) = self.writer.finish(now)? {
            self.sealed(s);
        }
        Ok(())
    }

    /// Gives up the open segment: its `.partial` is removed (for input that can be read again).
    pub fn abort(&mut self) -> Result<(), SinkError> {
        self.writer.abort()
    }

    /// The segments finished since the last call, in order (each durable, with its `input_end`).
    pub fn take_sealed(&mut self) -> Vec<Sealed> {
        std::mem::take(&mut self.sealed)
    }

    /// Redacted bytes to the tee and the writer, with the input-end rule.
    fn emit(&mut self, now: Timestamp) -> Result<(), SinkError> {
        if !self.out.is_empty() {
            if let Some(tee) = &mut self.tee {
                if let Err(e) = tee.write_all(&self.out).and_then(|()| tee.flush()) {
                    tracing::warn!(error = %e, "pipe: --tee: stdout failed; only sealing from now on");
                    self.tee = None;
                }
            }
            self.at_line_start = self.out.last() == Some(&b'\n');
        }
        let input_end = self.position - self.redactor.pending() as u64;
        let sealed = self.writer.write(&self.out, input_end, now);
        self.out.clear();
        for s in sealed? {
            self.sealed(s);
        }
        Ok(())
    }

    fn sealed(&mut self, s: Sealed) {
        self.segments += 1;
        Metrics::add(&self.metrics.segments_sealed, 1);
        Metrics::add(&self.metrics.segment_bytes, s.output_bytes);
        self.metrics.maybe_write();
        self.sealed.push(s);
    }

    /// Moves the redactor's counts into the metrics.
    fn count_findings(&mut self) {
        let f = self.redactor.take_findings();
        self.redactions += f.total();
        self.metrics.add_findings(self.engine.type_names(), &f);
    }
}
