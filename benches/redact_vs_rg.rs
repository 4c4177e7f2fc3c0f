//! `logveil redact` (all built-in detectors) side by side with
//! `rg --no-unicode --passthru -r '[REDACTED]' -e P1 -e P2 -e P3 -e P4` (the seed config's four patterns)
//! on the same generated bot log (~200 MB), best of N runs; then the peak RSS of `logveil redact` on a
//! 1 GiB input with no newline, streamed into its stdin.
//!
//! `cargo bench --bench redact_vs_rg` (env: LOGVEIL_BENCH_MB=200, LOGVEIL_BENCH_RUNS=5,
//! LOGVEIL_BENCH_RSS_MB=1024; LOGVEIL_BENCH_RSS_MB=0 skips the RSS run; LOGVEIL_BENCH_KEEP=1 keeps the
//! generated file). Target: logveil >= 3x rg.
//! Both tools write into a pipe that this process drains (rg stops early when its output is /dev/null).

#[path = "common/botlog.rs"]
mod botlog;
#[path = "../tests/common/pii_gen.rs"]
mod pii_gen;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The seed config's pattern regexes, in order.
fn seed_patterns() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/seed-config.yaml");
    let text = std::fs::read_to_string(&path).expect("read seed config");
    let v: serde_norway::Value = serde_norway::from_str(&text).expect("parse seed config");
    v["privacy"]["pii_detection"]["patterns"]
        .as_sequence()
        .expect("patterns list")
        .iter()
        .map(|p| p["regex"].as_str().expect("regex").to_string())
        .collect()
}

/// Runs `cmd`, draining its stdout; returns (wall time, output bytes).
fn timed(cmd: &mut Command) -> (Duration, u64) {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        match out.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => n += k as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("reading output: {e}"),
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{cmd:?} failed: {status:?}");
    (start.elapsed(), n)
}

fn mb_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn side_by_side(logveil: &str, file: &Path, size: usize, runs: usize) {
    let patterns = seed_patterns();
    let lv_cmd = || {
        let mut c = Command::new(logveil);
        c.arg("redact").arg(file).env_remove("LOGVEIL_CONFIG");
        c
    };
    let rg_cmd = || {
        let mut c = Command::new("rg");
        c.args(["--no-unicode", "--passthru", "-r", "[REDACTED]"]);
        for p in &patterns {
            c.arg("-e").arg(p);
        }
        c.arg(file);
        c
    };
    let with_rg = have("rg");
    if !with_rg {
        println!("rg not found: no comparison");
    }
    println!("load before: {}", loadavg());
    // One warm-up each (page cache, binaries); then the runs alternate, so both see the same load.
    timed(&mut lv_cmd());
    if with_rg {
        timed(&mut rg_cmd());
    }
    let mut lv_best: Option<(Duration, u64)> = None;
    let mut rg_best: Option<(Duration, u64)> = None;
    for _ in 0..runs {
        let r = timed(&mut lv_cmd());
        if lv_best.is_none_or(|b| r.0 < b.0) {
            lv_best = Some(r);
        }
        if with_rg {
            let r = timed(&mut rg_cmd());
            if rg_best.is_none_or(|b| r.0 < b.0) {
                rg_best = Some(r);
            }
        }
    }
    let (lv_t, lv_out) = lv_best.unwrap();
    let lv = mb_s(size, lv_t);
    println!(
        "logveil redact (all built-ins):    best of {runs} {:>7.3} s  {lv:>7.1} MB/s  ({lv_out} bytes out)",
        lv_t.as_secs_f64()
    );
    if let Some((rg_t, rg_out)) = rg_best {
        let rg = mb_s(size, rg_t);
        println!(
            "rg --passthru (seed's 4 patterns): best of {runs} {:>7.3} s  {rg:>7.1} MB/s  ({rg_out} bytes out)",
            rg_t.as_secs_f64()
        );
        let ratio = lv / rg;
        println!(
            "ratio logveil/rg: {ratio:.2}x (target >= 3x: {})",
            if ratio >= 3.0 { "met" } else { "NOT met" }
        );
    }
    println!("load after: {}", loadavg());
}

