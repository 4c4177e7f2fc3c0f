//! The built-in detector library: what each detector is called, and the candidate patterns that go into
//! the one DFA. Candidates are deliberately loose and assertion-free (a DFA runs them in one pass over raw
//! bytes); every decision about boundaries, checksums and ranges is made by `validators` afterwards.

/// A built-in detector: a type name users see in `[REDACTED:{type}]`, config and stats.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinDetector {
    pub name: &'static str,
    pub summary: &'static str,
    /// Characters kept at the start and end by the `mask` action.
    pub mask_keep: (usize, usize),
}

/// A built-in detector. Its index (`as usize`) is its type id and the index of its default action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Detector {
    Phone,
    IdCard,
    BankCard,
    Email,
    Ipv4,
    Ipv6,
    Secret,
    Password,
    UserId,
    Qq,
    HomeUser,
    Landline,
    Passport,
    WechatId,
    Plate,
    BirthDate,
    PersonName,
    Address,
}

impl Detector {
    /// How many built-in detectors there are.
    pub const COUNT: usize = 18;

    /// Every built-in detector, in type-id order.
    pub const ALL: [Detector; Detector::COUNT] = [
        Detector::Phone,
        Detector::IdCard,
        Detector::BankCard,
        Detector::Email,
        Detector::Ipv4,
        Detector::Ipv6,
        Detector::Secret,
        Detector::Password,
        Detector::UserId,
        Detector::Qq,
        Detector::HomeUser,
        Detector::Landline,
        Detector::Passport,
        Detector::WechatId,
        Detector::Plate,
        Detector::BirthDate,
        Detector::PersonName,
        Detector::Address,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The type name users see (`[REDACTED:phone]`, config keys, stats).
    pub fn name(self) -> &'static str {
        BUILTIN_DETECTORS[self as usize].name
    }

    pub fn from_name(name: &str) -> Option<Detector> {
        Detector::ALL.into_iter().find(|d| d.name() == name)
    }

    pub fn from_index(i: usize) -> Option<Detector> {
        Detector::ALL.get(i).copied()
    }

    /// An identifier of a person (not a secret, not a number with a checksum): its default action is the
    /// keyed pseudonym when a hash key is configured, `redact` when none is.
    pub fn is_identifier(self) -> bool {
        matches!(
            self,
            Detector::UserId
                | Detector::Qq
                | Detector::HomeUser
                | Detector::WechatId
                | Detector::PersonName
        )
    }
}

pub const PHONE: &str = "phone";
pub const ID_CARD: &str = "id_card";
pub const BANK_CARD: &str = "bank_card";
pub const EMAIL: &str = "email";
pub const IPV4: &str = "ipv4";
pub const IPV6: &str = "ipv6";
pub const SECRET: &str = "secret";
pub const PASSWORD: &str = "password";
pub const USER_ID: &str = "user_id";
pub const QQ: &str = "qq";
pub const HOME_USER: &str = "home_user";
pub const LANDLINE: &str = "landline";
pub const PASSPORT: &str = "passport";
pub const WECHAT_ID: &str = "wechat_id";
pub const PLATE: &str = "plate";
pub const BIRTH_DATE: &str = "birth_date";
pub const PERSON_NAME: &str = "person_name";
pub const ADDRESS: &str = "address";

