//! Status output on stderr in cargo's voice: a right-aligned verb, colored only on a terminal.
//!
//! `anstream` drops the color codes when stderr is not a terminal or `NO_COLOR` is set.

use std::fmt::Display;

use anstyle::{AnsiColor, Style};

const STATUS: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
const ERROR: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
const WARNING: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
const NOTE: Style = Style::new().bold();

/// Prints a status line such as `    Creating app `myshop``.
pub fn status(verb: &str, message: impl Display) {
    anstream::eprintln!("{STATUS}{verb:>12}{STATUS:#} {message}");
}

/// Prints a status line whose verb is yellow, for a file left alone that needs the user's
/// attention.
pub fn warning_status(verb: &str, message: impl Display) {
    anstream::eprintln!("{WARNING}{verb:>12}{WARNING:#} {message}");
}

/// Prints a status line whose verb is red, for a file written with conflict markers.
pub fn error_status(verb: &str, message: impl Display) {
    anstream::eprintln!("{ERROR}{verb:>12}{ERROR:#} {message}");
}

/// Prints a `warning:` line.
pub fn warning(message: impl Display) {
    anstream::eprintln!("{WARNING}warning{WARNING:#}: {message}");
}

/// Prints a `note:` line.
pub fn note(message: impl Display) {
    anstream::eprintln!("{NOTE}note{NOTE:#}: {message}");
}

/// Prints a plain line.
pub fn line(message: impl Display) {
    anstream::eprintln!("{message}");
}

/// Prints an `error:` line.
pub fn error(message: impl Display) {
    anstream::eprintln!("{ERROR}error{ERROR:#}: {message}");
}

/// Prints text that already contains `error:` blocks, coloring each `error` label.
pub fn error_blocks(text: &str) {
    for line in text.lines() {
        match line.strip_prefix("error: ") {
            Some(rest) => error(rest),
            None => anstream::eprintln!("{line}"),
        }
    }
}
