//! The logrotate hook (packaging/logrotate/logveil) run by the real `logrotate -f -s STATE CONF` (Debian
//! package `logrotate`; required when CI is set) on a temporary directory.
//!
//! The config given to logrotate is the shipped snippet with three paths replaced: the log directory
//! (/var/log/clawdbot), the binary (/usr/bin/logveil -> the binary under test) and the config
//! (/etc/logveil/logveil.yaml -> a temporary one whose segment directory and recipient are temporary).
//! Every directive and the postrotate command line are the shipped ones.

mod packaging_support;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use logveil::sink::name::{data_order, is_lock_file_name, SegmentName, SegmentState};
use packaging_support::*;

const LOG_DIR: &str = "/var/log/clawdbot";
const BIN: &str = "/usr/bin/logveil";
const CONFIG: &str = "/etc/logveil/logveil.yaml";

fn have_logrotate() -> bool {
    require_tool("logrotate", &["--version"], "Debian package `logrotate`")
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    /// A temporary tree: logs/ (the bot's log directory), segments/, a config naming `recipient`.
    fn new(recipient: Option<&str>) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let s = Setup { dir };
        fs::create_dir(s.logs()).unwrap();
        let recipients = recipient.map_or("[]".to_owned(), |r| format!("[\"{r}\"]"));
        fs::write(
            s.config(),
            format!(
                "logveil:\n  segments:\n    dir: {}\n    recipients: {recipients}\n",
                s.segments().display()
            ),
        )
        .unwrap();
        fs::set_permissions(s.config(), fs::Permissions::from_mode(0o600)).unwrap();

        let snippet = fs::read_to_string(repo().join("packaging/logrotate/logveil")).unwrap();
        for needle in [LOG_DIR, BIN, CONFIG] {
            assert!(
                snippet.contains(needle),
                "the snippet no longer names {needle}"
            );
        }
        let conf = snippet
            .replace(LOG_DIR, s.logs().to_str().unwrap())
            .replace(BIN, bin())
            .replace(CONFIG, s.config().to_str().unwrap());
        // logrotate refuses a config others can write.
        fs::write(s.conf(), conf).unwrap();
        fs::set_permissions(s.conf(), fs::Permissions::from_mode(0o600)).unwrap();
        s
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn logs(&self) -> PathBuf {
        self.path("logs")
    }
    fn segments(&self) -> PathBuf {
        self.path("segments")
    }
    fn config(&self) -> PathBuf {
        self.path("logveil.yaml")
    }
    fn conf(&self) -> PathBuf {
        self.path("logrotate.conf")
    }

    fn logrotate(&self, extra: &[&str]) -> Output {
        run(
            Command::new("logrotate")
                .args(extra)
                .arg("-s")
                .arg(self.path("logrotate.state"))
                .arg(self.conf())
                .env_remove("LOGVEIL_CONFIG"),
            "logrotate",
        )
    }

    fn append(&self, name: &str, text: &str) {
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs().join(name))
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    fn log_files(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.logs())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Segment files of `stream`, in data order.
    fn segments_of(&self, stream: &str) -> Vec<PathBuf> {
        let mut v: Vec<(SegmentName, PathBuf)> = fs::read_dir(self.segments())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter_map(|p| {
                let n = SegmentName::parse(p.file_name()?.to_str()?)?;
                (n.stream == stream).then_some((n, p))
            })
            .collect();
        v.sort_by(|a, b| data_order(&a.0, &b.0));
        v.into_iter().map(|(_, p)| p).collect()
    }
}

/// Bot-like log lines, each with one valid mobile number and one e-mail address; and their count.
fn bot_lines(tag: &str, from: usize, n: usize) -> String {
    let mut s = String::new();
    for i in from..from + n {
        let phone = format!("139{:08}", (i * 7_919) % 100_000_000);
        s.push_str(&format!(
            "2026-11-25T10:{:02}:{:02}Z INFO {tag} msg={i} from={phone} reply_to=user{i}@example.com ok\n",
            (i / 60) % 60,
            i % 60
        ));
    }
    s
}

