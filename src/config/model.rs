//! The validated `rdauth.toml`: every setting with its final value, defaults filled in.
//!
//! Values of these types have passed every rule in `parse` and `validate`, so the plan and the
//! templates can use them without checking again.

use heck::{ToTitleCase, ToUpperCamelCase};

/// The whole config of one generated app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub app: AppSettings,
    pub auth: AuthSettings,
    /// Permissions in file order.
    pub permissions: Vec<Permission>,
    /// Groups in file order.
    pub groups: Vec<Group>,
    /// Pages in file order.
    pub pages: Vec<Page>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSettings {
    /// The app's crate name, which is also its folder name.
    pub name: String,
    pub database: Database,
    /// Whether the app carries the example notes page at `/notes`.
    pub example: bool,
}

impl AppSettings {
    /// Returns the crate name as Rust code refers to it: `-` becomes `_`.
    pub fn crate_ident(&self) -> String {
        self.name.replace('-', "_")
    }

    /// Returns the crate name in title case, for page headers: `my-shop` becomes `My Shop`.
    pub fn title(&self) -> String {
        self.name.to_title_case()
    }
}

/// The example page's name, route and the permission its delete event needs.
pub const EXAMPLE_ROUTE: &str = "/notes";
/// The example page's form fallback for deleting a note.
pub const EXAMPLE_DELETE_ROUTE: &str = "/notes/delete";
pub const EXAMPLE_APP_LABEL: &str = "notes";
pub const EXAMPLE_CODENAME: &str = "delete_note";

/// The database the generated app is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    Sqlite,
    Postgres,
}

impl Database {
    /// Every database rdauth can generate code for, as written in `rdauth.toml`.
    pub const SUPPORTED: &'static [&'static str] = &["sqlite", "postgres"];

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "sqlite" => Some(Database::Sqlite),
            "postgres" => Some(Database::Postgres),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres => "postgres",
        }
    }
}

/// The identifier users log in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernameField {
    Username,
    Email,
}

impl UsernameField {
    pub const SUPPORTED: &'static [&'static str] = &["username", "email"];

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "username" => Some(UsernameField::Username),
            "email" => Some(UsernameField::Email),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UsernameField::Username => "username",
            UsernameField::Email => "email",
        }
    }
}

/// The `[auth]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    pub login_url: String,
    pub register_url: String,
    pub logout_url: String,
    pub password_change_url: String,
    pub password_reset_url: String,
    pub password_reset_confirm_url: String,
    pub post_login_url: String,
    pub post_logout_url: String,
    pub username_field: UsernameField,
    pub min_password_length: i64,
    pub register_enabled: bool,
    pub password_reset_enabled: bool,
    /// Seconds of inactivity after which a session expires.
    pub session_age_seconds: i64,
    pub password_reset_timeout_seconds: i64,
    /// Failed logins allowed per client within `login_window_seconds`.
    pub login_attempts: i64,
    pub login_window_seconds: i64,
    /// Whether the browser's `auth` snapshot is refreshed with every event.
    pub auto_sync: bool,
    pub page_titles: PageTitles,
}

/// The `[auth.page_titles]` table: titles of the built-in pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageTitles {
    pub login: String,
    pub register: String,
    pub password_change: String,
    pub password_reset: String,
    pub password_reset_confirm: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            login_url: "/login".into(),
            register_url: "/register".into(),
            logout_url: "/logout".into(),
            password_change_url: "/password_change".into(),
            password_reset_url: "/password_reset".into(),
            password_reset_confirm_url: "/password_reset_confirm".into(),
            post_login_url: "/".into(),
            post_logout_url: "/".into(),
            username_field: UsernameField::Username,
            min_password_length: 8,
            register_enabled: true,
            password_reset_enabled: true,
            session_age_seconds: 1_209_600,
            password_reset_timeout_seconds: 3600,
            login_attempts: 10,
            login_window_seconds: 180,
            auto_sync: true,
            page_titles: PageTitles::default(),
        }
    }
}

impl Default for PageTitles {
    fn default() -> Self {
        PageTitles {
            login: "Log in".into(),
            register: "Create an account".into(),
            password_change: "Change password".into(),
            password_reset: "Reset password".into(),
            password_reset_confirm: "Choose a new password".into(),
        }
    }
}

/// One permission, declared as `[permissions.APP_LABEL] codename = "name"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub app_label: String,
    pub codename: String,
    /// The human-readable name, such as "Can change post".
    pub name: String,
}

impl Permission {
    /// Returns the key that pages and groups use for the permission: `app_label.codename`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.app_label, self.codename)
    }

    /// Returns the Rust enum variant generated for this permission: `blog.change_post` becomes
    /// `BlogChangePost`.
    pub fn variant(&self) -> String {
        variant_name(&self.app_label, &self.codename)
    }
}

/// Builds the enum variant name of a permission; the model and the collision check share it.
pub fn variant_name(app_label: &str, codename: &str) -> String {
    format!("{app_label}_{codename}").to_upper_camel_case()
}

/// One entry of `[groups]`: a group name and the keys of its permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    /// Permission keys (`app_label.codename`) in file order, each declared.
    pub permissions: Vec<String>,
}

/// One `[pages.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub name: String,
    pub route: String,
    pub title: String,
    /// True when the page sets `login_required = true` or names a `permission`.
    pub login_required: bool,
    /// The key (`app_label.codename`) of the permission the page requires.
    pub permission: Option<String>,
    /// The login page for anonymous visitors of this page, in place of `auth.login_url`.
    pub login_url: Option<String>,
}

impl Config {
    /// Looks up a declared permission by its `app_label.codename` key.
    pub fn permission(&self, key: &str) -> Option<&Permission> {
        self.permissions
            .iter()
            .find(|permission| permission.key() == key)
    }

    /// True unless a configured page claims `/`, in which case the built-in home page is left
    /// out.
    pub fn home_routed(&self) -> bool {
        !self.pages.iter().any(|page| page.route == "/")
    }
}
