//! Reading a stream (stdin) on its own thread, so the main loop can also wait for signals and timers.
//!
//! Chunks go over a bounded channel: when the consumer is slow, the reader blocks, and the writer on the
//! other side of the pipe blocks in turn (backpressure, no unbounded buffering).

use std::io::{self, Read};
use std::sync::mpsc::SyncSender;
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
///
/// Buffers sent back on the returned [`Recycle`] are reused (no allocation and page faults per read).
pub fn spawn_reader<R, T>(
    mut input: R,
    read_size: usize,
    tx: SyncSender<T>,
    wrap: fn(Chunk) -> T,
) -> io::Result<(JoinHandle<()>, Recycle)>
where
    R: Read + Send + 'static,
    T: Send + 'static,
{
    let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    let handle = std::thread::Builder::new()
        .name("logveil-input".into())
        .spawn(move || loop {
            let mut buf = back_rx.try_recv().unwrap_or_default();
            buf.resize(read_size.max(1), 0);
            let chunk = match input.read(&mut buf) {
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
                return;
            }
        })?;
    Ok((handle, Recycle(back_tx)))
}

/// Hands used buffers back to the reader thread.
#[derive(Clone)]
pub struct Recycle(SyncSender<Vec<u8>>);

impl Recycle {
    /// Gives a buffer back (dropped if the reader has enough spares or is gone).
    pub fn give(&self, buf: Vec<u8>) {
        let _ = self.0.try_send(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn chunks_arrive_in_order_then_end() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let (tx, rx) = mpsc::sync_channel(2);
        let (h, recycle) = spawn_reader(io::Cursor::new(data.clone()), 4096, tx, |c| c).unwrap();
        let mut got = Vec::new();
        loop {
            match rx.recv().unwrap() {
                Chunk::Data(d) => {
                    assert!(!d.is_empty() && d.len() <= 4096);
                    got.extend_from_slice(&d);
                    recycle.give(d);
                }
                Chunk::End => break,
                Chunk::Failed(e) => panic!("{e}"),
            }
        }
        h.join().unwrap();
        assert!(got == data);
    }
}
