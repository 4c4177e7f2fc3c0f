//! A deterministic, realistic WeCom chat-bot log for benchmarks, in two densities ([`Profile`]):
//!
//! - sparse: JSON lines and text lines, Chinese message text, timestamps, msgids, user ids, URLs, LLM call
//!   logs, about one personal-data item per five lines (the log the benches used first);
//! - dense: every line a message, a chosen number of personal values and look-alike numbers per line
//!   (default 0.7 and 1.5), median line about 250 bytes, a third JSON with `\uXXXX`-escaped text (Python's
//!   `json.dumps`), a third Chinese text, a third key=value.
//!
//! Needs the `pii_gen` module (tests/common/pii_gen.rs) declared next to it as `crate::pii_gen`.
#![allow(dead_code)]

use crate::pii_gen::{self, Rng};

const USERS: &[&str] = &[
    "ZhangWei", "LiNa", "WangFang", "chen.jie", "LiuYang", "HuangMin", "ZhaoLei", "SunLi",
    "ZhouJing", "WuHao", "XuJing", "MaChao",
];

const ASKS: &[&str] = &[
    "你好，请问怎么申请出差报销？",
    "帮我查一下明天下午三点的会议室还有没有空",
    "今天的周报模板在哪里下载",
    "请把上周的销售数据汇总发给我",
    "年假还剩几天？",
    "打印机又卡纸了，谁来处理一下",
    "这个合同的审批流程走到哪一步了",
    "帮我把这段话翻译成英文：我们下周一开会讨论新版本的上线计划",
    "VPN 连不上，提示证书过期",
    "新员工入职需要准备哪些材料",
    "食堂今天中午有什么菜",
    "请总结一下这份文档的要点",
];

const REPLIES: &[&str] = &[
    "您好，出差报销请在企业微信审批里选择“差旅报销”，附上发票和行程单即可。",
    "已为您查询：3号会议室 15:00-16:00 空闲，是否需要预订？",
    "周报模板在共享盘 /行政/模板/周报.docx，也可以在工作台搜索“周报”。",
    "好的，已生成上周销售汇总，请查收附件。",
    "根据系统记录，您今年剩余年假 5 天。",
    "已通知行政同事处理打印机问题，预计 10 分钟内到场。",
    "该合同目前在法务审核环节，提交时间 2024-05-06 14:20。",
    "Translation: We will hold a meeting next Monday to discuss the release plan of the new version.",
    "证书过期请在 IT 自助门户重新下载客户端配置文件。",
];

/// A user message that carries one personal-data item (the bot log's ~1 in 5).
fn pii_message(rng: &mut Rng) -> String {
    match rng.below(9) {
        0 => format!("我的手机号是{}，有问题打给我", pii_gen::mobile(rng)),
        1 => format!("身份证号{}，帮我查一下社保", pii_gen::id18(rng)),
        2 => format!(
            "工资卡号 {} 需要变更",
            pii_gen::group4(&pii_gen::card(rng, 19), " ")
        ),
        3 => format!("请发到我邮箱{}，谢谢", pii_gen::email(rng)),
        4 => format!(
            "VPN 账号 zhangwei 密码是{}，帮我重置",
            pii_gen::password(rng)
        ),
        5 => format!(
            "联系人：王经理 {}",
            pii_gen::group(&pii_gen::mobile(rng), &[3, 4, 4], "-")
        ),
        6 => format!("报销打到这张卡：{}", pii_gen::card(rng, 16)),
        7 => format!("我的QQ邮箱 {}", pii_gen::email_qq(rng)),
        _ => format!("紧急联系人电话+86 {}", pii_gen::mobile(rng)),
    }
}

/// How dense a generated log is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Profile {
    /// The first bench log: about 0.2 personal values per line, long quiet stretches.
    Sparse,
    /// Every line a message carrying on average `values` personal values and `lookalikes` numbers that
    /// look like personal data but are not (timestamps, order numbers, msgids, hashes, bad IDs and cards).
    Dense { values: f64, lookalikes: f64 },
}

impl Profile {
    /// The dense profile of issue 17: >= 0.6 values and >= 1 look-alike per line.
    pub const DENSE: Profile = Profile::Dense {
        values: 0.7,
        lookalikes: 1.5,
    };

    /// `sparse`, `dense`, or `dense:VALUES:LOOKALIKES` (per line, e.g. `dense:1.5:2`).
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "sparse" => Some(Profile::Sparse),
            "dense" => Some(Profile::DENSE),
            _ => {
                let mut it = s.strip_prefix("dense:")?.split(':');
                let values = it.next()?.parse().ok()?;
                let lookalikes = it.next()?.parse().ok()?;
                Some(Profile::Dense { values, lookalikes })
            }
        }
    }

    pub fn name(&self) -> String {
        match *self {
            Profile::Sparse => "sparse".into(),
            p if p == Profile::DENSE => "dense".into(),
            Profile::Dense { values, lookalikes } => format!("dense:{values}:{lookalikes}"),
        }
    }
}

