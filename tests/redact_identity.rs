//! Issue 16: the identifiers of people (`user_id`, `qq`, `home_user`), through the library API and the config:
//! their default action (the keyed pseudonym when a hash key is configured, `redact` when none is), and the
//! stable-token property: one identifier gives the same `[type:hex8]` token in every container, on every line
//! and in every written form (full-width, `\uXXXX`-escaped, URL-encoded); two identifiers give two tokens.

use logveil::redact::Engine;
use proptest::prelude::*;

const KEY: (&str, &str) = ("LOGVEIL_HASH_KEY", "0123456789abcdef0123456789abcdef");

mod common;
use common::{engine_from_yaml as engine, redact_text as run};

/// The `[type:hex8]` tokens of `type_name` in `text`, in order.
fn tokens(text: &str, type_name: &str) -> Vec<String> {
    let open = format!("[{type_name}:");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&open) {
        let tail = &rest[i + open.len()..];
        let hex: String = tail.chars().take_while(char::is_ascii_hexdigit).collect();
        assert_eq!(hex.len(), 8, "token in {text:?}");
        assert!(tail[8..].starts_with(']'), "token in {text:?}");
        out.push(hex);
        rest = &tail[8..];
    }
    out
}

#[test]
fn identifiers_are_redacted_without_a_key_and_pseudonymised_with_one() {
    let line = "[wecom-agent] text from=ChenJiaShun msgId=1456453720 uin=123456789 at /home/george/x.js tel 13812345678\n";
    let plain = engine("", &[]);
    assert_eq!(
        run(&plain, line),
        "[wecom-agent] text from=[REDACTED:user_id] msgId=1456453720 uin=[REDACTED:qq] at /home/[REDACTED:home_user]/x.js tel [REDACTED:phone]\n"
    );
    let keyed = engine("", &[KEY]);
    let out = run(&keyed, line);
    assert_eq!(tokens(&out, "user_id").len(), 1, "{out}");
    assert_eq!(tokens(&out, "qq").len(), 1, "{out}");
    assert_eq!(tokens(&out, "home_user").len(), 1, "{out}");
    assert!(
        out.contains("tel [REDACTED:phone]"),
        "numbers keep their own default (redact): {out}"
    );
    assert!(out.contains("msgId=1456453720"), "{out}");
}

#[test]
fn a_configured_action_wins_over_the_identifier_default() {
    let e = engine(
        "logveil:\n  detectors:\n    user_id: {action: redact}\n    home_user: {action: mask}\n",
        &[KEY],
    );
    let out = run(&e, "from=ChenJiaShun cwd=/home/george\n");
    assert_eq!(out, "from=[REDACTED:user_id] cwd=/home/******\n");
    let off = engine("logveil:\n  detectors:\n    user_id: false\n", &[KEY]);
    assert_eq!(run(&off, "from=ChenJiaShun\n"), "from=ChenJiaShun\n");
    // `hash_if_keyed` may be written out, and needs no key.
    let e = engine(
        "logveil:\n  detectors:\n    phone: {action: hash_if_keyed}\n",
        &[],
    );
    assert_eq!(run(&e, "13812345678\n"), "[REDACTED:phone]\n");
}

#[test]
fn the_token_is_the_key_s_hmac_of_the_type_and_the_identifier() {
    let e = engine("", &[KEY]);
    let key = logveil::redact::HashKey::from_env_value(KEY.1).unwrap();
    let want = String::from_utf8(key.pseudonym("user_id", b"ChenJiaShun").to_vec()).unwrap();
    assert_eq!(
        tokens(&run(&e, "{\"fromUser\":\"ChenJiaShun\"}\n"), "user_id"),
        [want]
    );
}

// ------------------------------------------------------------------------------------------ stable tokens

/// Containers an identifier is logged in (`{}` is the value as written).
const CONTAINERS: &[&str] = &[
    "[wecom-agent] text from={} chatId=N/A msgId=1456453720 content=hi",
    "{\"fromUser\":\"{}\",\"chatType\":\"single\"}",
    "{\"content\":\"{\\\"from\\\":{\\\"userid\\\":\\\"{}\\\"}}\"}",
    "<xml><FromUserName><![CDATA[{}]]></FromUserName></xml>",
    "<xml><FromUserName>{}</FromUserName></xml>",
    "INFO:relay {'from': {'userid': '{}'}, 'msgtype': 'text'}",
    "[WeCom] Processing single message from chat: {} user: {} reqId: 42",
    "{\"senderStaffId\":\"{}\",\"conversationType\":\"1\"}",
    "GET /cgi-bin/user/get?userid={} HTTP/1.1",
];

