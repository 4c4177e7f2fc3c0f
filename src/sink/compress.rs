//! Parallel gzip: blocks of redacted bytes become independent gzip members on worker threads, and come
//! back in submission order. Concatenated members are one valid gzip stream (`gzip -dc` reads them all).
//!
//! Members are compressed with libdeflate, which compresses a whole buffer at once (exactly what an
//! independent member is): measured on the synthetic bot log at level 6 it needs ~25% less CPU than
//! zlib-rs (0.62 s vs 0.83 s per 100 MB) and its output is ~5% smaller. flate2 (zlib-rs) still reads gzip.
//!
//! One pool serves the whole process (as many workers as cores), so a tailer with many streams does not
//! start threads per stream. Each writer keeps its own queue of replies, bounded by [`MAX_INFLIGHT`]: a
//! writer that gets ahead of the workers waits for its oldest block (backpressure), so memory stays at a
//! few blocks per writer whatever the input rate.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Mutex, OnceLock};

/// Redacted bytes per gzip member. Larger members compress a little better; smaller ones bound memory.
pub const BLOCK_SIZE: usize = 512 << 10;

struct Job {
    data: Vec<u8>,
    out: Vec<u8>,
    level: u32,
    reply: SyncSender<Done>,
}

/// A compressed member (`member[..len]`), and the input buffer handed back for reuse.
pub(crate) struct Done {
    pub member: Vec<u8>,
    pub len: usize,
    pub data: Vec<u8>,
}

struct Pool {
    jobs: SyncSender<Job>,
    threads: usize,
}

fn pool() -> Result<&'static Pool, String> {
    static POOL: OnceLock<Result<Pool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 16);
        let (tx, rx) = mpsc::sync_channel::<Job>(threads);
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("logveil-gzip-{i}"))
                .spawn(move || worker(&rx))
                .map_err(|e| format!("cannot start a compression thread: {e}"))?;
        }
        Ok(Pool { jobs: tx, threads })
    })
    .as_ref()
    .map_err(Clone::clone)
}

fn worker(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let guard = rx.lock().unwrap_or_else(|p| p.into_inner());
            guard.recv()
        };
        let Ok(mut job) = job else { return };
        let len = compress(&job.data, job.level, &mut job.out);
        // The writer may have given up on this block (abort, drop): then nobody listens.
        let _ = job.reply.send(Done {
            member: job.out,
            len,
            data: job.data,
        });
    }
}

/// One gzip member of `data` at `level` (0-9, as gzip's), written to the start of `out`: its length.
/// `out` keeps the length libdeflate may need (bytes after the member are left over from earlier ones),
/// so that a buffer reused for the next member is not zeroed again.
pub(crate) fn compress(data: &[u8], level: u32, out: &mut Vec<u8>) -> usize {
    use libdeflater::{CompressionLvl, Compressor};
    use std::cell::RefCell;
    thread_local! {
        // One compressor per thread and level (its match-finder tables are reused for every member).
        static COMPRESSOR: RefCell<Option<(u32, Compressor)>> = const { RefCell::new(None) };
    }
    let level = level.min(9);
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let comp = match &mut *cell {
            Some((l, c)) if *l == level => c,
            slot => {
                let lvl = CompressionLvl::new(level as i32).unwrap_or_default();
                &mut slot.insert((level, Compressor::new(lvl))).1
            }
        };
        let bound = comp.gzip_compress_bound(data.len());
        if out.len() < bound {
            out.resize(bound, 0);
        }
        // The buffer has the size libdeflate says is always enough, so this cannot fail.
        comp.gzip_compress(data, out).expect("gzip output bound")
    })
}

/// Why a queue could not deliver.
#[derive(Debug)]
pub(crate) enum QueueError {
    /// The sink given to a drain method failed.
    Write(std::io::Error),
    /// The pool is gone (a worker panicked or none could be started).
    Worker(String),
}

/// One writer's blocks in flight, in order.
pub(crate) struct MemberQueue {
    level: u32,
    inflight: VecDeque<Receiver<Done>>,
    max_inflight: usize,
    spare_data: Vec<Vec<u8>>,
    spare_out: Vec<Vec<u8>>,
}

/// Blocks a writer may have in flight before it waits for the oldest one.
pub const MAX_INFLIGHT: usize = 8;

