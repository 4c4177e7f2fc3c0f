//! The YAML config: the seed's `privacy:` block as users already have it, plus our own `logveil:` block.
//!
//! Loading goes YAML text -> tree -> `${ENV}` expansion -> typed raw structs -> validated [`Config`].
//! Unknown keys inside the seed's blocks are accepted and reported as notes (the seed has keys logveil does
//! not use); unknown keys inside `logveil:` are errors, because there a typo would silently change
//! behaviour. Hash keys are never taken from the YAML text itself: only an env var name or a 0600 file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_norway::Value;

pub use crate::redact::actions::DEFAULT_REPLACEMENT;
use crate::redact::actions::{ActionKind, ActionSpec, HashKey};
use crate::redact::patterns::BUILTIN_DETECTORS;
use crate::redact::UserPattern;
use crate::redact::{EngineConfig, EngineError};
pub use crate::sink::segment::{
    DEFAULT_GZIP_LEVEL, DEFAULT_MAX_SEGMENT_AGE, DEFAULT_MAX_SEGMENT_BYTES,
};
use crate::units::{parse_duration, parse_positive_duration, parse_size};
pub const DEFAULT_RETENTION_DAYS: u64 = 90;
pub const DEFAULT_RETENTION_INTERVAL: Duration = Duration::from_secs(3600);
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Env var read for the `hash` action's key when the config names none.
pub const DEFAULT_HASH_KEY_ENV: &str = "LOGVEIL_HASH_KEY";
/// `audit --tls`: a certificate that expires within this is a finding.
pub const DEFAULT_TLS_EXPIRY_WARNING: Duration = Duration::from_secs(14 * 86_400);

/// A config problem: what and where, never a matched value.
#[derive(Debug)]
pub struct ConfigError {
    /// The config file, when there is one.
    pub file: Option<PathBuf>,
    /// The key path, e.g. `privacy.pii_detection.patterns[2].regex`.
    pub at: String,
    pub message: String,
    /// One line saying what to do, for mistakes a user can fix.
    pub hint: Option<String>,
}

impl ConfigError {
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            file: None,
            at: at.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config")?;
        if let Some(file) = &self.file {
            write!(f, " {}", file.display())?;
        }
        if !self.at.is_empty() {
            write!(f, ": {}", self.at)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// An engine that cannot be built, as a config error pointing at the pattern.
impl From<EngineError> for ConfigError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::InvalidPattern {
                index,
                type_name,
                message,
                column,
                hint,
            } => {
                let e = ConfigError::new(
                    format!("privacy.pii_detection.patterns[{index}].regex"),
                    format!("pattern {type_name:?}: {message} at column {column}"),
                );
                match hint {
                    Some(h) => e.with_hint(h),
                    None => e,
                }
            }
            EngineError::TooBig(msg) => ConfigError::new(
                "privacy.pii_detection.patterns",
                format!("the patterns make a DFA too large ({msg})"),
            )
            .with_hint(
                "large counted repetitions such as {1000} multiply DFA states; use a smaller bound or +",
            ),
            EngineError::PatternTooBig {
                index,
                type_name,
                message,
            } => ConfigError::new(
                format!("privacy.pii_detection.patterns[{index}].regex"),
                format!("pattern {type_name:?} is too large ({message})"),
            )
            .with_hint(
                "large or nested counted repetitions such as {1000} or {100}{100} multiply states; use a smaller bound or +",
            ),
            EngineError::Build(msg) => ConfigError::new("privacy.pii_detection.patterns", msg),
        }
    }
}

/// The built-in defaults with the current year as the latest real birth year (the clock is read here, once,
/// when the configuration is made: redaction itself reads no clock).
impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig::with_defaults(current_year())
    }
}

/// The validated configuration every command starts from.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was loaded from (None: built-in defaults).
    pub source: Option<PathBuf>,
    pub redaction: EngineConfig,
    pub segments: SegmentConfig,
    pub tail: TailConfig,
    pub retention: RetentionConfig,
    pub metrics_file: Option<PathBuf>,
    pub audit: AuditConfig,
    /// `logveil.hash_key_file`, as named (whether it could be read or not).
    pub hash_key_file: Option<PathBuf>,
    /// The environment variable the hash key is read from when no key file is named
    /// (`logveil.hash_key_env`, default `LOGVEIL_HASH_KEY`).
    pub hash_key_env: String,
    /// `logveil ship`: where finished segments go off the host (`logveil.ship`).
    pub ship: crate::ship::ShipConfig,
    pub cache: CacheConfig,
    /// Keys that were accepted but are not used by logveil, and other remarks for the user.
    pub notes: Vec<String>,
}

