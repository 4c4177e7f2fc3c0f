//! Retention: delete what is kept past its time, and record every deletion.
//!
//! Two kinds of data are governed:
//! - logveil's segments, in the segment directories. A segment expires when the time of its LAST record, read
//!   from its name ([`SegmentName::last_record`]), is older than the retention. Never by mtime, never a
//!   `.partial` (it is being written), never a file whose name does not parse (logveil did not write it).
//!   An optional quota per directory deletes the oldest segments first (by first record, then sequence: data
//!   order within a stream) until the rest fits.
//! - other plaintext data named by rules (path glob + max age, judged by mtime), such as the bot's
//!   conversation history or `/tmp/clawdbot-*` files. A glob that names a directory covers the regular files
//!   under it. Symlinks are never followed or deleted; names that parse as segments are left to the segment
//!   rules; the privacy log is never deleted.
//!
//! Planning is pure ([`Policy::plan`]: a listing and a time in, a list of deletions out); applying deletes and
//! appends one JSON line per deletion to the privacy log (opened `O_APPEND`, mode 0600), which is opened
//! before the first deletion so that nothing is deleted unrecorded.
//!
//! For `pipe` and `tail`: build a [`Policy`] once, then call [`Policy::run_once`] whenever a [`Scheduler`]
//! says it is due, or hand the policy to [`run_loop`] on a thread of its own.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

use jiff::Timestamp;

use crate::config::{Config, RetentionConfig};
use crate::pathglob::PathGlob;
use crate::sink::name::{SegmentName, SegmentState};
use crate::units::format_duration;

/// File name of the privacy log when the config names none: in the first segment directory.
pub const DEFAULT_PRIVACY_LOG_NAME: &str = "privacy-log.jsonl";
/// The scheduler never runs more often than this, whatever the config says.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// A retention problem. Paths and patterns only, never file contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RetentionError {
    #[error("retention: no segment directory (give --dir DIR or set logveil.segments.dir)")]
    NoDirectory,
    #[error("retention: cannot list {}", path.display())]
    List { path: PathBuf, source: io::Error },
    #[error("retention: rule {pattern:?}: {message}")]
    BadRule { pattern: String, message: String },
    #[error("retention: privacy log {}", path.display())]
    PrivacyLog { path: PathBuf, source: io::Error },
}

/// A rule for plaintext data other than segments: files matching `pattern` (or under a directory matching
/// it) are deleted once their mtime is older than `max_age`. Patterns are logveil's one glob dialect
/// ([`crate::pathglob`]: `*`, `?`, `**`, classes, braces), the same as `tail`'s sources.
#[derive(Debug, Clone)]
pub struct Rule {
    pub pattern: String,
    pub max_age: Duration,
    compiled: PathGlob,
}

impl Rule {
    pub fn new(pattern: &str, max_age: Duration) -> Result<Rule, RetentionError> {
        let compiled = PathGlob::new(pattern).map_err(|message| RetentionError::BadRule {
            pattern: pattern.to_string(),
            message,
        })?;
        Ok(Rule {
            pattern: pattern.to_string(),
            max_age,
            compiled,
        })
    }

    /// Whether `path` (absolute, or relative to the current directory like the pattern) or one of its
    /// ancestors matches the rule.
    pub fn covers(&self, path: &Path) -> bool {
        path.ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .any(|p| self.compiled.matches_path(p))
    }
}

/// Everything a retention run needs; plain data, no global state. `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Segment directories (each listed without recursion).
    pub dirs: Vec<PathBuf>,
    /// Segments whose last record is older than this are deleted.
    pub segment_max_age: Duration,
    /// Per directory: once sealed segments hold more than this, the oldest are deleted.
    pub max_total_bytes: Option<u64>,
    pub rules: Vec<Rule>,
    /// The append-only record of deletions.
    pub privacy_log: PathBuf,
    /// False: scheduled runs ([`run_loop`]) do nothing (`auto_rotate: false` / `auto_delete: false`).
    pub auto_delete: bool,
    /// How often scheduled runs happen (at least [`MIN_INTERVAL`]).
    pub interval: Duration,
}

