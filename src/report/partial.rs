//! What a drill that could not finish leaves: the error and the steps it reached (the progress
//! journal), as `partial.json` and `report.md` in a run directory of its own. No measurement is
//! made from a drill that stopped part-way, and it is not added to the run history.

use crate::progress::{JournalEntry, Shape};
use crate::scenario::{Bounds, Scenario};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Version of `partial.json`.
pub const PARTIAL_FORMAT: u32 = 1;

/// A drill that stopped before it could be judged.
#[derive(Clone, Debug, Serialize)]
pub struct PartialRun {
    pub format: u32,
    pub scenario: String,
    pub scenario_file: PathBuf,
    pub scenario_sha256: String,
    /// When the command started, UTC, RFC 3339.
    pub started_wall: String,
    /// Why it stopped.
    pub error: String,
    pub bounds: Bounds,
    /// Every step reached, in order.
    pub reached: Vec<Reached>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reached {
    /// After the `Progress` that journaled it was made (the command line makes it as it starts).
    #[serde(with = "humantime_serde")]
    pub after: std::time::Duration,
    pub step: String,
}

impl PartialRun {
    pub fn new(
        scenario: &Scenario,
        started_wall: String,
        error: String,
        journal: &[JournalEntry],
    ) -> Self {
        let reached = journal
            .iter()
            .map(|entry| Reached {
                after: entry.after,
                step: match entry.event.shape() {
                    Shape::Begin(step) => format!("began: {step}"),
                    Shape::Line(line) => line,
                    Shape::End(step, took) => {
                        format!("done: {step} ({})", crate::report::fmt_duration(took))
                    }
                },
            })
            .collect();
        PartialRun {
            format: PARTIAL_FORMAT,
            scenario: scenario.name.clone(),
            scenario_file: scenario.source.path.clone(),
            scenario_sha256: scenario.source.sha256.clone(),
            started_wall,
            error,
            bounds: scenario.bounds,
            reached,
        }
    }
}

/// The partial report in Markdown.
pub fn partial_markdown(run: &PartialRun) -> String {
    let mut md = String::new();
    use super::escape::{md_cell as cell, md_code as code};
    let _ = writeln!(
        md,
        "# Failover drill: {} — INCOMPLETE\n",
        cell(&run.scenario)
    );
    let _ = writeln!(
        md,
        "The drill did not finish, so no objective was judged and nothing was measured.\n"
    );
    let _ = writeln!(md, "**Stopped by:** {}\n", cell(&run.error));
    let _ = writeln!(
        md,
        "Started {} from {} (sha256 {}).\n",
        cell(&run.started_wall),
        code(&run.scenario_file.display().to_string()),
        code(&run.scenario_sha256)
    );
    let _ = writeln!(md, "## Steps reached\n");
    if run.reached.is_empty() {
        let _ = writeln!(md, "None.\n");
    } else {
        let _ = writeln!(md, "| after | step |\n|---:|---|");
        for r in &run.reached {
            let _ = writeln!(
                md,
                "| {} | {} |",
                crate::report::fmt_duration(r.after),
                cell(&r.step)
            );
        }
        md.push('\n');
    }
    let b = &run.bounds;
    let _ = writeln!(md, "## Bounds in force\n");
    let _ = writeln!(md, "| step | bound |\n|---|---:|");
    for (step, bound) in [
        ("bring-up", b.bring_up),
        ("each fault injection and heal, each step", b.fault),
        (
            "recovery (a writable leader after the workload)",
            b.recovery,
        ),
        ("read-back (one reading of every row)", b.read_back),
    ] {
        let _ = writeln!(md, "| {step} | {} |", humantime::format_duration(bound));
    }
    md
}

/// Writes `partial.json` and `report.md` into `<reports>/runs/<UTC start>-<scenario>-incomplete/`
/// (suffixed `-2`, `-3`... if that directory exists: never over another run's) and returns the
/// directory.
pub fn write_partial(run: &PartialRun, reports: &Path) -> std::io::Result<PathBuf> {
    let name = format!(
        "{}-incomplete",
        super::run_dir::dir_name(&run.started_wall, &run.scenario)
    );
    let runs = reports.join("runs");
    std::fs::create_dir_all(&runs)?;
    let mut dir = runs.join(&name);
    let mut n = 1;
    // create_dir (not _all) fails if it exists: the directory found is this run's own.
    while let Err(e) = std::fs::create_dir(&dir) {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            return Err(e);
        }
        n += 1;
        dir = runs.join(format!("{name}-{n}"));
    }
    let json = serde_json::to_string_pretty(run).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("partial.json"), json + "\n")?;
    std::fs::write(dir.join("report.md"), partial_markdown(run))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::{DrillEvent, Step};
    use std::time::Duration;

    fn sample() -> PartialRun {
        let scenario = crate::report::sample_record().scenario;
        let journal = [
            JournalEntry {
                after: Duration::from_millis(20),
                event: DrillEvent::Began {
                    step: Step::BringUp {
                        nodes: vec![
                            ("etcd".into(), 3),
                            ("patroni".into(), 3),
                            ("haproxy".into(), 1),
                        ],
                    },
                },
            },
            JournalEntry {
                after: Duration::from_millis(5900),
                event: DrillEvent::Bootstrapped {
                    node: "pg1".into(),
                    after: Duration::from_millis(5880),
                },
            },
            JournalEntry {
                after: Duration::from_millis(7000),
                event: DrillEvent::Note {
                    text: "etcd healthy (3 members) | ok".into(),
                },
            },
        ];
        PartialRun::new(
            &scenario,
            "2026-11-22T06:10:03Z".into(),
            "cluster not ready after 8s: reached etcd healthy; still waiting for a leader".into(),
            &journal,
        )
    }

    #[test]
    fn a_partial_report_lists_the_steps_reached_and_the_bounds() {
        insta::assert_snapshot!(partial_markdown(&sample()));
    }

    #[test]
    fn a_partial_run_is_written_in_a_directory_of_its_own() {
        let reports = tempfile::tempdir().unwrap();
        let dir = write_partial(&sample(), reports.path()).unwrap();
        assert_eq!(
            dir,
            reports
                .path()
                .join("runs/2026-11-22T06-10-03Z-sample-incomplete")
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("partial.json")).unwrap())
                .unwrap();
        assert_eq!(json["reached"][1]["after"], "5s 900ms");
        assert_eq!(json["bounds"]["bring_up"], "2m");
        assert!(
            std::fs::read_to_string(dir.join("report.md"))
                .unwrap()
                .contains("INCOMPLETE")
        );
    }
}
