//! Keeping secrets out of what logveil prints (stderr ends up in the journal).
//!
//! The rule, applied in this order:
//! 1. An argument that holds a secret key (an age identity `AGE-SECRET-KEY-1…` or `AGE-PLUGIN-…`, a PEM or
//!    OpenSSH private key, a PuTTY key) is refused before the argument parser sees it, for every
//!    subcommand and in every position: the message names its position (and `--recipient #N` when it was
//!    given as a recipient), never its text ([`refuse_secret_arguments`]).
//! 2. The argument parser's own errors (clap quotes what it did not expect) show no argument longer than
//!    [`LONG_ARGUMENT`] bytes or holding a control character: it is replaced by its position and size
//!    ([`clap_error_text`]).
//! 3. Config errors never quote the value serde did not expect: only its kind and the key path
//!    ([`hide_config_values`]).
//! 4. Every error report is passed through [`hide_keys`], which replaces anything key-shaped that is left.

use std::ffi::OsString;

/// Arguments longer than this are not shown in the argument parser's errors (a recipient `age1…` is 62
/// bytes; pasted key material, tokens and passwords are usually longer).
pub const LONG_ARGUMENT: usize = 64;

/// Markers of secret key material (matched case-insensitively; bech32 age keys may be lowercase).
const KEY_MARKERS: &[&str] = &[
    "age-secret-key-1",
    "age-plugin-",
    "private key-----",
    "-----begin openssh private key",
    "b3blbnnzac1rzxktdje", // base64 of "openssh-key-v1", the start of every OpenSSH private key body
    "putty-user-key-file-",
];

/// Whether `text` holds secret key material (an age identity, a private SSH/PEM/PuTTY key).
pub fn looks_like_key(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    KEY_MARKERS.iter().any(|m| lower.contains(m))
}

/// Refuses a command line with a secret key in it (see the module docs). The error names the argument's
/// position, never its text.
pub fn refuse_secret_arguments(args: &[OsString]) -> Result<(), String> {
    let mut recipients = 0;
    let mut value_of_recipient = false;
    for (i, arg) in args.iter().enumerate().skip(1) {
        let text = arg.to_string_lossy();
        let is_value = std::mem::take(&mut value_of_recipient);
        let inline = text.starts_with("--recipient=") || (text.starts_with("-r") && text.len() > 2);
        if is_value || inline {
            recipients += 1;
        }
        if text == "-r" || text == "--recipient" {
            value_of_recipient = true;
        }
        if !looks_like_key(&text) {
            continue;
        }
        let what = if is_value || inline {
            format!("--recipient #{recipients} (argument {i})")
        } else {
            format!("argument {i}")
        };
        return Err(format!(
            "{what} is a secret key (an age identity or a private key), not a recipient, a path or an \
             option; it is not shown, and nothing was done\n  hint: logveil only ever needs the public \
             recipient (age1... from `logveil keygen` or `age-keygen -y KEY_FILE`, or an ssh-ed25519 public \
             key); keep the secret key off this host, and out of shell history"
        ));
    }
    Ok(())
}

/// The text of a clap error with long or control-character arguments (and anything key-shaped) replaced
/// by their position and size.
pub fn clap_error_text(rendered: &str, args: &[OsString]) -> String {
    let mut text = rendered.to_string();
    let mut hidden: Vec<(String, String)> = Vec::new();
    for (i, arg) in args.iter().enumerate().skip(1) {
        let arg = arg.to_string_lossy();
        // clap may quote the whole argument, or only the value of `--opt=VALUE` / `-oVALUE`.
        let mut parts = vec![arg.to_string()];
        if arg.starts_with('-') {
            if let Some((_, v)) = arg.split_once('=') {
                parts.push(v.to_string());
            }
            if !arg.starts_with("--") && arg.len() > 2 {
                parts.extend(arg.get(2..).map(str::to_string));
            }
        }
        for p in parts {
            if p.len() > LONG_ARGUMENT || p.chars().any(char::is_control) || looks_like_key(&p) {
                let label = format!("<argument {i}: {} bytes, not shown>", p.len());
                hidden.push((p, label));
            }
        }
    }
    // Longest first, so that a value is not replaced inside its own argument's label.
    hidden.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    for (p, label) in hidden {
        text = text.replace(&p, &label);
    }
    hide_long_quoted(&hide_keys(&text))
}

