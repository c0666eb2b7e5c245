//! Writers: where applied files go. The disk writer writes for real; a dry-run writer can
//! implement the same trait and only record what would change.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// A destination for files, addressed by paths relative to the app root with forward slashes.
pub trait Writer {
    /// Writes `contents` to `path`, creating missing parent folders.
    fn write(&mut self, path: &str, contents: &[u8], executable: bool) -> Result<()>;
}

/// Writes into a folder on disk. Each file goes to a temporary file in the same folder first
/// and is renamed into place, so a reader never sees half a file.
#[derive(Debug)]
pub struct DiskWriter {
    root: PathBuf,
}

impl DiskWriter {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DiskWriter { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Writer for DiskWriter {
    fn write(&mut self, path: &str, contents: &[u8], executable: bool) -> Result<()> {
        let target = self.root.join(path);
        let folder = target
            .parent()
            .expect("a path joined onto the root has a parent");
        fs::create_dir_all(folder)
            .with_context(|| format!("failed to create folder `{}`", folder.display()))?;

        let mut temporary = tempfile::Builder::new()
            .prefix(".rdauth-")
            .tempfile_in(folder)
            .with_context(|| {
                format!(
                    "failed to create a temporary file in `{}`",
                    folder.display()
                )
            })?;
        temporary
            .write_all(contents)
            .with_context(|| format!("failed to write `{}`", target.display()))?;
        set_executable(temporary.as_file(), executable)
            .with_context(|| format!("failed to set permissions of `{}`", target.display()))?;
        temporary
            .persist(&target)
            .with_context(|| format!("failed to write `{}`", target.display()))?;
        Ok(())
    }
}

#[cfg(unix)]
fn set_executable(file: &fs::File, executable: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;

    // tempfile creates files readable only by their owner. The generated app's files get the
    // usual mode instead, as if an editor had created them under a default umask.
    let mode = if executable { 0o755 } else { 0o644 };
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_executable(_file: &fs::File, _executable: bool) -> std::io::Result<()> {
    Ok(())
}
