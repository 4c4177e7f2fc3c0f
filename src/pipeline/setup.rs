//! The sink setup shared by `pipe`, `seal` and `tail`: a template of segment options (directory,
//! recipients, gzip level, rotation limits), the process's metrics, and in-process retention.

use std::path::Path;
use std::sync::Arc;

use super::PipelineError;
use crate::config::Config;
use crate::metrics::{Job, Metrics};
use crate::retention::{self, Policy};
use crate::sink::{PartialPolicy, SegmentOptions, SegmentWriter, SinkError};

/// Validated sink settings.
#[derive(Debug, Clone)]
pub struct SinkSetup {
    /// Counters of this process, written to `--metrics-file` / `logveil.metrics_file` when set.
    pub metrics: Arc<Metrics>,
    /// Where and how segments are written; the stream and the partial policy are set per stream.
    pub segments: SegmentOptions,
}

impl SinkSetup {
    pub fn new(segments: SegmentOptions, metrics: Arc<Metrics>) -> SinkSetup {
        SinkSetup { metrics, segments }
    }

    /// The segment directory.
    pub fn dir(&self) -> &Path {
        &self.segments.dir
    }

    /// Writer options for one stream.
    pub fn options(&self, stream: &str, partial_policy: PartialPolicy) -> SegmentOptions {
        SegmentOptions {
            stream: stream.to_string(),
            partial_policy,
            ..self.segments.clone()
        }
    }

    /// Opens the writer of one stream.
    pub fn open_writer(
        &self,
        stream: &str,
        partial_policy: PartialPolicy,
    ) -> Result<SegmentWriter, SinkError> {
        SegmentWriter::open(self.options(stream, partial_policy))
    }

    /// Retention of the segment directory (and the config's plaintext rules) on its own thread, every
    /// `logveil.retention.interval` (default hourly), for the long-running `pipe` and `tail`. Stops when
    /// the returned value is dropped.
    pub fn start_retention(
        &self,
        cfg: &Config,
    ) -> Result<Option<retention::Background>, PipelineError> {
        let policy = Policy::from_config(cfg, std::slice::from_ref(&self.segments.dir))
            .map_err(PipelineError::Retention)?;
        if !policy.auto_delete {
            tracing::info!("retention: auto_delete is off in the config; no scheduled deletion");
            return Ok(None);
        }
        let metrics = Arc::clone(&self.metrics);
        let bg = retention::Background::spawn(policy, move |run| {
            match run {
                Ok(r) => count_retention(&metrics, r),
                // A whole run that failed (an unusable privacy log, say) is an error too.
                Err(_) => metrics.add_error("retention"),
            }
            metrics.maybe_write();
        })
        .map_err(PipelineError::RetentionThread)?;
        Ok(Some(bg))
    }
}

/// Counts a retention run's deletions and failed deletions (each an error of stage `retention`); a run
/// that completed is a success of the job.
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
