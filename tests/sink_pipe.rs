//! `logveil pipe` end to end, checked with the real `age` and `gzip` tools.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn pipe_cmd(out: &Path, recipient: &str) -> Command {
    let mut c = Command::new(bin());
    c.args(["pipe", "--recipient", recipient])
        .arg("--out")
        .arg(out);
    c
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} failed");
}

/// Waits until `cond` holds (up to `secs` seconds).
fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

/// Reads `n` lines of the child's --tee output (proof that pipe has read and redacted them).
fn read_tee_lines(out: &mut impl BufRead, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    for _ in 0..n {
        let before = got.len();
        out.read_until(b'\n', &mut got).unwrap();
        assert!(got.len() > before, "pipe's stdout ended early");
    }
    got
}

#[test]
fn segments_decrypt_with_the_age_and_gzip_tools_to_exactly_the_redacted_text() {
    let Some(keys) = age_keys() else { return };
    if !have("age") || !have("gzip") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let input = sample_log(5000, 7);
    let o = run_with_stdin(&mut pipe_cmd(&out, &keys.recipient), &input);
    assert!(o.status.success(), "pipe failed: {}", stderr(&o));
    let segs = segments(&out);
    assert_eq!(segs.len(), 1);
    assert!(partials(&out).is_empty());
    let expected = redacted(&input);
    assert!(expected != input, "the sample holds something to redact");
    let got = age_gunzip(&segs[0], &keys.identity);
    assert!(
        got == expected,
        "age -d | gzip -dc gives {} bytes, the redacted text has {}",
        got.len(),
        expected.len()
    );
    // And logveil's own cat reads the same.
    let c = logveil_cat(&keys.identity, &[&out]);
    assert!(c.status.success(), "{}", stderr(&c));
    assert!(c.stdout == expected);
}

#[test]
fn ssh_ed25519_and_ssh_rsa_recipients_work_with_the_age_tool_and_cat() {
    if !have("ssh-keygen") || !have("age") || !have("gzip") {
        return;
    }
    for kind in [&["-t", "ed25519"][..], &["-t", "rsa", "-b", "2048"][..]] {
        let tmp = tempfile::tempdir().unwrap();
        let key = tmp.path().join("id");
        let ok = Command::new("ssh-keygen")
            .args(kind)
            .args(["-q", "-N", "", "-C", "ops", "-f"])
            .arg(&key)
            .status()
            .unwrap()
            .success();
        assert!(ok, "ssh-keygen failed");
        let public = fs::read_to_string(key.with_extension("pub")).unwrap();
        let out = tmp.path().join("sealed");
        let input = sample_log(300, 11);
        let o = run_with_stdin(&mut pipe_cmd(&out, public.trim()), &input);
        assert!(o.status.success(), "pipe failed: {}", stderr(&o));
        let segs = segments(&out);
        assert_eq!(segs.len(), 1);
        let expected = redacted(&input);
        assert!(age_gunzip(&segs[0], &key) == expected, "{kind:?}");
        let c = logveil_cat(&key, &[&segs[0]]);
        assert!(c.status.success(), "{}", stderr(&c));
        assert!(c.stdout == expected, "{kind:?}");
    }
}

