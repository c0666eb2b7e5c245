//! `rdauth restore PATH [--force]`: writes a generated file again, as the current config
//! generates it, and records it as rdauth's version.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result};

use super::app::App;
use super::{InputError, Outcome};
use crate::cli::RestoreArgs;
use crate::plan;
use crate::sync::{self, base_path, DiskWriter, FileMode, ManifestFile, Writer as _};
use crate::{shell, VERSION};

pub fn run(args: &RestoreArgs) -> Result<Outcome> {
    let app = App::locate()?;
    let config = app.load_config(&app.config_source)?;
    let (mut manifest, _) = app.manifest()?;
    let current = std::env::current_dir().context("failed to read the current folder")?;
    let path = app_relative(&app.root, &current, &args.path)?;

    let plan = plan::plan(&config, &manifest.migrations, VERSION)?;
    let Some(file) = plan.files.iter().find(|file| file.path == path) else {
        return Err(InputError::new(
            format!("rdauth does not generate `{path}` for this config"),
            "check the path; `rdauth restore` brings back files that `rdauth sync` writes",
        )
        .into());
    };
    let target = app.root.join(&path);
    let exists = target.exists();
    if exists && !args.force {
        return Err(InputError::new(
            format!("`{path}` exists"),
            "pass `--force` to replace it with rdauth's version; your edits to it are lost",
        )
        .into());
    }

    let record = ManifestFile {
        path: path.clone(),
        sha256: plan::sha256_hex(&file.contents),
        executable: file.executable,
    };
    match manifest.files.iter_mut().find(|entry| entry.path == path) {
        Some(entry) => *entry = record,
        None => {
            manifest.files.push(record);
            manifest.files.sort_by(|a, b| a.path.cmp(&b.path));
        }
    }

    let mut writer = DiskWriter::new(&app.root);
    let mode = FileMode::for_new_file(file.executable);
    writer.write(&path, &file.contents, mode)?;
    writer.write(
        &base_path(&path),
        &file.contents,
        FileMode::for_new_file(false),
    )?;
    writer.write(
        sync::MANIFEST_PATH,
        manifest.to_toml().as_bytes(),
        FileMode::for_new_file(false),
    )?;
    shell::status(if exists { "Replacing" } else { "Restoring" }, &path);
    Ok(Outcome::Done)
}

/// Turns `path`, given relative to `current`, into a path relative to the app `root` with
/// forward slashes.
fn app_relative(root: &Path, current: &Path, path: &Path) -> Result<String> {
    let mut full = PathBuf::new();
    for component in current.join(path).components() {
        match component {
            Component::ParentDir => {
                full.pop();
            }
            Component::CurDir => {}
            other => full.push(other),
        }
    }
    let outside = || {
        InputError::new(
            format!(
                "`{}` is not inside the app `{}`",
                path.display(),
                root.display()
            ),
            "give a path to a file of the app, such as `src/main.rs`",
        )
    };
    let relative = full.strip_prefix(root).map_err(|_| outside())?;
    let segments: Vec<String> = relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segments.is_empty() {
        return Err(outside().into());
    }
    Ok(segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_made_app_relative() {
        let root = Path::new("/apps/shop");
        let inside = Path::new("/apps/shop/src");
        assert_eq!(
            app_relative(root, inside, Path::new("pages/a.rs")).unwrap(),
            "src/pages/a.rs"
        );
        assert_eq!(
            app_relative(root, inside, Path::new("../README.md")).unwrap(),
            "README.md"
        );
        assert!(app_relative(root, inside, Path::new("../../x")).is_err());
        assert!(app_relative(root, root, Path::new(".")).is_err());
    }
}
