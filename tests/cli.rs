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

/// The `*.toml` file names in `dir`, sorted.
fn toml_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    names.sort();
    names
}

#[test]
fn list_shows_every_shipped_scenario_in_file_name_order() {
    let expected: Vec<String> =
        toml_names(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
            .into_iter()
            .map(|name| format!("scenarios/{name}"))
            .collect();
    assert!(!expected.is_empty());
    let out = firedrill().arg("list").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Every file path shown, in the order shown: exactly the directory's files, sorted.
    let shown: Vec<&str> = stdout
        .split(|c: char| c.is_whitespace() || c == '│')
        .filter(|word| word.starts_with("scenarios/") && word.ends_with(".toml"))
        .collect();
    assert_eq!(shown, expected, "{stdout}");
    // Each file's row holds its scenario's name, runbook step and description.
    for file in &expected {
        let scenario =
            firedrill::scenario::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
                .unwrap();
        let row = stdout
            .lines()
            .find(|line| line.contains(&format!(" {file} ")))
            .unwrap();
        assert!(row.contains(&format!("│ {} ", scenario.name)), "{row}");
        let runbook = scenario.runbook.as_deref().unwrap_or("-");
        assert!(row.contains(&format!("│ {runbook} ")), "{row}");
        assert!(
            row.contains(&format!("│ {} ", scenario.description)),
            "{row}"
        );
    }
}

#[test]
fn list_shows_the_good_files_then_the_errors_of_the_broken_ones_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let drills = dir.path().join("drills");
    std::fs::create_dir(&drills).unwrap();
    std::fs::write(
        drills.join("a-broken.toml"),
        "name = \"x\"\ndescription = \"y\"\nduration = \"60s\"\nwat = 1\n",
    )
    .unwrap();
    std::fs::write(
        drills.join("b-good.toml"),
        "name = \"good\"\ndescription = \"a scenario that loads\"\nduration = \"60s\"\n",
    )
    .unwrap();
    std::fs::write(drills.join("notes.txt"), "not a scenario").unwrap();
    // Run from the temporary directory with a relative --dir: the output holds no temporary path.
    let out = firedrill()
        .current_dir(dir.path())
        .args(["list", "--dir", "drills"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("│ good     │ -       │ drills/b-good.toml │"),
        "{stdout}"
    );
    assert!(!stdout.contains("a-broken"), "{stdout}");
    assert!(
        stderr.contains("error: drills/a-broken.toml:4:1: unknown top-level key `wat`"),
        "{stderr}"
    );
    insta::assert_snapshot!(
        "list_good_and_broken",
        format!("--- stdout\n{stdout}--- stderr\n{stderr}")
    );
}

#[test]
fn list_of_an_empty_directory_names_it_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("drills")).unwrap();
    let out = firedrill()
        .current_dir(dir.path())
        .args(["list", "--dir", "drills"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    insta::assert_snapshot!("list_empty_directory", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn list_without_a_scenarios_directory_names_it_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = firedrill()
        .current_dir(dir.path())
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: no scenario files in scenarios: cannot read the directory: "),
        "{stderr}"
    );
}
