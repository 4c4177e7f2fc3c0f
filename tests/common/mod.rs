//! Helpers for the sink integration tests: the real binary, the real `age`/`gzip` tools, sample logs.
//!
//! A test that needs an external tool fails when `CI` is set and the tool is missing; elsewhere it is
//! skipped with a note.

#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_logveil")
}

/// Whether `tool` is installed; panics under CI when it is not.
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null 2>&1"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("`{tool}` is required in CI but is not installed");
        }
        eprintln!("note: `{tool}` is not installed; skipping this test");
    }
    found
}

/// An age identity made by the real `age-keygen`.
pub struct Keys {
    pub dir: tempfile::TempDir,
    pub identity: PathBuf,
    pub recipient: String,
}

pub fn age_keys() -> Option<Keys> {
    if !have("age-keygen") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let identity = dir.path().join("key.txt");
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(&identity)
        .output()
        .unwrap();
    assert!(out.status.success(), "age-keygen failed");
    let recipient = String::from_utf8(out.stderr)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Public key: ").map(str::to_string))
        .expect("age-keygen prints the public key");
    Some(Keys {
        dir,
        identity,
        recipient,
    })
}

/// A deterministic bot log: JSON lines with Chinese text, a made-up personal-data item every few lines.
pub fn sample_log(lines: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let phrases = [
        "您好，请问有什么可以帮您",
        "订单已发货",
        "正在处理您的请求",
        "退款申请已提交",
        "机器人回复",
    ];
    let mut out = Vec::new();
    for i in 0..lines {
        let r = next();
        let pii = match r % 5 {
            0 => format!("，手机13{}{:08}", 8 + (r >> 8) % 2, (r >> 16) % 100_000_000),
            1 => format!("，邮箱 user{}@example.com", (r >> 8) % 1000),
            _ => String::new(),
        };
        writeln!(
            out,
            "{{\"seq\":{i},\"msg\":\"{}{pii}\",\"trace\":\"{:016x}\"}}",
            phrases[(r >> 4) as usize % phrases.len()],
            next()
        )
        .unwrap();
    }
    out
}

/// What `logveil redact` makes of `input` (the expected content of segments).
pub fn redacted(input: &[u8]) -> Vec<u8> {
    let out = run_with_stdin(Command::new(bin()).args(["-q", "redact"]), input);
    assert!(out.status.success(), "logveil redact failed");
    out.stdout
}

pub fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Finished segments (sealed and truncated) of a directory, in name order.
pub fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".log.gz.age"))
        .collect();
    v.sort();
    v
}

pub fn partials(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .collect();
    v.sort();
    v
}

/// `age -d -i IDENTITY SEGMENT | gzip -dc` with the real tools; both must succeed.
pub fn age_gunzip(segment: &Path, identity: &Path) -> Vec<u8> {
    let mut age = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(identity)
        .arg(segment)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let gz = Command::new("gzip")
        .arg("-dc")
        .stdin(age.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(age.wait().unwrap().success(), "age -d failed");
    assert!(gz.status.success(), "gzip -dc failed");
    gz.stdout
}

/// `logveil cat -i IDENTITY ARGS...`.
pub fn logveil_cat(identity: &Path, args: &[&Path]) -> Output {
    Command::new(bin())
        .args(["-q", "cat", "-i"])
        .arg(identity)
        .args(args)
        .output()
        .unwrap()
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// gen.py's lines (../shared/reviews): `PREFIX seq=%08d` and the same planted personal data on every line,
/// with 16 hex digits of noise.
pub fn numbered(prefix: &str, n: u64) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ prefix.len() as u64;
    let mut out = Vec::with_capacity(n as usize * 150);
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        writeln!(
            out,
            "{prefix} seq={i:08} user 13812345678 mail zhang.san@example.com card 4111 1111 1111 1111 \
             ip 203.0.113.77 password=Hunter2Secret! noise={x:016x} "
        )
        .unwrap();
    }
    out
}

/// What check.py reports on decrypted text: lines with `PREFIX seq=`, how many sequence numbers of
/// `0..n` came twice or more, which are missing, and whether any planted value is left.
#[derive(Debug, PartialEq, Eq)]
pub struct Count {
    pub lines: u64,
    pub dups: u64,
    pub missing: Vec<u64>,
    pub leaks: bool,
}

