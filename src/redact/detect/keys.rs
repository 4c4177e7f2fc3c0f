//! What the key in front of a value says about it, in every container: `key=value`, `key: value`, JSON
//! (`"key":"value"`, escaped once `\"key\":\"value\"` or twice `\\\"key\\\":\\\"value\\\"`), a Python repr
//! (`'key': 'value'`, `key=value`), XML elements (`<Key>value</Key>`, `<Key><![CDATA[value]]></Key>`), and
//! HTML-escaped JSON (`&quot;key&quot;:`). Read backwards through the text layer.

use super::Context;
use crate::redact::text::{self, Ch, Cursor};

/// The key in front of a value.
#[derive(Debug, Clone, Default)]
pub struct Key {
    /// Lower-cased, letters and digits only (`msgId`, `msg_id`, `<MsgId>` all give `msgid`).
    pub norm: Vec<u8>,
    /// Its words, lower-cased: split at `_`, `-`, `.` and camel humps (`cardPan` gives `card`, `pan`).
    pub words: Vec<Vec<u8>>,
    /// Up to two words before it, lower-cased (`Card number:` gives key `number`, before `card`).
    pub before: Vec<u8>,
    /// A Chinese label instead (`订单号：`, `交易流水号 `, `卡号`): its last characters.
    pub label: String,
}

