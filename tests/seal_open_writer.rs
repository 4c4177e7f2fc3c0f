//! `seal` of a file that another process still holds open for writing (issue 14 item 7): the lines that
//! process writes after `seal` read the file would be lost with it, so `seal` waits a while for it to be
//! closed (`--writer-wait`, default 10 s), then refuses it (exit 2, the file kept as it was, nothing sealed)
//! unless `--force`. The writers are real processes holding the file open: a shell's `exec 3>>FILE` (then
//! `sleep` with the descriptor inherited), or this test process itself; `seal` finds them in /proc. Without
//! `CAP_SYS_PTRACE` (another user; root in a container) it sees only what it may look at, and says when a
//! process that may write the file could not be looked at; without /proc it says it cannot tell. In both
//! cases it seals.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

const NOBODY: u32 = 65534;
/// Users and groups no other process of this machine has (no name needed: setpriv takes numbers), one per
/// test: each counts the processes of its stranger.
const STRANGER: u32 = 47_110;
const STRANGER_TOO: u32 = 47_111;

/// A process holding `file` open on its descriptor 3, opened by the shell redirection `redir` (`>>`
/// append, `<` read only, `<>` read and write), as `user` (a uid, its group the same number) or as this
/// user; `then` runs after it is open (default: wait, holding it).
struct Holder(Child);

impl Holder {
    fn start(file: &Path, redir: &str, user: Option<u32>, then: &str) -> Holder {
        let script = format!("exec 3{redir}\"$1\" || exit 9; echo open; {then}");
        let mut cmd = match user {
            Some(uid) => as_user(uid, "sh"),
            None => Command::new("sh"),
        };
        let mut child = cmd
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(file)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line,
            "open\n",
            "the holder could not open {}",
            file.display()
        );
        Holder(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `program` run as `uid` (and group `uid`, no supplementary groups).
fn as_user(uid: u32, program: &str) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        &format!("--reuid={uid}"),
        &format!("--regid={uid}"),
        "--clear-groups",
        program,
    ]);
    c
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().unwrap().stdout == b"0\n"
}

/// A temporary directory (0755) with a recipient (identity `key.txt`), an output directory `DIR/sealed`
/// and a rotated log `DIR/bot.log.1` holding `a line`, where DIR is `sub` of it.
struct Case {
    tmp: tempfile::TempDir,
    recipient: String,
    out: PathBuf,
    log: PathBuf,
}

impl Case {
    fn new(sub: &str) -> Case {
        let tmp = tempfile::tempdir().unwrap();
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let recipient = logveil_recipient(tmp.path());
        let dir = tmp.path().join(sub);
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let log = dir.join("bot.log.1");
        fs::write(&log, "a line\n").unwrap();
        Case {
            recipient,
            out: dir.join("sealed"),
            log,
            tmp,
        }
    }

    /// `CMD seal --recipient R --out DIR/sealed EXTRA... DIR/bot.log.1` (CMD: logveil, or what runs it).
    fn seal(&self, cmd: &mut Command, extra: &[&str]) -> Output {
        cmd.args(["seal", "--recipient", &self.recipient, "--out"])
            .arg(&self.out)
            .args(extra)
            .arg(&self.log)
            .output()
            .unwrap()
    }

    /// What `logveil cat` makes of the one segment in the output directory.
    fn unsealed(&self) -> String {
        let segs = segments(&self.out);
        assert_eq!(segs.len(), 1, "{segs:?}");
        let o = logveil_cat(&self.tmp.path().join("key.txt"), &[&segs[0]]);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    }
}

