//! `firedrill list`: the shipped scenarios, or the scenario files in a directory, with the
//! runbook step each rehearses;
//! with `--faults`, `--steps`, `--stacks` or `--kinds`, what a scenario can name, from the
//! registries (fault verbs, step actions, stacks, node kinds).

use super::format::{Output, ScenarioProblem, print_json};
use super::{EXIT_ERROR, EXIT_PASSED};
use clap::Args;
use serde::Serialize;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use tabled::settings::Style;
use tabled::{Table, Tabled};

#[derive(Debug, Args)]
pub struct ListArgs {
    /// List the scenario files in this directory (every `*.toml` in it, not in its
    /// subdirectories) instead of the shipped scenarios.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// List the fault kinds (`kind` in `[[fault]]`) instead: what each does, where it applies,
    /// its keys.
    #[arg(long, conflicts_with_all = ["dir", "steps", "stacks", "kinds"])]
    faults: bool,
    /// List the step actions (`action` in `[[step]]`) instead: what each does, its keys.
    #[arg(long, conflicts_with_all = ["dir", "stacks", "kinds"])]
    steps: bool,
    /// List the stacks (`[topology] stack`) instead: the node kinds each runs.
    #[arg(long, conflicts_with_all = ["dir", "kinds"])]
    stacks: bool,
    /// List the node kinds (kind names in targets) instead: how their nodes are named, how many
    /// a scenario runs, their packages.
    #[arg(long, conflicts_with = "dir")]
    kinds: bool,
    /// `json`: the same rows as one JSON document (scenarios: `{"scenarios": [...], "errors":
    /// [...]}`; the others: an array).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    format: Output,
}

#[derive(Tabled, Serialize)]
struct StackLine {
    stack: String,
    /// The node kinds it may run, in the order its nodes are listed.
    kinds: String,
    summary: String,
}

/// One row per stack, in registry order.
fn stacks() -> Vec<StackLine> {
    firedrill::topology::stacks::STACKS
        .iter()
        .map(|stack| StackLine {
            stack: stack.name().to_owned(),
            kinds: names(stack.kinds().iter().map(|k| k.name())),
            summary: stack.summary().to_owned(),
        })
        .collect()
}

#[derive(Tabled, Serialize)]
struct KindLine {
    kind: String,
    /// How its nodes are named.
    nodes: String,
    /// The scenario setting that says how many.
    count: String,
    /// What clients connect to on it.
    serves: String,
    /// The Debian packages the image holds for it (and any pinned from PyPI).
    packages: String,
}

