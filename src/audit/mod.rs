//! `logveil audit`: a privacy audit of paths, from names, modes, metadata and file headers, plus a PII scan
//! of plaintext, and of TLS endpoints when asked. Never decrypts anything; never reports a matched value
//! (types, counts and line numbers only); makes no network connection unless endpoints are given.
//!
//! Six checks. The first five run over every file and directory under each PATH (symlinks are not
//! followed below a PATH):
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
//!    the payload mostly leaves a possible length, and only decryption, in `cat`, sees it); no `.partial`
//!    is older than `max_segment_age` (plus [`PARTIAL_GRACE`]); no plaintext older than one rotation is
//!    left in a sealed log directory; no SQLite database is stored in plaintext.
//!    A *sealed log directory* is the config's segment directory, or any directory that holds a sealed (or
//!    truncated) logveil segment: logveil seals there, so whatever else is kept there should have been sealed
//!    or removed. *One rotation* is `logveil.segments.max_segment_age` (default 1h): the longest a segment
//!    stays open. *Plaintext* there is any regular file that is not a segment, not `*.age`, not a key or
//!    config file and not the privacy log; it is a finding once its mtime is older than one rotation.
//!    A *plaintext database* begins with SQLite's header (`SQLite format 3\0`; SQLCipher encrypts it with
//!    the rest of the first page); its `-wal`, `-journal` and `-shm` files are findings too when it is.
//!    Only those 16 bytes are read: never a row.
//! 5. leftovers: rotated plaintext copies of sealed logs, gpg files with their passphrase beside them, and
//!    the bot's temporary files (`logveil.audit.temp_globs`, wherever they are); see `audit/leftovers.rs`.
//! 6. tls: each endpoint of `--tls` / `logveil.audit.tls`; see [`tls`].
//!
//! The result is a [`Report`], printed as text or JSON (schema version [`SCHEMA_VERSION`], see README).

mod leftovers;
mod report;
mod scan;
mod sniff;
pub mod tls;

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use crate::config::Config;
use crate::redact::Engine;
use crate::retention::{older_than, rules_from_config, Rule, DEFAULT_PRIVACY_LOG_NAME};
use crate::sink::name::{SegmentName, SegmentState};
use crate::units::format_duration;

pub use report::{
    Check, Finding, Incomplete, Kind, Leftover, Report, Skipped, Summary, TlsEndpointReport,
    SCHEMA_VERSION,
};
pub use scan::{scan, ScanResult, TypeHits};
use sniff::{
    age_payload_len_ok, compressed_format, is_config, is_gpg_symmetric, is_key, sqlite_companion,
    Counting, AGE_NONCE, SQLITE_HEADER,
};

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

