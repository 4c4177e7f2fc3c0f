//! Command-line definitions (clap derive) and nothing else.
//!
//! Each subcommand's arguments are turned into a validated configuration by the command's own module
//! under `commands/`; this file only says what can be typed.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (audit: nothing found)
  1  done, but something was found or could not be read completely
     (audit: findings; cat: a truncated or tampered segment; seal: a file was skipped;
      pipe: lines were dropped because segments could not be written;
      ship: a segment not confirmed on the remote, or another object under its name;
      cat --only: no line holds a token; forget: a segment could not be read or checked)
  2  error: bad usage, bad config, unreadable input, unwritable output";

/// Redact personal data from chat-bot logs, seal what is kept (gzip + age), delete it on time.
#[derive(Debug, Parser)]
#[command(name = "logveil", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Format of logveil's own log lines on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// More log output (-v: debug, -vv: trace). Logs never contain matched values.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Redact files (or stdin) to stdout; a streaming filter: `bot | logveil redact`.
    Redact(RedactArgs),
    /// stdin -> redact -> sealed segments in DIR (and stdout with --tee).
    Pipe(PipeArgs),
    /// Redact and seal already rotated files, then remove them (a logrotate postrotate hook).
    Seal(SealArgs),
    /// Follow log files through rotation; redact and seal every line exactly once.
    Tail(TailArgs),
    /// Decrypt and decompress segments to stdout, in data order.
    Cat(CatArgs),
    /// Print the pseudonym token the configured hash key gives one identifier: `[TYPE:hhhhhhhh]`.
    Pseudonym(PseudonymArgs),
    /// Rewrite the segments that hold pseudonym tokens without those lines (an erasure request).
    Forget(ForgetArgs),
    /// Write a new age identity (private key, 0600) and print its recipient (public key).
    Keygen(KeygenArgs),
    /// Delete expired segments and plaintext, once (for cron or a systemd timer).
    Retention(RetentionArgs),
    /// Copy finished segments to object storage with rclone; delete local copies once confirmed there.
    Ship(ShipArgs),
    /// Audit paths and TLS endpoints: permissions, residual PII, expired data, encryption, leftovers, TLS.
    Audit(AuditArgs),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Generate a man page or shell completions (for packaging).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct ConfigArg {
    /// YAML config (the seed `privacy:` format, plus the `logveil:` extensions). Built-in defaults
    /// when absent.
    #[arg(short, long, value_name = "FILE", env = "LOGVEIL_CONFIG")]
    pub config: Option<PathBuf>,

    /// Directory (0700) where the DFA compiled from the config's patterns is kept for the next start
    /// (default: logveil.cache.dir, $CACHE_DIRECTORY, $XDG_CACHE_HOME/logveil or ~/.cache/logveil).
    #[arg(long, value_name = "DIR", env = "LOGVEIL_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Build the DFA of the config's patterns at start; read and write no cache.
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct RedactArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    /// Print a per-type count of redactions to stderr at the end (counts only, never values).
    #[arg(long)]
    pub stats: bool,

    /// Redaction threads (default: the CPU cores this process may use). Output is in input order and the
    /// same whatever the number.
    #[arg(long, value_name = "N")]
    pub threads: Option<std::num::NonZeroUsize>,

    /// Files to redact, one after another (gzip files are decompressed); stdin when none (or `-`).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Where and how sealed segments are written.
#[derive(Debug, Args, Clone, Default)]
pub struct SealArgsCommon {
    /// Directory for sealed segments (created 0700).
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// age recipient (age1... or an ssh-ed25519 / ssh-rsa public key); may be repeated.
    #[arg(short, long = "recipient", value_name = "RECIPIENT")]
    pub recipients: Vec<String>,

    /// File with recipients, one per line, # comments allowed; may be repeated.
    #[arg(short = 'R', long = "recipients-file", value_name = "FILE")]
    pub recipients_files: Vec<PathBuf>,

    /// gzip level 0-9 (default 6, as logrotate).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=9))]
    pub gzip_level: Option<u32>,

    /// Finish a segment once it holds this much input (e.g. 64MiB).
    #[arg(long, value_name = "SIZE")]
    pub max_segment_bytes: Option<String>,

    /// Finish a segment once its first record is this old (e.g. 1h, 30m).
    #[arg(long, value_name = "DURATION")]
    pub max_segment_age: Option<String>,

    /// Merge counters into FILE, in the Prometheus text format (node_exporter textfile collector).
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,

    /// Redaction threads (default: the CPU cores this process may use). They share the cores with the
    /// segments' gzip threads (as many as the cores); the segments hold the same bytes whatever the number.
    #[arg(long, value_name = "N")]
    pub threads: Option<std::num::NonZeroUsize>,
}

#[derive(Debug, Args)]
pub struct PipeArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub seal: SealArgsCommon,

    /// Name of the segment stream (part of every segment's name).
    #[arg(long, value_name = "NAME", default_value = "stdin")]
    pub stream: String,

    /// Also write the redacted lines to stdout.
    #[arg(long)]
    pub tee: bool,

    /// When segments cannot be written (full disk, unwritable or vanished directory): `drop` keeps
    /// reading stdin so the writer (the bot) is never blocked or broken, drops and counts the lines it
    /// cannot seal (logveil_dropped_lines_total), retries every 5s and seals again once that works, then
    /// exits 1; `exit` stops at once with exit 2 (fail closed: the writer's next write then fails).
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = OnSinkError::Drop)]
    pub on_sink_error: OnSinkError,
}

