//! The PII scan of one file: the redaction engine over a bounded window, counting types and lines.

use std::io::{self, Read};

use crate::redact::engine::ChunkState;
use crate::redact::stream::{Window, MAX_LINE};
use crate::redact::{Engine, Hit};

use super::FIRST_LINES;

/// Per-type result of a PII scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeHits {
    pub count: u64,
    /// The first [`FIRST_LINES`] distinct 1-based line numbers with a detection.
    pub first_lines: Vec<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct ScanResult {
    /// By type id (see [`Engine::type_names`]).
    pub types: Vec<TypeHits>,
    pub bytes: u64,
    /// Stopped at the byte limit with more input left.
    pub truncated: bool,
    /// A read error that stopped the scan (what was read before it is counted).
    pub error: Option<String>,
}

const READ: usize = 256 << 10;

/// Scans `head` then the rest of `rest` with `engine`, in bounded memory, reading at most `max_bytes`.
/// Reports types, counts and line numbers; never the matched bytes. Where the input is cut into regions
/// (lines, pieces of overlong lines, the context kept) is decided by the redactor's own [`Window`], so the
/// audit finds what redaction would.
pub fn scan<R: Read>(
    engine: &Engine,
    head: Vec<u8>,
    rest: R,
    max_bytes: Option<u64>,
) -> ScanResult {
    let mut res = ScanResult {
        types: vec![TypeHits::default(); engine.type_names().len()],
        ..ScanResult::default()
    };
    let cap = max_bytes.unwrap_or(u64::MAX);
    let mut reader = io::Cursor::new(head).chain(rest);
    let mut window = Window::new(MAX_LINE);
    let mut chunk = vec![0u8; READ];
    let mut line: u64 = 1;
    let mut st = ChunkState::default();
    let mut eof = false;
    loop {
        let room = cap - res.bytes;
        if room == 0 {
            res.truncated = more_input(&mut reader);
            eof = true;
        } else {
            let want = (READ as u64).min(room).min(window.room().max(1) as u64) as usize;
            match read_some(&mut reader, &mut chunk[..want]) {
                Ok(0) => eof = true,
                Ok(n) => {
                    window.extend(&chunk[..n]);
                    res.bytes += n as u64;
                }
                Err(e) => {
                    res.error = Some(e.to_string());
                    eof = true;
                }
            }
        }
        while let Some((from, to)) = window.next_region(eof) {
            let buf = window.buf();
            let types = &mut res.types;
            // Newlines before `counted` are in `line`.
            let mut counted = from;
            let done = engine.scan(buf, from, to, &mut st, |h: &Hit| {
                if h.start > counted {
                    line += memchr::memchr_iter(b'\n', &buf[counted..h.start]).count() as u64;
                    counted = h.start;
                }
                let t = &mut types[h.type_id];
                t.count += 1;
                if t.first_lines.len() < FIRST_LINES && t.first_lines.last() != Some(&line) {
                    t.first_lines.push(line);
                }
                h.end
            });
            let done = done.min(buf.len());
            if done > counted {
                line += memchr::memchr_iter(b'\n', &buf[counted..done]).count() as u64;
            }
            window.consumed(done);
            if eof || !window.is_full() {
                break;
            }
        }
        if eof {
            return res;
        }
    }
}

/// Whether any input is left after the byte limit (an unreadable rest counts as more).
fn more_input<R: Read>(reader: &mut R) -> bool {
    let mut probe = [0u8; 1];
    loop {
        match reader.read(&mut probe) {
            Ok(n) => return n > 0,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return true,
        }
    }
}

fn read_some<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::EngineConfig;

    fn engine() -> Engine {
        Engine::new(&EngineConfig::default()).unwrap()
    }

    fn phone_id(e: &Engine) -> usize {
        e.type_names().iter().position(|t| t == "phone").unwrap()
    }

    #[test]
    fn scan_counts_and_reports_first_lines() {
        let e = engine();
        let text = b"ok\ncall 13812345678 now\nnothing\n13912345678 and 13712345678\n".to_vec();
        let r = scan(&e, text, io::empty(), None);
        let p = &r.types[phone_id(&e)];
        assert_eq!(p.count, 3);
        assert_eq!(p.first_lines, vec![2, 4]);
        assert!(!r.truncated);
    }

    #[test]
    fn scan_finds_values_across_read_boundaries_and_counts_lines_right() {
        let e = engine();
        let mut text = Vec::new();
        let mut expected_lines = Vec::new();
        let mut line = 1u64;
        // Lines of varied length so some phones straddle the 256 KiB read size.
        while text.len() < 3 * READ {
            if line.is_multiple_of(997) {
                text.extend_from_slice(b"user phone 13812345678 end\n");
                expected_lines.push(line);
            } else {
                text.extend_from_slice(&vec![b'x'; (line as usize * 7) % 300]);
                text.push(b'\n');
            }
            line += 1;
        }
        let (head, rest) = text.split_at(100);
        let r = scan(&e, head.to_vec(), rest, None);
        let p = &r.types[phone_id(&e)];
        assert_eq!(p.count as usize, expected_lines.len());
        assert_eq!(p.first_lines, expected_lines[..FIRST_LINES].to_vec());
        assert_eq!(r.bytes as usize, text.len());
    }

    #[test]
    fn scan_stops_at_the_limit_and_says_so() {
        let e = engine();
        let text = b"a 13812345678\nb 13912345678\n".to_vec();
        let r = scan(&e, Vec::new(), &text[..], Some(15));
        assert!(r.truncated);
        assert_eq!(r.bytes, 15);
        assert_eq!(r.types[phone_id(&e)].count, 1);
        let r = scan(&e, Vec::new(), &text[..], Some(text.len() as u64));
        assert!(!r.truncated, "exactly the limit is complete");
    }

    /// The audit cuts a stream where redaction does (one window type): on overlong lines of multi-byte
    /// text with values all along them, cut at every offset inside a character, both find exactly the same
    /// values.
    #[test]
    fn scan_finds_what_redaction_finds_on_overlong_multibyte_lines() {
        let e = engine();
        let mut text = Vec::new();
        let mut i = 0u64;
        while text.len() < 3 * (MAX_LINE + crate::redact::stream::HOLD) {
            // Odd lengths of 3-byte characters, so cuts fall at every offset inside one.
            text.extend(std::iter::repeat_n("用户".as_bytes(), (i % 7) as usize).flatten());
            text.extend_from_slice(
                format!("电话{}，邮件u{i}@example.com ", 13800000000 + i * 7919).as_bytes(),
            );
            i += 1;
        }
        text.extend_from_slice(b"\nlast 13912345678\n");
        let (_, findings) = crate::redact::redact_all(&e, &text);
        let r = scan(&e, Vec::new(), &text[..], None);
        let counts: Vec<u64> = r.types.iter().map(|t| t.count).collect();
        assert_eq!(counts, findings.counts);
        assert!(counts[phone_id(&e)] > 1000, "{counts:?}");
        assert_eq!(r.types[phone_id(&e)].first_lines, vec![1, 2]);
    }
}
