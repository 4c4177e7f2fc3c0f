//! `logveil keygen` and `logveil cat`: identities, tampered segments, missing inputs.

mod common;

use std::fs;
use std::process::Command;

use common::*;

#[test]
fn keygen_writes_a_private_identity_that_the_age_tool_accepts() {
    if !have("age") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("key.txt");
    let o = Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" keygen -o \"$1\"")
        .arg(bin())
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(mode(&key), 0o600);
    let recipient = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(
        recipient.starts_with("age1"),
        "the recipient goes to stdout"
    );
    assert!(fs::read_to_string(&key)
        .unwrap()
        .contains(&format!("# public key: {recipient}")));

    // Refuses to overwrite.
    let before = fs::read(&key).unwrap();
    let o = Command::new(bin())
        .args(["keygen", "-o"])
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("refusing to overwrite"),
        "{}",
        stderr(&o)
    );
    assert!(fs::read(&key).unwrap() == before);

    // The age tool encrypts to the recipient; logveil pipe too; both decrypt with the identity.
    let out = tmp.path().join("sealed");
    let o = run_with_stdin(
        Command::new(bin())
            .args(["pipe", "--recipient", &recipient])
            .arg("--out")
            .arg(&out),
        b"hello 13812345678\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = Command::new("age")
        .args(["-d", "-i"])
        .arg(&key)
        .arg(&segments(&out)[0])
        .output()
        .unwrap();
    assert!(o.status.success(), "age -d with the keygen identity");

    // To stdout: the identity on stdout, the recipient on stderr (as age-keygen).
    let o = Command::new(bin()).arg("keygen").output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.lines().any(|l| l.starts_with("AGE-SECRET-KEY-1")));
    assert!(stderr(&o).contains("Public key: age1"));
}

#[test]
fn cat_reports_a_tampered_segment_by_name_after_what_was_readable() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sealed");
    let input = sample_log(40_000, 13);
    let o = run_with_stdin(
        Command::new(bin())
            .args(["pipe", "--recipient", &keys.recipient])
            .arg("--out")
            .arg(&out),
        &input,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let seg = segments(&out).remove(0);
    let mut bytes = fs::read(&seg).unwrap();
    assert!(bytes.len() > 4 * 65_552, "spans several chunks");
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    fs::write(&seg, &bytes).unwrap();
    let c = logveil_cat(&keys.identity, &[&seg]);
    assert_eq!(c.status.code(), Some(1));
    let err = stderr(&c);
    let name = seg.file_name().unwrap().to_str().unwrap();
    assert!(err.contains(name) && err.contains("tampered"), "{err}");
    let expected = redacted(&input);
    assert!(!c.stdout.is_empty() && c.stdout.len() < expected.len());
    assert!(
        expected.starts_with(&c.stdout),
        "the chunks before the bad one"
    );
}

#[test]
fn cat_errors_name_the_missing_identity_or_input() {
    let Some(keys) = age_keys() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let missing_key = tmp.path().join("no-such-key");
    let c = logveil_cat(&missing_key, &[tmp.path()]);
    assert_eq!(c.status.code(), Some(2));
    assert!(stderr(&c).contains("no-such-key"), "{}", stderr(&c));

    let missing_seg = tmp.path().join("gone.log.gz.age");
    let c = logveil_cat(&keys.identity, &[&missing_seg]);
    assert_eq!(c.status.code(), Some(2));
    assert!(stderr(&c).contains("gone.log.gz.age"), "{}", stderr(&c));

    // An identity that does not match: named, exit 1 (not completely read).
    let out = tmp.path().join("sealed");
    let o = run_with_stdin(
        Command::new(bin())
            .args(["pipe", "--recipient", &keys.recipient])
            .arg("--out")
            .arg(&out),
        b"x\n",
    );
    assert!(o.status.success());
    let other = age_keys().unwrap();
    let c = logveil_cat(&other.identity, &[&out]);
    assert_eq!(c.status.code(), Some(1));
    assert!(stderr(&c).contains("no given identity"), "{}", stderr(&c));
}
