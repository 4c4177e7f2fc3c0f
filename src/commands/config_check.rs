//! `logveil config check`: validate the config and show what will run.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Result;

use super::{load_config, Exit};
use crate::cli::ConfigCheckArgs;
use crate::redact::Engine;

pub fn run(args: &ConfigCheckArgs) -> Result<Exit> {
    let cfg = load_config(&args.config)?;
    let mut out = String::new();
    let engine = Engine::new(&cfg.redaction)?;
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
    for line in cfg.summary_lines() {
        writeln!(out, "{line}")?;
    }
    for p in cfg.redaction.patterns.iter().filter(|p| p.enabled) {
        if let Some(d) = cfg
            .redaction
            .detectors
            .iter()
            .find(|d| d.name == p.kind && d.enabled)
        {
            writeln!(
                out,
                "note: patterns[{}] has the type of the built-in detector {:?}, which already runs; \
                 it adds to it (and to the DFA's size)",
                p.index, d.name
            )?;
        }
    }
    for note in &cfg.notes {
        writeln!(out, "note: {note}")?;
    }
    // A closed stdout (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(Exit::Ok)
}
