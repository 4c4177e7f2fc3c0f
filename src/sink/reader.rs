//! Reading segments back (on an operator's machine, with the identity): age decryption, then gzip
//! (multi-member), in data order. A truncated or tampered segment yields everything up to its last
//! complete, authentic age chunk, then says what is wrong with it.
//!
//! Nothing unverified is printed: each gzip member is held until its CRC has been checked (a member that
//! fails is left out: its bytes would be garbage), and a line cut short by damage ends with [`CUT_MARKER`],
//! so that it is never glued to the first line of the next segment.

use std::cell::Cell;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::name::{SegmentName, SegmentState};

/// The identities (private keys) used to decrypt.
pub struct Identities {
    ids: Vec<Box<dyn age::Identity>>,
}

/// An identity file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cat: identity file {}: {reason}", path.display())]
pub struct IdentityError {
    pub path: PathBuf,
    pub reason: String,
}

impl Identities {
    /// Loads age identity files (`AGE-SECRET-KEY-1...`, as written by `logveil keygen` or `age-keygen`)
    /// and unencrypted OpenSSH private keys (ssh-ed25519, ssh-rsa).
    pub fn load(paths: &[PathBuf]) -> Result<Identities, IdentityError> {
        let mut ids: Vec<Box<dyn age::Identity>> = Vec::new();
        for path in paths {
            let err = |reason: String| IdentityError {
                path: path.clone(),
                reason,
            };
            let meta = fs::metadata(path).map_err(|e| err(e.to_string()))?;
            if !meta.is_file() {
                return Err(err("not a file".into()));
            }
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "cat: identity file is readable by group or others; chmod 600 it");
            }
            let text = fs::read(path).map_err(|e| err(e.to_string()))?;
            let looks_ssh = text.starts_with(b"-----BEGIN");
            if !looks_ssh {
                let file = age::IdentityFile::from_buffer(&text[..]).map_err(|_| {
                    err("not an age identity file (expected AGE-SECRET-KEY-1... lines)".into())
                })?;
                let found = file.into_identities().map_err(|e| err(e.to_string()))?;
                if found.is_empty() {
                    return Err(err("holds no identity".into()));
                }
                ids.extend(found.into_iter().map(|i| i as Box<dyn age::Identity>));
                continue;
            }
            let name = path.display().to_string();
            match age::ssh::Identity::from_buffer(&text[..], Some(name)) {
                Ok(age::ssh::Identity::Unencrypted(k)) => {
                    ids.push(Box::new(age::ssh::Identity::Unencrypted(k)))
                }
                Ok(age::ssh::Identity::Encrypted(_)) => {
                    return Err(err(
                        "passphrase-protected SSH keys are not supported here; \
                         decrypt with `age -d -i KEY SEGMENT | gzip -dc` instead"
                            .into(),
                    ))
                }
                Ok(_) => {
                    return Err(err(
                        "unsupported SSH key type (use ssh-ed25519 or ssh-rsa)".into()
                    ))
                }
                Err(_) => return Err(err("not an age identity or an OpenSSH private key".into())),
            }
        }
        if ids.is_empty() {
            return Err(IdentityError {
                path: PathBuf::new(),
                reason: "no identity given".into(),
            });
        }
        Ok(Identities { ids })
    }

    /// Wraps already parsed identities (tests, embedding).
    pub fn from_boxed(ids: Vec<Box<dyn age::Identity>>) -> Identities {
        Identities { ids }
    }
}

/// How reading one segment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was read and authenticated.
    Complete { bytes: u64 },
    /// Only `bytes` could be written (everything before the first bad or missing chunk).
    Incomplete { bytes: u64, problem: Problem },
}

/// What is wrong with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Not an age file, or its header is cut short.
    NotAge,
    /// No given identity can decrypt it.
    NoMatchingIdentity,
    /// It ends before its last chunk (a crash's truncated segment, or a cut copy).
    Truncated,
    /// A chunk failed authentication: the file was changed or damaged.
    Tampered,
    /// The last piece of a finished segment failed authentication: it was changed, or the file was cut
    /// inside a chunk (age cannot tell these apart; a crash leaves `.truncated` segments, not this).
    LastChunkFailed,
    /// The decrypted data is not valid gzip.
    CorruptGzip,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::NotAge => "not an age file, or its header is incomplete",
            Problem::NoMatchingIdentity => "no given identity can decrypt it",
            Problem::Truncated => "truncated: it ends before its last chunk",
            Problem::Tampered => "tampered or damaged: a chunk failed authentication",
            Problem::LastChunkFailed => {
                "tampered, or cut short: its last chunk failed authentication"
            }
            Problem::CorruptGzip => "the decrypted data is not valid gzip",
        })
    }
}

