//! The report model: what every renderer shows, computed once from the record.

use crate::check::{MeasuredValue, fmt_bytes};
use crate::record::RunRecord;
use crate::scenario::{Bound, MeasureType, format_size};
use std::time::Duration;

/// One measurement, as shown in reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeasurementRow {
    pub name: String,
    pub value: String,
    /// What the number means, in one line.
    pub meaning: &'static str,
}

/// One objective and its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectiveRow {
    pub objective: String,
    pub measured: String,
    pub verdict: &'static str,
}

/// Milliseconds precision, seconds unit: `10.496s`.
pub fn fmt_duration(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

fn opt_duration(d: Option<Duration>, missing: &str) -> String {
    d.map(fmt_duration).unwrap_or_else(|| missing.to_string())
}

fn list(seqs: &[u64]) -> String {
    const SHOWN: usize = 20;
    let mut text = seqs
        .iter()
        .take(SHOWN)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if seqs.len() > SHOWN {
        text.push_str(&format!(", ... ({} more)", seqs.len() - SHOWN));
    }
    text
}

pub fn measurement_rows(record: &RunRecord) -> Vec<MeasurementRow> {
    let m = &record.measurements;
    let mut rows = Vec::new();
    let mut row = |name: String, value: String, meaning: &'static str| {
        rows.push(MeasurementRow {
            name,
            value,
            meaning,
        })
    };
    row(
        "bring-up".into(),
        fmt_duration(record.timings.bring_up),
        "first container created to ready (etcd healthy, leader, replicas streaming, proxy routing)",
    );
    row(
        "writes".into(),
        format!(
            "{} attempted: {} ok, {} failed, {} unknown",
            m.writes.total, m.writes.ok, m.writes.fail, m.writes.unknown
        ),
        "attempts on a fixed schedule through the client endpoint",
    );
    for f in &m.faults {
        let label = format!("fault {} ({} of {})", f.fault + 1, f.kind, f.node);
        row(
            format!("{label}: injected"),
            f.injected_at.to_string(),
            "the instant F the injection began, from the workload's start",
        );
        row(
            format!("{label}: detection time"),
            opt_duration(f.detection_time, "no failed write"),
            "F to the end of the first failed write invoked at or after F",
        );
        row(
            format!("{label}: leader election time"),
            match (&f.leader_election_time, &f.new_leader) {
                (Some(t), Some(n)) => format!("{} ({} → {n})", fmt_duration(*t), f.old_leader),
                _ => "no new leader observed".into(),
            },
            "F to the first probe answer in which another node is leader",
        );
        row(
            format!("{label}: replica lag at injection"),
            if f.replica_lag_at_injection.is_empty() {
                "not measured (no WAL positions probed before F)".into()
            } else {
                f.replica_lag_at_injection
                    .iter()
                    .map(|(n, b)| format!("{n}: {}", fmt_bytes(*b)))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            "WAL the leader had written that each replica had not received, from their last probe answers before F",
        );
        row(
            format!("{label}: lag at failover"),
            match (&f.new_leader, f.lag_at_failover) {
                (None, _) => "no failover".into(),
                (Some(_), Some(b)) => MeasuredValue::Bytes(b).to_string(),
                (Some(_), None) => "not measured (no WAL positions probed)".into(),
            },
            "WAL the old leader had written that the new leader had not received, from their last probe answers before the election was seen",
        );
        row(
            format!("{label}: time to full redundancy"),
            match (f.time_to_full_redundancy, f.redundancy_gap()) {
                (Some(d), _) => fmt_duration(d),
                (None, gap) => format!("not reached ({})", gap.unwrap_or_default()),
            },
            "F to the first probe answer, sent after the heal, in which the leader lists every probed node not left down as streaming",
        );
        row(
            format!("{label}: RTO (write downtime)"),
            match (f.rto, f.recovered) {
                (Some(d), _) if d.is_zero() => "0s (writes never stopped)".into(),
                (Some(d), _) => fmt_duration(d),
                (None, _) => "not recovered".into(),
            },
            "end of the last ok write before the outage to the end of the first ok write after which writes keep succeeding (for at least 5 s)",
        );
        if f.failed_after_recovery > 0 {
            row(
                format!("{label}: writes failed after recovery"),
                f.failed_after_recovery.to_string(),
                "failures more than 5 s after the recovery: separate interruptions, not in the RTO",
            );
        }
    }
    row(
        "acknowledged writes lost".into(),
        match &m.lost_writes {
            None => "not measured (no read-back)".into(),
            Some(l) if l.count == 0 => "0".into(),
            Some(l) => format!(
                "{} (seq {}); RPO {}",
                l.count,
                list(&l.seqs),
                opt_duration(l.rpo, "n/a")
            ),
        },
        "ok writes absent from the final read-back on the leader",
    );
    let u = &m.unknown_writes;
    row(
        "unknown writes".into(),
        if u.read_back {
            format!("{} present, {} absent", u.present.len(), u.absent.len())
        } else {
            format!("{} unresolved (no read-back)", u.unresolved.len())
        },
        "writes whose outcome the client could not know, resolved by the read-back; never counted lost",
    );
    row(
        "split brain".into(),
        if m.split_brain.detected {
            format!("DETECTED: {}", m.split_brain.evidence.join("; "))
        } else {
            "none detected".into()
        },
        "two leaders at once, or an ok write accepted by a node that was not the leader",
    );
    row(
        "leaders".into(),
        m.leaders.join(" → "),
        "the leaders the probes saw, in order",
    );
    row(
        "leader changes".into(),
        if m.leaders.is_empty() {
            "0 (no leader seen)".into()
        } else {
            m.leader_changes.to_string()
        },
        "how many times the leader changed during the run",
    );
    row(
        "ok writes per node".into(),
        m.writes_per_node
            .iter()
            .map(|(n, c)| format!("{n}: {c}"))
            .collect::<Vec<_>>()
            .join(", "),
        "which node accepted each acknowledged write, as the INSERT returned it",
    );
    rows
}

pub fn objective_rows(record: &RunRecord) -> Vec<ObjectiveRow> {
    record
        .verdict
        .objectives
        .iter()
        .map(|o| ObjectiveRow {
            objective: match (o.measure.value_type(), &o.bound) {
                (MeasureType::Bytes, Bound::Count { cmp, value }) => {
                    format!(
                        "{} {} {}",
                        o.measure.name(),
                        cmp.symbol(),
                        format_size(*value)
                    )
                }
                _ => format!("{} {}", o.measure.name(), o.bound),
            },
            measured: match (&o.measured, &o.note) {
                (Some(v), _) => v.to_string(),
                (None, Some(note)) => note.clone(),
                (None, None) => "not measured".into(),
            },
            verdict: if o.passed { "PASS" } else { "FAIL" },
        })
        .collect()
}

/// A record of a small failover with WAL positions and replication streams, for the renderers'
/// tests.
#[cfg(test)]
pub(super) fn sample_record() -> RunRecord {
    use crate::check::testkit::*;
    use crate::check::{judge, measure};
    use crate::history::Role;
    use crate::record::{Environment, RECORD_FORMAT, Timings};
    let text = "name = \"sample\"\ndescription = \"a sample drill\"\nduration = \"60s\"\n\
                [objectives]\nlag_at_failover = \"<= 64kB\"\nleader_changes = \"== 0\"\n\
                time_to_full_redundancy = \"<= 30s\"\n";
    let scenario = crate::scenario::parse(std::path::Path::new("scenarios/sample.toml"), text)
        .expect("a valid scenario");
    let history = history(vec![
        probe_wal(
            "pg1",
            ms(0),
            ms(1),
            Role::Leader,
            Some(1 << 30),
            &["pg2", "pg3"],
        ),
        probe_wal(
            "pg2",
            ms(0),
            ms(1),
            Role::Replica,
            Some((1 << 30) - 67_072),
            &[],
        ),
        probe_wal("pg3", ms(0), ms(1), Role::Replica, Some(1 << 30), &[]),
        ok(1, ms(0), ms(2), "pg1", 1),
        inject(0, "pg1", ms(100)),
        failed(2, ms(110), ms(111)),
        probe("pg1", ms(150), ms(151), None),
        probe_wal(
            "pg2",
            ms(2_000),
            ms(2_003),
            Role::Leader,
            Some(1 << 30),
            &["pg3"],
        ),
        ok(3, ms(2_100), ms(2_102), "pg2", 2),
        heal(0, "pg1", ms(5_000)),
        probe_wal(
            "pg1",
            ms(6_000),
            ms(6_001),
            Role::Replica,
            Some(1 << 30),
            &[],
        ),
        probe_wal(
            "pg2",
            ms(7_000),
            ms(7_004),
            Role::Leader,
            Some(1 << 30),
            &["pg1", "pg3"],
        ),
        read_back(ms(9_000), vec![1, 3]),
    ]);
    let measurements = measure(&history);
    let verdict = judge(&scenario.objectives, &measurements);
    RunRecord {
        format: RECORD_FORMAT,
        run_id: "sample-run".into(),
        seed: 1,
        scenario,
        environment: Environment::default(),
        timings: Timings {
            bring_up: Duration::from_millis(7_500),
            initial_leader: "pg1".into(),
            ..Timings::default()
        },
        history,
        measurements,
        verdict,
        logs: Default::default(),
        problems: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(rows: &[MeasurementRow], name: &str) -> String {
        rows.iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no row {name}"))
            .value
            .clone()
    }

    #[test]
    fn replication_rows_show_sizes_and_times() {
        let record = sample_record();
        let rows = measurement_rows(&record);
        let fault = "fault 1 (crash of pg1)";
        assert_eq!(
            value(&rows, &format!("{fault}: replica lag at injection")),
            "pg2: 65.5 kB, pg3: 0 B"
        );
        assert_eq!(
            value(&rows, &format!("{fault}: lag at failover")),
            "65.5 kB (67072 B)"
        );
        assert_eq!(
            value(&rows, &format!("{fault}: time to full redundancy")),
            "6.904s"
        );
        assert_eq!(value(&rows, "leader changes"), "1");
    }

    #[test]
    fn rows_say_what_was_not_measured() {
        let mut record = sample_record();
        let f = &mut record.measurements.faults[0];
        f.replica_lag_at_injection.clear();
        f.lag_at_failover = None;
        f.time_to_full_redundancy = None;
        f.not_streaming = vec!["pg1".into()];
        let rows = measurement_rows(&record);
        let fault = "fault 1 (crash of pg1)";
        assert_eq!(
            value(&rows, &format!("{fault}: replica lag at injection")),
            "not measured (no WAL positions probed before F)"
        );
        assert_eq!(
            value(&rows, &format!("{fault}: lag at failover")),
            "not measured (no WAL positions probed)"
        );
        assert_eq!(
            value(&rows, &format!("{fault}: time to full redundancy")),
            "not reached (pg1 not streaming from the leader)"
        );
        record.measurements.faults[0].new_leader = None;
        record.measurements.leaders.clear();
        let rows = measurement_rows(&record);
        assert_eq!(
            value(&rows, &format!("{fault}: lag at failover")),
            "no failover"
        );
        assert_eq!(value(&rows, "leader changes"), "0 (no leader seen)");
    }

    #[test]
    fn byte_objectives_show_sizes() {
        let rows = objective_rows(&sample_record());
        let shown: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| (r.objective.as_str(), r.measured.as_str(), r.verdict))
            .collect();
        assert_eq!(
            shown,
            [
                ("lag_at_failover <= 64kB", "65.5 kB (67072 B)", "FAIL"),
                ("leader_changes == 0", "1", "FAIL"),
                ("time_to_full_redundancy <= 30s", "6.904s", "PASS"),
            ]
        );
    }
}
