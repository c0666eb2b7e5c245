//! `rdauth.toml`: the model, its defaults, validation with source locations, and edits that
//! keep the user's comments.
//!
//! [`load`] is the only way to get a [`Config`]. It parses the TOML with `toml_edit`, walks it
//! key by key (`parse`) and checks values against each other (`validate`). It returns either a
//! config or every problem found, each with its line and column.

mod diagnostic;
mod edit;
mod model;
mod parse;
pub mod rules;
mod validate;

pub use diagnostic::{locate, ConfigErrors, Diagnostic, Location};
pub use edit::{
    add_page, add_permission, remove_page, rename_page, set_app_database, set_app_example,
    set_app_name, NewPage,
};
pub use model::{
    variant_name, AppSettings, AuthSettings, Config, Database, Group, Page, PageTitles, Permission,
    UsernameField,
};

/// Parses and validates the config `source`. `origin` names the file in error messages.
/// `name_override`, the app name from the command line, replaces `app.name` from the file.
pub fn load(
    source: &str,
    origin: &str,
    name_override: Option<&str>,
) -> Result<Config, ConfigErrors> {
    let mut diagnostics = Vec::new();
    let errors = |diagnostics: Vec<Diagnostic>| ConfigErrors {
        origin: origin.to_owned(),
        source: source.to_owned(),
        diagnostics,
    };

    let document = match toml_edit::Document::parse(source) {
        Ok(document) => document,
        Err(error) => {
            diagnostics.push(syntax_error(&error));
            return Err(errors(diagnostics));
        }
    };

    let mut raw = parse::parse(&document, name_override, &mut diagnostics);
    let app_name = match (name_override, raw.app_name.take()) {
        (Some(name), _) => name.to_owned(),
        (None, Some(name)) => name.value,
        (None, None) => {
            // An invalid name was reported already; only a missing one needs a message here.
            let name_present = document
                .as_table()
                .get("app")
                .and_then(|app| app.get("name"))
                .is_some();
            if !name_present {
                diagnostics.push(
                    Diagnostic::new("missing `app.name`", None)
                        .with_help("add `name = \"myshop\"` under `[app]`"),
                );
            }
            String::new()
        }
    };
    let config = validate::validate(raw, app_name, &mut diagnostics);

    if diagnostics.is_empty() {
        Ok(config)
    } else {
        // Problems in file order read best; those without a location go last.
        diagnostics.sort_by_key(|diagnostic| {
            diagnostic
                .span
                .as_ref()
                .map_or(usize::MAX, |span| span.start)
        });
        Err(errors(diagnostics))
    }
}

fn syntax_error(error: &toml_edit::TomlError) -> Diagnostic {
    let message = error.message().trim();
    let first_line = message.lines().next().unwrap_or("invalid TOML");
    Diagnostic::new(format!("invalid TOML: {first_line}"), error.span())
        .with_help("fix the TOML syntax; see https://toml.io for the format")
}

#[cfg(test)]
mod tests;
