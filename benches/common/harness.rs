//! What the whole-command benches share: the environment knobs, running a command with its output drained
//! and its CPU time counted, medians, peak RSS, and writing a generated bot log of a profile to a file.
#![allow(dead_code)]

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::botlog::{BotLog, Profile};

pub fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// LOGVEIL_BENCH_PROFILES (default `sparse,dense`; see [`Profile::parse`]).
pub fn profiles() -> Vec<Profile> {
    std::env::var("LOGVEIL_BENCH_PROFILES")
        .unwrap_or_else(|_| "sparse,dense".into())
        .split(',')
        .map(|p| Profile::parse(p.trim()).unwrap_or_else(|| panic!("unknown profile {p:?}")))
        .collect()
}

pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null"))
        .status()
        .is_ok_and(|s| s.success())
}

pub fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// CPU time (user + system, seconds) of all waited-for children so far (/proc/self/stat cutime, cstime).
pub fn children_cpu_secs() -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // cutime and cstime are fields 16 and 17 of the line (13 and 14 counting from 0 after the name), in
    // clock ticks of 1/100 s.
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(13) + ticks(14)) / 100.0
}

/// One run of a command: wall seconds, CPU seconds (all its processes), bytes it wrote to stdout.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: f64,
    pub cpu: f64,
    pub out_bytes: u64,
}

/// Runs `cmd` (stdin from /dev/null unless set), draining its stdout through a pipe as a consumer would
/// (rg stops early when its output is /dev/null).
pub fn run_drained(cmd: &mut Command) -> Sample {
    let cpu0 = children_cpu_secs();
    let start = Instant::now();
    let mut child = cmd
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
    Sample {
        wall: start.elapsed().as_secs_f64(),
        cpu: children_cpu_secs() - cpu0,
        out_bytes: n,
    }
}

/// Runs of one contestant.
#[derive(Debug, Default, Clone)]
pub struct Series {
    pub name: String,
    pub samples: Vec<Sample>,
}

impl Series {
    pub fn new(name: impl Into<String>) -> Series {
        Series {
            name: name.into(),
            samples: Vec::new(),
        }
    }

    fn sorted(&self, f: impl Fn(&Sample) -> f64) -> Vec<f64> {
        let mut v: Vec<f64> = self.samples.iter().map(f).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v
    }

    /// Median wall-clock MB/s (10^6 bytes of input per second).
    pub fn median_mb_s(&self, size: u64) -> f64 {
        let v = self.sorted(|s| size as f64 / 1e6 / s.wall);
        v[v.len() / 2]
    }

    pub fn best_mb_s(&self, size: u64) -> f64 {
        self.sorted(|s| size as f64 / 1e6 / s.wall)
            .last()
            .copied()
            .unwrap_or(0.0)
    }

    pub fn median_cpu(&self) -> f64 {
        let v = self.sorted(|s| s.cpu);
        v[v.len() / 2]
    }
}

/// Polls a process's VmHWM (peak RSS, KiB) every 10 ms until told to stop or the process is gone.
pub fn watch_rss(pid: u32) -> (Arc<AtomicBool>, Arc<AtomicU64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let (s, p) = (stop.clone(), peak.clone());
    std::thread::spawn(move || {
        let path = format!("/proc/{pid}/status");
        while !s.load(Ordering::Relaxed) {
            let Some(kib) = vm_hwm_kib(&path) else {
                return;
            };
            p.fetch_max(kib, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    (stop, peak)
}

pub fn vm_hwm_kib(status_path: &str) -> Option<u64> {
    let text = fs::read_to_string(status_path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
}

/// Writes at least `bytes` of a `profile` bot log (seed `seed`) to `path`; the generator, for its counts.
pub fn write_log(path: &Path, profile: Profile, seed: u64, bytes: u64) -> BotLog {
    let tmp = path.with_extension("tmp");
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(&tmp).unwrap());
    let mut gen = BotLog::with_profile(seed, profile);
    let mut buf = Vec::with_capacity(1 << 20);
    let mut written = 0u64;
    while written < bytes {
        buf.clear();
        gen.fill(&mut buf, 1 << 20);
        out.write_all(&buf).unwrap();
        written += buf.len() as u64;
    }
    out.flush().unwrap();
    drop(out);
    fs::rename(&tmp, path).unwrap();
    gen
}
