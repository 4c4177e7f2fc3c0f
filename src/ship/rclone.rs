//! The storage side of `logveil ship`, through the `rclone` CLI: list (`lsjson`), upload to staging
//! (`copy`), move into place (`move --immutable`), empty staging (`delete`). File lists go to rclone on
//! its stdin (`--files-from-raw -`): no temporary files.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use serde::Deserialize;

use super::{join_remote, INCOMING_DIR};

/// One file or object as `rclone lsjson` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub name: String,
    /// Bytes; -1 when the remote does not know.
    pub size: i64,
    /// Hash type (rclone's lower-case name, e.g. `md5`, `sha1`) to hex value; empty values are dropped.
    pub hashes: BTreeMap<String, String>,
}

/// Where on the remote: the final place (`REMOTE/HOST/`) or staging (`REMOTE/.incoming/HOST/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Final,
    Incoming,
}

/// What a ship run needs from storage. [`Rclone`] is the real one.
pub trait Storage {
    /// Those of `names` present at `place` (name -> object), with hashes when `hashes` is set. A place
    /// that does not exist yet is empty.
    fn list(
        &mut self,
        place: Place,
        names: &[String],
        hashes: bool,
    ) -> Result<BTreeMap<String, Object>, RcloneError>;
    /// Sizes and the hashes of `types` of the local files `names` (rclone computes them).
    fn local(
        &mut self,
        names: &[String],
        types: &[String],
    ) -> Result<BTreeMap<String, Object>, RcloneError>;
    /// Copies the local files `names` to staging (replacing what staging holds under those names).
    fn upload(&mut self, names: &[String]) -> Result<(), RcloneError>;
    /// Moves `names` from staging to the final place; an existing final object is never replaced.
    fn move_into_place(&mut self, names: &[String]) -> Result<(), RcloneError>;
    /// Deletes everything left in this host's staging.
    fn clear_incoming(&mut self) -> Result<(), RcloneError>;
    /// `REMOTE/HOST/NAME`, for messages and the privacy log.
    fn final_path(&self, name: &str) -> String;
}

/// rclone failed. Names the operation, never file contents.
#[derive(Debug, thiserror::Error)]
pub enum RcloneError {
    #[error("cannot run {program}: {error} (rclone is the Debian package `rclone`)")]
    Spawn {
        program: String,
        error: std::io::Error,
    },
    #[error("rclone {what}: {status}")]
    Failed { what: String, status: String },
    #[error("rclone {what}: unreadable output: {message}")]
    Output { what: String, message: String },
}

/// rclone's exit code 3: directory not found (documented in `rclone --help`, "Exit Code").
const EXIT_DIR_NOT_FOUND: i32 = 3;

/// Runs the `rclone` program against one local segment directory and one `REMOTE/HOST`.
#[derive(Debug, Clone)]
pub struct Rclone {
    pub program: PathBuf,
    pub config: PathBuf,
    pub local_dir: PathBuf,
    /// `REMOTE:PATH/HOST`.
    pub final_dir: String,
    /// `REMOTE:PATH/.incoming/HOST`.
    pub incoming_dir: String,
}

impl Rclone {
    pub fn new(
        program: &Path,
        config: &Path,
        local_dir: &Path,
        remote: &str,
        host: &str,
    ) -> Rclone {
        Rclone {
            program: program.to_path_buf(),
            config: config.to_path_buf(),
            local_dir: local_dir.to_path_buf(),
            final_dir: join_remote(remote, host),
            incoming_dir: join_remote(remote, &format!("{INCOMING_DIR}/{host}")),
        }
    }

    fn place(&self, place: Place) -> &str {
        match place {
            Place::Final => &self.final_dir,
            Place::Incoming => &self.incoming_dir,
        }
    }