#[test]
fn files_are_0600_and_directories_0700_under_umask_022() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a/b/sealed");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("umask 022; exec \"$0\" pipe --out \"$1\" --recipient \"$2\"")
        .arg(bin())
        .arg(&out)
        .arg(&keys.recipient);
    let o = run_with_stdin(&mut cmd, &sample_log(100, 3));
    assert!(o.status.success(), "{}", stderr(&o));
    for d in [tmp.path().join("a"), tmp.path().join("a/b"), out.clone()] {
        assert_eq!(mode(&d), 0o700, "{}", d.display());
    }
    let files: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() >= 2, "a segment and the stream's lock file");
    for f in files {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

#[test]
fn rotation_by_size_splits_the_stream_in_data_order() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let input = sample_log(20_000, 5);
    let mut cmd = pipe_cmd(&out, &keys.recipient);
    cmd.args(["--max-segment-bytes", "200KiB"]);
    let o = run_with_stdin(&mut cmd, &input);
    assert!(o.status.success(), "{}", stderr(&o));
    let segs = segments(&out);
    let expected = redacted(&input);
    assert!(
        segs.len() as u64 >= expected.len() as u64 / (200 << 10) - 1,
        "{} segments for {} bytes",
        segs.len(),
        expected.len()
    );
    // Name order is data order: the segments concatenate to the whole redacted stream.
    let c = logveil_cat(
        &keys.identity,
        &segs.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
    );
    assert!(c.status.success(), "{}", stderr(&c));
    assert!(c.stdout == expected);
    let c = logveil_cat(&keys.identity, &[&out]);
    assert!(c.stdout == expected, "a directory is read in data order");
}

#[test]
fn a_quiet_stream_gets_its_segment_finished_by_age_while_pipe_runs() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let mut child = pipe_cmd(&out, &keys.recipient)
        .args(["--max-segment-age", "2s", "--tee"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut tee = BufReader::new(child.stdout.take().unwrap());
    stdin.write_all(b"first line\n").unwrap();
    stdin.flush().unwrap();
    read_tee_lines(&mut tee, 1);
    // Nothing more arrives; the segment must still be finished about 2 s after its first record.
    assert!(
        wait_for(10, || segments(&out).len() == 1),
        "no segment finished by age"
    );
    assert!(partials(&out).is_empty());
    stdin.write_all(b"second line\n").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    let segs = segments(&out);
    assert_eq!(segs.len(), 2);
    let c = logveil_cat(&keys.identity, &[&out]);
    assert_eq!(c.stdout, b"first line\nsecond line\n");
}

#[test]
fn sighup_rotates_and_sigterm_finishes_everything_and_exits_0() {
    let Some(keys) = age_keys() else { return };
    for stop in ["TERM", "INT"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("sealed");
        let mut child = pipe_cmd(&out, &keys.recipient)
            .arg("--tee")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut tee = BufReader::new(child.stdout.take().unwrap());
        let first = sample_log(200, 1);
        stdin.write_all(&first).unwrap();
        read_tee_lines(&mut tee, 200);
        signal(&child, "HUP");
        assert!(
            wait_for(10, || segments(&out).len() == 1),
            "SIGHUP did not finish the segment"
        );
        let second = sample_log(100, 2);
        stdin.write_all(&second).unwrap();
        read_tee_lines(&mut tee, 100);
        // stdin stays open: only the signal ends pipe.
        signal(&child, stop);
        let status = child.wait().unwrap();
        assert!(status.success(), "SIG{stop}: exit status {status}");
        assert!(partials(&out).is_empty(), "nothing left unfinished");
        let segs = segments(&out);
        assert_eq!(segs.len(), 2);
        let c = logveil_cat(&keys.identity, &[&out]);
        let mut all = first.clone();
        all.extend_from_slice(&second);
        assert!(c.stdout == redacted(&all), "SIG{stop}: all lines sealed");
        drop(stdin);
    }
}

#[test]
fn kill_9_leaves_a_partial_that_the_next_start_keeps_as_truncated_and_cat_reads() {
    let Some(keys) = age_keys() else { return };
    if !have("age") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let mut child = pipe_cmd(&out, &keys.recipient)
        .arg("--tee")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut tee = BufReader::new(child.stdout.take().unwrap());
    // Random hex compresses poorly, so the segment spans many age chunks.
    let input = sample_log(60_000, 9);
    let lines = input.iter().filter(|&&b| b == b'\n').count();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
        stdin // keep it open until the kill
    });
    let teed = read_tee_lines(&mut tee, lines);
    assert!(
        wait_for(20, || partials(&out).first().is_some_and(|p| fs::metadata(
            p
        )
        .unwrap()
        .len()
            > 300_000)),
        "the .partial did not grow"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(feeder.join().unwrap());
    let partial = partials(&out);
    assert_eq!(partial.len(), 1, "kill -9 leaves the .partial");
    let partial_name = partial[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();

    // The next start renames it (warning names it), then works as usual.
    let o = run_with_stdin(&mut pipe_cmd(&out, &keys.recipient), b"after restart\n");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&partial_name),
        "the warning names the .partial"
    );
    assert!(partials(&out).is_empty());
    let segs = segments(&out);
    assert_eq!(segs.len(), 2);
    let truncated = &segs[0];
    assert!(truncated
        .to_string_lossy()
        .ends_with(".truncated.log.gz.age"));

    // cat: everything in the complete chunks, then the report naming it, exit 1.
    let c = logveil_cat(&keys.identity, &[&out]);
    assert_eq!(c.status.code(), Some(1));
    let err = stderr(&c);
    let tname = truncated.file_name().unwrap().to_str().unwrap();
    assert!(err.contains(tname) && err.contains("truncated"), "{err}");
    assert!(
        c.stdout.ends_with(b"after restart\n"),
        "later segments still read"
    );
    let from_truncated = &c.stdout[..c.stdout.len() - b"after restart\n".len()];
    // A line cut short ends with cat's marker (and a newline), so the next segment's line stands alone.
    let marker = b" [logveil: the segment is damaged here; the rest of this line is lost]\n";
    let from_truncated = from_truncated
        .strip_suffix(marker)
        .unwrap_or(from_truncated);
    assert!(!from_truncated.is_empty());
    assert!(
        teed.starts_with(from_truncated),
        "what cat gives is a prefix of what was piped"
    );
    // It is exactly what the complete chunks hold: the age tool's output, decompressed as far as it goes.
    let age_out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&keys.identity)
        .arg(truncated)
        .output()
        .unwrap();
    assert!(
        !age_out.status.success(),
        "the age tool also sees it truncated"
    );
    let mut gz = flate2::read::MultiGzDecoder::new(&age_out.stdout[..]);
    let mut expected = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = gz.read(&mut buf) {
        if n == 0 {
            break;
        }
        expected.extend_from_slice(&buf[..n]);
    }
    assert!(
        from_truncated == expected.as_slice(),
        "cat gave {} bytes, the complete chunks hold {}",
        from_truncated.len(),
        expected.len()
    );
}

