//! The text layer: logical characters over raw bytes, decoded once for every detector.
//!
//! Logs carry the same text in many spellings: UTF-8, full-width forms (`１３８`, `：`, `Ｘ`), JSON and C
//! escapes (`\u5bc6`, doubled `\\u5bc6` inside a JSON string inside JSON, `\n`, `\"`, `\xe5`), URL
//! encoding (`%E5%AF%86`, doubled `%25E5`), HTML/XML entities (`&quot;`, `&#64;`, `&nbsp;`), and ANSI colour
//! codes around words (`ESC[36m`, also escaped as `\u001b[36m`). A [`Cursor`] walks the bytes forwards or
//! backwards and yields one [`Ch`] per logical character: the character as a reader sees it (full-width ASCII
//! folded to ASCII), its byte span and the [`Form`] it was written in. An ANSI colour code is one
//! [`Form::Ansi`] character (ESC): it ends a word, and a detector that looks past it skips it. Bytes
//! that are not UTF-8 (latin-1, GBK) come out one by one as [`Form::Invalid`]: opaque, never a letter or
//! digit, so they end words (a value next to one is still found, and never takes it in).
//!
//! Detectors read their context only through this module, so a new encoding is added here, once.

use std::ops::Deref;

/// How far back from a candidate any detector may read (bytes). The streaming wrapper keeps at least this much
/// already-written input as context, so a decision never depends on where the input was cut.
pub const MAX_LOOKBEHIND: usize = 512;

/// How a logical character was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// As itself (ASCII or UTF-8).
    Raw,
    /// A full-width form of an ASCII character (`１`, `：`, `Ｘ`), folded.
    FullWidth,
    /// A backslash escape (`\u5bc6`, `\\u5bc6`, `\n`, `\"`, `\xe5\xaf\x86`).
    Escape,
    /// URL encoding (`%3A`, `%E5%AF%86`, `%253A`).
    Percent,
    /// An HTML/XML character reference (`&quot;`, `&#64;`, `&#x40;`, `&nbsp;`).
    Entity,
    /// A byte that is not UTF-8 (latin-1, GBK, binary): `c` is U+FFFD.
    Invalid,
    /// An ANSI control sequence (`ESC[1;33m`, `\u001b[36m`): `c` is ESC.
    Ansi,
}

/// One logical character: `c` as a reader sees it, written at `hay[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ch {
    pub c: char,
    pub start: usize,
    pub end: usize,
    pub form: Form,
}

impl Ch {
    pub fn is(&self, c: char) -> bool {
        self.c == c
    }
    /// An ASCII digit (`0`-`9`) in any written form: as itself, full-width, escaped (`\u0031`), URL-encoded
    /// (`%31`) or as an entity (`&#49;`). (An invalid byte or a colour code never reads as a digit.)
    pub fn digit(&self) -> Option<u8> {
        self.c.is_ascii_digit().then_some(self.c as u8)
    }
    pub fn is_ascii_alnum(&self) -> bool {
        self.c.is_ascii_alphanumeric()
    }
    /// A letter or digit of any script (CJK ideographs included), never an opaque byte.
    pub fn is_alnum(&self) -> bool {
        self.form != Form::Invalid && self.c.is_alphanumeric()
    }
    /// A blank: space, tab, no-break and thin spaces, the ideographic space.
    pub fn is_blank(&self) -> bool {
        is_blank(self.c)
    }
    /// A line break, raw or escaped (`\n` inside a JSON string ends a line of the message).
    pub fn is_newline(&self) -> bool {
        matches!(self.c, '\n' | '\r')
    }
    pub fn is_ansi(&self) -> bool {
        self.form == Form::Ansi
    }
    /// An ASCII byte written as itself.
    pub fn raw_ascii(&self) -> Option<u8> {
        (self.form == Form::Raw && self.c.is_ascii()).then_some(self.c as u8)
    }
}

pub fn is_blank(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{3000}'
    )
}

/// CJK and full-width punctuation and spaces: these end words in Chinese text.
pub fn is_cjk_punct(c: char) -> bool {
    matches!(c as u32,
        0x2000..=0x206F      // general punctuation (dashes, quotes, ellipsis)
        | 0x3000..=0x303F    // CJK symbols and punctuation (、。「」 and the ideographic space)
        | 0xFE30..=0xFE4F    // CJK compatibility forms
        | 0xFF00..=0xFF0F    // full-width ！＂＃＄％＆＇（）＊＋，－．／
        | 0xFF1A..=0xFF20    // ：；＜＝＞？＠
        | 0xFF3B..=0xFF40
        | 0xFF5B..=0xFF65)
}

/// Full-width ASCII variants (U+FF01-FF5E) folded to ASCII.
fn fold(c: char) -> (char, bool) {
    match c as u32 {
        v @ 0xFF01..=0xFF5E => (char::from_u32(v - 0xFF01 + 0x21).unwrap_or(c), true),
        _ => (c, false),
    }
}

#[inline]
fn hex_val(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'f' => Some(u32::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(b - b'A' + 10)),
        _ => None,
    }
}

fn hex_at(hay: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = hay.get(at..at + n)?;
    s.iter()
        .try_fold(0u32, |v, &b| Some((v << 4) | hex_val(b)?))
}

/// Length of the UTF-8 sequence a lead byte announces (0 for a continuation or invalid byte).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

