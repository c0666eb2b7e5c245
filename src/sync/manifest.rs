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

use std::fmt;
use std::io::ErrorKind;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use cargo_metadata::semver::Version;
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

/// Why the manifest of an app could not be used.
#[derive(Debug)]
pub enum ManifestError {
    /// There is no `.rdauth/manifest.toml`.
    Missing,
    /// The manifest cannot be read or parsed.
    Corrupt(anyhow::Error),
    /// A newer rdauth wrote the manifest: a newer format, or a newer version whose baselines
    /// this rdauth must not overwrite with older templates.
    Newer { written_by: String },
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::Missing => write!(f, "missing `{MANIFEST_PATH}`"),
            ManifestError::Corrupt(error) => write!(f, "invalid `{MANIFEST_PATH}`: {error:#}"),
            ManifestError::Newer { written_by } => write!(
                f,
                "`{MANIFEST_PATH}` was written by rdauth {written_by}, which is newer than this rdauth {}",
                crate::VERSION
            ),
        }
    }
}

impl std::error::Error for ManifestError {}

/// Reads the manifest of the app at `root` and returns it with its text. `rdauth_version` is
/// the running rdauth's version; a manifest from a newer one is rejected.
pub fn load(root: &Path, rdauth_version: &str) -> Result<(Manifest, String), ManifestError> {
    let path = root.join(MANIFEST_PATH);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == ErrorKind::NotFound => return Err(ManifestError::Missing),
        Err(error) => return Err(ManifestError::Corrupt(error.into())),
    };

    // The version checks come first: a newer layout may not parse with this one's rules.
    let document: DocumentMut = text.parse().map_err(|error| {
        ManifestError::Corrupt(anyhow::Error::new(error).context("invalid TOML"))
    })?;
    let written_by = document
        .get("rdauth_version")
        .and_then(Item::as_str)
        .unwrap_or("(unknown)")
        .to_owned();
    if let Some(format) = document.get("format").and_then(Item::as_integer) {
        if format > FORMAT_VERSION {
            return Err(ManifestError::Newer { written_by });
        }
    }
    if let (Ok(written), Ok(running)) =
        (Version::parse(&written_by), Version::parse(rdauth_version))
    {
        if written > running {
            return Err(ManifestError::Newer { written_by });
        }
    }

    let manifest = Manifest::parse(&text).map_err(ManifestError::Corrupt)?;
    if Version::parse(&manifest.rdauth_version).is_err() {
        return Err(ManifestError::Corrupt(anyhow::anyhow!(
            "`rdauth_version` {:?} is not a version number",
            manifest.rdauth_version
        )));
    }
    Ok((manifest, text))
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

    fn write_manifest(text: &str) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(".rdauth")).unwrap();
        std::fs::write(root.path().join(MANIFEST_PATH), text).unwrap();
        root
    }

    #[test]
    fn load_rejects_newer_version() {
        let root = write_manifest("format = 1\nrdauth_version = \"0.9.0\"\n");
        let error = load(root.path(), "0.1.0").unwrap_err();
        assert!(matches!(error, ManifestError::Newer { ref written_by } if written_by == "0.9.0"));
        assert!(load(root.path(), "0.9.0").is_ok());
        assert!(load(root.path(), "1.0.0").is_ok());
    }

    #[test]
    fn load_rejects_newer_format() {
        let root = write_manifest("format = 2\nrdauth_version = \"0.1.0\"\n");
        let error = load(root.path(), "0.1.0").unwrap_err();
        assert!(matches!(error, ManifestError::Newer { .. }));
    }

    #[test]
    fn load_reports_missing_and_corrupt() {
        let root = tempfile::tempdir().unwrap();
        assert!(matches!(
            load(root.path(), "0.1.0"),
            Err(ManifestError::Missing)
        ));
        let root = write_manifest("format = 1\n[[files]]\npath = 3\n");
        assert!(matches!(
            load(root.path(), "0.1.0"),
            Err(ManifestError::Corrupt(_))
        ));
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
