//! `logveil config check`: validate the config and show what will run.

use anyhow::Result;

use super::{load_config, Exit};
use crate::cli::ConfigCheckArgs;
use crate::redact::Engine;

pub fn run(args: &ConfigCheckArgs) -> Result<Exit> {
    let cfg = load_config(&args.config)?;
    let engine = Engine::new(&cfg.redaction)?;
    let (fwd, rev) = engine.dfa_bytes();
    match &cfg.source {
        Some(p) => println!("config: {} (ok)", p.display()),
        None => println!("config: built-in defaults (ok)"),
    }
    println!(
        "patterns: {} in one DFA: {} KiB forward + {} KiB reverse",
        engine.pattern_count(),
        fwd.div_ceil(1024),
        rev.div_ceil(1024)
    );
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
    println!("  {:<w_type$}  {:<w_act$}  source", "type", "action");
    for d in descs {
        println!(
            "  {:<w_type$}  {:<w_act$}  {}",
            d.type_name, d.action, d.origin
        );
    }
    println!("replacement: {}", cfg.redaction.replacement);
    for line in cfg.summary_lines() {
        println!("{line}");
    }
    for note in &cfg.notes {
        println!("note: {note}");
    }
    Ok(Exit::Ok)
}