/// Decodes one UTF-8 character from `bytes` (exactly its length).
fn utf8_char(bytes: &[u8]) -> Option<char> {
    std::str::from_utf8(bytes).ok()?.chars().next()
}

/// Most backslashes read as one escape introducer (`\u`, `\\u` inside JSON inside JSON, up to `\\\\\\\u`).
const MAX_BACKSLASHES: usize = 7;

/// A character decoded from `hay[start..end]`.
fn ch(c: char, start: usize, end: usize, form: Form) -> Ch {
    let (c, folded) = fold(c);
    let form = if folded && form == Form::Raw {
        Form::FullWidth
    } else {
        form
    };
    Ch {
        c,
        start,
        end,
        form,
    }
}

/// The bytes of a `\xHH` or `%HH` sequence starting at `at` (up to four units forming one UTF-8 character):
/// (char, end). `unit` is the unit's length and `val` reads a unit's byte.
fn multi_unit(
    at: usize,
    first: u8,
    unit: impl Fn(usize) -> Option<(u8, usize)>,
) -> Option<(char, usize)> {
    let n = utf8_len(first);
    let mut buf = [first, 0, 0, 0];
    let mut end = at;
    if n == 0 {
        return None;
    }
    for slot in buf.iter_mut().take(n).skip(1) {
        let (b, e) = unit(end)?;
        *slot = b;
        end = e;
    }
    Some((utf8_char(&buf[..n])?, end))
}

/// `%HH` at `at` (also `%25HH`, URL-encoded twice): its byte and end.
fn percent_unit(hay: &[u8], at: usize) -> Option<(u8, usize)> {
    if hay.get(at) != Some(&b'%') {
        return None;
    }
    if hay.get(at + 1..at + 3) == Some(b"25") {
        if let Some(v) = hex_at(hay, at + 3, 2) {
            return Some((v as u8, at + 5));
        }
    }
    Some((hex_at(hay, at + 1, 2)? as u8, at + 3))
}

/// `\xHH` (after any run of backslashes) at `at`: its byte and end.
fn hex_escape_unit(hay: &[u8], at: usize) -> Option<(u8, usize)> {
    let k = hay[at..]
        .iter()
        .take(MAX_BACKSLASHES)
        .take_while(|&&b| b == b'\\')
        .count();
    if k == 0 || hay.get(at + k) != Some(&b'x') {
        return None;
    }
    Some((hex_at(hay, at + k + 1, 2)? as u8, at + k + 3))
}

/// Decodes the backslash escape starting at `at` (a run of backslashes, then what they introduce).
fn escape_at(hay: &[u8], at: usize) -> Option<Ch> {
    let k = hay[at..]
        .iter()
        .take(MAX_BACKSLASHES)
        .take_while(|&&b| b == b'\\')
        .count();
    let i = at + k;
    let esc = |c: char, end: usize| Some(ch(c, at, end, Form::Escape));
    match *hay.get(i)? {
        b'u' | b'U' => {
            let v = hex_at(hay, i + 1, 4)?;
            if (0xD800..0xDC00).contains(&v) {
                // A UTF-16 surrogate pair (`\ud83d\ude00`), the second with as many backslashes.
                let j = i + 5;
                let k2 = hay[j..].iter().take(k).take_while(|&&b| b == b'\\').count();
                if k2 == k && matches!(hay.get(j + k), Some(b'u' | b'U')) {
                    if let Some(lo @ 0xDC00..=0xDFFF) = hex_at(hay, j + k + 1, 4) {
                        let c = char::from_u32(0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00))?;
                        return esc(c, j + k + 5);
                    }
                }
                return None;
            }
            esc(char::from_u32(v)?, i + 5)
        }
        b'x' => {
            let first = hex_at(hay, i + 1, 2)? as u8;
            if first < 0x80 {
                return esc(char::from(first), i + 3);
            }
            match multi_unit(i + 3, first, |p| hex_escape_unit(hay, p)) {
                Some((c, end)) => esc(c, end),
                None => Some(Ch {
                    c: char::REPLACEMENT_CHARACTER,
                    start: at,
                    end: i + 3,
                    form: Form::Invalid,
                }),
            }
        }
        b'n' => esc('\n', i + 1),
        b'r' => esc('\r', i + 1),
        b't' => esc('\t', i + 1),
        b'f' => esc('\u{C}', i + 1),
        b'b' => esc('\u{8}', i + 1),
        b'v' => esc('\u{B}', i + 1),
        b'a' => esc('\u{7}', i + 1),
        b'e' => esc('\u{1B}', i + 1),
        b'"' => esc('"', i + 1),
        b'\'' => esc('\'', i + 1),
        b'/' => esc('/', i + 1),
        b'0'..=b'7' => {
            let s = hay.get(i..i + 3)?;
            if !s.iter().all(|b| (b'0'..=b'7').contains(b)) {
                return None;
            }
            let v = s.iter().fold(0u32, |v, &b| v * 8 + u32::from(b - b'0'));
            (v < 0x80).then(|| ch(char::from(v as u8), at, i + 3, Form::Escape))
        }
        _ => None,
    }
}

/// Decodes the URL-encoded character starting at `at`.
fn percent_at(hay: &[u8], at: usize) -> Option<Ch> {
    let (first, end) = percent_unit(hay, at)?;
    if first < 0x80 {
        return Some(ch(char::from(first), at, end, Form::Percent));
    }
    let (c, end) = multi_unit(end, first, |p| percent_unit(hay, p))?;
    Some(ch(c, at, end, Form::Percent))
}

