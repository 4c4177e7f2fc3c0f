//! `logveil audit` against the rest of the hand-written privacy checklist, with real things: SQLite
//! databases made by `sqlite3` and `sqlcipher`, files encrypted by `gpg --symmetric`, a rotated log sealed
//! by `logveil seal --keep`, and TLS servers run by `openssl s_server` on loopback (TLS 1.3; TLS 1.0 and
//! 1.1 only; expired, expiring, not yet valid and wrongly named certificates), a refused port and a server
//! that does not speak TLS. Nothing here leaves the loopback interface.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::have;
use jiff::{SignedDuration, Timestamp};
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

/// Runs logveil, which must exit 2 with `what` in its error.
fn exits_2_saying(args: &[&str], what: &str) {
    let o = logveil(args, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(what), "{args:?}: {err}");
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
    exits_2_saying(&["audit"], "nothing to audit");
}

// ---------------------------------------------------------------------------------------------------------
// TLS, against `openssl s_server` on 127.0.0.1.

/// A test CA made with the openssl CLI, and leaf certificates it signs with any validity dates.
struct Pki {
    dir: PathBuf,
    ca: PathBuf,
    ca_key: PathBuf,
    n: std::cell::Cell<u32>,
}

fn openssl_time(t: Timestamp) -> String {
    t.strftime("%Y%m%d%H%M%SZ").to_string()
}

impl Pki {
    fn new(dir: &Path, name: &str) -> Pki {
        let dir = private_dir(&dir.join(name));
        let ca = dir.join("ca.pem");
        let ca_key = dir.join("ca.key");
        run(Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "3650", "-subj"])
            .arg(format!("/CN=logveil test {name}"))
            .arg("-keyout")
            .arg(&ca_key)
            .arg("-out")
            .arg(&ca));
        fs::write(dir.join("index.txt"), b"").unwrap();
        fs::write(dir.join("serial"), b"01\n").unwrap();
        fs::write(
            dir.join("ca.cnf"),
            "[ ca ]\ndefault_ca = ca_default\n[ ca_default ]\ndatabase = index.txt\n\
             new_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = policy_any\n\
             unique_subject = no\n[ policy_any ]\ncommonName = supplied\n",
        )
        .unwrap();
        Pki {
            dir,
            ca,
            ca_key,
            n: std::cell::Cell::new(0),
        }
    }

    /// A leaf for the DNS name `san`, valid from `start` to `end`: (certificate, key).
    fn leaf(&self, san: &str, start: Timestamp, end: Timestamp) -> (PathBuf, PathBuf) {
        self.n.set(self.n.get() + 1);
        let n = self.n.get();
        let key = self.dir.join(format!("leaf{n}.key"));
        let csr = self.dir.join(format!("leaf{n}.csr"));
        let cert = self.dir.join(format!("leaf{n}.pem"));
        let ext = self.dir.join(format!("leaf{n}.ext"));
        fs::write(
            &ext,
            format!(
                "subjectAltName=DNS:{san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            ),
        )
        .unwrap();
        run(Command::new("openssl")
            .args([
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
            ])
            .args(["-subj", &format!("/CN={san}")])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&csr));
        run(Command::new("openssl")
            .current_dir(&self.dir)
            .args(["ca", "-batch", "-notext", "-config", "ca.cnf"])
            .arg("-cert")
            .arg(&self.ca)
            .arg("-keyfile")
            .arg(&self.ca_key)
            .arg("-in")
            .arg(&csr)
            .arg("-out")
            .arg(&cert)
            .args(["-startdate", &openssl_time(start)])
            .args(["-enddate", &openssl_time(end)])
            .arg("-extfile")
            .arg(&ext));
        (cert, key)
    }

    /// A leaf for localhost, valid from an hour ago for 30 days.
    fn good_leaf(&self) -> (PathBuf, PathBuf) {
        self.leaf("localhost", from_now(-1), from_now(30 * 24))
    }
}

fn from_now(hours: i64) -> Timestamp {
    Timestamp::now()
        .checked_add(SignedDuration::from_hours(hours))
        .unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `openssl s_server` on 127.0.0.1, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(cert: &Path, key: &Path, extra: &[&str]) -> Server {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new("openssl")
                .args(["s_server", "-www", "-accept"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("-cert")
                .arg(cert)
                .arg("-key")
                .arg(key)
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("openssl s_server");
            let stdout = child.stdout.take().unwrap();
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if line.trim() == "ACCEPT" {
                        let _ = tx.send(());
                    }
                }
            });
            if rx.recv_timeout(Duration::from_secs(60)).is_ok() {
                return Server { child, port };
            }
            let _ = child.kill();
            let _ = child.wait();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            last = err;
        }
        panic!("openssl s_server {extra:?} did not start: {last}");
    }

    fn endpoint(&self) -> String {
        format!("localhost:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn have_openssl() -> bool {
    have("openssl")
}

fn endpoint_report<'a>(v: &'a Value, ep: &str) -> &'a Value {
    v["tls"]
        .as_array()
        .unwrap_or_else(|| panic!("no tls entries: {v:#}"))
        .iter()
        .find(|t| t["endpoint"] == ep)
        .unwrap_or_else(|| panic!("no tls entry for {ep}: {v:#}"))
}

