//! Access and erasure requests through the real binary: `pseudonym` gives the token redaction writes,
//! `cat --only` prints the lines that hold it, `forget` rewrites the segments without them. Rewritten
//! segments are opened with the real `age -d | gzip -dc`.

mod common;
#[path = "common/pii_gen.rs"]
mod pii_gen;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;

const KEY: &str = "0123456789abcdef0123456789abcdef";
const CONFIG: &str = "logveil:\n  detectors:\n    phone: {action: hash}\n    email: {action: hash}\n    id_card: {action: hash}\n";

/// A directory with a config whose identifier types are hashed (the key comes from LOGVEIL_HASH_KEY).
fn config(dir: &Path) -> PathBuf {
    let c = dir.join("config.yaml");
    fs::write(&c, CONFIG).unwrap();
    c
}

fn logveil(cfg: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env("LOGVEIL_HASH_KEY", KEY)
        .env_remove("LOGVEIL_CONFIG")
        .env("LOGVEIL_CACHE_DIR", cfg.parent().unwrap().join("cache"));
    c
}

fn pseudonym(cfg: &Path, ty: &str, value: &str) -> String {
    let o = logveil(cfg)
        .args(["-q", "pseudonym", "-c"])
        .arg(cfg)
        .args([ty, value])
        .output()
        .unwrap();
    assert!(o.status.success(), "pseudonym: {}", stderr(&o));
    assert!(
        !stderr(&o).contains(value),
        "the value is never echoed: {}",
        stderr(&o)
    );
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(t.ends_with('\n'));
    t.trim_end().to_string()
}

fn redact(cfg: &Path, input: &str) -> String {
    let o = run_with_stdin(
        logveil(cfg).args(["-q", "redact", "-c"]).arg(cfg),
        input.as_bytes(),
    );
    assert!(o.status.success(), "redact: {}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Every `[type:hhhhhhhh]` token in `text`.
fn tokens_in(text: &str, ty: &str) -> Vec<String> {
    let open = format!("[{ty}:");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&open) {
        let t = &rest[i..];
        let end = t.find(']').unwrap();
        out.push(t[..=end].to_string());
        rest = &t[end..];
    }
    out
}

fn full_width(digits: &str) -> String {
    digits
        .chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(0xFF10 + (c as u32 - '0' as u32)).unwrap(),
            'X' => '\u{FF38}',
            c => c,
        })
        .collect()
}

fn json_escaped(text: &str) -> String {
    text.chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect()
}

#[test]
fn pseudonym_gives_the_token_redact_writes_in_every_container_and_written_form() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let phone = "13812345678";
    let fw = full_width(phone);
    let cases: Vec<(&str, &str, Vec<String>)> = vec![
        (
            "phone",
            phone,
            vec![
                format!("user phone={phone} logged in"),
                format!("{{\"msg\":\"call {phone}\",\"level\":\"info\"}}"),
                format!("<xml><Content><![CDATA[我的手机 {phone}]]></Content></xml>"),
                format!("{{'from': 'bot', 'text': '手机号 {phone}'}}"),
                format!("tel +86 138 1234 5678 again"),
                format!("全角 {fw} 号码"),
                format!("{{\"m\":\"tel {}\"}}", json_escaped(&fw)),
                format!("{{\"m\":\"\\u624b\\u673a {phone}\"}}"),
            ],
        ),
        (
            "email",
            "zhang.san@example.com",
            vec![
                "mail=zhang.san@example.com ok".into(),
                "{\"to\":\"Zhang.San@Example.COM\"}".into(),
                "<to>zhang.san%40example.com</to>".into(),
            ],
        ),
        (
            "id_card",
            "11010519491231002X",
            vec![
                "id=11010519491231002X".into(),
                "id=11010519491231002x".into(),
                format!("身份证 {}", full_width("11010519491231002X")),
                format!(
                    "{{\"id\":\"{}\"}}",
                    json_escaped(&full_width("11010519491231002X"))
                ),
            ],
        ),
    ];
    for (ty, value, lines) in &cases {
        let token = pseudonym(&cfg, ty, value);
        assert!(
            token.starts_with(&format!("[{ty}:")) && token.len() == ty.len() + 11,
            "{token}"
        );
        for line in lines {
            let out = redact(&cfg, &format!("{line}\n"));
            assert_eq!(
                tokens_in(&out, ty),
                vec![token.clone()],
                "{ty} in {line:?} -> {out:?}"
            );
        }
    }
    // The operator may type the value in another written form: full-width, escaped, with +86.
    let token = pseudonym(&cfg, "phone", phone);
    for typed in [fw.clone(), json_escaped(&fw), "+86 138 1234 5678".into()] {
        assert_eq!(pseudonym(&cfg, "phone", &typed), token, "typed {typed:?}");
    }
    assert_ne!(pseudonym(&cfg, "phone", "13912345678"), token);
    // From stdin (`-`): the same token, and the value is never in the arguments.
    let o = run_with_stdin(
        logveil(&cfg)
            .args(["-q", "pseudonym", "-c"])
            .arg(&cfg)
            .args(["phone", "-"]),
        format!("{phone}\n").as_bytes(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim_end(), token);
    // Pasted with white space around it (an e-mail address keeps every other byte it hashes).
    let email = pseudonym(&cfg, "email", "zhang.san@example.com");
    let o = run_with_stdin(
        logveil(&cfg)
            .args(["-q", "pseudonym", "-c"])
            .arg(&cfg)
            .args(["email", "-"]),
        b"  zhang.san@example.com \t\r\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim_end(), email);
    // A config whose action for the type is not `hash`: the same token (same key), with a warning that
    // redaction writes none.
    let o = Command::new(bin())
        .env("LOGVEIL_HASH_KEY", KEY)
        .env_remove("LOGVEIL_CONFIG")
        .args(["pseudonym", "phone", phone])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("not `hash`"), "{}", stderr(&o));
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim_end(), token);
    // Another key, another token.
    let o = logveil(&cfg)
        .env("LOGVEIL_HASH_KEY", "another key of at least 16 bytes")
        .args(["-q", "pseudonym", "-c"])
        .arg(&cfg)
        .args(["phone", phone])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_ne!(String::from_utf8(o.stdout).unwrap().trim_end(), token);
}

