//! `logveil cat --identity FILE SEGMENT_OR_DIR...`: decrypt and decompress segments to stdout.
//!
//! Files are read in the order given; a directory's segments, with those of its subdirectories (a tree
//! fetched with `rclone copy` or mounted: one directory per host), in data order, stream by stream, each
//! stream in time order across hosts (its `.partial` files are skipped with a warning: they are still
//! being written, or wait for the next start of the writer to be renamed as truncated). A truncated or tampered segment is reported by name after
//! everything readable from it was written; the exit code is then 1.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::Exit;
use crate::cli::CatArgs;
use crate::sink::reader::{list_segments, read_segment, Identities, Outcome, ReadError};

pub fn run(args: &CatArgs) -> Result<Exit> {
    let ids = Identities::load(&args.identity)?;
    let mut exit = Exit::Ok;
    let mut worse = |e: Exit| {
        if e as u8 > exit as u8 {
            exit = e;
        }
    };
    let mut segments: Vec<PathBuf> = Vec::new();
    for input in &args.inputs {
        match fs::metadata(input) {
            Ok(m) if m.is_dir() => match list_segments(input) {
                Ok((segs, partials)) => {
                    for p in partials {
                        eprintln!(
                            "logveil: cat: {}: skipped: still being written (.partial); a writer's next start renames a crash's .partial to *.truncated.log.gz.age",
                            p.display()
                        );
                    }
                    if segs.is_empty() {
                        eprintln!("logveil: cat: {}: no segments", input.display());
                    }
                    segments.extend(segs);
                }
                Err(e) => {
                    eprintln!("logveil: cat: {}: {e}", input.display());
                    worse(Exit::Error);
                }
            },
            Ok(_) => segments.push(input.clone()),
            Err(e) => {
                eprintln!("logveil: cat: {}: {e}", input.display());
                worse(Exit::Error);
            }
        }
    }

    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(128 << 10, stdout.lock());
    for seg in &segments {
        let result = read_segment(seg, &ids, &mut out);
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
                eprintln!(
                    "logveil: cat: {}: {problem} ({bytes} bytes were readable and written)",
                    seg.display()
                );
                worse(Exit::Found);
            }
            (Err(e @ ReadError::Open { .. }), _) => {
                eprintln!("logveil: {:#}", anyhow::Error::from(e));
                worse(Exit::Error);
            }
        }
    }
    Ok(exit)
}
