//! The sink setup shared by `pipe`, `seal` and `tail`: output directory, recipients, gzip level and
//! rotation limits, from the command line over the config.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::cli::SealArgsCommon;
use crate::config::Config;
use crate::metrics::{Job, Metrics};
use crate::retention::{self, Policy};
use crate::sink::{PartialPolicy, Recipients, SegmentOptions};
use crate::units::{parse_duration, parse_size};

/// Validated sink settings.
#[derive(Debug, Clone)]
pub struct SinkSetup {
    /// Counters of this process, written to `--metrics-file` / `logveil.metrics_file` when set.
    pub metrics: Arc<Metrics>,
    pub dir: PathBuf,
    pub recipients: Recipients,
    pub gzip_level: u32,
    pub max_segment_bytes: u64,
    pub max_segment_age: Duration,
}

impl SinkSetup {
    /// Flags win over the config. Recipients: those given by flags (`--recipient`, `--recipients-file`),
    /// or, when no flag gives any, those of the config (`logveil.segments.recipients`,
    /// `logveil.segments.recipients_file`).
    pub fn from_args(args: &SealArgsCommon, cfg: &Config) -> Result<SinkSetup> {
        let seg = &cfg.segments;
        let dir = match (&args.out, &seg.out_dir) {
            (Some(d), _) | (None, Some(d)) => d.clone(),
            (None, None) => bail!(
                "no output directory: give --out DIR (or set logveil.segments.dir in the config)"
            ),
        };
        let mut recipients = Recipients::new();
        if !args.recipients.is_empty() || !args.recipients_files.is_empty() {
            for (i, r) in args.recipients.iter().enumerate() {
                recipients.add(r, &format!("--recipient #{}", i + 1))?;
            }
            for f in &args.recipients_files {
                recipients.add_file(f)?;
            }
        } else {
            for (i, r) in seg.recipients.iter().enumerate() {
                recipients.add(r, &format!("logveil.segments.recipients[{i}]"))?;
            }
            for f in &seg.recipients_files {
                recipients.add_file(f)?;
            }
        }
        if recipients.is_empty() {
            bail!(
                "no recipient: give --recipient age1... (or --recipients-file FILE, or \
                 logveil.segments.recipients in the config); segments are only ever written encrypted\n  \
                 hint: `logveil keygen -o key.txt` on an operator's machine prints a recipient; keep key.txt off this host"
            );
        }
        let max_segment_bytes = match &args.max_segment_bytes {
            Some(s) => {
                let n = parse_size(s)
                    .map_err(anyhow::Error::msg)
                    .context("--max-segment-bytes")?;
                if n == 0 {
                    bail!("--max-segment-bytes: must be greater than 0");
                }
                n
            }
            None => seg.max_segment_bytes,
        };
        let max_segment_age = match &args.max_segment_age {
            Some(s) => {
                let d = parse_duration(s)
                    .map_err(anyhow::Error::msg)
                    .context("--max-segment-age")?;
                if d.is_zero() {
                    bail!("--max-segment-age: must be greater than 0");
                }
                d
            }
            None => seg.max_segment_age,
        };
        let metrics = Arc::new(Metrics::with_file(
            args.metrics_file
                .clone()
                .or_else(|| cfg.metrics_file.clone()),
        ));
        Ok(SinkSetup {
            metrics,
            dir,
            recipients,
            gzip_level: args.gzip_level.unwrap_or(seg.gzip_level),
            max_segment_bytes,
            max_segment_age,
        })
    }

    /// Counts what a finished segment holds.
    pub fn count_sealed(&self, sealed: &crate::sink::Sealed) {
        Metrics::add(&self.metrics.segments_sealed, 1);
        Metrics::add(&self.metrics.segment_bytes, sealed.output_bytes);
        self.metrics.success(Job::Seal);
        self.metrics.maybe_write();
    }

