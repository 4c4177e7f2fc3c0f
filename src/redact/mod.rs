//! Redaction: pure and synchronous, bytes in, bytes and findings out. No I/O, no clocks.
//!
//! `patterns` is the built-in detector library, `engine` the one DFA and the search loop, `validators` the
//! decisions on candidates, `actions` the replacements, `stream` the bounded-memory streaming wrapper.

pub mod actions;
pub mod dfa_build;
pub mod dfa_store;
pub mod engine;
pub mod patterns;
pub mod stream;
pub mod user_regex;
pub mod validators;

use std::fmt;
use std::sync::Arc;

pub use actions::{ActionKind, ActionSpec, HashKey};
pub use dfa_store::DfaStore;
pub use engine::{Engine, Hit};
pub use stream::{redact_all, Carry, Redactor};

use crate::config::{ConfigError, DEFAULT_REPLACEMENT};

/// A built-in detector's setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectorSetting {
    pub name: &'static str,
    pub enabled: bool,
    pub action: ActionSpec,
}

/// A pattern from the config's `privacy.pii_detection.patterns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPattern {
    /// Position in the config's list (for error messages).
    pub index: usize,
    /// The seed's `type`: a built-in type name (then its validator runs on matches) or a new one.
    pub kind: String,
    pub regex: String,
    pub action: ActionSpec,
    pub enabled: bool,
    /// Run the built-in validator of `kind` (phone, id_card, bank_card, ipv4, ipv6) on matches.
    pub validate: bool,
}

/// Everything the engine is built from.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `privacy.pii_detection.enabled`: false detects nothing.
    pub detection_enabled: bool,
    /// `privacy.log_redaction.enabled`: false counts matches but changes nothing.
    pub redaction_enabled: bool,
    /// The `redact` action's template; `{type}` is the type name.
    pub replacement: String,
    pub detectors: Vec<DetectorSetting>,
    pub patterns: Vec<UserPattern>,
    pub hash_key: Option<HashKey>,
    /// Birth dates after this year are not real (ID validation). Set by the caller (the engine reads no clock).
    pub max_birth_year: u32,
    /// Where the DFA of user patterns is kept between runs (the caller's; redact does no I/O). None: built
    /// at every start.
    pub dfa_store: Option<Arc<dyn DfaStore>>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            detection_enabled: true,
            redaction_enabled: true,
            replacement: DEFAULT_REPLACEMENT.to_string(),
            detectors: patterns::BUILTIN_DETECTORS
                .iter()
                .map(|d| DetectorSetting {
                    name: d.name,
                    enabled: true,
                    action: ActionSpec::redact(),
                })
                .collect(),
            patterns: Vec::new(),
            hash_key: None,
            // Read once, here, when the configuration is made; redaction itself reads no clock.
            max_birth_year: crate::config::current_year(),
            dfa_store: None,
        }
    }
}

/// Counts of what was found, by type id (see [`Engine::type_names`]). Never values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub counts: Vec<u64>,
    pub lines_dropped: u64,
}

impl Findings {
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn add(&mut self, other: &Findings) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.lines_dropped += other.lines_dropped;
    }
}

/// Building the engine failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum EngineError {
    /// A user pattern is not a regex the DFA can run.
    InvalidPattern {
        index: usize,
        type_name: String,
        message: String,
        column: usize,
        hint: Option<String>,
    },
    /// The patterns together make a DFA larger than the memory budget.
    TooBig(String),
    Build(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::InvalidPattern {
                index,
                type_name,
                message,
                column,
                ..
            } => write!(
                f,
                "redact: pattern #{index} (type {type_name:?}): {message} at column {column}"
            ),
            EngineError::TooBig(e) => write!(f, "redact: the patterns make a DFA too large: {e}"),
            EngineError::Build(e) => write!(f, "redact: cannot build the DFA: {e}"),
        }
    }
}

impl std::error::Error for EngineError {}

impl EngineError {
    /// As a config error pointing at the pattern.
    pub fn into_config_error(self) -> ConfigError {
        match self {
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
            EngineError::TooBig(msg) => ConfigError::new("privacy.pii_detection.patterns", format!("the patterns make a DFA too large ({msg})"))
                .with_hint("large counted repetitions such as {1000} multiply DFA states; use a smaller bound or +"),
            EngineError::Build(msg) => ConfigError::new("privacy.pii_detection.patterns", msg),
        }
    }
}
