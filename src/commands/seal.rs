//! `logveil seal --out DIR --recipient R FILE... [--keep] [--stream NAME]`: for logrotate's `postrotate`.
//!
//! Each (already rotated) file is redacted and sealed into segments of its stream, the segments are made
//! durable, and only then is the plaintext removed (`--keep` keeps it). Files are taken oldest first (by
//! modification time), so segments of one stream stay in data order whatever order the shell gives.
//!
//! - A missing file: a message, nothing else happens, exit 1 (running seal twice is harmless).
//! - An empty file: no segment; the file is removed (unless `--keep`): there is nothing to lose.
//! - A file that cannot be read completely, or whose segments cannot be written (a full disk): what was
//!   written of it is removed, the file is kept, exit 2.
//! - Running it again on a file after a kill, a failure or a plaintext that could not be removed leaves
//!   every line in the segments exactly once (see `pipeline::seal`).
//! - A symbolic link: refused (exit 2, nothing sealed or removed), since removing the link would leave the
//!   plaintext; `--follow-symlinks` seals its target and removes the target and the link.
//! - Segments are named by the file's modification time (the time of its last record).
//! - `.gz` files (logrotate `compress`) are decompressed first; other compressions are refused.
//! - A file another process still holds open for writing: waited for (`--writer-wait`), then refused and
//!   kept (exit 2) unless `--force`; see `pipeline::seal`.

use std::fs;
use std::io;
use std::path::Path;

use anyhow::Result;

use super::sealing::sink_setup;
use super::{load_config, say, Exit};
use crate::cli::SealArgs;
use crate::input::file::stream_name_for;
use crate::metrics::Job;
use crate::pipeline::seal::{seal_file, OpenWriterPolicy, SealFileOptions, SealReport};
use crate::redact::Engine;

pub fn run(args: &SealArgs) -> Result<Exit> {
    let writer_wait = crate::units::parse_duration(&args.writer_wait)
        .map_err(|e| anyhow::anyhow!("seal: --writer-wait: {e}"))?;
    let opts = SealFileOptions {
        keep: args.keep,
        open_writers: if args.force {
            OpenWriterPolicy::Ignore
        } else {
            OpenWriterPolicy::WaitThenRefuse(writer_wait)
        },
        threads: args
            .seal
            .threads
            .unwrap_or_else(crate::parallel::available_threads),
    };
    let cfg = load_config(&args.config)?;
    let mut setup = sink_setup(&args.seal, &cfg)?;
    // A rotated file is one batch: only its size splits it, never the age of its records.
    setup.segments.max_segment_age = std::time::Duration::from_secs(u64::MAX / 4);
    let engine = std::sync::Arc::new(Engine::new(&cfg.redaction)?);
    setup.metrics.declare_redaction_types(engine.type_names());

    let mut skipped = 0;
    let mut failed = 0;
    // (modification time, file to seal, the link given for it with --follow-symlinks)
    let mut files = Vec::new();
    for path in &args.files {
        match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::canonicalize(path);
                let shown = match &target {
                    Ok(t) => t.display().to_string(),
                    Err(e) => format!("unresolvable: {e}"),
                };
                if !args.follow_symlinks {
                    say(format_args!(
                        "seal: {}: a symbolic link (to {shown}); nothing sealed, nothing removed \
                         (removing the link would leave the plaintext; give --follow-symlinks to seal and \
                         remove its target)",
                        path.display()
                    ));
                    failed += 1;
                    continue;
                }
                match target.and_then(|t| fs::metadata(&t).map(|m| (m, t))) {
                    Ok((m, t)) if m.is_file() => {
                        files.push((m.modified().ok(), t, Some(path.clone())))
                    }
                    Ok(_) => {
                        say(format_args!(
                            "seal: {}: its target {shown} is not a regular file; skipped",
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
            Ok(m) if m.is_file() => files.push((m.modified().ok(), path.clone(), None)),
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

    for (_, path, link) in &files {
        let named = link.as_ref().unwrap_or(path);
        let stream = args
            .stream
            .clone()
            .unwrap_or_else(|| stream_name_for(named));
        match seal_file(path, &stream, &setup, &engine, opts) {
            Ok(report) => {
                if let (Some(link), false) = (link, args.keep) {
                    // The target is gone; a link to nothing is of no use.
                    if let Err(e) = fs::remove_file(link) {
                        tracing::warn!(link = %link.display(), error = %e, "seal: cannot remove the link to the sealed file");
                    }
                }
                log_report(&report, path, args.keep);
                setup.metrics.success(Job::Seal);
            }
            Err(e) => {
                let e = anyhow::Error::from(e);
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

fn log_report(report: &SealReport, path: &Path, keep: bool) {
    let action = if keep { "kept" } else { "removed" };
    if report.already_sealed {
        tracing::info!(file = %path.display(), "seal: sealed by an earlier run; plaintext {action}");
        return;
    }
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
