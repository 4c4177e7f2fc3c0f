//! `logveil redact [--config FILE] [--stats] [FILE...]`: a streaming filter to stdout. Files compressed
//! with gzip are read decompressed (as `zcat` or `rg -z` would), as `seal` reads them.

use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};

use super::{load_config, say, Exit};
use crate::cli::RedactArgs;
use crate::input::file::open_rotated;
use crate::redact::{Engine, Findings, Redactor};

const READ_SIZE: usize = 256 << 10;

pub fn run(args: &RedactArgs) -> Result<Exit> {
    let cfg = load_config(&args.config)?;
    let engine = Engine::new(&cfg.redaction)?;
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
                &engine,
                io::stdin().lock(),
                &mut out,
                &mut open_line,
                &mut total,
            )
        } else {
            match open_rotated(path, true) {
                Ok(f) => filter(&engine, f, &mut out, &mut open_line, &mut total),
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

/// Redacts one input to `out`, writing and flushing after every read so live input appears at once.
/// `open_line`: the output so far ends without a newline; it is ended before this input's first byte, and
/// set again when this input's output ends without one.
fn filter(
    engine: &Engine,
    mut input: impl Read,
    out: &mut impl Write,
    open_line: &mut bool,
    total: &mut Findings,
) -> Result<(), FilterError> {
    let mut write = |bytes: &[u8]| -> Result<(), FilterError> {
        if bytes.is_empty() {
            return Ok(());
        }
        if std::mem::take(open_line) {
            out.write_all(b"\n").map_err(FilterError::Output)?;
        }
        out.write_all(bytes).map_err(FilterError::Output)?;
        out.flush().map_err(FilterError::Output)?;
        Ok(())
    };
    let mut r = Redactor::new(engine);
    let mut buf = vec![0u8; READ_SIZE];
    let mut redacted = Vec::with_capacity(READ_SIZE + READ_SIZE / 2);
    let mut last: Option<u8> = None;
    let result = loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(FilterError::Input(e)),
        };
        r.push(&buf[..n], &mut redacted);
        write(&redacted)?;
        last = redacted.last().copied().or(last);
        redacted.clear();
    };
    // What was read is redacted and written even when the input failed part-way.
    r.finish(&mut redacted);
    write(&redacted)?;
    last = redacted.last().copied().or(last);
    if let Some(b) = last {
        *open_line = b != b'\n';
    }
    total.add(r.findings());
    result
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
