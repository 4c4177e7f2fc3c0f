#![forbid(unsafe_code)]

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Before anything is read: no core dump of unredacted input, enough descriptors for many sources.
    logveil::hardening::at_start();
    logveil::commands::run(logveil::cli::Cli::parse())
}