/// The compiled-pattern cache (`logveil.cache`; see src/dfa_cache.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// False: the DFA of user patterns is built at every start.
    pub enabled: bool,
    /// Where (default: `$CACHE_DIRECTORY`, `$XDG_CACHE_HOME/logveil` or `~/.cache/logveil`).
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct SegmentConfig {
    /// Directory for sealed segments.
    pub out_dir: Option<PathBuf>,
    /// age recipients (public keys) given in the config.
    pub recipients: Vec<String>,
    /// Files with recipients, one per line.
    pub recipients_files: Vec<PathBuf>,
    /// gzip level 0-9; higher compresses better and costs CPU.
    pub gzip_level: u32,
    /// A segment is finished once it holds this many bytes of (redacted) input.
    pub max_segment_bytes: u64,
    /// A segment is finished once its first record is this old, even if the stream is quiet.
    pub max_segment_age: Duration,
}

#[derive(Debug, Clone)]
pub struct TailConfig {
    pub state_dir: Option<PathBuf>,
    pub poll_interval: Duration,
    /// Follow a source that is a symlink out of its directory (`logveil.tail.follow_symlinks`, default
    /// false: only a link to a file in the same directory is followed).
    pub follow_symlinks: bool,
}

#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// Segments whose last record is older than this are deleted (`data_retention.logs.retention_days`).
    pub segment_max_age: Duration,
    /// Whether scheduled deletion runs at all (`auto_rotate`/`auto_delete` false turns it off).
    pub auto_delete: bool,
    /// Optional quota over all segments of a directory: the oldest go first.
    pub max_total_bytes: Option<u64>,
    /// How often `pipe` and `tail` apply retention in-process.
    pub interval: Duration,
    /// Append-only log of every deletion.
    pub privacy_log: Option<PathBuf>,
    /// Extra rules for other plaintext data (path glob + max age by mtime).
    pub rules: Vec<PlaintextRule>,
}

/// What `logveil audit` looks at besides its PATHs.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Globs of the bot's temporary files (`/tmp/clawdbot-*`): every match is a leftover.
    pub temp_globs: Vec<String>,
    /// TLS endpoints to check; the audit connects to nothing else.
    pub tls: Vec<TlsEndpoint>,
    /// PEM CA certificates the endpoints must chain to (None: the system roots).
    pub tls_ca_file: Option<PathBuf>,
    /// A certificate that expires within this is a finding.
    pub tls_expiry_warning: Duration,
}

/// `HOST:PORT` of a TLS endpoint (`[::1]:443` for an IPv6 address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsEndpoint {
    /// A DNS name or an IP address (without brackets).
    pub host: String,
    pub port: u16,
}

