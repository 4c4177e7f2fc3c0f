//! `logveil audit [--config FILE] [--json] [--max-bytes SIZE] [--as-of RFC3339] [--tls HOST:PORT...] PATH...`:
//! the privacy audit.
//! Exit 0 when clean, 1 with findings (or something not completely checked), 2 on error.

use std::io::Write;

use anyhow::{Context, Result};
use jiff::Timestamp;

use super::{load_config, Exit};
use crate::audit::{audit, AuditOptions, Check};
use crate::cli::AuditArgs;
use crate::metrics::{Job, Metrics};
use crate::redact::Engine;
use crate::units::{parse_duration, parse_size};

pub fn run(args: &AuditArgs) -> Result<Exit> {
    let mut cfg = load_config(&args.config)?;
    let a = &mut cfg.audit;
    if !args.tls.is_empty() {
        a.tls = args.tls.clone();
    }
    if let Some(ca) = &args.tls_ca {
        a.tls_ca_file = Some(ca.clone());
    }
    if let Some(w) = &args.tls_expiry_warning {
        a.tls_expiry_warning =
            parse_duration(w).map_err(|e| anyhow::anyhow!("audit: --tls-expiry-warning: {e}"))?;
    }
    if args.paths.is_empty() && a.tls.is_empty() && a.temp_globs.is_empty() {
        anyhow::bail!(
            "audit: nothing to audit: give a PATH or --tls HOST:PORT (or logveil.audit.tls / temp_globs in the config)"
        );
    }
    let engine = Engine::new(&cfg.redaction)?;
    let max_bytes =
        parse_size(&args.max_bytes).map_err(|e| anyhow::anyhow!("audit: --max-bytes: {e}"))?;
    let now = match &args.as_of {
        Some(t) => t.parse::<Timestamp>().with_context(|| {
            format!("audit: --as-of {t:?} is not an RFC 3339 time (e.g. 2026-11-25T16:00:00Z)")
        })?,
        None => Timestamp::now(),
    };
    let opts = AuditOptions {
        paths: args.paths.clone(),
        now,
        max_bytes: (max_bytes > 0).then_some(max_bytes),
        config_file: cfg.source.clone(),
    };
    let report = audit(&cfg, &engine, &opts)?;
    if let Some(path) = &args.metrics_file {
        let m = Metrics::with_file(Some(path.clone()));
        let by_check: Vec<(&str, u64)> = Check::ALL
            .iter()
            .map(|c| {
                let n = report.findings.iter().filter(|f| f.check == *c).count();
                (c.name(), n as u64)
            })
            .collect();
        m.set_audit(&by_check, report.incomplete.len() as u64);
        m.success(Job::Audit);
        m.write_now();
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        writeln!(out, "{}", report.to_json())?;
    } else {
        write!(out, "{}", report.to_text())?;
    }
    out.flush()?;
    Ok(if report.clean { Exit::Ok } else { Exit::Found })
}
