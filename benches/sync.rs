//! Times `rdauth sync` in-process: load the config and the manifest, plan every file, read the
//! app and its baselines, merge, and write. Prints the median and 90th percentile wall time of
//! 31 runs for three cases:
//!
//! - a no-op sync of the default app;
//! - a sync of the default app after a config change (a new minimum password length), with a
//!   user edit in a file the change rewrites, so one file is merged;
//! - a no-op sync and a config-change sync of an app with 200 pages.
//!
//! Run with `cargo bench --bench sync`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use rdauth::commands::new;
use rdauth::sync::{self, DiskWriter, SyncInput};
use rdauth::{config, plan};

const RUNS: usize = 31;

fn main() {
    let many_pages = config_with_pages(200);
    report("no-op, default app", time_noop(None));
    report("config change, default app", time_change(None));
    report("no-op, 200 pages", time_noop(Some(&many_pages)));
    report("config change, 200 pages", time_change(Some(&many_pages)));
}

fn report(label: &str, timings: Vec<Duration>) {
    println!(
        "rdauth sync, {label:<28}  median {:>8.2} ms   p90 {:>8.2} ms   ({RUNS} runs)",
        millis(percentile(&timings, 50)),
        millis(percentile(&timings, 90)),
    );
}

/// Creates an app in `folder` from `config`, or from the defaults.
fn create_app(folder: &Path, config: Option<&str>) -> std::path::PathBuf {
    let config_path = config.map(|text| {
        let path = folder.join("bench.toml");
        fs::write(&path, text).expect("write the bench config");
        path
    });
    new::create(
        "app",
        config_path.as_deref(),
        &new::Overrides::default(),
        folder,
    )
    .expect("rdauth new succeeds")
    .target
}

/// Runs one whole sync of `app`, as `rdauth sync` does after finding the root.
fn sync_app(app: &Path) {
    let source = fs::read_to_string(app.join("rdauth.toml")).expect("read the config");
    let config = config::load(&source, "rdauth.toml", None).expect("valid config");
    let (manifest, manifest_text) =
        sync::load_manifest(app, rdauth::VERSION).expect("valid manifest");
    let plan = plan::plan(&config, &manifest.migrations, rdauth::VERSION).expect("plan");
    let sync_plan = sync::reconcile(SyncInput {
        root: app,
        plan: &plan,
        previous: &manifest,
        previous_text: &manifest_text,
        moves: &[],
        rdauth_version: rdauth::VERSION,
    })
    .expect("reconcile");
    sync_plan
        .apply(&mut DiskWriter::new(app))
        .expect("apply the sync");
}

fn time_noop(config: Option<&str>) -> Vec<Duration> {
    let folder = tempfile::tempdir().expect("temporary folder");
    let app = create_app(folder.path(), config);
    let mut timings = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        sync_app(&app);
        timings.push(start.elapsed());
    }
    timings.sort();
    timings
}

/// Times syncs that each follow a change of `min_password_length`, in a fresh app whose
/// `src/settings.rs` carries a user edit, so that file is merged three ways.
fn time_change(config: Option<&str>) -> Vec<Duration> {
    let mut timings = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let folder = tempfile::tempdir().expect("temporary folder");
        let app = create_app(folder.path(), config);
        let settings = app.join("src/settings.rs");
        let mut text = fs::read_to_string(&settings).expect("read settings.rs");
        text.push_str("\npub const SUPPORT_EMAIL: &str = \"help@example.com\";\n");
        fs::write(&settings, text).expect("edit settings.rs");
        let config_path = app.join("rdauth.toml");
        let source = fs::read_to_string(&config_path).expect("read the config");
        let source = if source.contains("min_password_length = 8") {
            source.replacen("min_password_length = 8", "min_password_length = 12", 1)
        } else {
            format!("{source}\n[auth]\nmin_password_length = 12\n")
        };
        fs::write(&config_path, source).expect("change the config");

        let start = Instant::now();
        sync_app(&app);
        timings.push(start.elapsed());
    }
    timings.sort();
    timings
}

fn config_with_pages(count: usize) -> String {
    let mut config = String::from("[permissions.shop]\nview_report = \"Can view report\"\n\n");
    for index in 0..count {
        let _ = writeln!(config, "[pages.page_{index}]");
        match index % 3 {
            0 => {}
            1 => config.push_str("login_required = true\n"),
            _ => config.push_str("permission = \"shop.view_report\"\n"),
        }
        config.push('\n');
    }
    config
}

fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    let index = (sorted.len() - 1) * percent / 100;
    sorted[index]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
