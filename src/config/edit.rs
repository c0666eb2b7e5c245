//! Edits of `rdauth.toml` that keep the user's comments and layout.
//!
//! Edits go through `toml_edit::DocumentMut` and touch only the keys rdauth owns; the file is
//! never round-tripped through serde.

use toml_edit::{DocumentMut, Item, Table, TableLike, Value};

use super::model::Database;

/// Sets `[app] name` in `source` and returns the edited text. A `name` that is already there
/// keeps its comments; a missing `[app]` table is added at the top of the file.
pub fn set_app_name(source: &str, name: &str) -> Result<String, toml_edit::TomlError> {
    set_app_value(source, "name", Value::from(name))
}

/// Sets `[app] example` in `source` and returns the edited text, like [`set_app_name`].
pub fn set_app_example(source: &str, example: bool) -> Result<String, toml_edit::TomlError> {
    set_app_value(source, "example", Value::from(example))
}

/// Sets `app.database`, keeping the rest of the file as it is.
pub fn set_app_database(source: &str, database: Database) -> Result<String, toml_edit::TomlError> {
    set_app_value(source, "database", Value::from(database.as_str()))
}

fn set_app_value(
    source: &str,
    key: &str,
    mut value: Value,
) -> Result<String, toml_edit::TomlError> {
    let mut document: DocumentMut = source.parse()?;

    if !document.contains_key("app") {
        let mut app = Table::new();
        // Position 0 places the new table before every table the file already has.
        app.set_position(Some(0));
        // The file's header comment is part of its first table's prefix, up to the last blank
        // line. It moves to the new first table so it stays at the top of the file, and the
        // comment right above the old first table stays with it.
        let first = document
            .iter_mut()
            .filter_map(|(_, item)| item.as_table_mut())
            .min_by_key(|table| table.position().unwrap_or(isize::MAX));
        if let Some(first) = first {
            let prefix = first
                .decor()
                .prefix()
                .and_then(|prefix| prefix.as_str())
                .unwrap_or_default()
                .to_owned();
            let (header, own) = match prefix.rfind("\n\n") {
                Some(at) => prefix.split_at(at + 2),
                None => ("", prefix.as_str()),
            };
            if !header.trim().is_empty() {
                app.decor_mut().set_prefix(header);
            }
            let own = if header.trim().is_empty() {
                prefix.as_str()
            } else {
                own
            };
            // A blank line separates the new table from the one that follows it.
            first
                .decor_mut()
                .set_prefix(format!("\n{}", own.trim_start_matches('\n')));
        }
        document.insert("app", Item::Table(app));
    }
    let inline = document["app"].is_inline_table();
    let app = document["app"]
        .as_table_like_mut()
        .expect("`load` accepted the config, so `app` is a table");

    match app.get_mut(key).and_then(Item::as_value_mut) {
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
            app.insert(key, Item::Value(value));
        }
    }
    Ok(document.to_string())
}

/// The settings of a page that `rdauth add page` writes. `None` and `false` leave the key out,
/// so the page takes the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPage<'a> {
    pub name: &'a str,
    pub route: Option<&'a str>,
    pub title: Option<&'a str>,
    pub login_required: bool,
    pub permission: Option<&'a str>,
    pub login_url: Option<&'a str>,
}

/// Adds `[pages.NAME]` with the given settings at the end of the file, or replaces the page's
/// table when one exists.
pub fn add_page(source: &str, page: &NewPage<'_>) -> Result<String, toml_edit::TomlError> {
    let mut document: DocumentMut = source.parse()?;

    let mut table = Table::new();
    if let Some(route) = page.route {
        table["route"] = toml_edit::value(route);
    }
    if let Some(title) = page.title {
        table["title"] = toml_edit::value(title);
    }
    if page.login_required {
        table["login_required"] = toml_edit::value(true);
    }
    if let Some(permission) = page.permission {
        table["permission"] = toml_edit::value(permission);
    }
    if let Some(login_url) = page.login_url {
        table["login_url"] = toml_edit::value(login_url);
    }

    insert_table(&mut document, "pages", page.name, table);
    Ok(document.to_string())
}

/// Adds `codename = "name"` to `[permissions.APP_LABEL]`, creating the table at the end of the
/// file when it is missing. An existing entry is replaced.
pub fn add_permission(
    source: &str,
    app_label: &str,
    codename: &str,
    name: &str,
) -> Result<String, toml_edit::TomlError> {
    let mut document: DocumentMut = source.parse()?;
    let permissions = child_table(&mut document, "permissions");
    match permissions.get_mut(app_label) {
        Some(item) if item.is_table_like() => {
            let table = item
                .as_table_like_mut()
                .expect("the item was checked to be a table");
            set_value(table, codename, Value::from(name));
        }
        _ => {
            let mut table = Table::new();
            table[codename] = toml_edit::value(name);
            insert_table(&mut document, "permissions", app_label, table);
        }
    }
    Ok(document.to_string())
}

/// Removes `[pages.NAME]` and the comments above its header. Returns `None` when the config has
/// no such page.
pub fn remove_page(source: &str, name: &str) -> Result<Option<String>, toml_edit::TomlError> {
    let mut document: DocumentMut = source.parse()?;
    let removed = document
        .get_mut("pages")
        .and_then(Item::as_table_like_mut)
        .and_then(|pages| pages.remove(name));
    Ok(removed.map(|_| document.to_string()))
}

