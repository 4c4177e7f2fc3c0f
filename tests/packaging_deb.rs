//! The Debian package, built with the real cargo-deb (`cargo install cargo-deb --locked`) by
//! packaging/build-deb.sh from the binary under test, inspected with dpkg-deb, and, as root with CI set
//! (or LOGVEIL_TEST_DPKG=1), installed with `dpkg -i`, checked, reinstalled and purged.
//!
//! The package is built once per run into CARGO_TARGET_TMPDIR/packaging-deb: a scratch target dir whose
//! release/logveil is the binary these tests run, so no release build is needed (build-deb.sh --no-build).

mod packaging_support;

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use clap::CommandFactory;
use packaging_support::*;

/// The built .deb, or None when the tools are missing outside CI.
fn deb() -> Option<PathBuf> {
    static DEB: OnceLock<Option<PathBuf>> = OnceLock::new();
    DEB.get_or_init(build_deb).clone()
}

fn build_deb() -> Option<PathBuf> {
    if !require_tool(
        "cargo",
        &["deb", "--version"],
        "`cargo install cargo-deb --locked`",
    ) || !require_tool("dpkg-deb", &["--version"], "Debian package `dpkg`")
        || !require_tool(
            "dpkg-shlibdeps",
            &["--version"],
            "Debian package `dpkg-dev`",
        )
    {
        return None;
    }
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("packaging-deb");
    let _ = fs::remove_dir_all(&work);
    let release = work.join("target/release");
    fs::create_dir_all(&release).unwrap();
    fs::copy(bin(), release.join("logveil")).unwrap();
    let out = work.join("out");
    fs::create_dir_all(&out).unwrap();
    let started = Instant::now();
    run_ok(
        Command::new(repo().join("packaging/build-deb.sh"))
            .args([
                "--no-build",
                "--fast",
                "--offline",
                "--no-compress-debug-symbols",
                "-o",
            ])
            .arg(&out)
            .env("CARGO_TARGET_DIR", work.join("target"))
            .current_dir(repo()),
        "packaging/build-deb.sh --no-build",
    );
    eprintln!("package built in {:.1?}", started.elapsed());
    let debs: Vec<PathBuf> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect();
    assert_eq!(debs.len(), 1, "one .deb in {}: {debs:?}", out.display());
    Some(debs[0].clone())
}

/// `path -> (mode string, owner/group)` of every entry, from `dpkg-deb -c`.
fn contents(deb: &Path) -> BTreeMap<String, (String, String)> {
    let o = run_ok(Command::new("dpkg-deb").arg("-c").arg(deb), "dpkg-deb -c");
    text(&o.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let path = f[5]
                .trim_start_matches('.')
                .trim_end_matches('/')
                .to_owned();
            (path, (f[0].to_owned(), f[1].to_owned()))
        })
        .collect()
}

fn visible_commands() -> Vec<String> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = format!("{prefix}-{}", sub.get_name());
            out.push(name.clone());
            walk(sub, &name, out);
        }
    }
    let mut out = vec!["logveil".to_owned()];
    walk(&logveil::cli::Cli::command(), "logveil", &mut out);
    out
}

const COMPLETIONS: &[&str] = &[
    "/usr/share/bash-completion/completions/logveil",
    "/usr/share/zsh/vendor-completions/_logveil",
    "/usr/share/fish/vendor_completions.d/logveil.fish",
];

