//! Network addresses: IPv4 (not versions, netmasks or loopback), IPv6 (not `::1`, times, MACs or C++ `::`),
//! and IPv4-mapped IPv6 (`::ffff:203.0.113.5`, as Node.js reports a client): an IPv4 address.

use super::checksums::num;
use super::{Context, Detector, Found};

pub fn detect_ipv4(ctx: &Context, start: usize, end: usize, out: &mut Vec<Found>) -> usize {
    // The DFA may have begun inside an escape that ends in digits (`%201.2.3.4` is `%20` + `1.2.3.4`).
    let start = crate::redact::text::skip_into(ctx.hay, start, ctx.read_floor);
    if start < end && ipv4_valid(ctx, start, end) {
        out.push(Found::new(Detector::Ipv4, start, end));
        return end;
    }
    start + 1
}

pub fn detect_ipv6(ctx: &Context, start: usize, out: &mut Vec<Found>) -> usize {
    let end = ipv6_candidate_end(ctx.hay, start);
    if let Some((quad, quad_end)) = ipv4_mapped(ctx.hay, start, end) {
        if ipv4_valid(ctx, quad, quad_end)
            && !ctx
                .cursor(start)
                .peek_back()
                .is_some_and(|p| p.is_ascii_alnum())
        {
            out.push(Found::new(Detector::Ipv4, quad, quad_end));
        }
        return quad_end;
    }
    if ipv6_valid(ctx, start, end) {
        out.push(Found::new(Detector::Ipv6, start, end));
    }
    end
}

/// `::ffff:a.b.c.d` (also `0:0:0:0:0:ffff:`, any case) at `[start, end)`, with or without a `:port` after it:
/// the dotted quad's span.
fn ipv4_mapped(hay: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
    let text = &hay[start..end];
    let prefix = [&b"::ffff:"[..], b"0:0:0:0:0:ffff:"]
        .into_iter()
        .find(|p| text.len() > p.len() && text[..p.len()].eq_ignore_ascii_case(p))?;
    let quad = start + prefix.len();
    let mut i = quad;
    while i < end && (hay[i].is_ascii_digit() || hay[i] == b'.') {
        i += 1;
    }
    octets(&hay[quad..i]).map(|_| (quad, i))
}

/// The four octets of a dotted quad (no leading zeros, each at most 255).
fn octets(text: &[u8]) -> Option<[u32; 4]> {
    let mut o = [0u32; 4];
    let mut k = 0;
    for part in text.split(|&b| b == b'.') {
        if k >= 4 || part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        o[k] = num(part);
        if o[k] > 255 {
            return None;
        }
        k += 1;
    }
    (k == 4).then_some(o)
}

/// An IPv4 address at `[start, end)` (a DFA candidate of four 1-3 digit parts), not a version string.
pub fn ipv4_valid(ctx: &Context, start: usize, end: usize) -> bool {
    let Some(o) = octets(&ctx.hay[start..end]) else {
        return false;
    };
    // Not an address anyone has: unspecified, broadcast, loopback; nor a netmask (255.x.x.x is reserved).
    if o == [0, 0, 0, 0] || o[0] == 255 || o[0] == 127 {
        return false;
    }
    left_is_address(ctx, start) && right_is_address(ctx, end)
}

/// What stands before a dotted quad leaves it an address: not glued to a word or a product token, not after
/// a version word.
fn left_is_address(ctx: &Context, start: usize) -> bool {
    let mut c = ctx.cursor(start);
    let Some(prev) = c.prev() else {
        return true;
    };
    let glued_word = |c: &super::super::text::Cursor| {
        c.peek_back()
            .is_some_and(|b| b.is_ascii_alnum() || b.c == '_')
    };
    if prev.is_ascii_alnum() || matches!(prev.c, '.' | '_') {
        return false;
    }
    match prev.c {
        // Chrome/124.0.0.0, MicroMessenger/8.0.47.2560: a product token's version.
        '/' if glued_word(&c) => return false,
        // `v-1.2.3.4`, `build-10.0.0.1`: glued to a word.
        '-' if c.peek_back().is_some_and(|b| b.is_ascii_alnum()) => return false,
        // `Package_for_KB3121255~31bf3856ad364e35~amd64~~6.1.1.0`: a package's version field.
        '~' => {
            c.back_while(8, |ch| ch.c == '~');
            if c.peek_back().is_some_and(|b| b.is_ascii_alnum()) {
                return false;
            }
        }
        _ => {}
    }
    !version_word_before(ctx, start)
}

fn right_is_address(ctx: &Context, end: usize) -> bool {
    let mut c = ctx.cursor(end);
    match c.next() {
        Some(n) if n.is_ascii_alnum() || n.c == '_' => false,
        Some(n) if n.c == '.' => !c.peek().is_some_and(|d| d.c.is_ascii_digit()),
        _ => true,
    }
}

/// Apps, browsers and systems whose name before a dotted quad makes it their version (`WeChat 4.1.6.1`,
/// `Chrome 124.0.6367.118`); lower case.
const PRODUCTS: &[&[u8]] = &[
    b"wechat",
    b"weixin",
    b"wecom",
    b"wxwork",
    b"micromessenger",
    b"qq",
    b"dingtalk",
    b"feishu",
    b"lark",
    b"telegram",
    b"slack",
    b"discord",
    b"whatsapp",
    b"openclaw",
    b"clawdbot",
    b"chrome",
    b"chromium",
    b"firefox",
    b"safari",
    b"edge",
    b"opera",
    b"electron",
    b"android",
    b"ios",
    b"ipados",
    b"macos",
    b"windows",
];