/// Decodes the HTML/XML character reference starting at `at` (`&...;`, at most 10 bytes).
fn entity_at(hay: &[u8], at: usize) -> Option<Ch> {
    let limit = hay.len().min(at + 10);
    let semi = at + 1 + memchr::memchr(b';', hay.get(at + 1..limit)?)?;
    let body = &hay[at + 1..semi];
    let c = match body {
        b"amp" => '&',
        b"lt" => '<',
        b"gt" => '>',
        b"quot" => '"',
        b"apos" => '\'',
        b"nbsp" => '\u{A0}',
        b"commat" => '@',
        [b'#', b'x' | b'X', hex @ ..] if !hex.is_empty() && hex.len() <= 6 => char::from_u32(
            hex.iter()
                .try_fold(0u32, |v, &b| Some((v << 4) | hex_val(b)?))?,
        )?,
        [b'#', dec @ ..] if !dec.is_empty() && dec.len() <= 7 => {
            if !dec.iter().all(u8::is_ascii_digit) {
                return None;
            }
            char::from_u32(dec.iter().fold(0u32, |v, &b| v * 10 + u32::from(b - b'0')))?
        }
        _ => return None,
    };
    Some(ch(c, at, semi + 1, Form::Entity))
}

/// Length of an ANSI control sequence at `at`: `ESC[1;33m`, also written as an escape (`\u001b[36m`,
/// `\x1b[36m`, `\033[36m`, `\e[36m`).
pub fn ansi_len_at(hay: &[u8], at: usize) -> Option<usize> {
    let intro_end = match *hay.get(at)? {
        0x1B => at + 1,
        b'\\' => escape_at(hay, at).filter(|e| e.c == '\u{1B}')?.end,
        _ => return None,
    };
    ansi_len_after(hay, at, intro_end)
}

/// Length of the ANSI control sequence at `at` whose ESC (raw or escaped) ends at `intro_end`: `[`, its
/// parameters and its final byte follow.
fn ansi_len_after(hay: &[u8], at: usize, intro_end: usize) -> Option<usize> {
    let mut i = intro_end;
    if hay.get(i) != Some(&b'[') {
        return None;
    }
    i += 1;
    let params = i;
    while i < hay.len()
        && i - params < 24
        && (hay[i].is_ascii_digit() || matches!(hay[i], b';' | b':'))
    {
        i += 1;
    }
    hay.get(i)
        .is_some_and(|b| (0x40..=0x7E).contains(b))
        .then_some(i + 1 - at)
}

/// Where an ANSI control sequence that ends at `end` starts.
pub fn ansi_start_before(hay: &[u8], end: usize, floor: usize) -> Option<usize> {
    if end < floor + 3 || !(0x40..=0x7E).contains(&hay[end - 1]) {
        return None;
    }
    let mut i = end - 1;
    while i > floor
        && end - i < 26
        && (hay[i - 1].is_ascii_digit() || matches!(hay[i - 1], b';' | b':'))
    {
        i -= 1;
    }
    if i < floor + 2 || hay[i - 1] != b'[' {
        return None;
    }
    let lo = floor.max((i - 1).saturating_sub(MAX_BACKSLASHES + 5));
    (lo..i - 1)
        .rev()
        .find(|&s| ansi_len_at(hay, s) == Some(end - s))
}

/// The logical character that starts at `at`.
#[inline]
pub fn char_at(hay: &[u8], at: usize) -> Option<Ch> {
    let b = *hay.get(at)?;
    // Most bytes are plain ASCII that starts no encoding.
    if b < 0x80 && !matches!(b, 0x1B | b'\\' | b'%' | b'&') {
        return Some(Ch {
            c: char::from(b),
            start: at,
            end: at + 1,
            form: Form::Raw,
        });
    }
    char_at_slow(hay, at, b)
}

fn char_at_slow(hay: &[u8], at: usize, b: u8) -> Option<Ch> {
    let ansi = |intro_end: usize| {
        ansi_len_after(hay, at, intro_end).map(|n| Ch {
            c: '\u{1B}',
            start: at,
            end: at + n,
            form: Form::Ansi,
        })
    };
    let decoded = match b {
        0x1B => ansi(at + 1),
        // An escaped ESC that opens a colour code is the code (decoded once for both).
        b'\\' => match escape_at(hay, at) {
            Some(e) if e.c == '\u{1B}' => ansi(e.end).or(Some(e)),
            e => e,
        },
        b'%' => percent_at(hay, at),
        b'&' => entity_at(hay, at),
        _ => None,
    };
    if decoded.is_some() {
        return decoded;
    }
    if b < 0x80 {
        return Some(Ch {
            c: char::from(b),
            start: at,
            end: at + 1,
            form: Form::Raw,
        });
    }
    let n = utf8_len(b);
    match hay.get(at..at + n).filter(|_| n > 0).and_then(utf8_char) {
        Some(c) => Some(ch(c, at, at + n, Form::Raw)),
        None => Some(Ch {
            c: char::REPLACEMENT_CHARACTER,
            start: at,
            end: at + 1,
            form: Form::Invalid,
        }),
    }
}

/// Longest encoded character in bytes (`\\\\\\\xHH` four times, a surrogate pair, `%25HH` four times).
pub const MAX_ENCODED: usize = 48;