/// What `pipe` does when the segments cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnSinkError {
    Drop,
    Exit,
}

#[derive(Debug, Args)]
pub struct SealArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub seal: SealArgsCommon,

    /// Keep the plaintext files after sealing them (default: remove them).
    #[arg(long)]
    pub keep: bool,

    /// Seal the target of a FILE that is a symbolic link, and remove that target (and the link). Without
    /// it a symbolic link is refused: removing only the link would leave the plaintext behind.
    #[arg(long)]
    pub follow_symlinks: bool,

    /// Stream name for the segments (default: the file name without rotation suffixes).
    #[arg(long, value_name = "NAME")]
    pub stream: Option<String>,

    /// Seal a FILE even while another process holds it open for writing; what that process writes
    /// afterwards is lost with the file. Without it such a FILE is waited for (--writer-wait), then
    /// refused and kept (exit 2).
    #[arg(long)]
    pub force: bool,

    /// How long to wait for other processes to close a FILE they hold open for writing, before refusing
    /// it (0s: refuse at once). Writers are looked for in /proc: as root (with CAP_SYS_PTRACE, as
    /// logrotate's hook runs) in every process; as another user only in that user's own processes, so a
    /// FILE that other users' processes may write is sealed with a warning that says it could not check
    /// them.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub writer_wait: String,

    /// Rotated files to seal.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TailArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    #[command(flatten)]
    pub seal: SealArgsCommon,

    /// Directory for checkpoints (created 0700).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// Poll for changes instead of (or when there are no) file-system events.
    #[arg(long)]
    pub poll: bool,

    /// Interval between polls, and the backstop check when events are used (default 1s, or the config's
    /// logveil.tail.poll_interval).
    #[arg(long, value_name = "DURATION")]
    pub poll_interval: Option<String>,

    /// Files, directories (their *.log) or globs to follow, quoted: '/var/log/clawdbot/*.log',
    /// 'bot-[0-9].log', '/var/log/{bot,gw}/*.log'. No wildcards in directory parts.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CatArgs {
    /// age identity file (private key); may be repeated. Keep it off the host that writes the logs.
    #[arg(short, long, value_name = "FILE", required = true)]
    pub identity: Vec<PathBuf>,

    /// Print only the lines that hold this pseudonym token (`[TYPE:hhhhhhhh]`, from `logveil pseudonym`);
    /// may be repeated (a line with any of them). Exit 1 when no line holds one. Reads segment files
    /// (each twice, in bounded memory), not stdin.
    #[arg(long, value_name = "TOKEN")]
    pub only: Vec<String>,

    /// Segments, or directories of segments (read in data order, with their subdirectories: one per
    /// host in a tree fetched from object storage); `-` or none: one segment from stdin.
    #[arg(value_name = "SEGMENT_OR_DIR")]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PseudonymArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    /// The identifier's type, as the config names it (phone, email, id_card, a pattern's `type`, ...).
    #[arg(value_name = "TYPE")]
    pub type_name: String,

    /// The identifier as it is (written in any form redaction accepts); `-`: one line from stdin, so that
    /// it does not stay in the shell's history.
    #[arg(value_name = "VALUE")]
    pub value: String,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// age identity file (private key) that decrypts the segments; may be repeated.
    #[arg(short, long, value_name = "FILE", required = true)]
    pub identity: Vec<PathBuf>,

    /// Pseudonym token whose lines are removed (`[TYPE:hhhhhhhh]`, from `logveil pseudonym`); may be
    /// repeated.
    #[arg(long, value_name = "TOKEN", required = true)]
    pub token: Vec<String>,

    /// age recipient the rewritten segments are encrypted to: the SAME ones the segments were written to
    /// (a segment does not record them; their number and kinds are checked); may be repeated.
    #[arg(short, long = "recipient", value_name = "RECIPIENT")]
    pub recipients: Vec<String>,

    /// File with recipients, one per line, # comments allowed; may be repeated.
    #[arg(short = 'R', long = "recipients-file", value_name = "FILE")]
    pub recipients_files: Vec<PathBuf>,

    /// YAML config whose logveil.segments.recipients (when no -r/-R is given) and
    /// logveil.retention.privacy_log are used.
    #[arg(short, long, value_name = "FILE", env = "LOGVEIL_CONFIG")]
    pub config: Option<PathBuf>,

    /// Append a line per rewritten segment to this privacy log (default: the config's
    /// logveil.retention.privacy_log, else privacy-log.jsonl in the first DIR).
    #[arg(long, value_name = "FILE")]
    pub privacy_log: Option<PathBuf>,

    /// A reference for the privacy log (a ticket number; never the person's name or identifier).
    #[arg(long, value_name = "REF")]
    pub request: Option<String>,

    /// List the segments that would be rewritten and the lines they would lose; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Directories of segments (with their subdirectories: one per host), or segment files.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write the identity to FILE (0600; refuses to overwrite) instead of stdout.
    #[arg(short, long = "out", alias = "output", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    /// Segment directory (default: the config's segment directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Vec<PathBuf>,

    /// Override the retention of segments (e.g. 90d).
    #[arg(long, value_name = "DURATION")]
    pub max_age: Option<String>,

    /// Print what would be deleted, delete nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Evaluate expiry as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub as_of: Option<String>,

    /// Delete even when the config says `auto_rotate: false` (no scheduled deletion, e.g. a legal hold).
    #[arg(long)]
    pub force: bool,

    /// Merge deletion counts, errors and the last success time into FILE (Prometheus textfile; default:
    /// the config's logveil.metrics_file). Not written by --dry-run.
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,

    /// With --dry-run: judge the segments in `rclone lsjson -R REMOTE:PATH` output (FILE, or - for
    /// stdin) by the same policy, instead of the local ones.
    #[arg(
        long,
        value_name = "FILE",
        requires = "dry_run",
        conflicts_with = "dir"
    )]
    pub remote_listing: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ShipArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    /// Segment directory (default: the config's segment directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// rclone REMOTE:PATH, a remote named in the rclone config (default: logveil.ship.remote).
    /// Segments go to PATH/HOST/.
    #[arg(long, value_name = "REMOTE:PATH")]
    pub remote: Option<String>,

    /// rclone config file (default: logveil.ship.rclone_config, or /etc/logveil/rclone.conf).
    #[arg(long, value_name = "FILE")]
    pub rclone_config: Option<PathBuf>,

    /// Host prefix in the remote path (default: logveil.ship.host, or this host's name).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,

    /// How long shipped segments stay here: until_shipped (deleted once confirmed on the remote), or
    /// a duration after their last record, e.g. 7d (default: logveil.ship.keep_local, until_shipped).
    #[arg(long, value_name = "until_shipped|DURATION")]
    pub keep_local: Option<String>,

    /// The rclone program.
    #[arg(long, value_name = "PROGRAM", default_value = "rclone")]
    pub rclone: PathBuf,

    /// Print what would be uploaded and deleted; upload and delete nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Judge keep_local as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub as_of: Option<String>,

    /// Delete shipped local copies even when the config says `auto_rotate: false` (a legal hold: then
    /// segments are shipped but no local copy is deleted).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub config: ConfigArg,

    /// Print the report as JSON (stable schema).
    #[arg(long)]
    pub json: bool,

    /// Bytes of each file the PII scan reads (e.g. 64MiB; 0 = no limit). A file read in part is reported.
    #[arg(long, value_name = "SIZE", default_value = "64MiB")]
    pub max_bytes: String,

    /// Judge ages (retention, stale .partial files, unsealed plaintext) as of this time (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    pub as_of: Option<String>,

    /// Check the TLS of an endpoint: negotiated protocol and cipher, whether TLS 1.0/1.1 is accepted,
    /// certificate expiry, chain and name. Repeatable; replaces `logveil.audit.tls`. Without either, the
    /// audit makes no network connection.
    #[arg(long = "tls", value_name = "HOST:PORT")]
    pub tls: Vec<crate::config::TlsEndpoint>,

    /// PEM file of the CA certificates the endpoints must chain to (default: the system roots).
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,

    /// A certificate that expires within this is a finding (default 14d).
    #[arg(long, value_name = "DURATION")]
    pub tls_expiry_warning: Option<String>,

    /// Merge the findings per check and the time of this audit into FILE (Prometheus textfile).
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,

    /// Paths to audit (optional with --tls, or with `logveil.audit` endpoints or temp globs in the config).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config; print each pattern, its action and the DFA's size.
    Check(ConfigCheckArgs),
}

#[derive(Debug, Args)]
pub struct ConfigCheckArgs {
    #[command(flatten)]
    pub config: ConfigArg,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[arg(value_enum)]
    pub what: GenerateWhat,
    /// Output directory.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GenerateWhat {
    Man,
    Completions,
}
