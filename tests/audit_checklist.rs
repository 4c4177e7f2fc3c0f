//! `logveil audit` against the rest of the hand-written privacy checklist, with real things: SQLite
//! databases made by `sqlite3` and `sqlcipher`, files encrypted by `gpg --symmetric`, and a rotated log
//! sealed by `logveil seal --keep`.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::have;
use serde_json::Value;

const PHONE: &str = "13812345678";

fn logveil(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logveil"));
    cmd.args(args)
        .env_remove("LOGVEIL_CONFIG")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run logveil")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); stdout: {}; stderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn audit_json(args: &[&str], env: &[(&str, &Path)]) -> (Option<i32>, Value) {
    let o = logveil(&[&["audit", "--json"], args].concat(), env);
    (o.status.code(), json(&o))
}

fn findings<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

fn kinds(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect();
    k.sort();
    k
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn private_dir(p: &Path) -> PathBuf {
    fs::create_dir_all(p).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(0o700)).unwrap();
    p.to_path_buf()
}

fn private_file(p: &Path, data: &[u8]) -> PathBuf {
    fs::write(p, data).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(0o600)).unwrap();
    p.to_path_buf()
}

/// Makes every file under `dir` 0600 (the tools create them 0644), so that only the planted problem shows.
fn make_private(dir: &Path) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).unwrap();
            make_private(&p);
        } else if e.file_type().unwrap().is_file() {
            fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

// ---------------------------------------------------------------------------------------------------------
// Stored conversations: SQLite databases.

#[test]
fn plain_sqlite_databases_and_their_wal_journal_and_shm_files_are_findings() {
    if !have("sqlite3") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = private_dir(&tmp.path().join("bot"));
    // A database in rollback-journal mode; journal_mode=PERSIST keeps its -journal file after the write.
    let chat = dir.join("chat.db");
    run(Command::new("sqlite3").arg(&chat).arg(format!(
        "PRAGMA journal_mode=PERSIST; CREATE TABLE m(t TEXT); INSERT INTO m VALUES('call {PHONE}');"
    )));
    // A database in WAL mode held open by a running sqlite3, as a live bot holds it: its -wal and -shm
    // files exist only while a connection is open.
    let live = dir.join("live.db");
    let mut holder = Command::new("sqlite3")
        .arg(&live)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = holder.stdin.take().unwrap();
    stdin
        .write_all(
            b"PRAGMA journal_mode=WAL;\nCREATE TABLE m(t TEXT);\nINSERT INTO m VALUES('x');\n.print ready\n",
        )
        .unwrap();
    stdin.flush().unwrap();
    // Once it says `ready` the statements are done, and the files stay as they are until it exits.
    let mut out = BufReader::new(holder.stdout.take().unwrap());
    let mut line = String::new();
    while line.trim() != "ready" {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "sqlite3 ended early");
    }
    let wal = dir.join("live.db-wal");
    let shm = dir.join("live.db-shm");
    assert!(fs::metadata(&wal).unwrap().len() > 32, "frames in the WAL");
    assert!(shm.exists());
    // Text that starts like the header is not a database (the header ends with a NUL byte).
    private_file(
        &dir.join("notes.txt"),
        b"SQLite format 3 notes: back up chat.db\n",
    );
    make_private(&dir);

    let (code, v) = audit_json(&[s(&dir)], &[]);
    assert_eq!(code, Some(1), "{v:#}");
    let mut got: Vec<(String, String)> = findings(&v, "plaintext_database")
        .iter()
        .map(|f| {
            assert_eq!(f["check"], "encryption");
            let path = f["path"].as_str().unwrap().to_string();
            assert_eq!(
                f["size_bytes"].as_u64().unwrap(),
                fs::metadata(&path).unwrap().len(),
                "{path}"
            );
            (path, f["part"].as_str().unwrap().to_string())
        })
        .collect();
    got.sort();
    let mut want = vec![
        (chat.display().to_string(), "database".to_string()),
        (format!("{}-journal", chat.display()), "journal".into()),
        (live.display().to_string(), "database".into()),
        (wal.display().to_string(), "wal".into()),
        (shm.display().to_string(), "shm".into()),
    ];
    want.sort();
    assert_eq!(got, want);
    // Sizes were compared while the database was still open; closing it checkpoints the WAL.
    drop(stdin);
    holder.wait().unwrap();
    assert_eq!(kinds(&v).len(), 5, "only the databases: {v:#}");
    // Rows are never read: no PII finding for the phone number inside chat.db, and it is not "skipped".
    assert!(findings(&v, "residual_pii").is_empty(), "{v:#}");
    assert!(v["skipped"].as_array().unwrap().is_empty(), "{v:#}");
    assert!(!serde_json::to_string(&v).unwrap().contains(PHONE));
    assert_eq!(v["summary"]["by_check"]["encryption"], 5);
}

