//! The three-way merge of one file: the baseline rdauth last wrote, the user's copy, and the
//! new render.
//!
//! The merge works on lines, with `similar`'s diff3 regions. Before merging, all three texts
//! are brought to one shape (LF line endings and a final newline), so that a user who only
//! converted the file to CRLF does not conflict with every line rdauth changed. The result then
//! takes the user's shape wherever the user changed it from the baseline's, and the new render's
//! shape otherwise. Binary files are never merged line by line.

use similar::{Algorithm, ConflictStyle, TextMerge};

/// Label of the user's side in conflict markers: `<<<<<<< yours`.
pub const YOURS_LABEL: &str = "yours";
/// Label of the baseline in conflict markers: `||||||| base`.
pub const BASE_LABEL: &str = "base";
/// Label of the new render in conflict markers: `>>>>>>> rdauth`.
pub const RDAUTH_LABEL: &str = "rdauth";

/// The result of merging one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Every change merged; the bytes to write.
    Clean(Vec<u8>),
    /// At least one region changed on both sides in different ways; the bytes contain marker
    /// blocks.
    Conflicted { contents: Vec<u8>, conflicts: usize },
    /// One of the three versions is not UTF-8 text, so no line merge was attempted.
    Binary,
}

/// Merges the changes from `base` to `yours` with the changes from `base` to `rdauth`.
pub fn merge(base: &[u8], yours: &[u8], rdauth: &[u8]) -> Merged {
    let (Some(base), Some(yours), Some(rdauth)) = (as_text(base), as_text(yours), as_text(rdauth))
    else {
        return Merged::Binary;
    };

    let base_shape = Shape::of(base);
    let yours_shape = Shape::of(yours);
    let rdauth_shape = Shape::of(rdauth);
    let shape = Shape {
        crlf: if yours_shape.crlf != base_shape.crlf {
            yours_shape.crlf
        } else {
            rdauth_shape.crlf
        },
        final_newline: if yours_shape.final_newline != base_shape.final_newline {
            yours_shape.final_newline
        } else {
            rdauth_shape.final_newline
        },
    };

    let base = normalize(base);
    let yours = normalize(yours);
    let rdauth = normalize(rdauth);
    let mut merge = TextMerge::configure()
        .algorithm(Algorithm::Myers)
        .merge_lines(base.as_str(), yours.as_str(), rdauth.as_str());
    merge
        .conflict_style(ConflictStyle::Diff3)
        .labels(BASE_LABEL, YOURS_LABEL, RDAUTH_LABEL);
    let conflicts = merge.conflict_count();
    let contents = shape.apply(&merge.to_string()).into_bytes();

    if conflicts == 0 {
        Merged::Clean(contents)
    } else {
        Merged::Conflicted {
            contents,
            conflicts,
        }
    }
}

/// Returns the text of `bytes`, or `None` for binary content: invalid UTF-8 or a NUL byte.
pub fn as_text(bytes: &[u8]) -> Option<&str> {
    if bytes.contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// True when `text` contains a complete conflict block: a `<<<<<<<` line, then a `=======`
/// line, then a `>>>>>>>` line. A lone `=======` line, such as a Markdown heading underline,
/// is not one.
pub fn has_conflict_markers(text: &str) -> bool {
    #[derive(PartialEq)]
    enum Seen {
        Nothing,
        Start,
        Separator,
    }

    let mut seen = Seen::Nothing;
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if is_marker(line, '<') {
            seen = Seen::Start;
        } else if seen == Seen::Start && line == "=======" {
            seen = Seen::Separator;
        } else if seen == Seen::Separator && is_marker(line, '>') {
            return true;
        }
    }
    false
}

/// True for a marker line of seven `marker` characters, alone or followed by a space and a
/// label.
fn is_marker(line: &str, marker: char) -> bool {
    let prefix = marker.to_string().repeat(7);
    match line.strip_prefix(prefix.as_str()) {
        Some(rest) => rest.is_empty() || rest.starts_with(' '),
        None => false,
    }
}

/// The line-ending style and the final newline of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    crlf: bool,
    final_newline: bool,
}

impl Shape {
    /// The shape of `text`. An empty text counts as LF with a final newline, so that it never
    /// outvotes the other sides.
    fn of(text: &str) -> Shape {
        let crlf = match text.find('\n') {
            Some(index) => text[..index].ends_with('\r'),
            None => false,
        };
        Shape {
            crlf,
            final_newline: text.is_empty() || text.ends_with('\n'),
        }
    }

