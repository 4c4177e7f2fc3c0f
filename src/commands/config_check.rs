//! `logveil config check`: validate the config as a start would, and show what will run.
//!
//! Besides parsing (which already checks patterns, actions, durations and the hash key file), it refuses
//! what `pipe`, `seal`, `tail` and `retention` would refuse at start on this config: with a segment
//! directory configured, recipients that do not parse (a secret key given by mistake included, never
//! echoed), a recipients file that is missing or holds none, no recipient at all (the packaged
//! `recipients: []`); bad retention rules; a segment, state or privacy-log directory that cannot be
//! created or written, and a privacy log that cannot be appended to. Directories are judged as the user
//! running the check, in its mount namespace: the units run it as `logveil` inside their sandbox, where
//! only their `ReadWritePaths=` are writable. A metrics file that could not be written is a warning only
//! (metrics never stop the data path).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::sealing::sink_setup;
use super::{load_config, Exit};
use crate::cli::{ConfigCheckArgs, SealArgsCommon};
use crate::config::Config;
use crate::redact::Engine;
use crate::retention::Policy;

/// With `quiet` (`logveil --quiet config check`, as the units run it) nothing is printed on success.
pub fn run(args: &ConfigCheckArgs, quiet: bool) -> Result<Exit> {
    let cfg = load_config(&args.config)?;
    let mut out = String::new();
    let engine = Engine::new(&cfg.redaction)?;
    let checked = check_start(&cfg).with_context(|| match &cfg.source {
        Some(p) => format!("config {}: a start would fail", p.display()),
        None => "config: a start would fail".to_owned(),
    })?;
    let (fwd, rev) = engine.dfa_bytes();
    match &cfg.source {
        Some(p) => writeln!(out, "config: {} (ok)", p.display()),
        None => writeln!(out, "config: built-in defaults (ok)"),
    }?;
    writeln!(
        out,
        "patterns: {} in one DFA: {} KiB forward + {} KiB reverse",
        engine.pattern_count(),
        fwd.div_ceil(1024),
        rev.div_ceil(1024)
    )?;
    let start = engine.start_bytes();
    writeln!(
        out,
        "candidate start bytes: {} of 256 ({})",
        start.len(),
        String::from_utf8_lossy(
            &start
                .iter()
                .copied()
                .filter(u8::is_ascii_graphic)
                .collect::<Vec<u8>>()
        )
    )?;
    let descs = engine.descriptions();
    let w_type = descs
        .iter()
        .map(|d| d.type_name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let w_act = descs
        .iter()
        .map(|d| d.action.len())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(out, "  {:<w_type$}  {:<w_act$}  source", "type", "action")?;
    for d in descs {
        writeln!(
            out,
            "  {:<w_type$}  {:<w_act$}  {}",
            d.type_name, d.action, d.origin
        )?;
    }
    match super::dfa_cache(&args.config, &cfg) {
        Some(c) if !cfg.redaction.patterns.is_empty() => {
            writeln!(out, "dfa cache: {}", c.dir().display())
        }
        Some(_) => writeln!(out, "dfa cache: not needed (built-in patterns only)"),
        None => writeln!(out, "dfa cache: off (the DFA is built at every start)"),
    }?;
    writeln!(out, "replacement: {}", cfg.redaction.replacement)?;
    for line in cfg.summary_lines().iter().chain(&checked.lines) {
        writeln!(out, "{line}")?;
    }
    for p in cfg.redaction.patterns.iter().filter(|p| p.enabled) {
        if let Some(d) = cfg
            .redaction
            .detectors
            .iter()
            .find(|d| d.name == p.kind && d.enabled)
        {
            let what = if p.validate {
                "decides its matches; the pattern is not compiled (`validate: false` matches it as written)"
            } else {
                "also runs; the pattern adds to it (and to the DFA's size)"
            };
            writeln!(
                out,
                "note: patterns[{}] has the type of the built-in detector {:?}, which {what}",
                p.index, d.name
            )?;
        }
    }
    for note in cfg.notes.iter().chain(&checked.warnings) {
        writeln!(out, "note: {note}")?;
    }
    for w in &checked.warnings {
        tracing::warn!("config: {w}");
    }
    if quiet {
        return Ok(Exit::Ok);
    }
    // A closed stdout (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(Exit::Ok)
}

/// What [`check_start`] found: lines for the report, and warnings that do not stop a start.
#[derive(Debug, Default)]
struct StartCheck {
    lines: Vec<String>,
    warnings: Vec<String>,
}

/// Refuses what a start of pipe, seal, tail or retention on `cfg` would refuse; see the module docs.
fn check_start(cfg: &Config) -> Result<StartCheck> {
    let mut c = StartCheck::default();
    let Some(dir) = &cfg.segments.out_dir else {
        c.lines.push(
            "segments: no logveil.segments.dir (pipe, seal and tail need --out; retention --dir)"
                .into(),
        );
        // Recipients given without a directory are still used (with --out): they must parse.
        let seg = &cfg.segments;
        if !seg.recipients.is_empty() || !seg.recipients_files.is_empty() {
            let with_out = SealArgsCommon {
                out: Some(PathBuf::from(".")),
                ..SealArgsCommon::default()
            };
            sink_setup(&with_out, cfg)?;
        }
        crate::retention::rules_from_config(&cfg.retention)?;
        return Ok(c);
    };
    // The sink setup pipe, seal and tail build at start, from the config alone.
    let sink = sink_setup(&SealArgsCommon::default(), cfg)?;
    writable_dir(dir, true).with_context(|| format!("segment directory {}", dir.display()))?;
    c.lines.push(format!(
        "segments: {} ({} recipient{})",
        dir.display(),
        sink.segments.recipients.len(),
        if sink.segments.recipients.len() == 1 {
            ""
        } else {
            "s"
        }
    ));
    if let Some(state) = &cfg.tail.state_dir {
        writable_dir(state, true)
            .with_context(|| format!("tail state directory {}", state.display()))?;
        c.lines.push(format!("tail state: {}", state.display()));
    }
    let policy = Policy::from_config(cfg, &[])?;
    let log = &policy.privacy_log;
    let log_dir = log.parent().unwrap_or(Path::new("/"));
    writable_dir(log_dir, true).with_context(|| format!("privacy log {}", log.display()))?;
    if log.exists() {
        writable(log).with_context(|| format!("privacy log {}", log.display()))?;
    }
    c.lines.push(format!("privacy log: {}", log.display()));
    for r in &policy.rules {
        c.lines.push(format!(
            "retention rule: {} older than {}",
            r.pattern,
            crate::units::format_duration(r.max_age)
        ));
    }
    if let Some(m) = &cfg.metrics_file {
        let parent = m
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        match writable_dir(parent, false) {
            Ok(()) => c.lines.push(format!("metrics file: {}", m.display())),
            Err(e) => c.warnings.push(format!(
                "metrics file {}: {e:#}; logveil runs, but writes no metrics",
                m.display()
            )),
        }
    }
    Ok(c)
}

/// Whether `dir` is a directory this process may create files in; when it does not exist and `creates`,
/// whether its nearest existing ancestor is one (logveil creates the missing part, 0700).
fn writable_dir(dir: &Path, creates: bool) -> Result<()> {
    let mut p: PathBuf = crate::input::tail::spec::absolute(dir);
    loop {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => return writable(&p),
            Ok(_) => bail!("{} is not a directory", p.display()),
            // Missing, or below a file (ENOTDIR): go up to what exists.
            Err(e)
                if creates
                    && matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                    ) =>
            {
                if !p.pop() {
                    bail!("no existing ancestor");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!("does not exist"),
            Err(e) => return Err(e).with_context(|| format!("cannot stat {}", p.display())),
        }
    }
}

/// Whether this process may write `path` (and search it, for a directory): access(2), so root, read-only
/// mounts and a sandbox's read-only paths are judged as the kernel would.
fn writable(path: &Path) -> Result<()> {
    use rustix::fs::{access, Access};
    let mode = if path.is_dir() {
        Access::WRITE_OK | Access::EXEC_OK
    } else {
        Access::WRITE_OK
    };
    access(path, mode)
        .map_err(std::io::Error::from)
        .with_context(|| format!("{} is not writable", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn directories_are_judged_as_a_start_would_create_and_write_them() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        writable_dir(d, false).unwrap();
        writable_dir(&d.join("new/a/b"), true).unwrap();
        let e = writable_dir(&d.join("new"), false).unwrap_err();
        assert!(format!("{e:#}").contains("does not exist"), "{e:#}");
        std::fs::write(d.join("file"), b"").unwrap();
        let e = writable_dir(&d.join("file/sub"), true).unwrap_err();
        assert!(format!("{e:#}").contains("is not a directory"), "{e:#}");
        let ro = d.join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
        // Unwritable: only meaningful when not root (root may write anywhere).
        if writable(&ro).is_ok() {
            return;
        }
        let e = writable_dir(&ro.join("segs"), true).unwrap_err();
        assert!(format!("{e:#}").contains("is not writable"), "{e:#}");
    }
}
