//! One module per subcommand: each turns its CLI arguments into a validated setup and wires the stages.

pub mod audit;
pub mod cat;
pub mod config_check;
pub mod generate;
pub mod keygen;
pub mod pipe;
pub mod redact;
pub mod retention;
pub mod seal;
pub mod sealing;
pub mod tail;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;

use crate::cli::{Cli, Command, ConfigArg, GlobalArgs, LogFormat};
use crate::config::Config;
use crate::dfa_cache::DfaCache;
use crate::redact::DfaStore;

/// Exit codes (documented in `--help` and the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success (audit: nothing found).
    Ok = 0,
    /// Done, but something was found or could not be read completely.
    Found = 1,
    /// Error: bad usage, config, unreadable input, unwritable output.
    Error = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Runs a parsed command line; prints an error once, with a hint when there is one.
pub fn run(cli: Cli) -> ExitCode {
    init_logging(&cli.global);
    let result = match cli.command {
        Command::Redact(a) => redact::run(&a),
        Command::Config(crate::cli::ConfigCommand::Check(a)) => config_check::run(&a),
        Command::Retention(a) => retention::run(&a),
        Command::Audit(a) => audit::run(&a),
        Command::Pipe(a) => pipe::run(&a),
        Command::Seal(a) => seal::run(&a),
        Command::Cat(a) => cat::run(&a),
        Command::Keygen(a) => keygen::run(&a),
        Command::Tail(a) => tail::run(&a),
        Command::Generate(a) => generate::run(&a),
    };
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            report(&e);
            Exit::Error.into()
        }
    }
}

/// Prints an error chain as one message on stderr: `logveil: error: what: why`.
pub fn report(e: &anyhow::Error) {
    eprintln!("logveil: error: {e:#}");
}

/// logveil's own logs go to stderr (stdout is data), human or JSON. `LOGVEIL_LOG` overrides the level.
pub fn init_logging(g: &GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let level = if g.quiet {
        "error"
    } else {
        match g.verbose {
            0 => "info",
            1 => "debug",
            _ => "trace",
        }
    };
    let filter = EnvFilter::try_from_env("LOGVEIL_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match g.log_format {
        LogFormat::Human => builder
            .without_time()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Loads the config named by `--config` (or built-in defaults), logs its notes, and gives the engine the
/// compiled-pattern cache.
pub fn load_config(arg: &ConfigArg) -> Result<Config> {
    let mut cfg = Config::load(arg.config.as_deref())?;
    for note in &cfg.notes {
        tracing::warn!("config: {note}");
    }
    cfg.redaction.dfa_store = dfa_cache(arg, &cfg).map(|c| Arc::new(c) as Arc<dyn DfaStore>);
    Ok(cfg)
}

/// The compiled-pattern cache the flags, the config and the environment name (None: off, or no place).
pub fn dfa_cache(arg: &ConfigArg, cfg: &Config) -> Option<DfaCache> {
    DfaCache::from_settings(
        arg.cache_dir.as_deref(),
        arg.no_cache,
        &cfg.cache,
        &|name| std::env::var_os(name),
    )
}
