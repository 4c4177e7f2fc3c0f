//! logveil: redact personal data from chat-bot logs, seal what is kept (gzip then age), delete it on time.
//!
//! Data flows one way: `input` -> `redact` -> `sink`; the only thing that flows back is the sink's
//! "sealed up to offset N", after which a checkpoint is committed. `pipeline` is where the commands'
//! loops meet the stages.

#![forbid(unsafe_code)]

pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dfa_cache;
pub mod fsutil;
pub mod hardening;
pub mod input;
pub mod metrics;
pub mod ownership;
pub mod parallel;
pub mod pathglob;
pub mod pipeline;
pub mod redact;
pub mod retention;
pub mod secrets;
pub mod service_notify;
pub mod ship;
pub mod sink;
pub mod stream_name;
pub mod units;

/// An error and its causes on one line, `what: why: why` (`segment: cannot write X: No space left on device
/// (os error 28)`), for a log line: a `Display` names only the error itself, its cause is its `source()`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
