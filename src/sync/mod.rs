//! Applying a plan to an app folder: the manifest, the baselines, the three-way merge, and
//! the writes.
//!
//! `rdauth new` is a sync into an empty folder: [`write_new`] writes every planned file, its
//! baseline under `.rdauth/base/`, and the manifest last, so an interrupted run never leaves a
//! manifest that describes files which are not there. `rdauth sync` goes through
//! [`reconcile`], which decides every file's fate in memory, then [`SyncPlan::apply`].

mod manifest;
pub mod merge;
mod reconcile;
pub mod report;
mod writer;

use anyhow::{Context as _, Result};

pub use manifest::{
    load as load_manifest, Manifest, ManifestError, ManifestFile, BASE_DIR, FORMAT_VERSION,
    MANIFEST_PATH,
};
pub use reconcile::{
    base_path, check_app_path, reconcile, FileChange, FileWrite, SkipReason, Status, SyncInput,
    SyncPlan,
};
pub use writer::{read_mode, DiskWriter, FileMode, RecordedChange, RecordingWriter, Writer};

use crate::config::Database;
use crate::plan::Plan;

/// Writes `plan` into an empty app folder and returns the manifest it recorded.
pub fn write_new(writer: &mut dyn Writer, plan: &Plan, rdauth_version: &str) -> Result<Manifest> {
    for file in &plan.files {
        let mode = FileMode::for_new_file(file.executable);
        writer.write(&file.path, &file.contents, mode)?;
        writer.write(
            &base_path(&file.path),
            &file.contents,
            FileMode::for_new_file(false),
        )?;
    }

    let manifest = Manifest::from_plan(plan, rdauth_version);
    let mode = FileMode::for_new_file(false);
    writer.write(MANIFEST_PATH, manifest.to_toml().as_bytes(), mode)?;
    Ok(manifest)
}

/// Returns the contents of a new app's `.env`: a fresh random `SECRET_KEY` and the local
/// database. `APP_URL` stays commented out, so that it follows `serve --bind` until a
/// deployment sets it.
pub fn env_file(app_name: &str, database: Database) -> Result<String> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)
        .map_err(|error| anyhow::anyhow!("{error}"))
        .context("failed to read random bytes from the operating system for `SECRET_KEY`")?;
    let database_url = match database {
        Database::Sqlite => format!("sqlite://{app_name}.db?mode=rwc"),
        // A local server's default socket and the login name as the role; `createdb` makes
        // the database.
        Database::Postgres => format!("postgres:///{app_name}"),
    };
    Ok(format!(
        "# Local settings for `{app_name}`. Keep this file out of version control: it holds the\n\
         # key that signs session and CSRF cookies.\n\
         SECRET_KEY={}\n\
         DATABASE_URL={database_url}\n\
         # The public URL; without it, `http://` and the address `serve` listens on.\n\
         # APP_URL=https://example.com\n",
        hex::encode(secret)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_has_fresh_secret() {
        let first = env_file("myshop", Database::Sqlite).unwrap();
        let second = env_file("myshop", Database::Sqlite).unwrap();
        assert_ne!(first, second);
        let secret = first
            .lines()
            .find_map(|line| line.strip_prefix("SECRET_KEY="))
            .unwrap();
        assert_eq!(secret.len(), 64);
        assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(first.contains("DATABASE_URL=sqlite://myshop.db?mode=rwc\n"));
        assert!(first.contains("# APP_URL="), "{first}");
        assert!(!first.contains("\nAPP_URL="), "{first}");
    }
}
