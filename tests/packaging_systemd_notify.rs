//! systemd knows the sidecar's state (issue 14 item 3). The tail unit is `Type=notify` with a watchdog; these
//! tests run the unit's own `ExecStart=` command line on the packaged config, with `NOTIFY_SOCKET` pointed
//! at a Unix datagram socket the test binds and reads, as systemd does for a `Type=notify` service (and
//! `WATCHDOG_USEC`, as systemd sets it for `WatchdogSec=`), and check what arrives there: READY=1 after the
//! first scan, RELOADING=1 (with MONOTONIC_USEC=) and READY=1 around SIGHUP, a STATUS= line, WATCHDOG=1
//! keep-alives from the loop that does the work (they stop while it hangs), STOPPING=1 on SIGTERM. `pipe`
//! speaks the same protocol under a supervisor. `systemd-analyze verify` and `security` of the unit are in
//! tests/packaging_systemd.rs.

mod packaging_support;

use std::fs;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use packaging_support::*;

fn tail_unit() -> Vec<(String, String)> {
    unit_entries(&repo().join("packaging/systemd/logveil-tail@.service"))
}

/// The datagrams a service sent to its notify socket, each with the time it arrived.
struct NotifySocket {
    path: PathBuf,
    got: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl NotifySocket {
    fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = Arc::clone(&got);
        // The thread ends with the test process; it only ever reads.
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 << 10];
            while let Ok(n) = sock.recv(&mut buf) {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                g.lock().unwrap().push((Instant::now(), msg));
            }
        });
        NotifySocket { path, got }
    }

    fn messages(&self) -> Vec<(Instant, String)> {
        self.got.lock().unwrap().clone()
    }

    /// The index of the first message from `from` on that has the line `line` (`READY=1`), waiting up to
    /// `secs` for it.
    fn wait_line(&self, from: usize, line: &str, secs: u64, child: &mut Child) -> usize {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(i) = self
                .messages()
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, (_, m))| has_line(m, line))
                .map(|(i, _)| i)
            {
                return i;
            }
            if let Some(st) = child.try_wait().unwrap() {
                panic!(
                    "exited ({st}) before sending {line}: {:#?}",
                    self.messages()
                );
            }
            assert!(
                Instant::now() < end,
                "no {line} within {secs} s; got {:#?}",
                self.messages()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Arrival times of the messages from `from` on that have `line`.
    fn times(&self, from: usize, line: &str) -> Vec<Instant> {
        self.messages()
            .into_iter()
            .skip(from)
            .filter(|(_, m)| has_line(m, line))
            .map(|(t, _)| t)
            .collect()
    }
}

fn has_line(msg: &str, line: &str) -> bool {
    msg.lines().any(|l| l == line)
}

/// The value of `KEY=` in a message.
fn value<'m>(msg: &'m str, key: &str) -> Option<&'m str> {
    msg.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

/// The packaged config (/etc/logveil/logveil.yaml) with a recipient and its /var/lib/logveil in `dir`, plus
/// `extra` lines in its `logveil:` block.
fn packaged_config(dir: &Path, extra: &str) -> PathBuf {
    let k = run_ok(
        Command::new(bin())
            .args(["keygen", "-o"])
            .arg(dir.join("key.txt")),
        "keygen",
    );
    let shipped = fs::read_to_string(repo().join("packaging/logveil.example.yaml")).unwrap();
    assert_eq!(shipped.matches("    recipients: []\n").count(), 1);
    assert_eq!(shipped.matches("\nlogveil:\n").count(), 1);
    let cfg = dir.join("logveil.yaml");
    fs::write(
        &cfg,
        shipped
            .replace(
                "    recipients: []\n",
                &format!("    recipients: [\"{}\"]\n", text(&k.stdout).trim()),
            )
            .replace("/var/lib/logveil", dir.join("lib").to_str().unwrap())
            .replace("\nlogveil:\n", &format!("\nlogveil:\n{extra}")),
    )
    .unwrap();
    cfg
}

