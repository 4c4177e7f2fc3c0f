//! Deterministic generators of synthetic PII and of look-alikes, shared by the redaction tests and benches.
//!
//! Every value is made up here (valid check digits, real-looking but random); nothing is copied from a person.
//! The RNG is SplitMix64 so runs are reproducible without a `rand` dependency.
#![allow(dead_code)]

/// SplitMix64: small, fast, deterministic.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn range(&mut self, lo: u64, hi_incl: u64) -> u64 {
        lo + self.below(hi_incl - lo + 1)
    }
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| (b'0' + self.below(10) as u8) as char)
            .collect()
    }
    pub fn chars_from(&mut self, set: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| set[self.below(set.len() as u64) as usize] as char)
            .collect()
    }
    pub fn alnum(&mut self, n: usize) -> String {
        self.chars_from(ALNUM, n)
    }
    pub fn hex(&mut self, n: usize) -> String {
        self.chars_from(b"0123456789abcdef", n)
    }
}

pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// ---------------------------------------------------------------- check digits

/// Luhn (mod 10) over ASCII digits.
pub fn luhn_ok(digits: &str) -> bool {
    luhn_sum(digits, false).is_multiple_of(10)
}

fn luhn_sum(digits: &str, check_appended_later: bool) -> u32 {
    let mut sum = 0;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        let double = if check_appended_later {
            i % 2 == 0
        } else {
            i % 2 == 1
        };
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum
}

/// The Luhn check digit to append to `payload`.
pub fn luhn_check_digit(payload: &str) -> char {
    let s = luhn_sum(payload, true);
    (b'0' + ((10 - s % 10) % 10) as u8) as char
}

/// GB 11643 / ISO 7064 MOD 11-2 check character of the first 17 digits.
pub fn id_check_char(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let s: u32 = first17
        .bytes()
        .zip(W)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    b"10X98765432"[(s % 11) as usize] as char
}

pub fn id18_ok(id: &str) -> bool {
    id.len() == 18 && id_check_char(&id[..17]) == id.as_bytes()[17].to_ascii_uppercase() as char
}

// ---------------------------------------------------------------- dates

fn leap(y: u64) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in(y: u64, m: u64) -> u64 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A real date as YYYYMMDD with the year in `lo..=hi`.
pub fn date8(rng: &mut Rng, lo: u64, hi: u64) -> String {
    let y = rng.range(lo, hi);
    let m = rng.range(1, 12);
    let d = rng.range(1, days_in(y, m));
    format!("{y:04}{m:02}{d:02}")
}

// ---------------------------------------------------------------- PII

/// Allocated CN mobile prefixes (13x-19x).
pub const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147", "150",
    "151", "152", "153", "155", "156", "157", "158", "159", "166", "170", "171", "173", "175",
    "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "191", "193", "195", "198", "199",
];

pub fn mobile(rng: &mut Rng) -> String {
    let p = rng.pick(MOBILE_PREFIXES);
    format!("{p}{}", rng.digits(8))
}

/// Real county-level division codes.
pub const REGIONS: &[&str] = &[
    "110101", "110105", "110108", "120101", "310104", "310115", "320102", "330106", "350203",
    "370202", "420106", "440106", "440305", "500103", "510107", "610113",
];

/// A valid 18-char resident ID. `check`: None any, Some(true) forces a final X, Some(false) a digit.
pub fn id18_with(rng: &mut Rng, check: Option<bool>) -> String {
    loop {
        let first17 = format!(
            "{}{}{}",
            rng.pick(REGIONS),
            date8(rng, 1950, 2006),
            rng.digits(3)
        );
        let c = id_check_char(&first17);
        match check {
            Some(true) if c != 'X' => continue,
            Some(false) if c == 'X' => continue,
            _ => return format!("{first17}{c}"),
        }
    }
}

pub fn id18(rng: &mut Rng) -> String {
    id18_with(rng, None)
}

/// A valid 15-digit legacy ID (born 19yy, real date).
pub fn id15(rng: &mut Rng) -> String {
    let d = date8(rng, 1930, 1999);
    format!("{}{}{}", rng.pick(REGIONS), &d[2..], rng.digits(3))
}

/// A Luhn-valid card number of `len` digits with a realistic issuer prefix.
pub fn card(rng: &mut Rng, len: usize) -> String {
    let prefixes: &[&str] = match len {
        13 => &["4"],
        15 => &["34", "37"],
        16 => &["622202", "621700", "622848", "625965", "4", "51", "53"],
        19 => &["622202", "621700", "622848", "623058", "621483"],
        _ => &["62"],
    };
    let p = rng.pick(prefixes);
    let payload = format!("{p}{}", rng.digits(len - 1 - p.len()));
    let c = luhn_check_digit(&payload);
    format!("{payload}{c}")
}

const GIVEN: &[&str] = &[
    "zhang.wei",
    "li_na",
    "wangfang88",
    "chen-jie",
    "liu.yang2019",
    "huang_min",
    "zhao.lei",
    "sun.li",
    "zhou.jing",
    "wu.hao",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "qq.com",
    "163.com",
    "126.com",
    "corp.example.cn",
    "foxmail.com",
    "outlook.com",
    "mail.tencent-example.com.cn",
    "sina.cn",
    "gmail.com",
];

