//! Off the host: `logveil ship` copies finished sealed segments to object storage with rclone, confirms
//! each copy (size and hash, as rclone reports them), and only then deletes the local copy, recording the
//! deletion in the privacy log with the reason `shipped`.
//!
//! Why logveil drives rclone instead of a bare `rclone move` in a unit: the deletion decision (confirmed on
//! the remote, due under `keep_local`) and its record in the privacy log have to be made by the program
//! that owns the privacy log; `rclone move` deletes without telling anyone. rclone still does all the
//! talking to the storage (S3, OSS, COS, SFTP, WebDAV, ...), with the operator's own `rclone.conf`.
//!
//! A run, for one segment directory, under an exclusive `flock` of that directory (one ship at a time):
//! 1. list the finished segments (`*.log.gz.age` names that parse; never `.partial`, locks, checkpoints,
//!    the privacy log). A `.partial` renamed during the run is not in the list: the next run ships it.
//! 2. `rclone lsjson` of `REMOTE/HOST/`: what is there already. A name there with another size is a
//!    conflict: it is never overwritten, and the local copy is kept.
//! 3. `rclone copy` of the missing ones to `REMOTE/.incoming/HOST/` (a staging prefix), then `rclone lsjson
//!    --hash` there: only copies whose size and hash equal the local file's are moved into place
//!    (`rclone move --immutable`, a server-side rename or copy). So a final name never holds a partial
//!    object, even when rclone is killed mid-upload; the rerun uploads the segment again to staging.
//! 4. `rclone lsjson --hash` of the final names: a segment whose remote copy has its size and hash is
//!    confirmed. Confirmed segments due under `keep_local` are deleted locally, each recorded.
//! 5. the host's staging prefix is emptied (leftovers of failed or killed uploads).

mod rclone;
pub mod remote_retention;
mod run;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigError;
use crate::stream_name::sanitize_stream;
use crate::units::{format_duration, parse_duration};

pub use rclone::{Object, Place, Rclone, RcloneError, Storage};
pub use run::{compare, lock_dir, Outcome, Shipper, Verdict};

/// rclone's config (remotes and their credentials) when `logveil.ship.rclone_config` names none.
pub const DEFAULT_RCLONE_CONFIG: &str = "/etc/logveil/rclone.conf";
/// The staging prefix under the remote path; uploads land here and are moved into place once verified.
pub const INCOMING_DIR: &str = ".incoming";

/// How long a shipped segment stays on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepLocal {
    /// Deleted as soon as the remote copy is confirmed.
    UntilShipped,
    /// Kept until its last record is this old, then deleted once the remote copy is confirmed.
    For(Duration),
}

impl std::fmt::Display for KeepLocal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeepLocal::UntilShipped => f.write_str("until_shipped"),
            KeepLocal::For(d) => f.write_str(&format_duration(*d)),
        }
    }
}

impl std::str::FromStr for KeepLocal {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim() == "until_shipped" {
            return Ok(KeepLocal::UntilShipped);
        }
        match parse_duration(s) {
            Ok(d) if d.is_zero() => Err(format!(
                "{s:?}: a zero duration; write until_shipped to delete as soon as the remote has it"
            )),
            Ok(d) => Ok(KeepLocal::For(d)),
            Err(e) => Err(format!("{e} (or until_shipped)")),
        }
    }
}

/// `logveil.ship`: where and how finished segments leave the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipConfig {
    /// rclone `REMOTE:PATH` (a remote named in the rclone config); segments go to `PATH/HOST/`.
    pub remote: Option<String>,
    /// rclone's config file.
    pub rclone_config: PathBuf,
    /// The host prefix in the remote path (None: this host's name).
    pub host: Option<String>,
    pub keep_local: KeepLocal,
}

impl Default for ShipConfig {
    fn default() -> Self {
        ShipConfig {
            remote: None,
            rclone_config: PathBuf::from(DEFAULT_RCLONE_CONFIG),
            host: None,
            keep_local: KeepLocal::UntilShipped,
        }
    }
}

/// The YAML shape of `logveil.ship`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShip {
    #[serde(default)]
    remote: Option<String>,
    #[serde(default)]
    rclone_config: Option<PathBuf>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    keep_local: Option<String>,
}

impl ShipConfig {
    /// Validates `logveil.ship`.
    pub fn resolve(raw: RawShip) -> Result<ShipConfig, ConfigError> {
        let mut c = ShipConfig::default();
        if let Some(r) = raw.remote {
            c.remote =
                Some(check_remote(&r).map_err(|e| ConfigError::new("logveil.ship.remote", e))?);
        }
        if let Some(p) = raw.rclone_config {
            c.rclone_config = p;
        }
        if let Some(h) = raw.host {
            c.host = Some(check_host(&h).map_err(|e| ConfigError::new("logveil.ship.host", e))?);
        }
        if let Some(k) = raw.keep_local {
            c.keep_local = k
                .parse()
                .map_err(|e| ConfigError::new("logveil.ship.keep_local", e))?;
        }
        Ok(c)
    }
}