pub fn count(prefix: &str, n: u64, text: &[u8]) -> Count {
    let mut seen = vec![0u32; n as usize];
    let mut lines = 0;
    let tag = format!("{prefix} seq=");
    for l in text.split(|&b| b == b'\n') {
        let Some(rest) = l.strip_prefix(tag.as_bytes()) else {
            continue;
        };
        let seq: Option<u64> = rest
            .get(..8)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| d.parse().ok());
        if let Some(s) = seq.filter(|&s| s < n) {
            seen[s as usize] += 1;
            lines += 1;
        }
    }
    let pii: [&[u8]; 5] = [
        b"13812345678",
        b"zhang.san@example.com",
        b"4111 1111 1111 1111",
        b"203.0.113.77",
        b"Hunter2Secret",
    ];
    Count {
        lines,
        dups: seen.iter().map(|&c| u64::from(c.saturating_sub(1))).sum(),
        missing: (0..n).filter(|&i| seen[i as usize] == 0).take(10).collect(),
        leaks: pii.iter().any(|p| text.windows(p.len()).any(|w| w == *p)),
    }
}

/// Every line `0..n` exactly once, and no planted value.
pub fn exactly_once(n: u64) -> Count {
    Count {
        lines: n,
        dups: 0,
        missing: Vec::new(),
        leaks: false,
    }
}

/// A tmpfs mounted at a directory (real ENOSPC, real read-only remounts); unmounted when dropped.
/// None (with a note) where mounting is not permitted, unless `CI` is set: then it fails the test.
pub struct Tmpfs {
    pub dir: PathBuf,
}

impl Tmpfs {
    pub fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set and a tmpfs cannot be mounted (this test needs root)");
            }
            eprintln!("note: cannot mount a tmpfs (not root?); skipping this test");
            return None;
        }
        Some(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }

    /// `mount -o remount,OPTIONS`, e.g. `size=64m` or `ro`.
    pub fn remount(&self, options: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(st.success(), "remount {options}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Whether a test may skip when ../shared is missing: when CI is unset, or when `.ci/run` set CI itself
/// for a contributor's clone (`LOGVEIL_SHARED_OPTIONAL`, see .ci/env.sh). Under the real CI it must be there.
pub fn shared_optional(ci: Option<&str>, optional: Option<&str>) -> bool {
    ci.is_none_or(str::is_empty) || optional.is_some_and(|v| !v.is_empty())
}

/// `../shared/REL` beside the repository, or None (with a note) when it is missing and may be; panics
/// when it is missing and must be there.
pub fn shared_dir(rel: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel);
    if dir.is_dir() {
        return Some(dir);
    }
    let env = |k: &str| std::env::var(k).ok();
    assert!(
        shared_optional(
            env("CI").as_deref(),
            env("LOGVEIL_SHARED_OPTIONAL").as_deref()
        ),
        "CI is set but {} is missing",
        dir.display()
    );
    eprintln!(
        "note: {} not found; test skipped (it is not shipped with the repository)",
        dir.display()
    );
    None
}

/// A recipient made by logveil's own keygen (identity in `dir/key.txt`; no external tool needed).
pub fn logveil_recipient(dir: &Path) -> String {
    let out = Command::new(bin())
        .arg("keygen")
        .arg("-o")
        .arg(dir.join("key.txt"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The stream of each sealed segment in `dir`, sorted, one entry per segment.
pub fn segment_streams(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".log.gz.age"))
                .map(|n| n.split(".20").next().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// An engine from a YAML config, with `env` as the only environment variables it sees (a hash key, say).
pub fn engine_from_yaml(yaml: &str, env: &[(&str, &str)]) -> logveil::redact::Engine {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let cfg = logveil::config::Config::from_yaml_str_with_env(yaml, &|name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .unwrap();
    logveil::redact::Engine::new(&cfg.redaction).unwrap()
}

/// `input` redacted by `e`, as text.
pub fn redact_text(e: &logveil::redact::Engine, input: &str) -> String {
    String::from_utf8(logveil::redact::redact_all(e, input.as_bytes()).0).unwrap()
}
