use clap::Parser;

fn main() -> std::process::ExitCode {
    logveil::commands::run(logveil::cli::Cli::parse())
}
