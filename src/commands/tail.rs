//! `logveil tail --out DIR --recipient R --state STATE_DIR PATH...`: the sidecar. Follows log files through
//! rotation, redacts every line and seals it into segments, one segment stream per source file, and
//! commits each source's checkpoint once the segment holding its data is sealed.
//!
//! One thread runs the loop (read -> redact -> segment writer); gzip runs on the sink's pool. Signals come
//! through signal-hook on a small thread that sets a flag and wakes the loop: the loop is synchronous, so an
//! async runtime would add nothing. SIGTERM/SIGINT: finish the open segments, commit, exit 0. SIGHUP: the
//! same, then read the config again and go on.
//!
//! Exactly once: a checkpoint is only moved to the end of a sealed segment, and records that segment's
//! name. A crash between a seal and its checkpoint leaves a segment newer than the checkpoint says; at the
//! next start it is removed (with a warning naming it) when the checkpointed file was found again, because
//! its lines are about to be read and sealed again. A `.partial` is removed for the same reason.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use jiff::Timestamp;

use super::sealing::SinkSetup;
use super::{load_config, Exit};
use crate::cli::TailArgs;
use crate::config::Config;
use crate::input::tail::{Chunk, Resume, TailOptions, Tailer};
use crate::metrics::{Job, Metrics};
use crate::redact::{Engine, Redactor};
use crate::sink::name::{data_order, SegmentName, SegmentState};
use crate::sink::{PartialPolicy, Sealed, SegmentWriter};
use crate::units::parse_duration;

/// A tail's segment writer: `.partial`s hold only data past the checkpoint, which is read again from the
/// source, so they are removed (with a warning naming them).
fn open_writer(sink: &SinkSetup, stream: &str) -> Result<SegmentWriter> {
    Ok(SegmentWriter::open(
        sink.options(stream, PartialPolicy::Remove),
    )?)
}

/// Memory the segment writers of all sources together may hold for their open segments (blocks waiting
/// for compression, spare buffers, age chunks). Past it, the segments holding the most are finished early:
/// with many busy files this bounds memory at the cost of smaller segments.
const SEGMENT_MEMORY_BUDGET: u64 = 24 << 20;
/// Bytes fed to a redactor at once (its buffer grows to what it is fed, and there is one per source).
const REDACT_PIECE: usize = 16 << 10;
/// age buffers up to one 64 KiB chunk per open segment.
const AGE_CHUNK: u64 = 64 << 10;

/// Per source: its redactor and segment writer.
struct Stream<'e> {
    redactor: Redactor<'e>,
    writer: SegmentWriter,
    /// Redacted bytes written to the open segment.
    unsealed: u64,
}

impl Stream<'_> {
    /// Writes redacted bytes; returns the segments this finished.
    fn write(&mut self, out: &[u8], end: u64, now: Timestamp) -> Result<Vec<Sealed>> {
        let sealed = self.writer.write(out, end, now)?;
        self.unsealed = if sealed.is_empty() {
            self.unsealed + out.len() as u64
        } else if self.writer.is_open() {
            out.len() as u64 // finished by age before these bytes, which started a new segment
        } else {
            0
        };
        Ok(sealed)
    }

    fn sealed(&mut self, s: Option<Sealed>) -> Option<Sealed> {
        if s.is_some() {
            self.unsealed = 0;
        }
        s
    }

    /// What the writer holds in memory for the open segment, about: the block being filled, or once
    /// blocks went to compression, up to all its spare buffers; plus age's chunk buffer.
    fn held(&self) -> u64 {
        use crate::sink::compress::{BLOCK_SIZE, MAX_INFLIGHT};
        if !self.writer.is_open() {
            return 0;
        }
        let block = BLOCK_SIZE as u64;
        // Spare input and output buffers (both about a block) for each block that was in flight at once.
        let blocks = if self.unsealed < block {
            self.unsealed
        } else {
            self.unsealed.min((2 * MAX_INFLIGHT as u64 + 1) * block)
        };
        blocks + AGE_CHUNK
    }
}

