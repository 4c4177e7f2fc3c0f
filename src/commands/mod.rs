//! One module per subcommand: each turns its CLI arguments into a validated setup and wires the stages.

pub mod audit;
pub mod cat;
pub mod config_check;
pub mod forget;
pub mod generate;
pub mod keygen;
pub mod pipe;
pub mod pseudonym;
pub mod redact;
pub mod retention;
pub mod retention_remote;
pub mod seal;
pub mod sealing;
pub mod ship;
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
    crate::hardening::log_outcome();
    let result = match cli.command {
        Command::Redact(a) => redact::run(&a),
        Command::Config(crate::cli::ConfigCommand::Check(a)) => {
            config_check::run(&a, cli.global.quiet)
        }
        Command::Retention(a) => retention::run(&a),
        Command::Ship(a) => ship::run(&a),
        Command::Audit(a) => audit::run(&a),
        Command::Pipe(a) => pipe::run(&a),
        Command::Seal(a) => seal::run(&a),
        Command::Cat(a) => cat::run(&a),
        Command::Keygen(a) => keygen::run(&a),
        Command::Pseudonym(a) => pseudonym::run(&a),
        Command::Forget(a) => forget::run(&a),
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

/// Whether logveil's own messages are JSON lines (`--log-format json`), set once by [`init_logging`].
static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn json_logs() -> bool {
    JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints an error chain as one message on stderr: `logveil: error: what: why`, or with `--log-format
/// json` one JSON log line at level ERROR, like every other line logveil writes there; any key
/// material in it is replaced (see [`crate::secrets`]).
pub fn report(e: &anyhow::Error) {
    let msg = crate::secrets::hide_keys(&format!("{e:#}"));
    if json_logs() {
        tracing::error!("{msg}");
    } else {
        eprintln!("logveil: error: {msg}");
    }
}

/// A message about one input (a file skipped, a segment incomplete): `logveil: MSG` on stderr, or with
/// `--log-format json` a JSON log line at level WARN.
pub fn say(msg: std::fmt::Arguments<'_>) {
    if json_logs() {
        tracing::warn!("{msg}");
    } else {
        eprintln!("logveil: {msg}");
    }
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
    JSON_LOGS.store(
        g.log_format == LogFormat::Json,
        std::sync::atomic::Ordering::Relaxed,
    );
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
