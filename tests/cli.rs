//! Runs the `rdauth` binary the way a user does and pins its exit codes and output.

use std::fs;
use std::path::Path;
use std::process::Command;

use insta_cmd::assert_cmd_snapshot;

fn rdauth(folder: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rdauth"));
    command
        .current_dir(folder)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    command
}

fn entries(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn help_shows_example_and_exit_codes() {
    let folder = tempfile::tempdir().unwrap();
    assert_cmd_snapshot!(rdauth(folder.path()).arg("--help"));
}

#[test]
fn new_help_shows_example() {
    let folder = tempfile::tempdir().unwrap();
    assert_cmd_snapshot!(rdauth(folder.path()).args(["new", "--help"]));
}

#[test]
fn version_prints_crate_version() {
    let folder = tempfile::tempdir().unwrap();
    let output = rdauth(folder.path()).arg("--version").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("rdauth {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn missing_subcommand_is_usage_error() {
    let folder = tempfile::tempdir().unwrap();
    let output = rdauth(folder.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn unknown_option_is_usage_error() {
    let folder = tempfile::tempdir().unwrap();
    let output = rdauth(folder.path())
        .args(["new", "myshop", "--colour"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(entries(folder.path()).is_empty());
}

#[test]
fn new_rejects_invalid_crate_name() {
    let folder = tempfile::tempdir().unwrap();
    for name in ["2shop", "my shop", "self", "std", "a.b", "-x"] {
        let output = rdauth(folder.path()).args(["new", name]).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(entries(folder.path()).is_empty(), "{name}");
    }
    assert_cmd_snapshot!(rdauth(folder.path()).args(["new", "2shop"]));
}

#[test]
fn new_rejects_non_empty_folder() {
    let folder = tempfile::tempdir().unwrap();
    let target = folder.path().join("myshop");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("notes.txt"), "keep me\n").unwrap();

    assert_cmd_snapshot!(rdauth(folder.path()).args(["new", "myshop"]));
    assert_eq!(entries(&target), ["notes.txt"]);
    assert_eq!(
        fs::read_to_string(target.join("notes.txt")).unwrap(),
        "keep me\n"
    );
    assert_eq!(entries(folder.path()), ["myshop"]);
}

#[test]
fn new_rejects_existing_file() {
    let folder = tempfile::tempdir().unwrap();
    fs::write(folder.path().join("myshop"), "a file\n").unwrap();

    let output = rdauth(folder.path())
        .args(["new", "myshop"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        fs::read_to_string(folder.path().join("myshop")).unwrap(),
        "a file\n"
    );
}

#[test]
fn new_rejects_missing_config_file() {
    let folder = tempfile::tempdir().unwrap();
    assert_cmd_snapshot!(rdauth(folder.path()).args(["new", "myshop", "--config", "missing.toml"]));
    assert!(entries(folder.path()).is_empty());
}

#[test]
fn new_writes_default_app() {
    let folder = tempfile::tempdir().unwrap();
    let output = rdauth(folder.path())
        .args(["new", "myshop"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));

    let app = folder.path().join("myshop");
    let config = fs::read_to_string(app.join("rdauth.toml")).unwrap();
    assert_eq!(
        config,
        rdauth::commands::new::render_default_config(
            "myshop",
            true,
            rdauth::config::Database::Sqlite
        )
        .unwrap()
    );
    let env = fs::read_to_string(app.join(".env")).unwrap();
    assert!(env.contains("SECRET_KEY="));
    assert!(env.contains("DATABASE_URL=sqlite://myshop.db?mode=rwc"));

    let manifest = fs::read_to_string(app.join(".rdauth/manifest.toml")).unwrap();
    let manifest = rdauth::sync::Manifest::parse(&manifest).unwrap();
    assert_eq!(manifest.rdauth_version, env!("CARGO_PKG_VERSION"));
    for file in &manifest.files {
        let written = fs::read(app.join(&file.path)).unwrap();
        let base = fs::read(app.join(".rdauth/base").join(&file.path)).unwrap();
        assert_eq!(written, base, "{}", file.path);
        assert_eq!(
            rdauth::plan::sha256_hex(&written),
            file.sha256,
            "{}",
            file.path
        );
    }
    assert_eq!(
        entries(folder.path()),
        ["myshop"],
        "no staging folder is left"
    );
}

#[test]
fn new_reports_next_steps() {
    let folder = tempfile::tempdir().unwrap();
    let mut settings = insta::Settings::clone_current();
    // The counts change whenever a template is added; the wording is what this test pins.
    settings.add_filter(r"\d+ files", "[N] files");
    settings.bind(|| assert_cmd_snapshot!(rdauth(folder.path()).args(["new", "myshop"])));
}

#[test]
fn new_fills_empty_folder() {
    let folder = tempfile::tempdir().unwrap();
    fs::create_dir(folder.path().join("myshop")).unwrap();

    let output = rdauth(folder.path())
        .args(["new", "myshop"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(folder.path().join("myshop/rdauth.toml").is_file());
}

#[test]
fn new_keeps_config_comments_and_sets_name() {
    let folder = tempfile::tempdir().unwrap();
    let config = "# Shop settings\n[app]\nname = \"old\" # replaced\n\n[auth]\n# stricter\nmin_password_length = 12\n";
    fs::write(folder.path().join("shop.toml"), config).unwrap();

    let output = rdauth(folder.path())
        .args(["new", "myshop", "--config", "shop.toml"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        fs::read_to_string(folder.path().join("myshop/rdauth.toml")).unwrap(),
        "# Shop settings\n[app]\nname = \"myshop\" # replaced\nexample = true\n\n[auth]\n# stricter\nmin_password_length = 12\n"
    );
}

#[test]
fn new_bare_leaves_out_the_example() {
    let folder = tempfile::tempdir().unwrap();
    fs::write(
        folder.path().join("shop.toml"),
        "[auth]\nmin_password_length = 12\n",
    )
    .unwrap();

    let output = rdauth(folder.path())
        .args(["new", "myshop", "--bare", "--config", "shop.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let app = folder.path().join("myshop");
    let config = fs::read_to_string(app.join("rdauth.toml")).unwrap();
    assert!(config.contains("example = false"), "{config}");
    assert!(!app.join("src/pages/notes.rs").exists());
    assert!(app
        .join("migrations/sqlite/0002_create_login_handoffs.sql")
        .exists());
    assert!(!app.join("migrations/sqlite/0003_create_notes.sql").exists());
    let permissions = fs::read_to_string(app.join("src/permissions.rs")).unwrap();
    assert!(!permissions.contains("NotesDeleteNote"));
}

#[test]
fn new_database_postgres_writes_only_postgres_code() {
    let folder = tempfile::tempdir().unwrap();
    let output = rdauth(folder.path())
        .args(["new", "myshop", "--database", "postgres"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let app = folder.path().join("myshop");
    let config = fs::read_to_string(app.join("rdauth.toml")).unwrap();
    assert!(config.contains("database = \"postgres\""), "{config}");
    let env = fs::read_to_string(app.join(".env")).unwrap();
    assert!(env.contains("DATABASE_URL=postgres:///myshop\n"), "{env}");
    assert!(app
        .join("migrations/postgres/0003_create_notes.sql")
        .exists());
    assert!(!app.join("migrations/sqlite").exists());
    let cargo_toml = fs::read_to_string(app.join("Cargo.toml")).unwrap();
    assert!(cargo_toml.contains("\"postgres\""), "{cargo_toml}");
    assert!(!cargo_toml.contains("sqlite"), "{cargo_toml}");
    assert_code_lacks(&app, &["sqlite"]);
}

#[test]
fn new_sqlite_app_has_no_postgres_code() {
    let folder = tempfile::tempdir().unwrap();
    let output = rdauth(folder.path())
        .args(["new", "myshop"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let app = folder.path().join("myshop");
    assert!(!app.join("migrations/postgres").exists());
    assert_code_lacks(&app, &["postgres", "pgpool", "pg_notify"]);
}

/// Asserts that no file under the app's `src/`, `tests/` and `benches/` mentions any of
/// `words`, ignoring case.
fn assert_code_lacks(app: &Path, words: &[&str]) {
    let mut pending = vec![app.join("src"), app.join("tests"), app.join("benches")];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let source = fs::read_to_string(&path).unwrap().to_lowercase();
            for word in words {
                assert!(!source.contains(word), "{} mentions {word}", path.display());
            }
        }
    }
}

#[test]
fn new_database_overrides_the_given_config() {
    let folder = tempfile::tempdir().unwrap();
    fs::write(
        folder.path().join("shop.toml"),
        "[app]\ndatabase = \"sqlite\" # for now\n",
    )
    .unwrap();
    let output = rdauth(folder.path())
        .args([
            "new",
            "myshop",
            "--config",
            "shop.toml",
            "--database",
            "postgres",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let config = fs::read_to_string(folder.path().join("myshop/rdauth.toml")).unwrap();
    assert!(
        config.contains("database = \"postgres\" # for now"),
        "{config}"
    );
    assert!(folder.path().join("myshop/migrations/postgres").is_dir());
}

#[test]
fn new_rejects_an_unknown_database() {
    let folder = tempfile::tempdir().unwrap();
    let output = rdauth(folder.path())
        .args(["new", "myshop", "--database", "mysql"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("'mysql'") && stderr.contains("sqlite, postgres"),
        "{stderr}"
    );
    assert!(!folder.path().join("myshop").exists());
}

#[test]
fn new_default_has_the_example() {
    let folder = tempfile::tempdir().unwrap();
    let output = rdauth(folder.path())
        .args(["new", "myshop"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let app = folder.path().join("myshop");
    assert!(app.join("src/pages/notes.rs").exists());
    let config = fs::read_to_string(app.join("rdauth.toml")).unwrap();
    assert!(config.contains("example = true"), "{config}");
}