/// Reading a segment failed for a reason outside the segment.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cat: cannot read {}", path.display())]
    Open { path: PathBuf, source: io::Error },
    /// Writing the output failed (e.g. a closed pipe).
    #[error("cat: cannot write the output: {0}")]
    Output(io::Error),
}

/// Written after a line cut short by a damaged segment (and a newline), in place of the lost rest of it.
pub const CUT_MARKER: &[u8] =
    b" [logveil: the segment is damaged here; the rest of this line is lost]\n";

/// A gzip member's output is held until its CRC is checked, up to this much (logveil's members hold at most
/// 512 KiB; a larger member of a foreign segment is written in pieces of this size, unverified).
const MAX_HELD: usize = 16 << 20;

/// Notes when the file has been read to its end (a chunk that fails there was cut short, most likely).
struct EofFlag<R> {
    inner: R,
    eof: Rc<Cell<bool>>,
}

impl<R: Read> Read for EofFlag<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.eof.set(true);
        }
        Ok(n)
    }
}

/// Remembers the last error the age layer returned, to tell it from a gzip error.
struct Tracked<R> {
    inner: R,
    error: Option<io::ErrorKind>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .read(buf)
            .inspect_err(|e| self.error = Some(e.kind()))
    }
}

/// Decrypts and decompresses one segment into `out`, writing everything readable before any problem.
pub fn read_segment(
    path: &Path,
    ids: &Identities,
    out: &mut dyn Write,
) -> Result<Outcome, ReadError> {
    let file = File::open(path).map_err(|source| ReadError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    read_segment_from(file, path, ids, out)
}

/// As [`read_segment`], from any reader (`cat -`: stdin); `path` names it in errors.
pub fn read_segment_from(
    file: impl Read,
    path: &Path,
    ids: &Identities,
    out: &mut dyn Write,
) -> Result<Outcome, ReadError> {
    let incomplete = |problem| Outcome::Incomplete { bytes: 0, problem };
    let eof = Rc::new(Cell::new(false));
    let file = EofFlag {
        inner: file,
        eof: eof.clone(),
    };
    let dec = match age::Decryptor::new_buffered(BufReader::with_capacity(64 << 10, file)) {
        Ok(d) => d,
        Err(age::DecryptError::Io(e)) if e.kind() != io::ErrorKind::UnexpectedEof => {
            return Err(ReadError::Open {
                path: path.to_path_buf(),
                source: e,
            })
        }
        Err(_) => return Ok(incomplete(Problem::NotAge)),
    };
    let stream = match dec.decrypt(ids.ids.iter().map(|i| i.as_ref())) {
        Ok(s) => s,
        Err(age::DecryptError::NoMatchingKeys) => {
            return Ok(incomplete(Problem::NoMatchingIdentity))
        }
        Err(age::DecryptError::Io(e)) => {
            return Err(ReadError::Open {
                path: path.to_path_buf(),
                source: e,
            })
        }
        Err(_) => return Ok(incomplete(Problem::NotAge)),
    };
    // A segment a crash left (`*.truncated.log.gz.age`, a `.partial`) is expected to end short.
    let crash_left = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(SegmentName::parse)
        .is_some_and(|n| n.state != SegmentState::Sealed);
    let classify = |age_error: Option<io::ErrorKind>, e: io::Error| match age_error {
        Some(io::ErrorKind::UnexpectedEof) => Ok(Problem::Truncated),
        // A piece at the very end that fails authentication: cut inside a chunk, or changed.
        Some(io::ErrorKind::InvalidData) if eof.get() && crash_left => Ok(Problem::Truncated),
        Some(io::ErrorKind::InvalidData) if eof.get() => Ok(Problem::LastChunkFailed),
        Some(io::ErrorKind::InvalidData) => Ok(Problem::Tampered),
        Some(_) => Err(ReadError::Open {
            path: path.to_path_buf(),
            source: e,
        }),
        None => Ok(Problem::CorruptGzip),
    };
    let mut src = BufReader::with_capacity(
        64 << 10,
        Tracked {
            inner: stream,
            error: None,
        },
    );
    let mut w = Written {
        out,
        bytes: 0,
        line_open: false,
    };
    let mut member = Vec::new();
    let mut buf = vec![0u8; 128 << 10];
    let problem = 'members: loop {
        match io::BufRead::fill_buf(&mut src) {
            Ok([]) => break None,
            Ok(_) => {}
            Err(e) => break Some(classify(src.get_ref().error, e)?),
        }
        let mut gz = flate2::bufread::GzDecoder::new(&mut src);
        member.clear();
        loop {
            match gz.read(&mut buf) {
                // The member's end, its CRC and length checked.
                Ok(0) => break,
                Ok(n) => {
                    member.extend_from_slice(&buf[..n]);
                    if member.len() >= MAX_HELD {
                        w.write(&member)?;
                        member.clear();
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    drop(gz);
                    let p = classify(src.get_ref().error, e)?;
                    // Decompressed from authentic chunks, only cut short: correct as far as it goes.
                    if p != Problem::CorruptGzip {
                        w.write(&member)?;
                    }
                    break 'members Some(p);
                }
            }
        }
        w.write(&member)?;
    };
    let bytes = w.bytes;
    Ok(match problem {
        None => Outcome::Complete { bytes },
        Some(problem) => {
            if w.line_open {
                w.out.write_all(CUT_MARKER).map_err(ReadError::Output)?;
            }
            Outcome::Incomplete { bytes, problem }
        }
    })
}

/// The output of one segment, and whether it ends inside a line.
struct Written<'a> {
    out: &'a mut dyn Write,
    bytes: u64,
    line_open: bool,
}

