//! Actions (redact template, mask, hash, drop_line, allow) and streaming edge cases, through the library API.

use logveil::redact::{redact_all, Redactor};

mod common;
use common::{engine_from_yaml as engine, redact_text as run};

#[test]
fn replacement_template_names_the_type_and_the_seed_replacement_is_used_as_is() {
    let e = engine("", &[]);
    assert_eq!(run(&e, "tel 13812345678\n"), "tel [REDACTED:phone]\n");
    let e = engine(
        "privacy:\n  log_redaction:\n    replacement: '<{type} removed>'\n",
        &[],
    );
    assert_eq!(run(&e, "tel 13812345678\n"), "tel <phone removed>\n");
    let e = engine(
        "privacy:\n  log_redaction:\n    replacement: '[REDACTED]'\n",
        &[],
    );
    assert_eq!(
        run(&e, "tel 13812345678 mail a@b.cn\n"),
        "tel [REDACTED] mail [REDACTED]\n"
    );
}

#[test]
fn mask_keeps_the_usual_prefix_and_suffix_per_type() {
    let e = engine(
        "logveil:\n  detectors:\n    phone: {action: mask}\n    bank_card: {action: mask}\n    email: {action: mask}\n    id_card: {action: mask}\n",
        &[],
    );
    assert_eq!(run(&e, "13812345678\n"), "138****5678\n");
    assert_eq!(run(&e, "+86 138-1234-5678\n"), "+86 138-****-5678\n");
    assert_eq!(
        run(&e, "6222020000000000123 x\n")
            .split(' ')
            .next()
            .unwrap()
            .len(),
        19
    );
    assert_eq!(
        run(&e, "card 4111 1111 1111 1111\n"),
        "card 4111 **** **** 1111\n"
    );
    assert_eq!(
        run(&e, "zhang.san@example.com\n"),
        "z****.***@example.com\n"
    );
    assert_eq!(run(&e, "11010519491231002X\n"), "1101**********002X\n");
    let custom = engine(
        "logveil:\n  detectors:\n    phone: {action: mask, mask: {keep_prefix: 0, keep_suffix: 2}}\n",
        &[],
    );
    assert_eq!(run(&custom, "13812345678\n"), "*********78\n");
}

#[test]
fn hash_gives_the_same_pseudonym_for_the_same_person_however_written() {
    let key = ("LOGVEIL_HASH_KEY", "0123456789abcdef0123456789abcdef");
    let e = engine(
        "logveil:\n  detectors:\n    phone: {action: hash}\n",
        &[key],
    );
    let a = run(&e, "13812345678\n");
    let b = run(&e, "+86 138 1234 5678\n");
    let c = run(&e, "13912345678\n");
    assert!(
        a.starts_with("[phone:") && a.trim_end().ends_with(']'),
        "{a}"
    );
    assert_eq!(a.trim_end().len(), "[phone:12345678]".len());
    assert_eq!(a, b, "same number, other spelling");
    assert_ne!(a, c, "another number");
    let other_key = engine(
        "logveil:\n  detectors:\n    phone: {action: hash}\n",
        &[("LOGVEIL_HASH_KEY", "another key of at least sixteen bytes")],
    );
    assert_ne!(
        run(&other_key, "13812345678\n"),
        a,
        "the key changes the pseudonym"
    );
}

/// An 18-char resident ID whose check character is X, written with ASCII `X`, `x`, full-width `Ｘ`/`ｘ`, or
/// with full-width digits: one person, one pseudonym (the digit normalizer once dropped the full-width X).
#[test]
fn hash_of_an_id_is_the_same_with_ascii_and_full_width_x() {
    let key = ("LOGVEIL_HASH_KEY", "0123456789abcdef0123456789abcdef");
    let e = engine(
        "logveil:\n  detectors:\n    id_card: {action: hash}\n",
        &[key],
    );
    let ascii = run(&e, "id 11010519491231002X\n");
    assert!(ascii.starts_with("id [id_card:"), "{ascii}");
    for other in [
        "id 11010519491231002x\n",
        "id 11010519491231002\u{FF38}\n",
        "id 11010519491231002\u{FF58}\n",
        "id \u{FF11}\u{FF11}\u{FF10}\u{FF11}\u{FF10}\u{FF15}\u{FF11}\u{FF19}\u{FF14}\u{FF19}\u{FF11}\u{FF12}\u{FF13}\u{FF11}\u{FF10}\u{FF10}\u{FF12}\u{FF38}\n",
    ] {
        assert_eq!(run(&e, other), ascii, "same ID, written {:?}", other.trim_end());
    }
    assert_ne!(run(&e, "id 110105194912310021\n"), ascii, "another ID");
}