/// Filler text for dense lines (no digits, no personal data).
const CHAT: &[&str] = &[
    "你好",
    "麻烦帮我看一下",
    "这个问题比较急",
    "昨天已经提交过一次了",
    "系统提示处理中",
    "请尽快回复",
    "谢谢",
    "我在外地出差",
    "客服说要重新核对信息",
    "帮我转给财务同事",
    "上次登记的信息有误",
    "请核实后更新",
    "已经等了很久了",
    "收到请回复",
    "好的，马上处理",
];

const KV_FILLER: &[&str] = &[
    "region=cn-east-2",
    "model=qwen-max",
    "stream=false",
    "retries=0",
    "cache=miss",
    "upstream=qyapi.weixin.qq.com",
    "agent=wecom-bot",
    "tenant=corp-main",
    "lang=zh-CN",
    "channel=single_chat",
];

/// One personal value: (key=value key, Chinese lead-in, the value as written).
fn dense_value(rng: &mut Rng) -> (&'static str, &'static str, String) {
    match rng.below(100) {
        0..=17 => ("phone", "手机号", pii_gen::mobile(rng)),
        18..=25 => (
            "mobile",
            "电话",
            pii_gen::group(&pii_gen::mobile(rng), &[3, 4, 4], "-"),
        ),
        26..=29 => ("tel", "联系方式", format!("+86 {}", pii_gen::mobile(rng))),
        30..=41 => ("id_no", "身份证号", pii_gen::id18(rng)),
        42..=47 => ("card_no", "银行卡号", pii_gen::card(rng, 19)),
        48..=53 => (
            "card",
            "卡号",
            pii_gen::group4(&pii_gen::card(rng, 16), " "),
        ),
        54..=63 => ("email", "邮箱", pii_gen::email(rng)),
        64..=69 => ("mail", "QQ邮箱 ", pii_gen::email_qq(rng)),
        70..=81 => ("client_ip", "登录IP ", pii_gen::ipv4(rng)),
        82..=91 => ("password", "密码是", pii_gen::password(rng)),
        _ => ("access_token", "token=", pii_gen::token(rng)),
    }
}

/// One look-alike: (key, Chinese lead-in, value); all of them must survive redaction.
fn dense_lookalike(rng: &mut Rng) -> (&'static str, &'static str, String) {
    let (key, zh, name) = *rng.pick(&[
        &("ts", "时间戳", "ts13"),
        &("create_time", "创建时间", "ts13luhn"),
        &("timestamp", "时间", "ts10"),
        &("order_no", "订单号", "order"),
        &("msgid", "消息ID", "msgid19"),
        &("request_id", "请求号", "uuid"),
        &("trace_id", "追踪号", "sha1"),
        &("sign", "签名", "md5"),
        &("ref_no", "工单号", "id18bad"),
        &("case_no", "案件号", "id18baddate"),
        &("seq", "流水号", "n11x"),
        &("biz_no", "业务单号", "cardbad"),
        &("invoice", "发票号", "luhn12"),
        &("txn_id", "交易号", "luhn20"),
    ]);
    let value = pii_gen::generate(name, rng).expect("a known look-alike name");
    (key, zh, value)
}

/// `mean` as a whole count for one line: its whole part, plus one with the probability of its fraction.
fn count_for_line(rng: &mut Rng, mean: f64) -> usize {
    let whole = mean.max(0.0).floor();
    let frac = ((mean - whole) * 1e6) as u64;
    whole as usize + usize::from(rng.below(1_000_000) < frac)
}

/// Streams bot-log lines.
pub struct BotLog {
    rng: Rng,
    profile: Profile,
    /// Milliseconds since the epoch of the next line.
    t: u64,
    pub lines: u64,
    pub pii_items: u64,
    pub lookalikes: u64,
    /// Dense profile: lines by shape (JSON with `\u` escapes, Chinese text, key=value).
    pub shapes: [u64; 3],
    /// When set, the dense profile's values and look-alikes are kept here (for tests of the corpus).
    pub record: Option<Recorded>,
}

/// What a dense log planted, line by line (a sparse log records nothing).
#[derive(Debug, Default)]
pub struct Recorded {
    pub lines: Vec<PlantedLine>,
}