struct Signals {
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
}

enum Outcome {
    Stop,
    Reload,
}

pub fn run(args: &TailArgs) -> Result<Exit> {
    let mut cfg = load_config(&args.config)?;
    let state = args
        .state
        .clone()
        .or_else(|| cfg.tail.state_dir.clone())
        .context("tail: no state directory for checkpoints\n  hint: give --state DIR (or logveil.tail.state_dir in the config)")?;
    let poll_interval = match &args.poll_interval {
        Some(t) => parse_duration(t).map_err(|e| anyhow::anyhow!("tail: --poll-interval: {e}"))?,
        None => cfg.tail.poll_interval,
    };
    if poll_interval < std::time::Duration::from_millis(10) {
        bail!("tail: --poll-interval must be at least 10ms");
    }
    let mut sink = SinkSetup::from_args(&args.seal, &cfg).context("tail")?;
    let mut opts = TailOptions::new(state);
    opts.poll_only = args.poll;
    opts.follow_symlinks = cfg.tail.follow_symlinks;
    opts.poll_interval = poll_interval;
    let mut tailer = Tailer::new(&args.paths, opts)?;
    let signals = install_signals(&tailer)?;
    let mut reconciled = 0;
    let mut retention = sink.start_retention(&cfg)?;
    loop {
        let engine = Engine::new(&cfg.redaction).context("tail: redaction config")?;
        sink.metrics.declare_redaction_types(engine.type_names());
        let outcome = follow(&mut tailer, &engine, &sink, &signals, &mut reconciled)?;
        match outcome {
            Outcome::Stop => {
                tracing::info!("tail: stopped; segments finished and checkpoints written");
                drop(retention);
                sink.metrics.write_now();
                return Ok(Exit::Ok);
            }
            Outcome::Reload => match reload_guarded(args) {
                Ok((c, mut s)) => {
                    tracing::info!("tail: config read again");
                    // The counters go on (a new metrics file path takes a restart).
                    s.metrics = Arc::clone(&sink.metrics);
                    drop(retention);
                    retention = s.start_retention(&c)?;
                    cfg = c;
                    sink = s;
                }
                Err(e) => tracing::error!("tail: config not reloaded, keeping the old one: {e:#}"),
            },
        }
    }
}

/// [`reload`], where a panic while loading is an error too: a config that fails to load or to build
/// (within the DFA and NFA limits), or a panic, keeps the old one; a reload never stops the sidecar.
fn reload_guarded(args: &TailArgs) -> Result<(Config, SinkSetup)> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reload(args)))
        .unwrap_or_else(|_| Err(anyhow::anyhow!("tail: reading the config panicked")))
}

fn reload(args: &TailArgs) -> Result<(Config, SinkSetup)> {
    let cfg = load_config(&args.config)?;
    Engine::new(&cfg.redaction).context("tail: redaction config")?;
    let sink = SinkSetup::from_args(&args.seal, &cfg).context("tail")?;
    Ok((cfg, sink))
}

fn install_signals(tailer: &Tailer) -> Result<Signals> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    let reload = Arc::new(AtomicBool::new(false));
    let mut it = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .context("tail: cannot install signal handlers")?;
    let (s, r, waker) = (stop.clone(), reload.clone(), tailer.waker());
    std::thread::Builder::new()
        .name("logveil-signals".into())
        .spawn(move || {
            for sig in it.forever() {
                if sig == SIGHUP {
                    r.store(true, Ordering::SeqCst);
                } else {
                    s.store(true, Ordering::SeqCst);
                }
                waker.wake();
            }
        })
        .context("tail: cannot start the signal thread")?;
    Ok(Signals { stop, reload })
}

