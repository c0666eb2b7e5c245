//! Reconciling a plan with an app folder: for every file, what to write, what to keep and what
//! to remove, decided in memory before anything is written.
//!
//! [`reconcile`] reads the user's copies, the baselines and the manifest, and returns a
//! [`SyncPlan`]. Nothing touches the disk until [`SyncPlan::apply`] hands the changes to a
//! [`Writer`], the manifest last, so an interrupted sync leaves the previous manifest in place
//! and a re-run completes the work. Only the paths that the plan or the manifest name are read.
//! Folders are never walked, so `target/`, `.git/` and the user's other files stay untouched.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use anyhow::{bail, Context as _, Result};

use super::manifest::{Manifest, ManifestFile, BASE_DIR, MANIFEST_PATH};
use super::merge::{self, Merged};
use super::writer::{read_mode, FileMode, Writer};
use crate::plan::{sha256_hex, Plan, PlannedFile, MIGRATIONS_DIR};

/// The action a sync takes on one file, named as in its status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The file is new to the app and written as rendered.
    Creating,
    /// The user never edited the file, so the new render replaces it.
    Updating,
    /// Both sides changed the file and the changes merged cleanly.
    Merging,
    /// The user's copy already contains rdauth's changes; only the baseline moves on.
    Keeping,
    /// Both sides changed the same lines; the file now contains marker blocks.
    Conflict,
    /// The file is left alone: the user deleted it, or it still contains conflict markers.
    Skipping,
    /// The config no longer produces the file and the user never edited it.
    Removing,
    /// The config no longer produces the file, but the user edited it, so it stays.
    Orphaned,
    /// Nothing visible happens to the file; a baseline may still be brought up to date.
    Unchanged,
}

impl Status {
    /// Returns the verb of the status line.
    pub fn verb(self) -> &'static str {
        match self {
            Status::Creating => "Creating",
            Status::Updating => "Updating",
            Status::Merging => "Merging",
            Status::Keeping => "Keeping",
            Status::Conflict => "Conflict",
            Status::Skipping => "Skipping",
            Status::Removing => "Removing",
            Status::Orphaned => "Orphaned",
            Status::Unchanged => "Unchanged",
        }
    }
}

/// The reason a file is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The user deleted the file after rdauth wrote it.
    Deleted,
    /// The file still contains a conflict block from an earlier sync.
    UnresolvedConflict,
}

/// One write a sync performs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    pub path: String,
    pub contents: Vec<u8>,
    pub mode: FileMode,
}

/// Everything a sync does for one path of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The file's path after the sync.
    pub path: String,
    /// The path the file moves from, when a page is renamed.
    pub moved_from: Option<String>,
    pub status: Status,
    pub skip_reason: Option<SkipReason>,
    /// Marker blocks written into the file, for a conflict.
    pub conflicts: usize,
    /// True for a conflict in a binary file, where the user's copy is kept as it is.
    pub binary: bool,
    /// Writes of the file and of its baseline.
    pub writes: Vec<FileWrite>,
    /// Removals of the file or of its baseline, done after the writes.
    pub removals: Vec<String>,
}

impl FileChange {
    fn new(path: &str, status: Status) -> Self {
        FileChange {
            path: path.to_owned(),
            moved_from: None,
            status,
            skip_reason: None,
            conflicts: 0,
            binary: false,
            writes: Vec::new(),
            removals: Vec::new(),
        }
    }

    /// True when the change writes or removes anything.
    pub fn touches_disk(&self) -> bool {
        !self.writes.is_empty() || !self.removals.is_empty()
    }
}

/// The inputs of [`reconcile`].
#[derive(Debug, Clone, Copy)]
pub struct SyncInput<'a> {
    /// The app folder, which contains `rdauth.toml`.
    pub root: &'a Path,
    pub plan: &'a Plan,
    /// The manifest the previous run wrote.
    pub previous: &'a Manifest,
    /// The manifest's text as read, to tell whether the new one differs.
    pub previous_text: &'a str,
    /// Files to move before merging, as `(old path, new path)`: a page rename moves the page's
    /// files with the user's edits.
    pub moves: &'a [(String, String)],
    pub rdauth_version: &'a str,
}

