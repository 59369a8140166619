//! The report model: what every renderer shows, computed once from the record.

use crate::record::RunRecord;
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
            objective: format!("{} {}", o.measure.name(), o.bound),
            measured: match (&o.measured, &o.note) {
                (Some(v), _) => v.to_string(),
                (None, Some(note)) => note.clone(),
                (None, None) => "not measured".into(),
            },
            verdict: if o.passed { "PASS" } else { "FAIL" },
        })
        .collect()
}