pub fn email(rng: &mut Rng) -> String {
    format!("{}@{}", rng.pick(GIVEN), rng.pick(DOMAINS))
}

pub fn email_plus(rng: &mut Rng) -> String {
    let tag = rng.pick(&["wecom", "bot", "2024", "news-letter", "a.b"]);
    format!("{}+{tag}@{}", rng.pick(GIVEN), rng.pick(DOMAINS))
}

pub fn email_sub(rng: &mut Rng) -> String {
    let sub = rng.pick(&["mail", "hr.mail", "dept3.corp", "m"]);
    let base = rng.pick(&[
        "example.com",
        "example.com.cn",
        "tencent-example.cn",
        "bank-example.net",
    ]);
    format!("{}@{sub}.{base}", rng.pick(GIVEN))
}

/// A local part in a non-Latin script with an ASCII domain.
pub fn email_intl(rng: &mut Rng) -> String {
    let local = rng.pick(&[
        "张伟",
        "李娜",
        "王芳.工作",
        "ユーザー",
        "почта",
        "δοκιμή",
        "陈杰",
    ]);
    format!("{local}@{}", rng.pick(DOMAINS))
}

/// QQ mail: a 5-11 digit QQ number.
pub fn email_qq(rng: &mut Rng) -> String {
    let n = rng.range(5, 10) as usize;
    format!("{}{}@qq.com", rng.range(1, 9), rng.digits(n))
}

pub fn ipv4(rng: &mut Rng) -> String {
    const FIRST: &[&str] = &[
        "36", "39", "42", "58", "59", "60", "61", "101", "106", "111", "112", "113", "114", "115",
        "116", "117", "118", "119", "120", "121", "122", "123", "124", "125", "180", "182", "183",
        "202", "203", "210", "211", "218", "219", "220", "221", "222", "223",
    ];
    format!(
        "{}.{}.{}.{}",
        rng.pick(FIRST),
        rng.below(256),
        rng.below(256),
        rng.range(1, 254)
    )
}

fn h16(rng: &mut Rng) -> String {
    format!("{:x}", rng.range(1, 0xffff))
}

/// A full 8-group IPv6 address.
pub fn ipv6_full(rng: &mut Rng) -> String {
    let first = rng.pick(&["240e", "2408", "2409", "2400", "2001"]);
    let mut g = vec![first.to_string()];
    for _ in 0..7 {
        g.push(h16(rng));
    }
    g.join(":")
}

/// A compressed IPv6 address (`a:b:c::d`).
pub fn ipv6_short(rng: &mut Rng) -> String {
    let first = rng.pick(&["240e", "2408", "2409", "2400", "2001"]);
    format!("{first}:{}:{}::{}", h16(rng), h16(rng), h16(rng))
}

/// Opaque bearer token.
pub fn token(rng: &mut Rng) -> String {
    let n = rng.range(32, 48) as usize;
    rng.alnum(n)
}

