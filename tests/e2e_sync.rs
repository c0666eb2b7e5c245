//! End-to-end test of `rdauth sync` on a real app: generate it, edit generated code, change
//! `rdauth.toml` by hand and through `rdauth add`, sync, and check that the app still builds,
//! its tests pass, and both the new settings and the user's edits are live; then move it to
//! PostgreSQL the same way.
//! The first run needs crates.io (or a filled cargo cache) for the app's dependencies.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

mod support;

use support::served::app_command;
use support::services::Postgres;
use support::{assert_success, cargo, cargo_with_env, target_dir};

fn rdauth(folder: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdauth"))
        .args(args)
        .current_dir(folder)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "`{from}` is not in `{}`",
        path.display()
    );
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Checks the synced app from the outside: a test file of the user's that reads the
/// generated constants and the user's own addition.
const USER_TEST: &str = r#"//! The user's own checks of the synced app.

use syncshop::pages::reports;
use syncshop::permissions::PERMISSIONS;
use syncshop::settings::{AUTH, SUPPORT_EMAIL};

#[test]
fn synced_settings_are_live() {
    assert_eq!(AUTH.min_password_length, 12);
    assert_eq!(AUTH.login_url, "/sign-in");
    assert_eq!(AUTH.titles.login, "Sign in");
}

#[test]
fn added_permission_and_page_are_live() {
    assert!(PERMISSIONS
        .iter()
        .any(|spec| spec.app_label == "shop" && spec.codename == "view_report"));
    assert!(reports::PAGE.login_required);
    assert_eq!(reports::PAGE.route, "/reports");
}

#[test]
fn user_edit_is_live() {
    assert_eq!(SUPPORT_EMAIL, "help@example.com");
}
"#;

#[test]
fn synced_app_builds_and_keeps_edits() {
    let parent = tempfile::tempdir().unwrap();
    // The default config lists every key, so the test edits values the way a user does.
    assert_success("rdauth new", &rdauth(parent.path(), &["new", "syncshop"]));
    let app = parent.path().join("syncshop");

    // The user's edits: a constant in a generated file and a test file of their own.
    let settings = app.join("src/settings.rs");
    let mut text = fs::read_to_string(&settings).unwrap();
    text.push_str("\n/// Where users write for help; added by hand.\npub const SUPPORT_EMAIL: &str = \"help@example.com\";\n");
    fs::write(&settings, text).unwrap();
    fs::write(app.join("tests/user_checks.rs"), USER_TEST).unwrap();

    // The config changes: by hand, then through the commands.
    let config = app.join("rdauth.toml");
    replace_in(
        &config,
        "min_password_length = 8",
        "min_password_length = 12",
    );
    replace_in(
        &config,
        "login_url = \"/login\"",
        "login_url = \"/sign-in\"",
    );
    replace_in(&config, "login = \"Log in\"", "login = \"Sign in\"");
    let sync = rdauth(&app, &["sync"]);
    assert_success("rdauth sync", &sync);
    assert!(String::from_utf8_lossy(&sync.stderr).contains("Merging src/settings.rs"));

    assert_success(
        "rdauth add permission",
        &rdauth(&app, &["add", "permission", "shop.view_report"]),
    );
    assert_success(
        "rdauth add page",
        &rdauth(&app, &["add", "page", "reports", "--login-required"]),
    );
    assert_success("rdauth sync --check", &rdauth(&app, &["sync", "--check"]));

    let synced = fs::read_to_string(&settings).unwrap();
    assert!(synced.contains("pub const SUPPORT_EMAIL: &str = \"help@example.com\";"));
    assert!(synced.contains("min_password_length: 12,"));

    cargo(&app, &["build", "--locked"]);
    cargo(&app, &["test", "--locked"]);

    // The binary creates the added permission in the database.
    let database = parent.path().join("syncshop.db");
    let migrate = Command::new(target_dir().join("debug/syncshop"))
        .arg("migrate")
        .current_dir(&app)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", database.display()),
        )
        .output()
        .unwrap();
    assert_success("syncshop migrate", &migrate);
    let log = String::from_utf8_lossy(&migrate.stderr);
    assert!(log.contains("shop.view_report"), "{log}");

    // Moving to PostgreSQL regenerates the database layer and keeps the user's edits.
    replace_in(&config, "database = \"sqlite\"", "database = \"postgres\"");
    let sync = rdauth(&app, &["sync"]);
    assert_success("rdauth sync to postgres", &sync);
    let synced = fs::read_to_string(&settings).unwrap();
    assert!(synced.contains("pub const SUPPORT_EMAIL: &str = \"help@example.com\";"));
    assert!(app
        .join("migrations/postgres/0001_create_auth_tables.sql")
        .is_file());
    assert!(app
        .join("migrations/sqlite/0001_create_auth_tables.sql")
        .is_file());

    let postgres = Postgres::start();
    let database_url = postgres.create_database("syncshop");
    cargo_with_env(
        &app,
        &["test", "--locked"],
        &[("DATABASE_URL", &database_url)],
    );
    let migrate = app_command(
        &target_dir().join("debug/syncshop"),
        &app,
        &database_url,
        &["migrate"],
    );
    assert_success("syncshop migrate on postgres", &migrate);
    let log = String::from_utf8_lossy(&migrate.stderr);
    assert!(log.contains("shop.view_report"), "{log}");
}
