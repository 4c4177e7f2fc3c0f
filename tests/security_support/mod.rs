//! Helpers for the attack tests (`tests/security_*.rs`): the real binary run as root and as a second user
//! (`nobody`, through `setpriv`), planting files as that user, waiting for a background logveil.
//!
//! The attacks need root (logveil run as root is what they turn; chown to a second user). Elsewhere they
//! are skipped with a note; when `CI` is set, a missing `setpriv` fails them.
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const NOBODY: u32 = 65534;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_logveil")
}

pub fn is_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

fn euid() -> u32 {
    let o = Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .expect("a uid")
}

/// Whether the attack can be run: as root, with `setpriv` (util-linux).
pub fn can_attack() -> bool {
    if euid() != 0 {
        eprintln!("note: not root; the attack tests need root (skipped)");
        return false;
    }
    let ok = Command::new("setpriv")
        .arg("--help")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !is_ci(),
            "`setpriv` (util-linux) is required when CI is set"
        );
        eprintln!("note: `setpriv` missing; skipped");
    }
    ok
}

/// A command run as `nobody` (no groups).
pub fn as_nobody(program: &str) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        &format!("--reuid={NOBODY}"),
        &format!("--regid={NOBODY}"),
        "--clear-groups",
        program,
    ]);
    c
}

/// A temporary directory others may enter (0755), so that `nobody` can reach what is planted in it.
pub fn open_tempdir() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o755)).unwrap();
    t
}

/// A directory owned by `nobody` (0700): the service user's directory that root logveil writes into.
pub fn nobody_dir(path: &Path) -> PathBuf {
    fs::create_dir_all(path).unwrap();
    std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o700)).unwrap();
    path.to_path_buf()
}

/// `nobody` plants a symlink `link` -> `target`.
pub fn plant_symlink(target: &Path, link: &Path) {
    let o = as_nobody("ln")
        .arg("-s")
        .arg(target)
        .arg(link)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "nobody could not plant {}: {}",
        link.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A root-owned victim file with known content and mode 0644.
pub fn victim(path: &Path, content: &str) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
    path.to_path_buf()
}

pub fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// A new identity (with logveil's own keygen) in `dir`: (identity file, recipient).
pub fn keygen(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("key.txt");
    let o = Command::new(bin())
        .args(["-q", "keygen", "-o"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success(), "keygen: {}", text(&o.stderr));
    (key, text(&o.stdout).trim().to_string())
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Waits until `cond` holds, up to `secs` seconds (generous: the machine is shared).
pub fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

/// Waits for a child to exit (SIGKILL after `secs`); returns its exit code (None: killed by a signal).
pub fn wait_exit(child: &mut Child, secs: u64) -> Option<i32> {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if Instant::now() > end {
            let _ = child.kill();
            let st = child.wait().unwrap();
            panic!("logveil did not exit within {secs}s ({st})");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A logveil run in the background with its stderr in a file (read while it runs).
pub struct Background {
    pub child: Child,
    pub stderr: PathBuf,
}

impl Background {
    pub fn start(cmd: &mut Command, stderr: &Path) -> Background {
        let child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(fs::File::create(stderr).unwrap())
            .spawn()
            .unwrap();
        Background {
            child,
            stderr: stderr.to_path_buf(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until its stderr contains `s`.
    pub fn wait_log(&self, s: &str, secs: u64) -> bool {
        wait_for(secs, || self.log().contains(s))
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        let stdin = self.child.stdin.as_mut().expect("stdin is piped");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    /// SIGTERM, then the exit code.
    pub fn stop(&mut self) -> Option<i32> {
        signal(self.pid(), "TERM");
        wait_exit(&mut self.child, 120)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `logveil cat -i KEY DIR` (must succeed): the decrypted text.
pub fn cat(key: &Path, dir: &Path) -> String {
    let o: Output = Command::new(bin())
        .args(["-q", "cat", "-i"])
        .arg(key)
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "cat: {}", text(&o.stderr));
    text(&o.stdout)
}

/// The names in a directory, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The checkpoint files of a tail state directory, with their inodes.
pub fn checkpoints(state: &Path) -> Vec<(String, u64)> {
    use std::os::unix::fs::MetadataExt;
    names(state)
        .into_iter()
        .filter(|n| n.ends_with(".ckpt"))
        .filter_map(|n| fs::metadata(state.join(&n)).ok().map(|m| (n, m.ino())))
        .collect()
}

/// Waits until a tail has written (replaced) a checkpoint since `before` was taken: it has then set up its
/// sources, after its signal handlers, so SIGHUP and SIGTERM are handled (not fatal).
pub fn wait_tail_ready(tail: &Background, state: &Path, before: &[(String, u64)]) {
    assert!(
        wait_for(120, || checkpoints(state)
            .iter()
            .any(|c| !before.contains(c))),
        "tail did not set up its sources: {}",
        tail.log()
    );
}

/// `nobody` runs `sh -c script sh args...`, which must succeed.
pub fn nobody_sh(script: &str, args: &[&Path]) {
    let o = as_nobody("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "nobody: {script}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A directory owned by `nobody` that others may enter (0755): the bot's log directory, a parent the
/// service user controls.
pub fn nobody_shared_dir(path: &Path) -> PathBuf {
    let d = nobody_dir(path);
    fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// `nobody` renames `dir` to `moved` and puts a symlink to `target` in its place.
pub fn swap_for_link(dir: &Path, moved: &Path, target: &Path) {
    nobody_sh(
        "mv \"$1\" \"$2\" && ln -s \"$3\" \"$1\"",
        &[dir, moved, target],
    );
}

/// `logveil tail --poll --poll-interval 100ms --out OUT -r RECIPIENT --state STATE` (add the paths).
pub fn tail_command(out: &Path, recipient: &str, state: &Path) -> Command {
    let mut c = Command::new(bin());
    c.args(["tail", "--poll", "--poll-interval", "100ms", "--out"])
        .arg(out)
        .args(["-r", recipient, "--state"])
        .arg(state);
    c
}
