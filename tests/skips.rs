//! A test that skips says so where `cargo test` shows it, and the variables that require Docker
//! accept `1` and `true`. Each case runs this binary again, on one probe test, with the Docker
//! engine pointed at a socket that does not exist, and reads what libtest printed.

// It runs the `firedrill` binary, built with the `cli` feature only.
#![cfg(feature = "cli")]

mod common;

use std::process::{Command, Output};

/// Set only in the child processes this file starts: the probe does nothing otherwise.
const PROBE: &str = "FIREDRILL_SKIP_PROBE";

/// Run only by the tests below, in a child process (`--ignored`): ignored in a normal run.
#[tokio::test]
#[ignore = "a probe the other tests of this file run in a child process"]
async fn probe_without_an_engine() {
    assert!(
        std::env::var_os(PROBE).is_some(),
        "run by the tests of skips.rs only"
    );
    if common::docker_or_skip("skip-probe").await {
        panic!("the probe reached a docker engine at a socket that does not exist");
    }
}

/// This binary run on the probe alone, with output captured as `cargo test` does.
fn probe(require: Option<&str>) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "probe_without_an_engine",
        "--ignored",
        "--test-threads",
        "1",
    ])
    .env(PROBE, "1")
    .env(
        "DOCKER_HOST",
        "unix:///nonexistent/firedrill-skip-probe.sock",
    )
    .env_remove("FIREDRILL_REQUIRE_DOCKER")
    .env_remove("RUST_TEST_NOCAPTURE");
    if let Some(value) = require {
        cmd.env("FIREDRILL_REQUIRE_DOCKER", value);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_skip_is_visible_in_the_normal_output() {
    let out = probe(None);
    let text = text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("test probe_without_an_engine ... ok"),
        "{text}"
    );
    assert!(
        text.contains("SKIPPED skip-probe: no docker engine"),
        "the skip was hidden by the capture: {text}"
    );
}

#[test]
fn require_docker_accepts_one_and_true() {
    for value in ["1", "true", "TRUE"] {
        let out = probe(Some(value));
        let text = text(&out);
        assert!(
            !out.status.success(),
            "FIREDRILL_REQUIRE_DOCKER={value}: {text}"
        );
        assert!(
            text.contains("FIREDRILL_REQUIRE_DOCKER is set but"),
            "FIREDRILL_REQUIRE_DOCKER={value}: {text}"
        );
    }
    for value in ["0", "false", ""] {
        let out = probe(Some(value));
        assert!(
            out.status.success(),
            "FIREDRILL_REQUIRE_DOCKER={value:?}: {}",
            text(&out)
        );
    }
    let out = probe(Some("yes"));
    let text = text(&out);
    assert!(
        !out.status.success() && text.contains("expected 1, true, 0 or false"),
        "{text}"
    );
}
