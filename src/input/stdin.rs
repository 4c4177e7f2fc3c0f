//! Reading a stream (stdin) on its own thread, so the main loop can also wait for signals and timers.
//!
//! Chunks go over a bounded channel: when the consumer is slow, the reader blocks, and the writer on the
//! other side of the pipe blocks in turn (backpressure, no unbounded buffering).

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::thread::JoinHandle;

/// What the reader thread hands over.
#[derive(Debug)]
pub enum Chunk {
    /// Bytes read (never empty).
    Data(Vec<u8>),
    /// End of input.
    End,
    /// Reading failed; nothing more comes.
    Failed(io::Error),
}

/// Bytes per read.
pub const READ_SIZE: usize = 256 << 10;

/// Starts a thread reading `input` in chunks of up to `read_size` bytes and sending each, wrapped by
/// `wrap`, to `tx`. The thread ends after `End` or `Failed`, or when the receiver is gone.
pub fn spawn_reader<R, T>(
    mut input: R,
    read_size: usize,
    tx: SyncSender<T>,
    wrap: fn(Chunk) -> T,
) -> io::Result<Reader>
where
    R: Read + Send + 'static,
    T: Send + 'static,
{
    let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    let idle = Arc::new(AtomicBool::new(false));
    let flag = idle.clone();
    let handle = std::thread::Builder::new()
        .name("logveil-input".into())
        .spawn(move || {
            loop {
                let mut buf = back_rx.try_recv().unwrap_or_default();
                buf.resize(read_size.max(1), 0);
                // Idle: waiting for input, holding nothing that was read.
                flag.store(true, Ordering::SeqCst);
                let result = input.read(&mut buf);
                flag.store(false, Ordering::SeqCst);
                let chunk = match result {
                    Ok(0) => Chunk::End,
                    Ok(n) => {
                        buf.truncate(n);
                        Chunk::Data(buf)
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => Chunk::Failed(e),
                };
                let last = !matches!(chunk, Chunk::Data(_));
                if tx.send(wrap(chunk)).is_err() || last {
                    break;
                }
            }
            flag.store(true, Ordering::SeqCst);
        })?;
    Ok(Reader {
        _handle: handle,
        recycle: back_tx,
        idle,
    })
}

/// Whether stdin has bytes (or an end of file) ready to be read right now.
pub fn stdin_ready() -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let stdin = io::stdin();
    let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    matches!(poll(&mut fds, Some(&zero)), Ok(n) if n > 0)
}

/// The reader thread, seen from the consumer.
pub struct Reader {
    _handle: JoinHandle<()>,
    recycle: SyncSender<Vec<u8>>,
    idle: Arc<AtomicBool>,
}

impl Reader {
    /// Gives a used buffer back for reuse (no allocation and page faults per read).
    pub fn give(&self, buf: Vec<u8>) {
        let _ = self.recycle.try_send(buf);
    }

    /// True while the thread waits for input (or has ended) and holds no bytes it has read. When this
    /// is true and the channel is empty, everything read so far has been received.
    pub fn is_idle(&self) -> bool {
        self.idle.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
fn wait_idle(r: &Reader) -> bool {
    (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(5));
        r.is_idle()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn chunks_arrive_in_order_then_end() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let (tx, rx) = mpsc::sync_channel(2);
        let reader = spawn_reader(io::Cursor::new(data.clone()), 4096, tx, |c| c).unwrap();
        let mut got = Vec::new();
        loop {
            match rx.recv().unwrap() {
                Chunk::Data(d) => {
                    assert!(!d.is_empty() && d.len() <= 4096);
                    got.extend_from_slice(&d);
                    reader.give(d);
                }
                Chunk::End => break,
                Chunk::Failed(e) => panic!("{e}"),
            }
        }
        assert!(got == data);
        assert!(super::wait_idle(&reader));
    }
}
