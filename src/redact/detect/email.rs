//! E-mail addresses. The DFA finds the anchor (`@`, `%40`, `＠`, `&#64;`) and an ASCII domain or the first
//! byte of a non-Latin one; the domain is checked forwards (real labels, a TLD that is not a file extension),
//! the local part is read backwards through the text layer (URL-encoded characters included, a leading escape
//! or colour code not).

use super::{Context, Detector, Found};
use crate::redact::text::{self, Ch, Cursor, Form};

/// Local parts are at most 64 characters (RFC 5321).
const MAX_LOCAL: usize = 64;

pub fn detect(ctx: &Context, anchor: usize, out: &mut Vec<Found>) -> usize {
    match address_at(ctx, anchor) {
        Some((s, e)) => {
            out.push(Found::new(Detector::Email, s, e));
            e
        }
        None => anchor + 1,
    }
}

/// A whole address around the anchor at `anchor`: `(start, end)`.
pub fn address_at(ctx: &Context, anchor: usize) -> Option<(usize, usize)> {
    let hay = ctx.hay;
    let at = text::char_at(hay, anchor).filter(|c| c.c == '@' && c.form != Form::Escape)?;
    let dom_start = at.end;
    let mut dom_end = dom_start;
    while dom_end < hay.len()
        && (hay[dom_end].is_ascii_alphanumeric() || matches!(hay[dom_end], b'-' | b'.'))
    {
        dom_end += 1;
    }
    let end = if dom_end == dom_start && hay.get(dom_start).is_some_and(|&b| b >= 0x80) {
        unicode_domain_end(hay, dom_start)?
    } else {
        domain_end(hay, dom_start, dom_end)?
    };
    let start = local_start(ctx, anchor)?;
    Some((start, end))
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

/// The ASCII domain `hay[dom_start..dom_end]`, trimmed to its longest valid prefix of labels ending in a real
/// TLD. Returns the end of the domain.
fn domain_end(hay: &[u8], dom_start: usize, dom_end: usize) -> Option<usize> {
    let dom = &hay[dom_start..dom_end];
    if dom.len() > 253 {
        return None;
    }
    let (mut best, mut label_start, mut labels) = (None, 0, 0);
    for i in 0..=dom.len() {
        if i < dom.len() && dom[i] != b'.' {
            continue;
        }
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
    best
}

/// A domain in non-Latin script (`例子.中国`, `пример.рф`): labels of letters, digits and `-` separated by
/// ASCII dots, at least two, the last one letters only. Returns its end.
fn unicode_domain_end(hay: &[u8], from: usize) -> Option<usize> {
    let mut c = Cursor::new(hay, from, from);
    let (mut labels, mut label_len, mut label_alpha, mut best) = (0, 0, true, None);
    while c.at < hay.len() && c.at - from < 253 {
        let ch = c
            .peek()
            .filter(|ch| matches!(ch.form, Form::Raw | Form::FullWidth))?;
        if ch.c == '.' {
            if label_len == 0 {
                break;
            }
            labels += 1;
            label_len = 0;
            label_alpha = true;
            c.at = ch.end;
            continue;
        }
        if !(ch.c.is_alphanumeric() || ch.c == '-') || text::is_cjk_punct(ch.c) {
            break;
        }
        label_alpha &= ch.c.is_alphabetic();
        label_len += 1;
        c.at = ch.end;
        if labels >= 1 && label_alpha && label_len >= 2 {
            best = Some(c.at);
        }
    }
    best
}

fn is_local_ascii(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-')
}

/// How a local part is written, judged by the character right before the anchor.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    /// ASCII; takes accented Latin, Greek and Cyrillic letters (`müller@`), never CJK text in front of it.
    Ascii,
    /// Another script, as text: any letter.
    Text,
    /// Another script, as JSON `\uXXXX` escapes (`\u5f20\u4f1f@163.com` from json.dumps).
    Escaped,
    /// A legacy encoding (latin-1 `café@`, GBK `张伟@`): bytes that are not UTF-8 right before the anchor
    /// are taken with the ASCII around them.
    Legacy,
}

fn non_latin_letter(c: char) -> bool {
    !c.is_ascii() && c.is_alphanumeric() && !text::is_cjk_punct(c)
}

/// Is `ch` part of a local part written in `script`?
fn takes(ch: &Ch, script: Script) -> bool {
    match ch.form {
        Form::Invalid => script == Script::Legacy,
        // URL-encoded characters (`name%2Btag%40...`), never `%` itself.
        Form::Raw | Form::Percent if ch.c.is_ascii() => is_local_ascii(ch.c),
        Form::Escape => script == Script::Escaped && non_latin_letter(ch.c),
        Form::FullWidth => script == Script::Text && ch.c.is_ascii_alphanumeric(),
        Form::Raw => {
            non_latin_letter(ch.c)
                && (script == Script::Text || ('\u{00C0}'..='\u{052F}').contains(&ch.c))
        }
        _ => false,
    }
}

/// The local part that ends at `anchor`, no lower than the emit floor. ASCII addresses stop at non-ASCII text
/// (so CJK around them stays); a local part that ends in a non-Latin letter is taken in that script, as text
/// or as `\uXXXX` escapes. A leading escape (`\n`), colour code or `.`/`-`/`+` is not part of it.
fn local_start(ctx: &Context, anchor: usize) -> Option<usize> {
    let floor = ctx.read_floor.max(ctx.emit_floor);
    let mut c = Cursor::new(ctx.hay, anchor, floor);
    let first = c.peek_back()?;
    let script = match first.form {
        Form::Escape if non_latin_letter(first.c) => Script::Escaped,
        Form::FullWidth => Script::Text,
        Form::Raw if !first.c.is_ascii() => Script::Text,
        Form::Invalid => Script::Legacy,
        _ => Script::Ascii,
    };
    c.back_while(MAX_LOCAL, |ch| takes(ch, script));
    c.forward_while(MAX_LOCAL, |ch| {
        matches!(ch.c, '.' | '-' | '+') && ch.end <= anchor
    });
    let mut local = c;
    let mut any = false;
    while local.at < anchor {
        let Some(ch) = local.next() else { break };
        any |= ch.c.is_alphanumeric() || ch.form == Form::Invalid;
    }
    (c.at < anchor && any).then_some(c.at)
}

/// `13812345678@qq.com`, `user.13812345678@x.cn`: the number `[start, end)` is inside an address's local
/// part; the address.
pub fn address_around_number(ctx: &Context, start: usize, end: usize) -> Option<(usize, usize)> {
    let hay = ctx.hay;
    let mut i = end;
    while i < hay.len()
        && i - end < MAX_LOCAL
        && (hay[i].is_ascii_alphanumeric() || matches!(hay[i], b'.' | b'_' | b'+' | b'-'))
    {
        i += 1;
    }
    let anchor = text::char_at(hay, i).filter(|c| c.c == '@' && c.form != Form::Escape)?;
    let (s, e) = address_at(
        &Context {
            read_floor: ctx
                .read_floor
                .min(anchor.start.saturating_sub(text::MAX_LOOKBEHIND)),
            ..*ctx
        },
        anchor.start,
    )?;
    (s <= start).then_some((s, e))
}

/// A user pattern of type `email` matched `[start, end)`: taken when the built-in detector finds an address
/// around its anchor; the address it finds is what is redacted (a pattern that starts inside a colour code or
/// an escape, `\b[A-Za-z0-9._%+-]+@`, does not take them along).
pub fn validate_span(ctx: &Context, start: usize, end: usize) -> Option<(usize, usize, usize)> {
    let mut c = Cursor::new(ctx.hay, start, start);
    while c.at < end {
        let ch = c.next()?;
        if ch.c == '@' && ch.form != Form::Escape {
            let (s, e) = address_at(ctx, ch.start)?;
            return Some((s, e, s));
        }
    }
    None
}
