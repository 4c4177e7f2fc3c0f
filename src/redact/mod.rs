//! Redaction: pure and synchronous, bytes in, bytes and findings out. No I/O, no clocks; imports nothing
//! from the rest of the crate.
//!
//! `patterns` is the built-in detector library (the DFA's candidate patterns), `compile` builds the one DFA,
//! `engine` runs the search loop, `text` decodes logical characters for every detector, `detect` holds the
//! decisions on candidates (one module per detector family), `actions` the replacements, `stream` the
//! bounded-memory streaming window.

pub mod actions;
pub mod compile;
pub mod detect;
pub mod dfa_build;
pub mod dfa_store;
pub mod engine;
pub mod patterns;
pub mod stream;
pub mod text;
pub mod user_regex;

use std::fmt;
use std::sync::Arc;

pub use actions::{ActionKind, ActionSpec, HashKey};
pub use dfa_store::DfaStore;
pub use engine::{Engine, Hit, Pseudonym, PseudonymError, MAX_LANES};
pub use stream::{redact_all, Carry, Redactor};

use actions::DEFAULT_REPLACEMENT;

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

impl UserPattern {
    /// Checks the regex and gives the form that goes into the DFA; an error names the pattern and column.
    pub fn prepare(&self) -> Result<String, EngineError> {
        user_regex::prepare(&self.regex).map_err(|e| EngineError::InvalidPattern {
            index: self.index,
            type_name: self.kind.clone(),
            message: e.message,
            column: e.column,
            hint: e.hint,
        })
    }
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

impl EngineConfig {
    /// The built-in defaults: every detector on, no user patterns, no hash key. The action is `redact`, but
    /// for the identifiers of people ([`patterns::Detector::is_identifier`]): `hash_if_keyed`, the keyed
    /// pseudonym once a hash key is set.
    /// `max_birth_year` is the current year, which the caller reads (redaction reads no clock; the config's
    /// `impl Default for EngineConfig` reads it once, when the configuration is made).
    pub fn with_defaults(max_birth_year: u32) -> Self {
        EngineConfig {
            detection_enabled: true,
            redaction_enabled: true,
            replacement: DEFAULT_REPLACEMENT.to_string(),
            detectors: patterns::Detector::ALL
                .iter()
                .map(|&d| DetectorSetting {
                    name: d.name(),
                    enabled: true,
                    action: ActionSpec::default_for(d),
                })
                .collect(),
            patterns: Vec::new(),
            hash_key: None,
            max_birth_year,
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
    /// One user pattern alone makes an NFA or DFA larger than the memory budget.
    PatternTooBig {
        index: usize,
        type_name: String,
        message: String,
    },
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
            EngineError::PatternTooBig {
                index,
                type_name,
                message,
            } => write!(
                f,
                "redact: pattern #{index} (type {type_name:?}) is too large: {message}"
            ),
            EngineError::Build(e) => write!(f, "redact: cannot build the DFA: {e}"),
        }
    }
}

impl std::error::Error for EngineError {}