/// Bytes that can start an encoded character.
#[inline]
fn is_intro(hay: &[u8], s: usize, floor: usize) -> bool {
    match hay[s] {
        b'%' | b'&' => true,
        // A backslash that begins its run.
        b'\\' => s == floor || hay[s - 1] != b'\\',
        _ => false,
    }
}

/// Where the logical character at introducer `s` can end, seen without decoding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// If it is encoded at all it ends here (else it is the introducer alone, one raw byte).
    Exactly(usize),
    /// It ends here or before.
    AtMost(usize),
}

/// A cheap bound on the character at introducer `s` (`\`, `%` or `&`): a `\uXXXX` that is neither a
/// surrogate (`\uD...`) nor an escaped ESC opening a colour code (`\u001b`), and a one-letter escape (`\n`,
/// `\"`), end exactly after themselves; an entity ends within 10 bytes, a URL-encoded character within four
/// `%25HH` units; any other escape within [`MAX_ENCODED`] bytes. Decoding only the introducers whose
/// character can reach a given byte keeps reading back over a run of escapes linear.
#[inline]
fn reach(hay: &[u8], s: usize) -> Reach {
    match hay[s] {
        b'&' => Reach::AtMost(s + 10),
        b'%' => Reach::AtMost(s + 20),
        _ => {
            let k = hay[s..]
                .iter()
                .take(MAX_BACKSLASHES)
                .take_while(|&&b| b == b'\\')
                .count();
            match (hay.get(s + k), hay.get(s + k + 1)) {
                (Some(b'u' | b'U'), Some(h)) if !matches!(h, b'0' | b'd' | b'D') => {
                    Reach::Exactly(s + k + 5)
                }
                (Some(b'n' | b'r' | b't' | b'f' | b'b' | b'v' | b'a' | b'"' | b'\'' | b'/'), _) => {
                    Reach::Exactly(s + k + 1)
                }
                _ => Reach::AtMost(s + MAX_ENCODED),
            }
        }
    }
}

/// The encoded character (escape, URL encoding, entity) that starts earliest in `[lo, end)` and ends exactly
/// at `end`. An undecodable `\xHH` counts only when nothing else does.
///
/// Introducers are read from `end` backwards, down to the first barrier (see [`is_barrier`]): reading back
/// over a run of `\uXXXX` decodes one escape per character, not every one in the window.
fn encoded_ending_at(hay: &[u8], lo: usize, end: usize, floor: usize) -> Option<Ch> {
    let window = &hay[lo..end];
    let (mut found, mut fallback) = (None, None);
    for p in memchr::memchr3_iter(b'\\', b'%', b'&', window).rev() {
        let s = lo + p;
        if !is_intro(hay, s, floor) {
            continue;
        }
        let r = reach(hay, s);
        let can_end_there = match r {
            Reach::Exactly(e) => e == end,
            Reach::AtMost(e) => e >= end,
        };
        if can_end_there {
            match char_at(hay, s) {
                Some(c)
                    if c.end == end
                        && matches!(c.form, Form::Escape | Form::Percent | Form::Entity) =>
                {
                    found = Some(c);
                }
                Some(c) if c.end == end && c.form == Form::Invalid => fallback = Some(c),
                _ => {}
            }
        }
        if is_barrier(r, s, end) {
            break;
        }
    }
    found.or(fallback)
}

/// No character that starts before the introducer `s` ends at `end` or holds the byte before it, when `s`
/// has an exact [`Reach`] (a backslash run that begins there, then `u`/`U` and no surrogate or ESC, or a
/// one-letter escape) and `end` is past its first byte. A backslash inside an encoded character is in its
/// leading run (then `s` would not begin a run), begins the second half of a surrogate pair (`u` then `D`),
/// begins a later `\xHH` unit (`x`), or is a colour code's final byte (its last byte): none lets a character
/// from before `s` hold `s + 1`. The property test `bounded_introducers_decode_as_before` compares this with
/// decoding every introducer.
#[inline]
fn is_barrier(r: Reach, s: usize, end: usize) -> bool {
    matches!(r, Reach::Exactly(_)) && s + 2 <= end
}

/// The logical character that ends at `end`, decoded backwards, reading no byte below `floor`: the encoded
/// character that ends there and starts earliest, else UTF-8, else one opaque byte.
#[inline]
pub fn char_before(hay: &[u8], end: usize, floor: usize) -> Option<Ch> {
    if end <= floor {
        return None;
    }
    let last = hay[end - 1];
    if last < 0x80 {
        if plain_before(hay, end, floor, last) {
            return Some(Ch {
                c: char::from(last),
                start: end - 1,
                end,
                form: Form::Raw,
            });
        }
    } else if let Some(c) = utf8_before(hay, end, floor) {
        // A continuation byte never ends an escape or an ANSI sequence.
        return Some(c);
    }
    char_before_slow(hay, end, floor)
}

/// The UTF-8 character that ends at `end` (its last byte a continuation byte), if it is valid.
#[inline]
fn utf8_before(hay: &[u8], end: usize, floor: usize) -> Option<Ch> {
    for n in 2..=4 {
        if end < floor + n {
            return None;
        }
        let lead = hay[end - n];
        if lead >= 0xC0 {
            return (utf8_len(lead) == n)
                .then(|| utf8_char(&hay[end - n..end]))
                .flatten()
                .map(|c| ch(c, end - n, end, Form::Raw));
        }
        if lead < 0x80 {
            return None;
        }
    }
    None
}

