//! `rdauth add permission APP.CODENAME [NAME]`: declares a permission in `rdauth.toml` with
//! comments kept, then syncs.

use anyhow::{Context as _, Result};

use super::app::{App, SyncMode};
use super::{InputError, Outcome};
use crate::cli::AddPermissionArgs;
use crate::config::{self, rules};
use crate::shell;

pub fn add(args: &AddPermissionArgs) -> Result<Outcome> {
    let app = App::locate()?;
    let config = app.load_config(&app.config_source)?;
    let (app_label, codename) = split_key(&args.key)?;
    let name = args.name.clone().unwrap_or_else(|| default_name(codename));

    if let Some(existing) = config.permission(&args.key) {
        if existing.name == name {
            shell::status(
                "Skipping",
                format!(
                    "permission `{}` (already declared as {:?})",
                    args.key, existing.name
                ),
            );
            return Ok(Outcome::Done);
        }
        return Err(InputError::new(
            format!(
                "permission `{}` is already declared with the name {:?}",
                args.key, existing.name
            ),
            format!(
                "edit `[permissions.{app_label}]` in `{}` to change its name",
                app.config_origin
            ),
        )
        .into());
    }

    let edited = config::add_permission(&app.config_source, app_label, codename, &name)
        .context("failed to edit `rdauth.toml`")?;
    let new_config = app.load_config(&edited)?;
    let (manifest, manifest_text) = app.manifest()?;
    let sync_plan = app.plan_sync(&new_config, &manifest, &manifest_text, &[])?;

    shell::status(
        "Adding",
        format!(
            "permission `{}` ({name:?}) to `{}`",
            args.key, app.config_origin
        ),
    );
    app.finish_sync(&new_config, &sync_plan, Some(&edited), SyncMode::Apply)
}

/// Splits `app_label.codename` and checks both parts.
fn split_key(key: &str) -> Result<(&str, &str)> {
    let invalid = |reason: String| -> anyhow::Error {
        InputError::new(
            format!("invalid permission `{key}`: {reason}"),
            "write it as APP.CODENAME, such as `shop.view_report`",
        )
        .into()
    };
    let Some((app_label, codename)) = key.split_once('.') else {
        return Err(invalid(
            "it has no `.` between the app label and the codename".into(),
        ));
    };
    for part in [app_label, codename] {
        if let Err(problem) = rules::check_identifier(part) {
            return Err(invalid(format!("`{part}` {}", problem.reason)));
        }
    }
    Ok((app_label, codename))
}

/// Returns the name a permission gets when none is given: `view_report` becomes
/// "Can view report".
pub fn default_name(codename: &str) -> String {
    format!("Can {}", codename.replace('_', " ").trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_name_spells_codename() {
        assert_eq!(default_name("view_report"), "Can view report");
        assert_eq!(default_name("refund"), "Can refund");
    }

    #[test]
    fn split_key_rejects_malformed() {
        assert_eq!(split_key("shop.refund").unwrap(), ("shop", "refund"));
        assert!(split_key("shop").is_err());
        assert!(split_key("shop.Refund").is_err());
        assert!(split_key("a.b.c").is_err());
    }
}
