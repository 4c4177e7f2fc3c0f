//! Operations: `--metrics-file` (Prometheus textfile) and retention run in-process by `pipe`.

mod common;

use std::fs;
use std::process::Command;

use common::*;

fn counter(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
}

#[test]
fn pipe_writes_counters_for_lines_redactions_and_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let r = logveil_recipient(tmp.path());
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
    exposition(&text);
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
    let r = logveil_recipient(tmp.path());
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
    let r = logveil_recipient(tmp.path());
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

#[test]
fn tail_writes_counters_when_it_stops() {
    tail_writes_counters(false);
}

/// The metrics file in the state directory (which the packaged unit may write): the metrics writer locks
/// the directory it writes in, so the tail's own lock on its state directory must not be that lock (a
/// tail would wait for itself forever at its first metrics write).
#[test]
fn tail_writes_counters_into_its_own_state_directory() {
    tail_writes_counters(true);
}

fn tail_writes_counters(prom_in_state: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let r = logveil_recipient(tmp.path());
    let log = tmp.path().join("app.log");
    fs::write(&log, "tel 13812345678\nsecond line\n").unwrap();
    let state = tmp.path().join("state");
    let prom = if prom_in_state {
        fs::create_dir(&state).unwrap();
        state.join("m.prom")
    } else {
        tmp.path().join("m.prom")
    };
    let out = tmp.path().join("segs");
    let mut child = Command::new(bin())
        .args([
            "tail",
            "--poll",
            "--poll-interval",
            "100ms",
            "--recipient",
            &r,
            "--metrics-file",
        ])
        .arg(&prom)
        .arg("--out")
        .arg(&out)
        .arg("--state")
        .arg(&state)
        .arg(&log)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Never leave the sidecar running when an assertion fails.
    struct Kill(Option<u32>);
    impl Drop for Kill {
        fn drop(&mut self) {
            if let Some(pid) = self.0 {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
    let mut guard = Kill(Some(child.id()));
    // Once a segment is open, the lines have been read and redacted.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !out.exists() || partials(&out).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "tail did not start a segment"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tail did not stop within 30 s of SIGTERM (waiting for a lock?)"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    guard.0 = None;
    assert!(status.success(), "SIGTERM exits 0");
    let text = fs::read_to_string(&prom).unwrap();
    exposition(&text);
    series(&text, "logveil_checkpoint_last_success_timestamp_seconds");
    assert_eq!(counter(&text, "logveil_lines_total"), 2);
    assert_eq!(
        counter(&text, "logveil_redactions_total{type=\"phone\"}"),
        1
    );
    assert_eq!(counter(&text, "logveil_segments_sealed_total"), 1);
    assert_eq!(segments(&out).len(), 1);
}

/// Checks `text` against the Prometheus text exposition format (0.0.4) and promtool's lint rules, and
/// returns its samples by series (`name{labels}` with labels sorted) -> value. Panics naming the line.
fn exposition(text: &str) -> std::collections::BTreeMap<String, f64> {
    use std::collections::{BTreeMap, BTreeSet};
    fn name_ok(n: &str) -> bool {
        let mut c = n.chars();
        c.next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
            && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
    }
    /// `{a="x",b="y"}` -> sorted pairs; None when malformed.
    fn labels(s: &str) -> Option<Vec<(String, String)>> {
        let inner = s.strip_prefix('{')?.strip_suffix('}')?;
        let mut out = Vec::new();
        let mut rest = inner;
        while !rest.is_empty() {
            let (name, after) = rest.split_once("=\"")?;
            if !name_ok(name) || name.contains(':') || name.starts_with("__") {
                return None;
            }
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                let (i, c) = chars.next()?;
                match c {
                    '\\' => match chars.next()?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        _ => return None,
                    },
                    '"' => break i,
                    c => value.push(c),
                }
            };
            out.push((name.to_owned(), value));
            rest = &after[end + 1..];
            rest = match rest.strip_prefix(',') {
                Some(r) => r,
                None if rest.is_empty() => rest,
                None => return None,
            };
        }
        out.sort();
        Some(out)
    }
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helps: BTreeSet<String> = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut samples = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("line {}: {line:?}\n{text}", n + 1);
        if let Some(rest) = line.strip_prefix("# ") {
            let mut w = rest.splitn(3, ' ');
            let (kw, name) = (w.next().unwrap(), w.next().unwrap_or(""));
            match kw {
                "HELP" => {
                    assert!(name_ok(name), "bad name, {at}");
                    assert!(helps.insert(name.to_owned()), "second HELP, {at}");
                    assert!(
                        !w.next().unwrap_or("").trim().is_empty(),
                        "empty HELP, {at}"
                    );
                }
                "TYPE" => {
                    let t = w.next().unwrap_or("");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&t),
                        "bad TYPE, {at}"
                    );
                    assert!(
                        !samples
                            .keys()
                            .any(|k: &String| k.split('{').next() == Some(name)),
                        "TYPE after samples, {at}"
                    );
                    assert!(
                        types.insert(name.to_owned(), t.to_owned()).is_none(),
                        "second TYPE, {at}"
                    );
                    // promtool lint
                    assert_eq!(
                        t == "counter",
                        name.ends_with("_total"),
                        "counters and only counters end in _total, {at}"
                    );
                    assert!(
                        name.chars().all(|c| !c.is_ascii_uppercase()),
                        "camelCase, {at}"
                    );
                    for bad in ["_count", "_sum", "_bucket"] {
                        assert!(!name.ends_with(bad), "reserved suffix, {at}");
                    }
                }
                _ => {}
            }
            continue;
        }
        assert!(!line.is_empty(), "blank line, {at}");
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value, {at}"));
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("bad value, {at}"));
        let (name, lab) = match series.find('{') {
            Some(i) => (
                &series[..i],
                labels(&series[i..]).unwrap_or_else(|| panic!("bad labels, {at}")),
            ),
            None => (series, Vec::new()),
        };
        assert!(name_ok(name), "bad name, {at}");
        assert!(types.contains_key(name), "sample without TYPE, {at}");
        assert!(
            helps.contains(name),
            "sample without HELP (promtool lint), {at}"
        );
        if current.as_deref() != Some(name) {
            if let Some(c) = current.replace(name.to_owned()) {
                finished.insert(c);
            }
            assert!(
                !finished.contains(name),
                "samples of a family not together, {at}"
            );
        }
        if types[name] == "counter" {
            assert!(v >= 0.0 && v.fract() == 0.0, "counter value, {at}");
        }
        let key = format!(
            "{name}{{{}}}",
            lab.iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(samples.insert(key, v).is_none(), "duplicate series, {at}");
    }
    samples
}