fn tls_findings<'a>(v: &'a Value, ep: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == ep)
        .inspect(|f| assert_eq!(f["check"], "tls"))
        .collect()
}

#[test]
fn a_tls13_endpoint_that_chains_to_the_ca_is_clean_and_its_session_is_reported() {
    if !have_openssl() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pki = Pki::new(tmp.path(), "ca");
    let other = Pki::new(tmp.path(), "other-ca");
    let (cert, key) = pki.good_leaf();
    let srv = Server::start(&cert, &key, &["-tls1_3"]);
    let ep = srv.endpoint();

    let (code, v) = audit_json(&["--tls", &ep, "--tls-ca", s(&pki.ca)], &[]);
    assert_eq!(code, Some(0), "{v:#}");
    let t = endpoint_report(&v, &ep);
    assert_eq!(t["protocol"], "TLSv1.3");
    assert!(t["cipher"].as_str().unwrap().starts_with("TLS13_"), "{t:#}");
    assert_eq!(t["address"], format!("127.0.0.1:{}", srv.port));
    assert_eq!(t["legacy_protocol"], Value::Null);
    assert_eq!(t["chain_valid"], true);
    assert_eq!(t["name_valid"], true);
    assert_eq!(t["trusted_by"], format!("CA file {}", pki.ca.display()));
    let days = t["days_left"].as_i64().unwrap();
    assert!((29..=30).contains(&days), "{t:#}");
    assert_eq!(v["paths"].as_array().unwrap().len(), 0);
    assert_eq!(v["summary"]["by_check"]["tls"], 0);

    let o = logveil(&["audit", "--tls", &ep, "--tls-ca", s(&pki.ca)], &[]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!("endpoint     {ep}: TLSv1.3 TLS13_")),
        "{text}"
    );
    assert!(text.contains("name matches"), "{text}");

    // The system roots: the host's trust store, here set with SSL_CERT_FILE (as OpenSSL reads it).
    let (code, v) = audit_json(&["--tls", &ep], &[("SSL_CERT_FILE", &pki.ca)]);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(endpoint_report(&v, &ep)["trusted_by"], "system roots");
    let (code, v) = audit_json(&["--tls", &ep], &[("SSL_CERT_FILE", &other.ca)]);
    assert_eq!(code, Some(1));
    let f = tls_findings(&v, &ep);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["kind"], "tls_untrusted");
    assert_eq!(f[0]["trusted_by"], "system roots");
    let t = endpoint_report(&v, &ep);
    assert_eq!(t["chain_valid"], false);
    assert_eq!(t["name_valid"], true, "the name is judged on its own");

    // The config key names endpoints (and the CA file) without flags; --tls replaces its endpoints.
    let refused = format!("localhost:{}", free_port());
    let config = private_file(
        &tmp.path().join("logveil.yaml"),
        format!(
            "logveil:\n  audit:\n    tls: ['{ep}']\n    tls_ca_file: '{}'\n",
            pki.ca.display()
        )
        .as_bytes(),
    );
    let (code, v) = audit_json(&["--config", s(&config)], &[]);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(endpoint_report(&v, &ep)["protocol"], "TLSv1.3");
    let (code, v) = audit_json(&["--config", s(&config), "--tls", &refused], &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["tls"].as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(v["tls"][0]["endpoint"], refused.as_str());
}

