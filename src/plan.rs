//! The plan: the complete list of files the generated app should contain, computed in memory.
//!
//! Planning is pure. The same config, migration ledger and rdauth version always give the same
//! files with the same bytes, in the same order, and nothing here touches the disk. Writing the
//! files, and merging them with the user's edits, belongs to `sync`.
//!
//! Every file under `templates/app/` maps to one output path:
//!
//! - a file ending in `.jinja` is rendered and loses the suffix;
//! - any other file is copied byte for byte, because the app's own runtime templates use Jinja
//!   syntax themselves;
//! - a path containing `__page__` is emitted once per configured page, with `__page__` replaced
//!   by the page name and `page` added to the template context;
//! - [`CONDITIONAL_FILES`] leaves out files whose feature the config turns off.

use anyhow::{bail, Context as _, Result};
use minijinja::context;
use minijinja::value::Serde;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::render::{self, AppTemplate, Renderer, TemplateContext};

/// One file of the generated app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Path relative to the app folder, with forward slashes.
    pub path: String,
    pub contents: Vec<u8>,
    pub executable: bool,
}

/// A migration rdauth wrote, as the manifest records it. sqlx refuses to run a migration whose
/// checksum changed after it was applied, so a written migration must never change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationRecord {
    /// File name inside `migrations/`, such as `0001_users.sql`.
    pub name: String,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// The planned files, sorted by path, and the migrations among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
    pub migrations: Vec<MigrationRecord>,
}

/// The app's migrations folder, relative to the app root.
pub const MIGRATIONS_DIR: &str = "migrations/";

/// The placeholder that expands a template into one file per page.
const PAGE_PLACEHOLDER: &str = "__page__";

/// A file the app gets only when `applies` returns true for the config.
pub struct ConditionalFile {
    /// An output path. One `*` matches any run of characters within a path segment.
    pub pattern: &'static str,
    pub applies: fn(&Config) -> bool,
}

/// Every file that depends on a setting. A file that matches no pattern is always emitted.
pub const CONDITIONAL_FILES: &[ConditionalFile] = &[
    ConditionalFile {
        pattern: "src/auth/register.rs",
        applies: |config| config.auth.register_enabled,
    },
    ConditionalFile {
        pattern: "templates/auth/register.html",
        applies: |config| config.auth.register_enabled,
    },
    ConditionalFile {
        pattern: "src/auth/password_reset.rs",
        applies: |config| config.auth.password_reset_enabled,
    },
    ConditionalFile {
        pattern: "templates/auth/password_reset*.html",
        applies: |config| config.auth.password_reset_enabled,
    },
    ConditionalFile {
        pattern: "templates/email/password_reset.txt",
        applies: |config| config.auth.password_reset_enabled,
    },
    ConditionalFile {
        pattern: "src/pages/home.rs",
        applies: Config::home_routed,
    },
    ConditionalFile {
        pattern: "templates/home.html",
        applies: Config::home_routed,
    },
];

/// Computes every file of the app for `config`.
///
/// `ledger` lists the migrations an earlier run wrote; a planned migration with the same name
/// but other bytes is an error, because migrations are append-only.
pub fn plan(config: &Config, ledger: &[MigrationRecord], rdauth_version: &str) -> Result<Plan> {
    let renderer = Renderer::new()?;
    let context = TemplateContext::new(config, rdauth_version);
    let base = context.to_value();

    let mut files = Vec::new();
    for template in render::app_templates() {
        if template.path.contains(PAGE_PLACEHOLDER) {
            for page in &context.pages {
                let path = output_path(template.path).replace(PAGE_PLACEHOLDER, &page.name);
                if is_included(&path, config) {
                    let page_context = context! { page => Serde(page), ..base.clone() };
                    files.push(plan_file(&renderer, &template, path, &page_context)?);
                }
            }
        } else {
            let path = output_path(template.path);
            if is_included(&path, config) {
                files.push(plan_file(&renderer, &template, path, &base)?);
            }
        }
    }

    files.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(pair) = files.windows(2).find(|pair| pair[0].path == pair[1].path) {
        bail!(
            "two templates produce `{}`; rename one of them under `templates/app/`",
            pair[0].path
        );
    }

    let migrations = migration_records(&files);
    check_ledger(&migrations, ledger)?;
    Ok(Plan { files, migrations })
}

