//! `logveil forget -i IDENTITY --token TOKEN DIR...`: an erasure request. Each finished segment that
//! holds a line with one of the tokens is rewritten without those lines (see [`crate::sink::rewrite`]);
//! every other line stays byte for byte as it was, in order, and a segment without a token is not touched
//! at all. Runs where the identity is: on an operator's machine, over segments pulled from the host or
//! from object storage (then pushed back).
//!
//! - Recipients: a segment does not record its recipients (an age X25519 stanza does not say whose key it
//!   is for), so the operator gives them (`-r`, `-R`, or a config's `logveil.segments.recipients`); the
//!   number and kinds of stanzas in each segment's header must match them, or the segment is refused.
//! - `.partial` segments (still being written) are skipped with a warning. A crash's `*.truncated.*`
//!   segment is rewritten from what is readable of it; any other segment that does not read completely is
//!   left as it is and reported (exit 1).
//! - A seal journal in a directory (an interrupted `seal`, whose next run replaces the stream's latest
//!   segments) is warned about (exit 1): forget has to run again after that seal.
//! - One run per directory at a time: the directory's lock (the one `ship` takes) is held while rewriting.
//! - Each rewrite is recorded in the privacy log (one JSON line, `"reason": "forgotten"`), after the new
//!   segment is in place. The line names the segment and counts lines and tokens; it holds no token: the
//!   privacy log is kept for good, and a token is still a pseudonym of the person whose data was erased.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use jiff::Timestamp;

use super::{say, Exit};
use crate::cli::ForgetArgs;
use crate::config::Config;
use crate::fsutil::Dir;
use crate::sink::filter::{find_lines, Tokens};
use crate::sink::name::{is_seal_journal_name, SegmentName, SegmentState};
use crate::sink::reader::{header_stanzas, list_segments, Identities, Outcome, Problem};
use crate::sink::rewrite::{is_temp_name, rewrite_without, Rewritten};

/// gzip level of rewritten segments (the writer's default, as logrotate's).
const GZIP_LEVEL: u32 = 6;

/// The reason recorded in the privacy log.
pub const REASON: &str = "forgotten";

/// One segment to look at: its directory, its file name, its parsed name.
struct Seg {
    dir: PathBuf,
    file: OsString,
    name: SegmentName,
}

impl Seg {
    fn path(&self) -> PathBuf {
        self.dir.join(&self.file)
    }
}

