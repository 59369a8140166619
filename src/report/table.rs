use super::rows::{
    action_items, ended_by_words, fault_line, measurement_rows, note_line, objective_rows,
    participants_line, restore_rows, step_rows,
};
use crate::check::Judgement;
use crate::record::RunRecord;
use tabled::settings::object::Columns;
use tabled::settings::{Style, Width};
use tabled::{Table, Tabled};

/// The widest a measurement's value is shown on a line; a longer one wraps at word breaks.
const VALUE_WIDTH: usize = 110;

#[derive(Tabled)]
struct MeasurementLine {
    measurement: String,
    value: String,
}

#[derive(Tabled)]
struct StepLine {
    step: usize,
    action: String,
    due: String,
    #[tabled(rename = "started → ended")]
    ran: String,
    took: String,
    outcome: String,
    detail: String,
}

#[derive(Tabled)]
struct RestoreLine {
    restore: String,
    value: String,
}

#[derive(Tabled)]
struct HappenedLine {
    instant: String,
    #[tabled(rename = "by hand, and notes")]
    what: String,
}

#[derive(Tabled)]
struct ObjectiveLine {
    objective: String,
    measured: String,
    verdict: &'static str,
}

/// The terminal summary: every measurement, the steps if the scenario has any, the restore if
/// it has a restore (or backup) step, then each objective with its verdict.
pub fn table(record: &RunRecord) -> String {
    let measurements = measurement_rows(record)
        .into_iter()
        .map(|r| MeasurementLine {
            measurement: r.name,
            value: r.value,
        });
    let objectives = objective_rows(record).into_iter().map(|r| ObjectiveLine {
        objective: r.objective,
        measured: r.measured,
        verdict: r.verdict,
    });
    let mut out = format!(
        "{} — {} (run {})\n",
        record.scenario.name, record.scenario.description, record.run_id
    );
    // a long value (split brain's evidence, a run problem) wraps instead of widening every row
    out.push_str(
        &Table::new(measurements)
            .with(Style::rounded())
            .modify(Columns::one(1), Width::wrap(VALUE_WIDTH).keep_words(true))
            .to_string(),
    );
    out.push('\n');
    let steps = step_rows(record);
    if !steps.is_empty() {
        let steps = steps.into_iter().map(|r| StepLine {
            step: r.number,
            action: r.action,
            due: r.due,
            ran: r.ran,
            took: r.took,
            outcome: r.outcome,
            detail: r.detail,
        });
        out.push_str(&Table::new(steps).with(Style::rounded()).to_string());
        out.push('\n');
    }
    let restore = restore_rows(record);
    if !restore.is_empty() {
        let restore = restore.into_iter().map(|r| RestoreLine {
            restore: r.name,
            value: r.value,
        });
        out.push_str(&Table::new(restore).with(Style::rounded()).to_string());
        out.push('\n');
    }
    if let Some(game_day) = &record.game_day {
        out.push_str(&game_day_lines(record, game_day));
    }
    out.push_str(&Table::new(objectives).with(Style::rounded()).to_string());
    out.push('\n');
    for problem in &record.problems {
        out.push_str(&format!("problem: {problem}\n"));
    }
    out.push_str(match record.judgement() {
        Judgement::Passed => "result: PASS — every objective held\n",
        Judgement::Failed => "result: FAIL — an objective did not hold\n",
        Judgement::NotJudged => "result: NOT JUDGED — the scenario has no objectives\n",
    });
    out
}

/// A game day's part of the summary: who took part, what was done by hand and written down
/// (with its instant), the action items and how the session ended.
fn game_day_lines(record: &RunRecord, game_day: &crate::record::GameDay) -> String {
    let mut out = format!("game day: participants {}\n", participants_line(game_day));
    let mut happened: Vec<(crate::history::At, String)> = record
        .history
        .events
        .iter()
        .filter_map(|e| match e {
            crate::history::Event::Fault(f) if f.by_hand => Some((f.at, fault_line(f, true))),
            crate::history::Event::Note(n) => Some((n.at, note_line(n))),
            _ => None,
        })
        .collect();
    happened.sort_by_key(|(at, _)| *at);
    let happened: Vec<HappenedLine> = happened
        .into_iter()
        .map(|(at, what)| HappenedLine {
            instant: at.to_string(),
            what,
        })
        .collect();
    if !happened.is_empty() {
        out.push_str(&Table::new(happened).with(Style::rounded()).to_string());
        out.push('\n');
    }
    let items = action_items(record);
    if items.is_empty() {
        out.push_str("action items: none written\n");
    }
    for (at, item) in items {
        out.push_str(&format!("action item: {item} (noted at {at})\n"));
    }
    out.push_str(&format!("ended by {}\n", ended_by_words(game_day)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::rows::sample_record;

    #[test]
    fn writes_the_read_back_could_not_judge_and_writes_never_sent() {
        let record = crate::report::rows::doubtful_record();
        insta::assert_snapshot!(crate::report::rows::doubtful_lines(&table(&record)));
    }

    #[test]
    fn a_failover_with_replication_measurements() {
        insta::assert_snapshot!(table(&sample_record()));
    }

    #[test]
    fn a_game_day_shows_what_was_done_by_hand_and_written_down() {
        let out = table(&crate::report::gameday_record());
        insta::assert_snapshot!(out);
        assert!(
            out.contains("fault 1 (crash of pg1, injected and healed by hand): RTO"),
            "{out}"
        );
        assert!(
            out.contains("game day: participants Ana Lima (incident commander), Bo Chen (scribe)"),
            "{out}"
        );
        assert!(!table(&sample_record()).contains("game day"));
    }

    #[test]
    fn a_run_with_a_done_and_a_failed_step() {
        let out = table(&crate::report::steps_record());
        insta::assert_snapshot!(out);
        // without steps, no steps table
        assert!(!table(&sample_record()).contains("started → ended"));
    }

    #[test]
    fn a_restore_drill_shows_what_was_kept_lost_and_each_phase() {
        insta::assert_snapshot!(table(&crate::report::restore_record(true)));
        // without a restore or backup step, no restore table
        let out = table(&crate::report::steps_record());
        assert!(
            !out.contains("restore │") && !out.contains("phase:"),
            "{out}"
        );
    }

    #[test]
    fn a_failed_restore_says_why_wherever_it_is_reported() {
        let out = table(&crate::report::restore_record(false));
        insta::assert_snapshot!(out);
        assert!(out.contains("FAILED (step 4): pg1 stopped (exit 1) without leading: pgBackRest refused: ERROR: [075]"));
    }

    #[test]
    fn a_run_with_poolers_shows_their_figures() {
        insta::assert_snapshot!(table(&crate::report::rows::pool_record()));
    }

    #[test]
    fn a_run_without_objectives_is_not_judged() {
        let record = crate::report::rows::not_judged_record();
        let out = table(&record);
        assert!(
            out.ends_with("result: NOT JUDGED — the scenario has no objectives\n"),
            "{out}"
        );
        assert!(!out.contains("PASS"), "{out}");
    }
}