#[test]
fn package_holds_binary_config_units_hook_docs_with_their_modes() {
    let Some(deb) = deb() else { return };
    let c = contents(&deb);
    let expect = |path: &str, mode: &str| {
        let (m, owner) = c
            .get(path)
            .unwrap_or_else(|| panic!("{path} is not in the package"));
        assert_eq!(m, mode, "{path}");
        assert_eq!(owner, "0/0", "{path}: owned by root in the archive");
    };
    expect("/usr/bin/logveil", "-rwxr-xr-x");
    // 0600 from the start; postinst gives it to logveil once that user exists.
    expect("/etc/logveil/logveil.yaml", "-rw-------");
    for u in UNITS {
        expect(&format!("/usr/lib/systemd/system/{u}"), "-rw-r--r--");
    }
    expect("/usr/share/logveil/logrotate/logveil", "-rw-r--r--");
    for cmd in visible_commands() {
        expect(&format!("/usr/share/man/man1/{cmd}.1.gz"), "-rw-r--r--");
    }
    for p in COMPLETIONS {
        expect(p, "-rw-r--r--");
    }
    expect("/usr/share/doc/logveil/README.md", "-rw-r--r--");
    expect(
        "/usr/share/doc/logveil/examples/logveil.example.yaml",
        "-rw-r--r--",
    );
    // Nothing writable by group or others; nothing enabled behind the admin's back.
    for (path, (mode, _)) in &c {
        assert!(
            &mode[5..6] != "w" && &mode[8..9] != "w",
            "{path} is writable by group or others ({mode})"
        );
        assert!(
            !path.contains(".wants/"),
            "{path}: the package enables a unit"
        );
        assert!(
            !path.starts_with("/etc/logrotate.d"),
            "{path}: hook active at install"
        );
    }

    let field = |name: &str| {
        let o = run_ok(
            Command::new("dpkg-deb").arg("-f").arg(&deb).arg(name),
            "dpkg-deb -f",
        );
        text(&o.stdout).trim().to_owned()
    };
    assert_eq!(field("Package"), "logveil");
    assert_eq!(field("Version"), format!("{}-1", env!("CARGO_PKG_VERSION")));
    let depends = field("Depends");
    assert!(
        depends.contains("adduser"),
        "postinst runs adduser --system"
    );
    let maintainer = field("Maintainer");
    assert!(
        maintainer.contains('<') && !maintainer.contains("localhost"),
        "Maintainer: {maintainer}"
    );
    // $auto, resolved by dpkg-shlibdeps from the binary's shared libraries.
    assert!(depends.contains("libc6"), "Depends: {depends}");

    // Control files: the conffile and the maintainer scripts, as in packaging/debian.
    let ctrl = tempfile::tempdir().unwrap();
    run_ok(
        Command::new("dpkg-deb")
            .arg("-e")
            .arg(&deb)
            .arg(ctrl.path()),
        "dpkg-deb -e",
    );
    assert_eq!(
        fs::read_to_string(ctrl.path().join("conffiles"))
            .unwrap()
            .trim(),
        "/etc/logveil/logveil.yaml"
    );
    for s in ["postinst", "prerm", "postrm"] {
        let packaged = ctrl.path().join(s);
        assert_eq!(
            fs::read(&packaged).unwrap(),
            fs::read(repo().join("packaging/debian").join(s)).unwrap(),
            "{s}"
        );
        assert_eq!(
            fs::metadata(&packaged).unwrap().permissions().mode() & 0o777,
            0o755
        );
        run_ok(Command::new("sh").arg("-n").arg(&packaged), s);
    }

    // The packaged files are the repository's, and the packaged binary runs.
    let x = tempfile::tempdir().unwrap();
    run_ok(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(x.path()),
        "dpkg-deb -x",
    );
    for u in UNITS {
        assert_eq!(
            fs::read(x.path().join("usr/lib/systemd/system").join(u)).unwrap(),
            fs::read(repo().join("packaging/systemd").join(u)).unwrap(),
            "{u}"
        );
    }
    assert_eq!(
        fs::read(x.path().join("etc/logveil/logveil.yaml")).unwrap(),
        fs::read(repo().join("packaging/logveil.example.yaml")).unwrap()
    );
    let v = run_ok(
        Command::new(x.path().join("usr/bin/logveil")).arg("--version"),
        "packaged logveil --version",
    );
    assert_eq!(
        text(&v.stdout).trim(),
        format!("logveil {}", env!("CARGO_PKG_VERSION"))
    );
    // No unit under /lib (merged /usr: they belong under /usr/lib).
    assert!(!x.path().join("lib/systemd").exists());
    // debian/changelog, for this version.
    let changelog = gunzip(&x.path().join("usr/share/doc/logveil/changelog.Debian.gz"));
    assert!(
        changelog.starts_with(&format!("logveil ({}-1) ", env!("CARGO_PKG_VERSION"))),
        "{changelog}"
    );
    assert!(
        changelog.contains(&format!("\n -- {maintainer}  ")),
        "{changelog}"
    );
    let man = gunzip(&x.path().join("usr/share/man/man1/logveil.1.gz"));
    assert!(
        man.contains(".SH \"EXIT STATUS\""),
        "the generated top page"
    );
}

