//! `logveil audit`: a privacy audit of paths, from names, modes and metadata, plus a PII scan of plaintext.
//! Never decrypts anything; never reports a matched value (types, counts and line numbers only).
//!
//! Four checks, over every file and directory under each PATH (symlinks are not followed below a PATH):
//! 1. permissions: a file or directory that others can read or write (a sticky directory such as `/tmp` is
//!    shared by design and exempt; its contents are not); a config or key file that group or others can
//!    access at all (0600 or 0400 pass). Config files: the `--config` file, and `*.yaml`/`*.yml` files with a
//!    top-level `privacy:` or `logveil:` key. Key files: `id_rsa`, `id_ed25519`... (no `.pub`), `*.key`, and
//!    files that begin (after `#` comment lines) with an age identity or a PEM private key.
//! 2. pii: plaintext files are scanned with the same engine as `redact` (the config's detectors and
//!    patterns); per file and type, a count and the first line numbers. gzip files are decompressed and
//!    scanned; other compressed formats are reported as not read; binary files (a NUL byte in the first
//!    8 KiB) are skipped; key files are not scanned (they hold secrets by design); a file is read up to
//!    `max_bytes`, and a file read in part is reported as incomplete.
//! 3. retention: sealed segments whose last record is older than the retention; files covered by a
//!    retention rule whose mtime is older than the rule's max age.
//! 4. encryption: every `*.age` file has a valid age header (checked with the age crate, no identity) and a
//!    payload length an age stream can have (this catches a file cut right after its header; a cut inside
//!    the payload mostly leaves a possible length, and only decryption, in `cat`, sees it); no `.partial` is older than `max_segment_age` (plus
//!    [`PARTIAL_GRACE`]); and no plaintext older than one rotation is left in a sealed log directory.
//!    A *sealed log directory* is the config's segment directory, or any directory that holds a sealed (or
//!    truncated) logveil segment: logveil seals there, so whatever else is kept there should have been sealed
//!    or removed. *One rotation* is `logveil.segments.max_segment_age` (default 1h): the longest a segment
//!    stays open. *Plaintext* there is any regular file that is not a segment, not `*.age`, not a key or
//!    config file and not the privacy log; it is a finding once its mtime is older than one rotation.
//!
//! The result is a [`Report`], printed as text or JSON (schema version [`SCHEMA_VERSION`], see README).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use crate::config::Config;
use crate::redact::engine::ChunkState;
use crate::redact::stream::{HOLD, MAX_LINE};
use crate::redact::{Engine, Hit};
use crate::retention::{older_than, rules_from_config, Rule, DEFAULT_PRIVACY_LOG_NAME};
use crate::sink::name::{SegmentName, SegmentState};
use crate::units::format_duration;

/// Version of the JSON report's schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;
/// Default bytes read per file by the PII scan.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;
/// A `.partial` may outlive `max_segment_age` by this much (the writer seals on a timer tick).
pub const PARTIAL_GRACE: Duration = Duration::from_secs(60);
/// How many line numbers a PII finding lists.
pub const FIRST_LINES: usize = 5;
/// Bytes read to classify a file (binary, gzip, key, config).
const SNIFF: usize = 8 << 10;
/// The most an age header may take (it is a few hundred bytes per recipient).
const MAX_AGE_HEADER: u64 = 1 << 20;
/// age payload: 16-byte nonce, then chunks of 64 KiB plaintext + 16-byte tag.
const AGE_NONCE: u64 = 16;
const AGE_TAG: u64 = 16;
const AGE_CHUNK: u64 = (64 << 10) + AGE_TAG;

/// An audit that could not run. Findings are not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error("audit: {}", path.display())]
    Path { path: PathBuf, source: io::Error },
    #[error("audit: retention rule: {0}")]
    Rule(#[from] crate::retention::RetentionError),
}

/// What to audit and how.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub paths: Vec<PathBuf>,
    /// The time ages are judged against.
    pub now: Timestamp,
    /// Bytes read per file by the PII scan (None: no limit).
    pub max_bytes: Option<u64>,
    /// The config file in use, checked for its mode even when it lies outside every PATH.
    pub config_file: Option<PathBuf>,
}

/// The four checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Permissions,
    Pii,
    Retention,
    Encryption,
}

