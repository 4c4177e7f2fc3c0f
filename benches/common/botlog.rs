//! A deterministic, realistic WeCom chat-bot log for benchmarks: JSON lines and text lines, Chinese
//! message text, timestamps, msgids, user ids, URLs, LLM call logs, about one personal-data item per five
//! lines. Needs the `pii_gen` module (tests/common/pii_gen.rs) declared next to it as `crate::pii_gen`.
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

/// Streams bot-log lines.
pub struct BotLog {
    rng: Rng,
    /// Milliseconds since the epoch of the next line.
    t: u64,
    pub lines: u64,
    pub pii_items: u64,
}

impl BotLog {
    pub fn new(seed: u64) -> BotLog {
        BotLog {
            rng: Rng::new(seed),
            t: 1_715_040_000_000,
            lines: 0,
            pii_items: 0,
        }
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
        self.lines += 1;
    }

    /// Appends lines until `out` holds at least `bytes` bytes.
    pub fn fill(&mut self, out: &mut Vec<u8>, bytes: usize) {
        while out.len() < bytes {
            self.line(out);
        }
    }
}

/// A whole log of at least `bytes` bytes.
pub fn generate(seed: u64, bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 1024);
    BotLog::new(seed).fill(&mut out, bytes);
    out
}
