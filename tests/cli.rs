//! The command line's contract: exit codes and error messages, without Docker.

// It runs the `firedrill` binary, built with the `cli` feature only.
#![cfg(feature = "cli")]

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
    assert!(help.contains("or the scenario has no objectives (not judged)"));
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

/// Run from a directory without scenarios (as an installed binary is), `list` shows every
/// shipped scenario, built in, in name order, by the name `run` takes.
#[test]
fn list_shows_every_shipped_scenario_in_name_order_from_any_directory() {
    let mut expected: Vec<String> =
        toml_names(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
            .into_iter()
            .map(|name| name.trim_end_matches(".toml").to_owned())
            .collect();
    expected.sort();
    assert!(!expected.is_empty());
    let elsewhere = tempfile::tempdir().unwrap();
    let out = firedrill()
        .current_dir(elsewhere.path())
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|line| line.starts_with('│'))
        .map(|line| line.split('│').map(str::trim).collect())
        .skip(1) // the header
        .collect();
    let shown: Vec<&str> = rows.iter().map(|cells| cells[3]).collect();
    assert_eq!(shown, expected, "{stdout}");
    // Each row holds its scenario's name, runbook step and description.
    for (cells, name) in rows.iter().zip(&expected) {
        let scenario = firedrill::scenario::load(&common::scenario_path(name)).unwrap();
        assert_eq!(cells[1], scenario.name);
        assert_eq!(cells[2], scenario.runbook.as_deref().unwrap_or("-"));
        assert_eq!(cells[4], scenario.description);
    }
}