impl Check {
    pub const ALL: [Check; 4] = [
        Check::Permissions,
        Check::Pii,
        Check::Retention,
        Check::Encryption,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Check::Permissions => "permissions",
            Check::Pii => "pii",
            Check::Retention => "retention",
            Check::Encryption => "encryption",
        }
    }
}

/// One finding: `check`, `path`, `kind`, the kind's own fields, and a readable `message` (no values).
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: Check,
    pub path: String,
    #[serde(flatten)]
    pub kind: Kind,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kind {
    /// permissions: others can read and/or write a file or directory. `mode` is octal, e.g. "0644".
    OpenToOthers {
        mode: String,
        readable: bool,
        writable: bool,
    },
    /// permissions: a config or key file that group or others can access. `secret` is "config" or "key".
    SecretNotPrivate { mode: String, secret: String },
    /// pii: a plaintext file holds `count` detections of `pii_type`; `first_lines` are 1-based.
    ResidualPii {
        pii_type: String,
        count: u64,
        first_lines: Vec<u64>,
        bytes_scanned: u64,
        complete: bool,
    },
    /// retention: a segment whose last record is older than the retention.
    SegmentExpired {
        last_record: String,
        max_age: String,
    },
    /// retention: a file covered by a rule, modified longer ago than the rule's max age.
    PlaintextExpired {
        rule: String,
        mtime: String,
        max_age: String,
    },
    /// encryption: a `*.age` file without a valid age header.
    BadAgeHeader { error: String },
    /// encryption: a valid header, but a payload length no age stream has (truncated or padded).
    BadAgePayload { payload_bytes: u64 },
    /// encryption: a `.partial` whose first record is older than `max_segment_age`.
    StalePartial {
        first_record: String,
        max_segment_age: String,
    },
    /// encryption: plaintext older than one rotation in a sealed log directory.
    UnsealedPlaintext { mtime: String, rotation: String },
}

/// A file or directory that could not be checked completely (makes the audit exit 1).
#[derive(Debug, Clone, Serialize)]
pub struct Incomplete {
    pub path: String,
    /// `unreadable`, `truncated`, `compressed`, `read_error` or `pii_check_disabled`.
    pub reason: String,
    pub message: String,
}

/// A file deliberately not examined by the PII scan (does not change the exit code).
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub path: String,
    /// `binary`, `symlink`, `special` or `armored_age`.
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files: u64,
    pub directories: u64,
    pub bytes_scanned: u64,
    pub findings: u64,
    pub incomplete: u64,
    pub skipped: u64,
    /// Findings per check; all four keys always present.
    pub by_check: BTreeMap<&'static str, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub as_of: String,
    pub paths: Vec<String>,
    /// No findings and nothing incomplete.
    pub clean: bool,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub incomplete: Vec<Incomplete>,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes")
    }

    /// The readable report: one line per finding, incomplete or skipped file, then a summary.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "logveil audit of {} as of {}\n",
            self.paths.join(", "),
            self.as_of
        ));
        for f in &self.findings {
            out.push_str(&format!(
                "{:<12} {}: {}\n",
                f.check.name(),
                f.path,
                f.message
            ));
        }
        for i in &self.incomplete {
            out.push_str(&format!("{:<12} {}: {}\n", "incomplete", i.path, i.message));
        }
        for s in &self.skipped {
            out.push_str(&format!("{:<12} {}: {}\n", "skipped", s.path, s.reason));
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        let s = &self.summary;
        let by: Vec<String> = Check::ALL
            .iter()
            .map(|c| format!("{} {}", c.name(), s.by_check.get(c.name()).unwrap_or(&0)))
            .collect();
        out.push_str(&format!(
            "{}: {} findings ({}), {} incomplete, {} skipped; {} files, {} directories, {} bytes scanned\n",
            if self.clean { "clean" } else { "NOT CLEAN" },
            s.findings,
            by.join(", "),
            s.incomplete,
            s.skipped,
            s.files,
            s.directories,
            s.bytes_scanned,
        ));
        out
    }
}

