//! `logveil seal`: redact and seal rotated files, then remove the plaintext; safe to run twice.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use common::*;

fn seal(out: &Path, recipient: &str, extra: &[&str], files: &[&Path]) -> Output {
    Command::new(bin())
        .args(["seal", "--recipient", recipient])
        .arg("--out")
        .arg(out)
        .args(extra)
        .args(files)
        .output()
        .unwrap()
}

#[test]
fn a_rotated_file_is_sealed_then_removed_and_a_second_run_loses_nothing() {
    let Some(keys) = age_keys() else { return };
    if !have("age") || !have("gzip") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let rotated = tmp.path().join("output.log.1");
    let input = sample_log(3000, 21);
    fs::write(&rotated, &input).unwrap();

    let o = seal(&out, &keys.recipient, &[], &[&rotated]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!rotated.exists(), "the plaintext is removed");
    let segs = segments(&out);
    assert_eq!(segs.len(), 1);
    let name = segs[0].file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("output.log."),
        "stream from the file name: {name}"
    );
    assert!(age_gunzip(&segs[0], &keys.identity) == redacted(&input));

    // Again (logrotate retried, or a second hook): a clear message, exit 1, the segment untouched.
    let before = fs::read(&segs[0]).unwrap();
    let o = seal(&out, &keys.recipient, &[], &[&rotated]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("output.log.1") && err.contains("no such file"),
        "{err}"
    );
    assert_eq!(segments(&out), segs);
    assert!(fs::read(&segs[0]).unwrap() == before);
}

#[test]
fn keep_keeps_the_plaintext_and_an_empty_file_makes_no_segment() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let rotated = tmp.path().join("app.log.1");
    fs::write(&rotated, sample_log(50, 4)).unwrap();
    let o = seal(&out, &keys.recipient, &["--keep"], &[&rotated]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(rotated.exists());
    assert_eq!(segments(&out).len(), 1);

    let empty = tmp.path().join("empty.log.1");
    fs::write(&empty, b"").unwrap();
    let o = seal(&out, &keys.recipient, &[], &[&empty]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !empty.exists(),
        "an empty file has nothing to lose: removed"
    );
    assert_eq!(segments(&out).len(), 1, "no segment for an empty file");
}

#[test]
fn several_files_are_sealed_oldest_first_and_gzip_input_is_read() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let old_text = sample_log(100, 31);
    let new_text = sample_log(100, 32);
    // logrotate `compress`: the older file is gzip-compressed.
    let old = tmp.path().join("bot.log.2.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(&old_text).unwrap();
    fs::write(&old, enc.finish().unwrap()).unwrap();
    let new = tmp.path().join("bot.log.1");
    fs::write(&new, &new_text).unwrap();
    // Make bot.log.2.gz clearly older.
    let ok = Command::new("touch")
        .args(["-d", "2026-01-01 00:00:00"])
        .arg(&old)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let missing = tmp.path().join("bot.log.3");
    // Given newest first and with a missing file among them.
    let o = seal(&out, &keys.recipient, &[], &[&new, &missing, &old]);
    assert_eq!(o.status.code(), Some(1), "a skipped file: {}", stderr(&o));
    assert!(!new.exists() && !old.exists());
    let c = logveil_cat(&keys.identity, &[&out]);
    assert!(c.status.success(), "{}", stderr(&c));
    let mut all = old_text.clone();
    all.extend_from_slice(&new_text);
    assert!(
        c.stdout == redacted(&all),
        "data order: the older file first"
    );
}

#[test]
fn an_unreadable_gzip_file_is_kept_and_nothing_is_sealed_from_it() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let bad = tmp.path().join("bot.log.1.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(&sample_log(2000, 8)).unwrap();
    let mut gz = enc.finish().unwrap();
    gz.truncate(gz.len() / 2);
    fs::write(&bad, &gz).unwrap();
    let o = seal(&out, &keys.recipient, &[], &[&bad]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("bot.log.1.gz") && err.contains("kept"),
        "{err}"
    );
    assert!(bad.exists(), "the plaintext stays");
    assert!(segments(&out).is_empty() && partials(&out).is_empty());
}

