//! Attacks on the files logveil writes, planted for real (issue 13 items 1, 2 and 7; review faults F7, F8,
//! F9, F13, F15 and the `.partial` symlink of section 2b).
//!
//! logveil runs as root in the logrotate hook and in a manual `retention`, in directories the service user
//! (here `nobody`, through setpriv) can write. Each test lets that user plant a symlink (or swap a
//! directory) where root logveil is about to write, and checks that nothing outside is created, written or
//! chmodded, and that the error names the path. Needs root and setpriv (skipped otherwise).

mod security_support;

use std::fs;
use std::path::Path;
use std::process::Command;

use security_support::*;

fn seal(out: &Path, recipient: &str, file: &Path) -> std::process::Output {
    Command::new(bin())
        .args(["seal", "--out"])
        .arg(out)
        .args(["-r", recipient])
        .arg(file)
        .output()
        .unwrap()
}

fn rotated_log(dir: &Path) -> std::path::PathBuf {
    fs::create_dir_all(dir).unwrap();
    let log = dir.join("app.log.1");
    fs::write(&log, "user 13812345678 logged in\n").unwrap();
    log
}

/// F7: `DIR/.STREAM.lock` was opened with O_CREAT and no O_NOFOLLOW: root created any file the service
/// user named.
#[test]
fn root_seal_creates_nothing_through_a_symlink_planted_at_the_lock_file() {
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let (_key, r) = keygen(d);
    let out = nobody_dir(&d.join("out"));
    let target = d.join("victim/created_by_root");
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    let lock = out.join(".app.log.lock");
    plant_symlink(&target, &lock);
    let log = rotated_log(&d.join("in"));

    let o = seal(&out, &r, &log);
    let err = text(&o.stderr);
    assert!(
        !target.exists(),
        "root created {} through the planted lock symlink",
        target.display()
    );
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&*lock.to_string_lossy()) && err.contains("symbolic link"),
        "the error names the lock file and says why: {err}"
    );
    assert!(
        log.exists(),
        "the plaintext is kept when nothing was sealed"
    );
    assert!(fs::symlink_metadata(&lock).unwrap().is_symlink());
}

/// Review 2b: a symlink with a `.partial` name was taken for a crash's partial and renamed to a
/// "truncated segment" (a symlink that `cat` then follows on the operator's machine).
#[test]
fn a_symlink_planted_as_a_partial_is_left_alone_and_named() {
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let (_key, r) = keygen(d);
    let out = nobody_dir(&d.join("out"));
    let target = victim(&d.join("victim/shadow"), "root secrets\n");
    let partial = out.join("app.log.20260101T000000Z.000001.partial");
    plant_symlink(&target, &partial);
    let log = rotated_log(&d.join("in"));

    let o = seal(&out, &r, &log);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&*partial.to_string_lossy()),
        "the error names the planted partial: {err}"
    );
    assert!(
        fs::symlink_metadata(&partial).unwrap().is_symlink(),
        "the planted link is neither renamed nor removed: {:?}",
        names(&out)
    );
    assert!(
        !names(&out).iter().any(|n| n.contains("truncated")),
        "{:?}",
        names(&out)
    );
    assert_eq!(fs::read_to_string(&target).unwrap(), "root secrets\n");
    assert_eq!(mode(&target), 0o644);
}

/// F8: the privacy log was opened with O_APPEND|O_CREAT (following symlinks) and then chmodded 0600: root
/// retention appended to and chmodded any file (e.g. /etc/passwd).
#[test]
fn root_retention_neither_appends_to_nor_chmods_a_symlinked_privacy_log() {
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let seg = nobody_dir(&d.join("seg"));
    let passwd = victim(&d.join("victim/passwd"), "root:x:0:0::/root:/bin/sh\n");
    // An expired-looking segment (the service user can write the directory) and the link.
    let expired = seg.join("app.20200101T000000Z_20200101T010000Z.000001.log.gz.age");
    nobody_sh("echo x > \"$1\"", &[&expired]);
    let plog = seg.join("privacy-log.jsonl");
    plant_symlink(&passwd, &plog);

    let o = Command::new(bin())
        .args(["retention", "--dir"])
        .arg(&seg)
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(
        fs::read_to_string(&passwd).unwrap(),
        "root:x:0:0::/root:/bin/sh\n",
        "root appended to the symlink's target"
    );
    assert_eq!(mode(&passwd), 0o644, "root chmodded the symlink's target");
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("privacy-log.jsonl") && err.contains("symbolic link"),
        "{err}"
    );
    assert!(
        expired.exists(),
        "nothing is deleted when the privacy log cannot be opened"
    );
}