fn b64url(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(B64URL[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

pub fn jwt(rng: &mut Rng) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = format!(
        r#"{{"sub":"{}","iat":{},"corp":"ww{}"}}"#,
        rng.alnum(10),
        rng.range(1_700_000_000, 1_760_000_000),
        rng.hex(16)
    );
    let sig = rng.chars_from(B64URL, 43);
    format!("{header}.{}.{sig}", b64url(payload.as_bytes()))
}

const TOKCHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// WeCom access_token (long opaque).
pub fn wx_access_token(rng: &mut Rng) -> String {
    let n = rng.range(90, 180) as usize;
    rng.chars_from(TOKCHARS, n)
}

pub fn corpsecret(rng: &mut Rng) -> String {
    rng.chars_from(TOKCHARS, 43)
}

pub fn aes_key(rng: &mut Rng) -> String {
    rng.alnum(43)
}

pub fn callback_token(rng: &mut Rng) -> String {
    let n = rng.range(16, 32) as usize;
    rng.alnum(n)
}

pub fn appsecret(rng: &mut Rng) -> String {
    rng.hex(32)
}

pub fn api_key(rng: &mut Rng) -> String {
    format!("sk-{}", rng.alnum(48))
}

pub fn uuid(rng: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-{}{}-{}",
        rng.hex(8),
        rng.hex(4),
        rng.hex(3),
        rng.pick(&["8", "9", "a", "b"]),
        rng.hex(3),
        rng.hex(12)
    )
}

/// A password for key=value / JSON / chat forms (no quotes, spaces, `&`, `@`, `,`).
pub fn password(rng: &mut Rng) -> String {
    let n = rng.range(6, 12) as usize;
    format!(
        "{}{}{}{}",
        rng.chars_from(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz", 1),
        rng.alnum(n),
        rng.chars_from(b"!#%^*_-.~", 1),
        rng.digits(2)
    )
}

/// A password that fits in a URL userinfo without escaping.
pub fn password_dsn(rng: &mut Rng) -> String {
    let n = rng.range(6, 12) as usize;
    format!(
        "{}{}{}{}",
        rng.chars_from(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz", 1),
        rng.alnum(n),
        rng.chars_from(b"!*_-.~", 1),
        rng.digits(2)
    )
}

/// A 64-column base64 line of a PEM body.
pub fn pem_line(rng: &mut Rng) -> String {
    rng.chars_from(B64, 64)
}

// ---------------------------------------------------------------- look-alikes

/// A digit string of `len` with the given prefix that FAILS Luhn.
pub fn luhn_fail(rng: &mut Rng, prefix: &str, len: usize) -> String {
    let payload = format!("{prefix}{}", rng.digits(len - 1 - prefix.len()));
    let good = luhn_check_digit(&payload) as u8 - b'0';
    let bad = (good + 1 + rng.below(9) as u8) % 10;
    format!("{payload}{}", (b'0' + bad) as char)
}

/// A digit string of `len` with the given prefix that PASSES Luhn.
pub fn luhn_pass(rng: &mut Rng, prefix: &str, len: usize) -> String {
    let payload = format!("{prefix}{}", rng.digits(len - 1 - prefix.len()));
    let c = luhn_check_digit(&payload);
    format!("{payload}{c}")
}

/// A real local date and time as yyyyMMddHHmmss, 2023..2026.
pub fn datetime14(rng: &mut Rng) -> String {
    format!(
        "{}{:02}{:02}{:02}",
        date8(rng, 2023, 2026),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

/// Epoch milliseconds 2020..2027.
pub fn epoch_ms(rng: &mut Rng) -> String {
    rng.range(1_577_836_800_000, 1_798_761_599_999).to_string()
}

/// Epoch milliseconds that pass Luhn (a trap for a length + Luhn card detector).
pub fn epoch_ms_luhn(rng: &mut Rng) -> String {
    loop {
        let s = epoch_ms(rng);
        if luhn_ok(&s) {
            return s;
        }
    }
}

pub fn epoch_s(rng: &mut Rng) -> String {
    rng.range(1_577_836_800, 1_798_761_599).to_string()
}

/// An order number: date prefix + digits, `len` 16..=19, failing Luhn.
pub fn order_no(rng: &mut Rng, len: usize) -> String {
    let d = date8(rng, 2023, 2026);
    luhn_fail(rng, &d, len)
}

/// Same, but passing Luhn.
pub fn order_no_luhn(rng: &mut Rng, len: usize) -> String {
    let d = date8(rng, 2023, 2026);
    luhn_pass(rng, &d, len)
}

/// A 19-digit WeCom-style MsgId failing Luhn.
pub fn msgid19(rng: &mut Rng) -> String {
    luhn_fail(rng, "73", 19)
}

/// An 18-digit, ID-shaped number (real region and date) that fails the ID check and Luhn.
pub fn id18_bad(rng: &mut Rng) -> String {
    loop {
        let first17 = format!(
            "{}{}{}",
            rng.pick(REGIONS),
            date8(rng, 1950, 2006),
            rng.digits(3)
        );
        let good = id_check_char(&first17);
        let c = (b'0' + rng.below(10) as u8) as char;
        let s = format!("{first17}{c}");
        if c != good && !luhn_ok(&s) {
            return s;
        }
    }
}

/// An 18-digit number with a valid check digit but an impossible birth date (Feb 30 or month 13),
/// failing Luhn.
pub fn id18_bad_date(rng: &mut Rng) -> String {
    loop {
        let y = rng.range(1950, 2005);
        let md = rng.pick(&["0230", "1301", "0000", "0431", "1132"]);
        let first17 = format!("{}{y}{md}{}", rng.pick(REGIONS), rng.digits(3));
        let c = id_check_char(&first17);
        if c == 'X' {
            continue;
        }
        let s = format!("{first17}{c}");
        if !luhn_ok(&s) {
            return s;
        }
    }
}

/// Valid check digit, birth year in the future, failing Luhn.
pub fn id18_future(rng: &mut Rng) -> String {
    loop {
        let first17 = format!(
            "{}{}{}",
            rng.pick(REGIONS),
            date8(rng, 2080, 2099),
            rng.digits(3)
        );
        let c = id_check_char(&first17);
        if c == 'X' {
            continue;
        }
        let s = format!("{first17}{c}");
        if !luhn_ok(&s) {
            return s;
        }
    }
}

/// 11 digits starting 10, 11 or 12 (not a mobile).
pub fn n11_not_mobile(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(&["10", "11", "12"]), rng.digits(9))
}

/// HDFS block id digits: `-` + 19 digits or 17-19 digits (no prefix).
pub fn blk(rng: &mut Rng) -> String {
    if rng.chance(50) {
        format!("blk_-{}{}", rng.range(1, 9), rng.digits(18))
    } else {
        let n = rng.range(17, 19) as usize;
        format!("blk_{}{}", rng.range(1, 9), rng.digits(n - 1))
    }
}

/// HDFS block id whose digits pass Luhn.
pub fn blk_luhn(rng: &mut Rng) -> String {
    let sign = if rng.chance(50) { "-" } else { "" };
    let p = rng.range(1, 9).to_string();
    format!("blk_{sign}{}", luhn_pass(rng, &p, 19))
}

/// HDFS block id whose digits are a valid 18-digit resident ID.
pub fn blk_id(rng: &mut Rng) -> String {
    let sign = if rng.chance(50) { "-" } else { "" };
    format!("blk_{sign}{}", id18_with(rng, Some(false)))
}

/// UUID whose last group is a hex letter followed by 11 digits shaped like a mobile.
pub fn uuid_mobile(rng: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-{}{}-{}{}",
        rng.hex(8),
        rng.hex(4),
        rng.hex(3),
        rng.pick(&["8", "9", "a", "b"]),
        rng.hex(3),
        rng.pick(&["a", "b", "c", "d", "e", "f"]),
        mobile(rng)
    )
}

/// Hex digest of `n` chars that contains a letter + mobile-shaped run.
pub fn hex_with_mobile(rng: &mut Rng, n: usize) -> String {
    let m = mobile(rng);
    let pre = rng.below((n - 12) as u64) as usize;
    format!(
        "{}{}{m}{}",
        rng.hex(pre),
        rng.pick(&["a", "b", "c", "d", "e", "f"]),
        rng.hex(n - 12 - pre)
    )
}

// ---------------------------------------------------------------- platform credentials

const B64STD: &[u8] = B64;

/// A Telegram bot token: the bot's numeric id, `:`, 35 characters starting `AA` (BotFather's format).
pub fn telegram_token(rng: &mut Rng) -> String {
    let id_len = rng.range(8, 10) as usize;
    format!(
        "{}{}:AA{}",
        rng.range(1, 9),
        rng.digits(id_len - 1),
        rng.chars_from(TOKCHARS, 33)
    )
}

/// The secret part of a Slack incoming-webhook path (`/services/T.../B.../SECRET`).
pub fn slack_webhook_secret(rng: &mut Rng) -> String {
    rng.alnum(24)
}

/// A Discord webhook token (68 characters of base64url).
pub fn discord_webhook_token(rng: &mut Rng) -> String {
    rng.chars_from(TOKCHARS, 68)
}

/// A Discord bot token: the bot's snowflake id as base64url, a timestamp part, an HMAC part.
pub fn discord_bot_token(rng: &mut Rng) -> String {
    let n = rng.range(17, 19) as usize;
    let id = format!("{}{}", rng.range(1, 9), rng.digits(n - 1));
    format!(
        "{}.{}.{}",
        b64url(id.as_bytes()),
        rng.chars_from(TOKCHARS, 6),
        rng.chars_from(TOKCHARS, 38)
    )
}

/// A Feishu/Lark tenant or app access token (`t-` / `a-` then base64url-ish).
pub fn feishu_access_token(rng: &mut Rng) -> String {
    let p = rng.pick(&["t-", "a-", "u-"]);
    format!("{p}g{}", rng.chars_from(TOKCHARS, 40))
}

/// A WeChat mini-program session_key (base64 of 16 bytes).
pub fn session_key(rng: &mut Rng) -> String {
    format!("{}==", rng.chars_from(B64STD, 22))
}

/// A DingTalk robot signature as it appears URL-encoded in a query (`sign=...%2B...%3D`).
pub fn dingtalk_sign(rng: &mut Rng) -> String {
    let raw = format!(
        "{}{}=",
        rng.chars_from(B64STD, 20),
        rng.chars_from(B64STD, 23)
    );
    url_encode(&raw)
}

/// An OpenAI project key or an Anthropic key.
pub fn llm_key(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("sk-proj-{}", rng.chars_from(TOKCHARS, 48)),
        1 => format!(
            "sk-ant-api03-{}-{}AA",
            rng.chars_from(TOKCHARS, 80),
            rng.alnum(6)
        ),
        2 => format!("sk-{}", rng.hex(32)),
        _ => format!("sk-or-v1-{}", rng.hex(64)),
    }
}

/// A session cookie value (express `s%3A...`, a hex or base64 session id).
pub fn session_cookie(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("s%3A{}.{}", rng.chars_from(TOKCHARS, 32), rng.alnum(43)),
        1 => rng.hex(32),
        _ => rng.chars_from(TOKCHARS, 40),
    }
}

/// A password with URL-legal characters (sub-delimiters, `:`, `~`, percent escapes) for DSNs.
pub fn password_url(rng: &mut Rng) -> String {
    let specials: &[&str] = &[
        "!", "$", "&", "'", "(", ")", "*", "+", ",", ";", "=", ":", "~", "%40", "%2F", "-", ".",
    ];
    let mut s = format!(
        "{}{}",
        rng.chars_from(b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz", 1),
        rng.alnum(4)
    );
    for _ in 0..2 {
        s.push_str(rng.pick(specials));
        s.push_str(&rng.alnum(3));
    }
    s
}

/// An age identity (the secret half of a key pair; bech32, upper case).
pub fn age_identity(rng: &mut Rng) -> String {
    format!(
        "AGE-SECRET-KEY-1{}",
        rng.chars_from(b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)
    )
}

/// An age recipient (public; must survive).
pub fn age_recipient(rng: &mut Rng) -> String {
    format!(
        "age1{}",
        rng.chars_from(b"qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58)
    )
}

/// A message id that is a valid card number by Luhn and issuer prefix: a trap for a `\d{16,19}` pattern.
pub fn msgid_cardlike(rng: &mut Rng) -> String {
    let len = *rng.pick(&[&16usize, &17, &19]);
    let p = rng.pick(&["4", "5", "62", "6", "9"]);
    luhn_pass(rng, p, len)
}

// ---------------------------------------------------------------- formatting

/// Full-width digits (and X / x).
pub fn fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(0xFF10 + (c as u32 - '0' as u32)).unwrap(),
            'X' => '\u{FF38}',
            'x' => '\u{FF58}',
            _ => c,
        })
        .collect()
}

