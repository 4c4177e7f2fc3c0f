//! Inputs: where bytes come from. They hand over bytes (and offsets); they know nothing of segments.
//! `tail` follows files through rotation, with checkpoints.

pub mod file;
pub mod open_writers;
pub mod stdin;
pub mod tail;
