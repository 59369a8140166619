//! `firedrill validate`: checks scenario files without Docker.

use super::format::{Output, ScenarioProblem, print_json};
use super::{EXIT_ERROR, EXIT_PASSED};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files (or names of shipped scenarios).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// `json`: one document, an entry per file given, in order.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    format: Output,
}

/// One file's verdict, as `--format json` prints it.
#[derive(Debug, Serialize)]
struct Checked {
    file: String,
    valid: bool,
    /// The scenario's name, when it loads.
    #[serde(skip_serializing_if = "Option::is_none")]
    scenario: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    faults: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objectives: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ScenarioProblem>,
}

/// Exit code: 0 when every file is valid, 2 otherwise.
pub fn validate(args: ValidateArgs) -> u8 {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut checked = Vec::new();
    for file in &args.files {
        let mut entry = Checked {
            file: file.display().to_string(),
            valid: false,
            scenario: None,
            faults: None,
            objectives: None,
            error: None,
        };
        match firedrill::scenario::open(file) {
            Ok(s) => {
                if args.format == Output::Text {
                    println!(
                        "{}: ok: {} ({} fault{}, {} objective{})",
                        file.display(),
                        s.name,
                        s.faults.len(),
                        plural(s.faults.len()),
                        s.objectives.len(),
                        plural(s.objectives.len()),
                    );
                }
                entry.valid = true;
                entry.faults = Some(s.faults.len());
                entry.objectives = Some(s.objectives.len());
                entry.scenario = Some(s.name);
            }
            Err(e) => {
                eprintln!("error: {e}");
                entry.error = Some(ScenarioProblem::from(&e));
            }
        }
        checked.push(entry);
    }
    if args.format == Output::Json {
        print_json(&checked);
    }
    if checked.iter().all(|c| c.valid) {
        EXIT_PASSED
    } else {
        EXIT_ERROR
    }
}
