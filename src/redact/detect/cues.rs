//! Personal identifiers that only a word in front of them makes personal: landlines after `电话`/`座机`/`tel`,
//! passport numbers after `护照`/`passport`, QQ numbers after `QQ`/`QQ号`, WeChat ids after `微信`/`wechat`
//! (and `wxid_…` by its shape), licence plates after `车牌`/`plate`, birth dates after `出生`/`生日`/`DOB`/
//! `birthday`. Without the cue the same text is left alone (an 8-digit number is not a date of birth).

use super::checksums::date_valid;
use super::{Context, Detector, Found, Settings};
use crate::redact::text::{Chars, Cursor};
use std::ops::Deref;

/// What a cue word announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    Landline,
    Passport,
    Qq,
    Wechat,
    Plate,
    Birth,
}

/// The cue words, longer ones first where one begins another (`telephone` before `tel`, `birthday` before
/// `birth`); ASCII ones in any case.
const CUES: &[(&str, Cue)] = &[
    ("电话", Cue::Landline),
    ("座机", Cue::Landline),
    ("固话", Cue::Landline),
    ("传真", Cue::Landline),
    ("telephone", Cue::Landline),
    ("tel", Cue::Landline),
    ("phone", Cue::Landline),
    ("fax", Cue::Landline),
    ("护照", Cue::Passport),
    ("passport", Cue::Passport),
    ("qq", Cue::Qq),
    ("微信", Cue::Wechat),
    ("wechat", Cue::Wechat),
    ("weixin", Cue::Wechat),
    ("车牌", Cue::Plate),
    ("plate", Cue::Plate),
    ("出生", Cue::Birth),
    ("生日", Cue::Birth),
    ("dob", Cue::Birth),
    ("birthday", Cue::Birth),
    ("birth", Cue::Birth),
    ("born", Cue::Birth),
];

/// The cue word at the start of the DFA's candidate (which also holds the byte after it) and where the
/// word ends, if it starts a word.
fn cue_at(ctx: &Context, start: usize) -> Option<(Cue, usize)> {
    let raw = &ctx.hay[start..];
    if raw.first() == Some(&b'\\') {
        // A Chinese cue written as escapes (`\u7535\u8bdd`): read through the text layer.
        return CUES
            .iter()
            .filter(|(w, _)| !w.is_ascii())
            .find_map(|(w, cue)| {
                let mut c = ctx.cursor(start);
                c.eat(w).then_some((*cue, c.at))
            });
    }
    let (word, cue) = CUES.iter().find(|(w, _)| {
        raw.get(..w.len())
            .is_some_and(|r| r.eq_ignore_ascii_case(w.as_bytes()))
    })?;
    // An ASCII cue is a word of its own (`tel`, not `hotel`; `qq`, not `weixin.qq.com`).
    if word.is_ascii()
        && ctx
            .cursor(start)
            .peek_back()
            .is_some_and(|p| p.is_ascii_alnum() || matches!(p.c, '_' | '.' | '-' | '/'))
    {
        return None;
    }
    Some((*cue, start + word.len()))
}

/// Moves past what stands between a cue and its value: the rest of the label (`号`, `号码`, `日期`, `_id`,
/// `number`, ` no.`), a verb (`是`, `为`), a separator (`:`, `：`, `=`), quotes and blanks.
fn skip_to_value(c: &mut Cursor) {
    for _ in 0..4 {
        let before = c.at;
        // A colour code around the value or after the word (`电话\x1b[0m: ...`) is passed over too.
        c.forward_while(3, |ch| {
            ch.is_blank()
                || ch.is_ansi()
                || matches!(ch.c, ':' | '=' | '"' | '\'' | '是' | '为' | '為')
        });
        c.eat_first(&[
            "号码",
            "号",
            "日期",
            "年月日",
            "_date",
            "date",
            "_id",
            "id",
            "_number",
            "_num",
            "_no",
            "number",
            "no.",
            "no",
            "#",
            "of birth",
        ]);
        if c.at == before {
            return;
        }
    }
}

