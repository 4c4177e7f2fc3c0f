//! age recipients (public keys): `age1...` X25519 keys and SSH public keys (ssh-ed25519, ssh-rsa).
//!
//! Only public keys belong on the host. A recipient that cannot be used is reported by where it came from
//! (`--recipient #2`, `FILE line 3`, `logveil.segments.recipients[0]`), never by its text: a line given by
//! mistake may be a secret key, and such a line is recognised and refused without being echoed.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::error::SinkError;

#[derive(Clone)]
enum Key {
    X25519(age::x25519::Recipient),
    Ssh(age::ssh::Recipient),
}

/// The recipients every segment is encrypted to (each segment gets its own file key).
#[derive(Clone, Default)]
pub struct Recipients {
    keys: Vec<Key>,
}

impl fmt::Debug for Recipients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipients({} keys)", self.keys.len())
    }
}

impl Recipients {
    pub fn new() -> Self {
        Recipients::default()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds one recipient; `at` names where it came from for the error message.
    pub fn add(&mut self, text: &str, at: &str) -> Result<(), SinkError> {
        let key = parse_key(text).map_err(|reason| SinkError::Recipient {
            at: at.to_string(),
            reason,
        })?;
        self.keys.push(key);
        Ok(())
    }

    /// Adds every recipient of a file: one per line, blank lines and `#` comments ignored.
    pub fn add_file(&mut self, path: &Path) -> Result<(), SinkError> {
        let file_err = |source| SinkError::RecipientsFile {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(file_err)?;
        let before = self.keys.len();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(file_err)?;
            let text = line.trim();
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            self.add(text, &format!("{} line {}", path.display(), i + 1))?;
        }
        if self.keys.len() == before {
            return Err(SinkError::Recipient {
                at: path.display().to_string(),
                reason: "the file holds no recipient".into(),
            });
        }
        Ok(())
    }

    /// The header stanzas age writes for these recipients, by kind: `X25519`, `ssh-ed25519`, `ssh-rsa`
    /// (see [`super::reader::header_stanzas`]).
    pub fn stanza_counts(&self) -> StanzaCounts {
        let mut c = StanzaCounts::default();
        for k in &self.keys {
            match k {
                Key::X25519(_) => c.x25519 += 1,
                Key::Ssh(age::ssh::Recipient::SshEd25519(..)) => c.ssh_ed25519 += 1,
                Key::Ssh(age::ssh::Recipient::SshRsa(..)) => c.ssh_rsa += 1,
            }
        }
        c
    }

    /// A fresh encryptor (new file key) for one segment.
    pub(crate) fn encryptor(&self) -> Result<age::Encryptor, SinkError> {
        if self.keys.is_empty() {
            return Err(SinkError::NoRecipients);
        }
        let dyns = self.keys.iter().map(|k| match k {
            Key::X25519(r) => r as &dyn age::Recipient,
            Key::Ssh(r) => r as &dyn age::Recipient,
        });
        age::Encryptor::with_recipients(dyns).map_err(|e| SinkError::Encrypt(e.to_string()))
    }
}

/// How many recipients of each kind a segment is encrypted to (age's random "grease" stanzas and other
/// kinds are not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StanzaCounts {
    pub x25519: usize,
    pub ssh_ed25519: usize,
    pub ssh_rsa: usize,
}

impl fmt::Display for StanzaCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} X25519, {} ssh-ed25519, {} ssh-rsa",
            self.x25519, self.ssh_ed25519, self.ssh_rsa
        )
    }
}