#[derive(Debug, Default)]
pub struct PlantedLine {
    pub values: Vec<String>,
    pub lookalikes: Vec<String>,
}

impl BotLog {
    /// The sparse log.
    pub fn new(seed: u64) -> BotLog {
        BotLog::with_profile(seed, Profile::Sparse)
    }

    pub fn with_profile(seed: u64, profile: Profile) -> BotLog {
        BotLog {
            rng: Rng::new(seed),
            profile,
            t: 1_715_040_000_000,
            lines: 0,
            pii_items: 0,
            lookalikes: 0,
            shapes: [0; 3],
            record: None,
        }
    }

    /// A one-line summary of what was generated.
    pub fn summary(&self) -> String {
        let per = |n: u64| n as f64 / self.lines.max(1) as f64;
        format!(
            "{} profile: {} lines, {:.2} personal values and {:.2} look-alikes per line",
            self.profile.name(),
            self.lines,
            per(self.pii_items),
            per(self.lookalikes)
        )
    }

    fn stamp(&mut self) -> (String, String) {
        self.t += self.rng.range(1, 900);
        let ms = self.t % 1000;
        let s = self.t / 1000;
        let (h, m, sec) = ((s / 3600 + 8) % 24, (s / 60) % 60, s % 60);
        let day = 7 + (s - 1_715_040_000) / 86_400;
        (
            format!("2024-05-{day:02}T{h:02}:{m:02}:{sec:02}.{ms:03}+08:00"),
            format!("2024-05-{day:02} {h:02}:{m:02}:{sec:02},{ms:03}"),
        )
    }

    /// Appends one line (with its newline).
    pub fn line(&mut self, out: &mut Vec<u8>) {
        match self.profile {
            Profile::Sparse => self.sparse_line(out),
            Profile::Dense { values, lookalikes } => self.dense_line(out, values, lookalikes),
        }
        self.lines += 1;
    }

