//! `logveil tail --out DIR --recipient R --state STATE_DIR PATH...`: the sidecar. Follows log files through
//! rotation, redacts every line and seals it into segments, one segment stream per source file, and
//! commits each source's checkpoint once the segment holding its data is sealed.
//!
//! One thread runs the loop (read -> redact -> segment writer); gzip runs on the sink's pool. Signals come
//! through signal-hook on a small thread that sets a flag and wakes the loop: the loop is synchronous, so an
//! async runtime would add nothing. SIGTERM/SIGINT: finish the open segments, commit, exit 0. SIGHUP: the
//! same, then read the config again and go on.
//!
//! The service manager is told the state (`Type=notify`, see [`crate::service_notify`]): READY=1 after the
//! first pass over the sources, RELOADING=1 / READY=1 around a SIGHUP (READY=1 also when the new config was
//! refused: the old one goes on, and the status says so), STOPPING=1, a STATUS= line (sources followed,
//! last seal), and WATCHDOG=1 keep-alives from the loop itself, which wakes often enough for them.
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
use crate::service_notify::{last_seal_text, Notifier};
use crate::units::parse_duration;

struct Signals {
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
}

enum Outcome {
    Stop,
    Reload,
}

/// What the service manager is told, and what goes into the status line.
struct Service {
    notify: Notifier,
    /// When a segment was last sealed, and its stream (across reloads).
    last_seal: Option<(Timestamp, String)>,
    /// When a reload was refused (said in the status until a reload works).
    reload_refused: Option<Timestamp>,
}

impl Service {
    /// `following 3 sources (1 unreadable); last seal: 2026-03-01T10:00:05Z (app.log)`.
    fn status(&self, tailer: &Tailer) -> String {
        let n = tailer.sources().len();
        let mut s = format!("following {n} source{}", if n == 1 { "" } else { "s" });
        let unreadable = tailer.sources().iter().filter(|s| s.unreadable()).count();
        if unreadable > 0 {
            s.push_str(&format!(" ({unreadable} unreadable)"));
        }
        s.push_str("; ");
        s.push_str(&last_seal_text(self.last_seal.as_ref()));
        if let Some(t) = self.reload_refused {
            s.push_str(&format!(
                "; config not reloaded at {} (see the journal): running on the previous one",
                t.strftime("%Y-%m-%dT%H:%M:%SZ")
            ));
        }
        s
    }
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
    let mut service = Service {
        notify: Notifier::from_env(),
        last_seal: None,
        reload_refused: None,
    };
    loop {
        let engine = Arc::new(Engine::new(&cfg.redaction).context("tail: redaction config")?);
        sink.metrics.declare_redaction_types(engine.type_names());
        // One set of redaction workers for every source (a reload starts new ones with the new engine).
        let threads = args
            .seal
            .threads
            .unwrap_or_else(crate::parallel::available_threads);
        let workers = if threads.get() > 1 {
            Some(
                crate::parallel::Workers::start(engine.clone(), threads)
                    .context("tail: cannot start the redaction threads")?,
            )
        } else {
            None
        };
        let outcome = follow(
            &mut tailer,
            &engine,
            workers,
            &sink,
            &signals,
            &mut reconciled,
            &mut service,
        )?;
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
                    service.reload_refused = None;
                }
                Err(e) => {
                    tracing::error!("tail: config not reloaded, keeping the old one: {e:#}");
                    service.reload_refused = Some(Timestamp::now());
                }
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

/// Runs until a signal; finishes every segment and commits before returning. Tells the service manager
/// READY=1 after its first pass (at start and after a reload), and keeps its watchdog fed.
fn follow(
    tailer: &mut Tailer,
    engine: &Engine,
    workers: Option<Arc<crate::parallel::Workers>>,
    sink: &SinkSetup,
    signals: &Signals,
    reconciled: &mut usize,
    service: &mut Service,
) -> Result<Outcome> {
    let mut p = TailPipeline::new(engine, sink, *reconciled);
    if let Some(w) = workers {
        p = p.with_workers(w);
    }
    let mut ready = false;
    let outcome = loop {
        let set_up = p.set_up_new_sources(tailer);
        *reconciled = p.reconciled();
        set_up?;
        if signals.stop.load(Ordering::SeqCst) {
            service.notify.stopping();
            break Outcome::Stop;
        }
        if signals.reload.swap(false, Ordering::SeqCst) {
            service.notify.reloading();
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
        if service.notify.enabled() {
            if p.last_seal().is_some() && p.last_seal() != service.last_seal.as_ref() {
                service.last_seal = p.last_seal().cloned();
            }
            let status = service.status(tailer);
            if ready {
                service.notify.status(status);
            } else {
                service.notify.ready(status);
                ready = true;
            }
        }
        // From this loop, not from a thread of its own: when this loop hangs, the keep-alives stop.
        service.notify.keep_alive();
        if !more {
            let poll = tailer.options().poll_interval;
            let wait = service
                .notify
                .keep_alive_within()
                .map_or(poll, |k| k.min(poll));
            tailer.wait(wait);
        }
    };
    let notify = &mut service.notify;
    p.finish(
        tailer,
        matches!(outcome, Outcome::Reload),
        Timestamp::now(),
        &mut || notify.keep_alive(),
    )?;
    if let Some(l) = p.last_seal() {
        service.last_seal = Some(l.clone());
    }
    Ok(outcome)
}
