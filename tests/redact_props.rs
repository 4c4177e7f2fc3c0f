//! Property tests of the redaction engine and its streaming wrapper (library API).
//!
//! - Text without personal data passes byte-identical (also fed in random pieces).
//! - Every planted value is gone, and feeding `Redactor::push` in random pieces gives exactly the one-shot
//!   `redact_all` output, whatever the split points; also for long lines cut by the wrapper.
//! - `ParallelRedactor` (chunks of lines on worker threads) gives exactly the single-threaded output and
//!   counts, whatever the threads, chunk size and split points; long lines and private keys across chunks
//!   included.
//!
//! Failure messages show sizes, positions and placeholders, never a planted value.

#[path = "common/pii_gen.rs"]
mod pii_gen;

use std::num::NonZeroUsize;
use std::sync::{Arc, LazyLock};

use logveil::parallel::{Options, ParallelRedactor};
use logveil::redact::stream::HOLD;
use logveil::redact::{redact_all, Engine, EngineConfig, Findings, Redactor};
use pii_gen::Rng;
use proptest::prelude::*;
use proptest::sample::Index;

static ENGINE: LazyLock<Engine> =
    LazyLock::new(|| Engine::new(&EngineConfig::default()).expect("default engine"));

// ------------------------------------------------------------------------------------------ text pieces

const WORDS: &[&str] = &[
    "hello",
    "world",
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "INFO",
    "WARN",
    "ERROR",
    "bot",
    "reply",
    "chat",
    "model",
    "qwen",
    "latency",
    // Not `user`: since issue 16 `user: NAME` and `user=NAME` name a person.
    "users",
    "group",
    "用户",
    "消息",
    "订单",
    "已发货",
    "模型",
    "调用",
    "成功",
    "失败",
    "请求",
    "回复",
    "群聊",
    "你好",
    "谢谢",
    "企业微信",
    "机器人",
    "ok",
    "status",
    "done",
];

const PUNCT: &[&str] = &[
    " ", "  ", "\t", ",", ";", "!", "?", "(", ")", "[", "]", "{", "}", "\"", "'", "，", "。", "！",
    "：", "、", "|", "/", "#", "*",
];

/// Look-alikes issue 2 says must survive.
const DECOYS: &[&str] = &[
    "uuid",
    "sha256",
    "sha1",
    "md5",
    "ts13",
    "ts13luhn",
    "ts10",
    "order",
    "msgid19",
    "id18bad",
    "id18baddate",
    "n11x",
    "blk",
    "blkluhn",
    "blkid",
    "cardbad",
    "luhn12",
    "luhn20",
];

/// One piece of PII-free text.
fn safe_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::sample::select(WORDS).prop_map(|w| w.as_bytes().to_vec()),
        4 => prop::sample::select(PUNCT).prop_map(|w| w.as_bytes().to_vec()),
        2 => (0u32..1_000_000).prop_map(|n| format!(" {n} ").into_bytes()),
        2 => prop_oneof![Just(b"\n".to_vec()), Just(b"\r\n".to_vec())],
        1 => prop::collection::vec(0x80u8..=0xff, 1..4),
        1 => Just(b"\0".to_vec()),
        1 => Just(b"2024-05-07 12:34:56.789".to_vec()),
        1 => Just(b"Chrome/124.0.0.0 Safari/537.36".to_vec()),
        1 => Just(b"\x1b[32mINFO\x1b[0m".to_vec()),
        2 => (prop::sample::select(DECOYS), any::<u64>()).prop_map(|(name, seed)| {
            let v = pii_gen::generate(name, &mut Rng::new(seed)).unwrap();
            format!(" {v} ").into_bytes()
        }),
    ]
}

fn safe_text(max_pieces: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(safe_piece(), 0..max_pieces).prop_map(|v| v.concat())
}

/// The kinds of planted value: (text to plant, the part that must be gone).
const KINDS: &[&str] = &[
    "phone",
    "phone_dash",
    "phone_plus86",
    "phone_fw",
    "id18",
    "id15",
    "card16_groups",
    "card19",
    "email",
    "email_plus",
    "ipv4",
    "ipv6",
    "password_kv",
    "password_chat",
    "bearer",
    "access_token",
    "password_dsn",
    "phone_json_u",
];

