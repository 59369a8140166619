//! The command line running a drill, its stderr read line by line as it comes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};

/// The shipped primary-crash scenario, renamed, shortened to `duration` with the crash at 4 s,
/// `extra` appended (before the objectives: a `[bounds]` table, a topology table...).
pub fn crash_scenario(name: &str, duration: &str, extra: &str) -> String {
    let (head, objectives) = crash_scenario_parts(name, duration);
    head + extra + "\n[objectives]" + &objectives
}

/// The shipped crash scenario renamed, `duration` long and crashing at 4 s: its text before
/// `[objectives]`, and its objectives.
pub fn crash_scenario_parts(name: &str, duration: &str) -> (String, String) {
    let text = super::shipped_with(
        "patroni-primary-crash",
        &[
            (
                "name = \"patroni-primary-crash\"",
                &format!("name = \"{name}\""),
            ),
            ("duration = \"40s\"", &format!("duration = \"{duration}\"")),
            ("at = \"10s\"", "at = \"4s\""),
        ],
    );
    let (head, objectives) = text.split_once("[objectives]").unwrap();
    (head.to_owned(), objectives.to_owned())
}

pub struct DrillCli {
    pub child: Child,
    lines: std::io::Lines<BufReader<ChildStderr>>,
    pub seen: Vec<String>,
}

impl DrillCli {
    /// Runs `firedrill run FILE --reports DIR` with extra environment; stdout goes to
    /// `DIR/stdout.log`.
    pub fn start(scenario: &Path, reports: &Path, env: &[(&str, &str)]) -> DrillCli {
        DrillCli::command("run", scenario, reports, env)
    }

    /// Runs `firedrill COMMAND FILE --reports DIR` (`run`, `up`), as [`DrillCli::start`] does.
    pub fn command(
        subcommand: &str,
        scenario: &Path,
        reports: &Path,
        env: &[(&str, &str)],
    ) -> DrillCli {
        let mut command = Command::new(env!("CARGO_BIN_EXE_firedrill"));
        command
            .arg(subcommand)
            .arg(scenario)
            .arg("--reports")
            .arg(reports)
            .stderr(Stdio::piped())
            .stdout(std::fs::File::create(reports.join("stdout.log")).unwrap());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let lines = BufReader::new(child.stderr.take().unwrap()).lines();
        DrillCli {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads stderr up to a line containing `text`.
    pub fn wait_for(&mut self, text: &str) {
        for line in self.lines.by_ref() {
            let line = line.unwrap();
            self.seen.push(line.clone());
            if line.contains(text) {
                return;
            }
        }
        panic!("the drill never printed {text:?}: {:#?}", self.seen);
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the exit; returns its code and the rest of stderr.
    pub fn finish(mut self) -> (Option<i32>, Vec<String>) {
        let rest: Vec<String> = self.lines.by_ref().map_while(Result::ok).collect();
        (self.child.wait().unwrap().code(), rest)
    }
}

impl Drop for DrillCli {
    /// A test that fails midway leaves no drill behind: SIGTERM (a game day then ends and tears
    /// down as after `down`, a drill as after Ctrl-C), waited for.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            // what it still writes goes nowhere, rather than fill the pipe and block it
            let _ = self.lines.by_ref().count();
            let _ = self.child.wait();
        }
    }
}

/// `firedrill clean --run ID` for the runs of `scenario` (only those: other runs on a shared
/// engine are not the test's to remove), as a user runs it after a run that could not tear
/// down; returns stdout.
pub async fn clean_runs_of(scenario: &str) -> String {
    let docker = firedrill::engine::connect().await.unwrap();
    let runs = firedrill::engine::list_runs(&docker).await.unwrap();
    let ids: Vec<&str> = runs
        .iter()
        .filter(|r| r.scenario == scenario)
        .map(|r| r.run_id.as_str())
        .collect();
    if ids.is_empty() {
        // Without --run, clean would remove every dead run on the engine.
        return "nothing to clean\n".into();
    }
    let mut command = Command::new(env!("CARGO_BIN_EXE_firedrill"));
    command.arg("clean");
    for id in ids {
        command.args(["--run", id]);
    }
    let out = command.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What a scenario's runs left in the engine.
pub async fn leftovers(scenario: &str) -> firedrill::engine::Leftovers {
    let docker = firedrill::engine::connect().await.unwrap();
    firedrill::engine::find_leftovers(
        &docker,
        &format!("{}={scenario}", firedrill::engine::LABEL_SCENARIO),
    )
    .await
    .unwrap()
}

/// The containers of a scenario's runs, running or not.
pub async fn containers_of(scenario: &str) -> Vec<bollard::models::ContainerSummary> {
    let docker = firedrill::engine::connect().await.unwrap();
    docker
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: true,
            filters: Some(
                [(
                    "label".to_string(),
                    vec![format!("{}={scenario}", firedrill::engine::LABEL_SCENARIO)],
                )]
                .into(),
            ),
            ..Default::default()
        }))
        .await
        .unwrap()
}

/// The run directories written under `reports`.
pub fn run_dirs(reports: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(reports.join("runs"))
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}
