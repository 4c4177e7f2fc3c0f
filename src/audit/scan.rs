//! The PII scan of one file: the redaction engine over a bounded window, counting types and lines.

use std::io::{self, Read};

use crate::redact::engine::ChunkState;
use crate::redact::stream::{HOLD, MAX_LINE};
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

/// Look-behind kept for the validators' context checks (as the streaming redactor keeps).
const CONTEXT: usize = 256;
const READ: usize = 256 << 10;

/// Scans `head` then the rest of `rest` with `engine`, in bounded memory, reading at most `max_bytes`.
/// Reports types, counts and line numbers; never the matched bytes.
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
    let mut buf: Vec<u8> = Vec::with_capacity(READ + CONTEXT);
    let mut ctx = 0usize; // buf[..ctx] was scanned and is context
    let mut counted = 0usize; // newlines in buf[..counted] are in `line`
    let mut line: u64 = 1;
    let mut st = ChunkState::default();
    let mut eof = false;
    loop {
        if !eof {
            let room = cap - res.bytes;
            if room == 0 {
                let mut probe = [0u8; 1];
                loop {
                    match reader.read(&mut probe) {
                        Ok(n) => {
                            res.truncated = n > 0;
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => {
                            res.truncated = true;
                            break;
                        }
                    }
                }
                eof = true;
            } else {
                let start = buf.len();
                let want = (READ as u64).min(room) as usize;
                buf.resize(start + want, 0);
                match read_some(&mut reader, &mut buf[start..]) {
                    Ok(0) => {
                        buf.truncate(start);
                        eof = true;
                    }
                    Ok(n) => {
                        buf.truncate(start + n);
                        res.bytes += n as u64;
                    }
                    Err(e) => {
                        buf.truncate(start);
                        res.error = Some(e.to_string());
                        eof = true;
                    }
                }
            }
        }
        let cut = if eof {
            buf.len()
        } else if let Some(i) = memchr::memrchr(b'\n', &buf[ctx..]) {
            ctx + i + 1
        } else if buf.len() - ctx >= MAX_LINE + HOLD {
            buf.len() - HOLD
        } else {
            continue;
        };
        if cut > ctx {
            let types = &mut res.types;
            let done = engine.scan(&buf, ctx, cut, &mut st, |h: &Hit| {
                line += memchr::memchr_iter(b'\n', &buf[counted..h.start]).count() as u64;
                counted = h.start;
                let t = &mut types[h.type_id];
                t.count += 1;
                if t.first_lines.len() < FIRST_LINES && t.first_lines.last() != Some(&line) {
                    t.first_lines.push(line);
                }
                h.end
            });
            let done = done.min(buf.len());
            line += memchr::memchr_iter(b'\n', &buf[counted..done]).count() as u64;
            let keep_from = done.saturating_sub(CONTEXT);
            buf.drain(..keep_from);
            ctx = done - keep_from;
            counted = ctx;
        }
        if eof {
            return res;
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
}
