//! `logveil audit` run as a real binary: a clean tree passes; each kind of finding, planted, is reported in
//! text and JSON; values are never printed.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use jiff::{SignedDuration, Timestamp};
use logveil::sink::name::SegmentName;
use serde_json::Value;

// Synthetic values (valid-looking, not anyone's).
const PHONE_A: &str = "13812345678";
const PHONE_B: &str = "13912345678";
const EMAIL: &str = "zhang.wei@example.com";

fn logveil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logveil"))
        .args(args)
        .env_remove("LOGVEIL_CONFIG")
        .output()
        .expect("run logveil")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(p: &Path, data: &[u8], mode: u32) -> PathBuf {
    fs::write(p, data).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
    p.to_path_buf()
}

fn set_mtime(p: &Path, t: SystemTime) {
    File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

fn ago(d: Duration) -> Timestamp {
    Timestamp::now()
        .checked_sub(SignedDuration::try_from(d).unwrap())
        .unwrap()
}

fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

fn age_bytes(plain: &[u8]) -> Vec<u8> {
    let id = age::x25519::Identity::generate();
    age::encrypt(&id.to_public(), plain).unwrap()
}

fn gzip(plain: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(plain).unwrap();
    e.finish().unwrap()
}

/// A tree that passes every check: 0700 directories, 0600 files, a fresh sealed segment, a fresh partial,
/// clean logs (plain and gzip'd), a binary file, an age identity and a config.
struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    seg: PathBuf,
    logs: PathBuf,
    config: PathBuf,
}

fn clean_tree() -> Tree {
    clean_tree_with_config("")
}

fn clean_tree_with_config(extra: &str) -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let seg = root.join("segments");
    let logs = root.join("logs");
    for d in [&root, &seg, &logs] {
        fs::create_dir(d).unwrap();
        fs::set_permissions(d, fs::Permissions::from_mode(0o700)).unwrap();
    }
    let name = SegmentName::sealed("bot", ago(hours(30)), ago(hours(25)), 1).to_string();
    write(
        &seg.join(name),
        &age_bytes(&gzip(b"redacted lines\n")),
        0o600,
    );
    let partial = SegmentName::partial("bot", ago(Duration::from_secs(600)), 2).to_string();
    write(&seg.join(partial), b"", 0o600);
    let plog = write(&seg.join("privacy-log.jsonl"), b"{}\n", 0o600);
    set_mtime(&plog, SystemTime::now() - hours(100));
    write(
        &logs.join("bot.log"),
        b"2026-11-25 10:00:00 INFO user [REDACTED:phone] asked about order 42\nport 8080 ok\n",
        0o600,
    );
    write(
        &logs.join("bot.log.1.gz"),
        &gzip(b"nothing personal here\n"),
        0o600,
    );
    write(
        &logs.join("cache.bin"),
        b"\x00\x01\x02binary 13812345678",
        0o600,
    );
    write(
        &root.join("identity.txt"),
        b"# created: 2026-11-25T00:00:00Z\n# public key: age1xyz\nAGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n",
        0o600,
    );
    let config = tmp.path().join("logveil.yaml");
    write(
        &config,
        format!(
            "logveil:\n  segments:\n    dir: '{}'\n    max_segment_age: 1h\n{extra}",
            seg.display()
        )
        .as_bytes(),
        0o600,
    );
    Tree {
        _tmp: tmp,
        root,
        seg,
        logs,
        config,
    }
}

fn audit(t: &Tree, extra: &[&str]) -> Output {
    let mut args = vec!["audit", "--config", t.config.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(t.root.to_str().unwrap());
    logveil(&args)
}

fn audit_json(t: &Tree, extra: &[&str]) -> (Option<i32>, Value) {
    let o = audit(t, &[&["--json"], extra].concat());
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}); stderr: {}", stderr(&o)));
    (o.status.code(), v)
}

fn findings<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

fn path_of(v: &Value) -> &str {
    v["path"].as_str().unwrap()
}

