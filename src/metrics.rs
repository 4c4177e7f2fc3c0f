//! Metrics in the Prometheus text format, for node_exporter's textfile collector (`--metrics-file`).
//! Counts, times and the version only: no value, no path of an input line, ever goes in here.
//!
//! The file is **merged, never overwritten**: every write takes a lock on its directory, reads the file,
//! adds to each counter what this process counted since its last write, sets the gauges this process has
//! a value for, keeps every other series, and replaces the file atomically (written beside it, fsynced,
//! renamed; mode 0640: readable by the group, so add node_exporter's user to logveil's group). So the
//! one-shot jobs (`seal` once per rotated file, the hourly `retention`, `audit`) accumulate their counts
//! across runs, and several logveil processes may share one file without clobbering each other.
//!
//! Every labelled series a process knows is written from its first write on, at 0 when nothing happened
//! yet (redactions by type, errors by stage, audit findings by check), so `rate()` and `absent()` alerts
//! work. `logveil_build_info{version}` is always 1; `logveil_<job>_last_success_timestamp_seconds` (jobs
//! seal, retention, checkpoint, audit) appear once the job first succeeded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the file is rewritten while counters change.
const WRITE_INTERVAL: Duration = Duration::from_secs(10);

/// Error stages counted somewhere (each present at 0 from the start).
/// `segment`: `pipe` could not write its segments (it drops lines meanwhile, see
/// `logveil_dropped_lines_total`); `tail`: a source that cannot be opened.
pub const ERROR_STAGES: &[&str] = &["input", "retention", "seal", "segment", "tail"];

/// A job whose last success is exported as `logveil_<job>_last_success_timestamp_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Job {
    /// A segment was sealed (or `seal` finished a file).
    Seal,
    /// A retention run completed.
    Retention,
    /// `tail` wrote a checkpoint.
    Checkpoint,
    /// An audit completed (whatever it found).
    Audit,
}

impl Job {
    pub const ALL: [Job; 4] = [Job::Seal, Job::Retention, Job::Checkpoint, Job::Audit];

