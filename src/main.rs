#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Before anything is read: no core dump of unredacted input, enough descriptors for many sources.
    logveil::hardening::at_start();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(e) = logveil::secrets::refuse_secret_arguments(&args) {
        eprintln!("logveil: error: {e}");
        return logveil::commands::Exit::Error.into();
    }
    match logveil::cli::Cli::try_parse_from(&args) {
        Ok(cli) => logveil::commands::run(cli),
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // clap quotes what it did not expect: no long or key-shaped argument is shown.
            let text = logveil::secrets::clap_error_text(&e.render().to_string(), &args);
            eprint!("{text}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
        }
    }
}