#[test]
fn bad_recipients_are_named_by_position_and_never_echoed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
    let o = run_with_stdin(&mut pipe_cmd(&out, secret), b"x\n");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--recipient #1") && err.contains("secret key"),
        "{err}"
    );
    assert!(!err.contains("QQQQQQQQ"), "the secret is not echoed");
    assert!(!out.exists(), "nothing was written");

    let rfile = tmp.path().join("recipients");
    fs::write(&rfile, "# ops\nage1definitelynotakey\n").unwrap();
    let mut cmd = Command::new(bin());
    cmd.arg("pipe")
        .arg("--out")
        .arg(&out)
        .arg("--recipients-file")
        .arg(&rfile);
    let o = run_with_stdin(&mut cmd, b"x\n");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("line 2"), "{err}");
    assert!(!err.contains("definitelynotakey"), "{err}");

    let mut cmd = Command::new(bin());
    cmd.arg("pipe").arg("--out").arg(&out);
    let o = run_with_stdin(&mut cmd, b"x\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no recipient"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn an_unusable_output_directory_is_named() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    fs::write(&file, b"").unwrap();
    let out = file.join("sealed");
    // Fail closed: exit 2 at once.
    let o = run_with_stdin(
        pipe_cmd(&out, &keys.recipient).args(["--on-sink-error", "exit"]),
        b"x\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&*file.to_string_lossy()),
        "{}",
        stderr(&o)
    );
    // By default the input is still taken (the bot must not break), dropped and said: exit 1.
    let o = run_with_stdin(&mut pipe_cmd(&out, &keys.recipient), b"x\n");
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains(&*file.to_string_lossy()), "{err}");
    assert!(err.contains("DROPPED"), "{err}");
    // A read-only directory (only meaningful when not root: root may write anyway).
    let uid = Command::new("id").arg("-u").output().unwrap().stdout;
    if String::from_utf8_lossy(&uid).trim() != "0" {
        use std::os::unix::fs::PermissionsExt;
        let ro = tmp.path().join("ro");
        fs::create_dir(&ro).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o500)).unwrap();
        let o = run_with_stdin(
            pipe_cmd(&ro, &keys.recipient).args(["--on-sink-error", "exit"]),
            b"x\n",
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("not writable"), "{}", stderr(&o));
        assert!(stderr(&o).contains(&*ro.to_string_lossy()));
    }
}

