//! `logveil redact` side by side with `rg --no-unicode --passthru -r '[REDACTED]' -e P1 -e P2 -e P3 -e P4`
//! (the seed config's four patterns) on the same generated bot log, for each density profile (sparse and
//! dense, benches/common/botlog.rs), in one run. Then the start-up of `redact --config seed-config.yaml`
//! without and with its DFA cached, the latency of a line through a pipe, and the peak RSS of
//! `redact --threads 2` on 1 GiB with no newline and on 1 GiB of dense lines, streamed into its stdin.
//!
//! Contestants, per profile, runs interleaved in a rotating order (so a burst of load elsewhere does not
//! always hit the same one): `logveil redact` (default threads), `--threads 1`, `--config` the seed (its
//! DFA cached), the same two for LOGVEIL_BENCH_BASELINE (another build of logveil, e.g. main's: before and
//! after in the same run), and rg. Prints median and best MB/s (input, 10^6 bytes per second of wall
//! time), the median CPU seconds, and each median's ratio to rg's. Target (issue 17): logveil >= 3x rg.
//!
//! `cargo bench --bench redact_vs_rg`. Env: LOGVEIL_BENCH_MB=200, LOGVEIL_BENCH_RUNS=5,
//! LOGVEIL_BENCH_PROFILES=sparse,dense, LOGVEIL_BENCH_BASELINE=PATH, LOGVEIL_BENCH_RSS_MB=1024 (0 skips
//! the RSS runs), LOGVEIL_BENCH_KEEP=1 (keep the generated logs).

#[path = "common/botlog.rs"]
mod botlog;
#[path = "common/harness.rs"]
mod harness;
#[path = "../tests/common/pii_gen.rs"]
mod pii_gen;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use botlog::Profile;
use harness::{env_num, have, loadavg, run_drained, vm_hwm_kib, Series};

const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/seed-config.yaml");

/// The seed config's pattern regexes, in order.
fn seed_patterns() -> Vec<String> {
    let text = std::fs::read_to_string(SEED).expect("read seed config");
    let v: serde_norway::Value = serde_norway::from_str(&text).expect("parse seed config");
    v["privacy"]["pii_detection"]["patterns"]
        .as_sequence()
        .expect("patterns list")
        .iter()
        .map(|p| p["regex"].as_str().expect("regex").to_string())
        .collect()
}

/// A contestant: its name and how to make its command line for a file.
struct Contestant {
    name: String,
    cmd: Box<dyn Fn(&Path) -> Command>,
}

fn logveil_cmd(bin: &Path, args: &[&str], cache: &Path) -> impl Fn(&Path) -> Command + 'static {
    let (bin, cache) = (bin.to_path_buf(), cache.to_path_buf());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    move |file: &Path| {
        let mut c = Command::new(&bin);
        c.arg("redact")
            .args(&args)
            .arg(file)
            .env_remove("LOGVEIL_CONFIG")
            .env("LOGVEIL_CACHE_DIR", &cache)
            .stdin(Stdio::null());
        c
    }
}

fn contestants(logveil: &Path, baseline: Option<&Path>, cache: &Path) -> Vec<Contestant> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut v = vec![
        Contestant {
            name: format!("logveil redact ({threads} threads)"),
            cmd: Box::new(logveil_cmd(logveil, &[], cache)),
        },
        Contestant {
            name: "logveil redact --threads 1".into(),
            cmd: Box::new(logveil_cmd(logveil, &["--threads", "1"], cache)),
        },
        Contestant {
            name: "logveil redact --config seed".into(),
            cmd: Box::new(logveil_cmd(logveil, &["--config", SEED], cache)),
        },
    ];
    if let Some(b) = baseline {
        v.push(Contestant {
            name: "baseline redact".into(),
            cmd: Box::new(logveil_cmd(b, &[], cache)),
        });
        v.push(Contestant {
            name: "baseline redact --config seed".into(),
            cmd: Box::new(logveil_cmd(b, &["--config", SEED], cache)),
        });
    }
    if have("rg") {
        let patterns = seed_patterns();
        v.push(Contestant {
            name: "rg --passthru (seed's 4 patterns)".into(),
            cmd: Box::new(move |file: &Path| {
                let mut c = Command::new("rg");
                c.args(["--no-unicode", "--passthru", "-r", "[REDACTED]"]);
                for p in &patterns {
                    c.arg("-e").arg(p);
                }
                c.arg(file).stdin(Stdio::null());
                c
            }),
        });
    } else {
        println!("rg not found: no comparison (Debian package ripgrep)");
    }
    v
}

