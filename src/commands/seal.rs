//! `logveil seal --out DIR --recipient R FILE... [--keep] [--stream NAME]`: for logrotate's `postrotate`.
//!
//! Each (already rotated) file is redacted and sealed into segments of its stream, the segments are made
//! durable, and only then is the plaintext removed (`--keep` keeps it). Files are taken oldest first (by
//! modification time), so segments of one stream stay in data order whatever order the shell gives.
//!
//! - A missing file: a message, nothing else happens, exit 1 (running seal twice is harmless).
//! - An empty file: no segment; the file is removed (unless `--keep`): there is nothing to lose.
//! - A file that cannot be read completely: its partial segment is removed, the file is kept, exit 2.
//! - Segments are named by the file's modification time (the time of its last record).
//! - `.gz` files (logrotate `compress`) are decompressed first; other compressions are refused.

use std::fs;
use std::io;
use std::path::Path;

use anyhow::Result;

use super::sealing::sink_setup;
use super::{load_config, Exit};
use crate::cli::SealArgs;
use crate::input::file::stream_name_for;
use crate::pipeline::seal::{seal_file, SealReport};
use crate::redact::Engine;

pub fn run(args: &SealArgs) -> Result<Exit> {
    let cfg = load_config(&args.config)?;
    let mut setup = sink_setup(&args.seal, &cfg)?;
    // A rotated file is one batch: only its size splits it, never the age of its records.
    setup.segments.max_segment_age = std::time::Duration::from_secs(u64::MAX / 4);
    let engine = Engine::new(&cfg.redaction)?;

    let mut skipped = 0;
    let mut failed = 0;
    let mut files = Vec::new();
    for path in &args.files {
        match fs::metadata(path) {
            Ok(m) if m.is_file() => files.push((m.modified().ok(), path.clone())),
            Ok(_) => {
                eprintln!(
                    "logveil: seal: {}: not a regular file; skipped",
                    path.display()
                );
                skipped += 1;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                eprintln!(
                    "logveil: seal: {}: no such file (already sealed, or not rotated yet); nothing to do",
                    path.display()
                );
                skipped += 1;
            }
            Err(e) => {
                eprintln!("logveil: seal: {}: {e}; skipped", path.display());
                failed += 1;
            }
        }
    }
    files.sort();

    for (_, path) in &files {
        let stream = args.stream.clone().unwrap_or_else(|| stream_name_for(path));
        match seal_file(path, &stream, &setup, &engine, args.keep) {
            Ok(report) => log_report(&report, path, args.keep),
            Err(e) => {
                let e = anyhow::Error::from(e);
                eprintln!("logveil: seal: {}: {e:#}; the file is kept", path.display());
                setup.metrics.add_error("seal");
                failed += 1;
            }
        }
    }
    setup.metrics.write_now();
    Ok(if failed > 0 {
        Exit::Error
    } else if skipped > 0 {
        Exit::Found
    } else {
        Exit::Ok
    })
}

fn log_report(report: &SealReport, path: &Path, keep: bool) {
    let action = if keep { "kept" } else { "removed" };
    if report.sealed.is_empty() {
        tracing::info!(file = %path.display(), "seal: empty file, no segment written; {action}");
        return;
    }
    let names: Vec<String> = report
        .sealed
        .iter()
        .map(|s| s.path.display().to_string())
        .collect();
    tracing::info!(
        file = %path.display(),
        input_bytes = report.input_bytes,
        redactions = report.redactions,
        segments = %names.join(" "),
        "seal: sealed; plaintext {action}"
    );
}
