//! Checks that compare values with each other: permission references, Rust name collisions,
//! page settings that contradict each other, and routes that are reserved or taken twice.
//!
//! It turns the [`RawConfig`] that `parse` read into the final [`Config`].

use std::collections::HashMap;
use std::ops::Range;

use super::diagnostic::Diagnostic;
use super::model::{variant_name, AppSettings, Config, Database, Group, Page, Permission};
use super::model::{EXAMPLE_APP_LABEL, EXAMPLE_CODENAME, EXAMPLE_DELETE_ROUTE, EXAMPLE_ROUTE};
use super::parse::{key_path, suggest, RawConfig, Spanned};
use super::rules;

/// Runs the cross-value checks and builds the config. `app_name` is the final app name, from
/// the command line or the file.
pub(super) fn validate(
    raw: RawConfig,
    app_name: String,
    diagnostics: &mut Vec<Diagnostic>,
) -> Config {
    check_variant_collisions(&raw, diagnostics);
    let example = raw.example.unwrap_or(true);
    let mut permissions: Vec<Permission> = raw
        .permissions
        .iter()
        .map(|entry| entry.permission.clone())
        .collect();
    // The example page's delete event needs its own permission, declared or not.
    let example_key = format!("{EXAMPLE_APP_LABEL}.{EXAMPLE_CODENAME}");
    if example
        && !permissions
            .iter()
            .any(|permission| permission.key() == example_key)
    {
        permissions.push(Permission {
            app_label: EXAMPLE_APP_LABEL.to_owned(),
            codename: EXAMPLE_CODENAME.to_owned(),
            name: "Can delete note".to_owned(),
        });
    }
    let declared: Vec<String> = permissions.iter().map(Permission::key).collect();

    let mut groups = Vec::new();
    for group in &raw.groups {
        let path = key_path("groups", &group.name);
        let mut seen: Vec<&str> = Vec::new();
        for reference in &group.permissions {
            if seen.contains(&reference.value.as_str()) {
                diagnostics.push(
                    Diagnostic::new(
                        format!("duplicate permission `{}` in `{path}`", reference.value),
                        reference.span.clone(),
                    )
                    .with_help("remove the second mention"),
                );
                continue;
            }
            seen.push(&reference.value);
            check_reference(reference, &path, &declared, diagnostics);
        }
        groups.push(Group {
            name: group.name.clone(),
            permissions: seen.iter().map(|key| (*key).to_owned()).collect(),
        });
    }

    let mut pages = Vec::new();
    for page in &raw.pages {
        let path = key_path("pages", &page.name);
        if let Some(permission) = &page.permission {
            check_reference(
                permission,
                &format!("{path}.permission"),
                &declared,
                diagnostics,
            );
        }
        check_page_login(page, &path, diagnostics);
        pages.push(Page {
            name: page.name.clone(),
            route: page
                .route
                .as_ref()
                .map_or_else(|| format!("/{}", page.name), |route| route.value.clone()),
            title: page.title.clone(),
            login_required: page.permission.is_some()
                || page.login_required.as_ref().is_some_and(|flag| flag.value),
            permission: page
                .permission
                .as_ref()
                .map(|permission| permission.value.clone()),
            login_url: page.login_url.as_ref().map(|url| url.value.clone()),
        });
    }

    check_routes(&raw, example, diagnostics);

    Config {
        app: AppSettings {
            name: app_name,
            database: raw.database.unwrap_or(Database::Sqlite),
            example,
        },
        auth: raw.auth,
        permissions,
        groups,
        pages,
    }
}

/// Rejects two permissions that would generate the same Rust enum variant, such as
/// `blog.change_post` and `blog_change.post`, which both become `BlogChangePost`.
fn check_variant_collisions(raw: &RawConfig, diagnostics: &mut Vec<Diagnostic>) {
    let mut variants: HashMap<String, String> = HashMap::new();
    for entry in &raw.permissions {
        let permission = &entry.permission;
        let variant = variant_name(&permission.app_label, &permission.codename);
        let key = permission.key();
        if let Some(first) = variants.get(&variant) {
            diagnostics.push(
                Diagnostic::new(
                    format!(
                        "permissions `{first}` and `{key}` would both become the Rust name `{variant}`"
                    ),
                    entry.codename_span.clone(),
                )
                .with_help(
                    "rename one of them: the Rust name is the app label and the codename joined in UpperCamelCase",
                ),
            );
        } else {
            variants.insert(variant, key);
        }
    }
}

/// Checks that `reference` is an `app_label.codename` key of a declared permission.
fn check_reference(
    reference: &Spanned<String>,
    path: &str,
    declared: &[String],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let value = &reference.value;
    let well_formed = value.split_once('.').is_some_and(|(label, codename)| {
        rules::check_identifier(label).is_ok() && rules::check_identifier(codename).is_ok()
    });
    if !well_formed {
        diagnostics.push(
            Diagnostic::new(
                format!("invalid permission `{value}` in `{path}`: it is not in `app_label.codename` form"),
                reference.span.clone(),
            )
            .with_help("write it as the app label and the codename joined by `.`, such as `blog.change_post`"),
        );
        return;
    }
    if declared.iter().any(|key| key == value) {
        return;
    }

    let declared_refs: Vec<&str> = declared.iter().map(String::as_str).collect();
    let help = match suggest(value, &declared_refs) {
        Some(suggestion) => format!("did you mean `{suggestion}`?"),
        None => {
            let (label, codename) = value.split_once('.').expect("checked above");
            format!("declare it under `[permissions.{label}]`, such as `{codename} = \"Can ...\"`")
        }
    };
    diagnostics.push(
        Diagnostic::new(
            format!("undeclared permission `{value}` in `{path}`"),
            reference.span.clone(),
        )
        .with_help(help),
    );
}

