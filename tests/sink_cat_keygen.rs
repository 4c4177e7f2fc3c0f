//! `logveil keygen` and `logveil cat`: identities, tampered segments, missing inputs.

mod common;

use std::fs;
use std::process::Command;

use common::*;

#[test]
fn keygen_writes_a_private_identity_that_the_age_tool_accepts() {
    if !have("age") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("key.txt");
    let o = Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" keygen -o \"$1\"")
        .arg(bin())
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(mode(&key), 0o600);
    let recipient = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(
        recipient.starts_with("age1"),
        "the recipient goes to stdout"
    );
    assert!(fs::read_to_string(&key)
        .unwrap()
        .contains(&format!("# public key: {recipient}")));

    // Refuses to overwrite.
    let before = fs::read(&key).unwrap();
    let o = Command::new(bin())
        .args(["keygen", "-o"])
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("refusing to overwrite"),
        "{}",
        stderr(&o)
    );
    assert!(fs::read(&key).unwrap() == before);

    // The age tool encrypts to the recipient; logveil pipe too; both decrypt with the identity.
    let out = tmp.path().join("sealed");
    let o = run_with_stdin(
        Command::new(bin())
            .args(["pipe", "--recipient", &recipient])
            .arg("--out")
            .arg(&out),
        b"hello 13812345678\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = Command::new("age")
        .args(["-d", "-i"])
        .arg(&key)
        .arg(&segments(&out)[0])
        .output()
        .unwrap();
    assert!(o.status.success(), "age -d with the keygen identity");

    // To stdout: the identity on stdout, the recipient on stderr (as age-keygen).
    let o = Command::new(bin()).arg("keygen").output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.lines().any(|l| l.starts_with("AGE-SECRET-KEY-1")));
    assert!(stderr(&o).contains("Public key: age1"));
}

#[test]
fn cat_reports_a_tampered_segment_by_name_after_what_was_readable() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let input = sample_log(40_000, 13);
    let o = run_with_stdin(
        Command::new(bin())
            .args(["pipe", "--recipient", &keys.recipient])
            .arg("--out")
            .arg(&out),
        &input,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let seg = segments(&out).remove(0);
    let mut bytes = fs::read(&seg).unwrap();
    assert!(bytes.len() > 4 * 65_552, "spans several chunks");
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    fs::write(&seg, &bytes).unwrap();
    let c = logveil_cat(&keys.identity, &[&seg]);
    assert_eq!(c.status.code(), Some(1));
    let err = stderr(&c);
    let name = seg.file_name().unwrap().to_str().unwrap();
    assert!(err.contains(name) && err.contains("tampered"), "{err}");
    let expected = redacted(&input);
    let marker = b" [logveil: the segment is damaged here; the rest of this line is lost]\n";
    let got = c.stdout.strip_suffix(marker).unwrap_or(&c.stdout);
    assert!(!got.is_empty() && got.len() < expected.len());
    assert!(expected.starts_with(got), "the chunks before the bad one");
}

#[test]
fn cat_errors_name_the_missing_identity_or_input() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let missing_key = tmp.path().join("no-such-key");
    let c = logveil_cat(&missing_key, &[tmp.path()]);
    assert_eq!(c.status.code(), Some(2));
    assert!(stderr(&c).contains("no-such-key"), "{}", stderr(&c));

    let missing_seg = tmp.path().join("gone.log.gz.age");
    let c = logveil_cat(&keys.identity, &[&missing_seg]);
    assert_eq!(c.status.code(), Some(2));
    assert!(stderr(&c).contains("gone.log.gz.age"), "{}", stderr(&c));

    // An identity that does not match: named, exit 1 (not completely read).
    let out = tmp.path().join("sealed");
    let o = run_with_stdin(
        Command::new(bin())
            .args(["pipe", "--recipient", &keys.recipient])
            .arg("--out")
            .arg(&out),
        b"x\n",
    );
    assert!(o.status.success());
    let other = age_keys().unwrap();
    let c = logveil_cat(&other.identity, &[&out]);
    assert_eq!(c.status.code(), Some(1));
    assert!(stderr(&c).contains("no given identity"), "{}", stderr(&c));
}

/// Lines of random hex: they compress about 2x, so a segment spans many age chunks.
fn noisy_log(lines: u64) -> Vec<u8> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::new();
    for i in 0..lines {
        let (a, b, c) = (next(), next(), next());
        out.extend_from_slice(format!("line {i:07} {a:016x}{b:016x}{c:016x}\n").as_bytes());
    }
    out
}

