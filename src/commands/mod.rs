//! One module per subcommand. Each wires the same pipeline: arguments -> config -> plan ->
//! writer -> report.

pub mod app;
pub mod doctor;
pub mod new;
pub mod page;
pub mod permission;
pub mod restore;
pub mod sync;

use anyhow::Result;

use crate::cli::{AddCommand, Cli, Command, RemoveCommand, RenameCommand};

/// The result of a command that ran to the end, which `main` maps to the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit code 0.
    Done,
    /// Exit code 1: a check found differences or conflicts.
    Differences,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Differences => 1,
        }
    }
}

/// Exit code for usage, config and input errors, and for any failure to read or write files.
pub const ERROR_EXIT_CODE: u8 = 2;

/// A problem with what the user asked for, with the fix.
#[derive(Debug)]
pub struct InputError {
    pub message: String,
    pub help: Option<String>,
}

impl InputError {
    pub fn new(message: impl Into<String>, help: impl Into<String>) -> Self {
        InputError {
            message: message.into(),
            help: Some(help.into()),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::New(args) => new::run(&args),
        Command::Sync(args) => sync::run(&args),
        Command::Diff => sync::run_diff(),
        Command::Add(AddCommand::Page(args)) => page::add(&args),
        Command::Add(AddCommand::Permission(args)) => permission::add(&args),
        Command::Remove(RemoveCommand::Page(args)) => page::remove(&args),
        Command::Rename(RenameCommand::Page(args)) => page::rename(&args),
        Command::Restore(args) => restore::run(&args),
        Command::Doctor => doctor::run(),
    }
}