/// Replaces any `'…'`-quoted run longer than [`LONG_ARGUMENT`] (clap's quoting) by its size.
fn hide_long_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('\'') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        match after.find('\'') {
            Some(close) if after[..close].len() > LONG_ARGUMENT => {
                out.push_str(&format!("<{} bytes, not shown>'", after[..close].len()));
                rest = &after[close + 1..];
            }
            Some(close) => {
                out.push_str(&after[..=close]);
                rest = &after[close + 1..];
            }
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replaces key material left in a message: an age identity's bech32 body, a PEM/OpenSSH block (from its
/// BEGIN line to its END line, or to the end of the message), an OpenSSH key body.
pub fn hide_keys(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let rest = &lower[i..];
        if rest.starts_with("age-secret-key-1") || rest.starts_with("age-plugin-") {
            let end = i + rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(rest.len());
            out.push_str("<an age secret key, not shown>");
            i = end;
        } else if rest.starts_with("-----begin ")
            && rest[..rest.find('\n').unwrap_or(rest.len())].contains("private key")
        {
            let end = match rest.find("-----end ") {
                Some(e) => {
                    let after = &rest[e + 9..];
                    e + 9 + after.find("-----").map_or(after.len(), |k| k + 5)
                }
                None => rest.len(),
            };
            out.push_str("<a private key, not shown>");
            i += end;
        } else if rest.starts_with("b3blbnnzac1rzxktdje") {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '\n')))
                .unwrap_or(rest.len());
            out.push_str("<a private key, not shown>");
            i += end;
        } else {
            let c = text[i..].chars().next().expect("not at the end");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// serde's error messages quote the value they did not expect (`invalid type: string "…"`, `integer
/// `5``, `unknown variant `…``): the value is replaced by its kind, the rest (expected types, field names,
/// the list of variants) is kept.
pub fn hide_config_values(msg: &str) -> String {
    const STRING: &str = "string \"";
    let mut out = String::with_capacity(msg.len());
    let mut i = 0;
    while i < msg.len() {
        let rest = &msg[i..];
        if let Some(body) = rest.strip_prefix(STRING) {
            // Debug-formatted: ends at the first quote not escaped by a backslash.
            let mut end = body.len();
            let mut escaped = false;
            for (k, c) in body.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = k;
                        break;
                    }
                    _ => escaped = false,
                }
            }
            out.push_str("a string (value not shown)");
            i += STRING.len() + (end + 1).min(body.len());
            continue;
        }
        if let Some(quoted) = rest.strip_prefix('`') {
            let clause_start = msg[..i].rfind(", ").map_or(0, |k| k + 2);
            let clause = &msg[clause_start..i];
            let is_value = ["invalid type", "invalid value", "unknown variant"]
                .iter()
                .any(|w| clause.contains(w));
            if let (true, Some(close)) = (is_value, quoted.find('`')) {
                out.push_str("(value not shown)");
                i += close + 2;
                continue;
            }
        }
        let c = rest.chars().next().expect("not at the end");
        out.push(c);
        i += c.len_utf8();
    }
    hide_keys(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGE: &str = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSQ0ECD8R";

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn keys_are_recognised_in_any_case_and_recipients_are_not() {
        for k in [
            AGE,
            &AGE.to_ascii_lowercase(),
            "AGE-PLUGIN-YUBIKEY-1QQQQQQQQQ",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
            "PuTTY-User-Key-File-3: ssh-ed25519",
        ] {
            assert!(looks_like_key(k), "{k}");
        }
        for not in [
            "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFake user@host",
            "/var/lib/logveil/segments",
            "my private key.txt",
        ] {
            assert!(!looks_like_key(not), "{not}");
        }
    }

    #[test]
    fn a_secret_argument_is_refused_by_position_without_echo() {
        let e =
            refuse_secret_arguments(&args(&["logveil", "pipe", "--out", "o", AGE])).unwrap_err();
        assert!(e.contains("argument 4") && e.contains("secret key"), "{e}");
        assert!(!e.contains("QYQSZ"), "{e}");
        let e = refuse_secret_arguments(&args(&["logveil", "pipe", "-r", "age1x", "-r", AGE]))
            .unwrap_err();
        assert!(e.contains("--recipient #2 (argument 5)"), "{e}");
        let inline = format!("--recipient={AGE}");
        let e = refuse_secret_arguments(&args(&["logveil", "seal", &inline])).unwrap_err();
        assert!(e.contains("--recipient #1 (argument 2)"), "{e}");
        assert!(
            refuse_secret_arguments(&args(&["logveil", "pipe", "-r", "age1x", "--out", "o"]))
                .is_ok()
        );
    }

    #[test]
    fn clap_errors_hide_long_and_key_shaped_arguments_and_keep_short_ones() {
        let long = "password=".to_string() + &"x".repeat(80);
        let a = args(&["logveil", "pipe", "bogus", &long]);
        let rendered = format!(
            "error: unexpected argument 'bogus' found\nerror: unexpected argument '{long}' found\n"
        );
        let t = clap_error_text(&rendered, &a);
        assert!(t.contains("'bogus'"), "{t}");
        assert!(!t.contains("xxxxxxxx"), "{t}");
        assert!(t.contains("<argument 3: 89 bytes, not shown>"), "{t}");
        // A quoted long run that is no argument as given (clap trimmed it) is hidden too.
        let t = clap_error_text(
            &format!("error: invalid value '{}' for '--x'", "y".repeat(70)),
            &a,
        );
        assert!(!t.contains("yyyyyyyy"), "{t}");
        // The value of --opt=VALUE alone.
        let v = format!("--gzip-level={}", "9".repeat(70));
        let t = clap_error_text(
            &format!(
                "error: invalid value '{}' for '--gzip-level <N>'",
                "9".repeat(70)
            ),
            &args(&["logveil", &v]),
        );
        assert!(t.contains("<argument 1: 70 bytes, not shown>"), "{t}");
    }

    #[test]
    fn key_material_left_in_a_message_is_replaced() {
        let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----";
        let t = hide_keys(&format!("a {AGE} b {pem} c {}", AGE.to_ascii_lowercase()));
        assert_eq!(
            t,
            "a <an age secret key, not shown> b <a private key, not shown> c <an age secret key, not shown>"
        );
    }

    #[test]
    fn config_errors_keep_the_kind_and_hide_the_value() {
        let m = format!("invalid type: string \"{AGE}\", expected a sequence");
        assert_eq!(
            hide_config_values(&m),
            "invalid type: a string (value not shown), expected a sequence"
        );
        let m = "invalid type: string \"pass\\\"word=hunter2\", expected u32";
        assert_eq!(
            hide_config_values(m),
            "invalid type: a string (value not shown), expected u32"
        );
        let m = "invalid type: integer `13812345678`, expected a string";
        assert_eq!(
            hide_config_values(m),
            "invalid type: integer (value not shown), expected a string"
        );
        let m = "unknown variant `hunter2`, expected one of `redact`, `mask`";
        assert_eq!(
            hide_config_values(m),
            "unknown variant (value not shown), expected one of `redact`, `mask`"
        );
        let m = "unknown field `dirr`, expected one of `dir`, `recipients`";
        assert_eq!(hide_config_values(m), m, "field names are keys, not values");
    }
}
