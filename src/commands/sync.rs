//! `rdauth sync [--check] [--dry-run]` and `rdauth diff`: regenerate the app from
//! `rdauth.toml`, merging the user's edits.

use std::fs;
use std::path::Path;

use anyhow::Result;

use super::app::{manifest_input_error, App, SyncMode};
use super::Outcome;
use crate::cli::SyncArgs;
use crate::config::Database;
use crate::shell;
use crate::sync::ManifestError;
use crate::VERSION;

pub fn run(args: &SyncArgs) -> Result<Outcome> {
    let mode = if args.check {
        SyncMode::Check
    } else if args.dry_run {
        SyncMode::DryRun
    } else {
        SyncMode::Apply
    };
    sync(mode)
}

/// `rdauth diff`.
pub fn run_diff() -> Result<Outcome> {
    sync(SyncMode::Diff)
}

fn sync(mode: SyncMode) -> Result<Outcome> {
    let app = App::locate()?;
    let config = app.load_config(&app.config_source)?;

    let (manifest, manifest_text) = match crate::sync::load_manifest(&app.root, VERSION) {
        Ok(loaded) => loaded,
        // A check reports a missing or damaged record as a difference, so CI fails with 1
        // rather than with the exit code of an invalid invocation.
        Err(error @ (ManifestError::Missing | ManifestError::Corrupt(_)))
            if mode == SyncMode::Check =>
        {
            let error = manifest_input_error(error);
            shell::error(&error);
            if let Some(help) = &error.help {
                shell::line(format!("  help: {help}"));
            }
            return Ok(Outcome::Differences);
        }
        Err(error) => return Err(manifest_input_error(error).into()),
    };

    let sync_plan = app.plan_sync(&config, &manifest, &manifest_text, &[])?;
    let outcome = app.finish_sync(&config, &sync_plan, None, mode)?;
    if matches!(mode, SyncMode::Apply | SyncMode::DryRun) {
        warn_about_env_database(&app.root, config.app.database);
    }
    Ok(outcome)
}

/// Warns when `.env` sets `DATABASE_URL` for the other backend, as it does right after
/// `database` changes in `rdauth.toml`: sync never edits `.env`. The URL itself is not
/// printed, because it may hold a password.
fn warn_about_env_database(root: &Path, database: Database) {
    let Ok(env) = fs::read_to_string(root.join(".env")) else {
        return;
    };
    let Some(url) = env
        .lines()
        .filter_map(|line| line.trim().strip_prefix("DATABASE_URL="))
        .next_back()
    else {
        return;
    };
    let url = url.trim().trim_matches(['"', '\'']);
    let fits = match database {
        Database::Sqlite => url.starts_with("sqlite:"),
        Database::Postgres => url.starts_with("postgres://") || url.starts_with("postgresql://"),
    };
    if !fits {
        shell::warning(format!(
            "`DATABASE_URL` in `.env` is not a {} URL; point it at the app's new database \
             before running the app",
            match database {
                Database::Sqlite => "SQLite",
                Database::Postgres => "PostgreSQL",
            }
        ));
    }
}
