//! `logveil cat --identity FILE SEGMENT_OR_DIR...`: decrypt and decompress segments to stdout.
//!
//! Files are read in the order given; `-`, or no path at all, reads one segment from stdin (as `age -d`
//! does); a directory's segments, with those of its subdirectories (a tree fetched with `rclone copy` or
//! mounted: one directory per host), in data order, stream by stream, each stream in time order across
//! hosts (its `.partial` files are skipped with a warning: they are still being written, or wait for the
//! next start of the writer to be renamed as truncated). A truncated or tampered segment is reported by
//! name after everything readable from it was written; the exit code is then 1, as it is for a directory
//! that holds no segment.
//!
//! `--only TOKEN` prints only the lines that hold one of the pseudonym tokens (an access request), and
//! exits 1 when no line does (as grep).

use std::fs;
use std::io::{self, BufWriter, IsTerminal, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{say, Exit};
use crate::cli::CatArgs;
use crate::sink::filter::{find_lines, Select, Tokens};
use crate::sink::reader::{
    list_segments, read_segment, read_segment_from, Identities, Outcome, ReadError,
};

/// Where a segment comes from.
enum Input {
    File(PathBuf),
    Stdin,
}

pub fn run(args: &CatArgs) -> Result<Exit> {
    let ids = Identities::load(&args.identity)?;
    let mut exit = Exit::Ok;
    let mut worse = |e: Exit| {
        if e as u8 > exit as u8 {
            exit = e;
        }
    };
    let dash = Path::new("-");
    if args.inputs.is_empty() && io::stdin().is_terminal() {
        anyhow::bail!("cat: no segment given and stdin is a terminal: give SEGMENT_OR_DIR..., or pipe a segment in");
    }
    if args.inputs.iter().filter(|p| *p == dash).count() > 1 {
        anyhow::bail!("cat: `-` (stdin) can be given once");
    }
    let mut segments: Vec<Input> = Vec::new();
    if args.inputs.is_empty() {
        segments.push(Input::Stdin);
    }
    for input in &args.inputs {
        if input == dash {
            segments.push(Input::Stdin);
            continue;
        }
        match fs::metadata(input) {
            Ok(m) if m.is_dir() => match list_segments(input) {
                Ok((segs, partials)) => {
                    for p in partials {
                        say(format_args!(
                            "cat: {}: skipped: still being written (.partial); a writer's next start renames a crash's .partial to *.truncated.log.gz.age",
                            p.display()
                        ));
                    }
                    if segs.is_empty() {
                        // A mistyped directory that exists must not pass a script as "nothing to show".
                        say(format_args!(
                            "cat: {}: no segments in this directory",
                            input.display()
                        ));
                        worse(Exit::Found);
                    }
                    segments.extend(segs.into_iter().map(Input::File));
                }
                Err(e) => {
                    say(format_args!("cat: {}: {e}", input.display()));
                    worse(Exit::Error);
                }
            },
            Ok(_) => segments.push(Input::File(input.clone())),
            Err(e) => {
                say(format_args!("cat: {}: {e}", input.display()));
                worse(Exit::Error);
            }
        }
    }

    let only = if args.only.is_empty() {
        None
    } else {
        if segments.iter().any(|s| matches!(s, Input::Stdin)) {
            anyhow::bail!(
                "cat: --only reads each segment twice (to keep memory bounded whatever the length of a                  line): give segment files or directories, not stdin"
            );
        }
        Some(Tokens::new(&args.only).map_err(|e| anyhow::anyhow!("cat: --only: {e}"))?)
    };
    let mut matched = 0u64;

    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(128 << 10, stdout.lock());
    for input in &segments {
        let (result, seg) = match (input, &only) {
            (Input::File(p), Some(tokens)) => {
                let r = read_only(p, &ids, tokens, &mut out);
                if let Ok((_, n)) = &r {
                    matched += n;
                }
                (r.map(|(o, _)| o), p.as_path())
            }
            (Input::File(p), None) => (read_segment(p, &ids, &mut out), p.as_path()),
            (Input::Stdin, _) => (
                read_segment_from(io::stdin().lock(), dash, &ids, &mut out),
                dash,
            ),
        };
        // Whatever was read reaches stdout before the report about it.
        let flushed = out.flush();
        match (result, flushed) {
            (Err(ReadError::Output(e)), _) | (_, Err(e)) => {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return Ok(exit);
                }
                return Err(e).context("cat: cannot write to stdout");
            }
            (Ok(Outcome::Complete { .. }), _) => {}
            (Ok(Outcome::Incomplete { bytes, problem }), _) => {
                say(format_args!(
                    "cat: {}: {problem} ({bytes} bytes were readable and written)",
                    seg.display()
                ));
                worse(Exit::Found);
            }
            (Err(e @ ReadError::Open { .. }), _) => {
                say(format_args!("{:#}", anyhow::Error::from(e)));
                worse(Exit::Error);
            }
        }
    }
    if only.is_some() && matched == 0 {
        // As grep: no line selected.
        worse(Exit::Found);
    }
    Ok(exit)
}

/// `--only`: the lines of segment `path` that hold a token, and how many there were. The first pass finds
/// them, the second (on the same open file) prints them.
fn read_only(
    path: &Path,
    ids: &Identities,
    tokens: &Tokens,
    out: &mut dyn Write,
) -> Result<(Outcome, u64), ReadError> {
    let open_err = |source| ReadError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut file = fs::File::open(path).map_err(open_err)?;
    let (outcome, m) = find_lines(&mut file, path, ids, tokens)?;
    if m.lines.is_empty() {
        return Ok((outcome, 0));
    }
    file.seek(io::SeekFrom::Start(0)).map_err(open_err)?;
    let mut sel = Select::new(out, &m.lines, true);
    read_segment_from(&mut file, path, ids, &mut sel)?;
    let (_, passed, _) = sel.finish();
    Ok((outcome, passed))
}
