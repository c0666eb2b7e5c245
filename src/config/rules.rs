//! Value rules that do not depend on the rest of the config: names, identifiers, URL paths and
//! free text.
//!
//! Each check returns a [`Problem`] (what is wrong and how to fix it) and leaves the key path and
//! the source location to the caller, so the same rule serves the config file and the command
//! line.

/// Rust's strict keywords, the reserved ones, and those added by the 2018 and 2024 editions. A
/// page or crate named like one of these would not compile as a module or crate name.
pub const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Module and file names the generated app uses for its own code. A page becomes the module
/// `pages::NAME` and the template `templates/pages/NAME.html`, so it must not take one of these.
pub const RESERVED_PAGE_NAMES: &[&str] = &[
    "app",
    "auth",
    "bridge",
    "cli",
    "config",
    "csrf",
    "db",
    "error",
    "home",
    "lib",
    "mail",
    "main",
    "mod",
    "notes",
    "pages",
    "permissions",
    "security",
    "session",
    "settings",
    "state",
    "static",
    "templates",
    "tests",
    "users",
    "views",
];

/// Crate names that Rust already gives a meaning to.
const RESERVED_CRATE_NAMES: &[&str] = &["alloc", "core", "proc_macro", "std", "test"];

// The name limits keep every generated line within rustfmt's 100 columns, so the app passes
// `cargo fmt --check` as generated.
pub const MAX_CRATE_NAME: usize = 40;
pub const MAX_PAGE_NAME: usize = 48;
/// App labels and codenames; two of them make a `Permission` variant of at most 64 characters.
pub const MAX_IDENTIFIER: usize = 32;
pub const MAX_PATH: usize = 64;
pub const MAX_TITLE: usize = 200;
pub const MAX_GROUP_NAME: usize = 150;
pub const MAX_PERMISSION_NAME: usize = 255;

/// The reason a value is invalid, and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Completes a sentence that starts with the value, such as "must start with `/`".
    pub reason: String,
    pub help: String,
}

impl Problem {
    fn new(reason: impl Into<String>, help: impl Into<String>) -> Self {
        Problem {
            reason: reason.into(),
            help: help.into(),
        }
    }
}

