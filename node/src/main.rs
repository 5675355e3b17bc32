//! `vigil`: the one binary of Vigil. Parses arguments, sets up logging, runs
//! the chosen command. Exit status: 0 success, 1 failure (with a one-line
//! reason on stderr), 2 bad usage.

use clap::Parser;

mod cli;
mod cmd;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    cli::init_tracing(&cli.log);
    match cmd::run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            // `{:#}` prints the whole context chain on one line.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
