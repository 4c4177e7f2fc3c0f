//! `logveil redact [--config FILE] [--stats] [--threads N] [FILE...]`: a streaming filter to stdout. Files
//! compressed with gzip are read decompressed (as `zcat` or `rg -z` would), as `seal` reads them.
//!
//! Redaction runs on `--threads` workers (src/parallel.rs); the output is in input order and the same as
//! with one thread. The input is read on its own thread; when no more of it comes for a moment, what the
//! workers hold is written out, so live input appears at once.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::{load_config, say, Exit};
use crate::cli::RedactArgs;
use crate::input::file::open_rotated;
use crate::input::stdin::{spawn_reader, Chunk};
use crate::parallel::{self, ParallelRedactor};
use crate::redact::{Engine, Findings};

const READ_SIZE: usize = 256 << 10;
/// How long input may pause before what the workers hold is written out.
const IDLE: Duration = Duration::from_millis(2);

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
    // Whether the output so far ends inside a line: an input without a final newline is not glued to the
    // next one's first line (its last line is ended before the next input's first byte).
    let mut open_line = false;
    for path in inputs {
        let result = if path == Path::new("-") {
            filter(
                &mut redactor,
                io::stdin(),
                &mut out,
                &mut open_line,
                &mut total,
            )
        } else {
            match open_rotated(path, true) {
                Ok(f) => filter(&mut redactor, f, &mut out, &mut open_line, &mut total),
                Err(e) => {
                    say(format_args!("{}: {e}", path.display()));
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
                say(format_args!("{}: {e}", path.display()));
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

/// Redacts one input to `out`. It is read on its own thread; whenever it pauses (live input), everything
/// the workers hold is written and flushed. `open_line`: the output so far ends without a newline; it is
/// ended before this input's first byte, and set again when this input's output ends without one.
fn filter(
    r: &mut ParallelRedactor,
    input: impl Read + Send + 'static,
    out: &mut impl Write,
    open_line: &mut bool,
    total: &mut Findings,
) -> Result<(), FilterError> {
    let (tx, rx) = mpsc::sync_channel(4);
    let reader = spawn_reader(input, READ_SIZE, tx, |c| c).map_err(FilterError::Input)?;
    // A piece may end inside a line (the redactor's pieces are cut anywhere); only between inputs is a
    // line ended.
    let mut w = Written {
        separate: std::mem::take(open_line),
        last: None,
    };
    let result = loop {
        let chunk = if r.busy() {
            match rx.recv_timeout(IDLE) {
                Ok(c) => c,
                Err(RecvTimeoutError::Timeout) => {
                    r.flush();
                    write_ready(r, out, &mut w, total)?;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break Ok(()),
            }
        } else {
            match rx.recv() {
                Ok(c) => c,
                Err(_) => break Ok(()),
            }
        };
        match chunk {
            Chunk::Data(buf) => {
                r.push(&buf);
                reader.give(buf);
                write_ready(r, out, &mut w, total)?;
            }
            Chunk::End => break Ok(()),
            Chunk::Failed(e) => break Err(FilterError::Input(e)),
        }
    };
    // What was read is redacted and written even when the input failed part-way.
    r.finish();
    write_ready(r, out, &mut w, total)?;
    *open_line = match w.last {
        Some(b) => b != b'\n',
        None => w.separate,
    };
    result
}

/// What one input's output has been so far.
struct Written {
    /// The previous input's output ended inside a line: a newline goes before this input's first byte.
    separate: bool,
    /// The last byte written for this input.
    last: Option<u8>,
}

/// Writes the pieces that are ready, in order, and flushes.
fn write_ready(
    r: &mut ParallelRedactor,
    out: &mut impl Write,
    w: &mut Written,
    total: &mut Findings,
) -> Result<(), FilterError> {
    let mut wrote = false;
    while let Some(piece) = r.next_piece() {
        total.add(&piece.findings);
        if let Some(&last) = piece.bytes.last() {
            if std::mem::take(&mut w.separate) {
                out.write_all(b"\n").map_err(FilterError::Output)?;
            }
            out.write_all(&piece.bytes).map_err(FilterError::Output)?;
            w.last = Some(last);
        }
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