impl Policy {
    /// The config's retention for `dirs`, or for the config's segment directory when `dirs` is empty.
    pub fn from_config(cfg: &Config, dirs: &[PathBuf]) -> Result<Policy, RetentionError> {
        let dirs: Vec<PathBuf> = if dirs.is_empty() {
            cfg.segments.out_dir.iter().cloned().collect()
        } else {
            dirs.to_vec()
        };
        if dirs.is_empty() {
            return Err(RetentionError::NoDirectory);
        }
        // Absolute, so that the privacy log names files unambiguously.
        let dirs: Vec<PathBuf> = dirs.iter().map(|d| absolute(d)).collect();
        let r = &cfg.retention;
        let rules = rules_from_config(r)?;
        let privacy_log = r
            .privacy_log
            .clone()
            .map(|p| absolute(&p))
            .unwrap_or_else(|| dirs[0].join(DEFAULT_PRIVACY_LOG_NAME));
        Ok(Policy {
            dirs,
            segment_max_age: r.segment_max_age,
            max_total_bytes: r.max_total_bytes,
            rules,
            privacy_log,
            auto_delete: r.auto_delete,
            interval: r.interval.max(MIN_INTERVAL),
        })
    }

    /// Lists the segment directories and the files the rules match (file names and metadata only).
    pub fn list(&self) -> Result<Listing, RetentionError> {
        let mut listing = Listing::default();
        for (dir_index, dir) in self.dirs.iter().enumerate() {
            let listed = crate::sink::dir::list(dir).map_err(|source| RetentionError::List {
                path: dir.clone(),
                source,
            })?;
            for crate::sink::dir::Listed { name, path, .. } in listed {
                match fs::symlink_metadata(&path) {
                    Ok(md) if md.is_file() => listing.segments.push(SegmentFile {
                        dir_index,
                        path,
                        name,
                        bytes: md.len(),
                    }),
                    Ok(_) => {}
                    // Gone since the listing (another run, the writer renaming a .partial): nothing to do.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => listing.problems.push((path, e.to_string())),
                }
            }
        }
        self.list_rules(&mut listing);
        listing.segments.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(listing)
    }

    fn list_rules(&self, listing: &mut Listing) {
        let mut found: BTreeMap<PathBuf, PlainFile> = BTreeMap::new();
        for (rule_index, rule) in self.rules.iter().enumerate() {
            let (matches, problems) = rule.compiled.walk();
            listing.problems.extend(problems);
            for path in matches {
                let path = absolute(&path);
                let mut files = Vec::new();
                regular_files(&path, &mut files, &mut listing.problems);
                for (file, md) in files {
                    if self.is_protected(&file) {
                        continue;
                    }
                    let Some(mtime) = md.modified().ok().and_then(to_timestamp) else {
                        listing
                            .problems
                            .push((file, "no modification time".to_string()));
                        continue;
                    };
                    let candidate = PlainFile {
                        path: file.clone(),
                        rule: rule_index,
                        mtime,
                        bytes: md.len(),
                    };
                    // A file matched by several rules follows the strictest (shortest max age).
                    match found.get(&file) {
                        Some(prev) if self.rules[prev.rule].max_age <= rule.max_age => {}
                        _ => {
                            found.insert(file, candidate);
                        }
                    }
                }
            }
        }
        listing.plaintext = found.into_values().collect();
    }

    /// Files the plaintext rules never delete: segments (judged by their names) and the privacy log.
    fn is_protected(&self, file: &Path) -> bool {
        let is_segment = file
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(SegmentName::parse)
            .is_some();
        is_segment
            || (file.file_name() == self.privacy_log.file_name()
                && same_file(file, &self.privacy_log))
    }

