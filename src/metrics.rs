//! Counters in the Prometheus text format, written atomically to a file for node_exporter's textfile
//! collector (`--metrics-file`). Counts only: no value, no path of an input line, ever goes in here.
//!
//! The file is replaced atomically (written beside it, fsynced, renamed) so the collector never reads half
//! a file. It is mode 0640: readable by the group (add node_exporter's user to logveil's group), not by
//! others.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the file is rewritten while counters change.
const WRITE_INTERVAL: Duration = Duration::from_secs(10);

/// Counters shared by the stages of one process.
#[derive(Debug, Default)]
pub struct Metrics {
    pub lines: AtomicU64,
    pub bytes: AtomicU64,
    pub lines_dropped: AtomicU64,
    pub segments_sealed: AtomicU64,
    pub segment_bytes: AtomicU64,
    pub retention_files_deleted: AtomicU64,
    pub retention_bytes_deleted: AtomicU64,
    redactions: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    /// `--metrics-file`, and when it was last written.
    file: Option<PathBuf>,
    last_write: Mutex<Option<Instant>>,
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters that are also written to `path` (when given) by [`Metrics::maybe_write`] and
    /// [`Metrics::write_now`].
    pub fn with_file(path: Option<PathBuf>) -> Self {
        Metrics {
            file: path,
            ..Self::default()
        }
    }

    /// Rewrites the metrics file if the last write is older than the write interval. Any thread may call
    /// it. Errors are logged, never fatal: metrics must not stop the data path.
    pub fn maybe_write(&self) {
        let Some(path) = &self.file else { return };
        let now = Instant::now();
        {
            let mut last = self.last_write.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| now.duration_since(t) < WRITE_INTERVAL) {
                return;
            }
            *last = Some(now);
        }
        self.write_to(path);
    }

    /// Rewrites the metrics file now (at the end of a run).
    pub fn write_now(&self) {
        if let Some(path) = &self.file {
            *self.last_write.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            self.write_to(path);
        }
    }

    fn write_to(&self, path: &Path) {
        if let Err(e) = self.write_textfile(path) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the metrics file");
        }
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds redaction counts by type name.
    pub fn add_redactions<'a>(&self, by_type: impl IntoIterator<Item = (&'a str, u64)>) {
        let mut m = self.redactions.lock().unwrap_or_else(|e| e.into_inner());
        for (name, n) in by_type {
            if n > 0 {
                *m.entry(name.to_string()).or_default() += n;
            }
        }
    }

    /// Adds what a redactor found: counts by type (`names` are the engine's type names) and dropped lines.
    pub fn add_findings(&self, names: &[String], f: &crate::redact::Findings) {
        self.add_redactions(
            names
                .iter()
                .map(String::as_str)
                .zip(f.counts.iter().copied()),
        );
        Metrics::add(&self.lines_dropped, f.lines_dropped);
    }

    /// Counts an error of a stage (`input`, `redact`, `segment`, `retention`, ...).
    pub fn add_error(&self, stage: &str) {
        let mut m = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(stage.to_string()).or_default() += 1;
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut counter = |name: &str, help: &str, samples: &[(String, u64)]| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n"));
            for (labels, v) in samples {
                out.push_str(&format!("{name}{labels} {v}\n"));
            }
        };
        let one = |v: u64| vec![(String::new(), v)];
        counter(
            "logveil_lines_total",
            "Input lines processed.",
            &one(get(&self.lines)),
        );
        counter(
            "logveil_bytes_total",
            "Input bytes processed.",
            &one(get(&self.bytes)),
        );
        let red: Vec<(String, u64)> = self
            .redactions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(t, v)| (format!("{{type=\"{}\"}}", escape_label(t)), *v))
            .collect();
        counter(
            "logveil_redactions_total",
            "Values detected, by type.",
            &red,
        );
        counter(
            "logveil_lines_dropped_total",
            "Lines removed by the drop_line action.",
            &one(get(&self.lines_dropped)),
        );
        counter(
            "logveil_segments_sealed_total",
            "Segments finished (fsynced and renamed).",
            &one(get(&self.segments_sealed)),
        );
        counter(
            "logveil_segment_bytes_total",
            "Bytes written to finished segments (compressed and encrypted).",
            &one(get(&self.segment_bytes)),
        );
        counter(
            "logveil_retention_deleted_files_total",
            "Files deleted by retention.",
            &one(get(&self.retention_files_deleted)),
        );
        counter(
            "logveil_retention_deleted_bytes_total",
            "Bytes deleted by retention.",
            &one(get(&self.retention_bytes_deleted)),
        );
        let errs: Vec<(String, u64)> = self
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(s, v)| (format!("{{stage=\"{}\"}}", escape_label(s)), *v))
            .collect();
        counter("logveil_errors_total", "Errors, by stage.", &errs);
        out
    }

    /// Replaces `path` with the current counters, atomically (a temporary created `O_EXCL` beside it,
    /// never through a symlink; see [`crate::fsutil::Dir::write_atomic`]).
    pub fn write_textfile(&self, path: &Path) -> std::io::Result<()> {
        let (dir, name) = crate::fsutil::open_parent(path)?;
        dir.write_atomic(name, self.render().as_bytes(), 0o640, true)
    }
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn renders_every_counter_in_prometheus_text_format() {
        let m = Metrics::new();
        Metrics::add(&m.lines, 3);
        Metrics::add(&m.bytes, 120);
        m.add_redactions([("phone", 2), ("email", 0), ("bank_card", 1)]);
        m.add_error("segment");
        let text = m.render();
        assert!(
            text.contains("# TYPE logveil_lines_total counter\nlogveil_lines_total 3\n"),
            "{text}"
        );
        assert!(
            text.contains("logveil_redactions_total{type=\"phone\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("logveil_redactions_total{type=\"bank_card\"} 1\n"),
            "{text}"
        );
        assert!(
            !text.contains("type=\"email\""),
            "zero counts are not invented: {text}"
        );
        assert!(
            text.contains("logveil_errors_total{stage=\"segment\"} 1\n"),
            "{text}"
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            value.parse::<u64>().unwrap();
        }
    }

    #[test]
    fn textfile_is_replaced_atomically_and_not_readable_by_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logveil.prom");
        let m = Metrics::new();
        Metrics::add(&m.lines, 1);
        m.write_textfile(&path).unwrap();
        Metrics::add(&m.lines, 1);
        m.write_textfile(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("logveil_lines_total 2\n"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o007, 0, "mode {mode:o}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn maybe_write_writes_once_per_interval_and_write_now_always() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.prom");
        let m = Metrics::with_file(Some(path.clone()));
        m.maybe_write();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("logveil_lines_total 0\n"));
        Metrics::add(&m.lines, 5);
        m.maybe_write();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("logveil_lines_total 0\n"),
            "within the interval the file is not rewritten"
        );
        m.write_now();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("logveil_lines_total 5\n"));
        Metrics::with_file(None).maybe_write();
    }
}
