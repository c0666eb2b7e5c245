//! `rdauth new NAME [--config FILE]`: creates an app folder from a config.
//!
//! Everything is validated and rendered in memory first. The files then go into a temporary
//! folder next to the target, which is renamed onto the target at the end, so a failure at any
//! point leaves no partial app behind.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use minijinja::context;

use super::{InputError, Outcome};
use crate::cli::NewArgs;
use crate::config::{self, rules, Config, Database};
use crate::plan::{self, Plan};
use crate::render::Renderer;
use crate::sync::{self, DiskWriter, FileMode, Writer as _};
use crate::{shell, VERSION};

/// The template of the commented default config, relative to `templates/`.
const DEFAULT_CONFIG_TEMPLATE: &str = "rdauth.toml.jinja";

/// The config file's name inside the app.
pub const CONFIG_FILE: &str = "rdauth.toml";

/// The result of `new`, for the report.
#[derive(Debug)]
pub struct Created {
    pub target: PathBuf,
    pub config: Config,
    pub plan: Plan,
    /// The config file the app was generated from, as given; `None` for the defaults.
    pub config_origin: Option<String>,
}

pub fn run(args: &NewArgs) -> Result<Outcome> {
    let parent = std::env::current_dir().context("failed to read the current folder")?;
    let overrides = Overrides {
        bare: args.bare,
        database: args.database,
    };
    let created = create(&args.name, args.config.as_deref(), &overrides, &parent)?;
    report(&created);
    Ok(Outcome::Done)
}

/// Command-line settings that take precedence over the config's own.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    /// Leave out the example page.
    pub bare: bool,
    /// Generate for this database instead of the config's.
    pub database: Option<Database>,
}

/// Creates the app `name` as a subfolder of `parent`, from `config_path` or the defaults.
pub fn create(
    name: &str,
    config_path: Option<&Path>,
    overrides: &Overrides,
    parent: &Path,
) -> Result<Created> {
    if let Err(problem) = rules::check_crate_name(name) {
        return Err(InputError::new(
            format!("invalid app name `{name}`: it {}", problem.reason),
            problem.help,
        )
        .into());
    }
    let target = parent.join(name);
    ensure_free(&target, name)?;

    let (config, config_text, config_origin) = match config_path {
        Some(path) => {
            let (config, text) = load_given_config(path, name, overrides)?;
            (config, text, Some(path.display().to_string()))
        }
        None => {
            let database = overrides.database.unwrap_or(Database::Sqlite);
            let (config, text) = default_config(name, !overrides.bare, database)?;
            (config, text, None)
        }
    };
    let plan = plan::plan(&config, &[], VERSION)?;
    check_name_against_dependencies(name, &plan)?;
    let env_text = sync::env_file(name, config.app.database)?;

    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".rdauth-new")
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "failed to create a temporary folder in `{}`",
                parent.display()
            )
        })?;
    let mut writer = DiskWriter::new(staging.path());
    let mode = FileMode::for_new_file(false);
    writer.write(CONFIG_FILE, config_text.as_bytes(), mode)?;
    writer.write(".env", env_text.as_bytes(), mode)?;
    sync::write_new(&mut writer, &plan, VERSION)?;

    // The target may have appeared while the files were rendered and written, so check again.
    ensure_free(&target, name)?;
    move_into_place(staging.keep(), &target)?;

    Ok(Created {
        target,
        config,
        plan,
        config_origin,
    })
}

/// Rejects an app name that equals a dependency of the generated app, because the app's own
/// library and that dependency would then share one name in `use` paths.
fn check_name_against_dependencies(name: &str, plan: &Plan) -> Result<()> {
    let Some(manifest) = plan.files.iter().find(|file| file.path == "Cargo.toml") else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&manifest.contents);
    let document: toml_edit::DocumentMut = text
        .parse()
        .context("the generated `Cargo.toml` is not valid TOML")?;

    let ident = name.replace('-', "_");
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        let Some(table) = document.get(section).and_then(|item| item.as_table_like()) else {
            continue;
        };
        let clash = table
            .iter()
            .map(|(dependency, _)| dependency)
            .find(|dependency| dependency.replace('-', "_") == ident);
        if let Some(dependency) = clash {
            return Err(InputError::new(
                format!("invalid app name `{name}`: the generated app depends on the crate `{dependency}`"),
                format!("choose another name, such as `{ident}_app`"),
            )
            .into());
        }
    }
    Ok(())
}

/// Rejects a target that exists, unless it is an empty folder. `display_name` names the target
/// in messages as the user typed it.
fn ensure_free(target: &Path, display_name: &str) -> Result<()> {
    match fs::read_dir(target) {
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(()),
        Err(error) if target.is_dir() => {
            Err(anyhow::Error::new(error)
                .context(format!("failed to read folder `{display_name}`")))
        }
        Err(_) => Err(InputError::new(
            format!("destination `{display_name}` already exists and is not a folder"),
            "choose another app name, or move the file away",
        )
        .into()),
        Ok(mut entries) => {
            if entries.next().is_none() {
                Ok(())
            } else {
                Err(InputError::new(
                    format!("destination `{display_name}` already exists and is not empty"),
                    "choose another app name, or empty the folder first; rdauth never overwrites files",
                )
                .into())
            }
        }
    }
}

