//! `logveil keygen [-o FILE]`: a new age X25519 identity (private key) and its recipient (public key).
//!
//! With `-o FILE` (`--out`; `--output` is kept as a hidden alias) the identity goes to FILE (created 0600, never overwritten) and the recipient to stdout;
//! without, the identity goes to stdout and the recipient to stderr, as `age-keygen` does. Make the
//! identity on an operator's machine: only the recipient belongs on the host that writes logs.

use std::io::{self, Write};

use age::secrecy::ExposeSecret;
use anyhow::{Context, Result};

use super::Exit;
use crate::cli::KeygenArgs;
use crate::sink::fsutil::create_private_file;

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
            let mut f = create_private_file(path).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    anyhow::anyhow!(
                        "keygen: {} already exists; refusing to overwrite an identity",
                        path.display()
                    )
                } else {
                    anyhow::Error::new(e)
                        .context(format!("keygen: cannot create {}", path.display()))
                }
            })?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("keygen: cannot write {}", path.display()))?;
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