/// Decides on a cue candidate starting at `start`; returns where the search resumes.
pub fn detect(ctx: &Context, start: usize, settings: &Settings, out: &mut Vec<Found>) -> usize {
    // The candidate ends one byte after the word (or after a label glued to it): a search resuming after a
    // rejected cue resumes at the word's end, so that the byte after it can start a candidate of its own
    // (`电话13812345678` is a mobile number).
    let Some((cue, word_end)) = cue_at(ctx, start) else {
        return start + 1;
    };
    // 企业微信 is WeCom, the product.
    if cue == Cue::Wechat && ctx.cursor(start).eat_back("企业") {
        return word_end;
    }
    let mut c = Cursor::new(ctx.hay, word_end, word_end);
    skip_to_value(&mut c);
    let vs = c.at;
    let found = match cue {
        Cue::Landline => landline(ctx.hay, vs).map(|e| (Detector::Landline, e)),
        Cue::Passport => passport(ctx.hay, vs).map(|e| (Detector::Passport, e)),
        Cue::Qq => qq(ctx.hay, vs).map(|e| (Detector::Qq, e)),
        Cue::Wechat => wechat(ctx.hay, vs).map(|e| (Detector::WechatId, e)),
        Cue::Plate => plate(ctx.hay, vs).map(|e| (Detector::Plate, e)),
        Cue::Birth => birth_date(ctx.hay, vs, settings).map(|e| (Detector::BirthDate, e)),
    };
    match found {
        Some((det, ve)) if vs >= ctx.emit_floor => {
            out.push(Found::new(det, vs, ve));
            ve
        }
        _ => word_end,
    }
}

/// The longest run [`run`] reads: one more than the longest value (a WeChat id's 24), to see it is longer.
const MAX_RUN: usize = 25;

/// The characters from `at` while they are ASCII letters, digits or in `extra` (at most `max + 1`).
fn run(hay: &[u8], at: usize, max: usize, extra: &[char]) -> Chars<MAX_RUN> {
    debug_assert!(max < MAX_RUN);
    Chars::collect(
        Cursor::new(hay, at, at)
            .take(max + 1)
            .take_while(|ch| ch.c.is_ascii_alphanumeric() || extra.contains(&ch.c)),
    )
}

/// The value ends here: no letter or digit glued after it, and no `@` (an e-mail address's local part is
/// the e-mail detector's).
fn ends_word(hay: &[u8], at: usize) -> bool {
    Cursor::new(hay, at, at)
        .next()
        .is_none_or(|ch| !ch.is_ascii_alnum() && ch.c != '@')
}

/// `010-12345678`, `0755 1234567`, `(021)12345678`, `02112345678`, with an extension `-123`: a 3-4 digit area
/// code starting 0, then 7-8 digits.
fn landline(hay: &[u8], at: usize) -> Option<usize> {
    let mut c = Cursor::new(hay, at, at);
    let paren = c.peek().is_some_and(|ch| matches!(ch.c, '(' | '（'));
    if paren {
        c.next();
    }
    let area = digits(&mut c, 4);
    if !(3..=4).contains(&area.len()) || area[0] != b'0' || area[1] == b'0' {
        return None;
    }
    if paren && !c.next().is_some_and(|ch| matches!(ch.c, ')' | '）')) {
        return None;
    }
    let mut sep = c;
    if sep
        .peek()
        .is_some_and(|ch| matches!(ch.c, '-' | ' ' | '－'))
    {
        sep.next();
        c = sep;
    }
    let local = digits(&mut c, 9);
    let plain = !paren && sep.at == c.at;
    // Glued (`02112345678`): only 11-12 digits in all, never a mobile's 1x.
    if !(7..=8).contains(&local.len()) || (plain && local.is_empty()) || local[0] == b'0' {
        return None;
    }
    let mut ext = c;
    if ext.peek().is_some_and(|ch| ch.c == '-') {
        ext.next();
        let n = digits(&mut ext, 5);
        if (1..=4).contains(&n.len()) {
            c = ext;
        }
    }
    ends_word(hay, c.at).then_some(c.at)
}

