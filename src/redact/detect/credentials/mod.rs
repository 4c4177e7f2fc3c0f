//! Credentials: values after a credential key (`password=`, `"access_token":`, `<EncodingAESKey>`,
//! `Authorization: Bearer`), passwords typed into chat (`密码是...`), and passwords inside URLs, DSNs and
//! command lines.

mod chat;
mod cookie;
mod keyword;
mod url;

use super::{Context, Detector, Found};
use crate::redact::patterns::Handler;

/// A credential: value span and whether it is a password (else a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential {
    pub start: usize,
    pub end: usize,
    pub password: bool,
}

impl Credential {
    fn found(self) -> Found {
        let det = if self.password {
            Detector::Password
        } else {
            Detector::Secret
        };
        Found::new(det, self.start, self.end)
    }
}

/// Decides on a credential candidate `[start, end)`; returns where the search resumes.
pub fn detect(
    handler: Handler,
    ctx: &Context,
    start: usize,
    end: usize,
    out: &mut Vec<Found>,
) -> usize {
    let (c, resume) = match handler {
        Handler::Keyword => (keyword::value(ctx, start, end), end),
        Handler::Bearer => (keyword::bearer_value(ctx, start, end), end),
        Handler::ChatPassword => (chat::value(ctx, start, end), end),
        Handler::UrlAuthority => (url::url_password(ctx.hay, start, end), end),
        Handler::GoDsn => (url::go_dsn_password(ctx, start), end),
        // `-p` may be the start of `-password=` (a keyword inside it): resume right after it.
        Handler::CliPassword => match url::cli_password(ctx, start) {
            Some(c) => (Some(c), c.end),
            None => (None, start + 1),
        },
        Handler::Cookie => {
            let mut found = Vec::new();
            let header_end = cookie::values(ctx.hay, end, &mut found);
            out.extend(found.into_iter().map(Credential::found));
            return header_end;
        }
        _ => (None, end),
    };
    out.extend(c.map(Credential::found));
    resume
}

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
fn unquoted_value_end(hay: &[u8], from: usize) -> usize {
    let limit = hay.len().min(from + 4096);
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

/// A quoted value from `from` (just after the opening quote) to its closing quote, on the same line (a
/// backslash escapes the character after it).
fn quoted_value_end(hay: &[u8], from: usize, quote: u8) -> Option<usize> {
    let limit = hay.len().min(from + 4096);
    let mut i = from;
    while i < limit {
        match hay[i] {
            b'\n' => return None,
            b'\\' => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// A value starting at `vs`: quoted (`"`, `'`) up to its closing quote, or bare.
fn next_value(hay: &[u8], vs: usize) -> (usize, usize) {
    if let Some(&q @ (b'"' | b'\'')) = hay.get(vs) {
        if let Some(end) = quoted_value_end(hay, vs + 1, q) {
            return (vs + 1, end);
        }
    }
    (vs, unquoted_value_end(hay, vs))
}

/// Values that are not credentials: placeholders, empties, booleans, our own redactions, template references.
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
fn credential_shaped(v: &[u8]) -> bool {
    v.len() >= 16
        && v.iter().any(u8::is_ascii_digit)
        && v.iter().any(u8::is_ascii_alphabetic)
        && v.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'-' | b'+' | b'/' | b'=' | b'.' | b'~' | b'%')
        })
}

/// A URL-encoded delimiter at `i`: `%26` (`&`), `%20`, `%22`, `%2C`, `%3B`, `%7D`.
fn encoded_delimiter_at(hay: &[u8], i: usize) -> bool {
    const ENCODED_STOPS: [&[u8]; 6] = [b"%26", b"%20", b"%22", b"%2C", b"%3B", b"%7D"];
    hay.get(i..i + 3)
        .is_some_and(|w| ENCODED_STOPS.iter().any(|s| w.eq_ignore_ascii_case(s)))
}
