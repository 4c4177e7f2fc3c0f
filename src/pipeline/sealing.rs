//! [`SealingStream`]: redacted bytes of one input into one stream's segments, counting as it goes; and,
//! for an input that can neither wait nor be read again (`pipe`), what happens when the sink fails.
//!
//! By default a sink error is returned to the caller (`seal` and `tail` stop: their input is still there
//! to be read again). A stream made [`SealingStream::dropping_on_sink_error`] instead keeps taking input,
//! so whoever writes it is never blocked or broken: it goes on redacting (and teeing), drops what it
//! cannot seal, counts the dropped lines (`logveil_dropped_lines_total`), says so loudly, and opens the
//! writer again every [`SINK_RETRY`]; sealing resumes at a line start once that works.
//!
//! What a failure loses besides the dropped lines: the failing segment's data still in memory (as after a
//! crash: the gzip block being filled and those being compressed, and the last age chunk); the segment's
//! complete chunks stay in its `.partial`, kept as `*.truncated.log.gz.age` when the writer is opened
//! again. A segment opened by a retry that fails again is removed, and its lines counted as dropped.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::metrics::{Job, Metrics};
use crate::parallel::ParallelRedactor;
use crate::redact::{Engine, Findings, Redactor};
use crate::sink::{Sealed, SegmentOptions, SegmentWriter, SinkError};

/// How often a failed sink is tried again.
pub const SINK_RETRY: Duration = Duration::from_secs(5);
/// While the sink keeps failing, how often that is said again (with the count so far).
const STILL_FAILING_EVERY: Duration = Duration::from_secs(60);

/// Redacted bytes of one input into one stream's segments, counting as it goes.
pub struct SealingStream<'e> {
    engine: &'e Engine,
    redaction: Redaction<'e>,
    /// None while the sink is failing (dropping streams only).
    writer: Option<SegmentWriter>,
    stream: String,
    metrics: Arc<Metrics>,
    out: Vec<u8>,
    /// Bytes fed to the redactor at once (its buffer grows to what it is fed).
    piece: usize,
    /// Input position after the last byte pushed.
    position: u64,
    /// Whether the last byte emitted ended a line (or nothing was emitted yet).
    at_line_start: bool,
    tee: Option<Box<dyn Write + Send>>,
    sealed: Vec<Sealed>,
    redactions: u64,
    segments: u64,
    /// Lines handed to the writer's open segment.
    lines_in_segment: u64,
    /// Some: keep taking input when the sink fails.
    dropping: Option<Dropping>,
}

/// Who redacts: a redactor on the caller's thread, or a [`ParallelRedactor`] (its workers redact chunks of
/// whole lines; its pieces come back in input order, each with the input offset it accounts for).
enum Redaction<'e> {
    One(Redactor<'e>),
    Parallel {
        redactor: Box<ParallelRedactor>,
        /// The stream position where the parallel redactor's own offsets start (they restart at 0 after
        /// each end of input).
        base: u64,
    },
}

/// The state of a stream that drops input while its sink fails.
struct Dropping {
    /// To open the writer again.
    opts: SegmentOptions,
    /// Since when the sink fails (None: it works).
    failing_since: Option<Instant>,
    next_retry: Instant,
    last_said: Instant,
    /// The writer was opened again after a failure and has sealed nothing yet.
    probing: bool,
    /// Lines dropped in this failure, and in all.
    dropped_now: u64,
    dropped: u64,
}

impl<'e> SealingStream<'e> {
    /// A stream whose input starts at position 0.
    pub fn new(engine: &'e Engine, writer: SegmentWriter, metrics: Arc<Metrics>) -> Self {
        let stream = writer.stream().to_string();
        Self::build(engine, Some(writer), stream, metrics)
    }

    fn build(
        engine: &'e Engine,
        writer: Option<SegmentWriter>,
        stream: String,
        metrics: Arc<Metrics>,
    ) -> Self {
        SealingStream {
            engine,
            redaction: Redaction::One(Redactor::new(engine)),
            writer,
            stream,
            metrics,
            out: Vec::new(),
            piece: usize::MAX,
            position: 0,
            at_line_start: true,
            tee: None,
            sealed: Vec::new(),
            redactions: 0,
            segments: 0,
            lines_in_segment: 0,
            dropping: None,
        }
    }

    /// A dropping stream whose writer could not even be opened (`error`): it starts by dropping, and
    /// opens the writer with `opts` once a retry works.
    pub fn failed_at_start(
        engine: &'e Engine,
        opts: SegmentOptions,
        metrics: Arc<Metrics>,
        error: SinkError,
    ) -> Self {
        let stream = crate::stream_name::sanitize_stream(&opts.stream);
        let mut s = Self::build(engine, None, stream, metrics).dropping_on_sink_error(opts);
        s.fail(error, 0)
            .expect("a dropping stream takes sink errors");
        s
    }

