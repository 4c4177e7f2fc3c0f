//! Lines of a segment picked by pseudonym tokens (`cat --only`, `forget`).
//!
//! A segment is read twice, in bounded memory whatever its lines' lengths: the first pass
//! ([`find_lines`]) notes the numbers of the lines that hold a token (only a token's length of each line is
//! held); the second ([`Select`], fed by [`super::reader::read_segment_from`]) streams the segment's bytes
//! through, keeping the noted lines (`cat --only`) or every other line (`forget`).

use std::io::{self, Read, Write};
use std::path::Path;

use super::reader::{read_segment_from, Identities, Outcome, ReadError};

/// Whether `text` has the form of a pseudonym the `hash` action writes: `[TYPE:hhhhhhhh]`, TYPE a
/// non-empty name without spaces or brackets, eight lowercase hex digits. Anything looser could match
/// lines no one meant (`forget --token a` would erase most of a log).
pub fn is_token(text: &str) -> bool {
    let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
        return false;
    };
    let Some((ty, hex)) = inner.rsplit_once(':') else {
        return false;
    };
    !ty.is_empty()
        && ty
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '[' | ']'))
        && hex.len() == 8
        && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The tokens looked for.
#[derive(Debug, Clone)]
pub struct Tokens {
    list: Vec<Vec<u8>>,
    longest: usize,
}

impl Tokens {
    /// Tokens as given; each must pass [`is_token`] (the error names the first that does not).
    pub fn new<S: AsRef<str>>(tokens: &[S]) -> Result<Tokens, String> {
        let mut list: Vec<Vec<u8>> = Vec::new();
        for t in tokens {
            let t = t.as_ref();
            if !is_token(t) {
                return Err(format!(
                    "{t:?} is not a pseudonym token: expected [TYPE:hhhhhhhh] as `logveil pseudonym` \
                     prints it (8 lowercase hex digits)"
                ));
            }
            if !list.iter().any(|x| x == t.as_bytes()) {
                list.push(t.as_bytes().to_vec());
            }
        }
        if list.is_empty() {
            return Err("no token given".into());
        }
        let longest = list.iter().map(Vec::len).max().unwrap_or(0);
        Ok(Tokens { list, longest })
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// What the first pass found in one segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineMatches {
    /// Numbers (from 0, in order) of the lines that hold at least one token.
    pub lines: Vec<u64>,
    /// Per token (in the order given): how many lines hold it.
    pub per_token: Vec<u64>,
    /// Lines read (a last line without a newline counts).
    pub total_lines: u64,
}

/// First pass: reads the segment `src` (named `path` in messages) and notes which lines hold a token.
pub fn find_lines(
    src: impl Read,
    path: &Path,
    ids: &Identities,
    tokens: &Tokens,
) -> Result<(Outcome, LineMatches), ReadError> {
    let mut s = Scanner::new(tokens);
    let outcome = read_segment_from(src, path, ids, &mut s)?;
    if s.open {
        s.end_line();
    }
    Ok((outcome, s.m))
}

struct Scanner<'t> {
    tokens: &'t Tokens,
    /// The last `longest - 1` bytes of the current line (a token may straddle two writes).
    tail: Vec<u8>,
    window: Vec<u8>,
    /// Which tokens the current line holds.
    found: Vec<bool>,
    /// The current line has begun (a byte of it was seen).
    open: bool,
    m: LineMatches,
}

impl<'t> Scanner<'t> {
    fn new(tokens: &'t Tokens) -> Self {
        Scanner {
            tokens,
            tail: Vec::new(),
            window: Vec::new(),
            found: vec![false; tokens.list.len()],
            open: false,
            m: LineMatches {
                per_token: vec![0; tokens.list.len()],
                ..LineMatches::default()
            },
        }
    }

    fn feed(&mut self, piece: &[u8]) {
        self.open = true;
        if self.found.iter().all(|&f| f) {
            return;
        }
        self.window.clear();
        self.window.extend_from_slice(&self.tail);
        self.window.extend_from_slice(piece);
        for (i, t) in self.tokens.list.iter().enumerate() {
            if !self.found[i] && memchr::memmem::find(&self.window, t).is_some() {
                self.found[i] = true;
            }
        }
        let keep = self.tokens.longest.saturating_sub(1);
        let from = self.window.len().saturating_sub(keep);
        self.tail.clear();
        self.tail.extend_from_slice(&self.window[from..]);
    }

    fn end_line(&mut self) {
        if self.found.iter().any(|&f| f) {
            self.m.lines.push(self.m.total_lines);
            for (n, f) in self.m.per_token.iter_mut().zip(&mut self.found) {
                *n += u64::from(*f);
                *f = false;
            }
        }
        self.m.total_lines += 1;
        self.tail.clear();
        self.open = false;
    }
}

