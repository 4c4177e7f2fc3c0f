//! The segment writer: redacted bytes -> gzip members (on the compression pool) -> age -> `.partial`,
//! finished by finishing the age stream, fsync of the file, rename to the sealed name and fsync of the
//! directory. Only then is a [`Sealed`] returned, so a caller may commit a checkpoint on it.
//!
//! Rotation: after a write that brings the segment to `max_segment_bytes` of (redacted, uncompressed)
//! input, and once the segment's first record is `max_segment_age` old (checked on every write and
//! [`SegmentWriter::tick`]; [`SegmentWriter::deadline`] says when to tick). A segment is cut only between
//! writes, so each `Sealed::input_end` is exactly the end of the input it holds.
//!
//! Names come from [`crate::sink::name`] only. Sequence numbers continue after the largest of the stream
//! already in the directory, and a new segment's first time is never before an existing one's, so names
//! stay in data order across restarts (even if the clock steps back).

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::compress::{MemberQueue, QueueError, BLOCK_SIZE, MAX_INFLIGHT};
use super::error::SinkError;
use super::name::{lock_file_name, SegmentName, SegmentState};
use super::recipients::Recipients;
use crate::fsutil::{self, Dir, FILE_MODE};
use crate::stream_name::sanitize_stream;

/// gzip level of segments unless told otherwise (as logrotate's).
pub const DEFAULT_GZIP_LEVEL: u32 = 6;
/// A segment is finished once it holds this much redacted input, unless told otherwise.
pub const DEFAULT_MAX_SEGMENT_BYTES: u64 = 64 << 20;
/// A segment is finished once its first record is this old, unless told otherwise.
pub const DEFAULT_MAX_SEGMENT_AGE: Duration = Duration::from_secs(3600);
/// age buffers up to one 64 KiB chunk per open segment.
const AGE_CHUNK: u64 = 64 << 10;

/// What [`SegmentWriter::open`] does with a `.partial` of its stream left by a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialPolicy {
    /// Rename it to `*.truncated.log.gz.age` (its complete chunks stay readable with `logveil cat`), with a
    /// warning. For inputs that cannot be read again (`pipe`, `seal`).
    KeepAsTruncated,
    /// Remove it, with a warning: its data will be read again from the source (`tail`, whose checkpoint
    /// never points past a sealed segment).
    Remove,
    /// Remove those from sequence number N on (an earlier run of a `seal` of the same file, which will be
    /// read again), keep the others as truncated.
    RemoveFrom(u64),
}

/// Where and how one stream's segments are written.
#[derive(Debug, Clone)]
pub struct SegmentOptions {
    /// Output directory (created 0700 if missing).
    pub dir: PathBuf,
    /// Stream name (sanitized by [`sanitize_stream`] for file names).
    pub stream: String,
    pub recipients: Recipients,
    /// gzip level 0-9.
    pub gzip_level: u32,
    /// Finish a segment once it holds this many bytes of redacted input.
    pub max_segment_bytes: u64,
    /// Finish a segment once its first record is this old.
    pub max_segment_age: Duration,
    pub partial_policy: PartialPolicy,
}

impl SegmentOptions {
    /// Options with the sink's defaults (level 6, 64 MiB, 1 h, keep partials as truncated).
    pub fn new(dir: impl Into<PathBuf>, stream: &str, recipients: Recipients) -> Self {
        SegmentOptions {
            dir: dir.into(),
            stream: stream.to_string(),
            recipients,
            gzip_level: DEFAULT_GZIP_LEVEL,
            max_segment_bytes: DEFAULT_MAX_SEGMENT_BYTES,
            max_segment_age: DEFAULT_MAX_SEGMENT_AGE,
            partial_policy: PartialPolicy::KeepAsTruncated,
        }
    }
}

/// A finished segment: renamed and durable (file and directory fsynced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub path: PathBuf,
    /// The `input_end` of the last write in this segment.
    pub input_end: u64,
    /// Time of the first and the last record (the `now` of the first and last write).
    pub first: Timestamp,
    pub last: Timestamp,
    /// Redacted (uncompressed) bytes in the segment.
    pub input_bytes: u64,
    /// Size of the segment file.
    pub output_bytes: u64,
}

