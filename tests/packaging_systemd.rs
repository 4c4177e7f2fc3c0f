//! The systemd units in packaging/systemd, checked with the real `systemd-analyze` (Debian package
//! `systemd`; required when CI is set).
//!
//! `systemd-analyze verify` refuses a unit whose ExecStart program does not exist, and the units name the
//! installed path /usr/bin/logveil. So the units are verified inside a temporary root (`--root`): a copy
//! of the host's own unit directory (for the targets ours refer to), the merged-/usr links as on the host,
//! the built binary at /usr/bin/logveil, and the other programs the units run (/bin/kill) copied from the
//! host. Nothing outside the temporary directory is touched. The Debian package test verifies the
//! installed units again, in the real root.

mod packaging_support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use packaging_support::*;

fn units_dir() -> PathBuf {
    repo().join("packaging/systemd")
}

fn have_systemd_analyze() -> bool {
    require_tool(
        "systemd-analyze",
        &["--version"],
        "Debian package `systemd`",
    )
}

/// A temporary root holding systemd's units, ours, and every program our units run.
fn temp_root(with_logveil: bool) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    // The same /bin, /sbin, /lib layout as the host (links into /usr on merged-/usr systems).
    for d in ["bin", "sbin", "lib", "lib64"] {
        let host = Path::new("/").join(d);
        match fs::read_link(&host) {
            Ok(target) => std::os::unix::fs::symlink(target, r.join(d)).unwrap(),
            Err(_) if host.is_dir() => fs::create_dir_all(r.join(d)).unwrap(),
            Err(_) => {}
        }
    }
    for d in ["usr/bin", "usr/sbin", "usr/lib/systemd"] {
        fs::create_dir_all(r.join(d)).unwrap();
    }
    // systemd's own units, wherever this host keeps them.
    let mut seen = BTreeSet::new();
    for dir in ["/usr/lib/systemd/system", "/lib/systemd/system"] {
        let Ok(real) = fs::canonicalize(dir) else {
            continue;
        };
        if !seen.insert(real.clone()) {
            continue;
        }
        let dest = r.join(dir.trim_start_matches('/'));
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        run_ok(
            Command::new("cp").arg("-a").arg(&real).arg(&dest),
            "copy the host's systemd units",
        );
    }
    assert!(!seen.is_empty(), "no systemd unit directory on this host");
    // Ours, where the package puts them.
    let ours = r.join("lib/systemd/system");
    fs::create_dir_all(&ours).unwrap();
    for u in UNITS {
        fs::copy(units_dir().join(u), ours.join(u)).unwrap();
    }
    // The programs they run.
    for u in UNITS {
        for prog in exec_programs(&unit_entries(&units_dir().join(u))) {
            assert!(
                prog.starts_with('/'),
                "{u}: {prog}: Exec programs are absolute paths"
            );
            let dest = r.join(prog.trim_start_matches('/'));
            if dest.exists() {
                continue;
            }
            fs::create_dir_all(dest.parent().unwrap()).unwrap();
            if prog == "/usr/bin/logveil" {
                if with_logveil {
                    fs::copy(bin(), &dest).unwrap();
                }
            } else {
                fs::copy(&prog, &dest).unwrap_or_else(|e| {
                    panic!("{u} runs {prog}, which this host does not have: {e}")
                });
            }
        }
    }
    root
}

fn verify(root: &Path) -> std::process::Output {
    run(
        Command::new("systemd-analyze")
            .arg("verify")
            .arg("--man=no")
            .arg(format!("--root={}", root.display()))
            .args(UNITS_TO_VERIFY),
        "systemd-analyze verify",
    )
}

