//! The report of a sync: one status line per file that something happens to, a summary, and
//! the unified diff that `rdauth diff` and `rdauth sync --dry-run` print.
//!
//! Status lines go to stderr through `shell`; the diff is the command's output and goes to
//! stdout. Both are colored only on a terminal.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anstyle::{AnsiColor, Style};
use anyhow::Result;

use super::merge::as_text;
use super::reconcile::{FileChange, SkipReason, Status, SyncPlan};
use super::writer::{read_mode, RecordedChange};
use super::BASE_DIR;
use crate::shell;

/// Prints the status line of every change that the user can see.
pub fn print_changes(plan: &SyncPlan) {
    for change in &plan.changes {
        print_change(change);
    }
    for path in &plan.damaged_baselines {
        shell::warning(format!(
            "the baseline of `{path}` is missing or damaged, so the file was merged against an empty one"
        ));
    }
}

fn print_change(change: &FileChange) {
    let path = &change.path;
    if let Some(from) = &change.moved_from {
        shell::status("Moving", format!("{from} -> {path}"));
    }
    match change.status {
        Status::Unchanged => {}
        Status::Creating | Status::Updating | Status::Merging | Status::Removing => {
            shell::status(change.status.verb(), path);
        }
        Status::Keeping => shell::status(
            "Keeping",
            format!("{path} (your copy already has rdauth's changes)"),
        ),
        Status::Conflict if change.binary => shell::error_status(
            "Conflict",
            format!("{path} (binary file changed by you and by rdauth; your copy is kept)"),
        ),
        Status::Conflict => shell::error_status(
            "Conflict",
            format!("{path} ({})", count(change.conflicts, "conflict block")),
        ),
        Status::Skipping => {
            let reason = match change.skip_reason {
                Some(SkipReason::Deleted) => {
                    format!("deleted; `rdauth restore {path}` brings it back")
                }
                Some(SkipReason::UnresolvedConflict) | None => {
                    "still contains conflict markers".to_owned()
                }
            };
            shell::warning_status("Skipping", format!("{path} ({reason})"));
        }
        Status::Orphaned => shell::warning_status(
            "Orphaned",
            format!("{path} (no longer generated; kept because you edited it)"),
        ),
    }
}

/// Returns the summary of `plan`, such as `2 updated, 1 merged`, or `None` when no file
/// changes.
pub fn summary(plan: &SyncPlan) -> Option<String> {
    let tally = |status: Status| {
        plan.changes
            .iter()
            .filter(|change| change.status == status)
            .count()
    };
    let moved = plan
        .changes
        .iter()
        .filter(|change| change.moved_from.is_some())
        .count();
    let parts = [
        (tally(Status::Creating), "created"),
        (tally(Status::Updating), "updated"),
        (tally(Status::Merging), "merged"),
        (moved, "moved"),
        (tally(Status::Keeping), "kept"),
        (tally(Status::Removing), "removed"),
        (tally(Status::Orphaned), "orphaned"),
        (tally(Status::Skipping), "skipped"),
        (tally(Status::Conflict), "with conflicts"),
    ];
    let text = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, label)| format!("{n} {label}"))
        .collect::<Vec<_>>()
        .join(", ");
    (!text.is_empty()).then_some(text)
}

/// Prints the files that hold conflict blocks, with what to do next.
pub fn print_conflicts(plan: &SyncPlan) {
    let conflicted: Vec<&FileChange> = plan.conflicted().collect();
    if conflicted.is_empty() {
        return;
    }
    let subject = match conflicted.len() {
        1 => "1 file has".to_owned(),
        n => format!("{n} files have"),
    };
    shell::warning(format!(
        "{subject} conflicts; edit the blocks between `<<<<<<< yours` and `>>>>>>> rdauth`, then run `rdauth sync` again:"
    ));
    for change in conflicted {
        shell::line(format!("  {}", change.path));
    }
}

/// Writes to stdout a unified diff of what `changes` would do to the app at `root`. Changes of
/// rdauth's own records under `.rdauth/` are left out.
pub fn print_diff(root: &Path, changes: &[RecordedChange]) -> Result<()> {
    let mut out = anstream::stdout().lock();
    for change in changes {
        let path = change.path();
        if path.starts_with(&format!("{BASE_DIR}/")) || path.starts_with(".rdauth/") {
            continue;
        }
        out.write_all(file_diff(root, change)?.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

const HEADER: Style = Style::new().bold();
const HUNK: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));
const REMOVED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
const ADDED: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));

/// Renders the diff of one change, with color codes that `anstream` drops off a terminal.
fn file_diff(root: &Path, change: &RecordedChange) -> Result<String> {
    let path = change.path();
    let full = root.join(path);
    let old = match std::fs::read(&full) {
        Ok(bytes) => Some(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error.into()),
    };
    let (new, new_mode) = match change {
        RecordedChange::Write { contents, mode, .. } => (Some(contents.as_slice()), Some(*mode)),
        RecordedChange::Remove { .. } => (None, None),
    };

    let mut text = String::new();
    let _ = writeln!(text, "{HEADER}diff --rdauth a/{path} b/{path}{HEADER:#}");
    if let (Some(_), Some(new_mode)) = (&old, new_mode) {
        let old_mode = read_mode(&std::fs::metadata(&full)?);
        if old_mode != new_mode {
            let _ = writeln!(text, "old mode {:o}", old_mode.0);
            let _ = writeln!(text, "new mode {:o}", new_mode.0);
        }
    }
    let old_name = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_owned()
    };
    let new_name = if new.is_some() {
        format!("b/{path}")
    } else {
        "/dev/null".to_owned()
    };
    let old = old.unwrap_or_default();
    let new = new.unwrap_or_default();

    let (Some(old_text), Some(new_text)) = (as_text(&old), as_text(new)) else {
        if old != new {
            let _ = writeln!(text, "Binary files {old_name} and {new_name} differ");
        }
        return Ok(text);
    };
    let diff = similar::TextDiff::from_lines(old_text, new_text);
    let mut unified = diff.unified_diff();
    unified.context_radius(3).header(&old_name, &new_name);
    for line in unified.to_string().lines() {
        let style = if line.starts_with("---") || line.starts_with("+++") {
            HEADER
        } else if line.starts_with("@@") {
            HUNK
        } else if line.starts_with('-') {
            REMOVED
        } else if line.starts_with('+') {
            ADDED
        } else {
            Style::new()
        };
        let _ = writeln!(text, "{style}{line}{style:#}");
    }
    Ok(text)
}

/// Returns `n noun` with a plural `s` when `n` is not 1.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
