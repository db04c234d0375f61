//! The `watch3232` command: parses arguments, sets up logging, runs, and maps errors to exit codes.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    cli::init_logging(args.verbose, args.quiet);
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("watch3232: error: {e:#}");
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}