fn plant(kind: &str, rng: &mut Rng) -> (String, String) {
    let same = |v: String| (v.clone(), v);
    match kind {
        "phone" => same(pii_gen::mobile(rng)),
        "phone_dash" => same(pii_gen::group(&pii_gen::mobile(rng), &[3, 4, 4], "-")),
        "phone_plus86" => {
            let m = pii_gen::mobile(rng);
            (format!("+86 {m}"), m)
        }
        "phone_fw" => same(pii_gen::fullwidth(&pii_gen::mobile(rng))),
        "id18" => same(pii_gen::id18(rng)),
        "id15" => same(pii_gen::id15(rng)),
        "card16_groups" => same(pii_gen::group4(&pii_gen::card(rng, 16), " ")),
        "card19" => same(pii_gen::card(rng, 19)),
        "email" => same(pii_gen::email(rng)),
        "email_plus" => same(pii_gen::email_plus(rng)),
        // After a word that names no product or version (after `v`, `version` or `WeChat` it is a version).
        "ipv4" => {
            let ip = pii_gen::ipv4(rng);
            (format!("client {ip}"), ip)
        }
        "ipv6" => same(pii_gen::ipv6_full(rng)),
        "password_kv" => {
            let p = pii_gen::password(rng);
            (format!("password={p}"), p)
        }
        "password_chat" => {
            let p = pii_gen::password(rng);
            (format!("密码是{p}"), p)
        }
        "bearer" => {
            let t = pii_gen::token(rng);
            (format!("Authorization: Bearer {t}"), t)
        }
        "access_token" => {
            let t = pii_gen::wx_access_token(rng);
            (format!("access_token={t}"), t)
        }
        "password_dsn" => {
            let p = pii_gen::password_dsn(rng);
            (format!("postgres://bot:{p}@db.internal:5432/app"), p)
        }
        "phone_json_u" => {
            let m = pii_gen::mobile(rng);
            (format!("\\u624b\\u673a\\u53f7{m}"), m)
        }
        // A private key over several lines: a value a redactor carries from one line to the next.
        "pem_block" => {
            let label = rng.pick(&["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY"]);
            let body: Vec<String> = (0..rng.range(2, 12))
                .map(|_| pii_gen::pem_line(rng))
                .collect();
            let block = format!(
                "\n-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
                body.join("\n")
            );
            (block, body[body.len() / 2].clone())
        }
        _ => unreachable!("{kind}"),
    }
}

/// Text with planted values, and the parts that must be gone. Its Debug form (what proptest prints for a
/// failing case) shows sizes only, never the planted values.
struct Planted {
    text: Vec<u8>,
    secrets: Vec<String>,
}

impl std::fmt::Debug for Planted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Planted {{ {} bytes, {} planted values (not shown) }}",
            self.text.len(),
            self.secrets.len()
        )
    }
}

/// Text with planted values; returns the text and the parts that must be gone.
fn planted_text(
    kinds: &'static [&'static str],
    max_pieces: usize,
) -> impl Strategy<Value = Planted> {
    let item = prop_oneof![
        3 => safe_piece().prop_map(|b| (b, None)),
        1 => (prop::sample::select(kinds), any::<u64>()).prop_map(|(k, seed)| {
            let (text, secret) = plant(k, &mut Rng::new(seed));
            (format!(" {text} ").into_bytes(), Some(secret))
        }),
    ];
    prop::collection::vec(item, 0..max_pieces).prop_map(|items| {
        let mut text = Vec::new();
        let mut secrets = Vec::new();
        for (b, s) in items {
            text.extend_from_slice(&b);
            secrets.extend(s);
        }
        Planted { text, secrets }
    })
}

// ------------------------------------------------------------------------------------------ helpers