#[test]
fn servers_that_accept_tls_1_0_or_1_1_are_findings() {
    if !have_openssl() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pki = Pki::new(tmp.path(), "ca");
    let (cert, key) = pki.good_leaf();
    // OpenSSL 3 allows TLS 1.0/1.1 only at security level 0 (their signatures use SHA-1).
    let legacy = ["-cipher", "DEFAULT:@SECLEVEL=0"];
    let only10 = Server::start(&cert, &key, &[&["-tls1"], &legacy[..]].concat());
    let only11 = Server::start(&cert, &key, &[&["-tls1_1"], &legacy[..]].concat());
    let any = Server::start(
        &cert,
        &key,
        &[&["-min_protocol", "TLSv1"], &legacy[..]].concat(),
    );
    let modern = Server::start(&cert, &key, &[]);
    let (e10, e11, eany, emodern) = (
        only10.endpoint(),
        only11.endpoint(),
        any.endpoint(),
        modern.endpoint(),
    );
    let (code, v) = audit_json(
        &[
            "--tls",
            &e10,
            "--tls",
            &e11,
            "--tls",
            &eany,
            "--tls",
            &emodern,
            "--tls-ca",
            s(&pki.ca),
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{v:#}");
    for (ep, version) in [(&e10, "TLSv1.0"), (&e11, "TLSv1.1")] {
        let f = tls_findings(&v, ep);
        assert_eq!(f.len(), 1, "{ep}: {v:#}");
        assert_eq!(f[0]["kind"], "tls_old_protocol");
        assert_eq!(f[0]["protocol"], version);
        let t = endpoint_report(&v, ep);
        assert_eq!(t["protocol"], Value::Null, "rustls cannot speak it");
        assert_eq!(t["legacy_protocol"], version);
        // The certificate of the old server's first flight is still judged.
        assert_eq!(t["chain_valid"], true, "{t:#}");
        assert_eq!(t["name_valid"], true);
        assert!(t["not_after"].is_string());
    }
    // A server that speaks TLS 1.3 to a modern client but still lets an old one in.
    let f = tls_findings(&v, &eany);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["kind"], "tls_old_protocol");
    assert_eq!(f[0]["protocol"], "TLSv1.1");
    assert_eq!(endpoint_report(&v, &eany)["protocol"], "TLSv1.3");
    // OpenSSL's defaults refuse a client limited to TLS 1.1.
    assert!(tls_findings(&v, &emodern).is_empty(), "{v:#}");
    assert_eq!(
        endpoint_report(&v, &emodern)["legacy_protocol"],
        Value::Null
    );
    assert_eq!(v["summary"]["by_check"]["tls"], 3);
}

#[test]
fn expired_expiring_and_not_yet_valid_certificates_are_findings() {
    if !have_openssl() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pki = Pki::new(tmp.path(), "ca");
    let start = "2020-01-01T00:00:00Z".parse().unwrap();
    let end: Timestamp = "2020-02-01T00:00:00Z".parse().unwrap();
    let (c, k) = pki.leaf("localhost", start, end);
    let expired = Server::start(&c, &k, &[]);
    let (c, k) = pki.leaf("localhost", from_now(-24), from_now(5 * 24 - 1));
    let expiring = Server::start(&c, &k, &[]);
    let (c, k) = pki.leaf("localhost", from_now(48), from_now(60 * 24));
    let future = Server::start(&c, &k, &[]);
    let (c, k) = pki.good_leaf();
    let good = Server::start(&c, &k, &[]);
    let all = [&expired, &expiring, &future, &good];
    let mut args: Vec<String> = Vec::new();
    for srv in all {
        args.extend(["--tls".to_string(), srv.endpoint()]);
    }
    args.extend(["--tls-ca".to_string(), s(&pki.ca).to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let (code, v) = audit_json(&args, &[]);
    assert_eq!(code, Some(1), "{v:#}");
    let f = tls_findings(&v, &expired.endpoint());
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["kind"], "tls_cert_expired");
    assert_eq!(f[0]["not_after"], end.to_string());
    let t = endpoint_report(&v, &expired.endpoint());
    assert!(t["days_left"].as_i64().unwrap() < -300);
    assert_eq!(
        t["chain_valid"], true,
        "the chain is judged apart from expiry"
    );
    assert_eq!(t["name_valid"], true);

    let f = tls_findings(&v, &expiring.endpoint());
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["kind"], "tls_cert_expiring");
    assert_eq!(
        f[0]["days_left"],
        4,
        "4 days and 23 hours: {:#}",
        endpoint_report(&v, &expiring.endpoint())
    );
    assert_eq!(f[0]["warning"], "14d");

    let f = tls_findings(&v, &future.endpoint());
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["kind"], "tls_cert_not_yet_valid");
    assert!(tls_findings(&v, &good.endpoint()).is_empty());

    // The warning window is configurable; --as-of moves "now" for certificates too.
    let mut a = args.clone();
    a.extend(["--tls-expiry-warning", "3d"]);
    let (_, v) = audit_json(&a, &[]);
    assert!(tls_findings(&v, &expiring.endpoint()).is_empty(), "{v:#}");
    let later = from_now(20 * 24).to_string();
    let (_, v) = audit_json(
        &[
            "--tls",
            &good.endpoint(),
            "--tls-ca",
            s(&pki.ca),
            "--as-of",
            &later,
        ],
        &[],
    );
    let f = tls_findings(&v, &good.endpoint());
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["kind"], "tls_cert_expiring");
}

