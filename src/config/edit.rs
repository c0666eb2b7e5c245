//! Edits of `rdauth.toml` that keep the user's comments and layout.
//!
//! Edits go through `toml_edit::DocumentMut` and touch only the keys rdauth owns; the file is
//! never round-tripped through serde.

use toml_edit::{DocumentMut, Item, Table, Value};

/// Sets `[app] name` in `source` and returns the edited text. A `name` that is already there
/// keeps its comments; a missing `[app]` table is added at the top of the file.
pub fn set_app_name(source: &str, name: &str) -> Result<String, toml_edit::TomlError> {
    let mut document: DocumentMut = source.parse()?;

    if !document.contains_key("app") {
        let mut app = Table::new();
        // Position 0 places the new table before every table the file already has.
        app.set_position(Some(0));
        document.insert("app", Item::Table(app));
    }
    let inline = document["app"].is_inline_table();
    let app = document["app"]
        .as_table_like_mut()
        .expect("`load` accepted the config, so `app` is a table");

    let mut value = Value::from(name);
    match app.get_mut("name").and_then(Item::as_value_mut) {
        Some(old) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        None => {
            // In an inline table the last value carries the space before `}`; it moves to the
            // new last value so the table keeps its layout.
            let mut last_suffix = None;
            if let Some((_, last)) = app.iter_mut().last().filter(|_| inline) {
                if let Some(last) = last.as_value_mut() {
                    last_suffix = last.decor().suffix().cloned();
                    last.decor_mut().set_suffix("");
                }
            }
            if let Some(suffix) = last_suffix {
                value.decor_mut().set_suffix(suffix);
            }
            app.insert("name", Item::Value(value));
        }
    }
    Ok(document.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_name_and_keeps_comments() {
        let source = "# my shop\n[app]\nname = \"old\" # the crate\ndatabase = \"sqlite\"\n";
        let edited = set_app_name(source, "myshop").unwrap();
        assert_eq!(
            edited,
            "# my shop\n[app]\nname = \"myshop\" # the crate\ndatabase = \"sqlite\"\n"
        );
    }

    #[test]
    fn adds_missing_app_table_first() {
        let source = "# auth settings\n[auth]\nmin_password_length = 12\n";
        let edited = set_app_name(source, "myshop").unwrap();
        assert_eq!(
            edited,
            "[app]\nname = \"myshop\"\n# auth settings\n[auth]\nmin_password_length = 12\n"
        );
    }

    #[test]
    fn adds_name_to_existing_app_table() {
        let source = "[app]\ndatabase = \"sqlite\" # the only choice\n";
        let edited = set_app_name(source, "myshop").unwrap();
        assert_eq!(
            edited,
            "[app]\ndatabase = \"sqlite\" # the only choice\nname = \"myshop\"\n"
        );
    }

    #[test]
    fn sets_name_in_inline_table() {
        let source = "app = { database = \"sqlite\" }\n";
        let edited = set_app_name(source, "myshop").unwrap();
        assert_eq!(
            edited,
            "app = { database = \"sqlite\", name = \"myshop\" }\n"
        );
    }
}