#[test]
fn drop_line_removes_the_whole_line_with_its_ending() {
    let e = engine(
        "logveil:\n  detectors:\n    id_card: {action: drop_line}\n",
        &[],
    );
    let out = run(
        &e,
        "keep 1\r\nid 11010519491231002X phone 13812345678\r\nkeep 2\nlast 11010519491231002X",
    );
    assert_eq!(out, "keep 1\r\nkeep 2\n");
    let (_, f) = redact_all(&e, b"a 13812345678 b 11010519491231002X\nc\n");
    assert_eq!(f.lines_dropped, 1);
}

#[test]
fn allow_counts_without_changing_the_text() {
    let e = engine("logveil:\n  detectors:\n    email: {action: allow}\n", &[]);
    let (out, f) = redact_all(&e, b"mail a.b@example.com\n");
    assert_eq!(out, b"mail a.b@example.com\n");
    let email = e.type_names().iter().position(|t| t == "email").unwrap();
    assert_eq!(f.counts[email], 1);
}

#[test]
fn disabled_detector_leaves_its_values_alone() {
    let e = engine("logveil:\n  detectors:\n    ipv4: false\n", &[]);
    assert_eq!(
        run(&e, "from 203.0.113.5 tel 13812345678\n"),
        "from 203.0.113.5 tel [REDACTED:phone]\n"
    );
}

#[test]
fn user_patterns_join_the_builtins_and_get_their_type_validator() {
    let yaml = r#"
privacy:
  pii_detection:
    patterns:
      - type: "employee_id"
        regex: "EMP-[0-9]{6}"
        action: "redact"
      - type: "bank_card"
        regex: "\\b\\d{16,19}\\b"
        action: "redact_in_logs"
"#;
    let e = engine(yaml, &[]);
    assert_eq!(
        run(&e, "by EMP-123456 tel 13812345678\n"),
        "by [REDACTED:employee_id] tel [REDACTED:phone]\n"
    );
    // The seed's bare `\d{16,19}` card pattern: Luhn decides, block ids stay.
    assert_eq!(
        run(&e, "blk_-1608999687919862906 1234567812345678\n"),
        "blk_-1608999687919862906 1234567812345678\n"
    );
}

#[test]
fn values_split_across_pushes_are_found_whatever_the_split() {
    let e = engine("", &[]);
    let input = "用户13812345678留言 mail zhang.san@example.com card 6222 0200 0000 0000 009 id 11010519491231002X\n";
    let (whole, _) = redact_all(&e, input.as_bytes());
    for split in 1..input.len() {
        let mut r = Redactor::new(&e);
        let mut out = Vec::new();
        r.push(&input.as_bytes()[..split], &mut out);
        r.push(&input.as_bytes()[split..], &mut out);
        r.finish(&mut out);
        assert_eq!(out, whole, "split at {split}");
    }
}

#[test]
fn a_pem_block_spanning_lines_and_pushes_is_removed_whole() {
    let e = engine("", &[]);
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1c7+abcdEFGH\nQ2xpZW50U2VjcmV0S2V5Ym9keQ==\n-----END RSA PRIVATE KEY-----\n";
    let input = format!("before\n{pem}after 13812345678\n");
    let expect = "before\n[REDACTED:secret]\nafter [REDACTED:phone]\n";
    assert_eq!(run(&e, &input), expect);
    // Line by line, as a pipe delivers it.
    let mut r = Redactor::new(&e);
    let mut out = Vec::new();
    for line in input.split_inclusive('\n') {
        r.push(line.as_bytes(), &mut out);
    }
    r.finish(&mut out);
    let text = String::from_utf8(out).unwrap();
    assert!(
        !text.contains("MIIE") && !text.contains("Q2xpZW50"),
        "{text}"
    );
    assert!(text.ends_with("after [REDACTED:phone]\n"), "{text}");
}

