//! The sink setup of `pipe`, `seal` and `tail` from their command line over the config: output directory,
//! recipients, gzip level and rotation limits.

use std::sync::Arc;

use anyhow::{bail, Context, Result};

use crate::cli::SealArgsCommon;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::pipeline::SinkSetup;
use crate::sink::{PartialPolicy, Recipients, SegmentOptions};
use crate::units::{parse_positive_duration, parse_size};

/// The recipients given by flags (`--recipient`, `--recipients-file`), or, when no flag gives any, those
/// of the config (`logveil.segments.recipients`, `logveil.segments.recipients_file`). May be empty.
pub fn recipients(
    flags: &[String],
    files: &[std::path::PathBuf],
    cfg: &Config,
) -> Result<Recipients> {
    let seg = &cfg.segments;
    let mut recipients = Recipients::new();
    if !flags.is_empty() || !files.is_empty() {
        for (i, r) in flags.iter().enumerate() {
            recipients.add(r, &format!("--recipient #{}", i + 1))?;
        }
        for f in files {
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
    Ok(recipients)
}

/// Flags win over the config. Recipients: those given by flags (`--recipient`, `--recipients-file`), or,
/// when no flag gives any, those of the config (`logveil.segments.recipients`,
/// `logveil.segments.recipients_file`).
pub fn sink_setup(args: &SealArgsCommon, cfg: &Config) -> Result<SinkSetup> {
    let seg = &cfg.segments;
    let dir = match (&args.out, &seg.out_dir) {
        (Some(d), _) | (None, Some(d)) => d.clone(),
        (None, None) => {
            bail!("no output directory: give --out DIR (or set logveil.segments.dir in the config)")
        }
    };
    let recipients = recipients(&args.recipients, &args.recipients_files, cfg)?;
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
        Some(s) => parse_positive_duration(s)
            .map_err(anyhow::Error::msg)
            .context("--max-segment-age")?,
        None => seg.max_segment_age,
    };
    let metrics = Arc::new(Metrics::with_file(
        args.metrics_file
            .clone()
            .or_else(|| cfg.metrics_file.clone()),
    ));
    let segments = SegmentOptions {
        dir,
        stream: String::new(),
        recipients,
        gzip_level: args.gzip_level.unwrap_or(seg.gzip_level),
        max_segment_bytes,
        max_segment_age,
        partial_policy: PartialPolicy::KeepAsTruncated,
    };
    Ok(SinkSetup::new(segments, metrics))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

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
        let s = sink_setup(&SealArgsCommon::default(), &cfg).unwrap();
        assert_eq!(s.segments.recipients.len(), 2);
        assert_eq!(s.segments.dir, PathBuf::from("/from/config"));
        assert_eq!(s.segments.gzip_level, 4);
        assert_eq!(s.segments.max_segment_bytes, cfg.segments.max_segment_bytes);
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
        let s = sink_setup(&args, &cfg).unwrap();
        assert_eq!(s.segments.recipients.len(), 1);
        assert_eq!(s.segments.dir, PathBuf::from("/from/flag"));
        assert_eq!(s.segments.gzip_level, 9);
        assert_eq!(s.segments.max_segment_bytes, 1 << 20);
        assert_eq!(s.segments.max_segment_age, Duration::from_secs(600));
    }

    #[test]
    fn missing_pieces_and_bad_values_are_clear_errors() {
        let err = sink_setup(&SealArgsCommon::default(), &config_with(vec![]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no recipient"), "{err}");
        let mut cfg = config_with(vec!["nope".into()]);
        let err = sink_setup(&SealArgsCommon::default(), &cfg)
            .unwrap_err()
            .to_string();
        assert!(err.contains("logveil.segments.recipients[0]"), "{err}");
        cfg.segments.out_dir = None;
        cfg.segments.recipients = vec![recipient()];
        let err = sink_setup(&SealArgsCommon::default(), &cfg)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--out"), "{err}");
        let args = SealArgsCommon {
            out: Some(PathBuf::from("/x")),
            max_segment_age: Some("0s".into()),
            ..Default::default()
        };
        let err = sink_setup(&args, &cfg).unwrap_err();
        assert!(format!("{err:#}").contains("--max-segment-age"), "{err:#}");
    }
}
