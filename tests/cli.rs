//! The command line's contract: exit codes and error messages, without Docker.

mod common;

use std::process::Command;

fn firedrill() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_firedrill"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

#[test]
fn validate_accepts_the_shipped_scenario() {
    let out = firedrill()
        .arg("validate")
        .arg(common::scenario_path("patroni-primary-crash"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: patroni-primary-crash"));
}

#[test]
fn validate_rejects_a_bad_file_with_its_position_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "name = \"x\"\ndescription = \"y\"\nduration = \"60s\"\nwat = 1\n",
    )
    .unwrap();
    let out = firedrill().arg("validate").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:4:1:", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("unknown top-level key `wat`"), "{stderr}");
}

#[test]
fn run_without_a_docker_engine_says_what_to_do_and_exits_2() {
    let out = firedrill()
        .args(["run", "scenarios/patroni-primary-crash.toml", "--reports"])
        .arg(tempfile::tempdir().unwrap().path())
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach the docker engine"),
        "{stderr}"
    );
    assert!(stderr.contains("apt-get install docker.io"), "{stderr}");
}

#[test]
fn help_documents_the_exit_codes() {
    let out = firedrill().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("0  every objective held"), "{help}");
    assert!(help.contains("1  an objective failed"));
    assert!(help.contains("2  the drill could not run"));
}

#[tokio::test]
async fn image_build_without_mmdebstrap_says_what_to_install_and_exits_2() {
    if !common::docker_or_skip("image_build_without_mmdebstrap").await {
        return;
    }
    let empty = tempfile::tempdir().unwrap();
    let out = firedrill()
        .args(["image", "build", "--force"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mmdebstrap is not installed"), "{stderr}");
    assert!(stderr.contains("apt-get install mmdebstrap"), "{stderr}");
}