/// Runs until a signal; finishes every segment and commits before returning.
fn follow(
    tailer: &mut Tailer,
    engine: &Engine,
    sink: &SinkSetup,
    signals: &Signals,
    reconciled: &mut usize,
) -> Result<Outcome> {
    let mut streams: Vec<Option<Stream<'_>>> = Vec::new();
    let mut out = Vec::with_capacity(128 << 10);
    let mut commits: Vec<(usize, Sealed)> = Vec::new();
    let outcome = loop {
        set_up_new_sources(tailer, engine, sink, &mut streams, reconciled)?;
        if signals.stop.load(Ordering::SeqCst) {
            break Outcome::Stop;
        }
        if signals.reload.swap(false, Ordering::SeqCst) {
            break Outcome::Reload;
        }
        let more = tailer.pass(|c: Chunk<'_>| -> Result<()> {
            let Some(st) = streams.get_mut(c.source).and_then(Option::as_mut) else {
                bail!("tail: internal: data for a source that was not set up");
            };
            let m = &sink.metrics;
            Metrics::add(&m.bytes, c.bytes.len() as u64);
            Metrics::add(&m.lines, memchr::memchr_iter(b'\n', c.bytes).count() as u64);
            for piece in c.bytes.chunks(REDACT_PIECE) {
                st.redactor.push(piece, &mut out);
            }
            if c.end_of_file {
                st.redactor.finish(&mut out);
                if !out.is_empty() && !out.ends_with(b"\n") {
                    out.push(b'\n');
                }
            }
            let end = c.end - st.redactor.pending() as u64;
            for s in st.write(&out, end, Timestamp::now())? {
                commits.push((c.source, s));
            }
            out.clear();
            bound_memory(&mut streams, &mut commits)
        })?;
        for _ in 0..tailer.take_errors() {
            sink.metrics.add_error("tail");
        }
        let now = Timestamp::now();
        for (i, st) in streams.iter_mut().enumerate() {
            if let Some(st) = st {
                let s = st.writer.tick(now)?;
                if let Some(s) = st.sealed(s) {
                    commits.push((i, s));
                }
            }
        }
        bound_memory(&mut streams, &mut commits)?;
        count(engine, sink, &mut streams, &commits);
        commit(tailer, &mut commits, sink)?;
        sink.metrics.maybe_write();
        if !more {
            tailer.wait(tailer.options().poll_interval);
        }
    };
    // Finish: flush what the redactors hold back (on reload they are replaced), seal, commit.
    let now = Timestamp::now();
    for (i, st) in streams.iter_mut().enumerate() {
        let Some(st) = st else { continue };
        if matches!(outcome, Outcome::Reload) && st.redactor.pending() > 0 {
            st.redactor.finish(&mut out);
            let end = tailer.sources()[i].position();
            for s in st.write(&out, end, now)? {
                commits.push((i, s));
            }
            out.clear();
        }
        let s = st.writer.finish(now)?;
        if let Some(s) = st.sealed(s) {
            commits.push((i, s));
        }
    }
    count(engine, sink, &mut streams, &commits);
    commit(tailer, &mut commits, sink)?;
    Ok(outcome)
}

