//! `cargo bench --bench pipe`: `logveil pipe` against the shell recipe it replaces and against pigz alone,
//! side by side in one run, on the same deterministic synthetic bot log (JSON lines, Chinese text, about
//! one personal-data item per five lines).
//!
//! - logveil:  `logveil pipe --out DIR --recipient R --gzip-level 6 < LOG`
//! - shell:    `perl -pe '<the seed's 4 regexes>' < LOG | gzip -6 | age -r R > OUT`
//! - pigz:     `pigz -6 -p 2 < LOG > OUT` (compression only: no redaction, no encryption)
//!
//! Prints MB/s (input megabytes, 10^6 bytes, per second of wall time) for each run, the median and best
//! of the runs, the CPU seconds each contestant used (user + system, all its processes), the ratios
//! logveil/shell and logveil/pigz, and the peak RSS of `logveil pipe` (VmHWM, polled from /proc). The
//! runs are interleaved in a rotating order; on a shared machine the best run is the least disturbed.
//! Targets (issue 3): logveil >= 2.5x the shell recipe, and faster than pigz alone.
//!
//! Environment: LOGVEIL_BENCH_MB (input size, default 200), LOGVEIL_BENCH_RUNS (runs each, default 3),
//! LOGVEIL_BENCH_DIR (where the log and outputs go; default target/bench-pipe).

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The seed config's regexes (packaging/seed-config.yaml), as the shell recipe runs them.
const PERL_SCRIPT: &str = r#"s/\b1[3-9]\d{9}\b/[REDACTED]/g; s/\b[1-9]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx]\b/[REDACTED]/g; s/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/[REDACTED]/g; s/\b\d{16,19}\b/[REDACTED]/g"#;

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let mb: u64 = env_num("LOGVEIL_BENCH_MB", 200);
    let runs: usize = env_num("LOGVEIL_BENCH_RUNS", 3) as usize;
    let dir = std::env::var_os("LOGVEIL_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-pipe"));
    fs::create_dir_all(&dir).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_logveil"));
    for tool in ["perl", "gzip", "age", "age-keygen", "pigz"] {
        if !have(tool) {
            eprintln!("bench pipe: `{tool}` is missing (Debian packages: perl gzip age pigz)");
            std::process::exit(2);
        }
    }

    let log = dir.join(format!("bot-{mb}MB.log"));
    if fs::metadata(&log).map(|m| m.len()).unwrap_or(0) < mb * 1_000_000 {
        eprintln!("generating {} ...", log.display());
        generate(&log, mb * 1_000_000);
    }
    let size = fs::metadata(&log).unwrap().len();
    // Warm the page cache so every contestant reads from memory.
    let _ = fs::read(&log);

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

    println!(
        "bench pipe: {:.1} MB synthetic bot log, {} runs each, {} cores",
        size as f64 / 1e6,
        runs,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let names = [
        "logveil pipe (level 6)",
        "shell: perl | gzip -6 | age",
        "pigz -6 -p 2 (alone)",
    ];
    let mut wall: [Vec<f64>; 3] = Default::default();
    let mut cpu: [Vec<f64>; 3] = Default::default();
    let mut out_sizes = [0u64; 3];
    let mut peak_rss_kib = 0u64;
    let seg_dir = dir.join("segments");
    let shell_out = dir.join("shell.gz.age");
    let pigz_out = dir.join("pigz.gz");
    for run in 0..runs {
        // A different order each run, so a burst of load elsewhere does not always hit the same one.
        for k in 0..3 {
            let which = (run + k) % 3;
            let cpu0 = children_cpu_secs();
            let t = Instant::now();
            match which {
                0 => {
                    let _ = fs::remove_dir_all(&seg_dir);
                    let mut child = Command::new(&bin)
                        .args(["-q", "pipe", "--gzip-level", "6", "--recipient", &recipient])
                        .arg("--out")
                        .arg(&seg_dir)
                        .stdin(fs::File::open(&log).unwrap())
                        .spawn()
                        .unwrap();
                    let (stop, peak) = watch_rss(child.id());
                    let status = child.wait().unwrap();
                    stop.store(true, Ordering::Relaxed);
                    assert!(status.success(), "logveil pipe failed: {status}");
                    peak_rss_kib = peak_rss_kib.max(peak.load(Ordering::Relaxed));
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
                _ => {
                    let status = Command::new("pigz")
                        .args(["-6", "-p", "2", "-c"])
                        .stdin(fs::File::open(&log).unwrap())
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
        out_sizes = [
            dir_size(&seg_dir),
            fs::metadata(&shell_out).unwrap().len(),
            fs::metadata(&pigz_out).unwrap().len(),
        ];
        eprintln!(
            "run {}: logveil {:.1} MB/s, shell {:.1} MB/s, pigz {:.1} MB/s",
            run + 1,
            wall[0][run],
            wall[1][run],
            wall[2][run]
        );
    }
    println!(
        "{:<30} {:>12} {:>12} {:>12} {:>14} {:>10}",
        "", "median", "best", "worst", "CPU s (min)", "output MB"
    );
    let mut medians = [0.0; 3];
    let mut bests = [0.0; 3];
    let mut min_cpus = [0.0; 3];
    for i in 0..3 {
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
        "logveil / pigz:  median {:.2}x, best {:.2}x (target > 1x)",
        medians[0] / medians[2],
        bests[0] / bests[2]
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
    let _ = fs::remove_file(&shell_out);
    let _ = fs::remove_file(&pigz_out);
    let _ = fs::remove_file(&key);
}

/// CPU time (user + system, seconds) of all waited-for children so far (/proc/self/stat cutime, cstime).
fn children_cpu_secs() -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // cutime and cstime are fields 16 and 17 of the line (13 and 14 counting from 0 after the name), in
    // clock ticks of 1/100 s.
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(13) + ticks(14)) / 100.0
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
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

/// Polls the child's VmHWM (peak RSS, KiB) until told to stop or the process is gone.
fn watch_rss(pid: u32) -> (Arc<AtomicBool>, Arc<AtomicU64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let (s, p) = (stop.clone(), peak.clone());
    std::thread::spawn(move || {
        let path = format!("/proc/{pid}/status");
        while !s.load(Ordering::Relaxed) {
            let Ok(text) = fs::read_to_string(&path) else {
                return;
            };
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                p.fetch_max(kib, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    (stop, peak)
}

// ---------------------------------------------------------------------------------------------------------
// The synthetic bot log.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const PHRASES: &[&str] = &[
    "您好",
    "请问有什么可以帮您",
    "用户询问订单状态",
    "已为您查询到物流信息",
    "包裹预计明天送达",
    "请稍候",
    "正在处理您的请求",
    "系统繁忙，请稍后再试",
    "感谢您的耐心等待",
    "退款申请已提交",
    "审核通过后将原路退回",
    "会员积分已到账",
    "优惠券已发放到您的账户",
    "请确认收货地址",
    "北京市朝阳区建国路",
    "上海市浦东新区世纪大道",
    "广州市天河区体育西路",
    "深圳市南山区科技园",
    "机器人回复",
    "转人工客服",
    "对话结束",
    "用户满意度评价",
    "五星好评",
    "消息发送失败，正在重试",
    "企业微信回调成功",
    "群聊消息已同步",
    "知识库检索命中",
    "大模型生成回复",
    "上下文长度超限，已截断",
    "敏感词过滤通过",
    "今天天气不错",
    "明天上午十点开会",
    "请把周报发给我",
    "好的，收到",
    "没问题",
    "这个问题我需要确认一下",
];

const LEVELS: &[&str] = &["info", "info", "info", "info", "debug", "warn", "error"];
const EVENTS: &[&str] = &[
    "message.received",
    "message.sent",
    "llm.completion",
    "kb.search",
    "callback.wecom",
    "session.update",
];
const NAMES: &[&str] = &[
    "zhangwei",
    "wangfang",
    "li.na",
    "liuyang",
    "chenjie",
    "yang_min",
    "zhao.lei",
    "huang.xin",
];
const DOMAINS: &[&str] = &[
    "qq.com",
    "163.com",
    "example.com",
    "corp.example.cn",
    "126.com",
];
const AREAS: &[&str] = &["110105", "310115", "440106", "440305", "320102", "510107"];

fn push_pii(rng: &mut Rng, s: &mut String) {
    match rng.below(4) {
        0 => {
            let second = b"3456789"[rng.below(7) as usize] as char;
            s.push_str(&format!(
                "，联系电话1{second}{:09}",
                rng.below(1_000_000_000)
            ));
        }
        1 => {
            let name = rng.pick(NAMES);
            let domain = rng.pick(DOMAINS);
            s.push_str(&format!("，邮箱 {name}{}@{domain}", rng.below(1000)));
        }
        2 => {
            let mut id = format!(
                "{}{}{:02}{:02}{:03}",
                rng.pick(AREAS),
                1960 + rng.below(45),
                1 + rng.below(12),
                1 + rng.below(28),
                rng.below(1000)
            );
            let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
            let sum: u32 = id
                .bytes()
                .zip(weights)
                .map(|(b, w)| u32::from(b - b'0') * w)
                .sum();
            id.push(b"10X98765432"[(sum % 11) as usize] as char);
            s.push_str(&format!("，身份证号{id}"));
        }
        _ => {
            let len = 16 + rng.below(4) as usize;
            let mut digits: Vec<u8> = b"622202".to_vec();
            while digits.len() < len - 1 {
                digits.push(b'0' + rng.below(10) as u8);
            }
            // Luhn check digit.
            let mut sum = 0;
            for (i, d) in digits.iter().rev().enumerate() {
                let mut v = u32::from(d - b'0');
                if i % 2 == 0 {
                    v *= 2;
                    if v > 9 {
                        v -= 9;
                    }
                }
                sum += v;
            }
            digits.push(b'0' + ((10 - sum % 10) % 10) as u8);
            s.push_str(&format!("，银行卡{}", String::from_utf8(digits).unwrap()));
        }
    }
}

fn generate(path: &Path, bytes: u64) {
    let tmp = path.with_extension("tmp");
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(&tmp).unwrap());
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut written = 0u64;
    let mut ms: u64 = 1_795_600_000_000; // 2026-11-25
    let mut line = String::new();
    while written < bytes {
        line.clear();
        ms += rng.below(40);
        let secs = ms / 1000;
        let (h, m, sec) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        let mut msg = String::new();
        for _ in 0..(2 + rng.below(5)) {
            if !msg.is_empty() {
                msg.push('，');
            }
            msg.push_str(rng.pick(PHRASES));
        }
        if rng.below(5) == 0 {
            push_pii(&mut rng, &mut msg);
        }
        if rng.below(4) == 0 {
            msg.push_str(&format!("，订单号{}", 20261125000000 + rng.below(999_999)));
        }
        line.push_str(&format!(
            "{{\"ts\":\"2026-11-25T{h:02}:{m:02}:{sec:02}.{:03}Z\",\"level\":\"{}\",\"event\":\"{}\",\"chat_id\":\"wrk{:06}\",\"user_id\":{},\"msg\":\"{msg}\",\"latency_ms\":{},\"trace_id\":\"{:016x}\"}}\n",
            ms % 1000,
            rng.pick(LEVELS),
            rng.pick(EVENTS),
            rng.below(5000),
            100_000 + rng.below(900_000),
            rng.below(3000),
            rng.next(),
        ));
        out.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
    }
    out.flush().unwrap();
    drop(out);
    fs::rename(&tmp, path).unwrap();
}