    /// Decides what to delete as of `now`. Pure: no I/O, no clock.
    pub fn plan(&self, listing: &Listing, now: Timestamp) -> Plan {
        let mut plan = Plan::default();
        let mut by_dir: BTreeMap<usize, Vec<&SegmentFile>> = BTreeMap::new();
        for seg in &listing.segments {
            if seg.name.state == SegmentState::Partial {
                plan.partials_kept += 1;
                continue;
            }
            let last = seg.name.last_record();
            if older_than(last, now, self.segment_max_age) {
                plan.deletions.push(Deletion {
                    path: seg.path.clone(),
                    bytes: seg.bytes,
                    reason: Reason::MaxAge {
                        last_record: last,
                        max_age: self.segment_max_age,
                    },
                });
            } else {
                by_dir.entry(seg.dir_index).or_default().push(seg);
            }
        }
        for (_, mut kept) in by_dir {
            if let Some(quota) = self.max_total_bytes {
                // Oldest first: by first record, then sequence (data order within a stream).
                kept.sort_by(|a, b| {
                    (a.name.first, a.name.seq, &a.name.stream).cmp(&(
                        b.name.first,
                        b.name.seq,
                        &b.name.stream,
                    ))
                });
                let mut total: u64 = kept.iter().map(|s| s.bytes).sum();
                let mut n = 0;
                while total > quota && n < kept.len() {
                    let seg = kept[n];
                    total -= seg.bytes;
                    plan.deletions.push(Deletion {
                        path: seg.path.clone(),
                        bytes: seg.bytes,
                        reason: Reason::Quota {
                            max_total_bytes: quota,
                        },
                    });
                    n += 1;
                }
                kept.drain(..n);
            }
            plan.segments_kept += kept.len();
            plan.bytes_kept += kept.iter().map(|s| s.bytes).sum::<u64>();
        }
        for f in &listing.plaintext {
            let rule = &self.rules[f.rule];
            if older_than(f.mtime, now, rule.max_age) {
                plan.deletions.push(Deletion {
                    path: f.path.clone(),
                    bytes: f.bytes,
                    reason: Reason::Rule {
                        pattern: rule.pattern.clone(),
                        mtime: f.mtime,
                        max_age: rule.max_age,
                    },
                });
            } else {
                plan.plaintext_kept += 1;
            }
        }
        plan
    }

    /// Deletes what `plan` lists and records each deletion in the privacy log. Nothing is deleted when the
    /// privacy log cannot be opened; a deletion that fails is reported and the others go on.
    pub fn apply(&self, plan: Plan, judged_at: Timestamp) -> Result<Report, RetentionError> {
        let mut report = Report {
            judged_at,
            dry_run: false,
            deleted: Vec::new(),
            failed: Vec::new(),
            segments_kept: plan.segments_kept,
            partials_kept: plan.partials_kept,
            plaintext_kept: plan.plaintext_kept,
            bytes_kept: plan.bytes_kept,
            privacy_log: Some(self.privacy_log.clone()),
        };
        if plan.deletions.is_empty() {
            return Ok(report);
        }
        let log_err = |source| RetentionError::PrivacyLog {
            path: self.privacy_log.clone(),
            source,
        };
        let mut log = open_privacy_log(&self.privacy_log).map_err(log_err)?;
        for d in plan.deletions {
            match fs::remove_file(&d.path) {
                Ok(()) => {
                    let line = privacy_line(&d, Timestamp::now(), judged_at);
                    log.write_all(line.as_bytes()).map_err(log_err)?;
                    tracing::debug!(path = %d.path.display(), reason = d.reason.code(), bytes = d.bytes, "retention: deleted");
                    report.deleted.push(d);
                }
                // Already gone (a concurrent run): nothing was deleted by us, nothing to record.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %d.path.display(), error = %e, "retention: cannot delete");
                    report.failed.push((d, e.to_string()));
                }
            }
        }
        log.sync_data().map_err(log_err)?;
        Ok(report)
    }

    /// Lists, plans and deletes, as of `now`.
    pub fn run_once(&self, now: Timestamp) -> Result<Report, RetentionError> {
        let listing = self.list()?;
        for (path, problem) in &listing.problems {
            tracing::warn!(path = %path.display(), error = %problem, "retention: skipped");
        }
        let plan = self.plan(&listing, now);
        self.apply(plan, now)
    }

    /// As [`Policy::run_once`] but deletes nothing and writes nothing: the report lists what would go.
    pub fn dry_run(&self, now: Timestamp) -> Result<Report, RetentionError> {
        let listing = self.list()?;
        let plan = self.plan(&listing, now);
        Ok(Report {
            judged_at: now,
            dry_run: true,
            segments_kept: plan.segments_kept,
            partials_kept: plan.partials_kept,
            plaintext_kept: plan.plaintext_kept,
            bytes_kept: plan.bytes_kept,
            deleted: plan.deletions,
            failed: Vec::new(),
            privacy_log: None,
        })
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The config's plaintext rules, compiled.
pub fn rules_from_config(r: &RetentionConfig) -> Result<Vec<Rule>, RetentionError> {
    r.rules
        .iter()
        .map(|rule| Rule::new(&rule.path, rule.max_age))
        .collect()
}

/// Whether something of time `t` is more than `max_age` old at `now` (whole seconds; exactly `max_age` is not).
pub fn older_than(t: Timestamp, now: Timestamp, max_age: Duration) -> bool {
    let age = now.as_second().saturating_sub(t.as_second());
    age > 0 && age as u64 > max_age.as_secs()
}

fn to_timestamp(t: SystemTime) -> Option<Timestamp> {
    Timestamp::try_from(t).ok()
}

fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Regular files at `path` (a file) or under it (a directory); symlinks are neither followed nor listed.
fn regular_files(
    path: &Path,
    out: &mut Vec<(PathBuf, fs::Metadata)>,
    problems: &mut Vec<(PathBuf, String)>,
) {
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let md = match fs::symlink_metadata(&p) {
            Ok(md) => md,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                problems.push((p, e.to_string()));
                continue;
            }
        };
        if md.is_file() {
            out.push((p, md));
        } else if md.is_dir() {
            match fs::read_dir(&p) {
                Ok(rd) => {
                    for e in rd {
                        match e {
                            Ok(e) => stack.push(e.path()),
                            Err(err) => problems.push((p.clone(), err.to_string())),
                        }
                    }
                }
                Err(e) => problems.push((p, e.to_string())),
            }
        }
    }
}

