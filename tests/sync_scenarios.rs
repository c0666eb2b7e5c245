//! Sync scenarios as folder trees under `fixtures/sync/<scenario>/`:
//!
//! - `in/` is the app before the sync: the user's files and the baselines in `.rdauth/base/`;
//!   the manifest is derived from the baselines, so fixtures need no hashes;
//! - `new/` is what the plan renders now: the new templates or config;
//! - `out/` is the app after the sync, baselines included, manifest left out;
//! - `status.txt` lists the status line of every file something happens to;
//! - `scenario.toml`, when present, lists `moves` as a page rename passes them.
//!
//! The scenarios run the sync engine on a plan built from `new/`, so they do not depend on the
//! real templates. Each one also checks that a second sync changes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rdauth::plan::{sha256_hex, Plan, PlannedFile};
use rdauth::sync::{self, DiskWriter, Manifest, ManifestFile, Status, SyncInput, MANIFEST_PATH};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sync")
}

/// Reads every file under `root` into a map from forward-slash relative paths to bytes.
fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, folder: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = fs::read_dir(folder) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                let key = relative
                    .components()
                    .map(|component| component.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                files.insert(key, fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(root, root, &mut files);
    files
}

fn write_tree(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (path, contents) in files {
        let target = root.join(path);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(target, contents).unwrap();
    }
}

fn plan_of(tree: &BTreeMap<String, Vec<u8>>) -> Plan {
    Plan {
        files: tree
            .iter()
            .map(|(path, contents)| PlannedFile {
                path: path.clone(),
                contents: contents.clone(),
                executable: false,
            })
            .collect(),
        migrations: Vec::new(),
    }
}

/// Writes the manifest that records every baseline under `.rdauth/base/` of `root`.
fn write_manifest_for_baselines(root: &Path) {
    let baselines = read_tree(&root.join(sync::BASE_DIR));
    let manifest = Manifest {
        rdauth_version: rdauth::VERSION.to_owned(),
        files: baselines
            .iter()
            .map(|(path, contents)| ManifestFile {
                path: path.clone(),
                sha256: sha256_hex(contents),
                executable: false,
            })
            .collect(),
        migrations: Vec::new(),
    };
    fs::write(root.join(MANIFEST_PATH), manifest.to_toml()).unwrap();
}

fn read_moves(scenario: &Path) -> Vec<(String, String)> {
    let Ok(text) = fs::read_to_string(scenario.join("scenario.toml")) else {
        return Vec::new();
    };
    let document: toml_edit::DocumentMut = text.parse().unwrap();
    document["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let pair = pair.as_array().unwrap();
            (
                pair.get(0).unwrap().as_str().unwrap().to_owned(),
                pair.get(1).unwrap().as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Runs one sync of `app` to `plan` and returns the status lines it reports.
fn sync_once(app: &Path, plan: &Plan, moves: &[(String, String)]) -> (String, sync::SyncPlan) {
    let (manifest, manifest_text) = sync::load_manifest(app, rdauth::VERSION).unwrap();
    let sync_plan = sync::reconcile(SyncInput {
        root: app,
        plan,
        previous: &manifest,
        previous_text: &manifest_text,
        moves,
        rdauth_version: rdauth::VERSION,
    })
    .unwrap();
    sync_plan.apply(&mut DiskWriter::new(app)).unwrap();
    let status = sync_plan
        .changes
        .iter()
        .filter(|change| change.status != Status::Unchanged)
        .map(|change| format!("{} {}\n", change.status.verb(), change.path))
        .collect();
    (status, sync_plan)
}

fn show(tree: &BTreeMap<String, Vec<u8>>) -> String {
    tree.iter()
        .map(|(path, contents)| format!("--- {path}\n{}\n", String::from_utf8_lossy(contents)))
        .collect()
}

fn run_scenario(name: &str) {
    let scenario = fixtures().join(name);
    let app = tempfile::tempdir().unwrap();
    write_tree(app.path(), &read_tree(&scenario.join("in")));
    write_manifest_for_baselines(app.path());
    let plan = plan_of(&read_tree(&scenario.join("new")));
    let moves = read_moves(&scenario);

    let (status, first) = sync_once(app.path(), &plan, &moves);
    assert_eq!(
        status,
        fs::read_to_string(scenario.join("status.txt")).unwrap(),
        "status lines of `{name}`"
    );

    let mut actual = read_tree(app.path());
    actual.remove(MANIFEST_PATH);
    let expected = read_tree(&scenario.join("out"));
    assert!(
        actual == expected,
        "`{name}`: the app differs from `out/`\n=== actual\n{}=== expected\n{}",
        show(&actual),
        show(&expected)
    );

    // The manifest records exactly the baselines left on disk.
    let (manifest, _) = sync::load_manifest(app.path(), rdauth::VERSION).unwrap();
    let recorded: Vec<&str> = manifest
        .files
        .iter()
        .map(|file| file.path.as_str())
        .collect();
    let baselines = read_tree(&app.path().join(sync::BASE_DIR));
    let on_disk: Vec<&str> = baselines.keys().map(String::as_str).collect();
    assert_eq!(recorded, on_disk, "manifest of `{name}`");

    let (_, second) = sync_once(app.path(), &plan, &[]);
    assert!(
        !second.touches_disk(),
        "`{name}`: a second sync would write {:?}",
        second
            .changes
            .iter()
            .filter(|change| change.touches_disk())
            .map(|change| &change.path)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        first.conflicted().count(),
        second.conflicted().count(),
        "`{name}`: conflicts stay reported until resolved"
    );
}

#[test]
fn user_edit_survives_unrelated_change() {
    run_scenario("user_edit_unrelated_change");
}

#[test]
fn edits_apart_merge_cleanly() {
    run_scenario("edits_apart_merge");
}

#[test]
fn convergent_edits_do_not_conflict() {
    run_scenario("convergent_edits");
}

#[test]
fn real_conflict_writes_markers() {
    run_scenario("real_conflict");
}

#[test]
fn stale_markers_are_skipped() {
    run_scenario("stale_markers");
}

#[test]
fn deleted_file_stays_deleted() {
    run_scenario("deleted_file");
}

#[test]
fn removed_feature_keeps_edited_files() {
    run_scenario("feature_removed");
}

#[test]
fn renamed_page_moves_with_edits() {
    run_scenario("page_renamed");
}

#[test]
fn user_file_at_generated_path_conflicts() {
    run_scenario("user_file_at_generated_path");
}

#[test]
fn crlf_file_stays_crlf() {
    run_scenario("crlf_file");
}

#[test]
fn every_scenario_has_a_test() {
    let source = include_str!("sync_scenarios.rs");
    for entry in fs::read_dir(fixtures()).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                source.contains(&format!("run_scenario(\"{name}\")")),
                "no test runs `fixtures/sync/{name}`"
            );
        }
    }
}