/// The checkpoint file of the only source in `state`.
fn checkpoint_name(state: &Path) -> Option<String> {
    names(state).into_iter().find(|n| n.ends_with(".ckpt"))
}

/// F9: the checkpoint's temporary `.X.ckpt.tmp` was opened with O_CREAT|O_TRUNC (following symlinks):
/// a root tail truncated, overwrote and chmodded any file. The temporaries are planted under every name
/// logveil may use next (the old fixed name, and `.X.ckpt.PID.N.tmp`).
#[test]
fn root_tail_writes_no_checkpoint_through_a_symlinked_temporary() {
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let (_key, r) = keygen(d);
    let state = nobody_dir(&d.join("state"));
    let logs = d.join("logs");
    fs::create_dir(&logs).unwrap();
    let log = logs.join("a.log");
    fs::write(&log, "first line\n").unwrap();
    let important = victim(&d.join("victim/important"), "precious\n");
    let mut tail = Background::start(
        tail_command(&d.join("out"), &r, &state).arg(&log),
        &d.join("tail.stderr"),
    );
    assert!(
        wait_for(120, || checkpoint_name(&state).is_some()),
        "no first checkpoint: {}",
        tail.log()
    );
    let ck = checkpoint_name(&state).unwrap();
    let pid = tail.pid();
    let mut script = format!("ln -s \"$1\" \"$2/.{ck}.tmp\"\n");
    script.push_str(&format!(
        "n=0; while [ $n -lt 300 ]; do ln -s \"$1\" \"$2/.{ck}.{pid}.$n.tmp\"; n=$((n+1)); done\n"
    ));
    nobody_sh(&script, &[&important, &state]);
    // More data, and SIGHUP: the open segment is sealed and the checkpoint saved.
    fs::write(&log, "first line\nsecond line\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    signal(pid, "HUP");
    let changed = || fs::read_to_string(&important).unwrap_or_default() != "precious\n";
    let exited = wait_for(120, || {
        changed() || tail.child.try_wait().unwrap().is_some()
    });
    let code = if exited && !changed() {
        tail.child.wait().unwrap().code()
    } else {
        tail.stop()
    };
    let err = tail.log();
    assert_eq!(
        fs::read_to_string(&important).unwrap(),
        "precious\n",
        "root wrote a checkpoint through the planted symlink"
    );
    assert_eq!(
        mode(&important),
        0o644,
        "root chmodded the symlink's target"
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(".tmp") && err.contains("symbolic link"),
        "the error names the temporary: {err}"
    );
}

/// The state directory's own files besides checkpoints (issue 12: its lock and its fingerprint key): a
/// symlink planted at either name makes a root tail stop at start, naming it; nothing is created, written
/// or chmodded through it.
#[test]
fn root_tail_opens_no_state_file_through_a_symlink() {
    if !can_attack() {
        return;
    }
    for name in [".tail.lock", "fingerprint.key"] {
        let t = open_tempdir();
        let d = t.path();
        let (_key, r) = keygen(d);
        let state = nobody_dir(&d.join("state"));
        let log = d.join("a.log");
        fs::write(&log, "first line\n").unwrap();
        let important = victim(&d.join("victim/important"), "precious\n");
        let link = state.join(name);
        plant_symlink(&important, &link);
        let mut tail = Background::start(
            tail_command(&d.join("out"), &r, &state).arg(&log),
            &d.join("tail.stderr"),
        );
        let exited = wait_for(120, || tail.child.try_wait().unwrap().is_some());
        let code = if exited {
            tail.child.wait().unwrap().code()
        } else {
            tail.stop()
        };
        let err = tail.log();
        assert!(exited, "{name}: the tail went on: {err}");
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(
            err.contains(&*link.to_string_lossy()) && err.contains("symbolic link"),
            "{name}: the error names it: {err}"
        );
        assert_eq!(fs::read_to_string(&important).unwrap(), "precious\n");
        assert_eq!(mode(&important), 0o644, "{name}: root chmodded the target");
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    }
}

/// `seal`'s journal (issue 12): a symlink planted at its name is replaced, never written through, by a
/// root `seal`, which seals the file as usual.
#[test]
fn root_seal_writes_no_journal_through_a_symlink() {
    use std::os::unix::fs::MetadataExt;
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let (key, r) = keygen(d);
    let out = nobody_dir(&d.join("out"));
    let log = rotated_log(&d.join("in"));
    let md = fs::metadata(&log).unwrap();
    let important = victim(&d.join("victim/important"), "precious\n");
    let journal = out.join(format!(".app.log.seal-{}-{}", md.dev(), md.ino()));
    plant_symlink(&important, &journal);

    let o = seal(&out, &r, &log);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(fs::read_to_string(&important).unwrap(), "precious\n");
    assert_eq!(mode(&important), 0o644, "root chmodded the target");
    assert!(!log.exists(), "sealed and removed");
    assert!(
        fs::symlink_metadata(&journal).is_err(),
        "the journal is gone once the file is sealed"
    );
    assert!(cat(&key, &out).contains("user [REDACTED:phone] logged in"));
}

/// The metrics file's temporary was opened with O_CREAT|O_TRUNC (following symlinks).
#[test]
fn root_pipe_writes_no_metrics_through_a_symlinked_temporary() {
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let (_key, r) = keygen(d);
    let mdir = nobody_dir(&d.join("metrics"));
    let metrics = mdir.join("logveil.prom");
    let target = victim(&d.join("victim/shadow"), "root secrets\n");
    let mut pipe = Background::start(
        Command::new(bin())
            .args(["pipe", "--out"])
            .arg(d.join("out"))
            .args(["-r", &r, "--metrics-file"])
            .arg(&metrics),
        &d.join("pipe.stderr"),
    );
    pipe.feed(b"first line\n");
    assert!(
        wait_for(120, || metrics.exists()),
        "no first metrics file: {}",
        pipe.log()
    );
    let pid = pipe.pid();
    let script = format!(
        "n=0; while [ $n -lt 300 ]; do ln -s \"$1\" \"$2/.logveil.prom.{pid}.$n.tmp\"; n=$((n+1)); done"
    );
    nobody_sh(&script, &[&target, &mdir]);
    pipe.feed(b"second line\n");
    pipe.close_stdin();
    let code = wait_exit(&mut pipe.child, 120);
    let err = pipe.log();
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        "root secrets\n",
        "root wrote metrics through the planted symlink"
    );
    assert_eq!(mode(&target), 0o644);
    assert_eq!(code, Some(0), "metrics never stop the data path: {err}");
    assert!(
        err.contains("metrics") && err.contains("symbolic link"),
        "a warning names the temporary: {err}"
    );
}

