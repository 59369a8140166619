//! The runbook report as one self-contained HTML page: no script, no external asset (styles
//! inline, the chart inline SVG), readable offline and printable. Every string taken from the
//! record is escaped.

use super::escape::Esc;
use super::rows::{
    action_items, ended_by_words, fault_line, fmt_duration, hand_fault_lines, injected_by_hand,
    measurement_rows, note_line, objective_rows, participants_line, restore_rows, step_line,
    step_rows,
};
use super::setup;
use super::timeline::Timeline;
use crate::check::{Judgement, NOT_JUDGED};
use crate::history::{At, Event, source_answerer, source_label};
use crate::record::RunRecord;
use std::fmt::Write;

const STYLE: &str = "
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; color: #111; background: #fff;
  max-width: 1100px; margin: 0 auto; padding: 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.banner { font-size: 1.3rem; font-weight: bold; padding: .6rem 1rem; border: 3px solid; margin: 1rem 0; }
.banner.pass { background: #e5f5e0; border-color: #238b45; color: #00441b; }
.banner.fail { background: #fee0d2; border-color: #a50f15; color: #67000d; }
.banner.not-judged { background: #f0f0f0; border-color: #525252; color: #252525; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #bbb; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
tbody tr:nth-child(even) td { background: #fafafa; }
td.instant, td.num { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.meaning { color: #444; font-size: .85rem; }
.verdict-pass { color: #00441b; font-weight: bold; }
.verdict-fail { color: #a50f15; font-weight: bold; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
ul.deviations li { margin-bottom: .3rem; }
code { font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: .9em; overflow-wrap: anywhere; }
figure { margin: .5rem 0; }
figcaption { font-size: .85rem; color: #444; }
svg.timeline { display: block; max-width: 100%; height: auto; border: 1px solid #ddd; }
footer { margin-top: 2rem; font-size: .8rem; color: #555; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .banner, svg.timeline, th, td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2, h3 { break-after: avoid; }
  tr, figure, li { break-inside: avoid; }
}
";

/// Writes `<h>text</h>` with the text escaped.
pub(super) fn heading(out: &mut String, level: u8, id: &str, text: &str) {
    let _ = writeln!(out, "<h{level} id=\"{id}\">{}</h{level}>", Esc(text));
}

/// The runbook report as a complete HTML document.
pub fn html(record: &RunRecord) -> String {
    let s = &record.scenario;
    let failed = record
        .verdict
        .objectives
        .iter()
        .filter(|o| !o.passed)
        .count();
    let judgement = record.judgement();
    let result = match judgement {
        Judgement::Passed => "PASS — every objective held".to_string(),
        Judgement::NotJudged => NOT_JUDGED.to_string(),
        Judgement::Failed => format!(
            "FAIL — {failed} of {} objective{} did not hold",
            record.verdict.objectives.len(),
            if record.verdict.objectives.len() == 1 {
                ""
            } else {
                "s"
            }
        ),
    };

    let kind = if record.game_day.is_some() {
        "Game day"
    } else {
        "Failover drill"
    };
    let title = format!(
        "{kind} {}: {} ({})",
        s.name,
        match judgement {
            Judgement::Passed => "PASS",
            Judgement::Failed => "FAIL",
            Judgement::NotJudged => "NOT JUDGED",
        },
        record.history.started_wall
    );
    let mut out = String::new();
    out.push_str("<header>\n");
    heading(&mut out, 1, "top", &format!("{kind}: {}", s.name));
    let _ = writeln!(out, "<p>{}</p>", Esc(&s.description));
    let _ = writeln!(
        out,
        "<p class=\"banner {}\" role=\"status\">{}{}</p>",
        match judgement {
            Judgement::Passed => "pass",
            Judgement::Failed => "fail",
            Judgement::NotJudged => "not-judged",
        },
        Esc(&result),
        if record.problems.is_empty() {
            String::new()
        } else {
            format!(
                "; {} problem{} in the run (see deviations)",
                record.problems.len(),
                if record.problems.len() == 1 { "" } else { "s" }
            )
        }
    );
    out.push_str("<dl class=\"facts\">\n");
    let mut fact = |name: &str, value: &str| {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", Esc(name), Esc(value));
    };
    fact(
        "runbook procedure",
        s.runbook
            .as_deref()
            .unwrap_or("(none named in the scenario)"),
    );
    if let Some(game_day) = &record.game_day {
        fact(
            "game day",
            &format!(
                "driven by hand from firedrill up to {}; participants: {}",
                match game_day.ended_by.as_str() {
                    "down" => "firedrill down",
                    "interrupt" => "an interrupt",
                    other => other,
                },
                participants_line(game_day)
            ),
        );
    }
    fact("run", &record.run_id);
    fact("started (UTC)", &record.history.started_wall);
    fact(
        "scenario file",
        &format!("{} (sha256 {})", s.source.path.display(), s.source.sha256),
    );
    fact(
        "seed",
        &format!("{} (repeat with --seed {})", record.seed, record.seed),
    );
    fact(
        "timings",
        &format!(
            "bring-up {}, drill {}, wall {}",
            fmt_duration(record.timings.bring_up),
            fmt_duration(record.timings.drill),
            fmt_duration(record.timings.wall)
        ),
    );
    out.push_str("</dl>\n</header>\n<main>\n");

    game_day(&mut out, record);
    runbook(&mut out, record);
    timeline(&mut out, record);
    restore(&mut out, record);
    objectives(&mut out, record);
    measurements(&mut out, record);
    environment(&mut out, record);

    out.push_str("</main>\n<footer>\n");
    let _ = writeln!(
        out,
        "<p>Written by firedrill from the run record (run.json.gz) of run {}. Instants (t+…) are \
         from the workload's start on one monotonic clock; only the start is wall-clock time. \
         <code>firedrill analyze</code> recomputes every value here from the recorded history.</p>",
        Esc(&record.run_id)
    );
    out.push_str("</footer>\n");
    page(&title, "", &out)
}

/// A complete HTML document: `title` (escaped here), the shared style sheet followed by
/// `extra_style`, and `body` (markup, already escaped where it holds text).
pub(super) fn page(title: &str, extra_style: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + STYLE.len() + extra_style.len() + 256);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", Esc(title));
    let _ = writeln!(out, "<style>{STYLE}{extra_style}</style>\n</head>\n<body>");
    out.push_str(body);
    out.push_str("</body>\n</html>\n");
    out
}

/// The runbook framing: what was rehearsed, the steps as executed, the expected outcome, the
/// observed outcome and every deviation.
fn runbook(out: &mut String, record: &RunRecord) {
    let s = &record.scenario;
    out.push_str("<section aria-labelledby=\"runbook\">\n");
    heading(out, 2, "runbook", "Runbook");

    heading(out, 3, "rehearsed", "What was rehearsed");
    out.push_str("<dl class=\"facts\">\n");
    let mut fact = |name: &str, value: &str| {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", Esc(name), Esc(value));
    };
    fact(
        "procedure",
        s.runbook
            .as_deref()
            .unwrap_or("(none named in the scenario)"),
    );
    fact("scenario", &format!("{}: {}", s.name, s.description));
    fact("topology", &setup::topology(s));
    fact(
        "workload",
        &format!(
            "{} for {}",
            setup::workload(s),
            humantime::format_duration(s.duration)
        ),
    );
    // a fault injected by hand is appended to the scenario's faults, but was never planned
    let hand = injected_by_hand(record);
    let schedule: Vec<String> = setup::fault_schedule(s)
        .into_iter()
        .enumerate()
        .filter(|(k, _)| !hand.contains(k))
        .map(|(_, line)| line)
        .collect();
    fact(
        "faults planned",
        &if schedule.is_empty() {
            "none scheduled".to_string()
        } else {
            schedule.join("; ")
        },
    );
    if !hand.is_empty() {
        fact(
            "faults injected by hand",
            &hand_fault_lines(record).join("; "),
        );
    }
    let steps_planned = setup::step_schedule(s);
    if !steps_planned.is_empty() {
        fact("steps planned", &steps_planned.join("; "));
    }
    out.push_str("</dl>\n");

    heading(out, 3, "steps", "Steps as executed");
    out.push_str("<table>\n<thead><tr><th scope=\"col\">instant</th><th scope=\"col\">step</th></tr></thead>\n<tbody>\n");
    for (at, step) in steps(record) {
        let _ = writeln!(
            out,
            "<tr><td class=\"instant\">{at}</td><td>{}</td></tr>",
            Esc(&step)
        );
    }
    out.push_str("</tbody>\n</table>\n");
    scenario_steps(out, record);

    heading(out, 3, "expected", "Expected outcome");
    let rows = objective_rows(record);
    if rows.is_empty() {
        out.push_str(
            "<p>No objective was set: the run is not judged; it records measurements only.</p>\n",
        );
    } else {
        out.push_str("<p>Each objective holds:</p>\n<ul>\n");
        for row in &rows {
            let _ = writeln!(out, "<li><code>{}</code></li>", Esc(&row.objective));
        }
        out.push_str("</ul>\n");
    }

    heading(out, 3, "observed", "Observed outcome");
    if rows.is_empty() {
        out.push_str("<p>No objective to judge; see the measurements.</p>\n");
    } else {
        out.push_str("<ul>\n");
        for row in &rows {
            let _ = writeln!(
                out,
                "<li><code>{}</code>: {} — <span class=\"verdict-{}\">{}</span></li>",
                Esc(&row.objective),
                Esc(&row.measured),
                row.verdict.to_lowercase(),
                if row.verdict == "PASS" {
                    "held"
                } else {
                    "did not hold"
                }
            );
        }
        out.push_str("</ul>\n");
    }

    heading(out, 3, "deviations", "Deviations");
    let deviations = deviations(record);
    if deviations.is_empty() {
        out.push_str("<p>None: every objective held and the drill ran to completion.</p>\n");
    } else {
        out.push_str("<ul class=\"deviations\">\n");
        for d in &deviations {
            let _ = writeln!(out, "<li>{}</li>", Esc(d));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

/// The scenario's steps as they ran: when each was due, when it ran, its outcome and what it
/// found. Nothing without steps.
fn scenario_steps(out: &mut String, record: &RunRecord) {
    let rows = step_rows(record);
    if rows.is_empty() {
        return;
    }
    heading(out, 3, "scenario-steps", "Scenario steps");
    out.push_str(
        "<p>Actions at an instant, one after another: each is due at its instant, or when the \
         step before it ends if that is later.</p>\n",
    );
    out.push_str("<table>\n<thead><tr><th scope=\"col\">step</th><th scope=\"col\">action</th><th scope=\"col\">due</th><th scope=\"col\">started → ended</th><th scope=\"col\">took</th><th scope=\"col\">outcome</th><th scope=\"col\">detail</th><th scope=\"col\">values</th></tr></thead>\n<tbody>\n");
    for r in &rows {
        let _ = writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"instant\">{}</td><td class=\"instant\">{}</td><td class=\"num\">{}</td><td class=\"verdict-{}\">{}</td><td>{}</td><td>{}</td></tr>",
            r.number,
            Esc(&r.action),
            r.due,
            r.ran,
            r.took,
            if r.failed { "fail" } else { "pass" },
            Esc(&r.outcome),
            Esc(&r.detail),
            Esc(&r.values)
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// Each failed objective, each failed step and each problem of the run, stated plainly.
pub(crate) fn deviations(record: &RunRecord) -> Vec<String> {
    let mut list: Vec<String> = record
        .verdict
        .objectives
        .iter()
        .zip(objective_rows(record))
        .filter(|(o, _)| !o.passed)
        .map(|(o, row)| match (&o.measured, &o.note) {
            (Some(v), Some(note)) => format!(
                "Objective {} did not hold: measured {v} ({note}).",
                row.objective
            ),
            (Some(v), None) => format!("Objective {} did not hold: measured {v}.", row.objective),
            (None, _) => format!(
                "Objective {} did not hold: {}.",
                row.objective, row.measured
            ),
        })
        .collect();
    if !record.verdict.judged() {
        list.push(
            "Not judged: the scenario has no objectives, so nothing was shown to hold.".into(),
        );
    }
    list.extend(record.history.steps().filter_map(|s| {
        let reason = s.failure()?;
        Some(format!("Step {} ({}) failed: {reason}.", s.step, s.action))
    }));
    list.extend(
        record
            .problems
            .iter()
            .map(|p| format!("Problem in the run: {p}.")),
    );
    list
}

/// The game-day section: who took part, the hypothesis (the scenario's description and its
/// objectives), the faults injected by hand, the observations (every note with its instant),
/// the action items and how the session ended. Nothing for a scripted run.
fn game_day(out: &mut String, record: &RunRecord) {
    let Some(game_day) = &record.game_day else {
        return;
    };
    out.push_str("<section aria-labelledby=\"game-day\">\n");
    heading(out, 2, "game-day", "Game day");
    out.push_str(
        "<p>People drove this run by hand, from <code>firedrill up</code> to <code>firedrill \
         down</code>: they injected and healed faults and wrote down what they saw. Its \
         measurements and verdict are computed from the history as for a scripted drill.</p>\n",
    );

    heading(out, 3, "game-day-participants", "Participants");
    if game_day.participants.is_empty() {
        out.push_str(
            "<p>None named (<code>firedrill up --participant \"Name:role\"</code> names \
             them).</p>\n",
        );
    } else {
        out.push_str("<table>\n<thead><tr><th scope=\"col\">name</th><th scope=\"col\">role</th></tr></thead>\n<tbody>\n");
        for p in &game_day.participants {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                Esc(&p.name),
                Esc(if p.role.is_empty() { "—" } else { &p.role })
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }

    heading(out, 3, "game-day-hypothesis", "Hypothesis");
    let _ = writeln!(out, "<p>{}</p>", Esc(&record.scenario.description));
    let objectives = objective_rows(record);
    if objectives.is_empty() {
        out.push_str("<p>No objective was stated: nothing was judged.</p>\n");
    } else {
        out.push_str("<p>Objectives, over the whole session:</p>\n<ul>\n");
        for row in &objectives {
            let _ = writeln!(out, "<li><code>{}</code></li>", Esc(&row.objective));
        }
        out.push_str("</ul>\n");
    }

    heading(out, 3, "game-day-by-hand", "Faults injected by hand");
    list(out, &hand_fault_lines(record), "None.");

    heading(out, 3, "game-day-observations", "Observations");
    let notes: Vec<String> = record
        .history
        .notes()
        .map(|n| format!("{} {}", n.at, n.text))
        .collect();
    list(out, &notes, "None written.");

    heading(out, 3, "game-day-action-items", "Action items");
    let items: Vec<String> = action_items(record)
        .into_iter()
        .map(|(at, item)| format!("{item} (noted at {at})"))
        .collect();
    list(out, &items, "None written.");

    heading(out, 3, "game-day-ended", "How it ended");
    let _ = writeln!(out, "<p>{}</p>", Esc(&ended_by_words(game_day)));
    out.push_str("</section>\n");
}

/// A list of lines (escaped here), or `empty` in a paragraph when there is none.
fn list(out: &mut String, lines: &[String], empty: &str) {
    if lines.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", Esc(empty));
        return;
    }
    out.push_str("<ul>\n");
    for line in lines {
        let _ = writeln!(out, "<li>{}</li>", Esc(line));
    }
    out.push_str("</ul>\n");
}

/// The drill's steps with their instants: the faults injected and healed (by hand, in a game
/// day, said so), the notes people wrote, what the clients and the probes saw (writes stopped,
/// failover, promotion, proxy switch, recovery, full redundancy) and the read-back, in time
/// order.
fn steps(record: &RunRecord) -> Vec<(At, String)> {
    let mut steps = vec![(
        At(0),
        format!(
            "workload started; leader {}",
            if record.timings.initial_leader.is_empty() {
                "not recorded"
            } else {
                &record.timings.initial_leader
            }
        ),
    )];
    for event in &record.history.events {
        match event {
            Event::Fault(f) => steps.push((f.at, fault_line(f, true))),
            Event::Note(n) => steps.push((n.at, note_line(n))),
            Event::ReadBack(r) => steps.push((
                r.at,
                format!(
                    "read back {} rows from {} (acknowledged writes checked)",
                    r.present.len(),
                    r.node
                ),
            )),
            Event::Step(step) => steps.push((step.started, step_line(step))),
            _ => {}
        }
    }
    for f in &record.measurements.faults {
        // "fault 1", or "faults 1+2" for faults that started together
        let n = f.name();
        let after = |d: std::time::Duration| f.injected_at.plus(d);
        if let Some(d) = f.detection_time {
            steps.push((
                after(d),
                format!(
                    "{n}: clients saw it: first failed write ({} after injection)",
                    fmt_duration(d)
                ),
            ));
        }
        if let Some(at) = f.outage_start {
            steps.push((
                at,
                format!(
                    "{n}: write outage began (the end of the last ok write before it){}",
                    match (f.recovered, &f.unconfirmed_recovery) {
                        (true, _) => "",
                        (false, Some(_)) => "; recovery unconfirmed",
                        (false, None) => "; writes never recovered",
                    }
                ),
            ));
        }
        if let (Some(d), Some(new)) = (f.leader_election_time, &f.new_leader) {
            steps.push((
                after(d),
                format!(
                    "{n}: failover seen: {new} leader in place of {} (leader election time {})",
                    f.old_leader,
                    fmt_duration(d)
                ),
            ));
        }
        if let (Some(d), Some(node), Some(tl)) =
            (f.promotion_time, &f.promoted, f.promoted_timeline)
        {
            steps.push((
                after(d),
                format!("{n}: {node} promoted: leader on timeline {tl}"),
            ));
        }
        if let (Some(d), Some(new)) = (f.proxy_switch_time, &f.new_leader) {
            steps.push((
                after(d),
                format!("{n}: HAProxy routes to {new} (new connections can reach it)"),
            ));
        }
        if let (Some(d), Some(_)) = (f.old_leader_out_time, &f.new_leader) {
            steps.push((
                after(d),
                format!(
                    "{n}: HAProxy took {} out of rotation (no longer UP)",
                    f.old_leader
                ),
            ));
        }
        if let (Some(at), Some(rto)) = (f.recovered_at, f.rto) {
            steps.push((
                at,
                format!(
                    "{n}: writes recovered and kept succeeding (RTO {})",
                    fmt_duration(rto)
                ),
            ));
        }
        if let Some(u) = &f.unconfirmed_recovery {
            steps.push((
                u.recovered_at,
                format!(
                    "{n}: recovery unconfirmed, RTO not measured: {}",
                    u.describe()
                ),
            ));
        }
        if let Some(d) = f.time_to_full_redundancy {
            steps.push((
                after(d),
                format!("{n}: full redundancy: every node streaming from the leader"),
            ));
        }
    }
    if let (Some(r), Some(lost)) = (
        &record.measurements.restore,
        record.measurements.restore.as_ref().and_then(|r| r.lost_at),
    ) {
        let node = r.node.as_deref().unwrap_or("the restored node");
        let p = &r.phases;
        let after = |d: std::time::Duration| lost.plus(d);
        if let Some(d) = p.leader_key {
            steps.push((after(d), format!("restore: {node} holds the leader key")));
        }
        if let Some(d) = p.proxy_routing {
            steps.push((after(d), format!("restore: HAProxy routes to {node}")));
        }
        if let Some(d) = r.restore_time {
            steps.push((
                after(d),
                format!(
                    "restore: first write acknowledged on the restored cluster (restore time {})",
                    fmt_duration(d)
                ),
            ));
        }
        if let Some(d) = p.full_redundancy {
            steps.push((
                after(d),
                format!("restore: full redundancy: every node streaming from {node}"),
            ));
        }
    }
    // stable: simultaneous steps keep the order above
    steps.sort_by_key(|(at, _)| *at);
    steps
}

fn timeline(out: &mut String, record: &RunRecord) {
    let chart = Timeline::of(record);
    out.push_str("<section aria-labelledby=\"timeline\">\n");
    heading(out, 2, "timeline", "Timeline");
    out.push_str("<figure>\n");
    out.push_str(&chart.svg());
    let _ = writeln!(
        out,
        "<figcaption>Run time from the workload's start. Top: write attempts per {} by \
         invoke instant, stacked by outcome (ok, unknown, failed). Shaded: each fault from its \
         injection to its heal (or to the end when never healed). Below: each fault's write \
         outage, from the end of the last ok write before it to the end of the first ok write \
         after which writes kept succeeding (its RTO). Lanes: each {}node's role as {} \
         reported it, probed every {}; a mark shows the most telling state probed in \
         its interval (leader, then no answer, then other, then replica).{}{}{}{}</figcaption>",
        chart.bucket_label(),
        Esc(&chart
            .role_sources
            .iter()
            .map(|s| format!("{} ", source_label(s)))
            .collect::<String>()),
        chart
            .role_sources
            .first()
            .map_or("its source", |s| source_answerer(s)),
        super::rows::cadence_words(record.history.probe_interval()),
        if chart.pools.is_empty() {
            ""
        } else {
            " Pool lanes: each pooler's server connections active (linked to a client) as a \
             share of its pool size, the most any answer in the interval showed, dark red over \
             the runbook's alert of 90 % (the dashed line); an orange band on top while clients \
             waited for a server connection."
        },
        if chart.notes.is_empty() {
            ""
        } else {
            " Notes: each numbered mark along the top, with a dotted line down the chart, is a \
             note written during the game day, at the instant it was written (listed under \
             Observations)."
        },
        if chart.steps.is_empty() {
            ""
        } else {
            " Steps lane: each step of the scenario from its start to its end (at least a sliver \
             wide), green when done, red when failed, with a dashed line from when it was due \
             when it started late."
        },
        chart
            .restore
            .as_ref()
            .map(|lane| format!(" {}", Esc(&lane.key())))
            .unwrap_or_default()
    );
    out.push_str("</figure>\n</section>\n");
}

/// The last restore step checked against its target, and the backups taken; nothing without
/// either.
fn restore(out: &mut String, record: &RunRecord) {
    let rows = restore_rows(record);
    if rows.is_empty() {
        return;
    }
    out.push_str("<section aria-labelledby=\"restore\">\n");
    heading(out, 2, "restore", "Restore");
    out.push_str(
        "<p>The last restore step, checked against the target it restored to; each phase is from \
         the instant the cluster was lost (the lose-cluster step's start).</p>\n",
    );
    out.push_str("<table>\n<thead><tr><th scope=\"col\">item</th><th scope=\"col\">value</th><th scope=\"col\">meaning</th></tr></thead>\n<tbody>\n");
    for row in &rows {
        let class = if row.value.starts_with("FAILED") {
            " class=\"verdict-fail\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td{class}>{}</td><td class=\"meaning\">{}</td></tr>",
            Esc(&row.name),
            Esc(&row.value),
            Esc(row.meaning)
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn objectives(out: &mut String, record: &RunRecord) {
    out.push_str("<section aria-labelledby=\"objectives\">\n");
    heading(out, 2, "objectives", "Objectives");
    out.push_str("<table>\n<thead><tr><th scope=\"col\">objective</th><th scope=\"col\">measured</th><th scope=\"col\">verdict</th></tr></thead>\n<tbody>\n");
    for row in objective_rows(record) {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"verdict-{}\">{}</td></tr>",
            Esc(&row.objective),
            Esc(&row.measured),
            row.verdict.to_lowercase(),
            row.verdict
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn measurements(out: &mut String, record: &RunRecord) {
    out.push_str("<section aria-labelledby=\"measurements\">\n");
    heading(out, 2, "measurements", "Measurements");
    out.push_str("<table>\n<thead><tr><th scope=\"col\">measurement</th><th scope=\"col\">value</th><th scope=\"col\">meaning</th></tr></thead>\n<tbody>\n");
    for row in measurement_rows(record) {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"meaning\">{}</td></tr>",
            Esc(&row.name),
            Esc(&row.value),
            Esc(row.meaning)
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// Every field of the record's environment, as stored (so a field added to it is shown without
/// a change here): nested maps one row per entry.
fn environment_rows(record: &RunRecord) -> Vec<(String, String)> {
    fn text(value: &serde_json::Value) -> String {
        match value {
            serde_json::Value::String(s) if s.is_empty() => "not recorded".into(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "not recorded".into(),
            serde_json::Value::Array(items) if items.is_empty() => "none".into(),
            serde_json::Value::Array(items) => {
                items.iter().map(text).collect::<Vec<_>>().join(", ")
            }
            other => other.to_string(),
        }
    }
    let mut rows = Vec::new();
    let value = serde_json::to_value(&record.environment).unwrap_or_default();
    let serde_json::Value::Object(fields) = value else {
        return rows;
    };
    for (key, value) in fields {
        let name = key.replace('_', " ");
        if key == "packages" {
            // Hundreds of packages: their count here, the list in the record.
            let count = value.as_object().map_or(0, |p| p.len());
            rows.push((name, format!("{count} installed (listed in run.json.gz)")));
            continue;
        }
        match value {
            serde_json::Value::Object(entries) if entries.is_empty() => {
                rows.push((name, "none recorded".into()))
            }
            serde_json::Value::Object(entries) => {
                for (sub, v) in entries {
                    rows.push((format!("{name}: {sub}"), text(&v)));
                }
            }
            v => rows.push((name, text(&v))),
        }
    }
    rows
}

fn environment(out: &mut String, record: &RunRecord) {
    out.push_str("<section aria-labelledby=\"environment\">\n");
    heading(out, 2, "environment", "Environment");
    out.push_str(
        "<p>Where and on what the drill ran: the versions were read from the running containers.</p>\n",
    );
    out.push_str("<table>\n<thead><tr><th scope=\"col\">item</th><th scope=\"col\">value</th></tr></thead>\n<tbody>\n");
    for (name, value) in environment_rows(record) {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            Esc(&name),
            Esc(&value)
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::report::sample_record;

    /// The page with its chart replaced by a placeholder: the chart has its own snapshot.
    fn without_chart(record: &RunRecord) -> String {
        let page = html(record);
        let svg = Timeline::of(record).svg();
        assert_eq!(page.matches(&svg).count(), 1, "the chart is inline, once");
        page.replace(&svg, "<!-- timeline: see the timeline's own snapshot -->\n")
    }

    #[test]
    fn writes_the_read_back_could_not_judge_and_writes_never_sent() {
        let record = crate::report::rows::doubtful_record();
        insta::assert_snapshot!(crate::report::rows::doubtful_lines(&html(&record)));
    }

    #[test]
    fn pool_figures_and_their_lanes_only_with_poolers() {
        let page = html(&crate::report::rows::pool_record());
        assert!(
            page.contains(
                "<tr><th scope=\"row\">pool pgbouncer2 (pg2): pool over 90 % in use</th><td>2.500s in 1 span: t+2.502s to t+5.002s</td>"
            ),
            "{page}"
        );
        assert!(page.contains("stale server connections"), "{page}");
        assert!(page.contains(" Pool lanes: each pooler"), "{page}");
        assert_eq!(page.matches("<g class=\"pool-lane\"").count(), 2);
        let page = html(&sample_record());
        assert!(!page.contains("pool"), "{page}");
    }

    #[test]
    fn a_failover_with_replication_measurements() {
        insta::assert_snapshot!(without_chart(&sample_record()));
    }

    #[test]
    fn a_game_day_has_its_section_and_says_so_in_its_title() {
        let record = crate::report::gameday_record();
        let page = without_chart(&record);
        insta::assert_snapshot!(page);
        assert!(
            page.contains("<title>Game day patroni-gameday: PASS ("),
            "{page}"
        );
        assert!(page.contains("<h1 id=\"top\">Game day: patroni-gameday</h1>"));
        let section = page
            .split("<section aria-labelledby=\"game-day\">")
            .nth(1)
            .and_then(|s| s.split("</section>").next())
            .expect("a game-day section");
        for needle in [
            "<tr><td>Ana Lima</td><td>incident commander</td></tr>",
            "<li><code>rto &lt;= 30s</code></li>",
            "<li>t+12.345s app showed 502s</li>",
            "<li>alert on replication lag (noted at t+25.500s)</li>",
            "<li>fault 1: crash of pg1 (target leader), injected by hand at t+10.000s, healed by hand at t+20.000s</li>",
            "firedrill down: the workload stopped",
        ] {
            assert!(section.contains(needle), "{needle}: {section}");
        }
        // the fault by hand is not planned; its measured outcome is as a scheduled fault's
        assert!(
            page.contains("<dt>faults planned</dt><dd>none scheduled</dd>"),
            "{page}"
        );
        let happened: Vec<String> = steps(&record)
            .into_iter()
            .map(|(at, step)| format!("{at} {step}"))
            .filter(|s| !s.contains("full redundancy") && !s.contains("HAProxy"))
            .collect();
        assert_eq!(
            happened,
            [
                "t+0.000s workload started; leader pg1",
                "t+9.902s fault 1: write outage began (the end of the last ok write before it)",
                "t+10.000s fault 1: injected crash on pg1 by hand: killed pg1 (SIGKILL)",
                "t+10.001s fault 1: clients saw it: first failed write (0.001s after injection)",
                "t+12.345s note: app showed 502s",
                "t+18.002s fault 1: failover seen: pg2 leader in place of pg1 (leader election time 8.002s)",
                "t+18.002s fault 1: pg2 promoted: leader on timeline 2",
                "t+18.502s fault 1: writes recovered and kept succeeding (RTO 8.600s)",
                "t+20.000s fault 1: healed crash on pg1 by hand",
                "t+25.500s note: action: alert on replication lag",
                "t+41.000s read back 315 rows from pg2 (acknowledged writes checked)",
            ]
        );
        // a scripted run: none of it
        let scripted = html(&sample_record());
        for needle in ["game-day", "Game day", "by hand", "note:", "class=\"note\""] {
            assert!(!scripted.contains(needle), "{needle}");
        }
    }

    #[test]
    fn a_run_with_a_done_and_a_failed_step() {
        let record = crate::report::steps_record();
        insta::assert_snapshot!(without_chart(&record));
        assert_eq!(
            deviations(&record).last().map(String::as_str),
            Some("Step 1 (target) failed: no node reports itself leader.")
        );
        let page = html(&sample_record());
        assert!(!page.contains("Scenario steps") && !page.contains("steps planned"));
    }

    #[test]
    fn a_restore_drill_and_a_failed_restore() {
        insta::assert_snapshot!(
            "restore_done",
            without_chart(&crate::report::restore_record(true))
        );
        let record = crate::report::restore_record(false);
        let page = without_chart(&record);
        insta::assert_snapshot!("restore_failed", page);
        assert!(
            page.contains("<td class=\"verdict-fail\">FAILED (step 4): pg1 stopped"),
            "{page}"
        );
        assert!(
            deviations(&record)
                .iter()
                .any(|d| d.starts_with("Step 4 (restore) failed: pg1 stopped"))
        );
        assert!(!html(&sample_record()).contains("id=\"restore\""));
    }

    #[test]
    fn a_passing_run_without_problems_has_no_deviation() {
        let mut record = sample_record();
        record.scenario.objectives.retain(|o| {
            !matches!(
                o.measure,
                crate::scenario::Measure::LagAtFailover | crate::scenario::Measure::LeaderChanges
            )
        });
        record.verdict = crate::check::judge(&record.scenario.objectives, &record.measurements);
        assert!(record.passed());
        assert!(deviations(&record).is_empty());
        let page = html(&record);
        assert!(
            page.contains(
                "<p class=\"banner pass\" role=\"status\">PASS — every objective held</p>"
            )
        );
        assert!(page.contains("None: every objective held and the drill ran to completion."));
    }

    #[test]
    fn a_run_without_objectives_is_not_judged() {
        let record = crate::report::rows::not_judged_record();
        let page = html(&record);
        assert!(page.contains(
            "<p class=\"banner not-judged\" role=\"status\">NOT JUDGED — the scenario has no \
             objectives</p>"
        ));
        assert!(
            page.contains("<title>Failover drill sample: NOT JUDGED ("),
            "{page}"
        );
        assert!(!page.contains("PASS"));
        assert_eq!(
            deviations(&record),
            ["Not judged: the scenario has no objectives, so nothing was shown to hold."]
        );
    }

    #[test]
    fn every_failed_objective_and_problem_is_a_deviation() {
        let mut record = sample_record();
        record.problems = vec!["no read-back: the leader did not answer".into()];
        let rto = crate::check::judge(
            &[crate::scenario::Objective {
                measure: crate::scenario::Measure::Rto,
                bound: crate::scenario::Bound::Duration {
                    cmp: crate::scenario::Cmp::Le,
                    value: std::time::Duration::from_secs(1),
                },
            }],
            &record.measurements,
        );
        record.verdict.objectives.extend(rto.objectives);
        record.verdict.passed = false;
        assert_eq!(
            deviations(&record),
            [
                "Objective lag_at_failover <= 64kB did not hold: measured 65.5 kB (67072 B).",
                "Objective leader_changes == 0 did not hold: measured 1.",
                "Objective rto <= 1s did not hold: measured 2.100s.",
                "Problem in the run: no read-back: the leader did not answer.",
            ]
        );
        let page = html(&record);
        assert!(page.contains("FAIL — 3 of 5 objectives did not hold; 1 problem in the run"));

        record.measurements.faults[0].recovered = false;
        record.measurements.faults[0].rto = None;
        record.measurements.rto = None;
        let judge_rto = |record: &RunRecord| {
            crate::check::judge(
                &[crate::scenario::Objective {
                    measure: crate::scenario::Measure::Rto,
                    bound: crate::scenario::Bound::Duration {
                        cmp: crate::scenario::Cmp::Le,
                        value: std::time::Duration::from_secs(1),
                    },
                }],
                &record.measurements,
            )
            .objectives
            .remove(0)
        };
        record.verdict.objectives[4] = judge_rto(&record);
        assert_eq!(
            deviations(&record)[2],
            "Objective rto <= 1s did not hold: not measured: writes never recovered after fault 1 (crash of pg1)."
        );

        // writes came back, but the run ended before they were seen to last
        let unconfirmed = crate::check::UnconfirmedRecovery {
            recovered_at: crate::history::At(2_102_000_000),
            last_write: crate::history::At(3_000_000_000),
        };
        record.measurements.faults[0].unconfirmed_recovery = Some(unconfirmed);
        record.measurements.unconfirmed_recovery = Some(unconfirmed);
        record.verdict.objectives[4] = judge_rto(&record);
        assert_eq!(
            deviations(&record)[2],
            "Objective rto <= 1s did not hold: not measured: recovery after fault 1 (crash of pg1) unconfirmed: writes recovered at t+2.102s, but the last write was attempted 0.898s later, before 5s of successful writes confirmed it."
        );
    }

    #[test]
    fn the_timeline_caption_says_the_probe_cadence_used() {
        let mut record = sample_record();
        assert!(html(&record).contains("probed every 100 ms;"));
        record.history.probe_interval = Some(std::time::Duration::from_millis(250));
        let page = html(&record);
        assert!(page.contains("probed every 250 ms;"), "{page}");
        assert!(!page.contains("every 100 ms"));
    }

    #[test]
    fn the_steps_say_what_happened_when() {
        let steps: Vec<String> = steps(&sample_record())
            .into_iter()
            .map(|(at, step)| format!("{at} {step}"))
            .collect();
        assert_eq!(
            steps,
            [
                "t+0.000s workload started; leader pg1",
                "t+0.002s fault 1: write outage began (the end of the last ok write before it)",
                "t+0.100s fault 1: injected crash on pg1",
                "t+0.111s fault 1: clients saw it: first failed write (0.011s after injection)",
                "t+2.003s fault 1: failover seen: pg2 leader in place of pg1 (leader election time 1.903s)",
                "t+2.102s fault 1: writes recovered and kept succeeding (RTO 2.100s)",
                "t+2.104s fault 1: pg2 promoted: leader on timeline 2",
                "t+2.304s fault 1: HAProxy routes to pg2 (new connections can reach it)",
                "t+2.504s fault 1: HAProxy took pg1 out of rotation (no longer UP)",
                "t+5.000s fault 1: healed crash on pg1",
                "t+7.004s fault 1: full redundancy: every node streaming from the leader",
                "t+9.000s read back 53 rows from pg2 (acknowledged writes checked)",
            ]
        );
    }

    #[test]
    fn the_steps_say_when_a_recovery_was_not_confirmed() {
        let mut record = sample_record();
        let f = &mut record.measurements.faults[0];
        (f.rto, f.recovered, f.recovered_at, f.rto_resolution) = (None, false, None, None);
        f.unconfirmed_recovery = Some(crate::check::UnconfirmedRecovery {
            recovered_at: crate::history::At(2_102_000_000),
            last_write: crate::history::At(3_000_000_000),
        });
        let steps: Vec<String> = steps(&record)
            .into_iter()
            .map(|(at, step)| format!("{at} {step}"))
            .filter(|step| step.contains("outage") || step.contains("recover"))
            .collect();
        assert_eq!(
            steps,
            [
                "t+0.002s fault 1: write outage began (the end of the last ok write before it); recovery unconfirmed",
                "t+2.102s fault 1: recovery unconfirmed, RTO not measured: writes recovered at t+2.102s, but the last write was attempted 0.898s later, before 5s of successful writes confirmed it",
            ]
        );
    }

    /// Text from the record that tries to inject markup: a scenario description, a fault's
    /// detail, an error, a problem, a node name, a version.
    fn hostile_record() -> RunRecord {
        let evil =
            "<script src=\"https://evil.example/x.js\"></script><img src=x onerror=alert(1)>";
        let mut record = sample_record();
        record.scenario.name = format!("n{evil}");
        record.scenario.description = format!("d{evil}");
        record.scenario.runbook = Some(format!("r{evil}"));
        record.run_id = format!("id\"{evil}");
        record.problems = vec![format!("p{evil}")];
        record
            .environment
            .versions
            .insert(format!("c{evil}"), format!("v{evil}"));
        record.environment.docker = format!("docker{evil}");
        record.timings.initial_leader = format!("l{evil}");
        for event in &mut record.history.events {
            match event {
                Event::Fault(f) => f.detail = Some(format!("detail{evil}")),
                Event::Role(p) if p.asked == "pg3" => {
                    p.asked = format!("pg3{evil}");
                    p.node = Some(p.asked.clone());
                }
                _ => {}
            }
        }
        // a game day's names and notes
        record.game_day = Some(crate::record::GameDay {
            participants: vec![crate::record::Participant {
                name: format!("who{evil}"),
                role: format!("role{evil}"),
            }],
            ended_by: format!("end{evil}"),
        });
        record.history.extend([
            Event::Note(crate::history::NoteEvent {
                at: crate::history::At(1_000_000_000),
                text: format!("note{evil}"),
            }),
            Event::Note(crate::history::NoteEvent {
                at: crate::history::At(2_000_000_000),
                text: format!("action: item{evil}"),
            }),
        ]);
        record.measurements = crate::check::measure(&record.history);
        record.measurements.split_brain.detected = true;
        record.measurements.split_brain.evidence = vec![format!("e{evil}")];
        record
    }

    /// Each element's start tag in the page, as `(name, attributes)`. Text from the record is
    /// escaped, so every `<` starts markup the page wrote.
    pub(crate) fn start_tags(page: &str) -> Vec<(String, String)> {
        page.split('<')
            .skip(1)
            .filter(|t| !t.starts_with('/') && !t.starts_with('!'))
            .map(|t| {
                let tag = &t[..t.find('>').expect("a closed tag")];
                let (name, attributes) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
                (name.to_string(), attributes.to_string())
            })
            .collect()
    }

    /// The names of `name="value"` attributes (values are always double-quoted here, a `"` in
    /// one escaped).
    pub(crate) fn attribute_names(attributes: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = attributes.trim_end_matches('/').trim();
        while !rest.is_empty() {
            let end = rest
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(rest.len());
            names.push(rest[..end].to_string());
            rest = &rest[end..];
            if let Some(value) = rest.strip_prefix("=\"") {
                let close = value.find('"').expect("a closed attribute value");
                rest = &value[close + 1..];
            }
            rest = rest.trim_start();
        }
        names
    }

    #[test]
    fn text_from_the_record_cannot_inject_markup() {
        let page = html(&hostile_record());
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;script src=&quot;https://evil.example/x.js&quot;&gt;"));
        // every hostile string made it to the page, escaped
        for needle in [
            "n&lt;script",
            "d&lt;script",
            "r&lt;script",
            "id&quot;&lt;script",
            "p&lt;script",
            "c&lt;script",
            "v&lt;script",
            "docker&lt;script",
            "l&lt;script",
            "detail&lt;script",
            "pg3&lt;script",
            "e&lt;script",
            "who&lt;script",
            "role&lt;script",
            "end&lt;script",
            "note&lt;script",
            "item&lt;script",
        ] {
            assert!(page.contains(needle), "{needle} missing");
        }
        // the page's elements are only the ones it writes itself
        let allowed = [
            "body",
            "code",
            "dd",
            "desc",
            "dl",
            "dt",
            "figcaption",
            "figure",
            "footer",
            "g",
            "h1",
            "h2",
            "h3",
            "head",
            "header",
            "html",
            "li",
            "line",
            "main",
            "meta",
            "p",
            "rect",
            "section",
            "span",
            "style",
            "svg",
            "table",
            "tbody",
            "td",
            "text",
            "th",
            "thead",
            "title",
            "tr",
            "ul",
        ];
        for (name, _) in start_tags(&page) {
            assert!(
                allowed.contains(&name.as_str()),
                "unexpected element <{name}>"
            );
        }
    }

    #[test]
    fn the_page_needs_nothing_from_outside() {
        for record in [sample_record(), hostile_record()] {
            let page = html(&record);
            for (name, attributes) in start_tags(&page) {
                assert_ne!(name, "script");
                assert_ne!(name, "link");
                for attribute in attribute_names(&attributes) {
                    let a = attribute.to_lowercase();
                    assert!(
                        !["src", "href", "xlink:href", "srcset", "style", "action"]
                            .contains(&a.as_str())
                            && !a.starts_with("on"),
                        "<{name} {attributes}>"
                    );
                }
            }
            let style = page
                .split("<style>")
                .nth(1)
                .unwrap()
                .split("</style>")
                .next()
                .unwrap();
            for needle in ["url(", "@import", "@font-face", "http"] {
                assert!(!style.contains(needle), "{needle} in the style sheet");
            }
        }
        let page = html(&sample_record());
        assert!(!page.contains("http"), "a URL in the sample page");
        // the checks above see attributes
        assert_eq!(
            attribute_names("src=\"a b\" onerror=\"x\" hidden"),
            ["src", "onerror", "hidden"]
        );
        assert!(
            start_tags(&page)
                .iter()
                .any(|(name, attributes)| name == "svg"
                    && attribute_names(attributes).contains(&"viewBox".to_string()))
        );
    }
}
