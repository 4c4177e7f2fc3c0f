//! Helpers shared by the packaging tests (`tests/packaging_*.rs`): finding the real tools they need (which
//! must be there when `CI` is set), running commands with readable failures, the repository's files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_logveil")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn is_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Whether `program args...` runs and exits 0. Under CI a missing tool fails the test (with the Debian
/// package or install line that provides it); otherwise the test is skipped with a note on stderr.
pub fn require_tool(program: &str, args: &[&str], provided_by: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if is_ci() {
            panic!("`{program}` is required when CI is set; provided by: {provided_by}");
        }
        eprintln!(
            "note: `{program}` not available ({provided_by}); test skipped (it fails under CI)"
        );
    }
    ok
}

/// The effective user id (`id -u`).
pub fn euid() -> u32 {
    let o = Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .expect("id -u prints a number")
}

/// Runs a command and returns its output; `what` names it in failures.
pub fn run(cmd: &mut Command, what: &str) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"))
}

/// Runs a command that must succeed; on failure shows its exit status, stdout and stderr. (The packaging
/// tests feed no personal data to these commands; logveil's own output is redacted by construction.)
pub fn run_ok(cmd: &mut Command, what: &str) -> Output {
    let o = run(cmd, what);
    assert!(
        o.status.success(),
        "{what}: {}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `KEY=value` lines of a systemd unit (all sections), in order; comments and blank lines dropped.
pub fn unit_entries(path: &Path) -> Vec<(String, String)> {
    let s = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .filter(|l| !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// All values of `key` in a unit, in order.
pub fn unit_values(entries: &[(String, String)], key: &str) -> Vec<String> {
    entries
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The unit files shipped in packaging/systemd, by file name.
pub const UNITS: &[&str] = &[
    "logveil-tail@.service",
    "logveil-retention.service",
    "logveil-retention.timer",
    "logveil-ship.service",
    "logveil-ship.timer",
];

/// The unit names `systemd-analyze` checks (a template needs an instance: the packaged config's name).
pub const UNITS_TO_VERIFY: &[&str] = &[
    "logveil-tail@logveil.service",
    "logveil-retention.service",
    "logveil-retention.timer",
    "logveil-ship.service",
    "logveil-ship.timer",
];

/// The absolute programs named by the Exec*= lines of the shipped units (prefixes such as `-` dropped).
pub fn exec_programs(entries: &[(String, String)]) -> Vec<String> {
    entries
        .iter()
        .filter(|(k, _)| k.starts_with("Exec"))
        .filter_map(|(_, v)| {
            let cmd = v.trim_start_matches(['-', '@', ':', '+', '!']);
            cmd.split_whitespace().next().map(str::to_owned)
        })
        .collect()
}
