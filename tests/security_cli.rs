//! No secret is echoed (issue 13 item 5; review F10 and newcomer 3.3): an age secret key or a private
//! SSH/PEM key passed by mistake, in any position of any subcommand, never appears in logveil's output;
//! the argument parser's errors show no long argument; config type errors do not quote the value.

mod security_support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use security_support::*;

const AGE_KEY: &str = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSQ0ECD8R";
const SSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBbPNWrX5cEuTaCq8wwzdPbNGVQRIuEkvlLmPwAK1vFnwAAAJj7rEUk+6xF
JAAAAAtzc2gtZWQyNTUxOQAAACBbPNWrX5cEuTaCq8wwzdPbNGVQRIuEkvlLmPwAK1vFnw
AAAEAy0XHrsoE7NjaFUxQ7TvvYOhXpd0LwRIMzcp2G0lsdqls81atflwS5NoKrzDDN09s0
ZVBEi4SS+UuY/AArW8WfAAAAEHRlc3RAbG9ndmVpbC5kZXYBAgMEBQ==
-----END OPENSSH PRIVATE KEY-----
";
const PEM_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu
KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQJAIJLixBy2qpFoS4DSmoEm
-----END RSA PRIVATE KEY-----";

/// Distinctive pieces of a secret: none may appear in any output.
fn fragments(secret: &str) -> Vec<String> {
    let body: String = secret
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    let body = body.trim_start_matches("AGE-SECRET-KEY-1");
    body.as_bytes()
        .chunks(12)
        .filter(|c| c.len() == 12)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

/// Runs logveil (stdin empty), killing it after 30 s (a command that took the secret for a path to
/// follow would never end).
fn run(args: &[String]) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait_with_output().unwrap()
}

fn subcommands(d: &Path) -> Vec<Vec<String>> {
    let p = |x: &str| d.join(x).to_string_lossy().into_owned();
    let key = d.join("id.txt");
    fs::write(&key, "# not used\n").unwrap();
    [
        vec!["redact".to_string()],
        vec!["pipe".into(), "--out".into(), p("out")],
        vec!["seal".into(), "--out".into(), p("out")],
        vec![
            "tail".into(),
            "--out".into(),
            p("out"),
            "--state".into(),
            p("state"),
        ],
        vec![
            "cat".into(),
            "-i".into(),
            key.to_string_lossy().into_owned(),
        ],
        vec!["keygen".into()],
        vec!["retention".into(), "--dir".into(), p("out")],
        vec!["audit".into()],
        vec!["config".into(), "check".into()],
        vec!["generate".into(), "man".into(), "--out".into(), p("gen")],
    ]
    .into_iter()
    .collect()
}

/// F10: clap printed `unexpected argument 'AGE-SECRET-KEY-1…'` (and the whole SSH private key after
/// `-r`). Every subcommand, every position, each kind of secret.
#[test]
fn a_secret_key_on_the_command_line_is_never_echoed_by_any_subcommand() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let lower = AGE_KEY.to_ascii_lowercase();
    let secrets = [AGE_KEY, lower.as_str(), SSH_KEY, PEM_KEY];
    let mut checked = 0;
    for sub in subcommands(d) {
        for secret in secrets {
            let placements: Vec<Vec<String>> = vec![
                vec![secret.to_string()],
                vec!["-r".into(), secret.to_string()],
                vec![format!("--recipient={secret}")],
                vec!["-i".into(), secret.to_string()],
            ];
            for extra in placements {
                let mut args = sub.clone();
                args.extend(extra.iter().cloned());
                let o = run(&args);
                let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
                for f in fragments(secret) {
                    assert!(
                        !all.contains(&f),
                        "`logveil {} {}…` echoed the secret ({f}):\n{all}",
                        sub.join(" "),
                        extra[0].chars().take(12).collect::<String>()
                    );
                }
                assert_eq!(o.status.code(), Some(2), "{}: {all}", sub.join(" "));
                assert!(all.contains("secret key"), "{}: {all}", sub.join(" "));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 10 * 4 * 4);
}

/// The refusal says which argument, and for a recipient which one, so the user can find it.
#[test]
fn a_secret_given_as_a_recipient_is_named_by_its_position() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out").to_string_lossy().into_owned();
    let o = run(&[
        "pipe".into(),
        "--out".into(),
        out.clone(),
        "-r".into(),
        "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p".into(),
        "-r".into(),
        SSH_KEY.into(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("--recipient #2"), "{err}");
    assert!(!Path::new(&out).exists(), "nothing was done");
}

/// The argument parser's errors: an argument longer than 64 bytes (a pasted token or password, a key
/// body line) is shown only as its position and size; short ones are still quoted, so the message helps.
#[test]
fn argument_errors_hide_long_arguments_and_keep_short_ones() {
    let long = format!("password={}", "Hunter2".repeat(12));
    let o = run(&["pipe".into(), "--out".into(), "o".into(), long.clone()]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("Hunter2Hunter2"), "{err}");
    assert!(
        err.contains(&format!("<argument 4: {} bytes, not shown>", long.len())),
        "{err}"
    );
    let o = run(&["pipe".into(), "--out".into(), "o".into(), "bogus".into()]);
    assert!(text(&o.stderr).contains("'bogus'"), "{}", text(&o.stderr));
    let value = "9".repeat(70);
    let o = run(&["pipe".into(), format!("--gzip-level={value}")]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains(&value), "{err}");
    // --help and --version still work (exit 0, on stdout).
    let o = run(&["--version".into()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("logveil"));
}

/// Newcomer review 3.3: a config holding a secret key as a scalar where a list was expected printed the
/// key in the type error; any mistyped value was quoted.
#[test]
fn config_type_errors_name_the_key_and_never_quote_the_value() {
    let t = tempfile::tempdir().unwrap();
    for (yaml, at) in [
        (
            format!("logveil:\n  segments: {{dir: o4, recipients: {AGE_KEY}}}\n"),
            "logveil.segments.recipients",
        ),
        (
            "logveil:\n  segments:\n    gzip_level: \"password=hunter2xyz\"\n".to_string(),
            "logveil.segments.gzip_level",
        ),
        (
            "logveil:\n  segments:\n    gzip_level: 13812345678901\n".to_string(),
            "logveil.segments.gzip_level",
        ),
    ] {
        let cfg = t.path().join("c.yaml");
        fs::write(&cfg, &yaml).unwrap();
        for cmd in [
            vec!["config".to_string(), "check".into()],
            vec!["redact".to_string()],
        ] {
            let mut args = cmd.clone();
            args.extend(["--config".into(), cfg.to_string_lossy().into_owned()]);
            let o = run(&args);
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{err}");
            assert!(err.contains(at), "the key path is named: {err}");
            for secret in ["QYQSZQGPQYQS", "hunter2xyz", "13812345678"] {
                assert!(!err.contains(secret), "{yaml}: {err}");
            }
        }
    }
}
