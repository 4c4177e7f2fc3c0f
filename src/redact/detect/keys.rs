//! What the key in front of a value says about it, in every container: `key=value`, `key: value`, JSON
//! (`"key":"value"`, escaped once `\"key\":\"value\"` or twice `\\\"key\\\":\\\"value\\\"`), a Python repr
//! (`'key': 'value'`, `key=value`), XML elements (`<Key>value</Key>`, `<Key><![CDATA[value]]></Key>`), and
//! HTML-escaped JSON (`&quot;key&quot;:`). Read backwards through the text layer.

use super::Context;

/// The key of the value that starts at `start`, as `(key, words)`: the key lower-cased without `_`/`-`
/// (`msgId`, `msg_id`, `<MsgId>` all give `msgid`), and up to two words before it, lower-cased (`Card number:`
/// gives key `number`, words `card`). None when no key stands right before the value.
pub fn key_before(ctx: &Context, start: usize) -> Option<(Vec<u8>, Vec<u8>)> {
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
    let mut key = Vec::new();
    c.back_while(40, |ch| {
        let ok = ch.c.is_ascii_alphanumeric() || matches!(ch.c, '_' | '-' | '.');
        if ok && ch.c.is_ascii_alphanumeric() {
            key.push(ch.c.to_ascii_lowercase() as u8);
        }
        ok
    });
    key.reverse();
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
    Some((key, words))
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
/// cards. Keys that name a card or an account (`card_no`, `bank_acct`, `Card number:`) are not identifiers.
pub fn names_an_identifier(ctx: &Context, start: usize) -> bool {
    let Some((key, words)) = key_before(ctx, start) else {
        return false;
    };
    // `pan` (primary account number) only in the key: `company` is a word, not a card.
    if has(&key, b"pan") || ACCOUNT_WORDS.iter().any(|w| has(&key, w) || has(&words, w)) {
        return false;
    }
    ID_ENDINGS.iter().any(|e| key.ends_with(e))
}