/// Opens (creating it 0600, its directory 0700, whatever the umask) the privacy log for appending; never
/// through a symlink, and only a regular file with no other hard link.
/// A root run must not leave the service user a privacy log (or its directory) it cannot append to: both
/// become the owner's of the directory they are in ([`crate::ownership`]).
pub fn open_privacy_log(path: &Path) -> io::Result<File> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let dir = crate::ownership::ensure_private_dir(crate::fsutil::parent_dir(path))
        .map_err(|e| io::Error::new(e.error.kind(), e.to_string()))?;
    let log = dir.open_append(name, crate::fsutil::FILE_MODE)?;
    crate::ownership::adopt_or_warn(&dir, &log, name, "privacy log");
    Ok(log)
}

/// One line of the privacy log (JSON, newline-terminated).
pub fn privacy_line(d: &Deletion, time: Timestamp, judged_at: Timestamp) -> String {
    let mut v = serde_json::json!({
        "time": time.to_string(),
        "file": d.path.to_string_lossy(),
        "reason": d.reason.code(),
        "bytes": d.bytes,
        "judged_at": judged_at.to_string(),
    });
    let m = v.as_object_mut().expect("a JSON object");
    match &d.reason {
        Reason::MaxAge {
            last_record,
            max_age,
        } => {
            m.insert("last_record".into(), last_record.to_string().into());
            m.insert("max_age".into(), format_duration(*max_age).into());
        }
        Reason::Quota { max_total_bytes } => {
            m.insert("max_total_bytes".into(), (*max_total_bytes).into());
        }
        Reason::Rule {
            pattern,
            mtime,
            max_age,
        } => {
            m.insert("rule".into(), pattern.clone().into());
            m.insert("mtime".into(), mtime.to_string().into());
            m.insert("max_age".into(), format_duration(*max_age).into());
        }
        Reason::Shipped { remote, hash } => {
            m.insert("remote".into(), remote.clone().into());
            m.insert("hash".into(), hash.clone().into());
        }
    }
    let mut line = v.to_string();
    line.push('\n');
    line
}

/// What [`Policy::list`] found.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Files in the segment directories whose names parse (any state), sorted by path.
    pub segments: Vec<SegmentFile>,
    /// Files the rules match, one entry per file (its strictest rule).
    pub plaintext: Vec<PlainFile>,
    /// Paths that could not be examined, and why.
    pub problems: Vec<(PathBuf, String)>,
}