/// Forms the value is written in.
fn written(form: u8, id: &str) -> String {
    match form {
        0 => id.to_string(),
        // Full-width ASCII.
        1 => id
            .chars()
            .map(|c| char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap())
            .collect(),
        // JSON `\u00XX` escapes.
        2 => id.chars().map(|c| format!("\\u{:04x}", c as u32)).collect(),
        // URL-encoded.
        _ => id.bytes().map(|b| format!("%{b:02X}")).collect(),
    }
}

/// Identifier-shaped words (WeCom user ids, logins); the digit at the end keeps them apart from the
/// placeholders and system accounts that are no one (`none`, `root`, `git`).
fn ident() -> impl Strategy<Value = String> {
    "[A-Z][a-z]{2,8}[A-Z]?[a-z]{0,6}[0-9]{1,3}"
}

fn engine_keyed() -> &'static Engine {
    static E: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| engine("", &[KEY]))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// One id: one token, in every container, every written form (raw, full-width, `\uXXXX`, `%XX`), on
    /// every line; another id: another token.
    #[test]
    fn one_identifier_gives_one_token_everywhere(
        id in ident(),
        other in ident(),
        picks in proptest::collection::vec((0..CONTAINERS.len(), 0u8..4), 1..6),
    ) {
        prop_assume!(id != other);
        let e = engine_keyed();
        let mut text = String::new();
        for &(c, form) in &picks {
            // Percent-encoding is how URLs carry values; the other forms go anywhere.
            let form = if form == 3 && !CONTAINERS[c].starts_with("GET ") { 0 } else { form };
            text.push_str(&CONTAINERS[c].replace("{}", &written(form, &id)));
            text.push('\n');
        }
        text.push_str(&CONTAINERS[0].replace("{}", &other));
        text.push('\n');
        let out = run(e, &text);
        let toks = tokens(&out, "user_id");
        let per_line: usize = picks
            .iter()
            .map(|&(c, _)| CONTAINERS[c].matches("{}").count())
            .sum();
        prop_assert_eq!(toks.len(), per_line + 1, "every occurrence is replaced:\n{}", out);
        let (last, firsts) = toks.split_last().unwrap();
        prop_assert!(firsts.iter().all(|t| t == &firsts[0]), "one id, one token:\n{}", out);
        prop_assert_ne!(last, &firsts[0], "two ids, two tokens");
        prop_assert!(!out.contains(&id), "the id is gone");
        prop_assert_eq!(run(e, &out), out.clone(), "redacted text passes again unchanged");
    }

    /// A Feishu open_id and a home directory's user name: one token in a console phrase and a JSON key, in
    /// a Linux and a Windows path (also JSON-escaped).
    #[test]
    fn feishu_ids_and_home_names_give_one_token_everywhere(
        hex in "[0-9a-f]{32}",
        name in "[a-z]{3,8}[0-9]{1,2}",
    ) {
        let e = engine_keyed();
        let ou = format!("ou_{hex}");
        let text = format!(
            "DM from {ou}: hi\n{{\"sender_id\":{{\"open_id\":\"{ou}\"}}}}\n(session=agent:router:feishu:direct:{ou})\n\
             at /home/{name}/x.js\nC:\\Users\\{name}\\AppData\n{{\"p\":\"C:\\\\Users\\\\{name}\\\\AppData\"}}\nfile:///Users/{name}/.nvm\n"
        );
        let out = run(e, &text);
        let ids = tokens(&out, "user_id");
        prop_assert_eq!(ids.len(), 3, "{}", out);
        prop_assert!(ids.iter().all(|t| t == &ids[0]));
        let homes = tokens(&out, "home_user");
        prop_assert_eq!(homes.len(), 4, "{}", out);
        prop_assert!(homes.iter().all(|t| t == &homes[0]));
    }
}

#[test]
fn a_name_after_a_cue_is_an_identifier_and_an_address_is_redacted() {
    let line = "收件人：张伟，收货地址：北京市朝阳区建国路88号\n";
    let plain = engine("", &[]);
    assert_eq!(
        run(&plain, line),
        "收件人：[REDACTED:person_name]，收货地址：[REDACTED:address]\n"
    );
    let keyed = engine("", &[KEY]);
    let out = run(&keyed, line);
    assert!(out.contains("收货地址：[REDACTED:address]"), "{out}");
    // One name gives one token, written plainly or `\uXXXX`-escaped in JSON.
    let escaped = run(
        &keyed,
        "{\"text\":\"\\u59d3\\u540d\\uff1a\\u5f20\\u4f1f\"}\n",
    );
    let (a, b) = (tokens(&out, "person_name"), tokens(&escaped, "person_name"));
    assert_eq!((a.len(), b.len()), (1, 1), "{out} {escaped}");
    assert_eq!(a, b);
    let other = run(&keyed, "姓名：李娜\n");
    assert_ne!(tokens(&other, "person_name"), a, "{other}");
}
