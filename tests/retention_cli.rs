//! `logveil retention` run as a real binary against planted segment directories.

use std::fs::{self, File};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use logveil::sink::name::SegmentName;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn logveil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logveil"))
        .args(args)
        .env_remove("LOGVEIL_CONFIG")
        .output()
        .expect("run logveil")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `bytes` bytes to `dir/name` and sets its mtime.
fn plant(dir: &Path, name: &str, bytes: usize, mtime: SystemTime) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, vec![b'x'; bytes]).unwrap();
    set_mtime(&p, mtime);
    p
}

fn set_mtime(p: &Path, t: SystemTime) {
    File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

fn days_ago(d: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(d * 86_400)
}

fn sealed(stream: &str, first: &str, last: &str, seq: u64) -> String {
    SegmentName::sealed(stream, ts(first), ts(last), seq).to_string()
}

const AS_OF: &str = "2026-11-25T00:00:00Z";

#[test]
fn segments_expire_by_last_record_time_not_mtime() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Last record 100 days before AS_OF, but a fresh mtime: expired.
    let old = sealed("bot", "2026-08-10T00:00:00Z", "2026-08-17T00:00:00Z", 1);
    plant(d, &old, 10, SystemTime::now());
    // First record 100 days ago, last record 10 days ago, ancient mtime: kept (the last record decides).
    let spans = sealed("bot", "2026-08-17T00:00:00Z", "2026-11-15T00:00:00Z", 2);
    plant(d, &spans, 10, days_ago(3000));
    // A truncated segment (kept after a crash) expires by its last record too.
    let trunc = SegmentName::sealed(
        "bot",
        ts("2026-07-01T00:00:00Z"),
        ts("2026-07-01T01:00:00Z"),
        0,
    )
    .truncated_from(ts("2026-07-01T01:00:00Z"))
    .to_string();
    plant(d, &trunc, 10, SystemTime::now());

    let o = logveil(&["retention", "--dir", d.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!d.join(&old).exists());
    assert!(!d.join(&trunc).exists());
    assert!(d.join(&spans).exists());
    let out = stdout(&o);
    assert!(out.contains(&old), "{out}");
    assert!(out.contains(&trunc), "{out}");
    assert!(!out.contains(&spans), "{out}");
    assert!(out.contains("summary: deleted 2 files"), "{out}");
}

#[test]
fn max_age_flag_overrides_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ten_days = sealed("bot", "2026-11-14T00:00:00Z", "2026-11-15T00:00:00Z", 1);
    let two_days = sealed("bot", "2026-11-22T00:00:00Z", "2026-11-23T00:00:00Z", 2);
    plant(d, &ten_days, 1, SystemTime::now());
    plant(d, &two_days, 1, SystemTime::now());
    let args = ["retention", "--dir", d.to_str().unwrap(), "--as-of", AS_OF];
    let o = logveil(&args);
    assert_eq!(o.status.code(), Some(0));
    assert!(d.join(&ten_days).exists(), "the default 90d keeps both");
    let o = logveil(&[&args[..], &["--max-age", "7d"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!d.join(&ten_days).exists());
    assert!(d.join(&two_days).exists());
}

#[test]
fn partials_and_foreign_files_are_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ancient = days_ago(5000);
    let partial = SegmentName::partial("bot", ts("2019-01-01T00:00:00Z"), 9).to_string();
    let keep = [
        partial.as_str(),
        "bot.log",
        "bot.log.1.gz",
        "notes.age",
        // Looks like a segment but the sequence is not zero-padded: not logveil's.
        "bot.20190101T000000Z_20190101T000000Z.1.log.gz.age",
        "bot.20190101T000000Z_20190101T000000Z.000001.log.gz.age.bak",
    ];
    for name in keep {
        plant(d, name, 5, ancient);
    }
    // A symlink named like an expired segment is not a regular file: left alone.
    let target = plant(d, "target", 5, ancient);
    std::os::unix::fs::symlink(
        &target,
        d.join(sealed(
            "ln",
            "2019-01-01T00:00:00Z",
            "2019-01-01T00:00:00Z",
            1,
        )),
    )
    .unwrap();
    let o = logveil(&["retention", "--dir", d.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for name in keep {
        assert!(d.join(name).exists(), "{name} was deleted");
    }
    assert_eq!(fs::read_dir(d).unwrap().count(), keep.len() + 2);
    assert!(stdout(&o).contains("summary: deleted 0 files"));
    assert!(
        !d.join("privacy-log.jsonl").exists(),
        "nothing deleted, nothing recorded"
    );
}

#[test]
fn quota_deletes_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = dir.path().join("c.yaml");
    fs::write(
        &cfg,
        "logveil:\n  retention:\n    max_total_bytes: 250\n    privacy_log: PLOG\n"
            .replace("PLOG", dir.path().join("plog").to_str().unwrap()),
    )
    .unwrap();
    let seg_dir = d.join("seg");
    fs::create_dir(&seg_dir).unwrap();
    // Data order: a1 < b1 < a2 < a3 by first record; mtimes say the opposite.
    let a1 = sealed("a", "2026-11-20T00:00:00Z", "2026-11-20T01:00:00Z", 1);
    let b1 = sealed("b", "2026-11-20T02:00:00Z", "2026-11-20T03:00:00Z", 1);
    let a2 = sealed("a", "2026-11-21T00:00:00Z", "2026-11-21T01:00:00Z", 2);
    let a3 = sealed("a", "2026-11-22T00:00:00Z", "2026-11-22T01:00:00Z", 3);
    for (i, n) in [&a1, &b1, &a2, &a3].iter().enumerate() {
        plant(&seg_dir, n, 100, days_ago(1 + i as u64));
    }
    // A partial is not counted and not deleted.
    let p = SegmentName::partial("a", ts("2026-11-24T00:00:00Z"), 4).to_string();
    plant(&seg_dir, &p, 1000, SystemTime::now());
    let o = logveil(&[
        "retention",
        "--config",
        cfg.to_str().unwrap(),
        "--dir",
        seg_dir.to_str().unwrap(),
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!seg_dir.join(&a1).exists());
    assert!(!seg_dir.join(&b1).exists());
    assert!(seg_dir.join(&a2).exists());
    assert!(seg_dir.join(&a3).exists());
    assert!(seg_dir.join(&p).exists());
    let out = stdout(&o);
    assert!(
        out.contains("summary: deleted 2 files, 200 bytes (0 expired, 2 over quota"),
        "{out}"
    );
    // Both deletions recorded, in order.
    let log = fs::read_to_string(d.join("plog")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["file"].as_str().unwrap().ends_with(&a1));
    assert!(lines[1]["file"].as_str().unwrap().ends_with(&b1));
    assert!(lines
        .iter()
        .all(|l| l["reason"] == "quota" && l["bytes"] == 100));
}

#[test]
fn dry_run_deletes_nothing_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let old = sealed("bot", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", 1);
    plant(d, &old, 10, SystemTime::now());
    let o = logveil(&["retention", "--dir", d.to_str().unwrap(), "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(d.join(&old).exists());
    let out = stdout(&o);
    assert!(
        out.contains(&format!("would delete {}", d.join(&old).display())),
        "{out}"
    );
    assert!(
        out.contains("summary: would delete 1 files, 10 bytes"),
        "{out}"
    );
    assert!(!d.join("privacy-log.jsonl").exists());
}

#[test]
fn privacy_log_is_appended_one_line_per_deletion_and_is_0600() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = d.join("privacy-log.jsonl");
    let a = sealed("bot", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", 1);
    let b = sealed("bot", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", 2);
    plant(d, &a, 11, SystemTime::now());
    plant(d, &b, 22, SystemTime::now());
    // First run removes a (b is < 90 days old on 2026-05-01), second run removes b.
    for (as_of, expect_lines) in [("2026-05-01T00:00:00Z", 1), ("2026-11-01T00:00:00Z", 2)] {
        let o = logveil(&["retention", "--dir", d.to_str().unwrap(), "--as-of", as_of]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let text = fs::read_to_string(&log).unwrap();
        assert_eq!(text.lines().count(), expect_lines, "{text}");
    }
    let text = fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["file"], d.join(&a).to_str().unwrap());
    assert_eq!(lines[0]["bytes"], 11);
    assert_eq!(lines[0]["reason"], "max_age");
    assert_eq!(lines[0]["last_record"], "2026-01-02T00:00:00Z");
    assert_eq!(lines[0]["max_age"], "90d");
    assert_eq!(lines[1]["file"], d.join(&b).to_str().unwrap());
    assert_eq!(lines[1]["bytes"], 22);
    for l in &lines {
        l["time"].as_str().unwrap().parse::<Timestamp>().unwrap();
    }
    let mode = fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
}

#[test]
fn privacy_log_is_0600_whatever_the_umask_and_keeps_what_was_there() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let log = d.join("privacy-log.jsonl");
    fs::write(&log, "earlier line\n").unwrap();
    fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).unwrap();
    let a = sealed("bot", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", 1);
    plant(d, &a, 1, SystemTime::now());
    let o = logveil(&["retention", "--dir", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("earlier line\n"), "append only");
    assert_eq!(text.lines().count(), 2);
    assert_eq!(
        fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn plaintext_rules_delete_by_mtime_including_the_seed_conversation_history() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let seg = d.join("seg");
    let conv = d.join("conversations");
    let tmp = d.join("tmp");
    for p in [&seg, &conv, &conv.join("user1"), &tmp] {
        fs::create_dir_all(p).unwrap();
    }
    let cfg = d.join("c.yaml");
    fs::write(
        &cfg,
        format!(
            "privacy:\n  data_retention:\n    conversation_history: {{ max_age_days: 30, auto_delete: true, paths: ['{conv}'] }}\n\
             logveil:\n  retention:\n    rules:\n      - {{ path: '{tmp}/clawdbot-*', max_age: 2d }}\n",
            conv = conv.display(),
            tmp = tmp.display()
        ),
    )
    .unwrap();
    let old_conv = plant(&conv.join("user1"), "2026-10.json", 5, days_ago(31));
    let new_conv = plant(&conv.join("user1"), "2026-11.json", 5, days_ago(29));
    let old_tmp = plant(&tmp, "clawdbot-123.log", 7, days_ago(3));
    let new_tmp = plant(&tmp, "clawdbot-456.log", 7, days_ago(1));
    let other_tmp = plant(&tmp, "other-123.log", 7, days_ago(300));
    // A segment matched by a rule is judged by its name (here: recent), never by mtime.
    let seg_in_tmp = plant(
        &tmp,
        &sealed(
            "clawdbot-x",
            "2026-11-24T00:00:00Z",
            "2026-11-24T00:00:00Z",
            1,
        ),
        3,
        days_ago(300),
    );
    // A symlink matched by the rule is neither deleted nor followed.
    let outside = plant(d, "outside.txt", 3, days_ago(300));
    std::os::unix::fs::symlink(&outside, tmp.join("clawdbot-link")).unwrap();

    let o = logveil(&[
        "retention",
        "--config",
        cfg.to_str().unwrap(),
        "--dir",
        seg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!old_conv.exists());
    assert!(new_conv.exists());
    assert!(!old_tmp.exists());
    assert!(new_tmp.exists());
    assert!(other_tmp.exists());
    assert!(seg_in_tmp.exists());
    assert!(outside.exists());
    assert!(tmp.join("clawdbot-link").symlink_metadata().is_ok());
    let out = stdout(&o);
    assert!(out.contains("2 by rule"), "{out}");
    let log = fs::read_to_string(seg.join("privacy-log.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["reason"] == "rule"));
    let rules: Vec<&str> = lines.iter().map(|l| l["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&conv.to_str().unwrap()), "{rules:?}");
}

#[test]
fn the_config_segment_dir_is_the_default_and_no_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let seg = dir.path().join("segments");
    fs::create_dir(&seg).unwrap();
    let old = sealed("bot", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", 1);
    plant(&seg, &old, 1, SystemTime::now());
    let cfg = dir.path().join("c.yaml");
    fs::write(
        &cfg,
        format!("logveil:\n  segments:\n    dir: '{}'\n", seg.display()),
    )
    .unwrap();
    let o = logveil(&["retention", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!seg.join(&old).exists());

    let o = logveil(&["retention"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--dir"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("logveil.segments.dir"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_arguments_exit_2_and_say_what() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = logveil(&["retention", "--dir", d, "--as-of", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--as-of"), "{}", stderr(&o));
    let o = logveil(&["retention", "--dir", d, "--max-age", "5 parsecs"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--max-age"), "{}", stderr(&o));
    let missing = dir.path().join("missing");
    let o = logveil(&["retention", "--dir", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing"), "{}", stderr(&o));
}

#[test]
fn a_relative_dir_is_recorded_as_an_absolute_path() {
    let dir = tempfile::tempdir().unwrap();
    let seg = dir.path().join("seg");
    fs::create_dir(&seg).unwrap();
    let old = sealed("bot", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", 1);
    plant(&seg, &old, 1, SystemTime::now());
    let o = Command::new(env!("CARGO_BIN_EXE_logveil"))
        .args(["retention", "--dir", "seg"])
        .current_dir(dir.path())
        .env_remove("LOGVEIL_CONFIG")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let log = fs::read_to_string(seg.join("privacy-log.jsonl")).unwrap();
    let v: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(v["file"], seg.join(&old).to_str().unwrap());
}

/// Issue 12 item 5: a duration without a unit is not seconds. `--max-age 90` (or `max_age: "90"`) used
/// to delete every segment older than 90 s; now it is an error that suggests `90d`, and nothing is deleted.
/// Zero and negative ages and a zero quota are refused the same way (they would delete everything).
#[test]
fn retention_cannot_be_mis_set_into_deleting_everything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Sealed a day ago: a 90-day retention keeps it, a 90-second one deletes it.
    let t = Timestamp::now() - jiff::SignedDuration::from_hours(24);
    let name = SegmentName::sealed("bot", t, t, 1).to_string();
    plant(d, &name, 10, SystemTime::now());
    let dir_arg = d.to_str().unwrap();
    for bad in ["90", "0", "0s", "0d", "-1d"] {
        let o = logveil(&["retention", "--dir", dir_arg, &format!("--max-age={bad}")]);
        assert_eq!(o.status.code(), Some(2), "--max-age {bad}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains("--max-age"), "{bad}: {err}");
        if bad == "90" {
            assert!(err.contains("90d?"), "{err}");
        }
        assert!(
            d.join(&name).exists(),
            "--max-age {bad} deleted the segment"
        );
    }
    for (yaml, key, hint) in [
        ("max_age: \"90\"", "logveil.retention.max_age", Some("90d?")),
        ("max_age: 0s", "logveil.retention.max_age", None),
        (
            "max_total_bytes: 0",
            "logveil.retention.max_total_bytes",
            None,
        ),
        (
            "rules: [{path: /nonexistent/x, max_age: \"7\"}]",
            "rules[0].max_age",
            Some("7d?"),
        ),
    ] {
        let cfg = dir.path().join("c.yaml");
        fs::write(&cfg, format!("logveil:\n  retention:\n    {yaml}\n")).unwrap();
        let cfg_arg = cfg.to_str().unwrap();
        let o = logveil(&["retention", "--config", cfg_arg, "--dir", dir_arg]);
        assert_eq!(o.status.code(), Some(2), "{yaml}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains(key), "{yaml}: {err}");
        if let Some(h) = hint {
            assert!(err.contains(h), "{yaml}: {err}");
        }
        assert!(d.join(&name).exists(), "{yaml} deleted the segment");
        let o = logveil(&["config", "check", "--config", cfg_arg]);
        assert_eq!(o.status.code(), Some(2), "config check accepts {yaml}");
    }
    // The same demand for a unit everywhere a duration is read.
    let r = age::x25519::Identity::generate().to_public().to_string();
    let o = logveil(&[
        "pipe",
        "--out",
        dir_arg,
        "-r",
        &r,
        "--max-segment-age",
        "60",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("60s?"), "{}", stderr(&o));
}

/// Issue 12 item 6: `auto_rotate: false` is a legal hold: `logveil retention` (the hourly timer) deletes
/// nothing unless told `--force`, and says so.
#[test]
fn auto_rotate_false_means_no_deletion_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let seg = dir.path().join("seg");
    fs::create_dir(&seg).unwrap();
    let old = sealed("bot", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", 1);
    plant(&seg, &old, 1, SystemTime::now());
    let cfg = dir.path().join("hold.yaml");
    fs::write(
        &cfg,
        format!(
            "privacy:\n  data_retention:\n    logs: {{ retention_days: 90, auto_rotate: false }}\n\
             logveil:\n  segments: {{ dir: {} }}\n",
            seg.display()
        ),
    )
    .unwrap();
    let cfg_arg = cfg.to_str().unwrap();
    let prom = dir.path().join("logveil.prom");
    let prom_arg = prom.to_str().unwrap();
    let o = logveil(&["retention", "--config", cfg_arg, "--metrics-file", prom_arg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(seg.join(&old).exists(), "a legal hold must hold");
    assert!(!seg.join("privacy-log.jsonl").exists());
    let said = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        said.contains("auto_rotate") && said.contains("--force"),
        "{said}"
    );
    // The held run is a run done as configured: its metrics say so (no "retention not running" alert).
    let metrics = fs::read_to_string(&prom).unwrap();
    assert!(
        metrics.contains("logveil_retention_last_success_timestamp_seconds ")
            && metrics.contains("logveil_retention_deleted_files_total 0\n"),
        "{metrics}"
    );
    // A dry run still shows what would go.
    let o = logveil(&["retention", "--config", cfg_arg, "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(&old), "{}", stdout(&o));
    assert!(seg.join(&old).exists());
    // The remote's listing judged under the hold: what would expire there, and that the bucket's
    // lifecycle rule does not know of logveil's hold.
    let listing = dir.path().join("lsjson.json");
    fs::write(
        &listing,
        format!("[{{\"Path\":\"h1/{old}\",\"Name\":\"{old}\",\"Size\":1,\"IsDir\":false}}]"),
    )
    .unwrap();
    let o = logveil(&[
        "retention",
        "--config",
        cfg_arg,
        "--dry-run",
        "--remote-listing",
        listing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains(&format!("would expire h1/{old}")), "{out}");
    assert!(
        out.contains("auto_rotate is false") && out.contains("lifecycle rule"),
        "{out}"
    );
    let o = logveil(&["retention", "--config", cfg_arg, "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!seg.join(&old).exists(), "--force deletes");
}
