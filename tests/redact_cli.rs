//! Behaviour of `logveil redact` as a user sees it: the real binary, real pipes.
//!
//! Failure messages show redacted output (or lengths and offsets), never a planted value.

#[path = "common/pii_gen.rs"]
mod pii_gen;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use pii_gen::Rng;

fn logveil() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_logveil"));
    c.env_remove("LOGVEIL_CONFIG").env_remove("RUST_LOG");
    c
}

/// Runs `logveil ARGS` with `input` on stdin (written from a thread, so big inputs cannot deadlock).
fn run(args: &[&str], input: &[u8]) -> Output {
    let mut child = logveil()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn logveil");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = thread::spawn(move || {
        // The child may stop reading early on an error; a broken pipe here is not the test's concern.
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait logveil");
    writer.join().unwrap();
    out
}

fn redact(input: &[u8]) -> Vec<u8> {
    let out = run(&["redact"], input);
    assert!(
        out.status.success(),
        "logveil redact failed: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Shows output for a failure message with every occurrence of the given values masked.
fn shown(out: &[u8], secrets: &[&str]) -> String {
    let mut s = String::from_utf8_lossy(out).into_owned();
    for (i, v) in secrets.iter().enumerate() {
        s = s.replace(v, &format!("<planted#{i}>"));
    }
    s
}

/// The shape of output text for failure messages: `[REDACTED:x]` labels kept, every other ASCII letter
/// shown as `a` and digit as `9`, so a leaked value shows its form but not itself.
fn shape(out: &[u8]) -> String {
    let s = String::from_utf8_lossy(out);
    let mut r = String::new();
    let mut rest = &*s;
    while !rest.is_empty() {
        if rest.starts_with("[REDACTED") {
            let e = rest.find(']').map_or(rest.len(), |i| i + 1);
            r.push_str(&rest[..e]);
            rest = &rest[e..];
            continue;
        }
        let c = rest.chars().next().unwrap();
        r.push(match c {
            '0'..='9' => '9',
            'a'..='z' | 'A'..='Z' => 'a',
            _ => c,
        });
        rest = &rest[c.len_utf8()..];
    }
    r
}

/// Where two outputs first differ, with the expected text and the shape of the actual text around it.
fn first_difference(out: &[u8], want: &[u8]) -> String {
    let at = out.iter().zip(want).take_while(|(a, b)| a == b).count();
    let lo = at.saturating_sub(60);
    format!(
        "output ({} bytes) differs from the expected redaction ({} bytes) at byte {at}\n  expected: {:?}\n  actual:   {:?}",
        out.len(),
        want.len(),
        String::from_utf8_lossy(&want[lo..(at + 80).min(want.len())]),
        shape(&out[lo..(at + 80).min(out.len())]),
    )
}

// ------------------------------------------------------------------------------------------ byte identity

#[test]
fn bytes_without_pii_pass_through_identical() {
    let mut input = Vec::new();
    input.extend_from_slice(b"plain ascii line\n");
    input.extend_from_slice(b"invalid utf-8: \xff\xfe\xc3\x28 \xe4\xb8 end\n");
    input.extend_from_slice(b"nul bytes: a\0b\0\0c\n");
    input.extend_from_slice(b"crlf line\r\n");
    input.extend_from_slice(b"lone cr\rin the middle\r\n");
    input.extend_from_slice("中文日志 订单已发货 2024-05-07 12:34:56\r\n".as_bytes());
    input.extend_from_slice(b"\n\n\r\n");
    input.extend_from_slice(b"last line without newline \xff");
    assert_eq!(redact(&input), input);
}

#[test]
fn empty_input_gives_empty_output() {
    assert_eq!(redact(b""), b"");
}

#[test]
fn last_line_without_newline_is_redacted_and_kept_open() {
    let mut rng = Rng::new(1);
    let phone = pii_gen::mobile(&mut rng);
    let out = redact(format!("a\n手机{phone}").as_bytes());
    assert_eq!(
        out,
        "a\n手机[REDACTED:phone]".as_bytes(),
        "{}",
        shown(&out, &[&phone])
    );
}

#[test]
fn values_next_to_invalid_utf8_nul_and_crlf_are_redacted_rest_identical() {
    let mut rng = Rng::new(2);
    let phone = pii_gen::mobile(&mut rng);
    let email = pii_gen::email(&mut rng);
    let mut input = Vec::new();
    input.extend_from_slice(b"\xff");
    input.extend_from_slice(phone.as_bytes());
    input.extend_from_slice(b"\xfe\0");
    input.extend_from_slice(email.as_bytes());
    input.extend_from_slice(b"\0\r\n");
    let out = redact(&input);
    assert_eq!(
        out,
        b"\xff[REDACTED:phone]\xfe\0[REDACTED:email]\0\r\n".to_vec(),
        "{}",
        shown(&out, &[&phone, &email])
    );
}

// ------------------------------------------------------------------------------------------ buffers

/// The kinds of value planted by [`dense_record`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Phone,
    CardGrouped,
    Card19,
    Email,
    Ipv4,
    Ipv6,
    Id,
    PasswordKv,
    ChatPassword,
    Bearer,
    AccessToken,
}

const ALL_KINDS: &[Kind] = &[
    Kind::Phone,
    Kind::CardGrouped,
    Kind::Card19,
    Kind::Email,
    Kind::Ipv4,
    Kind::Ipv6,
    Kind::Id,
    Kind::PasswordKv,
    Kind::ChatPassword,
    Kind::Bearer,
    Kind::AccessToken,
];

/// A value of `kind` and its expected redaction.
fn kind_value(rng: &mut Rng, kind: Kind) -> (String, String) {
    match kind {
        Kind::Phone => (pii_gen::mobile(rng), "[REDACTED:phone]".to_string()),
        Kind::CardGrouped => (
            pii_gen::group4(&pii_gen::card(rng, 16), " "),
            "[REDACTED:bank_card]".into(),
        ),
        Kind::Card19 => (pii_gen::card(rng, 19), "[REDACTED:bank_card]".into()),
        Kind::Email => (pii_gen::email(rng), "[REDACTED:email]".into()),
        Kind::Ipv4 => (pii_gen::ipv4(rng), "[REDACTED:ipv4]".into()),
        Kind::Ipv6 => (pii_gen::ipv6_full(rng), "[REDACTED:ipv6]".into()),
        Kind::Id => (pii_gen::id18(rng), "[REDACTED:id_card]".into()),
        Kind::PasswordKv => (
            format!("password={}", pii_gen::password(rng)),
            "password=[REDACTED:password]".into(),
        ),
        Kind::ChatPassword => (
            format!("密码是{}", pii_gen::password(rng)),
            "密码是[REDACTED:password]".into(),
        ),
        Kind::Bearer => (
            format!("Authorization: Bearer {}", pii_gen::token(rng)),
            "Authorization: Bearer [REDACTED:secret]".into(),
        ),
        Kind::AccessToken => (
            format!("access_token={}", pii_gen::wx_access_token(rng)),
            "access_token=[REDACTED:secret]".into(),
        ),
    }
}

/// One dense record: a value and " ; ", so that every byte of a long line belongs to a value or a
/// three-byte separator; wherever the streaming wrapper cuts, it cuts through or next to a value.
fn dense_record(rng: &mut Rng, kinds: &[Kind], out_in: &mut Vec<u8>, out_want: &mut Vec<u8>) {
    let kind = kinds[rng.below(kinds.len() as u64) as usize];
    let (input, want) = kind_value(rng, kind);
    out_in.extend_from_slice(input.as_bytes());
    out_in.extend_from_slice(b" ; ");
    out_want.extend_from_slice(want.as_bytes());
    out_want.extend_from_slice(b" ; ");
}

/// `lines` lines of `size` bytes of dense records, through the binary; compared with the expected output.
fn dense_long_lines(seed: u64, kinds: &[Kind], lines: usize, size: usize) {
    let mut rng = Rng::new(seed);
    let mut input = Vec::new();
    let mut want = Vec::new();
    for line in 0..lines {
        while input.len() < (line + 1) * size {
            dense_record(&mut rng, kinds, &mut input, &mut want);
        }
        input.push(b'\n');
        want.push(b'\n');
    }
    let out = redact(&input);
    assert!(out == want, "{}", first_difference(&out, &want));
}

#[test]
fn values_across_internal_buffer_boundaries_of_long_lines_are_found() {
    // Lines of 3 MiB: several ~1 MiB cuts each, every one landing inside or beside a value.
    let kinds: Vec<Kind> = ALL_KINDS
        .iter()
        .copied()
        .filter(|k| *k != Kind::Email)
        .collect();
    dense_long_lines(3, &kinds, 6, 3 << 20);
}

/// Lines whose value starts `delta` bytes before the first cut of a long line (1 MiB from the line's
/// start: the streaming wrapper's MAX_LINE), for each delta given; compared with the expected output.
fn straddle_first_cut(kind: Kind, deltas: impl Fn(usize) -> Vec<usize>) {
    const CUT: usize = 1 << 20;
    let filler = b"lorem ipsum dolor sit amet ";
    let mut rng = Rng::new(10 + kind as u64);
    let mut input = Vec::new();
    let mut want = Vec::new();
    let probe = kind_value(&mut rng, kind).0.len();
    for delta in deltas(probe) {
        let (value, redacted) = kind_value(&mut rng, kind);
        let line_start = input.len();
        while input.len() < line_start + CUT - delta - 1 {
            let n = (line_start + CUT - delta - 1 - input.len()).min(filler.len());
            input.extend_from_slice(&filler[..n]);
            want.extend_from_slice(&filler[..n]);
        }
        input.push(b' ');
        want.push(b' ');
        input.extend_from_slice(value.as_bytes());
        want.extend_from_slice(redacted.as_bytes());
        input.extend_from_slice(b" ; ");
        want.extend_from_slice(b" ; ");
        // More than the 64 KiB look-ahead must follow on the same line, or no cut is made.
        for _ in 0..(80 << 10) / filler.len() {
            input.extend_from_slice(filler);
            want.extend_from_slice(filler);
        }
        input.push(b'\n');
        want.push(b'\n');
    }
    let out = redact(&input);
    assert!(out == want, "{kind:?}: {}", first_difference(&out, &want));
}

#[test]
fn values_straddling_the_cut_of_a_long_line_are_found() {
    let mut failed = Vec::new();
    for &kind in ALL_KINDS.iter().filter(|k| **k != Kind::Email) {
        let deltas = |len: usize| vec![1, len / 3, len / 2, len - 1];
        if let Err(e) = std::panic::catch_unwind(|| straddle_first_cut(kind, deltas)) {
            failed.push(e.downcast_ref::<String>().cloned().unwrap_or_default());
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// An e-mail whose local part starts before the cut of a long line and whose `@` comes after it is redacted
/// whole (it once kept the start of its local part in clear: `huang_[REDACTED:email]`); every offset.
#[test]
fn emails_straddling_the_cut_of_a_long_line_are_found_at_every_offset() {
    straddle_first_cut(Kind::Email, |len| (1..len).collect());
}

#[test]
fn values_across_internal_buffer_boundaries_at_many_offsets() {
    // A filler line with one value placed so that it starts 0..=24 bytes before each 64 KiB multiple up to
    // 1.25 MiB: whatever the exact cut and look-ahead sizes, some placement straddles each of them.
    let mut rng = Rng::new(4);
    let filler = b"lorem ipsum dolor sit amet ";
    let mut input = Vec::new();
    let mut want = Vec::new();
    let mut planted = 0;
    for k in 1..=20usize {
        let boundary = k * (64 << 10);
        for back in 0..=24usize {
            let phone = pii_gen::mobile(&mut rng);
            let target = (boundary - back).max(input.len() + 1);
            while input.len() < target - 1 {
                let n = (target - 1 - input.len()).min(filler.len());
                input.extend_from_slice(&filler[..n]);
                want.extend_from_slice(&filler[..n]);
            }
            input.push(b' ');
            want.push(b' ');
            input.extend_from_slice(phone.as_bytes());
            want.extend_from_slice(b"[REDACTED:phone]");
            planted += 1;
        }
    }
    input.extend_from_slice(b" end\n");
    want.extend_from_slice(b" end\n");
    let out = redact(&input);
    let found = String::from_utf8_lossy(&out)
        .matches("[REDACTED:phone]")
        .count();
    assert_eq!(found, planted, "planted {planted} phones, {found} redacted");
    assert!(out == want, "{}", first_difference(&out, &want));
}

/// Feeds `pieces` to a live `logveil redact` with a pause after each, so each read sees one piece.
fn feed_in_pieces(pieces: &[&[u8]], pause: Duration) -> Vec<u8> {
    let mut child = logveil()
        .arg("redact")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for p in pieces {
        stdin.write_all(p).unwrap();
        stdin.flush().unwrap();
        thread::sleep(pause);
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn values_split_across_pipe_reads_are_found() {
    let mut rng = Rng::new(5);
    let phone = pii_gen::mobile(&mut rng);
    let card = pii_gen::group4(&pii_gen::card(&mut rng, 16), " ");
    let email = pii_gen::email(&mut rng);
    let id = pii_gen::id18(&mut rng);
    let pw = pii_gen::password(&mut rng);
    let line1 = format!("手机{phone}，卡号{card}\r\n");
    let line2 = format!("{{\"content\":\"\\u90ae\\u7bb1{email} \\u8eab\\u4efd\\u8bc1{id}\"}}\n");
    let line3 = format!("密码是{pw}");
    let all = format!("{line1}{line2}{line3}");
    let b = all.as_bytes();
    // Cut inside the phone, inside a CJK character (手 is 3 bytes), between CR and LF, inside the card's
    // groups, inside a \u escape, before and after the @, inside the ID, inside 密码是 and the password.
    let p1 = line1.find(&phone).unwrap();
    let c1 = line1.find(&card).unwrap();
    let l2 = line1.len();
    let e1 = l2 + line2.find(&email).unwrap();
    let at = l2 + line2.find('@').unwrap();
    let u1 = l2 + line2.find("\\u8eab").unwrap();
    let i1 = l2 + line2.find(&id).unwrap();
    let l3 = l2 + line2.len();
    let mut cuts = vec![
        1,
        p1 + 5,
        p1 + 6,
        c1 + 4,
        c1 + 5,
        l2 - 1,
        e1 + 2,
        at,
        at + 1,
        u1 + 3,
        i1 + 9,
        i1 + 17,
        l3 + 4,
        l3 + 9 + 2,
    ];
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::new();
    let mut prev = 0;
    for &c in &cuts {
        pieces.push(&b[prev..c]);
        prev = c;
    }
    pieces.push(&b[prev..]);
    let out = feed_in_pieces(&pieces, Duration::from_millis(40));
    let want = "手机[REDACTED:phone]，卡号[REDACTED:bank_card]\r\n\
                {\"content\":\"\\u90ae\\u7bb1[REDACTED:email] \\u8eab\\u4efd\\u8bc1[REDACTED:id_card]\"}\n\
                密码是[REDACTED:password]";
    assert_eq!(
        String::from_utf8_lossy(&out),
        want,
        "{}",
        shown(&out, &[&phone, &card, &email, &id, &pw])
    );
}

/// Input of `blocks` generated records, each a realistic line fragment with PII, and no newline anywhere.
struct LongLine {
    rng: Rng,
}

impl LongLine {
    fn block(&mut self, input: &mut Vec<u8>, want: &mut Vec<u8>) {
        let phone = pii_gen::mobile(&mut self.rng);
        let email = pii_gen::email(&mut self.rng);
        let card = pii_gen::group4(&pii_gen::card(&mut self.rng, 19), "-");
        let order = pii_gen::order_no(&mut self.rng, 18);
        let pad = "用户消息 lorem ipsum dolor sit amet ".repeat(1 + self.rng.below(40) as usize);
        input.extend_from_slice(
            format!("{pad}手机{phone} 邮箱<{email}> 卡{card} 订单{order} ").as_bytes(),
        );
        want.extend_from_slice(
            format!(
                "{pad}手机[REDACTED:phone] 邮箱<[REDACTED:email]> 卡[REDACTED:bank_card] 订单{order} "
            )
            .as_bytes(),
        );
    }
}

#[test]
fn a_long_line_without_newline_streams_through_a_pipe() {
    const SIZE: usize = 64 << 20;
    let mut child = logveil()
        .arg("redact")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let mut gen = LongLine { rng: Rng::new(6) };
        let (mut input, mut sink) = (Vec::new(), Vec::new());
        let (mut written, mut blocks, mut want_len) = (0, 0u64, 0usize);
        while written < SIZE {
            gen.block(&mut input, &mut sink);
            blocks += 1;
            want_len += sink.len();
            sink.clear();
            if input.len() >= 256 << 10 {
                stdin.write_all(&input).unwrap();
                written += input.len();
                input.clear();
            }
        }
        stdin.write_all(&input).unwrap();
        (blocks, want_len)
    });
    // The expected output is generated alongside and compared as it arrives; nothing is stored whole.
    let mut stdout = child.stdout.take().unwrap();
    let mut gen = LongLine { rng: Rng::new(6) };
    let (mut sink, mut want) = (Vec::new(), Vec::new());
    let mut want_pos = 0;
    let mut checked = 0usize;
    let mut blocks_seen = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        let mut got = &buf[..n];
        while !got.is_empty() {
            if want_pos == want.len() {
                want.clear();
                want_pos = 0;
                gen.block(&mut sink, &mut want);
                sink.clear();
                blocks_seen += 1;
            }
            let m = got.len().min(want.len() - want_pos);
            if got[..m] != want[want_pos..want_pos + m] {
                let off = got[..m]
                    .iter()
                    .zip(&want[want_pos..])
                    .take_while(|(a, b)| a == b)
                    .count();
                panic!(
                    "output differs from the expected redaction at output byte {}: expected {:?}, actual {:?}",
                    checked + off,
                    String::from_utf8_lossy(&want[want_pos + off..(want_pos + off + 60).min(want.len())]),
                    shape(&got[off..(off + 60).min(m)])
                );
            }
            want_pos += m;
            checked += m;
            got = &got[m..];
        }
    }
    let (blocks, want_len) = writer.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    // Every record came out, whole: nothing lost at the end.
    assert_eq!(want_pos, want.len(), "output ends inside a record");
    assert_eq!(
        (blocks_seen, checked),
        (blocks, want_len),
        "records (and bytes) in and out differ"
    );
}

// ------------------------------------------------------------------------------------------ --stats

#[test]
fn stats_prints_counts_per_type_to_stderr_and_never_values() {
    let mut rng = Rng::new(7);
    let p1 = pii_gen::mobile(&mut rng);
    let p2 = pii_gen::mobile(&mut rng);
    let email = pii_gen::email(&mut rng);
    let card = pii_gen::card(&mut rng, 16);
    let input = format!("a {p1} b {p2}\nc {email}\nd {card}\nnothing here\n");
    let out = run(&["redact", "--stats"], input.as_bytes());
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let count_of = |name: &str| -> Option<u64> {
        stderr.lines().find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(name)).then(|| w.last().and_then(|c| c.parse().ok()))?
        })
    };
    assert_eq!(
        count_of("phone"),
        Some(2),
        "stderr: {}",
        shown(&out.stderr, &[&p1, &p2, &email, &card])
    );
    assert_eq!(count_of("email"), Some(1));
    assert_eq!(count_of("bank_card"), Some(1));
    assert_eq!(count_of("id_card"), Some(0));
    for v in [
        &p1,
        &p2,
        &email,
        &card,
        &email[..email.find('@').unwrap()].to_string(),
    ] {
        assert!(!stderr.contains(v.as_str()), "stderr shows a planted value");
    }
    // stdout is data only.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "a [REDACTED:phone] b [REDACTED:phone]\nc [REDACTED:email]\nd [REDACTED:bank_card]\nnothing here\n"
    );
}