    fn metric(self) -> &'static str {
        match self {
            Job::Seal => "logveil_seal_last_success_timestamp_seconds",
            Job::Retention => "logveil_retention_last_success_timestamp_seconds",
            Job::Checkpoint => "logveil_checkpoint_last_success_timestamp_seconds",
            Job::Audit => "logveil_audit_last_success_timestamp_seconds",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Job::Seal => "Unix time a segment was last sealed.",
            Job::Retention => "Unix time a retention run last completed.",
            Job::Checkpoint => "Unix time tail last wrote a checkpoint.",
            Job::Audit => "Unix time an audit last completed.",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

/// One metric family: its name, type and help, in the order the file lists them.
struct Family {
    name: &'static str,
    kind: Kind,
    help: &'static str,
}

const fn counter(name: &'static str, help: &'static str) -> Family {
    Family {
        name,
        kind: Kind::Counter,
        help,
    }
}

const fn gauge(name: &'static str, help: &'static str) -> Family {
    Family {
        name,
        kind: Kind::Gauge,
        help,
    }
}

const FAMILIES: &[Family] = &[
    gauge("logveil_build_info", "logveil's version (always 1)."),
    counter("logveil_lines_total", "Input lines processed."),
    counter("logveil_bytes_total", "Input bytes processed."),
    counter("logveil_redactions_total", "Values detected, by type."),
    counter(
        "logveil_lines_dropped_total",
        "Lines removed by the drop_line action.",
    ),
    counter(
        "logveil_dropped_lines_total",
        "Input lines not sealed because the segments could not be written (full disk, unwritable \
         or vanished directory); pipe keeps reading its input meanwhile.",
    ),
    counter(
        "logveil_segments_sealed_total",
        "Segments finished (fsynced and renamed).",
    ),
    counter(
        "logveil_segment_bytes_total",
        "Bytes written to finished segments (compressed and encrypted).",
    ),
    counter(
        "logveil_retention_deleted_files_total",
        "Files deleted by retention.",
    ),
    counter(
        "logveil_retention_deleted_bytes_total",
        "Bytes deleted by retention.",
    ),
    counter("logveil_errors_total", "Errors, by stage."),
    gauge(
        "logveil_audit_findings",
        "Findings of the last audit, by check.",
    ),
    gauge(
        "logveil_audit_incomplete_files",
        "Files the last audit could not check completely.",
    ),
];

/// Whether logveil writes a metric of this name.
fn is_ours(name: &str) -> bool {
    FAMILIES.iter().any(|f| f.name == name) || Job::ALL.iter().any(|j| j.metric() == name)
}

/// A series: metric name and its label text (`{type="phone"}`, or empty).
type Key = (String, String);

/// Counters and gauges shared by the stages of one process.
#[derive(Debug, Default)]
pub struct Metrics {
    pub lines: AtomicU64,
    pub bytes: AtomicU64,
    pub lines_dropped: AtomicU64,
    /// Input lines not sealed because the sink failed (pipe keeps reading its input meanwhile).
    pub dropped_lines: AtomicU64,
    pub segments_sealed: AtomicU64,
    pub segment_bytes: AtomicU64,
    pub retention_files_deleted: AtomicU64,
    pub retention_bytes_deleted: AtomicU64,
    redactions: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    /// Gauges by series (audit findings...), and the last success of each job (Unix seconds).
    gauges: Mutex<BTreeMap<Key, f64>>,
    /// `--metrics-file`, when it was last written, and the counter values already merged into it.
    file: Option<PathBuf>,
    last_write: Mutex<Option<Instant>>,
    merged: Mutex<BTreeMap<Key, u64>>,
}

impl Metrics {
    pub fn new() -> Self {
        let m = Self::default();
        {
            let mut e = m.errors.lock().unwrap_or_else(|e| e.into_inner());
            for s in ERROR_STAGES {
                e.insert((*s).to_owned(), 0);
            }
        }
        m
    }

    /// Metrics that are also merged into `path` (when given) by [`Metrics::maybe_write`] and
    /// [`Metrics::write_now`].
    pub fn with_file(path: Option<PathBuf>) -> Self {
        Metrics {
            file: path,
            ..Self::new()
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

    /// How long until [`Metrics::maybe_write`] rewrites the file (None: no file). A long-running command
    /// waiting for input wakes by then, so that its file stays fresh while it is idle (an alert on the
    /// file's age then means that logveil is gone, not that the bot is quiet).
    pub fn next_write_in(&self) -> Option<Duration> {
        self.file.as_ref()?;
        let last = *self.last_write.lock().unwrap_or_else(|e| e.into_inner());
        Some(last.map_or(Duration::ZERO, |t| {
            WRITE_INTERVAL.saturating_sub(t.elapsed())
        }))
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

    /// Makes every type of an engine a series of `logveil_redactions_total`, at 0 until found.
    pub fn declare_redaction_types(&self, names: &[String]) {
        let mut m = self.redactions.lock().unwrap_or_else(|e| e.into_inner());
        for name in names {
            m.entry(name.clone()).or_default();
        }
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

    /// Counts an error of a stage (`input`, `seal`, `retention`, ...).
    pub fn add_error(&self, stage: &str) {
        let mut m = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(stage.to_string()).or_default() += 1;
    }

    /// Records that `job` succeeded now.
    pub fn success(&self, job: Job) {
        let now = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
        self.set_gauge(job.metric(), String::new(), now);
    }

    /// Sets the audit gauges: findings per check (every check named, 0 included) and incomplete files.
    pub fn set_audit(&self, findings: &[(&str, u64)], incomplete: u64) {
        for (check, n) in findings {
            self.set_gauge(
                "logveil_audit_findings",
                format!("{{check=\"{}\"}}", escape_label(check)),
                *n as f64,
            );
        }
        self.set_gauge(
            "logveil_audit_incomplete_files",
            String::new(),
            incomplete as f64,
        );
    }

    fn set_gauge(&self, name: &str, labels: String, v: f64) {
        self.gauges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((name.to_owned(), labels), v);
    }

    /// This process's counters, by series.
    fn counters(&self) -> BTreeMap<Key, u64> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = BTreeMap::new();
        let mut one = |name: &str, v: u64| {
            out.insert((name.to_owned(), String::new()), v);
        };
        one("logveil_lines_total", get(&self.lines));
        one("logveil_bytes_total", get(&self.bytes));
        one("logveil_lines_dropped_total", get(&self.lines_dropped));
        one("logveil_dropped_lines_total", get(&self.dropped_lines));
        one("logveil_segments_sealed_total", get(&self.segments_sealed));
        one("logveil_segment_bytes_total", get(&self.segment_bytes));
        one(
            "logveil_retention_deleted_files_total",
            get(&self.retention_files_deleted),
        );
        one(
            "logveil_retention_deleted_bytes_total",
            get(&self.retention_bytes_deleted),
        );
        for (t, v) in self
            .redactions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            out.insert(
                (
                    "logveil_redactions_total".to_owned(),
                    format!("{{type=\"{}\"}}", escape_label(t)),
                ),
                *v,
            );
        }
        for (s, v) in self.errors.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            out.insert(
                (
                    "logveil_errors_total".to_owned(),
                    format!("{{stage=\"{}\"}}", escape_label(s)),
                ),
                *v,
            );
        }
        out
    }

    /// This process's gauges, by series (the build info included).
    fn gauges(&self) -> BTreeMap<Key, f64> {
        let mut g = self
            .gauges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        g.insert(
            (
                "logveil_build_info".to_owned(),
                format!(
                    "{{version=\"{}\"}}",
                    escape_label(env!("CARGO_PKG_VERSION"))
                ),
            ),
            1.0,
        );
        g
    }

    /// The Prometheus text exposition of this process's metrics alone (as if the file were empty).
    pub fn render(&self) -> String {
        let mut series: BTreeMap<Key, f64> = self
            .counters()
            .into_iter()
            .map(|(k, v)| (k, v as f64))
            .collect();
        series.extend(self.gauges());
        render_series(&series)
    }

    /// Merges this process's metrics into `path` (see the module docs), atomically: the file is read and
    /// replaced through a handle on its directory, never through a symlink (see
    /// [`crate::fsutil::Dir::write_atomic`]).
    pub fn write_textfile(&self, path: &Path) -> std::io::Result<()> {
        let (dir, name) = crate::fsutil::open_parent(path)?;
        // One writer at a time per directory (other logveil processes included): read, merge, replace.
        dir.lock_exclusive()?;
        let mut merged = self.merged.lock().unwrap_or_else(|e| e.into_inner());
        let mut series = match dir.read(name) {
            Ok(bytes) => parse_series(&String::from_utf8_lossy(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        let counters = self.counters();
        for (key, now) in &counters {
            let delta = now.saturating_sub(merged.get(key).copied().unwrap_or(0));
            *series.entry(key.clone()).or_default() += delta as f64;
        }
        series.extend(self.gauges());
        dir.write_atomic(name, render_series(&series).as_bytes(), 0o640, true)?;
        *merged = counters;
        Ok(())
    }
}

/// The series of a metrics file logveil wrote (other lines, and names logveil does not write, are
/// dropped).
fn parse_series(text: &str) -> BTreeMap<Key, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(v) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match series.find('{') {
            Some(i) => (&series[..i], &series[i..]),
            None => (series, ""),
        };
        if is_ours(name) && name != "logveil_build_info" {
            out.insert((name.to_owned(), labels.to_owned()), v);
        }
    }
    out
}

/// Families in a fixed order, each with its HELP and TYPE once and its samples together.
fn render_series(series: &BTreeMap<Key, f64>) -> String {
    let mut out = String::new();
    let jobs = Job::ALL.map(|j| (j.metric(), j.help()));
    let families = FAMILIES
        .iter()
        .map(|f| (f.name, f.kind, f.help))
        .chain(jobs.iter().map(|(n, h)| (*n, Kind::Gauge, *h)));
    for (name, kind, help) in families {
        let samples: Vec<_> = series.iter().filter(|((n, _), _)| n == name).collect();
        if samples.is_empty() {
            continue;
        }
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for ((_, labels), v) in samples {
            out.push_str(&format!("{name}{labels} {}\n", number(*v)));
        }
    }
    out
}

/// Whole numbers without a fraction (counters), others with milliseconds (timestamps).
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.3}")
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
    fn renders_every_series_in_prometheus_text_format() {
        let m = Metrics::new();
        Metrics::add(&m.lines, 3);
        Metrics::add(&m.bytes, 120);
        m.declare_redaction_types(&["phone".into(), "email".into(), "bank_card".into()]);
        m.add_redactions([("phone", 2), ("email", 0), ("bank_card", 1)]);
        m.add_error("seal");
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
            text.contains("logveil_redactions_total{type=\"email\"} 0\n"),
            "a declared type is there at 0: {text}"
        );
        assert!(
            text.contains("logveil_errors_total{stage=\"seal\"} 1\n")
                && text.contains("logveil_errors_total{stage=\"input\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "logveil_build_info{{version=\"{}\"}} 1\n",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
        assert!(
            !text.contains("last_success"),
            "no job succeeded yet: {text}"
        );
        m.success(Job::Seal);
        let text = m.render();
        let line = text
            .lines()
            .find(|l| l.starts_with("logveil_seal_last_success_timestamp_seconds "))
            .unwrap();
        let t: f64 = line.rsplit_once(' ').unwrap().1.parse().unwrap();
        let now = jiff::Timestamp::now().as_second() as f64;
        assert!((now - t).abs() < 60.0, "{line}");
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
        assert!(text.contains("logveil_lines_total 2\n"), "{text}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o007, 0, "mode {mode:o}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn processes_sharing_a_file_add_up_their_counters_and_keep_each_others_series() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logveil.prom");
        // Two one-shot runs (seal, say) one after the other: counters add up.
        for _ in 0..2 {
            let m = Metrics::new();
            Metrics::add(&m.lines, 10);
            m.declare_redaction_types(&["phone".into()]);
            m.add_redactions([("phone", 3)]);
            m.success(Job::Seal);
            m.write_textfile(&path).unwrap();
        }
        // A long-running process writing repeatedly adds only what is new since its last write.
        let t = Metrics::new();
        Metrics::add(&t.lines, 5);
        t.write_textfile(&path).unwrap();
        Metrics::add(&t.lines, 1);
        t.write_textfile(&path).unwrap();
        // Another job's series stay: retention never declared redaction types.
        let r = Metrics::new();
        Metrics::add(&r.retention_files_deleted, 4);
        r.success(Job::Retention);
        r.write_textfile(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("logveil_lines_total 26\n"), "{text}");
        assert!(
            text.contains("logveil_redactions_total{type=\"phone\"} 6\n"),
            "{text}"
        );
        assert!(
            text.contains("logveil_retention_deleted_files_total 4\n"),
            "{text}"
        );
        assert!(
            text.contains("logveil_seal_last_success_timestamp_seconds "),
            "{text}"
        );
        assert!(
            text.contains("logveil_retention_last_success_timestamp_seconds "),
            "{text}"
        );
        assert_eq!(
            text.matches("# TYPE logveil_lines_total").count(),
            1,
            "{text}"
        );
        assert_eq!(text.matches("logveil_build_info{").count(), 1, "{text}");
    }

    #[test]
    fn maybe_write_writes_once_per_interval_and_write_now_always() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.prom");
        let m = Metrics::with_file(Some(path.clone()));
        assert_eq!(m.next_write_in(), Some(Duration::ZERO), "due at once");
        m.maybe_write();
        assert!(m
            .next_write_in()
            .is_some_and(|d| d > Duration::ZERO && d <= WRITE_INTERVAL));
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
        assert_eq!(Metrics::with_file(None).next_write_in(), None);
    }
}