impl MemberQueue {
    pub fn new(level: u32) -> Result<Self, QueueError> {
        let p = pool().map_err(QueueError::Worker)?;
        Ok(MemberQueue {
            level,
            inflight: VecDeque::new(),
            max_inflight: MAX_INFLIGHT.max(p.threads + 1),
            spare_data: Vec::new(),
            spare_out: Vec::new(),
        })
    }

    /// An empty buffer to fill with the next block (reused when one is free).
    pub fn buffer(&mut self) -> Vec<u8> {
        self.spare_data
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(BLOCK_SIZE))
    }

    /// Queues a block; first writes finished members to `sink` while too many are in flight.
    pub fn submit(&mut self, data: Vec<u8>, sink: &mut dyn Write) -> Result<(), QueueError> {
        while self.inflight.len() >= self.max_inflight {
            self.write_oldest(sink)?;
        }
        let p = pool().map_err(QueueError::Worker)?;
        let (tx, rx) = mpsc::sync_channel(1);
        let out = self.spare_out.pop().unwrap_or_default();
        p.jobs
            .send(Job {
                data,
                out,
                level: self.level,
                reply: tx,
            })
            .map_err(|_| QueueError::Worker("the compression pool stopped".into()))?;
        self.inflight.push_back(rx);
        Ok(())
    }

    /// Writes the members that are already finished, in order, without waiting.
    pub fn write_ready(&mut self, sink: &mut dyn Write) -> Result<(), QueueError> {
        while let Some(front) = self.inflight.front() {
            match front.try_recv() {
                Ok(done) => {
                    self.inflight.pop_front();
                    self.deliver(done, sink)?;
                }
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    return Err(QueueError::Worker("a compression thread stopped".into()))
                }
            }
        }
        Ok(())
    }

    /// Waits for every block in flight and writes its member, in order.
    pub fn write_all(&mut self, sink: &mut dyn Write) -> Result<(), QueueError> {
        while !self.inflight.is_empty() {
            self.write_oldest(sink)?;
        }
        Ok(())
    }

    /// Forgets the blocks in flight (their members are never written) and frees the spare buffers.
    pub fn discard(&mut self) {
        self.inflight.clear();
        self.release();
    }

    /// Frees spare buffers (an idle writer holds no block memory).
    pub fn release(&mut self) {
        self.spare_data = Vec::new();
        self.spare_out = Vec::new();
    }

    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    fn write_oldest(&mut self, sink: &mut dyn Write) -> Result<(), QueueError> {
        let Some(front) = self.inflight.pop_front() else {
            return Ok(());
        };
        let done = front
            .recv()
            .map_err(|_| QueueError::Worker("a compression thread stopped".into()))?;
        self.deliver(done, sink)
    }

    fn deliver(&mut self, mut done: Done, sink: &mut dyn Write) -> Result<(), QueueError> {
        sink.write_all(&done.member[..done.len])
            .map_err(QueueError::Write)?;
        done.data.clear();
        if self.spare_data.len() < self.max_inflight {
            self.spare_data.push(done.data);
        }
        if self.spare_out.len() < self.max_inflight {
            self.spare_out.push(done.member);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip_all(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn members_come_back_in_order_and_concatenate_to_the_input() {
        let mut q = MemberQueue::new(6).unwrap();
        let mut expected = Vec::new();
        let mut sink = Vec::new();
        for i in 0..20u32 {
            let mut block = q.buffer();
            // Blocks of very different sizes finish out of order on the workers.
            let n = if i % 3 == 0 { 300_000 } else { 10 + i as usize };
            for j in 0..n {
                block.push(b'a' + ((i as usize + j) % 26) as u8);
            }
            expected.extend_from_slice(&block);
            q.submit(block, &mut sink).unwrap();
            assert!(q.in_flight() <= q.max_inflight);
            q.write_ready(&mut sink).unwrap();
        }
        q.write_all(&mut sink).unwrap();
        assert_eq!(q.in_flight(), 0);
        assert_eq!(gunzip_all(&sink), expected);
    }

    #[test]
    fn level_zero_and_nine_are_valid_gzip() {
        let data = b"line one\nline two\n".repeat(1000);
        for level in [0, 1, 6, 9] {
            let mut m = vec![7; 3];
            let n = compress(&data, level, &mut m);
            assert_eq!(gunzip_all(&m[..n]), data, "level {level}");
        }
    }
}