#[test]
fn a_value_across_the_long_line_cut_is_found() {
    let e = engine("", &[]);
    // Lines longer than the buffer are cut; place values across every cut of a 3 MiB line.
    let mut line = Vec::new();
    while line.len() < 3 << 20 {
        line.extend_from_slice("填充文字 padding text 2026-11-25 ".as_bytes());
        if line.len() % 9 == 0 {
            line.extend_from_slice(b"tel 13812345678 ");
        }
    }
    for cut in [1 << 20, 2 << 20] {
        // Just before the look-ahead of each cut, at a character boundary.
        let mut at = cut - 64 * 1024 - 5;
        while line[at] != b' ' {
            at += 1;
        }
        line.splice(at..at, b" 13912345678 ".iter().copied());
    }
    line.push(b'\n');
    let (out, _) = redact_all(&e, &line);
    let expected = String::from_utf8(line.clone())
        .unwrap()
        .replace("13812345678", "[REDACTED:phone]")
        .replace("13912345678", "[REDACTED:phone]");
    assert!(
        out == expected.as_bytes(),
        "output differs from the expected redaction"
    );
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("13812345678") && !text.contains("13912345678"));
    let mut r = Redactor::new(&e);
    let mut streamed = Vec::new();
    for chunk in line.chunks(65_536) {
        r.push(chunk, &mut streamed);
    }
    r.finish(&mut streamed);
    assert_eq!(streamed, text.as_bytes());
}

#[test]
fn bytes_that_are_not_redacted_pass_through_unchanged() {
    let e = engine("", &[]);
    let input: &[u8] =
        b"\xff\xfe invalid \x00 nul\r\ncrlf line\r\n\xe4\xbd last line without newline";
    assert_eq!(redact_all(&e, input).0, input);
}

#[test]
fn drop_line_on_a_line_longer_than_the_buffer_drops_all_that_was_not_written_yet() {
    let e = engine(
        "logveil:\n  detectors:\n    id_card: {action: drop_line}\n",
        &[],
    );
    let mut input = b"first line\n".to_vec();
    let filler = "填充 padding ".repeat(200_000); // ~2.6 MB, longer than a region
    input.extend_from_slice(filler.as_bytes());
    input.extend_from_slice(b" id 11010519491231002X and after\nlast line\n");
    let mut r = Redactor::new(&e);
    let mut out = Vec::new();
    for chunk in input.chunks(65_536) {
        r.push(chunk, &mut out);
    }
    r.finish(&mut out);
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("first line\n"));
    assert!(text.ends_with("\nlast line\n"), "the next line is intact");
    assert!(!text.contains("11010519491231002X") && !text.contains("and after"));
    // What was written before the value (earlier regions of the long line) stays.
    assert!(text.len() > 11 + 10 && text.len() < input.len());
    assert_eq!(r.findings().lines_dropped, 1);
}

#[test]
fn drop_line_of_a_long_line_whose_value_is_near_its_start_keeps_the_line_boundary() {
    let e = engine(
        "logveil:\n  detectors:\n    id_card: {action: drop_line}\n",
        &[],
    );
    let mut input = b"first line\r\nid 11010519491231002X ".to_vec();
    input.extend_from_slice("填充 padding ".repeat(300_000).as_bytes()); // ~4 MB after the value
    input.extend_from_slice(b"end of long line\r\nlast line\r\n");
    let mut r = Redactor::new(&e);
    let mut out = Vec::new();
    for chunk in input.chunks(65_536) {
        r.push(chunk, &mut out);
    }
    r.finish(&mut out);
    assert_eq!(out, b"first line\r\nlast line\r\n");
}
