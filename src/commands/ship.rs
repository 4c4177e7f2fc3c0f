//! `logveil ship [--config FILE] [--dir DIR] [--remote REMOTE:PATH] [--host NAME] [--keep-local K]
//! [--dry-run] [--force]`: copies finished segments to object storage with rclone, confirms each copy (size and
//! hash), deletes the local copies that are due, records each deletion (reason `shipped`). Run by
//! logveil-ship.timer. Exit 0: every finished segment is on the remote; 1: some are not confirmed there
//! (or another object has their name), their local copies stay; 2: error (rclone failed, the remote is
//! unreachable, bad config).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use anyhow::{Context, Result};
use jiff::Timestamp;

use super::{load_config, Exit};
use crate::cli::ShipArgs;
use crate::retention::Policy;
use crate::ship::{check_host, check_remote, lock_dir, this_host, KeepLocal, Rclone, Shipper};

pub fn run(args: &ShipArgs) -> Result<Exit> {
    let cfg = load_config(&args.config)?;
    let ship = &cfg.ship;
    let remote = match &args.remote {
        Some(r) => check_remote(r).map_err(|e| anyhow::anyhow!("ship: --remote: {e}"))?,
        None => ship.remote.clone().ok_or_else(|| {
            anyhow::anyhow!(
                "ship: no remote (set logveil.ship.remote in the config, or give --remote REMOTE:PATH)"
            )
        })?,
    };
    let host = match args.host.as_deref().or(ship.host.as_deref()) {
        Some(h) => check_host(h).map_err(|e| anyhow::anyhow!("ship: host: {e}"))?,
        None => this_host(),
    };
    let keep_local: KeepLocal = match &args.keep_local {
        Some(k) => k
            .parse()
            .map_err(|e| anyhow::anyhow!("ship: --keep-local: {e}"))?,
        None => ship.keep_local,
    };
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => cfg.segments.out_dir.clone().ok_or_else(|| {
            anyhow::anyhow!(
                "ship: no segment directory (give --dir DIR or set logveil.segments.dir)"
            )
        })?,
    };
    let now = match &args.as_of {
        Some(t) => t.parse::<Timestamp>().with_context(|| {
            format!("ship: --as-of {t:?} is not an RFC 3339 time (e.g. 2026-11-25T16:00:00Z)")
        })?,
        None => Timestamp::now(),
    };
    let rclone_config = args
        .rclone_config
        .clone()
        .unwrap_or_else(|| ship.rclone_config.clone());
    let md = std::fs::metadata(&rclone_config).with_context(|| {
        format!(
            "ship: rclone config {} (set logveil.ship.rclone_config or give --rclone-config)",
            rclone_config.display()
        )
    })?;
    if md.permissions().mode() & 0o007 != 0 {
        tracing::warn!(path = %rclone_config.display(), "ship: the rclone config (credentials) is readable by others; chmod 640 it");
    }

    // The same privacy log as retention's for this directory.
    let policy = Policy::from_config(&cfg, std::slice::from_ref(&dir))?;
    let dir = policy.dirs[0].clone();
    let _lock = lock_dir(&dir)?;
    let storage = Rclone::new(&args.rclone, &rclone_config, &dir, &remote, &host);
    let final_dir = storage.final_dir.clone();
    // `auto_rotate: false` (a legal hold): ship, but delete no local copy unless --force.
    let hold = !policy.auto_delete && !args.force;
    if hold {
        tracing::info!(
            "ship: auto_rotate is false in the config; segments are shipped but no local copy is deleted"
        );
    }
    let mut shipper = Shipper {
        storage,
        dir: dir.clone(),
        keep_local,
        hold,
        policy: &policy,
    };
    let out = shipper.run(now, args.dry_run)?;

    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    let (ship_verb, del_verb) = if out.dry_run {
        ("would ship", "would delete")
    } else {
        ("shipped", "deleted")
    };
    for name in &out.shipped {
        writeln!(w, "{ship_verb} {name} -> {}/{name}", final_dir)?;
    }
    let deletions = out.deletions.as_ref();
    for d in deletions.map(|r| &r.deleted[..]).unwrap_or_default() {
        writeln!(w, "{del_verb} {} ({})", d.path.display(), d.reason)?;
    }
    for (d, e) in deletions.map(|r| &r.failed[..]).unwrap_or_default() {
        writeln!(w, "failed to delete {} ({e})", d.path.display())?;
    }
    for (name, why) in &out.conflicts {
        writeln!(w, "conflict {name}: {why}")?;
    }
    for (name, why) in &out.unconfirmed {
        writeln!(w, "not shipped {name}: {why}")?;
    }
    let deleted = deletions.map_or(0, |r| r.deleted.len());
    let failed = deletions.map_or(0, |r| r.failed.len());
    writeln!(
        w,
        "summary: {} finished segments in {}; {ship_verb} {}, {} already on {final_dir}; {del_verb} {deleted} local copies, kept {} (keep_local: {keep_local}); {} conflicts, {} not confirmed, {failed} deletions failed",
        out.local,
        dir.display(),
        out.shipped.len(),
        out.already,
        out.kept,
        out.conflicts.len(),
        out.unconfirmed.len(),
    )?;
    if hold {
        writeln!(
            w,
            "note: auto_rotate is false in the config (no scheduled deletion): local copies are kept; \
             give --force to delete them once shipped"
        )?;
    }
    if let (Some(log), true) = (deletions.and_then(|r| r.privacy_log.as_ref()), deleted > 0) {
        writeln!(w, "privacy log: {}", log.display())?;
    }
    w.flush()?;

    if !out.errors.is_empty() {
        for e in &out.errors {
            eprintln!("logveil: ship: {e}");
        }
        anyhow::bail!(
            "ship: {} rclone command(s) failed; local copies of unconfirmed segments are kept, and the next run ships them",
            out.errors.len()
        );
    }
    if failed > 0 {
        anyhow::bail!("ship: {failed} local deletions failed");
    }
    if out.conflicts.is_empty() && out.unconfirmed.is_empty() {
        Ok(Exit::Ok)
    } else {
        Ok(Exit::Found)
    }
}
