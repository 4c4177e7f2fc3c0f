//! `pipe` and `seal` redact on worker threads (`--threads N`), the real binary with the real `age` keys:
//! the segments hold exactly what one thread gives at every thread count (dense lines, private keys across
//! lines, a line longer than a chunk, CRLF, invalid UTF-8, a last line without newline, segments cut by
//! size), a line written to `pipe` reaches `--tee` while stdin stays open, and `pipe`'s peak memory stays
//! bounded at two threads for a long line without newline and for dense lines.
//! Throughput and the thread split are measured in benches/pipe.rs.

#[path = "../benches/common/botlog.rs"]
mod botlog;
mod common;
#[path = "common/pii_gen.rs"]
mod pii_gen;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::*;
use logveil::redact::{redact_all, Engine, EngineConfig};

fn logveil() -> Command {
    let mut c = Command::new(bin());
    c.env_remove("LOGVEIL_CONFIG").env_remove("LOGVEIL_LOG");
    c
}

/// Dense bot-log lines, private keys over several lines, a line longer than a chunk (values all along it),
/// CRLF, invalid UTF-8 and NUL, and a last line without newline.
fn mixed_input() -> Vec<u8> {
    let mut gen = botlog::BotLog::with_profile(7, botlog::Profile::DENSE);
    let mut input = Vec::new();
    for part in 0..4 {
        let target = input.len() + (384 << 10);
        gen.fill(&mut input, target);
        input.extend_from_slice(b"-----BEGIN RSA PRIVATE KEY-----\n");
        for i in 0..(10 + part * 25) {
            let line =
                format!("MIIEpAIBAAKCAQEA{i:03}x7Yq2KcBvZ9mWfPp3sLr8TnQe4GhUjXoDa1Ry6Sb0Vi5Fw\n");
            input.extend_from_slice(line.as_bytes());
        }
        input.extend_from_slice(b"-----END RSA PRIVATE KEY-----\r\n");
        input.extend_from_slice(b"\xff\xfe bad utf-8 \0 phone 13812345678\r\n");
    }
    let mut long = Vec::new();
    gen.fill(&mut long, 1 << 20);
    input.extend(long.into_iter().map(|b| if b == b'\n' { b' ' } else { b }));
    input.push(b'\n');
    let target = input.len() + (256 << 10);
    gen.fill(&mut input, target);
    input.extend_from_slice(b"last line without newline 13912345678");
    input
}

