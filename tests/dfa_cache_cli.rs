//! The compiled-pattern cache through the real binary and the seed config with two types of the user's own
//! (the seed's four patterns alone are covered by the built-in detectors and build no DFA): the first start
//! builds and
//! saves the DFA (0600 in a 0700 directory), the next ones load it and redact exactly as a fresh build; a
//! corrupted file is reported, rebuilt and replaced; `--no-cache` reads and writes nothing. Start-up time
//! and memory are measured in benches/redact_vs_rg.rs.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The seed config plus patterns of the user's own types, which make a DFA of their own.
static SEED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/seed-config.yaml"
    ))
    .unwrap();
    let own = "      - type: \"employee_id\"\n        regex: \"\\\\bEMP\\\\d{6}\\\\b\"\n        action: \"redact_in_logs\"\n      - type: \"ticket\"\n        regex: \"\\\\bTKT-\\\\d{8}\\\\b\"\n        action: \"redact_in_logs\"\n";
    let at = seed.find("  log_redaction:").unwrap();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dfa-cache-seed-{}.yaml", std::process::id()));
    std::fs::write(&path, format!("{}{own}{}", &seed[..at], &seed[at..])).unwrap();
    path.to_str().unwrap().to_string()
});

const INPUT: &[u8] = "call 13812345678, mail zhang.wei@example.com, card 6222020000000000007 \
    id 110101199003071233, order 2024050712345678901 and ts 1715040000123, staff EMP123456\n"
    .as_bytes();

/// `logveil -v <args>` with `input` on stdin and no cache settings from the environment.
fn logveil(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_logveil"))
        .arg("-v")
        .args(args)
        .env_remove("LOGVEIL_CONFIG")
        .env_remove("LOGVEIL_CACHE_DIR")
        .env_remove("LOGVEIL_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn redact(cache: &[&str]) -> (Vec<u8>, String) {
    let mut args = vec!["redact", "--config", SEED.as_str()];
    args.extend_from_slice(cache);
    let out = logveil(&args, INPUT);
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn dfa_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_first_start_saves_the_dfa_and_the_next_ones_load_it_and_redact_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let dir_arg = dir.to_str().unwrap();
    let (fresh, err) = redact(&["--no-cache"]);
    assert!(!err.contains("dfa cache"), "--no-cache used a cache: {err}");
    assert!(!dir.exists());
    let (first, err) = redact(&["--cache-dir", dir_arg]);
    assert!(err.contains("dfa cache: saved"), "{err}");
    assert_eq!(mode(&dir), 0o700);
    let files = dfa_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(mode(&files[0]), 0o600);
    for _ in 0..2 {
        let (again, err) = redact(&["--cache-dir", dir_arg]);
        assert!(err.contains("dfa cache: loaded"), "{err}");
        assert!(!err.contains("saved"), "rebuilt: {err}");
        assert_eq!(again, first);
    }
    assert_eq!(first, fresh, "a cached DFA redacts as a fresh one");
    let text = String::from_utf8(first).unwrap();
    assert!(
        !text.contains("13812345678")
            && !text.contains("zhang.wei@")
            && !text.contains("EMP123456"),
        "{text}"
    );
    assert!(
        text.contains("2024050712345678901") && text.contains("1715040000123"),
        "{text}"
    );
    // The environment variable names the directory too.
    let out = Command::new(env!("CARGO_BIN_EXE_logveil"))
        .args(["-v", "config", "check", "--config", SEED.as_str()])
        .env("LOGVEIL_CACHE_DIR", &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("dfa cache: {}", dir.display())),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("dfa cache: loaded"));
}

#[test]
fn a_corrupted_cache_file_is_reported_rebuilt_and_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let dir_arg = dir.to_str().unwrap();
    let (good, _) = redact(&["--cache-dir", dir_arg]);
    let file = dfa_files(&dir).remove(0);
    let saved = std::fs::read(&file).unwrap();
    for at in [200, saved.len() / 2, saved.len() - 3] {
        let mut bad = saved.clone();
        bad[at] ^= 0x01;
        std::fs::write(&file, &bad).unwrap();
        let (out, err) = redact(&["--cache-dir", dir_arg]);
        assert!(err.contains("failed its check"), "byte {at}: {err}");
        assert!(
            err.contains(&*file.to_string_lossy()),
            "names the file: {err}"
        );
        assert_eq!(out, good, "byte {at}: redacted as with a good DFA");
        assert!(
            std::fs::read(&file).unwrap() == saved,
            "byte {at}: replaced by a good one"
        );
    }
    std::fs::write(&file, b"").unwrap();
    let (out, err) = redact(&["--cache-dir", dir_arg]);
    assert!(err.contains("failed its check"), "empty: {err}");
    assert_eq!(out, good);
}

#[test]
fn config_can_name_the_directory_or_turn_the_cache_off() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("from-config");
    let seed = std::fs::read_to_string(SEED.as_str()).unwrap();
    let with_dir = tmp.path().join("with-dir.yaml");
    std::fs::write(
        &with_dir,
        format!("{seed}\nlogveil:\n  cache:\n    dir: {}\n", dir.display()),
    )
    .unwrap();
    logveil(&["redact", "--config", with_dir.to_str().unwrap()], INPUT);
    assert_eq!(dfa_files(&dir).len(), 1);
    let off = tmp.path().join("off.yaml");
    let other = tmp.path().join("unused");
    std::fs::write(
        &off,
        format!(
            "{seed}\nlogveil:\n  cache:\n    enabled: false\n    dir: {}\n",
            other.display()
        ),
    )
    .unwrap();
    let out = logveil(&["redact", "--config", off.to_str().unwrap()], INPUT);
    assert!(!other.exists());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("dfa cache"));
}
