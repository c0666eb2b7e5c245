//! Plans the app for every config in `fixtures/configs/` and snapshots each generated file, one
//! snapshot per file per config, plus the list of files.
//!
//! After a template change, review and accept the new output with `cargo insta review` (or
//! `cargo insta accept`, or `INSTA_UPDATE=always cargo test`). Remove snapshots of files that
//! no longer exist with `cargo insta test --unreferenced=delete`.

use std::fs;
use std::path::Path;

use rdauth::plan::{self, PlannedFile};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/configs");

/// A fixed version, so that snapshots do not change with each release.
const VERSION: &str = "0.0.0-test";

#[test]
fn generated_tree_matches_snapshots() {
    for (fixture, files) in plan_fixtures() {
        let listing: String = files
            .iter()
            .map(|file| {
                let mode = if file.executable { " (executable)" } else { "" };
                format!("{}{mode}\n", file.path)
            })
            .collect();
        insta::assert_snapshot!(format!("{fixture}__files"), listing);

        for file in &files {
            let name = format!("{fixture}__{}", file.path.replace('/', "__"));
            match std::str::from_utf8(&file.contents) {
                Ok(text) => insta::assert_snapshot!(name, text),
                Err(_) => insta::assert_snapshot!(
                    name,
                    format!(
                        "binary, {} bytes, sha256 {}",
                        file.contents.len(),
                        plan::sha256_hex(&file.contents)
                    )
                ),
            }
        }
    }
}

#[test]
fn generated_rust_and_toml_parse() {
    for (fixture, files) in plan_fixtures() {
        for file in &files {
            let Ok(text) = std::str::from_utf8(&file.contents) else {
                continue;
            };
            if file.path.ends_with(".rs") {
                if let Err(error) = syn::parse_file(text) {
                    panic!("{fixture}: `{}` is not valid Rust: {error}", file.path);
                }
            }
            if file.path.ends_with(".toml") || file.path == "Cargo.lock" {
                if let Err(error) = text.parse::<toml_edit::DocumentMut>() {
                    panic!("{fixture}: `{}` is not valid TOML: {error}", file.path);
                }
            }
        }
    }
}

#[test]
fn plan_is_deterministic() {
    for (fixture, first) in plan_fixtures() {
        let (_, second) = plan_fixture(&Path::new(FIXTURES).join(format!("{fixture}.toml")));
        assert_eq!(first, second, "{fixture}");

        let mut sorted = first.clone();
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(first, sorted, "{fixture}: files are sorted by path");
    }
}

fn plan_fixtures() -> Vec<(String, Vec<PlannedFile>)> {
    let mut paths: Vec<_> = fs::read_dir(FIXTURES)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "toml")
        })
        .collect();
    paths.sort();
    paths.iter().map(|path| plan_fixture(path)).collect()
}

/// Plans one fixture. A fixture without `app.name` is planned as `myshop`.
fn plan_fixture(path: &Path) -> (String, Vec<PlannedFile>) {
    let fixture = path.file_stem().unwrap().to_string_lossy().into_owned();
    let source = fs::read_to_string(path).unwrap();
    let document: toml_edit::DocumentMut = source.parse().unwrap();
    let name = document
        .get("app")
        .and_then(|app| app.get("name"))
        .and_then(|name| name.as_str())
        .unwrap_or("myshop")
        .to_owned();

    let config = match rdauth::config::load(&source, &fixture, Some(&name)) {
        Ok(config) => config,
        Err(errors) => panic!("{}", errors.render()),
    };
    let plan = plan::plan(&config, &[], VERSION).unwrap();
    (fixture, plan.files)
}
