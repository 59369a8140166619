//! `--format`: which report `run` and `analyze` print on stdout.

use clap::ValueEnum;
use firedrill::{RunRecord, report};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The terminal summary: measurements and objectives as tables, with the run's notes.
    #[default]
    Table,
    /// The run record as pretty JSON, every event an object (run.json.gz holds the same
    /// record, compact, with the bulky events as tables).
    Json,
    /// The runbook report in Markdown (report.md).
    Md,
    /// The runbook report as one self-contained HTML page (report.html).
    Html,
    /// JUnit XML: a test case per objective (junit.xml).
    Junit,
}

impl Format {
    /// The document printed on stdout for a non-table format; its notes (seed, directories,
    /// verdict changes) then go to stderr so that stdout holds the document alone.
    pub fn document(self, record: &RunRecord) -> Result<String, String> {
        match self {
            Format::Table => Ok(report::table(record)),
            Format::Json => serde_json::to_string_pretty(record)
                .map(|json| json + "\n")
                .map_err(|e| format!("cannot write the run record as JSON: {e}")),
            Format::Md => Ok(report::markdown(record)),
            Format::Html => Ok(report::html(record)),
            Format::Junit => {
                report::junit(record).map_err(|e| format!("cannot write the JUnit report: {e}"))
            }
        }
    }
}

/// Prints a note: on stdout beside the table, on stderr beside any other document.
macro_rules! note {
    ($format:expr, $($arg:tt)*) => {
        if $format == $crate::cli::format::Format::Table {
            println!($($arg)*)
        } else {
            eprintln!($($arg)*)
        }
    };
}
pub(crate) use note;

/// `--format` of the commands scripts read (`validate`, `list`, `verify`, `clean`): what people
/// read, or one JSON document on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Lines and tables for people.
    #[default]
    Text,
    /// One JSON document on stdout (its keys are stable; errors still go to stderr too).
    Json,
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(json) => println!("{json}"),
        // Only a map with non-string keys fails, and none of these documents has one.
        Err(e) => eprintln!("error: cannot write JSON: {e}"),
    }
}

/// A scenario error as scripts read it: the file, the position when there is one, the message
/// without them.
#[derive(Debug, serde::Serialize)]
pub struct ScenarioProblem {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl From<&firedrill::scenario::ScenarioError> for ScenarioProblem {
    fn from(e: &firedrill::scenario::ScenarioError) -> Self {
        ScenarioProblem {
            file: e.path().display().to_string(),
            line: e.position().map(|p| p.line),
            column: e.position().map(|p| p.column),
            message: e.kind().to_string(),
        }
    }
}