#[test]
fn a_clean_tree_passes_with_exit_0() {
    let t = clean_tree();
    let o = audit(&t, &[]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o), stderr(&o));
    let out = text(&o);
    assert!(out.contains("clean: 0 findings"), "{out}");
    assert!(out.contains("cache.bin: binary"), "{out}");

    let (code, v) = audit_json(&t, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["clean"], true);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    assert_eq!(v["incomplete"].as_array().unwrap().len(), 0);
    for c in ["permissions", "pii", "retention", "encryption"] {
        assert_eq!(v["summary"]["by_check"][c], 0, "{c}");
    }
    assert_eq!(v["summary"]["directories"], 3);
    assert!(v["summary"]["bytes_scanned"].as_u64().unwrap() > 0);
    // The stable top-level schema.
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "as_of",
            "clean",
            "findings",
            "incomplete",
            "notes",
            "paths",
            "schema_version",
            "skipped",
            "summary"
        ]
    );
}

#[test]
fn permissions_open_to_others_are_reported() {
    let t = clean_tree();
    let open_file = write(&t.logs.join("open.log"), b"fine\n", 0o644);
    let open_dir = t.root.join("shared");
    fs::create_dir(&open_dir).unwrap();
    fs::set_permissions(&open_dir, fs::Permissions::from_mode(0o777)).unwrap();
    // A sticky directory (like /tmp) is shared by design: not a finding.
    let sticky = t.root.join("tmp");
    fs::create_dir(&sticky).unwrap();
    fs::set_permissions(&sticky, fs::Permissions::from_mode(0o1777)).unwrap();

    let (code, v) = audit_json(&t, &[]);
    assert_eq!(code, Some(1));
    let f = findings(&v, "open_to_others");
    assert_eq!(f.len(), 2, "{v:#}");
    let file = f
        .iter()
        .find(|x| path_of(x) == open_file.to_str().unwrap())
        .unwrap();
    assert_eq!(file["check"], "permissions");
    assert_eq!(file["mode"], "0644");
    assert_eq!(file["readable"], true);
    assert_eq!(file["writable"], false);
    let dir = f
        .iter()
        .find(|x| path_of(x) == open_dir.to_str().unwrap())
        .unwrap();
    assert_eq!(dir["mode"], "0777");
    assert_eq!(dir["writable"], true);
    assert_eq!(v["summary"]["by_check"]["permissions"], 2);

    let out = text(&audit(&t, &[]));
    assert!(
        out.contains(&format!(
            "permissions  {}: file is readable by others (mode 0644)",
            open_file.display()
        )),
        "{out}"
    );
    assert!(out.contains("NOT CLEAN"), "{out}");
}

