//! Errors of the segment sink. Every message starts with the stage (`segment:`) and names the path or the
//! recipient's position; none ever carries input bytes or a key. The OS error is the `source()` (shown
//! after the message by `{:#}` of anyhow), not repeated in the message.

use std::io;
use std::path::PathBuf;

/// What went wrong while writing or reading segments.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The output directory cannot be created or is not a directory.
    #[error("segment: cannot create the output directory {}", path.display())]
    CreateDir { path: PathBuf, source: io::Error },

    /// The output directory is there but logveil cannot write in it.
    #[error("segment: output directory {} is not writable", path.display())]
    DirNotWritable { path: PathBuf, source: io::Error },

    /// The stream's lock file is there but cannot be opened (it belongs to another user).
    #[error(
        "segment: lock file {} belongs to uid {owner} and this user cannot open it (left by a run as root?); \
         give it to the directory's owner (chown) or remove it",
        lock.display()
    )]
    LockNotWritable {
        lock: PathBuf,
        owner: u32,
        source: io::Error,
    },

    /// Another process holds this stream's lock.
    #[error(
        "segment: stream {stream:?} in {} is already being written by another logveil process (lock {} is held)",
        dir.display(),
        lock.display()
    )]
    Locked {
        stream: String,
        dir: PathBuf,
        lock: PathBuf,
    },

    /// A file operation on a segment failed (`op` says which: write, fsync, rename...).
    #[error("segment: cannot {op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },

    /// No recipient was given: nothing can be encrypted (and plaintext is never a fallback).
    #[error("segment: no recipient given; segments are only ever written encrypted")]
    NoRecipients,

    /// A recipient could not be used. `at` says where it came from, never what it was.
    #[error("segment: recipient {at}: {reason}")]
    Recipient { at: String, reason: String },

    /// A recipients file cannot be read.
    #[error("segment: cannot read recipients file {}", path.display())]
    RecipientsFile { path: PathBuf, source: io::Error },

    /// age refused to encrypt to the recipients.
    #[error("segment: cannot encrypt to the given recipients: {0}")]
    Encrypt(String),

    /// A compression thread stopped (it panicked or could not be started).
    #[error("segment: compression worker failed: {0}")]
    Worker(String),

    /// An earlier error left this writer unusable; its `.partial` stays for the next start.
    #[error("segment: the writer for stream {stream:?} failed earlier and was stopped")]
    Failed { stream: String },
}

impl SinkError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        SinkError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
