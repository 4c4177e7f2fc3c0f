//! Parallel redaction: the input cut into chunks of whole lines, the chunks redacted on N worker threads,
//! the output handed back strictly in input order and byte for byte what one [`Redactor`] gives.
//!
//! How it stays exact. A chunk starts at a line start, and its worker starts from the carry a redactor has
//! there when nothing goes on past the newline before it ([`Carry::at_line_start`]: look-behind context
//! only). That is a guess: a PEM block, or a long line being dropped, can go on past a newline. Pieces are
//! taken in input order, and each chunk's starting carry is compared with the one the chunk before it
//! really ended with; when they differ (rarely) the chunk is redone on the caller's thread from the true
//! carry. A line longer than a chunk is redacted on the caller's thread, in order, through the redactor's
//! own long-line window, so memory stays bounded whatever the length of a line.
//!
//! Latency: complete lines go to the workers at every [`ParallelRedactor::push`]; a caller that calls
//! [`ParallelRedactor::flush`] when its input has nothing more ready shows each line at once.
//!
//! Memory: at most `2 x threads` chunks are in flight (`push` waits for the oldest past that), plus one long
//! line's window. `src/redact` stays single-threaded and pure: this module only drives redactors.
//!
//! Use: `push` input, take [`Piece`]s with `next_piece` (redacted bytes, their findings, and the input
//! offset they account for, for durable checkpoints), `flush` when the input is idle, `finish` at its end.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::num::NonZeroUsize;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crate::redact::stream::{CONTEXT, MAX_LINE};
use crate::redact::{Carry, Engine, Findings, Redactor};

/// Input per chunk by default: whole lines up to this many bytes.
pub const DEFAULT_CHUNK: usize = 256 << 10;

/// How a [`ParallelRedactor`] works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Worker threads; 1 redacts on the caller's thread, with no workers.
    pub threads: NonZeroUsize,
    /// Whole lines up to this many bytes make one chunk; a longer line is redacted in order, in pieces.
    pub chunk_bytes: usize,
    /// The redactors' long-line limit (see [`Redactor::with_max_line`]).
    pub max_line: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: available_threads(),
            chunk_bytes: DEFAULT_CHUNK,
            max_line: MAX_LINE,
        }
    }
}

/// The number of threads this process may run at once (CPU affinity and cgroup quotas counted).
pub fn available_threads() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Redacted output, in input order.
#[derive(Debug)]
pub struct Piece {
    /// Redacted bytes; they follow the previous piece's.
    pub bytes: Vec<u8>,
    /// What was found in them (counts only).
    pub findings: Findings,
    /// Input offset (bytes pushed since the stream began) up to which the input is accounted for by this
    /// piece and the ones before it: every byte before it is redacted into them, no byte after it.
    pub input_end: u64,
}

/// Redacts one stream on several threads; see the module documentation.
pub struct ParallelRedactor {
    engine: Arc<Engine>,
    opts: Options,
    /// None with one thread: everything is redacted on the caller's thread.
    pool: Option<Pool>,
    /// `buf[..head]`: the last [`CONTEXT`] bytes of input before `buf_start` (look-behind, so that a
    /// chunk handed out carries its own and is redacted where it is); `buf[head..]`: input not yet handed
    /// out, from input offset `buf_start`.
    buf: Vec<u8>,
    head: usize,
    buf_start: u64,
    /// `buf_start` is inside a line longer than a chunk (redacted in order, on this thread).
    mid_line: bool,
    /// `input_end` of the last piece.
    last_end: u64,
    /// Sequence numbers: of the next job sent, and of the next one whose piece is taken.
    next_seq: u64,
    next_taken: u64,
    /// Jobs done out of order, waiting for the ones before them.
    arrived: BTreeMap<u64, Done>,
    /// The true carry after the last piece taken.
    carry: Carry,
    ready: VecDeque<Piece>,
    /// Buffers for reuse.
    spare: Vec<Vec<u8>>,
    /// Chunks redone because their guessed starting carry was wrong.
    redone: u64,
}

