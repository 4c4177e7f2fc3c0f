//! A password typed into chat: `密码是hunter2`, `密码：hunter2`, `把密码改成了 hunter2`, `密码“hunter2”`; the
//! word and what follows it as text, JSON `\uXXXX` escapes or URL encoding (decoded by the text layer).

use super::{is_placeholder_value, quoted_value_end, Credential};
use crate::redact::detect::Context;
use crate::redact::text::{Ch, Cursor, Form};

/// Between the word and the value: a mark (是 为 為, a colon, `=`).
fn is_mark(ch: &Ch) -> bool {
    matches!(ch.c, ':' | '=' | '是' | '为' | '為')
}

/// ... blanks (ASCII, the ideographic space, `%20`, `+`), and bytes that are not UTF-8 (a GBK full-width
/// colon is A3 BA: taken as a separator, so the value after it is still found).
fn is_blank(ch: &Ch) -> bool {
    matches!(ch.c, ' ' | '\t' | '\u{3000}' | '+') || ch.form == Form::Invalid
}

/// ... and verbs (`密码改为`, `密码已重置为：`, `把密码改成了`): they must end in 为 / 成 / 是 / a colon, so
/// `密码已更新 ok` gives nothing.
fn is_verb(ch: &Ch) -> bool {
    matches!(
        ch.c,
        '已' | '改' | '设' | '設' | '置' | '重' | '修' | '更' | '换' | '換' | '被' | '新'
    )
}

/// Full-width quotes and brackets around the value (`密码：“hunter2”`, `密码是「hunter2」`, `（hunter2）`):
/// the closing one.
fn pair_close(open: &Ch) -> Option<&'static str> {
    Some(match open.c {
        '“' => "”",
        '‘' => "’",
        '「' => "」",
        '『' => "』",
        '《' => "》",
        '(' if open.form == Form::FullWidth => "）",
        _ => return None,
    })
}

/// The value after the word `hay[start..stem_end]` (密码 口令 密碼 as a password; 密钥 密鑰 as a secret).
pub fn value(ctx: &Context, start: usize, stem_end: usize) -> Option<Credential> {
    let hay = ctx.hay;
    let mut word = ctx.cursor(start);
    word.next()?;
    let second = word.next()?;
    let password = !matches!(second.c, '钥' | '鑰');
    // URL-encoded text (`text=%E5%AF%86%E7%A0%81%E6%98%AFAbc123`): the value ends at the query's delimiters.
    let encoded = hay[start] == b'%';
    let mut c = Cursor::new(hay, stem_end, stem_end);
    // Markdown emphasis closing around the word (`**密码**：`).
    c.forward_while(3, |ch| ch.c == '*' && ch.form == Form::Raw);
    if !skip_verbs_and_marks(&mut c) {
        return None;
    }
    let open = c.peek()?;
    if let Some(close) = pair_close(&open) {
        return paired_value(hay, open.end, close, password);
    }
    let (vs, ve) = match open.raw_ascii() {
        Some(q @ (b'"' | b'\'' | b'`')) => (open.end, quoted_value_end(hay, open.end, q)?),
        _ => (c.at, bare_value_end(&c, encoded)),
    };
    let value = &hay[vs..ve];
    (!value.is_empty() && !is_placeholder_value(value)).then_some(Credential {
        start: vs,
        end: ve,
        password,
    })
}

/// Moves over verbs, marks and blanks between the word and the value (at most 48 bytes); false when a verb
/// is not completed by 为 / 成 / 是 / a colon.
fn skip_verbs_and_marks(c: &mut Cursor) -> bool {
    let from = c.at;
    let mut verb_pending = false;
    while c.at - from < 48 {
        let Some(ch) = c.peek() else { break };
        if is_verb(&ch) {
            verb_pending = true;
        } else if verb_pending && ch.c == '成' {
            verb_pending = false;
            c.at = ch.end;
            if c.peek().is_some_and(|l| l.c == '了') {
                c.next();
            }
            continue;
        } else if is_mark(&ch) {
            verb_pending = false;
        } else if !is_blank(&ch) && !ch.is_ansi() {
            // (A colour code around the word or the value is skipped: `ESC[33m密码ESC[0m：...`.)
            break;
        }
        c.at = ch.end;
    }
    !verb_pending
}

/// A value inside full-width quotes or brackets: typed ASCII (`密码（必填）` is a form's label).
fn paired_value(hay: &[u8], vs: usize, close: &str, password: bool) -> Option<Credential> {
    let limit = hay.len().min(vs + 256);
    let ve = vs + memchr::memmem::find(&hay[vs..limit], close.as_bytes())?;
    let value = &hay[vs..ve];
    let typed = value.iter().all(|&b| b.is_ascii_graphic() || b == b' ');
    (typed && !value.is_empty() && !is_placeholder_value(value)).then_some(Credential {
        start: vs,
        end: ve,
        password,
    })
}

/// An unquoted value: printable ASCII up to a blank, a quote, `,` or `;`, an escape, markup (`</Content>`,
/// `]]>`) or, in URL-encoded text, a query delimiter; without a trailing full stop or bracket.
fn bare_value_end(c: &Cursor, encoded: bool) -> usize {
    let hay = c.hay();
    let from = c.at;
    let mut v = *c;
    v.forward_while(256, |ch| match ch.form {
        Form::Raw => {
            ch.c > ' '
                && ch.c < '\u{7F}'
                && !matches!(ch.c, '"' | '\'' | ',' | ';')
                && !markup_ends_at(hay, ch.start)
                && !(encoded && matches!(ch.c, '&' | '+' | '#'))
        }
        // `%XX` is part of a password typed as text; in URL-encoded text an encoded delimiter ends it.
        Form::Percent => !(encoded && matches!(ch.c, '&' | ' ' | '"' | ',' | ';' | '}')),
        _ => false,
    });
    let mut i = v.at;
    // A trailing full stop or bracket is punctuation, not password.
    while i > from && matches!(hay[i - 1], b'.' | b')' | b']' | b'}' | b'!' | b'?') {
        i -= 1;
    }
    i
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