/// The value of one series, e.g. `logveil_redactions_total{type="phone"}` (labels as written).
fn series(text: &str, s: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(s)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no series {s} in:\n{text}"))
}

#[test]
fn the_validator_rejects_what_promtool_rejects() {
    let ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
    exposition(ok);
    for bad in [
        "a_total 1\n",                                                       // no TYPE
        "# HELP a A.\n# TYPE a counter\na 1\n",                              // counter without _total
        "# HELP a_total A.\n# TYPE a_total gauge\na_total 1\n",              // _total gauge
        "# HELP a_total A.\n# TYPE a_total counter\na_total{x=1} 1\n",       // unquoted label
        "# HELP a_total A.\n# TYPE a_total counter\na_total 1\na_total 2\n", // duplicate
        "# HELP a_total A.\n# TYPE a_total counter\n# HELP b B.\n# TYPE b gauge\na_total 1\nb 1\na_total{y=\"\"} 1\n",
    ] {
        let r = std::panic::catch_unwind(|| exposition(bad));
        assert!(r.is_err(), "accepted:\n{bad}");
    }
}

#[test]
fn every_labelled_series_is_there_from_the_start_with_the_build_info() {
    let tmp = tempfile::tempdir().unwrap();
    let r = logveil_recipient(tmp.path());
    let prom = tmp.path().join("m.prom");
    let o = run_with_stdin(
        Command::new(bin())
            .args(["pipe", "--recipient", &r, "--metrics-file"])
            .arg(&prom)
            .arg("--out")
            .arg(tmp.path().join("segs")),
        b"nothing personal here\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&prom).unwrap();
    let s = exposition(&text);
    assert_eq!(
        s[&format!(
            "logveil_build_info{{version={:?}}}",
            env!("CARGO_PKG_VERSION")
        )],
        1.0
    );
    for t in [
        "phone",
        "id_card",
        "bank_card",
        "email",
        "ipv4",
        "ipv6",
        "secret",
        "password",
    ] {
        assert_eq!(
            s[&format!("logveil_redactions_total{{type={t:?}}}")],
            0.0,
            "{t}:\n{text}"
        );
    }
    for st in ["input", "retention", "seal"] {
        assert_eq!(
            s[&format!("logveil_errors_total{{stage={st:?}}}")],
            0.0,
            "{st}:\n{text}"
        );
    }
    let sealed = series(&text, "logveil_seal_last_success_timestamp_seconds");
    let now = jiff::Timestamp::now().as_second() as f64;
    assert!((now - sealed).abs() < 120.0, "{text}");
}

#[test]
fn seal_merges_into_the_metrics_file_instead_of_overwriting_it() {
    let tmp = tempfile::tempdir().unwrap();
    let r = logveil_recipient(tmp.path());
    let prom = tmp.path().join("m.prom");
    for (i, text) in ["a 13812345678\nb\n", "c 13912345678\nd\ne\n"]
        .iter()
        .enumerate()
    {
        let log = tmp.path().join(format!("app.log.{}", i + 1));
        fs::write(&log, text).unwrap();
        let o = Command::new(bin())
            .args(["seal", "--recipient", &r, "--metrics-file"])
            .arg(&prom)
            .arg("--out")
            .arg(tmp.path().join("segs"))
            .arg(&log)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let text = fs::read_to_string(&prom).unwrap();
    exposition(&text);
    assert_eq!(
        counter(&text, "logveil_lines_total"),
        5,
        "both runs count:\n{text}"
    );
    assert_eq!(
        counter(&text, "logveil_redactions_total{type=\"phone\"}"),
        2
    );
    assert_eq!(counter(&text, "logveil_segments_sealed_total"), 2);
    series(&text, "logveil_seal_last_success_timestamp_seconds");
}

#[test]
fn retention_writes_its_counts_errors_and_last_success() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("segs");
    fs::create_dir(&out).unwrap();
    let old = out.join("stdin.20200101T000000Z_20200102T000000Z.000001.log.gz.age");
    fs::write(&old, vec![0u8; 700]).unwrap();
    let prom = tmp.path().join("m.prom");
    let run = || {
        Command::new(bin())
            .args(["retention", "--dir"])
            .arg(&out)
            .arg("--metrics-file")
            .arg(&prom)
            .output()
            .unwrap()
    };
    let o = run();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!old.exists());
    let text = fs::read_to_string(&prom).unwrap();
    exposition(&text);
    assert_eq!(counter(&text, "logveil_retention_deleted_files_total"), 1);
    assert_eq!(counter(&text, "logveil_retention_deleted_bytes_total"), 700);
    assert_eq!(
        counter(&text, "logveil_errors_total{stage=\"retention\"}"),
        0
    );
    let first = series(&text, "logveil_retention_last_success_timestamp_seconds");
    // A run that fails as a whole (the privacy log cannot be opened: a directory is in its place) is
    // counted, and the last success stays where it was.
    fs::write(&old, vec![0u8; 10]).unwrap();
    fs::remove_file(out.join("privacy-log.jsonl")).unwrap();
    fs::create_dir(out.join("privacy-log.jsonl")).unwrap();
    let o = run();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let text = fs::read_to_string(&prom).unwrap();
    exposition(&text);
    assert_eq!(
        counter(&text, "logveil_errors_total{stage=\"retention\"}"),
        1
    );
    assert_eq!(counter(&text, "logveil_retention_deleted_files_total"), 1);
    assert_eq!(
        series(&text, "logveil_retention_last_success_timestamp_seconds"),
        first
    );
}

