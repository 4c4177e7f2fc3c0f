//! A source tail cannot open (permissions) is said in its log, once, instead of being "followed" in silence
//! (faults.md F13), and counted in the metrics (`logveil_errors_total{stage="tail"}`), so that an alert on
//! errors sees it. As root the tailer runs as nobody (setpriv) on a root-only file; otherwise on a file of
//! mode 000.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, logveil_recipient};

#[test]
fn an_unreadable_source_is_reported_once() {
    let tmp = tempfile::tempdir().unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let work = tmp.path().join("work");
    fs::create_dir(&work).unwrap();
    fs::set_permissions(&work, fs::Permissions::from_mode(0o777)).unwrap();
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).unwrap();
    fs::set_permissions(&logs, fs::Permissions::from_mode(0o755)).unwrap();
    let secret = logs.join("noperm.log");
    fs::write(&secret, "a line\n").unwrap();
    let r = logveil_recipient(tmp.path());
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let mut cmd = if root {
        fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin()]);
        c
    } else {
        fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).unwrap();
        Command::new(bin())
    };
    let stderr = tmp.path().join("stderr");
    let mut child = cmd
        .args([
            "tail",
            "--poll-interval",
            "100ms",
            "-r",
            &r,
            "--metrics-file",
        ])
        .arg(work.join("m.prom"))
        .arg("-o")
        .arg(work.join("segs"))
        .arg("--state")
        .arg(work.join("state"))
        .arg(logs.join("*.log"))
        .current_dir("/")
        .stdout(Stdio::null())
        .stderr(fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let log = || fs::read_to_string(&stderr).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !log().contains("tail: cannot read") && Instant::now() < deadline {
        assert!(
            child.try_wait().unwrap().is_none(),
            "tail exited:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Several checks later it is still said only once, and counted once.
    std::thread::sleep(Duration::from_millis(500));
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("tail did not stop on SIGTERM:\n{}", log());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let l = log();
    assert!(status.success(), "{status}\n{l}");
    let prom = fs::read_to_string(work.join("m.prom")).unwrap_or_default();
    assert!(
        prom.lines()
            .any(|x| x == "logveil_errors_total{stage=\"tail\"} 1"),
        "the unreadable source is not counted once:\n{prom}"
    );
    assert_eq!(l.matches("tail: cannot read").count(), 1, "{l}");
    assert!(
        l.contains("noperm.log") && l.contains("Permission denied"),
        "{l}"
    );
}