/// The unit's ExecStart= as a command: /usr/bin/logveil is the binary under test, /etc/logveil/%i.yaml is
/// `cfg`, $LOGVEIL_TAIL_PATHS (the unit's Environment= default is a glob) is `paths`.
fn exec_start(cfg: &Path, paths: &Path) -> Command {
    let e = tail_unit();
    let env = unit_values(&e, "Environment");
    assert!(
        env.iter().any(|v| v.starts_with("LOGVEIL_TAIL_PATHS=")),
        "{env:?}"
    );
    let start = unit_values(&e, "ExecStart");
    assert_eq!(start.len(), 1, "{start:?}");
    let mut words = start[0].split_whitespace();
    assert_eq!(words.next(), Some("/usr/bin/logveil"));
    let mut cmd = Command::new(bin());
    for w in words {
        match w {
            "/etc/logveil/%i.yaml" => cmd.arg(cfg),
            "$LOGVEIL_TAIL_PATHS" => cmd.arg(paths),
            w => {
                assert!(!w.contains('%') && !w.contains('$'), "{w}: not substituted");
                cmd.arg(w)
            }
        };
    }
    cmd.env_remove("LOGVEIL_CONFIG")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    cmd
}

/// A child killed when the test ends, whatever happened.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

fn wait_exit(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(Instant::now() < end, "did not exit within {secs} s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sealed(dir: &Path) -> usize {
    fs::read_dir(dir)
        .map(|rd| {
            rd.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".log.gz.age"))
            })
            .count()
        })
        .unwrap_or(0)
}

#[test]
fn the_tail_unit_is_type_notify_with_a_watchdog() {
    let e = tail_unit();
    let one = |k: &str| {
        let v = unit_values(&e, k);
        assert_eq!(v.len(), 1, "{k}: {v:?}");
        v[0].clone()
    };
    assert_eq!(one("Type"), "notify");
    // Notifications come from the main process (the loop's thread), which is ExecStart's process itself.
    assert_eq!(one("NotifyAccess"), "main");
    let watchdog = one("WatchdogSec");
    let secs: u64 = watchdog
        .strip_suffix('s')
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("WatchdogSec={watchdog}: expected seconds"));
    // Longer than a full pass, a reload or the metrics write take on a busy host; short enough to matter.
    assert!((30..=600).contains(&secs), "WatchdogSec={watchdog}");
    // The notify socket is a Unix socket: the sandbox must allow AF_UNIX.
    let families = one("RestrictAddressFamilies");
    assert!(
        families.split_whitespace().any(|f| f == "AF_UNIX"),
        "RestrictAddressFamilies={families}"
    );
}