/// All built-in detectors, in the order their type ids are assigned (that of [`Detector::ALL`]).
pub const BUILTIN_DETECTORS: &[BuiltinDetector] = &[
    BuiltinDetector {
        name: PHONE,
        summary: "CN mobile numbers (+86/86/0086, grouped, full-width), allocated 13x-19x ranges",
        mask_keep: (3, 4),
    },
    BuiltinDetector {
        name: ID_CARD,
        summary: "resident ID: 18-char (MOD 11-2 check digit, birth date), 15-digit legacy (date)",
        mask_keep: (4, 4),
    },
    BuiltinDetector {
        name: BANK_CARD,
        summary: "13-19 digit card numbers passing Luhn, bare or grouped by 4",
        mask_keep: (4, 4),
    },
    BuiltinDetector {
        name: EMAIL,
        summary: "e-mail addresses, also URL-encoded (%40) and with non-Latin local parts",
        mask_keep: (1, 0),
    },
    BuiltinDetector {
        name: IPV4,
        summary: "IPv4 addresses (not version strings; ports stay)",
        mask_keep: (0, 0),
    },
    BuiltinDetector {
        name: IPV6,
        summary: "IPv6 addresses",
        mask_keep: (0, 0),
    },
    BuiltinDetector {
        name: SECRET,
        summary:
            "tokens and keys: bearer/JWT, access_token, corpsecret, webhook key, AES keys, PEM",
        mask_keep: (0, 0),
    },
    BuiltinDetector {
        name: PASSWORD,
        summary: "password=/passwd=/pwd= values, DSN passwords, 密码是/密码：",
        mask_keep: (0, 0),
    },
    BuiltinDetector {
        name: USER_ID,
        summary: "chat-platform user ids by key or shape: WeCom userid/FromUserName/external_userid, WeChat \
                  openid/unionid, Feishu/Lark ou_/on_, DingTalk senderStaffId/senderNick, Telegram/Discord ids \
                  and usernames in from/user/author objects, Slack U.../W... ids, <@mentions>",
        mask_keep: (0, 0),
    },
    BuiltinDetector {
        name: QQ,
        summary: "QQ numbers under qq/uin keys and after QQ/QQ号",
        mask_keep: (0, 0),
    },
    BuiltinDetector {
        name: HOME_USER,
        summary: "the user name in home-directory paths: /home/NAME/, /Users/NAME/, C:\\Users\\NAME\\",
        mask_keep: (0, 0),
    },
    BuiltinDetector {
        name: LANDLINE,
        summary: "landlines with an area code (010-12345678, (0755)1234567) after 电话/座机/固话/tel/phone",
        mask_keep: (4, 2),
    },
    BuiltinDetector {
        name: PASSPORT,
        summary: "passport numbers (E12345678) after 护照/passport",
        mask_keep: (1, 0),
    },
    BuiltinDetector {
        name: WECHAT_ID,
        summary: "WeChat ids after 微信/微信号/wechat, and wxid_... anywhere",
        mask_keep: (0, 0),
    },
    BuiltinDetector {
        name: PLATE,
        summary: "licence plates (京A12345, new-energy 粤B·D12345) after 车牌/plate",
        mask_keep: (1, 0),
    },
    BuiltinDetector {
        name: BIRTH_DATE,
        summary: "birth dates (1990-01-02, 1990年1月2日, 19900102) after 出生/生日/DOB/birthday",
        mask_keep: (0, 0),
    },
    BuiltinDetector {
        name: PERSON_NAME,
        summary: "Chinese names (known surname + 1-2 characters) after 姓名/收件人/联系人/我叫",
        mask_keep: (1, 0),
    },
    BuiltinDetector {
        name: ADDRESS,
        summary: "CN postal addresses (province/city/district + road, number) after 地址/住址/家住",
        mask_keep: (0, 0),
    },
];

