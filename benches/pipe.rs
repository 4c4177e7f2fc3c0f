//! `cargo bench --bench pipe`: `logveil pipe` against the shell recipe it replaces and against pigz alone,
//! side by side in one run, on the same deterministic synthetic bot log, for each density profile (sparse
//! and dense, benches/common/botlog.rs).
//!
//! - logveil:  `logveil pipe --out DIR --recipient R --gzip-level 6 < LOG`
//! - shell:    `perl -pe '<the seed's 4 regexes>' < LOG | gzip -6 | age -r R > OUT`
//! - pigz:     `pigz -6 -p 2 < LOG > OUT` (compression only: no redaction, no encryption)
//! - floor:    `logveil pipe` with every built-in detector off (gzip, age, the threads and the writes:
//!   what `pipe` costs before it redacts anything). The 1.3x pigz target leaves redaction the difference
//!   between the floor and pigz / 1.3; the table says how much that is.
//!
//! Prints MB/s (input megabytes, 10^6 bytes, per second of wall time) for each run, the median and best
//! of the runs, the CPU seconds each contestant used (user + system, all its processes), the ratios
//! logveil/shell and logveil/pigz, and the peak RSS of `logveil pipe` (VmHWM, polled from /proc). The
//! runs are interleaved in a rotating order; on a shared machine the best run is the least disturbed.
//! Targets: logveil >= 2.5x the shell recipe (issue 3) and >= 1.3x pigz alone (issue 17).
//!
//! Environment: LOGVEIL_BENCH_MB (input size, default 200), LOGVEIL_BENCH_RUNS (runs each, default 3),
//! LOGVEIL_BENCH_PROFILES (default sparse,dense), LOGVEIL_BENCH_BASELINE (another build's `logveil pipe`
//! as a fourth contestant: before and after in one run), LOGVEIL_BENCH_PIPE_THREADS (N: `logveil pipe
//! --threads N` as one more contestant, to compare thread splits in the same runs), LOGVEIL_BENCH_DIR (where
//! the logs and outputs go; default target/bench-pipe).

#[path = "common/botlog.rs"]
mod botlog;
#[path = "common/harness.rs"]
mod harness;
#[path = "../tests/common/pii_gen.rs"]
mod pii_gen;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Instant;

use harness::{children_cpu_secs, env_num, have, watch_rss};

/// The seed config's regexes (packaging/seed-config.yaml), as the shell recipe runs them.
const PERL_SCRIPT: &str = r#"s/\b1[3-9]\d{9}\b/[REDACTED]/g; s/\b[1-9]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx]\b/[REDACTED]/g; s/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/[REDACTED]/g; s/\b\d{16,19}\b/[REDACTED]/g"#;

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let mb = env_num("LOGVEIL_BENCH_MB", 200);
    let runs: usize = env_num("LOGVEIL_BENCH_RUNS", 3) as usize;
    let dir = std::env::var_os("LOGVEIL_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-pipe"));
    fs::create_dir_all(&dir).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_logveil"));
    let baseline = std::env::var_os("LOGVEIL_BENCH_BASELINE").map(PathBuf::from);
    for tool in ["perl", "gzip", "age", "age-keygen", "pigz"] {
        if !have(tool) {
            eprintln!("bench pipe: `{tool}` is missing (Debian packages: perl gzip age pigz)");
            std::process::exit(2);
        }
    }

    let key = dir.join("bench-key.txt");
    let _ = fs::remove_file(&key);
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let recipient = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("Public key: ").map(str::to_string))
        .expect("age-keygen prints the public key");
    for profile in harness::profiles() {
        let log = dir.join(format!("bot-{}-{mb}MB.log", profile.name()));
        let gen = harness::write_log(&log, profile, 2024, mb * 1_000_000);
        println!("\n{}", gen.summary());
        bench_log(&bin, baseline.as_deref(), &dir, &log, &recipient, runs);
        let _ = fs::remove_file(&log);
    }
    let _ = fs::remove_file(&key);
}