/// Everything a sync will do, decided before the first write.
#[derive(Debug, Clone)]
pub struct SyncPlan {
    /// One entry per planned path and per path the manifest drops, in path order.
    pub changes: Vec<FileChange>,
    /// The manifest to write last.
    pub manifest: Manifest,
    /// True when the manifest's text differs from the one on disk.
    pub manifest_changed: bool,
    /// Baselines that were missing or did not match their recorded hash. Their files were
    /// merged against an empty baseline, so no edit is lost.
    pub damaged_baselines: Vec<String>,
}

impl SyncPlan {
    /// True when applying the plan writes or removes anything.
    pub fn touches_disk(&self) -> bool {
        self.manifest_changed || self.changes.iter().any(FileChange::touches_disk)
    }

    /// Returns the files with a conflict: written now with markers, or still containing
    /// markers from an earlier sync.
    pub fn conflicted(&self) -> impl Iterator<Item = &FileChange> {
        self.changes.iter().filter(|change| {
            change.status == Status::Conflict
                || change.skip_reason == Some(SkipReason::UnresolvedConflict)
        })
    }

    /// Applies every change through `writer`: the files and baselines first, removals next,
    /// and the manifest last.
    pub fn apply(&self, writer: &mut dyn Writer) -> Result<()> {
        for change in &self.changes {
            for write in &change.writes {
                writer.write(&write.path, &write.contents, write.mode)?;
            }
        }
        for change in &self.changes {
            for path in &change.removals {
                writer.remove(path)?;
            }
        }
        if self.manifest_changed {
            writer.write(
                MANIFEST_PATH,
                self.manifest.to_toml().as_bytes(),
                FileMode::for_new_file(false),
            )?;
        }
        Ok(())
    }
}

/// Returns the path of the baseline of `path`.
pub fn base_path(path: &str) -> String {
    format!("{BASE_DIR}/{path}")
}

/// Decides, for every planned file and every file the manifest records, what the sync does.
pub fn reconcile(input: SyncInput<'_>) -> Result<SyncPlan> {
    let SyncInput {
        root,
        plan,
        previous,
        previous_text,
        moves,
        rdauth_version,
    } = input;

    let recorded: HashMap<&str, &ManifestFile> = previous
        .files
        .iter()
        .map(|file| (file.path.as_str(), file))
        .collect();
    let planned: HashSet<&str> = plan.files.iter().map(|file| file.path.as_str()).collect();
    let moved_to: HashMap<&str, &str> = moves
        .iter()
        .map(|(from, to)| (to.as_str(), from.as_str()))
        .collect();
    let moved_from: HashSet<&str> = moves.iter().map(|(from, _)| from.as_str()).collect();
    for file in &previous.files {
        check_app_path(&file.path)
            .with_context(|| format!("`{MANIFEST_PATH}` lists an invalid path `{}`", file.path))?;
    }

    let mut reader = Reader {
        root,
        damaged: Vec::new(),
    };
    let mut changes = Vec::new();
    let mut entries = Vec::new();

    for file in &plan.files {
        let source = moved_to.get(file.path.as_str()).copied();
        let change = reconcile_planned(&mut reader, file, source, &recorded, &mut entries)?;
        changes.push(change);
    }

    let ledger: HashSet<&str> = previous
        .migrations
        .iter()
        .map(|migration| migration.name.as_str())
        .collect();
    for entry in &previous.files {
        let path = entry.path.as_str();
        if planned.contains(path) || moved_from.contains(path) {
            continue;
        }
        let is_written_migration = path
            .strip_prefix(MIGRATIONS_DIR)
            .is_some_and(|name| ledger.contains(name));
        if is_written_migration {
            // Migrations are append-only: one the plan stopped producing stays in the app
            // and in the manifest, because databases may have applied it already.
            entries.push(entry.clone());
            continue;
        }
        changes.push(reconcile_dropped(&mut reader, entry)?);
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));

    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let mut migrations = previous.migrations.clone();
    for migration in &plan.migrations {
        if !migrations.iter().any(|known| known.name == migration.name) {
            migrations.push(migration.clone());
        }
    }
    let manifest = Manifest {
        rdauth_version: rdauth_version.to_owned(),
        files: entries,
        migrations,
    };
    let manifest_changed = manifest.to_toml() != previous_text;

    Ok(SyncPlan {
        changes,
        manifest,
        manifest_changed,
        damaged_baselines: reader.damaged,
    })
}