/// Issue 12 item 4 (F5): `seal` of a symlink sealed the target, removed only the link and logged "plaintext
/// removed" while the target, with its personal data, stayed. Now a symlink is refused (exit 2, nothing
/// sealed, nothing removed) unless `--follow-symlinks` says to seal the target; then the target goes too.
#[test]
fn a_symlink_is_refused_unless_told_and_then_its_target_is_what_is_removed() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    fs::create_dir(tmp.path().join("in")).unwrap();
    let target = tmp.path().join("target.log");
    let text = sample_log(200, 5);
    fs::write(&target, &text).unwrap();
    let link = tmp.path().join("in/app.log.1");
    std::os::unix::fs::symlink("../target.log", &link).unwrap();

    let o = seal(&out, &keys.recipient, &[], &[&link]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("app.log.1") && err.contains("symbolic link"),
        "{err}"
    );
    assert!(!err.contains("plaintext removed"), "{err}");
    assert!(fs::symlink_metadata(&link).is_ok(), "the link stays");
    assert!(fs::read(&target).unwrap() == text, "the target stays");
    assert!(!out.exists() || segments(&out).is_empty(), "nothing sealed");

    let o = seal(&out, &keys.recipient, &["--follow-symlinks"], &[&link]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!target.exists(), "the plaintext itself is removed");
    assert!(fs::symlink_metadata(&link).is_err(), "and the link to it");
    assert!(stderr(&o).contains("target.log"), "{}", stderr(&o));
    let c = logveil_cat(&keys.identity, &[&out]);
    assert!(c.status.success(), "{}", stderr(&c));
    assert!(c.stdout == redacted(&text));
}

/// Issue 12 item 3 (F6): a `seal` killed with -9 left its finished segments and its `.partial`; the rerun
/// sealed the whole file again (43 592 duplicate lines in the report). Now the rerun removes what the
/// killed run of the same file left, and every line is sealed exactly once.
#[test]
fn seal_killed_with_kill_9_then_run_again_seals_every_line_exactly_once() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let rotated = tmp.path().join("app.log.1");
    let n = 200_000;
    fs::write(&rotated, numbered("P", n)).unwrap();
    let mut child = Command::new(bin())
        .args(["-q", "seal", "--recipient", &keys.recipient])
        .args(["--max-segment-bytes", "4MiB", "--out"])
        .arg(&out)
        .arg(&rotated)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !out.is_dir() || segments(&out).len() < 2 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "seal finished before the kill"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "no segment after 120 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(rotated.exists(), "the plaintext stays after the kill");
    let o = seal(
        &out,
        &keys.recipient,
        &["--max-segment-bytes", "4MiB"],
        &[&rotated],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!rotated.exists());
    assert!(partials(&out).is_empty());
    let c = logveil_cat(&keys.identity, &[&out]);
    assert_eq!(c.status.code(), Some(0), "{}", stderr(&c));
    assert_eq!(count("P", n, &c.stdout), exactly_once(n));
}

/// Issue 12 item 3 (F6): a `seal` stopped by a full disk left its `.partial` filling the disk, so the retry
/// failed too, and once space was back the rerun duplicated 157 666 lines. Now a failed run leaves nothing
/// of its own behind, and the run after space came back seals every line exactly once.
#[test]
fn seal_stopped_by_a_full_disk_then_run_again_seals_every_line_exactly_once() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&tmp.path().join("full"), "1m") else {
        return;
    };
    let out = disk.dir.join("seg");
    let rotated = tmp.path().join("app.log.1");
    let n = 200_000;
    fs::write(&rotated, numbered("P", n)).unwrap();
    let small = ["--max-segment-bytes", "4MiB"];
    for _ in 0..2 {
        let o = seal(&out, &keys.recipient, &small, &[&rotated]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("No space left"), "{}", stderr(&o));
        assert!(rotated.exists(), "the plaintext is kept");
        assert!(
            partials(&out).is_empty(),
            "no .partial left filling the disk"
        );
        assert!(segments(&out).is_empty(), "nothing of the failed run stays");
    }
    disk.remount("size=64m");
    let o = seal(&out, &keys.recipient, &small, &[&rotated]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!rotated.exists());
    let c = logveil_cat(&keys.identity, &[&out]);
    assert_eq!(c.status.code(), Some(0), "{}", stderr(&c));
    assert_eq!(count("P", n, &c.stdout), exactly_once(n));
}

/// Issue 12 item 3: a plaintext that cannot be removed after sealing (here on a read-only mount) is an
/// error each time, but the retries add no segment; once it can be removed, it is, and its lines are in
/// the segments once.
#[test]
fn a_plaintext_that_cannot_be_removed_adds_no_segment_on_retry() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let Some(input) = Tmpfs::mount(&tmp.path().join("in"), "64m") else {
        return;
    };
    let out = tmp.path().join("sealed");
    let rotated = input.dir.join("app.log.1");
    let n = 5_000;
    fs::write(&rotated, numbered("R", n)).unwrap();
    input.remount("ro");
    let mut first = Vec::new();
    for _ in 0..3 {
        let o = seal(&out, &keys.recipient, &[], &[&rotated]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("cannot remove the plaintext"),
            "{}",
            stderr(&o)
        );
        let now = segments(&out);
        assert_eq!(now.len(), 1, "{now:?}");
        if first.is_empty() {
            first = now;
        } else {
            assert_eq!(now, first, "a retry adds no segment");
        }
    }
    input.remount("rw");
    let o = seal(&out, &keys.recipient, &[], &[&rotated]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!rotated.exists());
    assert_eq!(segments(&out), first);
    let c = logveil_cat(&keys.identity, &[&out]);
    assert_eq!(count("R", n, &c.stdout), exactly_once(n));
}