fn split_points(len: usize, idx: &[Index]) -> Vec<usize> {
    let mut cuts: Vec<usize> = idx.iter().map(|i| i.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// Feeds `input` to a Redactor in the pieces given by `cuts`.
fn redact_in_pieces(r: &mut Redactor, input: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = 0;
    for &c in cuts {
        r.push(&input[prev..c], &mut out);
        prev = c;
    }
    r.push(&input[prev..], &mut out);
    r.finish(&mut out);
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    !needle.is_empty() && memchr::memmem::find(hay, needle.as_bytes()).is_some()
}

/// Indices of secrets still present in `out`.
fn leaked(out: &[u8], secrets: &[String]) -> Vec<usize> {
    (0..secrets.len())
        .filter(|&i| contains(out, &secrets[i]))
        .collect()
}

fn first_diff(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

// ------------------------------------------------------------------------------------------ properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn text_without_pii_passes_byte_identical(text in safe_text(200)) {
        let (out, findings) = redact_all(&ENGINE, &text);
        prop_assert_eq!(findings.total(), 0, "found something in PII-free text");
        prop_assert!(out == text, "changed at byte {} of {}", first_diff(&out, &text), text.len());
    }

    #[test]
    fn text_without_pii_in_random_pieces_passes_byte_identical(
        text in safe_text(200),
        idx in prop::collection::vec(any::<Index>(), 0..30),
    ) {
        let cuts = split_points(text.len(), &idx);
        let out = redact_in_pieces(&mut Redactor::new(&ENGINE), &text, &cuts);
        prop_assert!(out == text, "changed at byte {} of {}", first_diff(&out, &text), text.len());
    }

    #[test]
    fn planted_values_are_gone_whatever_the_split_points(
        planted in planted_text(KINDS, 120),
        idx in prop::collection::vec(any::<Index>(), 0..30),
    ) {
        let Planted { text, secrets } = planted;
        let (one_shot, findings) = redact_all(&ENGINE, &text);
        let l = leaked(&one_shot, &secrets);
        prop_assert!(l.is_empty(), "one-shot: planted values {:?} of {} not gone", l, secrets.len());
        prop_assert!(findings.total() as usize >= secrets.len(), "fewer findings than planted values");
        let cuts = split_points(text.len(), &idx);
        let pieces = redact_in_pieces(&mut Redactor::new(&ENGINE), &text, &cuts);
        prop_assert!(
            pieces == one_shot,
            "pieces at {:?} differ from one-shot at output byte {}",
            cuts,
            first_diff(&pieces, &one_shot)
        );
    }
}

/// All kinds, and private keys over several lines.
static KINDS_PEM: LazyLock<Vec<&'static str>> = LazyLock::new(|| [KINDS, &["pem_block"]].concat());

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Regression: the rest of a PEM block in a later region was replaced (and counted) again, so input read
    /// in other pieces (line by line from a pipe) gave other output.
    #[test]
    fn pem_blocks_give_the_one_shot_output_and_counts_whatever_the_split_points(
        planted in planted_text(&KINDS_PEM, 120),
        idx in prop::collection::vec(any::<Index>(), 0..30),
    ) {
        let Planted { text, secrets } = planted;
        let (one_shot, findings) = redact_all(&ENGINE, &text);
        let l = leaked(&one_shot, &secrets);
        prop_assert!(l.is_empty(), "one-shot: planted values {:?} of {} not gone", l, secrets.len());
        let cuts = split_points(text.len(), &idx);
        let mut r = Redactor::new(&ENGINE);
        let pieces = redact_in_pieces(&mut r, &text, &cuts);
        prop_assert!(
            pieces == one_shot,
            "pieces at {:?} differ from one-shot at output byte {}",
            cuts,
            first_diff(&pieces, &one_shot)
        );
        prop_assert_eq!(r.take_findings(), findings);
    }
}

/// A long line (no newline for > 2 x the smallest cut size) made of `text` repeated with fresh values.
fn long_lines(kinds: &'static [&'static str]) -> impl Strategy<Value = Planted> {
    prop::collection::vec(planted_text(kinds, 60), 40..80).prop_map(|parts| {
        let mut text = Vec::new();
        let mut secrets = Vec::new();
        for Planted {
            text: t,
            secrets: s,
        } in parts
        {
            // Drop newlines so lines get long; keep CRs and everything else.
            text.extend(t.into_iter().filter(|&b| b != b'\n'));
            text.extend_from_slice(b" ");
            secrets.extend(s);
        }
        // Stretch past several cuts of a Redactor with the smallest line limit (2 x HOLD).
        let unit = text.clone();
        while text.len() < 5 * HOLD {
            text.extend_from_slice(&unit);
            text.push(b' ');
        }
        text.push(b'\n');
        Planted { text, secrets }
    })
}