/// Runs the audit. `engine` must be built from `cfg.redaction` (the same engine `redact` uses).
pub fn audit(cfg: &Config, engine: &Engine, opts: &AuditOptions) -> Result<Report, AuditError> {
    let rules = rules_from_config(&cfg.retention)?;
    let file_id = |p: &Path| fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let mut a = Auditor {
        cfg,
        engine,
        opts,
        rules,
        segment_dir: cfg
            .segments
            .out_dir
            .as_deref()
            .and_then(|d| std::path::absolute(d).ok()),
        config_id: opts.config_file.as_deref().and_then(file_id),
        hash_key_id: cfg.hash_key_file.as_deref().and_then(file_id),
        privacy_log_id: cfg.retention.privacy_log.as_deref().and_then(file_id),
        findings: Vec::new(),
        incomplete: Vec::new(),
        skipped: Vec::new(),
        notes: Vec::new(),
        summary: Summary::default(),
    };
    if !cfg.redaction.detection_enabled || engine.pattern_count() == 0 {
        a.incomplete.push(Incomplete {
            path: opts
                .config_file
                .as_deref()
                .map(show)
                .unwrap_or_else(|| "(config)".into()),
            reason: "pii_check_disabled".into(),
            message: "PII detection is disabled in the config: no file was scanned for PII".into(),
        });
    }
    if let Some(c) = &opts.config_file {
        let md = fs::metadata(c).map_err(|source| AuditError::Path {
            path: c.clone(),
            source,
        })?;
        a.secret_mode(
            &std::path::absolute(c).unwrap_or_else(|_| c.clone()),
            &md,
            "config",
        );
    }
    let mut roots = Vec::new();
    for p in &opts.paths {
        let abs = std::path::absolute(p).map_err(|source| AuditError::Path {
            path: p.clone(),
            source,
        })?;
        // A PATH itself may be a symlink (like `find -H`); nothing below it is followed.
        let md = fs::metadata(&abs).map_err(|source| AuditError::Path {
            path: p.clone(),
            source,
        })?;
        roots.push((abs, md));
    }
    // A PATH inside another PATH is walked once.
    let all: Vec<PathBuf> = roots.iter().map(|(p, _)| p.clone()).collect();
    roots.retain(|(p, _)| !all.iter().any(|q| q != p && p.starts_with(q)));
    roots.dedup_by(|a, b| a.0 == b.0);
    for (root, md) in roots {
        if md.is_dir() {
            a.walk(&root, md);
        } else if md.is_file() {
            let sealed = root.parent().is_some_and(|d| a.dir_is_sealed(d, None));
            a.file(&root, &md, sealed);
        } else {
            a.skip(&root, "special");
        }
    }
    Ok(a.finish())
}

struct Auditor<'a> {
    cfg: &'a Config,
    engine: &'a Engine,
    opts: &'a AuditOptions,
    rules: Vec<Rule>,
    segment_dir: Option<PathBuf>,
    config_id: Option<(u64, u64)>,
    /// The config's hash key file: judged as logveil reads it (0640 root:GROUP passes).
    hash_key_id: Option<(u64, u64)>,
    privacy_log_id: Option<(u64, u64)>,
    findings: Vec<Finding>,
    incomplete: Vec<Incomplete>,
    skipped: Vec<Skipped>,
    notes: Vec<String>,
    summary: Summary,
}