#[test]
fn audit_writes_findings_per_check() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("chat.log"), "call me at 13812345678\n").unwrap();
    let prom = tmp.path().join("m.prom");
    let o = Command::new(bin())
        .args(["audit", "--metrics-file"])
        .arg(&prom)
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = fs::read_to_string(&prom).unwrap();
    exposition(&text);
    assert_eq!(
        series(&text, "logveil_audit_findings{check=\"pii\"}"),
        1.0,
        "{text}"
    );
    for c in ["permissions", "retention", "encryption"] {
        series(&text, &format!("logveil_audit_findings{{check=\"{c}\"}}"));
    }
    series(&text, "logveil_audit_last_success_timestamp_seconds");
    assert!(!text.contains("13812345678"));
}

/// An idle `pipe` (its writer quiet, stdin open) keeps rewriting its metrics file, so that an alert on the
/// file's age (`node_textfile_mtime_seconds`) means logveil is gone, not that the bot is quiet. The file
/// is there from the start (every series at 0), and rewritten without any input.
#[test]
fn an_idle_pipe_keeps_its_metrics_file_fresh() {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let r = logveil_recipient(tmp.path());
    let prom = tmp.path().join("m.prom");
    let mut child = Command::new(bin())
        .args(["pipe", "--recipient", &r, "--metrics-file"])
        .arg(&prom)
        .arg("--out")
        .arg(tmp.path().join("segs"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdin = child.stdin.take().unwrap();
    let mut child = Kill(child);
    let mtime = || fs::metadata(&prom).and_then(|m| m.modified()).ok();
    let wait = |secs: u64, cond: &dyn Fn() -> bool| {
        let end = Instant::now() + Duration::from_secs(secs);
        while !cond() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(100));
        }
        cond()
    };
    assert!(
        wait(30, &|| mtime().is_some()),
        "no metrics file while pipe waits for its first line"
    );
    let text = fs::read_to_string(&prom).unwrap();
    exposition(&text);
    assert_eq!(counter(&text, "logveil_lines_total"), 0, "{text}");
    let first = mtime().unwrap();
    // Rewritten every 10 s; a minute of slack for a loaded machine.
    assert!(
        wait(70, &|| mtime().is_some_and(|t| t > first)),
        "the metrics file was not rewritten while pipe was idle"
    );
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "pipe exited with its stdin open"
    );
    drop(stdin);
    let o = std::mem::replace(&mut child.0, Command::new("true").spawn().unwrap())
        .wait_with_output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(&prom).unwrap();
    assert_eq!(counter(&text, "logveil_lines_total"), 0, "{text}");
}