#[test]
fn without_stats_stderr_is_silent() {
    let out = run(&["redact"], b"13812345678\n");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        shown(&out.stderr, &["13812345678"])
    );
}

// ------------------------------------------------------------------------------------------ files

#[test]
fn several_files_and_stdin_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(8);
    let (p1, p2, p3) = (
        pii_gen::mobile(&mut rng),
        pii_gen::mobile(&mut rng),
        pii_gen::mobile(&mut rng),
    );
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    std::fs::write(&a, format!("a1 {p1}\na2 no newline")).unwrap();
    std::fs::write(&b, format!("b1 {p3}\r\n")).unwrap();
    let out = run(
        &["redact", a.to_str().unwrap(), "-", b.to_str().unwrap()],
        format!("stdin {p2}\n").as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "a1 [REDACTED:phone]\na2 no newline\nstdin [REDACTED:phone]\nb1 [REDACTED:phone]\r\n",
        "{}",
        shown(&out.stdout, &[&p1, &p2, &p3])
    );
}

/// `logveil redact a b` where `a` has no final newline: `a`'s last line ends before `b`'s first line starts
/// (glued, the two would read as one line: `...4567` + `8...` is a longer number, and a key at the end of `a`
/// would take `b`'s first word as its value). The last input's open line stays open.
#[test]
fn a_file_without_final_newline_is_not_glued_to_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    let c = dir.path().join("empty.log");
    std::fs::write(&a, "first file, last line password=").unwrap();
    std::fs::write(&b, "hunter22 is a word in the second file\nend").unwrap();
    std::fs::write(&c, "").unwrap();
    let paths = [&a, &c, &b].map(|p| p.to_str().unwrap().to_string());
    let out = run(&["redact", &paths[0], &paths[1], &paths[2]], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "first file, last line password=\nhunter22 is a word in the second file\nend"
    );
}