/// The ASCII byte `last` before `end` is a character of its own: it ends no encoded character (no
/// introducer where its last unit's would be) and no ANSI sequence (no parameter or `[` before a final byte).
#[inline]
fn plain_before(hay: &[u8], end: usize, floor: usize, last: u8) -> bool {
    let ansi = (0x40..=0x7E).contains(&last)
        && end >= floor + 2
        && matches!(hay[end - 2], b'0'..=b'9' | b';' | b':' | b'[');
    if ansi || last == b';' || last == 0x1B {
        return false;
    }
    if last.is_ascii_alphanumeric() || matches!(last, b'"' | b'\'' | b'/') {
        return ![2, 3, 4, 5, 6, 10]
            .iter()
            .any(|&k| end >= floor + k && matches!(hay[end - k], b'\\' | b'%'));
    }
    true
}

fn char_before_slow(hay: &[u8], end: usize, floor: usize) -> Option<Ch> {
    if let Some(start) = ansi_start_before(hay, end, floor) {
        return Some(Ch {
            c: '\u{1B}',
            start,
            end,
            form: Form::Ansi,
        });
    }
    let last = hay[end - 1];
    // An encoded character ends in a hex digit, an escape letter, a quote, a slash or `;`, and its last unit
    // has its introducer 2 to 12 bytes before its end (`\n`, `%HH`, `\xHH`, `%25HH`, `\uXXXX` after up to
    // seven backslashes, an entity's `&`): look further only when one is there.
    let maybe_encoded = if last == b';' {
        true
    } else if last.is_ascii_alphanumeric() || matches!(last, b'"' | b'\'' | b'/') {
        // The introducer of the last unit sits exactly 2 (`\n`, `\"`), 3 (`%HH`), 4 (`\xHH`, `\NNN`),
        // 5 (`%25HH`), 6 (`\uXXXX`) or 10 (`\UXXXXXXXX`) bytes before its end.
        [2, 3, 4, 5, 6, 10]
            .iter()
            .any(|&k| end >= floor + k && matches!(hay[end - k], b'\\' | b'%'))
    } else {
        false
    };
    if maybe_encoded {
        let lo = floor.max(end.saturating_sub(MAX_ENCODED));
        if let Some(c) = encoded_ending_at(hay, lo, end, floor) {
            return Some(c);
        }
    }
    if last < 0x80 {
        return Some(Ch {
            c: char::from(last),
            start: end - 1,
            end,
            form: Form::Raw,
        });
    }
    for n in 2..=4 {
        if end >= floor + n && utf8_len(hay[end - n]) == n {
            if let Some(c) = utf8_char(&hay[end - n..end]) {
                return Some(ch(c, end - n, end, Form::Raw));
            }
        }
    }
    Some(Ch {
        c: char::REPLACEMENT_CHARACTER,
        start: end - 1,
        end,
        form: Form::Invalid,
    })
}

/// Where the logical character that covers byte `at` ends, when an encoded character starts before `at` and
/// runs over it (`\u5361` + `138...`: a candidate found at `5361138...` really starts after the escape);
/// otherwise `at`.
pub fn skip_into(hay: &[u8], at: usize, floor: usize) -> usize {
    // Inside an encoded character, the byte before is part of it (an introducer, `#`, a hex digit, `u`, `x`).
    if at == floor
        || !(hay[at - 1].is_ascii_alphanumeric()
            || matches!(hay[at - 1], b'\\' | b'%' | b'&' | b'#'))
    {
        return at;
    }
    // The unit that covers `at` has its introducer at most 12 bytes before it.
    let near = floor.max(at.saturating_sub(12));
    if !hay[near..at]
        .iter()
        .any(|&b| matches!(b, b'\\' | b'%' | b'&'))
    {
        return at;
    }
    // The earliest introducer whose character runs over `at` wins: read back from `at` to a barrier.
    let lo = floor.max(at.saturating_sub(MAX_ENCODED));
    let window = &hay[lo..at];
    let mut covered = at;
    for p in memchr::memchr3_iter(b'\\', b'%', b'&', window).rev() {
        let s = lo + p;
        if !is_intro(hay, s, floor) {
            continue;
        }
        let r = reach(hay, s);
        let (Reach::Exactly(e) | Reach::AtMost(e)) = r;
        if e > at {
            if let Some(c) = char_at(hay, s) {
                if c.end > at && c.form != Form::Invalid {
                    covered = c.end;
                }
            }
        }
        if is_barrier(r, s, at + 1) {
            break;
        }
    }
    covered
}

/// Up to `N` characters, kept on the stack (detectors that run on every candidate allocate nothing).
#[derive(Clone, Copy)]
pub struct Chars<const N: usize> {
    buf: [Ch; N],
    len: usize,
}

impl<const N: usize> Chars<N> {
    const EMPTY: Ch = Ch {
        c: '\0',
        start: 0,
        end: 0,
        form: Form::Raw,
    };

    pub fn new() -> Self {
        Chars {
            buf: [Self::EMPTY; N],
            len: 0,
        }
    }

    /// The first `N` characters of `chars`.
    pub fn collect(chars: impl Iterator<Item = Ch>) -> Self {
        let mut v = Self::new();
        for ch in chars.take(N) {
            v.push(ch);
        }
        v
    }

    /// Adds `ch` (the caller stops at `N`).
    pub fn push(&mut self, ch: Ch) {
        self.buf[self.len] = ch;
        self.len += 1;
    }
}

impl<const N: usize> Default for Chars<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Deref for Chars<N> {
    type Target = [Ch];
    fn deref(&self) -> &[Ch] {
        &self.buf[..self.len]
    }
}

