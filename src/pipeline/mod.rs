//! The sealing pipeline: where a command's loop meets the redactor, the segment writer, the durable input
//! offsets and the metrics. `pipe`, `seal` and `tail` all seal through a [`SealingStream`]; `tail` adds the
//! checkpoint protocol ([`tail::TailPipeline`]) and `seal` the rotated-file protocol ([`seal::seal_file`]).
//!
//! ```text
//!   bytes in ──> SealingStream::push ──> Redactor or ParallelRedactor ──> (tee) ──> SegmentWriter ──> Sealed { input_end }
//!                                                                                    │
//!   tail: TailPipeline::commit ──> checkpoint "everything before input_end is sealed" <┘
//! ```
//!
//! The input-end rule, stated once: after bytes up to input position P were pushed, the redactor still
//! holds back `pending()` bytes of an unfinished line, so what the writer has been given covers the input
//! up to `P - pending()`. That is the `input_end` of every write, hence of every [`Sealed`] segment, hence of
//! every checkpoint. With redaction workers ([`crate::parallel::ParallelRedactor`], `--threads`) each piece
//! they give back carries that same offset (`Piece::input_end`: everything before it redacted into the
//! pieces so far, nothing after it), and each piece is one write.

pub mod seal;
mod sealing;
mod setup;
pub mod tail;

use std::path::PathBuf;

use crate::sink::SinkError;

pub use sealing::{SealingStream, SINK_RETRY};
pub use setup::{count_retention, SinkSetup};

/// A pipeline problem: what and where (paths and stages only, never input bytes).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Tail(#[from] crate::input::tail::TailError),
    #[error("tail: segments of {}", source_path.display())]
    SegmentsOf {
        source_path: PathBuf,
        #[source]
        source: SinkError,
    },
    #[error("tail: checkpoint of {}", source_path.display())]
    Checkpoint {
        source_path: PathBuf,
        #[source]
        source: crate::input::tail::TailError,
    },
    #[error(
        "tail: checkpoint {} of {} was written by a tail sealing into {}, not {}: trusting it would \
         leave out of {} the lines sealed there\n  hint: give each tail its own --state; if the segments \
         were moved away, remove the checkpoint to read the source again from its start (lines already \
         sealed are then sealed twice)",
        checkpoint.display(),
        source_path.display(),
        there.display(),
        here.display(),
        here.display()
    )]
    ForeignCheckpoint {
        checkpoint: PathBuf,
        source_path: PathBuf,
        there: PathBuf,
        here: PathBuf,
    },
    #[error("tail: cannot {op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("retention: cannot start its thread")]
    RetentionThread(#[source] std::io::Error),
    #[error("retention: bad policy")]
    Retention(#[source] crate::retention::RetentionError),
    #[error("tail: internal: {0}")]
    Internal(&'static str),
}