/// Many generated identifiers, each in a container and written form drawn at random: the token in
/// redact's output is the one `pseudonym` prints for the value as an operator would type it.
#[test]
fn pseudonym_matches_redact_for_generated_identifiers_in_random_containers_and_forms() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let mut rng = pii_gen::Rng::new(16);
    let mut lines = String::new();
    let mut want = Vec::new();
    for i in 0..36 {
        let (ty, value, written) = match i % 3 {
            0 => {
                let v = pii_gen::mobile(&mut rng);
                let w = match rng.below(4) {
                    0 => v.clone(),
                    1 => full_width(&v),
                    2 => json_escaped(&full_width(&v)),
                    _ => format!("+86 {} {} {}", &v[..3], &v[3..7], &v[7..]),
                };
                ("phone", v, w)
            }
            1 => {
                let v = match rng.below(3) {
                    0 => pii_gen::email(&mut rng),
                    1 => pii_gen::email_plus(&mut rng),
                    _ => pii_gen::email_sub(&mut rng),
                };
                let w = match rng.below(3) {
                    0 => v.clone(),
                    1 => v.to_uppercase(),
                    _ => v.replace('@', "%40"),
                };
                ("email", v, w)
            }
            _ => {
                let v = pii_gen::id18(&mut rng);
                let w = match rng.below(3) {
                    0 => v.clone(),
                    1 => v.to_lowercase(),
                    _ => full_width(&v),
                };
                ("id_card", v, w)
            }
        };
        let line = match rng.below(5) {
            0 => format!("{i} user {ty}={written} ok"),
            1 => format!("{i} {{\"text\":\"{written}\",\"n\":{i}}}"),
            2 => format!("{i} <xml><Content><![CDATA[{written}]]></Content></xml>"),
            3 => format!("{i} {{'from': 'user', 'text': '{written}'}}"),
            _ => format!("{i} received message from {written} at noon"),
        };
        lines.push_str(&line);
        lines.push('\n');
        want.push((ty, value));
    }
    let out = redact(&cfg, &lines);
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got.len(), want.len());
    for (i, ((ty, value), line)) in want.iter().zip(&got).enumerate() {
        assert_eq!(
            tokens_in(line, ty),
            vec![pseudonym(&cfg, ty, value)],
            "line {i}: {line}"
        );
    }
}