/// The characters `chs` spell `word` at their start.
pub fn starts_with(chs: &[Ch], word: &str) -> bool {
    let mut it = chs.iter();
    word.chars().all(|w| it.next().is_some_and(|ch| ch.c == w))
}

/// A walk over logical characters, forwards from `at` or backwards from it, never below `floor`.
#[derive(Debug, Clone, Copy)]
pub struct Cursor<'a> {
    hay: &'a [u8],
    pub at: usize,
    floor: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(hay: &'a [u8], at: usize, floor: usize) -> Self {
        Cursor { hay, at, floor }
    }

    pub fn hay(&self) -> &'a [u8] {
        self.hay
    }

    /// The next character, without moving.
    pub fn peek(&self) -> Option<Ch> {
        char_at(self.hay, self.at)
    }

    /// The previous character, without moving.
    pub fn peek_back(&self) -> Option<Ch> {
        char_before(self.hay, self.at, self.floor)
    }

    pub fn prev(&mut self) -> Option<Ch> {
        let c = self.peek_back()?;
        self.at = c.start;
        Some(c)
    }

    /// Moves back over characters while `f` holds (at most `max`); returns how many.
    pub fn back_while(&mut self, max: usize, mut f: impl FnMut(&Ch) -> bool) -> usize {
        let mut n = 0;
        while n < max {
            match self.peek_back() {
                Some(c) if f(&c) => {
                    self.at = c.start;
                    n += 1;
                }
                _ => break,
            }
        }
        n
    }

    /// Moves forward over characters while `f` holds (at most `max`); returns how many.
    pub fn forward_while(&mut self, max: usize, mut f: impl FnMut(&Ch) -> bool) -> usize {
        let mut n = 0;
        while n < max {
            match self.peek() {
                Some(c) if f(&c) => {
                    self.at = c.end;
                    n += 1;
                }
                _ => break,
            }
        }
        n
    }

    /// The characters ahead spell `word` (ASCII case-insensitive, any encoding); moves past them if so.
    pub fn eat(&mut self, word: &str) -> bool {
        let mut c = *self;
        for w in word.chars() {
            match c.next() {
                Some(x) if x.c == w || (w.is_ascii() && x.c.eq_ignore_ascii_case(&w)) => {}
                _ => return false,
            }
        }
        *self = c;
        true
    }

    /// Eats the first of `words` that the characters ahead spell (as [`Cursor::eat`]), decoding the next
    /// character once to pass over the words that cannot start there (their first byte differs from the
    /// character's first UTF-8 byte, in any ASCII case).
    pub fn eat_first(&mut self, words: &[&str]) -> bool {
        let Some(next) = self.peek() else {
            return false;
        };
        let mut utf8 = [0u8; 4];
        let lead = next.c.encode_utf8(&mut utf8).as_bytes()[0];
        words.iter().any(|w| {
            w.as_bytes()
                .first()
                .is_some_and(|b| b.eq_ignore_ascii_case(&lead))
                && self.eat(w)
        })
    }

    /// The characters behind spell `word` (ASCII case-insensitive); moves before them if so.
    pub fn eat_back(&mut self, word: &str) -> bool {
        let mut c = *self;
        for w in word.chars().rev() {
            match c.prev() {
                Some(x) if x.c == w || (w.is_ascii() && x.c.eq_ignore_ascii_case(&w)) => {}
                _ => return false,
            }
        }
        *self = c;
        true
    }
}

impl Iterator for Cursor<'_> {
    type Item = Ch;

    /// The next character; moves past it.
    fn next(&mut self) -> Option<Ch> {
        let c = self.peek()?;
        self.at = c.end;
        Some(c)
    }
}

