//! `logveil pseudonym TYPE VALUE`: the token the `hash` action writes for one identifier with the
//! configured key, so that an operator can find (`cat --only`) and erase (`forget`) what was logged about a
//! person. The token is made by the engine itself ([`crate::redact::Engine::pseudonym`]): the same
//! normalization, the same key, the same format as redaction. The value is never printed or logged.

use std::io::{self, BufRead, IsTerminal, Write};

use anyhow::{bail, Context, Result};

use super::{load_config, say, Exit};
use crate::cli::PseudonymArgs;
use crate::redact::{Engine, PseudonymError};

pub fn run(args: &PseudonymArgs) -> Result<Exit> {
    let value = if args.value == "-" {
        read_value_from_stdin()?
    } else {
        args.value.clone().into_bytes()
    };
    // An identifier has no surrounding white space; a pasted one often does.
    let value = value.trim_ascii().to_vec();
    if value.is_empty() {
        bail!("pseudonym: VALUE is empty");
    }
    let cfg = load_config(&args.config)?;
    let engine = Engine::new(&cfg.redaction)?;
    let p = match engine.pseudonym(&args.type_name, &value) {
        Ok(p) => p,
        Err(PseudonymError::UnknownType { known }) => bail!(
            "pseudonym: unknown type {:?}; the types of this config are: {}",
            args.type_name,
            known.join(", ")
        ),
        Err(PseudonymError::NoKey) => {
            let config = match &args.config.config {
                Some(p) => format!("the config {}", p.display()),
                None => "no config (--config / LOGVEIL_CONFIG): built-in defaults".into(),
            };
            let file = match &cfg.hash_key_file {
                Some(f) => format!("logveil.hash_key_file {} is missing", f.display()),
                None => "logveil.hash_key_file is not set".into(),
            };
            bail!(
                "pseudonym: no hash key: looked in {config}: {file}, and the environment variable {} is \
                 not set\n  hint: use the key redaction uses (the Debian package's is \
                 /etc/logveil/hash.key: --config /etc/logveil/logveil.yaml)",
                cfg.hash_key_env
            )
        }
    };
    if !p.hashed {
        say(format_args!(
            "pseudonym: this config's action for {} is not `hash`: redaction writes no such token for it \
             (the token is what the key gives; segments written with `hash` hold it)",
            args.type_name
        ));
    }
    let mut out = io::stdout().lock();
    out.write_all(&p.token)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .context("pseudonym: cannot write to stdout")?;
    Ok(Exit::Ok)
}

/// One line of stdin, without its line ending.
fn read_value_from_stdin() -> Result<Vec<u8>> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        say(format_args!("pseudonym: type the value, then Enter"));
    }
    let mut line = Vec::new();
    stdin
        .lock()
        .read_until(b'\n', &mut line)
        .context("pseudonym: cannot read VALUE from stdin")?;
    if line.ends_with(b"\n") {
        line.pop();
        if line.ends_with(b"\r") {
            line.pop();
        }
    }
    Ok(line)
}
