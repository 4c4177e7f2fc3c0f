//! Identities: the identifiers that tie a log line to a person on a chat platform, decided by the key in front
//! of them (in every container: `key=value`, `key: value`, JSON plain and escaped, Python reprs, XML plain and
//! CDATA), by their own shape (Feishu/Lark `ou_…`/`on_…`, Slack/Discord `<@…>` mentions), and the user name
//! in a home-directory path.
//!
//! The bot's own identifiers name no person and are kept: WeCom corp id (`ToUserName`, `corpid`), agent and
//! app ids, bot ids (DingTalk `chatbotUserId`, `robotCode`), chat and group ids (`chatId`, Feishu `oc_…`).
//! Only the keys listed here are read; every other key's value is left alone.

use std::sync::OnceLock;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{names_addresses, numbers, Context, Detector, Found, Settings};
use crate::redact::text::{self, Ch, Cursor, Form};

/// Longest identifier value, in characters: longer values are messages, not identifiers.
const MAX_VALUE_CHARS: usize = 64;
/// How far back (characters) the object holding an `id` key is looked for.
const MAX_OBJECT_LOOKBACK: usize = 400;

/// What a key says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    /// A person's platform identifier or nickname, whatever its shape.
    Person,
    /// A QQ number.
    Qq,
    /// `user`, `from`, `sender`, `author`, `username`: a person when the value is one word that is not a
    /// placeholder, a system account, a host or a path.
    Generic,
    /// `id`, `first_name`, `username`... : a person's only inside a `from`/`user`/`sender`/`author` object.
    InPersonObject,
    /// `real_name`, `receiver_name`, `contact`...: a Chinese name, when the whole value is one (a known
    /// surname and one or two characters).
    NameField,
    /// `address`, `shipping_address`...: a postal address, when the whole value is one (divisions, road,
    /// number).
    AddressField,
}

/// Keys whose value is a person's name (a Chinese one is taken, by its structure).
const NAME_FIELD_KEYS: &[&[u8]] = &[
    b"realname",
    b"fullname",
    b"receiver",
    b"receivername",
    b"consignee",
    b"consigneename",
    b"contact",
    b"contactname",
    b"contactperson",
    b"customername",
];

/// Keys whose value is a postal address (taken when it is one by its structure).
const ADDRESS_FIELD_KEYS: &[&[u8]] = &[
    b"address",
    b"addr",
    b"shippingaddress",
    b"deliveryaddress",
    b"homeaddress",
    b"detailaddress",
    b"fulladdress",
    b"receiveraddress",
    b"contactaddress",
];

/// Keys whose value is a person's identifier (normalized: lower case, letters and digits only).
const PERSON_KEYS: &[&[u8]] = &[
    b"userid",
    b"fromusername",
    b"fromuser",
    b"fromuserid",
    b"externaluserid",
    b"openid",
    b"unionid",
    b"senderstaffid",
    b"staffid",
    b"senderid",
    b"senderopenid",
    b"senderunionid",
    b"senderuserid",
    b"useropenid",
    b"memberopenid",
    b"authorid",
    b"touser",
    b"sendernick",
    b"sendername",
    b"nickname",
    b"nick",
    b"fromid",
    b"followuser",
];

/// Key endings that name a person's id (`sender_user_id`, `operator_open_id`)...
const PERSON_SUFFIXES: &[&[u8]] = &[b"userid", b"openid", b"unionid", b"staffid"];
/// ... unless the key names the bot, the app or a chat (`chatbotUserId`, `app_open_id`).
const NOT_PERSON_PREFIXES: &[&[u8]] = &[
    b"chatbot", b"bot", b"robot", b"app", b"corp", b"agent", b"chat", b"group", b"tenant", b"to",
];

const QQ_KEYS: &[&[u8]] = &[
    b"qq",
    b"qqnumber",
    b"qqno",
    b"qqid",
    b"uin",
    b"qquin",
    b"senderuin",
    b"fromuin",
];

const GENERIC_KEYS: &[&[u8]] = &[b"user", b"username", b"from", b"sender", b"author"];

const IN_OBJECT_KEYS: &[&[u8]] = &[
    b"id",
    b"firstname",
    b"lastname",
    b"globalname",
    b"displayname",
    b"name",
];

/// Objects (by their key or class name) that describe a person: Telegram `from`, `forward_from`,
/// `new_chat_member`; Discord `author`, `user`, `member`; Python reprs `User(...)`.
const PERSON_OBJECTS: &[&[u8]] = &[
    b"from",
    b"user",
    b"sender",
    b"author",
    b"member",
    b"forwardfrom",
    b"newchatmember",
    b"newchatmembers",
    b"leftchatmember",
    b"fromuser",
    b"mentions",
];

/// Values that are no one: placeholders, booleans, broadcast targets, system accounts.
const NOT_A_PERSON: &[&str] = &[
    "null",
    "none",
    "nil",
    "undefined",
    "n/a",
    "na",
    "unknown",
    "true",
    "false",
    "-",
    "--",
    "0",
    "(private)",
    "@all",
    "all",
    "system",
    "anonymous",
    "guest",
    "bot",
    "self",
    "me",
    "everyone",
    "here",
    "channel",
    "localhost",
    "default",
    "public",
    "shared",
    // Channels and sources (`from=wecom`, WeChat share links' `from=singlemessage`).
    "wecom",
    "wechat",
    "weixin",
    "feishu",
    "lark",
    "dingtalk",
    "telegram",
    "slack",
    "discord",
    "qq",
    "singlemessage",
    "groupmessage",
    "timeline",
    "web",
    "api",
    "app",
];

/// System and service accounts: no person (`user=root`, `user=sshd` in PAM lines, `/home/git/`).
const SYSTEM_ACCOUNTS: &[&str] = &[
    "root",
    "admin",
    "administrator",
    "nobody",
    "daemon",
    "www-data",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "backup",
    "list",
    "irc",
    "gnats",
    "operator",
    "ops",
    "devops",
    "deploy",
    "service",
    "halt",
    "shutdown",
    "ftp",
    "sshd",
    "mysql",
    "postgres",
    "oracle",
    "nginx",
    "apache",
    "httpd",
    "redis",
    "git",
    "test",
    "guest",
    "ubuntu",
    "debian",
    "centos",
    "ec2-user",
    "pi",
    "vagrant",
    "runner",
    "node",
    "docker",
    "jenkins",
    "hadoop",
    "hdfs",
    "yarn",
    "spark",
    "zookeeper",
    "kafka",
    "elasticsearch",
    "systemd-network",
    "messagebus",
    "syslog",
    "polkitd",
    "_apt",
    "openclaw",
    "clawdbot",
    "moltbot",
    "logveil",
];