/// Redacted bytes handed to [`SegmentWriter::write_inner`]: borrowed (copied into blocks), or a buffer
/// it may take as a block.
enum Bytes<'a> {
    Borrowed(&'a [u8]),
    Owned(&'a mut Vec<u8>),
}

/// A file that counts what is written to it.
struct CountingFile {
    file: File,
    written: u64,
    /// The OS error of a failed write, for a clear message where age reports only its Debug text
    /// (`failed to write header: IoError(Os { code: 28, .. })`).
    os_error: std::sync::Arc<std::sync::atomic::AtomicI32>,
}

impl Write for CountingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf).inspect_err(|e| {
            if let Some(code) = e.raw_os_error() {
                self.os_error
                    .store(code, std::sync::atomic::Ordering::Relaxed);
            }
        })?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

struct OpenSegment {
    name: SegmentName,
    path: PathBuf,
    age: age::stream::StreamWriter<CountingFile>,
    first: Timestamp,
    last: Timestamp,
    input_bytes: u64,
    input_end: u64,
}

/// Writes one stream's segments. `Send`: it may live on any thread.
pub struct SegmentWriter {
    dir: PathBuf,
    /// The directory as opened at start: every file is created, renamed and removed through it.
    handle: Dir,
    stream: String,
    recipients: Recipients,
    max_bytes: u64,
    max_age: Duration,
    _lock: File,
    next_seq: u64,
    /// New segments start no earlier than this (the latest time of the stream's existing segments).
    floor: Timestamp,
    open: Option<OpenSegment>,
    block: Vec<u8>,
    queue: MemberQueue,
    recovered: Vec<PathBuf>,
    failed: bool,
}

impl SegmentWriter {
    /// Creates the directory (0700) if needed, takes the stream's lock, applies the partial policy to this
    /// stream's `.partial` files and finds the next sequence number. Writes nothing else yet.
    pub fn open(opts: SegmentOptions) -> Result<SegmentWriter, SinkError> {
        if opts.recipients.is_empty() {
            return Err(SinkError::NoRecipients);
        }
        // Prove the recipients now rather than at the first write.
        opts.recipients.encryptor()?;
        let stream = sanitize_stream(&opts.stream);
        // What a root run creates here stays usable by the directory's owner (crate::ownership).
        let handle =
            crate::ownership::ensure_private_dir(&opts.dir).map_err(|e| SinkError::CreateDir {
                path: e.path,
                source: e.error,
            })?;
        warn_if_open_to_others(&handle);
        let lock = lock_stream(&handle, &stream)?;
        let queue = MemberQueue::new(opts.gzip_level.min(9)).map_err(queue_error_static)?;
        let mut w = SegmentWriter {
            dir: opts.dir,
            handle,
            stream,
            recipients: opts.recipients,
            max_bytes: opts.max_segment_bytes.max(1),
            max_age: opts.max_segment_age,
            _lock: lock,
            next_seq: 1,
            floor: Timestamp::UNIX_EPOCH,
            open: None,
            block: Vec::new(),
            queue,
            recovered: Vec::new(),
            failed: false,
        };
        w.scan(opts.partial_policy)?;
        Ok(w)
    }

    /// The sequence number the next segment will have.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The stream name as it appears in file names.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segment directory as this writer opened it.
    pub fn dir_handle(&self) -> &Dir {
        &self.handle
    }

    /// `.partial` files found at open: their new (truncated) names, or their old names if removed.
    pub fn recovered(&self) -> &[PathBuf] {
        &self.recovered
    }

    /// Whether a segment is open (holds data not yet sealed).
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Memory this writer holds for its open segment, about: the block being filled, or once blocks went to
    /// compression, up to all its spare buffers (input and output, about a block each, for every block that
    /// was in flight at once); plus age's chunk buffer. 0 when no segment is open.
    pub fn memory_held(&self) -> u64 {
        let Some(o) = &self.open else { return 0 };
        let block = BLOCK_SIZE as u64;
        let blocks = if o.input_bytes < block {
            o.input_bytes
        } else {
            o.input_bytes.min((2 * MAX_INFLIGHT as u64 + 1) * block)
        };
        blocks + AGE_CHUNK
    }

    /// When the open segment must be finished by age (call [`SegmentWriter::tick`] then).
    pub fn deadline(&self) -> Option<Timestamp> {
        let o = self.open.as_ref()?;
        o.first.checked_add(self.max_age).ok()
    }

