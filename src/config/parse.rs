//! Walks a parsed `rdauth.toml` document key by key and checks each value on its own: known
//! keys, types, ranges, names, paths and text.
//!
//! The walk records where every value came from, so `validate` can point at the right place
//! when it checks values against each other. Problems are collected, never returned early.

use std::ops::Range;

use heck::ToTitleCase;
use toml_edit::{Item, TableLike, Value};

use super::diagnostic::Diagnostic;
use super::model::{AuthSettings, Database, Permission, UsernameField};
use super::rules::{self, Problem};

/// A value with the byte range it was read from.
#[derive(Debug, Clone)]
pub(super) struct Spanned<T> {
    pub value: T,
    pub span: Option<Range<usize>>,
}

/// Everything read from the document, before the checks that compare values with each other.
#[derive(Debug, Default)]
pub(super) struct RawConfig {
    pub app_name: Option<Spanned<String>>,
    pub database: Option<Database>,
    pub example: Option<bool>,
    pub auth: AuthSettings,
    /// The URL keys of `[auth]` that the file sets to a valid path, with their spans.
    pub auth_url_spans: Vec<(&'static str, Option<Range<usize>>)>,
    pub permissions: Vec<RawPermission>,
    pub groups: Vec<RawGroup>,
    pub pages: Vec<RawPage>,
}

#[derive(Debug)]
pub(super) struct RawPermission {
    pub permission: Permission,
    pub codename_span: Option<Range<usize>>,
}

#[derive(Debug)]
pub(super) struct RawGroup {
    pub name: String,
    /// Permission keys as written, each with its span.
    pub permissions: Vec<Spanned<String>>,
}

#[derive(Debug)]
pub(super) struct RawPage {
    pub name: String,
    pub name_span: Option<Range<usize>>,
    /// `None` when the route in the file is invalid, which has been reported already.
    pub route: Option<Spanned<String>>,
    /// True when the route comes from the file, false when it is the default `/NAME`.
    pub route_explicit: bool,
    pub title: String,
    pub login_required: Option<Spanned<bool>>,
    pub permission: Option<Spanned<String>>,
    pub login_url: Option<Spanned<String>>,
}

const ROOT_KEYS: &[&str] = &["app", "auth", "permissions", "groups", "pages"];
const APP_KEYS: &[&str] = &["name", "database", "example"];
pub(super) const AUTH_KEYS: &[&str] = &[
    "login_url",
    "register_url",
    "logout_url",
    "password_change_url",
    "password_reset_url",
    "password_reset_confirm_url",
    "post_login_url",
    "post_logout_url",
    "username_field",
    "min_password_length",
    "register_enabled",
    "password_reset_enabled",
    "session_age_seconds",
    "password_reset_timeout_seconds",
    "login_attempts",
    "login_window_seconds",
    "auto_sync",
    "page_titles",
];
pub(super) const PAGE_TITLE_KEYS: &[&str] = &[
    "login",
    "register",
    "password_change",
    "password_reset",
    "password_reset_confirm",
];
pub(super) const PAGE_KEYS: &[&str] = &[
    "route",
    "title",
    "login_required",
    "permission",
    "login_url",
];

/// Reads the whole document. `name_override` is the app name given on the command line; when
/// set, `app.name` in the file is replaced, so it is not checked.
pub(super) fn parse(
    document: &toml_edit::Document<&str>,
    name_override: Option<&str>,
    diagnostics: &mut Vec<Diagnostic>,
) -> RawConfig {
    let mut walker = Walker { diagnostics };
    let mut raw = RawConfig::default();
    let root = document.as_table();

    walker.reject_unknown_keys(root, "", ROOT_KEYS);
    if let Some(app) = walker.table(root, "app", "") {
        walker.read_app(app, name_override, &mut raw);
    }
    if let Some(auth) = walker.table(root, "auth", "") {
        walker.read_auth(auth, &mut raw);
    }
    if let Some(permissions) = walker.table(root, "permissions", "") {
        walker.read_permissions(permissions, &mut raw);
    }
    if let Some(groups) = walker.table(root, "groups", "") {
        walker.read_groups(groups, &mut raw);
    }
    if let Some(pages) = walker.table(root, "pages", "") {
        walker.read_pages(pages, &mut raw);
    }
    raw
}

struct Walker<'d> {
    diagnostics: &'d mut Vec<Diagnostic>,
}