/// Renames `[pages.OLD]` to `[pages.NEW]`, keeping its settings, comments and place in the
/// file. Returns `None` when the config has no page `old`.
pub fn rename_page(
    source: &str,
    old: &str,
    new: &str,
) -> Result<Option<String>, toml_edit::TomlError> {
    let mut document: DocumentMut = source.parse()?;
    let Some(pages) = document.get_mut("pages").and_then(Item::as_table_like_mut) else {
        return Ok(None);
    };
    let Some(item) = pages.remove(old) else {
        return Ok(None);
    };
    // A `[pages.NAME]` table keeps its position in the file, so the renamed header prints
    // where the old one was.
    pages.insert(new, item);
    Ok(Some(document.to_string()))
}

/// Returns the table `key` at the top of the document, creating it as an implicit table, which
/// prints no header of its own.
fn child_table<'d>(document: &'d mut DocumentMut, key: &str) -> &'d mut dyn TableLike {
    if !document.contains_key(key) {
        let mut table = Table::new();
        table.set_implicit(true);
        document.insert(key, Item::Table(table));
    }
    document[key]
        .as_table_like_mut()
        .expect("`load` accepted the config, so the key is a table")
}

/// Inserts `[parent.key]` after every table the file has, separated by a blank line.
fn insert_table(document: &mut DocumentMut, parent: &str, key: &str, mut table: Table) {
    table.set_position(Some(max_position(document.as_table()) + 1));

    // Comments after the last table belong to the document's trailer, which prints after
    // every table. They move above the new table so that it lands at the end of the file.
    let trailing = document.trailing().as_str().unwrap_or_default().to_owned();
    document.set_trailing("");
    let prefix = if trailing.is_empty() {
        "\n".to_owned()
    } else if trailing.ends_with("\n\n") {
        trailing
    } else {
        format!("{trailing}\n")
    };
    table.decor_mut().set_prefix(prefix);

    let inline = document.get(parent).is_some_and(Item::is_inline_table);
    let parent = child_table(document, parent);
    if inline {
        let inline_table = table.into_inline_table();
        parent.insert(key, Item::Value(Value::InlineTable(inline_table)));
    } else {
        parent.insert(key, Item::Table(table));
    }
}

/// Returns the largest position of any table in `table`, searched recursively.
fn max_position(table: &Table) -> isize {
    let mut max = table.position().unwrap_or(0);
    for (_, item) in table.iter() {
        if let Some(child) = item.as_table() {
            max = max.max(max_position(child));
        }
    }
    max
}

/// Sets `key` to `value` in `table`, keeping the comments of a value that is replaced.
fn set_value(table: &mut dyn TableLike, key: &str, mut value: Value) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
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
            "[app]\nname = \"myshop\"\n\n# auth settings\n[auth]\nmin_password_length = 12\n"
        );
    }

    #[test]
    fn header_comment_stays_on_top() {
        let source = "# my shop\n\n# auth settings\n[auth]\nmin_password_length = 12\n";
        let edited = set_app_name(source, "myshop").unwrap();
        assert_eq!(
            edited,
            "# my shop\n\n[app]\nname = \"myshop\"\n\n# auth settings\n[auth]\nmin_password_length = 12\n"
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

    const CONFIG: &str = "# shop settings\n[app]\nname = \"shop\"\n\n[permissions.blog]\nchange_post = \"Can change post\" # editors\n\n# The billing page.\n[pages.billing]\nroute = \"/bill\"\n\n[pages.about]\n";

    #[test]
    fn add_page_appends_table() {
        let page = NewPage {
            name: "reports",
            login_required: true,
            permission: Some("blog.change_post"),
            ..NewPage::default()
        };
        let edited = add_page(CONFIG, &page).unwrap();
        assert_eq!(
            edited,
            format!("{CONFIG}\n[pages.reports]\nlogin_required = true\npermission = \"blog.change_post\"\n")
        );
    }

    #[test]
    fn add_page_to_config_without_pages() {
        let edited = add_page(
            "[app]\nname = \"shop\"\n# the end\n",
            &NewPage {
                name: "faq",
                title: Some("Questions"),
                ..NewPage::default()
            },
        )
        .unwrap();
        assert_eq!(
            edited,
            "[app]\nname = \"shop\"\n# the end\n\n[pages.faq]\ntitle = \"Questions\"\n"
        );
    }

    #[test]
    fn add_permission_extends_existing_table() {
        let edited = add_permission(CONFIG, "blog", "delete_post", "Can delete post").unwrap();
        assert_eq!(
            edited,
            CONFIG.replace(
                "# editors\n",
                "# editors\ndelete_post = \"Can delete post\"\n"
            )
        );
    }

    #[test]
    fn add_permission_creates_table() {
        let edited = add_permission(CONFIG, "shop", "refund", "Can refund").unwrap();
        assert_eq!(
            edited,
            format!("{CONFIG}\n[permissions.shop]\nrefund = \"Can refund\"\n")
        );
    }

    #[test]
    fn remove_page_drops_table_and_comment() {
        let edited = remove_page(CONFIG, "billing").unwrap().unwrap();
        assert_eq!(
            edited,
            CONFIG.replace(
                "\n# The billing page.\n[pages.billing]\nroute = \"/bill\"\n",
                ""
            )
        );
        assert_eq!(remove_page(CONFIG, "missing").unwrap(), None);
    }

    #[test]
    fn rename_page_keeps_place_and_comments() {
        let edited = rename_page(CONFIG, "billing", "invoices").unwrap().unwrap();
        assert_eq!(
            edited,
            CONFIG.replace("[pages.billing]", "[pages.invoices]")
        );
        assert_eq!(rename_page(CONFIG, "missing", "x").unwrap(), None);
    }
}
