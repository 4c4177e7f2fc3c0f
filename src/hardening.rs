//! Process hardening done first thing in `main`, before any input is read.
//!
//! - Not dumpable (`prctl(PR_SET_DUMPABLE, 0)`) and `RLIMIT_CORE` 0: logveil's memory holds unredacted
//!   input, so a crash (an abort, an out-of-memory abort) must not write it to a core file, and no other
//!   process of the same user may ptrace it or read its memory through /proc.
//! - The soft limit of open files raised to the hard limit: `tail` keeps a few descriptors per source
//!   (the file, its segment's `.partial`, the stream lock), and systemd's default soft limit (1024) is too
//!   low for a few hundred sources. The packaged units also set `LimitNOFILE=` and `LimitCORE=0`.

use std::sync::OnceLock;

use rustix::process::{self, DumpableBehavior, Resource, Rlimit};

/// What [`at_start`] could not do, logged by [`log_outcome`] once logging is set up.
static PROBLEMS: OnceLock<Vec<String>> = OnceLock::new();

/// Makes the process non-dumpable, forbids core files and raises the open-files soft limit.
pub fn at_start() {
    let mut problems = Vec::new();
    if let Err(e) = process::set_dumpable_behavior(DumpableBehavior::NotDumpable) {
        problems.push(format!("cannot make the process non-dumpable: {e}"));
    }
    let no_core = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    if let Err(e) = process::setrlimit(Resource::Core, no_core) {
        problems.push(format!("cannot set the core file size limit to 0: {e}"));
    }
    let files = process::getrlimit(Resource::Nofile);
    if files.current != files.maximum {
        let raised = Rlimit {
            current: files.maximum,
            maximum: files.maximum,
        };
        if let Err(e) = process::setrlimit(Resource::Nofile, raised) {
            problems.push(format!(
                "cannot raise the open-files limit from {} to {}: {e}",
                show(files.current),
                show(files.maximum)
            ));
        }
    }
    let _ = PROBLEMS.set(problems);
}

fn show(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unlimited".into(), |n| n.to_string())
}

/// Logs what [`at_start`] could not do (a sandbox may forbid `setrlimit`: the unit's limits apply then).
pub fn log_outcome() {
    for p in PROBLEMS.get().into_iter().flatten() {
        tracing::debug!("start: {p}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_start_the_process_is_not_dumpable_and_may_open_up_to_the_hard_limit() {
        at_start();
        assert_eq!(
            process::dumpable_behavior().unwrap(),
            DumpableBehavior::NotDumpable
        );
        assert_eq!(process::getrlimit(Resource::Core).current, Some(0));
        let files = process::getrlimit(Resource::Nofile);
        assert_eq!(files.current, files.maximum);
    }
}
