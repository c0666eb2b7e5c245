//! Config errors with source locations, rendered in rustc's layout.
//!
//! Parsing and validation push a [`Diagnostic`] for every problem they find instead of stopping
//! at the first one; [`ConfigErrors`] carries them all to `main`, which prints them.

use std::fmt;
use std::ops::Range;

/// One problem in a config file: what is wrong, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    /// Byte range in the config source; `None` when the problem has no single location, such
    /// as a required key that is missing.
    pub span: Option<Range<usize>>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Option<Range<usize>>) -> Self {
        Diagnostic {
            message: message.into(),
            span,
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every problem found in one config file, together with the source needed to show them.
#[derive(Debug, Clone)]
pub struct ConfigErrors {
    /// The file name as the user wrote it, shown in `-->` lines.
    pub origin: String,
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigErrors {
    /// Renders every diagnostic as an `error:` block with a source excerpt, blocks separated by
    /// blank lines.
    pub fn render(&self) -> String {
        let blocks: Vec<String> = self
            .diagnostics
            .iter()
            .map(|diagnostic| render_diagnostic(&self.origin, &self.source, diagnostic))
            .collect();
        blocks.join("\n")
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.diagnostics.len();
        let noun = if count == 1 { "error" } else { "errors" };
        write!(
            f,
            "invalid config `{}`: {count} {noun}, nothing was written",
            self.origin
        )
    }
}

impl std::error::Error for ConfigErrors {}

/// A 1-based line and column, the column counted in characters as editors and rustc do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// Converts a byte offset into a line and column of `source`.
pub fn locate(source: &str, offset: usize) -> Location {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    Location {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

fn render_diagnostic(origin: &str, source: &str, diagnostic: &Diagnostic) -> String {
    let mut out = format!("error: {}\n", diagnostic.message);

    let Some(span) = diagnostic.span.clone() else {
        out.push_str(&format!("  --> {origin}\n"));
        if let Some(help) = &diagnostic.help {
            out.push_str(&format!("   = help: {help}\n"));
        }
        return out;
    };

    let start = locate(source, span.start);
    let line_text = source.lines().nth(start.line - 1).unwrap_or("");
    let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);

    // The caret line underlines the span on its first line only. A span that runs past the
    // end of the line, such as a multi-line array, is cut at the line end.
    let prefix: String = line_text.chars().take(start.column - 1).collect();
    let span_chars = source[span.start..span.end.min(source.len())]
        .split('\n')
        .next()
        .unwrap_or("")
        .trim_end_matches('\r')
        .chars()
        .count();
    let caret_width = span_chars.max(1);
    let indent: String = prefix
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();

    // The gutter is one column wider than the line number, so numbers sit indented by one.
    let gutter = start.line.to_string().len() + 1;
    let blank = " ".repeat(gutter);
    out.push_str(&format!(
        "{}--> {origin}:{}:{}\n",
        " ".repeat(gutter),
        start.line,
        start.column
    ));
    out.push_str(&format!("{blank} |\n"));
    out.push_str(&format!("{:>gutter$} | {line_text}\n", start.line));
    out.push_str(&format!("{blank} | {indent}{}\n", "^".repeat(caret_width)));
    if let Some(help) = &diagnostic.help {
        out.push_str(&format!("{blank} = help: {help}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_counts_characters() {
        let source = "a = 1\nb = \"é\" x\n";
        let offset = source.find('x').unwrap();
        assert_eq!(locate(source, offset), Location { line: 2, column: 9 });
    }

    #[test]
    fn render_matches_rustc_layout() {
        let source = "[auth]\nmin_password_length = 3\n";
        let start = source.find('3').unwrap();
        let errors = ConfigErrors {
            origin: "shop.toml".into(),
            source: source.into(),
            diagnostics: vec![Diagnostic::new(
                "`auth.min_password_length` is 3, below the minimum of 8",
                Some(start..start + 1),
            )
            .with_help("use a whole number from 8 to 1024")],
        };
        let expected = "\
error: `auth.min_password_length` is 3, below the minimum of 8
  --> shop.toml:2:23
   |
 2 | min_password_length = 3
   |                       ^
   = help: use a whole number from 8 to 1024
";
        assert_eq!(errors.render(), expected);
    }

    #[test]
    fn render_without_span_names_file() {
        let errors = ConfigErrors {
            origin: "shop.toml".into(),
            source: String::new(),
            diagnostics: vec![Diagnostic::new("missing `app.name`", None)
                .with_help("add `name = \"myshop\"` under `[app]`")],
        };
        assert_eq!(
            errors.render(),
            "error: missing `app.name`\n  --> shop.toml\n   = help: add `name = \"myshop\"` under `[app]`\n"
        );
    }
}