/// Decides what happens to one planned file. `source` is the path it moves from, if any;
/// `entries` receives the file's manifest record.
fn reconcile_planned(
    reader: &mut Reader<'_>,
    file: &PlannedFile,
    source: Option<&str>,
    recorded: &HashMap<&str, &ManifestFile>,
    entries: &mut Vec<ManifestFile>,
) -> Result<FileChange> {
    let path = file.path.as_str();
    let from = source.unwrap_or(path);
    let entry = recorded.get(from).copied();
    let base = match entry {
        Some(entry) => reader.baseline(entry)?,
        None => None,
    };
    let yours = reader.user_file(from)?;
    if source.is_some() && reader.user_file(path)?.is_some() {
        bail!("cannot move `{from}` to `{path}`: `{path}` already exists");
    }

    let new_entry = ManifestFile {
        path: path.to_owned(),
        sha256: sha256_hex(&file.contents),
        executable: file.executable,
    };
    let mut change = FileChange::new(path, Status::Unchanged);
    if source.is_some() {
        change.moved_from = Some(from.to_owned());
    }

    let Some((yours, mode)) = yours else {
        let new_mode = FileMode::for_new_file(file.executable);
        if entry.is_some() {
            // The user deleted the file; it stays deleted, and its baseline follows the plan
            // so that `rdauth restore` brings back the current version.
            change.status = Status::Skipping;
            change.skip_reason = Some(SkipReason::Deleted);
        } else {
            change.status = Status::Creating;
            change.writes.push(FileWrite {
                path: path.to_owned(),
                contents: file.contents.clone(),
                mode: new_mode,
            });
        }
        set_baseline(&mut change, from, base.as_deref(), &file.contents);
        entries.push(new_entry);
        return Ok(change);
    };

    let base_bytes = base.as_deref().unwrap_or_default();
    let yours_has_markers = merge::as_text(&yours).is_some_and(merge::has_conflict_markers);
    let base_has_markers = merge::as_text(base_bytes).is_some_and(merge::has_conflict_markers);
    if yours_has_markers && !base_has_markers {
        change.status = Status::Skipping;
        change.skip_reason = Some(SkipReason::UnresolvedConflict);
        if source.is_some() {
            move_unchanged(&mut change, from, &yours, mode, base.as_deref());
        }
        if let Some(entry) = entry {
            entries.push(ManifestFile {
                path: path.to_owned(),
                ..entry.clone()
            });
        }
        return Ok(change);
    }

    // The user's mode wins, except for the executable bit when the user left it as rdauth set
    // it: then the bit follows the plan.
    let user_kept_executable = entry.is_some_and(|entry| entry.executable == mode.is_executable());
    let new_mode = if user_kept_executable {
        mode.with_executable(file.executable)
    } else {
        mode
    };

    let result = if base.is_some() && yours == base_bytes {
        if yours != file.contents {
            change.status = Status::Updating;
        }
        file.contents.clone()
    } else if base.is_some() && file.contents == base_bytes {
        yours.clone()
    } else {
        match merge::merge(base_bytes, &yours, &file.contents) {
            Merged::Clean(merged) => {
                change.status = if merged == yours {
                    Status::Keeping
                } else {
                    Status::Merging
                };
                merged
            }
            Merged::Conflicted {
                contents,
                conflicts,
            } => {
                change.status = Status::Conflict;
                change.conflicts = conflicts;
                contents
            }
            Merged::Binary => {
                if yours == file.contents {
                    change.status = Status::Keeping;
                } else {
                    change.status = Status::Conflict;
                    change.binary = true;
                }
                yours.clone()
            }
        }
    };

    if source.is_some() || result != yours || new_mode != mode {
        change.writes.push(FileWrite {
            path: path.to_owned(),
            contents: result,
            mode: new_mode,
        });
    }
    if source.is_some() {
        change.removals.push(from.to_owned());
    }
    set_baseline(&mut change, from, base.as_deref(), &file.contents);
    entries.push(new_entry);
    Ok(change)
}

