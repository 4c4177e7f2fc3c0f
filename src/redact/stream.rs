//! Streaming over the engine: arbitrary byte chunks in, redacted bytes out, in bounded memory.
//!
//! A [`Window`] holds the input not yet processed and decides where the next region ends: complete lines as
//! soon as they arrive (so `bot | logveil redact` shows each line at once); a partial last line waits for its
//! newline or the end of input. A line longer than the window is cut in pieces at a character start, with
//! [`HOLD`] bytes of look-ahead kept back, so a value that straddles a cut is still found; [`CONTEXT`] bytes
//! of processed input stay before each region for the detectors' look-behind. [`Redactor`] is a window plus
//! the engine's region redaction; any other consumer of the engine's hits over a stream (a scan that only
//! counts) uses the same window, so where a stream is cut is decided in one place.
//!
//! Bytes that are not redacted come out exactly as they came in.

use super::engine::{ChunkState, Engine};
use super::text::MAX_LOOKBEHIND;
use super::Findings;

/// Look-behind kept from already processed input, for the detectors' context reads.
pub const CONTEXT: usize = MAX_LOOKBEHIND;
// Every detector reads at most MAX_LOOKBEHIND bytes back from its candidate: the window keeps them.
const _: () = assert!(MAX_LOOKBEHIND <= CONTEXT);
/// Look-ahead kept back when a line is cut (longer than any value a detector reads).
pub const HOLD: usize = 64 << 10;
/// A line longer than this is processed in pieces.
pub const MAX_LINE: usize = 1 << 20;

/// A bounded window over one input stream (see the module header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    buf: Vec<u8>,
    /// `buf[..ctx]` was processed already and is kept as context.
    ctx: usize,
    /// Offset in `buf` up to which no newline was found (so a long line is not rescanned).
    scanned: usize,
    max_line: usize,
}

impl Window {
    /// A window that cuts lines longer than `max_line` (at least twice [`HOLD`]).
    pub fn new(max_line: usize) -> Self {
        Window {
            buf: Vec::new(),
            ctx: 0,
            scanned: 0,
            max_line: max_line.max(2 * HOLD),
        }
    }

    /// A window at the start of a line after the input `before` (of which the last [`CONTEXT`] bytes are
    /// kept as context), with nothing pending, in `buf`'s memory.
    pub fn at_line_start_in(mut buf: Vec<u8>, before: &[u8], max_line: usize) -> Self {
        let context = &before[before.len().saturating_sub(CONTEXT)..];
        buf.clear();
        buf.extend_from_slice(context);
        Window {
            buf,
            ctx: context.len(),
            scanned: context.len(),
            max_line: max_line.max(2 * HOLD),
        }
    }

    /// The window's memory, for reuse.
    pub fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// How many more bytes may be added before a region must be taken out.
    pub fn room(&self) -> usize {
        (self.max_line + HOLD).saturating_sub(self.buf.len() - self.ctx)
    }

    /// Adds input (at most [`Window::room`] bytes at a time keeps memory bounded).
    pub fn extend(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The buffer the regions index: context, then unprocessed input.
    pub fn buf(&self) -> &[u8] {
        &self.buf
    }

    /// The next region to process, `buf()[from..to]` (`buf()[..from]` is context; bytes after `to` may be
    /// read as look-ahead): complete lines, a piece of an overlong line, or at `eof` everything left. None when
    /// more input is needed first.
    pub fn next_region(&mut self, eof: bool) -> Option<(usize, usize)> {
        let len = self.buf.len();
        let from = self.ctx;
        let cut = if eof {
            len
        } else {
            let search = self.scanned.max(self.ctx);
            match memchr::memrchr(b'\n', &self.buf[search..]) {
                Some(i) => search + i + 1,
                None if len - self.ctx >= self.max_line + HOLD => self.long_line_cut(),
                None => {
                    self.scanned = len;
                    return None;
                }
            }
        };
        (cut > from).then_some((from, cut))
    }

    /// Where an overlong line is cut: [`HOLD`] bytes before the end, moved back to a UTF-8 character start.
    fn long_line_cut(&self) -> usize {
        let len = self.buf.len();
        let mut cut = len - HOLD;
        while cut > self.ctx + 1 && len - HOLD - cut < 3 && (0x80..0xC0).contains(&self.buf[cut]) {
            cut -= 1;
        }
        cut
    }

    /// The region was processed up to `done` (at least its end; more when a hit ran past it): what is no
    /// longer needed as context is dropped.
    pub fn consumed(&mut self, done: usize) {
        let done = done.min(self.buf.len());
        let keep_from = done.saturating_sub(CONTEXT);
        self.buf.drain(..keep_from);
        self.ctx = done - keep_from;
        self.scanned = self.ctx;
    }

    /// More regions may be ready without more input (an overlong line still exceeds the window).
    pub fn is_full(&self) -> bool {
        self.buf.len() - self.ctx >= self.max_line + HOLD
    }

    /// Input bytes received but not processed yet (a partial line).
    pub fn pending(&self) -> usize {
        self.buf.len() - self.ctx
    }

    /// Forgets everything (end of one input).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.ctx = 0;
        self.scanned = 0;
    }
}

