//! The app a command works on: finding its root, reading its config and manifest, and running
//! a sync of it in one of the ways the commands need (write, check, dry run, diff).
//!
//! The root is the nearest folder, from the current one upwards, that contains `rdauth.toml`.
//! Finding it reads only that file name in each folder and never runs cargo.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::new::CONFIG_FILE;
use super::{InputError, Outcome};
use crate::config::{self, Config};
use crate::plan;
use crate::sync::{
    self, report, DiskWriter, FileMode, Manifest, ManifestError, RecordingWriter, SyncInput,
    SyncPlan, Writer as _,
};
use crate::{shell, VERSION};

/// An app folder found from the current folder.
#[derive(Debug)]
pub struct App {
    pub root: PathBuf,
    /// `rdauth.toml` as the user would name it from the current folder.
    pub config_origin: String,
    pub config_source: String,
}

/// How a sync runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Write the changes.
    Apply,
    /// Write nothing; exit with 1 when anything would change.
    Check,
    /// Write nothing; print the status lines and the diff.
    DryRun,
    /// Write nothing; print only the diff.
    Diff,
}

impl App {
    /// Finds the app that contains the current folder and reads its config.
    pub fn locate() -> Result<App> {
        let current = std::env::current_dir().context("failed to read the current folder")?;
        let root = find_root(&current)?;
        let config_path = root.join(CONFIG_FILE);
        let config_source = fs::read_to_string(&config_path)
            .with_context(|| format!("failed to read `{}`", config_path.display()))?;
        let config_origin = match config_path.strip_prefix(&current) {
            Ok(relative) => relative.display().to_string(),
            Err(_) => config_path.display().to_string(),
        };
        Ok(App {
            root,
            config_origin,
            config_source,
        })
    }

    /// Parses and validates `source`, the app's config or an edited version of it.
    pub fn load_config(&self, source: &str) -> Result<Config> {
        Ok(config::load(source, &self.config_origin, None)?)
    }

    /// Reads the manifest, turning a missing, damaged or too new one into an input error.
    pub fn manifest(&self) -> Result<(Manifest, String)> {
        sync::load_manifest(&self.root, VERSION).map_err(|error| manifest_input_error(error).into())
    }

    /// Decides what a sync to `config` does, moving the files in `moves` first.
    pub fn plan_sync(
        &self,
        config: &Config,
        manifest: &Manifest,
        manifest_text: &str,
        moves: &[(String, String)],
    ) -> Result<SyncPlan> {
        let plan = plan::plan(config, &manifest.migrations, VERSION)?;
        sync::reconcile(SyncInput {
            root: &self.root,
            plan: &plan,
            previous: manifest,
            previous_text: manifest_text,
            moves,
            rdauth_version: VERSION,
        })
    }

    /// Carries out `sync_plan` in `mode`, after writing `new_config` to `rdauth.toml` when a
    /// command edited it, and reports the result.
    pub fn finish_sync(
        &self,
        config: &Config,
        sync_plan: &SyncPlan,
        new_config: Option<&str>,
        mode: SyncMode,
    ) -> Result<Outcome> {
        match mode {
            SyncMode::Apply => {
                let mut writer = DiskWriter::new(&self.root);
                if let Some(text) = new_config {
                    let mode = self.config_mode();
                    writer.write(CONFIG_FILE, text.as_bytes(), mode)?;
                    shell::status("Updating", CONFIG_FILE);
                }
                sync_plan.apply(&mut writer)?;
                report::print_changes(sync_plan);
                let summary =
                    report::summary(sync_plan).unwrap_or_else(|| "already up to date".to_owned());
                shell::status(
                    "Finished",
                    format!("sync of `{}`: {summary}", config.app.name),
                );
                report::print_conflicts(sync_plan);
                Ok(outcome_of(sync_plan))
            }
            SyncMode::Check => {
                report::print_changes(sync_plan);
                let unresolved = sync_plan.conflicted().count();
                if sync_plan.touches_disk() || !sync_plan.damaged_baselines.is_empty() {
                    shell::error(format!(
                        "`{}` is out of sync with `{}`; run `rdauth sync`",
                        config.app.name, self.config_origin
                    ));
                    Ok(Outcome::Differences)
                } else if unresolved > 0 {
                    report::print_conflicts(sync_plan);
                    Ok(Outcome::Differences)
                } else {
                    shell::status(
                        "Finished",
                        format!("check of `{}`: up to date", config.app.name),
                    );
                    Ok(Outcome::Done)
                }
            }
            SyncMode::DryRun | SyncMode::Diff => {
                let mut writer = RecordingWriter::default();
                sync_plan.apply(&mut writer)?;
                if mode == SyncMode::DryRun {
                    report::print_changes(sync_plan);
                }
                report::print_diff(&self.root, &writer.changes)?;
                if mode == SyncMode::DryRun {
                    let summary = report::summary(sync_plan)
                        .unwrap_or_else(|| "already up to date".to_owned());
                    shell::status(
                        "Finished",
                        format!("dry run of `{}`: {summary}", config.app.name),
                    );
                    shell::warning("aborting sync due to dry run; nothing was written");
                }
                Ok(Outcome::Done)
            }
        }
    }

    /// The mode `rdauth.toml` keeps when rdauth rewrites it.
    fn config_mode(&self) -> FileMode {
        match fs::metadata(self.root.join(CONFIG_FILE)) {
            Ok(metadata) => sync::read_mode(&metadata),
            Err(_) => FileMode::for_new_file(false),
        }
    }
}

/// Exit code 1 when the app has files with conflict blocks, written now or left from before.
fn outcome_of(sync_plan: &SyncPlan) -> Outcome {
    if sync_plan.conflicted().next().is_some() {
        Outcome::Differences
    } else {
        Outcome::Done
    }
}

/// Returns the nearest folder, from `start` upwards, that contains `rdauth.toml`.
pub fn find_root(start: &Path) -> Result<PathBuf> {
    for folder in start.ancestors() {
        if folder.join(CONFIG_FILE).is_file() {
            return Ok(folder.to_path_buf());
        }
    }
    Err(InputError::new(
        format!(
            "could not find `{CONFIG_FILE}` in `{}` or any parent folder",
            start.display()
        ),
        "run this command inside an app that `rdauth new` created",
    )
    .into())
}

/// Turns a manifest problem into an input error with the fix.
pub fn manifest_input_error(error: ManifestError) -> InputError {
    let help = match &error {
        ManifestError::Missing | ManifestError::Corrupt(_) => {
            "`rdauth sync` merges against the record that `rdauth new` wrote; restore `.rdauth/` from version control"
                .to_owned()
        }
        ManifestError::Newer { written_by } => format!(
            "install rdauth {written_by} or newer, for example with `cargo install --path PATH_TO_RDAUTH`"
        ),
    };
    InputError::new(error.to_string(), help)
}