/// Decides what happens to a recorded file that the plan no longer produces.
fn reconcile_dropped(reader: &mut Reader<'_>, entry: &ManifestFile) -> Result<FileChange> {
    let path = entry.path.as_str();
    let base = reader.baseline(entry)?;
    let yours = reader.user_file(path)?;

    let mut change = FileChange::new(path, Status::Removing);
    change.removals.push(base_path(path));
    match yours {
        None => change.status = Status::Unchanged,
        Some((yours, _)) if base.as_deref() == Some(yours.as_slice()) => {
            change.removals.insert(0, path.to_owned());
        }
        Some(_) => change.status = Status::Orphaned,
    }
    Ok(change)
}

/// Moves a file and its baseline to the change's path without changing either.
fn move_unchanged(
    change: &mut FileChange,
    from: &str,
    yours: &[u8],
    mode: FileMode,
    base: Option<&[u8]>,
) {
    change.writes.push(FileWrite {
        path: change.path.clone(),
        contents: yours.to_vec(),
        mode,
    });
    change.removals.push(from.to_owned());
    if let Some(base) = base {
        change.writes.push(FileWrite {
            path: base_path(&change.path),
            contents: base.to_vec(),
            mode: FileMode::for_new_file(false),
        });
        change.removals.push(base_path(from));
    }
}

/// Records the write of the change's new baseline, unless the one at `from` already contains
/// those bytes at the same path.
fn set_baseline(change: &mut FileChange, from: &str, current: Option<&[u8]>, contents: &[u8]) {
    let moved = from != change.path;
    if moved || current != Some(contents) {
        change.writes.push(FileWrite {
            path: base_path(&change.path),
            contents: contents.to_vec(),
            mode: FileMode::for_new_file(false),
        });
    }
    if moved {
        change.removals.push(base_path(from));
    }
}

/// Reads the user's files and the baselines, and notes damaged baselines.
struct Reader<'a> {
    root: &'a Path,
    damaged: Vec<String>,
}

impl Reader<'_> {
    /// Reads the user's copy of `path` with its mode, or `None` when there is no file.
    fn user_file(&self, path: &str) -> Result<Option<(Vec<u8>, FileMode)>> {
        let full = self.root.join(path);
        let metadata = match fs::metadata(&full) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
            Err(error) => {
                return Err(error).with_context(|| format!("failed to read `{}`", full.display()))
            }
        };
        if !metadata.is_file() {
            bail!(
                "`{}` is not a file; rdauth generates a file at this path",
                full.display()
            );
        }
        let contents =
            fs::read(&full).with_context(|| format!("failed to read `{}`", full.display()))?;
        Ok(Some((contents, read_mode(&metadata))))
    }

    /// Reads the baseline of `entry`, or returns `None` and records the path when it is
    /// missing or does not match its recorded hash.
    fn baseline(&mut self, entry: &ManifestFile) -> Result<Option<Vec<u8>>> {
        let full = self.root.join(base_path(&entry.path));
        match fs::read(&full) {
            Ok(bytes) if sha256_hex(&bytes) == entry.sha256 => Ok(Some(bytes)),
            Ok(_) => {
                self.damaged.push(entry.path.clone());
                Ok(None)
            }
            Err(error) if error.kind() == ErrorKind::NotFound => {
                self.damaged.push(entry.path.clone());
                Ok(None)
            }
            Err(error) => {
                Err(error).with_context(|| format!("failed to read `{}`", full.display()))
            }
        }
    }
}

/// Rejects a path that leaves the app folder or points into a folder rdauth never writes.
pub fn check_app_path(path: &str) -> Result<()> {
    const FORBIDDEN_FIRST: &[&str] = &["target", ".git", ".rdauth"];

    let mut segments = path.split('/');
    let first = segments.next().unwrap_or_default();
    let valid = !path.is_empty()
        && !path.contains('\\')
        && !FORBIDDEN_FIRST.contains(&first)
        && path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
        && !Path::new(path).is_absolute();
    if valid {
        Ok(())
    } else {
        bail!("the path must be relative, inside the app, and outside `target/`, `.git/` and `.rdauth/`")
    }
}
