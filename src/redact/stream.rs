//! Streaming over the engine: arbitrary byte chunks in, redacted bytes out, in bounded memory.
//!
//! Complete lines are redacted as soon as they arrive (so `bot | logveil redact` shows each line at once); a
//! partial last line waits for its newline or the end of input. A line longer than the buffer is redacted
//! in pieces that overlap by [`HOLD`] bytes of look-ahead, so a value that straddles a piece boundary is still
//! found. Bytes that are not redacted come out exactly as they came in.

use super::engine::{ChunkState, Engine};
use super::Findings;

/// Look-behind kept from already emitted input, for the validators' context checks.
pub const CONTEXT: usize = 256;
/// Look-ahead kept back when a line is cut (longer than any value a validator reads).
pub const HOLD: usize = 64 << 10;
/// A line longer than this is redacted in pieces.
pub const MAX_LINE: usize = 1 << 20;

/// A streaming redactor over one input.
pub struct Redactor<'e> {
    engine: &'e Engine,
    buf: Vec<u8>,
    /// `buf[..ctx]` was already emitted and is kept as context.
    ctx: usize,
    /// Offset in `buf` up to which no newline was found (so a long line is not rescanned).
    scanned: usize,
    st: ChunkState,
    findings: Findings,
    max_line: usize,
}

/// What a redactor carries from one part of a stream into the next: the look-behind context, the part of a
/// line held back, and the engine's state (inside a PEM block, dropping the rest of a long line). A
/// redactor resumed from a carry ([`Redactor::resume`]) goes on exactly as the one it was taken from
/// ([`Redactor::into_carry`]) would have, so parts of one stream can be redacted by different redactors
/// (on different threads); equal carries go on the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carry {
    buf: Vec<u8>,
    ctx: usize,
    scanned: usize,
    st: ChunkState,
    max_line: usize,
}

impl Carry {
    /// The carry at the start of a line after the input `before` (of which the last [`CONTEXT`] bytes are
    /// kept), with nothing held back and no state: what a redactor with this `max_line` has after input that
    /// ends with a newline, unless a PEM block or a dropped long line goes on past it.
    pub fn at_line_start(before: &[u8], max_line: usize) -> Carry {
        Self::at_line_start_in(Vec::new(), before, max_line)
    }

    /// As [`Carry::at_line_start`], in `buf`'s memory (so a redactor fed a chunk need not allocate).
    pub fn at_line_start_in(mut buf: Vec<u8>, before: &[u8], max_line: usize) -> Carry {
        let context = &before[before.len().saturating_sub(CONTEXT)..];
        buf.clear();
        buf.extend_from_slice(context);
        Carry {
            buf,
            ctx: context.len(),
            scanned: context.len(),
            st: ChunkState::default(),
            max_line: max_line.max(2 * HOLD),
        }
    }

    /// The carry's memory, for reuse.
    pub fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// Input bytes held back (a partial line).
    pub fn pending(&self) -> usize {
        self.buf.len() - self.ctx
    }
}

impl<'e> Redactor<'e> {
    pub fn new(engine: &'e Engine) -> Self {
        Self::with_max_line(engine, MAX_LINE)
    }

    /// As [`Redactor::new`], cutting lines longer than `max_line` (at least twice [`HOLD`]).
    pub fn with_max_line(engine: &'e Engine, max_line: usize) -> Self {
        Self::resume(engine, Carry::at_line_start(&[], max_line))
    }

    /// A redactor that goes on from `carry` (see [`Carry`]).
    pub fn resume(engine: &'e Engine, carry: Carry) -> Self {
        Redactor {
            engine,
            buf: carry.buf,
            ctx: carry.ctx,
            scanned: carry.scanned,
            st: carry.st,
            findings: engine.new_findings(),
            max_line: carry.max_line,
        }
    }

    /// Where this redactor stands, for another one to go on from. Its findings are dropped: take them first.
    pub fn into_carry(self) -> Carry {
        Carry {
            buf: self.buf,
            ctx: self.ctx,
            scanned: self.scanned,
            st: self.st,
            max_line: self.max_line,
        }
    }

    /// Feeds input; appends the redaction of every complete line (and of cut pieces of a long one) to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let mut data = data;
        while !data.is_empty() {
            // Never hold more than one long line's worth: feed in slices so a cut can happen between them.
            let room = (self.max_line + HOLD)
                .saturating_sub(self.buf.len() - self.ctx)
                .max(1);
            let (now, later) = data.split_at(room.min(data.len()));
            self.buf.extend_from_slice(now);
            self.process(out, false);
            data = later;
        }
    }

    /// End of input: redacts and appends whatever is left (a last line without newline included).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.process(out, true);
        self.buf.clear();
        self.ctx = 0;
        self.scanned = 0;
        self.st = ChunkState::default();
    }

    /// Input bytes received but not yet emitted (a partial line).
    pub fn pending(&self) -> usize {
        self.buf.len() - self.ctx
    }

    pub fn findings(&self) -> &Findings {
        &self.findings
    }

    pub fn take_findings(&mut self) -> Findings {
        std::mem::replace(&mut self.findings, self.engine.new_findings())
    }

    fn process(&mut self, out: &mut Vec<u8>, eof: bool) {
        loop {
            let len = self.buf.len();
            let from = self.scanned.max(self.ctx);
            let cut = if eof {
                len
            } else {
                match memchr::memrchr(b'\n', &self.buf[from..]) {
                    Some(i) => from + i + 1,
                    None if len - self.ctx >= self.max_line + HOLD => {
                        // Cut at the start of a UTF-8 character, never inside one.
                        let mut cut = len - HOLD;
                        while cut > self.ctx + 1
                            && len - HOLD - cut < 3
                            && (0x80..0xC0).contains(&self.buf[cut])
                        {
                            cut -= 1;
                        }
                        cut
                    }
                    None => {
                        self.scanned = len;
                        return;
                    }
                }
            };
            if cut <= self.ctx {
                return;
            }
            let done = self.engine.redact_region(
                &self.buf,
                self.ctx,
                cut,
                &mut self.st,
                out,
                &mut self.findings,
            );
            let keep_from = done.saturating_sub(CONTEXT);
            self.buf.drain(..keep_from);
            self.ctx = done - keep_from;
            self.scanned = self.ctx;
            if eof || self.buf.len() - self.ctx < self.max_line + HOLD {
                return;
            }
        }
    }
}

/// Redacts a whole byte slice (tests, benches, small inputs).
pub fn redact_all(engine: &Engine, input: &[u8]) -> (Vec<u8>, Findings) {
    let mut r = Redactor::new(engine);
    let mut out = Vec::with_capacity(input.len());
    r.push(input, &mut out);
    r.finish(&mut out);
    (out, r.take_findings())
}