#[test]
fn pseudonym_without_a_key_says_where_it_looked_and_never_echoes_the_value() {
    let tmp = tempfile::tempdir().unwrap();
    let value = "13812345678";
    // No key anywhere: built-in defaults.
    let o = Command::new(bin())
        .env_remove("LOGVEIL_HASH_KEY")
        .env_remove("LOGVEIL_CONFIG")
        .args(["pseudonym", "phone", value])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("no hash key") && err.contains("LOGVEIL_HASH_KEY"),
        "{err}"
    );
    assert!(!err.contains(value) && o.stdout.is_empty(), "{err}");
    // A config naming a key file that is not there (no action needs it, so the config loads).
    let cfg = tmp.path().join("c.yaml");
    let missing = tmp.path().join("hash.key");
    fs::write(
        &cfg,
        format!("logveil:\n  hash_key_file: {}\n", missing.display()),
    )
    .unwrap();
    let o = Command::new(bin())
        .env_remove("LOGVEIL_HASH_KEY")
        .args(["pseudonym", "-c"])
        .arg(&cfg)
        .args(["phone", value])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&missing.display().to_string()) && err.contains(&cfg.display().to_string()),
        "{err}"
    );
    assert!(!err.contains(value), "{err}");
    // An unknown type: the known ones are listed, the value is not.
    let o = Command::new(bin())
        .env("LOGVEIL_HASH_KEY", KEY)
        .env_remove("LOGVEIL_CONFIG")
        .args(["pseudonym", "telephone", value])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("phone, id_card"), "{err}");
    assert!(!err.contains(value), "{err}");
}

/// A work directory with the config, an identity's directory (kept apart, as on an operator's machine),
/// the recipient and the identity file.
fn setup() -> (
    tempfile::TempDir,
    PathBuf,
    tempfile::TempDir,
    String,
    PathBuf,
) {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let keys = tempfile::tempdir().unwrap();
    let recipient = logveil_recipient(keys.path());
    let identity = keys.path().join("key.txt");
    (tmp, cfg, keys, recipient, identity)
}

/// Segments made by the real `pipe` from `input`, one run per stream; returns their paths in order.
fn pipe(cfg: &Path, dir: &Path, recipient: &str, stream: &str, input: &[u8]) -> PathBuf {
    let before = if dir.exists() {
        segments(dir)
    } else {
        Vec::new()
    };
    let o = run_with_stdin(
        logveil(cfg)
            .args(["-q", "pipe", "-c"])
            .arg(cfg)
            .arg("-o")
            .arg(dir)
            .args(["-r", recipient, "--stream", stream]),
        input,
    );
    assert!(o.status.success(), "pipe: {}", stderr(&o));
    let after = segments(dir);
    let new: Vec<_> = after.into_iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(new.len(), 1, "{new:?}");
    new[0].clone()
}

/// Lines of two people (A: 13812345678, B: zhang.san@example.com), both, and neither.
fn two_people(n: u64, seed: u64) -> Vec<u8> {
    let mut out = String::new();
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ seed;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let line = match x % 5 {
            0 => format!("{seed}.{i} {{\"from\":\"user\",\"text\":\"手机 13812345678\",\"n\":\"{x:016x}\"}}\n"),
            1 => format!("{seed}.{i} mail=zhang.san@example.com n={x:016x}\n"),
            2 => format!("{seed}.{i} both 13812345678 and zhang.san@example.com\n"),
            _ => format!("{seed}.{i} nobody here n={x:016x} \u{3000}全角\n"),
        };
        out.push_str(&line);
    }
    out.into_bytes()
}

fn keep_lines(text: &[u8], keep: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    text.split_inclusive(|&b| b == b'\n')
        .filter(|l| keep(l))
        .flatten()
        .copied()
        .collect()
}

fn has(line: &[u8], token: &str) -> bool {
    line.windows(token.len()).any(|w| w == token.as_bytes())
}