/// The writer, opened three ways: O_WRONLY|O_APPEND and O_RDWR by a shell, plain O_WRONLY by this test
/// process. Each is refused with a message naming the file and the writer, the file stays as it was and
/// nothing is written to the output directory; once the writer has closed it, the same file is sealed.
#[test]
fn a_file_another_process_writes_is_refused_and_kept_until_it_is_closed() {
    let input = "call 13812345678 now\n";
    let this_process = fs::read_to_string("/proc/self/comm").unwrap();
    for how in [">>", "<>", "O_WRONLY here"] {
        let c = Case::new("logs");
        fs::write(&c.log, input).unwrap();
        let mtime = fs::metadata(&c.log).unwrap().modified().unwrap();
        let (writer, pid, name): (Box<dyn std::any::Any>, u32, String) = if how.contains("here") {
            let f = fs::OpenOptions::new().write(true).open(&c.log).unwrap();
            (Box::new(f), std::process::id(), this_process.trim().into())
        } else {
            let h = Holder::start(&c.log, how, None, "exec sleep 300");
            let pid = h.pid();
            (Box::new(h), pid, "sleep".into())
        };
        let start = Instant::now();
        let o = c.seal(&mut Command::new(bin()), &["--writer-wait", "1s"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{how}: {err}");
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "{how}: it did not wait for the writer"
        );
        let refusal = format!(
            "seal: {}: still open for writing by PID {pid} ({name}) after waiting 1s: not sealed",
            c.log.display()
        );
        assert!(
            err.contains(&refusal) && err.contains("--force") && err.contains("the file is kept"),
            "{how}: expected {refusal:?} in {err}"
        );
        assert!(!err.contains("13812345678"), "{err}");
        assert_eq!(fs::read_to_string(&c.log).unwrap(), input, "{how}");
        assert_eq!(
            fs::metadata(&c.log).unwrap().modified().unwrap(),
            mtime,
            "{how}"
        );
        assert!(
            fs::read_dir(&c.out).map_or(true, |mut d| d.next().is_none()),
            "{how}: something was written to the output directory"
        );

        // The writer closes the file: now it is sealed, at once.
        drop(writer);
        let o = c.seal(&mut Command::new(bin()), &["--writer-wait", "0s"]);
        assert!(o.status.success(), "{how}: {}", stderr(&o));
        assert!(!c.log.exists(), "{how}");
        let text = c.unsealed();
        assert!(
            text.starts_with("call ") && !text.contains("13812345678"),
            "{how}: {text}"
        );
    }
}

#[test]
fn a_file_open_only_for_reading_is_sealed() {
    let c = Case::new("logs");
    let _reader = Holder::start(&c.log, "<", None, "exec sleep 300");
    let _here = fs::File::open(&c.log).unwrap();
    let o = c.seal(&mut Command::new(bin()), &["--writer-wait", "0s"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("open for writing by"), "{err}");
    assert!(!c.log.exists());
    assert_eq!(c.unsealed(), "a line\n", "{err}");
}

#[test]
fn force_seals_a_file_still_being_written() {
    let c = Case::new("logs");
    let _writer = Holder::start(&c.log, ">>", None, "exec sleep 300");
    let start = Instant::now();
    let o = c.seal(&mut Command::new(bin()), &["--force"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "--force waited for the writer: {err}"
    );
    assert!(!err.contains("open for writing by"), "{err}");
    assert!(!c.log.exists());
    assert_eq!(c.unsealed(), "a line\n");
}

/// A writer that closes the file while seal waits (a bot reopening its log after logrotate's `create`):
/// seal says what it waits for, then seals. The writer closes it only once seal has said so.
#[test]
fn seal_waits_for_the_writer_to_close_the_file() {
    let c = Case::new("logs");
    let go = c.tmp.path().join("close-now");
    let writer = Holder::start(
        &c.log,
        ">>",
        None,
        &format!(
            "while [ ! -e '{}' ]; do sleep 0.05 3>&-; done; exec 3>&-; exec sleep 300",
            go.display()
        ),
    );
    let mut child = Command::new(bin())
        .args(["seal", "--writer-wait", "120s", "--recipient", &c.recipient])
        .arg("--out")
        .arg(&c.out)
        .arg(&c.log)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    while err.read_line(&mut said).unwrap() > 0 && !said.contains("waiting up to") {}
    // (A `sleep` of the loop may be caught holding it too, before it closes its copy.)
    assert!(
        said.contains("the file is open for writing by PID")
            && said.contains(&format!("PID {} (sh)", writer.pid()))
            && said.contains("waiting up to 2m for it to be closed"),
        "it did not say what it waits for: {said}"
    );
    assert!(c.log.exists(), "sealed while it was written");
    fs::write(&go, "").unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{said}{rest}");
    assert!(rest.contains("closed by its writer"), "{rest}");
    assert!(!c.log.exists());
    assert_eq!(c.unsealed(), "a line\n");
}

/// As a user other than root, seal sees that user's processes: a writer among them is refused. A process of
/// another user that may write the file (it owns it) cannot be looked at: seal says so, and seals (the
/// blind spot --help names).
#[test]
fn as_another_user_seal_sees_its_own_writers_and_says_what_it_cannot_see() {
    if !is_root() || !have("setpriv") {
        eprintln!("note: needs root and setpriv (to run as other users); skipped");
        return;
    }
    let c = Case::new("work");
    std::os::unix::fs::chown(c.log.parent().unwrap(), Some(NOBODY), Some(NOBODY)).unwrap();

    // Its own writer.
    std::os::unix::fs::chown(&c.log, Some(NOBODY), Some(NOBODY)).unwrap();
    {
        let writer = Holder::start(&c.log, ">>", Some(NOBODY), "exec sleep 300");
        let o = c.seal(&mut as_user(NOBODY, bin()), &["--writer-wait", "500ms"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("still open for writing by PID {}", writer.pid())),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&c.log).unwrap(), "a line\n");
    }

    // Another user's writer, of a file that user owns (others may read it: nobody can seal it).
    std::os::unix::fs::chown(&c.log, Some(STRANGER), Some(STRANGER)).unwrap();
    fs::set_permissions(&c.log, fs::Permissions::from_mode(0o644)).unwrap();
    let _other = Holder::start(&c.log, ">>", Some(STRANGER), "exec sleep 300");
    let o = c.seal(&mut as_user(NOBODY, bin()), &["--writer-wait", "500ms"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(
            "cannot tell whether the file is still open for writing: the open files of 1 process that \
             may write it cannot be looked at (other users' processes"
        ) && err.contains("this run is not root"),
        "{err}"
    );
    assert!(!c.log.exists());
}

/// Root without CAP_SYS_PTRACE (a container, a unit's CapabilityBoundingSet=) cannot look at other users'
/// processes: a process of another user that owns the file is one seal could not look at, and it says so,
/// naming the missing capability, rather than taking "none found" for "no writer".
#[test]
fn root_without_cap_sys_ptrace_says_what_it_cannot_see() {
    if !is_root() || !have("setpriv") {
        eprintln!("note: needs root and setpriv; skipped");
        return;
    }
    let c = Case::new("logs");
    std::os::unix::fs::chown(&c.log, Some(STRANGER_TOO), Some(STRANGER_TOO)).unwrap();
    let writer = Holder::start(&c.log, ">>", Some(STRANGER_TOO), "exec sleep 300");

    // With the capability the writer is seen.
    let o = c.seal(&mut Command::new(bin()), &["--writer-wait", "0s"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("still open for writing by PID {}", writer.pid())),
        "{err}"
    );

    let mut cmd = Command::new("setpriv");
    cmd.args(["--bounding-set", "-sys_ptrace", "--inh-caps", "-sys_ptrace"])
        .arg(bin());
    let o = c.seal(&mut cmd, &["--writer-wait", "0s"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(
            "cannot tell whether the file is still open for writing: the open files of 1 process that \
             may write it cannot be looked at (other users' processes, and this root run lacks \
             CAP_SYS_PTRACE"
        ),
        "{err}"
    );
    assert!(!c.log.exists());
}

/// Without /proc (here: an empty file system mounted over it, in a mount namespace of its own), seal cannot
/// tell whether the file is still written: it says so, and seals.
#[test]
fn without_proc_seal_says_it_cannot_tell_and_seals() {
    if !is_root() || !have("unshare") {
        eprintln!("note: needs root and unshare; skipped");
        return;
    }
    let c = Case::new("logs");
    let mut cmd = Command::new("unshare");
    cmd.args([
        "-m",
        "sh",
        "-c",
        "mount -t tmpfs none /proc && exec \"$0\" \"$@\"",
    ])
    .arg(bin());
    let o = c.seal(&mut cmd, &[]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(
            "cannot tell whether the file is still open for writing: /proc is not readable (no proc \
             file system)"
        ),
        "{err}"
    );
    assert!(!c.log.exists());
}