impl Walker<'_> {
    fn read_app(&mut self, app: &dyn TableLike, name_override: Option<&str>, raw: &mut RawConfig) {
        self.reject_unknown_keys(app, "app", APP_KEYS);

        if name_override.is_none() {
            if let Some(name) = self.string(app, "name", "app", "myshop") {
                match rules::check_crate_name(&name.value) {
                    Ok(()) => raw.app_name = Some(name),
                    Err(problem) => self.invalid("app.name", &name, problem),
                }
            }
        }

        if let Some(database) = self.string(app, "database", "app", "sqlite") {
            match Database::parse(&database.value) {
                Some(parsed) => raw.database = Some(parsed),
                None => self.push(
                    Diagnostic::new(
                        format!(
                            "unsupported database `{}` in `app.database`",
                            database.value
                        ),
                        database.span,
                    )
                    .with_help(format!(
                        "supported databases: {}",
                        quote_list(Database::SUPPORTED)
                    )),
                ),
            }
        }

        if let Some(example) = self.boolean(app, "example", "app") {
            raw.example = Some(example.value);
        }
    }

    fn read_auth(&mut self, table: &dyn TableLike, raw: &mut RawConfig) {
        self.reject_unknown_keys(table, "auth", AUTH_KEYS);
        let auth = &mut raw.auth;

        let urls: [(&'static str, &mut String); 8] = [
            ("login_url", &mut auth.login_url),
            ("register_url", &mut auth.register_url),
            ("logout_url", &mut auth.logout_url),
            ("password_change_url", &mut auth.password_change_url),
            ("password_reset_url", &mut auth.password_reset_url),
            (
                "password_reset_confirm_url",
                &mut auth.password_reset_confirm_url,
            ),
            ("post_login_url", &mut auth.post_login_url),
            ("post_logout_url", &mut auth.post_logout_url),
        ];
        for (key, slot) in urls {
            let example = format!("/{}", key.trim_end_matches("_url"));
            if let Some(path) = self.path(table, key, "auth", &example) {
                raw.auth_url_spans.push((key, path.span.clone()));
                *slot = path.value;
            }
        }

        if let Some(field) = self.string(table, "username_field", "auth", "email") {
            match UsernameField::parse(&field.value) {
                Some(parsed) => auth.username_field = parsed,
                None => self.push(
                    Diagnostic::new(
                        format!("invalid `auth.username_field` `{}`", field.value),
                        field.span,
                    )
                    .with_help(format!(
                        "use {}",
                        quote_alternatives(UsernameField::SUPPORTED)
                    )),
                ),
            }
        }

        // Eight characters is the minimum that NIST SP 800-63B sets for user-chosen passwords.
        let integers: [(&str, &mut i64, i64, i64); 5] = [
            (
                "min_password_length",
                &mut auth.min_password_length,
                8,
                1024,
            ),
            (
                "session_age_seconds",
                &mut auth.session_age_seconds,
                60,
                31_536_000,
            ),
            (
                "password_reset_timeout_seconds",
                &mut auth.password_reset_timeout_seconds,
                60,
                604_800,
            ),
            ("login_attempts", &mut auth.login_attempts, 1, 1000),
            (
                "login_window_seconds",
                &mut auth.login_window_seconds,
                1,
                86_400,
            ),
        ];
        for (key, slot, min, max) in integers {
            if let Some(value) = self.integer(table, key, "auth", min, max) {
                *slot = value;
            }
        }

        let booleans: [(&str, &mut bool); 3] = [
            ("register_enabled", &mut auth.register_enabled),
            ("password_reset_enabled", &mut auth.password_reset_enabled),
            ("auto_sync", &mut auth.auto_sync),
        ];
        for (key, slot) in booleans {
            if let Some(value) = self.boolean(table, key, "auth") {
                *slot = value.value;
            }
        }

        if let Some(titles) = self.table(table, "page_titles", "auth") {
            self.reject_unknown_keys(titles, "auth.page_titles", PAGE_TITLE_KEYS);
            let slots: [(&str, &mut String); 5] = [
                ("login", &mut auth.page_titles.login),
                ("register", &mut auth.page_titles.register),
                ("password_change", &mut auth.page_titles.password_change),
                ("password_reset", &mut auth.page_titles.password_reset),
                (
                    "password_reset_confirm",
                    &mut auth.page_titles.password_reset_confirm,
                ),
            ];
            for (key, slot) in slots {
                if let Some(title) =
                    self.text(titles, key, "auth.page_titles", "Log in", rules::MAX_TITLE)
                {
                    *slot = title.value;
                }
            }
        }
    }

    fn read_permissions(&mut self, permissions: &dyn TableLike, raw: &mut RawConfig) {
        for (label, item) in permissions.iter() {
            let label_span = permissions.key(label).and_then(|key| key.span());
            let label_path = key_path("permissions", label);
            let label_valid = self.identifier(label, &label_path, "app label", label_span.clone());

            let Some(codenames) = item.as_table_like() else {
                self.push(
                    Diagnostic::new(
                        format!(
                            "`{label_path}` must be a table of permissions, found {}",
                            describe_type(item)
                        ),
                        item.span().or(label_span),
                    )
                    .with_help(format!(
                        "write `[{label_path}]` followed by lines such as `change_post = \"Can change post\"`"
                    )),
                );
                continue;
            };

            for (codename, _) in codenames.iter() {
                let codename_span = codenames.key(codename).and_then(|key| key.span());
                let path = key_path(&label_path, codename);
                let codename_valid =
                    self.identifier(codename, &path, "codename", codename_span.clone());
                let name = self.text(
                    codenames,
                    codename,
                    &label_path,
                    "Can change post",
                    rules::MAX_PERMISSION_NAME,
                );
                if let (true, true, Some(name)) = (label_valid, codename_valid, name) {
                    raw.permissions.push(RawPermission {
                        permission: Permission {
                            app_label: label.to_owned(),
                            codename: codename.to_owned(),
                            name: name.value,
                        },
                        codename_span,
                    });
                }
            }
        }
    }

    fn read_groups(&mut self, groups: &dyn TableLike, raw: &mut RawConfig) {
        for (name, item) in groups.iter() {
            let name_span = groups.key(name).and_then(|key| key.span());
            let path = key_path("groups", name);
            let mut name_valid = true;
            if let Err(problem) = rules::check_text(name, rules::MAX_GROUP_NAME) {
                name_valid = false;
                self.push(
                    Diagnostic::new(
                        format!("invalid group name `{path}`: it {}", problem.reason),
                        name_span.clone(),
                    )
                    .with_help(problem.help),
                );
            }

            let Some(array) = item.as_array() else {
                self.push(
                    Diagnostic::new(
                        format!(
                            "`{path}` must be an array of permission names, found {}",
                            describe_type(item)
                        ),
                        item.span().or(name_span),
                    )
                    .with_help("write it as `[\"blog.change_post\", \"blog.delete_post\"]`"),
                );
                continue;
            };

            let mut permissions = Vec::new();
            for element in array.iter() {
                match element.as_str() {
                    Some(key) => permissions.push(Spanned {
                        value: key.to_owned(),
                        span: element.span(),
                    }),
                    None => self.push(
                        Diagnostic::new(
                            format!(
                                "`{path}` must list permissions as strings, found {}",
                                describe_value_type(element)
                            ),
                            element.span(),
                        )
                        .with_help(
                            "write each permission in quotes, such as `\"blog.change_post\"`",
                        ),
                    ),
                }
            }
            if name_valid {
                raw.groups.push(RawGroup {
                    name: name.to_owned(),
                    permissions,
                });
            }
        }
    }

    fn read_pages(&mut self, pages: &dyn TableLike, raw: &mut RawConfig) {
        for (name, item) in pages.iter() {
            let name_span = pages.key(name).and_then(|key| key.span());
            let path = key_path("pages", name);
            let name_valid = match rules::check_page_name(name) {
                Ok(()) => true,
                Err(problem) => {
                    self.push(
                        Diagnostic::new(
                            format!("invalid page name `{name}`: it {}", problem.reason),
                            name_span.clone(),
                        )
                        .with_help(problem.help),
                    );
                    false
                }
            };

            let Some(table) = item.as_table_like() else {
                self.push(
                    Diagnostic::new(
                        format!("`{path}` must be a table, found {}", describe_type(item)),
                        item.span().or(name_span),
                    )
                    .with_help(format!("write `[{path}]` followed by the page's settings, such as `route = \"/{name}\"`")),
                );
                continue;
            };
            self.reject_unknown_keys(table, &path, PAGE_KEYS);

            let example_route = format!("/{name}");
            let explicit_route = self.path(table, "route", &path, &example_route);
            let route_explicit = table.contains_key("route");
            let route = match (explicit_route, route_explicit) {
                (Some(route), _) => Some(route),
                (None, false) => Some(Spanned {
                    value: example_route,
                    span: name_span.clone(),
                }),
                (None, true) => None,
            };
            let title = self
                .text(table, "title", &path, "Order history", rules::MAX_TITLE)
                .map(|title| title.value)
                .unwrap_or_else(|| name.to_title_case());
            let login_required = self.boolean(table, "login_required", &path);
            let permission = self.string(table, "permission", &path, "blog.change_post");
            let login_url = self.path(table, "login_url", &path, "/login");

            if name_valid {
                raw.pages.push(RawPage {
                    name: name.to_owned(),
                    name_span,
                    route,
                    route_explicit,
                    title,
                    login_required,
                    permission,
                    login_url,
                });
            }
        }
    }

    /// Returns the sub-table `key` of `table` when present, reporting a value of another type.
    fn table<'t>(
        &mut self,
        table: &'t dyn TableLike,
        key: &str,
        parent: &str,
    ) -> Option<&'t dyn TableLike> {
        let item = table.get(key)?;
        let path = key_path(parent, key);
        match item.as_table_like() {
            Some(sub) => Some(sub),
            None => {
                self.push(
                    Diagnostic::new(
                        format!("`{path}` must be a table, found {}", describe_type(item)),
                        item.span().or_else(|| key_span(table, key)),
                    )
                    .with_help(format!(
                        "write `[{path}]` on its own line, followed by its keys"
                    )),
                );
                None
            }
        }
    }

    fn reject_unknown_keys(&mut self, table: &dyn TableLike, parent: &str, known: &[&str]) {
        for (key, _) in table.iter() {
            if known.contains(&key) {
                continue;
            }
            let path = key_path(parent, key);
            let help = match suggest(key, known) {
                Some(suggestion) => format!("did you mean `{suggestion}`?"),
                None if parent.is_empty() => {
                    format!("the known tables are {}", quote_list(known))
                }
                None => format!("the known keys in `[{parent}]` are {}", quote_list(known)),
            };
            self.push(
                Diagnostic::new(format!("unknown key `{path}`"), key_span(table, key))
                    .with_help(help),
            );
        }
    }

    fn string(
        &mut self,
        table: &dyn TableLike,
        key: &str,
        parent: &str,
        example: &str,
    ) -> Option<Spanned<String>> {
        let item = table.get(key)?;
        match item.as_str() {
            Some(value) => Some(Spanned {
                value: value.to_owned(),
                span: item.span(),
            }),
            None => {
                self.wrong_type(
                    table,
                    key,
                    parent,
                    "a string",
                    &format!("write the value in quotes, such as `{key} = \"{example}\"`"),
                );
                None
            }
        }
    }

    /// Reads a string that must be a valid URL path.
    fn path(
        &mut self,
        table: &dyn TableLike,
        key: &str,
        parent: &str,
        example: &str,
    ) -> Option<Spanned<String>> {
        let path = self.string(table, key, parent, example)?;
        match rules::check_path(&path.value) {
            Ok(()) => Some(path),
            Err(problem) => {
                self.invalid(&key_path(parent, key), &path, problem);
                None
            }
        }
    }

    /// Reads a string of free text, such as a title.
    fn text(
        &mut self,
        table: &dyn TableLike,
        key: &str,
        parent: &str,
        example: &str,
        max: usize,
    ) -> Option<Spanned<String>> {
        let text = self.string(table, key, parent, example)?;
        match rules::check_text(&text.value, max) {
            Ok(()) => Some(text),
            Err(problem) => {
                self.push(
                    Diagnostic::new(
                        format!("invalid `{}`: it {}", key_path(parent, key), problem.reason),
                        text.span,
                    )
                    .with_help(problem.help),
                );
                None
            }
        }
    }

    fn integer(
        &mut self,
        table: &dyn TableLike,
        key: &str,
        parent: &str,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let item = table.get(key)?;
        let path = key_path(parent, key);
        let help = format!("use a whole number from {min} to {max}");
        let Some(value) = item.as_integer() else {
            self.wrong_type(
                table,
                key,
                parent,
                "an integer",
                &format!("{help}, without quotes or a decimal point"),
            );
            return None;
        };
        let bound = if value < min {
            Some(format!("below the minimum of {min}"))
        } else if value > max {
            Some(format!("above the maximum of {max}"))
        } else {
            None
        };
        match bound {
            None => Some(value),
            Some(bound) => {
                self.push(
                    Diagnostic::new(format!("`{path}` is {value}, {bound}"), item.span())
                        .with_help(help),
                );
                None
            }
        }
    }

    fn boolean(&mut self, table: &dyn TableLike, key: &str, parent: &str) -> Option<Spanned<bool>> {
        let item = table.get(key)?;
        match item.as_bool() {
            Some(value) => Some(Spanned {
                value,
                span: item.span(),
            }),
            None => {
                self.wrong_type(
                    table,
                    key,
                    parent,
                    "a boolean",
                    "write `true` or `false`, without quotes",
                );
                None
            }
        }
    }

    /// Checks an app label or codename, which appears as a TOML key.
    fn identifier(
        &mut self,
        value: &str,
        path: &str,
        kind: &str,
        span: Option<Range<usize>>,
    ) -> bool {
        match rules::check_identifier(value) {
            Ok(()) => true,
            Err(problem) => {
                self.push(
                    Diagnostic::new(
                        format!(
                            "invalid {kind} `{value}` in `{path}`: it {}",
                            problem.reason
                        ),
                        span,
                    )
                    .with_help(problem.help),
                );
                false
            }
        }
    }

    fn wrong_type(
        &mut self,
        table: &dyn TableLike,
        key: &str,
        parent: &str,
        expected: &str,
        help: &str,
    ) {
        let item = table.get(key).expect("the caller found the key");
        self.push(
            Diagnostic::new(
                format!(
                    "`{}` must be {expected}, found {}",
                    key_path(parent, key),
                    describe_type(item)
                ),
                item.span().or_else(|| key_span(table, key)),
            )
            .with_help(help),
        );
    }

    fn invalid(&mut self, path: &str, value: &Spanned<String>, problem: Problem) {
        self.push(
            Diagnostic::new(
                format!("invalid `{path}` `{}`: it {}", value.value, problem.reason),
                value.span.clone(),
            )
            .with_help(problem.help),
        );
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}

/// Joins a parent path and a key, quoting the key when TOML would need quotes for it.
pub(super) fn key_path(parent: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        crate::render::filters::toml_str(key)
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// Returns the known name closest to `unknown`, when one is close enough to be a likely typo.
pub(super) fn suggest<'k>(unknown: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|candidate| (strsim::osa_distance(unknown, candidate), *candidate))
        .filter(|(distance, candidate)| {
            *distance <= (candidate.len() / 3).max(2)
                || (unknown.len() >= 4 && candidate.contains(unknown))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Joins values in backticks with commas and a final "and".
pub(super) fn quote_list(values: &[&str]) -> String {
    join_quoted(values, "and")
}

/// Joins values in backticks with commas and a final "or".
pub(super) fn quote_alternatives(values: &[&str]) -> String {
    join_quoted(values, "or")
}

fn join_quoted(values: &[&str], conjunction: &str) -> String {
    let quoted: Vec<String> = values.iter().map(|value| format!("`{value}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

fn key_span(table: &dyn TableLike, key: &str) -> Option<Range<usize>> {
    table.key(key).and_then(|key| key.span())
}

fn describe_type(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Value(value) => describe_value_type(value),
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
    }
}

fn describe_value_type(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
}