/// What a redactor carries from one part of a stream into the next: its window (look-behind context and the
/// part of a line held back) and the engine's state (inside a PEM block, dropping the rest of a long line).
/// A redactor resumed from a carry ([`Redactor::resume`]) goes on exactly as the one it was taken from
/// ([`Redactor::into_carry`]) would have, so parts of one stream can be redacted by different redactors (on
/// different threads); equal carries go on the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carry {
    window: Window,
    st: ChunkState,
}

impl Carry {
    /// The carry at the start of a line after the input `before` (of which the last [`CONTEXT`] bytes are
    /// kept), with nothing held back and no state: what a redactor with this `max_line` has after input that
    /// ends with a newline, unless a PEM block or a dropped long line goes on past it.
    pub fn at_line_start(before: &[u8], max_line: usize) -> Carry {
        Self::at_line_start_in(Vec::new(), before, max_line)
    }

    /// As [`Carry::at_line_start`], in `buf`'s memory (so a redactor fed a chunk need not allocate).
    pub fn at_line_start_in(buf: Vec<u8>, before: &[u8], max_line: usize) -> Carry {
        Carry {
            window: Window::at_line_start_in(buf, before, max_line),
            st: ChunkState::default(),
        }
    }

    /// The carry's memory, for reuse.
    pub fn into_buffer(self) -> Vec<u8> {
        self.window.into_buffer()
    }

    /// Input bytes held back (a partial line).
    pub fn pending(&self) -> usize {
        self.window.pending()
    }
}