#[test]
fn unreadable_files_are_named_exit_2_and_the_others_still_processed() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("first.log");
    let b = dir.path().join("last.log");
    std::fs::write(&a, "first 13812345678\n").unwrap();
    std::fs::write(&b, "last 13912345678\n").unwrap();
    let missing = dir.path().join("missing-file.log");
    let subdir = dir.path().join("a-directory");
    std::fs::create_dir(&subdir).unwrap();
    let out = run(
        &[
            "redact",
            a.to_str().unwrap(),
            missing.to_str().unwrap(),
            subdir.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(missing.to_str().unwrap()),
        "stderr does not name the missing file: {stderr}"
    );
    assert!(
        stderr.contains(subdir.to_str().unwrap()),
        "stderr does not name the directory: {stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "first [REDACTED:phone]\nlast [REDACTED:phone]\n"
    );
}

// ------------------------------------------------------------------------------------------ live

/// Reads one line from the child's stdout on a thread; None if none arrives within `timeout`.
fn read_line_within(
    child: &mut Child,
    timeout: Duration,
) -> (Option<String>, mpsc::Receiver<String>) {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
    (rx.recv_timeout(timeout).ok(), rx)
}

fn write_line(stdin: &mut ChildStdin, line: &str) {
    stdin.write_all(line.as_bytes()).unwrap();
    stdin.flush().unwrap();
}

