//! `rdauth sync [--check] [--dry-run]` and `rdauth diff`: regenerate the app from
//! `rdauth.toml`, merging the user's edits.

use anyhow::Result;

use super::app::{manifest_input_error, App, SyncMode};
use super::Outcome;
use crate::cli::SyncArgs;
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
    app.finish_sync(&config, &sync_plan, None, mode)
}