fn show(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn mode_str(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

fn mtime(md: &fs::Metadata) -> Option<Timestamp> {
    md.modified().ok().and_then(|t| Timestamp::try_from(t).ok())
}

impl Auditor<'_> {
    fn finish(mut self) -> Report {
        let s = &mut self.summary;
        s.findings = self.findings.len() as u64;
        s.incomplete = self.incomplete.len() as u64;
        s.skipped = self.skipped.len() as u64;
        for c in Check::ALL {
            s.by_check.insert(c.name(), 0);
        }
        for f in &self.findings {
            *s.by_check.entry(f.check.name()).or_default() += 1;
        }
        Report {
            schema_version: SCHEMA_VERSION,
            as_of: self.opts.now.to_string(),
            paths: self.opts.paths.iter().map(|p| show(p)).collect(),
            clean: self.findings.is_empty() && self.incomplete.is_empty(),
            summary: self.summary,
            findings: self.findings,
            incomplete: self.incomplete,
            skipped: self.skipped,
            notes: self.notes,
        }
    }

    fn find(&mut self, check: Check, path: &Path, kind: Kind, message: String) {
        self.findings.push(Finding {
            check,
            path: show(path),
            kind,
            message,
        });
    }

    fn incomplete(&mut self, path: &Path, reason: &str, message: String) {
        self.incomplete.push(Incomplete {
            path: show(path),
            reason: reason.into(),
            message,
        });
    }

    fn skip(&mut self, path: &Path, reason: &str) {
        self.skipped.push(Skipped {
            path: show(path),
            reason: reason.into(),
        });
    }

    /// Whether logveil seals into `dir`: it is the config's segment directory or holds a sealed segment.
    fn dir_is_sealed(&self, dir: &Path, names: Option<&[(PathBuf, fs::Metadata)]>) -> bool {
        if self.segment_dir.as_deref() == Some(dir) {
            return true;
        }
        let is_sealed_name = |p: &Path| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(SegmentName::parse)
                .is_some_and(|n| n.state != SegmentState::Partial)
        };
        match names {
            Some(entries) => entries
                .iter()
                .any(|(p, md)| md.is_file() && is_sealed_name(p)),
            None => fs::read_dir(dir).is_ok_and(|rd| {
                rd.flatten()
                    .any(|e| e.file_type().is_ok_and(|t| t.is_file()) && is_sealed_name(&e.path()))
            }),
        }
    }

    fn walk(&mut self, root: &Path, root_md: fs::Metadata) {
        let mut stack = vec![(root.to_path_buf(), root_md)];
        while let Some((dir, md)) = stack.pop() {
            self.summary.directories += 1;
            self.dir_mode(&dir, &md);
            let rd = match fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) => {
                    self.incomplete(&dir, "unreadable", format!("cannot list: {e}"));
                    continue;
                }
            };
            let mut entries = Vec::new();
            for e in rd {
                let e = match e {
                    Ok(e) => e,
                    Err(err) => {
                        self.incomplete(&dir, "unreadable", format!("cannot list: {err}"));
                        break;
                    }
                };
                let p = e.path();
                match fs::symlink_metadata(&p) {
                    Ok(md) => entries.push((p, md)),
                    Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                    Err(err) => self.incomplete(&p, "unreadable", format!("cannot stat: {err}")),
                }
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let sealed = self.dir_is_sealed(&dir, Some(&entries));
            let mut subdirs = Vec::new();
            for (p, md) in entries {
                let ft = md.file_type();
                if ft.is_dir() {
                    subdirs.push((p, md));
                } else if ft.is_file() {
                    self.file(&p, &md, sealed);
                } else if ft.is_symlink() {
                    self.skip(&p, "symlink");
                } else {
                    self.skip(&p, "special");
                }
            }
            // Depth first, in name order.
            subdirs.reverse();
            stack.extend(subdirs);
        }
    }

    fn dir_mode(&mut self, dir: &Path, md: &fs::Metadata) {
        let mode = md.permissions().mode();
        if mode & 0o1000 != 0 {
            return; // sticky: shared by design (/tmp)
        }
        self.open_to_others(dir, mode, "directory");
    }

    fn open_to_others(&mut self, path: &Path, mode: u32, what: &str) {
        let (r, w) = (mode & 0o004 != 0, mode & 0o002 != 0);
        if r || w {
            let how = match (r, w) {
                (true, true) => "readable and writable",
                (true, false) => "readable",
                _ => "writable",
            };
            self.find(
                Check::Permissions,
                path,
                Kind::OpenToOthers {
                    mode: mode_str(mode),
                    readable: r,
                    writable: w,
                },
                format!("{what} is {how} by others (mode {})", mode_str(mode)),
            );
        }
    }

    fn secret_mode(&mut self, path: &Path, md: &fs::Metadata, secret: &str) {
        let mode = md.permissions().mode();
        if mode & 0o077 != 0 {
            self.find(
                Check::Permissions,
                path,
                Kind::SecretNotPrivate {
                    mode: mode_str(mode),
                    secret: secret.into(),
                },
                format!("{secret} file is mode {}, should be 0600", mode_str(mode)),
            );
        }
    }

    fn file(&mut self, path: &Path, md: &fs::Metadata, in_sealed_dir: bool) {
        self.summary.files += 1;
        let now = self.opts.now;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let id = Some((md.dev(), md.ino()));
        let is_config_file = id == self.config_id;

        // Segments: judged by their names; never opened except for the header check.
        if let Some(seg) = SegmentName::parse(&name) {
            self.open_to_others(path, md.permissions().mode(), "file");
            match seg.state {
                SegmentState::Partial => {
                    let limit = self.cfg.segments.max_segment_age + PARTIAL_GRACE;
                    if older_than(seg.first, now, limit) {
                        self.find(
                            Check::Encryption,
                            path,
                            Kind::StalePartial {
                                first_record: seg.first.to_string(),
                                max_segment_age: format_duration(
                                    self.cfg.segments.max_segment_age,
                                ),
                            },
                            format!(
                                "unfinished segment: first record {} is older than max_segment_age {}",
                                seg.first,
                                format_duration(self.cfg.segments.max_segment_age)
                            ),
                        );
                    }
                }
                SegmentState::Sealed | SegmentState::Truncated => {
                    let max = self.cfg.retention.segment_max_age;
                    let last = seg.last_record();
                    if older_than(last, now, max) {
                        self.find(
                            Check::Retention,
                            path,
                            Kind::SegmentExpired {
                                last_record: last.to_string(),
                                max_age: format_duration(max),
                            },
                            format!(
                                "segment past its time: last record {last} is older than {}",
                                format_duration(max)
                            ),
                        );
                    }
                    self.age_file(path, md);
                }
            }
            return;
        }

        let Some((f, head)) = self.open_head(path) else {
            self.open_to_others(path, md.permissions().mode(), "file");
            return;
        };
        let secret = if is_config_file || is_config(&name, &head) {
            Some("config")
        } else if is_key(&name, &head) {
            Some("key")
        } else {
            None
        };
        match secret {
            // The `--config` file's mode was checked before the walk.
            Some(_) if is_config_file => {}
            Some(_) if id == self.hash_key_id && crate::redact::actions::key_file_mode_ok(md) => {}
            Some(s) => self.secret_mode(path, md, s),
            None => self.open_to_others(path, md.permissions().mode(), "file"),
        }

        // Retention rules cover every file but segments by mtime (as `logveil retention` deletes them).
        let is_age = name.ends_with(".age");
        let is_privacy_log = id == self.privacy_log_id || name == DEFAULT_PRIVACY_LOG_NAME;
        // A segment writer's lock file is empty and holds nothing.
        let is_lock = md.len() == 0 && crate::sink::name::is_lock_file_name(&name);
        let mt = mtime(md);
        if !is_privacy_log {
            if let Some(mt) = mt {
                let strictest = self
                    .rules
                    .iter()
                    .filter(|r| r.covers(path))
                    .min_by_key(|r| r.max_age);
                if let Some(rule) = strictest {
                    if older_than(mt, now, rule.max_age) {
                        let (pattern, max) = (rule.pattern.clone(), rule.max_age);
                        self.find(
                            Check::Retention,
                            path,
                            Kind::PlaintextExpired {
                                rule: pattern.clone(),
                                mtime: mt.to_string(),
                                max_age: format_duration(max),
                            },
                            format!(
                                "past its time: modified {mt}, rule {pattern} keeps {}",
                                format_duration(max)
                            ),
                        );
                    }
                }
                let rotation = self.cfg.segments.max_segment_age;
                if in_sealed_dir
                    && secret.is_none()
                    && !is_age
                    && !is_lock
                    && older_than(mt, now, rotation)
                {
                    self.find(
                        Check::Encryption,
                        path,
                        Kind::UnsealedPlaintext {
                            mtime: mt.to_string(),
                            rotation: format_duration(rotation),
                        },
                        format!(
                            "plaintext in a sealed log directory, modified {mt}, more than one rotation ({}) ago",
                            format_duration(rotation)
                        ),
                    );
                }
            }
        }

        if is_age {
            self.age_header(path, md, head, f);
        } else if secret != Some("key") {
            // A key file holds a secret by design; its mode is what matters.
            self.pii(path, md, head, f);
        }
    }

    /// Opens `path` and reads its first [`SNIFF`] bytes; an error is recorded as incomplete.
    fn open_head(&mut self, path: &Path) -> Option<(File, Vec<u8>)> {
        let mut f = match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                self.incomplete(path, "unreadable", format!("cannot open: {e}"));
                return None;
            }
        };
        let mut head = Vec::with_capacity(SNIFF);
        match (&mut f).take(SNIFF as u64).read_to_end(&mut head) {
            Ok(_) => Some((f, head)),
            Err(e) => {
                self.incomplete(path, "unreadable", format!("cannot read: {e}"));
                None
            }
        }
    }

    fn age_file(&mut self, path: &Path, md: &fs::Metadata) {
        if let Some((f, head)) = self.open_head(path) {
            self.age_header(path, md, head, f);
        }
    }

    fn age_header(&mut self, path: &Path, md: &fs::Metadata, head: Vec<u8>, f: File) {
        if head.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
            self.skip(path, "armored_age");
            return;
        }
        let mut r = Counting {
            inner: io::Cursor::new(head).chain(f).take(MAX_AGE_HEADER),
            n: 0,
        };
        match age::Decryptor::new(&mut r) {
            Ok(_) => {
                // `new` read the header and the nonce, nothing more.
                let payload = md.len().saturating_sub(r.n) + AGE_NONCE;
                if !age_payload_len_ok(payload) {
                    self.find(
                        Check::Encryption,
                        path,
                        Kind::BadAgePayload {
                            payload_bytes: payload,
                        },
                        format!(
                            "age payload of {payload} bytes is not a whole age stream (truncated?)"
                        ),
                    );
                }
            }
            Err(e) => {
                let error = match e {
                    age::DecryptError::Io(ref io) if io.kind() == io::ErrorKind::UnexpectedEof => {
                        "the file ends inside the age header".to_string()
                    }
                    age::DecryptError::InvalidHeader => "not a valid age header".to_string(),
                    age::DecryptError::UnknownFormat => "unknown age format version".to_string(),
                    other => other.to_string(),
                };
                self.find(
                    Check::Encryption,
                    path,
                    Kind::BadAgeHeader {
                        error: error.clone(),
                    },
                    format!("not an age file: {error}"),
                );
            }
        }
    }

    fn pii(&mut self, path: &Path, md: &fs::Metadata, head: Vec<u8>, f: File) {
        if !self.cfg.redaction.detection_enabled || self.engine.pattern_count() == 0 {
            return;
        }
        let (result, what) = if head.starts_with(&[0x1f, 0x8b]) {
            let mut gz = flate2::read::MultiGzDecoder::new(io::Cursor::new(head).chain(f));
            let mut dhead = Vec::with_capacity(SNIFF);
            if let Err(e) = (&mut gz).take(SNIFF as u64).read_to_end(&mut dhead) {
                self.incomplete(path, "read_error", format!("cannot decompress: {e}"));
                return;
            }
            if dhead.contains(&0) {
                self.skip(path, "binary");
                return;
            }
            (
                scan(self.engine, dhead, gz, self.opts.max_bytes),
                "decompressed bytes",
            )
        } else if let Some(fmt) = compressed_format(&head) {
            self.incomplete(
                path,
                "compressed",
                format!("{fmt}-compressed: not read (decompress it to audit it)"),
            );
            return;
        } else if head.contains(&0) {
            self.skip(path, "binary");
            return;
        } else {
            (scan(self.engine, head, f, self.opts.max_bytes), "bytes")
        };
        self.summary.bytes_scanned += result.bytes;
        let complete = !result.truncated && result.error.is_none();
        let names = self.engine.type_names();
        let mut found = Vec::new();
        for (type_id, t) in result.types.iter().enumerate() {
            if t.count == 0 {
                continue;
            }
            let lines: Vec<String> = t.first_lines.iter().map(|l| l.to_string()).collect();
            found.push((
                Kind::ResidualPii {
                    pii_type: names[type_id].clone(),
                    count: t.count,
                    first_lines: t.first_lines.clone(),
                    bytes_scanned: result.bytes,
                    complete,
                },
                format!(
                    "{} x{} (first lines {})",
                    names[type_id],
                    t.count,
                    lines.join(", ")
                ),
            ));
        }
        for (kind, msg) in found {
            self.find(Check::Pii, path, kind, msg);
        }
        if result.truncated {
            self.incomplete(
                path,
                "truncated",
                format!(
                    "scanned the first {} {what} of a {}-byte file (raise --max-bytes, 0 = no limit)",
                    result.bytes,
                    md.len()
                ),
            );
        }
        if let Some(e) = result.error {
            self.incomplete(
                path,
                "read_error",
                format!("read stopped after {} {what}: {e}", result.bytes),
            );
        }
    }
}