    /// Appends redacted bytes. `input_end` is the input offset just after the input these bytes came from
    /// (opaque, monotonic per writer). Returns the segments finished by this call (by age before the
    /// bytes are added, by size after).
    pub fn write(
        &mut self,
        redacted: &[u8],
        input_end: u64,
        now: Timestamp,
    ) -> Result<Vec<Sealed>, SinkError> {
        self.usable()?;
        let r = self.write_inner(Bytes::Borrowed(redacted), input_end, now);
        self.mark(r)
    }

    /// As [`SegmentWriter::write`], and the writer may take `redacted`'s buffer as the next block instead
    /// of copying it (when no block is started and it holds half a block to a block): `redacted` is then
    /// another, empty buffer. Either way it is empty afterwards.
    pub fn write_vec(
        &mut self,
        redacted: &mut Vec<u8>,
        input_end: u64,
        now: Timestamp,
    ) -> Result<Vec<Sealed>, SinkError> {
        self.usable()?;
        let r = self.write_inner(Bytes::Owned(&mut *redacted), input_end, now);
        redacted.clear();
        self.mark(r)
    }

    /// Finishes the open segment if it is older than `max_segment_age`; writes out finished members.
    pub fn tick(&mut self, now: Timestamp) -> Result<Option<Sealed>, SinkError> {
        self.usable()?;
        let r = if self.expired(now) {
            self.seal_open().map(Some)
        } else {
            self.write_ready().map(|()| None)
        };
        self.mark(r)
    }

    /// Finishes the open segment, if any.
    pub fn finish(&mut self, now: Timestamp) -> Result<Option<Sealed>, SinkError> {
        let _ = now;
        self.usable()?;
        let r = if self.open.is_some() {
            self.seal_open().map(Some)
        } else {
            Ok(None)
        };
        self.mark(r)
    }

    /// Gives up the open segment: its `.partial` is removed (for input that is still there to be read
    /// again, e.g. `seal` when reading its file failed). The writer stays usable.
    pub fn abort(&mut self) -> Result<(), SinkError> {
        self.queue.discard();
        self.block = Vec::new();
        if let Some(o) = self.open.take() {
            drop(o.age);
            self.handle
                .remove(file_name(&o.path))
                .map_err(|e| SinkError::io("remove", &o.path, e))?;
            self.handle
                .sync()
                .map_err(|e| SinkError::io("fsync the directory", &self.dir, e))?;
            tracing::debug!(path = %o.path.display(), "segment: aborted");
        }
        self.failed = false;
        Ok(())
    }

    fn write_inner(
        &mut self,
        redacted: Bytes<'_>,
        input_end: u64,
        now: Timestamp,
    ) -> Result<Vec<Sealed>, SinkError> {
        let mut sealed = Vec::new();
        if self.expired(now) {
            sealed.push(self.seal_open()?);
        }
        let len = match &redacted {
            Bytes::Borrowed(b) => b.len(),
            Bytes::Owned(v) => v.len(),
        };
        if len == 0 {
            if let Some(o) = &mut self.open {
                o.input_end = o.input_end.max(input_end);
            }
            return Ok(sealed);
        }
        if self.open.is_none() {
            self.start(now)?;
        }
        let mut rest = match redacted {
            Bytes::Owned(v)
                if self.block.is_empty() && (BLOCK_SIZE / 2..=BLOCK_SIZE).contains(&v.len()) =>
            {
                // Taken as it is (a member still holds at most a block): the caller gets the empty
                // block buffer back.
                let spare = if self.block.capacity() == 0 {
                    self.queue.buffer()
                } else {
                    std::mem::take(&mut self.block)
                };
                self.block = std::mem::replace(v, spare);
                if self.block.len() >= BLOCK_SIZE {
                    self.submit_block()?;
                }
                &[][..]
            }
            Bytes::Owned(v) => &v[..],
            Bytes::Borrowed(b) => b,
        };
        while !rest.is_empty() {
            if self.block.capacity() == 0 {
                self.block = self.queue.buffer();
            }
            let room = BLOCK_SIZE - self.block.len();
            let (now_part, later) = rest.split_at(room.min(rest.len()));
            self.block.extend_from_slice(now_part);
            rest = later;
            if self.block.len() >= BLOCK_SIZE {
                self.submit_block()?;
            }
        }
        let o = self.open.as_mut().expect("a segment is open");
        o.last = o.last.max(now);
        o.input_bytes += len as u64;
        o.input_end = input_end;
        if o.input_bytes >= self.max_bytes {
            sealed.push(self.seal_open()?);
        } else {
            self.write_ready()?;
        }
        Ok(sealed)
    }