/// Parses one recipient; the error says what is wrong without repeating the text.
fn parse_key(text: &str) -> Result<Key, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty".into());
    }
    let upper = t.to_ascii_uppercase();
    if upper.starts_with("AGE-SECRET-KEY-") || upper.starts_with("AGE-PLUGIN-") {
        return Err(
            "this is a secret key (an age identity), not a recipient; give its public key \
                    (age1..., printed by `logveil keygen` or `age-keygen -y FILE`) and keep the \
                    identity off this host"
                .into(),
        );
    }
    if upper.contains("PRIVATE KEY") {
        return Err(
            "this is a private key, not a public one; give the public key \
                    (for SSH keys, the .pub file) and keep the private key off this host"
                .into(),
        );
    }
    if t.starts_with("age1") {
        return t.parse::<age::x25519::Recipient>().map(Key::X25519).map_err(|e| {
            format!("not a valid age X25519 recipient ({e}); a recipient looks like age1 followed by 58 characters")
        });
    }
    let first_word = t.split_whitespace().next().unwrap_or("");
    let looks_ssh = first_word.starts_with("ssh-")
        || first_word.starts_with("ecdsa-")
        || first_word.starts_with("sk-");
    if looks_ssh {
        use age::ssh::ParseRecipientKeyError as E;
        return t
            .parse::<age::ssh::Recipient>()
            .map(Key::Ssh)
            .map_err(|e| match e {
                E::Unsupported(kind) => format!(
                    "SSH key type {} is not supported (use ssh-ed25519 or ssh-rsa)",
                    safe_word(&kind)
                ),
                E::RsaModulusTooSmall => "ssh-rsa key shorter than 2048 bits".into(),
                E::RsaModulusTooLarge => "ssh-rsa key longer than age supports".into(),
                _ => "not a valid SSH public key".into(),
            });
    }
    Err(
        "not a recipient: expected an age X25519 recipient (age1...) or an SSH public key \
         (ssh-ed25519 or ssh-rsa)"
            .into(),
    )
}

/// A key-type word, shown only if it looks like one (short, lowercase letters, digits, `-@.`).
fn safe_word(w: &str) -> String {
    let ok = w.len() <= 40
        && w.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-@.".contains(&b));
    if ok {
        w.to_string()
    } else {
        "(unrecognised)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    fn keypair() -> (String, String) {
        let id = age::x25519::Identity::generate();
        (
            id.to_string().expose_secret().to_string(),
            id.to_public().to_string(),
        )
    }

    #[test]
    fn x25519_recipients_are_accepted() {
        let (_, public) = keypair();
        let mut r = Recipients::new();
        r.add(&public, "--recipient #1").unwrap();
        r.add(&format!("  {public}  "), "--recipient #2").unwrap();
        assert_eq!(r.len(), 2);
        r.encryptor().unwrap();
    }

    #[test]
    fn a_secret_key_is_refused_without_being_echoed() {
        let (secret, _) = keypair();
        let mut r = Recipients::new();
        let err = r.add(&secret, "--recipient #1").unwrap_err().to_string();
        assert!(err.contains("--recipient #1"), "{err}");
        assert!(err.contains("secret key"), "{err}");
        assert!(
            !err.contains(&secret[15..]),
            "the secret must not be echoed"
        );
        let err = r
            .add("-----BEGIN OPENSSH PRIVATE KEY-----", "k line 1")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("private key") && err.contains("k line 1"),
            "{err}"
        );
    }

    #[test]
    fn bad_recipients_are_named_by_position_only() {
        let mut r = Recipients::new();
        for (text, at) in [
            ("age1notakey", "--recipient #3"),
            ("hello world", "--recipient #4"),
            ("ssh-ed25519 AAAAnotbase64!!", "--recipient #5"),
        ] {
            let err = r.add(text, at).unwrap_err().to_string();
            assert!(err.starts_with("segment: recipient "), "{err}");
            assert!(err.contains(at), "{err}");
            assert!(!err.contains(text), "the text is not echoed: {err}");
        }
        assert!(r.is_empty());
        assert!(matches!(r.encryptor(), Err(SinkError::NoRecipients)));
    }

    #[test]
    fn recipients_files_skip_comments_and_name_the_bad_line() {
        let (_, a) = keypair();
        let (_, b) = keypair();
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        std::fs::write(&good, format!("# ops team\n\n{a}\n  {b} \n")).unwrap();
        let mut r = Recipients::new();
        r.add_file(&good).unwrap();
        assert_eq!(r.len(), 2);

        let bad = dir.path().join("bad");
        std::fs::write(&bad, format!("{a}\n# c\nnonsense\n")).unwrap();
        let err = Recipients::new().add_file(&bad).unwrap_err().to_string();
        assert!(err.contains("bad line 3"), "{err}");

        let empty = dir.path().join("empty");
        std::fs::write(&empty, "# nothing\n").unwrap();
        let err = Recipients::new().add_file(&empty).unwrap_err().to_string();
        assert!(err.contains("no recipient"), "{err}");

        let err = Recipients::new()
            .add_file(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing"), "{err}");
    }
}