/// Rejects login settings of a page that contradict each other.
fn check_page_login(page: &super::parse::RawPage, path: &str, diagnostics: &mut Vec<Diagnostic>) {
    let explicit_no_login = page.login_required.as_ref().filter(|flag| !flag.value);
    if let (Some(flag), Some(permission)) = (explicit_no_login, &page.permission) {
        diagnostics.push(
            Diagnostic::new(
                format!(
                    "`{path}.login_required` is false, but the page requires the permission `{}`",
                    permission.value
                ),
                flag.span.clone(),
            )
            .with_help(
                "remove `login_required = false`: a permission check needs a logged-in user",
            ),
        );
    }

    let login_required =
        page.permission.is_some() || page.login_required.as_ref().is_some_and(|flag| flag.value);
    if let (false, Some(login_url)) = (login_required, &page.login_url) {
        diagnostics.push(
            Diagnostic::new(
                format!("`{path}.login_url` is set, but the page does not require login"),
                login_url.span.clone(),
            )
            .with_help("add `login_required = true`, or remove `login_url`"),
        );
    }
}

/// One routed URL: a built-in auth page or a configured page.
struct Route<'r> {
    path: &'r str,
    /// The key that sets it, such as `auth.login_url` or `pages.orders.route`.
    owner: String,
    span: Option<Range<usize>>,
    /// True for a page route derived from the page name because the file sets none.
    implicit: bool,
    builtin: bool,
}

/// Rejects reserved routes, built-in URLs at `/` and routes claimed twice.
///
/// The register and password reset URLs count only when their pages are enabled, because a
/// disabled page is not routed. `post_login_url` and `post_logout_url` are redirect targets,
/// not routes, so they may point anywhere on the site.
fn check_routes(raw: &RawConfig, example: bool, diagnostics: &mut Vec<Diagnostic>) {
    let auth = &raw.auth;
    let span_of = |key: &str| {
        raw.auth_url_spans
            .iter()
            .find(|(name, _)| *name == key)
            .and_then(|(_, span)| span.clone())
    };

    let mut builtin = vec![
        ("login_url", auth.login_url.as_str()),
        ("logout_url", auth.logout_url.as_str()),
        ("password_change_url", auth.password_change_url.as_str()),
    ];
    if auth.register_enabled {
        builtin.push(("register_url", auth.register_url.as_str()));
    }
    if auth.password_reset_enabled {
        builtin.push(("password_reset_url", auth.password_reset_url.as_str()));
        builtin.push((
            "password_reset_confirm_url",
            auth.password_reset_confirm_url.as_str(),
        ));
    }

    let mut routes: Vec<Route> = builtin
        .into_iter()
        .map(|(key, path)| Route {
            path,
            owner: format!("auth.{key}"),
            span: span_of(key),
            implicit: false,
            builtin: true,
        })
        .collect();
    if example {
        for path in [EXAMPLE_ROUTE, EXAMPLE_DELETE_ROUTE] {
            routes.push(Route {
                path,
                owner: "app.example".to_owned(),
                span: None,
                implicit: false,
                builtin: true,
            });
        }
    }
    for page in &raw.pages {
        if let Some(route) = &page.route {
            routes.push(Route {
                path: &route.value,
                owner: format!("{}.route", key_path("pages", &page.name)),
                span: route.span.clone().or_else(|| page.name_span.clone()),
                implicit: !page.route_explicit,
                builtin: false,
            });
        }
    }
    // Report in file order; built-in URLs left at their defaults have no span and sort first.
    routes.sort_by_key(|route| route.span.as_ref().map(|span| span.start));

    let mut claimed: HashMap<&str, &Route> = HashMap::new();
    for route in &routes {
        if let Err(problem) = rules::check_route_not_reserved(route.path) {
            diagnostics.push(route_error(route, &problem.reason, &problem.help));
            continue;
        }
        if route.builtin && route.path == "/" {
            diagnostics.push(route_error(
                route,
                "is the home page",
                "choose another path; only a page in `[pages]` may replace the home page",
            ));
            continue;
        }
        match claimed.get(route.path) {
            Some(first) => {
                let help = if route.implicit {
                    format!(
                        "set another `route` in `[{}]`",
                        route.owner.trim_end_matches(".route")
                    )
                } else {
                    "choose another path".to_owned()
                };
                let reason = format!("is already used by `{}`", first.owner);
                diagnostics.push(route_error(route, &reason, &help));
            }
            None => {
                claimed.insert(route.path, route);
            }
        }
    }
}

fn route_error(route: &Route, reason: &str, help: &str) -> Diagnostic {
    let message = if route.implicit {
        format!(
            "the default route `{}` of `{}` {reason}",
            route.path,
            route.owner.trim_end_matches(".route")
        )
    } else {
        format!("route `{}` in `{}` {reason}", route.path, route.owner)
    };
    Diagnostic::new(message, route.span.clone()).with_help(help)
}
