use super::escape::{md_cell as cell, md_code as code};
use super::rows::{
    action_items, ended_by_words, fault_line, fmt_duration, hand_fault_lines, measurement_rows,
    note_line, objective_rows, restore_rows, step_line, step_rows,
};
use super::setup;
use crate::check::{Judgement, NOT_JUDGED};
use crate::history::Event;
use crate::record::RunRecord;
use std::fmt::Write;

/// The runbook report as Markdown: what was rehearsed, on what, the steps as executed, every
/// measurement with its meaning, and the objectives' verdicts. Every text from the record is
/// escaped so that it stays in its cell or line.
pub fn markdown(record: &RunRecord) -> String {
    let s = &record.scenario;
    let mut md = String::new();
    let kind = if record.game_day.is_some() {
        "Game day"
    } else {
        "Failover drill"
    };
    let _ = writeln!(md, "# {kind}: {}\n", cell(&s.name));
    let _ = writeln!(md, "{}\n", cell(&s.description));
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
        let _ = writeln!(md, "| runbook procedure | {} |", cell(runbook));
    }
    let _ = writeln!(md, "| run | {} |", code(&record.run_id));
    let _ = writeln!(md, "| started | {} |", cell(&record.history.started_wall));
    let _ = writeln!(
        md,
        "| scenario file | {} (sha256 {}) |",
        code(&s.source.path.display().to_string()),
        code(&s.source.sha256)
    );
    let chosen_by = match record.environment.image_from {
        Some(crate::image::ImageSource::Base) => "; firedrill's base image",
        Some(crate::image::ImageSource::Scenario) => "; named by the scenario's `image` key",
        Some(crate::image::ImageSource::Option) => "; named by --image",
        // never the run's image: only the application servers'
        Some(crate::image::ImageSource::AppServers) => "",
        None => "",
    };
    let _ = writeln!(
        md,
        "| image | {} ({}){chosen_by} |",
        code(&record.environment.image),
        code(&record.environment.image_id)
    );
    for (component, version) in &record.environment.versions {
        let _ = writeln!(md, "| {} | {} |", cell(component), cell(version));
    }
    let packages = match &record.environment.packages_sha256 {
        Some(digest) => format!(
            "{} installed, sha256 `{digest}` (listed in run.json.gz)",
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
            .map(|(file, digest)| {
                let short: String = digest.chars().take(12).collect();
                format!("{} {}", code(file), code(&short))
            })
            .collect();
        let _ = writeln!(
            md,
            "| configuration (sha256, first 12 hex digits) | {} |",
            digests.join("<br>")
        );
    }
    let _ = writeln!(
        md,
        "| firedrill | {} |",
        cell(&record.environment.firedrill)
    );
    let _ = writeln!(
        md,
        "| host | {}, {} cores, docker {} |",
        cell(&record.environment.host_os),
        record.environment.cores,
        cell(&record.environment.docker)
    );
    let _ = writeln!(md, "| topology | {} |", cell(&setup::topology(s)));
    let _ = writeln!(md, "| workload | {} |", cell(&setup::workload(s)));
    let _ = writeln!(
        md,
        "| timings | bring-up {}, drill {}, wall {} |\n",
        fmt_duration(record.timings.bring_up),
        fmt_duration(record.timings.drill),
        fmt_duration(record.timings.wall)
    );

    game_day(&mut md, record);

    let _ = writeln!(md, "## Steps as executed\n");
    let _ = writeln!(
        md,
        "Instants are from the workload's start, on one monotonic clock.\n"
    );
    let _ = writeln!(md, "| instant | step |\n|---|---|");
    let _ = writeln!(
        md,
        "| t+0.000s | workload started; leader {} |",
        cell(&record.timings.initial_leader)
    );
    for event in &record.history.events {
        match event {
            Event::Fault(f) => {
                let _ = writeln!(md, "| {} | {} |", f.at, cell(&fault_line(f, false)));
            }
            Event::Note(n) => {
                let _ = writeln!(md, "| {} | {} |", n.at, cell(&note_line(n)));
            }
            Event::ReadBack(r) => {
                let _ = writeln!(
                    md,
                    "| {} | read back {} rows from {} |",
                    r.at,
                    r.present.len(),
                    cell(&r.node)
                );
            }
            Event::Step(step) => {
                let _ = writeln!(md, "| {} | {} |", step.started, cell(&step_line(step)));
            }
            _ => {}
        }
    }
    let _ = writeln!(md);

    let steps = step_rows(record);
    if !steps.is_empty() {
        let _ = writeln!(md, "## Scenario steps\n");
        let _ = writeln!(
            md,
            "Actions at an instant, one after another: each is due at its instant, or when the \
             step before it ends if that is later.\n"
        );
        let _ = writeln!(
            md,
            "| step | action | due | started → ended | took | outcome | detail | values |\n\
             |---:|---|---|---|---|---|---|---|"
        );
        for r in &steps {
            let outcome = if r.failed {
                format!("**{}**", cell(&r.outcome))
            } else {
                cell(&r.outcome)
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {outcome} | {} | {} |",
                r.number,
                cell(&r.action),
                r.due,
                r.ran,
                r.took,
                cell(&r.detail),
                cell(&r.values)
            );
        }
        let _ = writeln!(md);
    }

    let restore = restore_rows(record);
    if !restore.is_empty() {
        let _ = writeln!(md, "## Restore\n");
        let _ = writeln!(
            md,
            "The last restore step, checked against the target it restored to; each phase is \
             from the instant the cluster was lost (the lose-cluster step's start).\n"
        );
        let _ = writeln!(md, "| | value | meaning |\n|---|---|---|");
        for row in &restore {
            let value = if row.value.starts_with("FAILED") {
                format!("**{}**", cell(&row.value))
            } else {
                cell(&row.value)
            };
            let _ = writeln!(
                md,
                "| {} | {value} | {} |",
                cell(&row.name),
                cell(row.meaning)
            );
        }
        let _ = writeln!(md);
    }

    let _ = writeln!(md, "## Objectives\n");
    if record.verdict.judged() {
        let _ = writeln!(md, "| objective | measured | verdict |\n|---|---|---|");
        for row in objective_rows(record) {
            let _ = writeln!(
                md,
                "| {} | {} | **{}** |",
                code(&row.objective),
                cell(&row.measured),
                cell(row.verdict)
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
            cell(&row.name),
            cell(&row.value),
            cell(row.meaning)
        );
    }
    if !record.problems.is_empty() {
        let _ = writeln!(md, "\n## Problems\n");
        for problem in &record.problems {
            let _ = writeln!(md, "- {}", cell(problem));
        }
    }
    md
}

/// The game-day section: who took part, the hypothesis, what was done by hand, the
/// observations, the action items and how the session ended. Nothing for a scripted run.
fn game_day(md: &mut String, record: &RunRecord) {
    let Some(game_day) = &record.game_day else {
        return;
    };
    let _ = writeln!(md, "## Game day\n");
    let _ = writeln!(
        md,
        "People drove this run by hand, from `firedrill up` to `firedrill down`: they injected \
         and healed faults and wrote down what they saw. Its measurements and verdict are \
         computed from the history as for a scripted drill.\n"
    );
    let _ = writeln!(md, "### Participants\n");
    if game_day.participants.is_empty() {
        let _ = writeln!(
            md,
            "None named (`firedrill up --participant \"Name:role\"` names them).\n"
        );
    } else {
        let _ = writeln!(md, "| name | role |\n|---|---|");
        for p in &game_day.participants {
            let role = if p.role.is_empty() { "—" } else { &p.role };
            let _ = writeln!(md, "| {} | {} |", cell(&p.name), cell(role));
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "### Hypothesis\n");
    let _ = writeln!(md, "{}\n", cell(&record.scenario.description));
    let objectives = objective_rows(record);
    if objectives.is_empty() {
        let _ = writeln!(md, "No objective was stated: nothing was judged.\n");
    } else {
        let _ = writeln!(md, "Objectives, over the whole session:\n");
        for row in &objectives {
            let _ = writeln!(md, "- {}", code(&row.objective));
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "### Faults injected by hand\n");
    let faults = hand_fault_lines(record);
    if faults.is_empty() {
        let _ = writeln!(md, "None.\n");
    } else {
        for line in &faults {
            let _ = writeln!(md, "- {}", cell(line));
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "### Observations\n");
    let mut notes = record.history.notes().peekable();
    if notes.peek().is_none() {
        let _ = writeln!(md, "None written.\n");
    } else {
        for n in notes {
            let _ = writeln!(md, "- {} {}", n.at, cell(&n.text));
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "### Action items\n");
    let items = action_items(record);
    if items.is_empty() {
        let _ = writeln!(md, "None written.\n");
    } else {
        for (at, item) in &items {
            let _ = writeln!(md, "- [ ] {} (noted at {at})", cell(item));
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "### How it ended\n");
    let _ = writeln!(md, "{}\n", cell(&ended_by_words(game_day)));
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
    fn a_game_day_with_a_fault_by_hand_notes_and_participants() {
        let md = markdown(&crate::report::gameday_record());
        insta::assert_snapshot!(md);
        assert!(md.starts_with("# Game day: patroni-gameday\n"), "{md}");
        assert!(
            md.contains("| t+10.000s | injected crash on pg1 by hand: killed pg1 (SIGKILL) |"),
            "{md}"
        );
        assert!(md.contains("| t+12.345s | note: app showed 502s |"), "{md}");
        assert!(
            md.contains("- [ ] alert on replication lag (noted at t+25.500s)"),
            "{md}"
        );
        // a scripted run has no game-day section and says nothing of hands or notes
        let scripted = markdown(&sample_record());
        for word in ["Game day", "by hand", "note:", "Action items"] {
            assert!(!scripted.contains(word), "{word}");
        }
    }

    #[test]
    fn a_game_day_without_participants_or_action_items_says_so() {
        let mut record = crate::report::gameday_record();
        let game_day = record.game_day.as_mut().unwrap();
        game_day.participants.clear();
        game_day.ended_by = "interrupt".into();
        record
            .history
            .events
            .retain(|e| !matches!(e, Event::Note(n) if n.action_item().is_some()));
        let md = markdown(&record);
        let section = md
            .split("## Game day")
            .nth(1)
            .and_then(|s| s.split("## Steps as executed").next())
            .unwrap();
        assert!(
            section.contains("None named (`firedrill up --participant"),
            "{section}"
        );
        assert!(
            section.contains("### Action items\n\nNone written.\n"),
            "{section}"
        );
        assert!(
            section.contains("interrupted (Ctrl-C or SIGTERM"),
            "{section}"
        );

        // a note's pipes and line breaks stay in its line and its cell
        record
            .history
            .extend([Event::Note(crate::history::NoteEvent {
                at: crate::history::At(30_000_000_000),
                text: "action: page | the DBA\n# not a heading".into(),
            })]);
        let md = markdown(&record);
        assert!(
            md.contains("| t+30.000s | note: action: page \\| the DBA<br># not a heading |"),
            "{md}"
        );
        assert!(md.contains("- [ ] page \\| the DBA<br># not a heading (noted at t+30.000s)"));
    }

    #[test]
    fn a_run_with_a_done_and_a_failed_step() {
        let md = markdown(&crate::report::steps_record());
        insta::assert_snapshot!(md);
        assert!(!markdown(&sample_record()).contains("Scenario steps"));
    }

    #[test]
    fn a_restore_drill_and_a_failed_restore() {
        insta::assert_snapshot!(
            "restore_done",
            markdown(&crate::report::restore_record(true))
        );
        let failed = markdown(&crate::report::restore_record(false));
        insta::assert_snapshot!("restore_failed", failed);
        assert!(
            failed.contains("| outcome | **FAILED (step 4): pg1 stopped (exit 1) without leading"),
            "{failed}"
        );
        assert!(!markdown(&crate::report::steps_record()).contains("## Restore"));
    }

    #[test]
    fn the_image_row_says_who_chose_the_image() {
        let mut record = sample_record();
        record.environment.image = "team/pg:15".into();
        record.environment.image_from = Some(crate::image::ImageSource::Scenario);
        let md = markdown(&record);
        assert!(
            md.contains("| image | `team/pg:15` (``); named by the scenario's `image` key |"),
            "{md}"
        );
        record.environment.image_from = None;
        assert!(markdown(&record).contains("| image | `team/pg:15` (``) |"));
    }

    /// The `|` that separate cells in a Markdown line: those not escaped.
    fn separators(line: &str) -> usize {
        let bytes = line.as_bytes();
        (0..bytes.len())
            .filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'))
            .count()
    }

    #[test]
    fn pipes_and_line_breaks_in_the_record_stay_inside_their_cells() {
        let mut record = sample_record();
        record.scenario.runbook = Some("1. Primary crash | restart\nthen check".into());
        record.scenario.description = "crash\n\n# not a heading | nor a table".into();
        record
            .environment
            .versions
            .insert("patroni".into(), "3.0.2 |\r\nbuild <b>7</b>".into());
        record.verdict.objectives[0].note = Some("a note | with\na newline".into());
        record.problems = vec!["teardown | failed\nand more".into()];
        let md = markdown(&record);
        insta::assert_snapshot!(md);
        // every row of a table has its header's separators; no line break splits a row
        let mut header: Option<usize> = None;
        for line in md.lines() {
            match (line.starts_with('|'), header) {
                (false, _) => header = None,
                (true, None) => header = Some(separators(line)),
                (true, Some(n)) => assert_eq!(separators(line), n, "{line}"),
            }
        }
        assert!(!md.contains("<b>"), "{md}");
        assert!(md.contains("| runbook procedure | 1. Primary crash \\| restart<br>then check |"));
        assert!(md.contains("| patroni | 3.0.2 \\|<br>build &lt;b>7&lt;/b> |"));
        assert!(md.contains("- teardown \\| failed<br>and more"));
    }

    /// A real pgBouncer run (tests/fixtures/pgbouncer: pg1 crashed at t+10 s, pgbouncer1 is
    /// its pooler), judged again: its verdict stands, and its report shows each pooler.
    #[test]
    fn a_real_run_with_poolers() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pgbouncer/run.json");
        let analysis = crate::analyze::reanalyze(&crate::store::load(&file).unwrap());
        assert!(analysis.reproduced, "{:?}", analysis.changes);
        let record = analysis.record;
        let pool = record.measurements.pool.as_ref().unwrap();
        assert_eq!(pool.poolers.len(), 3);
        // the client stuck on the crashed node's pooler from the crash to the end
        assert_eq!(pool.clients_waiting, Some(1));
        assert!(pool.client_max_wait.unwrap() > std::time::Duration::from_secs(34));
        // pgbouncer1 lost its connections with pg1; its login attempt is not a pooled one
        assert_eq!(pool.stale, Some(vec![]));
        assert_eq!(pool.saturated_time, Some(std::time::Duration::ZERO));
        insta::assert_snapshot!(markdown(&record));
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