/// Words after a product name that are still its name (`Telegram Desktop 5.2.3.1`).
const PRODUCT_SUFFIXES: &[&[u8]] = &[b"desktop", b"web", b"beta", b"lite", b"mac", b"for"];

/// The same names in Chinese (微信 4.1.6.1, 企业微信, 钉钉, 飞书), and 版本 / 版本号 (version).
const PRODUCTS_CJK: &[&str] = &["版本", "版本号", "微信", "钉钉", "飞书"];

/// Words after which a dotted quad is a version, not an address.
fn version_word_before(ctx: &Context, start: usize) -> bool {
    let mut c = ctx.cursor(start);
    // The separator between the word and the number: `version=`, `version: "`, `ver `, `Ver. `, `微信(`; a
    // Chinese name may also be glued to it (`企业微信4.1.22.60`).
    let skipped = c.back_while(4, |ch| {
        matches!(ch.c, ' ' | '=' | ':' | '"' | '\'' | '\t' | '(' | '.')
    });
    if c.peek_back().is_some_and(|p| !p.c.is_ascii()) {
        return PRODUCTS_CJK.iter().any(|w| c.clone().eat_back(w));
    }
    if skipped == 0 {
        return false;
    }
    // The word itself is plain ASCII letters.
    let (hay, word_end) = (ctx.hay, c.at);
    let mut i = word_end;
    while i > ctx.read_floor
        && word_end - i <= 32
        && (hay[i - 1].is_ascii_alphabetic() || hay[i - 1] == b'_')
    {
        i -= 1;
    }
    // The word must stand alone: `abc5V 1.2.3.4` is not `v 1.2.3.4`.
    let n = word_end - i;
    if n == 0
        || n > 32
        || ctx
            .cursor(i)
            .peek_back()
            .is_some_and(|b| b.is_ascii_alnum())
    {
        return false;
    }
    let mut buf = [0u8; 32];
    let word = &mut buf[..n];
    word.copy_from_slice(&hay[i..word_end]);
    word.make_ascii_lowercase();
    let word = &*word;
    if PRODUCTS.contains(&word) {
        return true;
    }
    if PRODUCT_SUFFIXES.contains(&word) && hay[..i].ends_with(b" ") {
        let (_, before) = crate::redact::text::word_before(hay, i - 1, ctx.read_floor, 32);
        if PRODUCTS.contains(&before.as_slice()) {
            return true;
        }
    }
    word.ends_with(b"version")
        || word == b"ver"
        || word.ends_with(b"_ver")
        || word == b"v"
        || word.ends_with(b"build")
        || word.ends_with(b"release")
        || word.ends_with(b"firmware")
        || word.ends_with(b"sdk")
}

/// The end of an IPv6 candidate that starts at `start`: hex groups, colons, a dotted IPv4 tail, a `%zone`.
fn ipv6_candidate_end(hay: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < hay.len()
        && i - start < 45
        && (hay[i].is_ascii_hexdigit() || hay[i] == b':' || hay[i] == b'.')
    {
        i += 1;
    }
    // A trailing dot is punctuation.
    while i > start && hay[i - 1] == b'.' {
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

/// An IPv6 address at `[start, end)` (a `%zone` included). Not `::`, `::1`, C++ `std::x`, times or MACs.
pub fn ipv6_valid(ctx: &Context, start: usize, end: usize) -> bool {
    let text = &ctx.hay[start..end];
    let addr = match memchr::memchr(b'%', text) {
        Some(p) => &text[..p],
        None => text,
    };
    let mut c = ctx.cursor(start);
    if let Some(prev) = c.prev() {
        if prev.is_ascii_alnum() || matches!(prev.c, '_' | ':' | '.' | '-') {
            return false;
        }
    }
    let mut c = ctx.cursor(end);
    if let Some(next) = c.next() {
        if next.is_ascii_alnum() || matches!(next.c, '_' | ':') {
            return false;
        }
    }
    // Without `::` an address has all eight groups (seven colons; six before an IPv4 tail).
    let colons = addr.iter().filter(|&&b| b == b':').count();
    let compressed = memchr::memmem::find(addr, b"::").is_some();
    let dotted = addr.contains(&b'.');
    if !compressed && colons != if dotted { 6 } else { 7 } {
        return false;
    }
    let Some(ip) = std::str::from_utf8(addr)
        .ok()
        .and_then(|s| s.parse::<std::net::Ipv6Addr>().ok())
    else {
        return false;
    };
    if ip.is_unspecified() || ip.is_loopback() {
        return false;
    }
    // At least two non-empty groups and four hex digits: `d::` in `std::`, `a::b` are not addresses.
    let groups = addr.split(|&b| b == b':').filter(|g| !g.is_empty()).count();
    let hex_digits = addr.iter().filter(|b| b.is_ascii_hexdigit()).count();
    groups >= 2 && hex_digits >= 4
}