fn first_diff(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The segments of `dir`, decrypted and in data order by `logveil cat`.
fn cat_all(keys: &Keys, dir: &Path) -> Vec<u8> {
    let o = logveil_cat(&keys.identity, &[dir]);
    assert!(o.status.success(), "cat failed: {}", stderr(&o));
    o.stdout
}

#[test]
fn pipe_and_seal_seal_the_single_threaded_redaction_at_every_thread_count() {
    let Some(keys) = age_keys() else { return };
    let input = mixed_input();
    let engine = Engine::new(&EngineConfig::default()).unwrap();
    let (reference, _) = redact_all(&engine, &input);
    assert_ne!(reference, input, "the input has values to redact");
    for threads in ["1", "2", "3"] {
        let work = tempfile::tempdir().unwrap();
        // pipe, segments cut by size: several segments, each cut between two pieces.
        let out = work.path().join("pipe");
        let o = run_with_stdin(
            logveil()
                .args(["pipe", "--threads", threads, "--max-segment-bytes", "1MiB"])
                .args(["--recipient", &keys.recipient])
                .arg("--out")
                .arg(&out),
            &input,
        );
        assert!(o.status.success(), "pipe: {}", stderr(&o));
        assert!(segments(&out).len() >= 3, "several segments");
        let got = cat_all(&keys, &out);
        assert!(
            got == reference,
            "pipe --threads {threads}: first difference at byte {} of {}",
            first_diff(&got, &reference),
            reference.len()
        );

        // seal, a rotated file.
        let file = work.path().join("bot.log.1");
        std::fs::write(&file, &input).unwrap();
        let out = work.path().join("seal");
        let o = logveil()
            .args(["seal", "--threads", threads, "--max-segment-bytes", "1MiB"])
            .args(["--recipient", &keys.recipient])
            .arg("--out")
            .arg(&out)
            .arg(&file)
            .output()
            .unwrap();
        assert!(o.status.success(), "seal: {}", stderr(&o));
        assert!(!file.exists(), "the plaintext is removed once sealed");
        let got = cat_all(&keys, &out);
        assert!(
            got == reference,
            "seal --threads {threads}: first difference at byte {} of {}",
            first_diff(&got, &reference),
            reference.len()
        );
    }
}

#[test]
fn a_line_written_to_pipe_reaches_tee_while_stdin_stays_open_at_every_thread_count() {
    let Some(keys) = age_keys() else { return };
    for threads in ["1", "2", "4"] {
        let out = tempfile::tempdir().unwrap();
        let mut child = logveil()
            .args(["pipe", "--tee", "--threads", threads])
            .args(["--recipient", &keys.recipient])
            .arg("--out")
            .arg(out.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
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
        for i in 0..10 {
            writeln!(stdin, "live {i} 手机13812345678").unwrap();
            stdin.flush().unwrap();
            // A behaviour test with a generous timeout: the line is not held until more input comes.
            let line = rx.recv_timeout(Duration::from_secs(20));
            assert_eq!(
                line.as_deref().ok(),
                Some(format!("live {i} 手机[REDACTED:phone]").as_str()),
                "threads {threads}: line {i} did not reach --tee while stdin stayed open"
            );
        }
        drop(stdin);
        assert!(child.wait().unwrap().success());
        let got = cat_all(&keys, out.path());
        assert_eq!(got.lines().count(), 10, "and every line is sealed");
    }
}

/// VmHWM (peak resident set) of a running process, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn pipe_peak_memory_stays_under_64_mib_at_two_threads_for_a_long_line_and_dense_lines() {
    const PART: usize = 40 << 20;
    let Some(keys) = age_keys() else { return };
    let out = tempfile::tempdir().unwrap();
    let mut child = logveil()
        .args(["pipe", "--threads", "2"])
        .args(["--recipient", &keys.recipient])
        .arg("--out")
        .arg(out.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let watcher = thread::spawn(move || {
        let mut peak = 0;
        while stop_rx.recv_timeout(Duration::from_millis(20)).is_err() {
            peak = peak_rss_kib(pid).map_or(peak, |p| p.max(peak));
        }
        peak
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
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(child.wait().unwrap().success(), "pipe: {err}");
    stop_tx.send(()).unwrap();
    let peak = watcher.join().unwrap().max(before_eof);
    eprintln!("peak RSS {:.1} MiB", peak as f64 / 1024.0);
    assert!(!segments(out.path()).is_empty(), "the input was sealed");
    assert!(peak > 0 && peak <= 64 << 10, "peak RSS {peak} KiB");
}

/// `tail --threads N` stopped (SIGTERM, and now and then kill -9) and started again over and over while it
/// reads the mixed input: the segments end up holding the single-threaded redaction exactly once, so each
/// checkpoint was exactly where its segment's input ends, whatever the workers still held at the stop.
#[test]
fn tail_stopped_and_started_again_at_any_point_seals_every_line_exactly_once_at_every_thread_count()
{
    let Some(keys) = age_keys() else { return };
    let input = mixed_input();
    // A live file's last line without newline waits for its newline: it is not sealed.
    let sealed_part = input.iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let engine = Engine::new(&EngineConfig::default()).unwrap();
    let (reference, _) = redact_all(&engine, &input[..sealed_part]);
    for threads in ["1", "3"] {
        let work = tempfile::tempdir().unwrap();
        let (log, out, state) = (
            work.path().join("bot.log"),
            work.path().join("out"),
            work.path().join("state"),
        );
        std::fs::write(&log, &input[..input.len() / 3]).unwrap();
        let mut rounds = 0;
        let mut got = Vec::new();
        while rounds < 60 {
            rounds += 1;
            let mut child = logveil()
                .args([
                    "tail",
                    "--poll",
                    "--poll-interval",
                    "50ms",
                    "--threads",
                    threads,
                ])
                .args(["--max-segment-bytes", "256KiB", "--max-segment-age", "1s"])
                .args(["--recipient", &keys.recipient])
                .arg("--out")
                .arg(&out)
                .arg("--state")
                .arg(&state)
                .arg(&log)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            thread::sleep(Duration::from_millis(100 + 100 * (rounds % 7)));
            if rounds == 2 {
                // The rest of the file arrives while tail runs.
                let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
                f.write_all(&input[input.len() / 3..]).unwrap();
            }
            let sig = if rounds % 4 == 3 { "-KILL" } else { "-TERM" };
            Command::new("kill")
                .args([sig, &child.id().to_string()])
                .status()
                .unwrap();
            child.wait().unwrap();
            // After a kill -9 the next start deals with the .partial it left.
            if !out.exists() || segments(&out).is_empty() || !partials(&out).is_empty() {
                continue;
            }
            got = cat_all(&keys, &out);
            if got.len() >= reference.len() && rounds >= 4 {
                break;
            }
        }
        assert!(
            got == reference,
            "tail --threads {threads}, {rounds} runs: {} bytes sealed of {}, first difference at {}",
            got.len(),
            reference.len(),
            first_diff(&got, &reference)
        );
    }
}