    fn expired(&self, now: Timestamp) -> bool {
        let Some(o) = &self.open else { return false };
        match SignedDuration::try_from(self.max_age) {
            Ok(max) => now.duration_since(o.first) >= max,
            Err(_) => false,
        }
    }

    fn usable(&self) -> Result<(), SinkError> {
        if self.failed {
            Err(SinkError::Failed {
                stream: self.stream.clone(),
            })
        } else {
            Ok(())
        }
    }

    fn mark<T>(&mut self, r: Result<T, SinkError>) -> Result<T, SinkError> {
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    /// Looks at this stream's files: applies the partial policy, finds the next sequence number and the
    /// earliest time a new segment may have.
    fn scan(&mut self, policy: PartialPolicy) -> Result<(), SinkError> {
        let listed = super::dir::list_stream_in(&self.handle, &self.stream)
            .map_err(|e| SinkError::io("list", self.dir.clone(), e))?;
        let mut partials = Vec::new();
        let mut max_seq = 0;
        for l in listed {
            max_seq = max_seq.max(l.name.seq);
            self.floor = self.floor.max(l.name.last_record());
            if l.name.state == SegmentState::Partial {
                partials.push((l.path, l.name));
            }
        }
        self.next_seq = max_seq + 1;
        if partials.is_empty() {
            return Ok(());
        }
        for (path, name) in partials {
            let st = self
                .handle
                .lstat(file_name(&path))
                .map_err(|e| SinkError::io("stat", &path, e))?;
            if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile
            {
                // Not something logveil wrote (a symlink planted to be renamed, then followed by `cat`).
                return Err(SinkError::io(
                    "recover",
                    path,
                    io::Error::other(
                        "this .partial is not a regular file (a symbolic link?); logveil did not write \
                         it and leaves it alone: remove it",
                    ),
                ));
            }
            let len = st.st_size as u64;
            let remove = match policy {
                PartialPolicy::Remove => true,
                PartialPolicy::RemoveFrom(seq) => name.seq >= seq,
                PartialPolicy::KeepAsTruncated => false,
            };
            if remove || len == 0 {
                self.handle
                    .remove(file_name(&path))
                    .map_err(|e| SinkError::io("remove", &path, e))?;
                let why = if len == 0 {
                    "it was empty"
                } else {
                    "its data will be read again from the source"
                };
                tracing::warn!(path = %path.display(), bytes = len, "segment: removed a .partial left by a crash: {why}");
                self.recovered.push(path);
                continue;
            }
            let mtime = Timestamp::new(st.st_mtime, 0).unwrap_or(name.first);
            let new_name = name.truncated_from(mtime).to_string();
            let new_path = self.dir.join(&new_name);
            self.handle
                .rename_noreplace(file_name(&path), OsStr::new(&new_name))
                .map_err(|e| {
                    if e.kind() == io::ErrorKind::AlreadyExists {
                        SinkError::io("rename a crash's .partial to", new_path.clone(), e)
                    } else {
                        SinkError::io("rename", &path, e)
                    }
                })?;
            self.floor = self.floor.max(mtime);
            tracing::warn!(
                partial = %path.display(),
                kept_as = %new_path.display(),
                bytes = len,
                "segment: a .partial left by a crash was kept as truncated (`logveil cat` reads its complete chunks)"
            );
            self.recovered.push(new_path);
        }
        self.handle
            .sync()
            .map_err(|e| SinkError::io("fsync the directory", self.dir.clone(), e))
    }

    fn start(&mut self, now: Timestamp) -> Result<(), SinkError> {
        let first = now.max(self.floor);
        let name = SegmentName::partial(&self.stream, first, self.next_seq);
        let file_name = name.to_string();
        let path = self.dir.join(&file_name);
        let file = self
            .handle
            .create_new(OsStr::new(&file_name), FILE_MODE)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::PermissionDenied {
                    SinkError::DirNotWritable {
                        path: self.dir.clone(),
                        source: e,
                    }
                } else {
                    SinkError::io("create", path.clone(), e)
                }
            })?;
        crate::ownership::adopt_or_warn(&self.handle, &file, OsStr::new(&file_name), "segment");
        self.next_seq += 1;
        let os_error = std::sync::Arc::new(std::sync::atomic::AtomicI32::new(0));
        let age = self
            .recipients
            .encryptor()?
            .wrap_output(CountingFile {
                file,
                written: 0,
                os_error: os_error.clone(),
            })
            .map_err(|e| {
                let e = match os_error.load(std::sync::atomic::Ordering::Relaxed) {
                    0 => e,
                    code => io::Error::from_raw_os_error(code),
                };
                SinkError::io("write the header of", path.clone(), e)
            })?;
        tracing::debug!(path = %path.display(), "segment: started");
        self.open = Some(OpenSegment {
            name,
            path,
            age,
            first,
            last: first,
            input_bytes: 0,
            input_end: 0,
        });
        Ok(())
    }

    fn submit_block(&mut self) -> Result<(), SinkError> {
        let block = std::mem::take(&mut self.block);
        let o = self.open.as_mut().expect("a segment is open");
        self.queue
            .submit(block, &mut o.age)
            .map_err(|e| queue_error(e, &o.path))
    }

    fn write_ready(&mut self) -> Result<(), SinkError> {
        if let Some(o) = self.open.as_mut() {
            self.queue
                .write_ready(&mut o.age)
                .map_err(|e| queue_error(e, &o.path))?;
        }
        Ok(())
    }

    fn seal_open(&mut self) -> Result<Sealed, SinkError> {
        if !self.block.is_empty() {
            self.submit_block()?;
        }
        let mut o = self.open.take().expect("a segment is open");
        let r = self.queue.write_all(&mut o.age);
        if let Err(e) = r {
            let err = queue_error(e, &o.path);
            self.open = Some(o);
            return Err(err);
        }
        self.block = Vec::new();
        self.queue.release();
        let path = o.path.clone();
        let counting = o
            .age
            .finish()
            .map_err(|e| SinkError::io("write", path.clone(), e))?;
        counting
            .file
            .sync_all()
            .map_err(|e| SinkError::io("fsync", path.clone(), e))?;
        let output_bytes = counting.written;
        drop(counting);
        let sealed_name =
            SegmentName::sealed(&self.stream, o.first, o.last, o.name.seq).to_string();
        let sealed_path = self.dir.join(&sealed_name);
        self.handle
            .rename(file_name(&path), OsStr::new(&sealed_name))
            .map_err(|e| SinkError::io("rename", path.clone(), e))?;
        self.handle
            .sync()
            .map_err(|e| SinkError::io("fsync the directory", self.dir.clone(), e))?;
        self.floor = self.floor.max(o.last);
        tracing::info!(
            path = %sealed_path.display(),
            input_bytes = o.input_bytes,
            output_bytes,
            "segment: sealed"
        );
        Ok(Sealed {
            path: sealed_path,
            input_end: o.input_end,
            first: o.first,
            last: o.last,
            input_bytes: o.input_bytes,
            output_bytes,
        })
    }
}