    /// When the sink fails, keep taking input, drop (and count) what cannot be sealed, and try the sink
    /// again every [`SINK_RETRY`] with `opts` (this stream's writer options).
    pub fn dropping_on_sink_error(mut self, opts: SegmentOptions) -> Self {
        let now = Instant::now();
        self.dropping = Some(Dropping {
            opts,
            failing_since: None,
            next_retry: now,
            last_said: now,
            probing: false,
            dropped_now: 0,
            dropped: 0,
        });
        self
    }

    /// The input already starts at `position` (tail after a reload: positions go on).
    pub fn starting_at(mut self, position: u64) -> Self {
        self.position = position;
        if let Redaction::Parallel { base, .. } = &mut self.redaction {
            *base = position;
        }
        self
    }

    /// Redacts on `redactor`'s workers instead of the caller's thread (same bytes out). Call it before any
    /// input is pushed; the redactor must be at the start of a stream and use this stream's engine.
    pub fn in_parallel(mut self, redactor: ParallelRedactor) -> Self {
        debug_assert!(!redactor.busy());
        self.redaction = Redaction::Parallel {
            redactor: Box::new(redactor),
            base: self.position,
        };
        self
    }

    /// Whether input pushed is still being redacted by workers (call [`SealingStream::flush`] when the
    /// input pauses, so that it reaches the tee and the writer).
    pub fn busy(&self) -> bool {
        match &self.redaction {
            Redaction::One(_) => false,
            Redaction::Parallel { redactor, .. } => redactor.busy(),
        }
    }

    /// Lets the parallel redactor's spare buffers go (one stream among many, idle for now).
    pub fn release_buffers(&mut self) {
        if let Redaction::Parallel { redactor, .. } = &mut self.redaction {
            redactor.release_buffers();
        }
    }