impl Written<'_> {
    fn write(&mut self, data: &[u8]) -> Result<(), ReadError> {
        if let Some(&last) = data.last() {
            self.out.write_all(data).map_err(ReadError::Output)?;
            self.bytes += data.len() as u64;
            self.line_open = last != b'\n';
        }
        Ok(())
    }
}

/// The recipient stanzas in the age header at the start of `src`, by kind (a segment does not record its
/// recipients' keys: an X25519 stanza does not say whose it is; their number and kinds are all the header
/// tells). None: not an age header.
pub fn header_stanzas(src: impl Read) -> io::Result<Option<super::recipients::StanzaCounts>> {
    let mut c = super::recipients::StanzaCounts::default();
    let mut lines = io::BufRead::split(BufReader::new(src.take(1 << 20)), b'\n');
    match lines.next().transpose()? {
        Some(first) if first == b"age-encryption.org/v1" => {}
        _ => return Ok(None),
    }
    for line in lines {
        let line = line?;
        if line.starts_with(b"---") {
            return Ok(Some(c));
        }
        if let Some(rest) = line.strip_prefix(b"-> ") {
            match rest.split(|&b| b == b' ').next() {
                Some(b"X25519") => c.x25519 += 1,
                Some(b"ssh-ed25519") => c.ssh_ed25519 += 1,
                Some(b"ssh-rsa") => c.ssh_rsa += 1,
                _ => {}
            }
        }
    }
    Ok(None)
}

