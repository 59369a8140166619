//! The scenarios shipped in `scenarios/`, built into the binary (build.rs), so that an installed
//! `firedrill` runs and lists them from any directory; and how a scenario named on the command
//! line is found: a file when one is there, else the shipped scenario of that name.

use std::path::{Path, PathBuf};

use super::error::{ScenarioError, ScenarioErrorKind, suggest};
use super::load::{load, parse};
use super::model::Scenario;

/// Every shipped scenario, `(name, text)`, in name order.
pub const SHIPPED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/shipped_scenarios.rs"));

/// The scenario `firedrill run` drills when none is named.
pub const DEFAULT: &str = "patroni-primary-crash";

/// The text of the shipped scenario `name` (its file name without `.toml`).
pub fn shipped(name: &str) -> Option<&'static str> {
    SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// How a shipped scenario is named in its `Source` and in error messages: not a path on this
/// machine, and plainly not one.
pub fn built_in_path(name: &str) -> PathBuf {
    PathBuf::from(format!("<built-in>/{name}.toml"))
}

/// Loads the scenario `arg` names: the file at that path when there is one, else (a bare name,
/// `.toml` or not) the shipped scenario of that name. A file wins: `patroni-primary-crash.toml`
/// in the current directory is drilled rather than the shipped one. A directory does not (`firedrill
/// compose NAME` writes its export into `./NAME/`).
pub fn open(arg: &Path) -> Result<Scenario, ScenarioError> {
    let bare = arg.components().count() == 1;
    let name = arg
        .to_str()
        .map(|text| text.strip_suffix(".toml").unwrap_or(text));
    let builtin = name
        .filter(|_| bare)
        .and_then(|name| Some((name, shipped(name)?)));
    match (std::fs::symlink_metadata(arg), builtin) {
        // a directory of the name, with a shipped scenario of the name
        (Ok(_), Some((name, text))) if arg.is_dir() => parse(&built_in_path(name), text),
        // a file, or something that is there and cannot be read: load says what
        (Ok(_), _) => load(arg),
        (Err(e), _) if e.kind() != std::io::ErrorKind::NotFound => load(arg),
        (Err(_), Some((name, text))) => parse(&built_in_path(name), text),
        (Err(_), None) => Err(not_found(arg, name)),
    }
}

/// The text of the shipped scenario `name` (`.toml` or not).
pub fn shipped_text(name: &str) -> Result<&'static str, ScenarioError> {
    let stem = name.strip_suffix(".toml").unwrap_or(name);
    shipped(stem).ok_or_else(|| {
        ScenarioError::new(
            Path::new(name),
            ScenarioErrorKind::NotShipped {
                suggestion: suggest(stem, SHIPPED.iter().map(|(n, _)| *n)).map(str::to_owned),
            },
        )
    })
}

/// Neither a file at `arg` nor a shipped scenario: with the shipped name closest to the file
/// name `name` ends with.
fn not_found(arg: &Path, name: Option<&str>) -> ScenarioError {
    ScenarioError::new(
        arg,
        ScenarioErrorKind::NotFound {
            suggestion: name
                .and_then(|name| {
                    let stem = Path::new(name).file_name()?.to_str()?;
                    suggest(stem, SHIPPED.iter().map(|(n, _)| *n))
                })
                .map(str::to_owned),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in scenarios/ is built in, with the same text, and loads.
    #[test]
    fn every_scenario_file_is_built_in_and_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let path = e.unwrap().path();
                (path.extension()? == "toml").then(|| {
                    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read_to_string(&path).unwrap())
                })
            })
            .collect();
        files.sort();
        let built_in: Vec<(String, String)> = SHIPPED
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        assert_eq!(built_in, files);
        for (name, text) in SHIPPED {
            let scenario = parse(&built_in_path(name), text).unwrap();
            assert_eq!(
                scenario.name, *name,
                "a shipped scenario is named as its file"
            );
        }
        assert!(shipped(DEFAULT).is_some());
    }

    #[test]
    fn a_file_wins_over_a_shipped_name_and_a_bare_name_finds_the_shipped_one() {
        let dir = tempfile::tempdir().unwrap();
        let name = dir.path().join(DEFAULT);
        std::fs::write(
            &name,
            shipped(DEFAULT)
                .unwrap()
                .replace("name = \"patroni-primary-crash\"", "name = \"mine\""),
        )
        .unwrap();
        assert_eq!(open(&name).unwrap().name, "mine");

        for arg in [DEFAULT, "patroni-primary-crash.toml"] {
            let scenario = open(Path::new(arg)).unwrap();
            assert_eq!(scenario.name, DEFAULT);
            assert_eq!(
                scenario.source.path,
                Path::new("<built-in>/patroni-primary-crash.toml")
            );
        }
    }

    #[test]
    fn a_name_neither_a_file_nor_shipped_says_so_and_suggests() {
        let err = open(Path::new("patroni-primary-crahs")).unwrap_err();
        insta::assert_snapshot!(err.to_string(), @"patroni-primary-crahs: no such file, and no shipped scenario has this name (`firedrill list` shows them); did you mean the shipped `patroni-primary-crash`?");
        // A path is never a shipped scenario, but its file name may be close to one.
        let err = open(Path::new("nowhere/patroni-primary-crash.toml")).unwrap_err();
        insta::assert_snapshot!(err.to_string(), @"nowhere/patroni-primary-crash.toml: no such file, and no shipped scenario has this name (`firedrill list` shows them); did you mean the shipped `patroni-primary-crash`?");
        let err = open(Path::new("elsewhere")).unwrap_err();
        insta::assert_snapshot!(err.to_string(), @"elsewhere: no such file, and no shipped scenario has this name (`firedrill list` shows them)");
    }
}