/// An audit that could not run. Findings are not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    #[error("audit: {}", path.display())]
    Path { path: PathBuf, source: io::Error },
    #[error("audit: retention rule: {0}")]
    Rule(#[from] crate::retention::RetentionError),
    #[error("audit: {0}")]
    Tls(String),
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

/// Runs the audit. `engine` must be built from `cfg.redaction` (the same engine `redact` uses).
pub fn audit(cfg: &Config, engine: &Engine, opts: &AuditOptions) -> Result<Report, AuditError> {
    let rules = rules_from_config(&cfg.retention)?;
    // A CA file that cannot be used is an error before anything is read or connected to.
    let trust = if cfg.audit.tls.is_empty() {
        None
    } else {
        Some(tls::Trust::load(cfg.audit.tls_ca_file.as_deref()).map_err(AuditError::Tls)?)
    };
    let file_id = |p: &Path| fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let segment_dir = cfg
        .segments
        .out_dir
        .as_deref()
        .and_then(|d| std::path::absolute(d).ok());
    let mut a = Auditor {
        cfg,
        engine,
        opts,
        rules,
        sealed_streams: segment_dir
            .as_deref()
            .map(leftovers::sealed_streams)
            .unwrap_or_default(),
        segment_dir,
        config_id: opts.config_file.as_deref().and_then(file_id),
        hash_key_id: cfg.hash_key_file.as_deref().and_then(file_id),
        privacy_log_id: cfg.retention.privacy_log.as_deref().and_then(file_id),
        findings: Vec::new(),
        incomplete: Vec::new(),
        skipped: Vec::new(),
        notes: Vec::new(),
        tls: Vec::new(),
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
    a.temp_files();
    if let Some(trust) = trust {
        a.notes.extend(trust.notes.iter().cloned());
        let judge = tls::Judge {
            trust: &trust,
            now: opts.now,
            warning: cfg.audit.tls_expiry_warning,
        };
        for ep in &cfg.audit.tls {
            let checked = tls::check(ep, &judge);
            let at = PathBuf::from(ep.to_string());
            for (kind, message) in checked.findings {
                a.find(Check::Tls, &at, kind, message);
            }
            if let Some(message) = checked.incomplete {
                a.incomplete(&at, "tls_probe", message);
            }
            a.tls.push(checked.report);
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
    /// Streams with sealed segments in `segment_dir`.
    sealed_streams: BTreeSet<String>,
    config_id: Option<(u64, u64)>,
    /// The config's hash key file: judged as logveil reads it (0640 root:GROUP passes).
    hash_key_id: Option<(u64, u64)>,
    privacy_log_id: Option<(u64, u64)>,
    findings: Vec<Finding>,
    incomplete: Vec<Incomplete>,
    skipped: Vec<Skipped>,
    notes: Vec<String>,
    tls: Vec<TlsEndpointReport>,
    summary: Summary,
}

fn show(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn mode_str(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

/// Whether `path` begins with the plain SQLite header (reads 16 bytes; nothing if it cannot be read).
fn is_plain_sqlite(path: &Path) -> bool {
    let mut head = [0u8; 16];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == SQLITE_HEADER)
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
            tls: self.tls,
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
            None => crate::sink::dir::list(dir).is_ok_and(|listed| {
                listed
                    .iter()
                    .any(|l| l.is_file() && l.name.state != SegmentState::Partial)
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
            Some(_) if id == self.hash_key_id && crate::config::key_file_mode_ok(md) => {}
            Some(s) => self.secret_mode(path, md, s),
            None => self.open_to_others(path, md.permissions().mode(), "file"),
        }

        // Retention rules cover every file but segments by mtime (as `logveil retention` deletes them).
        let is_age = name.ends_with(".age");
        let is_privacy_log = id == self.privacy_log_id || name == DEFAULT_PRIVACY_LOG_NAME;
        // A segment writer's lock file is empty and holds nothing.
        let is_lock = md.len() == 0 && crate::sink::name::is_lock_file_name(&name);
        // A seal's journal names a source file and segments, no content.
        let is_lock = is_lock || crate::sink::name::is_seal_journal_name(&name, None);
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

        let db_part = if head.starts_with(SQLITE_HEADER) {
            Some("database")
        } else {
            sqlite_companion(&name)
                .filter(|(db, _)| is_plain_sqlite(&path.with_file_name(db)))
                .map(|(_, part)| part)
        };
        if let Some(part) = db_part {
            let what = match part {
                "database" => "SQLite database",
                "wal" => "write-ahead log of a plaintext SQLite database",
                "journal" => "rollback journal of a plaintext SQLite database",
                _ => "shared-memory file of a plaintext SQLite database",
            };
            self.find(
                Check::Encryption,
                path,
                Kind::PlaintextDatabase {
                    part: part.into(),
                    size_bytes: md.len(),
                },
                format!(
                    "{what} in plaintext ({} bytes): not encrypted (SQLCipher has no plain header)",
                    md.len()
                ),
            );
        }
        if secret.is_none() {
            self.leftovers(path, &name, &head, in_sealed_dir);
        }

        if is_age {
            self.age_header(path, md, head, f);
        } else if db_part.is_some() {
            // A database's rows are never read: its header is the finding.
        } else if secret != Some("key") {
            // A key file holds a secret by design; its mode is what matters.
            self.pii(path, md, head, f);
        }
    }

    /// Rotated copies of sealed streams, and gpg files with their passphrase beside them.
    fn leftovers(&mut self, path: &Path, name: &str, head: &[u8], in_sealed_dir: bool) {
        if let Some(stream) = leftovers::rotated_stream(name) {
            let (sealed_in, why) = if in_sealed_dir {
                (path.parent(), "beside sealed segments")
            } else if self.sealed_streams.contains(&stream) {
                (self.segment_dir.as_deref(), "its stream is sealed in")
            } else {
                (None, "")
            };
            if let Some(dir) = sealed_in.map(Path::to_path_buf) {
                self.find(
                    Check::Leftovers,
                    path,
                    Kind::Leftover {
                        leftover: Leftover::RotatedLog {
                            stream: stream.clone(),
                            sealed_in: show(&dir),
                        },
                    },
                    format!(
                        "rotated plaintext copy of {stream}, {why} {}: seal it (logveil seal) or remove it",
                        dir.display()
                    ),
                );
            }
        }
        if is_gpg_symmetric(head) {
            if let Some(pass) = leftovers::passphrase_file_beside(path) {
                self.find(
                    Check::Leftovers,
                    path,
                    Kind::Leftover {
                        leftover: Leftover::GpgWithPassphrase {
                            passphrase_file: show(&pass),
                        },
                    },
                    format!(
                        "gpg --symmetric file with a passphrase file beside it ({}): the encryption protects nothing",
                        pass.display()
                    ),
                );
            }
        }
    }

    /// Matches of `logveil.audit.temp_globs`, wherever they are.
    fn temp_files(&mut self) {
        for (p, glob) in leftovers::temp_matches(&self.cfg.audit.temp_globs) {
            let what = match fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => "directory",
                Ok(m) if m.file_type().is_symlink() => "symlink",
                _ => "file",
            };
            self.find(
                Check::Leftovers,
                &p,
                Kind::Leftover {
                    leftover: Leftover::TempFile { glob: glob.clone() },
                },
                format!("temporary {what} left by the bot (matches {glob}): remove it"),
            );
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
