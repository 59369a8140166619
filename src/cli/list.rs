//! `firedrill list`: the scenario files in a directory, with the runbook step each rehearses.

use super::{EXIT_ERROR, EXIT_PASSED};
use clap::Args;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use tabled::settings::Style;
use tabled::{Table, Tabled};

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Directory holding the scenario files (every `*.toml` in it, not in its subdirectories).
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    dir: PathBuf,
}

#[derive(Tabled)]
struct Line {
    scenario: String,
    runbook: String,
    /// The path to give `firedrill run`.
    file: String,
    description: String,
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
    let files = match scenario_files(&args.dir) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for file in &files {
        match firedrill::scenario::load(file) {
            Ok(s) => lines.push(Line {
                scenario: s.name,
                runbook: s.runbook.unwrap_or_else(|| "-".to_owned()),
                file: file.display().to_string(),
                description: s.description,
            }),
            Err(e) => errors.push(e),
        }
    }
    if !lines.is_empty() {
        println!("{}", Table::new(lines).with(Style::rounded()));
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
        args.dir.display()
    );
    EXIT_ERROR
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