/// Runs the contestants on one log and prints the table.
fn bench_log(
    bin: &Path,
    baseline: Option<&Path>,
    dir: &Path,
    log: &Path,
    recipient: &str,
    runs: usize,
) {
    let size = fs::metadata(log).unwrap().len();
    // Warm the page cache so every contestant reads from memory.
    let _ = fs::read(log);

    println!(
        "bench pipe: {:.1} MB synthetic bot log, {} runs each, {} cores",
        size as f64 / 1e6,
        runs,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let mut names = vec![
        "logveil pipe (level 6)",
        "shell: perl | gzip -6 | age",
        "pigz -6 -p 2 (alone)",
    ];
    if baseline.is_some() {
        names.push("baseline pipe (level 6)");
    }
    names.push("logveil pipe, detectors off");
    let floor_idx = names.len() - 1;
    let floor_config = dir.join("detectors-off.yaml");
    fs::write(&floor_config, detectors_off_yaml()).unwrap();
    let threads = std::env::var("LOGVEIL_BENCH_PIPE_THREADS").ok();
    let threads_name = threads
        .as_ref()
        .map(|t| format!("logveil pipe --threads {t}"));
    let threads_idx = threads_name.as_ref().map(|name| {
        names.push(name);
        names.len() - 1
    });
    let n = names.len();
    let mut wall: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut out_sizes = vec![0u64; n];
    let mut peak_rss_kib = 0u64;
    let seg_dir = dir.join("segments");
    let base_seg_dir = dir.join("segments-baseline");
    let threads_seg_dir = dir.join("segments-threads");
    let floor_seg_dir = dir.join("segments-floor");
    let shell_out = dir.join("shell.gz.age");
    let pigz_out = dir.join("pigz.gz");
    for run in 0..runs {
        // A different order each run, so a burst of load elsewhere does not always hit the same one.
        for k in 0..n {
            let which = (run + k) % n;
            let cpu0 = children_cpu_secs();
            let t = Instant::now();
            match which {
                0 | 3.. => {
                    let (bin, seg_dir) = match (which, baseline) {
                        _ if Some(which) == threads_idx => (bin, &threads_seg_dir),
                        _ if which == floor_idx => (bin, &floor_seg_dir),
                        (3, Some(b)) => (b, &base_seg_dir),
                        _ => (bin, &seg_dir),
                    };
                    let _ = fs::remove_dir_all(seg_dir);
                    let mut cmd = Command::new(bin);
                    cmd.args(["-q", "pipe", "--gzip-level", "6", "--recipient", recipient]);
                    if let (true, Some(t)) = (Some(which) == threads_idx, &threads) {
                        cmd.args(["--threads", t]);
                    }
                    if which == floor_idx {
                        cmd.arg("--config").arg(&floor_config);
                    }
                    let mut child = cmd
                        .arg("--out")
                        .arg(seg_dir)
                        .stdin(fs::File::open(log).unwrap())
                        .spawn()
                        .unwrap();
                    let (stop, peak) = watch_rss(child.id());
                    let status = child.wait().unwrap();
                    stop.store(true, Ordering::Relaxed);
                    assert!(status.success(), "logveil pipe failed: {status}");
                    if which == 0 {
                        peak_rss_kib = peak_rss_kib.max(peak.load(Ordering::Relaxed));
                    }
                }
                1 => {
                    let status = Command::new("sh")
                        .arg("-c")
                        .arg(format!(
                            "perl -pe '{PERL_SCRIPT}' < '{}' | gzip -6 | age -r '{recipient}' > '{}'",
                            log.display(),
                            shell_out.display()
                        ))
                        .status()
                        .unwrap();
                    assert!(status.success(), "shell recipe failed: {status}");
                }
                2 => {
                    let status = Command::new("pigz")
                        .args(["-6", "-p", "2", "-c"])
                        .stdin(fs::File::open(log).unwrap())
                        .stdout(fs::File::create(&pigz_out).unwrap())
                        .status()
                        .unwrap();
                    assert!(status.success(), "pigz failed: {status}");
                }
            }
            let secs = t.elapsed().as_secs_f64();
            wall[which].push(size as f64 / 1e6 / secs);
            cpu[which].push(children_cpu_secs() - cpu0);
        }
        out_sizes[0] = dir_size(&seg_dir);
        out_sizes[1] = fs::metadata(&shell_out).unwrap().len();
        out_sizes[2] = fs::metadata(&pigz_out).unwrap().len();
        if baseline.is_some() {
            out_sizes[3] = dir_size(&base_seg_dir);
        }
        if let Some(i) = threads_idx {
            out_sizes[i] = dir_size(&threads_seg_dir);
        }
        out_sizes[floor_idx] = dir_size(&floor_seg_dir);
        let line: Vec<String> = (0..n)
            .map(|i| format!("{} {:.1} MB/s", names[i], wall[i][run]))
            .collect();
        eprintln!("run {}: {}", run + 1, line.join(", "));
    }
    println!(
        "{:<30} {:>12} {:>12} {:>12} {:>14} {:>10}",
        "", "median", "best", "worst", "CPU s (min)", "output MB"
    );
    let mut medians = vec![0.0; n];
    let mut bests = vec![0.0; n];
    let mut min_cpus = vec![0.0; n];
    for i in 0..n {
        let v = &mut wall[i];
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        medians[i] = v[v.len() / 2];
        bests[i] = v[v.len() - 1];
        let min_cpu = cpu[i].iter().cloned().fold(f64::INFINITY, f64::min);
        min_cpus[i] = min_cpu;
        println!(
            "{:<30} {:>7.1} MB/s {:>7.1} MB/s {:>7.1} MB/s {:>14.2} {:>10.1}",
            names[i],
            medians[i],
            bests[i],
            v[0],
            min_cpu,
            out_sizes[i] as f64 / 1e6
        );
    }
    println!(
        "logveil / shell: median {:.2}x, best {:.2}x (target >= 2.5x)",
        medians[0] / medians[1],
        bests[0] / bests[1]
    );
    println!(
        "logveil / pigz:  median {:.2}x, best {:.2}x (target >= 1.3x, issue 17)",
        medians[0] / medians[2],
        bests[0] / bests[2]
    );
    if let Some(i) = threads_idx {
        println!(
            "logveil / {}: median {:.2}x, best {:.2}x; CPU seconds {:.2}x; vs pigz: median {:.2}x",
            names[i],
            medians[0] / medians[i],
            bests[0] / bests[i],
            min_cpus[i] / min_cpus[0],
            medians[i] / medians[2]
        );
    }
    if baseline.is_some() {
        println!(
            "logveil / baseline: median {:.2}x, best {:.2}x; CPU seconds baseline/logveil {:.2}x",
            medians[0] / medians[3],
            bests[0] / bests[3],
            min_cpus[3] / min_cpus[0]
        );
    }
    // Wall seconds for the whole log, from the medians.
    let secs = |i: usize| size as f64 / 1e6 / medians[i];
    println!(
        "floor (detectors off) / pigz: median {:.2}x; redaction adds {:.2} CPU s and {:.2} s wall to the floor; \
         1.3x pigz leaves it {:.2} s wall",
        medians[floor_idx] / medians[2],
        min_cpus[0] - min_cpus[floor_idx],
        secs(0) - secs(floor_idx),
        secs(2) / 1.3 - secs(floor_idx)
    );
    println!(
        "CPU seconds (less is better, steadier than wall time on a busy machine): shell/logveil {:.2}x, pigz/logveil {:.2}x",
        min_cpus[1] / min_cpus[0],
        min_cpus[2] / min_cpus[0]
    );
    println!(
        "logveil pipe peak RSS: {:.1} MiB (target <= 64 MiB)",
        peak_rss_kib as f64 / 1024.0
    );
    let _ = fs::remove_dir_all(&seg_dir);
    let _ = fs::remove_dir_all(&base_seg_dir);
    let _ = fs::remove_dir_all(&threads_seg_dir);
    let _ = fs::remove_dir_all(&floor_seg_dir);
    let _ = fs::remove_file(&floor_config);
    let _ = fs::remove_file(&shell_out);
    let _ = fs::remove_file(&pigz_out);
}

/// A config that turns every built-in detector off (no user patterns either): `pipe` then copies its
/// input into sealed segments unchanged.
fn detectors_off_yaml() -> String {
    let mut y = String::from("logveil:\n  detectors:\n");
    for d in logveil::redact::patterns::Detector::ALL {
        y.push_str(&format!("    {}: false\n", d.name()));
    }
    y
}

fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