#[test]
fn the_sidecar_tells_systemd_ready_reloading_status_watchdog_and_stopping() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).unwrap();
    fs::write(logs.join("app.log"), "hello 13812345678\n").unwrap();
    let cfg = packaged_config(tmp.path(), "");
    let segs = tmp.path().join("lib/segments");
    let sock = NotifySocket::bind(tmp.path());
    let stderr = tmp.path().join("stderr");
    let mut tail = Running(
        exec_start(&cfg, &logs.join("*.log"))
            .env("NOTIFY_SOCKET", &sock.path)
            .env("WATCHDOG_USEC", "1000000")
            .stderr(fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap(),
    );
    let log = || fs::read_to_string(&stderr).unwrap_or_default();

    // READY=1 once the glob was listed and its file set up, with a status saying so.
    let ready = sock.wait_line(0, "READY=1", 60, &mut tail.0);
    let msgs = sock.messages();
    let status = value(&msgs[ready].1, "STATUS").unwrap_or_else(|| {
        panic!("READY=1 without STATUS=: {:?}", msgs[ready].1);
    });
    assert!(status.starts_with("following 1 source;"), "{status}");
    assert!(status.contains("last seal: none yet"), "{status}");
    assert!(
        msgs[..ready]
            .iter()
            .all(|(_, m)| !has_line(m, "STOPPING=1") && !has_line(m, "RELOADING=1")),
        "{msgs:#?}"
    );

    // Keep-alives: several per WATCHDOG_USEC (1 s), while idle.
    let end = Instant::now() + Duration::from_secs(30);
    while sock.times(ready, "WATCHDOG=1").len() < 3 {
        assert!(
            Instant::now() < end,
            "no keep-alives: {:#?}",
            sock.messages()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // SIGHUP (what ExecReload sends): RELOADING=1 with the monotonic clock, then the open segment is
    // finished, then READY=1 again.
    assert_eq!(sealed(&segs), 0, "a segment was finished before the reload");
    let before = sock.messages().len();
    signal(&tail.0, "HUP");
    let reloading = sock.wait_line(before, "RELOADING=1", 60, &mut tail.0);
    let msgs = sock.messages();
    let usec: u64 = value(&msgs[reloading].1, "MONOTONIC_USEC")
        .unwrap_or_else(|| {
            panic!(
                "RELOADING=1 without MONOTONIC_USEC=: {:?}",
                msgs[reloading].1
            )
        })
        .parse()
        .unwrap();
    // CLOCK_MONOTONIC does not count suspend; /proc/uptime (CLOCK_BOOTTIME) does: never below it.
    let uptime: f64 = fs::read_to_string("/proc/uptime")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        usec > 0 && usec as f64 <= (uptime + 5.0) * 1e6,
        "MONOTONIC_USEC={usec}, uptime {uptime} s"
    );
    let ready = sock.wait_line(reloading + 1, "READY=1", 60, &mut tail.0);
    assert_eq!(sealed(&segs), 1, "the reload finished the open segment");
    let msgs = sock.messages();
    let status = value(&msgs[ready].1, "STATUS").unwrap_or_default();
    assert!(
        status.starts_with("following 1 source;") && status.contains("last seal: 20"),
        "{status}"
    );

    // A config that does not load: the reload still ends with READY=1 (the sidecar goes on with the old
    // config), and the status says so until a reload works.
    fs::write(&cfg, "logveil: [not a mapping\n").unwrap();
    let before = sock.messages().len();
    signal(&tail.0, "HUP");
    let reloading = sock.wait_line(before, "RELOADING=1", 60, &mut tail.0);
    let ready = sock.wait_line(reloading + 1, "READY=1", 60, &mut tail.0);
    let status = value(&sock.messages()[ready].1, "STATUS")
        .unwrap_or_default()
        .to_owned();
    assert!(status.contains("config not reloaded"), "{status}");
    assert!(
        tail.0.try_wait().unwrap().is_none(),
        "a bad reload stopped it"
    );

    // SIGTERM (systemctl stop): STOPPING=1, then exit 0.
    let before = sock.messages().len();
    signal(&tail.0, "TERM");
    sock.wait_line(before, "STOPPING=1", 60, &mut tail.0);
    let st = wait_exit(&mut tail.0, 120);
    assert!(st.success(), "{st}\n{}", log());
    assert!(
        !log().contains("13812345678"),
        "a matched value in logveil's own log"
    );
    for (_, m) in sock.messages() {
        assert!(
            !m.contains("13812345678"),
            "a matched value told to systemd"
        );
    }
}

/// The keep-alives come from the loop that reads, seals and commits, not from a thread of their own: when
/// that loop hangs, they stop (and systemd's watchdog would kill and restart the sidecar). The hang is a real
/// one: another process holds the lock of the metrics file's directory, and the sidecar's next metrics write
/// waits for it (10 s after its first).
#[test]
fn keep_alives_stop_while_the_loop_hangs() {
    if !Command::new("flock")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        assert!(!is_ci(), "`flock` (util-linux) is required when CI is set");
        eprintln!("note: `flock` not available; test skipped");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    fs::create_dir(&logs).unwrap();
    fs::write(logs.join("app.log"), "hello\n").unwrap();
    let metrics = tmp.path().join("metrics");
    fs::create_dir(&metrics).unwrap();
    let cfg = packaged_config(
        tmp.path(),
        &format!(
            "  metrics_file: {}\n",
            metrics.join("logveil.prom").display()
        ),
    );
    let sock = NotifySocket::bind(tmp.path());
    let mut tail = Running(
        exec_start(&cfg, &logs.join("*.log"))
            .env("NOTIFY_SOCKET", &sock.path)
            .env("WATCHDOG_USEC", "1000000")
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let ready = sock.wait_line(0, "READY=1", 60, &mut tail.0);
    let end = Instant::now() + Duration::from_secs(30);
    while !metrics.join("logveil.prom").exists() || sock.times(ready, "WATCHDOG=1").is_empty() {
        assert!(Instant::now() < end, "no metrics file, or no keep-alive");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Hold the directory's lock for 30 s: the sidecar blocks at its next write, at most 10 s from now.
    const HOLD: u64 = 30;
    let held = tmp.path().join("held");
    let mut lock = Running(
        Command::new("flock")
            .arg(&metrics)
            .arg("-c")
            .arg(format!("touch '{}'; sleep {HOLD}", held.display()))
            .spawn()
            .unwrap(),
    );
    let end = Instant::now() + Duration::from_secs(30);
    while !held.exists() {
        assert!(Instant::now() < end, "flock did not take the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    let locked_at = Instant::now();
    let st = wait_exit(&mut lock.0, HOLD + 60);
    assert!(st.success(), "flock: {st}");
    let released_at = Instant::now();

    // After the release the loop goes on, and so do the keep-alives.
    let end = Instant::now() + Duration::from_secs(30);
    while !sock
        .times(ready, "WATCHDOG=1")
        .iter()
        .any(|t| *t > released_at)
    {
        assert!(
            Instant::now() < end,
            "no keep-alive after the lock was released"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let times = sock.times(ready, "WATCHDOG=1");
    assert!(
        times.iter().any(|t| *t < locked_at),
        "no keep-alive before the hang"
    );
    // The longest silence while the lock was held: the loop was stuck at least from 10 s after the lock
    // was taken to its release (20 s), while it beats every 250 ms when it runs.
    let mut silence = Duration::ZERO;
    let mut prev = locked_at;
    for t in times.iter().filter(|t| **t > locked_at) {
        silence = silence.max(t.saturating_duration_since(prev));
        prev = *t;
    }
    assert!(
        silence >= Duration::from_secs(10),
        "keep-alives went on while the loop was stuck on the lock (longest silence {silence:?}): they \
         do not come from the loop"
    );
    signal(&tail.0, "TERM");
    assert!(wait_exit(&mut tail.0, 120).success());
}

/// `pipe` under a supervisor (Type=notify; NotifyAccess=all when a shell runs the pipeline): READY=1 once it
/// takes input, STOPPING=1 at the end of its input; no keep-alives unless a watchdog is asked for.
#[test]
fn pipe_tells_its_supervisor_ready_and_stopping() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = packaged_config(tmp.path(), "");
    let sock = NotifySocket::bind(tmp.path());
    let mut pipe = Running(
        Command::new(bin())
            .args(["pipe", "--config"])
            .arg(&cfg)
            .env_remove("WATCHDOG_USEC")
            .env("NOTIFY_SOCKET", &sock.path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let ready = sock.wait_line(0, "READY=1", 60, &mut pipe.0);
    let status = value(&sock.messages()[ready].1, "STATUS")
        .unwrap_or_default()
        .to_owned();
    assert!(status.starts_with("sealing stdin"), "{status}");
    let mut stdin = pipe.0.stdin.take().unwrap();
    stdin.write_all(b"a line\n").unwrap();
    std::thread::sleep(Duration::from_secs(3));
    drop(stdin);
    sock.wait_line(ready, "STOPPING=1", 60, &mut pipe.0);
    assert!(wait_exit(&mut pipe.0, 60).success());
    assert!(
        sock.times(0, "WATCHDOG=1").is_empty(),
        "keep-alives without WATCHDOG_USEC: {:#?}",
        sock.messages()
    );
}

/// With a watchdog, an idle `pipe` (nothing on stdin, no segment open) still sends keep-alives: its loop
/// wakes for them.
#[test]
fn an_idle_pipe_sends_keep_alives() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = packaged_config(tmp.path(), "");
    let sock = NotifySocket::bind(tmp.path());
    let mut pipe = Running(
        Command::new(bin())
            .args(["pipe", "--config"])
            .arg(&cfg)
            .env("NOTIFY_SOCKET", &sock.path)
            .env("WATCHDOG_USEC", "1000000")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let ready = sock.wait_line(0, "READY=1", 60, &mut pipe.0);
    let end = Instant::now() + Duration::from_secs(30);
    while sock.times(ready, "WATCHDOG=1").len() < 3 {
        assert!(
            Instant::now() < end,
            "no keep-alives: {:#?}",
            sock.messages()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(pipe.0.stdin.take());
    assert!(wait_exit(&mut pipe.0, 60).success());
}
