//! Re-judging a stored run: the checkers run again on the history in its record (read by
//! [`crate::store`]), with no containers, so a run can be re-examined (or judged by a newer
//! firedrill) long after it ran.

use crate::check::{Judgement, judge, measure};
use crate::history::{Event, History};
use crate::record::{RECORD_FORMAT, RunRecord};

/// A stored run judged again.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The record with measurements and verdict recomputed from its history.
    pub record: RunRecord,
    /// Whether the verdict (pass/fail, and each objective's pass/fail and value) is the one
    /// stored.
    pub reproduced: bool,
    /// What differs from the stored verdict, one line per objective, in lower case.
    pub changes: Vec<String>,
}

/// Recomputes the measurements from the record's history and judges its scenario's objectives
/// again. Pure: nothing is read or written.
pub fn reanalyze(stored: &RunRecord) -> Analysis {
    let measurements = measure(&with_schedule(stored));
    let verdict = judge(&stored.scenario.objectives, &measurements);
    let mut changes = Vec::new();
    if verdict.judgement() != stored.verdict.judgement() {
        changes.push(format!(
            "verdict: stored {}, now {}",
            pass_fail(stored.verdict.judgement()),
            pass_fail(verdict.judgement())
        ));
    }
    for now in &verdict.objectives {
        let name = now.measure.name();
        match stored
            .verdict
            .objectives
            .iter()
            .find(|o| o.measure == now.measure && o.bound == now.bound)
        {
            None => changes.push(format!("{name}: not judged in the stored run")),
            Some(before) if before.passed != now.passed || before.measured != now.measured => {
                changes.push(format!(
                    "{name}: stored {} ({}), now {} ({})",
                    pass_fail(judgement_of(before.passed)),
                    show(before.measured.as_ref()),
                    pass_fail(judgement_of(now.passed)),
                    show(now.measured.as_ref())
                ));
            }
            Some(_) => {}
        }
    }
    // The problems the stored measurements showed give way to those of the new ones; the
    // others (a step that overran, a failed teardown) stay.
    let derived = stored.measurements.problems();
    let mut problems: Vec<String> = stored
        .problems
        .iter()
        .filter(|p| !derived.contains(p))
        .cloned()
        .collect();
    for p in measurements.problems() {
        if !derived.contains(&p) {
            changes.push(format!("new problem: {p}"));
        }
        problems.push(p);
    }
    // Written again, the record takes this firedrill's layout.
    let record = RunRecord {
        format: RECORD_FORMAT,
        measurements,
        verdict,
        problems,
        ..stored.clone()
    };
    Analysis {
        reproduced: changes.is_empty(),
        changes,
        record,
    }
}

/// The record's history with each fault event's `scheduled_at` filled in from the record's
/// scenario where the history lacks it (runs recorded before it was): faults scheduled at the
/// same instant are then measured as one incident, as in a run recorded now. The record itself
/// keeps its history as recorded.
fn with_schedule(record: &RunRecord) -> std::borrow::Cow<'_, History> {
    let missing = record.history.faults().any(|f| f.scheduled_at.is_none());
    if !missing {
        return std::borrow::Cow::Borrowed(&record.history);
    }
    let mut history = record.history.clone();
    for event in &mut history.events {
        // a fault injected by hand had no schedule: its own incident, as when it was measured
        if let Event::Fault(f) = event
            && f.scheduled_at.is_none()
            && !f.by_hand
        {
            f.scheduled_at = record.scenario.faults.get(f.fault).map(|s| s.at);
        }
    }
    std::borrow::Cow::Owned(history)
}

fn judgement_of(passed: bool) -> Judgement {
    if passed {
        Judgement::Passed
    } else {
        Judgement::Failed
    }
}

fn pass_fail(judgement: Judgement) -> &'static str {
    match judgement {
        Judgement::Passed => "pass",
        Judgement::Failed => "fail",
        Judgement::NotJudged => "not judged",
    }
}

