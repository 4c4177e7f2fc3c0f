//! Cookies: `Cookie: a=1; sid=...`, `Set-Cookie: sid=...; Path=/; HttpOnly`, and the same as JSON keys
//! (`"cookie":"..."`, `"set-cookie":["..."]`). A cookie's value is a secret when its name says so (a session,
//! a token, a CSRF value) or when it looks generated; preferences (`lang=zh-CN`) and Set-Cookie attributes
//! stay.

use super::{credential_shaped, is_placeholder_value, Credential};

/// Set-Cookie attributes: not cookies.
const ATTRIBUTES: &[&[u8]] = &[
    b"path",
    b"domain",
    b"expires",
    b"max-age",
    b"samesite",
    b"secure",
    b"httponly",
    b"priority",
    b"partitioned",
    b"version",
    b"comment",
];

/// Parts of a cookie name that make its value a credential, anywhere in the name (`PHPSESSID`, `XSRF-TOKEN`).
const SECRET_PARTS: &[&[u8]] = &[
    b"sess",
    b"token",
    b"auth",
    b"jwt",
    b"csrf",
    b"xsrf",
    b"secret",
    b"ticket",
    b"remember",
    b"credential",
    b"passport",
];

/// ... and whole words of it (`connect.sid`, `api_key`; not `sidebar`, `monkey`).
const SECRET_WORDS: &[&[u8]] = &[b"sid", b"key", b"login", b"access", b"refresh", b"identity"];

/// Where the header's value ends: its closing quote (plain or escaped), a `]`, or the end of the line.
fn header_end(hay: &[u8], from: usize) -> usize {
    let limit = hay.len().min(from + 8192);
    let mut i = from;
    while i < limit && !matches!(hay[i], b'\n' | b'\r' | b'"' | b']') {
        if hay[i] == b'\\' && matches!(hay.get(i + 1), Some(b'"' | b'\\' | b'n' | b'r')) {
            break;
        }
        i += 1;
    }
    i
}

/// The session cookies of the header whose value starts at `from`; returns where the header ends.
pub fn values(hay: &[u8], from: usize, out: &mut Vec<Credential>) -> usize {
    let end = header_end(hay, from);
    let mut i = from;
    while i < end {
        while i < end && matches!(hay[i], b' ' | b'\t' | b';' | b',') {
            i += 1;
        }
        let name_start = i;
        while i < end && !matches!(hay[i], b'=' | b';') {
            i += 1;
        }
        let name = hay[name_start..i].trim_ascii();
        if i >= end || hay[i] != b'=' {
            continue;
        }
        let vs = i + 1;
        let attribute = ATTRIBUTES.iter().any(|a| name.eq_ignore_ascii_case(a));
        // An attribute's value runs to `;` (`Expires=Wed, 21 Oct 2026 07:28:00 GMT`); a cookie's to a blank too.
        while i < end && hay[i] != b';' && (attribute || !matches!(hay[i], b' ' | b'\t' | b',')) {
            i += 1;
        }
        let value = &hay[vs..i];
        if !attribute && secret_cookie(name, value) {
            out.push(Credential {
                start: vs,
                end: i,
                password: false,
            });
        }
    }
    end
}

fn secret_cookie(name: &[u8], value: &[u8]) -> bool {
    if is_placeholder_value(value) {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let part = SECRET_PARTS
        .iter()
        .any(|w| lower.windows(w.len()).any(|x| x == *w));
    let word = lower
        .split(|b| !b.is_ascii_alphanumeric())
        .any(|w| SECRET_WORDS.contains(&w));
    part || word || credential_shaped(value)
}
