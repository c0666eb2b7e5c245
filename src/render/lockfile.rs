//! The generated app's `Cargo.lock`: the dependency versions rdauth's own tests built and ran
//! the app with, pinned so that a new app builds with exactly those.
//!
//! `templates/lockfiles/<database>.lock` is a real lockfile whose root package is named
//! `__APP_NAME__`. Cargo sorts packages by name and rewrites a lockfile whose order differs,
//! which `cargo build --locked` rejects, so the root package is renamed and moved to its sorted
//! place.

use anyhow::{anyhow, Result};

use super::template_source;

/// The root package's name in the stored lockfiles.
const PLACEHOLDER: &str = "__APP_NAME__";
const PACKAGE_HEADER: &str = "[[package]]\n";

/// Dependencies of the app's root package that only apps with the example page have: the
/// example's benchmark raises the open-file limit through `libc`.
const EXAMPLE_ONLY_DEPENDENCIES: &[&str] = &["libc"];

/// Returns the lockfile for an app named `app_name` on `database`. The stored lockfile is one
/// of an app with the example page; without it, the root package lists fewer dependencies.
pub fn cargo_lock(app_name: &str, database: &str, example: bool) -> Result<String> {
    let name = format!("lockfiles/{database}.lock");
    let stored = template_source(&name)
        .ok_or_else(|| anyhow!("no lockfile `templates/{name}` is embedded"))?;
    let dropped = if example {
        &[][..]
    } else {
        EXAMPLE_ONLY_DEPENDENCIES
    };
    with_root(stored, app_name, dropped)
}

fn with_root(stored: &str, app_name: &str, dropped: &[&str]) -> Result<String> {
    let mut blocks: Vec<&str> = stored.split(PACKAGE_HEADER).map(str::trim_end).collect();
    let header = blocks.remove(0);

    let root_index = blocks
        .iter()
        .position(|block| package_name(block) == PLACEHOLDER)
        .ok_or_else(|| anyhow!("the stored lockfile has no `{PLACEHOLDER}` package"))?;
    let mut root = blocks.remove(root_index).replacen(PLACEHOLDER, app_name, 1);
    for dependency in dropped {
        root = root.replacen(&format!("\n \"{dependency}\","), "", 1);
    }
    let position = blocks
        .iter()
        .position(|block| package_name(block) > app_name)
        .unwrap_or(blocks.len());
    blocks.insert(position, &root);

    let mut out = String::from(header);
    for block in blocks {
        out.push_str("\n\n");
        out.push_str(PACKAGE_HEADER);
        out.push_str(block);
    }
    out.push('\n');
    Ok(out)
}

fn package_name(block: &str) -> &str {
    block
        .strip_prefix("name = \"")
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORED: &str = "version = 4\n\n[[package]]\nname = \"__APP_NAME__\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"axum\"\nversion = \"0.8.9\"\n\n[[package]]\nname = \"tokio\"\nversion = \"1.0.0\"\n";

    #[test]
    fn stored_lockfile_round_trips() {
        let lock = with_root(STORED, PLACEHOLDER, &[]).unwrap();
        assert_eq!(lock, STORED);
    }

    #[test]
    fn root_moves_to_sorted_place() {
        let lock = with_root(STORED, "shop", &[]).unwrap();
        let names: Vec<&str> = lock
            .split(PACKAGE_HEADER)
            .skip(1)
            .map(package_name)
            .collect();
        assert_eq!(names, ["axum", "shop", "tokio"]);
    }

    #[test]
    fn root_goes_last_when_it_sorts_last() {
        let lock = with_root(STORED, "zoo", &[]).unwrap();
        assert!(
            lock.ends_with("\n\n[[package]]\nname = \"zoo\"\nversion = \"0.1.0\"\n"),
            "{lock}"
        );
    }

    #[test]
    fn bare_app_root_drops_example_dependencies() {
        let root = |lock: &str| {
            let start = lock.find("name = \"shop\"").unwrap();
            let end = lock[start..]
                .find(PACKAGE_HEADER)
                .map_or(lock.len(), |at| start + at);
            lock[start..end].to_owned()
        };
        let with = root(&cargo_lock("shop", "sqlite", true).unwrap());
        let without = root(&cargo_lock("shop", "sqlite", false).unwrap());
        assert!(with.contains("\n \"libc\","), "{with}");
        assert!(!without.contains("\n \"libc\","), "{without}");
    }

    #[test]
    fn embedded_lockfile_has_a_root() {
        let lock = cargo_lock("shop", "sqlite", true).unwrap();
        assert!(lock.contains("name = \"shop\"\nversion = \"0.1.0\"\n"));
        assert!(!lock.contains(PLACEHOLDER));
    }
}