#[test]
fn an_sqlcipher_database_and_its_journal_are_not_findings() {
    // SQLCipher is packaged in Debian (`sqlcipher`): the real thing, not random bytes standing in for it.
    if !have("sqlcipher") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = private_dir(&tmp.path().join("bot"));
    let enc = dir.join("chat.db");
    run(Command::new("sqlcipher").arg(&enc).arg(format!(
        "PRAGMA key='correct horse battery'; PRAGMA journal_mode=PERSIST; \
         CREATE TABLE m(t TEXT); INSERT INTO m VALUES('call {PHONE}');"
    )));
    let head = fs::read(&enc).unwrap();
    assert!(head.len() >= 1024, "sqlcipher wrote a database");
    assert_ne!(
        &head[..16],
        b"SQLite format 3\0",
        "encrypted, header included"
    );
    assert!(dir.join("chat.db-journal").exists());
    make_private(&dir);

    let (code, v) = audit_json(&[s(&dir)], &[]);
    assert!(findings(&v, "plaintext_database").is_empty(), "{v:#}");
    assert_eq!(code, Some(0), "{v:#}");
}

// ---------------------------------------------------------------------------------------------------------
// Leftovers.

#[test]
fn a_gpg_symmetric_file_with_its_passphrase_beside_it_is_a_leftover() {
    if !have("gpg") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let home = private_dir(&tmp.path().join("gnupg"));
    let src = private_dir(&tmp.path().join("src"));
    let root = private_dir(&tmp.path().join("root"));
    let with_pass = private_dir(&root.join("backups"));
    let alone = private_dir(&root.join("offsite"));
    let plain = private_file(&src.join("chat.tar"), b"conversation export\n");
    let pass = private_file(&with_pass.join("pass.txt"), b"correct horse battery\n");
    let gpg = |out: &Path, armor: bool| {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", &home)
            .args([
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase-file",
            ])
            .arg(&pass)
            .arg("--symmetric");
        if armor {
            cmd.arg("--armor");
        }
        run(cmd.arg("-o").arg(out).arg(&plain));
    };
    let binary = with_pass.join("chat.tar.gpg");
    let armored = with_pass.join("chat.tar.asc");
    let elsewhere = alone.join("chat.tar.gpg");
    gpg(&binary, false);
    gpg(&armored, true);
    gpg(&elsewhere, false);
    make_private(&root);

    let (code, v) = audit_json(&[s(&root)], &[]);
    assert_eq!(code, Some(1), "{v:#}");
    let f = findings(&v, "leftover");
    let mut paths: Vec<&str> = f.iter().map(|x| x["path"].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(paths, vec![s(&armored), s(&binary)], "{v:#}");
    for x in &f {
        assert_eq!(x["check"], "leftovers");
        assert_eq!(x["reason"], "gpg_with_passphrase");
        assert_eq!(x["passphrase_file"], s(&pass));
    }
    assert_eq!(kinds(&v).len(), 2, "{v:#}");
}

#[test]
fn rotated_copies_of_sealed_logs_are_leftovers() {
    let tmp = tempfile::tempdir().unwrap();
    let root = private_dir(&tmp.path().join("root"));
    let logs = private_dir(&root.join("logs"));
    let seg = private_dir(&root.join("segments"));
    let config = private_file(
        &tmp.path().join("logveil.yaml"),
        format!("logveil:\n  segments:\n    dir: '{}'\n", seg.display()).as_bytes(),
    );
    let key = tmp.path().join("key.txt");
    let o = logveil(&["keygen", "-o", s(&key)], &[]);
    assert!(o.status.success());
    let recipient = String::from_utf8(o.stdout).unwrap().trim().to_string();
    // The logrotate hook's job, done with --keep: the segments are made and the rotated copy stays.
    let kept = private_file(&logs.join("output.log.1"), b"line one\nline two\n");
    let o = logveil(
        &[
            "seal",
            "--config",
            s(&config),
            "-r",
            &recipient,
            "--keep",
            s(&kept),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let older = private_file(&logs.join("output.log.2.gz"), &gzip(b"older\n"));
    let dated = private_file(&logs.join("output.log-20261124"), b"older still\n");
    // Not leftovers: the live log, and a rotated log whose stream is sealed nowhere.
    private_file(&logs.join("output.log"), b"live\n");
    private_file(&logs.join("other.log.1"), b"not sealed by logveil\n");
    // Beside sealed segments, any rotated copy is a leftover.
    let beside = private_file(&seg.join("bot.log.3"), b"left here\n");
    make_private(&root);

    let (code, v) = audit_json(&["--config", s(&config), s(&root)], &[]);
    assert_eq!(code, Some(1), "{v:#}");
    let mut got: Vec<(String, String, String)> = findings(&v, "leftover")
        .iter()
        .map(|f| {
            assert_eq!(f["check"], "leftovers");
            assert_eq!(f["reason"], "rotated_log");
            (
                f["path"].as_str().unwrap().into(),
                f["stream"].as_str().unwrap().into(),
                f["sealed_in"].as_str().unwrap().into(),
            )
        })
        .collect();
    got.sort();
    let seg_s = seg.display().to_string();
    let mut want = vec![
        (s(&kept).to_string(), "output.log".into(), seg_s.clone()),
        (s(&older).to_string(), "output.log".into(), seg_s.clone()),
        (s(&dated).to_string(), "output.log".into(), seg_s.clone()),
        (s(&beside).to_string(), "bot.log".into(), seg_s.clone()),
    ];
    want.sort();
    assert_eq!(got, want, "{v:#}");
    let text =
        String::from_utf8_lossy(&logveil(&["audit", "--config", s(&config), s(&root)], &[]).stdout)
            .into_owned();
    assert!(
        text.contains(&format!(
            "leftovers    {}: rotated plaintext copy of output.log, its stream is sealed in {}",
            kept.display(),
            seg.display()
        )),
        "{text}"
    );
}

fn gzip(plain: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(plain).unwrap();
    e.finish().unwrap()
}

#[test]
fn temp_files_matching_the_configs_globs_are_leftovers_wherever_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let scratch = private_dir(&tmp.path().join("tmp"));
    let file = private_file(&scratch.join("clawdbot-8f3a.json"), b"{\"q\": \"hi\"}\n");
    let dir = private_dir(&scratch.join("clawdbot-upload"));
    private_file(&dir.join("part"), b"x\n");
    private_file(&scratch.join("other-tool.tmp"), b"x\n");
    let glob = format!("{}/clawdbot-*", scratch.display());
    let config = private_file(
        &tmp.path().join("logveil.yaml"),
        format!("logveil:\n  audit:\n    temp_globs: ['{glob}']\n").as_bytes(),
    );
    // The audited PATH is elsewhere and clean: the globs are looked at anyway.
    let root = private_dir(&tmp.path().join("root"));
    let check = |v: &Value| {
        let f = findings(v, "leftover");
        let mut got: Vec<(&str, &str, &str)> = f
            .iter()
            .map(|x| {
                (
                    x["path"].as_str().unwrap(),
                    x["reason"].as_str().unwrap(),
                    x["glob"].as_str().unwrap(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                (s(&file), "temp_file", glob.as_str()),
                (s(&dir), "temp_file", glob.as_str())
            ],
            "{v:#}"
        );
        assert_eq!(kinds(v).len(), 2, "{v:#}");
    };
    let (code, v) = audit_json(&["--config", s(&config), s(&root)], &[]);
    assert_eq!(code, Some(1));
    check(&v);
    // With temp globs in the config, no PATH is needed.
    let (code, v) = audit_json(&["--config", s(&config)], &[]);
    assert_eq!(code, Some(1));
    check(&v);
    let o = logveil(&["audit", "--config", s(&config)], &[]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!(
            "leftovers    {}: temporary directory left by the bot (matches {glob})",
            dir.display()
        )),
        "{text}"
    );
    fs::remove_file(&file).unwrap();
    fs::remove_dir_all(&dir).unwrap();
    let (code, v) = audit_json(&["--config", s(&config), s(&root)], &[]);
    assert_eq!(code, Some(0), "{v:#}");
}

#[test]
fn nothing_to_audit_exits_2() {
    let o = logveil(&["audit"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("nothing to audit"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
