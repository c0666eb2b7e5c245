//! Command-line arguments. Each subcommand's arguments live in one struct that its command
//! module takes as input.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The exit codes every command uses, as a literal so `concat!` can put it into help texts.
macro_rules! exit_codes {
    () => {
        "Exit codes:\n  \
         0  done\n  \
         1  a check found differences or conflicts\n  \
         2  usage, config or input error; nothing was written"
    };
}

#[derive(Debug, Parser)]
#[command(
    name = "rdauth",
    version,
    about = "Generate an Axum web app with users, sessions and permissions from an rdauth.toml config",
    after_help = concat!(
        "Example:\n",
        "  rdauth new myshop --config shop.toml\n",
        "  cd myshop && cargo run\n",
        "\n",
        exit_codes!(),
    )
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new app folder from an rdauth.toml config, or from the defaults
    #[command(after_help = concat!(
        "Examples:\n",
        "  rdauth new myshop                      # default config, written to myshop/rdauth.toml\n",
        "  rdauth new myshop --config shop.toml   # your config, its comments kept\n",
        "\n",
        "The folder NAME must not exist or must be empty. Nothing is written when the config is\n",
        "invalid; every error names its line and column.\n",
        "\n",
        "Exit codes:\n",
        "  0  done\n",
        "  2  usage, config or input error; nothing was written",
    ))]
    New(NewArgs),
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The app's crate name, which is also the folder to create
    pub name: String,

    /// The config to generate from [default: a commented config listing every default]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn top_help_lists_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains(exit_codes!()), "{help}");
    }
}