/// What decides on a candidate found by a DFA pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// A run of digits (ASCII or full-width) with optional single separators and a `+`/`%2B` prefix:
    /// phone, id_card and bank_card are all decided from it.
    Numeric,
    /// `@`, `%40` or `＠` followed by a domain; the local part is found leftwards.
    EmailAnchor,
    /// A credential key name followed by its separator; the value follows.
    Keyword,
    /// `Bearer TOKEN`.
    Bearer,
    /// `密码是...`, `密码：...`: a password typed into chat.
    ChatPassword,
    /// `://`: a URL authority whose userinfo may hold `user:password@`.
    UrlAuthority,
    /// `user:pass@tcp(host)`: Go MySQL DSN.
    GoDsn,
    /// `-p`: a password on a command line (`mysql -uroot -pSECRET`, `sshpass -p SECRET`).
    CliPassword,
    /// `-----BEGIN ... PRIVATE KEY-----`: the whole block.
    PemBlock,
    /// A token with a self-identifying format (JWT, sk-, ghp_, AKIA...).
    TokenFormat,
    /// A Telegram bot token (`123456789:AA...`), bare or inside an API URL path (`/bot123456789:AA.../`).
    BotToken,
    /// A webhook URL whose path holds its secret (Slack, Discord, Feishu/Lark bots).
    WebhookPath,
    /// `Cookie:` / `Set-Cookie:` (also as JSON keys): session cookies among the others.
    Cookie,
    Ipv4,
    /// Also IPv4-mapped (`::ffff:203.0.113.5`, as Node.js reports clients): the IPv4 part is an IPv4 address.
    Ipv6,
    /// The end of a key that may name a person's platform identifier (`userid`, `FromUserName`, `from`,
    /// `id` inside a `from` object) and its separator; the validator reads the whole key and the value.
    IdentityKey,
    /// A Feishu/Lark user id by its shape: `ou_` or `on_` and 32 hex digits (the DFA sees the prefix).
    LarkUserId,
    /// `<@`: a Slack or Discord user mention (`<@U024BE7LH>`, `<@!80351110224678912>`).
    Mention,
    /// `message from ` / `DM from `: the console phrases chat gateways log a sender with
    /// (`received message from NAME in CHAT`, `DM from NAME: text`).
    SenderPhrase,
    /// A word that makes the value after it personal: 电话/座机 (landline), 护照 (passport), QQ, 微信
    /// (WeChat id), 车牌 (plate), 出生/生日/DOB (birth date).
    ContextCue,
    /// `wxid_`: a WeChat id by its shape.
    Wxid,
    /// A home directory's root (`/home/`, `/Users/`, `C:\Users\`): the user name follows.
    HomeDir,
    /// A word that announces a Chinese name (姓名, 收件人, 联系人, 我叫) or a postal address (地址, 住址, 家住).
    NameAddressCue,
}

/// One built-in DFA pattern.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinPattern {
    pub handler: Handler,
    /// Detectors that can result.
    pub detectors: &'static [Detector],
    pub regex: &'static str,
}

// Byte-level building blocks (the patterns are compiled with Unicode off: they run over raw bytes).
macro_rules! digit {
    // ASCII, full-width (０-９), or full-width as a JSON escape (\uff10-\uff19).
    () => {
        r"(?:[0-9]|\xEF\xBC[\x90-\x99]|\\[uU][fF][fF]1[0-9])"
    };
}
macro_rules! enc_digit {
    // An ASCII digit written as an escape a program emits: `%31` (also doubly encoded `%2531`), `&#49;`,
    // `&#x31;` (with leading zeros too), `\u0031` (also `\\u0031`).
    () => {
        r"(?:%(?:25)?3[0-9]|&#0{0,3}(?:4[89]|5[0-7]);|&#[xX]0{0,2}3[0-9];|\\{1,2}u003[0-9])"
    };
}
macro_rules! sep {
    () => {
        // Loose separators, between any groups: a blank, a dash; no-break and thin spaces (U+00A0,
        // U+2002-200A, U+202F), Unicode dashes, the ideographic space, the full-width dash; a URL-encoded
        // space.
        r"(?:[ \-]|%20|\xC2\xA0|\xE2\x80[\x82-\x8A\x90-\x94\xAF]|\xE3\x80\x80|\xEF\xBC\x8D)"
    };
}
macro_rules! enc_sep {
    // A separator written as an escape: an HTML entity (`&nbsp;`, `&#32;`, `&#160;`, `&#45;`, `&#x2d;`)
    // or a URL-encoded dash (`%2D`).
    () => {
        r"(?:&nbsp;|&#0{0,3}(?:32|45|160|183|12288);|&#[xX]0{0,2}(?:20|2[dD]|[aA]0|[bB]7|3000);|%2[dD])"
    };
}
macro_rules! strict {
    () => {
        // Separators seen only in the canonical groupings (below): two blanks (also how columns are
        // aligned), dot, slash, underscore, middle dots (U+00B7, U+30FB), full-width dot and slash, and
        // JSON-escaped no-break and ideographic spaces (json.dumps writes them `\u00a0`, `\u3000`). Dotted
        // quads, decimals and columns of numbers never start a candidate.
        r"(?:  |[./_]|\xC2\xB7|\xE3\x83\xBB|\xEF\xBC[\x8E\x8F]|\\u00[aA]0|\\u3000)"
    };
}