/// Checks a crate name: ASCII letters, digits, `-` and `_`, starting with a letter.
pub fn check_crate_name(name: &str) -> Result<(), Problem> {
    let help = "use a name that starts with a letter and contains only ASCII letters, digits, `-` and `_`, such as `myshop`";
    if name.is_empty() {
        return Err(Problem::new("is empty", help));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(Problem::new("does not start with a letter", help));
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        // Cargo accepts it, but rustc then warns that the crate name is not snake case.
        return Err(Problem::new(
            "contains uppercase letters",
            format!("write it in lowercase: `{}`", name.to_ascii_lowercase()),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(Problem::new(
            format!(
                "contains {}, which a crate name cannot contain",
                describe_char(bad)
            ),
            help,
        ));
    }
    let length = name.chars().count();
    if length > MAX_CRATE_NAME {
        return Err(Problem::new(
            format!("is {length} characters long, above the maximum of {MAX_CRATE_NAME}"),
            "use a shorter name",
        ));
    }
    let ident = name.replace('-', "_");
    if RUST_KEYWORDS.contains(&ident.as_str()) {
        return Err(Problem::new(
            "is a Rust keyword",
            "choose another name, such as `myshop`",
        ));
    }
    if RESERVED_CRATE_NAMES.contains(&ident.as_str()) {
        return Err(Problem::new(
            "is the name of a crate that Rust provides",
            "choose another name, such as `myshop`",
        ));
    }
    Ok(())
}

/// Checks a lowercase identifier: a permission's app label or codename.
pub fn check_identifier(value: &str) -> Result<(), Problem> {
    let help = "use lowercase ASCII letters, digits and `_`, starting with a letter, such as `change_post`";
    if value.is_empty() {
        return Err(Problem::new("is empty", help));
    }
    if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(Problem::new("does not start with a lowercase letter", help));
    }
    if let Some(bad) = value
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    {
        return Err(Problem::new(
            format!("contains {}", describe_char(bad)),
            help,
        ));
    }
    let length = value.chars().count();
    if length > MAX_IDENTIFIER {
        return Err(Problem::new(
            format!("is {length} characters long, above the maximum of {MAX_IDENTIFIER}"),
            "use a shorter name",
        ));
    }
    Ok(())
}

/// Checks a page name, which becomes a Rust module, a template file name and the default route.
pub fn check_page_name(name: &str) -> Result<(), Problem> {
    let help = "use lowercase ASCII letters, digits and `_`, starting with a letter, such as `order_history`";
    if name.is_empty() {
        return Err(Problem::new("is empty", help));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(Problem::new("does not start with a lowercase letter", help));
    }
    if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    {
        return Err(Problem::new(
            format!("contains {}", describe_char(bad)),
            help,
        ));
    }
    let length = name.chars().count();
    if length > MAX_PAGE_NAME {
        return Err(Problem::new(
            format!("is {length} characters long, above the maximum of {MAX_PAGE_NAME}"),
            "use a shorter name",
        ));
    }
    if RUST_KEYWORDS.contains(&name) {
        return Err(Problem::new(
            "is a Rust keyword, so it cannot name the page's module",
            format!("rename the page, for example to `{name}_page`"),
        ));
    }
    if RESERVED_PAGE_NAMES.contains(&name) {
        return Err(Problem::new(
            "is a name the generated app uses for its own modules",
            format!(
                "rename the page, for example to `{name}_page`, and keep the URL with `route = \"/{name}\"`"
            ),
        ));
    }
    Ok(())
}

/// Checks that a URL is a static absolute path, as a route or a redirect target.
///
/// Only unreserved characters (RFC 3986: letters, digits, `-`, `.`, `_`, `~`) and `/` are
/// allowed, so the path needs no percent-encoding and cannot be mistaken for a route pattern.
pub fn check_path(path: &str) -> Result<(), Problem> {
    if !path.starts_with('/') {
        let fix = if path.contains("://") {
            "use a path on this site, such as `/dashboard`, not a full URL".to_owned()
        } else {
            format!("write it as `/{}`", path.trim_start_matches('/'))
        };
        return Err(Problem::new("does not start with `/`", fix));
    }
    if path.len() > MAX_PATH {
        return Err(Problem::new(
            format!(
                "is {} characters long, above the maximum of {MAX_PATH}",
                path.len()
            ),
            "use a shorter path",
        ));
    }
    if let Some(index) = path.find('?') {
        return Err(Problem::new(
            "has a query string",
            format!("remove the query string: `{}`", &path[..index]),
        ));
    }
    if let Some(index) = path.find('#') {
        return Err(Problem::new(
            "has a fragment",
            format!("remove the fragment: `{}`", &path[..index]),
        ));
    }
    if path.contains(['{', '}', ':', '*']) {
        return Err(Problem::new(
            "has a route parameter",
            "use a static path such as `/orders`; routes with parameters are not supported",
        ));
    }
    if let Some(bad) = path
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '/')))
    {
        return Err(Problem::new(
            format!("contains {}", describe_char(bad)),
            "use only ASCII letters, digits, `-`, `.`, `_`, `~` and `/`",
        ));
    }
    if path.contains("//") {
        return Err(Problem::new(
            "has an empty segment (`//`)",
            format!("write it as `{}`", collapse_slashes(path)),
        ));
    }
    if path.len() > 1 && path.ends_with('/') {
        return Err(Problem::new(
            "ends with `/`",
            format!("write it as `{}`", path.trim_end_matches('/')),
        ));
    }
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(Problem::new(
            "has a `.` or `..` segment",
            "write the path without `.` and `..` segments",
        ));
    }
    Ok(())
}

/// Checks that a valid path is free for the app's configured routes.
pub fn check_route_not_reserved(path: &str) -> Result<(), Problem> {
    let first_segment = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if first_segment.starts_with('_') {
        return Err(Problem::new(
            "is reserved: paths whose first segment starts with `_` belong to the app's internal routes",
            format!("use a path such as `/{}`", first_segment.trim_start_matches('_')),
        ));
    }
    if first_segment == "static" {
        return Err(Problem::new(
            "is reserved for the app's static files",
            "use a path outside `/static`",
        ));
    }
    if path == "/healthz" {
        return Err(Problem::new(
            "is reserved for the app's health check",
            "use another path",
        ));
    }
    Ok(())
}