fn side_by_side(cs: &[Contestant], file: &Path, size: u64, runs: usize) {
    println!("load before: {}", loadavg());
    // One warm-up each (page cache, binaries, the DFA cache); then the runs rotate.
    for c in cs {
        run_drained(&mut (c.cmd)(file));
    }
    let mut series: Vec<Series> = cs.iter().map(|c| Series::new(&c.name)).collect();
    for run in 0..runs {
        for k in 0..cs.len() {
            let i = (run + k) % cs.len();
            series[i].samples.push(run_drained(&mut (cs[i].cmd)(file)));
        }
    }
    let rg = series
        .iter()
        .find(|s| s.name.starts_with("rg"))
        .map(|s| s.median_mb_s(size));
    println!(
        "  {:<36} {:>10} {:>10} {:>9} {:>7}  bytes out",
        "", "median", "best", "CPU s", "vs rg"
    );
    for s in &series {
        let median = s.median_mb_s(size);
        println!(
            "  {:<36} {:>5.0} MB/s {:>5.0} MB/s {:>9.2} {:>7}  {}",
            s.name,
            median,
            s.best_mb_s(size),
            s.median_cpu(),
            rg.map_or("-".into(), |r| format!("{:.2}x", median / r)),
            s.samples[0].out_bytes
        );
    }
    println!("load after: {}", loadavg());
}

/// Wall time and peak RSS of `redact --config seed` with empty input: the DFA built (`--no-cache`), and
/// with `cache`, loaded from it. A baseline build without the cache gets no flag.
fn start_up(logveil: &Path, cache: Option<&Path>, runs: usize) {
    let time = Path::new("/usr/bin/time");
    let once = |cache_args: &[&str]| -> (f64, Option<u64>) {
        let mut c = if time.exists() {
            let mut c = Command::new(time);
            c.args(["-f", "%M"]).arg(logveil);
            c
        } else {
            Command::new(logveil)
        };
        c.args(["redact", "--config", SEED])
            .args(cache_args)
            .env_remove("LOGVEIL_CONFIG")
            .env_remove("LOGVEIL_CACHE_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let t = Instant::now();
        let out = c.output().unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let kib = String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok());
        (secs, kib)
    };
    let show = |name: &str, mut v: Vec<(f64, Option<u64>)>| {
        v.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        let (secs, _) = v[v.len() / 2];
        let rss = v.iter().filter_map(|r| r.1).max();
        println!(
            "  {name:<36} median {:>7.1} ms, peak RSS {}",
            secs * 1e3,
            rss.map_or("n/a (no /usr/bin/time)".into(), |k| format!(
                "{:.1} MiB",
                k as f64 / 1024.0
            ))
        );
    };
    println!(
        "start-up of {} redact --config seed-config.yaml < /dev/null, {runs} runs each:",
        logveil.display()
    );
    let Some(cache) = cache else {
        show("DFA built", (0..runs).map(|_| once(&[])).collect());
        return;
    };
    let cache_arg = cache.to_str().unwrap();
    once(&["--cache-dir", cache_arg]);
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        cold.push(once(&["--no-cache"]));
        warm.push(once(&["--cache-dir", cache_arg]));
    }
    show("DFA built (--no-cache)", cold);
    show("DFA loaded from the cache", warm);
    println!("  target: cached start < 100 ms and < 32 MiB");
}

/// How long a line written to `redact`'s stdin takes to come out (default threads).
fn latency(logveil: &Path) {
    let mut child = Command::new(logveil)
        .arg("redact")
        .env_remove("LOGVEIL_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for _ in BufReader::new(stdout).lines() {
            if tx.send(Instant::now()).is_err() {
                break;
            }
        }
    });
    let mut waits = Vec::new();
    for i in 0..50 {
        thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        writeln!(
            stdin,
            "live line {i} 手机13812345678 邮箱 zhang.wei@example.com"
        )
        .unwrap();
        stdin.flush().unwrap();
        let at = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the line came out");
        waits.push(at.duration_since(t));
    }
    drop(stdin);
    child.wait().unwrap();
    waits.sort();
    println!(
        "latency of a line through `redact` (stdin to stdout, 50 lines 20 ms apart): median {:?}, p90 {:?}, max {:?} (target: < 100 ms)",
        waits[25], waits[45], waits[49]
    );
}

