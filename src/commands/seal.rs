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
use std::io::{self, Read};
use std::path::Path;

use anyhow::{Context, Result};
use jiff::Timestamp;

use super::sealing::SinkSetup;
use super::{load_config, say, Exit};
use crate::cli::SealArgs;
use crate::fsutil::{parent_dir, sync_dir};
use crate::input::file::{open_rotated, stream_name_for};
use crate::input::stdin::READ_SIZE;
use crate::metrics::{Job, Metrics};
use crate::redact::{Engine, Redactor};
use crate::sink::{PartialPolicy, Sealed, SegmentWriter};

pub fn run(args: &SealArgs) -> Result<Exit> {
    let cfg = load_config(&args.config)?;
    let mut setup = SinkSetup::from_args(&args.seal, &cfg)?;
    // A rotated file is one batch: only its size splits it, never the age of its records.
    setup.max_segment_age = std::time::Duration::from_secs(u64::MAX / 4);
    let engine = Engine::new(&cfg.redaction)?;
    setup.metrics.declare_redaction_types(engine.type_names());

    let mut skipped = 0;
    let mut failed = 0;
    let mut files = Vec::new();
    for path in &args.files {
        match fs::metadata(path) {
            Ok(m) if m.is_file() => files.push((m.modified().ok(), path.clone())),
            Ok(_) => {
                say(format_args!(
                    "seal: {}: not a regular file; skipped",
                    path.display()
                ));
                skipped += 1;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                say(format_args!(
                    "seal: {}: no such file (already sealed, or not rotated yet); nothing to do",
                    path.display()
                ));
                skipped += 1;
            }
            Err(e) => {
                say(format_args!("seal: {}: {e}; skipped", path.display()));
                failed += 1;
            }
        }
    }
    files.sort();

    for (_, path) in &files {
        let stream = args.stream.clone().unwrap_or_else(|| stream_name_for(path));
        match seal_file(path, &stream, &setup, &engine, args.keep) {
            Ok(report) => {
                report.log(path, args.keep);
                setup.metrics.success(Job::Seal);
            }
            Err(e) => {
                say(format_args!(
                    "seal: {}: {e:#}; the file is kept",
                    path.display()
                ));
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

struct Report {
    sealed: Vec<Sealed>,
    input_bytes: u64,
    redactions: u64,
}

impl Report {
    fn log(&self, path: &Path, keep: bool) {
        let action = if keep { "kept" } else { "removed" };
        if self.sealed.is_empty() {
            tracing::info!(file = %path.display(), "seal: empty file, no segment written; {action}");
            return;
        }
        let names: Vec<String> = self
            .sealed
            .iter()
            .map(|s| s.path.display().to_string())
            .collect();
        tracing::info!(
            file = %path.display(),
            input_bytes = self.input_bytes,
            redactions = self.redactions,
            segments = %names.join(" "),
            "seal: sealed; plaintext {action}"
        );
    }
}

fn seal_file(
    path: &Path,
    stream: &str,
    setup: &SinkSetup,
    engine: &Engine,
    keep: bool,
) -> Result<Report> {
    let meta = fs::metadata(path).context("cannot stat")?;
    let time = meta
        .modified()
        .ok()
        .and_then(|t| Timestamp::try_from(t).ok())
        .unwrap_or_else(Timestamp::now);
    let mut input = open_rotated(path).context("cannot open")?;
    let mut writer = SegmentWriter::open(setup.options(stream, PartialPolicy::KeepAsTruncated))?;
    let mut redactor = Redactor::new(engine);
    let mut buf = vec![0u8; READ_SIZE];
    let mut out = Vec::with_capacity(READ_SIZE + READ_SIZE / 2);
    let mut sealed = Vec::new();
    let mut offset = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // The file stays; a segment holding part of it would duplicate it at the next run.
                // Segments finished by size before this point hold its beginning: remove them too.
                writer.abort()?;
                for s in &sealed {
                    remove_segment(s);
                }
                return Err(e).with_context(|| format!("reading failed at input byte {offset}"));
            }
        };
        offset += n as u64;
        Metrics::add(&setup.metrics.bytes, n as u64);
        Metrics::add(
            &setup.metrics.lines,
            memchr::memchr_iter(b'\n', &buf[..n]).count() as u64,
        );
        redactor.push(&buf[..n], &mut out);
        if !out.is_empty() {
            sealed.extend(writer.write(&out, offset, time)?);
            out.clear();
        }
    }
    redactor.finish(&mut out);
    sealed.extend(writer.write(&out, offset, time)?);
    sealed.extend(writer.finish(time)?);
    drop(writer);
    // The segments are durable (fsync, rename, fsync of the directory): only now the plaintext goes.
    if !keep {
        fs::remove_file(path).context("sealed, but cannot remove the plaintext")?;
        sync_dir(parent_dir(path)).context("removed, but cannot fsync its directory")?;
    }
    for s in &sealed {
        setup.count_sealed(s);
    }
    let findings = redactor.take_findings();
    setup.metrics.add_findings(engine.type_names(), &findings);
    Ok(Report {
        sealed,
        input_bytes: offset,
        redactions: findings.total(),
    })
}

fn remove_segment(s: &Sealed) {
    if let Err(e) = fs::remove_file(&s.path) {
        tracing::warn!(path = %s.path.display(), error = %e, "seal: cannot remove a segment of a file that failed");
    }
    let _ = sync_dir(parent_dir(&s.path));
}
