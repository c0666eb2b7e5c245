//! Times `rdauth new` in-process: load the config, plan every file, and write the app into a
//! temporary folder. Runs the default config and a config with 200 pages, 31 times each, and
//! prints the median and 90th percentile wall time.
//!
//! Run with `cargo bench --bench new`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use rdauth::commands::new;

const RUNS: usize = 31;

fn main() {
    let many_pages = config_with_pages(200);
    let cases: [(&str, Option<&str>); 2] =
        [("default config", None), ("200 pages", Some(&many_pages))];

    for (label, config) in cases {
        let timings = time_runs(config);
        println!(
            "rdauth new, {label:<14}  median {:>8.2} ms   p90 {:>8.2} ms   ({RUNS} runs)",
            millis(percentile(&timings, 50)),
            millis(percentile(&timings, 90)),
        );
    }
}

/// Runs `new` `RUNS` times, each into a fresh folder, and returns the sorted durations.
fn time_runs(config: Option<&str>) -> Vec<Duration> {
    let mut timings = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        let folder = tempfile::tempdir().expect("temporary folder");
        let config_path = config.map(|text| {
            let path = folder.path().join("bench.toml");
            std::fs::write(&path, text).expect("write the bench config");
            path
        });
        let name = format!("app{run}");

        let start = Instant::now();
        new::create(
            &name,
            config_path.as_deref(),
            &new::Overrides::default(),
            folder.path(),
        )
        .expect("rdauth new succeeds");
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

/// Returns the `p`th percentile of sorted durations by the nearest-rank method.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