    /// Runs `rclone --config CONF ARGS...` with `names` (one per line) on stdin, stdout and stderr
    /// captured (see [`check`] for where stderr goes).
    fn run(&self, what: &str, args: &[OsString], names: &[String]) -> Result<Ran, RcloneError> {
        let mut cmd = Command::new(&self.program);
        cmd.arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        tracing::debug!(what, files = names.len(), "ship: running rclone");
        let mut child = cmd.spawn().map_err(|error| RcloneError::Spawn {
            program: self.program.display().to_string(),
            error,
        })?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let list: Vec<u8> = names
            .iter()
            .flat_map(|n| format!("{n}\n").into_bytes())
            .collect();
        // A thread, so that a large list cannot block against a full stdout pipe.
        let writer = std::thread::Builder::new()
            .name("logveil-ship-list".into())
            .spawn(move || {
                let _ = stdin.write_all(&list);
            })
            .map_err(|error| RcloneError::Spawn {
                program: "a thread".into(),
                error,
            })?;
        let out = child
            .wait_with_output()
            .map_err(|error| RcloneError::Spawn {
                program: self.program.display().to_string(),
                error,
            })?;
        let _ = writer.join();
        Ok(Ran {
            status: out.status,
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    fn lsjson(
        &self,
        what: &str,
        target: OsString,
        names: &[String],
        hash_types: Option<&[String]>,
    ) -> Result<BTreeMap<String, Object>, RcloneError> {
        let mut args: Vec<OsString> = vec![
            "lsjson".into(),
            "--files-only".into(),
            "--no-mimetype".into(),
            "--files-from-raw".into(),
            "-".into(),
        ];
        match hash_types {
            Some([]) => args.push("--hash".into()),
            Some(types) => {
                for t in types {
                    args.push("--hash-type".into());
                    args.push(t.into());
                }
            }
            None => {}
        }
        args.push(target);
        let ran = self.run(what, &args, names)?;
        if ran.status.code() == Some(EXIT_DIR_NOT_FOUND) {
            return Ok(BTreeMap::new());
        }
        check(what, &ran)?;
        let objects = parse_lsjson(&ran.stdout).map_err(|message| RcloneError::Output {
            what: what.to_string(),
            message,
        })?;
        Ok(objects
            .into_iter()
            .filter(|o| names.contains(&o.name))
            .map(|o| (o.name.clone(), o))
            .collect())
    }
}

impl Storage for Rclone {
    fn list(
        &mut self,
        place: Place,
        names: &[String],
        hashes: bool,
    ) -> Result<BTreeMap<String, Object>, RcloneError> {
        let target = self.place(place).to_string();
        let what = format!("lsjson {target}");
        self.lsjson(&what, target.into(), names, hashes.then_some(&[][..]))
    }

    fn local(
        &mut self,
        names: &[String],
        types: &[String],
    ) -> Result<BTreeMap<String, Object>, RcloneError> {
        let what = format!("lsjson --hash {}", self.local_dir.display());
        // A bare path would be read as a remote name if it held a ':'; `./` or `/` cannot.
        let target = local_target(&self.local_dir);
        self.lsjson(&what, target, names, Some(types))
    }

    fn upload(&mut self, names: &[String]) -> Result<(), RcloneError> {
        let what = format!("copy to {}", self.incoming_dir);
        let args: Vec<OsString> = vec![
            "copy".into(),
            // Staging copies are compared by hash, so a stale one of the right size is replaced too.
            "--checksum".into(),
            "--files-from-raw".into(),
            "-".into(),
            local_target(&self.local_dir),
            self.incoming_dir.clone().into(),
        ];
        let ran = self.run(&what, &args, names)?;
        check(&what, &ran)
    }

    fn move_into_place(&mut self, names: &[String]) -> Result<(), RcloneError> {
        let what = format!("move {} to {}", self.incoming_dir, self.final_dir);
        let args: Vec<OsString> = vec![
            "move".into(),
            "--immutable".into(),
            "--checksum".into(),
            "--files-from-raw".into(),
            "-".into(),
            self.incoming_dir.clone().into(),
            self.final_dir.clone().into(),
        ];
        let ran = self.run(&what, &args, names)?;
        check(&what, &ran)
    }

    fn clear_incoming(&mut self) -> Result<(), RcloneError> {
        let what = format!("delete {}", self.incoming_dir);
        let args: Vec<OsString> = vec!["delete".into(), self.incoming_dir.clone().into()];
        let ran = self.run(&what, &args, &[])?;
        if ran.status.code() == Some(EXIT_DIR_NOT_FOUND) {
            return Ok(());
        }
        check(&what, &ran)
    }

    fn final_path(&self, name: &str) -> String {
        join_remote(&self.final_dir, name)
    }
}

fn local_target(dir: &Path) -> OsString {
    if dir.is_absolute() {
        dir.as_os_str().to_os_string()
    } else {
        Path::new(".").join(dir).into_os_string()
    }
}

/// What an rclone run left.
struct Ran {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// An error unless rclone succeeded. rclone's own stderr (which names remotes and files, nothing else) is
/// passed on when it failed, and logged at debug level when it did not (e.g. the "directory not found"
/// of a first listing, which is no error here).
fn check(what: &str, ran: &Ran) -> Result<(), RcloneError> {
    let text = String::from_utf8_lossy(&ran.stderr);
    if ran.status.success() {
        for line in text.lines() {
            tracing::debug!(what, "rclone: {line}");
        }
        return Ok(());
    }
    for line in text.lines() {
        eprintln!("rclone: {line}");
    }
    Err(RcloneError::Failed {
        what: what.to_string(),
        status: describe(ran.status),
    })
}

/// `exit code 5 (temporary error)`, `killed by signal 9`.
pub fn describe(status: ExitStatus) -> String {
    if let Some(sig) = status.signal() {
        return format!("killed by signal {sig}");
    }
    let code = status.code().unwrap_or(-1);
    // rclone's documented exit codes.
    let meaning = match code {
        1 => "syntax or usage error",
        2 => "error not otherwise categorised",
        3 => "directory not found",
        4 => "file not found",
        5 => "temporary error: a retry might fix it",
        6 => "less serious errors, e.g. 461 errors from dropbox",
        7 => "fatal error: retries will not fix it",
        8 => "transfer exceeded",
        9 => "no files transferred",
        _ => "unknown exit code",
    };
    format!("exit code {code} ({meaning})")
}

#[derive(Debug, Deserialize)]
struct RawEntry {
    #[serde(rename = "Path")]
    path: String,
    #[serde(rename = "Name", default)]
    name: Option<String>,
    #[serde(rename = "Size", default = "unknown_size")]
    size: i64,
    #[serde(rename = "IsDir", default)]
    is_dir: bool,
    #[serde(rename = "Hashes", default)]
    hashes: BTreeMap<String, String>,
}

fn unknown_size() -> i64 {
    -1
}

/// An entry of `rclone lsjson` output: the path relative to the listed root, and the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    pub path: String,
    pub object: Object,
}

/// Parses `rclone lsjson [-R] [--hash]` output (a JSON array); directories are left out.
pub fn parse_lsjson_paths(json: &[u8]) -> Result<Vec<ListedObject>, String> {
    let entries: Vec<RawEntry> = serde_json::from_slice(json).map_err(|e| {
        format!("not `rclone lsjson` output (a JSON array of objects with Path, Size, ...): {e}")
    })?;
    Ok(entries
        .into_iter()
        .filter(|e| !e.is_dir)
        .map(|e| {
            let name = e.name.unwrap_or_else(|| {
                e.path
                    .rsplit('/')
                    .next()
                    .unwrap_or(e.path.as_str())
                    .to_string()
            });
            ListedObject {
                path: e.path,
                object: Object {
                    name,
                    size: e.size,
                    hashes: e
                        .hashes
                        .into_iter()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_ascii_lowercase()))
                        .collect(),
                },
            }
        })
        .collect())
}

fn parse_lsjson(json: &[u8]) -> Result<Vec<Object>, String> {
    Ok(parse_lsjson_paths(json)?
        .into_iter()
        .map(|o| o.object)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsjson_output_parses_with_and_without_hashes() {
        let json = br#"[
{"Path":"h1/a.log.gz.age","Name":"a.log.gz.age","Size":3,"ModTime":"2026-12-06T04:30:05Z","IsDir":false,"Hashes":{"md5":"ABC","sha1":""}},
{"Path":"h1","Name":"h1","Size":-1,"ModTime":"2026-12-06T04:30:05Z","IsDir":true},
{"Path":"b","Size":-1,"IsDir":false}
]"#;
        let v = parse_lsjson_paths(json).unwrap();
        assert_eq!(v.len(), 2, "the directory is left out");
        assert_eq!(v[0].path, "h1/a.log.gz.age");
        assert_eq!(v[0].object.name, "a.log.gz.age");
        assert_eq!(v[0].object.size, 3);
        assert_eq!(
            v[0].object.hashes,
            BTreeMap::from([("md5".to_string(), "abc".to_string())]),
            "lower case; empty hashes dropped"
        );
        assert_eq!(v[1].object.name, "b");
        assert_eq!(v[1].object.size, -1);
        assert!(v[1].object.hashes.is_empty());
        assert!(parse_lsjson_paths(b"[").is_err());
        assert!(parse_lsjson_paths(b"{}").is_err());
    }

    #[test]
    fn exit_statuses_are_described() {
        let st = |raw: i32| ExitStatus::from_raw(raw);
        assert_eq!(
            describe(st(5 << 8)),
            "exit code 5 (temporary error: a retry might fix it)"
        );
        assert_eq!(describe(st(9)), "killed by signal 9");
    }

    #[test]
    fn staging_is_a_sibling_prefix_of_the_hosts() {
        let r = Rclone::new(
            Path::new("rclone"),
            Path::new("/etc/logveil/rclone.conf"),
            Path::new("seg"),
            "s3:b/logveil",
            "h1",
        );
        assert_eq!(r.final_dir, "s3:b/logveil/h1");
        assert_eq!(r.incoming_dir, "s3:b/logveil/.incoming/h1");
        assert_eq!(r.final_path("x"), "s3:b/logveil/h1/x");
        assert_eq!(local_target(Path::new("a:b")), OsString::from("./a:b"));
    }
}