pub fn run(args: &ForgetArgs) -> Result<Exit> {
    let tokens = Tokens::new(&args.token).map_err(|e| anyhow!("forget: --token: {e}"))?;
    let ids = Identities::load(&args.identity)?;
    let cfg = match &args.config {
        Some(p) => Some(Config::load(Some(p))?),
        None => None,
    };
    let recipients = super::sealing::recipients(
        &args.recipients,
        &args.recipients_files,
        &cfg.clone().unwrap_or_default(),
    )?;
    if recipients.is_empty() && !args.dry_run {
        bail!(
            "forget: no recipient: give the recipients the segments were written to (-r age1..., -R FILE, \
             or --config with logveil.segments.recipients); a segment does not record them, and a \
             rewritten segment must open with the same keys as before"
        );
    }
    let mut exit = Exit::Ok;
    let mut worse = |e: Exit| {
        if e as u8 > exit as u8 {
            exit = e;
        }
    };

    // The segments, in data order per argument.
    let mut segs: Vec<Seg> = Vec::new();
    for input in &args.dirs {
        let md = fs::metadata(input).with_context(|| format!("forget: {}", input.display()))?;
        if md.is_dir() {
            let (found, partials) =
                list_segments(input).with_context(|| format!("forget: {}", input.display()))?;
            for p in partials {
                say(format_args!(
                    "forget: {}: skipped: still being written (.partial); run forget again once it is finished",
                    p.display()
                ));
                worse(Exit::Found);
            }
            segs.extend(found.into_iter().filter_map(|p| seg_of(&p)));
        } else {
            let Some(s) = seg_of(input) else {
                bail!(
                    "forget: {}: not a segment (STREAM.FIRST_LAST.SEQ.log.gz.age) or a directory",
                    input.display()
                );
            };
            if s.name.state == SegmentState::Partial {
                say(format_args!(
                    "forget: {}: skipped: still being written (.partial)",
                    input.display()
                ));
                worse(Exit::Found);
                continue;
            }
            segs.push(s);
        }
    }

    // Each directory once, locked against another forget or a ship, cleared of a crash's temporaries.
    let mut dirs: BTreeMap<PathBuf, Dir> = BTreeMap::new();
    for s in &segs {
        if dirs.contains_key(&s.dir) {
            continue;
        }
        let d = Dir::open(&s.dir).with_context(|| format!("forget: {}", s.dir.display()))?;
        // An interrupted `seal` re-seals its file from the journal's sequence on at its next run: the
        // segments it replaces would hold the lines again.
        for name in d.names().unwrap_or_default() {
            let Some(n) = name.to_str().filter(|n| is_seal_journal_name(n, None)) else {
                continue;
            };
            say(format_args!(
                "forget: {}: an interrupted seal left this journal; its next run seals that file again and                  replaces the stream's latest segments: run forget again after it",
                d.join(n).display()
            ));
            worse(Exit::Found);
        }
        if !args.dry_run {
            match d.try_lock_exclusive() {
                Ok(true) => {}
                Ok(false) => bail!(
                    "forget: {}: another forget or ship is working in this directory; try again when it is done",
                    s.dir.display()
                ),
                Err(e) => bail!("forget: {}: cannot lock: {e}", s.dir.display()),
            }
            for name in d.names().unwrap_or_default() {
                if name.to_str().is_some_and(is_temp_name)
                    && d.lstat(&name).is_ok_and(|st| {
                        rustix::fs::FileType::from_raw_mode(st.st_mode)
                            == rustix::fs::FileType::RegularFile
                    })
                {
                    match d.remove(&name) {
                        Ok(()) => say(format_args!(
                            "forget: {}: removed the (encrypted) temporary of an interrupted forget",
                            d.join(&name).display()
                        )),
                        Err(e) => say(format_args!(
                            "forget: {}: cannot remove: {e}",
                            d.join(&name).display()
                        )),
                    }
                }
            }
        }
        dirs.insert(s.dir.clone(), d);
    }

    let log_path = std::path::absolute(
        args.privacy_log
            .clone()
            .or_else(|| cfg.as_ref().and_then(|c| c.retention.privacy_log.clone()))
            .unwrap_or_else(|| {
                let first = &args.dirs[0];
                let dir = if first.is_dir() {
                    first.as_path()
                } else {
                    crate::fsutil::parent_dir(first)
                };
                dir.join(crate::retention::DEFAULT_PRIVACY_LOG_NAME)
            }),
    )
    .context("forget: privacy log path")?;
    let mut log: Option<fs::File> = None;
    let want = recipients.stanza_counts();

    let (mut scanned, mut rewritten, mut removed) = (0u64, 0u64, 0u64);
    let mut out = std::io::stdout().lock();
    for s in &segs {
        let path = s.path();
        let dir = &dirs[&s.dir];
        let mut file = match dir.open_read(&s.file) {
            Ok(f) => f,
            Err(e) => {
                say(format_args!("forget: {}: cannot open: {e}", path.display()));
                worse(Exit::Error);
                continue;
            }
        };
        let (outcome, m) = match find_lines(&mut file, &path, &ids, &tokens) {
            Ok(x) => x,
            Err(e) => {
                say(format_args!("forget: {:#}", anyhow::Error::from(e)));
                worse(Exit::Error);
                continue;
            }
        };
        let crash_left = matches!(
            outcome,
            Outcome::Incomplete {
                problem: Problem::Truncated,
                ..
            }
        ) && s.name.state == SegmentState::Truncated;
        if let Outcome::Incomplete { problem, .. } = &outcome {
            if !crash_left {
                let held = if m.lines.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} readable lines hold a token, but it cannot be rewritten safely: left as it is",
                        m.lines.len()
                    )
                };
                say(format_args!("forget: {}: {problem}{held}", path.display()));
                worse(Exit::Found);
                continue;
            }
        }
        scanned += 1;
        if m.lines.is_empty() {
            continue;
        }
        let n = m.lines.len() as u64;
        let per_token: Vec<String> = args
            .token
            .iter()
            .zip(&m.per_token)
            .filter(|(_, &c)| c > 0)
            .map(|(t, c)| format!("{t} in {c}"))
            .collect();
        if args.dry_run {
            writeln!(
                out,
                "would rewrite {}: remove {n} of {} lines ({})",
                path.display(),
                m.total_lines,
                per_token.join(", ")
            )?;
            rewritten += 1;
            removed += n;
            continue;
        }
        let had = file
            .seek(SeekFrom::Start(0))
            .and_then(|_| header_stanzas(&mut file));
        match had {
            Ok(Some(c)) if c == want => {}
            Ok(Some(c)) => {
                say(format_args!(
                    "forget: {}: left as it is: it is encrypted to {c}, the recipients given are {want}; \
                     give the recipients it was written to (-r/-R)",
                    path.display()
                ));
                worse(Exit::Error);
                continue;
            }
            Ok(None) | Err(_) => {
                say(format_args!(
                    "forget: {}: left as it is: its age header cannot be read",
                    path.display()
                ));
                worse(Exit::Error);
                continue;
            }
        }
        // Nothing is rewritten unrecorded: the privacy log is opened first.
        let log_file = match &mut log {
            Some(f) => f,
            None => log.insert(
                crate::retention::open_privacy_log(&log_path)
                    .with_context(|| format!("forget: privacy log {}", log_path.display()))?,
            ),
        };
        match rewrite_without(
            dir,
            &s.file,
            &mut file,
            &ids,
            &recipients,
            &m.lines,
            (&outcome, m.total_lines),
            GZIP_LEVEL,
        ) {
            Ok(r) => {
                let abs = std::path::absolute(&path).unwrap_or(path.clone());
                let line = privacy_line(&abs, &r, tokens.len(), args.request.as_deref());
                log_file
                    .write_all(line.as_bytes())
                    .and_then(|()| log_file.sync_data())
                    .with_context(|| {
                        format!(
                            "forget: {} was rewritten, but the privacy log {} cannot be written",
                            path.display(),
                            log_path.display()
                        )
                    })?;
                writeln!(
                    out,
                    "rewrote {}: removed {} of {} lines ({})",
                    path.display(),
                    r.lines_removed,
                    r.lines_removed + r.lines_kept,
                    per_token.join(", ")
                )?;
                rewritten += 1;
                removed += r.lines_removed;
            }
            Err(e) => {
                say(format_args!("forget: {e}"));
                worse(Exit::Error);
            }
        }
    }
    writeln!(
        out,
        "forget: {scanned} segments scanned, {rewritten} {}, {removed} lines {}",
        if args.dry_run {
            "would be rewritten"
        } else {
            "rewritten"
        },
        if args.dry_run {
            "would be removed"
        } else {
            "removed"
        },
    )?;
    out.flush()?;
    Ok(exit)
}

fn seg_of(path: &Path) -> Option<Seg> {
    let file = path.file_name()?.to_os_string();
    let name = SegmentName::parse(file.to_str()?)?;
    let dir = crate::fsutil::parent_dir(path).to_path_buf();
    Some(Seg { dir, file, name })
}

/// One line of the privacy log for a rewritten segment (JSON, newline-terminated).
pub fn privacy_line(file: &Path, r: &Rewritten, tokens: usize, request: Option<&str>) -> String {
    let mut v = serde_json::json!({
        "time": Timestamp::now().to_string(),
        "file": file.to_string_lossy(),
        "reason": REASON,
        "lines_removed": r.lines_removed,
        "lines_kept": r.lines_kept,
        "tokens": tokens,
        "bytes_before": r.bytes_before,
        "bytes_after": r.bytes_after,
    });
    if let Some(req) = request {
        v.as_object_mut()
            .expect("a JSON object")
            .insert("request".into(), req.into());
    }
    let mut line = v.to_string();
    line.push('\n');
    line
}