/// The system accounts (lower case), as a set: a list compared one by one costs more than the rest of a
/// decision.
fn system_accounts() -> &'static FxHashSet<&'static [u8]> {
    static SET: OnceLock<FxHashSet<&'static [u8]>> = OnceLock::new();
    SET.get_or_init(|| SYSTEM_ACCOUNTS.iter().map(|w| w.as_bytes()).collect())
}

/// The longest word of [`NOT_A_PERSON`] and [`SYSTEM_ACCOUNTS`], in bytes.
const NO_ONE_MAX_LEN: usize = 24;

/// The values that are no one (lower case): placeholders and system accounts.
fn no_one() -> &'static FxHashSet<&'static [u8]> {
    static SET: OnceLock<FxHashSet<&'static [u8]>> = OnceLock::new();
    SET.get_or_init(|| {
        NOT_A_PERSON
            .iter()
            .chain(SYSTEM_ACCOUNTS)
            .map(|w| w.as_bytes())
            .collect()
    })
}

fn is_system_account(name: &str) -> bool {
    holds_lower_case(system_accounts(), name)
}

/// Does `set` (of lower-case words, none longer than [`NO_ONE_MAX_LEN`] bytes) hold `s` in ASCII lower case?
/// Lower-cased on the stack: this runs once per candidate.
fn holds_lower_case(set: &FxHashSet<&[u8]>, s: &str) -> bool {
    let mut lower = [0u8; NO_ONE_MAX_LEN];
    s.len() <= NO_ONE_MAX_LEN && {
        let lower = &mut lower[..s.len()];
        lower.copy_from_slice(s.as_bytes());
        lower.make_ascii_lowercase();
        set.contains(&*lower)
    }
}

/// Every listed key and what it says, in the order of precedence of [`classify`] (a key in two lists is
/// what the earlier one says): one lookup instead of a comparison per listed key.
fn listed_keys() -> &'static FxHashMap<&'static [u8], KeyKind> {
    static MAP: OnceLock<FxHashMap<&'static [u8], KeyKind>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = FxHashMap::default();
        for (list, kind) in [
            (QQ_KEYS, KeyKind::Qq),
            (PERSON_KEYS, KeyKind::Person),
            (GENERIC_KEYS, KeyKind::Generic),
            (IN_OBJECT_KEYS, KeyKind::InPersonObject),
            (NAME_FIELD_KEYS, KeyKind::NameField),
            (ADDRESS_FIELD_KEYS, KeyKind::AddressField),
        ] {
            for &key in list {
                map.entry(key).or_insert(kind);
            }
        }
        map
    })
}

fn classify(norm: &[u8]) -> Option<KeyKind> {
    let listed = listed_keys().get(norm).copied();
    if matches!(listed, Some(KeyKind::Qq | KeyKind::Person)) {
        return listed;
    }
    if PERSON_SUFFIXES.iter().any(|s| norm.ends_with(s))
        && !NOT_PERSON_PREFIXES.iter().any(|p| norm.starts_with(p))
    {
        return Some(KeyKind::Person);
    }
    listed
}

/// Longest key read back, in characters.
const MAX_KEY_CHARS: usize = 40;

/// A key read backwards: its normalized name (lower case, letters and digits only) and where it starts.
struct KeyAt {
    buf: [u8; MAX_KEY_CHARS],
    len: usize,
    start: usize,
}

impl KeyAt {
    /// The key written `bytes` (starting at `start`), normalized: its ASCII letters and digits, lower case (at
    /// most [`MAX_KEY_CHARS`]).
    fn normalized(bytes: &[u8], start: usize) -> KeyAt {
        let mut buf = [0u8; MAX_KEY_CHARS];
        let mut len = 0;
        for &b in bytes
            .iter()
            .filter(|b| b.is_ascii_alphanumeric())
            .take(MAX_KEY_CHARS)
        {
            buf[len] = b.to_ascii_lowercase();
            len += 1;
        }
        KeyAt { buf, len, start }
    }