/// The segments of a directory and of the directories under it (a tree fetched with `rclone copy` or
/// mounted with `rclone mount`: one directory per host), in data order: stream by stream, and within a
/// stream by the time of the first record, across hosts (see [`super::dir::list_tree`]). Also the
/// `.partial` files (still being written, or left by a crash and not yet renamed by a restart). Hidden
/// directories (`.incoming`, the ship's staging) and symlinks are not entered.
pub fn list_segments(dir: &Path) -> io::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut segments = Vec::new();
    let mut partials = Vec::new();
    for l in super::dir::list_tree(dir)? {
        match l.name.state {
            SegmentState::Partial => partials.push(l.path),
            SegmentState::Sealed | SegmentState::Truncated => segments.push(l.path),
        }
    }
    partials.sort();
    Ok((segments, partials))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::{Recipients, SegmentOptions, SegmentWriter};

    fn setup() -> (tempfile::TempDir, Identities, Recipients) {
        let id = age::x25519::Identity::generate();
        let mut r = Recipients::new();
        r.add(&id.to_public().to_string(), "t").unwrap();
        (
            tempfile::tempdir().unwrap(),
            Identities::from_boxed(vec![Box::new(id)]),
            r,
        )
    }

    fn data() -> Vec<u8> {
        // Poorly compressible, so the segment spans many age chunks.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut v = Vec::new();
        for i in 0..60_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.extend_from_slice(format!("{i} {x:016x} {}\n", x % 1000).as_bytes());
        }
        v
    }

    fn write_segment(dir: &Path, r: &Recipients, data: &[u8]) -> PathBuf {
        let t: jiff::Timestamp = "2026-11-25T10:00:00Z".parse().unwrap();
        let mut w = SegmentWriter::open(SegmentOptions::new(dir, "s", r.clone())).unwrap();
        w.write(data, data.len() as u64, t).unwrap();
        w.finish(t).unwrap().unwrap().path
    }

    #[test]
    fn complete_segment_reads_back_exactly() {
        let (tmp, ids, r) = setup();
        let input = data();
        let p = write_segment(tmp.path(), &r, &input);
        let mut out = Vec::new();
        let o = read_segment(&p, &ids, &mut out).unwrap();
        assert_eq!(
            o,
            Outcome::Complete {
                bytes: input.len() as u64
            }
        );
        assert!(out == input);
    }

    /// What was written before a problem, without the marker of a cut line.
    fn readable(out: &[u8]) -> &[u8] {
        out.strip_suffix(CUT_MARKER).unwrap_or(out)
    }

    #[test]
    fn a_cut_segment_yields_a_prefix_then_says_truncated_if_a_crash_left_it() {
        let (tmp, ids, r) = setup();
        let input = data();
        let sealed = write_segment(tmp.path(), &r, &input);
        let len = fs::metadata(&sealed).unwrap().len();
        assert!(len > 4 * 65_552, "spans several chunks: {len}");
        // As a crash leaves it: a `.truncated` name.
        let name = sealed.file_name().unwrap().to_str().unwrap();
        let kept = tmp
            .path()
            .join(name.replace(".log.gz.age", ".truncated.log.gz.age"));
        fs::copy(&sealed, &kept).unwrap();
        for (p, want) in [
            (&kept, Problem::Truncated),
            (&sealed, Problem::LastChunkFailed),
        ] {
            let f = fs::OpenOptions::new().write(true).open(p).unwrap();
            f.set_len(len / 2).unwrap();
            let mut out = Vec::new();
            let o = read_segment(p, &ids, &mut out).unwrap();
            let Outcome::Incomplete { bytes, problem } = o else {
                panic!("reported complete")
            };
            assert_eq!(problem, want);
            let got = readable(&out);
            assert_eq!(bytes as usize, got.len());
            assert!(got.len() > input.len() / 4, "{} bytes", got.len());
            assert!(input.starts_with(got), "a prefix of the input");
            assert!(
                out.ends_with(b"\n"),
                "a cut line ends with the marker and a newline"
            );
        }
    }

    #[test]
    fn tampered_chunk_is_reported_after_the_chunks_before_it() {
        let (tmp, ids, r) = setup();
        let input = data();
        let p = write_segment(tmp.path(), &r, &input);
        let mut bytes = fs::read(&p).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x55;
        fs::write(&p, &bytes).unwrap();
        let mut out = Vec::new();
        let o = read_segment(&p, &ids, &mut out).unwrap();
        assert!(
            matches!(
                o,
                Outcome::Incomplete {
                    problem: Problem::Tampered,
                    ..
                }
            ),
            "{o:?}"
        );
        assert!(!out.is_empty() && input.starts_with(readable(&out)));
    }

    #[test]
    fn a_member_is_written_only_once_its_crc_is_checked() {
        use std::io::Write as _;
        let (tmp, ids, r) = setup();
        let member = |text: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
            e.write_all(text).unwrap();
            e.finish().unwrap()
        };
        let mut gz = member(b"good line\n");
        let mut bad = member(b"bad line, altered\n");
        bad[15] ^= 1; // inside the stored data: decodes, the CRC fails
        gz.extend_from_slice(&bad);
        let p = tmp.path().join("x.log.gz.age");
        let mut w = r
            .encryptor()
            .unwrap()
            .wrap_output(File::create(&p).unwrap())
            .unwrap();
        w.write_all(&gz).unwrap();
        w.finish().unwrap();
        let mut out = Vec::new();
        let o = read_segment(&p, &ids, &mut out).unwrap();
        assert_eq!(
            o,
            Outcome::Incomplete {
                bytes: 10,
                problem: Problem::CorruptGzip
            }
        );
        assert_eq!(out, b"good line\n");
    }

    #[test]
    fn the_header_tells_how_many_recipients_of_each_kind_a_segment_has() {
        let (tmp, _ids, mut r) = setup();
        let one = write_segment(tmp.path(), &r, b"x\n");
        let c = header_stanzas(File::open(&one).unwrap()).unwrap().unwrap();
        assert_eq!(c, r.stanza_counts());
        assert_eq!((c.x25519, c.ssh_ed25519, c.ssh_rsa), (1, 0, 0));
        r.add(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMFnCVgVIM5eg7ZE8+o/YRIsRoGUc8FSLgdZzsUmfju4 t",
            "t",
        )
        .unwrap();
        r.add(
            &age::x25519::Identity::generate().to_public().to_string(),
            "t",
        )
        .unwrap();
        let sub = tmp.path().join("b");
        fs::create_dir(&sub).unwrap();
        let three = write_segment(&sub, &r, b"x\n");
        let c = header_stanzas(File::open(&three).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(c, r.stanza_counts());
        assert_eq!((c.x25519, c.ssh_ed25519, c.ssh_rsa), (2, 1, 0));
        assert_eq!(header_stanzas(&b"plain text\n"[..]).unwrap(), None);
        assert_eq!(
            header_stanzas(&b"age-encryption.org/v1\n-> X25519 abc\n"[..]).unwrap(),
            None,
            "a header cut before its end"
        );
    }

    #[test]
    fn wrong_identity_and_non_age_files_are_named_problems() {
        let (tmp, _ids, r) = setup();
        let p = write_segment(tmp.path(), &r, b"hello\n");
        let other = Identities::from_boxed(vec![Box::new(age::x25519::Identity::generate())]);
        let mut out = Vec::new();
        assert_eq!(
            read_segment(&p, &other, &mut out).unwrap(),
            Outcome::Incomplete {
                bytes: 0,
                problem: Problem::NoMatchingIdentity
            }
        );
        let junk = tmp.path().join("junk");
        fs::write(&junk, b"plain text\n").unwrap();
        assert_eq!(
            read_segment(&junk, &other, &mut out).unwrap(),
            Outcome::Incomplete {
                bytes: 0,
                problem: Problem::NotAge
            }
        );
        assert!(out.is_empty());
    }

    #[test]
    fn directories_list_in_data_order_and_partials_apart() {
        let tmp = tempfile::tempdir().unwrap();
        for n in [
            "b.20261125T100000Z_20261125T100000Z.000001.log.gz.age",
            "a.20261125T110000Z_20261125T110000Z.000002.log.gz.age",
            "a.20261125T100000Z_20261125T103000Z.000001.truncated.log.gz.age",
            "a.20261125T120000Z.000003.partial",
            "notes.txt",
        ] {
            fs::write(tmp.path().join(n), b"").unwrap();
        }
        let (segs, partials) = list_segments(tmp.path()).unwrap();
        let names: Vec<_> = segs
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "a.20261125T100000Z_20261125T103000Z.000001.truncated.log.gz.age",
                "a.20261125T110000Z_20261125T110000Z.000002.log.gz.age",
                "b.20261125T100000Z_20261125T100000Z.000001.log.gz.age",
            ]
        );
        assert_eq!(partials.len(), 1);
    }

    #[test]
    fn a_tree_of_hosts_lists_each_stream_in_time_order_across_hosts() {
        let tmp = tempfile::tempdir().unwrap();
        let put = |rel: &str| {
            let p = tmp.path().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, b"").unwrap();
        };
        for rel in [
            "h2/bot.20261125T100500Z_20261125T103000Z.000001.log.gz.age",
            "h1/bot.20261125T100000Z_20261125T100400Z.000001.log.gz.age",
            "h1/bot.20261125T110000Z_20261125T110000Z.000002.log.gz.age",
            "h1/audit.20261125T090000Z_20261125T090000Z.000001.log.gz.age",
            "h2/bot.20261125T120000Z.000002.partial",
            // The ship's staging, and a copy reached through a symlink: never read.
            ".incoming/h1/bot.20261125T100000Z_20261125T100400Z.000001.log.gz.age",
        ] {
            put(rel);
        }
        std::os::unix::fs::symlink(tmp.path().join("h1"), tmp.path().join("link")).unwrap();
        let (segs, partials) = list_segments(tmp.path()).unwrap();
        let rel: Vec<String> = segs
            .iter()
            .map(|p| p.strip_prefix(tmp.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(
            rel,
            [
                "h1/audit.20261125T090000Z_20261125T090000Z.000001.log.gz.age",
                "h1/bot.20261125T100000Z_20261125T100400Z.000001.log.gz.age",
                "h2/bot.20261125T100500Z_20261125T103000Z.000001.log.gz.age",
                "h1/bot.20261125T110000Z_20261125T110000Z.000002.log.gz.age",
            ]
        );
        assert_eq!(
            partials,
            [tmp.path().join("h2/bot.20261125T120000Z.000002.partial")]
        );
    }
}
