//! `logveil generate man|completions --out DIR` (hidden; the Debian package ships its output).

mod packaging_support;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use clap::CommandFactory;
use packaging_support::*;

fn generate(what: &str, out: &Path) -> Vec<String> {
    let o = run_ok(
        Command::new(bin())
            .args(["generate", what, "--out"])
            .arg(out),
        "logveil generate",
    );
    text(&o.stdout).lines().map(str::to_owned).collect()
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// `logveil-config-check` for `config check`: every visible (sub)command, from the clap definitions.
fn visible_commands() -> BTreeSet<String> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut BTreeSet<String>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = format!("{prefix}-{}", sub.get_name());
            out.insert(name.clone());
            walk(sub, &name, out);
        }
    }
    let mut out = BTreeSet::new();
    walk(&logveil::cli::Cli::command(), "logveil", &mut out);
    out
}

#[test]
fn man_pages_cover_every_visible_command_and_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new/man");
    let listed = generate("man", &out);

    let mut want: BTreeSet<String> = visible_commands()
        .into_iter()
        .map(|c| format!("{c}.1"))
        .collect();
    want.insert("logveil.1".into());
    assert!(want.contains("logveil-config-check.1") && want.contains("logveil-seal.1"));
    let on_disk: BTreeSet<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        on_disk, want,
        "one page per visible command, none for `generate`"
    );
    let listed: BTreeSet<String> = listed.into_iter().collect();
    let want_listed: BTreeSet<String> = want
        .iter()
        .map(|n| out.join(n).display().to_string())
        .collect();
    assert_eq!(listed, want_listed, "stdout lists the files written");

    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&dir.path().join("new")), 0o700);
    for name in &want {
        let p = out.join(name);
        assert_eq!(mode(&p), 0o600, "{name}");
        let page = fs::read_to_string(&p).unwrap();
        let title = name.trim_end_matches(".1");
        assert!(page.contains("\n.TH "), "{name}: has a .TH title line");
        let version = format!("\"logveil {}\"", env!("CARGO_PKG_VERSION"));
        assert!(page.contains(&version), "{name}: source {version}");
        assert!(page.contains(".SH NAME"), "{name}: NAME section");
        assert!(
            page.contains(&title.replace('-', "\\-")),
            "{name}: names {title}"
        );
    }
}

#[test]
fn top_man_page_has_exit_status_environment_and_files() {
    let dir = tempfile::tempdir().unwrap();
    generate("man", dir.path());
    let page = fs::read_to_string(dir.path().join("logveil.1")).unwrap();
    let section = |name: &str| {
        let start = page
            .find(&format!(".SH {name}\n"))
            .unwrap_or_else(|| panic!("no {name} section"));
        let rest = &page[start + 4..];
        let end = rest.find("\n.SH ").map_or(rest.len(), |e| e + 1);
        rest[..end].to_owned()
    };
    // The exit codes of `--help`, all three.
    let exit = section("\"EXIT STATUS\"");
    let help = run_ok(Command::new(bin()).arg("--help"), "logveil --help");
    for code in ["0  ", "1  ", "2  "] {
        assert!(exit.contains(&format!("\n{code}")), "exit code {code}");
        assert!(text(&help.stdout).contains(&format!("  {code}")));
    }
    let files = section("FILES");
    for path in [
        "/etc/logveil/logveil.yaml",
        "/var/lib/logveil/segments",
        "/var/lib/logveil/state",
    ] {
        assert!(files.contains(path), "FILES names {path}");
    }
    assert!(section("ENVIRONMENT").contains("LOGVEIL_CONFIG"));
    // Every subcommand page is in SEE ALSO.
    let see_also = section("\"SEE ALSO\"");
    for cmd in logveil::cli::Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
    {
        let r = format!("\\fBlogveil\\-{}\\fR(1)", cmd.get_name());
        assert!(see_also.contains(&r), "SEE ALSO has {r}");
    }
}

#[test]
fn completions_are_written_for_bash_zsh_and_fish() {
    let dir = tempfile::tempdir().unwrap();
    let listed = generate("completions", dir.path());
    assert_eq!(listed.len(), 3);
    for (name, marker) in [
        ("logveil.bash", "complete -F _logveil"),
        ("_logveil", "#compdef logveil"),
        ("logveil.fish", "complete -c logveil"),
    ] {
        let p = dir.path().join(name);
        assert_eq!(mode(&p), 0o600, "{name}");
        assert!(
            fs::read_to_string(&p).unwrap().contains(marker),
            "{name} has {marker}"
        );
    }
}

/// Runs bash's completion function the way bash does for the words typed so far.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let cword = words.len() - 1;
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let prog = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={cword}; COMP_LINE='{}'; COMP_POINT=${{#COMP_LINE}}; \
         _logveil logveil '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.join(" "),
        words[cword],
        words[cword.saturating_sub(1)],
    );
    let o = run_ok(Command::new("bash").arg("-c").arg(prog), "bash completion");
    text(&o.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completion_completes_subcommands_and_flags() {
    if !require_tool("bash", &["-c", "true"], "Debian package `bash`") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate("completions", dir.path());
    let script = dir.path().join("logveil.bash");
    assert_eq!(bash_complete(&script, &["logveil", "se"]), ["seal"]);
    let mut flags = bash_complete(&script, &["logveil", "seal", "--re"]);
    flags.sort();
    assert_eq!(flags, ["--recipient", "--recipients-file"]);
    assert_eq!(
        bash_complete(&script, &["logveil", "config", "ch"]),
        ["check"]
    );
}

#[test]
fn regenerating_replaces_files_and_keeps_them_private() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("logveil.bash");
    fs::write(&stale, "stale").unwrap();
    fs::set_permissions(&stale, fs::Permissions::from_mode(0o644)).unwrap();
    generate("completions", dir.path());
    assert_eq!(mode(&stale), 0o600);
    assert!(fs::read_to_string(&stale)
        .unwrap()
        .contains("complete -F _logveil"));
    // An existing DIR keeps its mode (it is the caller's); only a created one is 0700.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    generate("completions", dir.path());
    assert_eq!(mode(dir.path()), 0o755);
}

#[test]
fn unwritable_out_dir_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    fs::write(&file, "").unwrap();
    let o = run(
        Command::new(bin())
            .args(["generate", "man", "--out"])
            .arg(file.join("man")),
        "logveil generate",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains(&file.join("man").display().to_string()));
}
