//! `.ci/run` in a contributor's clone: it sets CI itself (so missing tools fail), but tests that need
//! ../shared must then skip, not fail; under the real CI (CI set by the caller) they must fail.

mod common;

use std::process::Command;

/// `CI` and `LOGVEIL_SHARED_OPTIONAL` after sourcing .ci/env.sh with `CI` as given (None: unset).
fn env_after(ci: Option<&str>) -> (String, String) {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(". .ci/env.sh; printf '%s\\n%s\\n' \"$CI\" \"${LOGVEIL_SHARED_OPTIONAL:-}\"")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CI")
        .env_remove("LOGVEIL_SHARED_OPTIONAL");
    if let Some(v) = ci {
        cmd.env("CI", v);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success());
    let out = String::from_utf8(o.stdout).unwrap();
    let mut l = out.lines();
    (
        l.next().unwrap_or("").to_owned(),
        l.next().unwrap_or("").to_owned(),
    )
}

#[test]
fn ci_run_sets_ci_but_lets_shared_be_missing_only_when_the_caller_did_not_set_ci() {
    // A contributor: CI unset.
    let (ci, optional) = env_after(None);
    assert_eq!(ci, "1");
    assert!(common::shared_optional(Some(&ci), Some(&optional)));
    // The real CI: CI=true.
    let (ci, optional) = env_after(Some("true"));
    assert_eq!(ci, "true");
    assert!(!common::shared_optional(Some(&ci), Some(&optional)));
    // Plain `cargo test` without CI.
    assert!(common::shared_optional(None, None));
}

#[test]
fn ci_run_sources_the_environment_file() {
    let run = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(run.contains("\n. .ci/env.sh\n"), "{run}");
    assert!(
        !run.contains("export CI="),
        "CI is set in one place, .ci/env.sh"
    );
}
