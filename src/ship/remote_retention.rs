//! Retention checked on the remote: the segments of an `rclone lsjson -R REMOTE:PATH` listing judged by
//! the same rule as local ones (the last record's time in the name, against the retention). What it
//! lists is what the bucket's lifecycle rule should have removed, or will soon: the rule judges an object
//! by its upload date, which is after its last record.

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;

use super::rclone::{parse_lsjson_paths, ListedObject};
use crate::retention::{older_than, Deletion, Reason};
use crate::sink::name::{SegmentName, SegmentState};

/// What would expire on the remote, and what stays.
#[derive(Debug, Default)]
pub struct RemotePlan {
    /// Expired segments, by their path in the listing (e.g. `HOST/NAME`).
    pub expired: Vec<Deletion>,
    pub kept: usize,
    pub bytes_kept: u64,
    /// Objects whose names are not finished segments (staging leftovers under `.incoming/` are
    /// segments too, and judged alike).
    pub ignored: usize,
}

/// Parses the listing and judges its segments as of `now`.
pub fn plan_listing(json: &[u8], max_age: Duration, now: Timestamp) -> Result<RemotePlan, String> {
    Ok(plan(&parse_lsjson_paths(json)?, max_age, now))
}

/// Judges listed objects as of `now`: a finished segment expires when its last record is older than
/// `max_age`. Names that do not parse (and `.partial` names) are ignored, as locally.
pub fn plan(objects: &[ListedObject], max_age: Duration, now: Timestamp) -> RemotePlan {
    let mut p = RemotePlan::default();
    let mut expired: Vec<Deletion> = Vec::new();
    for o in objects {
        let Some(name) = SegmentName::parse(&o.object.name) else {
            p.ignored += 1;
            continue;
        };
        if name.state == SegmentState::Partial {
            p.ignored += 1;
            continue;
        }
        let bytes = o.object.size.max(0) as u64;
        let last = name.last_record();
        if older_than(last, now, max_age) {
            expired.push(Deletion {
                path: PathBuf::from(&o.path),
                bytes,
                reason: Reason::MaxAge {
                    last_record: last,
                    max_age,
                },
            });
        } else {
            p.kept += 1;
            p.bytes_kept += bytes;
        }
    }
    expired.sort_by(|a, b| a.path.cmp(&b.path));
    p.expired = expired;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_in_a_listing_expire_by_their_last_record_like_local_ones() {
        let json = br#"[
{"Path":"h1","Name":"h1","Size":-1,"IsDir":true},
{"Path":"h1/bot.20260801T000000Z_20260801T010000Z.000001.log.gz.age","Name":"bot.20260801T000000Z_20260801T010000Z.000001.log.gz.age","Size":10,"IsDir":false},
{"Path":"h2/bot.20260801T000000Z_20260830T000000Z.000007.truncated.log.gz.age","Name":"bot.20260801T000000Z_20260830T000000Z.000007.truncated.log.gz.age","Size":20,"IsDir":false},
{"Path":"h2/bot.20261101T000000Z_20261101T010000Z.000008.log.gz.age","Name":"bot.20261101T000000Z_20261101T010000Z.000008.log.gz.age","Size":30,"IsDir":false},
{"Path":"h2/bot.20260801T000000Z.000009.partial","Name":"bot.20260801T000000Z.000009.partial","Size":5,"IsDir":false},
{"Path":"notes.txt","Name":"notes.txt","Size":5,"IsDir":false}
]"#;
        let now: Timestamp = "2026-11-25T00:00:00Z".parse().unwrap();
        let p = plan_listing(json, Duration::from_secs(90 * 86_400), now).unwrap();
        let paths: Vec<String> = p
            .expired
            .iter()
            .map(|d| d.path.display().to_string())
            .collect();
        // 2026-08-30 is 87 days before: kept; 2026-08-01T01:00 is older than 90 days.
        assert_eq!(
            paths,
            ["h1/bot.20260801T000000Z_20260801T010000Z.000001.log.gz.age"]
        );
        assert_eq!(p.expired[0].reason.code(), "max_age");
        assert_eq!(p.expired[0].bytes, 10);
        assert_eq!((p.kept, p.bytes_kept, p.ignored), (2, 50, 2));
        let p = plan_listing(json, Duration::from_secs(30 * 86_400), now).unwrap();
        assert_eq!(p.expired.len(), 2);
        assert!(plan_listing(b"not json", Duration::from_secs(1), now).is_err());
    }
}