fn show(value: Option<&crate::check::MeasuredValue>) -> String {
    value.map_or_else(|| "not measured".to_string(), ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Judges `record` again and asserts its verdict is reproduced, naming `file` if not.
    fn reproduced(file: &std::path::Path, record: &RunRecord) -> Analysis {
        let analysis = reanalyze(record);
        assert!(
            analysis.reproduced,
            "{}: {:?}",
            file.display(),
            analysis.changes
        );
        analysis
    }
    use crate::report::sample_record;
    use crate::store::{LoadError, load, record_path};

    #[test]
    fn a_stored_run_is_judged_the_same_again() {
        let stored = sample_record();
        let analysis = reanalyze(&stored);
        assert!(analysis.reproduced, "{:?}", analysis.changes);
        assert_eq!(analysis.record, stored);
    }

    #[test]
    fn a_changed_verdict_is_reported() {
        let mut stored = sample_record();
        stored.verdict.passed = !stored.verdict.passed;
        stored.verdict.objectives[0].passed = !stored.verdict.objectives[0].passed;
        let analysis = reanalyze(&stored);
        assert!(!analysis.reproduced);
        assert_eq!(analysis.changes.len(), 2, "{:?}", analysis.changes);
        assert!(analysis.changes[0].starts_with("verdict: stored"));
    }

    #[test]
    fn problems_the_measurements_show_are_recomputed() {
        use crate::history::{ErrorKind, Event, WriteOp};
        let mut stored = sample_record();
        stored.problems.push("teardown failed".into());
        // a throttled attempt long after the recovery, recorded as older firedrills did
        let last = stored.history.writes().map(|w| w.invoke).max().unwrap();
        stored.history.extend([Event::Write(WriteOp {
            via: None,
            status: None,
            seq: 9_999,
            invoke: last,
            complete: last,
            outcome: crate::history::Outcome::Fail,
            node: None,
            timeline: None,
            error: Some("connect: 32 connections already being opened".into()),
            error_kind: Some(ErrorKind::TooManyConnecting),
        })]);
        let analysis = reanalyze(&stored);
        let problems = &analysis.record.problems;
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0], "teardown failed");
        assert!(problems[1].starts_with("the harness did not send 1 write attempt outside"));
        assert!(!analysis.record.passed());
        assert!(!analysis.reproduced);
        assert!(
            analysis
                .changes
                .iter()
                .any(|c| c.starts_with("new problem: "))
        );
        // judged again, the same problems, once each
        let again = reanalyze(&analysis.record);
        assert_eq!(&again.record.problems, problems);
        assert!(again.reproduced, "{:?}", again.changes);
    }

    #[test]
    fn an_old_record_of_faults_scheduled_together_is_measured_as_one_incident() {
        // two faults at 10 s, recorded without scheduled_at: injected 4 ms apart
        use crate::check::testkit::*;
        let mut record = sample_record();
        let text = "name = \"split\"\ndescription = \"d\"\nduration = \"60s\"\n\
                    [[fault]]\nat = \"10s\"\nkind = \"crash\"\ntarget = \"pg3\"\n\
                    [[fault]]\nat = \"10s\"\nkind = \"crash\"\ntarget = \"leader\"\n\
                    [objectives]\nrto = \"<= 30s\"\n";
        record.scenario = crate::scenario::parse(std::path::Path::new("split.toml"), text).unwrap();
        let mut events = vec![inject(0, "pg3", ms(10_000)), inject(1, "pg1", ms(10_004))];
        events.extend((0..700).map(|k| ok(k, ms(10 * k), ms(10 * k + 1), "pg1", 1)));
        events.extend((700..1_500).map(|k| ok(k, ms(10 * k), ms(10 * k + 1), "pg2", 2)));
        record.history = history(events);
        let old = measure(&record.history);
        assert_eq!(old.faults.len(), 2, "as such a run was measured");
        let analysis = reanalyze(&record);
        let m = &analysis.record.measurements;
        assert_eq!(m.faults.len(), 1);
        assert_eq!(
            m.faults[0].label(),
            "faults 1+2 (crash of pg3, crash of pg1)"
        );
        assert_eq!(
            analysis.record.history, record.history,
            "the history is kept as recorded"
        );
    }

    #[test]
    fn an_old_record_without_objectives_loads_as_not_judged() {
        let record = crate::report::not_judged_record();
        // as firedrill wrote it before "not judged": passed with no objective
        let mut json = serde_json::to_value(&record).unwrap();
        json["verdict"]["passed"] = serde_json::Value::Bool(true);
        let old: RunRecord = serde_json::from_value(json).unwrap();
        assert!(!old.passed());
        assert_eq!(old.judgement(), Judgement::NotJudged);
        let analysis = reanalyze(&old);
        assert!(analysis.reproduced, "{:?}", analysis.changes);
        assert_eq!(analysis.record.judgement(), Judgement::NotJudged);

        // a judged run that passed, judged again without objectives, says so
        let mut stored = sample_record();
        stored.verdict.objectives.retain(|o| o.passed);
        stored.verdict.passed = true;
        stored.scenario.objectives.clear();
        let analysis = reanalyze(&stored);
        assert_eq!(analysis.changes[0], "verdict: stored pass, now not judged");
    }

    /// A run.json of format 1, as firedrill wrote it on 2026-11-22, loads, and its verdict is
    /// reproduced in this format.
    #[test]
    fn a_format_1_run_json_loads_and_its_verdict_is_reproduced() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/format-1/patroni-switchover.run.json");
        let stored = load(&file).unwrap();
        assert_eq!(stored.format, 1);
        let analysis = reanalyze(&stored);
        assert!(analysis.reproduced, "{:?}", analysis.changes);
        assert_eq!(analysis.record.format, RECORD_FORMAT);
        assert!(analysis.record.passed());
    }

    /// Every stored record of an older format: the format 1 fixture, the format 2 sample and the
    /// four runs of reports/example.
    fn stored_records() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![
            root.join("tests/fixtures/format-1/patroni-switchover.run.json"),
            root.join("tests/fixtures/format-2/sample.run.json"),
        ];
        let mut runs: Vec<_> = std::fs::read_dir(root.join("reports/example/runs"))
            .unwrap()
            .map(|e| e.unwrap().path().join("run.json"))
            .collect();
        runs.sort();
        assert_eq!(runs.len(), 4, "{runs:?}");
        files.extend(runs);
        files
    }

    /// Formats 1 and 2 recorded roles as `probe` (Patroni about a node) and `leader_key` (an
    /// etcd member's answer): each loads as a role sample, the history serialises to the bytes
    /// recorded (the run history's digest of it holds), and the verdict is reproduced in this
    /// format.
    #[test]
    fn probes_and_leader_keys_of_older_formats_load_as_role_samples() {
        use crate::history::{Event, RecordedAs, Role, RoleView};
        for file in stored_records() {
            let text = std::fs::read_to_string(&file).unwrap();
            let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
            let events = raw["history"]["events"].as_array().unwrap();
            let typed = |t: &str| events.iter().filter(|e| e["type"] == t).count();
            let (probes, keys) = (typed("probe"), typed("leader_key"));
            assert!(probes > 0 && typed("role") == 0, "{}", file.display());

            let stored = load(&file).unwrap();
            assert!(stored.format < RECORD_FORMAT, "{}", file.display());
            let selves: Vec<_> = stored.history.self_reports().collect();
            assert_eq!(selves.len(), probes, "{}", file.display());
            for r in &selves {
                assert_eq!(
                    (r.source.as_str(), r.recorded_as),
                    ("patroni", RecordedAs::Probe)
                );
                assert_eq!(r.node.as_deref(), Some(r.asked.as_str()));
            }
            // the converted fields: the first probe that answered, field by field
            let (i, first) = events
                .iter()
                .enumerate()
                .find(|(_, e)| e["type"] == "probe" && e["role"].is_string())
                .unwrap();
            let Event::Role(r) = &stored.history.events[i] else {
                panic!("{}: event {i} is not a role sample", file.display());
            };
            assert_eq!(r.asked, first["node"].as_str().unwrap());
            assert_eq!(r.epoch, first["timeline"].as_u64());
            assert_eq!(r.position, first["wal"].as_u64());
            assert_eq!(r.sent.0, first["sent"].as_u64().unwrap());
            assert!(r.role.is_some());

            let authorities: Vec<_> = stored.history.authority_reports().collect();
            assert_eq!(authorities.len(), keys, "{}", file.display());
            for k in &authorities {
                assert_eq!((k.source.as_str(), k.view), ("etcd", RoleView::Authority));
                assert_eq!(k.node.is_some(), k.role == Some(Role::Leader));
            }

            assert_eq!(
                serde_json::to_value(&stored.history).unwrap(),
                raw["history"],
                "{}: the history is kept as recorded",
                file.display()
            );
            let analysis = reproduced(&file, &stored);
            assert_eq!(analysis.record.format, RECORD_FORMAT);
            if stored.format == 2 {
                // format 1 measured some things differently (see FORMAT_CHANGES)
                let m = &analysis.record.measurements;
                assert_eq!(m, &stored.measurements, "{}", file.display());
            }
            assert_eq!(analysis.record.history, stored.history);
        }
    }

    /// The sample record as format 2 wrote it (tests/fixtures/format-2) is the sample record
    /// of this firedrill but for the layout of its role samples and its format.
    #[test]
    fn the_format_2_sample_is_todays_sample_in_the_old_layout() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/format-2/sample.run.json");
        let old = load(&file).unwrap();
        assert_eq!(old.format, 2);
        let mut now = sample_record();
        for (old, now) in old.history.events.iter().zip(&mut now.history.events) {
            if let (Event::Role(o), Event::Role(n)) = (old, now) {
                n.recorded_as = o.recorded_as;
            }
        }
        now.format = 2;
        assert_eq!(old, now);
        let analysis = reanalyze(&old);
        assert!(analysis.reproduced, "{:?}", analysis.changes);
        assert!(analysis.record.passed() == old.passed());
    }

    /// The sample record as format 3 wrote it (tests/fixtures/format-3), before steps existed:
    /// it loads with no steps, is today's sample but for its format, writes back to the JSON it
    /// was read from, and its verdict is reproduced in this format.
    #[test]
    fn a_format_3_run_json_loads_unchanged_without_steps() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/format-3/sample.run.json");
        let text = std::fs::read_to_string(&file).unwrap();
        let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(raw["scenario"].get("steps").is_none());
        let old = load(&file).unwrap();
        assert_eq!(old.format, 3);
        assert!(old.scenario.steps.is_empty());
        assert_eq!(old.history.steps().count(), 0);
        let mut now = sample_record();
        now.format = 3;
        assert_eq!(old, now);
        assert_eq!(serde_json::to_value(&old).unwrap(), raw);
        let analysis = reanalyze(&old);
        assert!(analysis.reproduced, "{:?}", analysis.changes);
        assert_eq!(analysis.record.format, RECORD_FORMAT);
        assert_eq!(analysis.record.history, old.history);
    }

    /// The restore drill's record as format 4 wrote it (tests/fixtures/format-4), before game
    /// days: it loads with no game day, no note and no fault by hand, is today's restore record
    /// but for its format, writes back to the JSON it was read from, and its verdict is
    /// reproduced in this format. `FIREDRILL_UPDATE_FIXTURES=1` does not rewrite it: it is what
    /// format 4 wrote.
    #[test]
    fn a_format_4_run_json_loads_unchanged_without_a_game_day() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/format-4/restore.run.json");
        let text = std::fs::read_to_string(&file).unwrap();
        let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(raw.get("game_day").is_none());
        let old = load(&file).unwrap();
        assert_eq!(old.format, 4);
        assert_eq!(old.game_day, None);
        assert_eq!(old.history.notes().count(), 0);
        assert!(
            old.history.steps().count() > 0,
            "a format-4 record with steps"
        );
        let mut now = crate::report::restore_record(true);
        now.format = 4;
        assert_eq!(old, now);
        assert_eq!(serde_json::to_value(&old).unwrap(), raw);
        let analysis = reanalyze(&old);
        assert!(analysis.reproduced, "{:?}", analysis.changes);
        assert_eq!(analysis.record.format, RECORD_FORMAT);
    }

    #[test]
    fn a_record_of_an_older_format_is_judged_again_in_this_format() {
        let mut stored = sample_record();
        stored.format = 1;
        let analysis = reanalyze(&stored);
        assert_eq!(analysis.record.format, RECORD_FORMAT);
        assert!(analysis.reproduced, "{:?}", analysis.changes);
    }

    #[test]
    fn round_trips_through_run_json_and_refuses_newer_formats() {
        let dir = std::env::temp_dir().join(format!("fd-analyze-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut stored = sample_record();
        let file = dir.join("run.json");
        std::fs::write(&file, serde_json::to_string(&stored).unwrap()).unwrap();
        assert_eq!(load(&record_path(&dir)).unwrap(), stored);

        stored.format = RECORD_FORMAT + 1;
        std::fs::write(&file, serde_json::to_string(&stored).unwrap()).unwrap();
        assert!(matches!(load(&file), Err(LoadError::Format { .. })));

        std::fs::write(&file, "{\"format\": 1,\n \"run_id\": 7}").unwrap();
        let err = load(&file).unwrap_err().to_string();
        assert!(err.contains("run.json:2:"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The game day's record as format 5 wrote it (tests/fixtures/format-5), before records
    /// were stored compressed: it loads, is today's game day record but for its format, writes
    /// back to the JSON it was read from, and its verdict is reproduced in this format.
    /// `FIREDRILL_UPDATE_FIXTURES=1` does not rewrite it: it is what format 5 wrote.
    #[test]
    fn a_format_5_run_json_loads_unchanged() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/format-5/gameday.run.json");
        let text = std::fs::read_to_string(&file).unwrap();
        let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(raw["history"]["events"].is_array() && raw["history"].get("order").is_none());
        let old = load(&file).unwrap();
        assert_eq!(old.format, 5);
        assert!(old.game_day.is_some() && old.history.notes().count() > 0);
        let mut now = crate::report::gameday_record();
        now.format = 5;
        assert_eq!(old, now);
        assert_eq!(serde_json::to_string_pretty(&old).unwrap() + "\n", text);
        let analysis = reanalyze(&old);
        assert!(analysis.reproduced, "{:?}", analysis.changes);
        assert_eq!(analysis.record.format, RECORD_FORMAT);
    }

    /// A format-8 pair drill whose old primary was fenced: format 8 showed a time to full
    /// redundancy with no standby left; judged again it is not reached, saying why, and the
    /// verdict (no objective on it) is the one stored.
    #[test]
    fn a_format_8_pair_left_without_a_standby_has_no_full_redundancy_now() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/format-8/sample.run.json.gz");
        let stored = load(&file).unwrap();
        assert_eq!(stored.format, 8);
        let before = &stored.measurements.faults[0];
        assert!(before.time_to_full_redundancy.is_some());
        let analysis = reanalyze(&stored);
        assert!(analysis.reproduced, "{:?}", analysis.changes);
        let now = &analysis.record.measurements.faults[0];
        assert_eq!(now.time_to_full_redundancy, None);
        assert_eq!(now.nothing_to_stream_to, ["db1"]);
        assert_eq!(
            now.redundancy_gap().as_deref(),
            Some("no node left to stream to: db1 left down")
        );
    }

    /// A format-9 Redis drill (recorded before format 10): its promotion was not measured (the
    /// role source keeps no timeline) nor its replicas' lag (no pg_stat_replication); judged
    /// again both are, from the servers' own answers, and the verdict is the one stored.
    #[test]
    fn a_format_9_redis_drill_has_its_promotion_and_offsets_now() {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/format-9/redis.run.json.gz");
        let stored = load(&file).unwrap();
        assert_eq!(stored.format, 9);
        let before = &stored.measurements.faults[0];
        assert_eq!(before.promotion_time, None);
        assert!(before.replica_lag_at_injection.is_empty());
        let analysis = reanalyze(&stored);
        assert!(analysis.reproduced, "{:?}", analysis.changes);
        let now = &analysis.record.measurements.faults[0];
        assert_eq!(now.promoted.as_deref(), Some("redis2"));
        assert_eq!(now.promotion_time, now.leader_election_time);
        assert_eq!(now.promoted_timeline, None);
        let lagged: Vec<&str> = now
            .replica_lag_at_injection
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(lagged, ["redis2", "redis3"]);
        assert!(now.lag_at_failover.is_some());
        // recorded before the Sentinels' events were: told, not the phases announced
        assert!(now.clients_told_time.is_some());
        assert_eq!(now.subjective_down_time, None);
    }

    /// Every stored record of an older format, judged again and stored in this format
    /// (run.json.gz), loads back equal: the same history, serialising to the same bytes (its
    /// digest in the run history holds), and the same verdict.
    #[test]
    fn records_of_every_format_stored_again_load_back_equal() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = stored_records();
        files.extend(
            [
                "format-3/sample.run.json",
                "format-4/restore.run.json",
                "format-5/gameday.run.json",
                "format-6/sample.run.json.gz",
                "format-7/sample.run.json.gz",
                "format-8/sample.run.json.gz",
                "format-9/redis.run.json.gz",
                "pgbouncer/run.json",
            ]
            .map(|f| root.join("tests/fixtures").join(f)),
        );
        let mut formats = std::collections::BTreeSet::new();
        for file in files {
            let stored = load(&file).unwrap();
            formats.insert(stored.format);
            let analysis = reproduced(&file, &stored);
            let bytes = crate::store::encode(&analysis.record).unwrap();
            let again = crate::store::decode(&file, &bytes).unwrap();
            assert_eq!(again, analysis.record, "{}", file.display());
            assert_eq!(
                serde_json::to_vec(&again.history).unwrap(),
                serde_json::to_vec(&stored.history).unwrap(),
                "{}: the history is kept as recorded",
                file.display()
            );
            let judged = reproduced(&file, &again);
            assert_eq!(judged.record, again);
        }
        assert_eq!(formats, (1..RECORD_FORMAT).collect());
    }
}