#[test]
fn units_pass_systemd_analyze_verify() {
    if !have_systemd_analyze() {
        return;
    }
    let root = temp_root(true);
    let o = verify(root.path());
    // verify exits 0 on mere warnings (an unknown or misspelt key is "ignoring"): those fail here too.
    assert!(
        o.status.success() && o.stderr.is_empty() && o.stdout.is_empty(),
        "systemd-analyze verify {:?}: {}\n--- stdout\n{}\n--- stderr\n{}",
        UNITS_TO_VERIFY,
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
}

#[test]
fn verify_checks_the_exec_start_program_in_the_temporary_root() {
    // The control for the test above: without /usr/bin/logveil in the root, verify fails and says so.
    if !have_systemd_analyze() {
        return;
    }
    let root = temp_root(false);
    let o = verify(root.path());
    let err = text(&o.stderr);
    assert!(!o.status.success(), "verify passed without the binary");
    assert!(
        err.contains("/usr/bin/logveil") && err.contains("logveil-tail@logveil.service"),
        "verify did not name the missing program: {err}"
    );
}

#[test]
fn services_are_rated_safe_by_systemd_analyze_security() {
    if !have_systemd_analyze() {
        return;
    }
    let root = temp_root(true);
    for unit in ["logveil-tail@logveil.service", "logveil-retention.service"] {
        // 10 = 1.0 of 10, well inside "SAFE".
        assert_exposure_at_most(root.path(), unit, 10);
    }
}

/// `systemd-analyze security` rates `unit` at most `tenths`/10 (its --threshold is the level times 10).
fn assert_exposure_at_most(root: &Path, unit: &str, tenths: u32) {
    let o = run(
        Command::new("systemd-analyze")
            .args(["security", "--offline=yes"])
            .arg(format!("--threshold={tenths}"))
            .arg(format!("--root={}", root.display()))
            .arg(unit),
        "systemd-analyze security",
    );
    let out = text(&o.stdout);
    let overall = out
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or("(no overall line)");
    eprintln!("{overall}");
    assert!(
        o.status.success(),
        "{unit}: exposure above {}.{}: {overall}\n{out}\n{}",
        tenths / 10,
        tenths % 10,
        text(&o.stderr)
    );
}

/// The ship unit needs the network (rclone talks to the storage), which costs it its exposure points for
/// PrivateNetwork, IPAddressDeny and the IP address families: systemd rates it 1.1 of 10. Everything else
/// is the retention unit's sandbox, key by key (plus PrivateUsers).
#[test]
fn ship_unit_has_the_retention_sandbox_but_the_network() {
    let ship = unit_entries(&units_dir().join("logveil-ship.service"));
    let retention = unit_entries(&units_dir().join("logveil-retention.service"));
    let network = ["PrivateNetwork", "IPAddressDeny", "RestrictAddressFamilies"];
    let own = [
        "Description",
        "Documentation",
        "After",
        "ExecStart",
        "ConditionPathExists",
    ];
    let mut compared = 0;
    for (k, _) in &retention {
        if network.contains(&k.as_str()) || own.contains(&k.as_str()) {
            continue;
        }
        assert_eq!(
            unit_values(&ship, k),
            unit_values(&retention, k),
            "logveil-ship.service: {k}"
        );
        compared += 1;
    }
    assert!(compared >= 30, "only {compared} directives compared");
    assert_eq!(unit_values(&ship, "PrivateNetwork"), Vec::<String>::new());
    assert_eq!(
        unit_values(&ship, "RestrictAddressFamilies"),
        ["AF_UNIX AF_INET AF_INET6"]
    );
    assert_eq!(unit_values(&ship, "PrivateUsers"), ["yes"]);
    assert_eq!(
        unit_values(&ship, "ConditionPathExists"),
        ["/etc/logveil/logveil.yaml", "/etc/logveil/rclone.conf"]
    );

    if !have_systemd_analyze() {
        return;
    }
    let root = temp_root(true);
    assert_exposure_at_most(root.path(), "logveil-ship.service", 11);
}

/// What the issue requires of the sidecar's sandbox, and that its writable paths are exactly the
/// directories the packaged config uses.
#[test]
fn tail_unit_is_hardened_and_writes_only_the_configured_directories() {
    let cfg = logveil::config::Config::load(Some(&repo().join("packaging/logveil.example.yaml")))
        .expect("the example config loads");
    let segments = cfg.segments.out_dir.clone().expect("segments.dir is set");
    let state = cfg.tail.state_dir.clone().expect("tail.state_dir is set");
    assert!(
        cfg.metrics_file.is_none(),
        "the example config writes a metrics file: add its directory to ReadWritePaths"
    );
    if let Some(log) = &cfg.retention.privacy_log {
        assert!(
            log.starts_with(&segments),
            "privacy log outside the segment dir"
        );
    }

    for (unit, writable) in [
        ("logveil-tail@.service", vec![&segments, &state]),
        ("logveil-retention.service", vec![&segments]),
        ("logveil-ship.service", vec![&segments]),
    ] {
        let e = unit_entries(&units_dir().join(unit));
        let one = |k: &str| {
            let v = unit_values(&e, k);
            assert_eq!(v.len(), 1, "{unit}: {k} set {} times", v.len());
            v[0].clone()
        };
        assert_eq!(one("User"), "logveil", "{unit}");
        assert_eq!(one("ProtectSystem"), "strict", "{unit}");
        assert_eq!(one("NoNewPrivileges"), "yes", "{unit}");
        assert_eq!(one("PrivateTmp"), "yes", "{unit}");
        assert_eq!(one("CapabilityBoundingSet"), "", "{unit}");
        assert_eq!(one("UMask"), "0077", "{unit}");
        // A crash must not write unredacted memory to a core file; memory and open files are bounded
        // and cover many sources (the default soft limit of 1024 does not).
        assert_eq!(one("LimitCORE"), "0", "{unit}");
        let mem = one("MemoryMax");
        assert!(
            mem.ends_with('M')
                && mem
                    .trim_end_matches('M')
                    .parse::<u64>()
                    .is_ok_and(|m| m >= 256),
            "{unit}: MemoryMax={mem}"
        );
        let nofile = one("LimitNOFILE");
        let soft = nofile.split(':').next().unwrap_or_default();
        assert!(
            soft.parse::<u64>().is_ok_and(|n| n >= 8192),
            "{unit}: LimitNOFILE={nofile}: soft limit below 8192"
        );
        let rw: BTreeSet<PathBuf> = unit_values(&e, "ReadWritePaths")
            .iter()
            .flat_map(|v| v.split_whitespace().map(PathBuf::from).collect::<Vec<_>>())
            .collect();
        let want: BTreeSet<PathBuf> = writable.into_iter().cloned().collect();
        assert_eq!(rw, want, "{unit}: ReadWritePaths");
    }

    let e = unit_entries(&units_dir().join("logveil-tail@.service"));
    let reload = unit_values(&e, "ExecReload");
    assert_eq!(
        reload.last().map(String::as_str),
        Some("/bin/kill -HUP $MAINPID"),
        "the last ExecReload sends SIGHUP"
    );
    assert_eq!(unit_values(&e, "KillSignal"), ["SIGTERM"]);
}

/// The config checks the units run before start and before reload, as written, on the packaged config
/// (`/etc/logveil/%i.yaml` with instance `logveil` is packaging/logveil.example.yaml): as shipped, with
/// `recipients: []`, they fail with one clear message (so a fresh install does not start, and a reload of
/// a bad config fails before SIGHUP is sent); with a recipient (and the packaged directories in a
/// temporary place) they pass, printing nothing for the journal.
#[test]
fn unit_config_checks_refuse_the_packaged_config_until_it_has_a_recipient() {
    let example = repo().join("packaging/logveil.example.yaml");
    let tmp = tempfile::tempdir().unwrap();
    let k = run_ok(
        Command::new(bin())
            .args(["keygen", "-o"])
            .arg(tmp.path().join("key.txt")),
        "keygen",
    );
    let configured = tmp.path().join("logveil.yaml");
    let shipped = fs::read_to_string(&example).unwrap();
    assert_eq!(shipped.matches("    recipients: []\n").count(), 1);
    fs::write(
        &configured,
        shipped
            .replace(
                "    recipients: []\n",
                &format!("    recipients: [\"{}\"]\n", text_trim(&k.stdout)),
            )
            .replace("/var/lib/logveil", tmp.path().join("lib").to_str().unwrap()),
    )
    .unwrap();
    let mut checked = 0;
    for u in UNITS {
        let e = unit_entries(&units_dir().join(u));
        for (k, v) in &e {
            if !k.starts_with("Exec") || !v.contains(" config check ") {
                continue;
            }
            for (cfg, ok) in [(&example, false), (&configured, true)] {
                let line = v.replace("/etc/logveil/%i.yaml", cfg.to_str().unwrap());
                let mut words = line.split_whitespace();
                assert_eq!(words.next(), Some("/usr/bin/logveil"), "{u}: {k}");
                let o = run(
                    Command::new(bin()).args(words).env_remove("LOGVEIL_CONFIG"),
                    "config check",
                );
                let err = text(&o.stderr);
                if ok {
                    assert!(o.status.success(), "{u}: {k}={v}: {}\n{err}", o.status);
                    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "--quiet: {err}");
                } else {
                    assert_eq!(o.status.code(), Some(2), "{u}: {k}={v}: {err}");
                    assert!(err.contains("no recipient"), "{err}");
                    assert_eq!(err.matches("logveil: error:").count(), 1, "{err}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "ExecStartPre and ExecReload of the tail unit");
}

fn text_trim(b: &[u8]) -> String {
    text(b).trim().to_owned()
}

/// systemd value of a time span such as `5s`, `10min`, `1h` (the forms the units use), in seconds.
fn seconds(v: &str) -> u64 {
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (n, unit) = v.split_at(split);
    let n: u64 = n.parse().unwrap_or_else(|_| panic!("time span {v:?}"));
    n * match unit {
        "" | "s" => 1,
        "min" => 60,
        "h" => 3600,
        _ => panic!("time span {v:?}"),
    }
}

/// A sidecar that cannot start (a bad config) is not restarted forever: its restarts reach the start
/// limit within the limit's interval, so the unit ends up failed and says why, instead of looping.
#[test]
fn a_sidecar_that_keeps_failing_hits_the_start_limit() {
    let e = unit_entries(&units_dir().join("logveil-tail@.service"));
    let one = |k: &str| {
        let v = unit_values(&e, k);
        assert_eq!(v.len(), 1, "{k}: {v:?}");
        v[0].clone()
    };
    assert_eq!(one("Restart"), "on-failure");
    let restart = seconds(&one("RestartSec"));
    let burst: u64 = one("StartLimitBurst").parse().unwrap();
    let interval = seconds(&one("StartLimitIntervalSec"));
    assert!(burst >= 2, "a transient failure gets retried");
    assert!(
        burst * restart < interval,
        "{burst} starts {restart} s apart fit in {interval} s: the limit trips"
    );
}

/// The paths the example config suggests in comments are writable in the units' sandbox (or say what
/// drop-in they need), and the tail unit and the README agree on who deletes expired segments.
#[test]
fn example_paths_fit_the_sandbox_and_the_docs_agree_on_retention() {
    let example = fs::read_to_string(repo().join("packaging/logveil.example.yaml")).unwrap();
    let uncommented = example.replace("# privacy_log:", "privacy_log:");
    let cfg = logveil::config::Config::from_yaml_str(&uncommented).unwrap();
    let log = cfg
        .retention
        .privacy_log
        .expect("the example names a privacy log");
    for unit in ["logveil-tail@.service", "logveil-retention.service"] {
        let e = unit_entries(&units_dir().join(unit));
        let rw: Vec<PathBuf> = unit_values(&e, "ReadWritePaths")
            .iter()
            .flat_map(|v| v.split_whitespace().map(PathBuf::from).collect::<Vec<_>>())
            .collect();
        assert!(
            rw.iter().any(|d| log.starts_with(d)),
            "{unit}: the example privacy_log {} is outside {rw:?}",
            log.display()
        );
    }
    assert!(example.contains("ReadWritePaths=/var/lib/prometheus/node-exporter"));
    let phrase = "deletes its expired segments in-process";
    let unit = fs::read_to_string(units_dir().join("logveil-tail@.service")).unwrap();
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(unit.contains(phrase) && readme.contains(phrase));
    assert!(!unit.contains("deleted by\n# logveil-retention.timer"));
}
