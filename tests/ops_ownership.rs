//! Issue 12 item 7: runs as root (a manual `logveil retention`, the logrotate hook's `seal`, a root `pipe`
//! or `tail`) must not lock the service user out of its own directories. The service user here is
//! `nobody` (uid 65534), run for real with `setpriv`; the tests need root and setpriv (with `CI` set they
//! fail without them, elsewhere they are skipped with a note).

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;

const USER: u32 = 65534;

/// Whether this process is root and `setpriv` is there.
fn root_and_setpriv() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and these tests need root");
        }
        eprintln!("note: not root; skipping this test");
        return false;
    }
    have("setpriv")
}

/// A scratch directory the service user can enter, and a directory in it owned by the service user.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let owned = tmp.path().join("logveil");
    fs::create_dir(&owned).unwrap();
    chown(&owned);
    fs::set_permissions(&owned, fs::Permissions::from_mode(0o700)).unwrap();
    (tmp, owned)
}

fn chown(p: &Path) {
    std::os::unix::fs::chown(p, Some(USER), Some(USER)).unwrap();
}

fn owner(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().uid()
}

/// `logveil` as root (`as_user` false) or as the service user.
fn command(as_user: bool) -> Command {
    let mut c = if as_user {
        let mut c = Command::new("setpriv");
        let user = ["--reuid", "65534", "--regid", "65534", "--clear-groups"];
        c.args(user).arg(bin());
        c
    } else {
        Command::new(bin())
    };
    c.env_remove("LOGVEIL_CONFIG");
    c
}

/// `logveil ARGS` as root or as the service user, with `input` on stdin.
fn logveil(as_user: bool, args: &[&str], input: &[u8]) -> Output {
    run_with_stdin(command(as_user).args(args), input)
}

fn expired_segment(dir: &Path, seq: u64) -> PathBuf {
    let t: jiff::Timestamp = "2020-01-01T00:00:00Z".parse().unwrap();
    let p = dir.join(logveil::sink::name::SegmentName::sealed("bot", t, t, seq).to_string());
    fs::write(&p, b"x").unwrap();
    chown(&p);
    p
}

/// `logveil pipe --out SEG -r RECIPIENT EXTRA...` as the service user.
fn user_pipe(seg: &Path, extra: &[&str], input: &[u8]) -> Output {
    let r = recipient();
    let out = seg.to_str().unwrap();
    let args = [&["pipe", "--out", out, "-r", &r][..], extra].concat();
    logveil(true, &args, input)
}

fn recipient() -> String {
    age::x25519::Identity::generate().to_public().to_string()
}

/// A manual `sudo logveil retention` created the privacy log as root 0600; every later run of the hourly
/// timer (as the service user) failed with EACCES and deleted nothing.
#[test]
fn a_root_retention_leaves_a_privacy_log_the_service_user_can_append_to() {
    if !root_and_setpriv() {
        return;
    }
    let (_tmp, seg) = scratch();
    let d = seg.to_str().unwrap();
    let first = expired_segment(&seg, 1);
    let o = logveil(false, &["retention", "--dir", d], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!first.exists());
    let second = expired_segment(&seg, 2);
    let o = logveil(true, &["retention", "--dir", d], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!second.exists());
    let log = seg.join("privacy-log.jsonl");
    assert_eq!(
        owner(&log),
        USER,
        "the privacy log belongs to the directory's owner"
    );
    assert_eq!(fs::read_to_string(&log).unwrap().lines().count(), 2);
}