/// `validate` and `run` take a shipped scenario's name where no file of that name is; a name
/// that is neither says so, with the closest shipped name.
#[test]
fn a_shipped_scenario_is_named_without_a_checkout() {
    let elsewhere = tempfile::tempdir().unwrap();
    // a directory of the name (what `firedrill compose NAME` writes) does not hide it
    std::fs::create_dir(elsewhere.path().join("patroni-switchover")).unwrap();
    let out = firedrill()
        .current_dir(elsewhere.path())
        .args(["validate", "patroni-switchover", "patroni-swichover"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "patroni-switchover: ok: patroni-switchover (1 fault, 4 objectives)\n"
    );
    insta::assert_snapshot!(
        "validate_unknown_name",
        String::from_utf8_lossy(&out.stderr)
    );

    // `show` prints the shipped file as it is, to start one's own from it
    let out = firedrill()
        .current_dir(elsewhere.path())
        .args(["show", "patroni-switchover.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        std::fs::read_to_string(common::scenario_path("patroni-switchover")).unwrap()
    );
    let out = firedrill()
        .args(["show", "patroni-swichover"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: patroni-swichover: no shipped scenario has this name (`firedrill list` shows \
         them); did you mean `patroni-switchover`?\n"
    );
}

/// `--format json` of `validate`, `list` (each registry too) and `verify`: one document on
/// stdout, the same facts as the text.
#[test]
fn scripts_read_validate_list_and_verify_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\ndescription = \"y\"\nduration = \"60s\"\nwat = 1\n",
    )
    .unwrap();
    let out = firedrill()
        .args(["validate", "--format", "json", "patroni-primary-crash"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let checked: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(checked[0]["valid"], true);
    assert_eq!(checked[0]["scenario"], "patroni-primary-crash");
    assert_eq!(checked[0]["faults"], 1);
    assert_eq!(checked[1]["valid"], false);
    assert_eq!(checked[1]["error"]["line"], 4);
    assert_eq!(checked[1]["error"]["column"], 1);
    assert!(
        checked[1]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("unknown top-level key `wat`"),
        "{checked}"
    );

    let out = firedrill()
        .args(["list", "--format", "json", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["scenarios"], serde_json::json!([]));
    assert_eq!(listed["errors"][0]["line"], 4, "{listed}");

    for (registry, key, first) in [
        ("--faults", "kind", firedrill::fault::VERBS[0].name()),
        ("--steps", "action", firedrill::step::ACTIONS[0].name()),
        (
            "--stacks",
            "stack",
            firedrill::topology::stacks::STACKS[0].name(),
        ),
        (
            "--kinds",
            "kind",
            firedrill::topology::KINDS[0].kind().name(),
        ),
    ] {
        let out = firedrill()
            .args(["list", registry, "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rows[0][key], first, "{registry}: {rows}");
    }

    let reports = tempfile::tempdir().unwrap();
    let out = firedrill()
        .args(["verify", "--format", "json", "--reports"])
        .arg(reports.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "no history: {out:?}");
    firedrill::report::write_run_dir(
        &drill_record("fd-json0001", "2026-11-02T10:00:00Z"),
        reports.path(),
    )
    .unwrap();
    let out = firedrill()
        .args(["verify", "--format", "json", "--reports"])
        .arg(reports.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let verified: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(verified["runs"], 1, "{verified}");
    assert_eq!(verified["problems"], serde_json::json!([]));
}

#[test]
fn list_faults_shows_every_registered_fault_kind_with_its_keys() {
    let out = firedrill().args(["list", "--faults"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let kinds = first_column(&stdout);
    let registered: Vec<&str> = firedrill::fault::verb_names().collect();
    assert_eq!(kinds[1..], registered[..], "{stdout}");
    for verb in firedrill::fault::VERBS {
        let row = stdout
            .lines()
            .find(|line| line.starts_with(&format!("│ {} ", verb.name())))
            .unwrap();
        assert!(row.contains(verb.summary()), "{row}");
        for key in verb.keys() {
            assert!(row.contains(key.name), "{row}");
        }
    }
}

#[test]
fn list_steps_shows_every_registered_action_with_its_keys() {
    let out = firedrill().args(["list", "--steps"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let actions = first_column(&stdout);
    let registered: Vec<&str> = firedrill::step::action_names().collect();
    assert_eq!(actions[0], "action", "{stdout}");
    assert_eq!(actions[1..], registered[..], "{stdout}");
    for action in firedrill::step::ACTIONS {
        let row = stdout
            .lines()
            .find(|line| line.starts_with(&format!("│ {} ", action.name())))
            .unwrap();
        assert!(row.contains(action.summary()), "{row}");
        for key in action.keys() {
            assert!(row.contains(key.name), "{row}");
        }
    }
    let out = firedrill()
        .args(["list", "--steps", "--faults"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// The first column of each row of a `list` table, the header's included.
fn first_column(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("│ ")?.split(" │").next())
        .map(str::trim)
        .collect()
}

#[test]
fn list_stacks_shows_every_registered_stack_with_its_kinds() {
    let out = firedrill().args(["list", "--stacks"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let registered: Vec<&str> = firedrill::topology::stacks::names();
    assert_eq!(first_column(&stdout)[1..], registered[..], "{stdout}");
    let patroni = stdout
        .lines()
        .find(|line| line.starts_with("│ patroni "))
        .unwrap();
    assert!(
        patroni.contains("│ patroni, etcd, haproxy, pgbouncer, pgbackrest, app, varnish │"),
        "{patroni}"
    );
    assert!(
        patroni.contains(firedrill::topology::stacks::STACKS[0].summary()),
        "{patroni}"
    );
}

#[test]
fn list_kinds_shows_every_registered_kind_with_its_names_and_packages() {
    let out = firedrill().args(["list", "--kinds"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let registered: Vec<&str> = firedrill::topology::KINDS
        .iter()
        .map(|k| k.name())
        .collect();
    assert_eq!(first_column(&stdout)[1..], registered[..], "{stdout}");
    for kind in firedrill::topology::KINDS {
        let row = stdout
            .lines()
            .find(|line| line.starts_with(&format!("│ {} ", kind.name())))
            .unwrap();
        for package in kind.kind().packages() {
            assert!(row.contains(package), "{row}");
        }
        assert!(row.contains(kind.kind().count_setting()), "{row}");
    }
    let row = |name: &str| {
        stdout
            .lines()
            .find(|line| line.starts_with(&format!("│ {name} ")))
            .unwrap()
    };
    assert!(row("patroni").contains("│ pg1..pgN "), "{stdout}");
    assert!(row("patroni").contains("│ postgres on 5432 "), "{stdout}");
    assert!(row("pgbouncer").contains("│ postgres on 6432 "), "{stdout}");
    assert!(row("haproxy").contains("│ haproxy "), "{stdout}");
    assert!(row("etcd").contains("│ - "), "{stdout}");
    assert!(
        row("pgbackrest").contains("│ none (runs inside the patroni nodes) "),
        "{stdout}"
    );
}

#[test]
fn list_takes_one_registry_at_a_time() {
    let out = firedrill()
        .args(["list", "--stacks", "--kinds"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be used with"),
        "{out:?}"
    );
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
fn list_of_a_missing_directory_names_it_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = firedrill()
        .current_dir(dir.path())
        .args(["list", "--dir", "scenarios"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: no scenario files in scenarios: cannot read the directory: "),
        "{stderr}"
    );
}

/// A run record of a drill with no faults, built through the public API as a run would.
fn drill_record(run_id: &str, started: &str) -> firedrill::RunRecord {
    // one probe answered with the leader role: split brain is measured, and not detected
    drill_record_of(
        run_id,
        started,
        [firedrill::history::Event::Role(
            firedrill::history::RoleSample {
                role: Some(firedrill::history::Role::Leader),
                epoch: Some(1),
                state: Some("running".into()),
                ..firedrill::history::RoleSample::self_report(
                    "patroni",
                    "pg1",
                    firedrill::history::At(0),
                    firedrill::history::At(1_000_000),
                )
            },
        )],
    )
}

/// The drill's record with these events as its history.
fn drill_record_of(
    run_id: &str,
    started: &str,
    events: impl IntoIterator<Item = firedrill::history::Event>,
) -> firedrill::RunRecord {
    let scenario = firedrill::scenario::parse(
        std::path::Path::new("drill.toml"),
        "name = \"drill\"\ndescription = \"a drill\"\nrunbook = \"1. Primary node crash\"\n\
         duration = \"60s\"\n[objectives]\nsplit_brain = false\n",
    )
    .unwrap();
    let mut history = firedrill::history::History::new(started.into());
    history.extend(events);
    let measurements = firedrill::check::measure(&history);
    let verdict = firedrill::check::judge(&scenario.objectives, &measurements);
    firedrill::RunRecord {
        format: firedrill::record::RECORD_FORMAT,
        run_id: run_id.into(),
        seed: 1,
        scenario,
        environment: Default::default(),
        timings: Default::default(),
        history,
        measurements,
        verdict,
        logs: Default::default(),
        problems: Vec::new(),
        game_day: None,
    }
}

/// A record file's JSON: `zcat run.json.gz`.
fn decompressed(path: &std::path::Path) -> serde_json::Value {
    use std::io::Read;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut json)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

/// Edits a run's record by hand: `zcat`, a text edit (`from` by `to`, once), `gzip`.
fn edit_record(path: &std::path::Path, from: &str, to: &str) {
    use std::io::{Read, Write};
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.contains(from), "{from}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.replacen(from, to, 1).as_bytes()).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}

#[test]
fn verify_says_the_history_is_intact_then_names_an_edited_line_and_exits_1() {
    let reports = tempfile::tempdir().unwrap();
    let first = drill_record("run-1", "2026-10-05T09:00:00.000Z");
    let dir = firedrill::report::write_run_dir(&first, reports.path()).unwrap();
    firedrill::report::write_run_dir(
        &drill_record("run-2", "2026-11-05T09:00:00.000Z"),
        reports.path(),
    )
    .unwrap();
    let verify = || {
        firedrill()
            .current_dir(reports.path())
            .args(["verify", "--reports", "."])
            .output()
            .unwrap()
    };
    let out = verify();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("history intact: 2 runs, chain verified (2 lines, line 2 sha256 "),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");

    // `analyze` leaves the record's bytes as they were: nothing to record, still intact.
    let out = firedrill().arg("analyze").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("run record unchanged"));
    assert_eq!(verify().status.code(), Some(0));

    // The first line edited by hand.
    let history = reports.path().join("history.jsonl");
    let text = std::fs::read_to_string(&history).unwrap();
    std::fs::write(&history, text.replacen("\"run-1\"", "\"run-x\"", 1)).unwrap();
    let out = verify();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(
            "./history.jsonl:1: edited after it was written: line 2 recorded another sha256 for it"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "\n./history.jsonl:1: records facts its run \
             (runs/2026-10-05T09-00-00Z-drill/run.json.gz) does not hold: run_id\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nhistory NOT intact: 2 problems (2 lines, "),
        "{stdout}"
    );

    // No history at all.
    std::fs::remove_file(&history).unwrap();
    let out = verify();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("error: ./history.jsonl: cannot read the run history: "),
        "{out:?}"
    );
}

/// No role source (no probe of any kind): split brain is not applicable, which fails its
/// objective, and never reads as "no split brain".
#[test]
fn a_run_without_role_probes_fails_split_brain_as_not_applicable() {
    let reports = tempfile::tempdir().unwrap();
    let record = drill_record_of("run-1", "2026-10-05T09:00:00.000Z", []);
    assert!(!record.passed());
    let dir = firedrill::report::write_run_dir(&record, reports.path()).unwrap();
    let out = firedrill()
        .args(["analyze", "--dry-run"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "│ split brain                   │ n/a (no role source in this stack)            │"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("│ split_brain == false │ n/a: no role source in this stack │ FAIL    │"),
        "{stdout}"
    );
    // the run history records it as not measured (null), not as "no split brain"
    let line = std::fs::read_to_string(reports.path().join("history.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
    assert_eq!(line["measurements"]["split_brain"], serde_json::Value::Null);
    assert_eq!(line["passed"], false);
}

#[test]
fn analyze_that_changes_a_verdict_appends_a_reanalysis_line_verify_accepts() {
    let reports = tempfile::tempdir().unwrap();
    // Stored as failed, as an older firedrill might have judged it; judged again, it passes.
    let mut stored = drill_record("run-1", "2026-10-05T09:00:00.000Z");
    stored.verdict.passed = false;
    stored.verdict.objectives[0].passed = false;
    let dir = firedrill::report::write_run_dir(&stored, reports.path()).unwrap();
    let out = firedrill().arg("analyze").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("run record changed; line 2 of ") && stdout.contains("(reanalyzed_from "),
        "{stdout}"
    );
    let out = firedrill()
        .args(["verify", "--reports"])
        .arg(reports.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(
            "note: line 1: runs/2026-10-05T09-00-00Z-drill was rewritten by analyze: line 2 \
             records its record now\nhistory intact: 1 run, chain verified (2 lines, 1 \
             rewritten by analyze, "
        ),
        "{stdout}"
    );
}

/// A run recorded in format 2 (its roles as `probe` and `leader_key` events), judged again:
/// its record moves to this format, the run history's new line names each format's change, and
/// the history digest still holds (the events are kept as recorded), so verify accepts it.
#[test]
fn analyze_moves_a_format_2_run_to_this_format_and_names_the_change() {
    let reports = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/format-2/sample.run.json");
    let stored = firedrill::store::load(&fixture).unwrap();
    assert_eq!(stored.format, 2);
    let dir = firedrill::report::write_run_dir(&stored, reports.path()).unwrap();
    let stored_history = |dir: &std::path::Path| {
        let record = firedrill::store::load(&dir.join("run.json.gz")).unwrap();
        (
            record.format,
            serde_json::to_value(&record.history).unwrap(),
        )
    };
    let raw: serde_json::Value = serde_json::from_slice(&std::fs::read(&fixture).unwrap()).unwrap();
    assert_eq!(
        stored_history(&dir),
        (2, raw["history"].clone()),
        "written as recorded"
    );

    // the sample fails two of its objectives, as stored
    let out = firedrill().arg("analyze").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("verdict reproduced from the history: FAIL"),
        "{stdout}"
    );
    let history = std::fs::read_to_string(reports.path().join("history.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = history
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{history}");
    let note = &lines[1]["reanalysis"];
    assert_eq!(note["format_from"], 2);
    assert_eq!(note["format_to"], firedrill::record::RECORD_FORMAT);
    let changes = note["changes"].as_array().unwrap();
    // each format's change since 2, in order
    let changes: Vec<&str> = changes.iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(changes.len(), 8, "{changes:?}");
    assert!(
        changes[0].starts_with("format 3: role answers are one event, role"),
        "{changes:?}"
    );
    assert!(
        changes[1].starts_with("format 4: steps: the scenario's actions at an instant"),
        "{changes:?}"
    );
    assert!(changes[2].starts_with("format 5: game days"), "{changes:?}");
    assert!(
        changes[3].starts_with("format 6: the record is stored as run.json.gz"),
        "{changes:?}"
    );
    assert!(
        changes[4].starts_with("format 7: an application tier"),
        "{changes:?}"
    );
    assert!(
        changes[5].starts_with("format 8: the pair stack"),
        "{changes:?}"
    );
    assert!(
        changes[6].starts_with("format 9: time to full redundancy is not reached"),
        "{changes:?}"
    );
    assert!(
        changes[7].starts_with("format 10: the redis-sentinel stack"),
        "{changes:?}"
    );
    assert_eq!(lines[1]["history_sha256"], lines[0]["history_sha256"]);
    assert_eq!(
        stored_history(&dir),
        (firedrill::record::RECORD_FORMAT, raw["history"].clone())
    );

    let out = firedrill()
        .args(["verify", "--reports"])
        .arg(reports.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn report_writes_the_quarter_from_the_history_and_exits_1_if_it_does_not_verify() {
    let reports = tempfile::tempdir().unwrap();
    for (id, started) in [
        ("q3", "2026-09-30T23:59:59.999Z"),
        ("q4-a", "2026-10-01T00:00:00.000Z"),
        ("q4-b", "2026-12-31T23:59:59.999Z"),
        ("q1", "2027-01-01T00:00:00.000Z"),
    ] {
        firedrill::report::write_run_dir(&drill_record(id, started), reports.path()).unwrap();
    }
    let report = |args: &[&str]| {
        firedrill()
            .current_dir(reports.path())
            .args(["report", "--reports", "."])
            .args(args)
            .output()
            .unwrap()
    };
    // The last millisecond of 2026-Q3 is in the quarter before, the first and last of 2026-Q4
    // in it, the first of 2027-Q1 in neither.
    let out = report(&["--quarter", "2026-Q4", "--prepared-by", "Dana Reyes"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // On a terminal by default: a line per scenario.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .starts_with("failover drills 2026-Q4 (2026-10-01 to 2026-12-31): 2 runs, 2 passed\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("│ 1. Primary node crash │ drill    │ 2    │"),
        "{stdout}"
    );
    assert!(stdout.ends_with("run history: intact\n"), "{stdout}");
    let written = std::fs::read_to_string(reports.path().join("quarterly/2026-Q4.md")).unwrap();
    let out = report(&[
        "--quarter",
        "2026-Q4",
        "--prepared-by",
        "Dana Reyes",
        "--format",
        "md",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), written);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "report written: ./quarterly/2026-Q4.md\nreport written: ./quarterly/2026-Q4.html\n"
    );
    let html = std::fs::read_to_string(reports.path().join("quarterly/2026-Q4.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>\n"), "{html}");
    assert!(
        html.contains("<h1 id=\"top\">Failover drills: 2026-Q4</h1>"),
        "{html}"
    );
    let out = report(&["--quarter", "2026-Q4", "--format", "html"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout_html = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout_html.starts_with("<!DOCTYPE html>\n"),
        "{stdout_html}"
    );
    assert_eq!(
        stdout_html,
        std::fs::read_to_string(reports.path().join("quarterly/2026-Q4.html")).unwrap()
    );
    let stdout = &written;
    assert!(
        stdout.starts_with("# Failover drills: 2026-Q4\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            // no write attempted: the RTO is not measured, not 0
            "| 1. Primary node crash | drill | 2 | 100.0% (2 of 2) | not measured | not measured \
             | none |"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "| 1. Primary node crash | drill | not measured → not measured | 100.0% (1 of 1) → \
             100.0% (2 of 2) |"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("`firedrill verify`: history intact: 4 runs, chain verified"),
        "{stdout}"
    );
    assert!(stdout.contains("| Prepared by | Dana Reyes |"), "{stdout}");

    let out = report(&[
        "--since",
        "2026-09-30",
        "--until",
        "2026-09-30",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["runs"], 1);
    assert!(
        reports
            .path()
            .join("quarterly/2026-09-30_2026-09-30.json")
            .exists()
    );

    // A record edited: the report is written, states it, and exits 1.
    edit_record(
        &reports
            .path()
            .join("runs/2026-10-01T00-00-00Z-drill/run.json.gz"),
        "\"seed\":1",
        "\"seed\":7",
    );
    let out = report(&["--quarter", "2026-Q4"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "run history: NOT intact: line 2: runs/2026-10-01T00-00-00Z-drill/run.json.gz changed"
        ),
        "{stdout}"
    );
    let out = report(&["--quarter", "2026-Q4", "--format", "md"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("| run history | **NOT intact: 1 problem** (below) |"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "- line 2: runs/2026-10-01T00-00-00Z-drill/run.json.gz changed since this line \
             recorded it"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "| Prepared by | {0} | {0} | {0} |",
            "_".repeat(20)
        )),
        "{stdout}"
    );
}

#[test]
fn report_refuses_a_bad_period_with_exit_code_2() {
    let reports = tempfile::tempdir().unwrap();
    let report = |args: &[&str]| {
        firedrill()
            .arg("report")
            .arg("--reports")
            .arg(reports.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = report(&["--quarter", "2026-Q5"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: bad quarter `2026-Q5`: expected YEAR-QN with N from 1 to 4, e.g. 2026-Q4\n"
    );
    let out = report(&["--since", "2026-13-01", "--until", "2026-12-31"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: bad date `2026-13-01`"));
    // --since without --until, or with --quarter: clap's usage errors, also 2.
    assert_eq!(report(&["--since", "2026-10-01"]).status.code(), Some(2));
    assert_eq!(
        report(&[
            "--quarter",
            "2026-Q4",
            "--since",
            "2026-10-01",
            "--until",
            "2026-10-02"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(report(&[]).status.code(), Some(2));
    // A good period but no history.
    let out = report(&["--quarter", "2026-Q4"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("history.jsonl: cannot read the run history"),
        "{out:?}"
    );
}

/// A stored run: the library's sample record (a failover that fails two of its four
/// objectives), kept equal to it by a unit test.
const SAMPLE_RUN: &str = "tests/fixtures/sample-run";

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn analyze_prints_the_stored_run_as_junit() {
    let before = files_in(std::path::Path::new(SAMPLE_RUN));
    let out = firedrill()
        .args(["analyze", SAMPLE_RUN, "--dry-run", "--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    // stdout holds the XML alone: the verdict's note goes to stderr
    let report = quick_junit::Report::deserialize_from_str(&stdout).expect("JUnit XML");
    assert_eq!(report.test_suites.len(), 1);
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), "sample");
    let cases: Vec<(&str, bool)> = suite
        .test_cases
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                matches!(c.status, quick_junit::TestCaseStatus::Success { .. }),
            )
        })
        .collect();
    assert_eq!(
        cases,
        [
            ("drill ran", true),
            ("lag_at_failover <= 64kB", false),
            ("leader_changes == 0", false),
            ("time_to_full_redundancy <= 30s", true),
            ("stale_reads <= 5", true),
        ]
    );
    assert!(
        stdout.contains("message=\"leader_changes == 0: measured 1\""),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr, "verdict reproduced from the history: FAIL\n");
    // a dry run writes nothing
    assert_eq!(files_in(std::path::Path::new(SAMPLE_RUN)), before);
}

#[test]
fn analyze_prints_the_stored_run_as_one_self_contained_html_page() {
    let out = firedrill()
        .args(["analyze", SAMPLE_RUN, "--dry-run", "--format", "html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>\n"), "{page}");
    assert!(page.ends_with("</html>\n"));
    assert!(page.contains("FAIL — 2 of 4 objectives did not hold"));
    assert!(page.contains("<svg class=\"timeline\""));
    for needle in ["<script", "<link", "src=", "href=", "http"] {
        assert!(!page.contains(needle), "{needle} in the page");
    }
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "verdict reproduced from the history: FAIL\n"
    );
}

#[test]
fn analyze_prints_json_and_markdown_and_the_table_by_default() {
    let run = |format: Option<&str>| {
        let mut cmd = firedrill();
        cmd.args(["analyze", SAMPLE_RUN, "--dry-run"]);
        if let Some(format) = format {
            cmd.args(["--format", format]);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (json, _) = run(Some("json"));
    let record: serde_json::Value = serde_json::from_str(&json).expect("JSON alone on stdout");
    assert_eq!(record["run_id"], "sample-run");
    let (md, _) = run(Some("md"));
    assert!(md.starts_with("# Failover drill: sample\n"), "{md}");
    let (table, stderr) = run(None);
    assert_eq!(run(Some("table")).0, table);
    assert!(table.contains("result: FAIL — an objective did not hold\n"));
    assert!(table.ends_with("\nverdict reproduced from the history: FAIL\n"));
    assert_eq!(stderr, "");
}

#[test]
fn analyze_rewrites_every_report_of_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let record = std::path::Path::new(SAMPLE_RUN).join("run.json.gz");
    std::fs::copy(&record, dir.path().join("run.json.gz")).unwrap();
    let out = firedrill()
        .args(["analyze", "--format", "junit"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        files_in(dir.path()),
        ["junit.xml", "report.html", "report.md", "run.json.gz"]
    );
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    assert_eq!(read("junit.xml"), String::from_utf8(out.stdout).unwrap());
    assert!(read("report.html").contains("<h1 id=\"top\">Failover drill: sample</h1>"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("reports rewritten: "), "{stderr}");
    assert!(stderr.contains("run record unchanged"), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("run.json.gz")).unwrap(),
        std::fs::read(&record).unwrap()
    );
}

/// A run directory written before format 6 holds run.json: analyze reads it and rewrites it as
/// run.json.gz, the run.json gone.
#[test]
fn analyze_rewrites_an_old_run_json_as_run_json_gz() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/format-5/gameday.run.json");
    std::fs::copy(&fixture, dir.path().join("run.json")).unwrap();
    let out = firedrill().arg("analyze").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("verdict reproduced from the history: PASS")
            && stdout.contains("run record changed; not recorded in a run history: "),
        "{stdout}"
    );
    assert_eq!(
        files_in(dir.path()),
        ["junit.xml", "report.html", "report.md", "run.json.gz"]
    );
    let old = firedrill::store::load(&fixture).unwrap();
    let new = firedrill::store::load(&dir.path().join("run.json.gz")).unwrap();
    assert_eq!(
        (old.format, new.format),
        (5, firedrill::record::RECORD_FORMAT)
    );
    assert_eq!(new.history, old.history);
}

#[test]
fn an_unknown_format_is_refused_with_the_known_ones() {
    let out = firedrill()
        .args(["run", "--format", "pdf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[possible values: table, json, md, html, junit]"),
        "{stderr}"
    );
}

/// The example committed under reports/example is real and intact: its history verifies, and
/// each of its runs (run.json, written before format 6), judged again from its record alone,
/// gives the stored verdict.
#[test]
fn the_committed_example_verifies_and_every_run_reproduces_its_verdict() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/example");
    let out = firedrill()
        .args(["verify", "--reports"])
        .arg(&example)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let runs = example.join("runs");
    let mut checked = 0;
    for entry in std::fs::read_dir(&runs).unwrap() {
        let dir = entry.unwrap().path();
        let stored = firedrill::store::load(&firedrill::store::record_path(&dir)).unwrap();
        let analysis = firedrill::analyze::reanalyze(&stored);
        assert!(
            analysis.reproduced,
            "{}: {:?}",
            dir.display(),
            analysis.changes
        );
        checked += 1;
    }
    assert!(checked >= 4, "{checked} runs");
}

/// reports/run-json.md documents every field a real record holds: each key of the committed
/// example runs and of a record stored in this format (the sample's run.json.gz) appears in it
/// (keys of maps whose keys are data — node names, versions, digests, error kinds — excepted).
#[test]
fn the_run_json_schema_names_every_field_of_a_real_run() {
    const DATA_KEYED: &[&str] = &[
        "logs",
        "versions",
        "config_digests",
        "writes_per_node",
        "errors_by_kind",
        "replica_lag_at_injection",
        "per_node",
    ];
    fn keys(value: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, child) in map {
                    out.insert(key.clone());
                    if !DATA_KEYED.contains(&key.as_str()) {
                        keys(child, out);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| keys(i, out)),
            _ => {}
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("reports/run-json.md")).unwrap();
    let mut found = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(root.join("reports/example/runs")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path().join("run.json")).unwrap();
        keys(&serde_json::from_str(&text).unwrap(), &mut found);
    }
    let stored = root.join(SAMPLE_RUN).join("run.json.gz");
    keys(&decompressed(&stored), &mut found);
    for key in ["order", "tables", "others", "fields", "invoke", "sent"] {
        assert!(found.contains(key), "{key}");
    }
    let missing: Vec<&String> = found
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "not documented in run-json.md: {missing:?}"
    );
}

/// The completion scripts and the man page come from the parser's own definitions: every
/// command is in them, the bash script loads and completes `firedrill`, and the man page says
/// the exit codes.
#[test]
fn completions_and_the_man_page_name_every_command() {
    let commands = [
        "run",
        "up",
        "status",
        "analyze",
        "validate",
        "compose",
        "completions",
        "man",
    ];
    for shell in ["bash", "zsh", "fish"] {
        let out = firedrill().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        for command in commands {
            assert!(script.contains(command), "{shell}: no {command}");
        }
    }
    let bash = firedrill().args(["completions", "bash"]).output().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("firedrill.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    let loaded = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p firedrill",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(loaded.status.success(), "{loaded:?}");
    assert!(
        String::from_utf8_lossy(&loaded.stdout).contains("firedrill"),
        "{loaded:?}"
    );
    let unknown = firedrill().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2), "{unknown:?}");

    let man = firedrill().arg("man").output().unwrap();
    assert!(man.status.success(), "{man:?}");
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(page.contains(".TH firedrill 1"), "{page}");
    for command in commands {
        assert!(page.contains(command), "the man page names no {command}");
    }
    assert!(
        page.contains("every objective held"),
        "no exit codes: {page}"
    );
}