#[test]
fn cat_only_prints_exactly_the_lines_that_hold_a_token() {
    let (tmp, cfg, _keys, recipient, identity) = setup();
    let dir = tmp.path().join("seg");
    pipe(&cfg, &dir, &recipient, "a", &two_people(400, 1));
    pipe(&cfg, &dir, &recipient, "b", &two_people(400, 2));
    let a = pseudonym(&cfg, "phone", "13812345678");
    let b = pseudonym(&cfg, "email", "zhang.san@example.com");
    let all = logveil_cat(&identity, &[&dir]);
    assert!(all.status.success(), "{}", stderr(&all));
    let cat_only = |tokens: &[&str]| {
        let mut c = Command::new(bin());
        c.args(["-q", "cat", "-i"]).arg(&identity);
        for t in tokens {
            c.args(["--only", t]);
        }
        c.arg(&dir).output().unwrap()
    };
    for tokens in [
        vec![a.as_str()],
        vec![b.as_str()],
        vec![a.as_str(), b.as_str()],
    ] {
        let o = cat_only(&tokens);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let want = keep_lines(&all.stdout, |l| tokens.iter().any(|t| has(l, t)));
        assert!(!want.is_empty());
        assert!(
            o.stdout == want,
            "--only {tokens:?}: the exact lines, in data order"
        );
    }
    // A token no line holds: nothing printed, exit 1 (as grep).
    let o = cat_only(&["[phone:00000000]"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    // Not a token: a usage error, nothing printed.
    let o = cat_only(&["1381"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty() && stderr(&o).contains("not a pseudonym token"));
    // stdin cannot be read twice: refused with --only.
    let o = run_with_stdin(
        Command::new(bin())
            .args(["-q", "cat", "-i"])
            .arg(&identity)
            .args(["--only", &a, "-"]),
        &fs::read(segments(&dir).first().unwrap()).unwrap(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        o.stdout.is_empty() && stderr(&o).contains("not stdin"),
        "{}",
        stderr(&o)
    );
}

struct Snapshot {
    bytes: Vec<u8>,
    mtime: (i64, i64),
    ino: u64,
}

fn snapshot(p: &Path) -> Snapshot {
    let md = fs::metadata(p).unwrap();
    Snapshot {
        bytes: fs::read(p).unwrap(),
        mtime: (md.mtime(), md.mtime_nsec()),
        ino: md.ino(),
    }
}

fn forget(identity: &Path, recipient: &str, tokens: &[&str], extra: &[&str], dir: &Path) -> Output {
    let mut c = Command::new(bin());
    c.args(["forget", "-i"])
        .arg(identity)
        .args(["-r", recipient]);
    for t in tokens {
        c.args(["--token", t]);
    }
    c.args(extra).arg(dir).output().unwrap()
}

#[test]
fn forget_rewrites_the_segments_with_a_token_and_the_age_and_gzip_tools_read_the_rest_unchanged() {
    if !have("age") || !have("gzip") {
        return;
    }
    let (tmp, cfg, _keys, recipient, identity) = setup();
    let dir = tmp.path().join("seg");
    let segs = [
        pipe(&cfg, &dir, &recipient, "a", &two_people(3000, 1)),
        pipe(&cfg, &dir, &recipient, "b", &two_people(500, 2)),
        // Nobody's: never touched.
        pipe(
            &cfg,
            &dir,
            &recipient,
            "c",
            b"plain line one\nplain line two\n",
        ),
    ];
    let a = pseudonym(&cfg, "phone", "13812345678");
    let b = pseudonym(&cfg, "email", "zhang.san@example.com");
    let before: Vec<Vec<u8>> = segs.iter().map(|s| age_gunzip(s, &identity)).collect();
    assert!(before[0].windows(a.len()).any(|w| w == a.as_bytes()));
    let snaps: Vec<Snapshot> = segs.iter().map(|s| snapshot(s)).collect();
    std::thread::sleep(Duration::from_millis(20));

    // --dry-run lists, and changes nothing.
    let o = forget(&identity, &recipient, &[&a], &["--dry-run"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.matches("would rewrite").count(), 2, "{text}");
    assert!(
        text.contains("3 segments scanned, 2 would be rewritten"),
        "{text}"
    );
    for (s, snap) in segs.iter().zip(&snaps) {
        assert!(
            fs::read(s).unwrap() == snap.bytes,
            "dry run changed {}",
            s.display()
        );
    }
    assert!(!dir.join("privacy-log.jsonl").exists());

    let o = forget(
        &identity,
        &recipient,
        &[&a],
        &["--request", "ticket-42"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let removed: Vec<usize> = before
        .iter()
        .map(|t| {
            keep_lines(t, |l| has(l, &a))
                .split_inclusive(|&b| b == b'\n')
                .count()
        })
        .collect();
    assert!(
        text.contains(&format!(
            "3 segments scanned, 2 rewritten, {} lines removed",
            removed[0] + removed[1]
        )),
        "{text}"
    );
    for (i, s) in segs.iter().enumerate() {
        let now = snapshot(s);
        if i == 2 {
            assert!(
                now.bytes == snaps[i].bytes
                    && now.mtime == snaps[i].mtime
                    && now.ino == snaps[i].ino,
                "a segment without the token is not touched"
            );
            continue;
        }
        assert_ne!(now.ino, snaps[i].ino, "replaced by rename");
        assert_eq!(fs::metadata(s).unwrap().permissions().mode() & 0o777, 0o600);
        // The real tools open it; the lines with the token are gone, every other line is as it was, in order.
        let after = age_gunzip(s, &identity);
        assert!(
            after == keep_lines(&before[i], |l| !has(l, &a)),
            "{}",
            s.display()
        );
        assert!(!has(&after, &a));
        assert!(has(&after, &b), "the other person's lines stay");
    }
    // Nothing else was left in the directory: no temporary, no plaintext.
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".log.gz.age") && !n.ends_with(".lock"))
        .collect();
    names.sort();
    assert_eq!(names, ["privacy-log.jsonl"]);
    // The privacy log: one line per rewrite, 0600, no token and no value in it.
    let log_path = dir.join("privacy-log.jsonl");
    assert_eq!(mode(&log_path), 0o600);
    let log = fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["reason"], "forgotten");
        assert_eq!(l["request"], "ticket-42");
        assert_eq!(l["tokens"], 1);
        assert_eq!(l["lines_removed"], removed[i] as u64);
        assert_eq!(
            l["file"].as_str().unwrap(),
            std::path::absolute(&segs[i]).unwrap().to_str().unwrap()
        );
        assert_eq!(l["bytes_after"], fs::metadata(&segs[i]).unwrap().len());
    }
    assert!(
        !log.contains(&a) && !log.contains("13812345678") && !log.contains(&a[7..15]),
        "{log}"
    );

    // Again: nothing left to remove, nothing touched.
    let snaps: Vec<Snapshot> = segs.iter().map(|s| snapshot(s)).collect();
    let o = forget(&identity, &recipient, &[&a], &[], &dir);
    assert_eq!(o.status.code(), Some(0));
    for (s, snap) in segs.iter().zip(&snaps) {
        assert_eq!(snapshot(s).ino, snap.ino);
    }
    // Both tokens: what is left of person B goes too; `cat --only` finds nothing of either.
    let o = forget(&identity, &recipient, &[&a, &b], &[], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = Command::new(bin())
        .args(["-q", "cat", "-i"])
        .arg(&identity)
        .args(["--only", &a, "--only", &b])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let rest: Vec<u8> = segs[..2]
        .iter()
        .flat_map(|s| age_gunzip(s, &identity))
        .collect();
    let want: Vec<u8> = before[..2]
        .iter()
        .flat_map(|t| keep_lines(t, |l| !has(l, &a) && !has(l, &b)))
        .collect();
    assert!(rest == want);
    assert_eq!(fs::read_to_string(&log_path).unwrap().lines().count(), 4);
}

#[test]
fn forget_refuses_missing_or_other_recipients_and_skips_partials() {
    let (tmp, cfg, _keys, recipient, identity) = setup();
    let other = tempfile::tempdir().unwrap();
    let other_recipient = logveil_recipient(other.path());
    let dir = tmp.path().join("seg");
    let seg = pipe(&cfg, &dir, &recipient, "a", &two_people(200, 1));
    let a = pseudonym(&cfg, "phone", "13812345678");
    let snap = snapshot(&seg);
    // No recipient at all.
    let o = Command::new(bin())
        .env_remove("LOGVEIL_CONFIG")
        .args(["forget", "-i"])
        .arg(&identity)
        .args(["--token", &a])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no recipient"), "{}", stderr(&o));
    // Two recipients where the segment has one: refused, the segment stays.
    let o = Command::new(bin())
        .args(["forget", "-i"])
        .arg(&identity)
        .args(["-r", &recipient, "-r", &other_recipient, "--token", &a])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 X25519") && stderr(&o).contains("2 X25519"),
        "{}",
        stderr(&o)
    );
    let now = snapshot(&seg);
    assert!(now.bytes == snap.bytes && now.ino == snap.ino);
    // One recipient, as the segment has, but not its own: the rewrite does not open with the identity that
    // read the segment, so nothing is replaced.
    let o = forget(&identity, &other_recipient, &[&a], &[], &dir);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not the ones it was written to"),
        "{}",
        stderr(&o)
    );
    let now = snapshot(&seg);
    assert!(now.bytes == snap.bytes && now.ino == snap.ino);
    let left: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // A .partial (still being written) is skipped with a warning, and left as it is.
    let partial = dir.join("a.20261125T120000Z.000009.partial");
    fs::copy(&seg, &partial).unwrap();
    let o = forget(&identity, &recipient, &[&a], &[], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(".partial") && stderr(&o).contains("skipped"));
    assert!(fs::read(&partial).unwrap() == snap.bytes);
    assert!(!has(&age_or_cat(&seg, &identity), &a));
    // An interrupted seal's journal: its next run re-seals the stream's latest segments, so the erasure
    // is not final yet: said, exit 1.
    fs::remove_file(&partial).unwrap();
    let o = forget(&identity, &recipient, &[&a], &[], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    fs::write(dir.join(".a.seal-2049-1234"), b"").unwrap();
    let o = forget(&identity, &recipient, &[&a], &[], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("interrupted seal"), "{}", stderr(&o));
}

/// The segment's text: with the real tools when they are there, else with `logveil cat`.
fn age_or_cat(seg: &Path, identity: &Path) -> Vec<u8> {
    if std::env::var_os("CI").is_some() || (have("age") && have("gzip")) {
        return age_gunzip(seg, identity);
    }
    let o = logveil_cat(identity, &[seg]);
    assert!(o.status.success());
    o.stdout
}

#[test]
fn a_symlink_planted_at_the_temporary_name_is_not_followed() {
    let (tmp, cfg, _keys, recipient, identity) = setup();
    let dir = tmp.path().join("seg");
    let seg = pipe(&cfg, &dir, &recipient, "a", &two_people(200, 1));
    let a = pseudonym(&cfg, "phone", "13812345678");
    let snap = snapshot(&seg);
    let name = seg.file_name().unwrap().to_str().unwrap();
    let link = dir.join(format!(".{name}.forget.tmp"));
    // One to a file that is not there (it would be created), one to a file that is (it would be written).
    for existing in [false, true] {
        let target = tmp.path().join(format!("target-{existing}"));
        if existing {
            fs::write(&target, b"victim\n").unwrap();
        }
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let o = forget(&identity, &recipient, &[&a], &[], &dir);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
        if existing {
            assert_eq!(fs::read(&target).unwrap(), b"victim\n");
        } else {
            assert!(!target.exists(), "created through the link");
        }
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let now = snapshot(&seg);
        assert!(
            now.bytes == snap.bytes && now.ino == snap.ino,
            "the segment stays"
        );
    }
}

#[test]
fn kill_9_during_forget_leaves_the_old_or_the_new_segment_never_neither_and_no_plaintext() {
    if !have("age") || !have("gzip") {
        return;
    }
    let (tmp, cfg, _keys, recipient, identity) = setup();
    let src = tmp.path().join("src");
    let seg = pipe(&cfg, &src, &recipient, "big", &two_people(150_000, 7));
    let name = seg.file_name().unwrap().to_owned();
    let a = pseudonym(&cfg, "phone", "13812345678");
    let old = age_gunzip(&seg, &identity);
    let new = keep_lines(&old, |l| !has(l, &a));
    let old_bytes = fs::read(&seg).unwrap();

    // How long a whole run takes here, to spread the kills over it.
    let fresh = |i: usize| {
        let d = tmp.path().join(format!("run{i}"));
        fs::create_dir(&d).unwrap();
        fs::set_permissions(&d, fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(d.join(&name), &old_bytes).unwrap();
        d
    };
    let d = fresh(0);
    let t = Instant::now();
    let o = forget(&identity, &recipient, &[&a], &[], &d);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let whole = t.elapsed();
    assert!(age_gunzip(&d.join(&name), &identity) == new);

    let (mut saw_old, mut saw_new, mut saw_tmp) = (0, 0, 0);
    let runs = 12;
    for i in 1..=runs {
        let d = fresh(i);
        let mut child = Command::new(bin())
            .args(["-q", "forget", "-i"])
            .arg(&identity)
            .args(["-r", &recipient, "--token", &a])
            .arg(&d)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // From early in the run to well past its usual end (after which the kill finds nothing to stop).
        std::thread::sleep(whole.mul_f64(i as f64 / runs as f64 * 2.0));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let seg = d.join(&name);
        assert!(seg.exists(), "run {i}: the segment is gone");
        let text = age_gunzip(&seg, &identity);
        if text == old {
            saw_old += 1;
        } else {
            assert!(text == new, "run {i}: neither the old nor the new segment");
            saw_new += 1;
        }
        // Whatever else is there is an encrypted temporary, never plaintext.
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let n = e.file_name().into_string().unwrap();
            if n == name.to_str().unwrap() || n.ends_with(".lock") || n == "privacy-log.jsonl" {
                continue;
            }
            assert_eq!(
                n,
                format!(".{}.forget.tmp", name.to_str().unwrap()),
                "run {i}"
            );
            saw_tmp += 1;
            let bytes = fs::read(e.path()).unwrap();
            assert!(
                bytes.is_empty() || bytes.starts_with(b"age-encryption.org/v1\n"),
                "run {i}: a temporary that is not ciphertext"
            );
            assert!(!has(&bytes, "nobody here") && !has(&bytes, &a));
            assert_eq!(mode(&e.path()), 0o600);
        }
        // The next run finishes the job and clears the temporary.
        let o = forget(&identity, &recipient, &[&a], &[], &d);
        assert!(o.status.code() == Some(0), "run {i}: {}", stderr(&o));
        assert!(age_gunzip(&seg, &identity) == new);
        assert!(!d
            .join(format!(".{}.forget.tmp", name.to_str().unwrap()))
            .exists());
    }
    eprintln!(
        "kill -9 runs over {whole:?}: {saw_old} left the old segment, {saw_new} the new one, {saw_tmp} a temporary"
    );
    assert!(saw_old > 0, "some kills came before the rename");
}

/// A document made of runs: literal bytes, or one byte repeated (lines longer than memory should hold).
#[derive(Clone, Copy)]
enum Run<'a> {
    Text(&'a [u8]),
    Repeat(u8, usize),
}

/// Writes the runs to `w` in pieces of at most 1 MiB.
fn write_runs(w: &mut impl std::io::Write, runs: &[Run]) {
    let piece = vec![0u8; 1 << 20];
    for r in runs {
        match *r {
            Run::Text(t) => w.write_all(t).unwrap(),
            Run::Repeat(b, mut n) => {
                let piece: Vec<u8> = piece.iter().map(|_| b).collect();
                while n > 0 {
                    let k = n.min(piece.len());
                    w.write_all(&piece[..k]).unwrap();
                    n -= k;
                }
            }
        }
    }
}

/// Whether `r` yields exactly the runs (read in pieces, never held whole).
fn reads_as(mut r: impl std::io::Read, runs: &[Run]) -> bool {
    let mut want = runs.iter().flat_map(|run| -> Box<dyn Iterator<Item = u8>> {
        match *run {
            Run::Text(t) => Box::new(t.iter().copied()),
            Run::Repeat(b, n) => Box::new(std::iter::repeat_n(b, n)),
        }
    });
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            return want.next().is_none();
        }
        if !buf[..n].iter().all(|&b| want.next() == Some(b)) {
            return false;
        }
    }
}

/// Peak resident set of a command (KiB), as `/usr/bin/time -f %M` reports it on stderr's last line.
fn peak_kib(o: &Output) -> u64 {
    stderr(o).lines().last().unwrap().trim().parse().unwrap()
}

#[test]
fn cat_only_and_forget_hold_no_whole_line_in_memory() {
    if !have("age") || !have("gzip") || !have("/usr/bin/time") {
        return;
    }
    const LONG: usize = 80 << 20;
    let (tmp, cfg, _keys, recipient, identity) = setup();
    let token = pseudonym(&cfg, "phone", "13812345678");
    let with = format!(" {token}\n");
    let short = format!("short {token}\n");
    let doc = [
        Run::Text(b"short a\n"),
        Run::Repeat(b'x', LONG),
        Run::Text(with.as_bytes()),
        Run::Repeat(b'y', LONG),
        Run::Text(b"\n"),
        Run::Text(short.as_bytes()),
        Run::Text(b"last line without a newline"),
    ];
    // The segment, made with the real gzip and age.
    let dir = tmp.path().join("seg");
    fs::create_dir(&dir).unwrap();
    let seg = dir.join("s.20261125T100000Z_20261125T100000Z.000001.log.gz.age");
    let mut gz = Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let age = Command::new("age")
        .args(["-r", &recipient, "-o"])
        .arg(&seg)
        .stdin(gz.stdout.take().unwrap())
        .spawn()
        .unwrap();
    let mut stdin = gz.stdin.take().unwrap();
    write_runs(&mut stdin, &doc);
    drop(stdin);
    assert!(gz.wait().unwrap().success());
    assert!(age.wait_with_output().unwrap().status.success());

    let timed = |args: &[&std::ffi::OsStr]| {
        Command::new("/usr/bin/time")
            .args(["-f", "%M", bin(), "-q"])
            .args(args)
            .output()
            .unwrap()
    };
    let o = timed(&[
        "cat".as_ref(),
        "-i".as_ref(),
        identity.as_os_str(),
        "--only".as_ref(),
        token.as_ref(),
        dir.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(reads_as(
        &o.stdout[..],
        &doc[1..3]
            .iter()
            .chain(&doc[5..6])
            .copied()
            .collect::<Vec<_>>()
    ));
    let cat_peak = peak_kib(&o);

    let o = timed(&[
        "forget".as_ref(),
        "-i".as_ref(),
        identity.as_os_str(),
        "-r".as_ref(),
        recipient.as_ref(),
        "--token".as_ref(),
        token.as_ref(),
        dir.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let forget_peak = peak_kib(&o);
    let mut age = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&identity)
        .arg(&seg)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut gunzip = Command::new("gzip")
        .arg("-dc")
        .stdin(age.stdout.take().unwrap())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let kept = [doc[0], doc[3], doc[4], doc[6]];
    assert!(reads_as(gunzip.stdout.take().unwrap(), &kept));
    assert!(age.wait().unwrap().success() && gunzip.wait().unwrap().success());
    eprintln!(
        "peak RSS with two {LONG}-byte lines: cat --only {cat_peak} KiB, forget {forget_peak} KiB"
    );
    // Less than one of the long lines: neither holds a line whole.
    for peak in [cat_peak, forget_peak] {
        assert!(peak * 1024 < LONG as u64 * 3 / 4, "{peak} KiB");
    }
}

#[test]
fn a_crash_truncated_segment_is_rewritten_from_what_is_readable_and_a_damaged_one_is_left() {
    let (tmp, cfg, _keys, recipient, identity) = setup();
    let dir = tmp.path().join("seg");
    let seg = pipe(&cfg, &dir, &recipient, "a", &two_people(40_000, 3));
    let token = pseudonym(&cfg, "phone", "13812345678");
    let len = fs::metadata(&seg).unwrap().len();
    assert!(len > 4 * 65_536, "several age chunks: {len}");
    // As a crash leaves a segment: cut short, under a `.truncated` name.
    let name = seg.file_name().unwrap().to_str().unwrap().to_string();
    let cut = dir.join(name.replace(".log.gz.age", ".truncated.log.gz.age"));
    fs::rename(&seg, &cut).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&cut)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let readable = logveil_cat(&identity, &[&cut]);
    assert_eq!(readable.status.code(), Some(1), "cat says it is cut short");
    assert!(has(&readable.stdout, &token));
    // A finished segment damaged in the middle: it cannot be rewritten safely.
    let damaged = pipe(&cfg, &dir, &recipient, "b", &two_people(40_000, 4));
    let mut bytes = fs::read(&damaged).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x55;
    fs::write(&damaged, &bytes).unwrap();

    let o = forget(&identity, &recipient, &[&token], &[], &dir);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(damaged.file_name().unwrap().to_str().unwrap())
            && err.contains("tampered")
            && err.contains("left as it is"),
        "{err}"
    );
    assert!(
        fs::read(&damaged).unwrap() == bytes,
        "the damaged segment is not touched"
    );
    // The truncated one now reads whole: what was readable, without the token's lines.
    let after = logveil_cat(&identity, &[&cut]);
    assert_eq!(after.status.code(), Some(0), "{}", stderr(&after));
    assert!(after.stdout == keep_lines(&readable.stdout, |l| !has(l, &token)));
    if std::env::var_os("CI").is_some() || (have("age") && have("gzip")) {
        assert!(age_gunzip(&cut, &identity) == after.stdout);
    }
}

/// Run as root over a service user's directory (`forget` on the host, or on a copy kept with its owners):
/// the rewritten segment and the privacy log stay that user's, as the writer left them.
#[test]
fn a_root_forget_leaves_the_segment_and_the_privacy_log_to_the_directorys_owner() {
    const USER: u32 = 65534;
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set and this test needs root"
        );
        eprintln!("note: not root; skipping this test");
        return;
    }
    let (tmp, cfg, _keys, recipient, identity) = setup();
    let dir = tmp.path().join("seg");
    fs::create_dir(&dir).unwrap();
    std::os::unix::fs::chown(&dir, Some(USER), Some(USER)).unwrap();
    let seg = pipe(&cfg, &dir, &recipient, "a", &two_people(300, 1));
    assert_eq!(fs::metadata(&seg).unwrap().uid(), USER, "pipe gave it away");
    let token = pseudonym(&cfg, "phone", "13812345678");
    let ino = fs::metadata(&seg).unwrap().ino();
    let o = forget(&identity, &recipient, &[&token], &[], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = fs::metadata(&seg).unwrap();
    assert_ne!(md.ino(), ino, "rewritten");
    assert_eq!((md.uid(), md.gid()), (USER, USER));
    let log = fs::metadata(dir.join("privacy-log.jsonl")).unwrap();
    assert_eq!((log.uid(), log.gid()), (USER, USER));
}