/// One row per node kind, in registry order.
fn kinds() -> Vec<KindLine> {
    use firedrill::topology::{KINDS, Naming};
    KINDS
        .iter()
        .map(|kind| {
            let kind = kind.kind();
            KindLine {
                kind: kind.name().to_owned(),
                nodes: match kind.naming() {
                    Naming::Numbered(prefix) => format!("{prefix}1..{prefix}N"),
                    Naming::Single(name) => name.to_owned(),
                    Naming::Inside(kind) => format!("none (runs inside the {kind} nodes)"),
                },
                count: kind.count_setting().to_owned(),
                serves: kind.serves().map_or_else(
                    || "-".to_owned(),
                    |s| match s.tier {
                        Some(tier) => format!(
                            "{} on {}; http on {tier} in front of [topology.app] (in a stack \
                             whose clients reach a virtual IP, that alone)",
                            s.protocol.name(),
                            s.port
                        ),
                        None => format!("{} on {}", s.protocol.name(), s.port),
                    },
                ),
                packages: kind
                    .packages()
                    .iter()
                    .map(|p| (*p).to_owned())
                    .chain(
                        kind.wheels()
                            .iter()
                            .map(|w| format!("{} {} (PyPI)", w.name, w.version)),
                    )
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect()
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

#[derive(Tabled, Serialize)]
struct FaultLine {
    kind: String,
    /// "healed" or "one-off".
    heal: String,
    /// The node kinds its targets may be.
    targets: String,
    /// Keys beyond at, kind, target, duration.
    keys: String,
    summary: String,
}

/// One row per fault verb, in registry order.
fn fault_kinds() -> Vec<FaultLine> {
    use firedrill::fault::{Healing, Targets, VERBS};
    VERBS
        .iter()
        .map(|verb| FaultLine {
            kind: verb.name().to_owned(),
            heal: match verb.healing() {
                Healing::Healed => "healed".to_owned(),
                Healing::OneOff { .. } => "one-off".to_owned(),
            },
            targets: match verb.targets() {
                Targets::AnyKind => "any".to_owned(),
                Targets::Kinds(kinds) => kinds.join(", "),
                Targets::WithDisk => "kinds with a data disk".to_owned(),
            },
            keys: match verb.keys() {
                [] => "-".to_owned(),
                keys => keys.iter().map(|k| k.name).collect::<Vec<_>>().join(", "),
            },
            summary: verb.summary().to_owned(),
        })
        .collect()
}

#[derive(Tabled, Serialize)]
struct StepLine {
    action: String,
    /// Keys beyond at, action.
    keys: String,
    summary: String,
}

/// One row per step action, in registry order.
fn step_actions() -> Vec<StepLine> {
    firedrill::step::ACTIONS
        .iter()
        .map(|action| StepLine {
            action: action.name().to_owned(),
            keys: match action.keys() {
                [] => "-".to_owned(),
                keys => names(keys.iter().map(|k| k.name)),
            },
            summary: action.summary().to_owned(),
        })
        .collect()
}

#[derive(Tabled, Serialize)]
struct Line {
    scenario: String,
    /// "-" when the scenario names none (null in JSON).
    #[serde(serialize_with = "dash_as_null")]
    runbook: String,
    /// What to give `firedrill run`: a shipped scenario's name, or a file's path.
    #[tabled(rename = "run as")]
    run_as: String,
    description: String,
}

impl Line {
    fn new(scenario: firedrill::scenario::Scenario, run_as: String) -> Line {
        Line {
            scenario: scenario.name,
            runbook: scenario.runbook.unwrap_or_else(|| "-".to_owned()),
            run_as,
            description: scenario.description,
        }
    }
}

/// The directory could not be listed, or holds no scenario file.
#[derive(Debug, thiserror::Error)]
enum DirError {
    #[error("no scenario files in {}: cannot read the directory: {err}", .dir.display())]
    Unreadable { dir: PathBuf, err: std::io::Error },
    #[error("no scenario files (*.toml) in {}", .dir.display())]
    Empty { dir: PathBuf },
}

/// Prints one row per scenario file that loads, then the errors of those that do not. Exit code:
/// 0 when every file loaded, 2 otherwise (or when the directory holds no scenario file).
pub fn list(args: ListArgs) -> u8 {
    let format = args.format;
    if args.faults {
        return print(format, fault_kinds());
    }
    if args.steps {
        return print(format, step_actions());
    }
    if args.stacks {
        return print(format, stacks());
    }
    if args.kinds {
        return print(format, kinds());
    }
    let Some(dir) = args.dir else {
        return print_scenarios(format, shipped(), Vec::new());
    };
    let files = match scenario_files(&dir) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            if format == Output::Json {
                let problem = ScenarioProblem {
                    file: dir.display().to_string(),
                    line: None,
                    column: None,
                    message: e.to_string(),
                };
                print_scenarios(format, Vec::new(), vec![problem]);
            }
            return EXIT_ERROR;
        }
    };
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for file in &files {
        match firedrill::scenario::load(file) {
            Ok(s) => lines.push(Line::new(s, file.display().to_string())),
            Err(e) => errors.push(e),
        }
    }
    if !lines.is_empty() || format == Output::Json {
        print_scenarios(
            format,
            lines,
            errors.iter().map(ScenarioProblem::from).collect(),
        );
    }
    if errors.is_empty() {
        return EXIT_PASSED;
    }
    for e in &errors {
        eprintln!("error: {e}");
    }
    eprintln!(
        "error: {} of {} scenario file{} in {} could not be loaded",
        errors.len(),
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        dir.display()
    );
    EXIT_ERROR
}

/// One row per shipped scenario, in name order; each loads (a unit test checks it).
fn shipped() -> Vec<Line> {
    firedrill::scenario::SHIPPED
        .iter()
        .filter_map(|(name, text)| {
            let path = firedrill::scenario::built_in_path(name);
            let scenario = firedrill::scenario::parse(&path, text).ok()?;
            Some(Line::new(scenario, (*name).to_owned()))
        })
        .collect()
}

fn dash_as_null<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    match text {
        "-" => s.serialize_none(),
        text => s.serialize_str(text),
    }
}

/// Prints registry rows as a table or a JSON array.
fn print<T: Tabled + Serialize>(format: Output, rows: Vec<T>) -> u8 {
    match format {
        Output::Text => println!("{}", Table::new(rows).with(Style::rounded())),
        Output::Json => print_json(&rows),
    }
    EXIT_PASSED
}

/// Prints the scenarios as a table, or with the files that did not load as one JSON document
/// (as text, those go to stderr after the table).
fn print_scenarios(format: Output, lines: Vec<Line>, errors: Vec<ScenarioProblem>) -> u8 {
    #[derive(Serialize)]
    struct Listed {
        scenarios: Vec<Line>,
        errors: Vec<ScenarioProblem>,
    }
    match format {
        Output::Text => println!("{}", Table::new(lines).with(Style::rounded())),
        Output::Json => print_json(&Listed {
            scenarios: lines,
            errors,
        }),
    }
    EXIT_PASSED
}

/// The `*.toml` files in `dir`, sorted by file name, each as `dir` joined with its name.
fn scenario_files(dir: &Path) -> Result<Vec<PathBuf>, DirError> {
    let unreadable = |err| DirError::Unreadable {
        dir: dir.to_path_buf(),
        err,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let name = entry.map_err(unreadable)?.file_name();
        let path = dir.join(&name);
        if path.extension() == Some(OsStr::new("toml")) && path.is_file() {
            names.push(name);
        }
    }
    if names.is_empty() {
        return Err(DirError::Empty {
            dir: dir.to_path_buf(),
        });
    }
    names.sort();
    Ok(names.into_iter().map(|name| dir.join(name)).collect())
}
