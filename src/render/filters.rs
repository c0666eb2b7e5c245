//! Filters that templates use to put config values into generated files.
//!
//! Every value from `rdauth.toml` that lands in a generated file passes through the filter for
//! that file's language, so a title with quotes, backslashes or braces still yields a file that
//! compiles and shows the title as written. Auto-escaping is off in the environment, which makes
//! these filters the only escaping there is.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToTitleCase, ToUpperCamelCase};
use minijinja::Environment;

/// Registers every filter on `env`.
pub fn register(env: &mut Environment<'_>) {
    env.add_filter("rust_str", rust_str);
    env.add_filter("toml_str", toml_str);
    env.add_filter("sql_str", sql_str);
    env.add_filter("html", html);
    env.add_filter("title_case", |value: &str| value.to_title_case());
    env.add_filter("snake", |value: &str| value.to_snake_case());
    env.add_filter("upper_camel", |value: &str| value.to_upper_camel_case());
    env.add_filter("shouty_snake", |value: &str| value.to_shouty_snake_case());
    env.add_filter("md_cell", md_cell);
    env.add_function("rust_array", rust_array);
}

/// Maximum line width of rustfmt's default configuration (`max_width`).
const RUSTFMT_MAX_WIDTH: usize = 100;
/// Widest array contents rustfmt keeps on one line (`array_width`, 60 % of `max_width`).
const RUSTFMT_ARRAY_WIDTH: usize = 60;

/// Lays out an array expression the way rustfmt does, so generated code passes
/// `cargo fmt --check` without running rustfmt.
///
/// Produces `{prefix}[{items}]{suffix}` where each item is `item_format` with `{}` replaced
/// by the item (the item itself when `item_format` is `None`), and the line starts at column `indent` (which the caller has already written). rustfmt keeps
/// an array on one line when its contents are at most 60 columns wide and the line fits in
/// 100; otherwise it puts one item per line. Items must be wider than 10 columns, because rustfmt
/// packs shorter items several to a line; the templates only pass paths such as
/// `Permission::BlogChangePost`, which always are.
pub fn rust_array(
    prefix: &str,
    items: Vec<String>,
    suffix: &str,
    indent: usize,
    item_format: Option<&str>,
) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|item| item_format.unwrap_or("{}").replace("{}", item))
        .collect();
    let contents = items.join(", ");
    let one_line = format!("{prefix}[{contents}]{suffix}");
    if items.is_empty()
        || (contents.len() <= RUSTFMT_ARRAY_WIDTH && indent + one_line.len() <= RUSTFMT_MAX_WIDTH)
    {
        return one_line;
    }

    let pad = " ".repeat(indent);
    let mut out = format!("{prefix}[\n");
    for item in &items {
        out.push_str(&format!("{pad}    {item},\n"));
    }
    out.push_str(&format!("{pad}]{suffix}"));
    out
}

/// Escapes text for a Markdown table cell: every ASCII punctuation character gets a backslash
/// (CommonMark treats any such escape as the literal character) and line breaks become spaces.
pub fn md_cell(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Returns `value` as a complete Rust string literal, quotes included.
///
/// Besides `\`, `"` and control characters, this escapes the Unicode characters that change
/// text direction, because rustc rejects them in literals by default
/// (`text_direction_codepoint_in_literal`), and invisible ones that would hide in source code.
pub fn rust_str(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || is_invisible_format_char(c) => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Returns `value` as a TOML basic string, quotes included.
pub fn toml_str(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            // TOML forbids the other control characters, DEL included, in basic strings.
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Returns `value` as an SQL string literal: single quotes, with `'` doubled.
///
/// Config validation rejects control characters in every value that reaches SQL, so no other
/// escaping is needed.
pub fn sql_str(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and quoted attribute values.
pub fn html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// True for bidirectional controls, zero-width characters and the byte order mark.
fn is_invisible_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_array_fits_on_one_line() {
        let items = vec!["BlogChangePost".to_owned(), "BlogDeletePost".to_owned()];
        let out = rust_array("x: &", items, ",", 4, Some("Permission::{}"));
        assert_eq!(
            out,
            "x: &[Permission::BlogChangePost, Permission::BlogDeletePost],"
        );
    }

    #[test]
    fn rust_array_goes_vertical_past_sixty_columns() {
        let items = vec!["a".repeat(30), "b".repeat(30)];
        let out = rust_array("x: &", items, ",", 4, Some("P::{}"));
        let a = "a".repeat(30);
        let b = "b".repeat(30);
        assert_eq!(
            out,
            format!("x: &[\n        P::{a},\n        P::{b},\n    ],")
        );
    }

    #[test]
    fn rust_array_empty_stays_inline() {
        assert_eq!(rust_array("x = &", Vec::new(), ";", 0, None), "x = &[];");
    }

    #[test]
    fn md_cell_escapes_pipes_and_markup() {
        assert_eq!(md_cell("a | b *c*"), "a \\| b \\*c\\*");
        assert_eq!(md_cell("two\nlines"), "two lines");
    }

    #[test]
    fn rust_str_escapes() {
        assert_eq!(rust_str(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(rust_str("{{ x }} {y}"), r#""{{ x }} {y}""#);
        assert_eq!(rust_str("tab\there\n"), r#""tab\there\n""#);
        assert_eq!(rust_str("\u{7}"), r#""\u{7}""#);
        assert_eq!(rust_str("a\u{202e}b"), r#""a\u{202e}b""#);
        assert_eq!(rust_str("Café ☕"), "\"Café ☕\"");
    }

    #[test]
    fn rust_str_output_parses_as_same_string() {
        let tricky = "q\"uo\\te {{ x }} {} </title><script> \u{202e} é \r\n\0";
        let literal: syn::LitStr = syn::parse_str(&rust_str(tricky)).unwrap();
        assert_eq!(literal.value(), tricky);
    }

    #[test]
    fn toml_str_round_trips() {
        let tricky = "q\"uo\\te {{ x }} \u{7f} \t é";
        let document: toml_edit::DocumentMut =
            format!("key = {}", toml_str(tricky)).parse().unwrap();
        assert_eq!(document["key"].as_str(), Some(tricky));
    }

    #[test]
    fn sql_str_doubles_quotes() {
        assert_eq!(sql_str("it's"), "'it''s'");
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html(r#"</title><script>alert('x' & "y")"#),
            "&lt;/title&gt;&lt;script&gt;alert(&#x27;x&#x27; &amp; &quot;y&quot;)"
        );
    }
}