    /// Retention of the segment directory (and the config's plaintext rules) on its own thread, every
    /// `logveil.retention.interval` (default hourly), for the long-running `pipe` and `tail`. Stops when
    /// the returned value is dropped.
    pub fn start_retention(&self, cfg: &Config) -> Result<Option<retention::Background>> {
        let policy = Policy::from_config(cfg, std::slice::from_ref(&self.dir))
            .context("retention: bad policy")?;
        if !policy.auto_delete {
            tracing::info!("retention: auto_delete is off in the config; no scheduled deletion");
            return Ok(None);
        }
        let metrics = Arc::clone(&self.metrics);
        let bg = retention::Background::spawn(policy, move |r| {
            match r {
                Ok(r) => count_retention(&metrics, r),
                // A whole run failed (the privacy log cannot be written, say): nothing was deleted.
                Err(_) => metrics.add_error("retention"),
            }
            metrics.maybe_write();
        })
        .context("retention: cannot start its thread")?;
        Ok(Some(bg))
    }

    /// Writer options for one stream.
    pub fn options(&self, stream: &str, partial_policy: PartialPolicy) -> SegmentOptions {
        SegmentOptions {
            dir: self.dir.clone(),
            stream: stream.to_string(),
            recipients: self.recipients.clone(),
            gzip_level: self.gzip_level,
            max_segment_bytes: self.max_segment_bytes,
            max_segment_age: self.max_segment_age,
            partial_policy,
        }
    }
}

/// Counts a retention run's deletions and failed deletions; a run that completed is a success of the job.
pub fn count_retention(metrics: &Metrics, r: &retention::Report) {
    Metrics::add(&metrics.retention_files_deleted, r.deleted.len() as u64);
    Metrics::add(&metrics.retention_bytes_deleted, r.bytes_deleted());
    for _ in &r.failed {
        metrics.add_error("retention");
    }
    if !r.dry_run {
        metrics.success(Job::Retention);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipient() -> String {
        age::x25519::Identity::generate().to_public().to_string()
    }

    fn config_with(recipients: Vec<String>) -> Config {
        let mut cfg = Config::default();
        cfg.segments.out_dir = Some(PathBuf::from("/from/config"));
        cfg.segments.recipients = recipients;
        cfg.segments.gzip_level = 4;
        cfg
    }

    #[test]
    fn config_recipients_apply_when_no_flag_gives_any() {
        let cfg = config_with(vec![recipient(), recipient()]);
        let s = SinkSetup::from_args(&SealArgsCommon::default(), &cfg).unwrap();
        assert_eq!(s.recipients.len(), 2);
        assert_eq!(s.dir, PathBuf::from("/from/config"));
        assert_eq!(s.gzip_level, 4);
        assert_eq!(s.max_segment_bytes, cfg.segments.max_segment_bytes);
    }

    #[test]
    fn flags_replace_the_config() {
        let cfg = config_with(vec![recipient(), recipient()]);
        let args = SealArgsCommon {
            out: Some(PathBuf::from("/from/flag")),
            recipients: vec![recipient()],
            gzip_level: Some(9),
            max_segment_bytes: Some("1MiB".into()),
            max_segment_age: Some("10m".into()),
            ..Default::default()
        };
        let s = SinkSetup::from_args(&args, &cfg).unwrap();
        assert_eq!(s.recipients.len(), 1);
        assert_eq!(s.dir, PathBuf::from("/from/flag"));
        assert_eq!(s.gzip_level, 9);
        assert_eq!(s.max_segment_bytes, 1 << 20);
        assert_eq!(s.max_segment_age, Duration::from_secs(600));
    }

    #[test]
    fn missing_pieces_and_bad_values_are_clear_errors() {
        let err = SinkSetup::from_args(&SealArgsCommon::default(), &config_with(vec![]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no recipient"), "{err}");
        let mut cfg = config_with(vec!["nope".into()]);
        let err = SinkSetup::from_args(&SealArgsCommon::default(), &cfg)
            .unwrap_err()
            .to_string();
        assert!(err.contains("logveil.segments.recipients[0]"), "{err}");
        cfg.segments.out_dir = None;
        cfg.segments.recipients = vec![recipient()];
        let err = SinkSetup::from_args(&SealArgsCommon::default(), &cfg)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--out"), "{err}");
        let args = SealArgsCommon {
            out: Some(PathBuf::from("/x")),
            max_segment_age: Some("0s".into()),
            ..Default::default()
        };
        let err = SinkSetup::from_args(&args, &cfg).unwrap_err();
        assert!(format!("{err:#}").contains("--max-segment-age"), "{err:#}");
    }
}
