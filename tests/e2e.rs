//! End-to-end tests: generate apps with `rdauth new`, build them with cargo, and drive them.
//! The first run needs crates.io (or a filled cargo cache) for the app's dependencies.

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;

mod support;

use support::served::{create_superuser, location, Browser, Server};
use support::services::Postgres;
use support::{assert_success, cargo, cargo_output, cargo_with_env, generate, target_dir};

const ADMIN_PASSWORD: &str = "sturdy root passphrase 8";
const PASSWORD: &str = "a sturdy passphrase 42";

/// Each fixture config yields an app that is formatted, lint-free and passes its own tests.
#[test]
fn generated_apps_pass_fmt_clippy_and_tests() {
    let parent = tempfile::tempdir().unwrap();
    for config in [
        "bare",
        "default",
        "email_login",
        "pages_permissions_groups",
        "register_reset_disabled",
        "tricky_titles",
    ] {
        let app = generate(parent.path(), &format!("app_{config}"), config);
        assert_formatted_and_lint_free(&app);
        cargo(&app, &["test", "--locked"]);
    }
}

/// Asserts that the app passes `cargo fmt --check` and clippy with warnings denied.
fn assert_formatted_and_lint_free(app: &Path) {
    cargo(app, &["fmt", "--check"]);
    let clippy = cargo(
        app,
        &[
            "clippy",
            "--locked",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    let stderr = String::from_utf8_lossy(&clippy.stderr);
    assert!(!stderr.contains("warning:"), "{}: {stderr}", app.display());
}

/// The PostgreSQL app is formatted and lint-free, and passes its own tests against a real
/// server. Without `DATABASE_URL` its tests fail with a message naming the variable.
#[test]
fn postgres_app_passes_fmt_clippy_and_tests() {
    let parent = tempfile::tempdir().unwrap();
    let app = generate(parent.path(), "app_postgres", "postgres");
    assert_formatted_and_lint_free(&app);

    let postgres = Postgres::start();
    let database_url = postgres.create_database("app_postgres_test");
    cargo_with_env(
        &app,
        &["test", "--locked"],
        &[("DATABASE_URL", &database_url)],
    );
    // Every test dropped the schema it worked in.
    let schemas = postgres.psql(
        "app_postgres_test",
        "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'test\\_%'",
    );
    assert_eq!(schemas, "0");

    let without = cargo_output(&app, &["test", "--locked", "--test", "http"], &[]);
    assert!(!without.status.success());
    let stdout = String::from_utf8_lossy(&without.stdout);
    assert!(
        stdout.contains("the tests need a PostgreSQL database: set `DATABASE_URL`"),
        "{stdout}"
    );
}

/// The whole life of an app, as a new user meets it: generate, build, migrate, create a
/// superuser, serve, and use every auth page over HTTP.
#[test]
fn served_app_handles_the_auth_flows() {
    let parent = tempfile::tempdir().unwrap();
    let app = generate(parent.path(), "shop", "pages_permissions_groups");
    cargo(&app, &["build", "--locked"]);
    let binary = target_dir().join("debug/shop");
    let database_url = format!(
        "sqlite://{}?mode=rwc",
        parent.path().join("shop.db").display()
    );

    // `migrate` creates the declared permissions and groups, and says so.
    let migrate = Command::new(&binary)
        .arg("migrate")
        .current_dir(&app)
        .env("DATABASE_URL", &database_url)
        .output()
        .unwrap();
    assert_success("shop migrate", &migrate);
    let log = String::from_utf8_lossy(&migrate.stderr);
    assert!(log.contains("billing.view_invoice"), "{log}");
    assert!(log.contains("Billing Staff"), "{log}");

    create_superuser(&binary, &app, &database_url, "admin", ADMIN_PASSWORD);

    // Without a secret key the server refuses to start.
    let refused = Command::new(&binary)
        .arg("serve")
        .current_dir(&app)
        .env("DATABASE_URL", &database_url)
        .env("SECRET_KEY", "")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("SECRET_KEY"));

    let server = Server::start(&binary, &app, &database_url);
    let browser = Browser::new(&server);
    assert_eq!(browser.get("/healthz").status(), StatusCode::OK);

    // Registration signs the new user in.
    let register = [
        ("username", "bob"),
        ("email", "bob@example.com"),
        ("password1", PASSWORD),
        ("password2", PASSWORD),
    ];
    let response = browser.submit("/register", "/register", &register);
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(browser.is_signed_in());

    // Gated pages: login required, then permission required.
    let anonymous = Browser::new(&server);
    let response = anonymous.get("/order_history");
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/login?next=%2Forder_history");
    let response = anonymous.get("/blog/editor");
    assert_eq!(location(&response), "/staff/login?next=%2Fblog%2Feditor");
    assert_eq!(browser.get("/order_history").status(), StatusCode::OK);
    assert_eq!(
        browser.get("/billing/invoices").status(),
        StatusCode::FORBIDDEN
    );

    let admin = Browser::new(&server);
    assert_eq!(
        admin.login("admin", ADMIN_PASSWORD).status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(admin.get("/billing/invoices").status(), StatusCode::OK);

    // Granting through the command line takes effect on the next request.
    let grant = Command::new(&binary)
        .args(["add-to-group", "bob", "Billing Staff"])
        .current_dir(&app)
        .env("DATABASE_URL", &database_url)
        .output()
        .unwrap();
    assert_success("shop add-to-group", &grant);
    assert_eq!(browser.get("/billing/invoices").status(), StatusCode::OK);

    // Unsafe `next` values fall back to the post-login URL; a local one is followed.
    for next in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "http:evil.example",
    ] {
        let visitor = Browser::new(&server);
        let fields = [("username", "bob"), ("password", PASSWORD), ("next", next)];
        let response = visitor.submit("/login", "/login", &fields);
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/", "next = {next:?}");
    }
    let phone = Browser::new(&server);
    let fields = [
        ("username", "bob"),
        ("password", PASSWORD),
        ("next", "/order_history"),
    ];
    let response = phone.submit("/login", "/login", &fields);
    assert_eq!(location(&response), "/order_history");

    // A password change keeps this session and ends the other one.
    let changed = "changed passphrase 77";
    let fields = [
        ("old_password", PASSWORD),
        ("new_password1", changed),
        ("new_password2", changed),
    ];
    let response = browser.submit("/password_change", "/password_change", &fields);
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(browser.is_signed_in());
    assert!(!phone.is_signed_in());

    // Logout is POST only.
    assert_eq!(
        browser.get("/logout").status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    let response = browser.submit("/login", "/logout", &[]);
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!browser.is_signed_in());

    // A form without its CSRF token is refused.
    let response = browser
        .client
        .post(format!("{}/login", server.base))
        .form(&[("username", "bob"), ("password", changed)])
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Password reset through the link in the server log.
    let response = browser.submit(
        "/password_reset",
        "/password_reset",
        &[("email", "bob@example.com")],
    );
    assert_eq!(response.status(), StatusCode::OK);
    let log = server.wait_for_log("/password_reset_confirm?token=");
    let link = log
        .lines()
        .find_map(|line| {
            line.find("http://")
                .filter(|_| line.contains("?token="))
                .map(|at| line[at..].trim())
        })
        .unwrap()
        .to_owned();
    let path = link.strip_prefix(&server.base).unwrap();
    let response = browser.get(path);
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/password_reset_confirm");
    let reset = "reset passphrase 55";
    let fields = [("new_password1", reset), ("new_password2", reset)];
    let response = browser.submit(
        "/password_reset_confirm",
        "/password_reset_confirm",
        &fields,
    );
    assert_eq!(location(&response), "/login");
    assert_eq!(
        Browser::new(&server).login("bob", reset).status(),
        StatusCode::SEE_OTHER
    );
    // The link works once.
    let replay = Browser::new(&server);
    replay.get(path);
    assert!(replay
        .text("/password_reset_confirm")
        .contains("already used"));

    // Ten failures from one address for one identifier, then 429 even for the right password.
    let attacker = Browser::new(&server);
    for _ in 0..10 {
        assert_eq!(
            attacker.login("bob", "wrong password").status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        attacker.login("bob", reset).status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Headless Chromium on the example page: register, see the username arrive through the
/// socket's snapshot, add a note, log out in a second tab and see the first tab follow. Needs
/// Debian's `chromium` and `npm ci` in `tests/browser` (both done by `.ci/run`).
#[test]
fn browser_follows_the_example_page() {
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        scripts.join("node_modules/playwright-core").is_dir(),
        "run `npm ci` in tests/browser first"
    );
    let parent = tempfile::tempdir().unwrap();
    let app = generate(parent.path(), "shop", "pages_permissions_groups");
    cargo(&app, &["build", "--locked"]);
    let binary = target_dir().join("debug/shop");
    let database_url = format!(
        "sqlite://{}?mode=rwc",
        parent.path().join("shop.db").display()
    );
    let server = Server::start(&binary, &app, &database_url);

    let output = Command::new("node")
        .arg("notes.mjs")
        .current_dir(&scripts)
        .env("BASE_URL", &server.base)
        .output()
        .unwrap();
    assert_success("node notes.mjs", &output);
}