impl Drop for SegmentWriter {
    fn drop(&mut self) {
        if let Some(o) = &self.open {
            tracing::warn!(
                path = %o.path.display(),
                "segment: writer stopped with a segment open; it stays .partial until the next start"
            );
        }
    }
}

/// The file name of a path this writer made (`dir/name`).
fn file_name(path: &Path) -> &OsStr {
    path.file_name().unwrap_or_default()
}

/// Warns when others can read or enter the output directory (0700 is recommended).
fn warn_if_open_to_others(dir: &Dir) {
    if let Ok(mode) = dir.mode() {
        if mode & 0o077 != 0 {
            tracing::warn!(
                dir = %dir.path().display(),
                mode = format!("{mode:o}"),
                "segment: output directory is accessible by group or others; 0700 is recommended"
            );
        }
    }
}

/// Takes the exclusive lock of stream `stream` in `dir` (`DIR/.STREAM.lock`, 0600, kept after use):
/// two writers of one stream would rename each other's `.partial` and reuse sequence numbers. The lock is
/// released when the returned file is closed, also when the process dies. The lock file is never opened
/// through a symlink.
fn lock_stream(dir: &Dir, stream: &str) -> Result<File, SinkError> {
    let name = lock_file_name(stream);
    let path = dir.join(&name);
    let file = match dir.open_lock(OsStr::new(&name), FILE_MODE) {
        Ok((f, _)) => f,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return Err(match dir.lstat(OsStr::new(&name)) {
                // The directory may be writable, the lock file not: left by a run as another user (root).
                Ok(st) => SinkError::LockNotWritable {
                    lock: path,
                    owner: st.st_uid,
                    source: e,
                },
                Err(_) => SinkError::DirNotWritable {
                    path: dir.path().to_path_buf(),
                    source: e,
                },
            });
        }
        Err(e) => return Err(SinkError::io("open the lock file", path, e)),
    };
    // What a root run creates here stays usable by the directory's owner (crate::ownership).
    crate::ownership::adopt_or_warn(dir, &file, OsStr::new(&name), "lock file");
    match fsutil::try_lock_exclusive(&file) {
        Ok(true) => Ok(file),
        Ok(false) => Err(SinkError::Locked {
            stream: stream.to_string(),
            dir: dir.path().to_path_buf(),
            lock: path,
        }),
        Err(e) => Err(SinkError::io("lock", path, e)),
    }
}

