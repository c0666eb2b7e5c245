//! Runs `rdauth new myshop --config FILE` on every config in `fixtures/invalid/` and pins the
//! exit code and the exact error output, then checks that nothing was written.

use std::fs;
use std::process::Command;

use insta_cmd::assert_cmd_snapshot;

#[test]
fn invalid_config_writes_nothing() {
    insta::glob!("../fixtures/invalid", "*.toml", |fixture| {
        let folder = tempfile::tempdir().unwrap();
        let file_name = fixture.file_name().unwrap();
        fs::copy(fixture, folder.path().join(file_name)).unwrap();

        let mut command = Command::new(env!("CARGO_BIN_EXE_rdauth"));
        command
            .current_dir(folder.path())
            .args(["new", "myshop", "--config"])
            .arg(file_name)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE");
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(
            &regex_escape(&folder.path().display().to_string()),
            "[TEMP]",
        );
        settings.bind(|| assert_cmd_snapshot!(command));

        let left: Vec<_> = fs::read_dir(folder.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(left, [file_name], "only the config may be in the folder");
    });
}

/// Escapes `text` for use as a literal in an insta filter regex.
fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
