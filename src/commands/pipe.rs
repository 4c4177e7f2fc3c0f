//! `logveil pipe --out DIR --recipient R [--tee] [--stream NAME]`: stdin -> redact -> sealed segments.
//!
//! Threads: stdin is read on one thread, signals arrive on another, both as events on one bounded channel;
//! the main thread hands chunks of whole lines to `--threads` redaction workers ([`crate::parallel`]),
//! takes their output back in input order and feeds the segment writer, whose gzip members are compressed
//! on the shared pool (so redaction, compression and encryption run at once). When input pauses for
//! `REDACT_IDLE` (2 ms), what the workers hold is waited for and handed on, so a live line reaches `--tee` and
//! its segment at once. The main thread waits with a timeout set to the open segment's deadline, so a quiet
//! stream's segment is still finished on time, and to the metrics file's next rewrite, so an idle pipe's
//! file stays fresh.
//!
//! Under a supervisor (`NOTIFY_SOCKET` set, see [`crate::service_notify`]) it says READY=1 once it takes
//! input, a STATUS= line (stream, last seal, lines dropped), STOPPING=1 when it stops, and WATCHDOG=1
//! keep-alives from the main loop when a watchdog is set (the loop wakes for them).
//!
//! SIGHUP finishes the open segment and goes on. SIGTERM, SIGINT and end of input take what was already
//! read, finish everything (a last line without newline included) and exit 0 (1 when lines were dropped).
//!
//! The bot must never be blocked or broken by logveil: when the segments cannot be written (full disk,
//! unwritable or vanished directory), stdin is still read and its lines dropped and counted until a retry
//! works (see `pipeline::sealing`), unless `--on-sink-error exit`.

use std::io;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use jiff::Timestamp;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use super::sealing::sink_setup;
use super::{load_config, Exit};
use crate::cli::{OnSinkError, PipeArgs};
use crate::input::stdin::{spawn_reader, stdin_ready, Chunk, READ_SIZE};
use crate::metrics::Metrics;
use crate::parallel::{self, ParallelRedactor};
use crate::pipeline::SealingStream;
use crate::redact::Engine;
use crate::service_notify::{last_seal_text, Notifier};
use crate::sink::{PartialPolicy, SinkError};

/// How long a stop (SIGTERM, SIGINT) keeps taking input that is still arriving.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// The longest the loop sleeps when nothing is due (no open segment, no metrics file).
const IDLE_WAKE: Duration = Duration::from_secs(3600);
/// How long input may pause before what the redaction workers hold is handed on (to the tee and the
/// segment): live input keeps its latency.
const REDACT_IDLE: Duration = Duration::from_millis(2);

enum Event {
    Input(Chunk),
    Signal(i32),
}