#[test]
fn sigterm_seals_everything_written_before_it() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let mut child = pipe_cmd(&out, &keys.recipient)
        .arg("--tee")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut tee = BufReader::new(child.stdout.take().unwrap());
    // pipe is up (its signal handlers too) once the first line comes back.
    stdin.write_all(b"ready\n").unwrap();
    read_tee_lines(&mut tee, 1);
    // Keep draining --tee so pipe never blocks on it.
    let drain = std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = tee.read_to_end(&mut sink);
    });
    // Much more than pipe reads at once: when write_all returns, the last of it is still in the OS pipe,
    // in the input thread and in its queue, behind the redaction of the rest.
    let burst = sample_log(60_000, 77);
    stdin.write_all(&burst).unwrap();
    signal(&child, "TERM");
    let status = child.wait().unwrap();
    drain.join().unwrap();
    assert!(status.success(), "{status}");
    let c = logveil_cat(&keys.identity, &[&out]);
    let mut all = b"ready\n".to_vec();
    all.extend_from_slice(&burst);
    assert!(
        c.stdout == redacted(&all),
        "sealed {} bytes, expected {}",
        c.stdout.len(),
        redacted(&all).len()
    );
    drop(stdin);
}

/// A bot writing to `pipe`'s stdin: lines of `numbered(prefix, ...)` in batches; remembers how many it
/// wrote and stops at the first failed write (EPIPE: the bot would die of it).
struct Bot {
    stdin: std::process::ChildStdin,
    written: u64,
    broken: Option<std::io::Error>,
}

impl Bot {
    /// Writes lines `from..to` of `prefix` (one `write_all` per 1000 lines).
    fn write(&mut self, prefix: &str, from: u64, to: u64) {
        let all = numbered(prefix, to);
        let lines: Vec<&[u8]> = all.split_inclusive(|&b| b == b'\n').collect();
        for chunk in lines[from as usize..].chunks(1000) {
            if self.broken.is_some() {
                return;
            }
            match self.stdin.write_all(&chunk.concat()) {
                Ok(()) => self.written += chunk.len() as u64,
                Err(e) => self.broken = Some(e),
            }
        }
    }
}

fn metric(path: &Path, name: &str) -> u64 {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0)
}

