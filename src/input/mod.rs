//! Inputs: where bytes come from. They hand over bytes (and offsets); they know nothing of segments.

pub mod file;
pub mod stdin;