fn queue_error(e: QueueError, path: &Path) -> SinkError {
    match e {
        QueueError::Write(e) => SinkError::io("write", path, e),
        QueueError::Worker(m) => SinkError::Worker(m),
    }
}

fn queue_error_static(e: QueueError) -> SinkError {
    match e {
        QueueError::Write(e) => SinkError::Worker(e.to_string()),
        QueueError::Worker(m) => SinkError::Worker(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    struct Keys {
        id: age::x25519::Identity,
        recipients: Recipients,
    }

    fn keys() -> Keys {
        let id = age::x25519::Identity::generate();
        let mut recipients = Recipients::new();
        recipients.add(&id.to_public().to_string(), "test").unwrap();
        Keys { id, recipients }
    }

    fn opts(dir: &Path, k: &Keys) -> SegmentOptions {
        SegmentOptions::new(dir, "app.log", k.recipients.clone())
    }

    /// Decrypts and gunzips a whole segment.
    fn read(path: &Path, k: &Keys) -> Vec<u8> {
        let f = io::BufReader::new(File::open(path).unwrap());
        let dec = age::Decryptor::new_buffered(f).unwrap();
        let r = dec
            .decrypt(std::iter::once(&k.id as &dyn age::Identity))
            .unwrap();
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(r)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.starts_with('.'))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_segment_round_trips_and_is_named_by_its_record_times() {
        let tmp = tempfile::tempdir().unwrap();
        let k = keys();
        let mut w = SegmentWriter::open(opts(tmp.path(), &k)).unwrap();
        assert!(w
            .write(b"one\n", 4, ts("2026-11-25T10:00:00Z"))
            .unwrap()
            .is_empty());
        assert!(w.is_open());
        let partial = names(tmp.path());
        assert_eq!(
            partial,
            ["app.log.20261125T100000Z.000001.partial".to_string()]
        );
        w.write(b"two\n", 8, ts("2026-11-25T10:05:00Z")).unwrap();
        let s = w.finish(ts("2026-11-25T10:06:00Z")).unwrap().unwrap();
        assert_eq!(
            s.path.file_name().unwrap().to_str().unwrap(),
            "app.log.20261125T100000Z_20261125T100500Z.000001.log.gz.age"
        );
        assert_eq!((s.input_end, s.input_bytes), (8, 8));
        assert_eq!(s.output_bytes, fs::metadata(&s.path).unwrap().len());
        assert_eq!(read(&s.path, &k), b"one\ntwo\n");
        assert_eq!(
            fs::metadata(&s.path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(w.finish(ts("2026-11-25T10:07:00Z")).unwrap().is_none());
        assert!(!w.is_open());
    }

    #[test]
    fn rotation_by_size_cuts_between_writes_and_keeps_every_byte() {
        let tmp = tempfile::tempdir().unwrap();
        let k = keys();
        let mut o = opts(tmp.path(), &k);
        o.max_segment_bytes = 1_500_000;
        let mut w = SegmentWriter::open(o).unwrap();
        let t = ts("2026-11-25T10:00:00Z");
        let mut all = Vec::new();
        let mut sealed = Vec::new();
        let mut end = 0;
        for i in 0..40_000u32 {
            let line = format!("line {i} {}\n", "x".repeat((i % 97) as usize));
            end += line.len() as u64;
            all.extend_from_slice(line.as_bytes());
            sealed.extend(w.write(line.as_bytes(), end, t).unwrap());
        }
        sealed.extend(w.finish(t).unwrap());
        assert!(sealed.len() >= 2, "{} segments", sealed.len());
        let mut joined = Vec::new();
        for (i, s) in sealed.iter().enumerate() {
            if i + 1 < sealed.len() {
                assert!(s.input_bytes >= 1_500_000);
            }
            let data = read(&s.path, &k);
            assert_eq!(data.len() as u64, s.input_bytes);
            joined.extend(data);
            assert_eq!(s.input_end, joined.len() as u64, "input_end is exact");
        }
        assert!(joined == all, "segments concatenate to the input");
        let mut by_name = sealed.clone();
        by_name.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(by_name, sealed, "names sort in data order");
    }

    #[test]
    fn buffers_handed_over_whole_or_copied_keep_every_byte_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let k = keys();
        let mut o = opts(tmp.path(), &k);
        o.max_segment_bytes = 3 * BLOCK_SIZE as u64;
        let mut w = SegmentWriter::open(o).unwrap();
        let t = ts("2026-11-25T10:00:00Z");
        let (mut all, mut sealed, mut end) = (Vec::new(), Vec::new(), 0u64);
        // Sizes around half a block and a block: some are taken as blocks, some copied, some after a
        // borrowed write started a block.
        let sizes = [
            BLOCK_SIZE / 2,
            10,
            BLOCK_SIZE / 2 - 1,
            BLOCK_SIZE + 7,
            3,
            BLOCK_SIZE / 2 + 1,
        ];
        for (i, &n) in sizes.iter().cycle().take(24).enumerate() {
            let mut piece: Vec<u8> = (0..n).map(|j| b'a' + ((i * 7 + j) % 26) as u8).collect();
            *piece.last_mut().unwrap() = b'\n';
            all.extend_from_slice(&piece);
            end += n as u64;
            if i % 5 == 4 {
                sealed.extend(w.write(&piece, end, t).unwrap());
            } else {
                sealed.extend(w.write_vec(&mut piece, end, t).unwrap());
                assert!(piece.is_empty(), "the caller's buffer comes back empty");
            }
        }
        sealed.extend(w.finish(t).unwrap());
        assert!(sealed.len() >= 2, "{} segments", sealed.len());
        let (mut joined, mut members) = (Vec::new(), 0);
        for s in &sealed {
            let data = read(&s.path, &k);
            assert_eq!(data.len() as u64, s.input_bytes);
            joined.extend(data);
            assert_eq!(s.input_end, joined.len() as u64);
            // Every member holds at most a block (what `cat` verifies before it prints).
            let f = io::BufReader::new(File::open(&s.path).unwrap());
            let dec = age::Decryptor::new_buffered(f).unwrap();
            let mut gz = io::BufReader::new(
                dec.decrypt(std::iter::once(&k.id as &dyn age::Identity))
                    .unwrap(),
            );
            while !io::BufRead::fill_buf(&mut gz).unwrap().is_empty() {
                let mut m = Vec::new();
                flate2::bufread::GzDecoder::new(&mut gz)
                    .read_to_end(&mut m)
                    .unwrap();
                assert!(m.len() <= BLOCK_SIZE, "a member of {} bytes", m.len());
                members += 1;
            }
        }
        assert!(members > sealed.len(), "{members} members");
        assert!(joined == all, "segments concatenate to the input");
    }

    #[test]
    fn rotation_by_age_on_tick_and_on_write() {
        let tmp = tempfile::tempdir().unwrap();
        let k = keys();
        let mut o = opts(tmp.path(), &k);
        o.max_segment_age = Duration::from_secs(60);
        let mut w = SegmentWriter::open(o).unwrap();
        let t0 = ts("2026-11-25T10:00:00Z");
        w.write(b"a\n", 2, t0).unwrap();
        assert_eq!(w.deadline(), Some(ts("2026-11-25T10:01:00Z")));
        assert!(w.tick(ts("2026-11-25T10:00:59Z")).unwrap().is_none());
        let s = w.tick(ts("2026-11-25T10:01:00Z")).unwrap().unwrap();
        assert_eq!(read(&s.path, &k), b"a\n");
        assert_eq!(w.deadline(), None);

        w.write(b"b\n", 4, ts("2026-11-25T10:02:00Z")).unwrap();
        let sealed = w.write(b"c\n", 6, ts("2026-11-25T10:03:30Z")).unwrap();
        assert_eq!(sealed.len(), 1, "the old segment is finished before c");
        assert_eq!(read(&sealed[0].path, &k), b"b\n");
        assert_eq!(sealed[0].input_end, 4);
        let last = w.finish(ts("2026-11-25T10:04:00Z")).unwrap().unwrap();
        assert_eq!(read(&last.path, &k), b"c\n");
    }

    #[test]
    fn sequence_numbers_continue_and_times_never_go_back_across_restarts() {
        let tmp = tempfile::tempdir().unwrap();
        let k = keys();
        let late = ts("2026-11-25T12:00:00Z");
        {
            let mut w = SegmentWriter::open(opts(tmp.path(), &k)).unwrap();
            w.write(b"x\n", 2, late).unwrap();
            w.finish(late).unwrap();
        }
        let mut w = SegmentWriter::open(opts(tmp.path(), &k)).unwrap();
        // The clock stepped back: the new segment still sorts after the old one.
        w.write(b"y\n", 2, ts("2026-11-25T11:00:00Z")).unwrap();
        let s = w.finish(late).unwrap().unwrap();
        let n = names(tmp.path());
        assert_eq!(n.len(), 2);
        assert_eq!(n[1], s.path.file_name().unwrap().to_str().unwrap());
        assert!(n[1].contains(".000002."), "{n:?}");
    }

    #[test]
    fn partial_policies_keep_as_truncated_or_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let k = keys();
        let t = ts("2026-11-25T10:00:00Z");
        {
            let mut w = SegmentWriter::open(opts(tmp.path(), &k)).unwrap();
            w.write(&vec![b'z'; 3 << 20], 1, t).unwrap();
            // Let the compressed members reach the file, then "crash": dropping does not finish.
            w.tick(t).unwrap();
            drop(w);
        }
        let partial = names(tmp.path());
        assert!(partial[0].ends_with(".partial"), "{partial:?}");
        // Another stream's writer leaves it alone.
        let other = SegmentOptions::new(tmp.path(), "other", k.recipients.clone());
        drop(SegmentWriter::open(other).unwrap());
        assert_eq!(names(tmp.path()), partial);

        let w = SegmentWriter::open(opts(tmp.path(), &k)).unwrap();
        let n = names(tmp.path());
        assert_eq!(n.len(), 1);
        assert!(n[0].ends_with(".truncated.log.gz.age"), "{n:?}");
        assert_eq!(w.recovered().len(), 1);
        assert_eq!(
            SegmentName::parse(&n[0]).unwrap().seq,
            1,
            "the truncated name keeps its sequence number"
        );
        drop(w);

        // Remove policy (tail).
        {
            let mut w = SegmentWriter::open(opts(tmp.path(), &k)).unwrap();
            w.write(b"again\n", 6, t).unwrap();
            drop(w);
        }
        let mut o = opts(tmp.path(), &k);
        o.partial_policy = PartialPolicy::Remove;
        let w = SegmentWriter::open(o).unwrap();
        assert_eq!(w.recovered().len(), 1);
        assert!(!names(tmp.path()).iter().any(|n| n.ends_with(".partial")));
    }

    #[test]
    fn a_stream_cannot_have_two_writers() {
        let tmp = tempfile::tempdir().unwrap();
        let k = keys();
        let _w = SegmentWriter::open(opts(tmp.path(), &k)).unwrap();
        let err = SegmentWriter::open(opts(tmp.path(), &k))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("already being written"), "{err}");
    }

    #[test]
    fn abort_removes_the_partial_and_the_writer_goes_on() {
        let tmp = tempfile::tempdir().unwrap();
        let k = keys();
        let t = ts("2026-11-25T10:00:00Z");
        let mut w = SegmentWriter::open(opts(tmp.path(), &k)).unwrap();
        w.write(&vec![b'q'; 2 << 20], 1, t).unwrap();
        w.abort().unwrap();
        assert!(names(tmp.path()).is_empty());
        w.write(b"ok\n", 3, t).unwrap();
        let s = w.finish(t).unwrap().unwrap();
        assert_eq!(read(&s.path, &k), b"ok\n");
    }

    #[test]
    fn no_recipient_is_an_error_before_anything_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let o = SegmentOptions::new(tmp.path().join("out"), "s", Recipients::new());
        assert!(matches!(
            SegmentWriter::open(o),
            Err(SinkError::NoRecipients)
        ));
        assert!(!tmp.path().join("out").exists());
    }

    #[test]
    fn writer_is_send() {
        fn is_send<T: Send>() {}
        is_send::<SegmentWriter>();
        is_send::<SegmentOptions>();
    }
}