#[test]
fn a_certificate_for_another_name_is_a_finding() {
    if !have_openssl() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let pki = Pki::new(tmp.path(), "ca");
    let (c, k) = pki.leaf("chat.example.org", from_now(-1), from_now(30 * 24));
    let wrong = Server::start(&c, &k, &[]);
    let (c, k) = pki.good_leaf();
    let good = Server::start(&c, &k, &[]);
    let by_ip = format!("127.0.0.1:{}", good.port);
    let (code, v) = audit_json(
        &[
            "--tls",
            &wrong.endpoint(),
            "--tls",
            &by_ip,
            "--tls",
            &good.endpoint(),
            "--tls-ca",
            s(&pki.ca),
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{v:#}");
    let f = tls_findings(&v, &wrong.endpoint());
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["kind"], "tls_name_mismatch");
    assert_eq!(f[0]["name"], "localhost");
    assert_eq!(endpoint_report(&v, &wrong.endpoint())["chain_valid"], true);
    // The same good certificate reached by its IP address: the address is not among its names.
    let f = tls_findings(&v, &by_ip);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["kind"], "tls_name_mismatch");
    assert_eq!(f[0]["name"], "127.0.0.1");
    assert!(tls_findings(&v, &good.endpoint()).is_empty());
}

#[test]
fn a_refused_port_and_a_server_that_is_not_tls_are_findings_not_crashes() {
    let refused = format!("127.0.0.1:{}", free_port());
    // A server that answers anything with an HTTP error, as a plain HTTP port does.
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_ep = format!("127.0.0.1:{}", plain.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for mut c in plain.incoming().take(2).flatten() {
            let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 512];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let (code, v) = audit_json(&["--tls", &refused, "--tls", &plain_ep], &[]);
    assert_eq!(code, Some(1), "{v:#}");
    let f = tls_findings(&v, &refused);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["kind"], "tls_unreachable");
    assert!(
        f[0]["error"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{v:#}"
    );
    let t = endpoint_report(&v, &refused);
    assert_eq!(t["address"], Value::Null);
    assert_eq!(t["protocol"], Value::Null);
    let f = tls_findings(&v, &plain_ep);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["kind"], "tls_handshake_failed");
    let o = logveil(&["audit", "--tls", &refused], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!(
            "tls          {refused}: cannot connect: {refused}: connection refused"
        )),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn no_network_connection_is_made_without_tls() {
    if !have("strace") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = private_dir(&tmp.path().join("root"));
    private_file(&root.join("bot.log"), b"hello\n");
    let trace = tmp.path().join("trace");
    let traced = |args: &[&str]| {
        let o = Command::new("strace")
            .args(["-f", "-e", "trace=socket,connect", "-o"])
            .arg(&trace)
            .arg(env!("CARGO_BIN_EXE_logveil"))
            .args(args)
            .env_remove("LOGVEIL_CONFIG")
            .output()
            .unwrap();
        (o.status.code(), fs::read_to_string(&trace).unwrap())
    };
    let (code, t) = traced(&["audit", s(&root)]);
    assert_eq!(code, Some(0), "{t}");
    assert!(
        !t.contains("AF_INET") && !t.contains("connect("),
        "a network call without --tls:\n{t}"
    );
    // The same trace sees the connection when --tls is given.
    let ep = format!("127.0.0.1:{}", free_port());
    let (code, t) = traced(&["audit", "--tls", &ep, s(&root)]);
    assert_eq!(code, Some(1));
    assert!(t.contains("AF_INET") && t.contains("connect("), "{t}");
}

#[test]
fn bad_tls_arguments_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    exits_2_saying(&["audit", "--tls", "localhost"], "HOST:PORT");
    let missing = tmp.path().join("missing-ca.pem");
    let ca = ["audit", "--tls", "127.0.0.1:1", "--tls-ca"];
    exits_2_saying(&[&ca[..], &[s(&missing)]].concat(), "missing-ca.pem");
    let not_pem = private_file(&tmp.path().join("ca.pem"), b"not a certificate\n");
    exits_2_saying(&[&ca[..], &[s(&not_pem)]].concat(), "no PEM certificate");
    exits_2_saying(
        &[
            "audit",
            "--tls",
            "127.0.0.1:1",
            "--tls-expiry-warning",
            "soon",
        ],
        "--tls-expiry-warning",
    );
}
