//! Shared by the Docker integration tests.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::path::PathBuf;

/// Whether a Docker engine answers. Without one, a test prints a visible skip and returns; with
/// FIREDRILL_REQUIRE_DOCKER=1 (CI sets it) a missing engine fails the test instead.
pub async fn docker_or_skip(test: &str) -> bool {
    match firedrill::engine::connect().await {
        Ok(_) => true,
        Err(e) if std::env::var("FIREDRILL_REQUIRE_DOCKER").as_deref() == Ok("1") => {
            panic!("{test}: FIREDRILL_REQUIRE_DOCKER=1 but {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED {test}: no docker engine ({e})");
            false
        }
    }
}

pub fn scenario_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"))
}
pub mod drill_cli;
