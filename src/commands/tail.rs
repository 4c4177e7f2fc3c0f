//! `logveil tail --out DIR --recipient R --state STATE_DIR PATH...`: the sidecar. Follows log files through
//! rotation, redacts every line and seals it into segments, one segment stream per source file, and
//! commits each source's checkpoint once the segment holding its data is sealed.
//!
//! One thread runs the loop (read -> redact -> segment writer); gzip runs on the sink's pool. Signals come
//! through signal-hook on a small thread that sets a flag and wakes the loop: the loop is synchronous, so an
//! async runtime would add nothing. SIGTERM/SIGINT: finish the open segments, commit, exit 0. SIGHUP: the
//! same, then read the config again and go on.
//!
//! Exactly once: the checkpoint protocol (commit after seal, reconciliation at start) is
//! [`crate::pipeline::tail`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use jiff::Timestamp;

use super::sealing::sink_setup;
use super::{load_config, Exit};
use crate::cli::TailArgs;
use crate::config::Config;
use crate::input::tail::{Chunk, TailOptions, Tailer};
use crate::pipeline::tail::TailPipeline;
use crate::pipeline::{PipelineError, SinkSetup};
use crate::redact::Engine;
use crate::units::parse_duration;

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
    let mut sink = sink_setup(&args.seal, &cfg).context("tail")?;
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
    let sink = sink_setup(&args.seal, &cfg).context("tail")?;
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
    let mut p = TailPipeline::new(engine, sink, *reconciled);
    let outcome = loop {
        let set_up = p.set_up_new_sources(tailer);
        *reconciled = p.reconciled();
        set_up?;
        if signals.stop.load(Ordering::SeqCst) {
            break Outcome::Stop;
        }
        if signals.reload.swap(false, Ordering::SeqCst) {
            break Outcome::Reload;
        }
        let more = tailer
            .pass(|c: Chunk<'_>| -> Result<(), PipelineError> { p.push(c, Timestamp::now()) })?;
        // Sources that cannot be opened (said once each, looked at again at every pass): counted.
        for _ in 0..tailer.take_errors() {
            sink.metrics.add_error("tail");
        }
        p.tick(Timestamp::now())?;
        p.commit(tailer)?;
        if !more {
            tailer.wait(tailer.options().poll_interval);
        }
    };
    p.finish(tailer, matches!(outcome, Outcome::Reload), Timestamp::now())?;
    Ok(outcome)
}
