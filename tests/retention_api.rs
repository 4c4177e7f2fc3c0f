//! The in-process retention API that `pipe` and `tail` call: Policy, plan/apply, Scheduler, run_loop.

use std::fs;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use logveil::config::Config;
use logveil::retention::{self, Deletion, Plan, Policy, Reason};
use logveil::sink::name::SegmentName;

fn expired_segment(dir: &std::path::Path, seq: u64) -> PathBuf {
    let t: Timestamp = "2020-01-01T00:00:00Z".parse().unwrap();
    let p = dir.join(SegmentName::sealed("bot", t, t, seq).to_string());
    fs::write(&p, b"sealed bytes").unwrap();
    p
}

#[test]
fn run_loop_runs_at_start_and_stops_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let seg = expired_segment(dir.path(), 1);
    let policy = Policy::from_config(&Config::default(), &[dir.path().to_path_buf()]).unwrap();
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || retention::run_loop(&policy, &rx));
    let deadline = Instant::now() + Duration::from_secs(30);
    while seg.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!seg.exists(), "the first run happens at start");
    tx.send(()).unwrap();
    handle.join().unwrap();
    let log = fs::read_to_string(dir.path().join(retention::DEFAULT_PRIVACY_LOG_NAME)).unwrap();
    assert_eq!(log.lines().count(), 1);
}

#[test]
fn run_loop_does_nothing_when_auto_delete_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let seg = expired_segment(dir.path(), 1);
    let cfg = Config::from_yaml_str(
        "privacy:\n  data_retention:\n    logs: { retention_days: 90, auto_rotate: false }\n",
    )
    .unwrap();
    let policy = Policy::from_config(&cfg, &[dir.path().to_path_buf()]).unwrap();
    assert!(!policy.auto_delete);
    let (_tx, rx) = mpsc::channel::<()>();
    // Returns at once instead of waiting for the stop message.
    retention::run_loop(&policy, &rx);
    assert!(seg.exists());
}

#[test]
fn scheduler_with_run_once_from_a_loop() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy::from_config(&Config::default(), &[dir.path().to_path_buf()]).unwrap();
    let t0 = Instant::now();
    let mut sched = retention::Scheduler::new(policy.interval, t0);
    let mut runs = 0;
    // A simulated 3 hours of a pipe loop ticking every minute: hourly runs at 0, 1h, 2h, 3h.
    for minute in 0..=180u64 {
        if sched.poll(t0 + Duration::from_secs(minute * 60)) {
            expired_segment(dir.path(), minute);
            let report = policy.run_once(Timestamp::now()).unwrap();
            assert_eq!(report.deleted.len(), 1);
            runs += 1;
        }
    }
    assert_eq!(runs, 4);
    let log = fs::read_to_string(&policy.privacy_log).unwrap();
    assert_eq!(log.lines().count(), 4);
}

#[test]
fn a_failed_deletion_is_reported_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy::from_config(&Config::default(), &[dir.path().to_path_buf()]).unwrap();
    // A directory cannot be removed with remove_file, even by root.
    let not_a_file = dir.path().join("subdir");
    fs::create_dir(&not_a_file).unwrap();
    let real = expired_segment(dir.path(), 2);
    let reason = Reason::Quota { max_total_bytes: 0 };
    let plan = Plan {
        deletions: vec![
            Deletion {
                path: not_a_file.clone(),
                bytes: 0,
                reason: reason.clone(),
            },
            Deletion {
                path: real.clone(),
                bytes: 12,
                reason,
            },
        ],
        ..Plan::default()
    };
    let report = policy.apply(plan, Timestamp::now()).unwrap();
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0.path, not_a_file);
    assert_eq!(report.deleted.len(), 1);
    assert!(!real.exists());
    let log = fs::read_to_string(&policy.privacy_log).unwrap();
    assert_eq!(
        log.lines().count(),
        1,
        "only the deletion that happened is recorded"
    );
}

#[test]
fn nothing_is_deleted_when_the_privacy_log_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let seg = expired_segment(dir.path(), 1);
    let mut policy = Policy::from_config(&Config::default(), &[dir.path().to_path_buf()]).unwrap();
    // A directory where the log file should be: open() fails.
    policy.privacy_log = dir.path().join("log-is-a-dir");
    fs::create_dir(&policy.privacy_log).unwrap();
    let err = policy.run_once(Timestamp::now()).unwrap_err();
    assert!(
        err.to_string().starts_with("retention: privacy log"),
        "{err}"
    );
    assert!(seg.exists());
}
