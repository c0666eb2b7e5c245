//! `rdauth add page`, `rdauth remove page` and `rdauth rename page`: edit the pages of
//! `rdauth.toml` with comments kept, then sync.
//!
//! Each command builds the edited config in memory, validates it, and decides the whole sync
//! before it writes `rdauth.toml`, so an invalid request writes nothing.

use std::collections::HashSet;

use anyhow::{Context as _, Result};

use super::app::{App, SyncMode};
use super::{InputError, Outcome};
use crate::cli::{AddPageArgs, PageNameArgs, RenamePageArgs};
use crate::config::{self, rules, Config, NewPage, Page};
use crate::plan;
use crate::{shell, VERSION};

pub fn add(args: &AddPageArgs) -> Result<Outcome> {
    let app = App::locate()?;
    let config = app.load_config(&app.config_source)?;
    check_page_name(&args.name)?;
    if let Some(key) = &args.permission {
        if config.permission(key).is_none() {
            return Err(InputError::new(
                format!(
                    "permission `{key}` is not declared in `{}`",
                    app.config_origin
                ),
                format!("declare it first with `rdauth add permission {key}`"),
            )
            .into());
        }
    }

    let new_page = NewPage {
        name: &args.name,
        route: args.route.as_deref(),
        title: args.title.as_deref(),
        login_required: args.login_required,
        permission: args.permission.as_deref(),
        login_url: args.login_url.as_deref(),
    };
    let existing = config.pages.iter().find(|page| page.name == args.name);
    let without_page = match existing {
        Some(_) => config::remove_page(&app.config_source, &args.name)
            .context("failed to edit `rdauth.toml`")?
            .expect("the page exists"),
        None => app.config_source.clone(),
    };
    let edited =
        config::add_page(&without_page, &new_page).context("failed to edit `rdauth.toml`")?;
    let new_config = app.load_config(&edited)?;

    if let Some(existing) = existing {
        let requested = find_page(&new_config, &args.name);
        if requested == existing {
            shell::status(
                "Skipping",
                format!(
                    "page `{}` (already in `{}` with these settings)",
                    args.name, app.config_origin
                ),
            );
            return Ok(Outcome::Done);
        }
        return Err(InputError::new(
            format!(
                "page `{}` already exists with other settings: {}",
                args.name,
                describe_differences(existing, requested)
            ),
            format!(
                "edit `[pages.{}]` in `{}` and run `rdauth sync`, or choose another name",
                args.name, app.config_origin
            ),
        )
        .into());
    }

    shell::status(
        "Adding",
        format!("page `{}` to `{}`", args.name, app.config_origin),
    );
    sync_edited(&app, &new_config, &edited, &[])
}

pub fn remove(args: &PageNameArgs) -> Result<Outcome> {
    let app = App::locate()?;
    let config = app.load_config(&app.config_source)?;
    let Some(edited) = config::remove_page(&app.config_source, &args.name)
        .context("failed to edit `rdauth.toml`")?
    else {
        return Err(missing_page(&config, &args.name, &app.config_origin).into());
    };
    let new_config = app.load_config(&edited)?;

    shell::status(
        "Removing",
        format!("page `{}` from `{}`", args.name, app.config_origin),
    );
    sync_edited(&app, &new_config, &edited, &[])
}

pub fn rename(args: &RenamePageArgs) -> Result<Outcome> {
    let app = App::locate()?;
    let config = app.load_config(&app.config_source)?;
    check_page_name(&args.new)?;
    if config.pages.iter().any(|page| page.name == args.new) {
        return Err(InputError::new(
            format!(
                "page `{}` already exists in `{}`",
                args.new, app.config_origin
            ),
            "choose another name, or remove that page first with `rdauth remove page`",
        )
        .into());
    }
    let Some(edited) = config::rename_page(&app.config_source, &args.old, &args.new)
        .context("failed to edit `rdauth.toml`")?
    else {
        return Err(missing_page(&config, &args.old, &app.config_origin).into());
    };
    let new_config = app.load_config(&edited)?;
    let moves = page_moves(&app, &config, &new_config, &args.old, &args.new)?;

    shell::status(
        "Renaming",
        format!(
            "page `{}` to `{}` in `{}`",
            args.old, args.new, app.config_origin
        ),
    );
    sync_edited(&app, &new_config, &edited, &moves)
}