/// Redaction worker threads, shared by any number of [`ParallelRedactor`]s of one engine (`tail`: one
/// redactor per source, one set of workers). They stop when the last redactor using them is dropped.
pub struct Workers {
    engine: Arc<Engine>,
    jobs: Option<Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `threads` workers redacting with `engine`.
    pub fn start(engine: Arc<Engine>, threads: NonZeroUsize) -> io::Result<Arc<Workers>> {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut w = Workers {
            engine: engine.clone(),
            jobs: Some(job_tx),
            threads: Vec::with_capacity(threads.get()),
        };
        for i in 0..threads.get() {
            let (engine, jobs) = (engine.clone(), job_rx.clone());
            // On an error here, dropping `w` stops the workers already started.
            w.threads.push(
                std::thread::Builder::new()
                    .name(format!("logveil-redact-{i}"))
                    .spawn(move || worker(engine, jobs))?,
            );
        }
        Ok(Arc::new(w))
    }

    /// How many threads there are.
    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.jobs = None;
        for w in self.threads.drain(..) {
            let _ = w.join();
        }
    }
}

/// A redactor's share of the workers: where its jobs go and its own queue of results.
struct Pool {
    workers: Arc<Workers>,
    reply: Sender<Done>,
    done: Receiver<Done>,
}

struct Job {
    /// Where the result goes (the redactor that sent it).
    reply: Sender<Done>,
    seq: u64,
    start: u64,
    /// Look-behind, then the chunk: `input[ctx..]`.
    input: Vec<u8>,
    ctx: usize,
    /// The carry the job starts from: a guess, unless nothing was in flight when it was sent.
    carry: Carry,
    out: Vec<u8>,
}

struct Done {
    seq: u64,
    start: u64,
    input: Vec<u8>,
    ctx: usize,
    carry_in: Carry,
    result: std::thread::Result<Redacted>,
}

struct Redacted {
    out: Vec<u8>,
    findings: Findings,
    carry: Carry,
}

/// Redacts `input[ctx..]` into `out`, going on from `carry` (`input[..ctx]` is the look-behind before
/// it); with `last`, finishes the stream.
fn redact_part(
    engine: &Engine,
    carry: Carry,
    input: &[u8],
    ctx: usize,
    last: bool,
    mut out: Vec<u8>,
) -> Redacted {
    let mut r = Redactor::resume(engine, carry);
    // Whole lines after the look-behind the carry holds (every chunk but a long line's pieces): redacted
    // in place. Otherwise they go through the window.
    if !r.push_after_context(input, ctx, &mut out) {
        r.push(&input[ctx..], &mut out);
    }
    if last {
        r.finish(&mut out);
    }
    let findings = r.take_findings();
    Redacted {
        out,
        findings,
        carry: r.into_carry(),
    }
}

fn worker(engine: Arc<Engine>, jobs: Arc<Mutex<Receiver<Job>>>) {
    loop {
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(Job {
            reply,
            seq,
            start,
            input,
            ctx,
            carry,
            out,
        }) = job
        else {
            return;
        };
        let carry_in = carry.clone();
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            redact_part(&engine, carry, &input, ctx, false, out)
        }));
        let done_msg = Done {
            seq,
            start,
            input,
            ctx,
            carry_in,
            result,
        };
        // A redactor dropped meanwhile no longer listens; the workers go on for the others.
        let _ = reply.send(done_msg);
    }
}

impl ParallelRedactor {
    /// Starts `opts.threads` workers of its own (none for one thread).
    pub fn new(engine: Arc<Engine>, opts: Options) -> io::Result<ParallelRedactor> {
        let workers = if opts.threads.get() > 1 {
            Some(Workers::start(engine.clone(), opts.threads)?)
        } else {
            None
        };
        Ok(Self::build(engine, opts, workers))
    }

    /// A redactor whose chunks go to `workers` (shared with other redactors); `opts.threads` is taken
    /// from them.
    pub fn sharing(workers: &Arc<Workers>, opts: Options) -> ParallelRedactor {
        let opts = Options {
            threads: NonZeroUsize::new(workers.threads()).unwrap_or(NonZeroUsize::MIN),
            ..opts
        };
        let single = opts.threads.get() == 1;
        Self::build(
            workers.engine.clone(),
            opts,
            (!single).then(|| workers.clone()),
        )
    }

