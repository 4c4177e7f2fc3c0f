//! `logveil audit` against the rest of the hand-written privacy checklist, with real things: SQLite
//! databases made by `sqlite3` and `sqlcipher`.

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
