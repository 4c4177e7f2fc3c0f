//! `logveil pipe --out DIR --recipient R [--tee] [--stream NAME]`: stdin -> redact -> sealed segments.
//!
//! Threads: stdin is read on one thread, signals arrive on another, both as events on one bounded channel;
//! the main thread redacts and feeds the segment writer, whose gzip members are compressed on the shared
//! pool (so redaction and compression run in parallel). The main thread waits with a timeout set to the
//! open segment's deadline, so a quiet stream's segment is still finished on time.
//!
//! SIGHUP finishes the open segment and goes on. SIGTERM, SIGINT and end of input take what was already
//! read, finish everything (a last line without newline included) and exit 0.

use std::io::{self, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use jiff::Timestamp;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use super::sealing::SinkSetup;
use super::{load_config, Exit};
use crate::cli::PipeArgs;
use crate::input::stdin::{spawn_reader, stdin_ready, Chunk, READ_SIZE};
use crate::metrics::Metrics;
use crate::redact::{Engine, Redactor};
use crate::sink::{PartialPolicy, Sealed, SegmentWriter};

/// How long a stop (SIGTERM, SIGINT) keeps taking input that is still arriving.
const STOP_GRACE: Duration = Duration::from_secs(2);

enum Event {
    Input(Chunk),
    Signal(i32),
}

pub fn run(args: &PipeArgs) -> Result<Exit> {
    let cfg = load_config(&args.config)?;
    let setup = SinkSetup::from_args(&args.seal, &cfg)?;
    let engine = Engine::new(&cfg.redaction)?;
    setup.metrics.declare_redaction_types(engine.type_names());
    let mut writer =
        SegmentWriter::open(setup.options(&args.stream, PartialPolicy::KeepAsTruncated))?;
    let retention = setup.start_retention(&cfg)?;

    let (tx, rx) = mpsc::sync_channel::<Event>(4);
    let mut signals = signal_hook::iterator::Signals::new([SIGHUP, SIGTERM, SIGINT])
        .context("pipe: cannot install signal handlers")?;
    let sig_tx = tx.clone();
    std::thread::Builder::new()
        .name("logveil-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if sig_tx.send(Event::Signal(sig)).is_err() {
                    return;
                }
            }
        })
        .context("pipe: cannot start the signal thread")?;
    let reader = spawn_reader(io::stdin(), READ_SIZE, tx, Event::Input)
        .context("pipe: cannot start the input thread")?;

    tracing::info!(
        dir = %setup.dir.display(),
        stream = writer.stream(),
        recipients = setup.recipients.len(),
        "pipe: sealing stdin"
    );
    let mut p = Pipe {
        setup: &setup,
        engine: &engine,
        redactions: 0,
        redactor: Redactor::new(&engine),
        writer: &mut writer,
        out: Vec::with_capacity(READ_SIZE + READ_SIZE / 2),
        offset: 0,
        tee: args.tee.then(io::stdout),
        segments: 0,
    };
    let mut exit = Exit::Ok;
    loop {
        let event = match p.writer.deadline() {
            Some(deadline) => {
                let wait = Duration::try_from(deadline.duration_since(Timestamp::now()))
                    .unwrap_or(Duration::ZERO);
                match rx.recv_timeout(wait) {
                    Ok(e) => e,
                    Err(RecvTimeoutError::Timeout) => {
                        let sealed = p.writer.tick(Timestamp::now())?;
                        p.sealed(sealed.iter());
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            None => match rx.recv() {
                Ok(e) => e,
                Err(_) => break,
            },
        };
        match event {
            Event::Input(Chunk::Data(buf)) => {
                p.input(&buf)?;
                reader.give(buf);
            }
            Event::Input(Chunk::End) => break,
            Event::Input(Chunk::Failed(e)) => {
                tracing::error!(error = %e, "pipe: reading stdin failed; finishing what was read");
                exit = Exit::Error;
                break;
            }
            Event::Signal(SIGHUP) => {
                tracing::info!("pipe: SIGHUP: finishing the open segment");
                let sealed = p.writer.finish(Timestamp::now())?;
                p.sealed(sealed.iter());
            }
            Event::Signal(sig) => {
                tracing::info!(signal = sig, "pipe: stopping: finishing what was read");
                // Take everything written to stdin before the signal: until the input thread waits for
                // input that is not there yet (or for at most STOP_GRACE while input keeps coming).
                let until = Instant::now() + STOP_GRACE;
                loop {
                    match rx.recv_timeout(Duration::from_millis(20)) {
                        Ok(Event::Input(Chunk::Data(buf))) => {
                            p.input(&buf)?;
                            reader.give(buf);
                        }
                        Ok(Event::Input(Chunk::Failed(e))) => {
                            tracing::error!(error = %e, "pipe: reading stdin failed while stopping");
                            exit = Exit::Error;
                            break;
                        }
                        Ok(Event::Input(Chunk::End)) | Err(RecvTimeoutError::Disconnected) => break,
                        Ok(Event::Signal(_)) => {}
                        // Nothing held by the reader and nothing more in the pipe: all was taken.
                        Err(RecvTimeoutError::Timeout) if reader.is_idle() && !stdin_ready() => {
                            break
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                    if Instant::now() >= until {
                        tracing::warn!(
                            "pipe: input was still arriving when stopping; later input is not read"
                        );
                        break;
                    }
                }
                break;
            }
        }
    }
    let mut tail = std::mem::take(&mut p.out);
    p.redactor.finish(&mut tail);
    p.out = tail;
    p.emit()?;
    let sealed = p.writer.finish(Timestamp::now())?;
    p.sealed(sealed.iter());
    p.count_findings();
    if exit != Exit::Ok {
        setup.metrics.add_error("input");
    }
    // Retention's thread stops (after a run in progress) before the last metrics are written.
    drop(retention);
    setup.metrics.write_now();
    tracing::info!(
        input_bytes = p.offset,
        segments = p.segments,
        redactions = p.redactions,
        "pipe: done"
    );
    Ok(exit)
}

struct Pipe<'a, 'e> {
    setup: &'a SinkSetup,
    engine: &'e Engine,
    redactions: u64,
    redactor: Redactor<'e>,
    writer: &'a mut SegmentWriter,
    out: Vec<u8>,
    offset: u64,
    tee: Option<io::Stdout>,
    segments: u64,
}

impl Pipe<'_, '_> {
    fn input(&mut self, buf: &[u8]) -> Result<()> {
        self.offset += buf.len() as u64;
        let m = &self.setup.metrics;
        Metrics::add(&m.bytes, buf.len() as u64);
        Metrics::add(&m.lines, memchr::memchr_iter(b'\n', buf).count() as u64);
        self.redactor.push(buf, &mut self.out);
        self.emit()?;
        self.count_findings();
        m.maybe_write();
        Ok(())
    }

    /// Moves the redactor's counts into the metrics.
    fn count_findings(&mut self) {
        let f = self.redactor.take_findings();
        self.redactions += f.total();
        self.setup
            .metrics
            .add_findings(self.engine.type_names(), &f);
    }

    fn sealed<'s>(&mut self, sealed: impl Iterator<Item = &'s Sealed>) {
        for s in sealed {
            self.segments += 1;
            self.setup.count_sealed(s);
        }
    }

    /// Sends the redacted bytes to the writer (and stdout with --tee).
    fn emit(&mut self) -> Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        if let Some(stdout) = &mut self.tee {
            let r = stdout.write_all(&self.out).and_then(|()| stdout.flush());
            if let Err(e) = r {
                tracing::warn!(error = %e, "pipe: --tee: stdout failed; only sealing from now on");
                self.tee = None;
            }
        }
        let end = self.offset - self.redactor.pending() as u64;
        let sealed = self.writer.write(&self.out, end, Timestamp::now())?;
        self.sealed(sealed.iter());
        self.out.clear();
        Ok(())
    }
}