    fn build(
        engine: Arc<Engine>,
        opts: Options,
        workers: Option<Arc<Workers>>,
    ) -> ParallelRedactor {
        let opts = Options {
            chunk_bytes: opts.chunk_bytes.max(1),
            ..opts
        };
        let pool = workers.map(|workers| {
            let (reply, done) = mpsc::channel::<Done>();
            Pool {
                workers,
                reply,
                done,
            }
        });
        ParallelRedactor {
            carry: Carry::at_line_start(&[], opts.max_line),
            engine,
            opts,
            pool,
            buf: Vec::new(),
            head: 0,
            buf_start: 0,
            mid_line: false,
            last_end: 0,
            next_seq: 0,
            next_taken: 0,
            arrived: BTreeMap::new(),
            ready: VecDeque::new(),
            spare: Vec::new(),
            redone: 0,
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn threads(&self) -> NonZeroUsize {
        self.opts.threads
    }

    /// Feeds input. Complete lines go to the workers; a partial line waits for its newline (or, longer
    /// than a chunk, is redacted in pieces). Waits while `2 x threads` chunks are in flight.
    pub fn push(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let n = data.len().min(self.opts.chunk_bytes);
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            self.dispatch(false);
        }
        self.dispatch(true);
    }

    /// The next redacted piece, in input order, if one is ready (never waits).
    pub fn next_piece(&mut self) -> Option<Piece> {
        if self.ready.is_empty() {
            self.harvest();
        }
        self.ready.pop_front()
    }

    /// Whether input handed to the workers is not yet ready as pieces.
    pub fn busy(&self) -> bool {
        self.next_seq > self.next_taken
    }

    /// Waits until every complete line pushed so far is ready as pieces (a partial line stays held).
    pub fn flush(&mut self) {
        self.wait_for(0);
    }

    /// End of the stream: redacts what is left (a last line without newline included) and waits for all
    /// of it; every piece is then ready. The next `push` begins a new stream, at input offset 0.
    pub fn finish(&mut self) {
        self.wait_for(0);
        self.inline(self.buf.len() - self.head, true);
        self.mid_line = false;
        self.buf_start = 0;
        self.last_end = 0;
        self.buf.clear();
        self.head = 0;
    }

    /// Chunks redone on the caller's thread so far because something (a PEM block, a dropped long line) went
    /// on past their start.
    pub fn redone_chunks(&self) -> u64 {
        self.redone
    }

    /// Lets go of the buffers kept for reuse and of the input buffer's spare room (an idle stream among
    /// many: `tail`). Nothing in flight is touched.
    pub fn release_buffers(&mut self) {
        self.spare = Vec::new();
        self.buf.shrink_to_fit();
    }

    /// Gives a piece's buffer back for reuse.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if buf.capacity() >= 1024 && self.spare.len() < 4 * self.opts.threads.get() + 4 {
            buf.clear();
            self.spare.push(buf);
        }
    }

    fn spare_buf(&mut self) -> Vec<u8> {
        self.spare.pop().unwrap_or_default()
    }

    /// Hands out the chunks `buf` holds: while it holds a whole chunk, and with `all_lines`, every
    /// complete line in it.
    fn dispatch(&mut self, all_lines: bool) {
        let chunk = self.opts.chunk_bytes;
        loop {
            let pending = &self.buf[self.head..];
            if self.mid_line {
                match memchr::memchr(b'\n', pending) {
                    Some(i) => {
                        self.inline(i + 1, false);
                        self.mid_line = false;
                    }
                    None if pending.len() >= chunk => return self.inline(pending.len(), false),
                    None => return,
                }
            } else if pending.len() >= chunk {
                match memchr::memrchr(b'\n', &pending[..chunk]) {
                    Some(i) => self.send(i + 1),
                    // A line longer than a chunk begins here.
                    None => self.mid_line = true,
                }
            } else {
                if all_lines {
                    if let Some(i) = memchr::memrchr(b'\n', pending) {
                        self.send(i + 1);
                    }
                }
                return;
            }
        }
    }

    /// Sends the next `len` input bytes (whole lines) to a worker.
    fn send(&mut self, len: usize) {
        if self.pool.is_none() {
            return self.inline(len, false);
        }
        self.wait_for(2 * self.opts.threads.get() - 1);
        // With nothing in flight the true carry is known; otherwise the usual one at a line start is
        // assumed, and checked when the piece is taken.
        let carry = if self.busy() {
            let buf = self.spare_buf();
            Carry::at_line_start_in(buf, &self.buf[..self.head], self.opts.max_line)
        } else {
            self.carry.clone()
        };
        let start = self.buf_start;
        let (input, ctx) = self.take_input(len);
        let reply = match &self.pool {
            Some(pool) => pool.reply.clone(),
            None => unreachable!("checked above"),
        };
        let job = Job {
            reply,
            seq: self.next_seq,
            start,
            input,
            ctx,
            carry,
            out: self.spare_buf(),
        };
        self.next_seq += 1;
        if let Some(jobs) = self.pool.as_ref().and_then(|p| p.workers.jobs.as_ref()) {
            jobs.send(job)
                .expect("the workers run until the redactor is dropped");
        }
    }

    /// Redacts the next `len` input bytes on this thread, after everything before it.
    fn inline(&mut self, len: usize, last: bool) {
        self.wait_for(0);
        if len == 0 && !last {
            return;
        }
        let carry = self.take_carry();
        let out = self.spare_buf();
        let start = self.buf_start;
        let (input, ctx) = self.take_input(len);
        let r = redact_part(&self.engine, carry, &input, ctx, last, out);
        self.recycle(input);
        self.take(start, len, r);
    }

    fn take_carry(&mut self) -> Carry {
        std::mem::replace(&mut self.carry, Carry::at_line_start(&[], 0))
    }

    /// Takes the next `len` input bytes out of the input buffer without copying them, with the look-behind
    /// before them: `(buffer, ctx)`, the bytes being `buffer[ctx..]`. The look-behind they leave and the rest
    /// of the input move to a spare buffer.
    fn take_input(&mut self, len: usize) -> (Vec<u8>, usize) {
        let end = self.head + len;
        let keep_from = end.saturating_sub(CONTEXT);
        let mut rest = self.spare_buf();
        rest.extend_from_slice(&self.buf[keep_from..]);
        self.buf.truncate(end);
        let input = std::mem::replace(&mut self.buf, rest);
        let ctx = std::mem::replace(&mut self.head, end - keep_from);
        self.buf_start += len as u64;
        (input, ctx)
    }

    /// Makes the redaction of the `len` input bytes at `start` the next piece.
    fn take(&mut self, start: u64, len: usize, r: Redacted) {
        let old = std::mem::replace(&mut self.carry, r.carry);
        self.recycle(old.into_buffer());
        let input_end = start + len as u64 - self.carry.pending() as u64;
        let nothing = r.out.is_empty() && r.findings.total() == 0 && r.findings.lines_dropped == 0;
        if nothing && input_end == self.last_end {
            return self.recycle(r.out);
        }
        self.last_end = input_end;
        self.ready.push_back(Piece {
            bytes: r.out,
            findings: r.findings,
            input_end,
        });
    }

    /// Takes the jobs that are done, in order (never waits).
    fn harvest(&mut self) {
        if let Some(pool) = &self.pool {
            while let Ok(d) = pool.done.try_recv() {
                self.arrived.insert(d.seq, d);
            }
        }
        self.take_in_order();
    }

    /// Waits until at most `in_flight` jobs are not yet taken.
    fn wait_for(&mut self, in_flight: usize) {
        self.harvest();
        while self.next_seq - self.next_taken > in_flight as u64 {
            let Some(pool) = &self.pool else { return };
            let d = pool
                .done
                .recv()
                .expect("the workers run until the redactor is dropped");
            self.arrived.insert(d.seq, d);
            self.take_in_order();
        }
    }

    fn take_in_order(&mut self) {
        while let Some(d) = self.arrived.remove(&self.next_taken) {
            self.next_taken += 1;
            let Done {
                start,
                input,
                ctx,
                carry_in,
                result,
                ..
            } = d;
            let r = match result {
                Ok(r) => r,
                Err(payload) => panic::resume_unwind(payload),
            };
            let len = input.len() - ctx;
            if carry_in == self.carry {
                self.take(start, len, r);
            } else {
                // The guess was wrong (a PEM block or a dropped long line goes on past the chunk's start):
                // redo the chunk from the true carry.
                self.redone += 1;
                let mut out = r.out;
                out.clear();
                let carry = self.take_carry();
                let redone = redact_part(&self.engine, carry, &input, ctx, false, out);
                self.take(start, len, redone);
            }
            self.recycle(input);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::stream::HOLD;
    use crate::redact::{redact_all, EngineConfig};
    use std::sync::LazyLock;

    static ENGINE: LazyLock<Arc<Engine>> =
        LazyLock::new(|| Arc::new(Engine::new(&EngineConfig::default()).unwrap()));

    fn opts(threads: usize, chunk_bytes: usize) -> Options {
        Options {
            threads: NonZeroUsize::new(threads).unwrap(),
            chunk_bytes,
            max_line: MAX_LINE,
        }
    }

    /// Redacts `input` pushed in pieces of `push` bytes; the output and each piece's `input_end`.
    fn run(r: &mut ParallelRedactor, input: &[u8], push: usize) -> (Vec<u8>, Vec<u64>) {
        let (mut out, mut ends) = (Vec::new(), Vec::new());
        let mut take = |r: &mut ParallelRedactor| {
            while let Some(p) = r.next_piece() {
                out.extend_from_slice(&p.bytes);
                ends.push(p.input_end);
            }
        };
        for part in input.chunks(push) {
            r.push(part);
            take(r);
        }
        r.finish();
        take(r);
        (out, ends)
    }

    fn text(lines: usize) -> Vec<u8> {
        let mut t = Vec::new();
        for i in 0..lines {
            let line = match i % 4 {
                0 => format!(
                    "{i} INFO user 13812345678 logged in from 10.1.{}.7\n",
                    i % 200
                ),
                1 => format!("{i} 你好，我的邮箱是 user{i}@example.com，谢谢\n"),
                2 => format!("{i} order_no=2024050712345678 ts=1715040000123 ok\n"),
                _ => format!("{{\"msg\":\"password=Secret{i}x!\",\"n\":{i}}}\r\n"),
            };
            t.extend_from_slice(line.as_bytes());
        }
        t
    }

    #[test]
    fn pieces_are_the_single_threaded_output_in_order_with_their_input_offsets() {
        let input = text(3000);
        let (reference, _) = redact_all(&ENGINE, &input);
        assert_ne!(reference, input, "the text has values to redact");
        for (threads, chunk, push) in [
            (2, 1000, 4096),
            (3, 64, 777),
            (4, 1, 100_000),
            (2, 1 << 20, 50),
        ] {
            let mut r = ParallelRedactor::new(ENGINE.clone(), opts(threads, chunk)).unwrap();
            let (out, ends) = run(&mut r, &input, push);
            assert!(
                out == reference,
                "threads {threads}, chunk {chunk}, push {push}"
            );
            assert!(ends.windows(2).all(|w| w[0] < w[1]), "offsets only grow");
            assert_eq!(ends.last(), Some(&(input.len() as u64)));
            // No line is longer than these chunks but the 1-byte ones: every piece ends at a line end.
            if chunk > 100 {
                assert!(ends.iter().all(|&e| input[e as usize - 1] == b'\n'));
            }
            assert_eq!(r.redone_chunks(), 0, "nothing goes on past a newline here");
        }
    }

    #[test]
    fn redactors_sharing_workers_each_give_their_own_stream_in_order() {
        let workers = Workers::start(ENGINE.clone(), NonZeroUsize::new(3).unwrap()).unwrap();
        let inputs = [text(2000), text(1500)[100..].to_vec(), text(10)];
        let mut rs: Vec<ParallelRedactor> = inputs
            .iter()
            .map(|_| ParallelRedactor::sharing(&workers, opts(1, 500)))
            .collect();
        assert!(rs.iter().all(|r| r.threads().get() == 3));
        let mut outs = vec![Vec::new(); inputs.len()];
        // Interleaved: each redactor's chunks are in flight on the shared workers with the others'.
        for step in 0..200 {
            for (k, input) in inputs.iter().enumerate() {
                let part = input.len().div_ceil(200);
                let from = (step * part).min(input.len());
                let to = ((step + 1) * part).min(input.len());
                rs[k].push(&input[from..to]);
                while let Some(p) = rs[k].next_piece() {
                    outs[k].extend_from_slice(&p.bytes);
                }
            }
        }
        // One goes away mid-stream: the workers go on for the others.
        rs.pop();
        for (k, r) in rs.iter_mut().enumerate() {
            r.finish();
            while let Some(p) = r.next_piece() {
                outs[k].extend_from_slice(&p.bytes);
            }
            r.release_buffers();
            assert!(outs[k] == redact_all(&ENGINE, &inputs[k]).0, "stream {k}");
        }
        // And a redactor started after that still works.
        let mut late = ParallelRedactor::sharing(&workers, opts(1, 500));
        let (out, _) = run(&mut late, &inputs[0], 4096);
        assert!(out == redact_all(&ENGINE, &inputs[0]).0);
    }

    #[test]
    fn a_pem_block_across_chunks_is_redone_from_the_true_carry() {
        let mut input = text(50);
        input.extend_from_slice(b"-----BEGIN RSA PRIVATE KEY-----\n");
        let body: Vec<String> = (0..40)
            .map(|i| {
                format!("MIIEowIBAAKCAQEA{i:02}qwertyuiopasdfghjklzxcvbnmQWERTYUIOPASDFGHJKLZXCV\n")
            })
            .collect();
        for line in &body {
            input.extend_from_slice(line.as_bytes());
        }
        input.extend_from_slice(b"-----END RSA PRIVATE KEY-----\n");
        input.extend_from_slice(&text(50));
        let (reference, _) = redact_all(&ENGINE, &input);
        let shown = |out: &[u8]| {
            body.iter()
                .filter(|l| memchr::memmem::find(out, l.trim_end().as_bytes()).is_some())
                .count()
        };
        assert_eq!(shown(&reference), 0, "the key's body is redacted");
        // Chunks of ~3 lines: many of them begin inside the block.
        let mut r = ParallelRedactor::new(ENGINE.clone(), opts(2, 200)).unwrap();
        let (out, _) = run(&mut r, &input, 1 << 16);
        assert_eq!(shown(&out), 0, "the key's body is redacted");
        assert!(out == reference);
        assert!(
            r.redone_chunks() > 0,
            "chunks starting inside the block were redone"
        );
    }

    #[test]
    fn lines_longer_than_a_chunk_and_than_the_window_give_the_single_threaded_output() {
        let mut input = text(100);
        // One line of ~5 windows (no newline), values all along it, then more lines.
        let long: Vec<u8> = text(40_000).into_iter().filter(|&b| b != b'\n').collect();
        assert!(long.len() > 5 * (2 * HOLD + HOLD));
        input.extend_from_slice(&long);
        input.push(b'\n');
        input.extend_from_slice(&text(100));
        let max_line = 2 * HOLD;
        let mut one = Redactor::with_max_line(&ENGINE, max_line);
        let mut reference = Vec::new();
        one.push(&input, &mut reference);
        one.finish(&mut reference);
        for (threads, chunk) in [(2, 4096), (3, 100_000)] {
            let o = Options {
                max_line,
                ..opts(threads, chunk)
            };
            let mut r = ParallelRedactor::new(ENGINE.clone(), o).unwrap();
            let (out, ends) = run(&mut r, &input, 65_536);
            assert!(out == reference, "threads {threads}, chunk {chunk}");
            assert!(ends.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn a_last_line_without_newline_comes_out_at_finish_and_a_new_stream_starts_at_zero() {
        let mut r = ParallelRedactor::new(ENGINE.clone(), opts(2, 64)).unwrap();
        for _ in 0..2 {
            let input = b"first line 13812345678\nno newline at the end 13912345678";
            r.push(input);
            r.flush();
            let mut out = Vec::new();
            while let Some(p) = r.next_piece() {
                out.extend_from_slice(&p.bytes);
                assert_eq!(p.input_end, 23, "held: the partial line");
            }
            assert!(out.ends_with(b"]\n") && !out.windows(11).any(|w| w == b"13812345678"));
            r.finish();
            let last = r.next_piece().expect("the last line");
            assert_eq!(last.input_end, input.len() as u64);
            assert!(!last.bytes.ends_with(b"\n"), "no newline is added");
            assert!(r.next_piece().is_none());
        }
    }
}