/// Groups of the given sizes joined by `sep`; the rest goes into the last group.
pub fn group(s: &str, sizes: &[usize], sep: &str) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    for &n in sizes {
        if i >= s.len() {
            break;
        }
        let e = (i + n).min(s.len());
        parts.push(&s[i..e]);
        i = e;
    }
    if i < s.len() {
        parts.push(&s[i..]);
    }
    parts.join(sep)
}

/// Groups of a mobile (3-4-4), an 18-character ID (6-4-4-4) or a card (4-4-...) joined by a dash, a blank
/// and a dot in turn, as text pasted from several sources reads.
pub fn mixed(s: &str) -> String {
    let sizes: Vec<usize> = match s.len() {
        11 => vec![3, 4, 4],
        18 => vec![6, 4, 4, 4],
        _ => vec![4; s.len() / 4],
    };
    let g = group(s, &sizes, "\0");
    let seps = ["-", " ", "-", " "];
    let mut out = String::new();
    for (i, part) in g.split('\0').enumerate() {
        if i > 0 {
            out.push_str(seps[(i - 1) % seps.len()]);
        }
        out.push_str(part);
    }
    out
}

/// Every ASCII digit (and `X`) of `s` written by `enc`.
pub fn encode_digits(s: &str, enc: impl Fn(u8) -> String) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_digit() || b == b'X' {
                enc(b)
            } else {
                (b as char).to_string()
            }
        })
        .collect()
}

