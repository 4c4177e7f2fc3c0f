//! `logveil config check` refuses what a start would refuse (issue: the units run it before start and
//! before reload, so a check that passes a config the sidecar then refuses makes `systemctl reload` lie and
//! a fresh install loop). Each case is the packaged example config with one thing changed.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_logveil");
const SECRET: &str = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";

fn example() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/logveil.example.yaml"))
        .unwrap()
}

struct Case {
    tmp: tempfile::TempDir,
    recipient: String,
}

impl Case {
    fn new() -> Case {
        let tmp = tempfile::tempdir().unwrap();
        let o = Command::new(BIN)
            .arg("keygen")
            .arg("-o")
            .arg(tmp.path().join("key.txt"))
            .output()
            .unwrap();
        assert!(o.status.success());
        let recipient = String::from_utf8(o.stdout).unwrap().trim().to_owned();
        Case { tmp, recipient }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    /// The example with its /var/lib/logveil directories under the temporary directory and `recipients: []`
    /// replaced by `recipients` (YAML text).
    fn config(&self, recipients: &str) -> PathBuf {
        let text = example()
            .replace(
                "/var/lib/logveil",
                self.tmp.path().join("lib").to_str().unwrap(),
            )
            .replace("    recipients: []\n", &format!("    {recipients}\n"));
        let p = self.path("logveil.yaml");
        fs::write(&p, text).unwrap();
        p
    }

    fn check(&self, config: &Path) -> Output {
        Command::new(BIN)
            .args(["config", "check", "--config"])
            .arg(config)
            .env_remove("LOGVEIL_CONFIG")
            .output()
            .unwrap()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails with exit 2 and one error message (one `logveil: error:` line plus an optional hint).
fn refused(o: &Output, says: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(says), "expected {says:?} in:\n{err}");
    assert_eq!(err.matches("logveil: error:").count(), 1, "{err}");
    assert!(!err.contains(SECRET), "a secret key is never echoed: {err}");
}

#[test]
fn the_packaged_config_fails_until_a_recipient_is_set() {
    let c = Case::new();
    let o = c.check(&c.config("recipients: []"));
    refused(&o, "no recipient");
    assert!(
        stderr(&o).contains("hint: `logveil keygen"),
        "{}",
        stderr(&o)
    );
    let o = c.check(&c.config(&format!("recipients: [\"{}\"]", c.recipient)));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("(1 recipient)"), "{out}");
    assert!(out.contains("privacy log: "), "{out}");
}

#[test]
fn bad_recipients_are_refused_by_position_never_echoed() {
    let c = Case::new();
    refused(
        &c.check(&c.config("recipients: [\"age1notvalid\"]")),
        "logveil.segments.recipients[0]: not a valid age X25519 recipient",
    );
    refused(
        &c.check(&c.config(&format!("recipients: [\"{SECRET}\"]"))),
        "this is a secret key",
    );
    let missing = c.path("nope/recipients");
    refused(
        &c.check(&c.config(&format!("recipients_file: [{}]", missing.display()))),
        "cannot read recipients file",
    );
    let empty = c.path("empty-recipients");
    fs::write(&empty, "# nobody yet\n\n").unwrap();
    refused(
        &c.check(&c.config(&format!("recipients_file: [{}]", empty.display()))),
        "the file holds no recipient",
    );
    let with_secret = c.path("recipients");
    fs::write(&with_secret, format!("{}\n{SECRET}\n", c.recipient)).unwrap();
    refused(
        &c.check(&c.config(&format!("recipients_file: [{}]", with_secret.display()))),
        "line 2: this is a secret key",
    );
    fs::write(&with_secret, format!("{}\n", c.recipient)).unwrap();
    let o = c.check(&c.config(&format!("recipients_file: [{}]", with_secret.display())));
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn key_files_rules_and_directories_are_checked() {
    let c = Case::new();
    let ok = format!("recipients: [\"{}\"]", c.recipient);
    // The hash key file named by the config must exist and be private.
    let cfg = c.config(&ok);
    let key = c.path("hash.key");
    let with_key = |c: &Case| {
        let text = fs::read_to_string(&cfg)
            .unwrap()
            .replace("/etc/logveil/hash.key", key.to_str().unwrap())
            .replace(
                "    email: { action: redact }",
                "    email: { action: hash }",
            );
        let p = c.path("with-key.yaml");
        fs::write(&p, text).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        p
    };
    refused(&c.check(&with_key(&c)), "logveil.hash_key_file");
    fs::write(&key, "0123456789abcdef0123456789abcdef\n").unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    let o = c.check(&with_key(&c));
    assert!(o.status.success(), "{}", stderr(&o));
    // Readable by others, or writable by the group: refused. Readable by the group: only when root owns
    // it (0640 root:logveil, as the package makes it).
    for mode in [0o644, 0o620, 0o604] {
        fs::set_permissions(&key, fs::Permissions::from_mode(mode)).unwrap();
        refused(
            &c.check(&with_key(&c)),
            "lets others read or change the key",
        );
    }
    fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
    let o = c.check(&with_key(&c));
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    if root {
        assert!(o.status.success(), "0640 owned by root: {}", stderr(&o));
        // audit judges that key as logveil reads it, and any other key file strictly.
        let other = c.path("other.key");
        fs::write(&other, "x").unwrap();
        fs::set_permissions(&other, fs::Permissions::from_mode(0o640)).unwrap();
        let a = Command::new(BIN)
            .args(["audit", "--json", "--config"])
            .arg(with_key(&c))
            .arg(&key)
            .arg(&other)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
        let flagged: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(flagged, [other.to_str().unwrap()], "{report:#}");
    } else {
        refused(&o, "lets others read or change the key");
    }
    // Without a hash action a missing key file is only noted (the example names the package's key).
    let o = c.check(&cfg);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("hash_key_file: /etc/logveil/hash.key does not exist"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // A retention rule that does not compile.
    let text = fs::read_to_string(&cfg).unwrap().replace(
        "    rules: []\n",
        "    rules: [{ path: \"/tmp/{a,b\", max_age: 7d }]\n",
    );
    let bad_rule = c.path("bad-rule.yaml");
    fs::write(&bad_rule, text).unwrap();
    refused(&c.check(&bad_rule), "unmatched '{'");
    // The segment directory's place is taken by a file: a start could not create it.
    fs::write(c.path("lib"), b"").unwrap();
    refused(&c.check(&cfg), "is not a directory");
}

/// A directory the user running the check cannot write: as root, the check runs as nobody (setpriv), the
/// way the units run it as logveil.
#[test]
fn an_unwritable_directory_is_refused_for_the_user_running_the_check() {
    let c = Case::new();
    let lib = c.path("lib");
    fs::create_dir(&lib).unwrap();
    fs::set_permissions(&lib, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(c.tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = c.config(&format!("recipients: [\"{}\"]", c.recipient));
    fs::set_permissions(&cfg, fs::Permissions::from_mode(0o644)).unwrap();
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let o = if root {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN])
            .args(["config", "check", "--config"])
            .arg(&cfg)
            .output()
            .unwrap()
    } else {
        fs::set_permissions(&lib, fs::Permissions::from_mode(0o555)).unwrap();
        c.check(&cfg)
    };
    refused(&o, "is not writable");
    assert!(stderr(&o).contains("segment directory"), "{}", stderr(&o));
}

#[test]
fn recipients_are_checked_without_a_segment_directory_too() {
    let c = Case::new();
    let cfg = c.path("no-dir.yaml");
    fs::write(
        &cfg,
        format!("logveil:\n  segments:\n    recipients: [\"{SECRET}\"]\n"),
    )
    .unwrap();
    refused(&c.check(&cfg), "this is a secret key");
    fs::write(
        &cfg,
        format!(
            "logveil:\n  segments:\n    recipients: [\"{}\"]\n",
            c.recipient
        ),
    )
    .unwrap();
    let o = c.check(&cfg);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn quiet_check_prints_nothing_on_success() {
    let c = Case::new();
    let cfg = c.config(&format!("recipients: [\"{}\"]", c.recipient));
    let o = Command::new(BIN)
        .args(["--quiet", "config", "check", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
}

/// Issue 16: `config check` lists the identifier detectors, and their action is the pseudonym when the
/// hash key is there (`hash`) and `redact` when it is not.
#[test]
fn the_identifier_detectors_are_listed_with_the_action_the_key_gives_them() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("hash.key");
    let cfg = tmp.path().join("c.yaml");
    let check = |yaml: &str| {
        fs::write(&cfg, yaml).unwrap();
        let o = Command::new(BIN)
            .args(["config", "check", "--no-cache", "--config"])
            .arg(&cfg)
            .env_remove("LOGVEIL_CONFIG")
            .env_remove("LOGVEIL_HASH_KEY")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let row = |out: &str, source: &str| {
        out.lines()
            .find(|l| l.trim_end().ends_with(source))
            .unwrap_or_else(|| panic!("no {source} in:\n{out}"))
            .to_string()
    };
    let without = check("logveil:\n  cache:\n    enabled: false\n");
    for (source, types) in [
        ("built-in IdentityKey", "user_id,qq"),
        ("built-in LarkUserId", "user_id"),
        ("built-in HomeDir", "home_user"),
        (
            "built-in ContextCue",
            "landline,passport,qq,wechat_id,plate,birth_date",
        ),
    ] {
        let r = row(&without, source);
        assert!(r.contains(types), "{r}");
        assert!(!r.contains("hash"), "no key, no pseudonym: {r}");
    }
    fs::write(&key, [7u8; 32]).unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    let with = check(&format!(
        "logveil:\n  cache:\n    enabled: false\n  hash_key_file: {}\n",
        key.display()
    ));
    assert!(row(&with, "built-in HomeDir").contains("hash"), "{with}");
    assert!(
        row(&with, "built-in IdentityKey").contains("hash,hash"),
        "{with}"
    );
    // Numbers keep `redact` with a key.
    assert!(!row(&with, "built-in Numeric").contains("hash"), "{with}");
}