fn check_long_line(text: &[u8], secrets: &[String], idx: &[Index]) -> Result<(), TestCaseError> {
    // The reference: a line limit larger than the line, so it is never cut.
    let mut whole = Redactor::with_max_line(&ENGINE, 64 << 20);
    let reference = redact_in_pieces(&mut whole, text, &[]);
    let l = leaked(&reference, secrets);
    prop_assert!(l.is_empty(), "uncut: planted values {:?} not gone", l);
    let cuts = split_points(text.len(), idx);
    let mut small = Redactor::with_max_line(&ENGINE, 2 * HOLD);
    let out = redact_in_pieces(&mut small, text, &cuts);
    let l = leaked(&out, secrets);
    prop_assert!(
        l.is_empty(),
        "cut lines: planted values {:?} of {} not gone",
        l,
        secrets.len()
    );
    prop_assert!(
        out == reference,
        "cut lines (pieces at {:?}) differ from the uncut redaction at output byte {}",
        cuts,
        first_diff(&out, &reference)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn long_lines_cut_by_the_wrapper_give_the_uncut_redaction(
        planted in long_lines(KINDS),
        idx in prop::collection::vec(any::<Index>(), 0..40),
    ) {
        check_long_line(&planted.text, &planted.secrets, &idx)?;
    }
}

/// Every kind placed so that the first cut of a long line (at `max_line` from the line's start) falls at
/// each offset inside it, and more than HOLD bytes follow.
fn straddle_all_offsets(kinds: &[&str]) -> Vec<String> {
    let max_line = 2 * HOLD;
    let filler = b"lorem ipsum dolor sit amet ";
    let mut failures = Vec::new();
    for (ki, kind) in kinds.iter().enumerate() {
        let mut rng = Rng::new(ki as u64);
        let len = plant(kind, &mut rng.clone()).0.len();
        for delta in 0..=len + 1 {
            let (value, secret) = plant(kind, &mut rng);
            let mut text = Vec::new();
            while text.len() + 1 < max_line - delta {
                let n = (max_line - delta - 1 - text.len()).min(filler.len());
                text.extend_from_slice(&filler[..n]);
            }
            text.push(b' ');
            text.extend_from_slice(value.as_bytes());
            text.push(b' ');
            while text.len() < max_line + HOLD + 4096 {
                text.extend_from_slice(filler);
            }
            text.push(b'\n');
            let mut whole = Redactor::with_max_line(&ENGINE, 64 << 20);
            let reference = redact_in_pieces(&mut whole, &text, &[]);
            let mut small = Redactor::with_max_line(&ENGINE, max_line);
            let out = redact_in_pieces(&mut small, &text, &[]);
            if contains(&out, &secret) || out != reference {
                failures.push(format!(
                    "{kind}: value starting {delta} bytes before the cut: {}",
                    if contains(&out, &secret) {
                        "value not gone"
                    } else {
                        "output differs"
                    }
                ));
            }
        }
    }
    failures
}

/// E-mails included: one whose local part starts before the cut and whose `@` comes after it is redacted
/// whole (it once kept the start of its local part in clear).
#[test]
fn values_straddling_a_long_line_cut_at_every_offset() {
    let failures = straddle_all_offsets(KINDS);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
// ------------------------------------------------------------------------------------------ parallel

static SHARED: LazyLock<Arc<Engine>> =
    LazyLock::new(|| Arc::new(Engine::new(&EngineConfig::default()).expect("default engine")));

/// Redacts `input`, pushed in the pieces given by `cuts`, on `threads` workers with chunks of
/// `chunk_bytes`; the output, the pieces' input offsets, and the findings.
fn redact_parallel(
    input: &[u8],
    threads: usize,
    chunk_bytes: usize,
    max_line: usize,
    cuts: &[usize],
) -> (Vec<u8>, Vec<u64>, Findings) {
    let opts = Options {
        threads: NonZeroUsize::new(threads).unwrap(),
        chunk_bytes,
        max_line,
    };
    let mut r = ParallelRedactor::new(SHARED.clone(), opts).unwrap();
    let (mut out, mut ends, mut findings) = (Vec::new(), Vec::new(), SHARED.new_findings());
    let mut take = |r: &mut ParallelRedactor| {
        while let Some(p) = r.next_piece() {
            out.extend_from_slice(&p.bytes);
            ends.push(p.input_end);
            findings.add(&p.findings);
        }
    };
    let mut prev = 0;
    for &c in cuts.iter().chain(std::iter::once(&input.len())) {
        r.push(&input[prev..c]);
        prev = c;
        take(&mut r);
        if c % 3 == 0 {
            // As a caller does when its input is idle.
            r.flush();
            take(&mut r);
        }
    }
    r.finish();
    take(&mut r);
    (out, ends, findings)
}

fn check_parallel(
    text: &[u8],
    reference: &[u8],
    ref_findings: &Findings,
    got: (Vec<u8>, Vec<u64>, Findings),
) -> Result<(), TestCaseError> {
    let (out, ends, findings) = got;
    prop_assert!(
        out == reference,
        "differs from the single-threaded output at output byte {} of {}",
        first_diff(&out, reference),
        reference.len()
    );
    prop_assert_eq!(&findings, ref_findings);
    prop_assert!(
        ends.windows(2).all(|w| w[0] <= w[1]),
        "input offsets go back"
    );
    prop_assert!(
        ends.last().is_none_or(|&e| e == text.len() as u64),
        "input not all accounted for"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn parallel_redaction_gives_the_single_threaded_output(
        planted in planted_text(&KINDS_PEM, 150),
        threads in 2usize..=4,
        chunk_bytes in 1usize..2048,
        idx in prop::collection::vec(any::<Index>(), 0..20),
    ) {
        let text = planted.text;
        let (reference, findings) = redact_all(&ENGINE, &text);
        let cuts = split_points(text.len(), &idx);
        let got = redact_parallel(&text, threads, chunk_bytes, stream_max_line(), &cuts);
        check_parallel(&text, &reference, &findings, got)?;
    }
}

fn stream_max_line() -> usize {
    logveil::redact::stream::MAX_LINE
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Lines longer than a chunk and than the redactor's window (values straddling the cuts), e-mails too.
    #[test]
    fn parallel_redaction_of_long_lines_gives_the_single_threaded_output(
        planted in long_lines(KINDS),
        threads in 2usize..=3,
        chunk_bytes in 1usize..(3 * HOLD),
        idx in prop::collection::vec(any::<Index>(), 0..20),
    ) {
        let text = planted.text;
        let mut whole = Redactor::with_max_line(&ENGINE, 2 * HOLD);
        let reference = redact_in_pieces(&mut whole, &text, &[]);
        let findings = whole.take_findings();
        let cuts = split_points(text.len(), &idx);
        let got = redact_parallel(&text, threads, chunk_bytes, 2 * HOLD, &cuts);
        check_parallel(&text, &reference, &findings, got)?;
    }
}

// ------------------------------------------------------------------------------------------ lanes

/// An engine that cuts regions into `lanes` lanes at most; with `drop_id_lines`, lines with an ID card are
/// dropped and phone numbers masked (actions whose output depends on the line around the hit).
fn engine_with_lanes(lanes: usize, drop_id_lines: bool) -> Engine {
    let mut cfg = EngineConfig::default();
    if drop_id_lines {
        for d in &mut cfg.detectors {
            match d.name {
                "id_card" => d.action.kind = logveil::redact::ActionKind::DropLine,
                "phone" => d.action.kind = logveil::redact::ActionKind::Mask,
                _ => {}
            }
        }
    }
    let mut e = Engine::new(&cfg).expect("engine");
    e.set_lanes(lanes);
    e
}

static ONE_LANE: LazyLock<[Engine; 2]> =
    LazyLock::new(|| [engine_with_lanes(1, false), engine_with_lanes(1, true)]);
static LANES: LazyLock<Vec<[Engine; 2]>> = LazyLock::new(|| {
    (2..=logveil::redact::MAX_LANES)
        .map(|n| [engine_with_lanes(n, false), engine_with_lanes(n, true)])
        .collect()
});

/// Text long enough to be cut into lanes (tens of KiB of lines), private keys over several lines included,
/// so that a lane's cut falls inside one now and then.
fn lane_text() -> impl Strategy<Value = Planted> {
    prop::collection::vec(planted_text(&KINDS_PEM, 150), 6..16).prop_map(|parts| {
        let mut text = Vec::new();
        let mut secrets = Vec::new();
        for p in parts {
            text.extend_from_slice(&p.text);
            text.push(b'\n');
            secrets.extend(p.secrets);
        }
        Planted { text, secrets }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A region cut into lanes (searched interleaved, joined in order, redone where a lane's cut fell inside
    /// a private key) gives the bytes and counts of one lane, with every action.
    #[test]
    fn lanes_give_the_one_lane_output_and_counts(
        planted in lane_text(),
        idx in prop::collection::vec(any::<Index>(), 0..4),
    ) {
        let Planted { text, secrets } = planted;
        let cuts = split_points(text.len(), &idx);
        for actions in 0..2 {
            let (reference, ref_findings) = redact_all(&ONE_LANE[actions], &text);
            if actions == 0 {
                let l = leaked(&reference, &secrets);
                prop_assert!(l.is_empty(), "planted values {:?} of {} not gone", l, secrets.len());
            }
            for engines in LANES.iter() {
                let e = &engines[actions];
                let (out, findings) = redact_all(e, &text);
                prop_assert!(
                    out == reference,
                    "{} bytes: lanes differ from one lane at output byte {}",
                    text.len(),
                    first_diff(&out, &reference)
                );
                prop_assert_eq!(&findings, &ref_findings);
                let mut r = Redactor::new(e);
                let pieces = redact_in_pieces(&mut r, &text, &cuts);
                prop_assert!(pieces == reference, "pieces at {:?} differ", cuts);
                prop_assert_eq!(r.take_findings(), ref_findings.clone());
            }
        }
    }
}