    fn norm(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The key that ends at `c` (moving `c` to its start): ASCII letters, digits, `_`, `-`, `.` (at most
/// [`MAX_KEY_CHARS`]). `msg.from` is `from`: the last dotted part is the key.
fn read_key_back(ctx: &Context, c: &mut Cursor) -> Option<KeyAt> {
    plain_key_back(ctx, c).unwrap_or_else(|| decoded_key_back(c))
}

/// [`read_key_back`] on raw bytes, when they are plain text: a run of key bytes stopped by a delimiter that
/// ends no encoded character or colour code (an escape's introducer, `\`, `%`, `;` of an entity, `[` of a
/// colour code, is never one), so that every byte of the run is a character of its own. None (the cursor
/// unmoved) otherwise: the key is then read through the decoding layer.
fn plain_key_back(ctx: &Context, c: &mut Cursor) -> Option<Option<KeyAt>> {
    let (hay, end) = (ctx.hay, c.at);
    let key_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let lowest = ctx.read_floor.max(end.saturating_sub(MAX_KEY_CHARS));
    let mut s = end;
    // Where the last dotted part starts (`msg.from` is `from`).
    let mut last_part = None;
    while s > lowest && key_byte(hay[s - 1]) {
        s -= 1;
        if hay[s] == b'.' && last_part.is_none() {
            last_part = Some(s + 1);
        }
    }
    let plain_stop = s > ctx.read_floor
        && end - s < MAX_KEY_CHARS
        && matches!(
            hay[s - 1],
            b'"' | b'\''
                | b' '
                | b'\t'
                | b'{'
                | b','
                | b'&'
                | b'?'
                | b'<'
                | b'/'
                | b':'
                | b'='
                | b'\n'
                | b'>'
                | b'|'
                | b'('
        );
    if !plain_stop {
        return None;
    }
    c.at = s;
    let key = KeyAt::normalized(&hay[last_part.unwrap_or(s)..end], s);
    Some((key.len > 0).then_some(key))
}

/// [`read_key_back`] through the decoding layer.
fn decoded_key_back(c: &mut Cursor) -> Option<KeyAt> {
    // Read backwards, so the normalized name fills the buffer from its end.
    let mut rev = [0u8; MAX_KEY_CHARS];
    let mut n = 0;
    let mut dotted = false;
    c.back_while(MAX_KEY_CHARS, |ch| {
        let ok = ch.c.is_ascii_alphanumeric() || matches!(ch.c, '_' | '-' | '.');
        if ok && !dotted {
            if ch.c == '.' {
                dotted = true;
            } else if ch.c.is_ascii_alphanumeric() {
                rev[n] = (ch.c as u8).to_ascii_lowercase();
                n += 1;
            }
        }
        ok
    });
    let mut buf = [0u8; MAX_KEY_CHARS];
    for (i, b) in rev[..n].iter().rev().enumerate() {
        buf[i] = *b;
    }
    (n > 0).then_some(KeyAt {
        buf,
        len: n,
        start: c.at,
    })
}

/// The key before a separator `:` or `=` ending at `end`, and its quotes and blanks, read on raw bytes when
/// they are plain text: Some(key) (None: no key), or None when the text layer must read them (an XML tag's
/// `>`, a full-width colon, an escaped quote, a key [`plain_key_back`] cannot read). A key read here is
/// never inside logveil's own `[type:…]` pseudonym: the byte before it is one of [`plain_key_back`]'s
/// delimiters, and none of them is, or ends an encoding of, `[`.
fn plain_key_before_sep(ctx: &Context, end: usize) -> Option<Option<KeyAt>> {
    let hay = ctx.hay;
    if end <= ctx.read_floor || !matches!(hay[end - 1], b':' | b'=') {
        return None;
    }
    let at = plain_quotes_back(ctx, end - 1)?;
    plain_key_back(ctx, &mut ctx.cursor(at))
}

/// [`skip_quotes_back`] from `at` on raw bytes: where it stops, or None when a quote is escaped (a
/// backslash before it: the text layer reads it). Bytes other than ASCII quotes and blanks stop it.
fn plain_quotes_back(ctx: &Context, mut at: usize) -> Option<usize> {
    let hay = ctx.hay;
    for _ in 0..4 {
        if at <= ctx.read_floor {
            break;
        }
        match hay[at - 1] {
            b' ' | b'\t' => at -= 1,
            b'"' | b'\'' | b'`' => {
                if at - 1 > ctx.read_floor && hay[at - 2] == b'\\' {
                    return None;
                }
                at -= 1;
            }
            _ => break,
        }
    }
    Some(at)
}

/// The character before `at` when its byte is one no encoding, escape or colour code ends with (ASCII
/// punctuation other than quotes, `/`, `;`, `\`, and not a final byte of a colour code): Some(None) at the
/// floor, None when the text layer must decode it.
fn plain_char_before(ctx: &Context, at: usize) -> Option<Option<u8>> {
    if at <= ctx.read_floor {
        return Some(None);
    }
    let b = ctx.hay[at - 1];
    let safe = b.is_ascii_punctuation()
        && !(0x40..=0x7E).contains(&b)
        && !matches!(b, b'"' | b'\'' | b'/' | b';');
    safe.then_some(Some(b))
}

/// The key before a separator ending at `end` (`:`, `=`, a full-width colon, or `>` of an XML start tag), read
/// through the text layer, and whether it is an XML tag's.
fn decoded_key_before_sep(ctx: &Context, end: usize) -> Option<(KeyAt, bool)> {
    let mut c = ctx.cursor(end);
    let sep = c.prev()?;
    let xml = sep.c == '>';
    if !xml {
        skip_quotes_back(&mut c);
    }
    let key = read_key_back(ctx, &mut c)?;
    if xml && c.peek_back().is_none_or(|ch| ch.c != '<') {
        return None;
    }
    // `[user_id:3f9a1c2b]` is logveil's own pseudonym: redacted text passes again unchanged.
    if !xml && c.peek_back().is_some_and(|ch| ch.c == '[') {
        return None;
    }
    Some((key, xml))
}

/// Moves back over quotes (at any escape level) and blanks.
fn skip_quotes_back(c: &mut Cursor) {
    c.back_while(4, |ch| matches!(ch.c, '"' | '\'' | '`') || ch.is_blank());
}

/// Decides on a key candidate `[start, end)` (the end of a key and its separator, or `>` of an XML start
/// tag); returns where the search resumes.
pub fn detect_key(
    ctx: &Context,
    start: usize,
    end: usize,
    settings: &Settings,
    out: &mut Vec<Found>,
) -> usize {
    match key_value(ctx, start, end, settings) {
        Some(f) => {
            out.push(f);
            f.end
        }
        None => end,
    }
}

fn key_value(ctx: &Context, start: usize, end: usize, settings: &Settings) -> Option<Found> {
    let (key, xml) = match plain_key_before_sep(ctx, end) {
        Some(key) => (key?, false),
        None => decoded_key_before_sep(ctx, end)?,
    };
    // The DFA saw the key's end: the key read back must reach into the candidate.
    if key.start > start {
        return None;
    }
    let mut kind = classify(key.norm());
    let before = || {
        let mut before = ctx.cursor(key.start);
        skip_quotes_back(&mut before);
        before
    };
    let in_query = || {
        plain_quotes_back(ctx, key.start)
            .and_then(|at| plain_char_before(ctx, at))
            .map_or_else(
                || before().peek_back().map(|ch| ch.c),
                |b| b.map(char::from),
            )
            .is_some_and(|c| matches!(c, '&' | '?'))
    };
    if kind == Some(KeyKind::Generic) && key.norm() == b"from" && in_query() {
        // A URL's `from=` names where a link came from, not who.
        return None;
    }
    if kind.is_none() && key.norm() == b"chat" && names_a_direct_chat(before()) {
        // WeCom: `Processing direct message from chat: ID user: ID`: a direct chat's id is the user's.
        kind = Some(KeyKind::Person);
    }
    let kind = kind?;
    if matches!(kind, KeyKind::NameField | KeyKind::AddressField) {
        return field_value(ctx, end, xml, kind);
    }
    if kind == KeyKind::InPersonObject && !in_person_object(ctx, key.start) {
        // `"name":"张伟"` outside a person object: a Chinese name by its structure.
        return if key.norm() == b"name" {
            field_value(ctx, end, xml, KeyKind::NameField)
        } else {
            None
        };
    }
    let (vs, mut ve, quoted) = value_after(ctx, end, xml)?;
    if kind == KeyKind::Generic && !quoted {
        // A display name before an address (`From: Zhang Wei <zw@example.com>`): all of it.
        if let Some(name_end) = display_name_end(ctx.hay, ve) {
            ve = name_end;
            return (vs >= ctx.emit_floor).then(|| Found::new(Detector::UserId, vs, ve));
        }
    }
    let value = Value::read(ctx.hay, vs, ve);
    if !value_fits(kind, value.as_str(), quoted) || taken_by_another(ctx, vs, ve, &value, settings)
    {
        return None;
    }
    let det = if kind == KeyKind::Qq {
        Detector::Qq
    } else {
        Detector::UserId
    };
    (vs >= ctx.emit_floor).then(|| Found::new(det, vs, ve))
}

/// The value after a name or address field's separator ending at `at`, when the whole value is a Chinese
/// name or a postal address (`names_addresses` decides, as after a Chinese cue word).
fn field_value(ctx: &Context, at: usize, xml: bool, kind: KeyKind) -> Option<Found> {
    let (vs, ve, _) = value_after(ctx, at, xml)?;
    let (det, end) = if kind == KeyKind::NameField {
        (Detector::PersonName, names_addresses::name(ctx.hay, vs)?)
    } else {
        (Detector::Address, names_addresses::address(ctx.hay, vs)?)
    };
    (end == ve && vs >= ctx.emit_floor).then(|| Found::new(det, vs, ve))
}

/// Up to [`MAX_VALUE_CHARS`] characters, on the stack: a value is read once per candidate, and most
/// candidates are values (no heap allocation for them).
struct StackStr {
    buf: [u8; MAX_VALUE_CHARS * 4],
    len: usize,
}

impl StackStr {
    fn new() -> Self {
        StackStr {
            buf: [0; MAX_VALUE_CHARS * 4],
            len: 0,
        }
    }

    fn push(&mut self, c: char) {
        let n = c.len_utf8();
        if self.len + n <= self.buf.len() {
            c.encode_utf8(&mut self.buf[self.len..self.len + n]);
            self.len += n;
        }
    }

    fn as_str(&self) -> &str {
        // Whole characters only are pushed.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// A value as read (decoded): its text, how many digits it has and whether it holds an `@`.
struct Value<'a> {
    text: ValueText<'a>,
    digits: usize,
    at_sign: bool,
}

/// A value's characters: its raw bytes when they are plain ASCII (no byte starts an escape, an entity or a
/// colour code: each is a character of its own), else decoded. (Lives on the stack, once per candidate: the
/// large variant avoids a heap allocation.)
#[allow(clippy::large_enum_variant)]
enum ValueText<'a> {
    Raw(&'a str),
    Decoded(StackStr),
}

impl<'a> Value<'a> {
    fn read(hay: &'a [u8], vs: usize, ve: usize) -> Value<'a> {
        let raw = &hay[vs..ve];
        if raw
            .iter()
            .all(|&b| b < 0x80 && !matches!(b, 0x1B | b'\\' | b'%' | b'&'))
        {
            if let Ok(text) = std::str::from_utf8(raw) {
                return Value {
                    text: ValueText::Raw(text),
                    digits: raw.iter().filter(|b| b.is_ascii_digit()).count(),
                    at_sign: raw.contains(&b'@'),
                };
            }
        }
        let mut text = StackStr::new();
        let (mut digits, mut at_sign) = (0, false);
        for ch in Cursor::new(hay, vs, vs).take_while(|ch| ch.start < ve) {
            text.push(ch.c);
            digits += usize::from(ch.digit().is_some());
            at_sign |= ch.c == '@';
        }
        Value {
            text: ValueText::Decoded(text),
            digits,
            at_sign,
        }
    }

    fn as_str(&self) -> &str {
        match &self.text {
            ValueText::Raw(s) => s,
            ValueText::Decoded(s) => s.as_str(),
        }
    }
}

/// A user id that is a mobile number, resident ID, bank card or e-mail address is left to that detector (which
/// runs on the value next): it is labelled what it is.
fn taken_by_another(
    ctx: &Context,
    vs: usize,
    ve: usize,
    value: &Value,
    settings: &Settings,
) -> bool {
    if value.at_sign {
        return settings.on(Detector::Email);
    }
    if value.digits < 11 {
        return false;
    }
    [Detector::Phone, Detector::IdCard, Detector::BankCard]
        .into_iter()
        .any(|d| settings.on(d) && numbers::validate_span(ctx, vs, ve, d, settings).is_some())
}

/// Does the text before `c` say a direct (one-to-one) chat's message is from the chat that follows?
fn names_a_direct_chat(mut c: Cursor) -> bool {
    c.back_while(2, |ch| ch.is_blank());
    if !c.eat_back("message from") {
        return false;
    }
    c.back_while(2, |ch| ch.is_blank());
    ["direct", "single", "p2p", "private"].iter().any(|w| {
        let mut d = c;
        d.eat_back(w)
    })
}

/// Where a display name that continues past `from` (more words) ends, when an address in `<...>` follows
/// it on the same line: at the last word before `<`.
fn display_name_end(hay: &[u8], from: usize) -> Option<usize> {
    let mut c = Cursor::new(hay, from, from);
    let mut last = from;
    let mut words = 0;
    loop {
        let blanks = c.forward_while(2, |ch| ch.is_blank());
        let ch = c.peek()?;
        if ch.c == '<' {
            return (blanks > 0 && words < 4).then_some(last);
        }
        if blanks == 0 && words > 0 {
            return None;
        }
        let n = c.forward_while(MAX_VALUE_CHARS, |ch| {
            ch.is_alnum() || matches!(ch.c, '.' | '-' | '\'')
        });
        if n == 0 {
            return None;
        }
        words += 1;
        last = c.at;
    }
}

/// Is the key starting at `key_start` inside an object that describes a person (`"from":{"id":...`,
/// `'user': {'id': ...`, `User(id=...`)?
fn in_person_object(ctx: &Context, key_start: usize) -> bool {
    let opener = match plain_opener_back(ctx, key_start) {
        Some(at) => at.map(|at| (at, char::from(ctx.hay[at]))),
        None => decoded_opener_back(ctx, key_start),
    };
    let Some((at, opener)) = opener else {
        return false;
    };
    let key = if opener == '(' {
        // A Python repr: the class name before the parenthesis.
        read_key_back(ctx, &mut ctx.cursor(at))
    } else {
        plain_object_key(ctx, at).unwrap_or_else(|| decoded_object_key(ctx, at))
    };
    key.is_some_and(|k| PERSON_OBJECTS.contains(&k.norm()))
}

/// Where the unclosed `{` or `(` before `key_start` is, and which (the same line, at most
/// [`MAX_OBJECT_LOOKBACK`] characters back), read through the text layer.
fn decoded_opener_back(ctx: &Context, key_start: usize) -> Option<(usize, char)> {
    let mut c = ctx.cursor(key_start);
    let mut depth = 0usize;
    let mut seen = 0;
    loop {
        let ch = c.prev()?;
        seen += 1;
        if seen > MAX_OBJECT_LOOKBACK || ch.is_newline() {
            return None;
        }
        match ch.c {
            '}' | ')' => depth += 1,
            // An encoded brace (`\u007b`) is a brace to a reader; the key before it is read from its start.
            '{' | '(' if depth == 0 => return Some((ch.start, ch.c)),
            '{' | '(' => depth -= 1,
            _ => {}
        }
    }
}

/// The key of the object that opens at `at`, read through the text layer (an object in an array too:
/// `"mentions":[{"id":...`).
fn decoded_object_key(ctx: &Context, at: usize) -> Option<KeyAt> {
    let mut c = ctx.cursor(at);
    c.back_while(2, |ch| ch.c == '[' || ch.is_blank());
    match c.prev() {
        Some(ch) if matches!(ch.c, ':' | '=') => {}
        _ => return None,
    }
    skip_quotes_back(&mut c);
    read_key_back(ctx, &mut c)
}

/// The key of the object or array item that opens at `at` (`"from":{`, `"mentions": [{`), read on raw bytes
/// when they are plain: Some(key) (None: no key), or None when the text layer must read it.
fn plain_object_key(ctx: &Context, opener: usize) -> Option<Option<KeyAt>> {
    let hay = ctx.hay;
    let mut at = opener;
    for _ in 0..2 {
        if at > ctx.read_floor && matches!(hay[at - 1], b'[' | b' ' | b'\t') {
            // `[` may end a colour code (`ESC[`): the text layer reads one.
            if hay[at - 1] == b'[' && at - 1 > ctx.read_floor && !is_plain(hay[at - 2]) {
                return None;
            }
            at -= 1;
        }
    }
    // A letter, digit, quote or `;` may end an encoded `:` or `=` (`%3A`, `\u003d`): the text layer reads it.
    match plain_char_before(ctx, at)? {
        Some(b':' | b'=') => plain_key_before_sep(ctx, at),
        _ => Some(None),
    }
}

/// [`in_person_object`]'s walk back to the unclosed `{` or `(` on raw bytes, while every byte is plain: where
/// the opener is (Some(None): none within reach), or None when a byte that may belong to an encoded character
/// or a colour code is met (the text layer walks then). Plain bytes are one character each, so the count of
/// characters read is the count of bytes.
fn plain_opener_back(ctx: &Context, key_start: usize) -> Option<Option<usize>> {
    let hay = ctx.hay;
    let lowest = ctx
        .read_floor
        .max(key_start.saturating_sub(MAX_OBJECT_LOOKBACK));
    let mut at = key_start;
    let mut depth = 0usize;
    loop {
        // Most bytes are none of the ones that matter here.
        while at > lowest && !matches!(hay[at - 1], b'{' | b'}' | b'(' | b')' | b'\n' | b'\r') {
            if !is_plain(hay[at - 1]) {
                return None;
            }
            at -= 1;
        }
        if at <= ctx.read_floor {
            return Some(None);
        }
        let b = hay[at - 1];
        at -= 1;
        if key_start - at > MAX_OBJECT_LOOKBACK {
            // The last bytes read may end an encoded character that starts further back (one character for
            // the text layer): the answer holds only when no introducer is within reach of them.
            let reach = at.saturating_sub(text::MAX_ENCODED).max(ctx.read_floor);
            return hay[reach..=at].iter().all(|&b| is_plain(b)).then_some(None);
        }
        match b {
            b'\n' | b'\r' => return Some(None),
            b'}' | b')' => depth += 1,
            b'{' | b'(' if depth == 0 => {
                // The opener is itself, unless `{` is the final byte of a colour code (`ESC[1{`: after
                // parameters, or after `[` that follows ESC or an escape's last letter or digit). No
                // encoding ends in a brace or a parenthesis.
                let before = |i: usize| (i > ctx.read_floor).then(|| hay[i - 1]);
                let colour_code = b == b'{'
                    && match before(at) {
                        Some(b'0'..=b'9' | b';' | b':') => true,
                        Some(b'[') => {
                            before(at - 1).is_some_and(|p| p == 0x1B || p.is_ascii_alphanumeric())
                        }
                        _ => false,
                    };
                if colour_code {
                    let ch = text::char_before(hay, at + 1, ctx.read_floor)?;
                    return (ch.start == at && ch.form == Form::Raw).then_some(Some(at));
                }
                return Some(Some(at));
            }
            b'{' | b'(' => depth -= 1,
            _ => {}
        }
    }
}

/// The value after a separator ending at `at`: `(start, end, quoted)`. None when there is none, or it is an
/// object or array (its keys decide), or it runs on too long to be an identifier.
fn value_after(ctx: &Context, at: usize, xml: bool) -> Option<(usize, usize, bool)> {
    if !xml {
        if let Some(answer) = plain_value_after(ctx.hay, at) {
            return answer;
        }
    }
    decoded_value_after(ctx, at, xml)
}

/// [`value_after`] through the text layer.
fn decoded_value_after(ctx: &Context, at: usize, xml: bool) -> Option<(usize, usize, bool)> {
    let mut c = Cursor::new(ctx.hay, at, at);
    // A colour code before the value (`from=\x1b[33mzhangwei\x1b[0m`) is passed over; one after it ends it.
    c.forward_while(3, |ch| ch.is_blank() || ch.is_ansi());
    if xml {
        let cdata = c.eat("<![CDATA[");
        let vs = c.at;
        let n = c.forward_while(MAX_VALUE_CHARS + 1, |ch| {
            !matches!(ch.c, '<' | ']') && !ch.is_newline()
        });
        if n > MAX_VALUE_CHARS || n == 0 {
            return None;
        }
        let ve = c.at;
        let closed = if cdata {
            c.eat("]]>")
        } else {
            c.peek().is_some_and(|ch| ch.c == '<')
        };
        return closed.then_some((vs, ve, true));
    }
    let first = c.peek()?;
    if matches!(first.c, '"' | '\'') {
        let q = first.c;
        c.next();
        let vs = c.at;
        let n = c.forward_while(MAX_VALUE_CHARS + 1, |ch| ch.c != q && !ch.is_newline());
        if n > MAX_VALUE_CHARS || n == 0 || c.peek().is_none_or(|ch| ch.c != q) {
            return None;
        }
        return Some((vs, c.at, true));
    }
    if matches!(first.c, '{' | '[' | '<' | '(') {
        return None;
    }
    let vs = c.at;
    let n = c.forward_while(MAX_VALUE_CHARS + 1, |ch| !unquoted_stop(ch));
    // `from_user=User(...)`: a constructor, whose keys decide.
    if n > MAX_VALUE_CHARS || n == 0 || c.peek().is_some_and(|ch| ch.c == '(') {
        return None;
    }
    Some((vs, c.at, false))
}

/// A byte that is a character of its own: ASCII that starts no escape, URL encoding, entity or colour code.
fn is_plain(b: u8) -> bool {
    b < 0x80 && !matches!(b, 0x1B | b'\\' | b'%' | b'&')
}

/// [`value_after`] (not in XML) on raw bytes, while every byte read is a character of its own: the answer,
/// or None as soon as a byte that may start an encoded or non-ASCII character is met (then the text layer
/// reads the value). Most values are plain: this reads them without decoding each character.
fn plain_value_after(hay: &[u8], at: usize) -> Option<Option<(usize, usize, bool)>> {
    // The byte at `i`: None (give up) unless it is plain; Some(None) at the end of the text.
    let read = |i: usize| match hay.get(i) {
        None => Some(None),
        Some(&b) if is_plain(b) => Some(Some(b)),
        Some(_) => None,
    };
    let mut i = at;
    while i < at + 3 && read(i)?.is_some_and(|b| matches!(b, b' ' | b'\t')) {
        i += 1;
    }
    let Some(first) = read(i)? else {
        return Some(None);
    };
    if matches!(first, b'"' | b'\'') {
        let vs = i + 1;
        let mut j = vs;
        while j - vs <= MAX_VALUE_CHARS
            && read(j)?.is_some_and(|b| b != first && !matches!(b, b'\n' | b'\r'))
        {
            j += 1;
        }
        let n = j - vs;
        let closed = read(j)? == Some(first);
        return Some((n <= MAX_VALUE_CHARS && n > 0 && closed).then_some((vs, j, true)));
    }
    if matches!(first, b'{' | b'[' | b'<' | b'(') {
        return Some(None);
    }
    let vs = i;
    let mut j = vs;
    while j - vs <= MAX_VALUE_CHARS && read(j)?.is_some_and(|b| !plain_unquoted_stop(b)) {
        j += 1;
    }
    let n = j - vs;
    if n > MAX_VALUE_CHARS || n == 0 {
        return Some(None);
    }
    Some((read(j)? != Some(b'(')).then_some((vs, j, false)))
}

/// [`unquoted_stop`] for a plain byte (a test checks that the two agree on every one).
fn plain_unquoted_stop(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\n'
            | b'\r'
            | b','
            | b';'
            | b'&'
            | b')'
            | b']'
            | b'}'
            | b'<'
            | b'>'
            | b'"'
            | b'\''
            | b'|'
            | b':'
            | b'('
            | b'['
    )
}

/// How an unquoted value ends.
fn unquoted_stop(ch: &Ch) -> bool {
    ch.is_blank()
        || ch.is_newline()
        || ch.is_ansi()
        || ch.form == Form::Invalid
        || text::is_cjk_punct(ch.c)
        || matches!(
            ch.c,
            ',' | ';' | '&' | ')' | ']' | '}' | '<' | '>' | '"' | '\'' | '|' | ':' | '(' | '['
        )
}

/// Is `s` (a value, decoded) an identifier of a person, for a key of `kind`?
fn value_fits(kind: KeyKind, s: &str, quoted: bool) -> bool {
    if holds_lower_case(no_one(), s)
        || s.bytes().all(|b| matches!(b, b'*' | b'x' | b'X'))
        || s.starts_with("${")
        || s.starts_with("{{")
        || s.starts_with('%')
        || s.starts_with('[')
    {
        return false;
    }
    match kind {
        KeyKind::Qq => {
            let n = s.len();
            s.bytes().all(|b| b.is_ascii_digit()) && (5..=11).contains(&n) && !s.starts_with('0')
        }
        KeyKind::Person => !quoted || !s.trim().is_empty(),
        KeyKind::Generic | KeyKind::InPersonObject => {
            let body = s.strip_prefix('@').unwrap_or(s);
            !body.is_empty()
                && (kind == KeyKind::InPersonObject || !body.chars().any(char::is_whitespace))
                && !body.bytes().any(|b| matches!(b, b'/' | b'\\' | b'@' | b'='))
                // `from=mail.example.com` is a host; `from=chen.jie` a person.
                && !looks_like_a_host(body)
        }
        // Decided by `field_value`, never here.
        KeyKind::NameField | KeyKind::AddressField => false,
    }
}

/// Top-level domains and local suffixes that end host names.
const HOST_SUFFIXES: &[&str] = &[
    "com",
    "net",
    "org",
    "cn",
    "io",
    "local",
    "lan",
    "internal",
    "dev",
    "app",
    "ai",
    "cloud",
    "edu",
    "gov",
    "info",
    "biz",
    "me",
    "co",
    "us",
    "uk",
    "de",
    "jp",
    "hk",
    "tw",
    "top",
    "xyz",
    "site",
    "online",
    "localdomain",
    "svc",
    "cluster",
];

/// A host name or dotted number: its last label is a domain suffix or digits.
fn looks_like_a_host(v: &str) -> bool {
    match v.bytes().rposition(|b| b == b'.') {
        None => false,
        Some(dot) => {
            let last = &v.as_bytes()[dot + 1..];
            last.iter().all(u8::is_ascii_digit)
                || HOST_SUFFIXES
                    .iter()
                    .any(|h| h.as_bytes().eq_ignore_ascii_case(last))
        }
    }
}

/// Decides on a Feishu/Lark user id at `start` (`ou_` or `on_` and 32 hex digits): not inside a longer word (a
/// hex digest that happens to hold `ou_`).
pub fn detect_lark(ctx: &Context, start: usize, out: &mut Vec<Found>) -> usize {
    let hay = ctx.hay;
    let body = start + 3;
    let hex = hay[body.min(hay.len())..]
        .iter()
        .take(33)
        .take_while(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        .count();
    if hex != 32 {
        return start + 1;
    }
    let end = body + 32;
    let glued_left = ctx
        .cursor(start)
        .peek_back()
        .is_some_and(|p| p.is_ascii_alnum());
    let glued_right = Cursor::new(ctx.hay, end, end)
        .peek()
        .is_some_and(|n| n.is_ascii_alnum() || n.c == '_');
    if glued_left || glued_right || start < ctx.emit_floor {
        return start + 1;
    }
    out.push(Found::new(Detector::UserId, start, end));
    end
}

/// Decides on a mention `<@…` at `start`: Slack `<@U024BE7LH>` / `<@U024BE7LH|name>`, Discord
/// `<@80351110224678912>` / `<@!80351110224678912>`. The id is replaced, the brackets stay.
pub fn detect_mention(ctx: &Context, start: usize, out: &mut Vec<Found>) -> usize {
    let hay = ctx.hay;
    let mut vs = start + 2;
    if hay.get(vs) == Some(&b'!') {
        vs += 1;
    }
    let mut ve = vs;
    while ve < hay.len() && ve - vs <= 24 && hay[ve].is_ascii_alphanumeric() {
        ve += 1;
    }
    let id = &hay[vs..ve];
    let slack = matches!(id.first(), Some(b'U' | b'W'))
        && (9..=12).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let discord = (17..=20).contains(&id.len()) && id.iter().all(u8::is_ascii_digit);
    let closed = matches!(hay.get(ve), Some(b'>' | b'|'));
    if !(closed && (slack || discord)) {
        return start + 1;
    }
    out.push(Found::new(Detector::UserId, vs, ve));
    ve
}

/// Decides on a console phrase ending at `end` that names a sender (`message from `, `DM from `): the one word
/// after it is a person's id when what follows it says so: ` in ` (`received message from NAME in CHAT`) or
/// `:` (`DM from NAME: text`, `message from @NAME: hi`), and the word could be a user id (not a placeholder, a
/// system account, a host or a path). Feishu `ou_` ids are found by their shape wherever they stand.
pub fn detect_sender_phrase(ctx: &Context, end: usize, out: &mut Vec<Found>) -> usize {
    let mut c = Cursor::new(ctx.hay, end, end);
    let vs = c.at;
    let n = c.forward_while(MAX_VALUE_CHARS + 1, |ch| {
        !(ch.is_blank()
            || ch.is_newline()
            || ch.is_ansi()
            || ch.form == Form::Invalid
            || matches!(
                ch.c,
                ':' | ',' | ';' | '"' | '\'' | '(' | ')' | '<' | '>' | '[' | ']'
            ))
    });
    let ve = c.at;
    if n == 0 || n > MAX_VALUE_CHARS {
        return end;
    }
    let said = c.peek().is_some_and(|ch| ch.c == ':') || {
        let mut after = c;
        after.forward_while(1, |ch| ch.c == ' ') == 1 && after.eat("in ")
    };
    if !said || vs < ctx.emit_floor {
        return end;
    }
    let value = Value::read(ctx.hay, vs, ve);
    let word = value.as_str();
    let key = KeyAt::normalized(word.as_bytes(), vs);
    let norm = key.norm();
    // `message from chat: ID user: ID` names a key, whose value the key rules read; `message from server in
    // 3 ms` names a part of the system.
    if classify(norm).is_some()
        || NOT_A_SENDER.contains(&norm)
        || !value_fits(KeyKind::Generic, word, false)
    {
        return end;
    }
    out.push(Found::new(Detector::UserId, vs, ve));
    ve
}

/// Words after `message from` that name a part of a system, not a person.
const NOT_A_SENDER: &[&[u8]] = &[
    b"chat",
    b"group",
    b"room",
    b"channel",
    b"thread",
    b"server",
    b"client",
    b"queue",
    b"broker",
    b"upstream",
    b"downstream",
    b"backend",
    b"frontend",
    b"gateway",
    b"worker",
    b"peer",
    b"host",
    b"node",
    b"agent",
    b"plugin",
    b"webhook",
    b"callback",
    b"socket",
    b"websocket",
];

/// Home-directory roots whose "user" is no person besides system accounts: shared folders, placeholders.
const NOT_A_HOME_USER: &[&str] = &[
    "public",
    "default",
    "default user",
    "all users",
    "defaultapppool",
    "shared",
    "linuxbrew",
    "user",
    "username",
    "user-name",
    "me",
    "you",
    "your-user",
    "yourname",
];

/// Decides on a home root `[start, end)` (`/home/`, `/Users/`, `C:\Users\`, `C:\\Users\\`): the user name
/// after it, when the root starts a path (not `/api/Users/42`).
pub fn detect_home(ctx: &Context, start: usize, end: usize, out: &mut Vec<Found>) -> usize {
    let hay = ctx.hay;
    if hay[start] == b'/' && !path_starts_at(ctx, start) {
        return end;
    }
    // `C:\Users\`: the candidate starts at the colon; a drive letter stands before it, alone.
    if hay[start] == b':'
        && (start == 0
            || !hay[start - 1].is_ascii_alphabetic()
            || ctx
                .cursor(start - 1)
                .peek_back()
                .is_some_and(|p| p.is_ascii_alnum()))
    {
        return end;
    }
    // The name: up to the next separator.
    let mut c = Cursor::new(hay, end, end);
    let mut name: Vec<Ch> = Vec::new();
    c.forward_while(65, |ch| {
        let ok = ch.is_alnum() || matches!(ch.c, '.' | '_' | '-' | ' ');
        if ok {
            name.push(*ch);
        }
        ok
    });
    if name.len() > 64 {
        return end;
    }
    // A blank ends the name unless a path separator follows the words (`C:\Users\Jane Doe\`).
    let sep_follows = c.peek().is_some_and(|ch| matches!(ch.c, '/' | '\\'));
    if !sep_follows {
        if let Some(blank) = name.iter().position(|ch| ch.c == ' ') {
            name.truncate(blank);
        }
    }
    while name.last().is_some_and(|ch| ch.c == ' ') {
        name.pop();
    }
    let text: String = name.iter().map(|ch| ch.c).collect();
    let Some(last) = name.last() else {
        return end;
    };
    if text.starts_with('.')
        || is_system_account(&text)
        || NOT_A_HOME_USER.contains(&text.to_lowercase().as_str())
    {
        return end;
    }
    let ve = last.end;
    if end < ctx.emit_floor {
        return end;
    }
    out.push(Found::new(Detector::HomeUser, end, ve));
    ve
}

/// Does a path start at `at` (a `/`)? Not when it continues a word or another path (`/api/Users/`,
/// `/mnt/home/`), yes after a blank, quote, `=`, `:`, `(`, `file://` or at the start.
fn path_starts_at(ctx: &Context, at: usize) -> bool {
    let mut c = ctx.cursor(at);
    match c.prev() {
        None => true,
        Some(p) if p.c == '/' => c.eat_back("file:/"),
        Some(p) => !(p.is_alnum() || matches!(p.c, '.' | '_' | '-' | '~' | '\\')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts around keys, separators, values and objects, in every spelling the text layer decodes (escaped
    /// quotes and separators, URL and entity encodings, colour codes, full-width and CJK text, blanks).
    fn spelled_texts() -> Vec<String> {
        let keys = [
            "user",
            "from",
            "id",
            "msg.from",
            "userId",
            "sender_user_id",
            "name",
            "qq",
            "x",
        ];
        let quotes = ["", "\"", "'", "\\\"", "&quot;", "%22", "\\u0022", "`"];
        let seps = [
            ":", "=", ": ", " = ", "\\u003a", "%3A", "&#58;", "：", ">", ":\t",
        ];
        let values = [
            "zhangwei",
            "\"SunLi\"",
            "'li.lei'",
            "\\\"wm0a1b\\\"",
            "张伟",
            "\\u5f20\\u4f1f",
            "a%20b",
            "\u{1b}[31mred\u{1b}[0m",
            "@all",
            "x y",
            "ou_1&amp;2",
            "\"\"",
            "null,",
            "User(id=1)",
            "{\"id\":1}",
            "a\u{a0}b",
        ];
        let before = [
            "",
            "{",
            "\"from\":{",
            "\"user\": [{",
            "{\"mentions\":[{\"x\":1},{",
            "User(",
            "\u{1b}[1{",
            "\\u007b",
            "%7B",
            "(a) {b} ",
            "\"from\":{\"k\":\"\\u4e2d\",",
            "?a=1&",
            "&amp;",
            "[user_id:",
            "line\n{",
            "{\"sender\":\"\\n\",",
        ];
        let mut out = Vec::new();
        for b in before {
            for k in keys {
                for q in quotes {
                    for sep in seps {
                        for v in values {
                            out.push(format!("{b}{q}{k}{q}{sep}{v}"));
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn raw_byte_readers_agree_with_the_text_layer_wherever_they_answer() {
        let (mut keys, mut values, mut openers) = (0, 0, 0);
        let key_of = |k: Option<KeyAt>| k.map(|k| (k.norm().to_vec(), k.start));
        for text in spelled_texts() {
            let hay = text.as_bytes();
            for at in 1..=hay.len() {
                let ctx = Context::new(hay, at, 0);
                if let Some(plain) = plain_key_before_sep(&ctx, at) {
                    keys += 1;
                    let decoded = decoded_key_before_sep(&ctx, at).map(|(k, xml)| {
                        assert!(!xml, "{text:?} at {at}");
                        k
                    });
                    assert_eq!(key_of(plain), key_of(decoded), "key in {text:?} at {at}");
                }
                if let Some(plain) = plain_value_after(hay, at) {
                    values += 1;
                    let decoded = decoded_value_after(&ctx, at, false);
                    assert_eq!(plain, decoded, "value in {text:?} at {at}");
                }
                if let Some(plain) = plain_opener_back(&ctx, at) {
                    openers += 1;
                    let plain = plain.map(|o| (o, char::from(hay[o])));
                    assert_eq!(
                        plain,
                        decoded_opener_back(&ctx, at),
                        "opener in {text:?} at {at}"
                    );
                    if let Some((o, '{')) = plain {
                        if let Some(k) = plain_object_key(&ctx, o) {
                            assert_eq!(
                                key_of(k),
                                key_of(decoded_object_key(&ctx, o)),
                                "object key in {text:?} at {o}"
                            );
                        }
                    }
                }
            }
        }
        // The raw readers answered often enough for the comparison to mean something.
        assert!(
            keys > 10_000 && values > 10_000 && openers > 10_000,
            "{keys} {values} {openers}"
        );
        eprintln!("compared: {keys} keys, {values} values, {openers} openers");
    }

    #[test]
    fn an_objects_opener_is_found_past_a_long_plain_stretch_only_within_reach() {
        let long = format!(
            "{{\"from\":{{\"k\":\"{}\",\"id\":1",
            "a".repeat(MAX_OBJECT_LOOKBACK)
        );
        let hay = long.as_bytes();
        let at = long.rfind("\"id\"").unwrap();
        let ctx = Context::new(hay, at, 0);
        assert_eq!(plain_opener_back(&ctx, at), Some(None));
        assert_eq!(decoded_opener_back(&ctx, at), None);
        let near = "{\"from\":{\"k\":\"v\",\"id\":1";
        let at = near.rfind("\"id\"").unwrap();
        let ctx = Context::new(near.as_bytes(), at, 0);
        assert_eq!(plain_opener_back(&ctx, at), Some(Some(8)));
        assert!(in_person_object(&ctx, at));
    }

    #[test]
    fn the_plain_value_reader_stops_where_the_text_layer_does() {
        for b in (0u8..0x80).filter(|&b| is_plain(b)) {
            let ch = Ch {
                c: char::from(b),
                start: 0,
                end: 1,
                form: Form::Raw,
            };
            assert_eq!(plain_unquoted_stop(b), unquoted_stop(&ch), "byte {b:#04x}");
            assert_eq!(text::char_at(&[b], 0), Some(ch), "byte {b:#04x}");
        }
    }

    #[test]
    fn no_word_of_the_no_one_sets_is_longer_than_their_lookup_buffer() {
        for w in NOT_A_PERSON.iter().chain(SYSTEM_ACCOUNTS) {
            assert!(w.len() <= NO_ONE_MAX_LEN, "{w}");
            assert_eq!(w.to_ascii_lowercase(), *w, "{w} is not lower case");
        }
    }

    fn hits(s: &str) -> Vec<(String, Detector)> {
        use crate::redact::patterns::Handler;
        let hay = s.as_bytes();
        let mut out = Vec::new();
        // Every candidate as the DFA would give it, found here by brute force over starts.
        for (handler, find) in [
            (Handler::HomeDir, &["/home/", "/Users/", ":\\Users\\"][..]),
            (Handler::LarkUserId, &["ou_", "on_"][..]),
        ] {
            for pat in find {
                for (i, _) in s.match_indices(pat) {
                    let ctx = Context::new(hay, i, 0);
                    match handler {
                        Handler::HomeDir => {
                            detect_home(&ctx, i, i + pat.len(), &mut out);
                        }
                        _ => {
                            detect_lark(&ctx, i, &mut out);
                        }
                    }
                }
            }
        }
        out.iter()
            .map(|f| (s[f.start..f.end].to_string(), f.det))
            .collect()
    }

    #[test]
    fn home_names_are_found_where_a_path_starts() {
        let h = |s| hits(s).into_iter().map(|x| x.0).collect::<Vec<_>>();
        assert_eq!(h("at /home/george/.npm/x.js"), ["george"]);
        assert_eq!(h("file:///Users/presence79/.nvm"), ["presence79"]);
        assert_eq!(h("log file: C:\\Users\\Li Lei\\.openclaw\\x"), ["Li Lei"]);
        assert!(h("GET /api/Users/42/").is_empty());
        assert!(h("/root/.openclaw and /home/ alone").is_empty());
        assert!(h("C:\\Users\\Administrator\\.openclaw").is_empty());
    }

    #[test]
    fn lark_ids_inside_a_longer_word_are_kept() {
        let id = "ou_06f9111ba7a24ea6e108c2f5a3d3e6c0";
        assert_eq!(hits(&format!("from {id}: 1")).len(), 1);
        assert!(hits(&format!("sha=ab{id}")).is_empty());
    }

    #[test]
    fn keys_are_classified_with_the_bots_own_kept() {
        assert_eq!(classify(b"fromusername"), Some(KeyKind::Person));
        assert_eq!(classify(b"senderuserid"), Some(KeyKind::Person));
        assert_eq!(classify(b"chatbotuserid"), None);
        assert_eq!(classify(b"tousername"), None);
        assert_eq!(classify(b"corpid"), None);
        assert_eq!(classify(b"appid"), None);
        assert_eq!(classify(b"chatid"), None);
        assert_eq!(classify(b"uin"), Some(KeyKind::Qq));
    }
}
