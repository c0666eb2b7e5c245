//! `.rdauth/manifest.toml`: what rdauth wrote into the app, so a later run can tell the user's
//! edits from its own output.
//!
//! ```toml
//! format = 1
//! rdauth_version = "0.1.0"
//!
//! [[files]]
//! path = "src/main.rs"
//! sha256 = "…"
//! executable = false
//!
//! [[migrations]]
//! name = "0001_users.sql"
//! sha256 = "…"
//! ```
//!
//! `files` lists every planned file, sorted by path; `.rdauth/base/PATH` contains the exact bytes
//! whose hash is recorded. `migrations` is the ledger that keeps migrations append-only.

use anyhow::{bail, Context as _, Result};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table};

use crate::plan::{sha256_hex, MigrationRecord, Plan};

/// Path of the manifest, relative to the app root.
pub const MANIFEST_PATH: &str = ".rdauth/manifest.toml";

/// The folder of baselines: the exact bytes rdauth last wrote for each file.
pub const BASE_DIR: &str = ".rdauth/base";

/// The manifest layout this rdauth reads and writes. A change that older versions cannot read
/// raises it.
pub const FORMAT_VERSION: i64 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub rdauth_version: String,
    /// Files in path order.
    pub files: Vec<ManifestFile>,
    pub migrations: Vec<MigrationRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    pub path: String,
    /// Lowercase hex SHA-256 of the bytes rdauth wrote.
    pub sha256: String,
    pub executable: bool,
}

impl Manifest {
    /// Records every file of `plan` as written by this rdauth version.
    pub fn from_plan(plan: &Plan, rdauth_version: &str) -> Self {
        Manifest {
            rdauth_version: rdauth_version.to_owned(),
            files: plan
                .files
                .iter()
                .map(|file| ManifestFile {
                    path: file.path.clone(),
                    sha256: sha256_hex(&file.contents),
                    executable: file.executable,
                })
                .collect(),
            migrations: plan.migrations.clone(),
        }
    }

    pub fn to_toml(&self) -> String {
        let mut document = DocumentMut::new();
        document.decor_mut().set_prefix(
            "# Written by rdauth: the files it generated and the migrations it wrote.\n\
             # Commit this file and `.rdauth/base/`; `rdauth sync` merges against them.\n",
        );
        document["format"] = toml_edit::value(FORMAT_VERSION);
        document["rdauth_version"] = toml_edit::value(self.rdauth_version.as_str());

        let mut files = ArrayOfTables::new();
        for file in &self.files {
            let mut table = Table::new();
            table["path"] = toml_edit::value(file.path.as_str());
            table["sha256"] = toml_edit::value(file.sha256.as_str());
            table["executable"] = toml_edit::value(file.executable);
            files.push(table);
        }
        document.insert("files", Item::ArrayOfTables(files));

        let mut migrations = ArrayOfTables::new();
        for migration in &self.migrations {
            let mut table = Table::new();
            table["name"] = toml_edit::value(migration.name.as_str());
            table["sha256"] = toml_edit::value(migration.sha256.as_str());
            migrations.push(table);
        }
        document.insert("migrations", Item::ArrayOfTables(migrations));
        document.to_string()
    }

    pub fn parse(source: &str) -> Result<Self> {
        let document: DocumentMut = source.parse().context("invalid TOML")?;
        let format = document
            .get("format")
            .and_then(Item::as_integer)
            .context("missing `format`")?;
        if format != FORMAT_VERSION {
            bail!(
                "unsupported manifest format {format}; this rdauth reads format {FORMAT_VERSION}"
            );
        }
        let rdauth_version = required_str(document.as_table(), "rdauth_version")?;

        let mut files = Vec::new();
        for table in tables(&document, "files")? {
            files.push(ManifestFile {
                path: required_str(table, "path")?,
                sha256: required_str(table, "sha256")?,
                executable: table
                    .get("executable")
                    .and_then(Item::as_bool)
                    .context("missing `executable` in `[[files]]`")?,
            });
        }
        let mut migrations = Vec::new();
        for table in tables(&document, "migrations")? {
            migrations.push(MigrationRecord {
                name: required_str(table, "name")?,
                sha256: required_str(table, "sha256")?,
            });
        }
        Ok(Manifest {
            rdauth_version,
            files,
            migrations,
        })
    }
}

fn tables<'d>(document: &'d DocumentMut, key: &str) -> Result<Vec<&'d Table>> {
    match document.get(key) {
        None => Ok(Vec::new()),
        Some(item) => match item.as_array_of_tables() {
            Some(array) => Ok(array.iter().collect()),
            None => bail!("`{key}` must be an array of tables"),
        },
    }
}

fn required_str(table: &Table, key: &str) -> Result<String> {
    table
        .get(key)
        .and_then(Item::as_str)
        .map(str::to_owned)
        .with_context(|| format!("missing string `{key}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips() {
        let manifest = Manifest {
            rdauth_version: "0.1.0".into(),
            files: vec![ManifestFile {
                path: "src/main.rs".into(),
                sha256: "ab".into(),
                executable: false,
            }],
            migrations: vec![MigrationRecord {
                name: "0001_users.sql".into(),
                sha256: "cd".into(),
            }],
        };
        let text = manifest.to_toml();
        assert!(text.starts_with("# Written by rdauth"));
        assert_eq!(Manifest::parse(&text).unwrap(), manifest);
    }

    #[test]
    fn parse_rejects_other_format() {
        let error = Manifest::parse("format = 2\nrdauth_version = \"9.0.0\"\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unsupported manifest format 2; this rdauth reads format 1"
        );
    }
}