fn gunzip(p: &Path) -> String {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(p).unwrap())
        .read_to_string(&mut s)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    s
}

/// `dpkg ARGS`, retried while another dpkg or apt holds the lock.
fn dpkg(args: &[&str]) -> std::process::Output {
    for _ in 0..60 {
        let o = run(Command::new("dpkg").args(args), "dpkg");
        if o.status.success() || !text(&o.stderr).contains("lock") {
            return o;
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
    panic!("dpkg {args:?}: the dpkg lock stayed taken for 2 minutes");
}

fn dpkg_ok(args: &[&str]) {
    let o = dpkg(args);
    assert!(
        o.status.success(),
        "dpkg {args:?}: {}\n{}\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
}

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", "logveil"])
        .output()
        .is_ok_and(|o| text(&o.stdout).contains("install ok installed"))
}

/// Purges the package (and the directories the test planted into) even when an assertion fails.
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = dpkg(&["--purge", "logveil"]);
        let _ = fs::remove_dir_all("/var/lib/logveil");
    }
}

/// `(uid, gid, home, shell)` of a user, from getent.
fn user(name: &str) -> (u32, u32, String, String) {
    let o = run_ok(
        Command::new("getent").args(["passwd", name]),
        "getent passwd",
    );
    let line = text(&o.stdout);
    let f: Vec<&str> = line.trim().split(':').collect();
    (
        f[2].parse().unwrap(),
        f[3].parse().unwrap(),
        f[5].to_owned(),
        f[6].to_owned(),
    )
}

