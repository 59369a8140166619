//! An installed firedrill: the binary alone, copied out of the build as `cargo install` copies
//! it, run from a directory that holds no checkout. It drills a shipped scenario by name, writes
//! the run under ./firedrill-reports, and `verify` and `list` work there, as scripts read them.
//! The drill is haproxy-crash's, and the test checks its reaction as the other scenarios' do.

use crate::common;
use crate::scenarios::writes_refused_until_the_proxy_restarted;

use std::path::Path;
use std::process::{Command, Output};

const SCENARIO: &str = "haproxy-crash";

/// The installed binary run in `dir` with `args`, FIREDRILL_REPORTS unset (the default holds).
fn installed(bin: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .current_dir(dir)
        .args(args)
        .env_remove("FIREDRILL_REPORTS")
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_binary_drills_a_shipped_scenario_by_name_from_any_directory() {
    let Some(_turn) = common::docker_turn("installed", common::Turn::Beside).await else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (bin, work) = (root.path().join("bin"), root.path().join("work"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let bin = bin.join("firedrill");
    std::fs::copy(env!("CARGO_BIN_EXE_firedrill"), &bin).unwrap();

    let out = installed(&bin, &work, &["list", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let listed = json(&out);
    assert!(
        listed["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["run_as"] == SCENARIO),
        "{listed}"
    );

    let out = installed(&bin, &work, &["run", SCENARIO]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    // The run went to ./firedrill-reports, its record names the built-in scenario.
    let runs: Vec<_> = std::fs::read_dir(work.join("firedrill-reports/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let record = firedrill::store::load(&firedrill::store::record_path(&runs[0])).unwrap();
    assert_eq!(
        record.scenario.source.path,
        Path::new("<built-in>/haproxy-crash.toml")
    );
    assert!(record.passed(), "{stdout}");
    writes_refused_until_the_proxy_restarted(&record);
    assert!(
        common::drill_cli::leftovers(SCENARIO).await.is_empty(),
        "the run left objects in Docker"
    );

    let out = installed(&bin, &work, &["verify", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let verified = json(&out);
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(verified["runs"], 1, "{verified}");
}
