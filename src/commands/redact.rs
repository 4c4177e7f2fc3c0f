//! `logveil redact [--config FILE] [--stats] [--threads N] [FILE...]`: a streaming filter to stdout.
//!
//! Redaction runs on `--threads` workers (src/parallel.rs); the output is in input order and the same as
//! with one thread. Live input keeps its latency: before waiting for more input, what the workers hold is
//! written out.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::{load_config, Exit};
use crate::cli::RedactArgs;
use crate::input::stdin::ready_to_read;
use crate::parallel::{self, ParallelRedactor};
use crate::redact::{Engine, Findings};

const READ_SIZE: usize = 256 << 10;

pub fn run(args: &RedactArgs) -> Result<Exit> {
    let cfg = load_config(&args.config)?;
    let engine = Arc::new(Engine::new(&cfg.redaction)?);
    let opts = parallel::Options {
        threads: args.threads.unwrap_or_else(parallel::available_threads),
        ..parallel::Options::default()
    };
    let mut redactor = ParallelRedactor::new(engine.clone(), opts)
        .context("cannot start the redaction threads")?;
    let mut total = engine.new_findings();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut failed = 0;
    let stdin_only = [Path::new("-")];
    let inputs: Vec<&Path> = if args.files.is_empty() {
        stdin_only.to_vec()
    } else {
        args.files.iter().map(|p| p.as_path()).collect()
    };
    for path in inputs {
        let result = if path == Path::new("-") {
            filter(&mut redactor, io::stdin().lock(), &mut out, &mut total)
        } else {
            match std::fs::File::open(path) {
                Ok(f) => filter(&mut redactor, f, &mut out, &mut total),
                Err(e) => {
                    eprintln!("logveil: {}: {e}", path.display());
                    failed += 1;
                    continue;
                }
            }
        };
        match result {
            Ok(()) => {}
            Err(FilterError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => break,
            Err(FilterError::Output(e)) => return Err(e).context("writing to stdout"),
            Err(FilterError::Input(e)) => {
                eprintln!("logveil: {}: {e}", path.display());
                failed += 1;
            }
        }
    }
    if args.stats {
        print_stats(&engine, &total);
    }
    Ok(if failed > 0 { Exit::Error } else { Exit::Ok })
}

enum FilterError {
    Input(io::Error),
    Output(io::Error),
}

/// Redacts one input to `out`. Before waiting for input that is not there yet, everything the workers
/// hold is written and flushed, so live input appears at once.
fn filter(
    r: &mut ParallelRedactor,
    mut input: impl Read + AsFd,
    out: &mut impl Write,
    total: &mut Findings,
) -> Result<(), FilterError> {
    let mut buf = vec![0u8; READ_SIZE];
    let result = loop {
        if r.busy() && !ready_to_read(input.as_fd()) {
            r.flush();
        }
        write_ready(r, out, total)?;
        let n = match input.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(FilterError::Input(e)),
        };
        r.push(&buf[..n]);
    };
    // What was read is redacted and written even when the input failed part-way.
    r.finish();
    write_ready(r, out, total)?;
    result
}

/// Writes the pieces that are ready, in order, and flushes.
fn write_ready(
    r: &mut ParallelRedactor,
    out: &mut impl Write,
    total: &mut Findings,
) -> Result<(), FilterError> {
    let mut wrote = false;
    while let Some(piece) = r.next_piece() {
        total.add(&piece.findings);
        out.write_all(&piece.bytes).map_err(FilterError::Output)?;
        r.recycle(piece.bytes);
        wrote = true;
    }
    if wrote {
        out.flush().map_err(FilterError::Output)?;
    }
    Ok(())
}

fn print_stats(engine: &Engine, f: &Findings) {
    let names = engine.type_names();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "logveil: {} redactions", f.total());
    for (name, count) in names.iter().zip(&f.counts) {
        let _ = writeln!(err, "  {name:<width$}  {count}");
    }
    if f.lines_dropped > 0 {
        let _ = writeln!(err, "  lines dropped: {}", f.lines_dropped);
    }
}