impl std::str::FromStr for TlsEndpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not HOST:PORT (e.g. localhost:443, [::1]:8443)");
        let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
        let host = match host.strip_prefix('[') {
            Some(h) => h.strip_suffix(']').ok_or_else(bad)?,
            None if host.contains(':') => return Err(bad()),
            None => host,
        };
        let port: u16 = port.parse().map_err(|_| bad())?;
        if host.is_empty() || port == 0 || host.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(bad());
        }
        Ok(TlsEndpoint {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for TlsEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaintextRule {
    pub path: String,
    pub max_age: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            source: None,
            redaction: EngineConfig::default(),
            segments: SegmentConfig {
                out_dir: None,
                recipients: Vec::new(),
                recipients_files: Vec::new(),
                gzip_level: DEFAULT_GZIP_LEVEL,
                max_segment_bytes: DEFAULT_MAX_SEGMENT_BYTES,
                max_segment_age: DEFAULT_MAX_SEGMENT_AGE,
            },
            tail: TailConfig {
                state_dir: None,
                poll_interval: DEFAULT_POLL_INTERVAL,
                follow_symlinks: false,
            },
            retention: RetentionConfig {
                segment_max_age: Duration::from_secs(DEFAULT_RETENTION_DAYS * 86_400),
                auto_delete: true,
                max_total_bytes: None,
                interval: DEFAULT_RETENTION_INTERVAL,
                privacy_log: None,
                rules: Vec::new(),
            },
            metrics_file: None,
            audit: AuditConfig {
                temp_globs: Vec::new(),
                tls: Vec::new(),
                tls_ca_file: None,
                tls_expiry_warning: DEFAULT_TLS_EXPIRY_WARNING,
            },
            hash_key_file: None,
            hash_key_env: DEFAULT_HASH_KEY_ENV.to_string(),
            ship: crate::ship::ShipConfig::default(),
            cache: CacheConfig {
                enabled: true,
                dir: None,
            },
            notes: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Raw YAML shapes. Seed blocks keep unknown keys in `extra` (reported as notes); ours deny them.

#[derive(Debug, Default, Deserialize)]
struct RawRoot {
    #[serde(default)]
    privacy: Option<RawPrivacy>,
    #[serde(default)]
    logveil: Option<RawLogveil>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawPrivacy {
    #[serde(default)]
    pii_detection: Option<RawPiiDetection>,
    #[serde(default)]
    log_redaction: Option<RawLogRedaction>,
    #[serde(default)]
    data_retention: Option<RawDataRetention>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawPiiDetection {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    patterns: Vec<RawPattern>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
struct RawPattern {
    #[serde(rename = "type")]
    kind: Option<String>,
    regex: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    replacement: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    /// Run the built-in validator of a known type (phone, id_card, bank_card, ...) on matches.
    #[serde(default)]
    validate: Option<bool>,
    #[serde(default)]
    mask: Option<RawMask>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawLogRedaction {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    replacement: Option<String>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawDataRetention {
    #[serde(default)]
    conversation_history: Option<RawConversationHistory>,
    #[serde(default)]
    logs: Option<RawLogsRetention>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawConversationHistory {
    #[serde(default)]
    max_age_days: Option<u64>,
    #[serde(default)]
    auto_delete: Option<bool>,
    /// Our extension: where the conversation history lives (globs).
    #[serde(default)]
    paths: Vec<String>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
struct RawLogsRetention {
    #[serde(default)]
    pii_fields: Option<String>,
    #[serde(default)]
    retention_days: Option<u64>,
    #[serde(default)]
    auto_rotate: Option<bool>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogveil {
    /// Built-in detectors by name: `false` turns one off, a map sets its action.
    #[serde(default)]
    detectors: BTreeMap<String, RawDetector>,
    /// Env var holding the key of the `hash` action (default LOGVEIL_HASH_KEY).
    #[serde(default)]
    hash_key_env: Option<String>,
    /// File holding the key of the `hash` action; must be mode 0600.
    #[serde(default)]
    hash_key_file: Option<PathBuf>,
    #[serde(default)]
    segments: Option<RawSegments>,
    #[serde(default)]
    tail: Option<RawTail>,
    #[serde(default)]
    retention: Option<RawRetention>,
    #[serde(default)]
    metrics_file: Option<PathBuf>,
    #[serde(default)]
    audit: Option<RawAudit>,
    #[serde(default)]
    ship: Option<crate::ship::RawShip>,
    cache: Option<RawCache>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    #[serde(default)]
    temp_globs: Vec<String>,
    #[serde(default)]
    tls: Vec<String>,
    #[serde(default)]
    tls_ca_file: Option<PathBuf>,
    #[serde(default)]
    tls_expiry_warning: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    dir: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawDetector {
    Enabled(bool),
    Full(RawDetectorFull),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDetectorFull {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    replacement: Option<String>,
    #[serde(default)]
    mask: Option<RawMask>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMask {
    #[serde(default)]
    keep_prefix: Option<usize>,
    #[serde(default)]
    keep_suffix: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegments {
    #[serde(default)]
    dir: Option<PathBuf>,
    #[serde(default)]
    recipients: Vec<String>,
    #[serde(default)]
    recipients_file: Vec<PathBuf>,
    #[serde(default)]
    gzip_level: Option<u32>,
    #[serde(default)]
    max_segment_bytes: Option<SizeOrNumber>,
    #[serde(default)]
    max_segment_age: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTail {
    #[serde(default)]
    state_dir: Option<PathBuf>,
    #[serde(default)]
    poll_interval: Option<String>,
    #[serde(default)]
    follow_symlinks: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    #[serde(default)]
    max_age: Option<String>,
    #[serde(default)]
    max_total_bytes: Option<SizeOrNumber>,
    #[serde(default)]
    interval: Option<String>,
    #[serde(default)]
    privacy_log: Option<PathBuf>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    path: String,
    max_age: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SizeOrNumber {
    Number(u64),
    Text(String),
}

impl SizeOrNumber {
    fn bytes(&self, at: &str) -> Result<u64, ConfigError> {
        match self {
            SizeOrNumber::Number(n) => Ok(*n),
            SizeOrNumber::Text(t) => parse_size(t).map_err(|e| ConfigError::new(at, e)),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------

impl Config {
    /// Loads `path`, or returns the built-in defaults when `path` is None.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Config::from_yaml_str("").map(|mut c| {
                c.notes.clear();
                c
            });
        };
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: Some(path.to_path_buf()),
            at: String::new(),
            message: format!("cannot read: {e}"),
            hint: None,
        })?;
        let mut cfg = Config::from_yaml_str(&text).map_err(|mut e| {
            e.file = Some(path.to_path_buf());
            e
        })?;
        cfg.source = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Parses and validates YAML text (`${ENV}` references are expanded from the process environment).
    pub fn from_yaml_str(text: &str) -> Result<Config, ConfigError> {
        Self::from_yaml_str_with_env(text, &|name| std::env::var(name).ok())
    }

    /// As [`Config::from_yaml_str`], with the environment given as a function (for tests).
    pub fn from_yaml_str_with_env(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut tree: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_norway::from_str(text).map_err(|e| {
                let at = e
                    .location()
                    .map(|l| format!("line {} column {}", l.line(), l.column()))
                    .unwrap_or_default();
                ConfigError::new(at, format!("not valid YAML: {e}"))
            })?
        };
        expand_env(&mut tree, "", env)?;
        let raw: RawRoot = if tree.is_null() {
            RawRoot::default()
        } else {
            serde_path_to_error::deserialize(tree).map_err(|e| {
                let at = e.path().to_string();
                // serde quotes the value it did not expect (a secret key pasted as a scalar, say): hidden.
                ConfigError::new(
                    if at == "." { String::new() } else { at },
                    crate::secrets::hide_config_values(&e.into_inner().to_string()),
                )
            })?
        };
        build(raw, env)
    }

    /// Everything `config check` shows besides patterns: one line per setting.
    pub fn summary_lines(&self) -> Vec<String> {
        let s = &self.segments;
        let r = &self.retention;
        vec![
            format!("gzip_level: {}", s.gzip_level),
            format!("max_segment_bytes: {}", s.max_segment_bytes),
            format!(
                "max_segment_age: {}",
                crate::units::format_duration(s.max_segment_age)
            ),
            format!(
                "segment retention: {} (auto_delete: {})",
                crate::units::format_duration(r.segment_max_age),
                r.auto_delete
            ),
            format!(
                "recipients: {}",
                s.recipients.len() + s.recipients_files.len()
            ),
        ]
    }
}

fn note_extra(notes: &mut Vec<String>, at: &str, extra: &BTreeMap<String, Value>) {
    for key in extra.keys() {
        let path = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        notes.push(format!("{path}: not used by logveil (ignored)"));
    }
}

fn build(raw: RawRoot, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let mut cfg = Config::default();
    let notes = &mut cfg.notes;
    note_extra(notes, "", &raw.extra);
    let privacy = raw.privacy.unwrap_or_default();
    note_extra(notes, "privacy", &privacy.extra);
    let pii = privacy.pii_detection.unwrap_or_default();
    note_extra(notes, "privacy.pii_detection", &pii.extra);
    let log_red = privacy.log_redaction.unwrap_or_default();
    note_extra(notes, "privacy.log_redaction", &log_red.extra);
    let ours = raw.logveil.unwrap_or_default();

    // --- redaction
    let red = &mut cfg.redaction;
    red.detection_enabled = pii.enabled.unwrap_or(true);
    red.redaction_enabled = log_red.enabled.unwrap_or(true);
    if !red.detection_enabled {
        notes
            .push("privacy.pii_detection.enabled is false: nothing is detected or redacted".into());
    } else if !red.redaction_enabled {
        notes.push(
            "privacy.log_redaction.enabled is false: matches are counted, text is left as it is"
                .into(),
        );
    }
    if let Some(rep) = log_red.replacement {
        red.replacement = rep;
    }

    let mut wants_hash = false;
    for (name, raw_det) in &ours.detectors {
        let at = format!("logveil.detectors.{name}");
        let Some(setting) = red.detectors.iter_mut().find(|d| d.name == *name) else {
            let names: Vec<&str> = BUILTIN_DETECTORS.iter().map(|d| d.name).collect();
            return Err(ConfigError::new(at, "no built-in detector has this name")
                .with_hint(format!("built-in detectors: {}", names.join(", "))));
        };
        match raw_det {
            RawDetector::Enabled(on) => setting.enabled = *on,
            RawDetector::Full(full) => {
                if let Some(on) = full.enabled {
                    setting.enabled = on;
                }
                if let Some(action) = &full.action {
                    setting.action =
                        parse_action(action, full.replacement.clone(), full.mask, &at)?;
                } else if full.replacement.is_some() || full.mask.is_some() {
                    setting.action = ActionSpec {
                        kind: setting.action.kind,
                        replacement: full.replacement.clone(),
                        keep_prefix: full.mask.and_then(|m| m.keep_prefix),
                        keep_suffix: full.mask.and_then(|m| m.keep_suffix),
                    };
                }
            }
        }
        wants_hash |= setting.enabled && setting.action.kind == ActionKind::Hash;
    }

    for (i, p) in pii.patterns.into_iter().enumerate() {
        let at = format!("privacy.pii_detection.patterns[{i}]");
        note_extra(notes, &at, &p.extra);
        let kind = p
            .kind
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| ConfigError::new(format!("{at}.type"), "missing"))?;
        let regex = p
            .regex
            .ok_or_else(|| ConfigError::new(format!("{at}.regex"), "missing"))?;
        if !kind
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err(ConfigError::new(
                format!("{at}.type"),
                "use letters, digits, '_', '-' or '.' only",
            ));
        }
        let action = match &p.action {
            Some(a) => parse_action(a, p.replacement.clone(), p.mask, &format!("{at}.action"))?,
            None => ActionSpec {
                kind: ActionKind::Redact,
                replacement: p.replacement.clone(),
                keep_prefix: p.mask.and_then(|m| m.keep_prefix),
                keep_suffix: p.mask.and_then(|m| m.keep_suffix),
            },
        };
        let enabled = p.enabled.unwrap_or(true);
        wants_hash |= enabled && action.kind == ActionKind::Hash;
        red.patterns.push(UserPattern {
            index: i,
            kind,
            regex,
            action,
            enabled,
            validate: p.validate.unwrap_or(true),
        });
    }

    // The hash key: only from an env var or a 0600 file, never from the YAML text.
    let key_env = ours
        .hash_key_env
        .clone()
        .unwrap_or_else(|| DEFAULT_HASH_KEY_ENV.to_string());
    if let Some(file) = &ours.hash_key_file {
        match hash_key_from_file(file) {
            Ok(k) => red.hash_key = Some(k),
            // A key no action uses may be absent (the example config names the one the Debian package
            // generates); a key that is there must be private, and a key an action needs must be there.
            Err(_) if !wants_hash && !file.exists() => notes.push(format!(
                "logveil.hash_key_file: {} does not exist; no action needs it",
                file.display()
            )),
            Err(e) => {
                return Err(ConfigError::new("logveil.hash_key_file", e)
                    .with_hint("create it with: head -c 32 /dev/urandom > FILE && chmod 600 FILE"))
            }
        }
    } else if let Some(value) = env(&key_env) {
        red.hash_key = Some(
            HashKey::from_env_value(&value)
                .map_err(|e| ConfigError::new(format!("env {key_env}"), e))?,
        );
    }
    cfg.hash_key_env = key_env.clone();
    if wants_hash && red.hash_key.is_none() {
        return Err(ConfigError::new(
            "action hash",
            format!("needs a key, but {key_env} is not set and logveil.hash_key_file is not given"),
        )
        .with_hint(format!(
            "export {key_env}=$(head -c 32 /dev/urandom | base64), or set logveil.hash_key_file to a 0600 file"
        )));
    }

    // --- segments
    if let Some(seg) = ours.segments {
        let s = &mut cfg.segments;
        s.out_dir = seg.dir;
        s.recipients = seg.recipients;
        s.recipients_files = seg.recipients_file;
        if let Some(level) = seg.gzip_level {
            if level > 9 {
                return Err(ConfigError::new(
                    "logveil.segments.gzip_level",
                    format!("{level} is not a gzip level (0-9)"),
                ));
            }
            s.gzip_level = level;
        }
        if let Some(size) = seg.max_segment_bytes {
            s.max_segment_bytes = size.bytes("logveil.segments.max_segment_bytes")?;
            if s.max_segment_bytes == 0 {
                return Err(ConfigError::new(
                    "logveil.segments.max_segment_bytes",
                    "must be greater than 0",
                ));
            }
        }
        if let Some(age) = seg.max_segment_age {
            s.max_segment_age = positive_duration_at(&age, "logveil.segments.max_segment_age")?;
        }
    }
    if let Some(tail) = ours.tail {
        cfg.tail.state_dir = tail.state_dir;
        if let Some(p) = tail.poll_interval {
            cfg.tail.poll_interval = duration_at(&p, "logveil.tail.poll_interval")?;
        }
        if let Some(f) = tail.follow_symlinks {
            cfg.tail.follow_symlinks = f;
        }
    }

    // --- retention: the seed's block, then our extensions.
    let mut notes_ret = Vec::new();
    if let Some(dr) = privacy.data_retention {
        note_extra(&mut notes_ret, "privacy.data_retention", &dr.extra);
        if let Some(logs) = dr.logs {
            note_extra(&mut notes_ret, "privacy.data_retention.logs", &logs.extra);
            if let Some(days) = logs.retention_days {
                if days == 0 {
                    return Err(ConfigError::new(
                        "privacy.data_retention.logs.retention_days",
                        "must be at least 1",
                    ));
                }
                cfg.retention.segment_max_age = Duration::from_secs(days * 86_400);
            }
            if logs.auto_rotate == Some(false) {
                cfg.retention.auto_delete = false;
            }
            if let Some(pf) = logs.pii_fields {
                if pf != "redact" {
                    notes_ret.push(format!(
                        "privacy.data_retention.logs.pii_fields is {pf:?}: logveil always redacts"
                    ));
                }
            }
        }
        if let Some(ch) = dr.conversation_history {
            note_extra(
                &mut notes_ret,
                "privacy.data_retention.conversation_history",
                &ch.extra,
            );
            let days = ch.max_age_days.unwrap_or(30);
            if ch.auto_delete.unwrap_or(true) {
                for path in ch.paths {
                    cfg.retention.rules.push(PlaintextRule {
                        path,
                        max_age: Duration::from_secs(days * 86_400),
                    });
                }
            }
        }
    }
    if let Some(r) = ours.retention {
        if let Some(age) = r.max_age {
            cfg.retention.segment_max_age =
                positive_duration_at(&age, "logveil.retention.max_age")?;
        }
        if let Some(q) = r.max_total_bytes {
            let at = "logveil.retention.max_total_bytes";
            let quota = q.bytes(at)?;
            if quota == 0 {
                return Err(ConfigError::new(
                    at,
                    "must be greater than 0 (a quota of 0 deletes every segment once it is sealed; \
                     leave it out for no quota)",
                ));
            }
            cfg.retention.max_total_bytes = Some(quota);
        }
        if let Some(i) = r.interval {
            cfg.retention.interval = duration_at(&i, "logveil.retention.interval")?;
        }
        cfg.retention.privacy_log = r.privacy_log;
        for (i, rule) in r.rules.into_iter().enumerate() {
            let max_age = positive_duration_at(
                &rule.max_age,
                &format!("logveil.retention.rules[{i}].max_age"),
            )?;
            cfg.retention.rules.push(PlaintextRule {
                path: rule.path,
                max_age,
            });
        }
    }
    cfg.notes.extend(notes_ret);
    cfg.metrics_file = ours.metrics_file;
    if let Some(a) = ours.audit {
        resolve_audit(&mut cfg.audit, a)?;
    }
    cfg.hash_key_file = ours.hash_key_file;
    if let Some(s) = ours.ship {
        cfg.ship = crate::ship::ShipConfig::resolve(s)?;
    }
    if let Some(c) = ours.cache {
        cfg.cache.enabled = c.enabled.unwrap_or(true);
        cfg.cache.dir = c.dir;
    }

    // Every user regex is checked now (syntax, look-around, empty matches), naming the pattern and column.
    // The DFA itself is built once, by the command that runs it.
    for p in &cfg.redaction.patterns {
        p.prepare()?;
    }
    Ok(cfg)
}

fn resolve_audit(audit: &mut AuditConfig, raw: RawAudit) -> Result<(), ConfigError> {
    for (i, g) in raw.temp_globs.iter().enumerate() {
        glob::Pattern::new(g).map_err(|e| {
            ConfigError::new(
                format!("logveil.audit.temp_globs[{i}]"),
                format!("invalid glob: {e}"),
            )
        })?;
    }
    audit.temp_globs = raw.temp_globs;
    for (i, t) in raw.tls.iter().enumerate() {
        audit.tls.push(
            t.parse()
                .map_err(|e| ConfigError::new(format!("logveil.audit.tls[{i}]"), e))?,
        );
    }
    audit.tls_ca_file = raw.tls_ca_file;
    if let Some(w) = raw.tls_expiry_warning {
        audit.tls_expiry_warning = duration_at(&w, "logveil.audit.tls_expiry_warning")?;
    }
    Ok(())
}

/// Reads the `hash` action's key file; see [`key_file_mode_ok`] for who may read it.
fn hash_key_from_file(path: &Path) -> Result<HashKey, String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if !key_file_mode_ok(&meta) {
        return Err(format!(
            "{}: mode {mode:04o} lets others read or change the key; it must be 0600 (or 0640 \
             owned by root, for a service's group)",
            path.display()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut trimmed = &bytes[..];
    if let Some(t) = trimmed.strip_suffix(b"\n") {
        trimmed = t;
    }
    if let Some(t) = trimmed.strip_suffix(b"\r") {
        trimmed = t;
    }
    HashKey::from_bytes(trimmed).map_err(|e| format!("{}: {e}", path.display()))
}

/// Whether a hash key file is private enough: no access for others, never writable by the group, and
/// readable by the group only when root owns it (0640 root:logveil, as the Debian package creates it: the
/// service reads it through its group and cannot change it). `logveil audit` applies the same rule.
pub fn key_file_mode_ok(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    let group_read = if meta.uid() == 0 { 0o040 } else { 0 };
    meta.mode() & 0o077 & !group_read == 0
}

/// The current UTC year (read once, when a config is made): IDs born later are not real.
pub fn current_year() -> u32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    civil_year((secs / 86_400) as i64)
}

/// The Gregorian year of a day counted from 1970-01-01 (Howard Hinnant's civil-from-days, year part).
fn civil_year(days: i64) -> u32 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2)) as u32
}

fn duration_at(text: &str, at: &str) -> Result<Duration, ConfigError> {
    parse_duration(text).map_err(|e| ConfigError::new(at, e))
}

fn positive_duration_at(text: &str, at: &str) -> Result<Duration, ConfigError> {
    parse_positive_duration(text).map_err(|e| ConfigError::new(at, e))
}

fn parse_action(
    text: &str,
    replacement: Option<String>,
    mask: Option<RawMask>,
    at: &str,
) -> Result<ActionSpec, ConfigError> {
    let kind = ActionKind::parse(text).ok_or_else(|| {
        ConfigError::new(at, format!("unknown action {text:?}"))
            .with_hint("actions: redact (or redact_in_logs), mask, hash, drop_line, allow")
    })?;
    Ok(ActionSpec {
        kind,
        replacement,
        keep_prefix: mask.and_then(|m| m.keep_prefix),
        keep_suffix: mask.and_then(|m| m.keep_suffix),
    })
}

/// Expands `${NAME}` and `${NAME:-default}` in every string of the tree; `$${` is a literal `${`.
fn expand_env(
    v: &mut Value,
    at: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    match v {
        Value::String(s) if s.contains("${") => {
            *s = expand_str(s, env).map_err(|e| ConfigError::new(at, e))?;
        }
        Value::Sequence(seq) => {
            for (i, item) in seq.iter_mut().enumerate() {
                expand_env(item, &format!("{at}[{i}]"), env)?;
            }
        }
        Value::Mapping(map) => {
            for (k, item) in map.iter_mut() {
                let key = k.as_str().unwrap_or("?");
                let path = if at.is_empty() {
                    key.to_string()
                } else {
                    format!("{at}.{key}")
                };
                expand_env(item, &path, env)?;
            }
        }
        Value::Tagged(t) => expand_env(&mut t.value, at, env)?,
        _ => {}
    }
    Ok(())
}

fn expand_str(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(lit) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = lit;
        } else if let Some(body) = after.strip_prefix("${") {
            let end = body
                .find('}')
                .ok_or_else(|| "unterminated ${...} reference".to_string())?;
            let inner = &body[..end];
            let (name, default) = match inner.find(":-") {
                Some(i) => (&inner[..i], Some(&inner[i + 2..])),
                None => (inner, None),
            };
            let valid =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err(format!(
                    "${{{inner}}}: not a valid environment variable name"
                ));
            }
            match (env(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => {
                    return Err(format!(
                        "environment variable {name} is not set (write ${{{name}:-default}} for a default)"
                    ))
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"
privacy:
  pii_detection:
    enabled: true
    patterns:
      - type: "phone"
        regex: "\\b1[3-9]\\d{9}\\b"
        action: "redact_in_logs"
  log_redaction:
    enabled: true
    replacement: "[REDACTED]"
  data_retention:
    conversation_history: { max_age_days: 30, auto_delete: true }
    logs: { pii_fields: "redact", retention_days: 90, auto_rotate: true }
"#;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn civil_year_of_known_days() {
        assert_eq!(civil_year(0), 1970);
        assert_eq!(civil_year(18_261), 2019, "2019-12-31");
        assert_eq!(civil_year(18_262), 2020, "2020-01-01");
        assert_eq!(civil_year(11_016), 2000, "2000-02-29");
        assert_eq!(civil_year(20_782), 2026, "2026-11-25");
        assert!(current_year() >= 2026);
    }

    #[test]
    fn seed_config_is_accepted_verbatim() {
        let cfg = Config::from_yaml_str_with_env(SEED, &no_env).unwrap();
        assert_eq!(cfg.redaction.replacement, "[REDACTED]");
        assert_eq!(cfg.redaction.patterns.len(), 1);
        assert_eq!(cfg.redaction.patterns[0].kind, "phone");
        assert_eq!(cfg.redaction.patterns[0].action.kind, ActionKind::Redact);
        assert_eq!(
            cfg.retention.segment_max_age,
            Duration::from_secs(90 * 86_400)
        );
        assert!(cfg.notes.is_empty(), "{:?}", cfg.notes);
    }

    #[test]
    fn the_dfa_cache_is_on_by_default_and_can_be_moved_or_turned_off() {
        let on = Config::from_yaml_str_with_env("", &no_env).unwrap();
        assert_eq!(
            on.cache,
            CacheConfig {
                enabled: true,
                dir: None
            }
        );
        let cfg = Config::from_yaml_str_with_env(
            "logveil:\n  cache:\n    enabled: false\n    dir: /var/cache/x\n",
            &no_env,
        )
        .unwrap();
        assert_eq!(
            cfg.cache,
            CacheConfig {
                enabled: false,
                dir: Some(PathBuf::from("/var/cache/x"))
            }
        );
        let e = Config::from_yaml_str_with_env("logveil:\n  cache:\n    dirr: /x\n", &no_env)
            .unwrap_err();
        assert!(e.to_string().contains("logveil.cache"), "{e}");
    }

    #[test]
    fn empty_config_gives_defaults_with_every_builtin_on() {
        let cfg = Config::from_yaml_str_with_env("", &no_env).unwrap();
        assert_eq!(cfg.redaction.replacement, DEFAULT_REPLACEMENT);
        assert!(cfg.redaction.detectors.iter().all(|d| d.enabled));
        assert_eq!(cfg.segments.gzip_level, 6);
        assert_eq!(cfg.segments.max_segment_bytes, 64 << 20);
    }

    #[test]
    fn unknown_seed_keys_become_notes_but_unknown_logveil_keys_are_errors() {
        let cfg = Config::from_yaml_str_with_env(
            "privacy:\n  audit: {schedule: daily}\nbot: {name: x}\n",
            &no_env,
        )
        .unwrap();
        assert!(cfg.notes.iter().any(|n| n.starts_with("privacy.audit")));
        assert!(cfg.notes.iter().any(|n| n.starts_with("bot")));
        let err =
            Config::from_yaml_str_with_env("logveil:\n  segmnets: {}\n", &no_env).unwrap_err();
        assert!(err.to_string().contains("segmnets"), "{err}");
    }

    #[test]
    fn env_references_are_expanded_and_missing_ones_named() {
        let env = |name: &str| (name == "OUT").then(|| "/srv/sealed".to_string());
        let cfg = Config::from_yaml_str_with_env(
            "logveil:\n  segments:\n    dir: ${OUT}\n    max_segment_age: ${AGE:-2h}\n",
            &env,
        )
        .unwrap();
        assert_eq!(
            cfg.segments.out_dir.as_deref(),
            Some(Path::new("/srv/sealed"))
        );
        assert_eq!(cfg.segments.max_segment_age, Duration::from_secs(7200));
        let err = Config::from_yaml_str_with_env("logveil:\n  segments:\n    dir: ${NOPE}\n", &env)
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("NOPE") && msg.contains("logveil.segments.dir"),
            "{msg}"
        );
        assert_eq!(expand_str("a$${b}c$d", &env).unwrap(), "a${b}c$d");
    }

    #[test]
    fn detector_can_be_turned_off_by_name_or_given_an_action() {
        let cfg = Config::from_yaml_str_with_env(
            "logveil:\n  detectors:\n    ipv6: false\n    phone: {action: mask}\n",
            &no_env,
        )
        .unwrap();
        let d = |n: &str| {
            cfg.redaction
                .detectors
                .iter()
                .find(|d| d.name == n)
                .unwrap()
        };
        assert!(!d("ipv6").enabled);
        assert_eq!(d("phone").action.kind, ActionKind::Mask);
        let err =
            Config::from_yaml_str_with_env("logveil:\n  detectors:\n    fone: false\n", &no_env)
                .unwrap_err();
        assert!(err.to_string().contains("fone"));
    }

    #[test]
    fn invalid_regex_names_pattern_and_position_with_hint() {
        let err = Config::from_yaml_str_with_env(
            "privacy:\n  pii_detection:\n    patterns:\n      - {type: phone, regex: '1(?=3)\\d{10}'}\n",
            &no_env,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("patterns[0]"), "{msg}");
        assert!(msg.contains("phone"), "{msg}");
        assert!(msg.contains("column 2"), "{msg}");
        assert!(msg.contains("hint"), "{msg}");
    }

    #[test]
    fn hash_action_without_key_is_an_error_that_says_how_to_fix_it() {
        let err = Config::from_yaml_str_with_env(
            "logveil:\n  detectors:\n    email: {action: hash}\n",
            &no_env,
        )
        .unwrap_err();
        assert!(err.to_string().contains("LOGVEIL_HASH_KEY"), "{err}");
        let env = |n: &str| (n == "LOGVEIL_HASH_KEY").then(|| "k".repeat(32));
        Config::from_yaml_str_with_env("logveil:\n  detectors:\n    email: {action: hash}\n", &env)
            .unwrap();
    }

    #[test]
    fn audit_keys_are_read_and_checked() {
        let cfg = Config::from_yaml_str_with_env(
            "logveil:\n  audit:\n    temp_globs: ['/tmp/clawdbot-*']\n    tls: ['localhost:443', '[::1]:8443']\n    tls_ca_file: /etc/ca.pem\n    tls_expiry_warning: 30d\n",
            &no_env,
        )
        .unwrap();
        let a = &cfg.audit;
        assert_eq!(a.temp_globs, vec!["/tmp/clawdbot-*".to_string()]);
        assert_eq!(a.tls.len(), 2);
        assert_eq!((a.tls[0].host.as_str(), a.tls[0].port), ("localhost", 443));
        assert_eq!((a.tls[1].host.as_str(), a.tls[1].port), ("::1", 8443));
        assert_eq!(a.tls[1].to_string(), "[::1]:8443");
        assert_eq!(a.tls_ca_file.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(a.tls_expiry_warning, Duration::from_secs(30 * 86_400));
        let d = Config::from_yaml_str_with_env("", &no_env).unwrap();
        assert_eq!(d.audit.tls_expiry_warning, DEFAULT_TLS_EXPIRY_WARNING);
        assert!(d.audit.tls.is_empty() && d.audit.temp_globs.is_empty());

        for (yaml, at) in [
            ("tls: ['localhost']", "logveil.audit.tls[0]"),
            ("tls: ['a:1', 'b:99999']", "logveil.audit.tls[1]"),
            ("tls: ['::1:443']", "logveil.audit.tls[0]"),
            ("temp_globs: ['/tmp/[x']", "logveil.audit.temp_globs[0]"),
            (
                "tls_expiry_warning: soon",
                "logveil.audit.tls_expiry_warning",
            ),
            ("tsl: []", "tsl"),
        ] {
            let err = Config::from_yaml_str_with_env(
                &format!("logveil:\n  audit:\n    {yaml}\n"),
                &no_env,
            )
            .unwrap_err();
            assert!(err.to_string().contains(at), "{yaml}: {err}");
        }
    }

    #[test]
    fn unknown_action_lists_the_valid_ones() {
        let err = Config::from_yaml_str_with_env(
            "privacy:\n  pii_detection:\n    patterns:\n      - {type: x, regex: 'x', action: encrypt}\n",
            &no_env,
        )
        .unwrap_err();
        assert!(err.to_string().contains("drop_line"), "{err}");
    }
}