#[test]
fn a_line_appears_on_stdout_before_eof() {
    let mut child = logveil()
        .arg("redact")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    write_line(&mut stdin, "live 手机13812345678\n");
    // A behaviour test with a generous timeout, not a latency measurement (that is in benches/).
    let (first, rx) = read_line_within(&mut child, Duration::from_secs(10));
    assert_eq!(first.as_deref(), Some("live 手机[REDACTED:phone]\n"));
    // And the next one, still without EOF.
    write_line(&mut stdin, "second 13912345678\n");
    let second = rx.recv_timeout(Duration::from_secs(10)).ok();
    assert_eq!(second.as_deref(), Some("second [REDACTED:phone]\n"));
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn broken_pipe_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.log");
    let line = "2024-05-07 12:34:56 INFO user 13812345678 says hello lorem ipsum dolor sit amet\n";
    std::fs::write(&big, line.repeat(200_000)).unwrap();
    let mut child = logveil()
        .args(["redact", big.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("[REDACTED:phone]"));
    drop(stdout); // like `| head -1`
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "stderr after a broken pipe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn broken_pipe_in_a_shell_pipeline_exits_quietly() {
    let exe = env!("CARGO_BIN_EXE_logveil");
    let script = format!(
        "yes '13812345678 lorem ipsum' | head -c 20000000 | '{exe}' redact | head -1; \
         echo \"status=${{PIPESTATUS[2]}}\""
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("[REDACTED:phone] lorem ipsum\n"),
        "stdout: {stdout}"
    );
    assert!(stdout.contains("status=0"), "logveil's exit: {stdout}");
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ------------------------------------------------------------------------------------------ config

#[test]
fn seed_config_works_verbatim() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/seed-config.yaml");
    let mut rng = Rng::new(9);
    let phone = pii_gen::mobile(&mut rng);
    let id = pii_gen::id18(&mut rng);
    let email = pii_gen::email(&mut rng);
    let card = pii_gen::card(&mut rng, 16);
    let order = pii_gen::order_no(&mut rng, 16);
    let input = format!("手机{phone} 身份证 {id} 邮箱 {email} 卡 {card} 订单 {order}\n");
    let out = run(&["redact", "--config", seed], input.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The seed's replacement is "[REDACTED]"; its bank_card regex (\b\d{16,19}\b) is validated, so an order
    // number failing Luhn stays.
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("手机[REDACTED] 身份证 [REDACTED] 邮箱 [REDACTED] 卡 [REDACTED] 订单 {order}\n"),
        "{}",
        shown(&out.stdout, &[&phone, &id, &email, &card])
    );
}

#[test]
fn user_patterns_join_the_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "privacy:\n  pii_detection:\n    enabled: true\n    patterns:\n      - type: \"employee_id\"\n        \
         regex: \"EMP\\\\d{6}\"\n        action: \"redact_in_logs\"\n",
    )
    .unwrap();
    let out = run(
        &["redact", "--config", cfg.to_str().unwrap()],
        b"emp EMP123456 phone 13812345678\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "emp [REDACTED:employee_id] phone [REDACTED:phone]\n"
    );
}

