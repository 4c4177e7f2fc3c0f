//! Which processes hold a file open for writing, found in /proc (Linux). For `seal`: a rotated log that its
//! writer still appends to (logrotate's `create` before the bot reopened its log, a slow bot) must not be
//! sealed and removed, or what the writer writes afterwards is lost with it.
//!
//! Every process's open descriptors are looked at through `/proc/PID/fdinfo/N`: its inode number and its
//! open flags (`O_WRONLY` or `O_RDWR` make a writer), read without touching the file system the file is on
//! (a hung NFS mount of another process cannot block the scan); only a descriptor with the same inode
//! number is then `stat`ed through `/proc/PID/fd/N` for its device. A descriptor opened with `O_PATH`, or
//! read-only, is no writer. (Kernels before 5.14 show no inode number in fdinfo: then every descriptor is
//! `stat`ed.)
//!
//! What a scan can see, and what it says it could not:
//! - With `CAP_SYS_PTRACE` (root, as logrotate runs its hooks): every process of this PID namespace.
//! - Without it (another user; root in a container or in a unit whose `CapabilityBoundingSet=` drops it):
//!   the processes of its own user. Another process whose descriptors cannot be read is counted in
//!   [`WriterScan::unseen`] when it may write the file: its user owns the file, or one of its groups may
//!   write it, or everyone may ([`WriterScan::unseen_why`] says why it could not be read). A root process
//!   writing a file someone else owns is not counted (root may write anything; counting every root process
//!   would make the count meaningless): a run that must be sure runs as root, as logrotate's hook does.
//! - `/proc` not mounted, not a proc file system, or hiding other users' processes (`hidepid=2`,
//!   `hidepid=invisible`, as systemd's `ProtectProc=invisible` mounts it) without `CAP_SYS_PTRACE`:
//!   [`WriterScan::blind`] says why; processes found anyway are still reported.
//!
//! Not seen at all: a process of another PID namespace (outside this container) holding the file through
//! a shared mount; a shared writable memory mapping of the file whose descriptor was closed.

use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A process holding the file open for writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenWriter {
    pub pid: u32,
    /// Its command name (`/proc/PID/comm`), for messages.
    pub command: String,
}

impl std::fmt::Display for OpenWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PID {} ({})", self.pid, self.command)
    }
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct WriterScan {
    /// Processes holding the file open for writing (this process excluded).
    pub writers: Vec<OpenWriter>,
    /// Processes that may write the file but whose open files could not be looked at (another user's).
    pub unseen: usize,
    /// Why those could not be looked at (when `unseen` > 0).
    pub unseen_why: &'static str,
    /// Why some or all processes could not be looked at (no /proc, hidepid), when that is so.
    pub blind: Option<String>,
}

impl WriterScan {
    /// Whether every process that may write the file was looked at.
    pub fn complete(&self) -> bool {
        self.unseen == 0 && self.blind.is_none()
    }
}

/// The file a scan looks for: its device, inode, owner and mode.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    dev: u64,
    ino: u64,
    uid: u32,
    gid: u32,
    mode: u32,
}

impl Target {
    pub fn of(meta: &Metadata) -> Target {
        Target {
            dev: meta.dev(),
            ino: meta.ino(),
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode(),
        }
    }
}

/// Scans the processes under `/proc` for writers of `target`.
pub fn scan(target: &Target) -> WriterScan {
    let proc = Path::new("/proc");
    scan_in(proc, target, may_look_at_every_process(proc))
}

/// `CAP_SYS_PTRACE` is what lets a process read every other process's descriptors (being root is not
/// enough: a container or a unit may drop it).
fn may_look_at_every_process(proc: &Path) -> bool {
    const CAP_SYS_PTRACE: u32 = 19;
    fs::read_to_string(proc.join("self/status"))
        .ok()
        .and_then(|s| u64::from_str_radix(field(&s, "CapEff")?, 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_SYS_PTRACE) != 0)
}

