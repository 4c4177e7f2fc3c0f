//! `logveil ship` end to end against real rclone servers on loopback: `rclone serve sftp` (md5 and sha1
//! through its shell commands) as the object store, `rclone serve webdav` as one that reports no hash.
//! Segments are written by `logveil pipe`, shipped by the command line of the packaged
//! logveil-ship.service, fetched back with `rclone copy` and read with `logveil cat`; rclone is killed with
//! SIGKILL mid-upload. rclone (Debian package `rclone`) and age are required when CI is set.

mod common;
mod packaging_support;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{age_keys, have, redacted, run_with_stdin, segments, Keys};

const USER: &str = "logveil-test";
const PASS: &str = "not-a-secret";

fn rclone_available() -> bool {
    have("rclone")
}

/// Waits until `cond` holds, up to `secs` seconds (generous: the machine is shared).
fn wait_for(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What every test starts from: keys, a scratch directory and the path of its rclone.conf. None (the
/// test is skipped) without rclone or age, outside CI.
struct Env {
    keys: Keys,
    tmp: tempfile::TempDir,
    conf: PathBuf,
}

fn env() -> Option<Env> {
    if !rclone_available() {
        return None;
    }
    let keys = age_keys()?;
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("rclone.conf");
    Some(Env { keys, tmp, conf })
}

impl Env {
    /// Starts `rclone serve KIND` over `srv/` and points the remote `store` at it.
    fn serve(&self, kind: &str) -> Server {
        let t = self.tmp.path();
        let server = Server::start(kind, &t.join("srv"), t);
        write_rclone_conf(&self.conf, kind, &server);
        server
    }

    fn host(&self, name: &str, extra: &str) -> Host {
        Host::new(self.tmp.path(), name, &self.keys, &self.conf, extra)
    }
}

/// A `rclone serve sftp|webdav` on 127.0.0.1 serving `root`; killed when dropped.
struct Server {
    child: Child,
    addr: String,
    root: PathBuf,
}

impl Server {
    fn start(kind: &str, root: &Path, scratch: &Path) -> Server {
        fs::create_dir_all(root).unwrap();
        let empty_conf = scratch.join("serve-rclone.conf");
        File::create(&empty_conf).unwrap();
        let mut child = Command::new("rclone")
            .args(["serve", kind])
            .arg(root)
            .args(["--addr", "127.0.0.1:0", "--user", USER, "--pass", PASS])
            // Files the tests plant or inspect on the server's disk are seen at once.
            .args(["--dir-cache-time", "0s"])
            .arg("--config")
            .arg(&empty_conf)
            .env("RCLONE_CACHE_DIR", scratch.join("serve-cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start rclone serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(i) = line.find("127.0.0.1:") {
                        let addr: String = line[i..]
                            .chars()
                            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                            .collect();
                        let _ = tx.send(addr);
                        sent = true;
                    }
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("rclone serve printed its address");
        Server {
            child,
            addr,
            root: root.to_path_buf(),
        }
    }

    fn port(&self) -> &str {
        self.addr.rsplit(':').next().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn obscure(pass: &str) -> String {
    let o = Command::new("rclone")
        .args(["obscure", pass])
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// An rclone.conf with the remote `store` pointing at `server`. For SFTP, the shell commands rclone
/// would otherwise probe for (and then try to save into the config) are given, as the README says.
fn write_rclone_conf(path: &Path, kind: &str, server: &Server) {
    let body = match kind {
        "sftp" => format!(
            "[store]\ntype = sftp\nhost = 127.0.0.1\nport = {}\nuser = {USER}\npass = {}\n\
             shell_type = unix\nmd5sum_command = md5sum\nsha1sum_command = sha1sum\n",
            server.port(),
            obscure(PASS)
        ),
        "webdav" => format!(
            "[store]\ntype = webdav\nurl = http://{}/\nvendor = other\nuser = {USER}\npass = {}\n",
            server.addr,
            obscure(PASS)
        ),
        _ => unreachable!(),
    };
    fs::write(path, body).unwrap();
}

/// One bot host: a segment directory and a config with a `logveil.ship` block.
struct Host {
    dir: PathBuf,
    config: PathBuf,
}

impl Host {
    fn new(tmp: &Path, name: &str, keys: &Keys, rclone_conf: &Path, extra: &str) -> Host {
        let dir = tmp.join(format!("segments-{name}"));
        let config = tmp.join(format!("{name}.yaml"));
        fs::write(
            &config,
            format!(
                "logveil:\n  segments:\n    dir: {}\n    recipients: [\"{}\"]\n  ship:\n    remote: \"store:archive\"\n    rclone_config: {}\n    host: {name}\n{extra}",
                dir.display(),
                keys.recipient,
                rclone_conf.display()
            ),
        )
        .unwrap();
        Host { dir, config }
    }

    /// `logveil pipe --stream bot` over `input`: one finished segment.
    fn pipe(&self, input: &[u8]) {
        let o = run_with_stdin(
            Command::new(common::bin())
                .args(["-q", "pipe", "--stream", "bot", "--config"])
                .arg(&self.config),
            input,
        );
        assert!(o.status.success(), "pipe: {}", common::stderr(&o));
    }

    fn segments(&self) -> Vec<PathBuf> {
        if self.dir.exists() {
            segments(&self.dir)
        } else {
            Vec::new()
        }
    }

    /// The packaged unit's ExecStart, with this host's config for /etc/logveil/logveil.yaml.
    fn ship_command(&self) -> Command {
        let unit = packaging_support::repo().join("packaging/systemd/logveil-ship.service");
        let exec =
            packaging_support::unit_values(&packaging_support::unit_entries(&unit), "ExecStart");
        assert_eq!(exec.len(), 1, "one ExecStart");
        let line = exec[0].replace("/etc/logveil/logveil.yaml", self.config.to_str().unwrap());
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some("/usr/bin/logveil"));
        let mut c = Command::new(common::bin());
        c.args(words);
        c
    }

    fn ship(&self) -> Output {
        self.ship_command().output().unwrap()
    }

    fn privacy_log(&self) -> Vec<serde_json::Value> {
        match fs::read_to_string(self.dir.join("privacy-log.jsonl")) {
            Ok(t) => t
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn out_text(o: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file under `root` (relative path -> bytes).
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Path -> (size, FNV-1a 64 of the bytes): what assertions compare and print (never the bytes).
fn digest(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, (usize, String)> {
    files
        .iter()
        .map(|(k, v)| {
            let h = v.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
            });
            (k.clone(), (v.len(), format!("{h:016x}")))
        })
        .collect()
}

/// The local segments' bytes, by `HOST/NAME` as they should appear on the remote.
fn by_remote_name(host: &str, files: &[PathBuf]) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            (format!("archive/{host}/{name}"), fs::read(p).unwrap())
        })
        .collect()
}

/// Words of random letters and digits: text that gzip cannot shrink much, and no personal data.
fn noise(bytes: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(bytes + 100);
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    while out.len() < bytes {
        for w in 0..12 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 3 + (x % 6) as usize;
            for i in 0..len {
                out.push(alphabet[((x >> (8 + 5 * i)) % 36) as usize]);
            }
            out.push(if w == 11 { b'\n' } else { b' ' });
        }
    }
    out
}

fn fetch_and_cat(tmp: &Path, rclone_conf: &Path, keys: &Keys) -> Vec<u8> {
    let fetched = tmp.join("fetched");
    let _ = fs::remove_dir_all(&fetched);
    let o = Command::new("rclone")
        .arg("--config")
        .arg(rclone_conf)
        .args(["copy", "store:archive"])
        .arg(&fetched)
        .output()
        .unwrap();
    assert!(o.status.success(), "rclone copy: {}", out_text(&o));
    let o = common::logveil_cat(&keys.identity, &[&fetched]);
    assert!(o.status.success(), "cat: {}", out_text(&o));
    o.stdout
}

#[test]
fn segments_of_two_hosts_are_shipped_confirmed_deleted_here_and_read_back_in_time_order() {
    let Some(e) = env() else { return };
    let (t, conf, keys) = (e.tmp.path(), &e.conf, &e.keys);
    let a = e.host("host-a", "");
    let b = e.host("host-b", "");

    // Three segments of the stream `bot`, alternating hosts, each started a second after the last.
    let inputs = [
        common::sample_log(300, 1),
        common::sample_log(200, 2),
        common::sample_log(250, 3),
    ];
    a.pipe(&inputs[0]);
    std::thread::sleep(Duration::from_millis(1100));
    b.pipe(&inputs[1]);
    std::thread::sleep(Duration::from_millis(1100));
    a.pipe(&inputs[2]);
    assert_eq!((a.segments().len(), b.segments().len()), (2, 1));

    // The remote unreachable (nothing listens yet): an error, and nothing is deleted or recorded.
    let srv_root = t.join("srv");
    fs::write(
        conf,
        format!(
            "[store]\ntype = sftp\nhost = 127.0.0.1\nport = 1\nuser = {USER}\npass = {}\n",
            obscure(PASS)
        ),
    )
    .unwrap();
    let o = a.ship();
    assert_eq!(o.status.code(), Some(2), "{}", out_text(&o));
    assert_eq!(a.segments().len(), 2);
    assert!(a.privacy_log().is_empty());

    let server = Server::start("sftp", &srv_root, t);
    write_rclone_conf(conf, "sftp", &server);
    let want: BTreeMap<String, Vec<u8>> = by_remote_name("host-a", &a.segments())
        .into_iter()
        .chain(by_remote_name("host-b", &b.segments()))
        .collect();
    let local_before: Vec<PathBuf> = a.segments().into_iter().chain(b.segments()).collect();

    for h in [&a, &b] {
        let o = h.ship();
        assert_eq!(o.status.code(), Some(0), "{}", out_text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("shipped "),
            "{}",
            out_text(&o)
        );
        assert!(h.segments().is_empty(), "local copies left after shipping");
    }
    // The remote holds exactly the segments, byte for byte, under their hosts: no lock file, no privacy
    // log, nothing left in staging.
    assert_eq!(digest(&tree(&server.root)), digest(&want));

    // Each local deletion is recorded once, after its copy was confirmed.
    let mut recorded = Vec::new();
    for (h, host) in [(&a, "host-a"), (&b, "host-b")] {
        for l in h.privacy_log() {
            assert_eq!(l["reason"], "shipped", "{l}");
            let file = PathBuf::from(l["file"].as_str().unwrap());
            let name = file.file_name().unwrap().to_str().unwrap();
            assert_eq!(l["remote"], format!("store:archive/{host}/{name}"));
            let hash = l["hash"].as_str().unwrap();
            assert!(
                hash.starts_with("md5:") || hash.starts_with("sha1:"),
                "{hash}"
            );
            assert_eq!(l["bytes"], want[&format!("archive/{host}/{name}")].len());
            recorded.push(file);
        }
    }
    recorded.sort();
    let mut expected = local_before.clone();
    expected.sort();
    assert_eq!(recorded, expected);

    // A rerun has nothing to do.
    let o = a.ship();
    assert_eq!(o.status.code(), Some(0), "{}", out_text(&o));
    assert_eq!(digest(&tree(&server.root)), digest(&want));
    assert_eq!(a.privacy_log().len(), 2);

    // Read centrally: the fetched tree (one directory per host), in time order across the hosts.
    let got = fetch_and_cat(t, conf, keys);
    let expect: Vec<u8> = inputs.iter().flat_map(|i| redacted(i)).collect();
    assert!(
        got == expect,
        "cat of the fetched tree is not what was written, in order"
    );
}

#[test]
fn rclone_killed_mid_upload_loses_and_duplicates_nothing() {
    let Some(e) = env() else { return };
    let (t, conf, keys) = (e.tmp.path(), &e.conf, &e.keys);
    let server = e.serve("sftp");
    let a = e.host("host-a", "");
    let inputs = [
        common::sample_log(100, 7),
        noise(3 << 20, 8),
        common::sample_log(100, 9),
    ];
    for i in &inputs {
        a.pipe(i);
    }
    let local = a.segments();
    assert_eq!(local.len(), 3);
    let want = by_remote_name("host-a", &local);
    let big = local
        .iter()
        .max_by_key(|p| fs::metadata(p).unwrap().len())
        .unwrap()
        .clone();
    let big_name = big.file_name().unwrap().to_str().unwrap().to_string();
    let big_len = fs::metadata(&big).unwrap().len();
    assert!(big_len > 1 << 20, "the large segment is {big_len} bytes");

    // A slow link (rclone reads RCLONE_BWLIMIT), so that the upload is caught halfway.
    let log = t.join("ship1.out");
    let mut ship = a
        .ship_command()
        .env("RCLONE_BWLIMIT", "256k")
        .stdout(File::create(&log).unwrap())
        .stderr(File::create(t.join("ship1.err")).unwrap())
        .spawn()
        .unwrap();
    let staged = server.root.join("archive/.incoming/host-a").join(&big_name);
    let mut copy_pid = None;
    wait_for(120, "rclone copy to be uploading the large segment", || {
        copy_pid = copy_pid.or_else(|| child_with_arg(ship.id(), "copy"));
        let size = fs::metadata(&staged).map(|m| m.len()).unwrap_or(0);
        copy_pid.is_some() && size > 0
    });
    let pid = copy_pid.unwrap();
    let size_at_kill = fs::metadata(&staged).unwrap().len();
    assert!(
        size_at_kill < big_len,
        "the upload finished before the kill"
    );
    let st = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let status = wait_exit(&mut ship, 120);
    let err = fs::read_to_string(t.join("ship1.err")).unwrap();
    assert_eq!(
        status.code(),
        Some(2),
        "ship after rclone was killed: {err}"
    );
    assert!(err.contains("killed by signal 9"), "{err}");

    // Nothing half-shipped: every object in place is a whole segment, the large one is not among them
    // and is still here; what did arrive whole was confirmed and deleted here.
    let remote = tree(&server.root);
    for (path, bytes) in &remote {
        assert!(
            want.get(path) == Some(bytes),
            "{path} on the remote ({} bytes) is not a whole segment",
            bytes.len()
        );
    }
    assert!(!remote.contains_key(&format!("archive/host-a/{big_name}")));
    assert!(
        big.exists(),
        "the segment whose upload was killed was deleted"
    );
    for p in &local {
        let shipped = remote.contains_key(&format!(
            "archive/host-a/{}",
            p.file_name().unwrap().to_str().unwrap()
        ));
        assert_eq!(p.exists(), !shipped, "{}", p.display());
    }
    assert_eq!(a.privacy_log().len(), local.len() - a.segments().len());

    // The rerun ships the rest; each segment is on the remote once, whole, and recorded once.
    let o = a.ship();
    assert_eq!(o.status.code(), Some(0), "{}", out_text(&o));
    assert_eq!(digest(&tree(&server.root)), digest(&want));
    assert!(a.segments().is_empty());
    let log = a.privacy_log();
    let mut files: Vec<String> = log
        .iter()
        .map(|l| l["file"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    let mut expected: Vec<String> = local.iter().map(|p| p.display().to_string()).collect();
    expected.sort();
    assert_eq!(files, expected, "each local deletion recorded exactly once");

    let got = fetch_and_cat(t, conf, keys);
    let expect: Vec<u8> = inputs.iter().flat_map(|i| redacted(i)).collect();
    assert!(
        got == expect,
        "cat after the rerun is not exactly what was written"
    );
}

/// Pid of a child of `parent` whose command line has the argument `arg`.
fn child_with_arg(parent: u32, arg: &str) -> Option<u32> {
    for e in fs::read_dir("/proc").ok()? {
        let Ok(e) = e else { continue };
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid != Some(parent) {
            continue;
        }
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline.split(|b| *b == 0).any(|a| a == arg.as_bytes()) {
            return Some(pid);
        }
    }
    None
}

fn wait_exit(child: &mut Child, secs: u64) -> ExitStatus {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < end, "logveil ship did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_segment_finished_during_a_ship_run_is_never_half_shipped() {
    let Some(e) = env() else { return };
    let (t, conf, keys) = (e.tmp.path(), &e.conf, &e.keys);
    let server = e.serve("sftp");
    let a = e.host("host-a", "");
    let first = noise(1 << 20, 3);
    a.pipe(&first);

    // A writer with an open `.partial`, finished (renamed) while a slowed ship run is uploading.
    let second = common::sample_log(400, 4);
    let mut writer = Command::new(common::bin())
        .args(["-q", "pipe", "--stream", "bot", "--config"])
        .arg(&a.config)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = writer.stdin.take().unwrap();
    stdin.write_all(&second).unwrap();
    stdin.flush().unwrap();
    wait_for(60, "the writer's .partial", || {
        !common::partials(&a.dir).is_empty()
    });
    let mut ship = a
        .ship_command()
        .env("RCLONE_BWLIMIT", "512k")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(120, "rclone copy to start", || {
        child_with_arg(ship.id(), "copy").is_some()
    });
    drop(stdin);
    assert!(writer.wait().unwrap().success());
    let st = wait_exit(&mut ship, 300);
    assert_eq!(st.code(), Some(0));

    // Whatever the interleaving: no `.partial` and nothing partial ever reached the remote.
    let remote = tree(&server.root);
    for (path, bytes) in &remote {
        assert!(path.starts_with("archive/host-a/"), "{path}");
        assert!(path.ends_with(".log.gz.age"), "{path}");
        let local = a.dir.join(Path::new(path).file_name().unwrap());
        if local.exists() {
            assert!(
                &fs::read(&local).unwrap() == bytes,
                "{path} differs from the local segment"
            );
        }
    }
    // The next run ships the segment finished meanwhile; all of it reads back.
    let o = a.ship();
    assert_eq!(o.status.code(), Some(0), "{}", out_text(&o));
    assert!(a.segments().is_empty());
    assert_eq!(tree(&server.root).len(), 2);
    let got = fetch_and_cat(t, conf, keys);
    let expect: Vec<u8> = [redacted(&first), redacted(&second)].concat();
    assert!(got == expect, "cat is not what was written");
}

#[test]
fn another_object_under_a_segments_name_is_never_overwritten_nor_taken_as_confirmation() {
    let Some(e) = env() else { return };
    let server = e.serve("sftp");
    let a = e.host("host-a", "");
    a.pipe(&common::sample_log(300, 11));
    a.pipe(&common::sample_log(300, 12));
    let local = a.segments();
    // A cut copy of the first (a plain `rclone copy` killed mid-upload writes to the final name), and a
    // same-size impostor of the second.
    let dest = server.root.join("archive/host-a");
    fs::create_dir_all(&dest).unwrap();
    let cut = fs::read(&local[0]).unwrap()[..100].to_vec();
    let n0 = local[0].file_name().unwrap();
    fs::write(dest.join(n0), &cut).unwrap();
    let mut impostor = fs::read(&local[1]).unwrap();
    let last = impostor.len() - 1;
    impostor[last] ^= 1;
    let n1 = local[1].file_name().unwrap();
    fs::write(dest.join(n1), &impostor).unwrap();

    let o = a.ship();
    assert_eq!(o.status.code(), Some(1), "{}", out_text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(&format!("conflict {}", n0.to_str().unwrap())),
        "{stdout}"
    );
    assert!(stdout.contains("never overwritten"), "{stdout}");
    assert!(
        fs::read(dest.join(n0)).unwrap() == cut,
        "the remote object was replaced"
    );
    assert!(
        fs::read(dest.join(n1)).unwrap() == impostor,
        "the remote object was replaced"
    );
    assert_eq!(
        a.segments(),
        local,
        "a segment was deleted without a confirmed copy"
    );
    assert!(a.privacy_log().is_empty());
}

#[test]
fn a_remote_without_hashes_confirms_nothing_and_every_local_copy_stays() {
    let Some(e) = env() else { return };
    let server = e.serve("webdav");
    let a = e.host("host-a", "");
    a.pipe(&common::sample_log(200, 5));
    let local = a.segments();
    let o = a.ship();
    assert_eq!(o.status.code(), Some(1), "{}", out_text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("no hash to compare"), "{stdout}");
    assert_eq!(a.segments(), local);
    assert!(a.privacy_log().is_empty());
    let remote = tree(&server.root);
    assert!(
        !remote.keys().any(|k| k.starts_with("archive/host-a/")),
        "an unverified upload was moved into place: {:?}",
        remote.keys()
    );
}

/// A legal hold (`auto_rotate: false`): the timer's ship still uploads and confirms, but deletes no local
/// copy until `--force`.
#[test]
fn a_legal_hold_ships_but_keeps_every_local_copy_until_forced() {
    let Some(e) = env() else { return };
    let server = e.serve("sftp");
    let a = e.host(
        "host-a",
        "privacy:\n  data_retention:\n    logs: { auto_rotate: false }\n",
    );
    a.pipe(&common::sample_log(100, 31));
    let local = a.segments();
    assert!(!local.is_empty());
    let o = a.ship();
    assert_eq!(o.status.code(), Some(0), "{}", out_text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("auto_rotate is false"), "{stdout}");
    assert_eq!(a.segments(), local, "a local copy was deleted under a hold");
    assert!(a.privacy_log().is_empty());
    let shipped = |server: &Server| {
        tree(&server.root)
            .keys()
            .filter(|k| k.starts_with("archive/host-a/"))
            .count()
    };
    assert_eq!(shipped(&server), local.len(), "shipped all the same");
    let o = a.ship_command().arg("--force").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out_text(&o));
    assert!(
        a.segments().is_empty(),
        "--force deletes the confirmed copies"
    );
    assert_eq!(a.privacy_log().len(), local.len());
    assert_eq!(shipped(&server), local.len());
}

#[test]
fn keep_local_and_retention_judge_the_remote_and_the_host_alike() {
    let Some(e) = env() else { return };
    let conf = &e.conf;
    let server = e.serve("sftp");
    let a = e.host(
        "host-a",
        "    keep_local: 30d\n  retention:\n    max_age: 90d\n",
    );
    a.pipe(&common::sample_log(100, 21));
    a.pipe(&common::sample_log(100, 22));
    let local = a.segments();
    let o = a.ship();
    assert_eq!(o.status.code(), Some(0), "{}", out_text(&o));
    assert_eq!(
        a.segments(),
        local,
        "kept for 30 days after their last record"
    );
    assert_eq!(tree(&server.root).len(), 2);

    // One policy, checked on both sides: the same segments expire here and on the remote.
    let as_of = |days: i64| {
        jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(24 * days))
            .unwrap()
            .to_string()
    };
    let listing = Command::new("rclone")
        .arg("--config")
        .arg(conf)
        .args(["lsjson", "-R", "store:archive"])
        .output()
        .unwrap();
    assert!(listing.status.success());
    let names = |text: &str, verb: &str| -> Vec<String> {
        let mut v: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix(verb))
            .map(|rest| {
                let path = rest.split(" (").next().unwrap();
                Path::new(path)
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        v.sort();
        v
    };
    for (days, expired) in [(0, 0), (91, 2)] {
        let remote = run_with_stdin(
            Command::new(common::bin())
                .args(["retention", "--dry-run", "--remote-listing", "-", "--as-of"])
                .arg(as_of(days))
                .arg("--config")
                .arg(&a.config),
            &listing.stdout,
        );
        assert!(remote.status.success(), "{}", out_text(&remote));
        let here = Command::new(common::bin())
            .args(["retention", "--dry-run", "--as-of"])
            .arg(as_of(days))
            .arg("--config")
            .arg(&a.config)
            .output()
            .unwrap();
        assert!(here.status.success(), "{}", out_text(&here));
        let on_remote = names(
            &String::from_utf8_lossy(&remote.stdout),
            "would expire host-a/",
        );
        let on_host = names(&String::from_utf8_lossy(&here.stdout), "would delete ");
        assert_eq!(on_remote.len(), expired, "{}", out_text(&remote));
        assert_eq!(on_remote, on_host);
    }

    // 31 days on, the local copies are due: checked again (size and hash) and deleted, recorded.
    let o = a
        .ship_command()
        .args(["--as-of", &as_of(31)])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out_text(&o));
    assert!(a.segments().is_empty());
    let log = a.privacy_log();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|l| l["reason"] == "shipped"));
}
