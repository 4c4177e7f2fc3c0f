//! Log files given by name (for `seal` and `redact`): opening them, plain or gzip-compressed (logrotate's
//! `compress`, or any file that starts with gzip's magic bytes), as `zcat` and `rg -z` read them; and
//! naming a rotated file's stream.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The first two bytes of every gzip member.
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// Compressed formats logrotate can produce that logveil does not read (gzip is read).
const UNSUPPORTED: &[(&str, &str)] = &[
    (".xz", "xz"),
    (".bz2", "bzip2"),
    (".zst", "zstd"),
    (".lz4", "lz4"),
    (".Z", "compress"),
];

/// Opens a log file for reading: gzip files (named `.gz`, or starting with gzip's magic bytes, which no
/// text starts with) are decompressed, including multi-member gzip; other compressed formats are refused
/// with a hint. With `follow_symlinks` false a symbolic link is an error (ELOOP), never read through:
/// `seal` removes what it sealed, and removing a link leaves its target.
pub fn open_rotated(path: &Path, follow_symlinks: bool) -> io::Result<Box<dyn Read + Send>> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for (ext, tool) in UNSUPPORTED {
        if name.ends_with(ext) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "{tool}-compressed files are not read (gzip is); for logrotate, use `nocompress` \
                     (logveil compresses and encrypts) or its default gzip compression"
                ),
            ));
        }
    }
    let mut open = File::options();
    open.read(true);
    if !follow_symlinks {
        open.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let mut file = BufReader::with_capacity(128 << 10, open.open(path)?);
    if name.ends_with(".gz") || file.fill_buf()?.starts_with(GZIP_MAGIC) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Ok(Box::new(file))
    }
}

/// The stream name of a rotated file: its file name without a compression suffix (`.gz`) and without a
/// rotation suffix: a number (`output.log.1`) or a date (`output.log-20261125`, logrotate `dateext`,
/// optionally with hour, minute, second).
pub fn stream_name_for(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::stream_name::sanitize_stream(split_rotated_name(&name).0)
}

/// A file name without its compression suffix and rotation suffix (see [`stream_name_for`]), and whether it
/// had a rotation suffix: `output.log.1.gz` is (`output.log`, true), `output.log.gz` (`output.log`, false).
pub fn split_rotated_name(name: &str) -> (&str, bool) {
    let mut s = name;
    for ext in [".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z"] {
        if let Some(r) = s.strip_suffix(ext) {
            s = r;
            break;
        }
    }
    let mut rotated = false;
    if let Some((base, n)) = s.rsplit_once('.') {
        if !base.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            s = base;
            rotated = true;
        }
    }
    if let Some((base, d)) = s.rsplit_once('-') {
        let digits = d.bytes().all(|b| b.is_ascii_digit());
        if !base.is_empty() && digits && matches!(d.len(), 8 | 10 | 12 | 14) {
            s = base;
            rotated = true;
        }
    }
    (s, rotated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn stream_names_drop_rotation_and_compression_suffixes() {
        for (file, stream) in [
            ("/var/log/clawdbot/output.log.1", "output.log"),
            ("output.log.12.gz", "output.log"),
            ("output.log-20261125", "output.log"),
            ("output.log-2026112513.gz", "output.log"),
            ("output.log", "output.log"),
            ("error.log.1", "error.log"),
            ("app-v2.log.3", "app-v2.log"),
            ("weird name.1", "weird_name"),
        ] {
            assert_eq!(stream_name_for(Path::new(file)), stream, "{file}");
        }
        assert_eq!(split_rotated_name("output.log.1.gz"), ("output.log", true));
        assert_eq!(
            split_rotated_name("output.log-20261125"),
            ("output.log", true)
        );
        assert_eq!(split_rotated_name("output.log.gz"), ("output.log", false));
        assert_eq!(split_rotated_name("output.log"), ("output.log", false));
    }

    #[test]
    fn gzip_files_are_decompressed_and_others_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let gz = tmp.path().join("a.log.1.gz");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(b"first\n").unwrap();
        let mut bytes = e.finish().unwrap();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(b"second\n").unwrap();
        bytes.extend(e.finish().unwrap());
        std::fs::write(&gz, bytes).unwrap();
        let mut out = String::new();
        open_rotated(&gz, false)
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "first\nsecond\n");

        // Without the .gz name, by its magic bytes.
        let renamed = tmp.path().join("a.log.2");
        std::fs::copy(&gz, &renamed).unwrap();
        let mut out = String::new();
        open_rotated(&renamed, false)
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "first\nsecond\n");
        // Plain text (empty included) is read as it is.
        for text in ["", "x", "plain\n"] {
            let p = tmp.path().join("plain.log");
            std::fs::write(&p, text).unwrap();
            let mut out = String::new();
            open_rotated(&p, false)
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, text);
        }

        let xz = tmp.path().join("a.log.1.xz");
        std::fs::write(&xz, b"").unwrap();
        let err = open_rotated(&xz, false).err().unwrap();
        assert!(err.to_string().contains("nocompress"), "{err}");
    }
}