/// Whether `payload` (nonce included) is a length an age STREAM payload can have: a nonce, then chunks of
/// 64 KiB + tag, the last one shorter, and empty only when it is the only one.
fn age_payload_len_ok(payload: u64) -> bool {
    let Some(chunks) = payload.checked_sub(AGE_NONCE) else {
        return false;
    };
    if chunks < AGE_TAG {
        return false;
    }
    let last = chunks % AGE_CHUNK;
    if last == 0 {
        return true; // the last chunk is full
    }
    last > AGE_TAG || (last == AGE_TAG && chunks == AGE_TAG)
}

fn is_config(name: &str, head: &[u8]) -> bool {
    (name.ends_with(".yaml") || name.ends_with(".yml"))
        && head
            .split(|&b| b == b'\n')
            .any(|l| l.starts_with(b"privacy:") || l.starts_with(b"logveil:"))
}

fn is_key(name: &str, head: &[u8]) -> bool {
    const SSH: [&str; 6] = [
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "id_ecdsa_sk",
        "id_ed25519_sk",
    ];
    if SSH.contains(&name) || name.ends_with(".key") {
        return true;
    }
    // The first line that is not a comment or blank starts the key.
    let first = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .find(|l| !l.is_empty() && !l.starts_with(b"#"));
    first.is_some_and(|l| {
        l.starts_with(b"AGE-SECRET-KEY-")
            || (l.starts_with(b"-----BEGIN ") && l.ends_with(b"PRIVATE KEY-----"))
    })
}