#[test]
fn config_and_key_files_must_be_private() {
    let t = clean_tree();
    fs::set_permissions(&t.config, fs::Permissions::from_mode(0o644)).unwrap();
    let key = t.root.join("identity.txt");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
    let ssh = write(
        &t.root.join("id_ed25519"),
        b"-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n",
        0o604,
    );
    // A public key is not secret.
    write(
        &t.root.join("id_ed25519.pub"),
        b"ssh-ed25519 AAAA x\n",
        0o600,
    );
    // A logveil config inside the tree, group-readable.
    let inner_cfg = write(
        &t.root.join("bot.yaml"),
        b"privacy:\n  pii_detection: {}\n",
        0o640,
    );

    let (code, v) = audit_json(&t, &[]);
    assert_eq!(code, Some(1));
    let f = findings(&v, "secret_not_private");
    let mut got: Vec<(String, String, String)> = f
        .iter()
        .map(|x| {
            (
                path_of(x).to_string(),
                x["secret"].as_str().unwrap().to_string(),
                x["mode"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        (
            t.config.display().to_string(),
            "config".into(),
            "0644".into(),
        ),
        (key.display().to_string(), "key".into(), "0640".into()),
        (ssh.display().to_string(), "key".into(), "0604".into()),
        (
            inner_cfg.display().to_string(),
            "config".into(),
            "0640".into(),
        ),
    ];
    want.sort();
    assert_eq!(got, want);
    // A secret file is reported once, as a secret (not also as open to others).
    assert!(findings(&v, "open_to_others").is_empty(), "{v:#}");
    let out = text(&audit(&t, &[]));
    assert!(
        out.contains("key file is mode 0640, should be 0600"),
        "{out}"
    );
}

#[test]
fn residual_pii_is_counted_with_line_numbers_and_never_printed() {
    let t = clean_tree();
    let log = write(
        &t.logs.join("leak.log"),
        format!("start\nuser {PHONE_A} called\nmail {EMAIL}\nok\nagain {PHONE_B}\n").as_bytes(),
        0o600,
    );
    let gz = write(
        &t.logs.join("leak.log.2.gz"),
        &gzip(format!("a\nb\nc {PHONE_A}\n").as_bytes()),
        0o600,
    );
    let (code, v) = audit_json(&t, &[]);
    assert_eq!(code, Some(1));
    let f = findings(&v, "residual_pii");
    let get = |p: &Path, ty: &str| {
        *f.iter()
            .find(|x| path_of(x) == p.to_str().unwrap() && x["pii_type"] == ty)
            .unwrap_or_else(|| panic!("no {ty} finding for {}", p.display()))
    };
    let phone = get(&log, "phone");
    assert_eq!(phone["check"], "pii");
    assert_eq!(phone["count"], 2);
    assert_eq!(phone["first_lines"], serde_json::json!([2, 5]));
    assert_eq!(phone["complete"], true);
    let email = get(&log, "email");
    assert_eq!(email["count"], 1);
    assert_eq!(email["first_lines"], serde_json::json!([3]));
    let in_gz = get(&gz, "phone");
    assert_eq!(in_gz["first_lines"], serde_json::json!([3]));
    assert_eq!(
        f.len(),
        3,
        "the binary file and the segment are not scanned"
    );

    let o = audit(&t, &[]);
    let out = text(&o);
    assert!(
        out.contains(&format!(
            "pii          {}: phone x2 (first lines 2, 5)",
            log.display()
        )),
        "{out}"
    );
    let json = serde_json::to_string(&v).unwrap();
    for value in [PHONE_A, PHONE_B, EMAIL, "zhang.wei"] {
        assert!(
            !out.contains(value),
            "a matched value is in the text report"
        );
        assert!(
            !json.contains(value),
            "a matched value is in the JSON report"
        );
        assert!(!stderr(&o).contains(value), "a matched value is on stderr");
    }
}

#[test]
fn the_pii_scan_uses_the_config_patterns() {
    let t = clean_tree_with_config(
        "privacy:\n  pii_detection:\n    patterns:\n      - {type: employee_id, regex: 'EMP-\\d{6}'}\n",
    );
    let log = write(&t.logs.join("hr.log"), b"x\nEMP-123456 joined\n", 0o600);
    let (code, v) = audit_json(&t, &[]);
    assert_eq!(code, Some(1));
    let f = findings(&v, "residual_pii");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(path_of(f[0]), log.to_str().unwrap());
    assert_eq!(f[0]["pii_type"], "employee_id");
    assert_eq!(f[0]["first_lines"], serde_json::json!([2]));
}

#[test]
fn a_file_read_in_part_or_compressed_otherwise_is_incomplete() {
    let t = clean_tree();
    let big = write(
        &t.logs.join("big.log"),
        &b"clean line\n".repeat(1000),
        0o600,
    );
    let (code, v) = audit_json(&t, &["--max-bytes", "4KiB"]);
    assert_eq!(code, Some(1), "not completely read: exit 1");
    assert_eq!(v["clean"], false);
    let inc = v["incomplete"].as_array().unwrap();
    assert_eq!(inc.len(), 1, "{v:#}");
    assert_eq!(inc[0]["path"], big.to_str().unwrap());
    assert_eq!(inc[0]["reason"], "truncated");
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    // 0 = no limit: the same tree is clean.
    let (code, _) = audit_json(&t, &["--max-bytes", "0"]);
    assert_eq!(code, Some(0));

    write(&t.logs.join("old.log.xz"), b"\xfd7zXZ\x00rest", 0o600);
    let (code, v) = audit_json(&t, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["incomplete"][0]["reason"], "compressed");
}

#[test]
fn expired_segments_and_plaintext_past_their_rule_are_reported() {
    let conv = "conversations";
    let t = clean_tree_with_config("");
    let conv_dir = t.root.join(conv);
    fs::create_dir(&conv_dir).unwrap();
    fs::set_permissions(&conv_dir, fs::Permissions::from_mode(0o700)).unwrap();
    // Rewrite the config with a rule for the conversation directory (the seed's block + our `paths`).
    let cfg = fs::read_to_string(&t.config).unwrap()
        + &format!(
            "privacy:\n  data_retention:\n    conversation_history: {{ max_age_days: 30, auto_delete: true, paths: ['{}'] }}\n",
            conv_dir.display()
        );
    write(&t.config, cfg.as_bytes(), 0o600);
    let old_conv = write(&conv_dir.join("u1.json"), b"{}\n", 0o600);
    set_mtime(&old_conv, SystemTime::now() - hours(31 * 24));
    let new_conv = write(&conv_dir.join("u2.json"), b"{}\n", 0o600);
    set_mtime(&new_conv, SystemTime::now() - hours(29 * 24));
    // Encrypted or not, a file a rule covers is judged by mtime (as `logveil retention` deletes it).
    let old_age = write(&conv_dir.join("u3.json.age"), &age_bytes(b"{}"), 0o600);
    set_mtime(&old_age, SystemTime::now() - hours(31 * 24));

    let (code, v) = audit_json(&t, &[]);
    assert_eq!(code, Some(1));
    let f = findings(&v, "plaintext_expired");
    assert_eq!(f.len(), 2, "{v:#}");
    assert_eq!(path_of(f[0]), old_conv.to_str().unwrap());
    assert_eq!(path_of(f[1]), old_age.to_str().unwrap());
    assert_eq!(f[0]["check"], "retention");
    assert_eq!(f[0]["max_age"], "30d");
    assert!(findings(&v, "segment_expired").is_empty());

    // 90 days after the segment's last record (25 h ago), it is past its time.
    let as_of = Timestamp::now()
        .checked_add(SignedDuration::from_hours(90 * 24))
        .unwrap()
        .to_string();
    let (code, v) = audit_json(&t, &["--as-of", &as_of]);
    assert_eq!(code, Some(1));
    let f = findings(&v, "segment_expired");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["check"], "retention");
    assert_eq!(f[0]["max_age"], "90d");
    assert!(path_of(f[0]).ends_with(".log.gz.age"));
    let out = text(&audit(&t, &["--as-of", &as_of]));
    assert!(out.contains("segment past its time: last record"), "{out}");
}

#[test]
fn bad_age_files_are_reported() {
    let t = clean_tree();
    let garbage = write(
        &t.seg.join("notes.age"),
        b"this is plaintext, not age\n",
        0o600,
    );
    let fake_seg = SegmentName::sealed("bot", ago(hours(3)), ago(hours(2)), 7).to_string();
    let fake_seg = write(&t.seg.join(fake_seg), b"", 0o600);
    // A real age file cut short after its nonce: no final chunk. (A cut inside the payload mostly leaves a
    // length some age stream could have; only decryption, in `cat`, can tell those.)
    let mut real = age_bytes(&vec![b'x'; 200_000]);
    let mac_line = real.windows(5).position(|w| w == b"\n--- ").unwrap() + 1;
    let header_end = mac_line + real[mac_line..].iter().position(|&b| b == b'\n').unwrap() + 1;
    real.truncate(header_end + 16 + 5);
    let cut = SegmentName::sealed("bot", ago(hours(5)), ago(hours(4)), 5).to_string();
    let cut = write(&t.seg.join(cut), &real, 0o600);

    let (code, v) = audit_json(&t, &[]);
    assert_eq!(code, Some(1));
    let bad: Vec<&str> = findings(&v, "bad_age_header")
        .into_iter()
        .map(path_of)
        .collect();
    assert_eq!(bad.len(), 2, "{v:#}");
    assert!(bad.contains(&garbage.to_str().unwrap()));
    assert!(bad.contains(&fake_seg.to_str().unwrap()));
    let payload = findings(&v, "bad_age_payload");
    assert_eq!(payload.len(), 1, "{v:#}");
    assert_eq!(path_of(payload[0]), cut.to_str().unwrap());
    assert_eq!(payload[0]["check"], "encryption");
    let out = text(&audit(&t, &[]));
    assert!(
        out.contains(&format!(
            "encryption   {}: not an age file",
            garbage.display()
        )),
        "{out}"
    );
}

#[test]
fn a_stale_partial_is_reported() {
    let t = clean_tree();
    let stale = SegmentName::partial("bot", ago(hours(3)), 3).to_string();
    let stale = write(&t.seg.join(stale), b"", 0o600);
    let (code, v) = audit_json(&t, &[]);
    assert_eq!(code, Some(1));
    let f = findings(&v, "stale_partial");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(path_of(f[0]), stale.to_str().unwrap());
    assert_eq!(f[0]["max_segment_age"], "1h");
    assert_eq!(
        v["findings"].as_array().unwrap().len(),
        1,
        "the fresh partial is fine"
    );
}

#[test]
fn plaintext_older_than_one_rotation_in_a_sealed_directory_is_reported() {
    let t = clean_tree();
    let old = write(&t.seg.join("bot.log.1"), b"clean\n", 0o600);
    set_mtime(&old, SystemTime::now() - hours(2));
    let fresh = write(&t.seg.join("bot.log"), b"clean\n", 0o600);
    // The same old file in a directory without segments is not a finding.
    let elsewhere = write(&t.logs.join("bot.log.1"), b"clean\n", 0o600);
    set_mtime(&elsewhere, SystemTime::now() - hours(2));

    let (code, v) = audit_json(&t, &[]);
    assert_eq!(code, Some(1));
    let f = findings(&v, "unsealed_plaintext");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(path_of(f[0]), old.to_str().unwrap());
    assert_eq!(f[0]["rotation"], "1h");
    assert!(fresh.exists());
    let out = text(&audit(&t, &[]));
    assert!(out.contains("plaintext in a sealed log directory"), "{out}");

    // A directory with a sealed segment is sealed even when it is not the config's segment directory.
    let other = t.root.join("other");
    fs::create_dir(&other).unwrap();
    fs::set_permissions(&other, fs::Permissions::from_mode(0o700)).unwrap();
    let name = SegmentName::sealed("x", ago(hours(3)), ago(hours(2)), 1).to_string();
    write(&other.join(name), &age_bytes(b"x"), 0o600);
    let stale = write(&other.join("x.log"), b"clean\n", 0o600);
    set_mtime(&stale, SystemTime::now() - hours(2));
    let (_, v) = audit_json(&t, &[]);
    let paths: Vec<&str> = findings(&v, "unsealed_plaintext")
        .into_iter()
        .map(path_of)
        .collect();
    assert!(paths.contains(&stale.to_str().unwrap()), "{paths:?}");
}

#[test]
fn errors_exit_2() {
    let t = clean_tree();
    let o = logveil(&["audit", t.root.join("missing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing"), "{}", stderr(&o));
    let bad_cfg = write(
        &t.root.join("bad.yaml"),
        b"logveil:\n  nonsense: 1\n",
        0o600,
    );
    let o = logveil(&[
        "audit",
        "--config",
        bad_cfg.to_str().unwrap(),
        t.root.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = logveil(&["audit", "--as-of", "soon", t.root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--as-of"), "{}", stderr(&o));
}

#[test]
fn a_file_made_by_the_age_cli_has_a_valid_header() {
    let have = |tool: &str| Command::new(tool).arg("--version").output().is_ok();
    if !have("age") || !have("age-keygen") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: the age CLI is missing"
        );
        eprintln!("note: age CLI not installed; test skipped");
        return;
    }
    let t = clean_tree();
    let key = t.root.join("k.txt");
    let o = Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success());
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    let recipient = Command::new("age-keygen")
        .arg("-y")
        .arg(&key)
        .output()
        .unwrap();
    let recipient = String::from_utf8(recipient.stdout).unwrap();
    let plain = t._tmp.path().join("plain");
    fs::write(&plain, vec![b'y'; 150_000]).unwrap();
    let name = SegmentName::sealed("cli", ago(hours(3)), ago(hours(2)), 1).to_string();
    let out = t.seg.join(name);
    let o = Command::new("age")
        .args(["-r", recipient.trim(), "-o"])
        .arg(&out)
        .arg(&plain)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    fs::set_permissions(&out, fs::Permissions::from_mode(0o600)).unwrap();
    let (code, v) = audit_json(&t, &[]);
    assert_eq!(code, Some(0), "{v:#}");
}

#[test]
fn a_config_inside_the_tree_and_overlapping_paths_are_reported_once() {
    let t = clean_tree();
    let inner = t.root.join("logveil.yaml");
    fs::rename(&t.config, &inner).unwrap();
    fs::set_permissions(&inner, fs::Permissions::from_mode(0o644)).unwrap();
    let o = logveil(&[
        "audit",
        "--json",
        "--config",
        inner.to_str().unwrap(),
        t.root.to_str().unwrap(),
        t.logs.to_str().unwrap(),
        t.root.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = findings(&v, "secret_not_private");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(path_of(f[0]), inner.to_str().unwrap());
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(v["summary"]["directories"], 3, "each directory walked once");
}