impl Write for Scanner<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut rest = data;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            self.feed(&rest[..i]);
            self.end_line();
            rest = &rest[i + 1..];
        }
        if !rest.is_empty() {
            self.feed(rest);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Second pass: passes on the lines whose numbers are in `lines` (`keep_listed`), or every other line,
/// each whole and as it was, in order.
pub struct Select<'l, W: Write> {
    inner: W,
    lines: &'l [u64],
    keep_listed: bool,
    next: usize,
    line: u64,
    open: bool,
    /// Lines passed on and left out so far (a last line without a newline counts once it has begun).
    pub passed: u64,
    pub left_out: u64,
    /// Bytes passed on.
    pub passed_bytes: u64,
}

impl<'l, W: Write> Select<'l, W> {
    pub fn new(inner: W, lines: &'l [u64], keep_listed: bool) -> Self {
        Select {
            inner,
            lines,
            keep_listed,
            next: 0,
            line: 0,
            open: false,
            passed: 0,
            left_out: 0,
            passed_bytes: 0,
        }
    }

    /// Lines seen (a last line without a newline counts).
    pub fn total_lines(&self) -> u64 {
        self.line + u64::from(self.open)
    }

    /// Ends the last line if it had no newline (for the counts), and gives the inner writer back.
    pub fn finish(mut self) -> (W, u64, u64) {
        if self.open {
            if self.listed() == self.keep_listed {
                self.passed += 1;
            } else {
                self.left_out += 1;
            }
        }
        (self.inner, self.passed, self.left_out)
    }

    fn listed(&self) -> bool {
        self.lines.get(self.next) == Some(&self.line)
    }
}

impl<W: Write> Write for Select<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut rest = data;
        while !rest.is_empty() {
            let (piece, ends) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..=i], true),
                None => (rest, false),
            };
            let listed = self.listed();
            if listed == self.keep_listed {
                self.inner.write_all(piece)?;
                self.passed_bytes += piece.len() as u64;
            }
            if ends {
                if listed {
                    self.next += 1;
                }
                if listed == self.keep_listed {
                    self.passed += 1;
                } else {
                    self.left_out += 1;
                }
                self.line += 1;
                self.open = false;
            } else {
                self.open = true;
            }
            rest = &rest[piece.len()..];
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &[u8], tokens: &Tokens, piece: usize) -> LineMatches {
        let mut s = Scanner::new(tokens);
        for c in text.chunks(piece) {
            s.write_all(c).unwrap();
        }
        if s.open {
            s.end_line();
        }
        s.m
    }

    #[test]
    fn token_form_is_strict() {
        for ok in [
            "[phone:0123abcd]",
            "[wecom_userid:ffffffff]",
            "[名字:00000000]",
        ] {
            assert!(is_token(ok), "{ok}");
        }
        for bad in [
            "a",
            "[phone:0123abc]",
            "[phone:0123ABCD]",
            "[:0123abcd]",
            "phone:0123abcd",
            "[ph one:0123abcd]",
            "[phone:0123abcd] ",
            "[phone:0123abcdd]",
        ] {
            assert!(!is_token(bad), "{bad}");
        }
        assert!(Tokens::new(&["x"]).is_err());
        assert!(Tokens::new::<&str>(&[]).is_err());
    }

    #[test]
    fn lines_with_a_token_are_found_whatever_the_pieces_and_selected_either_way() {
        let a = "[user:0a0a0a0a]";
        let b = "[user:0b0b0b0b]";
        let tokens = Tokens::new(&[a, b]).unwrap();
        let text = format!(
            "first {a}\nclean\r\n\nboth {b} {a}\n{}{b}{}\nlast without newline {a}",
            "x".repeat(5000),
            "y".repeat(3000)
        );
        let want_lines = vec![0, 3, 4, 5];
        for piece in [1, 2, 7, 15, 16, 4096, 1 << 20] {
            let m = scan(text.as_bytes(), &tokens, piece);
            assert_eq!(m.lines, want_lines, "pieces of {piece}");
            assert_eq!(m.per_token, vec![3, 2]);
            assert_eq!(m.total_lines, 6);
            for keep in [true, false] {
                let mut sel = Select::new(Vec::new(), &m.lines, keep);
                for c in text.as_bytes().chunks(piece) {
                    sel.write_all(c).unwrap();
                }
                let (out, passed, left) = sel.finish();
                let want: String = text
                    .split_inclusive('\n')
                    .enumerate()
                    .filter(|(i, _)| want_lines.contains(&(*i as u64)) == keep)
                    .map(|(_, l)| l)
                    .collect();
                assert_eq!(String::from_utf8(out).unwrap(), want);
                assert_eq!(passed + left, 6);
                assert_eq!(passed, if keep { 4 } else { 2 });
            }
        }
    }

    #[test]
    fn a_token_inside_a_longer_hex_run_still_counts_but_a_prefix_does_not() {
        let tokens = Tokens::new(&["[user:0a0a0a0a]"]).unwrap();
        let m = scan(b"[user:0a0a0a0]\n[user:0a0a0a0a]\n", &tokens, 3);
        assert_eq!(m.lines, vec![1]);
    }
}
