//! One ship run over one segment directory (see the module docs of `ship` for the steps).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::rclone::{Object, Place, RcloneError, Storage};
use super::KeepLocal;
use crate::fsutil::Dir;
use crate::retention::{older_than, Deletion, Plan, Policy, Reason, Report, RetentionError};
use crate::sink::name::{SegmentName, SegmentState};

/// How a local file and its remote copy compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Same size, and every hash both report is equal (at least one): `TYPE:HEX` of the first.
    Same(String),
    /// They differ: the remote copy is not this segment.
    Differs(String),
    /// Nothing to compare with (no size, or no hash in common): not confirmed.
    Unverifiable(String),
}

/// Compares a local file with a remote object by size and hash (rclone's values for both).
pub fn compare(local: &Object, remote: &Object) -> Verdict {
    if remote.size < 0 || local.size < 0 {
        return Verdict::Unverifiable("the remote does not report its size".into());
    }
    if remote.size != local.size {
        return Verdict::Differs(format!(
            "{} bytes on the remote, {} here",
            remote.size, local.size
        ));
    }
    let mut same = None;
    for (kind, value) in &remote.hashes {
        if let Some(mine) = local.hashes.get(kind) {
            if mine != value {
                return Verdict::Differs(format!("its {kind} differs"));
            }
            same.get_or_insert_with(|| format!("{kind}:{value}"));
        }
    }
    match same {
        Some(h) => Verdict::Same(h),
        None => Verdict::Unverifiable(
            "no hash to compare: the remote reports none rclone can also compute here".into(),
        ),
    }
}

/// A finished local segment.
#[derive(Debug, Clone)]
struct Local {
    file: String,
    name: SegmentName,
    path: PathBuf,
    bytes: u64,
}

/// What a run did (or, for a dry run, would do).
#[derive(Debug, Default)]
pub struct Outcome {
    pub dry_run: bool,
    /// Finished segments found here.
    pub local: usize,
    /// Moved into place and confirmed by this run (dry run: would be uploaded).
    pub shipped: Vec<String>,
    /// Already on the remote with the same size (from an earlier run).
    pub already: usize,
    /// On the remote and confirmed, kept here under `keep_local`.
    pub kept: usize,
    /// The remote holds another object under the name: never overwritten; the local copy stays.
    pub conflicts: Vec<(String, String)>,
    /// Not confirmed on the remote (yet): the local copy stays.
    pub unconfirmed: Vec<(String, String)>,
    /// The local deletions (privacy log) — dry run: the ones that would be made.
    pub deletions: Option<Report>,
    /// rclone failures; the run went on with what it could verify.
    pub errors: Vec<RcloneError>,
}

/// Ships one segment directory through a [`Storage`].
pub struct Shipper<'a, S: Storage> {
    pub storage: S,
    pub dir: PathBuf,
    pub keep_local: KeepLocal,
    /// A legal hold (`auto_rotate: false` in the config, without `--force`): segments are shipped, but no
    /// local copy is deleted, whatever `keep_local` says.
    pub hold: bool,
    /// For the privacy log (its path) and the deletions.
    pub policy: &'a Policy,
}

