//! `logveil tail`'s patterns are logveil's one glob dialect (the same as retention rules): classes and
//! braces work, and a pattern tail cannot follow is an error at start, not a silent wait for a file whose
//! name is the pattern.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{logveil_recipient, segment_streams};

const BIN: &str = env!("CARGO_BIN_EXE_logveil");

#[test]
fn classes_and_braces_pick_exactly_their_files() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).unwrap();
    for n in [
        "bot-1.log",
        "bot-2.log",
        "bot-x.log",
        "gw.log",
        "api.log",
        "db.log",
    ] {
        fs::write(logs.join(n), format!("a line of {n}\n")).unwrap();
    }
    let out = tmp.path().join("segs");
    let r = logveil_recipient(tmp.path());
    let mut child = Command::new(BIN)
        .args(["tail", "--max-segment-age", "1s", "-r", &r, "--out"])
        .arg(&out)
        .arg("--state")
        .arg(tmp.path().join("state"))
        .arg(logs.join("bot-[0-9].log"))
        .arg(logs.join("{gw,api}.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let want = ["api.log", "bot-1.log", "bot-2.log", "gw.log"];
    let deadline = Instant::now() + Duration::from_secs(60);
    while segment_streams(&out) != want && Instant::now() < deadline {
        assert!(child.try_wait().unwrap().is_none(), "tail exited");
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(segment_streams(&out), want);
}

#[test]
fn a_wildcard_directory_is_an_error_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let r = logveil_recipient(tmp.path());
    for pattern in ["*/bot.log", "**/*.log", "{a,b}x/[0-9]/bot.log"] {
        let mut child = Command::new(BIN)
            .args(["tail", "-r", &r, "--out"])
            .arg(tmp.path().join("segs"))
            .arg("--state")
            .arg(tmp.path().join("state"))
            .arg(tmp.path().join(pattern))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("{pattern}: tail is still running after 30 s (waiting for a literal name?)");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{pattern}: {err}");
        assert!(
            err.contains("a wildcard in a directory part cannot be followed"),
            "{pattern}: {err}"
        );
    }
}
