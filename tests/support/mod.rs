//! Helpers shared by the tests that generate and build apps.
//!
//! Every generated app builds into one shared target folder so that dependencies compile once
//! per run: `RDAUTH_E2E_TARGET_DIR`, or `target/e2e-apps` in this crate.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// Cargo builds of generated apps run one at a time: they share a target folder.
static CARGO: Mutex<()> = Mutex::new(());

pub fn target_dir() -> PathBuf {
    match std::env::var_os("RDAUTH_E2E_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-apps"),
    }
}

/// Runs `rdauth new NAME --config fixtures/configs/CONFIG.toml` in `parent`.
pub fn generate(parent: &Path, name: &str, config: &str) -> PathBuf {
    let config =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/configs/{config}.toml"));
    let output = Command::new(env!("CARGO_BIN_EXE_rdauth"))
        .args(["new", name, "--config"])
        .arg(&config)
        .current_dir(parent)
        .output()
        .unwrap();
    assert_success("rdauth new", &output);
    parent.join(name)
}

pub fn cargo(app: &Path, args: &[&str]) -> Output {
    cargo_with_env(app, args, &[])
}

/// Runs cargo in `app` with extra environment variables and asserts that it succeeded.
pub fn cargo_with_env(app: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = cargo_output(app, args, env);
    assert_success(&format!("cargo {}", args.join(" ")), &output);
    output
}

/// Runs cargo in `app` with extra environment variables, successful or not.
pub fn cargo_output(app: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let _serial = CARGO
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Command::new(env!("CARGO"))
        .args(args)
        .current_dir(app)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

pub fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "`{what}` failed with {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

pub mod served;
pub mod services;
