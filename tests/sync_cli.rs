//! Runs `rdauth sync` and the commands that edit `rdauth.toml` on generated apps, the way a
//! user does, and checks exit codes, output and the files left behind.
//!
//! Expected file contents come from `rdauth::plan`, never from copies of the templates, so the
//! tests keep passing while the templates change.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use insta_cmd::assert_cmd_snapshot;
use rdauth::config;
use rdauth::plan::{self, Plan};

fn rdauth(folder: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rdauth"));
    command
        .current_dir(folder)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    command
}

fn run(folder: &Path, args: &[&str]) -> Output {
    rdauth(folder).args(args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
}

/// Creates the app `shop` in a temporary folder, from a fixture config or the defaults.
fn new_app(config: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().unwrap();
    let mut args = vec!["new", "shop"];
    let config_path;
    if let Some(name) = config {
        config_path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("fixtures/configs/{name}.toml"))
            .display()
            .to_string();
        args.extend(["--config", config_path.as_str()]);
    }
    assert_exit(&run(folder.path(), &args), 0);
    let app = folder.path().join("shop");
    (folder, app)
}

/// Plans the app for its `rdauth.toml` as it is on disk now.
fn plan_app(app: &Path) -> Plan {
    let source = fs::read_to_string(app.join("rdauth.toml")).unwrap();
    let config = config::load(&source, "rdauth.toml", None).unwrap();
    plan::plan(&config, &[], rdauth::VERSION).unwrap()
}

fn planned<'p>(plan: &'p Plan, path: &str) -> &'p str {
    let file = plan.files.iter().find(|file| file.path == path).unwrap();
    std::str::from_utf8(&file.contents).unwrap()
}

/// Reads every file of the app except `target/`, as a map from relative path to bytes.
fn snapshot_tree(app: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, folder: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let key = path.strip_prefix(root).unwrap().display().to_string();
                files.insert(key, fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(app, app, &mut files);
    files
}

fn set_config(app: &Path, from: &str, to: &str) {
    let path = app.join("rdauth.toml");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "`{from}` is not in rdauth.toml");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Returns a file that `change` alters in the plan, with the 0-based index of its first
/// changed line. README.md is skipped because its prose is rewrapped often.
fn first_change(before: &Plan, after: &Plan) -> (String, usize) {
    for file in &after.files {
        if file.path == "README.md" {
            continue;
        }
        let Some(old) = before.files.iter().find(|old| old.path == file.path) else {
            continue;
        };
        if old.contents != file.contents {
            let old = String::from_utf8(old.contents.clone()).unwrap();
            let new = String::from_utf8(file.contents.clone()).unwrap();
            let line = old
                .lines()
                .zip(new.lines())
                .position(|(a, b)| a != b)
                .unwrap();
            return (file.path.clone(), line);
        }
    }
    panic!("the config change alters no file");
}

/// Filters temporary paths out of snapshots.
fn with_filters(test: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"/[^\s`']*/shop\b", "[APP]");
    settings.bind(test);
}

const PASSWORD_BEFORE: &str = "min_password_length = 8";
const PASSWORD_AFTER: &str = "min_password_length = 12";

#[test]
fn check_after_new_is_clean() {
    let (_folder, app) = new_app(None);
    with_filters(|| assert_cmd_snapshot!(rdauth(&app).args(["sync", "--check"])));
    with_filters(|| assert_cmd_snapshot!(rdauth(&app).arg("sync")));
}

#[test]
fn sync_runs_from_subfolder() {
    let (_folder, app) = new_app(None);
    set_config(&app, PASSWORD_BEFORE, PASSWORD_AFTER);
    let output = run(&app.join("src/auth"), &["sync"]);
    assert_exit(&output, 0);
    assert!(stderr(&output).contains("Updating src/settings.rs"));
}

