//! Command-line arguments. Each subcommand's arguments live in one struct that its command
//! module takes as input.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Database;

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

    /// Regenerate the app from rdauth.toml, keeping your edits
    #[command(after_help = concat!(
        "Examples:\n",
        "  rdauth sync             # bring the app up to date with rdauth.toml\n",
        "  rdauth sync --check     # in CI: fail when a sync would change anything\n",
        "  rdauth sync --dry-run   # show the changes as a diff and write nothing\n",
        "\n",
        "Runs from any folder inside the app. A file you never edited is replaced; a file you\n",
        "edited is merged three ways against the version rdauth last wrote, kept in\n",
        "`.rdauth/base/`. Where you and rdauth changed the same lines, the file gets a block\n",
        "between `<<<<<<< yours` and `>>>>>>> rdauth` and the sync exits with 1. Files you deleted\n",
        "stay deleted; files the config no longer produces are removed unless you edited them.\n",
        "\n",
        exit_codes!(),
    ))]
    Sync(SyncArgs),

    /// Show, as a unified diff, what `rdauth sync` would change
    #[command(after_help = concat!(
        "Example:\n",
        "  rdauth diff | less -R\n",
        "\n",
        "Writes nothing. The diff goes to stdout, colored only on a terminal.\n",
        "\n",
        exit_codes!(),
    ))]
    Diff,

    /// Add a page or a permission to rdauth.toml, then sync
    #[command(subcommand)]
    Add(AddCommand),

    /// Remove a page from rdauth.toml, then sync
    #[command(subcommand)]
    Remove(RemoveCommand),

    /// Rename a page in rdauth.toml and move its files with your edits, then sync
    #[command(subcommand)]
    Rename(RenameCommand),

    /// Bring back a generated file that you deleted
    #[command(after_help = concat!(
        "Examples:\n",
        "  rdauth restore src/pages/billing.rs\n",
        "  rdauth restore --force templates/base.html   # replace your copy with rdauth's\n",
        "\n",
        "The file is written as the current rdauth.toml generates it.\n",
        "\n",
        exit_codes!(),
    ))]
    Restore(RestoreArgs),

    /// Check Cargo.toml against rdauth.toml and the dependency versions rdauth supports
    #[command(after_help = concat!(
        "Example:\n",
        "  rdauth doctor\n",
        "\n",
        "Runs `cargo metadata` in the app, so cargo may download the crates index when it has\n",
        "no copy yet. Each problem comes with the change that fixes it.\n",
        "\n",
        exit_codes!(),
    ))]
    Doctor,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The app's crate name, which is also the folder to create
    pub name: String,

    /// The config to generate from [default: a commented config listing every default]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Leave out the example notes page (sets `[app] example = false`)
    #[arg(long)]
    pub bare: bool,

    /// The database to generate for, `sqlite` or `postgres` (sets `[app] database`) [default:
    /// the config's, or sqlite]
    #[arg(long, value_name = "DATABASE", value_parser = parse_database)]
    pub database: Option<Database>,
}

fn parse_database(value: &str) -> Result<Database, String> {
    Database::parse(value).ok_or_else(|| {
        format!(
            "unsupported database; choose one of: {}",
            Database::SUPPORTED.join(", ")
        )
    })
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Write nothing; exit with 1 when a sync would change a file, when a file still contains
    /// conflict markers, or when `.rdauth/` is missing or damaged
    #[arg(long, conflicts_with = "dry_run")]
    pub check: bool,

    /// Write nothing; print what would change as a unified diff
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum AddCommand {
    /// Add a page to rdauth.toml and generate its module, template and route
    #[command(after_help = concat!(
        "Examples:\n",
        "  rdauth add page billing --login-required\n",
        "  rdauth add page reports --permission shop.view_report --title \"Sales reports\"\n",
        "\n",
        "Adding a page that exists with the same settings changes nothing; with other settings\n",
        "it is an error. The permission must be declared first, with `rdauth add permission`.\n",
        "\n",
        exit_codes!(),
    ))]
    Page(AddPageArgs),

    /// Declare a permission in rdauth.toml
    #[command(after_help = concat!(
        "Examples:\n",
        "  rdauth add permission shop.view_report                     # \"Can view report\"\n",
        "  rdauth add permission shop.refund \"Can refund an order\"\n",
        "\n",
        exit_codes!(),
    ))]
    Permission(AddPermissionArgs),
}

#[derive(Debug, Args)]
pub struct AddPageArgs {
    /// The page name, which becomes the module `pages::NAME`: lowercase letters, digits and `_`
    pub name: String,

    /// Send anonymous visitors to the login page
    #[arg(long)]
    pub login_required: bool,

    /// The permission a user needs, as APP.CODENAME; implies --login-required
    #[arg(long, value_name = "APP.CODENAME")]
    pub permission: Option<String>,

    /// The URL path of the page [default: /NAME]
    #[arg(long, value_name = "PATH")]
    pub route: Option<String>,

    /// The page title [default: NAME in title case]
    #[arg(long)]
    pub title: Option<String>,

    /// The login page for anonymous visitors of this page [default: auth.login_url]
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct AddPermissionArgs {
    /// The permission's key, as APP.CODENAME, such as `shop.view_report`
    #[arg(value_name = "APP.CODENAME")]
    pub key: String,

    /// The human-readable name [default: "Can " and the codename in words]
    pub name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RemoveCommand {
    /// Remove a page from rdauth.toml; its files go unless you edited them
    #[command(after_help = concat!(
        "Example:\n",
        "  rdauth remove page billing\n",
        "\n",
        "Files of the page that you edited are kept and reported as orphaned.\n",
        "\n",
        exit_codes!(),
    ))]
    Page(PageNameArgs),
}

#[derive(Debug, Args)]
pub struct PageNameArgs {
    /// The page's name in rdauth.toml
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub enum RenameCommand {
    /// Rename a page; its module and template move to the new name with your edits
    #[command(after_help = concat!(
        "Example:\n",
        "  rdauth rename page billing invoices\n",
        "\n",
        "A page without its own `route` or `title` gets the new name's defaults.\n",
        "\n",
        exit_codes!(),
    ))]
    Page(RenamePageArgs),
}

#[derive(Debug, Args)]
pub struct RenamePageArgs {
    /// The page's current name
    pub old: String,
    /// The new name
    pub new: String,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The file to bring back, relative to the current folder
    pub path: PathBuf,

    /// Replace the file when it exists, discarding your edits to it
    #[arg(long)]
    pub force: bool,
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
