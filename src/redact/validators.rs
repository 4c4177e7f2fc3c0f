//! Validators: the decisions made on DFA candidates. Checksums (Luhn, ISO 7064 MOD 11-2), calendar dates,
//! allocated number ranges, and the boundary rules that tell a number from part of an identifier.
//!
//! Everything here is pure: byte slices and offsets in, decisions out.

// ---------------------------------------------------------------------------------------------------------
// Checksums, dates, ranges.

/// Luhn (mod 10) over ASCII digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &c) in digits.iter().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID (GB 11643-1999).
pub fn id_check_char(first17: &[u8]) -> Option<u8> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHARS: &[u8; 11] = b"10X98765432";
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    Some(CHARS[(sum % 11) as usize])
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, &c| acc * 10 + u32::from(c - b'0'))
}

/// A real calendar date (Gregorian leap years).
pub fn date_valid(year: u32, month: u32, day: u32) -> bool {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Province-level codes that begin a resident ID (GB/T 2260), plus 71/81/82/83 (Taiwan, Hong Kong, Macao
/// and residence permits) and 91 (foreigners' permanent residence).
pub fn id_region_valid(d: &[u8]) -> bool {
    if d.len() < 2 {
        return false;
    }
    matches!(
        num(&d[..2]),
        11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83 | 91
    )
}

/// Region and birth date of an 18-char ID are plausible (whatever the check digit says).
pub fn id18_shaped(chars: &[u8], max_birth_year: u32) -> bool {
    if chars.len() != 18 || !chars[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let year = num(&chars[6..10]);
    id_region_valid(chars)
        && (1900..=max_birth_year).contains(&year)
        && date_valid(year, num(&chars[10..12]), num(&chars[12..14]))
}

/// An 18-char resident ID: region, real birth date, and the MOD 11-2 check character (X or x allowed).
pub fn id18_valid(chars: &[u8], max_birth_year: u32) -> bool {
    id18_shaped(chars, max_birth_year)
        && id_check_char(&chars[..17]) == Some(chars[17].to_ascii_uppercase())
}

/// A 15-digit legacy ID (issued before 1999): region and a real 19YYMMDD birth date.
pub fn id15_valid(d: &[u8]) -> bool {
    d.len() == 15
        && d.iter().all(u8::is_ascii_digit)
        && id_region_valid(d)
        && date_valid(1900 + num(&d[6..8]), num(&d[8..10]), num(&d[10..12]))
}

/// The first three digits of an 11-digit number are an allocated CN mobile prefix (MIIT numbering plan:
/// 13x, 145-149, 15x but 154, 162/165-167, 170-178, 18x, 19x but 194).
pub fn mobile_valid(d: &[u8]) -> bool {
    if d.len() != 11 || d[0] != b'1' || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let third = d[2] - b'0';
    match d[1] {
        b'3' | b'8' => true,
        b'4' => (5..=9).contains(&third),
        b'5' => third != 4,
        b'6' => matches!(third, 2 | 5 | 6 | 7),
        b'7' => third <= 8,
        b'9' => third != 4,
        _ => false,
    }
}

/// A card number: 13-19 digits, Luhn, and an issuer prefix of a real scheme. Prefixes 0, 1, 7 and 8 (where
/// epoch milli/micro/nanosecond timestamps and snowflake ids live) and 2 outside Mastercard's 2221-2720 (where
/// compact dates such as 20261125... live) are not cards.
pub fn card_valid(d: &[u8]) -> bool {
    let n = d.len();
    if !(13..=19).contains(&n) || !luhn_valid(d) {
        return false;
    }
    match d[0] {
        b'4' => true,
        b'3' => n >= 14,
        b'5' | b'6' | b'9' => n >= 16,
        b'2' => n == 16 && (2221..=2720).contains(&num(&d[..4])),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Byte-level character helpers.

#[inline]
pub fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// A full-width digit `０`-`９` (EF BC 90-99) ends at `end` (exclusive).
#[inline]
pub fn fullwidth_digit_before(hay: &[u8], end: usize) -> bool {
    end >= 3
        && hay[end - 3] == 0xEF
        && hay[end - 2] == 0xBC
        && (0x90..=0x99).contains(&hay[end - 1])
}

#[inline]
pub fn fullwidth_digit_at(hay: &[u8], at: usize) -> bool {
    at + 3 <= hay.len()
        && hay[at] == 0xEF
        && hay[at + 1] == 0xBC
        && (0x90..=0x99).contains(&hay[at + 2])
}

/// A full-width digit written as a JSON escape (`\uff11` is `１`) at `at`: its ASCII digit.
#[inline]
pub fn escaped_fullwidth_digit_at(hay: &[u8], at: usize) -> Option<u8> {
    let s = hay.get(at..at + 6)?;
    (s[0] == b'\\'
        && (s[1] | 0x20) == b'u'
        && s[2..4].eq_ignore_ascii_case(b"ff")
        && s[4] == b'1'
        && s[5].is_ascii_digit())
    .then_some(s[5])
}

/// Decodes the UTF-8 character starting at `at` (None for invalid UTF-8 or an ASCII byte).
pub fn decode_utf8_at(hay: &[u8], at: usize) -> Option<(char, usize)> {
    let b = *hay.get(at)?;
    let len = match b {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let s = hay.get(at..at + len)?;
    let c = std::str::from_utf8(s).ok()?.chars().next()?;
    Some((c, len))
}

/// Decodes the UTF-8 character that ends at `end` (exclusive).
pub fn decode_utf8_before(hay: &[u8], end: usize) -> Option<(char, usize)> {
    for len in 2..=4 {
        if end >= len && hay[end - len] >= 0xC0 {
            return decode_utf8_at(hay, end - len).filter(|&(_, l)| l == len);
        }
    }
    None
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

#[inline]
fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Length of the escape sequence whose introducer (`\` or `%`) is at `intro`, if there is one.
/// `\uXXXX`, `\UXXXXXXXX`, `\xXX`, `\NNN` (octal), `\n` `\t` ... and `%XX`.
pub fn escape_len_at(hay: &[u8], intro: usize) -> Option<usize> {
    let next = *hay.get(intro + 1)?;
    let hex_run = |from: usize, n: usize| {
        hay.get(from..from + n)
            .is_some_and(|s| s.iter().all(|&b| is_hex(b)))
    };
    match hay[intro] {
        b'%' => hex_run(intro + 1, 2).then_some(3),
        b'\\' => match next {
            b'u' => hex_run(intro + 2, 4).then_some(6),
            b'U' => hex_run(intro + 2, 8).then_some(10),
            b'x' => hex_run(intro + 2, 2).then_some(4),
            b'0'..=b'7' => hay
                .get(intro + 1..intro + 4)
                .is_some_and(|s| s.iter().all(|b| (b'0'..=b'7').contains(b)))
                .then_some(4),
            b'n' | b'r' | b't' | b'f' | b'b' | b'v' | b'a' | b'e' | b'"' | b'\'' | b'\\' | b'/' => {
                Some(2)
            }
            _ => None,
        },
        _ => None,
    }
}

/// If an escape sequence (`\u53f7`, `%B7`, `\x80`, `\267`) ends inside `[start, ...)`, returns where it
/// really ends: the digits it ate belong to the escape, not to the number.
pub fn skip_overlapping_escape(hay: &[u8], start: usize) -> usize {
    let lo = start.saturating_sub(9);
    for intro in lo..start {
        if hay[intro] == b'\\' || hay[intro] == b'%' {
            if let Some(len) = escape_len_at(hay, intro) {
                let end = intro + len;
                if end > start {
                    // A `\\` before the introducer means it is itself escaped.
                    if intro > 0 && hay[intro - 1] == b'\\' && hay[intro] == b'\\' {
                        continue;
                    }
                    return end;
                }
            }
        }
    }
    start
}

/// An ANSI control sequence (`ESC[32m`, `ESC[1;31m`, `ESC[2K`) ends at `end`.
pub fn ansi_csi_ends_at(hay: &[u8], end: usize) -> bool {
    if end < 3 || !(0x40..=0x7E).contains(&hay[end - 1]) {
        return false;
    }
    let mut i = end - 1;
    while i > 0 && (hay[i - 1].is_ascii_digit() || hay[i - 1] == b';' || hay[i - 1] == b':') {
        i -= 1;
    }
    i >= 2 && hay[i - 1] == b'[' && hay[i - 2] == 0x1B
}

/// Length of an ANSI CSI sequence (`ESC[1;33m`) starting at `at`.
pub fn ansi_csi_len_at(hay: &[u8], at: usize) -> Option<usize> {
    if hay.get(at..at + 2) != Some(b"\x1b[") {
        return None;
    }
    let mut i = at + 2;
    while i < hay.len() && i - at < 24 && (hay[i].is_ascii_digit() || matches!(hay[i], b';' | b':'))
    {
        i += 1;
    }
    hay.get(i)
        .is_some_and(|b| (0x40..=0x7E).contains(b))
        .then_some(i + 1 - at)
}

/// The letters glued before `start` are only an escape sequence's tail (`\n`, `\u00a0`, `%3A`) or an ANSI
/// colour code: they end a word, they are not part of what follows.
pub fn glue_is_escape(hay: &[u8], start: usize) -> bool {
    if ansi_csi_ends_at(hay, start) {
        return true;
    }
    let mut t0 = start;
    while t0 > 0 && start - t0 < 12 && hay[t0 - 1].is_ascii_alphanumeric() {
        t0 -= 1;
    }
    t0 < start && t0 > 0 && escape_len_at(hay, t0 - 1).is_some_and(|len| t0 - 1 + len == start)
}

/// The ASCII letters/digits run that ends at `end`, minus a leading escape sequence (`\n`, `\u00e9`, `%3A`)
/// that ends inside it. Returns the start of the part that is really glued to `end`.
fn glued_left_start(hay: &[u8], end: usize, floor: usize) -> usize {
    if ansi_csi_ends_at(hay, end) {
        return end;
    }
    let mut t0 = end;
    while t0 > floor && is_alnum(hay[t0 - 1]) {
        t0 -= 1;
    }
    if t0 < end && t0 > 0 {
        let intro = t0 - 1;
        if let Some(len) = escape_len_at(hay, intro) {
            return (intro + len).min(end).max(t0);
        }
    }
    t0
}

/// True when `[start, end)` sits inside an identifier: the letters glued to it on either side are all hex
/// digits (a UUID group, a digest, a hex id), or digits are glued to its left (through letters), or
/// to its right when letters are glued to both sides (`corpid=wwbd77e13752283728`, `wxe13812345678bd77`:
/// ids of letters and digits, not a word before a number).
pub fn inside_hex_identifier(hay: &[u8], start: usize, end: usize, floor: usize) -> bool {
    let left = glued_left_start(hay, start, floor);
    if hay[left..start].iter().any(u8::is_ascii_digit) {
        return true;
    }
    let mut right = end;
    while right < hay.len() && is_alnum(hay[right]) {
        right += 1;
    }
    // Glued on both sides, with digits on the right (`appid=wxe13812345678bd77`).
    if left < start && hay[end..right].iter().any(u8::is_ascii_digit) {
        return true;
    }
    if left == start && right == end {
        return false;
    }
    let glued = hay[left..start].iter().chain(&hay[end..right]);
    let mut letters = 0;
    for &b in glued {
        if !is_hex(b) {
            return false;
        }
        if b.is_ascii_alphabetic() {
            letters += 1;
        }
    }
    letters > 0
}

/// Is a number starting at `start` free on its left? Digits glued to digits, a decimal point after digits,
/// identifier glue (`blk_`, `blk_-`) and hex identifiers say no; letters, escapes (`\n`, `\u53f7`, `%3A`),
/// ANSI colour codes, CJK text and punctuation say yes.
pub fn number_left_free(hay: &[u8], start: usize) -> bool {
    if start == 0 {
        return true;
    }
    let b = hay[start - 1];
    if b.is_ascii_digit() || fullwidth_digit_before(hay, start) {
        return false;
    }
    match b {
        // A decimal point or a version dot after digits; a comma separates (CSV rows, lists, arrays).
        b'.' => !(start >= 2 && hay[start - 2].is_ascii_digit()),
        b'_' => false,
        b'-' => !(start >= 2 && (hay[start - 2] == b'_' || hay[start - 2].is_ascii_digit())),
        _ => true,
    }
}

/// `avatar_` before `start`: an underscore after at least two ASCII letters.
fn underscore_after_word(hay: &[u8], start: usize, floor: usize) -> bool {
    start >= floor + 3
        && hay[start - 1] == b'_'
        && hay[start - 2].is_ascii_alphabetic()
        && hay[start - 3].is_ascii_alphabetic()
}

/// Is a number ending at `end` free on its right? (Letters are judged by [`inside_hex_identifier`].)
pub fn number_right_free(hay: &[u8], end: usize) -> bool {
    let Some(&b) = hay.get(end) else {
        return true;
    };
    if b.is_ascii_digit() || fullwidth_digit_at(hay, end) {
        return false;
    }
    if b == b'.' {
        return !hay.get(end + 1).is_some_and(u8::is_ascii_digit);
    }
    true
}

// ---------------------------------------------------------------------------------------------------------
// Numeric candidates: phone, id_card, bank_card.

/// What a run of digits turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    Phone,
    IdCard,
    BankCard,
}

/// A number found inside a numeric candidate: the byte span, its kind, and the span of its national part
/// (the phone number without +86), used by `mask` and `hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberHit {
    pub start: usize,
    pub end: usize,
    pub kind: NumberKind,
    pub core_start: usize,
}

/// Groups in one numeric candidate (a candidate holds at most 64 digits; more groups end it).
const MAX_GROUPS: usize = 32;
const MAX_DIGITS: usize = 64;

#[derive(Debug, Clone, Copy, Default)]
struct Group {
    /// Byte span in the haystack.
    start: usize,
    end: usize,
    /// Span in the normalized digit buffer.
    d0: u8,
    d1: u8,
    /// Separator class before this group: 0 (none), b' ' or b'-'.
    sep: u8,
}

/// Which numeric kinds are wanted (disabled detectors are not produced).
#[derive(Debug, Clone, Copy)]
pub struct NumberKinds {
    pub phone: bool,
    pub id_card: bool,
    pub bank_card: bool,
    pub max_birth_year: u32,
}

/// Splits a numeric candidate `[start, end)` into digit groups and finds every phone, ID and card in it,
/// leftmost-longest, at group boundaries. `floor` is the lowest byte that may be looked at for context.
pub fn numbers_in(
    hay: &[u8],
    start: usize,
    end: usize,
    floor: usize,
    kinds: &NumberKinds,
    out: &mut Vec<NumberHit>,
) {
    let trimmed = skip_overlapping_escape(hay, start).min(end);
    // Digits eaten by an escape (`\u53f7` + `138...`): the escape is the number's left boundary.
    let escape_left = trimmed > start;
    let start = trimmed;
    let mut digits = [0u8; MAX_DIGITS];
    let mut nd = 0;
    let mut groups = [Group::default(); MAX_GROUPS];
    let mut ng = 0;
    let mut plus: Option<usize> = None; // byte start of a `+` prefix
    let mut x_suffix: Option<(usize, usize)> = None;
    let mut i = start;
    let mut pending_sep = 0u8;
    let mut in_group = false;
    while i < end {
        let b = hay[i];
        let (len, digit, sep) = if b.is_ascii_digit() {
            (1, Some(b), 0)
        } else if let Some(d) = escaped_fullwidth_digit_at(hay, i).filter(|_| i + 6 <= end) {
            (6, Some(d), 0)
        } else if b == b' ' {
            (1, None, b' ')
        } else if b == b'-' {
            (1, None, b'-')
        } else if b == b'+' {
            (1, None, b'+')
        } else if b == b'%' && i + 2 < end && hay[i + 1] == b'2' && (hay[i + 2] | 0x20) == b'b' {
            (3, None, b'+')
        } else if b == b'%' && i + 2 < end && hay[i + 1] == b'2' && hay[i + 2] == b'0' {
            // A URL-encoded space (`138%201234%205678` in a query string).
            (3, None, b' ')
        } else if b == b'X' || b == b'x' {
            (1, None, b'X')
        } else if b == 0xEF && i + 3 <= end {
            match (hay[i + 1], hay[i + 2]) {
                (0xBC, c @ 0x90..=0x99) => (3, Some(b'0' + (c - 0x90)), 0),
                (0xBC, 0x8B) => (3, None, b'+'),
                (0xBC, 0x8D) => (3, None, b'-'),
                (0xBC, 0xB8) | (0xBD, 0x98) => (3, None, b'X'),
                _ => (1, None, b'?'),
            }
        } else if b == 0xC2 && i + 2 <= end && hay[i + 1] == 0xA0 {
            (2, None, b' ')
        } else if b == 0xE2 && i + 3 <= end && hay[i + 1] == 0x80 {
            match hay[i + 2] {
                0x90..=0x94 => (3, None, b'-'),
                0x82..=0x8A | 0xAF => (3, None, b' '),
                _ => (1, None, b'?'),
            }
        } else if b == 0xE3 && i + 3 <= end && hay[i + 1] == 0x80 && hay[i + 2] == 0x80 {
            (3, None, b' ')
        } else {
            (1, None, b'?')
        };
        match (digit, sep) {
            (Some(d), _) => {
                if !in_group {
                    if ng == MAX_GROUPS || nd >= MAX_DIGITS {
                        break;
                    }
                    groups[ng] = Group {
                        start: i,
                        end: i,
                        d0: nd as u8,
                        d1: nd as u8,
                        sep: pending_sep,
                    };
                    ng += 1;
                    in_group = true;
                }
                if nd < digits.len() {
                    digits[nd] = d;
                    nd += 1;
                }
                let g = &mut groups[ng - 1];
                g.end = i + len;
                g.d1 = nd as u8;
            }
            (None, b'+') if ng == 0 && plus.is_none() => {
                // After a word, `+` is a form-encoded space (`q=my+phone+is+13812345678`), not a sign.
                let form_space = hay[i] == b'+' && i > 0 && hay[i - 1].is_ascii_alphanumeric();
                if !form_space {
                    plus = Some(i);
                }
            }
            (None, b'X') => {
                x_suffix = Some((i, i + len));
                break;
            }
            (None, b' ' | b'-') if in_group => {
                in_group = false;
                pending_sep = sep;
            }
            _ => break,
        }
        i += len;
    }
    if ng == 0 {
        return;
    }

    let left_group = if plus.is_none() && !escape_left {
        left_digit_group(hay, groups[0].start)
    } else {
        None
    };
    let mut gi = 0;
    while gi < ng {
        let mut found = None;
        for gj in (gi..ng).rev() {
            let ctx = Context {
                plus,
                x_suffix,
                escape_left,
                left_group,
                floor,
            };
            if let Some(hit) = classify(hay, &digits, &groups, gi, gj, ng, &ctx, kinds) {
                found = Some((gj, hit));
                break;
            }
        }
        match found {
            Some((gj, hit)) => {
                out.push(hit);
                gi = gj + 1;
            }
            None => gi += 1,
        }
    }
}

/// Group lengths of a sub-range, as a small array.
#[derive(Clone, Copy)]
struct Shape {
    lens: [usize; 8],
    n: usize,
}

impl Shape {
    fn of(gs: &[Group]) -> Option<Shape> {
        if gs.len() > 8 {
            return None;
        }
        let mut lens = [0; 8];
        for (l, g) in lens.iter_mut().zip(gs) {
            *l = usize::from(g.d1 - g.d0);
        }
        Some(Shape { lens, n: gs.len() })
    }
    fn get(&self) -> &[usize] {
        &self.lens[..self.n]
    }
    /// The shape with its first `k` digits removed (a country code glued to the first group, or as a group).
    fn without_prefix(&self, k: usize) -> Shape {
        let mut s = *self;
        if s.lens[0] == k {
            s.lens.copy_within(1..s.n, 0);
            s.n -= 1;
        } else {
            s.lens[0] -= k;
        }
        s
    }
}

/// The digit group that ends one blank before `start` (`6228 |4397 ...`): its separator class and length.
fn left_digit_group(hay: &[u8], start: usize) -> Option<(u8, usize)> {
    let sep_start = if start >= 1 && hay[start - 1] == b' ' {
        start - 1
    } else if start >= 3 && &hay[start - 3..start] == "\u{3000}".as_bytes() {
        start - 3
    } else {
        return None;
    };
    let mut i = sep_start;
    let mut n = 0;
    while i > 0 && n < 8 {
        if hay[i - 1].is_ascii_digit() {
            i -= 1;
        } else if fullwidth_digit_before(hay, i) {
            i -= 3;
        } else {
            break;
        }
        n += 1;
    }
    (n > 0).then_some((b' ', n))
}

/// A grouped sub-range (`4111 1111 1111 1111`) is a number only as a whole: a short group joined to it by
/// the same separator (`6222 0212 3456 7890 128`) means the number goes on, and its part is not a number.
fn whole_grouped_number(
    groups: &[Group],
    gi: usize,
    gj: usize,
    ng: usize,
    left: Option<(u8, usize)>,
) -> bool {
    if gi == gj {
        return true;
    }
    let sep = groups[gj].sep;
    let short = |g: &Group| g.d1 - g.d0 <= 4;
    // Before it, only a full group of four continues it (card numbers end short, they never start short).
    let before = if gi > 0 {
        groups[gi].sep == sep && groups[gi - 1].d1 - groups[gi - 1].d0 == 4
    } else {
        left.is_some_and(|(s, len)| s == sep && len == 4)
    };
    // The neighbour continues this number only if it goes on the same way (`... 5061 622`), not when it
    // starts something else (`... 9011 2024-05-07`).
    let same_after = |k: usize| k + 1 >= ng || groups[k + 1].sep == sep;
    let same_before = |k: usize| k == 0 || groups[k].sep == sep;
    let before = before && (gi == 0 || same_before(gi - 1));
    let after =
        gj + 1 < ng && groups[gj + 1].sep == sep && short(&groups[gj + 1]) && same_after(gj + 1);
    !(before || after)
}

fn phone_shape(s: &[usize]) -> bool {
    matches!(s, [11] | [3, 4, 4] | [3, 8] | [7, 4])
}

/// What surrounds the groups of a numeric candidate.
struct Context {
    /// Byte offset of a `+` / `%2B` / `＋` before the first group.
    plus: Option<usize>,
    /// An X check character after the last group.
    x_suffix: Option<(usize, usize)>,
    /// The candidate starts right after an escape sequence (a boundary).
    escape_left: bool,
    /// A digit group just before the candidate, joined by a blank separator: (separator, digits).
    left_group: Option<(u8, usize)>,
    floor: usize,
}

#[allow(clippy::too_many_arguments)]
fn classify(
    hay: &[u8],
    digits: &[u8],
    groups: &[Group],
    gi: usize,
    gj: usize,
    ng: usize,
    ctx: &Context,
    kinds: &NumberKinds,
) -> Option<NumberHit> {
    let (x_suffix, floor) = (ctx.x_suffix, ctx.floor);
    let gs = &groups[gi..=gj];
    let d = &digits[usize::from(gs[0].d0)..usize::from(gs[gs.len() - 1].d1)];
    let n = d.len();
    if n < 11 {
        return None;
    }
    let shape = Shape::of(gs)?;
    let plus = if gi == 0 { ctx.plus } else { None };
    let span_start = plus.unwrap_or(gs[0].start);
    let last_end = gs[gs.len() - 1].end;
    // The separator must be the same between all groups; after a country code it may differ.
    let uniform_from =
        |k: usize| gs.len() <= k + 1 || gs[k + 1..].iter().all(|g| g.sep == gs[k + 1].sep);
    // Context at the candidate's own ends (a sub-range bounded by separators is free).
    let left_free =
        gi > 0 || plus.is_some() || ctx.escape_left || number_left_free(hay, gs[0].start);
    // `avatar_13812345678.jpg`: a word joined to a mobile by `_` names it; only a phone is taken there
    // (`blk_` ids and other numbered identifiers are not cards or IDs).
    let word_underscore = !left_free && gi == 0 && underscore_after_word(hay, gs[0].start, floor);
    if !left_free && !word_underscore {
        return None;
    }
    let ends_free = |end: usize| {
        (gj < ng - 1 || number_right_free(hay, end))
            && !inside_hex_identifier(hay, gs[0].start, end, floor)
    };
    let hit = |kind, end, core_start| {
        Some(NumberHit {
            start: span_start,
            end,
            kind,
            core_start,
        })
    };

    // 18-char ID whose check character is X.
    if let Some((_, xe)) = x_suffix.filter(|_| gj == ng - 1 && !word_underscore) {
        if kinds.id_card
            && n == 17
            && plus.is_none()
            && ends_free(xe)
            && matches!(shape.get(), [17] | [6, 8, 3])
            && uniform_from(0)
        {
            let mut chars = [0u8; 18];
            chars[..17].copy_from_slice(d);
            chars[17] = b'X';
            if id18_valid(&chars, kinds.max_birth_year) {
                return hit(NumberKind::IdCard, xe, span_start);
            }
        }
    }
    if !ends_free(last_end) {
        return None;
    }

    // Phone: 11 digits as 11, 3-4-4, 3-8 or 7-4, after an optional +86 / 86 / 0086.
    if kinds.phone && whole_grouped_number(groups, gi, gj, ng, ctx.left_group) {
        if plus.is_none()
            && n == 11
            && mobile_valid(d)
            && phone_shape(shape.get())
            && uniform_from(0)
        {
            return hit(NumberKind::Phone, last_end, span_start);
        }
        let cc = if d.starts_with(b"0086") && plus.is_none() {
            4
        } else if d.starts_with(b"86") {
            2
        } else {
            0
        };
        if cc > 0 && n == cc + 11 && mobile_valid(&d[cc..]) {
            let body = shape.without_prefix(cc);
            let seps_ok = if shape.get()[0] == cc {
                uniform_from(1)
            } else {
                uniform_from(0)
            };
            if phone_shape(body.get()) && seps_ok {
                let core = if shape.get()[0] == cc {
                    gs[1].start
                } else {
                    byte_after_digits(hay, gs[0].start, cc)
                };
                return hit(NumberKind::Phone, last_end, core);
            }
        }
    }
    if plus.is_some() || !uniform_from(0) || word_underscore {
        return None;
    }
    let s = shape.get();
    if !whole_grouped_number(groups, gi, gj, ng, ctx.left_group) {
        return None;
    }
    let mut id_shaped = false;
    if n == 18 {
        id_shaped = id18_shaped(d, kinds.max_birth_year);
        if kinds.id_card && matches!(s, [18] | [6, 8, 4]) && id18_valid(d, kinds.max_birth_year) {
            return hit(NumberKind::IdCard, last_end, span_start);
        }
    }
    if n == 15 && id15_valid(d) {
        id_shaped = true;
        if kinds.id_card && matches!(s, [15] | [6, 6, 3]) {
            return hit(NumberKind::IdCard, last_end, span_start);
        }
    }
    if kinds.bank_card && !id_shaped && (13..=19).contains(&n) {
        let by_4 = s.len() >= 3
            && s[..s.len() - 1].iter().all(|&l| l == 4)
            && (1..=4).contains(&s[s.len() - 1]);
        if (s.len() == 1 || by_4 || s == [4, 6, 5] || s == [4, 6, 4]) && card_valid(d) {
            return hit(NumberKind::BankCard, last_end, span_start);
        }
    }
    None
}

/// Byte offset after the first `count` digits (ASCII or full-width) starting at `from`.
fn byte_after_digits(hay: &[u8], from: usize, count: usize) -> usize {
    let mut i = from;
    for _ in 0..count {
        i += digit_len_at(hay, i).max(1);
    }
    i
}

/// Normalizes the digits of a span (ASCII and full-width; X kept) for hashing and user-pattern validation.
pub fn digits_of(span: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < span.len() {
        let b = span[i];
        if b.is_ascii_digit() {
            out.push(b);
        } else if b == b'X' || b == b'x' {
            out.push(b'X');
        } else if fullwidth_digit_at(span, i) {
            out.push(b'0' + span[i + 2] - 0x90);
            i += 3;
            continue;
        } else if let Some(d) = escaped_fullwidth_digit_at(span, i) {
            out.push(d);
            i += 6;
            continue;
        }
        i += 1;
    }
}

/// Length of the digit (ASCII 1 byte, full-width 3 bytes) at `i`, or 0.
#[inline]
pub fn digit_len_at(hay: &[u8], i: usize) -> usize {
    if hay[i].is_ascii_digit() {
        1
    } else if fullwidth_digit_at(hay, i) {
        3
    } else if escaped_fullwidth_digit_at(hay, i).is_some() {
        6
    } else {
        0
    }
}

/// Length of a single group separator at `i` (space, dash, their Unicode forms), or 0.
#[inline]
fn separator_len_at(hay: &[u8], i: usize) -> usize {
    match hay[i] {
        b' ' | b'-' => 1,
        b'%' if hay.get(i + 1..i + 3) == Some(b"20") => 3,
        0xC2 if hay.get(i + 1) == Some(&0xA0) => 2,
        0xE2 if hay.get(i + 1) == Some(&0x80)
            && hay
                .get(i + 2)
                .is_some_and(|b| matches!(b, 0x82..=0x8A | 0x90..=0x94 | 0xAF)) =>
        {
            3
        }
        0xE3 if hay.get(i + 1..i + 3) == Some(&[0x80, 0x80]) => 3,
        0xEF if hay.get(i + 1..i + 3) == Some(&[0xBC, 0x8D]) => 3,
        _ => 0,
    }
}

/// The end of a numeric candidate whose first eleven digits end at `from`: more digits with single separators
/// (up to 64 digits in all), then an optional X check character.
pub fn numeric_run_end(hay: &[u8], from: usize) -> usize {
    let mut end = from;
    let mut digits = 11;
    let mut i = from;
    while i < hay.len() && digits < 64 {
        let sep = separator_len_at(hay, i);
        let j = i + sep;
        if j >= hay.len() {
            break;
        }
        let d = digit_len_at(hay, j);
        if d == 0 {
            break;
        }
        i = j + d;
        end = i;
        digits += 1;
    }
    if end < hay.len() {
        match hay[end] {
            b'X' | b'x' => end += 1,
            0xEF if matches!(hay.get(end + 1..end + 3), Some([0xBC, 0xB8] | [0xBD, 0x98])) => {
                end += 3
            }
            _ => {}
        }
    }
    end
}

/// True when the number at `start` is the value of a key that names an identifier (`"msgid": "..."`,
/// `order_no=`, `traceId:`): message, order and trace ids pass Luhn one time in ten, and are not cards.
/// Keys that name a card or an account (`card_no`, `bank_acct`) are not identifiers.
pub fn value_of_id_key(hay: &[u8], start: usize) -> bool {
    let mut i = start;
    let mut steps = 0;
    // The value's opening quote and blanks, then the separator.
    while i > 0 && steps < 4 && matches!(hay[i - 1], b'"' | b'\'' | b' ' | b'\\') {
        i -= 1;
        steps += 1;
    }
    if i == 0 || !matches!(hay[i - 1], b':' | b'=') {
        return false;
    }
    i -= 1;
    steps = 0;
    while i > 0 && steps < 4 && matches!(hay[i - 1], b'"' | b'\'' | b' ' | b'\\') {
        i -= 1;
        steps += 1;
    }
    let key_end = i;
    while i > 0 && key_end - i < 40 && is_key_char(hay[i - 1]) {
        i -= 1;
    }
    let key: Vec<u8> = hay[i..key_end]
        .iter()
        .filter(|&&b| b != b'_' && b != b'-')
        .map(u8::to_ascii_lowercase)
        .collect();
    if key.is_empty() {
        return false;
    }
    // A key of words (`Card number:`, `bank account no=`): the two words before it name the thing too.
    let mut words_start = i;
    for _ in 0..2 {
        let mut j = words_start;
        while j > 0 && hay[j - 1] == b' ' && words_start - j < 2 {
            j -= 1;
        }
        if j == words_start {
            break;
        }
        let word_end = j;
        while j > 0 && word_end - j < 20 && hay[j - 1].is_ascii_alphabetic() {
            j -= 1;
        }
        if j == word_end {
            break;
        }
        words_start = j;
    }
    let words = hay[words_start..i].to_ascii_lowercase();
    let has = |w: &[u8]| key.windows(w.len()).any(|x| x == w);
    let said = |w: &[u8]| words.windows(w.len()).any(|x| x == w);
    if has(b"card") || has(b"bank") || has(b"acct") || has(b"account") || has(b"pan") {
        return false;
    }
    if said(b"card") || said(b"bank") || said(b"acct") || said(b"account") {
        return false;
    }
    const ID_ENDINGS: &[&[u8]] = &[
        b"id",
        b"ids",
        b"no",
        b"num",
        b"number",
        b"seq",
        b"sn",
        b"nonce",
        b"ts",
        b"time",
        b"timestamp",
        b"version",
        b"code",
        b"hash",
        b"serial",
    ];
    ID_ENDINGS.iter().any(|e| key.ends_with(e))
}

// ---------------------------------------------------------------------------------------------------------
// E-mail.

fn is_local_ascii(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-')
}

/// File name extensions that are not top-level domains: `icon@2x.png` is an image, not an address.
fn is_file_extension(label: &[u8]) -> bool {
    const EXT: &[&[u8]] = &[
        b"png", b"jpg", b"jpeg", b"gif", b"webp", b"svg", b"bmp", b"ico", b"tif", b"tiff", b"heic",
        b"js", b"css", b"map", b"json", b"txt", b"log", b"pdf", b"html", b"htm", b"xml", b"yaml",
        b"yml", b"toml", b"gz", b"tgz", b"tar", b"mp3", b"mp4", b"wav", b"avi", b"exe", b"dll",
        b"jar", b"lock", b"wasm",
    ];
    EXT.iter().any(|e| label.eq_ignore_ascii_case(e))
}

/// The domain after an anchor, trimmed to its longest valid prefix of labels ending in a real TLD.
/// Returns the end of the domain.
pub fn email_domain_end(hay: &[u8], dom_start: usize, dom_end: usize) -> Option<usize> {
    let dom = &hay[dom_start..dom_end];
    if dom.len() > 253 {
        return None;
    }
    let mut best = None;
    let mut label_start = 0;
    let mut labels = 0;
    for i in 0..=dom.len() {
        if i == dom.len() || dom[i] == b'.' {
            let label = &dom[label_start..i];
            let ok = !label.is_empty()
                && label.len() <= 63
                && label[0] != b'-'
                && label[label.len() - 1] != b'-';
            if !ok {
                break;
            }
            labels += 1;
            let tld_ok = (label.len() >= 2
                && label.iter().all(u8::is_ascii_alphabetic)
                && !is_file_extension(label))
                || (label.len() > 4 && label[..4].eq_ignore_ascii_case(b"xn--"));
            if labels >= 2 && tld_ok {
                best = Some(dom_start + i);
            }
            label_start = i + 1;
        }
    }
    best
}

/// The local part that ends at `anchor` (an `@`, `%40` or `＠`), no lower than `floor`. ASCII addresses stop
/// at non-ASCII text (so CJK around them stays); a local part that ends in a non-Latin letter is taken in
/// that script, as text or as JSON `\uXXXX` escapes. URL escapes inside it (`%2B`) are part of it; a leading
/// JSON escape (`\n`) is not.
pub fn email_local_start(hay: &[u8], anchor: usize, floor: usize) -> Option<usize> {
    if anchor <= floor {
        return None;
    }
    let unicode = hay[anchor - 1] >= 0x80;
    // The same written as JSON escapes (`{"email":"\u5f20\u4f1f@163.com"}` from json.dumps).
    let escaped = escaped_letter_before(hay, anchor, floor).is_some();
    let mut i = anchor;
    let mut chars = 0;
    while i > floor && chars < 64 {
        if escaped && escaped_letter_before(hay, i, floor).is_some() {
            i -= 6;
            chars += 1;
            continue;
        }
        let b = hay[i - 1];
        if i >= floor + 3 && hay[i - 3] == b'%' && is_hex(hay[i - 2]) && is_hex(b) {
            let v = (hex_val(hay[i - 2]) << 4) | hex_val(b);
            if is_local_ascii(v) && v != b'%' {
                i -= 3;
                chars += 1;
                continue;
            }
            break;
        }
        if is_local_ascii(b) {
            i -= 1;
            chars += 1;
            continue;
        }
        if b >= 0x80 {
            // A local part in another script; an ASCII one takes accented Latin, Greek and Cyrillic letters
            // (`müller@`), never CJK text in front of it.
            let takes = |c: char| {
                c.is_alphanumeric()
                    && !is_cjk_punct(c)
                    && (unicode || ('\u{00C0}'..='\u{052F}').contains(&c))
            };
            match decode_utf8_before(hay, i) {
                Some((c, len)) if i - len >= floor && takes(c) => {
                    i -= len;
                    chars += 1;
                    continue;
                }
                _ => break,
            }
        }
        break;
    }
    // An ANSI colour code in front (`ESC[33mname@...`) is not part of the address.
    if let Some(q) = (i + 1..=(i + 16).min(anchor)).find(|&q| ansi_csi_ends_at(hay, q)) {
        i = q;
    }
    // A JSON/C escape glued in front (`\nuser@...`, `\u003cuser@...`) is not part of the address.
    if i > 0 && hay[i - 1] == b'\\' {
        if let Some(len) = escape_len_at(hay, i - 1) {
            i = (i - 1 + len).min(anchor);
        }
    }
    while i < anchor && matches!(hay[i], b'.' | b'-' | b'+') {
        i += 1;
    }
    let local = &hay[i..anchor];
    (!local.is_empty()
        && local
            .iter()
            .any(|&b| b.is_ascii_alphanumeric() || b >= 0x80))
    .then_some(i)
}

/// A non-ASCII letter written as a `\uXXXX` escape ending at `i`.
fn escaped_letter_before(hay: &[u8], i: usize, floor: usize) -> Option<char> {
    if i < floor + 6 || hay[i - 6] != b'\\' || !matches!(hay[i - 5], b'u' | b'U') {
        return None;
    }
    let hex = &hay[i - 4..i];
    if !hex.iter().all(|&b| is_hex(b)) {
        return None;
    }
    let v = hex
        .iter()
        .fold(0u32, |v, &b| (v << 4) | u32::from(hex_val(b)));
    let c = char::from_u32(v)?;
    (v >= 0x80 && c.is_alphanumeric() && !is_cjk_punct(c)).then_some(c)
}

fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// Length of the e-mail anchor at `at`: `@` (1), `%40` (3) or `＠` (3).
pub fn email_anchor_len(hay: &[u8], at: usize) -> Option<usize> {
    match hay.get(at)? {
        b'@' => Some(1),
        b'%' if hay.get(at + 1..at + 3) == Some(b"40") => Some(3),
        0xEF if hay.get(at + 1..at + 3) == Some(&[0xBC, 0xA0]) => Some(3),
        _ => None,
    }
}

/// A whole address around the anchor at `anchor`: `(start, end)`.
pub fn email_at(hay: &[u8], anchor: usize, floor: usize) -> Option<(usize, usize)> {
    let alen = email_anchor_len(hay, anchor)?;
    let dom_start = anchor + alen;
    let mut dom_end = dom_start;
    while dom_end < hay.len() && (is_alnum(hay[dom_end]) || matches!(hay[dom_end], b'-' | b'.')) {
        dom_end += 1;
    }
    let end = if dom_end == dom_start && hay.get(dom_start).is_some_and(|&b| b >= 0x80) {
        unicode_domain_end(hay, dom_start)?
    } else {
        email_domain_end(hay, dom_start, dom_end)?
    };
    let start = email_local_start(hay, anchor, floor)?;
    Some((start, end))
}

/// A domain in non-Latin script (`例子.中国`, `пример.рф`): labels of letters, digits and `-` separated by
/// ASCII dots, at least two, the last one letters only. Returns its end.
fn unicode_domain_end(hay: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    let mut labels = 0;
    let mut label_len = 0;
    let mut label_alpha = true;
    let mut best = None;
    while i < hay.len() && i - from < 253 {
        let b = hay[i];
        if b == b'.' {
            if label_len == 0 {
                break;
            }
            labels += 1;
            label_len = 0;
            label_alpha = true;
            i += 1;
            continue;
        }
        let (c, len) = if b < 0x80 {
            (char::from(b), 1)
        } else {
            match decode_utf8_at(hay, i) {
                Some(x) => x,
                None => break,
            }
        };
        if !(c.is_alphanumeric() || c == '-') || is_cjk_punct(c) {
            break;
        }
        label_alpha &= c.is_alphabetic();
        label_len += 1;
        i += len;
        if labels >= 1 && label_alpha && label_len >= 2 {
            best = Some(i);
        }
    }
    best
}

// ---------------------------------------------------------------------------------------------------------
// Credentials after a key.

/// How a credential value ends.
fn is_value_stop(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | b'&'
            | b','
            | b';'
            | b'"'
            | b'\''
            | b'}'
            | b']'
            | b')'
            | b'<'
            | b'>'
            | b'|'
    ) || !(0x20..0x80).contains(&b)
}

/// An unquoted value from `from`: up to a delimiter, whitespace, non-ASCII text or an escaped quote.
pub fn unquoted_value_end(hay: &[u8], from: usize, limit: usize) -> usize {
    let limit = limit.min(from + 4096).min(hay.len());
    let mut i = from;
    while i < limit {
        let b = hay[i];
        if is_value_stop(b) {
            break;
        }
        if b == b'\\'
            && matches!(
                hay.get(i + 1),
                Some(b'"' | b'\'' | b'n' | b'r' | b't' | b'\\')
            )
        {
            break;
        }
        i += 1;
    }
    i
}

/// A quoted value from `from` (just after the opening quote) to its closing quote, on the same line.
/// `escaped`: the quotes are `\"` (a JSON string inside a JSON string).
pub fn quoted_value_end(
    hay: &[u8],
    from: usize,
    quote: u8,
    escaped: bool,
    limit: usize,
) -> Option<usize> {
    let limit = limit.min(from + 4096).min(hay.len());
    let mut i = from;
    while i < limit {
        let b = hay[i];
        if b == b'\n' {
            return None;
        }
        if escaped {
            if b == b'\\' && hay.get(i + 1) == Some(&quote) {
                return Some(i);
            }
        } else if b == b'\\' {
            i += 2;
            continue;
        } else if b == quote {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Values that are not credentials: placeholders, empties, booleans, our own redactions.
pub fn is_placeholder_value(v: &[u8]) -> bool {
    if v.is_empty() || v.iter().all(|&b| b == b'*' || b == b'x' || b == b'X') {
        return true;
    }
    const WORDS: &[&[u8]] = &[
        b"null",
        b"none",
        b"nil",
        b"undefined",
        b"true",
        b"false",
        // MySQL's `Access denied for user 'bot'@'localhost' (using password: YES)`.
        b"yes",
        b"no",
        b"<redacted>",
        b"redacted",
        b"<hidden>",
        b"hidden",
        b"{}",
        b"[]",
        b"\"\"",
        b"''",
    ];
    WORDS.iter().any(|w| v.eq_ignore_ascii_case(w))
        || v.starts_with(b"[REDACTED")
        // A template's reference (`password=${DB_PASSWORD}`), not its value.
        || v.starts_with(b"${")
        || v.starts_with(b"[")
        || v.starts_with(b"{")
        // A Java-style object repr (`Token{a64f992 ...}`), not a credential.
        || v.iter().position(|&b| b == b'{').is_some_and(|p| {
            p > 0 && v[0].is_ascii_uppercase() && v[..p].iter().all(u8::is_ascii_alphabetic)
        })
}

/// A value that looks generated (a key, a ticket, a session id), not a name: 16 or more token characters,
/// letters and digits both. `KSBrandID`, `CFBundleShortVersionString`, `user:42` are names.
pub fn credential_shaped(v: &[u8]) -> bool {
    v.len() >= 16
        && v.iter().any(u8::is_ascii_digit)
        && v.iter().any(u8::is_ascii_alphabetic)
        && v.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'-' | b'+' | b'/' | b'=' | b'.' | b'~' | b'%')
        })
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Compound key names ending in `key` that always hold a secret.
const SECRET_KEY_NAMES: &[&[u8]] = &[
    b"apikey",
    b"xapikey",
    b"accesskey",
    b"secretkey",
    b"privatekey",
    b"appkey",
    b"aeskey",
    b"encodingaeskey",
    b"signkey",
    b"signingkey",
    b"masterkey",
    b"clientkey",
    b"authkey",
    b"webhookkey",
    b"sessionkey",
    b"encryptkey",
    b"encryptionkey",
    b"licensekey",
    b"accesskeysecret",
];

/// A credential found after a key: value span and whether it is a password (else a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential {
    pub start: usize,
    pub end: usize,
    pub password: bool,
}

/// Skips an auth scheme (`Bearer `, `Basic%20`) at `at`, when a credential follows it.
fn skip_auth_scheme(hay: &[u8], at: usize, limit: usize) -> usize {
    let mut i = at;
    while i < limit && hay[i].is_ascii_alphabetic() {
        i += 1;
    }
    if i == at || i - at > 16 {
        return at;
    }
    let mut j = i;
    loop {
        if j < limit && (hay[j] == b' ' || hay[j] == b'\t') {
            j += 1;
        } else if j + 3 <= limit && hay.get(j..j + 3) == Some(b"%20") {
            j += 3;
        } else {
            break;
        }
    }
    if j > i && j < limit && !is_value_stop(hay[j]) {
        j
    } else {
        at
    }
}

/// A value starting at `vs`: quoted (`"`, `'`) up to its closing quote, or bare.
fn next_value(hay: &[u8], vs: usize) -> (usize, usize) {
    if let Some(&q @ (b'"' | b'\'')) = hay.get(vs) {
        if let Some(end) = quoted_value_end(hay, vs + 1, q, false, hay.len()) {
            return (vs + 1, end);
        }
    }
    (vs, unquoted_value_end(hay, vs, hay.len()))
}

/// The value after a credential key. The DFA matched the end of the key name (`stem`, at `start`) and its
/// separator up to `sep_end` (with the value's opening quote, if any). Reads the whole key name back,
/// checks its boundaries, and returns the value span. Forms: `key=v`, `key: v`, `"key": "v"`, `'key': 'v'`,
/// `\"key\":\"v\"`, `--key v`, `password is v`.
pub fn keyword_value(hay: &[u8], start: usize, sep_end: usize) -> Option<Credential> {
    let mut stem_end = start;
    while stem_end < sep_end && is_key_char(hay[stem_end]) {
        stem_end += 1;
    }
    let mut key_start = start;
    while key_start > 0 && start - key_start < 48 && is_key_char(hay[key_start - 1]) {
        key_start -= 1;
    }
    let cli = hay[key_start..start].starts_with(b"--");
    let mut norm = [0u8; 64];
    let mut n = 0;
    for &b in &hay[key_start..stem_end] {
        if b != b'_' && b != b'-' && n < norm.len() {
            norm[n] = b.to_ascii_lowercase();
            n += 1;
        }
    }
    let norm = &norm[..n];
    let stem = hay[start..stem_end].to_ascii_lowercase();
    // Short stems must start the key or a word inside it: `monkey=`, `bypass=`, `oauth=` are not credentials.
    let short = matches!(
        stem.as_slice(),
        b"key" | b"pass" | b"pwd" | b"auth" | b"ticket"
    );
    if short && start > key_start && !SECRET_KEY_NAMES.contains(&norm) {
        let prev = hay[start - 1];
        let hump =
            (prev.is_ascii_lowercase() || prev.is_ascii_digit()) && hay[start].is_ascii_uppercase();
        if !(prev == b'_' || prev == b'-' || hump) {
            return None;
        }
    }
    let password = norm.windows(4).any(|w| w == b"pass") || norm.windows(3).any(|w| w == b"pwd");
    let needs_shape = match stem.as_slice() {
        b"key" => !SECRET_KEY_NAMES.contains(&norm),
        b"ticket" | b"auth" => true,
        s => s.starts_with(b"session"),
    };
    let sep = &hay[stem_end..sep_end];
    if sep == b">" {
        return xml_element_value(hay, key_start, stem_end).map(|(start, end)| Credential {
            start,
            end,
            password,
        });
    }
    let blank_only = sep.iter().all(|&b| b == b' ' || b == b'\t');
    let skip_blanks = |mut i: usize| {
        while i < hay.len() && matches!(hay[i], b' ' | b'\t') {
            i += 1;
        }
        i
    };
    let (vs, ve) = if blank_only {
        let v = skip_blanks(sep_end);
        if cli {
            next_value(hay, v)
        } else if password
            && hay.len() > v + 3
            && hay[v..v + 2].eq_ignore_ascii_case(b"is")
            && matches!(hay[v + 2], b' ' | b'\t')
        {
            next_value(hay, skip_blanks(v + 2))
        } else {
            return None;
        }
    } else {
        // After the separator: blanks, a colour code (`token=ESC[33mVALUE`), then the value's opening
        // quote (plain, or `\"` inside a JSON string).
        let mut vs = skip_blanks(sep_end);
        vs += ansi_csi_len_at(hay, vs).unwrap_or(0);
        // JSON inside a JSON string escapes its quotes once (`\"`) or twice (`\\\"`).
        let slashes = hay[vs..]
            .iter()
            .take(3)
            .take_while(|&&b| b == b'\\')
            .count();
        let (quote, escaped) = match (hay.get(vs), hay.get(vs + slashes)) {
            (Some(b'\\'), Some(&q @ (b'"' | b'\''))) => {
                vs += slashes + 1;
                (Some(q), true)
            }
            (Some(&q @ (b'"' | b'\'')), _) => {
                vs += 1;
                (Some(q), false)
            }
            _ => (None, false),
        };
        let is_auth = stem.starts_with(b"auth");
        let ve = match quote.and_then(|q| quoted_value_end(hay, vs, q, escaped, hay.len())) {
            Some(mut end) => {
                // The closing `\\\"` of a twice-escaped string: its first backslashes are not the value.
                while slashes > 1 && end > vs && hay[end - 1] == b'\\' {
                    end -= 1;
                }
                if is_auth {
                    vs = skip_auth_scheme(hay, vs, end);
                }
                end
            }
            None => {
                if is_auth {
                    vs = skip_auth_scheme(hay, vs, hay.len());
                }
                unquoted_value_end(hay, vs, hay.len())
            }
        };
        (vs, ve)
    };
    let mut ve = ve;
    // A token in a query (`?token=...#top`) ends at the fragment; a password may hold a `#` (`?pwd=ab#12`).
    if !password && key_start > 0 && matches!(hay[key_start - 1], b'?' | b'&') {
        if let Some(p) = memchr::memchr(b'#', &hay[vs..ve]) {
            ve = vs + p;
        }
    }
    // Inside a URL-encoded URL the value ends at an encoded delimiter (`%26` is `&`).
    if sep.starts_with(b"%") {
        if let Some(p) = (vs..ve.saturating_sub(2)).find(|&i| encoded_delimiter_at(hay, i)) {
            ve = p;
        }
    }
    let value = &hay[vs..ve];
    if is_placeholder_value(value)
        || (needs_shape && !credential_shaped(value))
        || (cli && value.starts_with(b"-"))
        // `Token: Token { kind: ... }`: the value repeats the key's name.
        || value.eq_ignore_ascii_case(&stem)
    {
        return None;
    }
    Some(Credential {
        start: vs,
        end: ve,
        password,
    })
}

/// The text of an XML element `<KEY>VALUE</KEY>` (or `<KEY><![CDATA[VALUE]]></KEY>`) whose name is
/// `hay[key_start..key_end]`; `>` follows the name. Nothing when there is no matching end tag on the line.
fn xml_element_value(hay: &[u8], key_start: usize, key_end: usize) -> Option<(usize, usize)> {
    if key_start == 0 || hay[key_start - 1] != b'<' {
        return None;
    }
    let name = &hay[key_start..key_end];
    let mut vs = key_end + 1;
    let cdata = hay[vs..].starts_with(b"<![CDATA[");
    let limit = hay.len().min(vs + 4096);
    let ve = if cdata {
        vs += 9;
        vs + memchr::memmem::find(&hay[vs..limit], b"]]>")?
    } else {
        vs + memchr::memchr2(b'<', b'\n', &hay[vs..limit])?
    };
    let close = if cdata { ve + 3 } else { ve };
    let tag = hay.get(close..close + 3 + name.len())?;
    let closes = tag.starts_with(b"</")
        && tag[2..2 + name.len()].eq_ignore_ascii_case(name)
        && tag[2 + name.len()] == b'>';
    let value = &hay[vs..ve];
    (closes && !value.is_empty() && !is_placeholder_value(value)).then_some((vs, ve))
}

/// `Bearer TOKEN` (RFC 6750 token characters).
pub fn bearer_value(hay: &[u8], start: usize, sep_end: usize, floor: usize) -> Option<Credential> {
    if start > floor && hay[start - 1].is_ascii_alphanumeric() {
        return None;
    }
    let mut i = sep_end;
    while i < hay.len()
        && (hay[i].is_ascii_alphanumeric()
            || matches!(hay[i], b'-' | b'.' | b'_' | b'~' | b'+' | b'/'))
    {
        i += 1;
    }
    while i < hay.len() && hay[i] == b'=' {
        i += 1;
    }
    (i - sep_end >= 8 && !is_placeholder_value(&hay[sep_end..i])).then_some(Credential {
        start: sep_end,
        end: i,
        password: false,
    })
}

/// A password typed into chat after `密码是` / `密码：`: the ASCII that follows (quoted, or up to a blank,
/// a quote or CJK text). `密钥` (secret key) gives a secret.
pub fn chat_password_value(hay: &[u8], start: usize, stem_end: usize) -> Option<Credential> {
    let stem = hay[start..stem_end].to_ascii_lowercase();
    // 密钥 / 密鑰 (secret key), as text or as \u escapes; the others are passwords.
    let password = !(stem.starts_with("密钥".as_bytes())
        || stem.starts_with("密鑰".as_bytes())
        || stem.ends_with(b"94a5")
        || stem.ends_with(b"9470")
        || stem.ends_with(b"%e9%92%a5")
        || stem.ends_with(b"%e9%91%b0"));
    // URL-encoded text (`text=%E5%AF%86%E7%A0%81%E6%98%AFAbc123`): the value ends at the query's delimiters.
    let encoded = hay[start] == b'%';
    // Between the word and the value: marks (是 为 為 ： as text, \u escapes or URL-encoded; ':' '=') and
    // blanks (ASCII, the ideographic space, `%20`, `+`).
    const MARKS: [&str; 16] = [
        ":",
        "=",
        "是",
        "为",
        "為",
        "：",
        "\\u662f",
        "\\u4e3a",
        "\\u70ba",
        "\\uff1a",
        "%e6%98%af",
        "%e4%b8%ba",
        "%e7%82%ba",
        "%ef%bc%9a",
        "%3a",
        "%3d",
    ];
    const BLANKS: [&str; 7] = [" ", "\t", "\u{3000}", "\\u3000", "%e3%80%80", "%20", "+"];
    let found = |list: &'static [&'static str], at: usize| {
        list.iter().find(|s| {
            hay.get(at..at + s.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(s.as_bytes()))
        })
    };
    let mut sep_end = stem_end;
    // Markdown emphasis closing around the word (`**密码**：`).
    while sep_end < hay.len() && sep_end - stem_end < 3 && hay[sep_end] == b'*' {
        sep_end += 1;
    }
    // Verbs between the word and the value (`密码改为`, `密码已重置为：`, `把密码改成了`): they must end in
    // 为 / 成 / 是 / a colon, so `密码已更新 ok` gives nothing.
    const VERBS: [&str; 12] = [
        "已", "改", "设", "設", "置", "重", "修", "更", "换", "換", "被", "新",
    ];
    let mut verb_pending = false;
    while sep_end < hay.len() && sep_end - stem_end < 48 {
        if let Some(v) = found(&VERBS, sep_end) {
            verb_pending = true;
            sep_end += v.len();
        } else if verb_pending && hay[sep_end..].starts_with("成".as_bytes()) {
            verb_pending = false;
            sep_end += 3;
            if hay[sep_end..].starts_with("了".as_bytes()) {
                sep_end += 3;
            }
        } else if let Some(m) = found(&MARKS, sep_end) {
            verb_pending = false;
            sep_end += m.len();
        } else if let Some(b) = found(&BLANKS, sep_end) {
            sep_end += b.len();
        } else {
            break;
        }
    }
    if verb_pending {
        return None;
    }
    // Full-width quotes and brackets around the value (`密码：“hunter2”`, `密码是「hunter2」`).
    const PAIRS: [(&str, &str); 6] = [
        ("“", "”"),
        ("‘", "’"),
        ("「", "」"),
        ("『", "』"),
        ("（", "）"),
        ("《", "》"),
    ];
    if let Some((open, close)) = PAIRS
        .iter()
        .find(|(o, _)| hay[sep_end..].starts_with(o.as_bytes()))
    {
        let vs = sep_end + open.len();
        let limit = hay.len().min(vs + 256);
        let ve = vs + memchr::memmem::find(&hay[vs..limit], close.as_bytes())?;
        let value = &hay[vs..ve];
        // Typed ASCII (`密码（必填）` is a form's label, not a password).
        let typed = value.iter().all(|&b| b.is_ascii_graphic() || b == b' ');
        return (typed && !value.is_empty() && !is_placeholder_value(value)).then_some(
            Credential {
                start: vs,
                end: ve,
                password,
            },
        );
    }
    let (vs, ve) = match hay.get(sep_end) {
        Some(&q @ (b'"' | b'\'' | b'`')) => (
            sep_end + 1,
            quoted_value_end(hay, sep_end + 1, q, false, hay.len())?,
        ),
        _ => {
            let mut i = sep_end;
            while i < hay.len()
                && i - sep_end < 256
                && hay[i] > b' '
                && hay[i] < 0x7F
                && !matches!(hay[i], b'"' | b'\'' | b',' | b';')
                && !(hay[i] == b'\\' && escape_len_at(hay, i).is_some())
                && !markup_ends_at(hay, i)
                && !(encoded && url_delimiter_at(hay, i))
            {
                i += 1;
            }
            // A trailing full stop or bracket is punctuation, not password.
            while i > sep_end && matches!(hay[i - 1], b'.' | b')' | b']' | b'}' | b'!' | b'?') {
                i -= 1;
            }
            (sep_end, i)
        }
    };
    let value = &hay[vs..ve];
    (!value.is_empty() && !is_placeholder_value(value)).then_some(Credential {
        start: vs,
        end: ve,
        password,
    })
}

/// A URL-encoded delimiter at `i`: `%26` (`&`), `%20`, `%22`, `%2C`, `%3B`, `%7D`.
fn encoded_delimiter_at(hay: &[u8], i: usize) -> bool {
    const ENCODED_STOPS: [&[u8]; 6] = [b"%26", b"%20", b"%22", b"%2C", b"%3B", b"%7D"];
    hay.get(i..i + 3)
        .is_some_and(|w| ENCODED_STOPS.iter().any(|s| w.eq_ignore_ascii_case(s)))
}

/// A query-string delimiter at `i`, plain or URL-encoded (`&`, `+` as a space, `#`, `%26`, `%20`, ...).
fn url_delimiter_at(hay: &[u8], i: usize) -> bool {
    matches!(hay[i], b'&' | b'+' | b'#') || encoded_delimiter_at(hay, i)
}

/// Markup closing around a value typed into chat: `</Content>`, the end of a CDATA section (`]]>`).
fn markup_ends_at(hay: &[u8], i: usize) -> bool {
    match hay[i] {
        b'<' => hay
            .get(i + 1)
            .is_some_and(|&b| b == b'/' || b == b'!' || b.is_ascii_alphabetic()),
        b']' => hay.get(i + 1..i + 3) == Some(b"]>"),
        _ => false,
    }
}

/// `scheme://user:password@host`: the password (the host and user stay).
pub fn url_password(hay: &[u8], after_scheme: usize) -> Option<Credential> {
    let mut i = after_scheme;
    let mut last_at = None;
    while i < hay.len() && i - after_scheme < 1024 {
        let b = hay[i];
        if matches!(
            b,
            b'/' | b'?'
                | b'#'
                | b' '
                | b'\t'
                | b'\r'
                | b'\n'
                | b'"'
                | b'\''
                | b'<'
                | b'>'
                | b'\\'
                | b'`'
        ) || b >= 0x80
        {
            break;
        }
        if b == b'@' {
            last_at = Some(i);
        }
        i += 1;
    }
    let at = last_at?;
    let colon = memchr::memchr(b':', &hay[after_scheme..at])? + after_scheme;
    (colon + 1 < at).then_some(Credential {
        start: colon + 1,
        end: at,
        password: true,
    })
}

/// The password of `-p` at `at` on a command line: glued (`mysql -uroot -pSECRET`, `mariadb-dump -pSECRET`)
/// or, for sshpass, also after blanks (`sshpass -p SECRET ssh ...`). The command must come earlier on the
/// line; `mysql -p` alone (a prompt) and `mysql -p dbname` (a database) give nothing.
pub fn cli_password(hay: &[u8], at: usize, floor: usize) -> Option<Credential> {
    if at <= floor || !matches!(hay[at - 1], b' ' | b'\t') {
        return None;
    }
    let from = floor.max(at.saturating_sub(512));
    let line_start = memchr::memrchr(b'\n', &hay[from..at]).map_or(from, |p| from + p + 1);
    let before = hay[line_start..at].to_ascii_lowercase();
    let command_at = |name: &[u8]| {
        before.windows(name.len()).enumerate().any(|(k, w)| {
            w == name
                && (k == 0 || !(before[k - 1].is_ascii_alphanumeric() || before[k - 1] == b'_'))
        })
    };
    let sshpass = command_at(b"sshpass");
    if !(sshpass || command_at(b"mysql") || command_at(b"mariadb")) {
        return None;
    }
    let mut vs = at + 2;
    if sshpass {
        while vs < hay.len() && matches!(hay[vs], b' ' | b'\t') {
            vs += 1;
        }
    }
    let (vs, ve) = match hay.get(vs) {
        Some(&q @ (b'"' | b'\'')) => (vs + 1, quoted_value_end(hay, vs + 1, q, false, hay.len())?),
        Some(b) if b.is_ascii_graphic() && *b != b'-' => {
            (vs, unquoted_value_end(hay, vs, hay.len()))
        }
        _ => return None,
    };
    let value = &hay[vs..ve];
    (!value.is_empty() && !is_placeholder_value(value)).then_some(Credential {
        start: vs,
        end: ve,
        password: true,
    })
}

/// `user:password@tcp(host)` (Go's MySQL DSN): the password before the `@` at `at`.
pub fn go_dsn_password(hay: &[u8], at: usize, floor: usize) -> Option<Credential> {
    let mut i = at;
    while i > floor && at - i < 256 {
        let b = hay[i - 1];
        if b.is_ascii_whitespace()
            || matches!(
                b,
                b'"' | b'\'' | b'=' | b',' | b';' | b'(' | b'[' | b'{' | b'<' | b'`'
            )
        {
            break;
        }
        i -= 1;
    }
    let colon = memchr::memchr(b':', &hay[i..at])? + i;
    (colon + 1 < at).then_some(Credential {
        start: colon + 1,
        end: at,
        password: true,
    })
}

/// The end of a self-identifying token whose prefix is `[start, prefix_end)`, if the body has the token's
/// shape: a JWT is three base64url parts (the first two JSON, so starting `eyJ`); the others need a minimum
/// length of token characters.
pub fn token_end(hay: &[u8], start: usize, prefix_end: usize) -> Option<usize> {
    let run = |from: usize, extra: &[u8]| {
        let mut i = from;
        while i < hay.len() && (hay[i].is_ascii_alphanumeric() || extra.contains(&hay[i])) {
            i += 1;
        }
        i
    };
    let prefix = &hay[start..prefix_end];
    let (end, min_body) = match prefix {
        b"eyJ" => {
            let p1 = run(prefix_end, b"_-");
            if p1 - start < 10 || hay.get(p1) != Some(&b'.') || !hay[p1 + 1..].starts_with(b"eyJ") {
                return None;
            }
            let p2 = run(p1 + 1, b"_-");
            if p2 - p1 < 10 {
                return None;
            }
            if hay.get(p2) == Some(&b'.') {
                (run(p2 + 1, b"_-"), 0)
            } else {
                (p2, 0)
            }
        }
        b"sk-" => (run(prefix_end, b"_-"), 20),
        b"AKIA" | b"ASIA" => {
            let e = run(prefix_end, b"");
            if e - prefix_end != 16
                || !hay[prefix_end..e]
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                return None;
            }
            (e, 16)
        }
        b"AIza" => (run(prefix_end, b"_-"), 35),
        b"LTAI" => (run(prefix_end, b""), 12),
        b"AKID" => (run(prefix_end, b""), 32),
        p if p.starts_with(b"github_pat_") => (run(prefix_end, b"_"), 30),
        p if p.starts_with(b"xox") => (run(prefix_end, b"-"), 10),
        _ => (run(prefix_end, b""), 30),
    };
    (end - prefix_end >= min_body
        && !hay
            .get(end)
            .is_some_and(|&b| b == b'_' || b.is_ascii_alphanumeric()))
    .then_some(end)
}

/// After `-----BEGIN `: the rest of a private-key header (`RSA PRIVATE KEY-----`, `OPENSSH PRIVATE KEY-----`,
/// `PGP PRIVATE KEY BLOCK-----`). Returns the header's end.
pub fn pem_private_header_end(hay: &[u8], from: usize) -> Option<usize> {
    let limit = hay.len().min(from + 64);
    let dashes = memchr::memmem::find(&hay[from..limit], b"-----")? + from;
    let label = &hay[from..dashes];
    let private = label.ends_with(b"PRIVATE KEY") || label.ends_with(b"PRIVATE KEY BLOCK");
    (private
        && label
            .iter()
            .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' '))
    .then_some(dashes + 5)
}

/// The end of an IPv6 candidate that starts at `start`: hex groups, colons, a dotted IPv4 tail, a `%zone`.
pub fn ipv6_candidate_end(hay: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < hay.len()
        && i - start < 45
        && (hay[i].is_ascii_hexdigit() || hay[i] == b':' || hay[i] == b'.')
    {
        i += 1;
    }
    // A trailing dot or colon is punctuation.
    while i > start && matches!(hay[i - 1], b'.') {
        i -= 1;
    }
    if hay.get(i) == Some(&b'%') {
        let mut j = i + 1;
        while j < hay.len() && j - i <= 16 && hay[j].is_ascii_alphanumeric() {
            j += 1;
        }
        if j > i + 1 {
            i = j;
        }
    }
    i
}

/// A self-identifying token (JWT, sk-, ghp_ ...) is not glued to a longer word on its left.
pub fn token_left_free(hay: &[u8], start: usize, floor: usize) -> bool {
    start <= floor || !(hay[start - 1].is_ascii_alphanumeric() || hay[start - 1] == b'_')
}

// ---------------------------------------------------------------------------------------------------------
// IP addresses.

/// Words after which a dotted quad is a version, not an address.
fn version_word_before(hay: &[u8], start: usize, floor: usize) -> bool {
    let mut i = start;
    // Skip the separator between the word and the number: `version=`, `version: "`, `ver `.
    let mut skipped = 0;
    while i > floor
        && matches!(hay[i - 1], b' ' | b'=' | b':' | b'"' | b'\'' | b'\t')
        && skipped < 4
    {
        i -= 1;
        skipped += 1;
    }
    let word_end = i;
    if skipped > 0 && hay[floor..word_end].ends_with("版本".as_bytes()) {
        return true;
    }
    while i > floor && (hay[i - 1].is_ascii_alphabetic() || hay[i - 1] == b'_') {
        i -= 1;
    }
    // The word must stand alone: `abc5V 1.2.3.4` is not `v 1.2.3.4`.
    if word_end - i > 32 || (i > floor && hay[i - 1].is_ascii_alphanumeric()) {
        return false;
    }
    let word = hay[i..word_end].to_ascii_lowercase();
    word.ends_with(b"version")
        || word == b"ver"
        || word.ends_with(b"_ver")
        || word == b"v"
        || word.ends_with(b"build")
        || word.ends_with(b"release")
        || word.ends_with(b"firmware")
        || word.ends_with(b"sdk")
}

/// An IPv4 address at `[start, end)` (a DFA candidate of four 1-3 digit parts), not a version string.
pub fn ipv4_valid(hay: &[u8], start: usize, end: usize, floor: usize) -> bool {
    let text = &hay[start..end];
    let mut octets = [0u32; 4];
    for (k, part) in text.split(|&b| b == b'.').enumerate() {
        if k >= 4 || part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return false;
        }
        octets[k] = num(part);
        if octets[k] > 255 {
            return false;
        }
    }
    // Not an address anyone has: unspecified, broadcast, loopback.
    // Nor a netmask (`netmask 255.255.255.0`; 255.x.x.x is reserved).
    if octets == [0, 0, 0, 0] || octets[0] == 255 || octets[0] == 127 {
        return false;
    }
    if start > floor {
        let b = hay[start - 1];
        if (b.is_ascii_alphanumeric() && !glue_is_escape(hay, start)) || b == b'.' || b == b'_' {
            return false;
        }
        // Chrome/124.0.0.0, MicroMessenger/8.0.47.2560: a product token's version.
        if b == b'/'
            && start >= 2
            && (hay[start - 2].is_ascii_alphanumeric() || hay[start - 2] == b'_')
        {
            return false;
        }
        if b == b'-' && start >= 2 && hay[start - 2].is_ascii_alphanumeric() {
            // `v-1.2.3.4`, `build-10.0.0.1`: glued to a word.
            return false;
        }
        if b == b'~' {
            // `Package_for_KB3121255~31bf3856ad364e35~amd64~~6.1.1.0`: a package's version field.
            let mut i = start - 1;
            while i > floor && hay[i - 1] == b'~' {
                i -= 1;
            }
            if i > floor && hay[i - 1].is_ascii_alphanumeric() {
                return false;
            }
        }
        if version_word_before(hay, start, floor) {
            return false;
        }
    }
    if let Some(&b) = hay.get(end) {
        if b.is_ascii_alphanumeric() || b == b'_' {
            return false;
        }
        if b == b'.' && hay.get(end + 1).is_some_and(u8::is_ascii_digit) {
            return false;
        }
    }
    true
}

/// An IPv6 address candidate at `[start, end)`; returns the end of the address (a `%zone` included) when it is
/// one. Not `::`, `::1`, C++ `std::x`, times or MAC addresses.
pub fn ipv6_end(hay: &[u8], start: usize, end: usize, floor: usize) -> Option<usize> {
    let text = &hay[start..end];
    let (addr, _zone) = match text.iter().position(|&b| b == b'%') {
        Some(p) => (&text[..p], &text[p..]),
        None => (text, &text[text.len()..]),
    };
    if start > floor {
        let b = hay[start - 1];
        if (b.is_ascii_alphanumeric() && !glue_is_escape(hay, start))
            || matches!(b, b'_' | b':' | b'.' | b'-')
        {
            return None;
        }
    }
    if let Some(&b) = hay.get(end) {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b':') {
            return None;
        }
    }
    // Without `::` an address has all eight groups (seven colons; six before an IPv4 tail).
    let colons = addr.iter().filter(|&&b| b == b':').count();
    let compressed = memchr::memmem::find(addr, b"::").is_some();
    let dotted = addr.contains(&b'.');
    if !compressed && colons != if dotted { 6 } else { 7 } {
        return None;
    }
    let s = std::str::from_utf8(addr).ok()?;
    let ip: std::net::Ipv6Addr = s.parse().ok()?;
    if ip.is_unspecified() || ip.is_loopback() {
        return None;
    }
    // At least two non-empty groups and four hex digits: `d::` in `std::`, `a::b` are not addresses.
    let groups = addr.split(|&b| b == b':').filter(|g| !g.is_empty()).count();
    let hex_digits = addr.iter().filter(|b| b.is_ascii_hexdigit()).count();
    (groups >= 2 && hex_digits >= 4).then_some(end)
}

// ---------------------------------------------------------------------------------------------------------
// PEM private-key blocks.

/// Scans a PEM body from `from`: base64, whitespace, header lines and `\n` escapes, up to and including the
/// `-----END ...-----` line. Returns `(end, complete)`; `complete` is false when the data ran out first.
pub fn pem_body_end(hay: &[u8], from: usize, limit: usize) -> (usize, bool) {
    let limit = limit.min(hay.len());
    // The data ran out first: stop at the last line start, so the next region reads the rest from a line
    // start (an END line cut short is then seen whole) and the output does not depend on where data ended.
    let ran_out = || {
        let last_line = (limit == hay.len())
            .then(|| memchr::memrchr(b'\n', &hay[from..limit]))
            .flatten();
        (last_line.map_or(limit, |nl| from + nl + 1), false)
    };
    let mut i = from;
    while i < limit {
        if hay[i] == b'-' && hay[i..limit].starts_with(b"-----END") {
            let after = i + 8;
            return match memchr::memmem::find(&hay[after..limit], b"-----") {
                Some(p) => (after + p + 5, true),
                None => ran_out(),
            };
        }
        let b = hay[i];
        let ok = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'+' | b'/' | b'=' | b' ' | b'\t' | b'\r' | b'\n' | b':' | b',' | b'-'
            )
            || (b == b'\\' && matches!(hay.get(i + 1), Some(b'n' | b'r')));
        if !ok {
            return (i, true);
        }
        i += if b == b'\\' { 2 } else { 1 };
    }
    ran_out()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_public_vectors() {
        // Wikipedia's example and the card networks' published test numbers.
        for ok in [
            "79927398713",
            "4111111111111111",
            "5500000000000004",
            "378282246310005",
            "6011111111111117",
            "3530111333300000",
            "30569309025904",
            "6200000000000005",
        ] {
            assert!(luhn_valid(ok.as_bytes()), "{ok}");
        }
        for bad in ["79927398710", "4111111111111112", "1234567812345678", ""] {
            assert!(!luhn_valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn id_check_digit_gb11643_vectors() {
        // GB 11643-1999's own example, and the widely published sample numbers.
        assert_eq!(id_check_char(b"11010519491231002"), Some(b'X'));
        assert_eq!(id_check_char(b"44052418800101001"), Some(b'4'));
        assert!(id18_valid(b"11010519491231002X", 2026));
        assert!(id18_valid(b"11010519491231002x", 2026));
        assert!(
            !id18_valid(b"440524188001010014", 2026),
            "born 1880: before 1900"
        );
        assert!(
            !id18_valid(b"110105194912310021", 2026),
            "wrong check digit"
        );
        assert!(!id18_valid(b"11010519491331002X", 2026), "month 13");
        assert!(
            !id18_valid(b"11010520990101002X", 2026),
            "born in the future"
        );
        assert!(!id18_valid(b"00010519491231002X", 2026), "region 00");
    }

    #[test]
    fn legacy_15_digit_id_needs_region_and_real_date() {
        assert!(id15_valid(b"110105491231002"));
        assert!(!id15_valid(b"110105491331002"), "month 13");
        assert!(!id15_valid(b"110105490230002"), "30 February");
        assert!(!id15_valid(b"990105491231002"), "region 99");
    }

    #[test]
    fn dates_know_leap_years() {
        assert!(date_valid(2000, 2, 29));
        assert!(!date_valid(1900, 2, 29));
        assert!(date_valid(2024, 2, 29));
        assert!(!date_valid(2023, 2, 29));
        assert!(!date_valid(2023, 4, 31));
        assert!(!date_valid(2023, 0, 1));
    }

    #[test]
    fn mobile_ranges_are_the_allocated_ones() {
        for ok in [
            "13812345678",
            "14512345678",
            "15012345678",
            "16612345678",
            "17012345678",
            "18912345678",
            "19912345678",
            "19212345678",
        ] {
            assert!(mobile_valid(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "10012345678",
            "11012345678",
            "12012345678",
            "15412345678",
            "19412345678",
            "14212345678",
            "17912345678",
            "1381234567",
            "23812345678",
        ] {
            assert!(!mobile_valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn cards_need_a_real_scheme_prefix() {
        assert!(card_valid(b"4111111111111111"));
        assert!(card_valid(b"6200000000000005"));
        assert!(card_valid(b"378282246310005"));
        assert!(card_valid(b"2223000048400011"));
        // Luhn-valid timestamps and ids are not cards.
        let epoch_ms = b"1514038535000";
        assert!(luhn_valid(epoch_ms) || !luhn_valid(epoch_ms));
        for not_card in [
            &b"1000000000009"[..],
            b"2026112510300001",
            b"7000000000000000",
            b"0000000000000000",
        ] {
            assert!(
                !card_valid(not_card),
                "{}",
                String::from_utf8_lossy(not_card)
            );
        }
    }

    fn numbers(text: &str) -> Vec<(String, NumberKind)> {
        let hay = text.as_bytes();
        let kinds = NumberKinds {
            phone: true,
            id_card: true,
            bank_card: true,
            max_birth_year: 2026,
        };
        let mut out = Vec::new();
        // Emulate the engine: every maximal candidate (start at a digit or +).
        let mut i = 0;
        while i < hay.len() {
            let b = hay[i];
            if b.is_ascii_digit() || b == b'+' || fullwidth_digit_at(hay, i) {
                let mut j = i + 1;
                while j < hay.len()
                    && (hay[j].is_ascii_digit()
                        || matches!(hay[j], b' ' | b'-' | b'X' | b'x')
                        || hay[j] >= 0x80)
                {
                    j += 1;
                }
                numbers_in(hay, i, j, 0, &kinds, &mut out);
                i = j;
            } else {
                i += 1;
            }
        }
        out.iter()
            .map(|h| (text[h.start..h.end].to_string(), h.kind))
            .collect()
    }

    #[test]
    fn numbers_split_at_group_boundaries() {
        use NumberKind::*;
        assert_eq!(numbers("13812345678"), vec![("13812345678".into(), Phone)]);
        assert_eq!(
            numbers("x 2026-11-25 13812345678"),
            vec![("13812345678".into(), Phone)]
        );
        assert_eq!(
            numbers("a 13812345678 13912345678"),
            vec![("13812345678".into(), Phone), ("13912345678".into(), Phone)]
        );
        assert_eq!(
            numbers("+86 138-1234-5678"),
            vec![("+86 138-1234-5678".into(), Phone)]
        );
        assert_eq!(numbers("138123456789"), vec![]);
        assert_eq!(
            numbers("4111 1111 1111 1111"),
            vec![("4111 1111 1111 1111".into(), BankCard)]
        );
        assert_eq!(
            numbers("11010519491231002X"),
            vec![("11010519491231002X".into(), IdCard)]
        );
    }
}
