//! The template context: the values every template under `templates/` can use.
//!
//! This is the contract between rdauth and the templates. Each field below is always present,
//! so strict undefined behaviour catches a misspelled name as an error instead of rendering it
//! empty. Optional values are `none`, never missing.
//!
//! ```text
//! rdauth_version  "0.1.0"
//! app             { name, crate_ident, title, database, example }
//! auth            { login_url, register_url, logout_url, password_change_url,
//!                   password_reset_url, password_reset_confirm_url, post_login_url,
//!                   post_logout_url, username_field, min_password_length, register_enabled,
//!                   password_reset_enabled, session_age_seconds,
//!                   password_reset_timeout_seconds, login_attempts, login_window_seconds,
//!                   email_login, auto_sync, page_titles: { login, register, password_change,
//!                   password_reset, password_reset_confirm } }
//! permissions     [ { app_label, codename, key, name, variant } ]     in file order
//! groups          [ { name, permissions: [ permission ] } ]          in file order
//! pages           [ { name, route, title, login_required, permission, login_url, module } ]
//! home_routed     true unless a page's route is "/"
//! page            the current page, only in files under a `__page__` path segment
//! ```

use minijinja::value::{Serde, Value};
use serde::Serialize;

use crate::config::{Config, Page, Permission};

/// The values shared by every template.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateContext {
    pub rdauth_version: String,
    pub app: AppContext,
    pub auth: AuthContext,
    pub permissions: Vec<PermissionContext>,
    pub groups: Vec<GroupContext>,
    pub pages: Vec<PageContext>,
    /// True when the built-in home page serves `/`, that is, when no page claims `/`.
    pub home_routed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppContext {
    pub name: String,
    /// The name as a Rust identifier: `my-shop` becomes `my_shop`.
    pub crate_ident: String,
    /// The name in title case: `my-shop` becomes `My Shop`.
    pub title: String,
    pub database: &'static str,
    /// True when the app carries the example notes page.
    pub example: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuthContext {
    pub login_url: String,
    pub register_url: String,
    pub logout_url: String,
    pub password_change_url: String,
    pub password_reset_url: String,
    pub password_reset_confirm_url: String,
    pub post_login_url: String,
    pub post_logout_url: String,
    /// `"username"` or `"email"`.
    pub username_field: &'static str,
    pub min_password_length: i64,
    pub register_enabled: bool,
    pub password_reset_enabled: bool,
    pub session_age_seconds: i64,
    pub password_reset_timeout_seconds: i64,
    pub login_attempts: i64,
    pub login_window_seconds: i64,
    /// True when users log in with their email address.
    pub email_login: bool,
    pub auto_sync: bool,
    pub page_titles: PageTitlesContext,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageTitlesContext {
    pub login: String,
    pub register: String,
    pub password_change: String,
    pub password_reset: String,
    pub password_reset_confirm: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PermissionContext {
    pub app_label: String,
    pub codename: String,
    /// `app_label.codename`, as the config refers to it.
    pub key: String,
    pub name: String,
    /// The Rust enum variant, such as `BlogChangePost`.
    pub variant: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupContext {
    pub name: String,
    pub permissions: Vec<PermissionContext>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageContext {
    pub name: String,
    pub route: String,
    pub title: String,
    /// True when the page sets `login_required` or a `permission`.
    pub login_required: bool,
    pub permission: Option<PermissionContext>,
    pub login_url: Option<String>,
    /// The page's Rust module name under `pages::`, equal to its name.
    pub module: String,
}

impl TemplateContext {
    pub fn new(config: &Config, rdauth_version: &str) -> Self {
        let auth = &config.auth;
        let titles = &auth.page_titles;
        let permission = |key: &str| {
            let declared = config
                .permission(key)
                .expect("validation checked that every referenced permission is declared");
            PermissionContext::new(declared)
        };

        TemplateContext {
            rdauth_version: rdauth_version.to_owned(),
            app: AppContext {
                name: config.app.name.clone(),
                crate_ident: config.app.crate_ident(),
                title: config.app.title(),
                database: config.app.database.as_str(),
                example: config.app.example,
            },
            auth: AuthContext {
                login_url: auth.login_url.clone(),
                register_url: auth.register_url.clone(),
                logout_url: auth.logout_url.clone(),
                password_change_url: auth.password_change_url.clone(),
                password_reset_url: auth.password_reset_url.clone(),
                password_reset_confirm_url: auth.password_reset_confirm_url.clone(),
                post_login_url: auth.post_login_url.clone(),
                post_logout_url: auth.post_logout_url.clone(),
                username_field: auth.username_field.as_str(),
                min_password_length: auth.min_password_length,
                register_enabled: auth.register_enabled,
                password_reset_enabled: auth.password_reset_enabled,
                session_age_seconds: auth.session_age_seconds,
                password_reset_timeout_seconds: auth.password_reset_timeout_seconds,
                login_attempts: auth.login_attempts,
                login_window_seconds: auth.login_window_seconds,
                email_login: auth.username_field == crate::config::UsernameField::Email,
                auto_sync: auth.auto_sync,
                page_titles: PageTitlesContext {
                    login: titles.login.clone(),
                    register: titles.register.clone(),
                    password_change: titles.password_change.clone(),
                    password_reset: titles.password_reset.clone(),
                    password_reset_confirm: titles.password_reset_confirm.clone(),
                },
            },
            permissions: config
                .permissions
                .iter()
                .map(PermissionContext::new)
                .collect(),
            groups: config
                .groups
                .iter()
                .map(|group| GroupContext {
                    name: group.name.clone(),
                    permissions: group
                        .permissions
                        .iter()
                        .map(|key| permission(key))
                        .collect(),
                })
                .collect(),
            pages: config
                .pages
                .iter()
                .map(|page| PageContext::new(page, page.permission.as_deref().map(permission)))
                .collect(),
            home_routed: config.home_routed(),
        }
    }

    /// Converts the context into a template value.
    pub fn to_value(&self) -> Value {
        Value::from(Serde(self))
    }
}

impl PermissionContext {
    fn new(permission: &Permission) -> Self {
        PermissionContext {
            app_label: permission.app_label.clone(),
            codename: permission.codename.clone(),
            key: permission.key(),
            name: permission.name.clone(),
            variant: permission.variant(),
        }
    }
}

impl PageContext {
    fn new(page: &Page, permission: Option<PermissionContext>) -> Self {
        PageContext {
            name: page.name.clone(),
            route: page.route.clone(),
            title: page.title.clone(),
            login_required: page.login_required,
            permission,
            login_url: page.login_url.clone(),
            module: page.name.clone(),
        }
    }
}