/// Peak RSS (KiB) of `logveil redact` reading `mb` MiB with no newline from a pipe.
fn peak_rss(logveil: &str, mb: usize) {
    let use_time = Path::new("/usr/bin/time").exists();
    let mut cmd = if use_time {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%M"]).arg(logveil);
        c
    } else {
        Command::new(logveil)
    };
    let start = Instant::now();
    let mut child = cmd
        .arg("redact")
        .env_remove("LOGVEIL_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn logveil");
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let total = mb << 20;
    let writer = thread::spawn(move || {
        let mut gen = botlog::BotLog::new(7);
        let mut buf = Vec::with_capacity(1 << 20);
        let mut written = 0;
        while written < total {
            buf.clear();
            gen.fill(&mut buf, 1 << 20);
            for b in buf.iter_mut() {
                if *b == b'\n' {
                    *b = b' ';
                }
            }
            let n = buf.len().min(total - written);
            stdin.write_all(&buf[..n]).expect("write to logveil");
            written += n;
        }
    });
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut n_out = 0u64;
    let mut hwm_kib = 0u64;
    loop {
        match out.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => n_out += k as u64,
            Err(e) => panic!("reading output: {e}"),
        }
        if !use_time {
            if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                if let Some(v) = s.lines().find(|l| l.starts_with("VmHWM:")) {
                    hwm_kib = v
                        .split_whitespace()
                        .nth(1)
                        .and_then(|x| x.parse().ok())
                        .unwrap_or(hwm_kib);
                }
            }
        }
    }
    writer.join().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "logveil failed: {status:?} {err}");
    let elapsed = start.elapsed();
    let kib = if use_time {
        err.lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .expect("time -f %M output")
    } else {
        hwm_kib
    };
    println!(
        "peak RSS of logveil redact, {mb} MiB with no newline through a pipe: {:.1} MiB ({}; target <= 32 MiB: {}); {:.1} MB/s (input generated by this process meanwhile), {n_out} bytes out",
        kib as f64 / 1024.0,
        if use_time { "/usr/bin/time %M" } else { "VmHWM polled" },
        if kib <= 32 * 1024 { "met" } else { "NOT met" },
        mb_s(total, elapsed)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that does not name this bench skips it.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if !args.is_empty() && !args.iter().any(|a| "redact_vs_rg".contains(a.as_str())) {
        return;
    }
    let logveil = env!("CARGO_BIN_EXE_logveil");
    let mb = env_usize("LOGVEIL_BENCH_MB", 200);
    let runs = env_usize("LOGVEIL_BENCH_RUNS", 5).max(1);
    let rss_mb = env_usize("LOGVEIL_BENCH_RSS_MB", 1024);

    let dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("redact_vs_rg");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("botlog.log");
    let t = Instant::now();
    let mut gen = botlog::BotLog::new(2024);
    let mut data = Vec::with_capacity((mb << 20) + 4096);
    gen.fill(&mut data, mb * 1_000_000);
    std::fs::write(&file, &data).unwrap();
    let size = data.len();
    drop(data);
    println!(
        "generated {size} bytes, {} lines, {} personal-data items (1 per {:.1} lines) in {:.1} s",
        gen.lines,
        gen.pii_items,
        gen.lines as f64 / gen.pii_items as f64,
        t.elapsed().as_secs_f64()
    );
    side_by_side(logveil, &file, size, runs);
    // The generated log is synthetic, but leave nothing behind (unless asked to, for other tools).
    if std::env::var_os("LOGVEIL_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_file(&file);
    } else {
        println!("kept {}", file.display());
    }
    if rss_mb > 0 {
        peak_rss(logveil, rss_mb);
    }
}