/// `logveil redact` over `input` with the same config: what a segment must decrypt to.
fn redacted(config: &Path, input: &str) -> String {
    let mut child = Command::new(bin())
        .args(["redact", "--config"])
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(o.status.success(), "redact: {}", text(&o.stderr));
    text(&o.stdout)
}

#[test]
fn snippet_parses_in_logrotate_debug_mode() {
    if !have_logrotate() {
        return;
    }
    let s = Setup::new(None);
    s.append("bot.log", "x\n");
    // -d: parse and plan only; nothing is rotated and no script runs.
    let o = s.logrotate(&["-d"]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "logrotate -d: {}\n{err}", o.status);
    assert!(
        !err.lines().any(|l| l.starts_with("error")),
        "logrotate -d reports errors:\n{err}"
    );
    assert!(err.contains(&format!("{}/*.log", s.logs().display())));
    assert_eq!(s.log_files(), ["bot.log"]);
}

#[test]
fn a_failing_seal_keeps_the_rotated_file_and_logrotate_reports_it() {
    // No recipient in the config: seal cannot seal, so it must keep the plaintext (never lose it, never
    // write it anywhere else) and exit non-zero, which logrotate reports.
    if !have_logrotate() {
        return;
    }
    let s = Setup::new(None);
    let input = bot_lines("bot", 0, 20);
    s.append("bot.log", &input);
    let o = s.logrotate(&["-f"]);
    assert!(
        !o.status.success(),
        "logrotate succeeded though seal failed"
    );
    assert!(
        text(&o.stderr).contains("postrotate"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(s.log_files(), ["bot.log", "bot.log.1"]);
    assert_eq!(
        fs::read_to_string(s.logs().join("bot.log.1")).unwrap(),
        input
    );
    let segments = fs::read_dir(s.segments()).map_or(0, |d| d.count());
    assert_eq!(segments, 0, "a segment was written by a failed seal");
}

/// The whole hook, twice: each rotated file becomes finished segments that decrypt to exactly its
/// redacted content, and no plaintext rotated file remains.
#[test]
fn logrotate_hook_seals_rotated_logs_that_decrypt_to_the_redacted_content() {
    if !have_logrotate() {
        return;
    }
    let keys = tempfile::tempdir().unwrap();
    let identity = keys.path().join("identity.txt");
    let k = run_ok(
        Command::new(bin()).args(["keygen", "-o"]).arg(&identity),
        "logveil keygen",
    );
    let recipient = text(&k.stdout).trim().to_owned();
    assert!(recipient.starts_with("age1"), "keygen printed a recipient");
    let s = Setup::new(Some(&recipient));

    let mut written_bot = String::new();
    let mut written_err = String::new();
    for round in 0..2 {
        let bot = bot_lines("bot", round * 500, 500);
        let err = bot_lines("error", round * 30, 30);
        s.append("bot.log", &bot);
        s.append("error.log", &err);
        written_bot.push_str(&bot);
        written_err.push_str(&err);

        let o = s.logrotate(&["-f"]);
        assert!(
            o.status.success(),
            "round {round}: logrotate: {}\n{}",
            o.status,
            text(&o.stderr)
        );
        // Only the fresh, empty logs made by `create`: no plaintext rotated file remains.
        assert_eq!(s.log_files(), ["bot.log", "error.log"], "round {round}");
        for f in ["bot.log", "error.log"] {
            assert_eq!(fs::metadata(s.logs().join(f)).unwrap().len(), 0, "{f}");
        }
        // Finished segments only: no .partial, each 0600.
        for e in fs::read_dir(s.segments()).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
            if is_lock_file_name(&name) {
                continue; // the writer's per-stream lock file
            }
            let parsed =
                SegmentName::parse(&name).unwrap_or_else(|| panic!("{name}: not a segment name"));
            assert_eq!(parsed.state, SegmentState::Sealed, "{name}");
            assert!(name.ends_with(".log.gz.age"), "{name}");
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(
            fs::metadata(s.segments()).unwrap().permissions().mode() & 0o777,
            0o700
        );

        for (stream, written, lines) in [
            ("bot.log", &written_bot, 500 * (round + 1)),
            ("error.log", &written_err, 30 * (round + 1)),
        ] {
            let segs = s.segments_of(stream);
            assert!(
                segs.len() > round,
                "{stream}: a segment per rotation at least"
            );
            let want = redacted(&s.config(), written);
            // Redaction happened: one phone and one address per line, none left.
            assert_eq!(want.matches("[REDACTED:phone]").count(), lines, "{stream}");
            assert_eq!(want.matches("[REDACTED:email]").count(), lines, "{stream}");
            assert_eq!(want.lines().count(), lines);

            let cat = run_ok(
                Command::new(bin())
                    .args(["cat", "-i"])
                    .arg(&identity)
                    .args(&segs),
                "logveil cat",
            );
            assert!(
                text(&cat.stdout) == want,
                "{stream}: logveil cat differs from the redacted input"
            );
            if require_tool("age", &["--version"], "Debian package `age`") {
                let mut got = String::new();
                for seg in &segs {
                    let o = run_ok(
                        Command::new("sh")
                            .arg("-c")
                            .arg("age -d -i \"$1\" \"$2\" | gzip -dc")
                            .arg("sh")
                            .arg(&identity)
                            .arg(seg),
                        "age -d | gzip -dc",
                    );
                    got.push_str(&text(&o.stdout));
                }
                assert!(got == want, "{stream}: age -d | gzip -dc differs");
            }
        }
    }
}

/// A [`Setup`] whose config names the recipient of a fresh logveil key.
struct Keyed {
    setup: Setup,
    identity: PathBuf,
    _keys: tempfile::TempDir,
}

impl Keyed {
    fn new() -> Keyed {
        let keys = tempfile::tempdir().unwrap();
        let identity = keys.path().join("identity.txt");
        let k = run_ok(
            Command::new(bin()).args(["keygen", "-o"]).arg(&identity),
            "logveil keygen",
        );
        Keyed {
            setup: Setup::new(Some(text(&k.stdout).trim())),
            identity,
            _keys: keys,
        }
    }

    /// `bot.log` with 20 lines (returned), and a [`Bot`] holding it open.
    fn bot_writing(&self) -> (String, Bot) {
        let input = bot_lines("bot", 0, 20);
        self.setup.append("bot.log", &input);
        (input, Bot::start(&self.setup.logs().join("bot.log")))
    }

    /// `logveil cat` of the one segment of `stream`.
    fn unsealed(&self, stream: &str) -> String {
        let segs = self.setup.segments_of(stream);
        assert_eq!(segs.len(), 1, "{segs:?}");
        let cat = run_ok(
            Command::new(bin())
                .args(["cat", "-i"])
                .arg(&self.identity)
                .args(&segs),
            "logveil cat",
        );
        text(&cat.stdout)
    }
}

/// A bot holding its log open on descriptor 3 (as a logging library does), started in `dir` on `log`; on
/// SIGUSR1 it reopens the log by its name (what a bot's reload command makes it do after logrotate's
/// `create`) and says so in it. Its `sleep`s do not inherit the descriptor. Not SIGHUP: a shell cannot trap a
/// signal that was ignored when it started, and a test run under `nohup` starts every child so.
struct Bot(std::process::Child);

impl Bot {
    fn start(log: &Path) -> Bot {
        use std::io::BufRead;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(
                "trap 'exec 3>>\"$1\"; echo reopened >&3' USR1; exec 3>>\"$1\" || exit 9; echo open; \
                 while :; do sleep 0.1 3>&-; done",
            )
            .arg("sh")
            .arg(log)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "open\n");
        Bot(child)
    }

    fn reopen(&self) {
        let ok = Command::new("kill")
            .args(["-USR1", &self.0.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
}

/// Waits (up to a minute) until `path` holds `content`.
fn wait_for_content(path: &Path, content: &str) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while fs::read_to_string(path).unwrap() != content {
        assert!(
            std::time::Instant::now() < end,
            "{}: {:?}",
            path.display(),
            fs::read_to_string(path).unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The bot still holds the rotated file open for writing (it was not told to reopen its log): the hook's
/// `seal` waits for it (10 s), then refuses it. The file stays, nothing is sealed, logrotate reports it.
#[test]
fn a_rotated_log_the_bot_still_writes_is_kept_and_logrotate_reports_it() {
    if !have_logrotate() {
        return;
    }
    let k = Keyed::new();
    let s = &k.setup;
    let (input, bot) = k.bot_writing();
    let o = s.logrotate(&["-f"]);
    let err = text(&o.stderr);
    assert!(!o.status.success(), "logrotate succeeded: {err}");
    assert!(
        err.contains("still open for writing by") && err.contains(&format!("PID {}", bot.0.id())),
        "{err}"
    );
    assert_eq!(s.log_files(), ["bot.log", "bot.log.1"]);
    assert_eq!(
        fs::read_to_string(s.logs().join("bot.log.1")).unwrap(),
        input
    );
    assert!(
        !s.segments().exists() || s.segments_of("bot.log").is_empty(),
        "sealed while written"
    );
}

/// The bot reopens its log while the hook's `seal` waits (its reload came just before, as the snippet's
/// comments ask): the rotated file is sealed and removed, and what the bot writes goes to the new log.
#[test]
fn the_hook_seals_the_rotated_log_once_the_bot_reopens_its_log() {
    if !have_logrotate() {
        return;
    }
    let k = Keyed::new();
    let s = &k.setup;
    let (input, bot) = k.bot_writing();
    let rotated = s.logs().join("bot.log.1");
    let o = std::thread::scope(|scope| {
        let rotate = scope.spawn(|| s.logrotate(&["-f"]));
        // Once logrotate has renamed the log, the bot is told to reopen it.
        let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !rotated.exists() && !rotate.is_finished() {
            assert!(std::time::Instant::now() < end, "logrotate did not rotate");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        bot.reopen();
        rotate.join().unwrap()
    });
    let err = text(&o.stderr);
    assert!(o.status.success(), "logrotate: {}\n{err}", o.status);
    assert_eq!(s.log_files(), ["bot.log"]);
    assert!(k.unsealed("bot.log") == redacted(&s.config(), &input));
    // The bot now writes to the new log.
    wait_for_content(&s.logs().join("bot.log"), "reopened\n");
}

/// The snippet with `copytruncate` instead of `create` (for a bot that cannot reopen its log), the bot
/// holding its log open for writing all along: the rotated file is logrotate's copy, which nobody holds
/// open, so the hook seals it at once; the bot keeps writing to its (truncated) log.
#[test]
fn with_copytruncate_the_hook_seals_the_copy_while_the_bot_keeps_its_log_open() {
    if !have_logrotate() {
        return;
    }
    let k = Keyed::new();
    let s = &k.setup;
    let conf = fs::read_to_string(s.conf()).unwrap();
    assert!(conf.contains("\n    create\n"), "{conf}");
    fs::write(
        s.conf(),
        conf.replace("\n    create\n", "\n    copytruncate\n"),
    )
    .unwrap();
    let (input, bot) = k.bot_writing();
    let start = std::time::Instant::now();
    let o = s.logrotate(&["-f"]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "logrotate: {}\n{err}", o.status);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "seal waited for a writer of the copy: {err}"
    );
    assert!(!err.contains("open for writing by"), "{err}");
    assert_eq!(s.log_files(), ["bot.log"]);
    assert!(k.unsealed("bot.log") == redacted(&s.config(), &input));
    // The bot still writes to its log, truncated in place.
    bot.reopen();
    wait_for_content(&s.logs().join("bot.log"), "reopened\n");
}