/// `ptrace`: whether this process has `CAP_SYS_PTRACE` (see [`may_look_at_every_process`]).
fn scan_in(proc: &Path, target: &Target, ptrace: bool) -> WriterScan {
    let mut scan = WriterScan::default();
    // A proc file system shows this process as `self`; an empty directory or another file system does not.
    if fs::symlink_metadata(proc.join("self/fdinfo")).is_err() {
        scan.blind = Some(format!(
            "{} is not readable (no proc file system)",
            proc.display()
        ));
        return scan;
    }
    let entries = match fs::read_dir(proc) {
        Ok(e) => e,
        Err(e) => {
            scan.blind = Some(format!("cannot list {}: {e}", proc.display()));
            return scan;
        }
    };
    if !ptrace {
        if let Some(h) = hidepid(proc) {
            scan.blind = Some(format!(
                "{} hides other users' processes (hidepid={h}) and this run {}",
                proc.display(),
                if rustix::process::geteuid().is_root() {
                    "lacks CAP_SYS_PTRACE"
                } else {
                    "is not root"
                }
            ));
        }
    }
    scan.unseen_why = if ptrace {
        "not readable even with CAP_SYS_PTRACE: a process of a parent user namespace, or a security \
         module's rule"
    } else if rustix::process::geteuid().is_root() {
        "other users' processes, and this root run lacks CAP_SYS_PTRACE (dropped by a container or by a \
         unit's CapabilityBoundingSet=)"
    } else {
        "other users' processes (or ones that are not dumpable), and this run is not root"
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let dir = entry.path();
        match process_writes(&dir, target) {
            Ok(true) => scan.writers.push(OpenWriter {
                pid,
                command: command_of(&dir),
            }),
            Ok(false) => {}
            // Gone since it was listed.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::SRCH.raw_os_error()) => {}
            Err(_) => {
                if may_write(&dir, target) {
                    scan.unseen += 1;
                }
            }
        }
    }
    scan.writers.sort_by_key(|w| w.pid);
    scan
}