#[derive(Debug, Clone)]
pub struct SegmentFile {
    /// Index into [`Policy::dirs`] (the quota is per directory).
    pub dir_index: usize,
    pub path: PathBuf,
    pub name: SegmentName,
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub struct PlainFile {
    pub path: PathBuf,
    /// Index into [`Policy::rules`].
    pub rule: usize,
    pub mtime: Timestamp,
    pub bytes: u64,
}

/// Why a file is deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A segment whose last record is older than the retention.
    MaxAge {
        last_record: Timestamp,
        max_age: Duration,
    },
    /// A segment deleted, oldest first, to bring its directory under the quota.
    Quota { max_total_bytes: u64 },
    /// A plaintext file whose mtime is older than its rule's max age.
    Rule {
        pattern: String,
        mtime: Timestamp,
        max_age: Duration,
    },
    /// A segment whose copy on the remote was confirmed (size and hash) by `logveil ship`.
    Shipped {
        /// The remote object (`REMOTE:PATH/HOST/NAME`).
        remote: String,
        /// The hash both copies share, `TYPE:HEX` (e.g. `md5:...`).
        hash: String,
    },
}

impl Reason {
    /// `max_age`, `quota`, `rule` or `shipped` (the privacy log's `reason`).
    pub fn code(&self) -> &'static str {
        match self {
            Reason::MaxAge { .. } => "max_age",
            Reason::Quota { .. } => "quota",
            Reason::Rule { .. } => "rule",
            Reason::Shipped { .. } => "shipped",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::MaxAge {
                last_record,
                max_age,
            } => write!(
                f,
                "last record {last_record} is older than {}",
                format_duration(*max_age)
            ),
            Reason::Quota { max_total_bytes } => {
                write!(f, "over the quota of {max_total_bytes} bytes, oldest first")
            }
            Reason::Rule {
                pattern,
                mtime,
                max_age,
            } => write!(
                f,
                "rule {pattern}: modified {mtime}, older than {}",
                format_duration(*max_age)
            ),
            Reason::Shipped { remote, hash } => write!(f, "shipped: {remote} has it ({hash})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub path: PathBuf,
    pub bytes: u64,
    pub reason: Reason,
}

/// What to delete, in order: expired segments, quota, plaintext rules.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub deletions: Vec<Deletion>,
    /// Sealed and truncated segments that stay.
    pub segments_kept: usize,
    pub bytes_kept: u64,
    /// `.partial` files seen (never deleted).
    pub partials_kept: usize,
    pub plaintext_kept: usize,
}

/// What a run did (or, for a dry run, would do).
#[derive(Debug, Clone)]
pub struct Report {
    /// The time expiry was judged against (now, or `--as-of`).
    pub judged_at: Timestamp,
    pub dry_run: bool,
    /// Deleted (dry run: would be deleted).
    pub deleted: Vec<Deletion>,
    /// Deletions that failed, with the error.
    pub failed: Vec<(Deletion, String)>,
    pub segments_kept: usize,
    pub partials_kept: usize,
    pub plaintext_kept: usize,
    pub bytes_kept: u64,
    /// Where deletions were recorded (None for a dry run).
    pub privacy_log: Option<PathBuf>,
}

impl Report {
    pub fn bytes_deleted(&self) -> u64 {
        self.deleted.iter().map(|d| d.bytes).sum()
    }

    pub fn count(&self, code: &str) -> usize {
        self.deleted
            .iter()
            .filter(|d| d.reason.code() == code)
            .count()
    }

    /// One line: counts and sizes, no names.
    pub fn summary(&self) -> String {
        format!(
            "{} {} files, {} bytes ({} expired, {} over quota, {} by rule); kept {} segments ({} bytes), {} partial, {} plaintext; {} failed",
            if self.dry_run { "would delete" } else { "deleted" },
            self.deleted.len(),
            self.bytes_deleted(),
            self.count("max_age"),
            self.count("quota"),
            self.count("rule"),
            self.segments_kept,
            self.bytes_kept,
            self.partials_kept,
            self.plaintext_kept,
            self.failed.len(),
        )
    }
}

/// Says when the next scheduled run is due. The first run is due at `start`.
#[derive(Debug, Clone)]
pub struct Scheduler {
    interval: Duration,
    next: Instant,
}

impl Scheduler {
    pub fn new(interval: Duration, start: Instant) -> Scheduler {
        Scheduler {
            interval: interval.max(MIN_INTERVAL),
            next: start,
        }
    }

