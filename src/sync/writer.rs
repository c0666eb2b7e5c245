//! Writers: where applied files go. [`DiskWriter`] writes into the app folder; a
//! [`RecordingWriter`] only records the writes and removals, for `--check`, `--dry-run` and
//! `rdauth diff`.

use std::fs;
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// Unix permission bits of a written file. Other platforms ignore them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMode(pub u32);

impl FileMode {
    /// Returns the mode of a file rdauth creates: `0o644`, or `0o755` for a script.
    pub fn for_new_file(executable: bool) -> Self {
        FileMode(if executable { 0o755 } else { 0o644 })
    }

    pub fn is_executable(self) -> bool {
        self.0 & 0o111 != 0
    }

    /// Returns this mode with the executable bits set or cleared. Owner, group and others get
    /// execute permission only where they have read permission.
    pub fn with_executable(self, executable: bool) -> Self {
        if executable == self.is_executable() {
            self
        } else if executable {
            FileMode(self.0 | ((self.0 & 0o444) >> 2))
        } else {
            FileMode(self.0 & !0o111)
        }
    }
}

/// A destination for files, addressed by paths relative to the app root with forward slashes.
pub trait Writer {
    /// Writes `contents` to `path`, creating missing parent folders.
    fn write(&mut self, path: &str, contents: &[u8], mode: FileMode) -> Result<()>;

    /// Removes the file at `path`, and then each parent folder that this leaves empty. A file
    /// that is already gone is not an error.
    fn remove(&mut self, path: &str) -> Result<()>;
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
    fn write(&mut self, path: &str, contents: &[u8], mode: FileMode) -> Result<()> {
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
        set_mode(temporary.as_file(), mode)
            .with_context(|| format!("failed to set permissions of `{}`", target.display()))?;
        temporary
            .persist(&target)
            .with_context(|| format!("failed to write `{}`", target.display()))?;
        Ok(())
    }

    fn remove(&mut self, path: &str) -> Result<()> {
        let target = self.root.join(path);
        match fs::remove_file(&target) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(()),
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("failed to remove `{}`", target.display()))
            }
        }

        // Folders that only held rdauth's file go with it; `remove_dir` fails on the first
        // folder that still has entries, which ends the walk.
        let mut folder = target.parent();
        while let Some(current) = folder {
            if current == self.root || fs::remove_dir(current).is_err() {
                break;
            }
            folder = current.parent();
        }
        Ok(())
    }
}

/// One change a [`RecordingWriter`] recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordedChange {
    Write {
        path: String,
        contents: Vec<u8>,
        mode: FileMode,
    },
    Remove {
        path: String,
    },
}

impl RecordedChange {
    pub fn path(&self) -> &str {
        match self {
            RecordedChange::Write { path, .. } | RecordedChange::Remove { path } => path,
        }
    }
}

/// Records changes in memory and touches nothing on disk.
#[derive(Debug, Default)]
pub struct RecordingWriter {
    pub changes: Vec<RecordedChange>,
}

impl Writer for RecordingWriter {
    fn write(&mut self, path: &str, contents: &[u8], mode: FileMode) -> Result<()> {
        self.changes.push(RecordedChange::Write {
            path: path.to_owned(),
            contents: contents.to_vec(),
            mode,
        });
        Ok(())
    }

    fn remove(&mut self, path: &str) -> Result<()> {
        self.changes.push(RecordedChange::Remove {
            path: path.to_owned(),
        });
        Ok(())
    }
}

/// Returns the permission bits from `metadata`.
#[cfg(unix)]
pub fn read_mode(metadata: &fs::Metadata) -> FileMode {
    use std::os::unix::fs::PermissionsExt;

    FileMode(metadata.permissions().mode() & 0o7777)
}

/// Returns the permission bits from `metadata`. without Unix modes every file is regular.
#[cfg(not(unix))]
pub fn read_mode(_metadata: &fs::Metadata) -> FileMode {
    FileMode::for_new_file(false)
}

#[cfg(unix)]
fn set_mode(file: &fs::File, mode: FileMode) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;

    // tempfile creates files readable only by their owner, so the mode is always set.
    file.set_permissions(fs::Permissions::from_mode(mode.0))
}

#[cfg(not(unix))]
fn set_mode(_file: &fs::File, _mode: FileMode) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executable_bit_follows_read_bits() {
        assert_eq!(FileMode(0o644).with_executable(true), FileMode(0o755));
        assert_eq!(FileMode(0o600).with_executable(true), FileMode(0o700));
        assert_eq!(FileMode(0o755).with_executable(false), FileMode(0o644));
        assert_eq!(FileMode(0o700).with_executable(true), FileMode(0o700));
    }

    #[test]
    fn remove_drops_emptied_folders() {
        let root = tempfile::tempdir().unwrap();
        let mut writer = DiskWriter::new(root.path());
        writer
            .write("a/b/c.txt", b"x", FileMode::for_new_file(false))
            .unwrap();
        writer
            .write("a/keep.txt", b"x", FileMode::for_new_file(false))
            .unwrap();
        writer.remove("a/b/c.txt").unwrap();
        assert!(!root.path().join("a/b").exists());
        assert!(root.path().join("a/keep.txt").exists());
        writer.remove("a/b/c.txt").unwrap();
    }
}