/// A privacy log configured in a directory that does not exist yet: a root `retention` creates that
/// directory (and its parents) for it, and they must be the service user's too, or its next run cannot
/// create or append to the log.
#[test]
fn a_root_retention_gives_the_privacy_log_directory_it_creates_to_the_owner() {
    if !root_and_setpriv() {
        return;
    }
    let (tmp, owned) = scratch();
    let seg = owned.join("segments");
    fs::create_dir(&seg).unwrap();
    chown(&seg);
    let logs = owned.join("records/deletions");
    let log = logs.join("privacy-log.jsonl");
    let cfg = tmp.path().join("logveil.yaml");
    fs::write(
        &cfg,
        format!(
            "logveil:\n  retention:\n    privacy_log: {}\n",
            log.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&cfg, fs::Permissions::from_mode(0o644)).unwrap();
    let args = ["retention", "--config", cfg.to_str().unwrap(), "--dir"];
    let first = expired_segment(&seg, 1);
    let o = logveil(false, &[&args[..], &[seg.to_str().unwrap()]].concat(), b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!first.exists());
    for d in [owned.join("records"), logs.clone()] {
        assert_eq!(owner(&d), USER, "{}", d.display());
    }
    assert_eq!(owner(&log), USER);
    let second = expired_segment(&seg, 2);
    let o = logveil(true, &[&args[..], &[seg.to_str().unwrap()]].concat(), b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!second.exists());
    assert_eq!(fs::read_to_string(&log).unwrap().lines().count(), 2);
}

/// The logrotate hook runs `seal` as root: its lock file (and segments) were root's, and a later writer
/// of the stream as the service user failed with a misleading "directory is not writable". A root `pipe`
/// creating the segment directory made it root's too.
#[test]
fn root_seal_and_pipe_leave_files_and_directories_the_service_user_can_use() {
    if !root_and_setpriv() {
        return;
    }
    let (tmp, owned) = scratch();
    let seg = owned.join("segments");
    let r = recipient();
    let rotated = tmp.path().join("app.log.1");
    fs::write(&rotated, b"hello 13812345678\n").unwrap();
    let o = logveil(
        false,
        &[
            "seal",
            "--out",
            seg.to_str().unwrap(),
            "-r",
            &r,
            rotated.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = logveil(
        true,
        &[
            "pipe",
            "--out",
            seg.to_str().unwrap(),
            "-r",
            &r,
            "--stream",
            "app.log",
        ],
        b"later 13812345678\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(segments(&seg).len(), 2);
    for f in fs::read_dir(&seg).unwrap() {
        let p = f.unwrap().path();
        assert_eq!(owner(&p), USER, "{}", p.display());
    }
    assert_eq!(owner(&seg), USER, "a directory a root run creates");
}

/// A root `tail` on the service user's state directory: its checkpoints and fingerprint key stay usable.
#[test]
fn a_root_tail_leaves_a_state_directory_the_service_user_can_use() {
    if !root_and_setpriv() {
        return;
    }
    let (tmp, owned) = scratch();
    let (seg, state) = (owned.join("segments"), owned.join("state"));
    let log = tmp.path().join("app.log");
    fs::write(&log, b"one 13812345678\n").unwrap();
    fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).unwrap();
    let r = recipient();
    let run = |as_user: bool| {
        let mut child = command(as_user)
            .args(["tail", "--out", seg.to_str().unwrap(), "-r", &r])
            .args(["--state", state.to_str().unwrap(), log.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !state.is_dir()
            || !fs::read_dir(&state)
                .unwrap()
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "ckpt"))
        {
            if child.try_wait().unwrap().is_some() || std::time::Instant::now() > deadline {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait_with_output().unwrap()
    };
    let o = run(false);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    fs::write(&log, b"one 13812345678\ntwo 13812345678\n").unwrap();
    let o = run(true);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in fs::read_dir(&state).unwrap() {
        let p = f.unwrap().path();
        assert_eq!(owner(&p), USER, "{}", p.display());
    }
}

/// In-process retention that fails (here: a privacy log the service user cannot append to, left by an
/// older root run) is counted in logveil_errors_total, not only logged.
#[test]
fn a_failing_in_process_retention_run_is_counted_in_errors_total() {
    if !root_and_setpriv() {
        return;
    }
    let (tmp, seg) = scratch();
    expired_segment(&seg, 1);
    let log = seg.join("privacy-log.jsonl");
    fs::write(&log, b"").unwrap();
    fs::set_permissions(&log, fs::Permissions::from_mode(0o600)).unwrap(); // root's, as before the fix
    let metrics = tmp.path().join("m");
    fs::create_dir(&metrics).unwrap();
    chown(&metrics);
    let prom = metrics.join("logveil.prom");
    let o = user_pipe(&seg, &["--metrics-file", prom.to_str().unwrap()], b"x\n");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = fs::read_to_string(&prom).unwrap();
    assert!(
        text.contains("logveil_errors_total{stage=\"retention\"} 1"),
        "{text}"
    );
}

/// A lock file an older root run left (root's, 0600) is named as the problem, not the directory.
#[test]
fn a_lock_file_left_by_root_is_named_not_the_directory() {
    if !root_and_setpriv() {
        return;
    }
    let (_tmp, seg) = scratch();
    let lock = seg.join(".app.log.lock");
    fs::write(&lock, b"").unwrap();
    fs::set_permissions(&lock, fs::Permissions::from_mode(0o600)).unwrap();
    let o = user_pipe(
        &seg,
        &["--stream", "app.log", "--on-sink-error", "exit"],
        b"x\n",
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(".app.log.lock") && err.contains("uid 0"),
        "{err}"
    );
    assert!(!err.contains("is not writable"), "{err}");
}