/// Decides the sync to `new_config` and runs it, writing `edited` as the new `rdauth.toml`
/// first.
fn sync_edited(
    app: &App,
    new_config: &Config,
    edited: &str,
    moves: &[(String, String)],
) -> Result<Outcome> {
    let (manifest, manifest_text) = app.manifest()?;
    let sync_plan = app.plan_sync(new_config, &manifest, &manifest_text, moves)?;
    app.finish_sync(new_config, &sync_plan, Some(edited), SyncMode::Apply)
}

/// Pairs each file that only the old page produces with the file that only the new page
/// produces at the same path with the new name, such as `src/pages/old.rs` and
/// `src/pages/new.rs`.
fn page_moves(
    app: &App,
    old_config: &Config,
    new_config: &Config,
    old: &str,
    new: &str,
) -> Result<Vec<(String, String)>> {
    let (manifest, _) = app.manifest()?;
    let old_plan = plan::plan(old_config, &manifest.migrations, VERSION)?;
    let new_plan = plan::plan(new_config, &manifest.migrations, VERSION)?;
    let old_paths: HashSet<&str> = old_plan
        .files
        .iter()
        .map(|file| file.path.as_str())
        .collect();
    let new_paths: HashSet<&str> = new_plan
        .files
        .iter()
        .map(|file| file.path.as_str())
        .collect();

    let mut moves = Vec::new();
    for path in old_plan.files.iter().map(|file| file.path.as_str()) {
        if new_paths.contains(path) {
            continue;
        }
        let renamed = rename_segment(path, old, new);
        if renamed != path
            && new_paths.contains(renamed.as_str())
            && !old_paths.contains(renamed.as_str())
        {
            moves.push((path.to_owned(), renamed));
        }
    }
    Ok(moves)
}

/// Replaces every path segment that is `old`, or `old` followed by an extension, with `new`.
fn rename_segment(path: &str, old: &str, new: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment == old {
                new.to_owned()
            } else if let Some(extension) = segment
                .strip_prefix(old)
                .filter(|rest| rest.starts_with('.'))
            {
                format!("{new}{extension}")
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn find_page<'c>(config: &'c Config, name: &str) -> &'c Page {
    config
        .pages
        .iter()
        .find(|page| page.name == name)
        .expect("the edited config contains the page")
}

fn check_page_name(name: &str) -> Result<()> {
    rules::check_page_name(name).map_err(|problem| {
        InputError::new(
            format!("invalid page name `{name}`: it {}", problem.reason),
            problem.help,
        )
        .into()
    })
}

fn missing_page(config: &Config, name: &str, origin: &str) -> InputError {
    let names: Vec<&str> = config.pages.iter().map(|page| page.name.as_str()).collect();
    let help = if names.is_empty() {
        format!("`{origin}` declares no pages")
    } else {
        format!("the pages are: {}", names.join(", "))
    };
    InputError::new(format!("there is no page `{name}` in `{origin}`"), help)
}

/// Lists the settings in which `requested` differs from `existing`.
fn describe_differences(existing: &Page, requested: &Page) -> String {
    let show = |value: Option<&str>| value.map_or("none".to_owned(), |value| format!("`{value}`"));
    let mut differences = Vec::new();
    if existing.route != requested.route {
        differences.push(format!(
            "route is `{}`, requested `{}`",
            existing.route, requested.route
        ));
    }
    if existing.title != requested.title {
        differences.push(format!(
            "title is {:?}, requested {:?}",
            existing.title, requested.title
        ));
    }
    if existing.login_required != requested.login_required {
        differences.push(format!(
            "login_required is {}, requested {}",
            existing.login_required, requested.login_required
        ));
    }
    if existing.permission != requested.permission {
        differences.push(format!(
            "permission is {}, requested {}",
            show(existing.permission.as_deref()),
            show(requested.permission.as_deref())
        ));
    }
    if existing.login_url != requested.login_url {
        differences.push(format!(
            "login_url is {}, requested {}",
            show(existing.login_url.as_deref()),
            show(requested.login_url.as_deref())
        ));
    }
    differences.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_segment_matches_whole_names() {
        assert_eq!(
            rename_segment("src/pages/billing.rs", "billing", "invoices"),
            "src/pages/invoices.rs"
        );
        assert_eq!(
            rename_segment("templates/pages/billing.html", "billing", "invoices"),
            "templates/pages/invoices.html"
        );
        assert_eq!(
            rename_segment("src/pages/billing_old.rs", "billing", "x"),
            "src/pages/billing_old.rs"
        );
        assert_eq!(rename_segment("billing/mod.rs", "billing", "x"), "x/mod.rs");
    }
}