/// Issue 12 item 9: `bot | logveil pipe` on a full disk. pipe exited 2 at the first ENOSPC and the bot's
/// next write got EPIPE (a Node.js bot dies of it). Now pipe keeps draining stdin (the bot neither blocks
/// nor breaks), drops and counts lines while it cannot seal, retries, and seals again once space is back.
/// `--on-sink-error exit` keeps the old fail-closed behaviour.
#[test]
fn a_full_disk_never_blocks_or_breaks_the_bot_and_sealing_resumes_when_space_returns() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&tmp.path().join("disk"), "1m") else {
        return;
    };
    let out = disk.dir.join("seg");
    let metrics = tmp.path().join("m.prom");
    let mut child = pipe_cmd(&out, &keys.recipient)
        .args(["--max-segment-bytes", "512KiB", "--metrics-file"])
        .arg(&metrics)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr_pipe = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(stderr_pipe).read_to_string(&mut s);
        s
    });
    let mut bot = Bot {
        stdin: child.stdin.take().unwrap(),
        written: 0,
        broken: None,
    };
    // ~30 MB: the 1 MiB disk is full long before the end.
    let started = Instant::now();
    bot.write("A", 0, 200_000);
    assert!(
        bot.broken.is_none(),
        "the bot's write failed: {:?}",
        bot.broken
    );
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "the bot was blocked"
    );
    assert!(child.try_wait().unwrap().is_none(), "pipe exited");
    // Space comes back; pipe retries (every 5 s) by itself, with no input coming.
    disk.remount("size=64m");
    std::thread::sleep(Duration::from_secs(7));
    bot.write("B", 0, 20_000);
    assert!(bot.broken.is_none(), "{:?}", bot.broken);
    drop(bot.stdin);
    let status = child.wait().unwrap();
    let log = log.join().unwrap();
    assert_eq!(status.code(), Some(1), "lines were dropped: exit 1\n{log}");
    assert!(log.contains("No space left on device"), "{log}");
    assert!(log.contains("dropped"), "said loudly: {log}");
    let dropped = metric(&metrics, "logveil_dropped_lines_total");
    assert!(
        dropped > 0,
        "counted: {}",
        fs::read_to_string(&metrics).unwrap()
    );
    // Everything after the recovery is sealed, exactly once; nothing unredacted anywhere.
    let c = logveil_cat(&keys.identity, &[&out]);
    assert_eq!(count("B", 20_000, &c.stdout), exactly_once(20_000));
    let a = count("A", 200_000, &c.stdout);
    assert_eq!((a.dups, a.leaks), (0, false));
    assert!(a.lines + dropped <= 200_000, "{a:?}, {dropped} dropped");
    for f in fs::read_dir(&out).unwrap() {
        let bytes = fs::read(f.unwrap().path()).unwrap();
        assert!(!bytes.windows(11).any(|w| w == b"13812345678"));
    }

    // Fail closed on request: exit 2 at the first failure.
    let Some(small) = Tmpfs::mount(&tmp.path().join("small"), "1m") else {
        return;
    };
    let o = run_with_stdin(
        pipe_cmd(&small.dir.join("seg"), &keys.recipient).args(["--on-sink-error", "exit"]),
        &numbered("C", 100_000),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("No space left"), "{}", stderr(&o));
}

/// Issue 12 item 9: the output directory vanishes while pipe runs (removed by hand or by a cleanup job):
/// pipe goes on draining, makes the directory again and seals what comes after.
#[test]
fn a_vanished_output_directory_is_made_again_and_the_bot_never_breaks() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let mut child = pipe_cmd(&out, &keys.recipient)
        .args(["--max-segment-age", "1s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut bot = Bot {
        stdin: child.stdin.take().unwrap(),
        written: 0,
        broken: None,
    };
    bot.write("A", 0, 1000);
    assert!(wait_for(30, || out.is_dir() && !segments(&out).is_empty()));
    fs::remove_dir_all(&out).unwrap();
    for i in 0..20 {
        bot.write("A", 1000 + i * 100, 1100 + i * 100);
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(bot.broken.is_none(), "{:?}", bot.broken);
    assert!(child.try_wait().unwrap().is_none(), "pipe exited");
    assert!(wait_for(30, || out.is_dir()), "the directory is made again");
    bot.write("B", 0, 1000);
    drop(bot.stdin);
    let status = child.wait().unwrap();
    assert!(matches!(status.code(), Some(0 | 1)), "{status}");
    let c = logveil_cat(&keys.identity, &[&out]);
    assert_eq!(count("B", 1000, &c.stdout), exactly_once(1000));
}