impl Key {
    pub fn has_word(&self, w: &[u8]) -> bool {
        self.words.iter().any(|x| x == w)
    }
    fn contains(&self, w: &[u8]) -> bool {
        has(&self.norm, w)
    }
    /// The label holds the word `w`: compared as bytes (UTF-8 never matches inside a character), without
    /// the string searcher's set-up, which costs more than the search in a label of six characters.
    fn label_has(&self, w: &str) -> bool {
        has(self.label.as_bytes(), w.as_bytes())
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

/// Moves back over a value's opening: quotes (at any escape level), blanks, colour codes (at most four).
/// Returns the character before it, read once for the caller (in an escaped label it costs a decode).
fn skip_opening(c: &mut Cursor) -> Option<Ch> {
    for _ in 0..4 {
        let ch = c.peek_back()?;
        if !(matches!(ch.c, '"' | '\'' | '`') || ch.is_blank() || ch.is_ansi()) {
            return Some(ch);
        }
        c.at = ch.start;
    }
    c.peek_back()
}

fn is_cjk_letter(c: char) -> bool {
    !c.is_ascii() && c.is_alphanumeric() && !text::is_cjk_punct(c)
}

/// The Chinese label whose last character is `last`, right before `c` (at most six characters).
fn cjk_label(c: &Cursor, last: Ch) -> String {
    let mut c = *c;
    c.at = last.start;
    let mut label: Vec<char> = vec![last.c];
    c.back_while(5, |ch| {
        let ok = is_cjk_letter(ch.c);
        if ok {
            label.push(ch.c);
        }
        ok
    });
    label.iter().rev().collect()
}

/// A Chinese label right before `c` (whose last character is `last`), if one stands there: its key when it
/// ends like a number's name (号, 码), the only labels that can name an identifier; None inside when it is
/// another word.
fn cjk_key(c: &Cursor, last: Option<Ch>) -> Option<Option<Key>> {
    let last = last.filter(|ch| is_cjk_letter(ch.c))?;
    Some(matches!(last.c, '号' | '码').then(|| Key {
        label: cjk_label(c, last),
        ..Key::default()
    }))
}

/// The key of the value that starts at `start`. None when no key stands right before the value.
pub fn key_before(ctx: &Context, start: usize) -> Option<Key> {
    let mut c = ctx.cursor(start);
    let last = skip_opening(&mut c);
    // A Chinese label may be glued to its value or one blank away (`订单号 4111...`).
    if let Some(key) = cjk_key(&c, last) {
        return key;
    }
    let cdata = c.eat_back("<![CDATA[");
    let sep = c.prev()?;
    let xml = match sep.c {
        ':' | '=' if !cdata => false,
        '>' => true,
        _ => return None,
    };
    if !xml {
        let last = skip_opening(&mut c);
        if let Some(key) = cjk_key(&c, last) {
            return key;
        }
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
    let norm: Vec<u8> = raw
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_lowercase)
        .collect();
    if norm.is_empty() || (xml && c.peek_back().is_none_or(|ch| ch.c != '<')) {
        return None;
    }
    Some(Key {
        words: words_of(&raw),
        before: words_before(c),
        norm,
        label: String::new(),
    })
}

/// Up to two words before a key (`Card number:`, `bank account no=`): they name the thing too.
fn words_before(mut c: Cursor) -> Vec<u8> {
    let mut words = Vec::new();
    for _ in 0..2 {
        let mut w = c;
        if w.back_while(2, |ch| ch.c == ' ') == 0 {
            break;
        }
        let mut word = Vec::new();
        let n = w.back_while(20, |ch| {
            let ok = ch.c.is_ascii_alphabetic();
            if ok {
                word.push(ch.c.to_ascii_lowercase() as u8);
            }
            ok
        });
        if n == 0 {
            break;
        }
        word.reverse();
        word.push(b' ');
        word.extend_from_slice(&words);
        words = word;
        c = w;
    }
    words
}

fn has(hay: &[u8], w: &[u8]) -> bool {
    // The first byte rules out most windows before a slice comparison.
    hay.windows(w.len()).any(|x| x[0] == w[0] && x == w)
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

/// What a machine names: messages, orders, payments, traces, jobs; anywhere in the key.
const MACHINE_STEMS: &[&[u8]] = &[
    b"msg",
    b"message",
    b"order",
    b"trade",
    b"trace",
    b"request",
    b"req",
    b"span",
    b"seq",
    b"serial",
    b"nonce",
    b"event",
    b"task",
    b"job",
    b"batch",
    b"txn",
    b"transaction",
    b"packet",
    b"invoice",
    b"bill",
    b"refund",
    b"payment",
    b"shipment",
    b"waybill",
    b"tracking",
    b"parcel",
    b"sku",
    b"coupon",
    b"commit",
    b"build",
    b"update",
    b"reply",
];

/// What a person is, has or is reached by; anywhere in the key ...
const PERSONAL_STEMS: &[&[u8]] = &[
    b"user",
    b"open",
    b"union",
    b"member",
    b"customer",
    b"staff",
    b"employee",
    b"owner",
    b"sender",
    b"receiver",
    b"contact",
    b"phone",
    b"mobile",
    b"cell",
    b"card",
    b"bank",
    b"acct",
    b"account",
    b"cert",
    b"ident",
    b"passport",
    b"person",
    b"name",
    b"sfz",
];

/// ... or as a word of it.
const PERSONAL_WORDS: &[&[u8]] = &[b"uid", b"qq", b"wx", b"tel", b"from", b"to", b"pan"];

/// Chinese labels: identifier endings, machine words, personal words.
const LABEL_ID_ENDINGS: &[&str] = &["号", "号码", "编号", "单号"];
const LABEL_MACHINE: &[&str] = &[
    "订单", "流水", "交易", "消息", "工单", "快递", "运单", "物流", "批次", "序列", "请求", "追踪",
    "跟踪", "会话", "事件", "任务", "版本",
];
const LABEL_PERSONAL: &[&str] = &[
    "卡", "账", "银行", "手机", "电话", "身份", "证", "护照", "联系", "用户", "客户", "会员",
    "员工", "户",
];

/// True when `key` (in front of a number) names an identifier (`"msgid": "..."`, `order_no=`, `<MsgId>`,
/// `traceId:`, `订单号：`): message, order and trace ids pass Luhn one time in ten, and are not cards. Keys that
/// name a card or an account (`card_no`, `bank_acct`, `cardPan`, `Card number:`, `卡号`) are not identifiers.
pub fn names_an_identifier(key: &Key) -> bool {
    if !key.label.is_empty() {
        return LABEL_ID_ENDINGS.iter().any(|e| key.label.ends_with(e))
            && !LABEL_PERSONAL.iter().any(|w| key.label_has(w));
    }
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

/// True when `key` names a machine's identifier (a message, order, trade, trace or request id: `msgid`,
/// `out_trade_no`, `trace_id`, `订单号`), which a mobile number or a resident ID can resemble by chance. Keys
/// of people (`userid`, `open_id`, `mobile_no`, `cert_no`, `手机号`) are not: a person's id there is a person's.
pub fn names_a_machine_id(key: &Key) -> bool {
    if !key.label.is_empty() {
        return LABEL_ID_ENDINGS.iter().any(|e| key.label.ends_with(e))
            && LABEL_MACHINE.iter().any(|w| key.label_has(w))
            && !LABEL_PERSONAL.iter().any(|w| key.label_has(w));
    }
    let personal = PERSONAL_STEMS.iter().any(|w| key.contains(w))
        || PERSONAL_WORDS.iter().any(|w| key.has_word(w))
        || has(&key.before, b"card")
        || has(&key.before, b"phone");
    !personal
        && MACHINE_STEMS.iter().any(|w| key.contains(w))
        && ID_ENDINGS.iter().any(|e| key.norm.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(s: &str) -> Key {
        Key {
            label: s.to_string(),
            ..Key::default()
        }
    }

    #[test]
    fn label_words_are_found_as_the_string_search_finds_them() {
        let labels = [
            "订单号",
            "手机号码",
            "交易流水号",
            "银行卡号",
            "号",
            "会员编号",
            "账户号",
            "证件号码",
            "用户账号",
            "快递单号",
            "户",
            "卡",
            "版本号",
            "流水",
            "",
        ];
        let words = LABEL_ID_ENDINGS
            .iter()
            .chain(LABEL_MACHINE)
            .chain(LABEL_PERSONAL);
        for l in labels {
            for w in words.clone() {
                assert_eq!(label(l).label_has(w), l.contains(w), "{l:?} {w:?}");
            }
        }
        assert!(names_a_machine_id(&label("交易流水号")));
        assert!(names_a_machine_id(&label("订单编号")));
        assert!(!names_a_machine_id(&label("手机号")));
        assert!(!names_a_machine_id(&label("银行卡号")));
        assert!(!names_a_machine_id(&label("订单")));
        assert!(names_an_identifier(&label("快递单号")));
        assert!(!names_an_identifier(&label("账户号")));
    }

    #[test]
    fn a_chinese_label_reads_the_same_raw_escaped_and_behind_openings() {
        let label_of = |text: &str| {
            let start = text.find("138").unwrap();
            let ctx = Context::new(text.as_bytes(), start, 0);
            key_before(&ctx, start).map(|k| k.label)
        };
        for text in [
            "交易流水号13812345678",
            "交易流水号 13812345678",
            "交易流水号：\"13812345678",
            "\\u4ea4\\u6613\\u6d41\\u6c34\\u53f7 13812345678",
            "\\u4ea4\\u6613\\u6d41\\u6c34\\u53f7\\uff1a\\\"13812345678",
            "\\\\u4ea4\\\\u6613\\\\u6d41\\\\u6c34\\\\u53f7=13812345678",
        ] {
            assert_eq!(label_of(text), Some("交易流水号".to_string()), "{text:?}");
        }
        // Six characters at most; a label of another word is no key, nor is an opening four deep.
        assert_eq!(
            label_of("我的交易流水编号13812345678"),
            Some("交易流水编号".to_string())
        );
        assert_eq!(label_of("手机13812345678"), None);
        assert_eq!(label_of("号\"\"\"\"\"13812345678"), None);
    }

    #[test]
    fn key_words_are_found_at_any_offset() {
        for (hay, w, want) in [
            (&b"outtradeno"[..], &b"trade"[..], true),
            (b"msgid", b"msg", true),
            (b"ordeorder", b"order", true),
            (b"ordr", b"order", false),
            (b"or", b"order", false),
            (b"sku", b"sku", true),
        ] {
            assert_eq!(has(hay, w), want, "{hay:?} {w:?}");
        }
    }
}
