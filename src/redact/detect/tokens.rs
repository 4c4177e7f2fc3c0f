//! Self-identifying tokens (a JWT, OpenAI/Anthropic `sk-` keys, GitHub, Slack, AWS, Google, Alibaba and
//! Tencent Cloud key formats, age identities, Telegram bot tokens), webhook URLs whose path is their secret,
//! and PEM private-key blocks: secrets wherever they appear.

use super::{Context, Detector, Found, PemCarry};

/// A PEM block longer than this is cut (and the rest of it treated as text).
pub const PEM_MAX_BYTES: usize = 64 << 10;

pub fn detect_format(
    ctx: &Context,
    start: usize,
    prefix_end: usize,
    out: &mut Vec<Found>,
) -> usize {
    if left_free(ctx, start) {
        if let Some(e) = token_end(ctx.hay, start, prefix_end) {
            out.push(Found::new(Detector::Secret, start, e));
            return e;
        }
    }
    prefix_end
}

/// Characters of a base64url token.
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// A Telegram bot token, `<bot id>:AA<33 more>`: the DFA matched the id and `:AA` at `[start, end)`. The id
/// may be glued to a word (`/bot123456789:AA...` in an API URL) but not to more digits.
pub fn detect_bot_token(ctx: &Context, start: usize, end: usize, out: &mut Vec<Found>) -> usize {
    let hay = ctx.hay;
    let body = end - 2;
    let mut e = body;
    while e < hay.len() && e - body <= 40 && is_token_char(hay[e]) {
        e += 1;
    }
    let digit_before = ctx
        .cursor(start)
        .peek_back()
        .is_some_and(|p| p.c.is_ascii_digit());
    if digit_before
        || !(33..=40).contains(&(e - body))
        || hay.get(e).is_some_and(|&b| is_token_char(b))
    {
        return start + 1;
    }
    out.push(Found::new(Detector::Secret, start, e));
    e
}

/// A webhook URL whose secret is its path: the DFA matched the path prefix up to `end`
/// (`hooks.slack.com/services/`, `/api/webhooks/`, `/open-apis/bot/v2/hook/`). The last segment of the
/// path (Slack's `T.../B.../SECRET`, Discord's `ID/TOKEN`, Feishu's `UUID`) is the secret.
pub fn detect_webhook_path(ctx: &Context, end: usize, out: &mut Vec<Found>) -> usize {
    let hay = ctx.hay;
    let mut seg_start = end;
    let mut i = end;
    while i < hay.len() && i - end < 256 && (is_token_char(hay[i]) || hay[i] == b'/') {
        if hay[i] == b'/' {
            seg_start = i + 1;
        }
        i += 1;
    }
    if i - seg_start < 16 {
        return end;
    }
    out.push(Found::new(Detector::Secret, seg_start, i));
    i
}

/// A self-identifying token is not glued to a longer word on its left.
fn left_free(ctx: &Context, start: usize) -> bool {
    !ctx.cursor(start)
        .peek_back()
        .is_some_and(|p| p.is_ascii_alnum() || p.c == '_')
}

/// The end of a self-identifying token whose prefix is `[start, prefix_end)`, if the body has the token's
/// shape: a JWT is three base64url parts (the first two JSON, so starting `eyJ`); the others need a minimum
/// length of token characters.
fn token_end(hay: &[u8], start: usize, prefix_end: usize) -> Option<usize> {
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
        b"hf_" => (run(prefix_end, b""), 30),
        b"gsk_" => (run(prefix_end, b""), 40),
        b"pplx-" | b"xai-" => (run(prefix_end, b""), 40),
        [b'M' | b'N' | b'O', ..] if prefix.len() == 6 => (discord_token_end(hay, start)?, 0),
        p if p.starts_with(b"xox") || p == b"xapp-" => (run(prefix_end, b"-"), 10),
        // An age identity: bech32 upper case (a recipient, `age1...`, is public and never matches).
        b"AGE-SECRET-KEY-1" => (run(prefix_end, b""), 50),
        _ => (run(prefix_end, b""), 30),
    };
    (end - prefix_end >= min_body
        && !hay
            .get(end)
            .is_some_and(|&b| b == b'_' || b.is_ascii_alphanumeric()))
    .then_some(end)
}

/// A Discord bot token at `start`: the bot's id in base64url (23-28 characters), `.`, a timestamp part (6-7),
/// `.`, an HMAC part (27-40). Returns its end.
fn discord_token_end(hay: &[u8], start: usize) -> Option<usize> {
    let part = |from: usize, lo: usize, hi: usize| {
        let mut i = from;
        while i < hay.len() && i - from <= hi && is_token_char(hay[i]) {
            i += 1;
        }
        (lo..=hi).contains(&(i - from)).then_some(i)
    };
    let p1 = part(start, 23, 28)?;
    let p2 = part(p1 + 1, 6, 7).filter(|_| hay.get(p1) == Some(&b'.'))?;
    let p3 = part(p2 + 1, 27, 40).filter(|_| hay.get(p2) == Some(&b'.'))?;
    Some(p3)
}

/// `-----BEGIN ... PRIVATE KEY-----` at `start` (the DFA matched up to `header_from`): the whole block, up to
/// its END line; a block that runs past the data seen so far is carried to the next region.
pub fn detect_pem(
    ctx: &Context,
    start: usize,
    header_from: usize,
    pem: &mut PemCarry,
    out: &mut Vec<Found>,
) -> usize {
    let hay = ctx.hay;
    let Some(body) = pem_private_header_end(hay, header_from) else {
        return header_from;
    };
    let limit = hay.len().min(start + PEM_MAX_BYTES);
    let (e, complete) = pem_body_end(hay, body, limit);
    if !complete && limit == hay.len() {
        pem.open = true;
        pem.bytes = e - start;
    }
    out.push(Found::new(Detector::Secret, start, e));
    e
}

/// After `-----BEGIN `: the rest of a private-key header (`RSA PRIVATE KEY-----`, `OPENSSH PRIVATE KEY-----`,
/// `PGP PRIVATE KEY BLOCK-----`). Returns the header's end.
fn pem_private_header_end(hay: &[u8], from: usize) -> Option<usize> {
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
