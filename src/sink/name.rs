//! Segment file names: the one place that writes and reads them (writer, `cat`, retention, audit).
//!
//! A finished segment is `STREAM.FIRST_LAST.SEQ.log.gz.age`, where FIRST and LAST are the UTC times of its
//! first and last record (`20261125T154900Z`) and SEQ a zero-padded counter, so names sort in data order
//! within a stream. While written it is `STREAM.FIRST.SEQ.partial`. A `.partial` left by a crash and kept
//! (it cannot be finished on the host) becomes `STREAM.FIRST_LAST.SEQ.truncated.log.gz.age`.

use std::fmt;

use jiff::Timestamp;

use crate::stream_name::sanitize_stream;

pub const SEGMENT_SUFFIX: &str = ".log.gz.age";
pub const TRUNCATED_SUFFIX: &str = ".truncated.log.gz.age";
pub const PARTIAL_SUFFIX: &str = ".partial";
const TIME_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// What kind of segment file a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentState {
    /// Finished: flushed, fsynced, renamed.
    Sealed,
    /// A crash's `.partial`, kept under a name that says it is incomplete.
    Truncated,
    /// Being written (or left by a crash).
    Partial,
}

/// A parsed segment name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentName {
    pub stream: String,
    /// UTC time of the first record, to the second.
    pub first: Timestamp,
    /// UTC time of the last record (None for a `.partial`).
    pub last: Option<Timestamp>,
    pub seq: u64,
    pub state: SegmentState,
}

fn fmt_time(t: Timestamp) -> String {
    t.strftime(TIME_FORMAT).to_string()
}

fn parse_time(s: &str) -> Option<Timestamp> {
    let civil = s.strip_suffix('Z').filter(|c| c.len() == 15)?;
    let dt = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%S", civil).ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(dt).ok()
}

impl SegmentName {
    pub fn sealed(stream: &str, first: Timestamp, last: Timestamp, seq: u64) -> Self {
        SegmentName {
            stream: sanitize_stream(stream),
            first: first.max(Timestamp::UNIX_EPOCH),
            last: Some(last.max(first)),
            seq,
            state: SegmentState::Sealed,
        }
    }

    pub fn partial(stream: &str, first: Timestamp, seq: u64) -> Self {
        SegmentName {
            stream: sanitize_stream(stream),
            first,
            last: None,
            seq,
            state: SegmentState::Partial,
        }
    }

    /// The name a `.partial` gets when it is kept after a crash (`last`: best known time, e.g. its mtime).
    pub fn truncated_from(&self, last: Timestamp) -> Self {
        SegmentName {
            last: Some(last.max(self.first)),
            state: SegmentState::Truncated,
            ..self.clone()
        }
    }

    /// Parses a file name (no directory). None for anything logveil did not name.
    pub fn parse(file_name: &str) -> Option<SegmentName> {
        if let Some(rest) = file_name.strip_suffix(PARTIAL_SUFFIX) {
            let (rest, seq) = rest.rsplit_once('.')?;
            let (stream, first) = rest.rsplit_once('.')?;
            return Some(SegmentName {
                stream: valid_stream(stream)?,
                first: parse_time(first)?,
                last: None,
                seq: parse_seq(seq)?,
                state: SegmentState::Partial,
            });
        }
        let (rest, state) = if let Some(r) = file_name.strip_suffix(TRUNCATED_SUFFIX) {
            (r, SegmentState::Truncated)
        } else {
            (
                file_name.strip_suffix(SEGMENT_SUFFIX)?,
                SegmentState::Sealed,
            )
        };
        let (rest, seq) = rest.rsplit_once('.')?;
        let (stream, times) = rest.rsplit_once('.')?;
        let (first, last) = times.split_once('_')?;
        Some(SegmentName {
            stream: valid_stream(stream)?,
            first: parse_time(first)?,
            last: Some(parse_time(last)?),
            seq: parse_seq(seq)?,
            state,
        })
    }

    /// The time retention judges by: the last record's (a partial has none yet: its first).
    pub fn last_record(&self) -> Timestamp {
        self.last.unwrap_or(self.first)
    }
}

fn valid_stream(s: &str) -> Option<String> {
    (!s.is_empty() && sanitize_stream(s) == s).then(|| s.to_string())
}

fn parse_seq(s: &str) -> Option<u64> {
    (s.len() >= 6 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl fmt::Display for SegmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = fmt_time(self.first);
        match (self.state, self.last) {
            (SegmentState::Partial, _) | (_, None) => {
                write!(f, "{}.{first}.{:06}{PARTIAL_SUFFIX}", self.stream, self.seq)
            }
            (SegmentState::Sealed, Some(last)) => write!(
                f,
                "{}.{first}_{}.{:06}{SEGMENT_SUFFIX}",
                self.stream,
                fmt_time(last),
                self.seq
            ),
            (SegmentState::Truncated, Some(last)) => write!(
                f,
                "{}.{first}_{}.{:06}{TRUNCATED_SUFFIX}",
                self.stream,
                fmt_time(last),
                self.seq
            ),
        }
    }
}