pub fn run(args: &PipeArgs) -> Result<Exit> {
    let cfg = load_config(&args.config)?;
    let setup = sink_setup(&args.seal, &cfg)?;
    let engine = Arc::new(Engine::new(&cfg.redaction)?);
    setup.metrics.declare_redaction_types(engine.type_names());
    let redactor = ParallelRedactor::new(
        engine.clone(),
        parallel::Options {
            threads: args
                .seal
                .threads
                .unwrap_or_else(parallel::available_threads),
            ..parallel::Options::default()
        },
    )
    .context("pipe: cannot start the redaction threads")?;
    let opts = setup.options(&args.stream, PartialPolicy::KeepAsTruncated);
    let drop_on_error = args.on_sink_error == OnSinkError::Drop;
    let mut p = match setup.open_writer(&args.stream, PartialPolicy::KeepAsTruncated) {
        Ok(w) => SealingStream::new(&engine, w, setup.metrics.clone()),
        // A full disk or an unwritable directory at start: still take the bot's output (dropping it).
        Err(e) if drop_on_error && !is_setup_error(&e) => {
            SealingStream::failed_at_start(&engine, opts.clone(), setup.metrics.clone(), e)
        }
        Err(e) => return Err(e.into()),
    };
    if drop_on_error {
        p = p.dropping_on_sink_error(opts);
    }
    let mut p = p.in_parallel(redactor);
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
        dir = %setup.dir().display(),
        stream = p.stream(),
        recipients = setup.segments.recipients.len(),
        "pipe: sealing stdin"
    );
    if args.tee {
        p = p.with_tee(Box::new(io::stdout()));
    }
    let mut exit = Exit::Ok;
    let mut stopping = false;
    // The file exists from the start (every series at 0), then is rewritten while idle too.
    setup.metrics.maybe_write();
    let mut notify = Notifier::from_env();
    let mut last_seal = None;
    notify.ready(status(&p, last_seal.as_ref()));
    loop {
        // From this loop, not from a thread of its own: when this loop hangs, the keep-alives stop.
        notify.keep_alive();
        if notify.enabled() {
            if let Some(s) = p.take_sealed().last() {
                last_seal = Some((Timestamp::now(), p.stream().to_owned()));
                tracing::trace!(segment = %s.path.display(), "pipe: sealed");
            }
            notify.status(status(&p, last_seal.as_ref()));
        } else {
            // Nobody asks: do not keep them.
            p.take_sealed();
        }
        let mut wait = idle_wait(&p, &setup.metrics, &notify);
        if p.busy() {
            wait = wait.min(REDACT_IDLE);
        }
        let event = match rx.recv_timeout(wait) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => {
                // The input pauses: what the workers redacted goes on to the tee and the segment now.
                p.flush(Timestamp::now())?;
                p.tick(Timestamp::now())?;
                setup.metrics.maybe_write();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match event {
            Event::Input(Chunk::Data(buf)) => {
                p.push(&buf, Timestamp::now())?;
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
                p.finish_segment(Timestamp::now())?;
            }
            Event::Signal(sig) => {
                tracing::info!(signal = sig, "pipe: stopping: finishing what was read");
                notify.stopping();
                stopping = true;
                // Take everything written to stdin before the signal: until the input thread waits for
                // input that is not there yet (or for at most STOP_GRACE while input keeps coming).
                let until = Instant::now() + STOP_GRACE;
                loop {
                    match rx.recv_timeout(Duration::from_millis(20)) {
                        Ok(Event::Input(Chunk::Data(buf))) => {
                            p.push(&buf, Timestamp::now())?;
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
    if !stopping {
        notify.stopping();
    }
    p.end_of_input(Timestamp::now(), false)?;
    p.finish_segment(Timestamp::now())?;
    if exit != Exit::Ok {
        setup.metrics.add_error("input");
    }
    // Retention's thread stops (after a run in progress) before the last metrics are written.
    drop(retention);
    setup.metrics.write_now();
    tracing::info!(
        input_bytes = p.position(),
        segments = p.segments(),
        redactions = p.redactions(),
        dropped_lines = p.dropped_lines(),
        "pipe: done"
    );
    if exit == Exit::Ok && p.dropped_lines() > 0 {
        tracing::error!(
            dropped_lines = p.dropped_lines(),
            "pipe: some lines were dropped because the segments could not be written"
        );
        exit = Exit::Found;
    }
    Ok(exit)
}

/// `sealing stdin as stream NAME; last seal: ...` (and the lines dropped, if any).
fn status(p: &SealingStream<'_>, last_seal: Option<&(Timestamp, String)>) -> String {
    let mut s = format!(
        "sealing stdin as stream {}; {}",
        p.stream(),
        last_seal_text(last_seal)
    );
    if p.dropped_lines() > 0 {
        s.push_str(&format!(
            "; {} lines dropped (segments could not be written)",
            p.dropped_lines()
        ));
    }
    s
}

/// How long the loop waits for input before it has something to do: finish the open segment on time (or
/// retry a failed sink), rewrite the metrics file, send a watchdog keep-alive.
fn idle_wait(p: &SealingStream<'_>, metrics: &Metrics, notify: &Notifier) -> Duration {
    let segment = p.deadline().map(|deadline| {
        Duration::try_from(deadline.duration_since(Timestamp::now())).unwrap_or(Duration::ZERO)
    });
    [segment, metrics.next_write_in(), notify.keep_alive_within()]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(IDLE_WAKE)
}

/// Errors that no retry can mend (another writer holds the stream, no usable recipient): reported at
/// start, whatever `--on-sink-error` says.
fn is_setup_error(e: &SinkError) -> bool {
    matches!(
        e,
        SinkError::Locked { .. }
            | SinkError::NoRecipients
            | SinkError::Recipient { .. }
            | SinkError::Encrypt(_)
    )
}