fn compressed_format(head: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 5] = [
        (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz"),
        (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
        (b"BZh", "bzip2"),
        (b"PK\x03\x04", "zip"),
        (&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c], "7z"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| head.starts_with(m))
        .map(|(_, n)| *n)
}

struct Counting<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// Per-type result of a PII scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeHits {
    pub count: u64,
    /// The first [`FIRST_LINES`] distinct 1-based line numbers with a detection.
    pub first_lines: Vec<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct ScanResult {
    /// By type id (see [`Engine::type_names`]).
    pub types: Vec<TypeHits>,
    pub bytes: u64,
    /// Stopped at the byte limit with more input left.
    pub truncated: bool,
    /// A read error that stopped the scan (what was read before it is counted).
    pub error: Option<String>,
}

/// Look-behind kept for the validators' context checks (as the streaming redactor keeps).
const CONTEXT: usize = 256;
const READ: usize = 256 << 10;

/// Scans `head` then the rest of `rest` with `engine`, in bounded memory, reading at most `max_bytes`.
/// Reports types, counts and line numbers; never the matched bytes.
pub fn scan<R: Read>(
    engine: &Engine,
    head: Vec<u8>,
    rest: R,
    max_bytes: Option<u64>,
) -> ScanResult {
    let mut res = ScanResult {
        types: vec![TypeHits::default(); engine.type_names().len()],
        ..ScanResult::default()
    };
    let cap = max_bytes.unwrap_or(u64::MAX);
    let mut reader = io::Cursor::new(head).chain(rest);
    let mut buf: Vec<u8> = Vec::with_capacity(READ + CONTEXT);
    let mut ctx = 0usize; // buf[..ctx] was scanned and is context
    let mut counted = 0usize; // newlines in buf[..counted] are in `line`
    let mut line: u64 = 1;
    let mut st = ChunkState::default();
    let mut eof = false;
    loop {
        if !eof {
            let room = cap - res.bytes;
            if room == 0 {
                let mut probe = [0u8; 1];
                loop {
                    match reader.read(&mut probe) {
                        Ok(n) => {
                            res.truncated = n > 0;
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => {
                            res.truncated = true;
                            break;
                        }
                    }
                }
                eof = true;
            } else {
                let start = buf.len();
                let want = (READ as u64).min(room) as usize;
                buf.resize(start + want, 0);
                match read_some(&mut reader, &mut buf[start..]) {
                    Ok(0) => {
                        buf.truncate(start);
                        eof = true;
                    }
                    Ok(n) => {
                        buf.truncate(start + n);
                        res.bytes += n as u64;
                    }
                    Err(e) => {
                        buf.truncate(start);
                        res.error = Some(e.to_string());
                        eof = true;
                    }
                }
            }
        }
        let cut = if eof {
            buf.len()
        } else if let Some(i) = memchr::memrchr(b'\n', &buf[ctx..]) {
            ctx + i + 1
        } else if buf.len() - ctx >= MAX_LINE + HOLD {
            buf.len() - HOLD
        } else {
            continue;
        };
        if cut > ctx {
            let types = &mut res.types;
            let done = engine.scan(&buf, ctx, cut, &mut st, |h: &Hit| {
                line += memchr::memchr_iter(b'\n', &buf[counted..h.start]).count() as u64;
                counted = h.start;
                let t = &mut types[h.type_id];
                t.count += 1;
                if t.first_lines.len() < FIRST_LINES && t.first_lines.last() != Some(&line) {
                    t.first_lines.push(line);
                }
                h.end
            });
            let done = done.min(buf.len());
            line += memchr::memchr_iter(b'\n', &buf[counted..done]).count() as u64;
            let keep_from = done.saturating_sub(CONTEXT);
            buf.drain(..keep_from);
            ctx = done - keep_from;
            counted = ctx;
        }
        if eof {
            return res;
        }
    }
}

fn read_some<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::EngineConfig;

    fn engine() -> Engine {
        Engine::new(&EngineConfig::default()).unwrap()
    }

    fn phone_id(e: &Engine) -> usize {
        e.type_names().iter().position(|t| t == "phone").unwrap()
    }

    #[test]
    fn scan_counts_and_reports_first_lines() {
        let e = engine();
        let text = b"ok\ncall 13812345678 now\nnothing\n13912345678 and 13712345678\n".to_vec();
        let r = scan(&e, text, io::empty(), None);
        let p = &r.types[phone_id(&e)];
        assert_eq!(p.count, 3);
        assert_eq!(p.first_lines, vec![2, 4]);
        assert!(!r.truncated);
    }

    #[test]
    fn scan_finds_values_across_read_boundaries_and_counts_lines_right() {
        let e = engine();
        let mut text = Vec::new();
        let mut expected_lines = Vec::new();
        let mut line = 1u64;
        // Lines of varied length so some phones straddle the 256 KiB read size.
        while text.len() < 3 * READ {
            if line.is_multiple_of(997) {
                text.extend_from_slice(b"user phone 13812345678 end\n");
                expected_lines.push(line);
            } else {
                text.extend_from_slice(&vec![b'x'; (line as usize * 7) % 300]);
                text.push(b'\n');
            }
            line += 1;
        }
        let (head, rest) = text.split_at(100);
        let r = scan(&e, head.to_vec(), rest, None);
        let p = &r.types[phone_id(&e)];
        assert_eq!(p.count as usize, expected_lines.len());
        assert_eq!(p.first_lines, expected_lines[..FIRST_LINES].to_vec());
        assert_eq!(r.bytes as usize, text.len());
    }

    #[test]
    fn scan_stops_at_the_limit_and_says_so() {
        let e = engine();
        let text = b"a 13812345678\nb 13912345678\n".to_vec();
        let r = scan(&e, Vec::new(), &text[..], Some(15));
        assert!(r.truncated);
        assert_eq!(r.bytes, 15);
        assert_eq!(r.types[phone_id(&e)].count, 1);
        let r = scan(&e, Vec::new(), &text[..], Some(text.len() as u64));
        assert!(!r.truncated, "exactly the limit is complete");
    }

    #[test]
    fn age_payload_lengths() {
        assert!(!age_payload_len_ok(0));
        assert!(!age_payload_len_ok(16));
        assert!(
            age_payload_len_ok(32),
            "empty plaintext: one empty final chunk"
        );
        assert!(age_payload_len_ok(16 + 16 + 100));
        assert!(age_payload_len_ok(16 + AGE_CHUNK));
        assert!(age_payload_len_ok(16 + AGE_CHUNK + 17));
        assert!(
            !age_payload_len_ok(16 + AGE_CHUNK + 16),
            "empty final chunk after a full one"
        );
        assert!(!age_payload_len_ok(16 + AGE_CHUNK + 5));
    }

    #[test]
    fn key_and_config_files_are_recognised() {
        assert!(is_key("id_ed25519", b""));
        assert!(!is_key("id_ed25519.pub", b"ssh-ed25519 AAAA"));
        assert!(is_key(
            "x.txt",
            b"# created: 2026\n# public key: age1xyz\nAGE-SECRET-KEY-1ABC\n"
        ));
        assert!(is_key("k", b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n"));
        // A log line that quotes a key is PII-scanned, not treated as a key file.
        assert!(!is_key(
            "bot.log",
            b"12:00 got -----BEGIN PRIVATE KEY-----\n"
        ));
        assert!(is_config(
            "logveil.yaml",
            b"# x\nprivacy:\n  pii_detection: {}\n"
        ));
        assert!(!is_config("other.yaml", b"services:\n  web: {}\n"));
        assert!(!is_config("privacy.txt", b"privacy:\n"));
    }
}