#[test]
fn sync_outside_app_is_input_error() {
    let folder = tempfile::tempdir().unwrap();
    let output = run(folder.path(), &["sync"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("could not find `rdauth.toml`"));
}

#[test]
fn config_change_updates_unedited_files() {
    let (_folder, app) = new_app(None);
    set_config(&app, PASSWORD_BEFORE, PASSWORD_AFTER);

    let check = run(&app, &["sync", "--check"]);
    assert_exit(&check, 1);
    assert_exit(&run(&app, &["sync"]), 0);

    let plan = plan_app(&app);
    for file in &plan.files {
        assert_eq!(
            fs::read(app.join(&file.path)).unwrap(),
            file.contents,
            "{}",
            file.path
        );
    }
    assert_exit(&run(&app, &["sync", "--check"]), 0);
}

#[test]
fn user_edit_merges_with_config_change() {
    let (_folder, app) = new_app(None);
    let before = plan_app(&app);
    set_config(&app, PASSWORD_BEFORE, PASSWORD_AFTER);
    let after = plan_app(&app);
    let (path, changed_line) = first_change(&before, &after);
    assert!(
        changed_line >= 4,
        "the change is too close to the top of `{path}`"
    );

    let original = fs::read_to_string(app.join(&path)).unwrap();
    let edited = format!("// Reviewed by the shop team.\n{original}");
    fs::write(app.join(&path), &edited).unwrap();

    let output = run(&app, &["sync"]);
    assert_exit(&output, 0);
    assert!(stderr(&output).contains(&format!("Merging {path}")));
    let merged = fs::read_to_string(app.join(&path)).unwrap();
    assert_eq!(
        merged,
        format!("// Reviewed by the shop team.\n{}", planned(&after, &path))
    );

    let second = run(&app, &["sync", "--check"]);
    assert_exit(&second, 0);
}

#[test]
fn conflict_exits_one_until_resolved() {
    let (_folder, app) = new_app(None);
    let before = plan_app(&app);
    set_config(&app, PASSWORD_BEFORE, PASSWORD_AFTER);
    let after = plan_app(&app);
    let (path, line) = first_change(&before, &after);

    let original = fs::read_to_string(app.join(&path)).unwrap();
    let mut lines: Vec<String> = original.lines().map(str::to_owned).collect();
    lines[line] = format!("{} // changed by hand", lines[line]);
    fs::write(app.join(&path), lines.join("\n") + "\n").unwrap();

    let output = run(&app, &["sync"]);
    assert_exit(&output, 1);
    assert!(stderr(&output).contains(&format!("Conflict {path}")));
    let text = fs::read_to_string(app.join(&path)).unwrap();
    assert!(text.contains("<<<<<<< yours\n"));
    assert!(text.contains("||||||| base\n"));
    assert!(text.contains("=======\n"));
    assert!(text.contains(">>>>>>> rdauth\n"));
    assert!(text.contains("// changed by hand"));

    // An unresolved file is skipped and keeps failing the check.
    let again = run(&app, &["sync"]);
    assert_exit(&again, 1);
    assert!(stderr(&again).contains(&format!(
        "Skipping {path} (still contains conflict markers)"
    )));
    assert_exit(&run(&app, &["sync", "--check"]), 1);
    assert_eq!(fs::read_to_string(app.join(&path)).unwrap(), text);

    // Taking rdauth's side resolves it.
    fs::write(app.join(&path), planned(&after, &path)).unwrap();
    assert_exit(&run(&app, &["sync"]), 0);
    assert_exit(&run(&app, &["sync", "--check"]), 0);
}

#[test]
fn conflict_output_lists_files() {
    let (_folder, app) = new_app(None);
    let before = plan_app(&app);
    set_config(&app, PASSWORD_BEFORE, PASSWORD_AFTER);
    let after = plan_app(&app);
    let (path, line) = first_change(&before, &after);
    let original = fs::read_to_string(app.join(&path)).unwrap();
    let mut lines: Vec<&str> = original.lines().collect();
    lines[line] = "// replaced by hand";
    fs::write(app.join(&path), lines.join("\n") + "\n").unwrap();

    with_filters(|| assert_cmd_snapshot!(rdauth(&app).arg("sync")));
}

#[test]
fn diff_and_dry_run_write_nothing() {
    let (_folder, app) = new_app(None);
    set_config(&app, PASSWORD_BEFORE, PASSWORD_AFTER);
    let tree = snapshot_tree(&app);

    let diff = run(&app, &["diff"]);
    assert_exit(&diff, 0);
    let stdout = String::from_utf8(diff.stdout).unwrap();
    assert!(stdout.contains("--- a/src/settings.rs\n+++ b/src/settings.rs\n"));
    assert!(stdout
        .lines()
        .any(|line| line.starts_with('-') && line.contains('8')));
    assert!(stdout
        .lines()
        .any(|line| line.starts_with('+') && line.contains("12")));
    assert!(!stdout.contains(".rdauth/"));
    assert!(!stdout.contains('\u{1b}'), "no color codes off a terminal");

    let dry_run = run(&app, &["sync", "--dry-run"]);
    assert_exit(&dry_run, 0);
    assert!(stderr(&dry_run).contains("aborting sync due to dry run"));
    assert_eq!(String::from_utf8(dry_run.stdout).unwrap(), stdout);
    assert!(snapshot_tree(&app) == tree, "a dry run changed files");
}

#[test]
fn config_error_writes_nothing() {
    let (_folder, app) = new_app(None);
    set_config(&app, PASSWORD_BEFORE, "min_password_length = 3");
    let tree = snapshot_tree(&app);
    with_filters(|| assert_cmd_snapshot!(rdauth(&app).arg("sync")));
    assert!(snapshot_tree(&app) == tree);
}

#[test]
fn newer_manifest_is_rejected() {
    let (_folder, app) = new_app(None);
    let path = app.join(".rdauth/manifest.toml");
    let text = fs::read_to_string(&path).unwrap().replace(
        &format!("rdauth_version = \"{}\"", rdauth::VERSION),
        "rdauth_version = \"99.0.0\"",
    );
    fs::write(&path, text).unwrap();
    with_filters(|| assert_cmd_snapshot!(rdauth(&app).args(["sync", "--check"])));
    assert_exit(&run(&app, &["sync"]), 2);
}

#[test]
fn missing_manifest_fails_check() {
    let (_folder, app) = new_app(None);
    fs::remove_file(app.join(".rdauth/manifest.toml")).unwrap();
    assert_exit(&run(&app, &["sync", "--check"]), 1);
    assert_exit(&run(&app, &["sync"]), 2);
}

#[test]
fn damaged_baseline_fails_check() {
    let (_folder, app) = new_app(None);
    fs::write(app.join(".rdauth/base/src/main.rs"), "damaged\n").unwrap();
    let check = run(&app, &["sync", "--check"]);
    assert_exit(&check, 1);
    assert!(stderr(&check).contains("the baseline of `src/main.rs` is missing or damaged"));

    // The user's copy equals the render, so the sync repairs the baseline without a conflict.
    assert_exit(&run(&app, &["sync"]), 0);
    assert_exit(&run(&app, &["sync", "--check"]), 0);
}

#[test]
fn deleted_file_is_restored_on_request() {
    let (_folder, app) = new_app(None);
    fs::remove_file(app.join("src/auth/logout.rs")).unwrap();

    let output = run(&app, &["sync"]);
    assert_exit(&output, 0);
    assert!(stderr(&output).contains(
        "Skipping src/auth/logout.rs (deleted; `rdauth restore src/auth/logout.rs` brings it back)"
    ));
    assert!(!app.join("src/auth/logout.rs").exists());
    assert_exit(&run(&app, &["sync", "--check"]), 0);

    assert_exit(&run(&app.join("src"), &["restore", "auth/logout.rs"]), 0);
    let plan = plan_app(&app);
    assert_eq!(
        fs::read_to_string(app.join("src/auth/logout.rs")).unwrap(),
        planned(&plan, "src/auth/logout.rs")
    );
    assert_exit(&run(&app, &["restore", "src/auth/logout.rs"]), 2);
    assert_exit(&run(&app, &["restore", "src/nothing.rs"]), 2);
    assert_exit(&run(&app, &["sync", "--check"]), 0);
}

#[test]
fn disabled_feature_removes_unedited_files() {
    let (_folder, app) = new_app(None);
    let edited_path = "templates/auth/register.html";
    let edited = format!(
        "{}<!-- my edit -->\n",
        fs::read_to_string(app.join(edited_path)).unwrap()
    );
    fs::write(app.join(edited_path), &edited).unwrap();
    let before = plan_app(&app);
    set_config(&app, "register_enabled = true", "register_enabled = false");
    let after = plan_app(&app);

    let output = run(&app, &["sync"]);
    assert_exit(&output, 0);
    let dropped: Vec<&str> = before
        .files
        .iter()
        .map(|file| file.path.as_str())
        .filter(|path| !after.files.iter().any(|file| file.path == *path))
        .collect();
    assert!(dropped.contains(&edited_path));
    for path in dropped {
        if path == edited_path {
            assert_eq!(fs::read_to_string(app.join(path)).unwrap(), edited);
            assert!(stderr(&output).contains(&format!("Orphaned {path}")));
        } else {
            assert!(!app.join(path).exists(), "{path}");
            assert!(stderr(&output).contains(&format!("Removing {path}")));
        }
        assert!(!app.join(".rdauth/base").join(path).exists(), "{path}");
    }
    assert_exit(&run(&app, &["sync", "--check"]), 0);
}

#[cfg(unix)]
#[test]
fn file_mode_is_kept() {
    use std::os::unix::fs::PermissionsExt;

    let (_folder, app) = new_app(None);
    let path = app.join("src/settings.rs");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    set_config(&app, PASSWORD_BEFORE, PASSWORD_AFTER);
    assert_exit(&run(&app, &["sync"]), 0);
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn target_and_git_are_untouched() {
    let (_folder, app) = new_app(None);
    fs::create_dir_all(app.join("target/debug")).unwrap();
    fs::write(app.join("target/debug/marker"), "build output\n").unwrap();
    fs::create_dir_all(app.join(".git")).unwrap();
    fs::write(app.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    set_config(&app, PASSWORD_BEFORE, PASSWORD_AFTER);
    assert_exit(&run(&app, &["sync"]), 0);
    assert_eq!(
        fs::read_to_string(app.join("target/debug/marker")).unwrap(),
        "build output\n"
    );
    assert_eq!(
        fs::read_to_string(app.join(".git/HEAD")).unwrap(),
        "ref: refs/heads/main\n"
    );
}

#[test]
fn add_page_twice_is_noop() {
    let (_folder, app) = new_app(None);
    assert_exit(&run(&app, &["add", "permission", "shop.view_report"]), 0);
    let config = fs::read_to_string(app.join("rdauth.toml")).unwrap();
    assert!(config.contains("[permissions.shop]\nview_report = \"Can view report\"\n"));

    let args = [
        "add",
        "page",
        "reports",
        "--permission",
        "shop.view_report",
        "--title",
        "Sales reports",
    ];
    let first = run(&app, &args);
    assert_exit(&first, 0);
    assert!(stderr(&first).contains("Creating src/pages/reports.rs"));
    let plan = plan_app(&app);
    assert_eq!(
        fs::read_to_string(app.join("src/pages/reports.rs")).unwrap(),
        planned(&plan, "src/pages/reports.rs")
    );
    let tree = snapshot_tree(&app);

    with_filters(|| assert_cmd_snapshot!(rdauth(&app).args(args)));
    assert!(snapshot_tree(&app) == tree, "a repeated add changed files");

    with_filters(|| {
        assert_cmd_snapshot!(rdauth(&app).args(["add", "page", "reports", "--login-required"]))
    });
    assert!(snapshot_tree(&app) == tree, "a rejected add changed files");
    assert_exit(&run(&app, &["sync", "--check"]), 0);
}

#[test]
fn add_page_keeps_config_comments() {
    let (_folder, app) = new_app(None);
    let before = fs::read_to_string(app.join("rdauth.toml")).unwrap();
    assert_exit(
        &run(&app, &["add", "page", "billing", "--login-required"]),
        0,
    );
    let after = fs::read_to_string(app.join("rdauth.toml")).unwrap();
    assert_eq!(
        after,
        format!("{before}\n[pages.billing]\nlogin_required = true\n")
    );
}

#[test]
fn add_page_rejects_undeclared_permission() {
    let (_folder, app) = new_app(None);
    let tree = snapshot_tree(&app);
    with_filters(|| {
        assert_cmd_snapshot!(rdauth(&app).args([
            "add",
            "page",
            "reports",
            "--permission",
            "shop.view_report"
        ]))
    });
    assert!(snapshot_tree(&app) == tree);
}

#[test]
fn add_page_rejects_invalid_input() {
    let (_folder, app) = new_app(None);
    let tree = snapshot_tree(&app);
    for args in [
        &["add", "page", "Reports"][..],
        &["add", "page", "reports", "--route", "reports"],
        &["add", "page", "reports", "--route", "/login"],
        &["add", "permission", "shop"],
        &["add", "permission", "shop.Refund"],
        &["remove", "page", "missing"],
        &["rename", "page", "missing", "other"],
    ] {
        assert_exit(&run(&app, args), 2);
        assert!(snapshot_tree(&app) == tree, "{args:?} changed files");
    }
}

#[test]
fn remove_page_keeps_edited_module() {
    let (_folder, app) = new_app(Some("pages_permissions_groups"));
    let module = "src/pages/order_history.rs";
    let edited = format!(
        "{}// my helper\n",
        fs::read_to_string(app.join(module)).unwrap()
    );
    fs::write(app.join(module), &edited).unwrap();

    let output = run(&app, &["remove", "page", "order_history"]);
    assert_exit(&output, 0);
    assert!(stderr(&output).contains(&format!("Orphaned {module}")));
    assert!(stderr(&output).contains("Removing templates/pages/order_history.html"));
    assert_eq!(fs::read_to_string(app.join(module)).unwrap(), edited);
    assert!(!app.join("templates/pages/order_history.html").exists());
    assert!(!fs::read_to_string(app.join("rdauth.toml"))
        .unwrap()
        .contains("order_history"));
    assert_exit(&run(&app, &["sync", "--check"]), 0);
}

#[test]
fn rename_page_moves_edits() {
    let (_folder, app) = new_app(Some("pages_permissions_groups"));
    let old = "src/pages/order_history.rs";
    let edited = format!(
        "{}// my helper\n",
        fs::read_to_string(app.join(old)).unwrap()
    );
    fs::write(app.join(old), &edited).unwrap();

    let output = run(&app, &["rename", "page", "order_history", "orders"]);
    assert_exit(&output, 0);
    assert!(stderr(&output).contains("Moving src/pages/order_history.rs -> src/pages/orders.rs"));
    assert!(!app.join(old).exists());
    assert!(!app.join("templates/pages/order_history.html").exists());

    let plan = plan_app(&app);
    let moved = fs::read_to_string(app.join("src/pages/orders.rs")).unwrap();
    assert_eq!(
        moved,
        format!("{}// my helper\n", planned(&plan, "src/pages/orders.rs"))
    );
    assert_eq!(
        fs::read_to_string(app.join("templates/pages/orders.html")).unwrap(),
        planned(&plan, "templates/pages/orders.html")
    );
    assert_exit(&run(&app, &["sync", "--check"]), 0);
}

#[test]
fn sync_help_shows_examples() {
    let folder = tempfile::tempdir().unwrap();
    for command in [
        &["sync", "--help"][..],
        &["diff", "--help"],
        &["add", "page", "--help"],
        &["add", "permission", "--help"],
        &["remove", "page", "--help"],
        &["rename", "page", "--help"],
        &["restore", "--help"],
        &["doctor", "--help"],
    ] {
        let output = run(folder.path(), command);
        assert_exit(&output, 0);
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(help.contains("Example"), "{command:?}");
        assert!(help.contains("rdauth "), "{command:?}");
    }
    assert_cmd_snapshot!(rdauth(folder.path()).args(["sync", "--help"]));
}

#[test]
fn database_switch_keeps_edits() {
    let (_folder, app) = new_app(None);
    let helper = "\n/// Rows in the users table, for the shop's dashboard.\npub async fn count_users(pool: &Pool) -> sqlx::Result<i64> {\n    sqlx::query_scalar(\"SELECT COUNT(*) FROM users\")\n        .fetch_one(pool)\n        .await\n}\n";
    let db = app.join("src/db.rs");
    let original = fs::read_to_string(&db).unwrap();
    fs::write(&db, format!("{original}{helper}")).unwrap();

    set_config(&app, "database = \"sqlite\"", "database = \"postgres\"");
    let output = run(&app, &["sync"]);
    assert_exit(&output, 0);
    assert!(
        stderr(&output).contains("Merging src/db.rs"),
        "{}",
        stderr(&output)
    );
    // `.env` still names the SQLite file, which sync leaves alone but points out.
    assert!(
        stderr(&output).contains(
            "warning: `DATABASE_URL` in `.env` is not a PostgreSQL URL; point it at the app's \
             new database before running the app"
        ),
        "{}",
        stderr(&output)
    );

    let merged = fs::read_to_string(&db).unwrap();
    let after = plan_app(&app);
    assert_eq!(merged, format!("{}{helper}", planned(&after, "src/db.rs")));
    assert!(merged.contains("pub type Pool = PgPool;"), "{merged}");
    assert!(!merged.to_lowercase().contains("sqlite"), "{merged}");

    // The new backend's migrations start their own history; the written ones stay.
    for name in [
        "0001_create_auth_tables.sql",
        "0002_create_login_handoffs.sql",
        "0003_create_notes.sql",
    ] {
        assert!(
            app.join("migrations/postgres").join(name).is_file(),
            "{name}"
        );
        assert!(app.join("migrations/sqlite").join(name).is_file(), "{name}");
    }
    let cargo_toml = fs::read_to_string(app.join("Cargo.toml")).unwrap();
    assert!(cargo_toml.contains("\"postgres\""), "{cargo_toml}");
    assert_exit(&run(&app, &["sync", "--check"]), 0);

    // Once `.env` names a PostgreSQL database, sync has nothing to point out.
    fs::write(
        app.join(".env"),
        "SECRET_KEY=0123456789abcdef0123456789abcdef\nDATABASE_URL=postgres:///shop\n",
    )
    .unwrap();
    let quiet = run(&app, &["sync"]);
    assert_exit(&quiet, 0);
    assert!(
        !stderr(&quiet).contains("DATABASE_URL"),
        "{}",
        stderr(&quiet)
    );
}