/// The per-stream lock file a writer holds in the segment directory (empty, 0600, kept after use).
pub fn lock_file_name(stream: &str) -> String {
    format!(".{stream}.lock")
}

/// Is this file name a writer's lock file ([`lock_file_name`])?
pub fn is_lock_file_name(file_name: &str) -> bool {
    file_name
        .strip_prefix('.')
        .and_then(|s| s.strip_suffix(".lock"))
        .is_some_and(|stream| valid_stream(stream).is_some())
}

/// The journal a `seal` of one source file keeps beside its stream's segments while it runs (and after a
/// failure, for the next run): `.STREAM.seal-DEV-INO` (device and inode of the source; hidden, 0600).
pub fn seal_journal_name(stream: &str, dev: u64, ino: u64) -> String {
    format!(".{stream}.seal-{dev}-{ino}")
}

/// Is this file name a seal journal ([`seal_journal_name`]) of `stream` (any stream when None)?
pub fn is_seal_journal_name(file_name: &str, stream: Option<&str>) -> bool {
    let Some((s, id)) = file_name
        .strip_prefix('.')
        .and_then(|n| n.rsplit_once(".seal-"))
    else {
        return false;
    };
    let id_ok = id
        .split_once('-')
        .is_some_and(|(d, i)| d.parse::<u64>().is_ok() && i.parse::<u64>().is_ok());
    id_ok && valid_stream(s).is_some() && stream.is_none_or(|want| want == s)
}

/// Orders names in data order within a stream (stream, first time, sequence).
pub fn data_order(a: &SegmentName, b: &SegmentName) -> std::cmp::Ordering {
    (&a.stream, a.first, a.seq).cmp(&(&b.stream, b.first, b.seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn names_round_trip_in_every_state() {
        let first = ts("2026-11-25T15:49:00Z");
        let last = ts("2026-11-25T16:49:59Z");
        for name in [
            SegmentName::sealed("output.log", first, last, 7),
            SegmentName::partial("output.log", first, 7),
            SegmentName::sealed("stdin", first, last, 123_456_789).truncated_from(last),
        ] {
            let text = name.to_string();
            assert_eq!(SegmentName::parse(&text), Some(name.clone()), "{text}");
        }
        assert_eq!(
            SegmentName::sealed("output.log", first, last, 7).to_string(),
            "output.log.20261125T154900Z_20261125T164959Z.000007.log.gz.age"
        );
    }

    #[test]
    fn names_sort_in_data_order() {
        let t = |s| ts(s);
        let mut names = [
            SegmentName::sealed("a", t("2026-11-25T10:00:00Z"), t("2026-11-25T10:00:00Z"), 2),
            SegmentName::sealed("a", t("2026-11-25T09:00:00Z"), t("2026-11-25T10:00:00Z"), 1),
            SegmentName::sealed("a", t("2026-11-25T10:00:00Z"), t("2026-11-25T10:00:00Z"), 3),
        ];
        let mut by_text: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        by_text.sort();
        names.sort_by(data_order);
        let ordered: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        assert_eq!(by_text, ordered, "lexical order is data order");
        assert_eq!(names[0].seq, 1);
        assert_eq!(names[2].seq, 3);
    }

    #[test]
    fn foreign_files_are_not_segments() {
        for other in [
            "output.log",
            "output.log.1.gz",
            "notes.age",
            "x.20261125T154900Z_20261125T164959Z.1.log.gz.age",
            "x.2026-11-25_2026-11-25.000001.log.gz.age",
            ".20261125T154900Z_20261125T164959Z.000001.log.gz.age",
            "x y.20261125T154900Z_20261125T164959Z.000001.log.gz.age",
        ] {
            assert_eq!(SegmentName::parse(other), None, "{other}");
        }
    }

    #[test]
    fn seal_journals_are_recognised() {
        let j = seal_journal_name("app.log", 2049, 77);
        assert!(is_seal_journal_name(&j, None));
        assert!(is_seal_journal_name(&j, Some("app.log")));
        assert!(!is_seal_journal_name(&j, Some("app")));
        assert!(!is_seal_journal_name(".app.log.seal-x-1", None));
        assert!(!is_seal_journal_name(&format!("{j}.tmp"), None));
    }

    #[test]
    fn lock_files_are_recognised() {
        assert!(is_lock_file_name(&lock_file_name("output.log")));
        assert!(!is_lock_file_name("output.log.lock"));
        assert!(!is_lock_file_name(".x y.lock"));
    }
}
