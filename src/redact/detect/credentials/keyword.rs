//! The value after a credential key: `key=v`, `key: v`, `"key": "v"`, `'key': 'v'`, `\"key\":\"v\"` (and
//! twice escaped), `&quot;key&quot;:&quot;v&quot;`, `<Key>v</Key>`, `--key v`, `password is v`, and
//! `Bearer TOKEN`.

use super::{
    credential_shaped, encoded_delimiter_at, is_placeholder_value, is_value_stop, next_value,
    quoted_value_end, unquoted_value_end, Credential,
};
use crate::redact::detect::Context;
use crate::redact::text::{self, Form};

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

/// Key names that end in `key` or `token` but name an identifier or something public: a tenant or an app
/// (Feishu's `tenant_key`, DingTalk's `appKey`: the secret is their `appSecret`), a public key, an index.
const NOT_SECRET_KEY_NAMES: &[&[u8]] = &[
    b"tenantkey",
    b"appkey",
    b"publickey",
    b"pubkey",
    b"keyid",
    b"idempotencykey",
    b"cachekey",
    b"sortkey",
    b"partitionkey",
    b"routingkey",
    b"primarykey",
    b"foreignkey",
    b"hotkey",
    b"shortcutkey",
    b"nexttoken",
    b"pagetoken",
    b"nextpagetoken",
];

/// An age recipient (`age1` and 58 bech32 characters) is a public key: not a credential, whatever its key.
fn is_age_recipient(v: &[u8]) -> bool {
    v.len() == 62
        && v.starts_with(b"age1")
        && v[4..]
            .iter()
            .all(|b| b"qpzry9x8gf2tvdw0s3jn54khce6mua7l".contains(b))
}

/// A credential key read around the DFA's match.
struct Key {
    /// The whole key name, `hay[start..stem_end]`.
    start: usize,
    stem_end: usize,
    /// The part the DFA matched (`token`, `password`), lower-cased.
    stem: Vec<u8>,
    /// `--password VALUE`.
    cli: bool,
    password: bool,
    /// Only generated-looking values are taken (`key`, `ticket`, `auth`, `session_id`).
    needs_shape: bool,
}

/// Reads the whole key name back from the stem at `start`; None when the stem is inside another word
/// (`monkey=`, `bypass=`, `oauth=`).
fn read_key(hay: &[u8], start: usize, sep_end: usize) -> Option<Key> {
    let mut stem_end = start;
    while stem_end < sep_end && is_key_char(hay[stem_end]) {
        stem_end += 1;
    }
    let mut key_start = start;
    while key_start > 0 && start - key_start < 48 && is_key_char(hay[key_start - 1]) {
        key_start -= 1;
    }
    let norm: Vec<u8> = hay[key_start..stem_end]
        .iter()
        .filter(|&&b| b != b'_' && b != b'-')
        .take(64)
        .map(u8::to_ascii_lowercase)
        .collect();
    let stem = hay[start..stem_end].to_ascii_lowercase();
    if NOT_SECRET_KEY_NAMES.contains(&norm.as_slice()) {
        return None;
    }
    let named = SECRET_KEY_NAMES.contains(&norm.as_slice());
    // Short stems must start the key or a word inside it.
    let short = matches!(
        stem.as_slice(),
        b"key" | b"pass" | b"pwd" | b"auth" | b"ticket"
    );
    if short && start > key_start && !named {
        let prev = hay[start - 1];
        let hump =
            (prev.is_ascii_lowercase() || prev.is_ascii_digit()) && hay[start].is_ascii_uppercase();
        if !(prev == b'_' || prev == b'-' || hump) {
            return None;
        }
    }
    let has = |w: &[u8]| norm.windows(w.len()).any(|x| x == w);
    let needs_shape = match stem.as_slice() {
        b"key" => !named,
        b"ticket" | b"auth" => true,
        s => s.starts_with(b"session"),
    };
    Some(Key {
        start: key_start,
        stem_end,
        cli: hay[key_start..start].starts_with(b"--"),
        password: has(b"pass") || has(b"pwd"),
        needs_shape,
        stem,
    })
}

