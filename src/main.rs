//! The `rdauth` binary: parses the command line, runs the command, and maps the result to an
//! exit code (0 done, 1 differences or conflicts found, 2 usage or input error).

use std::process::ExitCode;

use clap::Parser;
use rdauth::cli::Cli;
use rdauth::commands::{self, InputError, ERROR_EXIT_CODE};
use rdauth::config::ConfigErrors;
use rdauth::shell;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits with 2.
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(error) => {
            report(&error);
            ExitCode::from(ERROR_EXIT_CODE)
        }
    }
}

fn report(error: &anyhow::Error) {
    if let Some(config_errors) = error.downcast_ref::<ConfigErrors>() {
        shell::error_blocks(&config_errors.render());
        shell::line("");
    }
    shell::error(error);
    if let Some(input_error) = error.downcast_ref::<InputError>() {
        if let Some(help) = &input_error.help {
            shell::line(format!("  help: {help}"));
        }
    }
    for cause in error.chain().skip(1) {
        shell::line(format!("  caused by: {cause}"));
    }
}
