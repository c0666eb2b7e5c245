//! `rdauth doctor`: checks the app as cargo sees it (through `cargo metadata`) against
//! `rdauth.toml` and against the dependency versions the generated code is written for.
//!
//! The supported versions are not a list kept here: they are the requirements in the
//! `Cargo.toml` that rdauth generates for the current config, which the end-to-end tests
//! build. A dependency the user bumped past them is reported with the line that brings it back.

use std::collections::HashMap;

use anyhow::{Context as _, Result};
use cargo_metadata::semver::{Version, VersionReq};
use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, Package};

use super::app::App;
use super::Outcome;
use crate::plan;
use crate::{shell, VERSION};

/// Crates whose versions must move together, with the reason. The generated session store
/// implements tower-sessions' `SessionStore` on an sqlx pool, and the optional
/// tower-sessions-sqlx-store crate pins both, so a bump of one alone does not compile.
const LOCKSTEP: &[&str] = &["tower-sessions", "tower-sessions-sqlx-store", "sqlx"];

/// Versions of crates the generated app does not depend on, but which users add next to the
/// generated session code. tower-sessions-sqlx-store 0.15 depends on tower-sessions-core 0.14
/// and sqlx 0.8 (from its published `Cargo.toml`).
const KNOWN_COMPANIONS: &[(&str, &str)] = &[("tower-sessions-sqlx-store", "0.15")];

/// One problem `doctor` found, with its fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub message: String,
    pub help: String,
}

pub fn run() -> Result<Outcome> {
    let app = App::locate()?;
    let config = app.load_config(&app.config_source)?;
    let (manifest, _) = app.manifest()?;
    let plan = plan::plan(&config, &manifest.migrations, VERSION)?;
    let supported = supported_requirements(&plan)?;

    let manifest_path = app.root.join("Cargo.toml");
    let metadata = MetadataCommand::new()
        .manifest_path(&manifest_path)
        .current_dir(&app.root)
        .exec()
        .with_context(|| {
            format!(
                "failed to run `cargo metadata` for `{}`",
                manifest_path.display()
            )
        })?;

    let findings = check(&metadata, &config.app.name, &supported);
    shell::status(
        "Checked",
        format!(
            "`{}` against `{}`",
            manifest_path.display(),
            app.config_origin
        ),
    );
    if findings.is_empty() {
        shell::status(
            "Finished",
            format!("doctor of `{}`: no problems found", config.app.name),
        );
        return Ok(Outcome::Done);
    }
    for finding in &findings {
        shell::warning(&finding.message);
        shell::line(format!("  help: {}", finding.help));
    }
    shell::status(
        "Finished",
        format!(
            "doctor of `{}`: {} found",
            config.app.name,
            crate::sync::report::count(findings.len(), "problem")
        ),
    );
    Ok(Outcome::Differences)
}

/// Reads the version requirement of every dependency in the generated `Cargo.toml`.
fn supported_requirements(plan: &plan::Plan) -> Result<Vec<(String, String)>> {
    let Some(file) = plan.files.iter().find(|file| file.path == "Cargo.toml") else {
        return Ok(Vec::new());
    };
    let text = String::from_utf8_lossy(&file.contents);
    let document: toml_edit::DocumentMut = text
        .parse()
        .context("the generated `Cargo.toml` is not valid TOML")?;

    let mut requirements = Vec::new();
    for section in ["dependencies", "dev-dependencies"] {
        let Some(table) = document.get(section).and_then(|item| item.as_table_like()) else {
            continue;
        };
        for (name, item) in table.iter() {
            let version = item
                .as_str()
                .or_else(|| item.get("version").and_then(|version| version.as_str()));
            if let Some(version) = version {
                requirements.push((name.to_owned(), version.to_owned()));
            }
        }
    }
    for (name, version) in KNOWN_COMPANIONS {
        requirements.push(((*name).to_owned(), (*version).to_owned()));
    }
    Ok(requirements)
}

