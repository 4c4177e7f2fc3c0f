//! logveil: redact personal data from chat-bot logs, seal what is kept (gzip then age), delete it on time.
//!
//! Data flows one way: `input` -> `redact` -> `sink`; the only thing that flows back is the sink's
//! "sealed up to offset N", after which a checkpoint is committed.

#![forbid(unsafe_code)]

pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dfa_cache;
pub mod input;
pub mod metrics;
pub mod parallel;
pub mod redact;
pub mod retention;
pub mod sink;
pub mod units;
