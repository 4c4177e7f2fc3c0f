//! The audit's report: checks, findings and their kinds, what was not checked completely, and the text and
//! JSON renderings.

use std::collections::BTreeMap;

use serde::Serialize;

/// Version of the JSON report's schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Permissions,
    Pii,
    Retention,
    Encryption,
    Leftovers,
    Tls,
}

impl Check {
    pub const ALL: [Check; 6] = [
        Check::Permissions,
        Check::Pii,
        Check::Retention,
        Check::Encryption,
        Check::Leftovers,
        Check::Tls,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Check::Permissions => "permissions",
            Check::Pii => "pii",
            Check::Retention => "retention",
            Check::Encryption => "encryption",
            Check::Leftovers => "leftovers",
            Check::Tls => "tls",
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
    /// encryption: a SQLite database with the plain header (not SQLCipher), or the `-wal`, `-journal` or
    /// `-shm` file of one. `part` is "database", "wal", "journal" or "shm".
    PlaintextDatabase { part: String, size_bytes: u64 },
    /// leftovers: a plaintext copy a sealed setup should not have; `reason` says which kind.
    Leftover {
        #[serde(flatten)]
        leftover: Leftover,
    },
    /// tls: the endpoint could not be reached (name not resolved, connection refused, timeout).
    TlsUnreachable { error: String },
    /// tls: connected, but no TLS session (not TLS, or no protocol or cipher in common).
    TlsHandshakeFailed { error: String },
    /// tls: the endpoint accepts a client that offers nothing newer than `protocol` (TLSv1.0, TLSv1.1 or
    /// SSLv3), whatever it negotiates with a modern client.
    TlsOldProtocol { protocol: String },
    /// tls: the certificate's notAfter is past.
    TlsCertExpired { not_after: String },
    /// tls: the certificate's notBefore is still to come.
    TlsCertNotYetValid { not_before: String },
    /// tls: the certificate expires within `warning`.
    TlsCertExpiring {
        not_after: String,
        days_left: i64,
        warning: String,
    },
    /// tls: the certificate is not valid for the name connected to.
    TlsNameMismatch { name: String },
    /// tls: the certificate does not chain to `trusted_by` (the system roots or the CA file).
    TlsUntrusted { trusted_by: String, error: String },
}

/// Why a file is a leftover (the `reason` of a `leftover` finding), with its own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Leftover {
    /// A rotated copy (`output.log.1`, `output.log-20261125`, plain or `.gz`) of a log whose stream is sealed
    /// in `sealed_in`: its own directory or the config's segment directory.
    RotatedLog { stream: String, sealed_in: String },
    /// A `gpg --symmetric` file with what looks like its passphrase file beside it.
    GpgWithPassphrase { passphrase_file: String },
    /// A match of one of `logveil.audit.temp_globs`.
    TempFile { glob: String },
}

/// What `audit --tls` learned about one endpoint (also when there is no finding).
#[derive(Debug, Clone, Default, Serialize)]
pub struct TlsEndpointReport {
    /// As given: `HOST:PORT`.
    pub endpoint: String,
    /// The address connected to.
    pub address: Option<String>,
    /// Negotiated by a modern client (rustls, TLS 1.2 or 1.3): `TLSv1.3`, `TLSv1.2`.
    pub protocol: Option<String>,
    /// IANA-style name, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: Option<String>,
    /// The newest protocol below TLS 1.2 the endpoint accepts, if any.
    pub legacy_protocol: Option<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    /// Whole days until notAfter (negative once expired).
    pub days_left: Option<i64>,
    /// `system roots` or `CA file PATH`.
    pub trusted_by: String,
    pub chain_valid: Option<bool>,
    pub name_valid: Option<bool>,
    /// Why the endpoint could not be checked completely, if it could not.
    pub error: Option<String>,
}

/// A file or directory that could not be checked completely (makes the audit exit 1).
#[derive(Debug, Clone, Serialize)]
pub struct Incomplete {
    pub path: String,
    /// `unreadable`, `truncated`, `compressed`, `read_error`, `pii_check_disabled` or `tls_probe`.
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
    /// Findings per check; every check's key always present.
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
    /// One entry per TLS endpoint checked (absent when none was).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls: Vec<TlsEndpointReport>,
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes")
    }

    /// The readable report: one line per finding, incomplete or skipped file, then a summary.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut what = self.paths.clone();
        what.extend(self.tls.iter().map(|t| format!("tls {}", t.endpoint)));
        out.push_str(&format!(
            "logveil audit of {} as of {}\n",
            what.join(", "),
            self.as_of
        ));
        for t in &self.tls {
            out.push_str(&format!(
                "{:<12} {}: {}\n",
                "endpoint",
                t.endpoint,
                t.describe()
            ));
        }
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

impl TlsEndpointReport {
    /// One line: what was negotiated and what the certificate is.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match (&self.protocol, &self.cipher) {
            (Some(p), Some(c)) => parts.push(format!("{p} {c}")),
            _ if self.address.is_none() => {}
            _ => parts.push("no TLS 1.2/1.3 session".to_string()),
        }
        if let Some(l) = &self.legacy_protocol {
            parts.push(format!("also accepts {l}"));
        }
        match (&self.not_after, self.days_left) {
            (Some(na), Some(d)) if d < 0 => {
                parts.push(format!("certificate expired {na} ({} days ago)", -d))
            }
            (Some(na), Some(d)) => parts.push(format!("certificate valid until {na} ({d} days)")),
            _ => {}
        }
        match self.chain_valid {
            Some(true) => parts.push(format!("chains to {}", self.trusted_by)),
            Some(false) => parts.push(format!("does not chain to {}", self.trusted_by)),
            None => {}
        }
        match self.name_valid {
            Some(true) => parts.push("name matches".into()),
            Some(false) => parts.push("name does not match".into()),
            None => {}
        }
        if let Some(e) = &self.error {
            parts.push(e.clone());
        }
        parts.join("; ")
    }
}