/// Groups of 4 (the last may be shorter).
pub fn group4(s: &str, sep: &str) -> String {
    let sizes = vec![4; s.len() / 4];
    group(s, &sizes, sep)
}

/// Percent-encodes everything but unreserved ASCII.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Python `json.dumps` style: non-ASCII as `\uXXXX` (UTF-16 units).
pub fn json_u_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{:04x}", u));
            }
        }
    }
    out
}

// ---------------------------------------------------------------- by name (for fixture files)

/// Generates a value by the name used in `tests/fixtures/pii_cases.txt`; None for an unknown name.
/// Values from `make` until one passes `keep` (a look-alike that must pass or fail Luhn, say).
fn draw(
    rng: &mut Rng,
    mut make: impl FnMut(&mut Rng) -> String,
    keep: impl Fn(&str) -> bool,
) -> String {
    loop {
        let v = make(rng);
        if keep(&v) {
            return v;
        }
    }
}

pub fn generate(name: &str, rng: &mut Rng) -> Option<String> {
    Some(match name {
        // PII
        "phone" => mobile(rng),
        "id18" => id18(rng),
        "id18X" => id18_with(rng, Some(true)),
        "id18d" => id18_with(rng, Some(false)),
        "id15" => id15(rng),
        "card13" => card(rng, 13),
        "card15" => card(rng, 15),
        "card16" => card(rng, 16),
        "card17" => card(rng, 17),
        "card18" => card(rng, 18),
        "card19" => card(rng, 19),
        "email" => email(rng),
        "email_plus" => email_plus(rng),
        "email_sub" => email_sub(rng),
        "email_intl" => email_intl(rng),
        "email_qq" => email_qq(rng),
        "ipv4" => ipv4(rng),
        "ipv6" => ipv6_full(rng),
        "ipv6s" => ipv6_short(rng),
        "tok" => token(rng),
        "jwt" => jwt(rng),
        "wxat" => wx_access_token(rng),
        "corpsecret" => corpsecret(rng),
        "aeskey" => aes_key(rng),
        "cbtoken" => callback_token(rng),
        "appsecret" => appsecret(rng),
        "apikey" => api_key(rng),
        "pw" => password(rng),
        "pwdsn" => password_dsn(rng),
        "pem" => pem_line(rng),
        "pemtail" => {
            let n = rng.range(8, 60) as usize;
            format!("{}=", &pem_line(rng)[..n])
        }
        // look-alikes
        "uuid" => uuid(rng),
        "ts13" => epoch_ms(rng),
        "ts13luhn" => epoch_ms_luhn(rng),
        "ts10" => epoch_s(rng),
        "order" => {
            let n = rng.range(16, 19) as usize;
            order_no(rng, n)
        }
        "orderluhn" => {
            let n = rng.range(16, 19) as usize;
            order_no_luhn(rng, n)
        }
        "msgid19" => msgid19(rng),
        "id18bad" => id18_bad(rng),
        "id18baddate" => id18_bad_date(rng),
        "id18future" => id18_future(rng),
        "id15baddate" => {
            let md = rng.pick(&["0230", "1301", "0000", "0431"]);
            loop {
                let s = format!(
                    "{}{}{md}{}",
                    rng.pick(REGIONS),
                    rng.range(50, 99),
                    rng.digits(3)
                );
                if !luhn_ok(&s) {
                    break s;
                }
            }
        }
        "n11x" => n11_not_mobile(rng),
        "blk" => blk(rng),
        "blkluhn" => blk_luhn(rng),
        "blkid" => blk_id(rng),
        "uuidmobile" => uuid_mobile(rng),
        "hexmobile" => hex_with_mobile(rng, 40),
        "sha256" => rng.hex(64),
        "sha1" => rng.hex(40),
        "md5" => rng.hex(32),
        "hex16" => rng.hex(16),
        "hex32" => rng.hex(32),
        "phone86luhn" => draw(rng, mobile, |v| luhn_ok(&format!("86{v}"))),
        "phone0086luhn" => draw(rng, mobile, |v| luhn_ok(&format!("0086{v}"))),
        "id18luhn" => draw(rng, |rng| id18_with(rng, Some(false)), luhn_ok),
        "id15luhn" => draw(rng, id15, luhn_ok),
        // 19 digits failing Luhn whose first 16 pass (4-4-4-4-3 grouped: a prefix of groups is a card).
        "cardbad19pre16" => draw(
            rng,
            |rng| format!("{}{}", card(rng, 16), rng.digits(3)),
            |v| !luhn_ok(v),
        ),
        "cardbad16" => {
            let p = rng.pick(&["622202", "621700", "4", "53"]);
            luhn_fail(rng, p, 16)
        }
        "cardbad" => {
            let len = *rng.pick(&[&16usize, &19]);
            let p = rng.pick(&["622202", "621700", "4", "53"]);
            luhn_fail(rng, p, len)
        }
        // A valid 18-digit ID (digit check) glued to one more digit; the 19-digit whole fails Luhn.
        "id18in19" => draw(
            rng,
            |rng| format!("{}{}", id18_with(rng, Some(false)), rng.digits(1)),
            |v| !luhn_ok(v),
        ),
        // A Luhn-valid 16-digit card number glued to one more digit; the 17-digit whole fails Luhn.
        "card16in17" => draw(
            rng,
            |rng| format!("{}{}", card(rng, 16), rng.digits(1)),
            |v| !luhn_ok(v),
        ),
        // yyyyMMddHHmmssSSS (17 digits) / yyyyMMddHHmmss (14 digits, WeChat Pay `time_end`) passing Luhn.
        "dt17luhn" => draw(
            rng,
            |rng| format!("{}{}", datetime14(rng), rng.digits(3)),
            luhn_ok,
        ),
        "dt14luhn" => draw(rng, datetime14, luhn_ok),
        "luhn16" => luhn_pass(rng, "1", 16),
        "luhn12" => luhn_pass(rng, "6", 12),
        "luhn20" => luhn_pass(rng, "62", 20),
        "digit" => rng.below(10).to_string(),
        "int" => rng.range(1, 99_999).to_string(),
        "corpid" => format!("ww{}", rng.hex(16)),
        "userid" => rng
            .pick(&["ZhangWei", "LiNa", "wangfang", "chen.jie", "HuangMin01"])
            .to_string(),
        "extuid" => format!("wm{}", rng.chars_from(TOKCHARS, 30)),
        "extuid_wo" => format!("wo{}", rng.chars_from(TOKCHARS, 30)),
        // issue 16: people's platform identifiers
        "onid" => format!("on_{}", rng.hex(32)),
        "wxopenid" => format!("o{}", rng.chars_from(TOKCHARS, 27)),
        "tgid" => rng.range(100_000_000, 7_999_999_999).to_string(),
        "tguser" => format!(
            "{}{}",
            rng.pick(&["wei", "lina", "jchen", "mike", "fang"]),
            rng.range(1, 9999)
        ),
        "slackuid" => format!(
            "{}{}",
            rng.pick(&["U", "W"]),
            rng.chars_from(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 10)
        ),
        // issue 16: Chinese names and postal addresses (made up from common parts)
        "cnname" => cn_name(rng),
        "cnaddr" => cn_address(rng),
        "cnroad" => cn_road(rng),
        // look-alikes of those: group, channel and update ids (same shapes, no person)
        "groupnum" => rng.range(100_000, 999_999_999).to_string(),
        "tgchat" => rng.range(1_000_000_000, 9_999_999_999).to_string(),
        "chanid" => rng
            .range(100_000_000_000_000_000, 999_999_999_999_999_999)
            .to_string(),
        "snowflake" => rng
            .range(100_000_000_000_000_000, 999_999_999_999_999_999)
            .to_string(),
        "qqnum" => rng.range(10_000, 3_999_999_999).to_string(),
        "dtstaff" => format!("{}{}", rng.pick(&["manager", "user", "0"]), rng.digits(8)),
        "cjknick" => rng
            .pick(&["陈佳顺", "王小明", "李静", "张伟", "刘洋"])
            .to_string(),
        "area" => rng
            .pick(&["010", "021", "022", "023", "0755", "0571", "0512", "028"])
            .to_string(),
        "local8" => format!("{}{}", rng.range(2, 8), rng.digits(7)),
        "d5" => rng.digits(5),
        "d7" => rng.digits(7),
        "d8" => rng.digits(8),
        "wxname" => format!(
            "{}_{}",
            rng.pick(&["zhang", "lina", "wang", "chenjs"]),
            rng.range(10, 9999)
        ),
        "lower12" => rng.chars_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 12),
        "homename" => format!(
            "{}{}",
            rng.pick(&["george", "presence", "lwang", "zhangsan", "m.rossi"]),
            rng.range(1, 99)
        ),
        "chatid" => format!("wr{}", rng.chars_from(TOKCHARS, 30)),
        // platform credentials (secrets)
        "tgtok" => telegram_token(rng),
        "slackwh" => slack_webhook_secret(rng),
        "discordwh" => discord_webhook_token(rng),
        "discordtok" => discord_bot_token(rng),
        "fstok" => feishu_access_token(rng),
        "sesskey" => session_key(rng),
        "dtsign" => dingtalk_sign(rng),
        "llmkey" => llm_key(rng),
        "cookie" => session_cookie(rng),
        "pwurl" => password_url(rng),
        "hookid" => uuid(rng),
        "hex64" => rng.hex(64),
        "secret32" => rng.alnum(32),
        "ageid" => age_identity(rng),
        // look-alikes
        "agerecip" => age_recipient(rng),
        "msgidcard" => msgid_cardlike(rng),
        "ouid" => format!("ou_{}", rng.hex(32)),
        "ocid" => format!("oc_{}", rng.hex(32)),
        "clid" => format!("cli_{}", rng.hex(16)),
        "dingkey" => format!(
            "ding{}",
            rng.chars_from(b"abcdefghijklmnopqrstuvwxyz0123456789", 16)
        ),
        "wxappid" => format!("wx{}", rng.hex(16)),
        "ver4" => format!(
            "{}.{}.{}.{}",
            rng.range(1, 12),
            rng.range(0, 40),
            rng.range(0, 99),
            rng.range(1, 250)
        ),
        _ => return None,
    })
}

