//! Template rendering: a minijinja environment over the template tree embedded at build time.
//!
//! The tree `templates/` is compiled into the binary. Files under `templates/app/` mirror the
//! generated app; `plan` decides which of them to emit. Every `.jinja` file anywhere under
//! `templates/` is registered under its path relative to `templates/`, so templates can
//! `{% include %}` or `{% import %}` each other, and files outside `app/` are never emitted.

mod context;
pub mod filters;
mod lockfile;

use anyhow::{anyhow, Context as _, Result};
use include_dir::{include_dir, Dir, DirEntry};
use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

pub use context::{
    AppContext, AuthContext, GroupContext, PageContext, PageTitlesContext, PermissionContext,
    TemplateContext,
};

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The folder of `templates/` that mirrors the generated app.
pub const APP_DIR: &str = "app";

/// The suffix that marks a file to render; it is dropped from the output path.
pub const TEMPLATE_SUFFIX: &str = ".jinja";

/// One embedded file of the app tree.
#[derive(Debug, Clone, Copy)]
pub struct AppTemplate {
    /// Path relative to `templates/app/`, with forward slashes, `.jinja` suffix included.
    pub path: &'static str,
    /// Path relative to `templates/`, which is the name a `.jinja` file is registered under.
    pub template_name: &'static str,
    pub contents: &'static [u8],
}

impl AppTemplate {
    /// True when the file is a template to render rather than a file to copy as is.
    pub fn is_template(&self) -> bool {
        self.path.ends_with(TEMPLATE_SUFFIX)
    }
}

/// Renders embedded templates.
pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// Builds the environment and compiles every embedded `.jinja` file.
    pub fn new() -> Result<Self> {
        let mut templates = Vec::new();
        for file in all_files(&TEMPLATES) {
            let name = file_path(file);
            if !name.ends_with(TEMPLATE_SUFFIX) {
                continue;
            }
            let source = file
                .contents_utf8()
                .ok_or_else(|| anyhow!("template `templates/{name}` is not valid UTF-8"))?;
            templates.push((name, source));
        }
        Self::with_templates(templates)
    }

    /// Builds the environment over the given `(name, source)` templates instead of the
    /// embedded ones, as tests of the plan do.
    pub fn with_templates(
        templates: impl IntoIterator<Item = (&'static str, &'static str)>,
    ) -> Result<Self> {
        let mut env = Environment::new();
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters are valid");
        env.set_syntax(syntax);
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Generated files are Rust, TOML, SQL and HTML alike, so no single escaping fits all.
        // Templates escape each value explicitly with the filter for their language.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        filters::register(&mut env);
        env.add_function(
            "cargo_lock",
            |app_name: &str, database: &str, example: bool| {
                lockfile::cargo_lock(app_name, database, example).map_err(|err| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("{err:#}"),
                    )
                })
            },
        );

        for (name, source) in templates {
            env.add_template(name, source)
                .map_err(|error| template_error(&error))
                .with_context(|| format!("failed to compile template `templates/{name}`"))?;
        }
        Ok(Renderer { env })
    }

    /// Renders the template registered as `name` (a path relative to `templates/`).
    pub fn render(&self, name: &str, context: &Value) -> Result<String> {
        let template = self
            .env
            .get_template(name)
            .map_err(|error| template_error(&error))?;
        template
            .render(context)
            .map_err(|error| template_error(&error))
            .with_context(|| format!("failed to render template `templates/{name}`"))
    }
}

/// Lists every file of the app tree, sorted by path.
pub fn app_templates() -> Vec<AppTemplate> {
    let Some(app) = TEMPLATES.get_dir(APP_DIR) else {
        return Vec::new();
    };
    let prefix = format!("{APP_DIR}/");
    let mut files: Vec<AppTemplate> = all_files(app)
        .into_iter()
        .map(|file| {
            let template_name = file_path(file);
            AppTemplate {
                path: template_name
                    .strip_prefix(&prefix)
                    .expect("files of the app folder have paths under it"),
                template_name,
                contents: file.contents(),
            }
        })
        .collect();
    files.sort_by_key(|file| file.path);
    files
}

/// Returns the source of a `.jinja` file outside the app tree, such as the default config.
pub fn template_source(name: &str) -> Option<&'static str> {
    TEMPLATES
        .get_file(name)
        .and_then(|file| file.contents_utf8())
}

fn all_files<'a>(dir: &'a Dir<'a>) -> Vec<&'a include_dir::File<'a>> {
    let mut files = Vec::new();
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => files.extend(all_files(sub)),
            DirEntry::File(file) => files.push(file),
        }
    }
    files
}

fn file_path(file: &'static include_dir::File<'static>) -> &'static str {
    file.path()
        .to_str()
        .expect("template paths are UTF-8 because they come from this repository")
}

/// Converts a minijinja error, whose message ends with the template name and line, into an
/// `anyhow` error. minijinja errors are not `Send + Sync`, so they cannot be wrapped directly.
fn template_error(error: &minijinja::Error) -> anyhow::Error {
    anyhow!("{error}")
}