/// Peak RSS (KiB) of `redact --threads 2` reading `mb` MiB from a pipe: one line with no newline, or
/// dense lines.
fn peak_rss(logveil: &Path, mb: usize, newlines: bool) {
    let start = Instant::now();
    let mut child = Command::new(logveil)
        .args(["redact", "--threads", "2"])
        .env_remove("LOGVEIL_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn logveil");
    let status_path = format!("/proc/{}/status", child.id());
    let mut stdin = child.stdin.take().unwrap();
    let total = mb << 20;
    let writer = thread::spawn(move || {
        let mut gen = botlog::BotLog::with_profile(7, Profile::DENSE);
        let mut buf = Vec::with_capacity(1 << 20);
        let mut written = 0;
        while written < total {
            buf.clear();
            gen.fill(&mut buf, 1 << 20);
            if !newlines {
                buf.iter_mut()
                    .filter(|b| **b == b'\n')
                    .for_each(|b| *b = b' ');
            }
            let n = buf.len().min(total - written);
            stdin.write_all(&buf[..n]).expect("write to logveil");
            written += n;
        }
    });
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let (mut n_out, mut hwm) = (0u64, 0u64);
    loop {
        match out.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => n_out += k as u64,
            Err(e) => panic!("reading output: {e}"),
        }
        hwm = hwm.max(vm_hwm_kib(&status_path).unwrap_or(0));
    }
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
    println!(
        "peak RSS of redact --threads 2, {mb} MiB {} through a pipe: {:.1} MiB (VmHWM polled; target <= 32 MiB: {}); {:.0} MB/s with the input generated meanwhile, {n_out} bytes out",
        if newlines { "of dense lines" } else { "with no newline" },
        hwm as f64 / 1024.0,
        if hwm <= 32 << 10 { "met" } else { "NOT met" },
        total as f64 / 1e6 / start.elapsed().as_secs_f64()
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
    let logveil = PathBuf::from(env!("CARGO_BIN_EXE_logveil"));
    let baseline = std::env::var_os("LOGVEIL_BENCH_BASELINE").map(PathBuf::from);
    let mb = env_num("LOGVEIL_BENCH_MB", 200);
    let runs = env_num("LOGVEIL_BENCH_RUNS", 5).max(1) as usize;
    let rss_mb = env_num("LOGVEIL_BENCH_RSS_MB", 1024) as usize;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("redact_vs_rg");
    let cache = dir.join("dfa-cache");
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "bench redact_vs_rg: {} cores, {runs} runs each{}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        baseline
            .as_ref()
            .map_or(String::new(), |b| format!(", baseline {}", b.display()))
    );
    let cs = contestants(&logveil, baseline.as_deref(), &cache);
    for profile in harness::profiles() {
        let file = dir.join(format!("botlog-{}.log", profile.name()));
        let t = Instant::now();
        let gen = harness::write_log(&file, profile, 2024, mb * 1_000_000);
        let size = std::fs::metadata(&file).unwrap().len();
        println!(
            "\n{}: {:.1} MB ({:.1} s to generate)",
            gen.summary(),
            size as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
        side_by_side(&cs, &file, size, runs);
        // The generated logs are synthetic, but leave nothing behind (unless asked to, for other tools).
        if std::env::var_os("LOGVEIL_BENCH_KEEP").is_none() {
            let _ = std::fs::remove_file(&file);
        } else {
            println!("kept {}", file.display());
        }
    }
    println!();
    start_up(&logveil, Some(&cache), runs);
    if let Some(b) = &baseline {
        start_up(b, None, runs.min(3));
    }
    latency(&logveil);
    if rss_mb > 0 {
        peak_rss(&logveil, rss_mb, false);
        peak_rss(&logveil, rss_mb, true);
    }
}