/// Up to 12 digits, on the stack.
struct Digits {
    buf: [u8; 12],
    len: usize,
}

impl Deref for Digits {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The digits ahead (at most `max + 1`, `max` at most 11); moves past them.
fn digits(c: &mut Cursor, max: usize) -> Digits {
    let mut d = Digits {
        buf: [0; 12],
        len: 0,
    };
    c.forward_while((max + 1).min(d.buf.len()), |ch| match ch.digit() {
        Some(x) => {
            d.buf[d.len] = x;
            d.len += 1;
            true
        }
        None => false,
    });
    d
}

/// Passport numbers: a letter or two, then 6-9 digits (`E12345678`, `EA1234567`, `G12345678`).
fn passport(hay: &[u8], at: usize) -> Option<usize> {
    let v = run(hay, at, 12, &[]);
    let letters = v.iter().take_while(|ch| ch.c.is_ascii_alphabetic()).count();
    let rest = &v[letters..];
    let ok = (1..=2).contains(&letters)
        && (6..=9).contains(&rest.len())
        && rest.iter().all(|ch| ch.c.is_ascii_digit());
    (ok && ends_word(hay, v.last()?.end)).then(|| v.last().map(|ch| ch.end))?
}

/// QQ numbers: 5-11 digits, not starting 0.
fn qq(hay: &[u8], at: usize) -> Option<usize> {
    let mut c = Cursor::new(hay, at, at);
    let d = digits(&mut c, 11);
    ((5..=11).contains(&d.len()) && d[0] != b'0' && ends_word(hay, c.at)).then_some(c.at)
}

/// WeChat ids: a letter, then 5-19 letters, digits, `_` or `-` (WeChat's own rule); `wxid_…` too. Digits
/// only is a phone or QQ number (their detectors decide).
fn wechat(hay: &[u8], at: usize) -> Option<usize> {
    let v = run(hay, at, 24, &['_', '-']);
    let first = v.first()?;
    let ok = first.c.is_ascii_alphabetic()
        && (6..=20).contains(&v.len())
        && v.iter().any(|ch| ch.c.is_ascii_digit() || ch.c == '_');
    (ok && ends_word(hay, v.last()?.end)).then(|| v.last().map(|ch| ch.end))?
}

/// `wxid_…` anywhere: a WeChat id by its shape.
pub fn detect_wxid(ctx: &Context, start: usize, out: &mut Vec<Found>) -> usize {
    let glued = ctx
        .cursor(start)
        .peek_back()
        .is_some_and(|p| p.is_ascii_alnum() || p.c == '_');
    let v = run(ctx.hay, start + 5, 24, &['_', '-']);
    if glued || !(8..=24).contains(&v.len()) || start < ctx.emit_floor {
        return start + 1;
    }
    let end = v.last().map_or(start + 5, |ch| ch.end);
    if !ends_word(ctx.hay, end) {
        return start + 1;
    }
    out.push(Found::new(Detector::WechatId, start, end));
    end
}

const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领";

/// Licence plates: a province character, a letter, an optional `·` or blank, then 5 letters or digits
/// (6 for new-energy plates), letters never I or O; `挂`/`学`/`警` may end it.
fn plate(hay: &[u8], at: usize) -> Option<usize> {
    let mut c = Cursor::new(hay, at, at);
    if !c.next().is_some_and(|ch| PROVINCES.contains(ch.c)) {
        return None;
    }
    if !c
        .next()
        .is_some_and(|ch| ch.c.is_ascii_uppercase() && !matches!(ch.c, 'I' | 'O'))
    {
        return None;
    }
    if c.peek().is_some_and(|ch| matches!(ch.c, '·' | ' ' | '-')) {
        c.next();
    }
    let n = c.forward_while(7, |ch| {
        (ch.c.is_ascii_uppercase() && !matches!(ch.c, 'I' | 'O')) || ch.c.is_ascii_digit()
    });
    if !(5..=6).contains(&n) {
        return None;
    }
    if n == 5
        && c.peek()
            .is_some_and(|ch| matches!(ch.c, '挂' | '学' | '警'))
    {
        c.next();
    }
    ends_word(hay, c.at).then_some(c.at)
}

/// Birth dates: `1990-01-02`, `1990/1/2`, `1990.01.02`, `1990年1月2日`, `19900102`, `02/01/1990`; a real date
/// not after this year.
fn birth_date(hay: &[u8], at: usize, settings: &Settings) -> Option<usize> {
    let mut c = Cursor::new(hay, at, at);
    let a = digits(&mut c, 8);
    let num = |d: &[u8]| d.iter().fold(0u32, |v, &b| v * 10 + u32::from(b - b'0'));
    let valid =
        |y: u32, m: u32, d: u32| y >= 1900 && y <= settings.max_birth_year && date_valid(y, m, d);
    if a.len() == 8 {
        let (y, m, d) = (num(&a[..4]), num(&a[4..6]), num(&a[6..]));
        return (valid(y, m, d) && ends_word(hay, c.at)).then_some(c.at);
    }
    let sep = c.next()?;
    if !matches!(sep.c, '-' | '/' | '.' | '年') {
        return None;
    }
    let b = digits(&mut c, 2);
    let sep2 = c.next()?;
    let same = sep2.c == sep.c || (sep.c == '年' && sep2.c == '月');
    if b.is_empty() || !same {
        return None;
    }
    let d = digits(&mut c, 4);
    if sep.c == '年' && c.peek().is_some_and(|ch| ch.c == '日') {
        c.next();
    }
    let ok = match (a.len(), d.len()) {
        (4, 1..=2) => valid(num(&a), num(&b), num(&d)),
        // Day first (02/01/1990), or month first (01/02/1990): either way a date.
        (1..=2, 4) => valid(num(&d), num(&b), num(&a)) || valid(num(&d), num(&a), num(&b)),
        _ => false,
    };
    (ok && (sep.c == '年' || ends_word(hay, c.at))).then_some(c.at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            on: [true; Detector::COUNT],
            max_birth_year: 2026,
        }
    }

