//! The `watch3232` command: reads the configuration file, parses arguments, sets up logging,
//! runs, and maps errors to exit codes.

mod cli;

use clap::{CommandFactory, Parser};
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv = match cli::args_with_config(std::env::args_os().collect(), &cli::Args::command()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("watch3232: {e}");
            return ExitCode::from(cli::EXIT_USAGE);
        }
    };
    let args = cli::Args::parse_from(argv);
    cli::init_logging(args.verbose, args.quiet);
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("watch3232: error: {e:#}");
            let usage = e.downcast_ref::<cli::UsageError>().is_some();
            ExitCode::from(if usage {
                cli::EXIT_USAGE
            } else {
                cli::EXIT_ERROR
            })
        }
    }
}
