//! Sinks: where redacted bytes go. `name` is the segment naming scheme shared with retention and audit;
//! `segment` writes sealed segments (gzip, then age), `reader` reads them back for `cat`.

pub mod compress;
pub mod dir;
pub mod error;
pub mod filter;
pub mod name;
pub mod reader;
pub mod recipients;
pub mod rewrite;
pub mod segment;

pub use error::SinkError;
pub use recipients::{Recipients, StanzaCounts};
pub use segment::{PartialPolicy, Sealed, SegmentOptions, SegmentWriter};
