//! `logveil retention --dry-run --remote-listing FILE|-`: the retention policy applied to the segments of
//! an `rclone lsjson -R REMOTE:PATH` listing, so the policy is checked on the remote as it is here.
//! Prints what would expire there (paths as listed) and a summary; deletes nothing (the bucket's
//! lifecycle rule does that, see README "Off the host").

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use jiff::Timestamp;

use super::Exit;
use crate::cli::RetentionArgs;
use crate::config::Config;
use crate::ship::remote_retention::plan_listing;
use crate::units::{format_duration, parse_positive_duration};

pub fn run(cfg: &Config, args: &RetentionArgs, listing: &Path) -> Result<Exit> {
    let mut max_age = cfg.retention.segment_max_age;
    if let Some(age) = &args.max_age {
        max_age = parse_positive_duration(age)
            .map_err(|e| anyhow::anyhow!("retention: --max-age: {e}"))?;
    }
    let now = match &args.as_of {
        Some(t) => t.parse::<Timestamp>().with_context(|| {
            format!("retention: --as-of {t:?} is not an RFC 3339 time (e.g. 2026-11-25T16:00:00Z)")
        })?,
        None => Timestamp::now(),
    };
    let mut json = Vec::new();
    if listing == Path::new("-") {
        std::io::stdin()
            .lock()
            .read_to_end(&mut json)
            .context("retention: --remote-listing -: cannot read stdin")?;
    } else {
        json = std::fs::read(listing)
            .with_context(|| format!("retention: --remote-listing {}", listing.display()))?;
    }
    let plan = plan_listing(&json, max_age, now)
        .map_err(|e| anyhow::anyhow!("retention: --remote-listing {}: {e}", listing.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for d in &plan.expired {
        writeln!(out, "would expire {} ({})", d.path.display(), d.reason)?;
    }
    writeln!(
        out,
        "summary: on the remote, would expire {} segments, {} bytes (retention {}, as of {now}); kept {} segments ({} bytes); {} other objects ignored",
        plan.expired.len(),
        plan.expired.iter().map(|d| d.bytes).sum::<u64>(),
        format_duration(max_age),
        plan.kept,
        plan.bytes_kept,
        plan.ignored,
    )?;
    if !cfg.retention.auto_delete {
        // A legal hold is logveil's: the bucket's lifecycle rule does not know of it.
        writeln!(
            out,
            "note: auto_rotate is false in the config: logveil deletes nothing, but the remote's \
             lifecycle rule still expires these; suspend it there for a hold"
        )?;
    }
    out.flush()?;
    Ok(Exit::Ok)
}