/// Three segments of one stream (each several age chunks) from `pipe`; returns them and the input.
fn three_segments(keys: &Keys, out: &std::path::Path) -> (Vec<std::path::PathBuf>, Vec<u8>) {
    let input = noisy_log(90_000);
    let o = run_with_stdin(
        Command::new(bin())
            .args(["pipe", "--recipient", &keys.recipient])
            .args(["--max-segment-bytes", "2MB"])
            .arg("--out")
            .arg(out),
        &input,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let segs = segments(out);
    assert_eq!(segs.len(), 3, "{segs:?}");
    for s in &segs {
        let len = fs::metadata(s).unwrap().len();
        assert!(len > 3 * 65_552, "several chunks: {len}");
    }
    (segs, input)
}

/// Issue 12 item 8 (F16): the partial last line of a damaged segment ends with a newline and a marker, so
/// it is never glued to the first line of the next segment.
#[test]
fn cat_never_glues_a_damaged_segments_last_line_to_the_next_segment() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let (segs, input) = three_segments(&keys, &out);
    let expected = redacted(&input);
    let third = age_gunzip(&segs[2], &keys.identity);
    let third_first_line = &third[..third.iter().position(|&b| b == b'\n').unwrap() + 1];
    // Cut the middle segment inside its second chunk (as a crash or a bad copy would).
    let f = fs::OpenOptions::new().write(true).open(&segs[1]).unwrap();
    f.set_len(70_000).unwrap();
    drop(f);
    let c = logveil_cat(&keys.identity, &[&out]);
    assert_eq!(c.status.code(), Some(1), "{}", stderr(&c));
    let lines: Vec<&[u8]> = c.stdout.split_inclusive(|&b| b == b'\n').collect();
    let marked: Vec<&&[u8]> = lines
        .iter()
        .filter(|l| l.windows(8).any(|w| w == b"logveil:"))
        .collect();
    assert_eq!(marked.len(), 1, "one cut line, marked");
    assert!(
        lines.contains(&third_first_line),
        "the next segment's first line stands alone"
    );
    // Every other line is a line of the input, whole.
    let want: std::collections::HashSet<&[u8]> =
        expected.split_inclusive(|&b| b == b'\n').collect();
    let foreign = lines
        .iter()
        .filter(|l| !want.contains(*l) && !marked.contains(l))
        .count();
    assert_eq!(foreign, 0, "no glued or garbled line");
}

/// Issue 12 item 8 (F17): a tampered last age chunk is reported as tampered, not as "truncated"; a crash's
/// `.truncated` segment is still reported as truncated.
#[test]
fn cat_reports_a_tampered_last_chunk_as_tampered() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let (segs, _) = three_segments(&keys, &out);
    let mut bytes = fs::read(&segs[1]).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0x40;
    fs::write(&segs[1], &bytes).unwrap();
    let c = logveil_cat(&keys.identity, &[&segs[1]]);
    assert_eq!(c.status.code(), Some(1));
    let err = stderr(&c);
    assert!(err.contains("tampered"), "{err}");
    assert!(!err.contains("ends before its last chunk"), "{err}");

    // The same cut in a segment a crash left (kept as .truncated): that is a truncation.
    let name = segs[2].file_name().unwrap().to_str().unwrap();
    let kept = out.join(name.replace(".log.gz.age", ".truncated.log.gz.age"));
    fs::rename(&segs[2], &kept).unwrap();
    let f = fs::OpenOptions::new().write(true).open(&kept).unwrap();
    f.set_len(70_000).unwrap();
    drop(f);
    let c = logveil_cat(&keys.identity, &[&kept]);
    assert_eq!(c.status.code(), Some(1));
    assert!(stderr(&c).contains("truncated"), "{}", stderr(&c));
}

/// Issue 12 item 8 (F17): inside a valid age file, a gzip member whose data was altered (its CRC fails) is
/// not printed: cat stops after the last good member and says the data is not valid gzip.
#[test]
fn cat_prints_no_garbage_from_a_corrupt_gzip_member() {
    use std::io::Write as _;
    let Some(keys) = age_keys() else { return };
    if !have("age") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let member = |text: &[u8], level: u32| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(text).unwrap();
        e.finish().unwrap()
    };
    let first = sample_log(2000, 3);
    let second = sample_log(2000, 4);
    let mut gz = member(&first, 6);
    // Stored (level 0) so that an altered byte decodes to an altered byte, caught only by the CRC.
    let mut bad = member(&second, 0);
    let mid = bad.len() / 2;
    bad[mid] ^= 0x01;
    gz.extend_from_slice(&bad);
    gz.extend_from_slice(&member(&sample_log(100, 5), 6));
    let plain = tmp.path().join("plain.gz");
    fs::write(&plain, &gz).unwrap();
    let seg = tmp
        .path()
        .join("x.20261125T100000Z_20261125T100000Z.000001.log.gz.age");
    let o = Command::new("age")
        .args(["-r", &keys.recipient, "-o"])
        .arg(&seg)
        .arg(&plain)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let c = logveil_cat(&keys.identity, &[&seg]);
    assert_eq!(c.status.code(), Some(1));
    assert!(stderr(&c).contains("not valid gzip"), "{}", stderr(&c));
    assert!(
        c.stdout == first,
        "only the good member: {} bytes out, {} in it",
        c.stdout.len(),
        first.len()
    );
}