    /// Runs the detector on every cue in `s` (found by brute force, as the DFA would).
    fn hits(s: &str) -> Vec<(String, Detector)> {
        let hay = s.as_bytes();
        let mut out = Vec::new();
        let cues = [
            "电话", "座机", "tel", "护照", "passport", "QQ", "微信", "wechat", "车牌", "出生",
            "生日", "DOB",
        ];
        for cue in cues {
            for (i, _) in s.match_indices(cue) {
                let ctx = Context::new(hay, i, 0);
                detect(&ctx, i, &settings(), &mut out);
            }
        }
        out.iter()
            .map(|f| (s[f.start..f.end].to_string(), f.det))
            .collect()
    }

    #[test]
    fn values_after_their_cue_are_found() {
        let one = |s: &str| hits(s).into_iter().map(|x| x.0).collect::<Vec<_>>();
        assert_eq!(one("座机：010-12345678"), ["010-12345678"]);
        assert_eq!(one("电话 (0755)1234567 转"), ["(0755)1234567"]);
        assert_eq!(one("护照号码：E12345678。"), ["E12345678"]);
        assert_eq!(one("QQ号 123456789"), ["123456789"]);
        assert_eq!(one("微信号：zhang_san88"), ["zhang_san88"]);
        assert_eq!(one("车牌 京A12345"), ["京A12345"]);
        assert_eq!(one("车牌号粤B·D12345"), ["粤B·D12345"]);
        assert_eq!(one("出生日期：1990年1月2日"), ["1990年1月2日"]);
        assert_eq!(one("DOB: 1985-07-21"), ["1985-07-21"]);
    }

    #[test]
    fn look_alikes_after_a_cue_stay() {
        for s in [
            "电话 13812345678",
            "hotel 010-12345678",
            "微信 4.1.6",
            "企业微信hello2024-05-07",
            "微信zhang_san88@qq.com",
            "微信支付成功",
            "QQ 0123",
            "出生 2099-01-01",
            "护照 unknown",
            "车牌 京12345",
        ] {
            assert!(hits(s).is_empty(), "{s}: {:?}", hits(s));
        }
    }
}