/// The built-in patterns in priority order: when two start at the same byte, the earlier one is tried first.
pub const BUILTIN_PATTERNS: &[BuiltinPattern] = &[
    BuiltinPattern {
        handler: Handler::PemBlock,
        detectors: &[Detector::Secret],
        // The header's rest (`... PRIVATE KEY-----`) and the body are read by the validator.
        regex: r"(?-u:-----BEGIN )",
    },
    BuiltinPattern {
        handler: Handler::TokenFormat,
        detectors: &[Detector::Secret],
        // Only the prefix: counted token bodies in an unanchored DFA multiply its states, so the validator
        // reads the body (JWT: three dot-separated base64url parts; others: a minimum length).
        // Alibaba Cloud (LTAI) and Tencent Cloud (AKID) access key ids too.
        // age identities (AGE-SECRET-KEY-1...).
        // Discord bot tokens start with the bot's id in base64: two digit triplets as base64 are
        // `[MNO][DTjz][AEIMQUYcgk][w-z0-5]` then `[MNO][DTjz]`.
        regex: concat!(
            r"(?-u:eyJ|sk-|gh[pousr]_|github_pat_|xox[abeoprs]-|xapp-|A[KS]IA|AIza|LTAI|AKID|AGE-SECRET-KEY-1",
            r"|hf_|gsk_|pplx-|xai-|[MNO][DTjz][AEIMQUYcgk][w-z0-5][MNO][DTjz])"
        ),
    },
    BuiltinPattern {
        handler: Handler::Keyword,
        detectors: &[Detector::Secret, Detector::Password],
        // The END of a credential key name (`access_token`, `EncodingAESKey`, `db_password` end in one of
        // these; the validator reads the whole name back), its closing quote (plain, or escaped inside a JSON
        // string, once or twice), the separator and the value's opening quote. Blanks alone as separator serve
        // `--password VALUE` and `password is VALUE`, which the validator checks. `%3D` is `=` inside a
        // URL-encoded URL (a redirect_uri's query). `>` ends an XML element's start tag
        // (`<EncodingAESKey>...</EncodingAESKey>`; the validator wants the matching end tag).
        // `&quot;` is a quote in HTML-escaped JSON, `\x22` in nginx's logged request bodies.
        regex: concat!(
            r"(?-u:(?i:pass(?:word|wd|phrase)?|pwd|token|secret|key|auth(?:orization)?|credentials?|ticket",
            r"|session[_\-]?id)",
            // A colour code may close the key before a colon or `=` (`ESC[36mpassword ESC[0m=...`, also
            // written as an escape, `\u001b[39m`), never before blanks alone.
            r#"(?:(?:\x1B\[[0-9;]{0,12}m|\\{1,2}(?:u001[bB]|x1[bB]|033)\[[0-9;]{0,12}m)?"#,
            r#"(?:\\{0,3}["']|&quot;|\\x2[27])?[ \t]*(?::|=>|=|\xEF\xBC\x9A)|%3[DdAa]|[ \t]|>))"#
        ),
    },
    BuiltinPattern {
        handler: Handler::Bearer,
        detectors: &[Detector::Secret],
        regex: r"(?-u:(?i:bearer)(?:[ \t]+|%20))",
    },
    BuiltinPattern {
        handler: Handler::ChatPassword,
        detectors: &[Detector::Password, Detector::Secret],
        // 密码 口令 密碼 (password), 密钥 (secret key); the validator reads 是/为/為, colons, '=' or blanks.
        // Also as JSON `\uXXXX` escapes (Python's json.dumps writes 密码 as \u5bc6\u7801) and URL-encoded.
        regex: concat!(
            r"(?-u:密码|密碼|口令|密钥|密鑰",
            r"|\\[uU]5[bB][cC]6\\[uU](?:7801|78[bB][cC]|94[aA]5|9470)|\\[uU]53[eE]3\\[uU]4[eE][eE]4",
            // URL-encoded (`%E5%AF%86%E7%A0%81`), any case.
            r"|(?i:%E5%AF%86%E7%A0%81|%E5%AF%86%E7%A2%BC|%E5%8F%A3%E4%BB%A4|%E5%AF%86%E9%92%A5|%E5%AF%86%E9%91%B0))"
        ),
    },
    BuiltinPattern {
        handler: Handler::GoDsn,
        detectors: &[Detector::Password],
        regex: r"(?-u:@(?:tcp|udp|unix)\()",
    },
    BuiltinPattern {
        handler: Handler::CliPassword,
        detectors: &[Detector::Password],
        // The validator wants a blank before it and the command (mysql, mariadb, sshpass; redis-cli for `-a`)
        // earlier on the line.
        regex: r"(?-u:-[pa])",
    },
    BuiltinPattern {
        handler: Handler::UrlAuthority,
        detectors: &[Detector::Password],
        // Also with escaped slashes, as PHP's json_encode writes URLs (`mysql:\/\/bot:pw@db`).
        regex: r"(?-u:://|:\\/\\/)",
    },
    BuiltinPattern {
        handler: Handler::WebhookPath,
        detectors: &[Detector::Secret],
        // The secret is the path segment after these (Slack, Discord, Feishu and Lark bot webhooks), or the
        // session of a DingTalk reply webhook (`sessionWebhook`: `/robot/sendBySession?session=...`).
        regex: r"(?-u:hooks\.slack\.com/services/|/api/webhooks/|/open-apis/bot/v2/hook/|/robot/sendBySession\?session=)",
    },
    BuiltinPattern {
        handler: Handler::Cookie,
        detectors: &[Detector::Secret],
        // `Cookie: `, `Set-Cookie: `, `cookie="`, `"cookie":"`, `\"set-cookie\":[\"`; the validator reads the
        // `name=value` pairs.
        regex: r#"(?-u:(?i:cookie)(?:\\{0,3}["'])?[ \t]*[:=][ \t]*(?:\[?\\{0,3}["'])?)"#,
    },
    BuiltinPattern {
        handler: Handler::EmailAnchor,
        detectors: &[Detector::Email],
        // `@` as itself, URL-encoded, full-width or an HTML entity (`&#64;`, `&#x40;`, `&commat;`), then an
        // ASCII domain, or the first byte of a non-Latin one (`用户@例子.中国`; the validator reads it).
        regex: r"(?-u:(?:@|%40|\xEF\xBC\xA0|&#0{0,3}64;|&#[xX]0{0,2}40;|&commat;)(?:[A-Za-z0-9][A-Za-z0-9\-]*(?:\.[A-Za-z0-9\-]+)+|[\xC2-\xF4]))",
    },
    BuiltinPattern {
        handler: Handler::BotToken,
        detectors: &[Detector::Secret],
        // The bot's id and `:AA`; the validator reads the 35-character secret.
        regex: r"(?-u:[0-9]{6,12}:AA)",
    },
    BuiltinPattern {
        handler: Handler::Ipv4,
        // Before Numeric: a dotted quad of 1-3 digit parts is an address candidate first (a numeric candidate
        // with dots can never be a phone, ID or card with such groups).
        detectors: &[Detector::Ipv4],
        regex: r"(?-u:[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})",
    },
    BuiltinPattern {
        handler: Handler::Numeric,
        detectors: &[Detector::Phone, Detector::IdCard, Detector::BankCard],
        // Eleven digits (ASCII or full-width) with loose separators, the start of a grouping with strict or
        // mixed ones, or escaped digits start a candidate; the validator reads the rest of the run.
        regex: concat!(
            r"(?-u:(?:\+|%2[Bb]|\xEF\xBC\x8B)?",
            digit!(),
            "(?:",
            sep!(),
            "?",
            digit!(),
            "){10}",
            // Strict separators (or a loose one, then a strict one): the first two groups of a grouping of
            // three or more (ASCII digits) and the digit after them, `138.1234.5`, `1381.234.5`,
            // `6222.0212 3`, `110105.1949.1`; or a canonical 6-8 ID start, `110105.19491231`. A decimal
            // (`1234.567 ms`) or a date (`2024.05.07`) starts none.
            r"|[0-9]{3,6}(?:",
            strict!(),
            r"[0-9]{3,8}(?:",
            strict!(),
            "|",
            sep!(),
            ")|",
            sep!(),
            r"[0-9]{3,8}",
            strict!(),
            r")[0-9]",
            // Full-width digits in groups joined by a strict separator (`１３８．１２３４．５６７８`, `＿`).
            r"|(?:\xEF\xBC[\x90-\x99]){3,6}(?:",
            strict!(),
            r"|\xEF\xBC\xBF)\xEF\xBC[\x90-\x99]",
            // Groups joined by escaped separators (`138&#32;1234&#32;5678`, `6222&nbsp;0202...`).
            r"|[0-9]{3,6}",
            enc_sep!(),
            r"[0-9]",
            r"|[0-9]{6}",
            strict!(),
            r"[0-9]{8}",
            // Digits written as escapes (`&#49;&#51;&#56;...`, `%31%33%38...`, `\u0031...`): three in a row
            // start a candidate (the text layer decodes the rest of the run for the validator).
            "|",
            enc_digit!(),
            "{3})"
        ),
    },
    BuiltinPattern {
        handler: Handler::IdentityKey,
        detectors: &[
            Detector::UserId,
            Detector::Qq,
            Detector::PersonName,
            Detector::Address,
        ],
        // A key that may name a person's platform identifier (the validator reads it back and decides), its
        // closing quote at any escape level, the separator; or `>` closing an XML start tag
        // (`<FromUserName>`). The keys are spelled out, each starting a word, so that `msg_id=`,
        // `"trace_id":` or `filename=` never stop the scan; a key ending in `user_id`, `open_id`, `union_id`
        // or `staff_id` may have any prefix (`sender_user_id`, `operator_open_id`; the validator keeps the
        // bot's and the app's). Every key of `detect::identity`'s lists is here: `user[_-]?name` stands for
        // `username`, `user_name`, `userName`.
        regex: concat!(
            r"(?-u:(?:\b{start}(?i:",
            r"from[_-]?user(?:[_-]?name)?|to[_-]?user|follow[_-]?user|sender(?:[_-]?(?:id|nick|name|uin))?",
            r"|nick(?:[_-]?name)?|from(?:[_-]?(?:id|uin))?|author(?:[_-]?id)?|qq(?:[_-]?(?:number|no|id|uin))?",
            r"|uin|user(?:[_-]?name)?|id|(?:first|last|global|display)[_-]?name|name|chat",
            r"|(?:real|full|receiver|consignee|contact|customer)[_-]?name|receiver|consignee|contact(?:[_-]?person)?",
            r"|(?:(?:shipping|delivery|home|detail|full|receiver|contact)[_-]?)?addr(?:ess)?",
            r")|(?i:user|open|union|staff)[_-]?(?i:id))",
            r#"(?:(?:\\{0,3}["']|&quot;)?[ \t]*(?::|=|\xEF\xBC\x9A)|>))"#
        ),
    },
    BuiltinPattern {
        handler: Handler::LarkUserId,
        detectors: &[Detector::UserId],
        // Only the prefix and 8 hex digits (a counted body of 32 multiplies an unanchored DFA's states; 8
        // digits keep `session_abc`, `function_call` from stopping the scan); the validator reads all 32.
        regex: r"(?-u:o[un]_[0-9a-f]{8})",
    },
    BuiltinPattern {
        handler: Handler::Mention,
        detectors: &[Detector::UserId],
        regex: r"(?-u:<@!?[0-9A-Z])",
    },
    BuiltinPattern {
        handler: Handler::SenderPhrase,
        detectors: &[Detector::UserId],
        // The validator reads the sender and what must follow it (` in ` after `message from`, `:` after
        // either), so that `message from server failed` stays.
        regex: r"(?-u:(?i:message|dm) from )",
    },
    BuiltinPattern {
        handler: Handler::ContextCue,
        detectors: &[
            Detector::Landline,
            Detector::Passport,
            Detector::Qq,
            Detector::WechatId,
            Detector::Plate,
            Detector::BirthDate,
        ],
        // The cue word and the byte after it (the validator finds the word's end again, and that the word
        // starts one, reading escapes: `\u7684QQ`): an ASCII cue is not followed by a letter, `.` or `@`
        // (`tel:`, `QQ号`, not `Telegram`, `qq.com`,
        // `weixin.qq.com`; a label glued on, `phoneno`, `birthdate`, is part of the candidate); a Chinese
        // cue is followed by ASCII, a blank, `：` or what `cues::skip_to_value` reads (`号`, `是`, `日期`,
        // `年月日`), not by more Chinese text (`企业微信里`, `微信支付`). Longer words first
        // (leftmost-first: `birthday` before `birth`).
        regex: concat!(
            r"(?-u:(?i:telephone|tel|phone|fax|passport|qq|wechat|weixin|plate|dob|birthday|birth|born)",
            r"(?i:date|id|number|no)?[^A-Za-z.@]",
            r"|(?:电话|座机|固话|传真|护照|微信|出生|生日)",
            r"(?:[\x00-\x7F]|号|是|为|為|：|日|年|\xC2\xA0|\xE2\x80[\x82-\x8A\xAF]|\xE3\x80\x80)",
            r"|车牌",
            // The same words `\uXXXX`-escaped (json.dumps writes 电话 as `\u7535\u8bdd`; also inside a string
            // escaped again), followed by ASCII other than an escape, or by one of the words above escaped.
            r"|\\(?i:u(?:7535|56fa)\\{1,3}u8bdd|u5ea7\\{1,3}u673a|u4f20\\{1,3}u771f|u62a4\\{1,3}u7167",
            r"|u5fae\\{1,3}u4fe1|u51fa\\{1,3}u751f|u751f\\{1,3}u65e5)",
            r"(?:[\x00-\x5B\x5D-\x7F]|\\{1,3}(?i:u(?:53f7|662f|4e3a|70ba|ff1a|65e5|5e74|3000|00a0)))",
            r"|\\(?i:u8f66\\{1,3}u724c))"
        ),
    },
    BuiltinPattern {
        handler: Handler::Wxid,
        detectors: &[Detector::WechatId],
        regex: r"(?-u:wxid_)",
    },
    BuiltinPattern {
        handler: Handler::HomeDir,
        detectors: &[Detector::HomeUser],
        // Also with JSON-escaped backslashes (`C:\\Users\\`) and forward slashes (`C:/Users/`). A Windows
        // path's candidate starts at the colon (the validator reads the drive letter): starting at the
        // letter would make every letter a byte the scan stops at.
        regex: r"(?-u:/home/|/Users/|:(?:\\{1,4}Users\\{1,4}|/Users/))",
    },
    BuiltinPattern {
        handler: Handler::NameAddressCue,
        detectors: &[Detector::PersonName, Detector::Address],
        // The cue words, raw or `\uXXXX`-escaped (json.dumps writes 姓名 as `\u59d3\u540d`); the validator
        // reads the word again and the value. `客户`, `患者`, `名字` only before a separator, a verb or a label
        // (`客户：`, `客户姓名`), never before more text (`客户端`).
        regex: concat!(
            r"(?-u:姓名|收件人|收货人|寄件人|联系人|我叫|地址|住址|家住|住在|寄到|送到|居住地",
            r"|(?:客户|患者|名字)(?:[\x00-\x7F]|：|是|为|叫|姓|名|\xE3\x80\x80)",
            r"|\\(?i:u(?:59d3\\u540d|6536\\u(?:4ef6|8d27)\\u4eba|5bc4\\u4ef6\\u4eba|8054\\u7cfb\\u4eba",
            r"|6211\\u53eb|5730\\u5740|4f4f\\u(?:5740|5728)|5bb6\\u4f4f|5c45\\u4f4f\\u5730",
            r"|5ba2\\u6237|60a3\\u8005|540d\\u5b57)))"
        ),
    },
    BuiltinPattern {
        handler: Handler::Ipv6,
        detectors: &[Detector::Ipv6],
        // Groups then `::` (`2001:db8::`), four groups in a row (the full form), or `::` before a group;
        // the validator reads the rest. Times (`10:07:01`) and most MACs never start a candidate.
        regex: r"(?-u:(?:[0-9A-Fa-f]{1,4}:){1,7}:|(?:[0-9A-Fa-f]{1,4}:){4}|::[0-9A-Fa-f]{1,4})",
    },
];

/// Index of a built-in detector by name.
pub fn detector_index(name: &str) -> Option<usize> {
    Detector::from_name(name).map(Detector::index)
}