/// Whether the process at `dir` (/proc/PID) has `target` open for writing.
fn process_writes(dir: &Path, target: &Target) -> io::Result<bool> {
    for entry in fs::read_dir(dir.join("fdinfo"))? {
        let entry = entry?;
        let info = match fs::read_to_string(entry.path()) {
            Ok(s) => s,
            // Closed since it was listed.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let Some(flags) = field(&info, "flags").and_then(|f| u32::from_str_radix(f, 8).ok()) else {
            continue;
        };
        if !writes(flags) {
            continue;
        }
        match field(&info, "ino").and_then(|i| i.parse::<u64>().ok()) {
            Some(ino) if ino != target.ino => continue,
            _ => {}
        }
        // The same inode number (or a kernel that does not say): the device decides.
        match fs::metadata(dir.join("fd").join(entry.file_name())) {
            Ok(m) if m.dev() == target.dev && m.ino() == target.ino => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Open flags that allow writing: O_WRONLY or O_RDWR (not O_PATH, which allows neither).
fn writes(flags: u32) -> bool {
    const O_ACCMODE: u32 = 0o3;
    const O_PATH: u32 = 0o10000000;
    flags & O_PATH == 0 && matches!(flags & O_ACCMODE, 1 | 2)
}

/// `name:\tvalue` of an fdinfo or status file.
fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

fn command_of(dir: &Path) -> String {
    fs::read_to_string(dir.join("comm"))
        .map(|c| c.trim_end().to_owned())
        .unwrap_or_else(|_| "?".to_owned())
}

/// Whether a process whose descriptors could not be read may write `target`: its user owns it (and may
/// make it writable), or one of its groups may write it, or everyone may. Unknown (its status cannot be
/// read either): yes.
fn may_write(dir: &Path, target: &Target) -> bool {
    if target.mode & 0o002 != 0 {
        return true;
    }
    let Ok(status) = fs::read_to_string(dir.join("status")) else {
        return true;
    };
    let ids = |name: &str| -> Vec<u32> {
        field(&status, name)
            .map(|v| {
                v.split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    if ids("Uid").contains(&target.uid) {
        return true;
    }
    target.mode & 0o020 != 0
        && (ids("Gid").contains(&target.gid) || ids("Groups").contains(&target.gid))
}

/// The `hidepid=` option of the proc file system mounted at `proc`, when it hides other users' processes
/// from listings (2, `invisible`).
fn hidepid(proc: &Path) -> Option<String> {
    let info = fs::read_to_string(proc.join("self/mountinfo")).ok()?;
    hidepid_in(&info, proc)
}

fn hidepid_in(mountinfo: &str, proc: &Path) -> Option<String> {
    let at = proc.to_str()?;
    // The last mount at that point wins: `ID PARENT MAJ:MIN ROOT POINT OPTS... - TYPE SOURCE SUPER_OPTS`.
    let line = mountinfo
        .lines()
        .rfind(|l| l.split_whitespace().nth(4) == Some(at))?;
    let (_, after) = line.split_once(" - ")?;
    let mut f = after.split_whitespace();
    if f.next() != Some("proc") {
        return None;
    }
    let opts = f.nth(1)?;
    opts.split(',')
        .find_map(|o| o.strip_prefix("hidepid="))
        .filter(|v| matches!(*v, "2" | "invisible"))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::OpenOptionsExt;

    fn target(path: &Path) -> Target {
        Target::of(&fs::metadata(path).unwrap())
    }

    #[test]
    fn write_flags() {
        assert!(writes(0o100001)); // O_WRONLY|O_LARGEFILE
        assert!(writes(0o102001)); // O_WRONLY|O_APPEND|O_LARGEFILE
        assert!(writes(0o2)); // O_RDWR
        assert!(!writes(0o100000)); // O_RDONLY|O_LARGEFILE
        assert!(!writes(0o12100000)); // O_PATH|O_NOFOLLOW...
    }

    #[test]
    fn this_process_is_never_its_own_writer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let _w = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&p)
            .unwrap();
        let s = scan(&target(&p));
        assert!(
            s.writers.iter().all(|w| w.pid != std::process::id()),
            "{s:?}"
        );
    }

    #[test]
    fn a_directory_that_is_not_proc_makes_the_scan_blind() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("123")).unwrap();
        let p = dir.path().join("f");
        fs::write(&p, "x").unwrap();
        let s = scan_in(dir.path(), &target(&p), false);
        assert!(s.writers.is_empty() && !s.complete(), "{s:?}");
        assert!(s.blind.unwrap().contains("no proc file system"));
    }

    #[test]
    fn every_process_is_looked_at_with_cap_sys_ptrace_only() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!may_look_at_every_process(dir.path()), "no status file");
        fs::create_dir(dir.path().join("self")).unwrap();
        let with = |caps: &str| {
            fs::write(
                dir.path().join("self/status"),
                format!("Name:\tlogveil\nCapPrm:\t000001ffffffffff\nCapEff:\t{caps}\n"),
            )
            .unwrap();
            may_look_at_every_process(dir.path())
        };
        assert!(with("000001ffffffffff"));
        assert!(with("0000000000080000")); // CAP_SYS_PTRACE (19) alone
        assert!(!with("000001fffff7ffff")); // all but CAP_SYS_PTRACE: root in a container
        assert!(!with("0000000000000000")); // another user
    }

    #[test]
    fn hidepid_is_read_from_mountinfo() {
        let proc = Path::new("/proc");
        let line = |opts: &str| {
            format!(
                "22 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc {opts}\n"
            )
        };
        assert_eq!(hidepid_in(&line("rw"), proc), None);
        assert_eq!(hidepid_in(&line("rw,hidepid=1"), proc), None);
        assert_eq!(
            hidepid_in(&line("rw,hidepid=invisible,subset=pid"), proc),
            Some("invisible".into())
        );
        // The last mount on /proc counts.
        let two = line("rw,hidepid=2") + &line("rw");
        assert_eq!(hidepid_in(&two, proc), None);
        assert_eq!(
            hidepid_in(&(line("rw") + &line("rw,hidepid=2")), proc),
            Some("2".into())
        );
        assert_eq!(
            hidepid_in(
                "30 27 0:50 / /proc/sys/fs/binfmt_misc rw - binfmt_misc x rw,hidepid=2\n",
                proc
            ),
            None
        );
    }
}