fn owner_mode(p: &str) -> (u32, u32, u32) {
    let m = fs::metadata(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

// Serializes the tests that change the system (one today; a second one must not race it).
static SYSTEM: Mutex<()> = Mutex::new(());

#[test]
fn package_installs_checks_out_keeps_local_changes_and_purges() {
    let may_install = is_ci() || std::env::var_os("LOGVEIL_TEST_DPKG").is_some();
    let root = euid() == 0;
    if !(may_install && root) {
        assert!(
            !is_ci(),
            "CI is set but the tests do not run as root: dpkg -i needs root"
        );
        eprintln!(
            "note: install test skipped (needs root, and CI or LOGVEIL_TEST_DPKG=1: it installs and purges \
             the package on this machine)"
        );
        return;
    }
    let Some(deb) = deb() else { return };
    let _serial = SYSTEM.lock().unwrap();
    for p in ["/etc/logveil", "/var/lib/logveil", "/usr/bin/logveil"] {
        assert!(
            !installed() && !Path::new(p).exists(),
            "logveil is already installed here ({p} exists): not touching it"
        );
    }
    let _cleanup = Cleanup;
    let deb = deb.to_str().unwrap();
    let started = Instant::now();
    dpkg_ok(&["-i", deb]);
    eprintln!("dpkg -i took {:.1?}", started.elapsed());
    assert!(installed());

    // The binary, on the installed example config.
    let v = run_ok(
        Command::new("/usr/bin/logveil").arg("--version"),
        "logveil --version",
    );
    assert_eq!(
        text(&v.stdout).trim(),
        format!("logveil {}", env!("CARGO_PKG_VERSION"))
    );
    // A fresh install has no recipient yet: the check the units run before start refuses it, once, clearly.
    let fresh = run(
        Command::new("/usr/bin/logveil")
            .args(["config", "check", "--config", "/etc/logveil/logveil.yaml"])
            .env_remove("LOGVEIL_CONFIG"),
        "logveil config check on the installed config",
    );
    let err = text(&fresh.stderr);
    assert_eq!(fresh.status.code(), Some(2), "{err}");
    assert!(err.contains("no recipient"), "{err}");
    assert_eq!(err.matches("logveil: error:").count(), 1, "{err}");

    // The system user and what it owns.
    let (uid, gid, home, shell) = user("logveil");
    assert!(uid > 0 && uid < 1000, "a system uid, not {uid}");
    assert_eq!(home, "/var/lib/logveil");
    assert!(shell.ends_with("nologin"), "no login shell: {shell}");
    assert_eq!(owner_mode("/etc/logveil"), (0, gid, 0o750));
    assert_eq!(owner_mode("/etc/logveil/logveil.yaml"), (uid, gid, 0o600));
    for d in [
        "/var/lib/logveil",
        "/var/lib/logveil/segments",
        "/var/lib/logveil/state",
    ] {
        assert_eq!(owner_mode(d), (uid, gid, 0o700), "{d}");
    }

    // The key of the hash action, made at install: 32 random bytes as hex, 0640 root:logveil, in the
    // format logveil.hash_key_file reads (the config names it; config check loaded it above).
    let hash_key = "/etc/logveil/hash.key";
    assert_eq!(owner_mode(hash_key), (0, gid, 0o640));
    let key_text = fs::read_to_string(hash_key).unwrap();
    let hex = key_text.strip_suffix('\n').unwrap_or(&key_text);
    assert_eq!(hex.len(), 64, "64 hex digits");
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    let cfg_loaded =
        logveil::config::Config::load(Some(Path::new("/etc/logveil/logveil.yaml"))).unwrap();
    assert!(
        cfg_loaded.redaction.hash_key.is_some(),
        "the installed config uses it"
    );

    // Docs: man pages (also every one a unit's Documentation= names) and completions.
    assert!(gunzip(Path::new("/usr/share/man/man1/logveil.1.gz")).contains(".SH FILES"));
    for u in UNITS {
        for doc in unit_values(
            &unit_entries(&Path::new("/usr/lib/systemd/system").join(u)),
            "Documentation",
        ) {
            for page in doc.split_whitespace() {
                let page = page.strip_prefix("man:").expect("man: references");
                let (name, sect) = page.trim_end_matches(')').split_once('(').unwrap();
                let p = format!("/usr/share/man/man{sect}/{name}.{sect}.gz");
                assert!(
                    Path::new(&p).exists(),
                    "{u} documents {page}: {p} is missing"
                );
            }
        }
    }
    for p in COMPLETIONS {
        assert!(Path::new(p).exists(), "{p}");
    }

    // The installed units, in the real root, with the installed binary.
    if require_tool(
        "systemd-analyze",
        &["--version"],
        "Debian package `systemd`",
    ) {
        let o = run(
            Command::new("systemd-analyze")
                .args(["verify", "--man=no"])
                .args(UNITS_TO_VERIFY),
            "systemd-analyze verify",
        );
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "systemd-analyze verify of the installed units: {}\n{}",
            o.status,
            text(&o.stderr)
        );
    }

    // logveil's own audit finds nothing wrong with what the package installed.
    let a = run(
        Command::new("/usr/bin/logveil")
            .args(["audit", "--config", "/etc/logveil/logveil.yaml"])
            .args(["/etc/logveil", "/var/lib/logveil"]),
        "logveil audit",
    );
    assert_eq!(a.status.code(), Some(0), "audit:\n{}", text(&a.stdout));

    // Configured as the README says (a recipients file, 0640 root:logveil), the user logveil reads the
    // 0600 config and writes sealed segments where the package put its directories: `pipe` run as
    // logveil, then decrypted by an operator's identity.
    let keys = tempfile::tempdir().unwrap();
    let identity = keys.path().join("key.txt");
    let k = run_ok(
        Command::new("/usr/bin/logveil")
            .args(["keygen", "-o"])
            .arg(&identity),
        "logveil keygen",
    );
    let recipients = "/etc/logveil/recipients";
    fs::write(recipients, text(&k.stdout)).unwrap();
    fs::set_permissions(recipients, fs::Permissions::from_mode(0o640)).unwrap();
    run_ok(
        Command::new("chown").args(["root:logveil", recipients]),
        "chown",
    );
    let cfg = "/etc/logveil/logveil.yaml";
    let packaged = fs::read_to_string(cfg).unwrap();
    let line = "    recipients: []\n";
    assert_eq!(
        packaged.matches(line).count(),
        1,
        "the example's recipients line"
    );
    let local = packaged.replace(line, &format!("    recipients_file: [{recipients}]\n"));
    fs::write(cfg, &local).unwrap();
    // Configured as the README says, the check passes, as the user logveil (as the units run it).
    run_ok(
        Command::new("runuser")
            .args([
                "-u",
                "logveil",
                "--",
                "/usr/bin/logveil",
                "config",
                "check",
                "--config",
                cfg,
            ])
            .current_dir("/"),
        "logveil config check as logveil, with a recipients file",
    );
    let input = "2026-11-25T10:00:00Z INFO msg=1 from=13912345678 ok\n\
                 2026-11-25T10:00:01Z INFO msg=2 reply_to=someone@example.com ok\n";
    let mut pipe = Command::new("runuser")
        .args(["-u", "logveil", "--", "/usr/bin/logveil", "pipe"])
        .args(["--config", cfg, "--stream", "pkgtest"])
        .current_dir("/")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runuser");
    pipe.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = pipe.wait_with_output().unwrap();
    assert!(o.status.success(), "pipe as logveil: {}", text(&o.stderr));
    let segs: Vec<PathBuf> = fs::read_dir("/var/lib/logveil/segments")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".log.gz.age"))
        .collect();
    assert_eq!(segs.len(), 1, "{segs:?}");
    let seg = segs[0].to_str().unwrap().to_owned();
    assert_eq!(owner_mode(&seg), (uid, gid, 0o600));
    let cat = run_ok(
        Command::new("/usr/bin/logveil")
            .args(["cat", "-i"])
            .arg(&identity)
            .arg(&seg),
        "logveil cat",
    );
    let mut redact = Command::new("/usr/bin/logveil")
        .args(["redact", "--config", cfg])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    redact
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let want = redact.wait_with_output().unwrap();
    assert!(text(&want.stdout).contains("[REDACTED:phone]"));
    assert!(
        cat.stdout == want.stdout,
        "the segment decrypts to the redacted input"
    );
    let a = run(
        Command::new("/usr/bin/logveil")
            .args(["audit", "--config", cfg])
            .args(["/etc/logveil", "/var/lib/logveil"]),
        "logveil audit",
    );
    assert_eq!(
        a.status.code(),
        Some(0),
        "audit after use:\n{}",
        text(&a.stdout)
    );

    // The sidecar's command line, taken from the installed unit (instance `logveil`, the default
    // LOGVEIL_TAIL_PATHS form: a glob), run as logveil on a temporary log directory: it seals what the log
    // holds (segments finished after 1s here, a local change) and stops cleanly on SIGTERM.
    let local = local.replace("    max_segment_age: 1h ", "    max_segment_age: 1s ");
    assert!(
        local.contains("    max_segment_age: 1s "),
        "the example's max_segment_age line"
    );
    fs::write(cfg, &local).unwrap();
    let logs = tempfile::tempdir().unwrap();
    fs::set_permissions(logs.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let app_log = logs.path().join("app.log");
    fs::write(&app_log, input).unwrap();
    fs::set_permissions(&app_log, fs::Permissions::from_mode(0o644)).unwrap();
    let unit = unit_entries(Path::new("/usr/lib/systemd/system/logveil-tail@.service"));
    let exec = unit_values(&unit, "ExecStart").pop().unwrap();
    let glob = format!("{}/*.log", logs.path().display());
    let words: Vec<String> = exec
        .replace("%i", "logveil")
        .replace("$LOGVEIL_TAIL_PATHS", &glob)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(words[0], "/usr/bin/logveil");
    let mut tail = Command::new("setpriv")
        .args(["--reuid=logveil", "--regid=logveil", "--init-groups", "--"])
        .args(&words)
        .current_dir("/")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("setpriv");
    let tail_segments = || -> Vec<PathBuf> {
        fs::read_dir("/var/lib/logveil/segments")
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.starts_with("app.log.") && n.ends_with(".log.gz.age")
            })
            .collect()
    };
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    while tail_segments().is_empty() && Instant::now() < deadline {
        assert!(tail.try_wait().unwrap().is_none(), "tail exited early");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    run_ok(
        Command::new("kill").args(["-TERM", &tail.id().to_string()]),
        "kill -TERM",
    );
    let o = tail.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "tail as logveil: {}\n{}",
        o.status,
        text(&o.stderr)
    );
    let segs = tail_segments();
    assert!(!segs.is_empty(), "tail sealed nothing within 30 s");
    for s in &segs {
        assert_eq!(owner_mode(s.to_str().unwrap()), (uid, gid, 0o600));
    }
    let cat = run_ok(
        Command::new("/usr/bin/logveil")
            .args(["cat", "-i"])
            .arg(&identity)
            .args(&segs),
        "logveil cat",
    );
    assert!(
        cat.stdout == want.stdout,
        "tail's segments decrypt to the redacted log"
    );
    let a = run(
        Command::new("/usr/bin/logveil")
            .args(["audit", "--config", cfg])
            .args(["/etc/logveil", "/var/lib/logveil"]),
        "logveil audit",
    );
    assert_eq!(
        a.status.code(),
        Some(0),
        "audit after tail:\n{}",
        text(&a.stdout)
    );

    // The local change survives a reinstall, and so do the owner and mode, and the hash key.
    dpkg_ok(&["-i", deb]);
    assert_eq!(fs::read_to_string(cfg).unwrap(), local);
    assert_eq!(owner_mode(cfg), (uid, gid, 0o600));
    assert_eq!(
        fs::read_to_string(hash_key).unwrap(),
        key_text,
        "the key is kept"
    );

    // Purge: everything goes but sealed segments (the kept logs), which are named and left. (The
    // recipients file is the admin's: it goes first, or dpkg would keep /etc/logveil for it.)
    fs::remove_file(recipients).unwrap();
    fs::write("/var/lib/logveil/state/checkpoint", b"{}").unwrap();
    let o = dpkg(&["--purge", "logveil"]);
    assert!(o.status.success(), "dpkg --purge: {}", text(&o.stderr));
    assert!(text(&o.stderr).contains("kept /var/lib/logveil/segments"));
    assert!(!installed());
    for gone in [
        "/usr/bin/logveil",
        "/etc/logveil",
        hash_key,
        "/usr/lib/systemd/system/logveil-tail@.service",
        "/var/lib/logveil/state",
    ] {
        assert!(!Path::new(gone).exists(), "{gone} is left after purge");
    }
    assert!(
        Path::new(&seg).exists(),
        "a sealed segment was deleted by purge"
    );
    let so = run(
        Command::new("dpkg-statoverride").arg("--list"),
        "dpkg-statoverride --list",
    );
    assert!(
        !text(&so.stdout).contains("/etc/logveil"),
        "stat overrides left: {}",
        text(&so.stdout)
    );
}