/// The ASCII word (letters, digits, `_`, `-`) that ends at `end`, lower-cased and without `_`/`-`, read
/// through the text layer (at most `max` characters): `(start, word)`.
pub fn word_before(hay: &[u8], end: usize, floor: usize, max: usize) -> (usize, Vec<u8>) {
    let mut c = Cursor::new(hay, end, floor);
    let mut word = Vec::new();
    c.back_while(max, |ch| {
        let ok = ch.c.is_ascii_alphanumeric() || matches!(ch.c, '_' | '-');
        if ok && !matches!(ch.c, '_' | '-') {
            word.push(ch.c.to_ascii_lowercase() as u8);
        }
        ok
    });
    word.reverse();
    (c.at, word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward(s: &str) -> Vec<(char, &str, Form)> {
        let hay = s.as_bytes();
        Cursor::new(hay, 0, 0)
            .map(|ch| (ch.c, &s[ch.start..ch.end], ch.form))
            .collect()
    }

    fn backward(s: &str) -> Vec<(char, &str, Form)> {
        let hay = s.as_bytes();
        let mut c = Cursor::new(hay, hay.len(), 0);
        let mut v = Vec::new();
        while let Some(ch) = c.prev() {
            v.push((ch.c, &s[ch.start..ch.end], ch.form));
        }
        v.reverse();
        v
    }

    #[test]
    fn every_encoding_decodes_the_same_both_ways() {
        use Form::*;
        let cases: &[(&str, &[(char, Form)])] = &[
            ("a密", &[('a', Raw), ('密', Raw)]),
            (
                "１Ｘ：",
                &[('1', FullWidth), ('X', FullWidth), (':', FullWidth)],
            ),
            ("\\u5bc6\\\\u7801", &[('密', Escape), ('码', Escape)]),
            ("\\ud83d\\ude00x", &[('😀', Escape), ('x', Raw)]),
            ("\\n1\\\"", &[('\n', Escape), ('1', Raw), ('"', Escape)]),
            (
                "%E5%AF%86%3A%253A",
                &[('密', Percent), (':', Percent), (':', Percent)],
            ),
            (
                "&quot;&#64;&#x40;&nbsp;",
                &[
                    ('"', Entity),
                    ('@', Entity),
                    ('@', Entity),
                    ('\u{A0}', Entity),
                ],
            ),
            ("\\xe5\\xaf\\x86", &[('密', Escape)]),
            (
                "\u{1b}[1;33mA\u{1b}[0m",
                &[('\u{1b}', Ansi), ('A', Raw), ('\u{1b}', Ansi)],
            ),
            ("\\u001b[36mA", &[('\u{1b}', Ansi), ('A', Raw)]),
            ("\u{e9}a", &[('\u{e9}', Raw), ('a', Raw)]),
            ("\u{ff11}\\uff12", &[('1', FullWidth), ('2', Escape)]),
        ];
        for (text, want) in cases {
            let f: Vec<(char, Form)> = forward(text).iter().map(|x| (x.0, x.2)).collect();
            assert_eq!(&f, want, "forward {text:?}");
            let b: Vec<(char, Form)> = backward(text).iter().map(|x| (x.0, x.2)).collect();
            assert_eq!(&b, want, "backward {text:?}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_opaque_one_by_one() {
        let hay = b"a\xe9\xd6\xd0@";
        let mut c = Cursor::new(hay, 0, 0);
        let forms: Vec<Form> = std::iter::from_fn(|| c.next()).map(|x| x.form).collect();
        assert_eq!(
            forms,
            [
                Form::Raw,
                Form::Invalid,
                Form::Invalid,
                Form::Invalid,
                Form::Raw
            ]
        );
        let mut c = Cursor::new(hay, hay.len(), 0);
        c.prev();
        let ch = c.prev().unwrap();
        assert_eq!((ch.form, ch.start), (Form::Invalid, 3));
        assert!(!ch.is_alnum());
    }

    #[test]
    fn plain_text_that_only_looks_encoded_stays_plain() {
        // `%` not followed by two hex digits, `&` without `;`, a backslash before a non-escape.
        for text in ["50%OFF", "a&b=1", "C:\\Users", "\\u12", "x%2"] {
            let f = forward(text);
            assert!(f.iter().all(|x| x.2 == Form::Raw), "{text:?}: {f:?}");
            assert_eq!(f.len(), text.len());
            assert_eq!(backward(text), f, "{text:?}");
        }
    }

    #[test]
    fn a_candidate_inside_an_escape_starts_after_it() {
        let hay = b"\\u536113812345678";
        assert_eq!(skip_into(hay, 2, 0), 6);
        assert_eq!(skip_into(hay, 6, 0), 6);
        let hay = b"%E5%8F%B713812345678";
        assert_eq!(skip_into(hay, 7, 0), 9);
        assert_eq!(skip_into(b"13812345678", 3, 0), 3);
    }

    #[test]
    fn cursors_never_read_below_their_floor() {
        let hay = b"\\u5bc6x";
        let c = Cursor::new(hay, 7, 3);
        // The escape starts below the floor: only its tail is seen, byte by byte.
        assert_eq!(c.peek_back().unwrap().c, 'x');
        let mut c = Cursor::new(hay, 6, 3);
        assert_eq!(c.prev().unwrap().c, '6');
        assert_eq!(c.prev().unwrap().c, 'c');
        assert_eq!(c.prev().unwrap().c, 'b');
        assert!(c.prev().is_none());
    }

    /// The decoding as it was before introducers were bounded without decoding (kept to compare against):
    /// the ANSI check decodes an escape, then the escape is decoded again.
    mod before {
        use super::super::*;

        fn ansi_len_at(hay: &[u8], at: usize) -> Option<usize> {
            let b = *hay.get(at)?;
            let intro = if b == 0x1B {
                1
            } else if b == b'\\' {
                let e = escape_at(hay, at)?;
                if e.c != '\u{1B}' {
                    return None;
                }
                e.end - at
            } else {
                return None;
            };
            let mut i = at + intro;
            if hay.get(i) != Some(&b'[') {
                return None;
            }
            i += 1;
            let params = i;
            while i < hay.len()
                && i - params < 24
                && (hay[i].is_ascii_digit() || matches!(hay[i], b';' | b':'))
            {
                i += 1;
            }
            hay.get(i)
                .is_some_and(|b| (0x40..=0x7E).contains(b))
                .then_some(i + 1 - at)
        }

        pub fn char_at(hay: &[u8], at: usize) -> Option<Ch> {
            let b = *hay.get(at)?;
            if b == 0x1B || b == b'\\' {
                if let Some(n) = ansi_len_at(hay, at) {
                    return Some(Ch {
                        c: '\u{1B}',
                        start: at,
                        end: at + n,
                        form: Form::Ansi,
                    });
                }
            }
            let decoded = match b {
                b'\\' => escape_at(hay, at),
                b'%' => percent_at(hay, at),
                b'&' => entity_at(hay, at),
                _ => None,
            };
            if decoded.is_some() {
                return decoded;
            }
            if b < 0x80 {
                return Some(Ch {
                    c: char::from(b),
                    start: at,
                    end: at + 1,
                    form: Form::Raw,
                });
            }
            let n = utf8_len(b);
            match hay.get(at..at + n).filter(|_| n > 0).and_then(utf8_char) {
                Some(c) => Some(ch(c, at, at + n, Form::Raw)),
                None => Some(Ch {
                    c: char::REPLACEMENT_CHARACTER,
                    start: at,
                    end: at + 1,
                    form: Form::Invalid,
                }),
            }
        }

        pub fn encoded_ending_at(hay: &[u8], lo: usize, end: usize, floor: usize) -> Option<Ch> {
            let window = &hay[lo..end];
            let mut fallback = None;
            for p in memchr::memchr3_iter(b'\\', b'%', b'&', window) {
                let s = lo + p;
                if !is_intro(hay, s, floor) {
                    continue;
                }
                match char_at(hay, s) {
                    Some(c)
                        if c.end == end
                            && matches!(c.form, Form::Escape | Form::Percent | Form::Entity) =>
                    {
                        return Some(c);
                    }
                    Some(c) if c.end == end && c.form == Form::Invalid && fallback.is_none() => {
                        fallback = Some(c)
                    }
                    _ => {}
                }
            }
            fallback
        }

        pub fn skip_into(hay: &[u8], at: usize, floor: usize) -> usize {
            if at == floor
                || !(hay[at - 1].is_ascii_alphanumeric()
                    || matches!(hay[at - 1], b'\\' | b'%' | b'&' | b'#'))
            {
                return at;
            }
            let near = floor.max(at.saturating_sub(12));
            if !hay[near..at]
                .iter()
                .any(|&b| matches!(b, b'\\' | b'%' | b'&'))
            {
                return at;
            }
            let lo = floor.max(at.saturating_sub(MAX_ENCODED));
            for p in memchr::memchr3_iter(b'\\', b'%', b'&', &hay[lo..at]) {
                let s = lo + p;
                if is_intro(hay, s, floor) {
                    if let Some(c) = char_at(hay, s) {
                        if c.end > at && c.form != Form::Invalid {
                            return c.end;
                        }
                    }
                }
            }
            at
        }
    }

    /// Escape-heavy text: every encoding, broken and nested ones, and bytes that glue them together oddly.
    fn escape_heavy() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        const PIECES: &[&str] = &[
            "\\u597d",
            "\\u7684",
            "\\uff0c",
            "\\U53F7",
            "\\\\u5bc6",
            "\\\\\\\\u7801",
            "\\ud83d\\ude00",
            "\\ud83d",
            "\\ude00",
            "\\\\ud83d\\\\ude00",
            "\\u001b[36m",
            "\\u001B[1;33m",
            "\\x1b[0m",
            "\\033[32m",
            "\\e[m",
            "\\e[",
            "\\u0031",
            "\\u0025",
            "\\u12",
            "\\uzz12",
            "\\xe5\\xaf\\x86",
            "\\xe5\\\\xaf\\x86",
            "\\xe5",
            "\\x41",
            "\\101",
            "\\n",
            "\\\"",
            "\\\\\"",
            "\\/",
            "\\t",
            "\\\\\\\\\\\\\\\\u5bc6",
            "\\",
            "%E5%AF%86",
            "%253A",
            "%25E5%25AF%2586",
            "%2",
            "%3A",
            "%20",
            "&quot;",
            "&#64;",
            "&#x40;",
            "&nbsp;",
            "&amp",
            "&#",
            "&&#49;",
            "\\u001b[\\u597d",
            "\\e[1;\\n",
            "\\ud83d\\\\ude00",
            "\\\\ud83d\\ude00",
            "\\xe5\\u597d",
            "\\xe5\\\\xaf\\\\x86",
            "\\033[\\",
            "\\x1b[\\x41",
            "\\x1b[\\u0031",
            "\u{1b}[36m",
            "138",
            "5678",
            "1",
            "a",
            "b",
            "d",
            "u",
            "x",
            "[",
            ";",
            "m",
            "#",
            " ",
            "密",
            "\u{ff11}",
            "\u{ff0c}",
        ];
        let piece = prop_oneof![
            3 => proptest::sample::select(PIECES).prop_map(|p| p.as_bytes().to_vec()),
            1 => proptest::collection::vec(
                proptest::sample::select(b"\\ux%&#;0125bdDeE[m7aF\"\xe5".to_vec()),
                1..6,
            ),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Bounding introducers without decoding them finds the same characters, both ways, from every
        /// byte and with every floor.
        #[test]
        fn bounded_introducers_decode_as_before(hay in escape_heavy(), floor_at in 0usize..64) {
            let floor = floor_at.min(hay.len());
            for at in 0..=hay.len() {
                proptest::prop_assert_eq!(char_at(&hay, at), before::char_at(&hay, at), "char_at {}", at);
                if at >= floor {
                    proptest::prop_assert_eq!(
                        skip_into(&hay, at, floor),
                        before::skip_into(&hay, at, floor),
                        "skip_into {} floor {}", at, floor
                    );
                }
                if at > floor {
                    let lo = floor.max(at.saturating_sub(MAX_ENCODED));
                    proptest::prop_assert_eq!(
                        encoded_ending_at(&hay, lo, at, floor),
                        before::encoded_ending_at(&hay, lo, at, floor),
                        "encoded_ending_at {} floor {}", at, floor
                    );
                }
            }
        }
    }
}
