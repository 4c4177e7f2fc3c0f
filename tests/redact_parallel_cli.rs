//! `logveil redact --threads N`, the real binary: the same bytes at every thread count and read size (dense
//! lines, private keys across lines, a line longer than the window, CRLF, invalid UTF-8, a last line without
//! newline), live lines out before EOF (stdin, and a named pipe given as a file), and peak memory bounded at
//! two threads whatever the input.
//! Figures (latency, MB/s, peak RSS of the release build) are in benches/redact_vs_rg.rs.

#[path = "../benches/common/botlog.rs"]
mod botlog;
#[path = "common/pii_gen.rs"]
mod pii_gen;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use logveil::redact::{redact_all, Engine, EngineConfig};

fn logveil() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_logveil"));
    c.env_remove("LOGVEIL_CONFIG").env_remove("LOGVEIL_LOG");
    c
}

fn spawn_redact(threads: usize) -> Child {
    logveil()
        .args(["redact", "--threads", &threads.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A mixed input: dense bot-log lines, private keys over several lines, a line longer than the redactor's
/// window (values all along it), CRLF, invalid UTF-8 and NUL, and a last line without newline.
fn mixed_input() -> Vec<u8> {
    let mut gen = botlog::BotLog::with_profile(5, botlog::Profile::DENSE);
    let mut rng = pii_gen::Rng::new(5);
    let mut input = Vec::new();
    for part in 0..6 {
        let target = input.len() + (512 << 10);
        gen.fill(&mut input, target);
        input.extend_from_slice(b"-----BEGIN RSA PRIVATE KEY-----\n");
        for _ in 0..(20 + part * 30) {
            input.extend_from_slice(pii_gen::pem_line(&mut rng).as_bytes());
            input.push(b'\n');
        }
        input.extend_from_slice(b"-----END RSA PRIVATE KEY-----\r\n");
        input.extend_from_slice(b"\xff\xfe bad utf-8 \0 phone 13812345678\r\n");
    }
    let mut long = Vec::new();
    gen.fill(&mut long, 3 << 20);
    input.extend(long.into_iter().map(|b| if b == b'\n' { b' ' } else { b }));
    input.push(b'\n');
    let target = input.len() + (256 << 10);
    gen.fill(&mut input, target);
    input.extend_from_slice(b"last line without newline 13912345678");
    input
}

/// Runs `redact --threads N`, writing `input` to its stdin in pieces of the given sizes (cycled).
fn redact_through_pipe(threads: usize, input: &[u8], pieces: &[usize]) -> Vec<u8> {
    let mut child = spawn_redact(threads);
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let sizes = pieces.to_vec();
    let writer = thread::spawn(move || {
        let mut at = 0;
        for &n in sizes.iter().cycle() {
            if at == data.len() {
                break;
            }
            let end = (at + n).min(data.len());
            stdin.write_all(&data[at..end]).unwrap();
            at = end;
        }
    });
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "threads {threads}: {status}");
    out
}

fn first_diff(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[test]
fn the_output_is_the_same_at_every_thread_count_and_read_size() {
    let input = mixed_input();
    let engine = Engine::new(&EngineConfig::default()).unwrap();
    let (reference, _) = redact_all(&engine, &input);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.log");
    std::fs::write(&file, &input).unwrap();
    for threads in [1, 2, 3] {
        let out = logveil()
            .args(["redact", "--threads", &threads.to_string()])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(
            out.stdout == reference,
            "file, threads {threads}: differs at output byte {} of {}",
            first_diff(&out.stdout, &reference),
            reference.len()
        );
    }
    for (threads, pieces) in [
        (2, &[1usize, 4096, 77, 65_536, 3][..]),
        (4, &[300_000, 5][..]),
    ] {
        let out = redact_through_pipe(threads, &input, pieces);
        assert!(
            out == reference,
            "pipe, threads {threads}: differs at output byte {} of {}",
            first_diff(&out, &reference),
            reference.len()
        );
    }
}

#[test]
fn live_lines_appear_before_eof_at_every_thread_count() {
    for threads in [1, 2, 4] {
        let mut child = spawn_redact(threads);
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line.unwrap()).is_err() {
                    break;
                }
            }
        });
        let mut waits = Vec::new();
        for i in 0..10 {
            let t = Instant::now();
            writeln!(stdin, "live {i} 手机13812345678").unwrap();
            stdin.flush().unwrap();
            // A behaviour test with a generous timeout; the latency itself is measured in benches/.
            let line = rx.recv_timeout(Duration::from_secs(20));
            assert_eq!(
                line.as_deref().ok(),
                Some(format!("live {i} 手机[REDACTED:phone]").as_str()),
                "threads {threads}: line {i} did not come out while stdin stayed open"
            );
            waits.push(t.elapsed());
        }
        waits.sort();
        eprintln!(
            "threads {threads}: median wait {:?}",
            waits[waits.len() / 2]
        );
        drop(stdin);
        assert!(child.wait().unwrap().success());
    }
}

#[test]
fn lines_written_to_a_named_pipe_given_as_a_file_appear_before_eof() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("live.fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let mut child = logveil()
        .args(["redact", "--threads", "2"])
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    for i in 0..5 {
        writeln!(writer, "fifo {i} 邮箱 zhang.wei@example.com").unwrap();
        let line = rx.recv_timeout(Duration::from_secs(20));
        assert_eq!(
            line.as_deref().ok(),
            Some(format!("fifo {i} 邮箱 [REDACTED:email]").as_str()),
            "line {i} did not come out while the pipe stayed open"
        );
    }
    drop(writer);
    assert!(child.wait().unwrap().success());
}

/// VmHWM (peak resident set) of a running process, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn peak_memory_stays_under_32_mib_at_two_threads_for_a_long_line_and_dense_lines() {
    const PART: usize = 40 << 20;
    let mut child = spawn_redact(2);
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let (mut buf, mut n_out, mut peak) = (vec![0u8; 1 << 20], 0u64, 0u64);
        loop {
            match stdout.read(&mut buf).unwrap() {
                0 => return (n_out, peak),
                n => n_out += n as u64,
            }
            peak = peak.max(peak_rss_kib(pid).unwrap_or(0));
        }
    });
    // One line of PART bytes (no newline), then PART bytes of dense lines; generated as written.
    let mut gen = botlog::BotLog::with_profile(9, botlog::Profile::DENSE);
    let mut block = Vec::with_capacity(1 << 20);
    for newlines in [false, true] {
        let mut written = 0;
        while written < PART {
            block.clear();
            gen.fill(&mut block, 1 << 20);
            if !newlines {
                block
                    .iter_mut()
                    .filter(|b| **b == b'\n')
                    .for_each(|b| *b = b' ');
            }
            stdin.write_all(&block).unwrap();
            written += block.len();
        }
    }
    let before_eof = peak_rss_kib(pid).expect("the process is still running");
    drop(stdin);
    let (n_out, peak) = reader.join().unwrap();
    assert!(child.wait().unwrap().success());
    let peak = peak.max(before_eof);
    eprintln!(
        "peak RSS {:.1} MiB, {n_out} bytes out",
        peak as f64 / 1024.0
    );
    assert!(n_out as usize > PART, "the output came through");
    assert!(peak > 0 && peak <= 32 << 10, "peak RSS {peak} KiB");
}