/// Applies a formatting filter by name; None for an unknown filter.
pub fn apply_filter(filter: &str, s: &str) -> Option<String> {
    Some(match filter {
        "fw" => fullwidth(s),
        "dash" => group(s, &[3, 4, 4], "-"),
        "space" => group(s, &[3, 4, 4], " "),
        "nbsp" => group(s, &[3, 4, 4], "\u{a0}"),
        "g4s" => group4(s, " "),
        "g4d" => group4(s, "-"),
        "ssp" => group(s, &[6, 8, 4], " "),
        "uenc" => url_encode(s),
        "upper" => s.to_uppercase(),
        "lower" => s.to_lowercase(),
        "jsonu" => json_u_escape(s),
        "last4" => s[s.len().saturating_sub(4)..].to_string(),
        "first7" => s.chars().take(7).collect(),
        // separators people type and programs emit, for 3-4-4 (mobiles), 4-4-4-4 (cards), 6-8-4 (IDs)
        "dot" => group(s, &[3, 4, 4], "."),
        "slash" => group(s, &[3, 4, 4], "/"),
        "uscore" => group(s, &[3, 4, 4], "_"),
        "mdot" => group(s, &[3, 4, 4], "\u{b7}"),
        "sp2" => group(s, &[3, 4, 4], "  "),
        "ideo" => group(s, &[3, 4, 4], "\u{3000}"),
        "fwdash" => group(s, &[3, 4, 4], "\u{ff0d}"),
        "endash" => group(s, &[3, 4, 4], "\u{2013}"),
        "nbspu" => group(s, &[3, 4, 4], "\\u00a0"),
        "g4dot" => group4(s, "."),
        "g4sp2" => group4(s, "  "),
        "g4nbsp" => group4(s, "\u{a0}"),
        "g4ideo" => group4(s, "\u{3000}"),
        "g4us" => group4(s, "_"),
        "ssd" => group(s, &[6, 8, 4], "-"),
        "ssdot" => group(s, &[6, 8, 4], "."),
        "x2fw" => s.replace('X', "\u{FF38}"),
        // other groupings people use
        "g434" => group(s, &[4, 3, 4], " "),
        "g335" => group(s, &[3, 3, 5], " "),
        "g6444" => group(s, &[6, 4, 4, 4], " "),
        "g465" => group(s, &[4, 6, 5], " "),
        "g613" => group(s, &[6, 13], " "),
        "g4en" => group4(s, "\u{2002}"),
        // strict separators in the other groupings, and mixed separators
        "g434dot" => group(s, &[4, 3, 4], "."),
        "g443mdot" => group(s, &[4, 4, 3], "\u{b7}"),
        "g335us" => group(s, &[3, 3, 5], "_"),
        "g6444dot" => group(s, &[6, 4, 4, 4], "."),
        "g6444slash" => group(s, &[6, 4, 4, 4], "/"),
        "g465sp2" => group(s, &[4, 6, 5], "  "),
        "mix" => mixed(s),
        // full-width digits with full-width strict separators, as a CJK input method types them
        "fwdot" => fullwidth(&group(s, &[3, 4, 4], "\u{ff0e}")),
        "fwslash" => fullwidth(&group(s, &[3, 4, 4], "\u{ff0f}")),
        "fwus" => fullwidth(&group(s, &[3, 4, 4], "\u{ff3f}")),
        "fwkdot" => fullwidth(&group(s, &[3, 4, 4], "\u{30fb}")),
        "fwg4dot" => fullwidth(&group4(s, "\u{ff0e}")),
        // digits and separators as escapes a program emits
        "entd" => encode_digits(s, |d| format!("&#{};", u32::from(d))),
        "entx" => encode_digits(s, |d| format!("&#x{:02x};", d)),
        "ent0" => encode_digits(s, |d| format!("&#{:04};", u32::from(d))),
        "pctd" => encode_digits(s, |d| format!("%{:02X}", d)),
        "pct2d" => encode_digits(s, |d| format!("%25{:02X}", d)),
        "u00d" => encode_digits(s, |d| format!("\\u{:04x}", d)),
        "entsp" => group(s, &[3, 4, 4], "&#32;"),
        "g4entnbsp" => group4(s, "&nbsp;"),
        "pctdash" => group(s, &[3, 4, 4], "%2D"),
        "at_ent" => s.replace('@', "&#64;"),
        "at_entx" => s.replace('@', "&#x40;"),
        "at_commat" => s.replace('@', "&commat;"),
        _ => return None,
    })
}