#[test]
fn invalid_regex_in_config_names_the_pattern_and_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(
        &cfg,
        "privacy:\n  pii_detection:\n    patterns:\n      - type: \"ok_one\"\n        regex: \"EMP\\\\d{6}\"\n      \
         - type: \"uid_lookahead\"\n        regex: \"uid=(?=\\\\d)\\\\d+\"\n",
    )
    .unwrap();
    let out = run(&["redact", "--config", cfg.to_str().unwrap()], b"uid=1\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "nothing may be written with a bad config"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("uid_lookahead"),
        "does not name the pattern: {stderr}"
    );
    assert!(
        stderr.contains("column 5"),
        "does not give the column of `(?=`: {stderr}"
    );
    assert!(
        stderr.contains(cfg.to_str().unwrap()),
        "does not name the file: {stderr}"
    );

    // A backreference and a plain syntax error are named the same way.
    for (name, regex, col) in [
        ("backref", "(a)\\\\1", "column 4"),
        ("unclosed", "ab(c", "column 3"),
    ] {
        std::fs::write(
            &cfg,
            format!("privacy:\n  pii_detection:\n    patterns:\n      - type: \"{name}\"\n        regex: \"{regex}\"\n"),
        )
        .unwrap();
        let out = run(&["redact", "--config", cfg.to_str().unwrap()], b"x\n");
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(name),
            "does not name pattern {name}: {stderr}"
        );
        assert!(stderr.contains(col), "pattern {name}: no {col}: {stderr}");
    }
}