/// The value after a credential key. The DFA matched the end of the key name (the stem, at `start`) and its
/// separator up to `sep_end` (with the value's opening quote, if any).
pub fn value(ctx: &Context, start: usize, sep_end: usize) -> Option<Credential> {
    let hay = ctx.hay;
    let key = read_key(hay, start, sep_end)?;
    let sep = &hay[key.stem_end..sep_end];
    if sep == b">" {
        let (vs, ve) = xml_element_value(hay, key.start, key.stem_end)?;
        return Some(Credential {
            start: vs,
            end: ve,
            password: key.password,
        });
    }
    let (vs, mut ve) = if sep.iter().all(|&b| b == b' ' || b == b'\t') {
        blank_separated_value(hay, &key, sep_end)?
    } else {
        separated_value(hay, &key, sep_end)
    };
    // A token in a query (`?token=...#top`) ends at the fragment; a password may hold a `#` (`?pwd=ab#12`).
    if !key.password && key.start > 0 && matches!(hay[key.start - 1], b'?' | b'&') {
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
        || (key.needs_shape && !credential_shaped(value))
        || (key.cli && value.starts_with(b"-"))
        // `Token: Token { kind: ... }`: the value repeats the key's name.
        || value.eq_ignore_ascii_case(&key.stem)
        || is_age_recipient(value)
    {
        return None;
    }
    Some(Credential {
        start: vs,
        end: ve,
        password: key.password,
    })
}

/// Blanks alone after the key: `--password VALUE`, `password is VALUE`.
fn blank_separated_value(hay: &[u8], key: &Key, sep_end: usize) -> Option<(usize, usize)> {
    let skip_blanks = |mut i: usize| {
        while i < hay.len() && matches!(hay[i], b' ' | b'\t') {
            i += 1;
        }
        i
    };
    let v = skip_blanks(sep_end);
    if key.cli {
        return Some(next_value(hay, v));
    }
    let is = key.password
        && hay.len() > v + 3
        && hay[v..v + 2].eq_ignore_ascii_case(b"is")
        && matches!(hay[v + 2], b' ' | b'\t');
    is.then(|| next_value(hay, skip_blanks(v + 2)))
}

/// After `:`, `=`, `=>`, `：`: blanks, a colour code (`token=ESC[33mVALUE`), then the value, quoted (plain,
/// `\"` or `\\\"` inside JSON strings, `&quot;` in HTML) or bare.
fn separated_value(hay: &[u8], key: &Key, sep_end: usize) -> (usize, usize) {
    let mut vs = sep_end;
    while vs < hay.len() && matches!(hay[vs], b' ' | b'\t') {
        vs += 1;
    }
    vs += text::ansi_len_at(hay, vs).unwrap_or(0);
    let is_auth = key.stem.starts_with(b"auth");
    let open =
        text::char_at(hay, vs).filter(|c| matches!(c.c, '"' | '\'') && c.form != Form::Percent);
    let quoted = open.and_then(|q| {
        let from = q.end;
        let end = match q.form {
            // An encoded quote (`\"`, `\\\"` inside JSON strings, `&quot;`, nginx's `\x22`) closes with the
            // same bytes, on the same line.
            Form::Escape | Form::Entity => {
                let limit = hay.len().min(from + 4096);
                let line_end = memchr::memchr(b'\n', &hay[from..limit]).map_or(limit, |i| from + i);
                from + memchr::memmem::find(&hay[from..line_end], &hay[q.start..q.end])?
            }
            _ => quoted_value_end(hay, from, q.c as u8)?,
        };
        Some((from, end))
    });
    match quoted {
        Some((mut from, end)) => {
            if is_auth {
                from = skip_auth_scheme(hay, from, end);
            }
            (from, end)
        }
        None => {
            let from = if is_auth {
                skip_auth_scheme(hay, vs, hay.len())
            } else {
                vs
            };
            (from, unquoted_value_end(hay, from))
        }
    }
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

/// `Bearer TOKEN` (RFC 6750 token characters); the DFA matched `Bearer` and its blanks up to `sep_end`.
pub fn bearer_value(ctx: &Context, start: usize, sep_end: usize) -> Option<Credential> {
    let hay = ctx.hay;
    if ctx
        .cursor(start)
        .peek_back()
        .is_some_and(|p| p.is_ascii_alnum() && p.form == Form::Raw)
    {
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