/// Moves the redactors' counts and the sealed segments into the metrics.
fn count(
    engine: &Engine,
    sink: &SinkSetup,
    streams: &mut [Option<Stream<'_>>],
    commits: &[(usize, Sealed)],
) {
    for st in streams.iter_mut().flatten() {
        let f = st.redactor.take_findings();
        sink.metrics.add_findings(engine.type_names(), &f);
    }
    for (_, s) in commits {
        sink.count_sealed(s);
    }
}

/// Finishes the segments holding the most memory while all together hold more than the budget.
fn bound_memory(
    streams: &mut [Option<Stream<'_>>],
    commits: &mut Vec<(usize, Sealed)>,
) -> Result<()> {
    let total: u64 = streams.iter().flatten().map(Stream::held).sum();
    if total <= SEGMENT_MEMORY_BUDGET {
        return Ok(());
    }
    let mut by_size: Vec<(u64, usize)> = streams
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_ref().map(|s| (s.held(), i)))
        .filter(|&(h, _)| h > 0)
        .collect();
    by_size.sort_unstable_by(|a, b| b.cmp(a));
    let mut left = total;
    let now = Timestamp::now();
    for (held, i) in by_size {
        if left <= SEGMENT_MEMORY_BUDGET * 3 / 4 {
            break;
        }
        let Some(st) = streams[i].as_mut() else {
            continue;
        };
        let s = st.writer.finish(now)?;
        if let Some(s) = st.sealed(s) {
            tracing::debug!(
                stream = st.writer.stream(),
                held,
                "tail: segment finished early to bound memory"
            );
            commits.push((i, s));
        }
        left -= held;
    }
    Ok(())
}

fn commit(tailer: &mut Tailer, commits: &mut Vec<(usize, Sealed)>, sink: &SinkSetup) -> Result<()> {
    let any = !commits.is_empty();
    for (i, s) in commits.drain(..) {
        let name = s.path.file_name().map(|n| n.to_string_lossy().into_owned());
        tailer
            .commit(i, s.input_end, name.as_deref())
            .with_context(|| {
                format!(
                    "tail: checkpoint of {}",
                    tailer.sources()[i].path().display()
                )
            })?;
    }
    if any {
        sink.metrics.success(Job::Checkpoint);
    }
    Ok(())
}

/// Opens a writer for each source not set up yet (after a reload: all). A source seen for the first time in
/// this process is also cleaned up after a crash and gets its first checkpoint.
fn set_up_new_sources<'e>(
    tailer: &mut Tailer,
    engine: &'e Engine,
    sink: &SinkSetup,
    streams: &mut Vec<Option<Stream<'e>>>,
    reconciled: &mut usize,
) -> Result<()> {
    for i in streams.len()..tailer.sources().len() {
        let src = &tailer.sources()[i];
        let writer = open_writer(sink, src.stream())
            .with_context(|| format!("tail: segments of {}", src.path().display()))?;
        if i >= *reconciled {
            let latest = reconcile(
                &sink.dir,
                src.path(),
                src.stream(),
                src.resume(),
                src.loaded_checkpoint().and_then(|c| c.segment.as_deref()),
            )?;
            let pos = src.position();
            tailer.commit(i, pos, latest.as_deref()).with_context(|| {
                format!(
                    "tail: checkpoint of {}",
                    tailer.sources()[i].path().display()
                )
            })?;
            *reconciled = i + 1;
        }
        streams.push(Some(Stream {
            redactor: Redactor::new(engine),
            writer,
            unsealed: 0,
        }));
    }
    Ok(())
}

/// Looks at the segments of a stream already in `out`: removes those sealed after the checkpoint (their
/// lines will be read again) when the checkpointed file was found. Returns the latest segment left.
fn reconcile(
    out: &Path,
    source: &Path,
    stream: &str,
    resume: Resume,
    recorded: Option<&str>,
) -> Result<Option<String>> {
    let mut existing: Vec<(SegmentName, PathBuf)> = Vec::new();
    let entries = match std::fs::read_dir(out) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("tail: cannot list {}", out.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("tail: cannot list {}", out.display()))?;
        let Some(name) = entry.file_name().to_str().and_then(SegmentName::parse) else {
            continue;
        };
        if name.stream == stream && name.state != SegmentState::Partial {
            existing.push((name, entry.path()));
        }
    }
    existing.sort_by(|a, b| data_order(&a.0, &b.0));
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
            for (name, path) in existing.iter().filter(|(n, _)| after(n)) {
                tracing::warn!(
                    path = %path.display(),
                    "tail: segment sealed after the last checkpoint (a crash came between the two); removed: \
                     its lines are read again from the source"
                );
                let _ = name;
                std::fs::remove_file(path)
                    .with_context(|| format!("tail: cannot remove {}", path.display()))?;
                removed = true;
            }
            if removed {
                std::fs::File::open(out)
                    .and_then(|d| d.sync_all())
                    .with_context(|| format!("tail: cannot fsync {}", out.display()))?;
                existing.retain(|(n, _)| !after(n));
            }
        }
        Resume::Lost => {
            let newer = existing.iter().filter(|(n, _)| after(n)).count();
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
    Ok(existing.last().map(|(n, _)| n.to_string()))
}