    fn sparse_line(&mut self, out: &mut Vec<u8>) {
        let (iso, plain) = self.stamp();
        let rng = &mut self.rng;
        let user = rng.pick(USERS);
        let line = match rng.below(20) {
            // Incoming message callback, JSON; some carry personal data.
            0..=5 => {
                let content = if rng.chance(38) {
                    self.pii_items += 1;
                    pii_message(rng)
                } else {
                    rng.pick(ASKS).to_string()
                };
                format!(
                    r#"{{"ts":"{iso}","level":"INFO","logger":"wecom.callback","msg":"message received","msgid":"{}","from":"{user}","chatid":"wr{}","msgtype":"text","content":"{content}","agentid":1000002}}"#,
                    pii_gen::msgid19(rng),
                    rng.alnum(22)
                )
            }
            // LLM request/response log lines.
            6..=8 => format!(
                "{plain} INFO llm.client request_id={} model=qwen-max user={user} prompt_tokens={} completion_tokens={} latency_ms={} status=200",
                pii_gen::uuid(rng),
                rng.range(200, 4000),
                rng.range(20, 800),
                rng.range(300, 9000)
            ),
            9..=10 => format!(
                r#"{{"ts":"{iso}","level":"DEBUG","logger":"llm.prompt","trace_id":"{}","messages":[{{"role":"system","content":"你是企业微信里的行政助手，回答要简洁。"}},{{"role":"user","content":"{}"}}],"temperature":0.3,"max_tokens":1024}}"#,
                rng.hex(32),
                rng.pick(ASKS)
            ),
            // Bot reply, JSON.
            11..=13 => format!(
                r#"{{"ts":"{iso}","level":"INFO","logger":"wecom.reply","msg":"reply sent","touser":"{user}","msgtype":"text","content":"{}","errcode":0,"errmsg":"ok","cost_ms":{}}}"#,
                rng.pick(REPLIES),
                rng.range(5, 300)
            ),
            // Outgoing API call with the access token in the URL (personal data: a secret).
            14 => {
                self.pii_items += 1;
                format!(
                    "{plain} INFO http.client POST https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token={} status=200 cost={}ms",
                    pii_gen::wx_access_token(rng),
                    rng.range(20, 400)
                )
            }
            // Access log of the callback endpoint (personal data: the client address).
            15 => {
                self.pii_items += 1;
                format!(
                    "{} - - [07/May/2024:{}] \"POST /wecom/callback?msg_signature={}&timestamp={}&nonce={} HTTP/1.1\" 200 17 \"-\" \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 wxwork/4.1.22\"",
                    pii_gen::ipv4(rng),
                    &plain[11..19],
                    rng.hex(40),
                    self.t / 1000,
                    rng.range(100_000_000, 999_999_999)
                )
            }
            // Cache, queue, scheduler chatter.
            16 => format!(
                "{plain} DEBUG cache hit key=user_profile:{user} ttl=300 size={}B",
                rng.range(200, 5000)
            ),
            17 => format!(
                "{plain} INFO scheduler job=sync_departments run_id={} took={}ms synced={} departments",
                pii_gen::uuid(rng),
                rng.range(100, 20_000),
                rng.range(1, 300)
            ),
            18 => format!(
                "{plain} WARN wecom.api errcode=45009 errmsg=\"api freq out of limit\" retry_in={}s order_no={}",
                rng.range(1, 60),
                pii_gen::order_no(rng, 18)
            ),
            _ => format!(
                r#"{{"ts":"{iso}","level":"INFO","logger":"kb.search","query":"{}","hits":{},"took_ms":{},"doc_ids":["{}","{}"]}}"#,
                rng.pick(ASKS),
                rng.range(0, 50),
                rng.range(3, 200),
                rng.hex(24),
                rng.hex(24)
            ),
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }

    /// A dense line: a message with `values` personal values and `lookalikes` look-alikes (on average),
    /// about 250 bytes (median), in one of three shapes.
    fn dense_line(&mut self, out: &mut Vec<u8>, values: f64, lookalikes: f64) {
        let (iso, plain) = self.stamp();
        let rng = &mut self.rng;
        let n_values = count_for_line(rng, values);
        let n_look = count_for_line(rng, lookalikes);
        self.pii_items += n_values as u64;
        self.lookalikes += n_look as u64;
        // Values and look-alikes in a random order.
        let mut items: Vec<(&str, &str, String)> = Vec::with_capacity(n_values + n_look);
        for _ in 0..n_values {
            items.push(dense_value(rng));
        }
        for _ in 0..n_look {
            items.push(dense_lookalike(rng));
        }
        if let Some(rec) = &mut self.record {
            let text = |items: &[(&str, &str, String)]| items.iter().map(|i| i.2.clone()).collect();
            rec.lines.push(PlantedLine {
                values: text(&items[..n_values]),
                lookalikes: text(&items[n_values..]),
            });
        }
        for i in (1..items.len()).rev() {
            items.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let user = rng.pick(USERS);
        let target = rng.range(150, 290) as usize;
        let shape = rng.below(3) as usize;
        self.shapes[shape] += 1;
        // Chinese text around the items, then filler until the line is long enough.
        let chinese =
            |rng: &mut Rng, items: &[(&str, &str, String)], room: &dyn Fn(&str) -> bool| {
                let mut text = rng.pick(CHAT).to_string();
                for (_, zh, v) in items {
                    text.push('，');
                    text.push_str(zh);
                    text.push_str(v);
                    if rng.chance(50) {
                        text.push('，');
                        text.push_str(rng.pick(CHAT));
                    }
                }
                while room(&text) {
                    text.push('，');
                    text.push_str(rng.pick(CHAT));
                }
                text.push('。');
                text
            };
        let line = match shape {
            // JSON as Python's json.dumps writes it: non-ASCII as \uXXXX, ", " and ": " separators.
            0 => {
                let head = format!(
                    r#"{{"time": "{iso}", "level": "INFO", "from": "{user}", "content": ""#
                );
                let text = chinese(rng, &items, &|t| {
                    head.len() + pii_gen::json_u_escape(t).len() + 2 < target
                });
                format!(r#"{head}{}"}}"#, pii_gen::json_u_escape(&text))
            }
            // Chinese text.
            1 => {
                let head = format!("{plain} INFO [wecom.bot] 收到 {user} 的消息：");
                let text = chinese(rng, &items, &|t| head.len() + t.len() < target);
                format!("{head}{text}")
            }
            // key=value.
            _ => {
                let mut line = format!(
                    "{plain} INFO http.access method=POST path=/api/v1/messages user={user}"
                );
                for (key, _, v) in &items {
                    line.push(' ');
                    line.push_str(key);
                    line.push('=');
                    line.push_str(v);
                }
                while line.len() + 24 < target {
                    line.push(' ');
                    line.push_str(rng.pick(KV_FILLER));
                }
                line.push_str(" status=200 cost=12ms");
                line
            }
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }

    /// Appends lines until `out` holds at least `bytes` bytes.
    pub fn fill(&mut self, out: &mut Vec<u8>, bytes: usize) {
        while out.len() < bytes {
            self.line(out);
        }
    }
}

/// A whole log of at least `bytes` bytes.
pub fn generate(seed: u64, profile: Profile, bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 1024);
    BotLog::with_profile(seed, profile).fill(&mut out, bytes);
    out
}
