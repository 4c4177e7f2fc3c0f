//! An idle `logveil tail` costs nothing: on a glob (the packaged unit's default source) and on a directory,
//! with inotify, it uses less than 0.1 s of CPU in 5 s of quiet. CPU is the process's own time (utime +
//! stime from /proc/PID/stat), not wall time, so the bound holds on a loaded machine. After the quiet spell
//! the sidecar must still notice a new file and a new line: idleness must not come from deafness.
//!
//! Needs nothing but the binary (the recipient is made by `logveil keygen`; segments are not decrypted).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{logveil_recipient, segment_streams};

const BIN: &str = env!("CARGO_BIN_EXE_logveil");
/// The quiet spell measured, and the most CPU it may cost.
const IDLE: Duration = Duration::from_secs(5);
const MAX_CPU: Duration = Duration::from_millis(100);

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
fn clk_tck() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100)
}

/// utime + stime of a process (all its threads), from /proc/PID/stat.
fn cpu_time(pid: u32) -> Duration {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = s.rsplit_once(')').unwrap().1;
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
    let ticks = f[11] + f[12];
    Duration::from_micros(ticks * 1_000_000 / clk_tck())
}

fn wait_for(what: &str, child: &mut Child, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "tail exited while waiting for {what}"
        );
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Follows `source(logs)` quietly for [`IDLE`] and returns the CPU it used meanwhile; then checks that a
/// new file and a new line are still sealed.
fn idle_cpu(source: impl Fn(&Path) -> PathBuf) -> Duration {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).unwrap();
    fs::write(logs.join("a.log"), "first line of a\n").unwrap();
    fs::write(logs.join("b.log"), "first line of b\n").unwrap();
    fs::write(logs.join("ignored.txt"), "not followed\n").unwrap();
    let out = tmp.path().join("segs");
    let stderr = tmp.path().join("stderr");
    let r = logveil_recipient(tmp.path());
    let mut child = Command::new(BIN)
        .arg("tail")
        .arg("--out")
        .arg(&out)
        .arg("-r")
        .arg(&r)
        .arg("--state")
        .arg(tmp.path().join("state"))
        .args(["--max-segment-age", "1s"])
        .arg(source(&logs))
        .env("LOGVEIL_LOG", "info")
        .stdout(Stdio::null())
        .stderr(fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let log = || fs::read_to_string(&stderr).unwrap_or_default();
    // Start-up work (building the DFA, reading the files, sealing their first lines after 1 s) is over
    // once both segments are there: from then on the sidecar has nothing to do.
    wait_for("both files sealed", &mut child, || {
        segment_streams(&out) == ["a.log", "b.log"]
    });
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_time(child.id());
    let started = Instant::now();
    std::thread::sleep(IDLE);
    let used = cpu_time(child.id()) - before;
    eprintln!("idle CPU over {:.1?} (wall): {used:?}", started.elapsed());

    // Still listening: a new file and a line appended to an old one are picked up and sealed.
    fs::write(logs.join("c.log"), "first line of c\n").unwrap();
    let mut a = OpenOptions::new()
        .append(true)
        .open(logs.join("a.log"))
        .unwrap();
    a.write_all(b"second line of a\n").unwrap();
    wait_for("the new file and the new line sealed", &mut child, || {
        segment_streams(&out) == ["a.log", "a.log", "b.log", "c.log"]
    });
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "tail: {status}\n{}", log());
    // The segment directory did not exist at start: in-process retention has nothing to do yet, which
    // is no reason for a warning.
    assert!(!log().contains("WARN"), "{}", log());
    used
}

#[test]
fn idle_tail_on_a_glob_uses_no_cpu() {
    let used = idle_cpu(|logs| logs.join("*.log"));
    assert!(
        used < MAX_CPU,
        "an idle tail on a glob used {used:?} of CPU in {IDLE:?} (at most {MAX_CPU:?})"
    );
}

#[test]
fn idle_tail_on_a_directory_uses_no_cpu() {
    let used = idle_cpu(|logs| logs.to_path_buf());
    assert!(
        used < MAX_CPU,
        "an idle tail on a directory used {used:?} of CPU in {IDLE:?} (at most {MAX_CPU:?})"
    );
}

#[test]
fn idle_tail_on_a_file_uses_no_cpu() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).unwrap();
    fs::write(logs.join("a.log"), "first line\n").unwrap();
    let r = logveil_recipient(tmp.path());
    let mut child = Command::new(BIN)
        .arg("tail")
        .arg("--out")
        .arg(tmp.path().join("segs"))
        .arg("-r")
        .arg(&r)
        .arg("--state")
        .arg(tmp.path().join("state"))
        .arg(logs.join("a.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(child.try_wait().unwrap().is_none(), "tail exited");
    let before = cpu_time(child.id());
    std::thread::sleep(IDLE);
    let used = cpu_time(child.id()) - before;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        used < MAX_CPU,
        "an idle tail on a file used {used:?} of CPU in {IDLE:?}"
    );
}