/// A remote must be `NAME:PATH` with NAME defined in the rclone config. Connection strings
/// (`:s3,access_key_id=...:bucket`, `name,param=...:path`) are refused: their parameters are credentials,
/// and the remote's name goes into logs and the privacy log.
pub fn check_remote(remote: &str) -> Result<String, String> {
    let r = remote.trim();
    let Some((name, _path)) = r.split_once(':') else {
        return Err(format!(
            "{r:?} is not an rclone REMOTE:PATH (e.g. s3-logs:my-bucket/logveil)"
        ));
    };
    if name.is_empty() || name.contains(',') {
        // Not echoed: the text may hold a key.
        return Err(
            "name a remote defined in the rclone config (NAME:PATH); inline backend \
             parameters (`:backend,...:` or `name,key=value:`) would put credentials into logs"
                .to_string(),
        );
    }
    if name.contains('/') || name.starts_with('-') {
        return Err(format!("{r:?}: {name:?} is not an rclone remote name"));
    }
    Ok(r.to_string())
}

/// A host prefix: one path component of letters, digits, `-`, `_`, `.` (not starting with `.`).
pub fn check_host(host: &str) -> Result<String, String> {
    let h = host.trim();
    if h.is_empty() || sanitize_stream(h) != h {
        return Err(format!(
            "{h:?} is not a host prefix: use letters, digits, '-', '_' and '.', not starting or ending with '.'"
        ));
    }
    Ok(h.to_string())
}

/// This host's name (the kernel's node name), made a valid prefix.
pub fn this_host() -> String {
    let uname = rustix::system::uname();
    sanitize_stream(&uname.nodename().to_string_lossy())
}

/// `REMOTE` joined with `rest` (no doubled `/`; `remote:` alone is the remote's root).
pub fn join_remote(remote: &str, rest: &str) -> String {
    if remote.ends_with(':') || remote.ends_with('/') {
        format!("{remote}{rest}")
    } else {
        format!("{remote}/{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_local_reads_until_shipped_or_a_duration_and_refuses_zero() {
        assert_eq!("until_shipped".parse(), Ok(KeepLocal::UntilShipped));
        assert_eq!(
            "7d".parse(),
            Ok(KeepLocal::For(Duration::from_secs(7 * 86_400)))
        );
        assert!("0s"
            .parse::<KeepLocal>()
            .unwrap_err()
            .contains("until_shipped"));
        assert!("soon".parse::<KeepLocal>().is_err());
        assert_eq!(
            KeepLocal::For(Duration::from_secs(86_400)).to_string(),
            "1d"
        );
    }

    #[test]
    fn remotes_are_named_remotes_never_connection_strings() {
        assert_eq!(
            check_remote("s3:bucket/logveil").unwrap(),
            "s3:bucket/logveil"
        );
        assert_eq!(check_remote("sftp-backup:").unwrap(), "sftp-backup:");
        for bad in [
            "/var/backup",
            ":s3,access_key_id=AKIA:bucket",
            "s3,secret_access_key=x:bucket",
            ":local:/tmp",
            "a/b:c",
        ] {
            assert!(check_remote(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts_are_one_plain_path_component() {
        assert_eq!(
            check_host("web-1.example.com").unwrap(),
            "web-1.example.com"
        );
        for bad in ["", "a/b", "..", ".hidden", "a b", "x\ny"] {
            assert!(check_host(bad).is_err(), "{bad:?}");
        }
        assert!(check_host(&this_host()).is_ok());
    }

    #[test]
    fn remote_paths_join_without_doubled_separators() {
        assert_eq!(join_remote("s3:b/logveil", "h"), "s3:b/logveil/h");
        assert_eq!(join_remote("s3:b/", "h"), "s3:b/h");
        assert_eq!(join_remote("sftp:", "h"), "sftp:h");
    }

    #[test]
    fn the_yaml_block_is_validated_with_its_key_path() {
        let cfg = crate::config::Config::from_yaml_str(
            "logveil:\n  ship:\n    remote: s3:b/x\n    host: h1\n    keep_local: 3d\n",
        )
        .unwrap();
        assert_eq!(cfg.ship.remote.as_deref(), Some("s3:b/x"));
        assert_eq!(cfg.ship.host.as_deref(), Some("h1"));
        assert_eq!(
            cfg.ship.keep_local,
            KeepLocal::For(Duration::from_secs(3 * 86_400))
        );
        assert_eq!(cfg.ship.rclone_config, PathBuf::from(DEFAULT_RCLONE_CONFIG));
        let err = crate::config::Config::from_yaml_str(
            "logveil:\n  ship:\n    remote: ':s3,secret_access_key=k:b'\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("logveil.ship.remote"), "{err}");
        assert!(!err.to_string().contains("=k"), "{err}");
        let err = crate::config::Config::from_yaml_str("logveil:\n  ship:\n    remte: s3:b\n")
            .unwrap_err();
        assert!(err.to_string().contains("remte"), "{err}");
    }
}