// ---------------------------------------------------------------- Chinese names and addresses

/// A made-up Chinese name: a common surname (single or compound) and one or two given-name characters.
pub fn cn_name(rng: &mut Rng) -> String {
    let surname = if rng.chance(15) {
        rng.pick(&["欧阳", "司马", "诸葛", "上官", "慕容", "东方", "皇甫"])
    } else {
        rng.pick(&[
            "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "胡",
            "郭", "林", "何", "高", "罗", "郑", "梁", "谢", "宋", "唐", "韩", "冯", "邓", "曹",
            "彭", "曾", "萧", "田",
        ])
    };
    let given = [
        "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
        "明", "超", "秀", "霞", "平", "刚", "桂", "英", "华", "建", "国", "晓", "文", "志", "红",
        "欣", "怡",
    ];
    let n = rng.range(1, 2);
    let mut out = surname.to_string();
    for _ in 0..n {
        out.push_str(rng.pick(&given));
    }
    out
}

/// A made-up road, number and building: `建国路88号`, `文三路100号3栋502室`.
pub fn cn_road(rng: &mut Rng) -> String {
    let road = rng.pick(&[
        "建国", "人民", "中山", "解放", "文三", "科技", "长江", "黄河", "和平", "新华", "滨江",
        "学府",
    ]);
    let kind = rng.pick(&["路", "大道", "街", "东路", "北街"]);
    let mut out = format!("{road}{kind}{}号", rng.range(1, 999));
    match rng.below(4) {
        0 => out.push_str(&format!("{}栋{}室", rng.range(1, 30), rng.range(101, 2808))),
        1 => out.push_str(&format!("{}单元{}", rng.range(1, 6), rng.range(101, 1802))),
        2 => out.push_str(&format!("{}楼", rng.range(1, 40))),
        _ => {}
    }
    out
}

/// A made-up postal address: province, city and district as written (full or short forms), then a road.
pub fn cn_address(rng: &mut Rng) -> String {
    let region = rng.pick(&[
        "北京市朝阳区",
        "北京海淀区",
        "上海市浦东新区",
        "上海徐汇区",
        "广东省深圳市南山区",
        "广东广州市天河区",
        "浙江省杭州市西湖区",
        "江苏省南京市鼓楼区",
        "四川省成都市武侯区",
        "湖北省武汉市洪山区",
        "重庆市渝中区",
        "天津市和平区",
        "陕西省西安市雁塔区",
        "福建省厦门市思明区",
        "内蒙古呼和浩特市新城区",
        "广西壮族自治区南宁市青秀区",
        "深圳市福田区",
        "杭州市余杭区",
    ]);
    format!("{region}{}", cn_road(rng))
}