/// keygen's output: a symlink at `-o` (dangling, or to an existing file) is neither followed nor
/// replaced.
#[test]
fn keygen_writes_no_identity_through_a_symlink() {
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let dir = nobody_dir(&d.join("keys"));
    let existing = victim(&d.join("victim/existing"), "keep\n");
    let missing = d.join("victim/new_file");
    for (link, target) in [("to-existing", &existing), ("dangling", &missing)] {
        let link = dir.join(link);
        plant_symlink(target, &link);
        let o = Command::new(bin())
            .args(["keygen", "-o"])
            .arg(&link)
            .output()
            .unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(&*link.to_string_lossy()), "{err}");
        assert!(o.stdout.is_empty(), "no recipient printed for no identity");
        assert!(fs::symlink_metadata(&link).unwrap().is_symlink());
    }
    assert_eq!(fs::read_to_string(&existing).unwrap(), "keep\n");
    assert_eq!(mode(&existing), 0o644);
    assert!(
        !missing.exists(),
        "keygen created the dangling link's target"
    );
}

/// A directory swapped in the path while logveil runs (the segment directory renamed and replaced by a
/// symlink) redirects nothing: segments keep going to the directory opened at start.
#[test]
fn a_swapped_segment_directory_does_not_redirect_segments() {
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let (key, r) = keygen(d);
    let base = nobody_shared_dir(&d.join("base"));
    let seg = base.join("seg");
    let elsewhere = d.join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let mut pipe = Background::start(
        Command::new(bin())
            .args(["pipe", "--out"])
            .arg(&seg)
            .args(["-r", &r]),
        &d.join("pipe.stderr"),
    );
    pipe.feed(b"line one\n");
    std::thread::sleep(std::time::Duration::from_millis(300));
    signal(pipe.pid(), "HUP");
    assert!(
        wait_for(120, || names(&seg)
            .iter()
            .any(|n| n.ends_with(".log.gz.age"))),
        "first segment not sealed: {}",
        pipe.log()
    );
    let moved = base.join("seg.moved");
    swap_for_link(&seg, &moved, &elsewhere);
    pipe.feed(b"line two\n");
    pipe.close_stdin();
    let code = wait_exit(&mut pipe.child, 120);
    assert_eq!(code, Some(0), "{}", pipe.log());
    assert!(
        names(&elsewhere).is_empty(),
        "files were created through the swapped path: {:?}",
        names(&elsewhere)
    );
    let sealed: Vec<String> = names(&moved)
        .into_iter()
        .filter(|n| n.ends_with(".log.gz.age"))
        .collect();
    assert_eq!(sealed.len(), 2, "{:?}", names(&moved));
    assert_eq!(cat(&key, &moved), "line one\nline two\n");
}