/// Renames the staged folder onto `target`. An empty folder at `target` is replaced; a
/// non-empty one makes the rename fail, so nothing is ever overwritten.
fn move_into_place(staged: PathBuf, target: &Path) -> Result<()> {
    let result = rename_onto(&staged, target);
    if result.is_err() {
        // The staged copy is only useful as the new app; leaving it would clutter the folder.
        let _ = fs::remove_dir_all(&staged);
    }
    result.with_context(|| format!("failed to move the new app into `{}`", target.display()))
}

#[cfg(unix)]
fn rename_onto(staged: &Path, target: &Path) -> std::io::Result<()> {
    // On Unix, rename replaces an empty folder and fails on a non-empty one.
    fs::rename(staged, target)
}

#[cfg(not(unix))]
fn rename_onto(staged: &Path, target: &Path) -> std::io::Result<()> {
    match fs::remove_dir(target) {
        Ok(()) => {}
        Err(error) if error.kind() == ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    fs::rename(staged, target)
}

/// Reads and validates the given config and returns it with the text of the app's copy, whose
/// `app.name` is set to `name`, whose `app.example` records whether the example page is there
/// (`--bare` turns it off) and whose `app.database` is the one `--database` chose.
fn load_given_config(path: &Path, name: &str, overrides: &Overrides) -> Result<(Config, String)> {
    let origin = path.display().to_string();
    let source = match fs::read_to_string(path) {
        Ok(source) => source,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Err(InputError::new(
                format!("config `{origin}` not found"),
                "check the path, or leave out `--config` to start from the commented default",
            )
            .into());
        }
        Err(error) => {
            return Err(
                anyhow::Error::new(error).context(format!("failed to read config `{origin}`"))
            );
        }
    };
    let mut config = config::load(&source, &origin, Some(name))?;
    let edit_failed = || format!("failed to edit config `{origin}`");
    let text = config::set_app_name(&source, name).with_context(edit_failed)?;
    let example = config.app.example && !overrides.bare;
    let text = config::set_app_example(&text, example).with_context(edit_failed)?;
    let text = match overrides.database {
        Some(database) => config::set_app_database(&text, database).with_context(edit_failed)?,
        None => text,
    };
    let database = overrides.database.unwrap_or(config.app.database);
    if example != config.app.example || database != config.app.database {
        config = config::load(&text, &origin, Some(name))?;
    }
    Ok((config, text))
}

/// Renders the commented default config for `name` and loads it.
fn default_config(name: &str, example: bool, database: Database) -> Result<(Config, String)> {
    let text = render_default_config(name, example, database)?;
    let config =
        config::load(&text, CONFIG_FILE, None).context("the built-in default config is invalid")?;
    Ok((config, text))
}

/// Renders the default `rdauth.toml`, which lists every key with its default value.
pub fn render_default_config(name: &str, example: bool, database: Database) -> Result<String> {
    let renderer = Renderer::new()?;
    let context = context! {
        app_name => name,
        example => example,
        database => database.as_str(),
    };
    renderer.render(DEFAULT_CONFIG_TEMPLATE, &context)
}

fn report(created: &Created) {
    let name = &created.config.app.name;
    let source = match &created.config_origin {
        Some(origin) => format!("from `{origin}`"),
        None => "with the default config".to_owned(),
    };
    shell::status("Creating", format!("app `{name}` {source}"));
    shell::status(
        "Created",
        format!(
            "{} files in `{name}/`: {}, {}, {}",
            created.plan.files.len(),
            count(created.config.pages.len(), "page"),
            count(created.config.permissions.len(), "permission"),
            count(created.config.groups.len(), "group"),
        ),
    );
    shell::note("`.env` contains a fresh SECRET_KEY; keep it out of version control");
    shell::line("");
    shell::line("Next steps:");
    shell::line(format!("  cd {name}"));
    if created.config.app.database == Database::Postgres {
        shell::line(format!("  createdb {name}"));
    }
    if created.config.auth.username_field == config::UsernameField::Email {
        shell::line("  cargo run -- createsuperuser --email admin@example.com");
    } else {
        shell::line("  cargo run -- createsuperuser --username admin --email admin@example.com");
    }
    shell::line("  cargo run");
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlannedFile;

    fn plan_with_manifest(manifest: &str) -> Plan {
        Plan {
            files: vec![PlannedFile {
                path: "Cargo.toml".into(),
                contents: manifest.as_bytes().to_vec(),
                executable: false,
            }],
            migrations: Vec::new(),
        }
    }

    #[test]
    fn app_name_cannot_be_dependency() {
        let plan = plan_with_manifest(
            "[dependencies]\naxum = \"0.8\"\ntower-sessions = \"0.14\"\n[dev-dependencies]\nreqwest = \"0.12\"\n",
        );
        assert!(check_name_against_dependencies("myshop", &plan).is_ok());
        for name in ["axum", "tower_sessions", "tower-sessions", "reqwest"] {
            let error = check_name_against_dependencies(name, &plan).unwrap_err();
            assert!(error.downcast_ref::<InputError>().is_some(), "{name}");
        }
    }
}
