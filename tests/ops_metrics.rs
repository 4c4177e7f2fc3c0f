//! Operations: `--metrics-file` (Prometheus textfile) and retention run in-process by `pipe`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;

/// A recipient made by our own keygen (no external tool needed).
fn recipient(dir: &Path) -> String {
    let out = Command::new(bin())
        .arg("keygen")
        .arg("-o")
        .arg(dir.join("key.txt"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn counter(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
}

#[test]
fn pipe_writes_counters_for_lines_redactions_and_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let r = recipient(tmp.path());
    let out = tmp.path().join("segs");
    let prom = tmp.path().join("logveil.prom");
    let input = "tel 13812345678\nmail a.b@example.com tel 13912345678\nnothing here\n";
    let o = run_with_stdin(
        Command::new(bin())
            .args(["pipe", "--recipient", &r, "--metrics-file"])
            .arg(&prom)
            .arg("--out")
            .arg(&out),
        input.as_bytes(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&prom).unwrap();
    assert_eq!(counter(&text, "logveil_lines_total"), 3);
    assert_eq!(counter(&text, "logveil_bytes_total"), input.len() as u64);
    assert_eq!(
        counter(&text, "logveil_redactions_total{type=\"phone\"}"),
        2
    );
    assert_eq!(
        counter(&text, "logveil_redactions_total{type=\"email\"}"),
        1
    );
    assert_eq!(counter(&text, "logveil_segments_sealed_total"), 1);
    let seg = segments(&out);
    assert_eq!(
        counter(&text, "logveil_segment_bytes_total"),
        fs::metadata(&seg[0]).unwrap().len()
    );
    assert!(!text.contains("13812345678") && !text.contains("example.com"));
    assert_eq!(mode(&prom) & 0o007, 0, "not readable by others");
}

#[test]
fn seal_writes_counters_too() {
    let tmp = tempfile::tempdir().unwrap();
    let r = recipient(tmp.path());
    let log = tmp.path().join("app.log.1");
    fs::write(&log, "a 13812345678\nb\n").unwrap();
    let prom = tmp.path().join("m.prom");
    let o = Command::new(bin())
        .args(["seal", "--recipient", &r, "--metrics-file"])
        .arg(&prom)
        .arg("--out")
        .arg(tmp.path().join("segs"))
        .arg(&log)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&prom).unwrap();
    assert_eq!(counter(&text, "logveil_lines_total"), 2);
    assert_eq!(
        counter(&text, "logveil_redactions_total{type=\"phone\"}"),
        1
    );
    assert_eq!(counter(&text, "logveil_segments_sealed_total"), 1);
}

#[test]
fn pipe_runs_retention_on_its_segment_directory_and_counts_the_deletions() {
    let tmp = tempfile::tempdir().unwrap();
    let r = recipient(tmp.path());
    let out = tmp.path().join("segs");
    fs::create_dir(&out).unwrap();
    // A segment whose last record is long past the 90-day default, and one that is not.
    let old = out.join("stdin.20200101T000000Z_20200102T000000Z.000001.log.gz.age");
    let recent_name = format!(
        "stdin.{t}_{t}.000002.log.gz.age",
        t = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ")
    );
    let recent = out.join(recent_name);
    fs::write(&old, vec![0u8; 1000]).unwrap();
    fs::write(&recent, b"x").unwrap();
    let prom = tmp.path().join("m.prom");
    let o = run_with_stdin(
        Command::new(bin())
            .args(["pipe", "--recipient", &r, "--metrics-file"])
            .arg(&prom)
            .arg("--out")
            .arg(&out),
        b"line\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!old.exists(), "the expired segment is deleted at start");
    assert!(recent.exists(), "a segment within its time stays");
    let log = fs::read_to_string(out.join("privacy-log.jsonl")).unwrap();
    assert!(
        log.contains("20200102T000000Z") && log.contains("\"bytes\":1000"),
        "{log}"
    );
    let text = fs::read_to_string(&prom).unwrap();
    assert_eq!(counter(&text, "logveil_retention_deleted_files_total"), 1);
    assert_eq!(
        counter(&text, "logveil_retention_deleted_bytes_total"),
        1000
    );
}
