//! rdauth generates authenticated Axum web apps from an `rdauth.toml` config.
//!
//! The pipeline runs top to bottom through these modules: `cli` parses the arguments, `config`
//! loads and validates `rdauth.toml`, `plan` renders the app's files in memory with `render`,
//! `sync` writes them, and `commands` wires the steps together for each subcommand.

pub mod cli;
pub mod commands;
pub mod config;
pub mod plan;
pub mod render;
pub mod shell;
pub mod sync;

/// The rdauth version recorded in generated apps and their manifests.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