/// Checks free text that ends up in generated code and HTML: a title or a name. Any printable
/// character is fine because every template escapes it for its language.
pub fn check_text(value: &str, max: usize) -> Result<(), Problem> {
    if value.trim().is_empty() {
        return Err(Problem::new(
            "is empty",
            "write some text between the quotes",
        ));
    }
    let length = value.chars().count();
    if length > max {
        return Err(Problem::new(
            format!("is {length} characters long, above the maximum of {max}"),
            format!("shorten it to at most {max} characters"),
        ));
    }
    if let Some(bad) = value.chars().find(|c| c.is_control()) {
        return Err(Problem::new(
            format!("contains the control character {}", describe_char(bad)),
            "remove it: the text is shown on one line",
        ));
    }
    Ok(())
}

/// Names a character for a message: printable ones in backticks, others by code point.
pub fn describe_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("`{c}`")
    }
}

fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_name_rules() {
        assert!(check_crate_name("myshop").is_ok());
        assert!(check_crate_name("my-shop_2").is_ok());
        assert!(check_crate_name("2shop").is_err());
        assert!(check_crate_name("My-Shop").is_err());
        assert!(check_crate_name("my shop").is_err());
        assert!(check_crate_name("self").is_err());
        assert!(check_crate_name("std").is_err());
        assert!(check_crate_name("proc-macro").is_err());
        assert!(check_crate_name(&"a".repeat(MAX_CRATE_NAME + 1)).is_err());
        assert!(check_crate_name(&"a".repeat(MAX_CRATE_NAME)).is_ok());
    }

    #[test]
    fn page_name_rules() {
        assert!(check_page_name("order_history").is_ok());
        assert!(check_page_name("Orders").is_err());
        assert!(check_page_name("_orders").is_err());
        assert!(check_page_name("order-history").is_err());
        assert!(check_page_name("type").is_err());
        assert!(check_page_name("async").is_err());
        assert!(check_page_name("auth").is_err());
        assert!(check_page_name("static").is_err());
        assert!(check_page_name(&"a".repeat(MAX_PAGE_NAME + 1)).is_err());
    }

    #[test]
    fn path_accepts_static_paths() {
        for path in ["/", "/login", "/account/sign-in", "/a.b_c~d", "/v2/orders"] {
            assert_eq!(check_path(path), Ok(()), "{path}");
        }
    }

    #[test]
    fn path_rejects_dynamic_or_odd_forms() {
        let cases = [
            ("login", "does not start with `/`"),
            ("https://example.com/x", "does not start with `/`"),
            ("/login?next=/", "has a query string"),
            ("/login#top", "has a fragment"),
            ("/orders/{id}", "has a route parameter"),
            ("/orders/:id", "has a route parameter"),
            ("/files/*rest", "has a route parameter"),
            ("/a//b", "has an empty segment (`//`)"),
            ("/login/", "ends with `/`"),
            ("/a/../b", "has a `.` or `..` segment"),
            ("/a/./b", "has a `.` or `..` segment"),
            ("/caf\u{e9}", "contains `\u{e9}`"),
            ("/a b", "contains U+0020"),
            ("/a%20b", "contains `%`"),
        ];
        for (path, reason) in cases {
            assert_eq!(check_path(path).unwrap_err().reason, reason, "{path}");
        }
    }

    #[test]
    fn reserved_routes() {
        assert!(check_route_not_reserved("/_internal").is_err());
        assert!(check_route_not_reserved("/_").is_err());
        assert!(check_route_not_reserved("/static").is_err());
        assert!(check_route_not_reserved("/static/app.js").is_err());
        assert!(check_route_not_reserved("/healthz").is_err());
        assert!(check_route_not_reserved("/statics").is_ok());
        assert!(check_route_not_reserved("/a/_b").is_ok());
        assert!(check_route_not_reserved("/").is_ok());
    }

    #[test]
    fn text_rules() {
        assert!(check_text("Say \"hi\" {{ x }} </title>", 200).is_ok());
        assert!(check_text("", 200).is_err());
        assert!(check_text("   ", 200).is_err());
        assert!(check_text("a\nb", 200).is_err());
        assert!(check_text(&"é".repeat(200), 200).is_ok());
        assert!(check_text(&"é".repeat(201), 200).is_err());
    }
}
