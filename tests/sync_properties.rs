//! Property tests of the merge and of whole syncs: whatever the user edits and however the
//! config changes, no line the user added or changed is silently dropped, and a second sync
//! changes nothing.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use proptest::prelude::*;
use rdauth::commands::new;
use rdauth::sync::merge::{merge, Merged};
use rdauth::sync::{self, DiskWriter, SyncInput};
use rdauth::{config, plan};

/// One edit of a text, at a position taken modulo the number of lines.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize),
    Delete(usize),
    Change(usize),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..400usize).prop_map(Edit::Insert),
        (0..400usize).prop_map(Edit::Delete),
        (0..400usize).prop_map(Edit::Change),
    ]
}

/// Applies `edits` to `text` and returns the edited text with the lines the edits added. Each
/// new line is unique: it contains `tag` and the edit's index.
fn apply_edits(text: &str, edits: &[Edit], tag: &str) -> (String, Vec<String>) {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut added = Vec::new();
    for (index, edit) in edits.iter().enumerate() {
        let new_line = format!("// {tag} line {index}");
        match *edit {
            Edit::Insert(at) => {
                let at = at % (lines.len() + 1);
                lines.insert(at, new_line.clone());
                added.push(new_line);
            }
            Edit::Delete(at) if !lines.is_empty() => {
                let at = at % lines.len();
                let removed = lines.remove(at);
                added.retain(|line| *line != removed);
            }
            Edit::Change(at) if !lines.is_empty() => {
                let at = at % lines.len();
                let old = std::mem::replace(&mut lines[at], new_line.clone());
                added.retain(|line| *line != old);
                added.push(new_line);
            }
            Edit::Delete(_) | Edit::Change(_) => {}
        }
    }
    let mut edited = lines.join("\n");
    if !edited.is_empty() {
        edited.push('\n');
    }
    (edited, added)
}

fn base_text(lines: &[u8]) -> String {
    lines
        .iter()
        .map(|value| format!("line {value}\n"))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn merge_never_drops_user_lines(
        base in proptest::collection::vec(0u8..12, 0..30),
        yours in proptest::collection::vec(edit_strategy(), 0..6),
        theirs in proptest::collection::vec(edit_strategy(), 0..6),
    ) {
        let base = base_text(&base);
        let (yours, added) = apply_edits(&base, &yours, "yours");
        let (theirs, _) = apply_edits(&base, &theirs, "rdauth");

        let output = match merge(base.as_bytes(), yours.as_bytes(), theirs.as_bytes()) {
            Merged::Clean(bytes) | Merged::Conflicted { contents: bytes, .. } => {
                String::from_utf8(bytes).unwrap()
            }
            Merged::Binary => unreachable!("the texts are UTF-8"),
        };
        let output_lines: BTreeSet<&str> = output.lines().collect();
        for line in &added {
            prop_assert!(output_lines.contains(line.as_str()), "lost {line:?}\n{output}");
        }

        // Merging a side with itself, or with an unchanged side, gives that side.
        prop_assert_eq!(merge(base.as_bytes(), yours.as_bytes(), base.as_bytes()), Merged::Clean(yours.clone().into_bytes()));
        prop_assert_eq!(merge(base.as_bytes(), base.as_bytes(), theirs.as_bytes()), Merged::Clean(theirs.clone().into_bytes()));
        prop_assert_eq!(merge(base.as_bytes(), yours.as_bytes(), yours.as_bytes()), Merged::Clean(yours.clone().into_bytes()));
    }
}

/// A random `rdauth.toml`: the settings and pages a config change may touch.
#[derive(Debug, Clone)]
struct RandomConfig {
    min_password_length: u32,
    register_enabled: bool,
    password_reset_enabled: bool,
    login_title: &'static str,
    pages: Vec<(&'static str, bool)>,
}

fn config_strategy() -> impl Strategy<Value = RandomConfig> {
    (
        8u32..40,
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec!["Log in", "Sign in", "Welcome back"]),
        proptest::sample::subsequence(vec!["alpha", "beta", "gamma", "delta"], 0..=4),
        proptest::collection::vec(any::<bool>(), 4),
    )
        .prop_map(
            |(length, register, reset, title, pages, guards)| RandomConfig {
                min_password_length: length,
                register_enabled: register,
                password_reset_enabled: reset,
                login_title: title,
                pages: pages.into_iter().zip(guards).collect(),
            },
        )
}

impl RandomConfig {
    fn to_toml(&self) -> String {
        let mut text = format!(
            "[app]\nname = \"shop\"\n\n[auth]\nmin_password_length = {}\nregister_enabled = {}\npassword_reset_enabled = {}\n\n[auth.page_titles]\nlogin = \"{}\"\n",
            self.min_password_length, self.register_enabled, self.password_reset_enabled, self.login_title
        );
        for (name, login_required) in &self.pages {
            let _ = write!(
                text,
                "\n[pages.{name}]\nlogin_required = {login_required}\n"
            );
        }
        text
    }
}

fn sync_app(app: &Path) -> sync::SyncPlan {
    let source = fs::read_to_string(app.join("rdauth.toml")).unwrap();
    let config = config::load(&source, "rdauth.toml", None).unwrap();
    let (manifest, manifest_text) = sync::load_manifest(app, rdauth::VERSION).unwrap();
    let plan = plan::plan(&config, &manifest.migrations, rdauth::VERSION).unwrap();
    sync::reconcile(SyncInput {
        root: app,
        plan: &plan,
        previous: &manifest,
        previous_text: &manifest_text,
        moves: &[],
        rdauth_version: rdauth::VERSION,
    })
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn sync_keeps_user_lines_and_is_idempotent(
        before in config_strategy(),
        after in config_strategy(),
        edits in proptest::collection::vec(
            (0..1000usize, proptest::collection::vec(edit_strategy(), 1..4)),
            1..5,
        ),
    ) {
        let folder = tempfile::tempdir().unwrap();
        let config_path = folder.path().join("before.toml");
        fs::write(&config_path, before.to_toml()).unwrap();
        let created = new::create("shop", Some(&config_path), &new::Overrides::default(), folder.path()).unwrap();
        let app = created.target;

        // Migrations are left alone: sqlx rejects edited migrations, and users know it.
        let editable: Vec<&str> = created
            .plan
            .files
            .iter()
            .map(|file| file.path.as_str())
            .filter(|path| !path.starts_with(plan::MIGRATIONS_DIR))
            .collect();
        let mut expected: Vec<(String, Vec<String>)> = Vec::new();
        for (index, (file, file_edits)) in edits.iter().enumerate() {
            let path = editable[file % editable.len()];
            if expected.iter().any(|(edited, _)| edited == path) {
                continue;
            }
            let text = fs::read_to_string(app.join(path)).unwrap();
            let (edited, added) = apply_edits(&text, file_edits, &format!("user{index}"));
            fs::write(app.join(path), edited).unwrap();
            expected.push((path.to_owned(), added));
        }

        fs::write(app.join("rdauth.toml"), after.to_toml()).unwrap();
        let first = sync_app(&app);
        first.apply(&mut DiskWriter::new(&app)).unwrap();

        for (path, added) in &expected {
            let Ok(text) = fs::read_to_string(app.join(path)) else {
                prop_assert!(added.is_empty(), "`{path}` with added lines was removed");
                continue;
            };
            let lines: BTreeSet<&str> = text.lines().collect();
            for line in added {
                prop_assert!(lines.contains(line.as_str()), "`{path}` lost {line:?}");
            }
        }

        let second = sync_app(&app);
        prop_assert!(!second.touches_disk(), "a second sync would change files");
    }
}