/// Returns the lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn plan_file(
    renderer: &Renderer,
    template: &AppTemplate,
    path: String,
    context: &minijinja::Value,
) -> Result<PlannedFile> {
    let contents = if template.is_template() {
        renderer
            .render(template.template_name, context)
            .with_context(|| format!("failed to generate `{path}`"))?
            .into_bytes()
    } else {
        template.contents.to_vec()
    };
    // Scripts are the only files that need the executable bit, and they start with `#!`.
    let executable = contents.starts_with(b"#!");
    Ok(PlannedFile {
        path,
        contents,
        executable,
    })
}

fn output_path(template_path: &str) -> String {
    template_path
        .strip_suffix(render::TEMPLATE_SUFFIX)
        .unwrap_or(template_path)
        .to_owned()
}

fn is_included(path: &str, config: &Config) -> bool {
    CONDITIONAL_FILES
        .iter()
        .filter(|rule| pattern_matches(rule.pattern, path))
        .all(|rule| (rule.applies)(config))
}

/// Matches `path` against a pattern with at most one `*`, which does not match `/`.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == path,
        Some((prefix, suffix)) => {
            path.len() >= prefix.len() + suffix.len()
                && path.starts_with(prefix)
                && path.ends_with(suffix)
                && !path[prefix.len()..path.len() - suffix.len()].contains('/')
        }
    }
}

fn migration_records(files: &[PlannedFile]) -> Vec<MigrationRecord> {
    files
        .iter()
        .filter_map(|file| {
            let name = file.path.strip_prefix(MIGRATIONS_DIR)?;
            Some(MigrationRecord {
                name: name.to_owned(),
                sha256: sha256_hex(&file.contents),
            })
        })
        .collect()
}

fn check_ledger(planned: &[MigrationRecord], ledger: &[MigrationRecord]) -> Result<()> {
    for recorded in ledger {
        let changed = planned
            .iter()
            .find(|migration| migration.name == recorded.name)
            .filter(|migration| migration.sha256 != recorded.sha256);
        if let Some(migration) = changed {
            bail!(
                "migration `{}` would change (sha256 {} was written, now {}); a written migration must stay as it is, so this rdauth version cannot update the app",
                migration.name,
                recorded.sha256,
                migration.sha256
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_with_star_stays_in_segment() {
        let pattern = "templates/auth/password_reset*.html";
        assert!(pattern_matches(
            pattern,
            "templates/auth/password_reset.html"
        ));
        assert!(pattern_matches(
            pattern,
            "templates/auth/password_reset_confirm.html"
        ));
        assert!(!pattern_matches(
            pattern,
            "templates/auth/password_reset/x.html"
        ));
        assert!(!pattern_matches(pattern, "templates/auth/login.html"));
        assert!(pattern_matches(
            "src/auth/register.rs",
            "src/auth/register.rs"
        ));
        assert!(!pattern_matches(
            "src/auth/register.rs",
            "src/auth/register.rs.bak"
        ));
    }

    #[test]
    fn conditional_files_follow_settings() {
        let mut config = crate::config::load("[app]\nname = \"x\"\n", "x.toml", None).unwrap();
        assert!(is_included("src/auth/register.rs", &config));
        assert!(is_included("src/auth/login.rs", &config));
        config.auth.register_enabled = false;
        config.auth.password_reset_enabled = false;
        assert!(!is_included("src/auth/register.rs", &config));
        assert!(!is_included(
            "templates/auth/password_reset_confirm.html",
            &config
        ));
        assert!(!is_included("templates/email/password_reset.txt", &config));
        assert!(is_included("src/pages/home.rs", &config));
    }

    #[test]
    fn ledger_rejects_changed_migration() {
        let planned = vec![MigrationRecord {
            name: "0001_users.sql".into(),
            sha256: "b".into(),
        }];
        let same = planned.clone();
        let changed = vec![MigrationRecord {
            name: "0001_users.sql".into(),
            sha256: "a".into(),
        }];
        assert!(check_ledger(&planned, &same).is_ok());
        assert!(check_ledger(&planned, &changed).is_err());
        assert!(check_ledger(&planned, &[]).is_ok());
    }
}
