use super::rows::{fmt_duration, measurement_rows, objective_rows};
use super::setup;
use crate::check::{Judgement, NOT_JUDGED};
use crate::history::{Event, FaultAction};
use crate::record::RunRecord;
use std::fmt::Write;

/// The runbook report as Markdown: what was rehearsed, on what, the steps as executed, every
/// measurement with its meaning, and the objectives' verdicts.
pub fn markdown(record: &RunRecord) -> String {
    let s = &record.scenario;
    let mut md = String::new();
    let _ = writeln!(md, "# Failover drill: {}\n", s.name);
    let _ = writeln!(md, "{}\n", s.description);
    let _ = writeln!(
        md,
        "**Result: {}**\n",
        match record.judgement() {
            Judgement::Passed => "PASS — every objective held",
            Judgement::Failed => "FAIL — an objective did not hold",
            Judgement::NotJudged => NOT_JUDGED,
        }
    );
    let _ = writeln!(md, "| | |\n|---|---|");
    if let Some(runbook) = &s.runbook {
        let _ = writeln!(md, "| runbook procedure | {runbook} |");
    }
    let _ = writeln!(md, "| run | `{}` |", record.run_id);
    let _ = writeln!(md, "| started | {} |", record.history.started_wall);
    let _ = writeln!(
        md,
        "| scenario file | `{}` (sha256 `{}`) |",
        s.source.path.display(),
        s.source.sha256
    );
    let _ = writeln!(
        md,
        "| image | `{}` (`{}`) |",
        record.environment.image, record.environment.image_id
    );
    for (component, version) in &record.environment.versions {
        let _ = writeln!(md, "| {component} | {version} |");
    }
    let packages = match &record.environment.packages_sha256 {
        Some(digest) => format!(
            "{} installed, sha256 `{digest}` (listed in run.json)",
            record.environment.packages.len()
        ),
        None => "not recorded".to_string(),
    };
    let _ = writeln!(md, "| packages in the image | {packages} |");
    if !record.environment.config_digests.is_empty() {
        let digests: Vec<String> = record
            .environment
            .config_digests
            .iter()
            .map(|(file, digest)| format!("`{file}` `{}`", &digest[..digest.len().min(12)]))
            .collect();
        let _ = writeln!(
            md,
            "| configuration (sha256, first 12 hex digits) | {} |",
            digests.join("<br>")
        );
    }
    let _ = writeln!(md, "| firedrill | {} |", record.environment.firedrill);
    let _ = writeln!(
        md,
        "| host | {}, {} cores, docker {} |",
        record.environment.host_os, record.environment.cores, record.environment.docker
    );
    let _ = writeln!(md, "| topology | {} |", setup::topology(s));
    let _ = writeln!(md, "| workload | {} |", setup::workload(s));
    let _ = writeln!(
        md,
        "| timings | bring-up {}, drill {}, wall {} |\n",
        fmt_duration(record.timings.bring_up),
        fmt_duration(record.timings.drill),
        fmt_duration(record.timings.wall)
    );

    let _ = writeln!(md, "## Steps as executed\n");
    let _ = writeln!(
        md,
        "Instants are from the workload's start, on one monotonic clock.\n"
    );
    let _ = writeln!(md, "| instant | step |\n|---|---|");
    let _ = writeln!(
        md,
        "| t+0.000s | workload started; leader {} |",
        record.timings.initial_leader
    );
    for event in &record.history.events {
        match event {
            Event::Fault(f) => {
                let verb = match f.action {
                    FaultAction::Inject => "injected",
                    FaultAction::Heal => "healed",
                };
                let _ = writeln!(
                    md,
                    "| {} | {verb} {} on {}{} |",
                    f.at,
                    f.kind,
                    f.node,
                    f.detail
                        .as_ref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                );
            }
            Event::ReadBack(r) => {
                let _ = writeln!(
                    md,
                    "| {} | read back {} rows from {} |",
                    r.at,
                    r.present.len(),
                    r.node
                );
            }
            _ => {}
        }
    }
    let _ = writeln!(md);

    let _ = writeln!(md, "## Objectives\n");
    if record.verdict.judged() {
        let _ = writeln!(md, "| objective | measured | verdict |\n|---|---|---|");
        for row in objective_rows(record) {
            let _ = writeln!(
                md,
                "| `{}` | {} | **{}** |",
                row.objective, row.measured, row.verdict
            );
        }
        let _ = writeln!(md);
    } else {
        let _ = writeln!(
            md,
            "None: the scenario states no objective, so nothing was judged.\n"
        );
    }

    let _ = writeln!(md, "## Measurements\n");
    let _ = writeln!(md, "| measurement | value | meaning |\n|---|---|---|");
    for row in measurement_rows(record) {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            row.name,
            row.value.replace('|', "\\|"),
            row.meaning
        );
    }
    if !record.problems.is_empty() {
        let _ = writeln!(md, "\n## Problems\n");
        for problem in &record.problems {
            let _ = writeln!(md, "- {problem}");
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::rows::sample_record;

    #[test]
    fn writes_the_read_back_could_not_judge_and_writes_never_sent() {
        let record = crate::report::rows::doubtful_record();
        insta::assert_snapshot!(crate::report::rows::doubtful_lines(&markdown(&record)));
    }

    #[test]
    fn a_failover_with_replication_measurements() {
        insta::assert_snapshot!(markdown(&sample_record()));
    }

    #[test]
    fn a_run_without_objectives_is_not_judged() {
        let md = markdown(&crate::report::rows::not_judged_record());
        assert!(!md.contains("PASS"), "{md}");
        insta::assert_snapshot!(md);
    }

    #[test]
    fn names_each_configuration_file_with_its_digest() {
        let mut record = sample_record();
        record.environment.config_digests.insert(
            "pg1:/etc/firedrill/patroni.yml".into(),
            "0123456789abcdef0123".into(),
        );
        let md = markdown(&record);
        assert!(
            md.contains("`pg1:/etc/firedrill/patroni.yml` `0123456789ab`"),
            "{md}"
        );
    }
}
