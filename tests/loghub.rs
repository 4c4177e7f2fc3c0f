//! Real public logs (../shared/corpus/loghub, present in CI, not in a user's clone) through
//! `logveil redact` on the built-in defaults: every file keeps its line count, its CRLFs and its (missing)
//! final newline, and no HDFS block id changes. Prints what the defaults redact per type per file
//! (`cargo test --test loghub -- --nocapture`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus_dir() -> Option<PathBuf> {
    common::shared_dir("corpus/loghub")
}

fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    memchr::memmem::find_iter(hay, needle).count()
}

/// Every `blk_-?\d+` in order.
fn block_ids(text: &[u8]) -> Vec<&[u8]> {
    let mut ids = Vec::new();
    for start in memchr::memmem::find_iter(text, b"blk_") {
        let mut end = start + 4;
        if text.get(end) == Some(&b'-') {
            end += 1;
        }
        let digits_from = end;
        while text.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end > digits_from {
            ids.push(&text[start..end]);
        }
    }
    ids
}

/// The `~~VERSION` fields of Windows package names, in order.
fn package_versions(text: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = text[i..].windows(2).position(|w| w == b"~~") {
        let start = i + p + 2;
        let len = text[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .count();
        if len > 0 {
            out.push(&text[start..start + len]);
        }
        i = start;
    }
    out
}

/// Per-type counts from `--stats` on stderr.
fn stats(stderr: &str) -> Vec<(String, u64)> {
    stderr
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?;
            let n: u64 = w.next()?.parse().ok()?;
            w.next().is_none().then(|| (name.to_string(), n))
        })
        .collect()
}

#[test]
fn loghub_files_keep_their_shape_and_block_ids() {
    let Some(dir) = corpus_dir() else { return };
    let files = log_files(&dir);
    assert!(
        files.len() >= 16,
        "expected the 16 loghub samples, found {}",
        files.len()
    );
    let mut problems = Vec::new();
    let mut table = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(path).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_logveil"))
            .args(["redact", "--stats"])
            .arg(path)
            .env_remove("LOGVEIL_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: exit {:?}", out.status);
        let output = out.stdout;
        let (lf_in, lf_out) = (count(&input, b"\n"), count(&output, b"\n"));
        if lf_in != lf_out {
            problems.push(format!("{name}: {lf_in} newlines in, {lf_out} out"));
        }
        let (crlf_in, crlf_out) = (count(&input, b"\r\n"), count(&output, b"\r\n"));
        if crlf_in != crlf_out {
            problems.push(format!("{name}: {crlf_in} CRLF in, {crlf_out} out"));
        }
        if input.ends_with(b"\n") != output.ends_with(b"\n") {
            problems.push(format!("{name}: final newline changed"));
        }
        let (ids_in, ids_out) = (block_ids(&input), block_ids(&output));
        if ids_in != ids_out {
            let changed = ids_in.len().abs_diff(ids_out.len())
                + ids_in.iter().zip(&ids_out).filter(|(a, b)| a != b).count();
            problems.push(format!(
                "{name}: block ids changed ({} in, {} out, {changed} differ)",
                ids_in.len(),
                ids_out.len()
            ));
        }
        // Version fields of Windows servicing packages (`...~amd64~~6.1.1.0`) are not addresses.
        let (versions_in, versions_out) = (package_versions(&input), package_versions(&output));
        if versions_in != versions_out {
            problems.push(format!(
                "{name}: package versions changed ({} in, {} out)",
                versions_in.len(),
                versions_out.len()
            ));
        }
        let changed_lines = input
            .split(|&b| b == b'\n')
            .zip(output.split(|&b| b == b'\n'))
            .filter(|(a, b)| a != b)
            .count();
        let counts: Vec<String> = stats(&String::from_utf8_lossy(&out.stderr))
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(t, n)| format!("{t}={n}"))
            .collect();
        table.push(format!(
            "{name:<20} blk_ids={:<5} changed_lines={changed_lines:<5} {}",
            ids_in.len(),
            counts.join(" ")
        ));
    }
    println!("loghub on built-in defaults:\n{}", table.join("\n"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