    pub fn is_due(&self, now: Instant) -> bool {
        now >= self.next
    }

    pub fn next_due(&self) -> Instant {
        self.next
    }

    /// How long until the next run (zero when due).
    pub fn until_due(&self, now: Instant) -> Duration {
        self.next.saturating_duration_since(now)
    }

    /// Records a run at `now`; the next is due one interval later.
    pub fn mark_run(&mut self, now: Instant) {
        self.next = now + self.interval;
    }

    /// True (and marks the run) when a run is due: `if sched.poll(Instant::now()) { policy.run_once(..) }`.
    pub fn poll(&mut self, now: Instant) -> bool {
        let due = self.is_due(now);
        if due {
            self.mark_run(now);
        }
        due
    }
}

/// Runs retention now and then every `policy.interval` until `stop` receives a message or its sender is
/// dropped. Meant for a thread of its own: `thread::spawn(move || retention::run_loop(&policy, &rx))`.
/// Errors are logged (without contents) and the next run happens on time. Returns at once when
/// `policy.auto_delete` is false.
pub fn run_loop(policy: &Policy, stop: &Receiver<()>) {
    run_loop_with(policy, stop, &mut |_| {});
}

/// As [`run_loop`], calling `on_report` after every run with its report or its error (for metrics).
/// A segment directory that does not exist yet (the writer creates it with its first segment) is not an
/// error here: there is nothing to delete.
pub fn run_loop_with(
    policy: &Policy,
    stop: &Receiver<()>,
    on_report: &mut dyn FnMut(Result<&Report, &RetentionError>),
) {
    if !policy.auto_delete {
        tracing::info!("retention: auto_delete is off in the config; no scheduled deletion");
        return;
    }
    let mut sched = Scheduler::new(policy.interval, Instant::now());
    loop {
        let now = Instant::now();
        if sched.poll(now) {
            match policy.run_once(Timestamp::now()) {
                Ok(r) => {
                    if r.deleted.is_empty() && r.failed.is_empty() {
                        tracing::debug!("retention: {}", r.summary());
                    } else {
                        tracing::info!("retention: {}", r.summary());
                    }
                    on_report(Ok(&r));
                }
                Err(RetentionError::List { path, source })
                    if source.kind() == io::ErrorKind::NotFound && policy.dirs.contains(&path) =>
                {
                    tracing::debug!(dir = %path.display(), "retention: no segment directory yet; nothing to do");
                }
                Err(e) => {
                    tracing::warn!(error = %crate::error_chain(&e), "retention: run failed");
                    on_report(Err(&e));
                }
            }
        }
        match stop.recv_timeout(sched.until_due(Instant::now())) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn policy(max_age_days: u64, quota: Option<u64>) -> Policy {
        Policy {
            dirs: vec![PathBuf::from("/seg")],
            segment_max_age: Duration::from_secs(max_age_days * 86_400),
            max_total_bytes: quota,
            rules: vec![Rule::new("/data/conv/*", Duration::from_secs(30 * 86_400)).unwrap()],
            privacy_log: PathBuf::from("/seg/privacy-log.jsonl"),
            auto_delete: true,
            interval: Duration::from_secs(3600),
        }
    }

    fn seg(name: SegmentName, bytes: u64) -> SegmentFile {
        SegmentFile {
            dir_index: 0,
            path: PathBuf::from("/seg").join(name.to_string()),
            name,
            bytes,
        }
    }

    #[test]
    fn expiry_is_by_last_record_and_partials_are_kept() {
        let now = ts("2026-11-25T00:00:00Z");
        let listing = Listing {
            segments: vec![
                // First record long ago, last record recent: kept.
                seg(
                    SegmentName::sealed(
                        "a",
                        ts("2026-01-01T00:00:00Z"),
                        ts("2026-11-20T00:00:00Z"),
                        1,
                    ),
                    10,
                ),
                // Last record 91 days old: deleted.
                seg(
                    SegmentName::sealed(
                        "a",
                        ts("2026-08-25T00:00:00Z"),
                        ts("2026-08-26T00:00:00Z"),
                        0,
                    ),
                    20,
                ),
                // A partial whose first record is ancient: never deleted.
                seg(SegmentName::partial("a", ts("2020-01-01T00:00:00Z"), 2), 30),
            ],
            ..Listing::default()
        };
        let plan = policy(90, None).plan(&listing, now);
        assert_eq!(plan.deletions.len(), 1);
        assert_eq!(plan.deletions[0].path, listing.segments[1].path);
        assert_eq!(plan.deletions[0].reason.code(), "max_age");
        assert_eq!(plan.segments_kept, 1);
        assert_eq!(plan.partials_kept, 1);
    }

    #[test]
    fn exactly_at_the_limit_is_kept() {
        let last = ts("2026-08-27T00:00:00Z");
        let listing = Listing {
            segments: vec![seg(SegmentName::sealed("a", last, last, 0), 1)],
            ..Listing::default()
        };
        let p = policy(90, None);
        let limit = last
            .checked_add(jiff::SignedDuration::from_hours(90 * 24))
            .unwrap();
        assert!(p.plan(&listing, limit).deletions.is_empty());
        let after = limit
            .checked_add(jiff::SignedDuration::from_secs(1))
            .unwrap();
        assert_eq!(p.plan(&listing, after).deletions.len(), 1);
    }

    #[test]
    fn quota_deletes_oldest_first_until_it_fits() {
        let now = ts("2026-11-25T00:00:00Z");
        let t = |h: i64| {
            now.checked_sub(jiff::SignedDuration::from_hours(h))
                .unwrap()
        };
        let listing = Listing {
            segments: vec![
                seg(SegmentName::sealed("a", t(3), t(3), 3), 100),
                seg(SegmentName::sealed("a", t(5), t(4), 1), 100),
                seg(SegmentName::sealed("a", t(4), t(4), 2), 100),
                seg(SegmentName::partial("a", t(1), 4), 1000),
            ],
            ..Listing::default()
        };
        let plan = policy(90, Some(150)).plan(&listing, now);
        let seqs: Vec<u64> = plan
            .deletions
            .iter()
            .map(|d| {
                SegmentName::parse(d.path.file_name().unwrap().to_str().unwrap())
                    .unwrap()
                    .seq
            })
            .collect();
        assert_eq!(
            seqs,
            vec![1, 2],
            "oldest first, until 100 <= 150 bytes remain"
        );
        assert!(plan.deletions.iter().all(|d| d.reason.code() == "quota"));
        assert_eq!(plan.bytes_kept, 100);
    }

    #[test]
    fn rules_judge_plaintext_by_mtime() {
        let now = ts("2026-11-25T00:00:00Z");
        let listing = Listing {
            plaintext: vec![
                PlainFile {
                    path: "/data/conv/old".into(),
                    rule: 0,
                    mtime: ts("2026-10-01T00:00:00Z"),
                    bytes: 5,
                },
                PlainFile {
                    path: "/data/conv/new".into(),
                    rule: 0,
                    mtime: ts("2026-11-24T00:00:00Z"),
                    bytes: 5,
                },
            ],
            ..Listing::default()
        };
        let plan = policy(90, None).plan(&listing, now);
        assert_eq!(plan.deletions.len(), 1);
        assert_eq!(plan.deletions[0].path, PathBuf::from("/data/conv/old"));
        assert_eq!(plan.plaintext_kept, 1);
    }

    #[test]
    fn rules_cover_files_under_a_matching_directory_but_not_siblings() {
        let r = Rule::new("/data/conv*", Duration::from_secs(1)).unwrap();
        assert!(r.covers(Path::new("/data/conversations/u1/x.json")));
        assert!(r.covers(Path::new("/data/conv")));
        assert!(!r.covers(Path::new("/data/other/conv")));
        let r = Rule::new("/tmp/clawdbot-*", Duration::from_secs(1)).unwrap();
        assert!(r.covers(Path::new("/tmp/clawdbot-123.log")));
        assert!(!r.covers(Path::new("/tmp/other/clawdbot-1")));
        assert!(Rule::new("/tmp/[", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn rules_take_the_one_glob_dialect_braces_classes_and_double_stars() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        for f in [
            "a/1.json",
            "b/2.json",
            "c/3.json",
            "c/deep/4.json",
            "a/x.json",
            "a/.5.json",
        ] {
            let p = base.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, b"{}").unwrap();
        }
        let listed = |pattern: &str| -> Vec<String> {
            let mut p = policy(90, None);
            p.dirs.clear();
            p.rules = vec![Rule::new(pattern, Duration::from_secs(1)).unwrap()];
            let l = p.list().unwrap();
            assert!(l.problems.is_empty(), "{:?}", l.problems);
            let mut v: Vec<String> = l
                .plaintext
                .iter()
                .map(|f| f.path.strip_prefix(base).unwrap().display().to_string())
                .collect();
            v.sort();
            v
        };
        let b = base.display();
        assert_eq!(
            listed(&format!("{b}/{{a,b}}/*.json")),
            ["a/1.json", "a/x.json", "b/2.json"]
        );
        assert_eq!(
            listed(&format!("{b}/*/[0-9].json")),
            ["a/1.json", "b/2.json", "c/3.json"]
        );
        assert_eq!(
            listed(&format!("{b}/**/[!x].json")),
            ["a/1.json", "b/2.json", "c/3.json", "c/deep/4.json"]
        );
        let err = Rule::new(&format!("{b}/{{a,b"), Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("unmatched '{'"), "{err}");
    }

    #[test]
    fn privacy_line_is_one_json_line_with_time_file_reason_bytes() {
        let d = Deletion {
            path: "/seg/x".into(),
            bytes: 42,
            reason: Reason::Quota {
                max_total_bytes: 10,
            },
        };
        let line = privacy_line(&d, ts("2026-11-25T01:02:03Z"), ts("2026-11-25T00:00:00Z"));
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["time"], "2026-11-25T01:02:03Z");
        assert_eq!(v["file"], "/seg/x");
        assert_eq!(v["reason"], "quota");
        assert_eq!(v["bytes"], 42);
    }

    #[test]
    fn scheduler_is_due_at_start_then_every_interval() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(Duration::from_secs(3600), t0);
        assert!(s.poll(t0));
        assert!(!s.poll(t0 + Duration::from_secs(3599)));
        assert_eq!(
            s.until_due(t0 + Duration::from_secs(3000)),
            Duration::from_secs(600)
        );
        assert!(s.poll(t0 + Duration::from_secs(3600)));
        assert_eq!(s.next_due(), t0 + Duration::from_secs(7200));
        // A zero interval from a config cannot make a busy loop.
        let s = Scheduler::new(Duration::ZERO, t0);
        assert_eq!(s.interval, MIN_INTERVAL);
    }

    #[test]
    fn from_config_needs_a_directory_and_defaults_the_privacy_log() {
        let cfg = Config::default();
        assert!(matches!(
            Policy::from_config(&cfg, &[]),
            Err(RetentionError::NoDirectory)
        ));
        let p = Policy::from_config(&cfg, &[PathBuf::from("/x")]).unwrap();
        assert_eq!(p.privacy_log, PathBuf::from("/x/privacy-log.jsonl"));
        assert_eq!(p.segment_max_age, Duration::from_secs(90 * 86_400));
        assert_eq!(p.interval, Duration::from_secs(3600));
    }
}

/// Retention running on a thread of its own; stops (and is joined) when dropped.
#[derive(Debug)]
pub struct Background {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Starts [`run_loop_with`] on a thread named `logveil-retention`.
    pub fn spawn(
        policy: Policy,
        mut on_report: impl FnMut(Result<&Report, &RetentionError>) + Send + 'static,
    ) -> std::io::Result<Background> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("logveil-retention".into())
            .spawn(move || run_loop_with(&policy, &rx, &mut on_report))?;
        Ok(Background {
            stop: Some(tx),
            thread: Some(thread),
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