impl<S: Storage> Shipper<'_, S> {
    fn list_local(&self) -> io::Result<Vec<Local>> {
        let mut v = Vec::new();
        for l in crate::sink::dir::list(&self.dir)? {
            if l.name.state == SegmentState::Partial {
                continue;
            }
            match fs::symlink_metadata(&l.path) {
                Ok(md) if md.is_file() => v.push(Local {
                    file: l.name.to_string(),
                    name: l.name,
                    path: l.path,
                    bytes: md.len(),
                }),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        v.sort_by(|a, b| a.file.cmp(&b.file));
        Ok(v)
    }

    fn due(&self, seg: &Local, now: Timestamp) -> bool {
        if self.hold {
            return false;
        }
        match self.keep_local {
            KeepLocal::UntilShipped => true,
            KeepLocal::For(d) => older_than(seg.name.last_record(), now, d),
        }
    }

    /// Runs once as of `now` (which judges `keep_local`). Errors that stop the run before anything was
    /// uploaded (the directory, the first listing of the remote, the privacy log) are returned; later
    /// rclone failures are collected in [`Outcome::errors`] and the run goes on with what it verified.
    pub fn run(&mut self, now: Timestamp, dry_run: bool) -> Result<Outcome, ShipError> {
        let mut out = Outcome {
            dry_run,
            ..Outcome::default()
        };
        let local = self.list_local().map_err(|error| ShipError::List {
            path: self.dir.clone(),
            error,
        })?;
        out.local = local.len();
        if local.is_empty() {
            return Ok(out);
        }
        let by_file: BTreeMap<&str, &Local> = local.iter().map(|l| (l.file.as_str(), l)).collect();
        let names: Vec<String> = local.iter().map(|l| l.file.clone()).collect();

        // 2. What the remote has already.
        let existing = self.storage.list(Place::Final, &names, false)?;
        let mut upload = Vec::new();
        let mut check = Vec::new();
        for seg in &local {
            match existing.get(&seg.file) {
                None => upload.push(seg.file.clone()),
                Some(o) if o.size >= 0 && o.size as u64 != seg.bytes => out.conflicts.push((
                    seg.file.clone(),
                    format!(
                        "{} holds {} bytes, this segment {}: never overwritten",
                        self.storage.final_path(&seg.file),
                        o.size,
                        seg.bytes
                    ),
                )),
                Some(_) => {
                    out.already += 1;
                    if self.due(seg, now) {
                        check.push(seg.file.clone());
                    } else {
                        out.kept += 1;
                    }
                }
            }
        }

        // 3. Upload to staging; verify there; move the verified ones into place.
        let mut staged = BTreeMap::new();
        if !upload.is_empty() && !dry_run {
            if let Err(e) = self.storage.upload(&upload) {
                tracing::warn!(error = %e, "ship: upload failed; going on with what arrived intact");
                out.errors.push(e);
            }
            match self.storage.list(Place::Incoming, &upload, true) {
                Ok(m) => staged = m,
                Err(e) => out.errors.push(e),
            }
        }
        let mut checked = BTreeMap::new();
        if !check.is_empty() {
            match self.storage.list(Place::Final, &check, true) {
                Ok(m) => checked = m,
                Err(e) => out.errors.push(e),
            }
        }
        let types: Vec<String> = staged
            .values()
            .chain(checked.values())
            .flat_map(|o: &Object| o.hashes.keys().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let to_hash: Vec<String> = if dry_run { &[][..] } else { &upload[..] }
            .iter()
            .chain(check.iter())
            .cloned()
            .collect();
        let mut mine = BTreeMap::new();
        if types.is_empty() {
            // The remote reports no hash: sizes alone, which never confirm (see `compare`).
            for name in &to_hash {
                let seg = by_file[name.as_str()];
                let o = Object {
                    name: name.clone(),
                    size: seg.bytes as i64,
                    hashes: BTreeMap::new(),
                };
                mine.insert(name.clone(), o);
            }
        } else if !to_hash.is_empty() {
            match self.storage.local(&to_hash, &types) {
                Ok(m) => mine = m,
                Err(e) => out.errors.push(e),
            }
        }
        if dry_run {
            out.shipped = upload.clone();
        }
        let verdict = |name: &str, remote: Option<&Object>, mine: &BTreeMap<String, Object>| match (
            mine.get(name),
            remote,
        ) {
            (_, None) => Verdict::Unverifiable("not found on the remote".into()),
            (None, Some(_)) => Verdict::Unverifiable("its local hash could not be computed".into()),
            (Some(l), Some(r)) => compare(l, r),
        };
        let mut verified = Vec::new();
        if !dry_run {
            for name in &upload {
                match verdict(name, staged.get(name), &mine) {
                    Verdict::Same(_) => verified.push(name.clone()),
                    Verdict::Differs(why) | Verdict::Unverifiable(why) => out.unconfirmed.push((
                        name.clone(),
                        format!("the upload is not intact ({why}); not moved into place"),
                    )),
                }
            }
        }
        let mut placed = BTreeMap::new();
        if !verified.is_empty() {
            if let Err(e) = self.storage.move_into_place(&verified) {
                out.errors.push(e);
            }
            match self.storage.list(Place::Final, &verified, true) {
                Ok(m) => placed = m,
                Err(e) => out.errors.push(e),
            }
        }

        // 4. Confirmed: delete the due ones here, each recorded.
        let mut plan = Plan::default();
        let mut confirm = |name: &str, v: Verdict, fresh: bool, out: &mut Outcome| {
            let seg = by_file[name];
            match v {
                Verdict::Same(hash) => {
                    if fresh {
                        out.shipped.push(name.to_string());
                    }
                    if self.due(seg, now) {
                        plan.deletions.push(Deletion {
                            path: seg.path.clone(),
                            bytes: seg.bytes,
                            reason: Reason::Shipped {
                                remote: self.storage.final_path(name),
                                hash,
                            },
                        });
                    } else {
                        out.kept += 1;
                    }
                }
                Verdict::Differs(why) if !fresh => out.conflicts.push((
                    name.to_string(),
                    format!(
                        "{} differs ({why}): never overwritten",
                        self.storage.final_path(name)
                    ),
                )),
                Verdict::Differs(why) | Verdict::Unverifiable(why) => out.unconfirmed.push((
                    name.to_string(),
                    format!("not confirmed on the remote: {why}"),
                )),
            }
        };
        for name in &verified {
            let v = verdict(name, placed.get(name), &mine);
            confirm(name, v, true, &mut out);
        }
        for name in &check {
            let v = verdict(name, checked.get(name), &mine);
            confirm(name, v, false, &mut out);
        }
        out.deletions = Some(if dry_run {
            Report {
                judged_at: now,
                dry_run: true,
                deleted: plan.deletions,
                failed: Vec::new(),
                segments_kept: 0,
                partials_kept: 0,
                plaintext_kept: 0,
                bytes_kept: 0,
                privacy_log: None,
            }
        } else {
            self.policy.apply(plan, now)?
        });

        // 5. Staging leftovers (a killed or failed upload, a copy that did not verify).
        if !upload.is_empty() && !dry_run {
            if let Err(e) = self.storage.clear_incoming() {
                out.errors.push(e);
            }
        }
        Ok(out)
    }
}

/// A ship run that could not start or could not record.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    #[error("ship: cannot list {}: {error}", path.display())]
    List { path: PathBuf, error: io::Error },
    /// (Not a `source`: the message already holds it, and error chains would print it twice.)
    #[error("ship: {0}")]
    Rclone(RcloneError),
    #[error(transparent)]
    Retention(#[from] RetentionError),
    #[error("ship: another `logveil ship` is running for {}", path.display())]
    Busy { path: PathBuf },
    #[error("ship: cannot lock {}: {error}", path.display())]
    Lock { path: PathBuf, error: io::Error },
}

impl From<RcloneError> for ShipError {
    fn from(e: RcloneError) -> Self {
        ShipError::Rclone(e)
    }
}

/// Takes the exclusive lock of a segment directory for a ship run (an `flock` on the directory itself:
/// no lock file to ship or leave behind). Released when the returned handle is closed.
pub fn lock_dir(dir: &Path) -> Result<Dir, ShipError> {
    let err = |error| ShipError::Lock {
        path: dir.to_path_buf(),
        error,
    };
    let d = Dir::open(dir).map_err(err)?;
    match d.try_lock_exclusive() {
        Ok(true) => Ok(d),
        Ok(false) => Err(ShipError::Busy {
            path: dir.to_path_buf(),
        }),
        Err(e) => Err(err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use sha2::{Digest, Sha256};
    use std::time::Duration;

    /// Storage in memory, with rclone's semantics as the ship relies on them, and faults to inject.
    #[derive(Default)]
    struct Fake {
        dir: PathBuf,
        remote: BTreeMap<String, Vec<u8>>,
        incoming: BTreeMap<String, Vec<u8>>,
        /// Uploads of these names stop after this many bytes and the upload reports an error.
        cut: BTreeMap<String, usize>,
        /// The remote reports no hashes.
        no_hashes: bool,
        calls: Vec<String>,
    }

    fn obj(name: &str, data: &[u8], hashes: bool) -> Object {
        let mut h = BTreeMap::new();
        if hashes {
            h.insert("sha256".to_string(), format!("{:x}", Sha256::digest(data)));
        }
        Object {
            name: name.into(),
            size: data.len() as i64,
            hashes: h,
        }
    }

    impl Storage for Fake {
        fn list(
            &mut self,
            place: Place,
            names: &[String],
            hashes: bool,
        ) -> Result<BTreeMap<String, Object>, RcloneError> {
            self.calls.push(format!("list {place:?}"));
            let m = match place {
                Place::Final => &self.remote,
                Place::Incoming => &self.incoming,
            };
            Ok(names
                .iter()
                .filter_map(|n| {
                    m.get(n)
                        .map(|d| (n.clone(), obj(n, d, hashes && !self.no_hashes)))
                })
                .collect())
        }
        fn local(
            &mut self,
            names: &[String],
            types: &[String],
        ) -> Result<BTreeMap<String, Object>, RcloneError> {
            self.calls.push("local".into());
            assert_eq!(types, ["sha256"]);
            Ok(names
                .iter()
                .filter_map(|n| {
                    fs::read(self.dir.join(n))
                        .ok()
                        .map(|d| (n.clone(), obj(n, &d, true)))
                })
                .collect())
        }
        fn upload(&mut self, names: &[String]) -> Result<(), RcloneError> {
            self.calls.push("upload".into());
            for n in names {
                let mut d = fs::read(self.dir.join(n)).unwrap();
                if let Some(&cut) = self.cut.get(n) {
                    d.truncate(cut);
                    self.incoming.insert(n.clone(), d);
                    return Err(RcloneError::Failed {
                        what: "copy".into(),
                        status: "killed by signal 9".into(),
                    });
                }
                self.incoming.insert(n.clone(), d);
            }
            Ok(())
        }
        fn move_into_place(&mut self, names: &[String]) -> Result<(), RcloneError> {
            self.calls.push("move".into());
            for n in names {
                let d = self.incoming.remove(n).unwrap();
                // --immutable: an existing object is never replaced.
                self.remote.entry(n.clone()).or_insert(d);
            }
            Ok(())
        }
        fn clear_incoming(&mut self) -> Result<(), RcloneError> {
            self.calls.push("clear".into());
            self.incoming.clear();
            Ok(())
        }
        fn final_path(&self, name: &str) -> String {
            format!("fake:base/h1/{name}")
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    struct Setup {
        tmp: tempfile::TempDir,
        policy: Policy,
        names: Vec<String>,
    }

    /// Three finished segments (the second one larger), a `.partial`, a lock file, the privacy log.
    fn setup() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let mut names = Vec::new();
        for (i, size) in [(1u64, 100usize), (2, 5000), (3, 10)] {
            let n = SegmentName::sealed(
                "bot",
                ts("2026-11-25T10:00:00Z"),
                ts("2026-11-25T11:00:00Z"),
                i,
            )
            .to_string();
            let data: Vec<u8> = (0..size).map(|j| (j * 7 + i as usize) as u8).collect();
            fs::write(tmp.path().join(&n), data).unwrap();
            names.push(n);
        }
        fs::write(
            tmp.path()
                .join(SegmentName::partial("bot", ts("2026-11-25T12:00:00Z"), 4).to_string()),
            b"being written",
        )
        .unwrap();
        fs::write(tmp.path().join(".bot.lock"), b"").unwrap();
        let policy = Policy::from_config(&Config::default(), &[tmp.path().to_path_buf()]).unwrap();
        fs::write(&policy.privacy_log, b"").unwrap();
        Setup { tmp, policy, names }
    }

    fn shipper<'a>(s: &'a Setup, fake: Fake, keep: KeepLocal) -> Shipper<'a, Fake> {
        Shipper {
            storage: Fake {
                dir: s.tmp.path().to_path_buf(),
                ..fake
            },
            dir: s.tmp.path().to_path_buf(),
            keep_local: keep,
            hold: false,
            policy: &s.policy,
        }
    }

    fn privacy_lines(s: &Setup) -> Vec<serde_json::Value> {
        fs::read_to_string(&s.policy.privacy_log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn left(s: &Setup) -> BTreeSet<String> {
        fs::read_dir(s.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    }

    const NOW: &str = "2026-11-26T00:00:00Z";

    #[test]
    fn ships_finished_segments_then_deletes_them_each_recorded_as_shipped() {
        let s = setup();
        let mut sh = shipper(&s, Fake::default(), KeepLocal::UntilShipped);
        let out = sh.run(ts(NOW), false).unwrap();
        assert_eq!(out.local, 3);
        assert_eq!(out.shipped, s.names);
        assert!(out.errors.is_empty() && out.conflicts.is_empty() && out.unconfirmed.is_empty());
        assert_eq!(
            sh.storage.remote.keys().cloned().collect::<Vec<_>>(),
            s.names,
            "only finished segments reach the remote: no .partial, lock, privacy log"
        );
        assert!(sh.storage.incoming.is_empty());
        for n in &s.names {
            assert!(!s.tmp.path().join(n).exists(), "{n} kept after shipping");
        }
        assert_eq!(
            left(&s),
            BTreeSet::from([
                ".bot.lock".to_string(),
                "bot.20261125T120000Z.000004.partial".to_string(),
                "privacy-log.jsonl".to_string(),
            ])
        );
        let lines = privacy_lines(&s);
        assert_eq!(lines.len(), 3);
        for (l, n) in lines.iter().zip(&s.names) {
            assert_eq!(l["reason"], "shipped");
            assert_eq!(l["file"], s.tmp.path().join(n).to_str().unwrap());
            assert_eq!(l["remote"], format!("fake:base/h1/{n}"));
            assert!(l["hash"].as_str().unwrap().starts_with("sha256:"));
        }

        // A rerun finds nothing to do and uploads nothing.
        let calls = sh.storage.calls.len();
        let again = sh.run(ts(NOW), false).unwrap();
        assert_eq!(again.local, 0);
        assert_eq!(
            sh.storage.calls.len(),
            calls,
            "no rclone call without segments"
        );
    }

    #[test]
    fn a_cut_upload_is_never_moved_into_place_and_the_rerun_ships_it() {
        let s = setup();
        let fake = Fake {
            cut: BTreeMap::from([(s.names[1].clone(), 1234)]),
            ..Fake::default()
        };
        let mut sh = shipper(&s, fake, KeepLocal::UntilShipped);
        let out = sh.run(ts(NOW), false).unwrap();
        assert_eq!(out.errors.len(), 1, "the upload's failure is reported");
        assert_eq!(
            out.shipped,
            [s.names[0].clone()],
            "what arrived intact is shipped"
        );
        let why: BTreeMap<&String, &String> = out.unconfirmed.iter().map(|(n, w)| (n, w)).collect();
        assert_eq!(why.len(), 2, "{why:?}");
        assert!(
            why[&s.names[1]].contains("1234 bytes on the remote, 5000 here"),
            "{why:?}"
        );
        assert!(
            why[&s.names[2]].contains("not found on the remote"),
            "{why:?}"
        );
        assert!(
            !sh.storage.remote.contains_key(&s.names[1]),
            "a partial object was moved into place"
        );
        assert!(
            sh.storage.incoming.is_empty(),
            "staging leftovers are cleared"
        );
        assert!(!s.tmp.path().join(&s.names[0]).exists());
        assert!(
            s.tmp.path().join(&s.names[1]).exists(),
            "an unconfirmed segment was deleted"
        );
        assert!(s.tmp.path().join(&s.names[2]).exists());
        assert_eq!(privacy_lines(&s).len(), 1);

        // The rerun (rclone not killed this time) ships the rest, and nothing twice.
        sh.storage.cut.clear();
        let out = sh.run(ts(NOW), false).unwrap();
        assert!(out.errors.is_empty());
        assert_eq!(out.shipped, [s.names[1].clone(), s.names[2].clone()]);
        assert_eq!(
            sh.storage.remote.keys().cloned().collect::<Vec<_>>(),
            s.names
        );
        let sizes: Vec<usize> = sh.storage.remote.values().map(Vec::len).collect();
        assert_eq!(sizes, [100, 5000, 10], "whole copies, each once");
        assert_eq!(privacy_lines(&s).len(), 3, "each deletion recorded once");
    }

    #[test]
    fn another_object_under_the_name_is_never_overwritten_and_the_segment_stays() {
        let s = setup();
        // Same size, other bytes (the hash tells) / a partial object left by another tool.
        let mut fake = Fake::default();
        fake.remote.insert(s.names[0].clone(), vec![0u8; 100]);
        fake.remote.insert(s.names[1].clone(), vec![1u8; 10]);
        let mut sh = shipper(&s, fake, KeepLocal::UntilShipped);
        let out = sh.run(ts(NOW), false).unwrap();
        let conflicted: Vec<&String> = out.conflicts.iter().map(|(n, _)| n).collect();
        assert_eq!(
            conflicted,
            [&s.names[1], &s.names[0]],
            "{:?}",
            out.conflicts
        );
        assert!(out
            .conflicts
            .iter()
            .all(|(_, why)| why.contains("never overwritten")));
        assert_eq!(sh.storage.remote[&s.names[0]], vec![0u8; 100]);
        assert_eq!(sh.storage.remote[&s.names[1]], vec![1u8; 10]);
        assert!(s.tmp.path().join(&s.names[0]).exists());
        assert!(s.tmp.path().join(&s.names[1]).exists());
        assert_eq!(out.shipped, [s.names[2].clone()]);
        assert!(!s.tmp.path().join(&s.names[2]).exists());
    }

    #[test]
    fn without_a_hash_to_compare_nothing_is_confirmed_or_deleted() {
        let s = setup();
        let fake = Fake {
            no_hashes: true,
            ..Fake::default()
        };
        let mut sh = shipper(&s, fake, KeepLocal::UntilShipped);
        let out = sh.run(ts(NOW), false).unwrap();
        assert!(out.shipped.is_empty());
        assert_eq!(out.unconfirmed.len(), 3);
        assert!(
            out.unconfirmed[0].1.contains("no hash"),
            "{:?}",
            out.unconfirmed
        );
        assert!(sh.storage.remote.is_empty(), "moved into place unverified");
        for n in &s.names {
            assert!(s.tmp.path().join(n).exists());
        }
        assert!(privacy_lines(&s).is_empty());
    }

    #[test]
    fn a_legal_hold_ships_but_deletes_no_local_copy() {
        let s = setup();
        let mut sh = shipper(&s, Fake::default(), KeepLocal::UntilShipped);
        sh.hold = true;
        let out = sh.run(ts(NOW), false).unwrap();
        assert_eq!(out.shipped, s.names, "shipped all the same");
        assert_eq!(out.kept, 3);
        assert_eq!(out.deletions.as_ref().unwrap().deleted.len(), 0);
        for n in &s.names {
            assert!(s.tmp.path().join(n).exists(), "{n} deleted under a hold");
        }
        assert!(privacy_lines(&s).is_empty());
        // The hold lifted (or --force): the next run deletes them, each recorded.
        sh.hold = false;
        let out = sh.run(ts(NOW), false).unwrap();
        assert_eq!(out.deletions.unwrap().deleted.len(), 3);
        assert_eq!(privacy_lines(&s).len(), 3);
    }

    #[test]
    fn keep_local_keeps_shipped_segments_until_their_last_record_is_old_enough() {
        let s = setup();
        let keep = KeepLocal::For(Duration::from_secs(7 * 86_400));
        let mut sh = shipper(&s, Fake::default(), keep);
        let out = sh.run(ts(NOW), false).unwrap();
        assert_eq!(out.shipped.len(), 3);
        assert_eq!(out.kept, 3);
        assert_eq!(out.deletions.as_ref().unwrap().deleted.len(), 0);
        // Exactly 7 days after the last record: still kept; a second later: deleted, after a hash check.
        let calls_before = sh.storage.calls.len();
        let out = sh.run(ts("2026-12-02T11:00:00Z"), false).unwrap();
        assert_eq!((out.already, out.kept), (3, 3));
        assert_eq!(
            sh.storage.calls[calls_before..],
            ["list Final"],
            "a size check only, no hashing, before it is due"
        );
        let calls_before = sh.storage.calls.len();
        let out = sh.run(ts("2026-12-02T11:00:01Z"), false).unwrap();
        assert_eq!(out.deletions.unwrap().deleted.len(), 3);
        assert!(sh.storage.calls[calls_before..]
            .iter()
            .any(|c| c == "local"));
        assert!(!sh.storage.calls[calls_before..]
            .iter()
            .any(|c| c == "upload"));
        assert_eq!(privacy_lines(&s).len(), 3);
    }

    #[test]
    fn a_dry_run_uploads_and_deletes_nothing() {
        let s = setup();
        let mut fake = Fake::default();
        let data = fs::read(s.tmp.path().join(&s.names[2])).unwrap();
        fake.remote.insert(s.names[2].clone(), data);
        let mut sh = shipper(&s, fake, KeepLocal::UntilShipped);
        let out = sh.run(ts(NOW), true).unwrap();
        assert_eq!(out.shipped, s.names[..2]);
        let would = out.deletions.unwrap();
        assert!(would.dry_run);
        assert_eq!(would.deleted.len(), 1, "the confirmed one would go");
        assert!(!sh
            .storage
            .calls
            .iter()
            .any(|c| c == "upload" || c == "move" || c == "clear"));
        assert_eq!(sh.storage.remote.len(), 1);
        for n in &s.names {
            assert!(s.tmp.path().join(n).exists());
        }
        assert!(privacy_lines(&s).is_empty());
    }

    #[test]
    fn compare_needs_equal_size_and_a_shared_equal_hash() {
        let o = |size, h: &[(&str, &str)]| Object {
            name: "x".into(),
            size,
            hashes: h
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let local = o(3, &[("md5", "aa"), ("sha1", "bb")]);
        assert_eq!(
            compare(&local, &o(3, &[("md5", "aa")])),
            Verdict::Same("md5:aa".into())
        );
        assert!(matches!(
            compare(&local, &o(4, &[("md5", "aa")])),
            Verdict::Differs(_)
        ));
        assert!(matches!(
            compare(&local, &o(3, &[("md5", "aa"), ("sha1", "cc")])),
            Verdict::Differs(_)
        ));
        assert!(matches!(
            compare(&local, &o(3, &[("crc32", "1")])),
            Verdict::Unverifiable(_)
        ));
        assert!(matches!(
            compare(&local, &o(-1, &[("md5", "aa")])),
            Verdict::Unverifiable(_)
        ));
    }

    #[test]
    fn one_ship_at_a_time_per_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let held = lock_dir(tmp.path()).unwrap();
        assert!(matches!(lock_dir(tmp.path()), Err(ShipError::Busy { .. })));
        drop(held);
        lock_dir(tmp.path()).unwrap();
    }
}
