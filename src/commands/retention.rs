//! `logveil retention [--config FILE] [--dir DIR] [--max-age 90d] [--dry-run] [--as-of RFC3339] [--force]`: applies the
//! retention policy once (for cron or a systemd timer). Prints what it deleted (paths only) and a summary.

use std::io::Write;

use anyhow::{Context, Result};
use jiff::Timestamp;

use super::{load_config, Exit};
use crate::cli::RetentionArgs;
use crate::metrics::{Job, Metrics};
use crate::pipeline::count_retention;
use crate::retention::Policy;
use crate::units::parse_positive_duration;

pub fn run(args: &RetentionArgs) -> Result<Exit> {
    let cfg = load_config(&args.config)?;
    if let Some(listing) = &args.remote_listing {
        return super::retention_remote::run(&cfg, args, listing);
    }
    let mut policy = Policy::from_config(&cfg, &args.dir)?;
    if let Some(age) = &args.max_age {
        policy.segment_max_age = parse_positive_duration(age)
            .map_err(|e| anyhow::anyhow!("retention: --max-age: {e}"))?;
    }
    let now = match &args.as_of {
        Some(t) => t.parse::<Timestamp>().with_context(|| {
            format!("retention: --as-of {t:?} is not an RFC 3339 time (e.g. 2026-11-25T16:00:00Z)")
        })?,
        None => Timestamp::now(),
    };
    let metrics = Metrics::with_file(
        (!args.dry_run)
            .then(|| {
                args.metrics_file
                    .clone()
                    .or_else(|| cfg.metrics_file.clone())
            })
            .flatten(),
    );
    // `auto_rotate: false` (a legal hold, say) means no scheduled deletion: this command is what the hourly
    // timer runs, so it deletes nothing then unless told so. That is the run done as configured: a success
    // for the metrics (an alert on the last success must not fire during a hold).
    if !policy.auto_delete && !args.force && !args.dry_run {
        tracing::info!("retention: auto_rotate is false in the config; nothing deleted");
        println!(
            "summary: nothing deleted: auto_rotate is false in the config (no scheduled deletion); \
             give --force to delete anyway"
        );
        metrics.success(Job::Retention);
        metrics.write_now();
        return Ok(Exit::Ok);
    }
    if !policy.auto_delete {
        tracing::info!("retention: auto_rotate is false in the config; running because asked to");
    }
    let report = if args.dry_run {
        policy.dry_run(now)?
    } else {
        match policy.run_once(now) {
            Ok(r) => {
                count_retention(&metrics, &r);
                metrics.write_now();
                r
            }
            Err(e) => {
                metrics.add_error("retention");
                metrics.write_now();
                return Err(e.into());
            }
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let verb = if report.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    for d in &report.deleted {
        writeln!(out, "{verb} {} ({})", d.path.display(), d.reason)?;
    }
    for (d, e) in &report.failed {
        writeln!(out, "failed {} ({e})", d.path.display())?;
    }
    writeln!(out, "summary: {}", report.summary())?;
    if let (Some(log), false) = (&report.privacy_log, report.deleted.is_empty()) {
        writeln!(out, "privacy log: {}", log.display())?;
    }
    out.flush()?;
    if report.failed.is_empty() {
        Ok(Exit::Ok)
    } else {
        anyhow::bail!(
            "retention: {} of {} deletions failed",
            report.failed.len(),
            report.failed.len() + report.deleted.len()
        )
    }
}