/// Compares the app's package and its resolved dependencies with `supported`, a list of
/// `(crate, version requirement as written in Cargo.toml)`.
pub fn check(metadata: &Metadata, app_name: &str, supported: &[(String, String)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some(package) = metadata.root_package() else {
        findings.push(Finding {
            message: "`Cargo.toml` describes no package".to_owned(),
            help: format!("add a `[package]` table with `name = \"{app_name}\"`"),
        });
        return findings;
    };

    if package.name.as_str() != app_name {
        findings.push(Finding {
            message: format!(
                "the package is named `{}` in `Cargo.toml`, but `rdauth.toml` has `[app] name = \"{app_name}\"`",
                package.name
            ),
            help: format!(
                "the generated code refers to the crate as `{}`; set `name = \"{app_name}\"` under `[package]`, or set `[app] name` to `{}` and run `rdauth sync`",
                app_name.replace('-', "_"),
                package.name
            ),
        });
    }

    let resolved = resolved_versions(metadata, package);
    let mut lockstep_broken = Vec::new();
    for (name, requirement) in supported {
        let declared = package
            .dependencies
            .iter()
            .find(|dependency| &dependency.name == name);
        let is_companion = KNOWN_COMPANIONS
            .iter()
            .any(|(companion, _)| companion == name);
        let Some(declared) = declared else {
            if !is_companion {
                findings.push(Finding {
                    message: format!("`{name}` is missing from the app's dependencies"),
                    help: format!("the generated code uses it; add `{name} = \"{requirement}\"` back to `Cargo.toml`"),
                });
            }
            continue;
        };
        let Ok(supported_req) = VersionReq::parse(requirement) else {
            continue;
        };
        let section = match declared.kind {
            DependencyKind::Development => "[dev-dependencies]",
            DependencyKind::Build => "[build-dependencies]",
            _ => "[dependencies]",
        };
        let outside = match resolved.get(name.as_str()) {
            Some(version) => (!supported_req.matches(version)).then(|| version.to_string()),
            None => None,
        };
        if let Some(version) = outside {
            if LOCKSTEP.contains(&name.as_str()) {
                lockstep_broken.push(name.as_str());
            }
            findings.push(Finding {
                message: format!(
                    "`{name}` resolves to {version}, but the generated code is written for `{requirement}`"
                ),
                help: format!(
                    "set `{name}` to version \"{requirement}\" under {section} in `Cargo.toml`, then run `cargo update -p {name}`"
                ),
            });
        }
    }

    if !lockstep_broken.is_empty() {
        let pinned: Vec<String> = supported
            .iter()
            .filter(|(name, _)| LOCKSTEP.contains(&name.as_str()))
            .filter(|(name, _)| {
                package
                    .dependencies
                    .iter()
                    .any(|dependency| &dependency.name == name)
            })
            .map(|(name, requirement)| format!("{name} {requirement}"))
            .collect();
        findings.push(Finding {
            message: format!(
                "{} must move in lockstep: the session store implements tower-sessions' `SessionStore` on an sqlx pool",
                LOCKSTEP.join(", ")
            ),
            help: format!(
                "keep {} together; upgrade them only with an rdauth release that generates code for the newer versions",
                pinned.join(", ")
            ),
        });
    }
    findings
}

/// Returns the version that the lockfile resolves for each direct dependency of `package`.
fn resolved_versions<'m>(metadata: &'m Metadata, package: &Package) -> HashMap<&'m str, Version> {
    let mut versions = HashMap::new();
    let Some(resolve) = &metadata.resolve else {
        return versions;
    };
    let Some(node) = resolve.nodes.iter().find(|node| node.id == package.id) else {
        return versions;
    };
    for dependency in &node.deps {
        if let Some(resolved) = metadata
            .packages
            .iter()
            .find(|candidate| candidate.id == dependency.pkg)
        {
            versions.insert(resolved.name.as_str(), resolved.version.clone());
        }
    }
    versions
}
