//! Sinks: where redacted bytes go. `name` is the segment naming scheme shared with retention and audit.

pub mod name;
