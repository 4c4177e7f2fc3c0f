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
    for path in inputs {
        let result = if path == Path::new("-") {
            filter(&engine, io::stdin().lock(), &mut out, &mut total)
        } else {
            match open_rotated(path, true) {
                Ok(f) => filter(&engine, f, &mut out, &mut total),
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
fn filter(
    engine: &Engine,
    mut input: impl Read,
    out: &mut impl Write,
    total: &mut Findings,
) -> Result<(), FilterError> {
    let mut r = Redactor::new(engine);
    let mut buf = vec![0u8; READ_SIZE];
    let mut redacted = Vec::with_capacity(READ_SIZE + READ_SIZE / 2);
    let result = loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(FilterError::Input(e)),
        };
        r.push(&buf[..n], &mut redacted);
        if !redacted.is_empty() {
            out.write_all(&redacted).map_err(FilterError::Output)?;
            out.flush().map_err(FilterError::Output)?;
            redacted.clear();
        }
    };
    // What was read is redacted and written even when the input failed part-way.
    r.finish(&mut redacted);
    out.write_all(&redacted).map_err(FilterError::Output)?;
    out.flush().map_err(FilterError::Output)?;
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
