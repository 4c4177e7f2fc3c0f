//! `logveil keygen [-o FILE]`: a new age X25519 identity (private key) and its recipient (public key).
//!
//! With `-o FILE` (`--out`; `--output` is kept as a hidden alias) the identity goes to FILE (created 0600,
//! never overwritten, never through a symlink, written whole or not at all) and the recipient to stdout;
//! without, the identity goes to stdout and the recipient to stderr, as `age-keygen` does. Make the
//! identity on an operator's machine: only the recipient belongs on the host that writes logs.

use std::io::{self, Write};

use age::secrecy::ExposeSecret;
use anyhow::{Context, Result};

use super::Exit;
use crate::cli::KeygenArgs;
use crate::fsutil::{is_symlink_refusal, open_parent, FILE_MODE};

pub fn run(args: &KeygenArgs) -> Result<Exit> {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let created = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
    let text = format!(
        "# created: {created}\n# public key: {recipient}\n{}\n",
        identity.to_string().expose_secret()
    );
    match &args.out {
        Some(path) => {
            let (dir, name) = open_parent(path)
                .with_context(|| format!("keygen: cannot create {}", path.display()))?;
            dir.write_atomic(name, text.as_bytes(), FILE_MODE, false)
                .map_err(|e| {
                    if is_symlink_refusal(&e) {
                        anyhow::anyhow!("keygen: {}: {e}", path.display())
                    } else if e.kind() == io::ErrorKind::AlreadyExists {
                        anyhow::anyhow!(
                            "keygen: {} already exists; refusing to overwrite an identity",
                            path.display()
                        )
                    } else {
                        anyhow::Error::new(e)
                            .context(format!("keygen: cannot create {}", path.display()))
                    }
                })?;
            println!("{recipient}");
        }
        None => {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .context("keygen: cannot write to stdout")?;
            eprintln!("Public key: {recipient}");
        }
    }
    Ok(Exit::Ok)
}
