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

use crate::config::{Config, Database};
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
        pattern: "src/pages/notes.rs",
        applies: |config| config.app.example,
    },
    ConditionalFile {
        pattern: "templates/pages/notes.html",
        applies: |config| config.app.example,
    },
    ConditionalFile {
        pattern: "migrations/sqlite/*",
        applies: |config| config.app.database == Database::Sqlite,
    },
    ConditionalFile {
        pattern: "migrations/postgres/*",
        applies: |config| config.app.database == Database::Postgres,
    },
    ConditionalFile {
        pattern: "migrations/*/0003_create_notes.sql",
        applies: |config| config.app.example,
    },
    ConditionalFile {
        pattern: "tests/mail.rs",
        applies: |config| config.auth.password_reset_enabled,
    },
    ConditionalFile {
        pattern: "benches/events.rs",
        applies: |config| config.app.example,
    },
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
    plan_templates(
        &render::app_templates(),
        &renderer,
        config,
        ledger,
        rdauth_version,
    )
}

/// Computes the app's files from the given app tree; `plan` passes the embedded one.
pub fn plan_templates(
    templates: &[AppTemplate],
    renderer: &Renderer,
    config: &Config,
    ledger: &[MigrationRecord],
    rdauth_version: &str,
) -> Result<Plan> {
    let context = TemplateContext::new(config, rdauth_version);
    let base = context.to_value();

    let mut files = Vec::new();
    for template in templates {
        if template.path.contains(PAGE_PLACEHOLDER) {
            for page in &context.pages {
                let path = output_path(template.path).replace(PAGE_PLACEHOLDER, &page.name);
                if is_included(&path, config) {
                    let page_context = context! { page => Serde(page), ..base.clone() };
                    files.push(plan_file(renderer, template, path, &page_context)?);
                }
            }
        } else {
            let path = output_path(template.path);
            if is_included(&path, config) {
                files.push(plan_file(renderer, template, path, &base)?);
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

    /// A small app tree that exercises every rule of the plan.
    const TREE: &[(&str, &str)] = &[
        ("Cargo.toml.jinja", "[package]\nname = {{ app.name | toml_str }}\n"),
        ("src/pages/__page__.rs.jinja", "//! {{ page.title }} at {{ page.route }}\npub const TITLE: &str = {{ page.title | rust_str }};\n"),
        ("templates/pages/__page__.html", "<h1>{{ title }}</h1>\n"),
        ("templates/auth/register.html", "{% raw %}copied{% endraw %}\n"),
        ("templates/auth/password_reset_done.html", "copied\n"),
        ("src/pages/home.rs.jinja", "// home\n"),
        ("bin/setup.sh", "#!/bin/sh\necho setup\n"),
        ("migrations/0001_users.sql.jinja", "-- {{ app.name }}\nCREATE TABLE users (id INTEGER);\n"),
    ];

    fn plan_tree(source: &str) -> Result<Plan> {
        let config = crate::config::load(source, "test.toml", Some("myshop")).unwrap();
        let templates: Vec<AppTemplate> = TREE
            .iter()
            .map(|(path, contents)| AppTemplate {
                path,
                template_name: path,
                contents: contents.as_bytes(),
            })
            .collect();
        let renderer = Renderer::with_templates(
            TREE.iter()
                .copied()
                .filter(|(path, _)| path.ends_with(".jinja")),
        )?;
        plan_templates(&templates, &renderer, &config, &[], "9.9.9")
    }

    fn paths(plan: &Plan) -> Vec<&str> {
        plan.files.iter().map(|file| file.path.as_str()).collect()
    }

    #[test]
    fn plan_renders_copies_and_expands_pages() {
        let plan = plan_tree("[pages.about]\ntitle = 'Say \"hi\"'\n[pages.faq]\n").unwrap();
        assert_eq!(
            paths(&plan),
            [
                "Cargo.toml",
                "bin/setup.sh",
                "migrations/0001_users.sql",
                "src/pages/about.rs",
                "src/pages/faq.rs",
                "src/pages/home.rs",
                "templates/auth/password_reset_done.html",
                "templates/auth/register.html",
                "templates/pages/about.html",
                "templates/pages/faq.html",
            ]
        );
        let file = |path: &str| {
            let file = plan.files.iter().find(|file| file.path == path).unwrap();
            String::from_utf8(file.contents.clone()).unwrap()
        };
        assert_eq!(file("Cargo.toml"), "[package]\nname = \"myshop\"\n");
        assert_eq!(
            file("src/pages/about.rs"),
            "//! Say \"hi\" at /about\npub const TITLE: &str = \"Say \\\"hi\\\"\";\n"
        );
        assert_eq!(file("templates/pages/faq.html"), "<h1>{{ title }}</h1>\n");
        assert_eq!(
            file("templates/auth/register.html"),
            "{% raw %}copied{% endraw %}\n"
        );
    }

    #[test]
    fn plan_marks_scripts_executable() {
        let plan = plan_tree("").unwrap();
        let executable: Vec<&str> = plan
            .files
            .iter()
            .filter(|file| file.executable)
            .map(|file| file.path.as_str())
            .collect();
        assert_eq!(executable, ["bin/setup.sh"]);
    }

    #[test]
    fn plan_leaves_out_disabled_features() {
        let plan = plan_tree(
            "[auth]\nregister_enabled = false\npassword_reset_enabled = false\n[pages.landing]\nroute = \"/\"\n",
        )
        .unwrap();
        assert_eq!(
            paths(&plan),
            [
                "Cargo.toml",
                "bin/setup.sh",
                "migrations/0001_users.sql",
                "src/pages/landing.rs",
                "templates/pages/landing.html",
            ]
        );
    }

    #[test]
    fn plan_records_migrations() {
        let plan = plan_tree("").unwrap();
        assert_eq!(plan.migrations.len(), 1);
        assert_eq!(plan.migrations[0].name, "0001_users.sql");
        assert_eq!(
            plan.migrations[0].sha256,
            sha256_hex(b"-- myshop\nCREATE TABLE users (id INTEGER);\n")
        );
    }

    #[test]
    fn undefined_variable_is_error() {
        let renderer = Renderer::with_templates([("app/x.jinja", "{{ app.nmae }}")]).unwrap();
        let config = crate::config::load("", "test.toml", Some("myshop")).unwrap();
        let templates = [AppTemplate {
            path: "x.jinja",
            template_name: "app/x.jinja",
            contents: b"",
        }];
        let error = plan_templates(&templates, &renderer, &config, &[], "9.9.9").unwrap_err();
        assert_eq!(
            format!("{error:#}").lines().next().unwrap(),
            "failed to generate `x`: failed to render template `templates/app/x.jinja`: undefined value: `app.nmae` is undefined (in app/x.jinja:1)"
        );
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
