//! What the key in front of a value says about it, in every container: `key=value`, `key: value`, JSON
//! (`"key":"value"`, escaped once `\"key\":\"value\"` or twice `\\\"key\\\":\\\"value\\\"`), a Python repr
//! (`'key': 'value'`, `key=value`), XML elements (`<Key>value</Key>`, `<Key><![CDATA[value]]></Key>`), and
//! HTML-escaped JSON (`&quot;key&quot;:`). Read backwards through the text layer.

use super::Context;

/// The key in front of a value.
#[derive(Debug, Clone, Default)]
pub struct Key {
    /// Lower-cased, letters and digits only (`msgId`, `msg_id`, `<MsgId>` all give `msgid`).
    pub norm: Vec<u8>,
    /// Its words, lower-cased: split at `_`, `-`, `.` and camel humps (`cardPan` gives `card`, `pan`).
    pub words: Vec<Vec<u8>>,
    /// Up to two words before it, lower-cased (`Card number:` gives key `number`, before `card`).
    pub before: Vec<u8>,
}

impl Key {
    pub fn has_word(&self, w: &[u8]) -> bool {
        self.words.iter().any(|x| x == w)
    }
    fn contains(&self, w: &[u8]) -> bool {
        self.norm.windows(w.len()).any(|x| x == w)
    }
}

/// Splits a key name into lower-case words at separators and camel humps.
fn words_of(raw: &[u8]) -> Vec<Vec<u8>> {
    let mut words: Vec<Vec<u8>> = Vec::new();
    let mut cur = Vec::new();
    for (i, &b) in raw.iter().enumerate() {
        let hump = i > 0 && b.is_ascii_uppercase() && raw[i - 1].is_ascii_lowercase();
        if (!b.is_ascii_alphanumeric() || hump) && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        if b.is_ascii_alphanumeric() {
            cur.push(b.to_ascii_lowercase());
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The key of the value that starts at `start`. None when no key stands right before the value.
pub fn key_before(ctx: &Context, start: usize) -> Option<Key> {
    let mut c = ctx.cursor(start);
    // The value's opening: quotes (at any escape level), blanks, colour codes, a CDATA section.
    let opening = |c: &mut super::super::text::Cursor| {
        c.back_while(4, |ch| {
            matches!(ch.c, '"' | '\'' | '`') || ch.is_blank() || ch.is_ansi()
        });
    };
    opening(&mut c);
    let cdata = c.eat_back("<![CDATA[");
    let sep = c.prev()?;
    let xml = match sep.c {
        ':' | '=' if !cdata => false,
        '>' => true,
        _ => return None,
    };
    if !xml {
        opening(&mut c);
    }
    let mut raw = Vec::new();
    c.back_while(40, |ch| {
        let ok = ch.c.is_ascii_alphanumeric() || matches!(ch.c, '_' | '-' | '.');
        if ok {
            raw.push(ch.c as u8);
        }
        ok
    });
    raw.reverse();
    let key: Vec<u8> = raw
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect();
    if key.is_empty() || (xml && c.peek_back().is_none_or(|ch| ch.c != '<')) {
        return None;
    }
    // A key of words (`Card number:`, `bank account no=`): the two words before it name the thing too.
    let mut words = Vec::new();
    for _ in 0..2 {
        let mut w = c;
        if w.back_while(2, |ch| ch.c == ' ') == 0 {
            break;
        }
        let mut word = Vec::new();
        if w.back_while(20, |ch| {
            let ok = ch.c.is_ascii_alphabetic();
            if ok {
                word.push(ch.c.to_ascii_lowercase() as u8);
            }
            ok
        }) == 0
        {
            break;
        }
        word.reverse();
        word.push(b' ');
        word.extend_from_slice(&words);
        words = word;
        c = w;
    }
    Some(Key {
        words: words_of(&raw),
        norm: key,
        before: words,
    })
}

fn has(hay: &[u8], w: &[u8]) -> bool {
    hay.windows(w.len()).any(|x| x == w)
}

/// Words that make a key (or the words before it) name a card or an account, whatever it ends in.
const ACCOUNT_WORDS: &[&[u8]] = &[b"card", b"bank", b"acct", b"account"];

/// Endings of keys that name an identifier: message, order and trace ids, sequence numbers, times.
const ID_ENDINGS: &[&[u8]] = &[
    b"id",
    b"ids",
    b"no",
    b"num",
    b"number",
    b"seq",
    b"sn",
    b"nonce",
    b"ts",
    b"time",
    b"timestamp",
    b"version",
    b"code",
    b"hash",
    b"serial",
];

/// True when the number at `start` is the value of a key that names an identifier (`"msgid": "..."`,
/// `order_no=`, `<MsgId>`, `traceId:`): message, order and trace ids pass Luhn one time in ten, and are not
/// cards. Keys that name a card or an account (`card_no`, `bank_acct`, `cardPan`, `Card number:`) are not
/// identifiers.
pub fn names_an_identifier(ctx: &Context, start: usize) -> bool {
    let Some(key) = key_before(ctx, start) else {
        return false;
    };
    // `pan` (primary account number) only as a word of the key: `spanId`, `company` are not cards.
    if key.has_word(b"pan")
        || ACCOUNT_WORDS
            .iter()
            .any(|w| key.contains(w) || has(&key.before, w))
    {
        return false;
    }
    ID_ENDINGS.iter().any(|e| key.norm.ends_with(e))
}
