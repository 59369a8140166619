//! Shared by the Docker integration tests.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

/// Whether a Docker engine answers. Without one, a test prints a visible skip and returns; with
/// FIREDRILL_REQUIRE_DOCKER=1 or true (CI sets it) a missing engine fails the test instead.
pub async fn docker_or_skip(test: &str) -> bool {
    match firedrill::engine::connect().await {
        Ok(_) => true,
        Err(e) if required("FIREDRILL_REQUIRE_DOCKER") => {
            panic!("{test}: FIREDRILL_REQUIRE_DOCKER is set but {e}")
        }
        Err(e) => {
            skip(test, &format!("no docker engine ({e})"));
            false
        }
    }
}

/// Whether the environment variable asks for a dependency to be required: `1` or `true` (any
/// case) yes; unset, empty, `0` or `false` no; anything else is a mistake worth stopping for.
pub fn required(var: &str) -> bool {
    let value = std::env::var(var).unwrap_or_default();
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" => true,
        "" | "0" | "false" => false,
        other => panic!("{var}={other:?}: expected 1, true, 0 or false"),
    }
}

/// Says that a test skipped, and why, where `cargo test` shows it: libtest captures what a
/// passing test prints with `eprintln!` and would hide the skip, so this writes to the process's
/// standard error directly, past the capture.
pub fn skip(test: &str, why: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "SKIPPED {test}: {why}");
    let _ = err.flush();
}

/// Runs `scenario` through the library, as a team's own test would: prints its summary and
/// keeps its reports under the target directory, passing or not. `None` when no engine answers
/// (the skip is printed). A drill that could not run fails the test.
pub async fn drill(
    test: &str,
    scenario: &firedrill::scenario::Scenario,
) -> Option<firedrill::RunRecord> {
    if !docker_or_skip(test).await {
        return None;
    }
    let record = firedrill::run(scenario, &firedrill::DrillOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{test}: the drill could not run: {e}"));
    eprintln!("{}", firedrill::report::table(&record));
    let dir = firedrill::report::write_run_dir(
        &record,
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
    )
    .expect("reports written");
    eprintln!("reports: {}", dir.display());
    Some(record)
}

pub fn scenario_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"))
}
pub mod drill_cli;