/// A streaming redactor over one input.
pub struct Redactor<'e> {
    engine: &'e Engine,
    window: Window,
    st: ChunkState,
    findings: Findings,
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
            window: carry.window,
            st: carry.st,
            findings: engine.new_findings(),
        }
    }

    /// Where this redactor stands, for another one to go on from. Its findings are dropped: take them first.
    pub fn into_carry(self) -> Carry {
        Carry {
            window: self.window,
            st: self.st,
        }
    }

    /// Feeds input; appends the redaction of every complete line (and of cut pieces of a long one) to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let mut data = data;
        while !data.is_empty() {
            // Never hold more than one long line's worth: feed in slices so a cut can happen between them.
            let room = self.window.room().max(1);
            let (now, later) = data.split_at(room.min(data.len()));
            self.window.extend(now);
            self.process(out, false);
            data = later;
        }
    }

    /// Feeds the whole lines `input[ctx..]` when `input[..ctx]` is exactly the look-behind this redactor
    /// holds, nothing is held back and they fit the window: they are redacted where they are, not copied
    /// into the window first, and the redactor ends as [`Redactor::push`] of them would leave it (the same
    /// region, the same offsets, the same bytes). False, with nothing done, otherwise.
    pub fn push_after_context(&mut self, input: &[u8], ctx: usize, out: &mut Vec<u8>) -> bool {
        let Some(lines) = input.get(ctx..) else {
            return false;
        };
        let fits = self.window.pending() == 0
            && lines.last() == Some(&b'\n')
            && lines.len() <= self.window.room()
            && self.window.buf() == &input[..ctx];
        if !fits {
            return false;
        }
        let done = self.engine.redact_region(
            input,
            ctx,
            input.len(),
            &mut self.st,
            out,
            &mut self.findings,
        );
        let buf = std::mem::take(&mut self.window.buf);
        self.window = Window::at_line_start_in(buf, &input[..done], self.window.max_line);
        true
    }

    /// End of input: redacts and appends whatever is left (a last line without newline included).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.process(out, true);
        self.window.reset();
        self.st = ChunkState::default();
    }

    /// Input bytes received but not yet emitted (a partial line).
    pub fn pending(&self) -> usize {
        self.window.pending()
    }

    pub fn findings(&self) -> &Findings {
        &self.findings
    }

    pub fn take_findings(&mut self) -> Findings {
        std::mem::replace(&mut self.findings, self.engine.new_findings())
    }

    fn process(&mut self, out: &mut Vec<u8>, eof: bool) {
        while let Some((from, to)) = self.window.next_region(eof) {
            let done = self.engine.redact_region(
                self.window.buf(),
                from,
                to,
                &mut self.st,
                out,
                &mut self.findings,
            );
            self.window.consumed(done);
            if eof || !self.window.is_full() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Regions as a consumer sees them: (context, region) texts.
    fn regions(w: &mut Window, eof: bool) -> Vec<(usize, String)> {
        let mut v = Vec::new();
        while let Some((from, to)) = w.next_region(eof) {
            v.push((
                from,
                String::from_utf8_lossy(&w.buf()[from..to]).into_owned(),
            ));
            w.consumed(to);
            if eof || !w.is_full() {
                break;
            }
        }
        v
    }

    #[test]
    fn complete_lines_come_out_at_once_and_a_partial_line_waits() {
        let mut w = Window::new(MAX_LINE);
        w.extend(b"one\ntwo\nthr");
        assert_eq!(regions(&mut w, false), vec![(0, "one\ntwo\n".to_string())]);
        assert_eq!(w.pending(), 3);
        w.extend(b"ee");
        assert!(regions(&mut w, false).is_empty(), "no newline yet");
        assert_eq!(regions(&mut w, true), vec![(8, "three".to_string())]);
    }

    #[test]
    fn processed_input_stays_as_context_up_to_the_lookbehind() {
        let mut w = Window::new(MAX_LINE);
        let long = "x".repeat(CONTEXT * 2) + "\n";
        w.extend(long.as_bytes());
        regions(&mut w, false);
        w.extend(b"next\n");
        let (from, to) = w.next_region(false).unwrap();
        assert_eq!(from, CONTEXT, "exactly CONTEXT bytes of context");
        assert_eq!(&w.buf()[from..to], b"next\n");
    }

    #[test]
    fn an_overlong_line_is_cut_at_a_character_start_with_look_ahead_kept() {
        let mut w = Window::new(2 * HOLD);
        // Three-byte characters, no newline: the cut must not split one.
        let line = "密".repeat((3 * HOLD) / 3 + 10);
        let mut fed = 0;
        let mut cuts = Vec::new();
        while fed < line.len() {
            let n = w.room().max(1).min(line.len() - fed);
            w.extend(&line.as_bytes()[fed..fed + n]);
            fed += n;
            while let Some((from, to)) = w.next_region(false) {
                assert!(
                    std::str::from_utf8(&w.buf()[from..to]).is_ok(),
                    "cut inside a character"
                );
                assert!(w.buf().len() - to >= HOLD - 2, "look-ahead kept");
                cuts.push(to - from);
                w.consumed(to);
                if !w.is_full() {
                    break;
                }
            }
        }
        assert!(!cuts.is_empty(), "the line was cut");
        assert!(w.pending() <= 2 * HOLD + HOLD, "memory stays bounded");
    }

    #[test]
    fn whole_lines_after_the_held_context_are_redacted_in_place_as_push_would() {
        let engine = Engine::new(&super::super::EngineConfig::default()).unwrap();
        // The first part leaves look-behind that a detector of the second reads (`手机` before the number).
        let first = "x".repeat(700) + "\n联系人手机 ";
        let first = first + "\n";
        let second = "号码 13812345678 mail a@b.cn\nnext 110105194912310025\n";
        let mut a = Redactor::new(&engine);
        let mut out_a = Vec::new();
        a.push(first.as_bytes(), &mut out_a);
        let carry = a.into_carry();
        assert_eq!(carry.pending(), 0);

        let ctx_bytes = carry.window.buf().to_vec();
        let mut input = ctx_bytes.clone();
        input.extend_from_slice(second.as_bytes());
        let (mut slow, mut fast) = (
            Redactor::resume(&engine, carry.clone()),
            Redactor::resume(&engine, carry.clone()),
        );
        let (mut out_slow, mut out_fast) = (Vec::new(), Vec::new());
        slow.push(second.as_bytes(), &mut out_slow);
        assert!(fast.push_after_context(&input, ctx_bytes.len(), &mut out_fast));
        assert_eq!(out_fast, out_slow);
        assert!(
            out_fast.windows(13).all(|w| w != b"13812345678 m"),
            "the number was redacted"
        );
        assert_eq!(fast.findings(), slow.findings());
        assert_eq!(fast.into_carry(), slow.into_carry());

        // Not the held context, a line without its newline, or bytes held back: nothing is done.
        let mut r = Redactor::resume(&engine, carry.clone());
        let mut out = Vec::new();
        let mut other = input.clone();
        other[0] ^= 1;
        assert!(!r.push_after_context(&other, ctx_bytes.len(), &mut out));
        assert!(!r.push_after_context(&input[..input.len() - 1], ctx_bytes.len(), &mut out));
        r.push(b"partial", &mut out);
        assert!(!r.push_after_context(&input, ctx_bytes.len(), &mut out));
        assert!(out.is_empty());
        assert_eq!(r.pending(), b"partial".len());
    }
}