    /// Turns an LF text with a final newline into this shape.
    fn apply(self, text: &str) -> String {
        let text = if self.final_newline {
            text
        } else {
            text.strip_suffix('\n').unwrap_or(text)
        };
        if self.crlf {
            text.replace('\n', "\r\n")
        } else {
            text.to_owned()
        }
    }
}

/// Converts CRLF to LF and adds a missing final newline to a non-empty text.
fn normalize(text: &str) -> String {
    let mut text = text.replace("\r\n", "\n");
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(base: &str, yours: &str, rdauth: &str) -> String {
        match merge(base.as_bytes(), yours.as_bytes(), rdauth.as_bytes()) {
            Merged::Clean(bytes) => String::from_utf8(bytes).unwrap(),
            other => panic!("expected a clean merge, got {other:?}"),
        }
    }

    fn conflicted(base: &str, yours: &str, rdauth: &str) -> String {
        match merge(base.as_bytes(), yours.as_bytes(), rdauth.as_bytes()) {
            Merged::Conflicted { contents, .. } => String::from_utf8(contents).unwrap(),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    const BASE: &str = "a\nb\nc\nd\ne\nf\ng\n";

    #[test]
    fn edits_lines_apart_merge() {
        let yours = "a\nB\nc\nd\ne\nf\ng\n";
        let rdauth = "a\nb\nc\nd\ne\nF\ng\n";
        assert_eq!(clean(BASE, yours, rdauth), "a\nB\nc\nd\ne\nF\ng\n");
    }

    #[test]
    fn identical_edits_are_not_conflict() {
        let both = "a\nb\nX\nd\ne\nf\ng\n";
        assert_eq!(clean(BASE, both, both), both);
    }

    #[test]
    fn same_line_edits_conflict_with_base() {
        let text = conflicted(BASE, "a\nb\nYOURS\nd\ne\nf\ng\n", "a\nb\nNEW\nd\ne\nf\ng\n");
        assert_eq!(
            text,
            "a\nb\n<<<<<<< yours\nYOURS\n||||||| base\nc\n=======\nNEW\n>>>>>>> rdauth\nd\ne\nf\ng\n"
        );
        assert!(has_conflict_markers(&text));
    }

    #[test]
    fn crlf_copy_stays_crlf() {
        let yours = "a\r\nB\r\nc\r\nd\r\ne\r\nf\r\ng\r\n";
        let rdauth = "a\nb\nc\nd\ne\nF\ng\n";
        assert_eq!(
            clean(BASE, yours, rdauth),
            "a\r\nB\r\nc\r\nd\r\ne\r\nF\r\ng\r\n"
        );
    }

    #[test]
    fn crlf_conflict_markers_are_crlf() {
        let yours = "a\r\nb\r\nYOURS\r\nd\r\ne\r\nf\r\ng\r\n";
        let text = conflicted(BASE, yours, "a\nb\nNEW\nd\ne\nf\ng\n");
        assert!(text.contains("<<<<<<< yours\r\n"));
        assert!(text.contains("=======\r\n"));
        assert!(text.contains(">>>>>>> rdauth\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn missing_final_newline_is_kept() {
        let yours = "a\nB\nc\nd\ne\nf\ng";
        let rdauth = "a\nb\nc\nd\ne\nF\ng\n";
        assert_eq!(clean(BASE, yours, rdauth), "a\nB\nc\nd\ne\nF\ng");
    }

    #[test]
    fn empty_base_conflicts_whole_file() {
        let text = conflicted("", "mine\n", "generated\n");
        assert_eq!(
            text,
            "<<<<<<< yours\nmine\n||||||| base\n=======\ngenerated\n>>>>>>> rdauth\n"
        );
    }

    #[test]
    fn binary_is_not_merged() {
        assert_eq!(merge(b"a\n", b"a\0b", b"c\n"), Merged::Binary);
        assert_eq!(merge(b"a\n", b"\xff\xfe", b"c\n"), Merged::Binary);
    }

    #[test]
    fn markdown_underline_is_not_marker() {
        assert!(!has_conflict_markers("Title\n=======\n\ntext\n"));
        assert!(!has_conflict_markers(
            "<<<<<<<< eight\n=======\n>>>>>>> x\n"
        ));
        assert!(has_conflict_markers(
            "<<<<<<< yours\r\nx\r\n=======\r\ny\r\n>>>>>>> rdauth\r\n"
        ));
        assert!(!has_conflict_markers(">>>>>>> x\n=======\n<<<<<<< y\n"));
    }
}
