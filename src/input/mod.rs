//! Inputs: where log lines come from. `tail` follows files through rotation, with checkpoints.

pub mod tail;