/// The same for the state directory of `tail`: checkpoints keep going to the directory opened at start.
#[test]
fn a_swapped_state_directory_does_not_redirect_checkpoints() {
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let (_key, r) = keygen(d);
    let base = nobody_shared_dir(&d.join("base"));
    let state = base.join("state");
    let elsewhere = d.join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let logs = d.join("logs");
    fs::create_dir(&logs).unwrap();
    let log = logs.join("a.log");
    fs::write(&log, "first line\n").unwrap();
    let mut tail = Background::start(
        tail_command(&d.join("out"), &r, &state).arg(&log),
        &d.join("tail.stderr"),
    );
    assert!(
        wait_for(120, || checkpoint_name(&state).is_some()),
        "{}",
        tail.log()
    );
    let moved = base.join("state.moved");
    swap_for_link(&state, &moved, &elsewhere);
    fs::write(&log, "first line\nsecond line\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(tail.stop(), Some(0), "{}", tail.log());
    assert!(
        names(&elsewhere).is_empty(),
        "checkpoint files went through the swapped path: {:?}",
        names(&elsewhere)
    );
    let ck = fs::read_to_string(moved.join(checkpoint_name(&moved).unwrap())).unwrap();
    assert!(
        ck.contains(&format!("offset={}", "first line\nsecond line\n".len())),
        "the final checkpoint is in the directory opened at start: {ck}"
    );
}

/// F15: under `umask 0277` the lock file was created 0400 and every later run failed ("output directory
/// is not writable"); a privacy log's new directories were created 0500. Two runs of each command as the
/// service user, with that umask: both work and every mode is what logveil means.
#[test]
fn a_restrictive_umask_locks_no_later_run_out() {
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let (_key, r) = keygen(d);
    let um = nobody_shared_dir(&d.join("um"));
    let logs = um.join("logs");
    nobody_sh("mkdir \"$1\" && echo hello > \"$1/a.log\"", &[&logs]);
    let config = d.join("c.yaml");
    fs::write(
        &config,
        format!(
            "logveil:\n  retention:\n    privacy_log: {}/plog/deeper/privacy-log.jsonl\n",
            um.display()
        ),
    )
    .unwrap();
    let seg = um.join("seg/sub");
    let run = |args: &str| {
        as_nobody("sh")
            .arg("-c")
            .arg(format!("umask 0277; echo hi | exec \"$0\" -q {args}"))
            .arg(bin())
            .output()
            .unwrap()
    };
    for i in 1..=2 {
        let o = run(&format!("pipe --out {} -r {r}", seg.display()));
        assert!(o.status.success(), "pipe run {i}: {}", text(&o.stderr));
        // An expired segment for retention to delete (recorded in the privacy log).
        let expired = seg.join(format!(
            "x.2020010{i}T000000Z_2020010{i}T010000Z.000001.log.gz.age"
        ));
        nobody_sh("umask 0277; echo x > \"$1\"", &[&expired]);
        let o = run(&format!(
            "retention --config {} --dir {}",
            config.display(),
            seg.display()
        ));
        assert!(o.status.success(), "retention run {i}: {}", text(&o.stderr));
        assert!(!expired.exists(), "retention run {i} deleted nothing");
        let before = checkpoints(&um.join("state/deeper"));
        let tail = Background::start(
            as_nobody("sh")
                .arg("-c")
                .arg(format!(
                    "umask 0277; exec \"$0\" tail --poll --out {} -r {r} --state {}/state/deeper {}/a.log",
                    um.join("tailseg").display(),
                    um.display(),
                    logs.display()
                ))
                .arg(bin()),
            &d.join("tail.stderr"),
        );
        wait_tail_ready(&tail, &um.join("state/deeper"), &before);
        let mut tail = tail;
        assert_eq!(tail.stop(), Some(0), "tail run {i}: {}", tail.log());
        let o = run(&format!("keygen -o {}/key{i}.txt", um.display()));
        assert!(o.status.success(), "keygen {i}: {}", text(&o.stderr));
    }
    for dir in [
        um.join("seg"),
        seg.clone(),
        um.join("plog"),
        um.join("plog/deeper"),
        um.join("state"),
        um.join("state/deeper"),
        um.join("tailseg"),
    ] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
    let ck = um
        .join("state/deeper")
        .join(checkpoint_name(&um.join("state/deeper")).unwrap());
    for file in [
        seg.join(".stdin.lock"),
        um.join("plog/deeper/privacy-log.jsonl"),
        ck,
        um.join("key1.txt"),
        um.join("key2.txt"),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    for n in names(&seg).iter().filter(|n| n.ends_with(".log.gz.age")) {
        assert_eq!(mode(&seg.join(n)), 0o600, "{n}");
    }
}

/// The metrics file's `logveil_errors_total{stage="tail"}`.
fn tail_errors(metrics: &Path) -> u64 {
    fs::read_to_string(metrics)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("logveil_errors_total{stage=\"tail\"} "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Issue 13 item 2 (review section 6): a followed log replaced by a symlink to a file out of its directory
/// (here a root-only file) was followed and its content sealed. A link to a file in the same directory is
/// still followed; `logveil.tail.follow_symlinks: true` follows any.
#[test]
fn a_source_that_becomes_a_symlink_out_of_its_directory_is_not_followed() {
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let (key, r) = keygen(d);
    let logs = nobody_shared_dir(&d.join("logs"));
    let secret = d.join("secret/shadow");
    fs::create_dir_all(secret.parent().unwrap()).unwrap();
    fs::write(&secret, "SECRET-OUTSIDE root:$6$hash\n").unwrap();
    nobody_sh(
        "cd \"$1\" && echo 'app first line' > app.log && echo 'same-dir line' > real-2026.log \
         && ln -s real-2026.log current.log && ln -s \"$2\" linked.log",
        &[&logs, &secret],
    );
    let metrics = d.join("m.prom");
    let tail_cmd = |out: &Path, state: &Path, config: Option<&Path>| {
        let mut c = tail_command(out, &r, state);
        c.arg("--metrics-file").arg(&metrics);
        if let Some(cfg) = config {
            c.arg("--config").arg(cfg);
        }
        c.arg(logs.join("app.log"))
            .arg(logs.join("current.log"))
            .arg(logs.join("linked.log"));
        c
    };
    let out = d.join("out");
    let mut tail = Background::start(
        &mut tail_cmd(&out, &d.join("state"), None),
        &d.join("tail.stderr"),
    );
    wait_tail_ready(&tail, &d.join("state"), &[]);
    assert!(
        tail.wait_log("linked.log", 120),
        "the link present at start is reported: {}",
        tail.log()
    );
    // The bot's user replaces its log by a link to a file it cannot read itself.
    nobody_sh(
        "cd \"$1\" && rm app.log && ln -s \"$2\" app.log",
        &[&logs, &secret],
    );
    assert!(
        wait_for(120, || tail
            .log()
            .matches("symbolic link out of its directory")
            .count()
            >= 2),
        "the replaced source is reported: {}",
        tail.log()
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(tail.stop(), Some(0), "{}", tail.log());
    let err = tail.log();
    let sealed = cat(&key, &out);
    assert!(
        !sealed.contains("SECRET-OUTSIDE"),
        "a file out of the directory was sealed: {sealed}"
    );
    assert!(sealed.contains("app first line"), "{sealed}");
    assert!(
        sealed.contains("same-dir line"),
        "a link within the directory is followed: {sealed}"
    );
    for name in ["app.log", "linked.log"] {
        assert!(
            err.lines().any(|l| l.contains("ERROR")
                && l.contains(name)
                && l.contains("symbolic link out of its directory")),
            "an error names {name}: {err}"
        );
    }
    assert!(
        tail_errors(&metrics) >= 2,
        "{}",
        fs::read_to_string(&metrics).unwrap()
    );

    // With follow_symlinks the operator allows it.
    let cfg = d.join("follow.yaml");
    fs::write(&cfg, "logveil:\n  tail:\n    follow_symlinks: true\n").unwrap();
    let out2 = d.join("out2");
    let mut tail = Background::start(
        &mut tail_cmd(&out2, &d.join("state2"), Some(&cfg)),
        &d.join("tail2.stderr"),
    );
    wait_tail_ready(&tail, &d.join("state2"), &[]);
    assert!(
        wait_for(120, || tail.log().matches("following").count() >= 3),
        "{}",
        tail.log()
    );
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert_eq!(tail.stop(), Some(0), "{}", tail.log());
    assert!(cat(&key, &out2).contains("SECRET-OUTSIDE"));
}

/// F13: an unreadable source was "following" with no error and no metric.
#[test]
fn an_unreadable_source_is_an_error_naming_it_and_counted() {
    if !can_attack() {
        return;
    }
    let t = open_tempdir();
    let d = t.path();
    let (key, r) = keygen(d);
    let work = nobody_dir(&d.join("work"));
    let logs = d.join("logs");
    fs::create_dir(&logs).unwrap();
    let noperm = logs.join("noperm.log");
    fs::write(&noperm, "hidden line\n").unwrap(); // root 0644 ...
    fs::set_permissions(&noperm, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let ok = logs.join("ok.log");
    fs::write(&ok, "visible line\n").unwrap();
    let metrics = work.join("m.prom");
    let mut tail = Background::start(
        as_nobody(bin())
            .args(["tail", "--poll", "--poll-interval", "100ms", "--out"])
            .arg(work.join("out"))
            .args(["-r", &r, "--state"])
            .arg(work.join("state"))
            .arg("--metrics-file")
            .arg(&metrics)
            .arg(&noperm)
            .arg(&ok),
        &d.join("tail.stderr"),
    );
    wait_tail_ready(&tail, &work.join("state"), &[]);
    assert!(
        tail.wait_log("Permission denied", 120),
        "no error for the unreadable source: {}",
        tail.log()
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(tail.stop(), Some(0), "{}", tail.log());
    let err = tail.log();
    assert!(
        err.lines().any(|l| l.contains("ERROR")
            && l.contains("noperm.log")
            && l.contains("Permission denied")),
        "{err}"
    );
    assert_eq!(
        err.matches("noperm.log: Permission denied").count(),
        1,
        "reported once, not at every poll: {err}"
    );
    assert_eq!(
        tail_errors(&metrics),
        1,
        "{}",
        fs::read_to_string(&metrics).unwrap()
    );
    // Keys are root's 0600: read them as root.
    assert_eq!(cat(&key, &work.join("out")), "visible line\n");
}
