//! `logveil generate man|completions --out DIR` (hidden): the man pages and shell completions shipped in the
//! Debian package, made from the same clap definitions as the binary, so they cannot drift from it.
//!
//! - `man`: `logveil.1` (with EXIT STATUS, ENVIRONMENT, FILES and SEE ALSO sections) and one page per
//!   visible subcommand (`logveil-redact.1`, `logveil-config-check.1`, ...).
//! - `completions`: `logveil.bash`, `_logveil` (zsh) and `logveil.fish`.
//!
//! Files are written 0600 and a missing DIR is created 0700, like everything logveil creates; packaging
//! sets the installed modes itself. The paths written are printed on stdout, one per line.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;

use super::Exit;
use crate::cli::{Cli, GenerateArgs, GenerateWhat};

const BIN: &str = "logveil";

pub fn run(args: &GenerateArgs) -> Result<Exit> {
    let dir = crate::fsutil::ensure_private_dir(&args.out)
        .map_err(|e| anyhow::anyhow!("generate: cannot create {e}"))?;
    let files = match args.what {
        GenerateWhat::Man => man_pages()?,
        GenerateWhat::Completions => completions()?,
    };
    let mut stdout = std::io::stdout().lock();
    for (name, bytes) in files {
        let path = args.out.join(&name);
        dir.write_atomic(name.as_ref(), &bytes, crate::fsutil::FILE_MODE, true)
            .with_context(|| format!("generate: cannot write {}", path.display()))?;
        writeln!(stdout, "{}", path.display()).context("generate: cannot write to stdout")?;
    }
    Ok(Exit::Ok)
}

/// `(file name, roff)` for the top page and every visible subcommand, depth first.
fn man_pages() -> Result<Vec<(String, Vec<u8>)>> {
    // As clap_mangen::generate_to: no `help` pseudo-subcommand, then build once so that subcommands get
    // their display names (`logveil-config-check`) and bin names (`logveil config check`).
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    pages.push(("logveil.1".to_owned(), top_page(&cmd)?));
    let mut stack: Vec<clap::Command> = visible_subcommands(&cmd);
    while let Some(sub) = stack.pop() {
        let mut children = visible_subcommands(&sub);
        let man = Man::new(sub).manual("logveil manual").source(source());
        let mut buf = Vec::new();
        man.render(&mut buf).context("generate: man page")?;
        buf.extend_from_slice(b".SH \"SEE ALSO\"\n\\fBlogveil\\fR(1)\n");
        pages.push((man.get_filename(), buf));
        stack.append(&mut children);
    }
    pages[1..].sort_by(|a, b| a.0.cmp(&b.0));
    Ok(pages)
}

fn visible_subcommands(cmd: &clap::Command) -> Vec<clap::Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect()
}

/// The footer's source (subcommands have no version of their own).
fn source() -> String {
    format!("{BIN} {}", env!("CARGO_PKG_VERSION"))
}

/// The top page: clap's sections, then what an operator looks for in a man page.
fn top_page(cmd: &clap::Command) -> Result<Vec<u8>> {
    let man = Man::new(cmd.clone())
        .manual("logveil manual")
        .source(source());
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    man.render_options_section(&mut buf)?;
    man.render_subcommands_section(&mut buf)?;
    // The exit codes of `--help` (cli.rs), as a section named as man pages name it.
    if let Some(text) = cmd.get_after_help() {
        buf.extend_from_slice(b".SH \"EXIT STATUS\"\n.nf\n");
        for line in text.to_string().lines().skip(1) {
            buf.extend_from_slice(roff_text(line.strip_prefix("  ").unwrap_or(line)).as_bytes());
            buf.push(b'\n');
        }
        buf.extend_from_slice(b".fi\n");
    }
    buf.extend_from_slice(OPERATOR_SECTIONS.as_bytes());
    man.render_version_section(&mut buf)?;
    Ok(buf)
}

/// Escapes a line of plain text for roff: backslashes, and a leading `.` or `'` (a control line).
fn roff_text(line: &str) -> String {
    let escaped = line.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

const OPERATOR_SECTIONS: &str = r#".SH ENVIRONMENT
.TP
\fBLOGVEIL_CONFIG\fR
The config file, when \fB\-\-config\fR is not given.
.TP
\fBLOGVEIL_LOG\fR
Filter of logveil's own log lines (for example \fBinfo\fR, \fBdebug\fR); overrides \fB\-v\fR and \fB\-q\fR.
.TP
\fBLOGVEIL_HASH_KEY\fR
Key of the \fBhash\fR action, unless the config names another variable or a key file.
.TP
\fBRCLONE_*\fR
Passed on to the rclone that \fBlogveil ship\fR runs (for example \fBRCLONE_BWLIMIT\fR).
.SH FILES
.TP
\fI/etc/logveil/logveil.yaml\fR
The configuration read by the packaged units (mode 0600, owner logveil). Check it with
\fBlogveil config check \-\-config /etc/logveil/logveil.yaml\fR.
.TP
\fI/var/lib/logveil/segments\fR
Sealed segments (gzip, then age): \fISTREAM.FIRST_LAST.SEQ.log.gz.age\fR; \fI*.partial\fR while written.
The deletion record \fIprivacy\-log.jsonl\fR lives here unless the config moves it.
.TP
\fI/var/lib/logveil/state\fR
Checkpoints of \fBlogveil tail\fR.
.TP
\fI/lib/systemd/system/logveil\-tail@.service\fR
The sidecar: \fBlogveil\-tail@logveil.service\fR follows the paths in \fBLOGVEIL_TAIL_PATHS\fR with
\fI/etc/logveil/logveil.yaml\fR.
.TP
\fI/lib/systemd/system/logveil\-retention.timer\fR
Runs \fBlogveil retention\fR hourly: expired segments of the logrotate hook and the tail sidecar.
.TP
\fI/lib/systemd/system/logveil\-ship.timer\fR
Runs \fBlogveil ship\fR every 15 minutes: finished segments to object storage, with rclone.
.TP
\fI/etc/logveil/rclone.conf\fR
The rclone remote \fBlogveil ship\fR uses, with its credentials (not in the package; root:logveil, 0640).
.TP
\fI/usr/share/logveil/logrotate/logveil\fR
The logrotate hook: seals each rotated \fI/var/log/clawdbot/*.log\fR with \fBlogveil seal\fR. Copy it
to \fI/etc/logrotate.d/\fR to use it (not together with the tail sidecar on the same logs).
.SH "SEE ALSO"
\fBlogveil\-redact\fR(1), \fBlogveil\-pipe\fR(1), \fBlogveil\-seal\fR(1), \fBlogveil\-tail\fR(1),
\fBlogveil\-cat\fR(1), \fBlogveil\-pseudonym\fR(1), \fBlogveil\-forget\fR(1), \fBlogveil\-keygen\fR(1), \fBlogveil\-retention\fR(1), \fBlogveil\-audit\fR(1),
\fBlogveil\-ship\fR(1), \fBlogveil\-config\fR(1), \fBage\fR(1), \fBrclone\fR(1), \fBlogrotate\fR(8),
\fBsystemd.exec\fR(5)
"#;

/// `(file name, script)` for bash, zsh and fish, named as their completion directories expect.
fn completions() -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for (shell, name) in [
        (Shell::Bash, format!("{BIN}.bash")),
        (Shell::Zsh, format!("_{BIN}")),
        (Shell::Fish, format!("{BIN}.fish")),
    ] {
        let mut cmd = Cli::command();
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, BIN, &mut buf);
        out.push((name, buf));
    }
    Ok(out)
}