    /// Waits for the workers to redact every complete line pushed so far, and hands it on (a partial line
    /// stays held back, as always).
    pub fn flush(&mut self, now: Timestamp) -> Result<(), SinkError> {
        if let Redaction::Parallel { redactor, .. } = &mut self.redaction {
            redactor.flush();
            self.emit_pieces(now)?;
        }
        Ok(())
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
        &self.stream
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

    /// Lines dropped because the sink failed (dropping streams only).
    pub fn dropped_lines(&self) -> u64 {
        self.dropping.as_ref().map_or(0, |d| d.dropped)
    }

    /// When [`SealingStream::tick`] is due: the open segment's age limit, or the next retry of a failed
    /// sink.
    pub fn deadline(&self) -> Option<Timestamp> {
        match (&self.writer, &self.dropping) {
            (Some(w), _) => w.deadline(),
            (None, Some(d)) => {
                let wait = d.next_retry.saturating_duration_since(Instant::now());
                Timestamp::now().checked_add(wait).ok()
            }
            (None, None) => None,
        }
    }

    /// Memory the writer holds for the open segment.
    pub fn memory_held(&self) -> u64 {
        self.writer.as_ref().map_or(0, SegmentWriter::memory_held)
    }

    /// Input bytes: counted, redacted, handed to the writer (complete lines; a partial line waits).
    pub fn push(&mut self, bytes: &[u8], now: Timestamp) -> Result<(), SinkError> {
        self.position += bytes.len() as u64;
        Metrics::add(&self.metrics.bytes, bytes.len() as u64);
        Metrics::add(
            &self.metrics.lines,
            memchr::memchr_iter(b'\n', bytes).count() as u64,
        );
        match &mut self.redaction {
            Redaction::One(r) => {
                for piece in bytes.chunks(self.piece) {
                    r.push(piece, &mut self.out);
                }
                let input_end = self.position - r.pending() as u64;
                let f = r.take_findings();
                self.emit(now, input_end)?;
                self.count_findings(&f);
            }
            Redaction::Parallel { redactor, .. } => {
                redactor.push(bytes);
                self.emit_pieces(now)?;
            }
        }
        self.metrics.maybe_write();
        Ok(())
    }

    /// Hands on the parallel redactor's pieces that are ready, in order, each with its input end.
    fn emit_pieces(&mut self, now: Timestamp) -> Result<(), SinkError> {
        loop {
            let Redaction::Parallel { redactor, base } = &mut self.redaction else {
                return Ok(());
            };
            let Some(piece) = redactor.next_piece() else {
                return Ok(());
            };
            let input_end = *base + piece.input_end;
            debug_assert!(self.out.is_empty());
            let bytes = std::mem::replace(&mut self.out, piece.bytes);
            let emitted = self.emit(now, input_end);
            let Redaction::Parallel { redactor, .. } = &mut self.redaction else {
                unreachable!("the redaction does not change while pieces are emitted");
            };
            // Its buffer goes back to the redactor, the stream's own (empty) buffer comes back.
            redactor.recycle(std::mem::replace(&mut self.out, bytes));
            self.count_findings(&piece.findings);
            emitted?;
        }
    }

    /// End of this input (end of stdin, of a file, of a rotated file, a reload): what the redactor holds
    /// back is redacted and handed on. `newline`: make sure the input's last line ends with one, so that
    /// it is never glued to the next input's first line in the same stream.
    pub fn end_of_input(&mut self, now: Timestamp, newline: bool) -> Result<(), SinkError> {
        match &mut self.redaction {
            Redaction::One(r) => {
                r.finish(&mut self.out);
                let f = r.take_findings();
                let ends_open = match self.out.last() {
                    Some(&b) => b != b'\n',
                    None => !self.at_line_start,
                };
                if newline && ends_open {
                    self.out.push(b'\n');
                }
                self.emit(now, self.position)?;
                self.count_findings(&f);
            }
            Redaction::Parallel { redactor, .. } => {
                redactor.finish();
                self.emit_pieces(now)?;
                // The next input's offsets start at 0 again in the parallel redactor.
                if let Redaction::Parallel { base, .. } = &mut self.redaction {
                    *base = self.position;
                }
                if newline && !self.at_line_start {
                    self.out.push(b'\n');
                    self.emit(now, self.position)?;
                }
            }
        }
        Ok(())
    }

    /// Finishes the open segment if it is older than its maximum age; writes out compressed members;
    /// tries a failed sink again when that is due. Hands on what the workers redacted meanwhile.
    pub fn tick(&mut self, now: Timestamp) -> Result<(), SinkError> {
        self.emit_pieces(now)?;
        self.with_writer(|w| w.tick(now))
    }

    /// Finishes the open segment, if any (SIGHUP, stop, memory bound), with every complete line pushed
    /// before (what the workers still hold is waited for).
    pub fn finish_segment(&mut self, now: Timestamp) -> Result<(), SinkError> {
        self.flush(now)?;
        self.with_writer(|w| w.finish(now))
    }

    /// Runs `f` on the writer (unless the sink is failing); takes the segment it finished, or its error.
    fn with_writer(
        &mut self,
        f: impl FnOnce(&mut SegmentWriter) -> Result<Option<Sealed>, SinkError>,
    ) -> Result<(), SinkError> {
        let Some(w) = self.usable_writer() else {
            return Ok(());
        };
        match f(w) {
            Ok(Some(s)) => self.sealed(s),
            Ok(None) => {}
            Err(e) => self.fail(e, 0)?,
        }
        Ok(())
    }

    /// Gives up the open segment: its `.partial` is removed (for input that can be read again).
    pub fn abort(&mut self) -> Result<(), SinkError> {
        self.lines_in_segment = 0;
        match &mut self.writer {
            Some(w) => w.abort(),
            None => Ok(()),
        }
    }

    /// The segments finished since the last call, in order (each durable, with its `input_end`).
    pub fn take_sealed(&mut self) -> Vec<Sealed> {
        std::mem::take(&mut self.sealed)
    }

    /// Redacted bytes (`self.out`) to the tee and the writer; `input_end`: the input they account for ends
    /// there (the input-end rule).
    fn emit(&mut self, now: Timestamp, input_end: u64) -> Result<(), SinkError> {
        let lines = memchr::memchr_iter(b'\n', &self.out).count() as u64;
        if !self.out.is_empty() {
            if let Some(tee) = &mut self.tee {
                if let Err(e) = tee.write_all(&self.out).and_then(|()| tee.flush()) {
                    tracing::warn!(error = %e, "pipe: --tee: stdout failed; only sealing from now on");
                    self.tee = None;
                }
            }
            self.at_line_start = self.out.last() == Some(&b'\n');
        }
        if self.writer.is_none() {
            self.retry();
        }
        let result = self.writer.as_mut().map(|w| {
            w.write_vec(&mut self.out, input_end, now)
                .map(|sealed| (sealed, w.is_open()))
        });
        let written = match result {
            // The sink is failing: what the redactor gave is dropped. It gives whole lines, so once the
            // sink works again the next segment starts at a line start.
            None => {
                self.drop_lines(lines);
                Ok(())
            }
            Some(Ok((sealed, open))) => {
                self.lines_in_segment += lines;
                for s in sealed {
                    self.sealed(s);
                    // A write that started a new segment (the old one was finished by age first) left
                    // its lines in the new one.
                    if open {
                        self.lines_in_segment = lines;
                    }
                }
                Ok(())
            }
            Some(Err(e)) => self.fail(e, lines),
        };
        self.out.clear();
        written
    }

    /// The buffer redacted bytes go through (empty between calls): many streams (tail, one per source)
    /// share one by swapping it in and out, so that each does not keep one as large as its largest chunk.
    pub(super) fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// The writer, unless the sink is failing; opens it again first when a retry is due.
    fn usable_writer(&mut self) -> Option<&mut SegmentWriter> {
        if self.writer.is_none() {
            self.retry();
        }
        self.writer.as_mut()
    }

    /// A sink error: returned (the default), or the stream goes on dropping until a retry works.
    /// `lines`: lines of the failing write (they are not in any segment).
    fn fail(&mut self, e: SinkError, lines: u64) -> Result<(), SinkError> {
        let Some(d) = &mut self.dropping else {
            return Err(e);
        };
        let mut dropped = lines;
        if let Some(mut w) = self.writer.take() {
            if d.probing {
                // Opened by a retry and failing again: this segment only holds lines since the retry;
                // remove it (a retry per interval must not leave a file each) and count them.
                dropped += self.lines_in_segment;
                if let Err(a) = w.abort() {
                    tracing::debug!(error = %a, "pipe: cannot remove the segment of a failed retry");
                }
            }
            // Otherwise the writer goes with its .partial (its complete chunks are kept as truncated
            // when it is opened again).
        }
        self.lines_in_segment = 0;
        let now = Instant::now();
        d.next_retry = now + SINK_RETRY;
        if d.failing_since.is_none() {
            d.failing_since = Some(now);
            d.last_said = now;
            d.dropped_now = 0;
            self.metrics.add_error("segment");
            tracing::error!(
                error = %crate::error_chain(&e),
                stream = %self.stream,
                "pipe: the segments cannot be written; input is still read (the writer is never blocked) \
                 but its lines are DROPPED, not sealed, until this works again (counted in \
                 logveil_dropped_lines_total); retrying every {}s",
                SINK_RETRY.as_secs()
            );
        } else {
            tracing::debug!(error = %e, "pipe: retry failed");
        }
        d.probing = false;
        self.drop_lines(dropped);
        Ok(())
    }

    /// Counts lines that will never be sealed.
    fn drop_lines(&mut self, n: u64) {
        let Some(d) = &mut self.dropping else { return };
        d.dropped += n;
        d.dropped_now += n;
        Metrics::add(&self.metrics.dropped_lines, n);
        if d.last_said.elapsed() >= STILL_FAILING_EVERY {
            d.last_said = Instant::now();
            tracing::warn!(
                dropped = d.dropped_now,
                "pipe: the segments still cannot be written; lines are being dropped"
            );
        }
    }

    /// Opens the writer again when a retry is due.
    fn retry(&mut self) {
        let Some(d) = &mut self.dropping else { return };
        if Instant::now() < d.next_retry {
            return;
        }
        match SegmentWriter::open(d.opts.clone()) {
            Ok(w) => {
                // Whether it really works shows when a segment is sealed (see `sealed`).
                tracing::debug!(stream = %self.stream, "pipe: retry: the writer is open again");
                d.probing = true;
                self.writer = Some(w);
                self.lines_in_segment = 0;
            }
            Err(e) => {
                tracing::debug!(error = %e, "pipe: the sink still fails");
                d.next_retry = Instant::now() + SINK_RETRY;
            }
        }
    }

    fn sealed(&mut self, s: Sealed) {
        self.segments += 1;
        self.lines_in_segment = 0;
        if let Some(d) = &mut self.dropping {
            d.probing = false;
            if d.failing_since.take().is_some() {
                tracing::warn!(
                    dropped = d.dropped_now,
                    stream = %self.stream,
                    "pipe: segments are written again; sealing resumed (the lines dropped meanwhile are \
                     counted in logveil_dropped_lines_total)"
                );
            }
        }
        Metrics::add(&self.metrics.segments_sealed, 1);
        Metrics::add(&self.metrics.segment_bytes, s.output_bytes);
        self.metrics.success(Job::Seal);
        self.metrics.maybe_write();
        self.sealed.push(s);
    }

    /// Moves the redactor's counts into the metrics.
    fn count_findings(&mut self, f: &Findings) {
        self.redactions += f.total();
        self.metrics.add_findings(self.engine.type_names(), f);
    }
}
