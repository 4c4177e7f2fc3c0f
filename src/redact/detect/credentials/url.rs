//! Passwords in URLs (`scheme://user:password@host`), Go MySQL DSNs (`user:password@tcp(host)`) and
//! command lines (`mysql -pSECRET`, `sshpass -p SECRET`).

use super::{is_placeholder_value, quoted_value_end, unquoted_value_end, Credential};
use crate::redact::detect::Context;

/// `scheme://user:password@host`: the password (the host and user stay). `sep` is where the DFA matched `://`
/// (or `:\/\/`), `after_scheme` where the authority starts. The password may hold any character a userinfo
/// may (sub-delimiters `!$&'()*+,;=`, `:`, `~`, `%XX`) and an `@` (the last one ends it); a quote ends the URL
/// only when the same quote opened it.
pub fn url_password(hay: &[u8], sep: usize, after_scheme: usize) -> Option<Credential> {
    let mut scheme = sep;
    while scheme > 0
        && sep - scheme < 32
        && (hay[scheme - 1].is_ascii_alphanumeric()
            || matches!(hay[scheme - 1], b'+' | b'.' | b'-'))
    {
        scheme -= 1;
    }
    // The authority ends at the path, query or fragment, a blank, a double quote, markup or an escape. A single
    // quote ends it only when one opened the URL, and then it is the last one before the URL's end (the
    // password may hold single quotes).
    let stop = |b: u8| {
        matches!(
            b,
            b'/' | b'?' | b'#' | b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'<' | b'>' | b'\\' | b'`'
        ) || b >= 0x80
    };
    let limit = hay.len().min(after_scheme + 1024);
    let mut i = after_scheme;
    let mut last_at = None;
    while i < limit && !stop(hay[i]) {
        if hay[i] == b'@' {
            last_at = Some(i);
        }
        i += 1;
    }
    if scheme > 0 && hay[scheme - 1] == b'\'' {
        let mut url_end = i;
        while url_end < limit && !matches!(hay[url_end], b' ' | b'\t' | b'\r' | b'\n' | b'"') {
            url_end += 1;
        }
        let quote = memchr::memrchr(b'\'', &hay[after_scheme..url_end]).map(|q| after_scheme + q);
        last_at = last_at.filter(|&a| quote.is_none_or(|q| a < q));
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
/// or, for sshpass, also after blanks (`sshpass -p SECRET ssh ...`); or of redis-cli's `-a`, after blanks
/// (`redis-cli -h db -a SECRET ping`). The command must come earlier on the line; `mysql -p` alone (a
/// prompt), `mysql -p dbname` (a database) and `-a` of other commands (`ls -a`) give nothing.
pub fn cli_password(ctx: &Context, at: usize) -> Option<Credential> {
    let hay = ctx.hay;
    if at <= ctx.read_floor || !matches!(hay[at - 1], b' ' | b'\t') {
        return None;
    }
    let from = ctx.read_floor;
    let line_start = memchr::memrchr(b'\n', &hay[from..at]).map_or(from, |p| from + p + 1);
    let before = hay[line_start..at].to_ascii_lowercase();
    let command_at = |name: &[u8]| {
        before.windows(name.len()).enumerate().any(|(k, w)| {
            w == name
                && (k == 0 || !(before[k - 1].is_ascii_alphanumeric() || before[k - 1] == b'_'))
        })
    };
    // `-p` of mysql/mariadb (glued) and sshpass (spaced); `-a` of redis-cli (spaced).
    let spaced = if hay.get(at + 1) == Some(&b'a') {
        if !command_at(b"redis-cli") || !matches!(hay.get(at + 2), Some(b' ' | b'\t')) {
            return None;
        }
        true
    } else {
        let sshpass = command_at(b"sshpass");
        if !(sshpass || command_at(b"mysql") || command_at(b"mariadb")) {
            return None;
        }
        sshpass
    };
    let mut vs = at + 2;
    if spaced {
        while vs < hay.len() && matches!(hay[vs], b' ' | b'\t') {
            vs += 1;
        }
    }
    let (vs, ve) = match hay.get(vs) {
        Some(&q @ (b'"' | b'\'')) => (vs + 1, quoted_value_end(hay, vs + 1, q)?),
        Some(b) if b.is_ascii_graphic() && *b != b'-' => (vs, unquoted_value_end(hay, vs)),
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
pub fn go_dsn_password(ctx: &Context, at: usize) -> Option<Credential> {
    let hay = ctx.hay;
    let floor = ctx.emit_floor.max(ctx.read_floor);
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
